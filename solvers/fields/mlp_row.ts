/**
 * The kernels for blocks of fewer than four rows (the white dwarf's batch
 * of one): the one-row reference of mlp_layers.ts, forward pass and right
 * beside it its VJP, in one function each with the activation chosen once
 * per layer (activation_loops.ts, on one row) instead of called through a
 * closure per element, so that the
 * per-call cost of the blocked kernels (a call per product and per
 * activation pass) does not dominate a small network. Bit-identical to the
 * reference but for `tanh`, which is tanh.ts's.
 *
 * @module
 */

import type { MlpLayout } from "./mlp_layout.ts";
import { activate, scaleByDerivative } from "./activation_loops.ts";
import { tanh } from "./tanh.ts";

/**
 * The forward pass of row `b`, as `forwardRow` of mlp_layers.ts: layer
 * inputs and outputs into `acts` from `a`, pre-activations into `pre` from `p`.
 *
 * @param net The network's layout.
 * @param t The time.
 * @param y The states.
 * @param b The row.
 * @param params The flat parameters.
 * @param acts Where the layer inputs and outputs go.
 * @param a Their offset.
 * @param pre Where the pre-activations go.
 * @param p Their offset.
 *
 * @example f(y) = 2y + 0.5
 * ```ts
 * import { forwardOne } from "./mlp_row.ts";
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions({ dim: 1, widths: [] }, ""));
 * const acts = new Float64Array(2), pre = new Float64Array(1);
 * forwardOne(net, 0, Float64Array.of(3), 0, Float64Array.of(2, 0.5), acts, 0, pre, 0);
 * assert.deepEqual(acts, Float64Array.of(3, 6.5));
 * ```
 */
export function forwardOne(
  net: MlpLayout,
  t: number,
  y: Float64Array,
  b: number,
  params: Float64Array,
  acts: Float64Array,
  a: number,
  pre: Float64Array,
  p: number,
): void {
  const dim = net.dim, last = net.layerCount - 1, sizes = net.sizes;
  let q = a;
  if (net.timeDependent) acts[q++] = t;
  for (let k = 0; k < dim; k++) acts[q++] = y[b * dim + k];
  for (let l = 0; l <= last; l++) {
    const nIn = sizes[l], nOut = sizes[l + 1], w = net.weightOffsets[l];
    const bias = w + nOut * nIn, x = a + net.actOffsets[l], z = p + net.preOffsets[l];
    const name = l < last ? net.hidden.name : net.final.name;
    const o = a + net.actOffsets[l + 1];
    // tanh and identity fused into the sums (no second pass, no dispatch)
    const fused = name === "tanh" ? 1 : name === "identity" ? 2 : 0;
    // two outputs at a time: each input load serves both, and their sums
    // (each in the reference's order) run side by side
    let j = 0;
    for (; j + 1 < nOut; j += 2) {
      let s0 = params[bias + j], s1 = params[bias + j + 1];
      const w0 = w + j * nIn, w1 = w0 + nIn;
      for (let k = 0; k < nIn; k++) {
        const v = acts[x + k];
        s0 += params[w0 + k] * v;
        s1 += params[w1 + k] * v;
      }
      pre[z + j] = s0;
      pre[z + j + 1] = s1;
      if (fused === 1) {
        acts[o + j] = tanh(s0);
        acts[o + j + 1] = tanh(s1);
      } else if (fused === 2) {
        acts[o + j] = s0;
        acts[o + j + 1] = s1;
      }
    }
    if (j < nOut) {
      let s = params[bias + j];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) s += params[wj + k] * acts[x + k];
      pre[z + j] = s;
      if (fused === 1) acts[o + j] = tanh(s);
      else if (fused === 2) acts[o + j] = s;
    }
    if (fused === 0) activate(name, pre, z, 0, acts, o, 0, nOut, 1);
  }
}

/**
 * The VJP of {@link forwardOne} for row `b`, as `backwardRow` of
 * mlp_layers.ts: `δ_L = v ⊙ σ_L'(z_L)`; `b̄_l += δ_l`, `W̄_l += δ_l x_lᵀ`;
 * `δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1})`; `ȳ = W_0ᵀ δ_0` without the t entry.
 *
 * @param net The network's layout.
 * @param b The row.
 * @param params The flat parameters.
 * @param acts The layer inputs and outputs kept by the forward pass.
 * @param a Their offset.
 * @param pre The pre-activations it kept.
 * @param p Their offset.
 * @param cotangent The cotangent `v` of `f`.
 * @param yBar Row `b` is overwritten with `J_yᵀ v`.
 * @param paramsBar Accumulates `J_θᵀ v`, or null.
 * @param grad Scratch of `net.maxWidth` entries.
 * @param gradIn Another.
 *
 * @example ∂⟨v, f⟩ of f(y) = 2y + 0.5 at y = 3
 * ```ts
 * import { backwardOne, forwardOne } from "./mlp_row.ts";
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions({ dim: 1, widths: [] }, ""));
 * const acts = new Float64Array(2), pre = new Float64Array(1), params = Float64Array.of(2, 0.5);
 * forwardOne(net, 0, Float64Array.of(3), 0, params, acts, 0, pre, 0);
 * const yBar = new Float64Array(1), pBar = new Float64Array(2);
 * const g = () => new Float64Array(1);
 * backwardOne(net, 0, params, acts, 0, pre, 0, Float64Array.of(1), yBar, pBar, g(), g());
 * assert.deepEqual([yBar, pBar], [Float64Array.of(2), Float64Array.of(3, 1)]);
 * ```
 */
