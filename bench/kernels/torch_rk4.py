"""PyTorch's side of the kernels section (bench/kernels/torch.ts runs it).

Reads one JSON object from stdin: {dim, widths, params (revode's flat layout,
each layer's weight [out, in] row-major then its bias), y0 ([batch, dim]
row-major), batch, h, steps, reps}. Integrates y' = f(y), f the tanh MLP with
a linear output, by fixed-step RK4 (the classic tableau, as revode's plain(rk4))
from t = 0, N steps of h, under autograd, then backpropagates the loss
L = 0.5 * sum(y_N ** 2), so that the cotangent of y_N is y_N,
as the revode side gives it. float64, one thread. Prints one JSON line:
{seconds (best of reps, forward + backward), loss, grad_norm, torch}.
"""

import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def main():
    s = json.load(sys.stdin)
    dim, widths, batch = s["dim"], s["widths"], s["batch"]
    flat = torch.tensor(s["params"], dtype=torch.float64)
    sizes = [dim] + widths + [dim]
    layers, at = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = flat[at:at + n_out * n_in].reshape(n_out, n_in).clone().requires_grad_(True)
        at += n_out * n_in
        b = flat[at:at + n_out].clone().requires_grad_(True)
        at += n_out
        layers.append((w, b))
    params = [p for layer in layers for p in layer]
    y0 = torch.tensor(s["y0"], dtype=torch.float64).reshape(batch, dim)
    h, steps = s["h"], s["steps"]

    def f(y):
        for i, (w, b) in enumerate(layers):
            y = torch.addmm(b, y, w.t())
            if i < len(layers) - 1:
                y = torch.tanh(y)
        return y

    def gradient():
        y = y0
        for _ in range(steps):
            k1 = f(y)
            k2 = f(y + (h / 2) * k1)
            k3 = f(y + (h / 2) * k2)
            k4 = f(y + h * k3)
            y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        loss = 0.5 * (y * y).sum()
        grads = torch.autograd.grad(loss, params)
        return loss.item(), grads

    loss, grads = gradient()  # warm-up
    best = float("inf")
    for _ in range(s["reps"]):
        start = time.perf_counter()
        loss, grads = gradient()
        best = min(best, time.perf_counter() - start)
    norm = sum(float((g * g).sum()) for g in grads) ** 0.5
    print(json.dumps({
        "seconds": best, "loss": loss, "grad_norm": norm, "torch": torch.__version__,
    }))


main()
