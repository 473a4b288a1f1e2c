/**
 * PyTorch's side of the kernels section: runs torch_rk4.py (the same
 * fixed-step RK4 loop under autograd, float64, one thread, the same weights)
 * with the first Python that imports torch, or says why it was skipped.
 *
 * @module
 */

/** What PyTorch measured, or why it did not run. */
export type TorchResult =
  | { seconds: number; loss: number; gradNorm: number; version: string; python: string }
  | { skipped: string };

/** The problem handed to torch_rk4.py. */
export interface TorchProblem {
  /** State dimension. */
  dim: number;
  /** Hidden widths (tanh; the output is linear). */
  widths: number[];
  /** revode's flat parameters. */
  params: Float64Array;
  /** Initial states, `[batch, dim]`. */
  y0: Float64Array;
  /** Rows. */
  batch: number;
  /** Step size. */
  h: number;
  /** Steps N. */
  steps: number;
  /** Timed repetitions (after one warm-up). */
  reps: number;
}

const _PYTHONS = ["python3", "/usr/bin/python3"];

async function _hasTorch(python: string): Promise<boolean> {
  try {
    const probe = new Deno.Command(python, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    });
    return (await probe.output()).success;
  } catch {
    return false;
  }
}

/**
 * Times one gradient in PyTorch (best of `reps`).
 *
 * @param problem Sizes, weights, initial states, steps.
 * @returns The time, loss and gradient norm, or `{ skipped }` with the reason.
 *
 * @example Needs --allow-run and Python, so not run by `deno test --doc`
 * ```ts ignore
 * import { runTorch } from "./torch.ts";
 * import assert from "node:assert/strict";
 *
 * const r = await runTorch({
 *   dim: 1, widths: [], params: Float64Array.of(-1, 0), y0: Float64Array.of(1),
 *   batch: 1, h: 0.1, steps: 10, reps: 1,
 * });
 * assert.ok("skipped" in r || Math.abs(r.loss - 0.5 * Math.exp(-2)) < 1e-6);
 * ```
 */
export async function runTorch(problem: TorchProblem): Promise<TorchResult> {
  if ((await Deno.permissions.query({ name: "run" })).state !== "granted") {
    return { skipped: "PyTorch not run: needs --allow-run" };
  }
  let python: string | null = null;
  for (const candidate of _PYTHONS) {
    if (await _hasTorch(candidate)) {
      python = candidate;
      break;
    }
  }
  if (python === null) {
    return {
      skipped: "PyTorch skipped: no python3 imports torch (apt-get install python3-torch)",
    };
  }
  const script = new URL("./torch_rk4.py", import.meta.url).pathname;
  const child = new Deno.Command(python, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({
    ...problem,
    params: Array.from(problem.params),
    y0: Array.from(problem.y0),
  })));
  await writer.close();
  const output = await child.output();
  if (!output.success) {
    const err = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
    return { skipped: `PyTorch failed: ${err}` };
  }
  const r = JSON.parse(new TextDecoder().decode(output.stdout));
  return {
    seconds: r.seconds,
    loss: r.loss,
    gradNorm: r.grad_norm,
    version: r.torch,
    python,
  };
}