export function backwardOne(
  net: MlpLayout,
  b: number,
  params: Float64Array,
  acts: Float64Array,
  a: number,
  pre: Float64Array,
  p: number,
  cotangent: Float64Array,
  yBar: Float64Array,
  paramsBar: Float64Array | null,
  grad: Float64Array,
  gradIn: Float64Array,
): void {
  const dim = net.dim, last = net.layerCount - 1, sizes = net.sizes;
  const row = b * dim, skip = net.timeDependent ? 1 : 0;
  for (let j = 0; j < dim; j++) grad[j] = cotangent[row + j];
  if (!net.finalIsIdentity) {
    const outAt = a + net.actOffsets[last + 1], z = p + net.preOffsets[last];
    scaleByDerivative(net.final.name, grad, 0, 1, pre, z, 0, acts, outAt, 0, dim, 1);
  }
  const tanhHidden = net.hidden.name === "tanh";
  for (let l = last; l >= 0; l--) {
    const nIn = sizes[l], nOut = sizes[l + 1], w = net.weightOffsets[l];
    const x = a + net.actOffsets[l];
    // One pass over W serves W̄ += δ xᵀ and Wᵀ δ: each (Wᵀ δ)_k is still summed
    // from 0 over j ascending, as mlp_layers.ts sums it.
    for (let k = 0; k < nIn; k++) gradIn[k] = 0;
    if (paramsBar !== null) {
      const bias = w + nOut * nIn;
      let j = 0;
      // four rows of W at a time, then two: a quarter of the passes over
      // gradIn (each a store its next pass waits for), the same sums
      for (; j + 3 < nOut; j += 4) {
        const d0 = grad[j], d1 = grad[j + 1], d2 = grad[j + 2], d3 = grad[j + 3];
        const w0 = w + j * nIn, w1 = w0 + nIn, w2 = w1 + nIn, w3 = w2 + nIn;
        paramsBar[bias + j] += d0;
        paramsBar[bias + j + 1] += d1;
        paramsBar[bias + j + 2] += d2;
        paramsBar[bias + j + 3] += d3;
        for (let k = 0; k < nIn; k++) {
          const v = acts[x + k];
          paramsBar[w0 + k] += d0 * v;
          paramsBar[w1 + k] += d1 * v;
          paramsBar[w2 + k] += d2 * v;
          paramsBar[w3 + k] += d3 * v;
          gradIn[k] = gradIn[k] + params[w0 + k] * d0 + params[w1 + k] * d1 +
            params[w2 + k] * d2 + params[w3 + k] * d3;
        }
      }
      for (; j + 1 < nOut; j += 2) {
        const d0 = grad[j], d1 = grad[j + 1], w0 = w + j * nIn, w1 = w0 + nIn;
        paramsBar[bias + j] += d0;
        paramsBar[bias + j + 1] += d1;
        for (let k = 0; k < nIn; k++) {
          const v = acts[x + k];
          paramsBar[w0 + k] += d0 * v;
          paramsBar[w1 + k] += d1 * v;
          gradIn[k] = gradIn[k] + params[w0 + k] * d0 + params[w1 + k] * d1;
        }
      }
      if (j < nOut) {
        const d = grad[j], wj = w + j * nIn;
        paramsBar[bias + j] += d;
        for (let k = 0; k < nIn; k++) {
          paramsBar[wj + k] += d * acts[x + k];
          gradIn[k] += params[wj + k] * d;
        }
      }
    } else {
      for (let j = 0; j < nOut; j++) {
        const d = grad[j], wj = w + j * nIn;
        for (let k = 0; k < nIn; k++) gradIn[k] += params[wj + k] * d;
      }
    }
    if (l === 0) {
      for (let k = skip; k < nIn; k++) yBar[row + k - skip] = gradIn[k];
      return;
    }
    // δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}); tanh' = 1 − x_l², x_l = tanh(z_{l−1})
    if (tanhHidden) {
      for (let k = 0; k < nIn; k++) {
        const v = acts[x + k];
        gradIn[k] = gradIn[k] * (1 - v * v);
      }
    } else {
      const z = p + net.preOffsets[l - 1];
      scaleByDerivative(net.hidden.name, gradIn, 0, 1, pre, z, 0, acts, x, 0, nIn, 1);
    }
    const swap = grad;
    grad = gradIn;
    gradIn = swap;
  }
}
