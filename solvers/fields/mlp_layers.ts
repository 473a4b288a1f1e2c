/**
 * The layer maths of the MLP field, one batch row at a time: the forward
 * pass through its affine layers and activations and, right beside it, its
 * vector–Jacobian product, both over a {@link MlpLayout}. Plain loops over
 * the flat parameters; nothing is allocated.
 *
 * @module
 */

import type { MlpLayout } from "./mlp_layout.ts";

/**
 * The forward pass of row `b`: `z_l = W_l x_l + b_l`, `x_{l+1} = σ(z_l)`
 * from `x_0 = [t, y_b]` or `y_b`. Keeps every layer's input and output in
 * `acts` (from `a`) and every pre-activation in `pre` (from `p`), for
 * {@link backwardRow}; writes `f` into row `b` of `out` unless it is null.
 *
 * @param net The network's layout.
 * @param t The time.
 * @param y The states, `[batch, dim]`.
 * @param b The row.
 * @param params The flat parameters.
 * @param acts Where the layer inputs and outputs go.
 * @param a Their offset in `acts`.
 * @param pre Where the pre-activations go.
 * @param p Their offset in `pre`.
 * @param out Where `f` goes, `[batch, dim]`, or null.
 *
 * @example f(y) = 2y + 0.5
 * ```ts
 * import { forwardRow } from "./mlp_layers.ts";
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions({ dim: 1, widths: [] }, ""));
 * const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
 * const out = new Float64Array(2);
 * forwardRow(net, 0, Float64Array.of(1, 3), 1, Float64Array.of(2, 0.5), acts, 0, pre, 0, out);
 * assert.deepEqual(out, Float64Array.of(0, 6.5));
 * ```
 */
export function forwardRow(
  net: MlpLayout,
  t: number,
  y: Float64Array,
  b: number,
  params: Float64Array,
  acts: Float64Array,
  a: number,
  pre: Float64Array,
  p: number,
  out: Float64Array | null,
): void {
  const dim = net.dim;
  const layerCount = net.layerCount;
  const last = layerCount - 1;
  const sizes = net.sizes;
  const weightOffsets = net.weightOffsets;
  const actOffsets = net.actOffsets;
  const preOffsets = net.preOffsets;
  const hidden = net.hidden;
  const final = net.final;
  const row = b * dim;
  // Layer 0's input x = [t, y_b] or y_b.
  let q = a;
  if (net.timeDependent) acts[q++] = t;
  for (let k = 0; k < dim; k++) acts[q++] = y[row + k];
  for (let l = 0; l < layerCount; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const w = weightOffsets[l];
    const bias = w + nOut * nIn;
    const inAt = a + actOffsets[l];
    const outAt = a + actOffsets[l + 1];
    const preAt = p + preOffsets[l];
    const act = l < last ? hidden : final;
    for (let j = 0; j < nOut; j++) {
      let s = params[bias + j];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) s += params[wj + k] * acts[inAt + k];
      pre[preAt + j] = s;
      acts[outAt + j] = act.forward(s);
    }
  }
  if (out === null) return;
  const outAt = a + actOffsets[layerCount];
  for (let j = 0; j < dim; j++) out[row + j] = acts[outAt + j];
}

/**
 * The VJP of {@link forwardRow} for row `b`, from the activations it kept:
 *
 *     δ_L = v ⊙ σ_L'(z_L)
 *     b̄_l += δ_l,   W̄_l += δ_l x_lᵀ
 *     δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}),   ȳ = (W_0ᵀ δ_0) without the t entry
 *
 * @param net The network's layout.
 * @param b The row.
 * @param params The flat parameters.
 * @param acts The layer inputs and outputs kept by the forward pass.
 * @param a Their offset in `acts`.
 * @param pre The pre-activations it kept.
 * @param p Their offset in `pre`.
 * @param cotangent The cotangent `v` of `f`, `[batch, dim]`.
 * @param yBar Row `b` is overwritten with `J_yᵀ v`.
 * @param paramsBar Accumulates `J_θᵀ v`, or null.
 * @param work Two scratch arrays of `net.maxWidth` entries.
 *
 * @example ∂⟨v, f⟩ of f(y) = 2y + 0.5 at y = 3
 * ```ts
 * import { backwardRow, forwardRow } from "./mlp_layers.ts";
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions({ dim: 1, widths: [] }, ""));
 * const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
 * const params = Float64Array.of(2, 0.5), yBar = new Float64Array(1), pBar = new Float64Array(2);
 * forwardRow(net, 0, Float64Array.of(3), 0, params, acts, 0, pre, 0, null);
 * const work = [new Float64Array(net.maxWidth), new Float64Array(net.maxWidth)] as const;
 * backwardRow(net, 0, params, acts, 0, pre, 0, Float64Array.of(1), yBar, pBar, work);
 * assert.deepEqual(yBar, Float64Array.of(2));
 * assert.deepEqual(pBar, Float64Array.of(3, 1));
 * ```
 */
export function backwardRow(
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
  work: readonly [Float64Array, Float64Array],
): void {
  const dim = net.dim;
  const layerCount = net.layerCount;
  const last = layerCount - 1;
  const sizes = net.sizes;
  const weightOffsets = net.weightOffsets;
  const actOffsets = net.actOffsets;
  const preOffsets = net.preOffsets;
  const hidden = net.hidden;
  const final = net.final;
  const finalIsIdentity = net.finalIsIdentity;
  const skip = net.timeDependent ? 1 : 0;
  const row = b * dim;
  let grad = work[0];
  let gradIn = work[1];
  {
    const preAt = p + preOffsets[last];
    const outAt = a + actOffsets[layerCount];
    for (let j = 0; j < dim; j++) {
      const v = cotangent[row + j];
      grad[j] = finalIsIdentity ? v : v * final.derivative(pre[preAt + j], acts[outAt + j]);
    }
  }
  for (let l = last; l >= 0; l--) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const w = weightOffsets[l];
    const inAt = a + actOffsets[l];
    if (paramsBar !== null) {
      const bias = w + nOut * nIn;
      for (let j = 0; j < nOut; j++) {
        const d = grad[j];
        paramsBar[bias + j] += d;
        const wj = w + j * nIn;
        for (let k = 0; k < nIn; k++) paramsBar[wj + k] += d * acts[inAt + k];
      }
    }
    if (l > 0) {
      // δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}); layer l's input is σ(z_{l−1}).
      const preAt = p + preOffsets[l - 1];
      for (let k = 0; k < nIn; k++) {
        let s = 0;
        for (let j = 0; j < nOut; j++) s += params[w + j * nIn + k] * grad[j];
        gradIn[k] = s * hidden.derivative(pre[preAt + k], acts[inAt + k]);
      }
      const swap = grad;
      grad = gradIn;
      gradIn = swap;
    } else {
      // ȳ = W_0ᵀ δ_0, dropping the column that multiplies t.
      for (let k = skip; k < nIn; k++) {
        let s = 0;
        for (let j = 0; j < nOut; j++) s += params[w + j * nIn + k] * grad[j];
        yBar[row + k - skip] = s;
      }
    }
  }
}
