/**
 * The MLP field's batched kernels: the forward pass of a block of rows,
 * layer by layer, and right beside it its vector–Jacobian product. They do
 * the same floating-point operations, in the same order for every output,
 * as the one-row reference in mlp_layers.ts, so their results are
 * bit-identical to it, but for `tanh`, which is tanh.ts's (within 2 ulp, as
 * `Math.tanh` is, and faster); only the loop nest changes:
 *
 * - layer by layer over the block, so each weight row is loaded once for
 *   four batch rows (four independent sums in registers);
 * - the activation in a pass of its own, one loop per activation, so V8
 *   inlines it instead of calling through a shared closure;
 * - the weight gradient accumulated four rows at a time, each entry read
 *   and written once per four rows, rows still added in ascending order;
 * - `Wᵀ δ` over a transposed copy of `W` (made once per block), so its dot
 *   products run over contiguous memory in the same order as the reference.
 *
 * A row's values lie at a stride: in a workspace one row follows the
 * other; in a tape each row's activations and pre-activations sit together
 * (see mlp.ts). Nothing is allocated.
 *
 * @module
 */

import type { ActivationName } from "./activations.ts";
import type { MlpLayout } from "./mlp_layout.ts";
import { tanh } from "./tanh.ts";

/**
 * Where a block of rows keeps its values: row `r`'s layer inputs and outputs
 * at `acts[a + r·actsStride + actOffsets[l]]`, its pre-activations at
 * `pre[p + r·preStride + preOffsets[l]]`.
 *
 * @example One row after the other in two workspaces
 * ```ts
 * import type { RowStore } from "./mlp_kernels.ts";
 * import assert from "node:assert/strict";
 *
 * const store: RowStore = {
 *   acts: new Float64Array(8), a: 0, actsStride: 4,
 *   pre: new Float64Array(6), p: 0, preStride: 3,
 * };
 * assert.equal(store.acts.length, 2 * store.actsStride);
 * ```
 */
export interface RowStore {
  /** The layer inputs and outputs. */
  acts: Float64Array;
  /** Offset of row 0's in `acts`. */
  a: number;
  /** Entries from one row's to the next in `acts`. */
  actsStride: number;
  /** The pre-activations. */
  pre: Float64Array;
  /** Offset of row 0's in `pre`. */
  p: number;
  /** Entries from one row's to the next in `pre`. */
  preStride: number;
}

/**
 * The forward pass of rows `b0 … b0 + n − 1`: `z_l = W_l x_l + b_l`,
 * `x_{l+1} = σ(z_l)` from `x_0 = [t, y_b]` or `y_b`, as
 * {@link forwardRow} does for one row, bit for bit (but for `tanh`, see the
 * module documentation). Keeps every layer's
 * input, output and pre-activation in `store` (block row `r` is batch row
 * `b0 + r`) and writes `f` into those rows of `out` unless it is null.
 *
 * @param net The network's layout.
 * @param t The time.
 * @param y The states, `[batch, dim]`.
 * @param b0 The first row.
 * @param n The number of rows.
 * @param params The flat parameters.
 * @param store Where the rows' values go.
 * @param out Where `f` goes, `[batch, dim]`, or null.
 *
 * @example Equal to the one-row pass
 * ```ts
 * import { forwardRows } from "./mlp_kernels.ts";
 * import { forwardRow } from "./mlp_layers.ts";
 * import { initParams, mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions({ dim: 2, widths: [7, 5], activation: "silu" }, ""));
 * const params = initParams(net, 1);
 * const y = Float64Array.from({ length: 10 }, (_, i) => Math.sin(i));
 * const store = {
 *   acts: new Float64Array(5 * net.actsLength), a: 0, actsStride: net.actsLength,
 *   pre: new Float64Array(5 * net.preLength), p: 0, preStride: net.preLength,
 * };
 * const out = new Float64Array(10), ref = new Float64Array(10);
 * forwardRows(net, 0, y, 0, 5, params, store, out);
 * const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
 * for (let b = 0; b < 5; b++) forwardRow(net, 0, y, b, params, acts, 0, pre, 0, ref);
 * assert.deepEqual(out, ref);
 * ```
 */
export function forwardRows(
  net: MlpLayout,
  t: number,
  y: Float64Array,
  b0: number,
  n: number,
  params: Float64Array,
  store: RowStore,
  out: Float64Array | null,
): void {
  const { acts, a, actsStride: as, pre, p, preStride: ps } = store;
  const dim = net.dim;
  const layerCount = net.layerCount;
  const sizes = net.sizes;
  const actOffsets = net.actOffsets;
  // Layer 0's input x = [t, y_b] or y_b.
  const shift = net.timeDependent ? 1 : 0;
  for (let r = 0; r < n; r++) {
    const q = a + r * as;
    const row = (b0 + r) * dim;
    if (shift === 1) acts[q] = t;
    for (let k = 0; k < dim; k++) acts[q + shift + k] = y[row + k];
  }
  for (let l = 0; l < layerCount; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const preAt = p + net.preOffsets[l];
    _affine(
      params,
      net.weightOffsets[l],
      nIn,
      nOut,
      acts,
      a + actOffsets[l],
      as,
      pre,
      preAt,
      ps,
      n,
    );
    const name = l < layerCount - 1 ? net.hidden.name : net.final.name;
    _activate(name, pre, preAt, ps, acts, a + actOffsets[l + 1], as, nOut, n);
  }
  if (out === null) return;
  const outAt = a + actOffsets[layerCount];
  for (let r = 0; r < n; r++) {
    const row = (b0 + r) * dim;
    const q = outAt + r * as;
    for (let j = 0; j < dim; j++) out[row + j] = acts[q + j];
  }
}

/**
 * `z = W x + b` for `n` rows, summed as the one-row reference sums: `b_j`
 * first, then `W_jk x_k` for k ascending. Four rows by two outputs at a
 * time: eight sums in registers, six loads for sixteen flops.
 */
function _affine(
  params: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  acts: Float64Array,
  inAt: number,
  as: number,
  pre: Float64Array,
  preAt: number,
  ps: number,
  n: number,
): void {
  const bias = w + nOut * nIn;
  const pairs = nOut & ~1;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const x0 = inAt + r * as, x1 = x0 + as, x2 = x1 + as, x3 = x2 + as;
    const z0 = preAt + r * ps, z1 = z0 + ps, z2 = z1 + ps, z3 = z2 + ps;
    let j = 0;
    for (; j < pairs; j += 2) {
      const bj = params[bias + j], bk = params[bias + j + 1];
      let s0 = bj, s1 = bj, s2 = bj, s3 = bj;
      let t0 = bk, t1 = bk, t2 = bk, t3 = bk;
      const wj = w + j * nIn, wk = wj + nIn;
      for (let k = 0; k < nIn; k++) {
        const u = params[wj + k], v = params[wk + k];
        const a0 = acts[x0 + k], a1 = acts[x1 + k], a2 = acts[x2 + k], a3 = acts[x3 + k];
        s0 += u * a0;
        s1 += u * a1;
        s2 += u * a2;
        s3 += u * a3;
        t0 += v * a0;
        t1 += v * a1;
        t2 += v * a2;
        t3 += v * a3;
      }
      pre[z0 + j] = s0;
      pre[z1 + j] = s1;
      pre[z2 + j] = s2;
      pre[z3 + j] = s3;
      pre[z0 + j + 1] = t0;
      pre[z1 + j + 1] = t1;
      pre[z2 + j + 1] = t2;
      pre[z3 + j + 1] = t3;
    }
    if (j < nOut) {
      const bj = params[bias + j];
      let s0 = bj, s1 = bj, s2 = bj, s3 = bj;
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) {
        const u = params[wj + k];
        s0 += u * acts[x0 + k];
        s1 += u * acts[x1 + k];
        s2 += u * acts[x2 + k];
        s3 += u * acts[x3 + k];
      }
      pre[z0 + j] = s0;
      pre[z1 + j] = s1;
      pre[z2 + j] = s2;
      pre[z3 + j] = s3;
    }
  }
  for (; r < n; r++) {
    const x0 = inAt + r * as;
    const z0 = preAt + r * ps;
    for (let j = 0; j < nOut; j++) {
      let s = params[bias + j];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) s += params[wj + k] * acts[x0 + k];
      pre[z0 + j] = s;
    }
  }
}

/** The softplus of activations.ts, written out so that the loop inlines it. */
function _softplus(x: number): number {
  return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
}

/** The sigmoid of activations.ts, written out so that the loops inline it. */
function _sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * `x = σ(z)` for `n` rows of `width` entries: one loop per activation, each
 * the formula of activations.ts, so no call goes through a shared closure.
 */
function _activate(
  name: ActivationName,
  pre: Float64Array,
  preAt: number,
  ps: number,
  acts: Float64Array,
  outAt: number,
  as: number,
  width: number,
  n: number,
): void {
  for (let r = 0; r < n; r++) {
    const z = preAt + r * ps, x = outAt + r * as;
    switch (name) {
      case "tanh":
        for (let j = 0; j < width; j++) acts[x + j] = tanh(pre[z + j]);
        break;
      case "identity":
        for (let j = 0; j < width; j++) acts[x + j] = pre[z + j];
        break;
      case "relu":
        for (let j = 0; j < width; j++) {
          const v = pre[z + j];
          acts[x + j] = v > 0 ? v : 0;
        }
        break;
      case "softplus":
        for (let j = 0; j < width; j++) acts[x + j] = _softplus(pre[z + j]);
        break;
      case "silu":
        for (let j = 0; j < width; j++) {
          const v = pre[z + j];
          acts[x + j] = v * _sigmoid(v);
        }
        break;
    }
  }
}

/**
 * `g ← g ⊙ σ'(z)` for `n` rows of `width` entries (`x = σ(z)` as kept by the
 * forward pass), one loop per activation: the derivatives of activations.ts.
 */
function _scaleByDerivative(
  name: ActivationName,
  g: Float64Array,
  gAt: number,
  gs: number,
  pre: Float64Array,
  preAt: number,
  ps: number,
  acts: Float64Array,
  xAt: number,
  as: number,
  width: number,
  n: number,
): void {
  for (let r = 0; r < n; r++) {
    const d = gAt + r * gs, z = preAt + r * ps, x = xAt + r * as;
    switch (name) {
      case "tanh":
        for (let j = 0; j < width; j++) {
          const v = acts[x + j];
          g[d + j] = g[d + j] * (1 - v * v);
        }
        break;
      case "identity":
        break;
      case "relu":
        for (let j = 0; j < width; j++) g[d + j] = g[d + j] * (pre[z + j] > 0 ? 1 : 0);
        break;
      case "softplus":
        for (let j = 0; j < width; j++) g[d + j] = g[d + j] * _sigmoid(pre[z + j]);
        break;
      case "silu":
        for (let j = 0; j < width; j++) {
          const v = pre[z + j];
          const s = _sigmoid(v);
          g[d + j] = g[d + j] * (s * (1 + v * (1 - s)));
        }
        break;
    }
  }
}

/**
 * Scratch of {@link backwardRows} for blocks of up to `rows` rows.
 *
 * @example
 * ```ts
 * import { BackwardScratch } from "./mlp_kernels.ts";
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions({ dim: 2, widths: [8] }, ""));
 * const scratch = new BackwardScratch(net, 16);
 * assert.equal(scratch.rows, 16);
 * ```
 */
export class BackwardScratch {
  /** The most rows of a block. */
  readonly rows: number;
  /** δ of a layer's output and of its input, `rows × maxWidth` each. */
  readonly grads: [Float64Array, Float64Array];
  /** One layer's `Wᵀ`, `[inputs, outputs]`. */
  readonly transposed: Float64Array;

  /**
   * Sizes the scratch.
   *
   * @param net The network's layout.
   * @param rows The most rows of a block.
   */
  constructor(net: MlpLayout, rows: number) {
    this.rows = rows;
    const size = rows * net.maxWidth;
    this.grads = [new Float64Array(size), new Float64Array(size)];
    let largest = 0;
    for (let l = 0; l < net.layerCount; l++) {
      largest = Math.max(largest, net.sizes[l] * net.sizes[l + 1]);
    }
    this.transposed = new Float64Array(largest);
  }
}

/**
 * The VJP of {@link forwardRows} for rows `b0 … b0 + n − 1` (n ≤
 * `scratch.rows`), from the values it kept in `store`; bit for bit what
 * {@link backwardRow} gives row by row, in ascending rows (but for `tanh`):
 *
 *     δ_L = v ⊙ σ_L'(z_L)
 *     b̄_l += δ_l,   W̄_l += δ_l x_lᵀ
 *     δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}),   ȳ = (W_0ᵀ δ_0) without the t entry
 *
 * @param net The network's layout.
 * @param b0 The first row.
 * @param n The number of rows.
 * @param params The flat parameters.
 * @param store The values the forward pass kept.
 * @param cotangent The cotangent `v` of `f`, `[batch, dim]`.
 * @param yBar Rows overwritten with `J_yᵀ v`.
 * @param paramsBar Accumulates `J_θᵀ v`, or null.
 * @param scratch Scratch sized for at least `n` rows.
 *
 * @example Equal to the one-row VJP
 * ```ts
 * import { BackwardScratch, backwardRows, forwardRows } from "./mlp_kernels.ts";
 * import { backwardRow, forwardRow } from "./mlp_layers.ts";
 * import { initParams, mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const net = mlpLayout(resolveMlpOptions(
 *   { dim: 2, widths: [6], activation: "softplus", timeDependent: true },
 *   "",
 * ));
 * const params = initParams(net, 2);
 * const y = Float64Array.from({ length: 10 }, (_, i) => Math.cos(i));
 * const v = Float64Array.from({ length: 10 }, (_, i) => 1 - i / 7);
 * const store = {
 *   acts: new Float64Array(5 * net.actsLength), a: 0, actsStride: net.actsLength,
 *   pre: new Float64Array(5 * net.preLength), p: 0, preStride: net.preLength,
 * };
 * const yBar = new Float64Array(10), pBar = new Float64Array(net.paramCount);
 * forwardRows(net, 0.5, y, 0, 5, params, store, null);
 * backwardRows(net, 0, 5, params, store, v, yBar, pBar, new BackwardScratch(net, 5));
 * const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
 * const work = [new Float64Array(net.maxWidth), new Float64Array(net.maxWidth)] as const;
 * const yRef = new Float64Array(10), pRef = new Float64Array(net.paramCount);
 * for (let b = 0; b < 5; b++) {
 *   forwardRow(net, 0.5, y, b, params, acts, 0, pre, 0, null);
 *   backwardRow(net, b, params, acts, 0, pre, 0, v, yRef, pRef, work);
 * }
 * assert.deepEqual(yBar, yRef);
 * assert.deepEqual(pBar, pRef);
 * ```
 */
export function backwardRows(
  net: MlpLayout,
  b0: number,
  n: number,
  params: Float64Array,
  store: RowStore,
  cotangent: Float64Array,
  yBar: Float64Array,
  paramsBar: Float64Array | null,
  scratch: BackwardScratch,
): void {
  const { acts, a, actsStride: as, pre, p, preStride: ps } = store;
  const dim = net.dim;
  const last = net.layerCount - 1;
  const sizes = net.sizes;
  const actOffsets = net.actOffsets;
  const gs = net.maxWidth;
  let grad = scratch.grads[0];
  let gradIn = scratch.grads[1];
  for (let r = 0; r < n; r++) {
    const row = (b0 + r) * dim;
    for (let j = 0; j < dim; j++) grad[r * gs + j] = cotangent[row + j];
  }
  _scaleByDerivative(
    net.final.name,
    grad,
    0,
    gs,
    pre,
    p + net.preOffsets[last],
    ps,
    acts,
    a + actOffsets[last + 1],
    as,
    dim,
    n,
  );
  for (let l = last; l >= 0; l--) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const w = net.weightOffsets[l];
    const inAt = a + actOffsets[l];
    if (paramsBar !== null) _weightGradient(paramsBar, w, nIn, nOut, grad, gs, acts, inAt, as, n);
    _transposedProduct(params, w, nIn, nOut, grad, gs, gradIn, n, scratch.transposed);
    if (l > 0) {
      // δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}); layer l's input is σ(z_{l−1}).
      const preAt = p + net.preOffsets[l - 1];
      _scaleByDerivative(net.hidden.name, gradIn, 0, gs, pre, preAt, ps, acts, inAt, as, nIn, n);
      const swap = grad;
      grad = gradIn;
      gradIn = swap;
    } else {
      // ȳ = W_0ᵀ δ_0, dropping the column that multiplies t.
      const skip = net.timeDependent ? 1 : 0;
      for (let r = 0; r < n; r++) {
        const row = (b0 + r) * dim - skip;
        for (let k = skip; k < nIn; k++) yBar[row + k] = gradIn[r * gs + k];
      }
    }
  }
}

/**
 * `b̄ += δ`, `W̄ += δ xᵀ` over `n` rows, each entry receiving the rows'
 * terms in ascending order as the one-row reference adds them: four rows
 * per load and store of an entry, two outputs per load of the inputs.
 */
function _weightGradient(
  paramsBar: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  grad: Float64Array,
  gs: number,
  acts: Float64Array,
  inAt: number,
  as: number,
  n: number,
): void {
  const bias = w + nOut * nIn;
  for (let j = 0; j < nOut; j++) {
    let bj = paramsBar[bias + j];
    for (let r = 0; r < n; r++) bj += grad[r * gs + j];
    paramsBar[bias + j] = bj;
  }
  const pairs = nOut & ~1;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const x0 = inAt + r * as, x1 = x0 + as, x2 = x1 + as, x3 = x2 + as;
    const g0 = r * gs, g1 = g0 + gs, g2 = g1 + gs, g3 = g2 + gs;
    let j = 0;
    for (; j < pairs; j += 2) {
      const d0 = grad[g0 + j], d1 = grad[g1 + j], d2 = grad[g2 + j], d3 = grad[g3 + j];
      const e0 = grad[g0 + j + 1], e1 = grad[g1 + j + 1];
      const e2 = grad[g2 + j + 1], e3 = grad[g3 + j + 1];
      const wj = w + j * nIn, wk = wj + nIn;
      for (let k = 0; k < nIn; k++) {
        const a0 = acts[x0 + k], a1 = acts[x1 + k], a2 = acts[x2 + k], a3 = acts[x3 + k];
        let s = paramsBar[wj + k];
        s += d0 * a0;
        s += d1 * a1;
        s += d2 * a2;
        s += d3 * a3;
        paramsBar[wj + k] = s;
        let t = paramsBar[wk + k];
        t += e0 * a0;
        t += e1 * a1;
        t += e2 * a2;
        t += e3 * a3;
        paramsBar[wk + k] = t;
      }
    }
    if (j < nOut) {
      const d0 = grad[g0 + j], d1 = grad[g1 + j], d2 = grad[g2 + j], d3 = grad[g3 + j];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) {
        let s = paramsBar[wj + k];
        s += d0 * acts[x0 + k];
        s += d1 * acts[x1 + k];
        s += d2 * acts[x2 + k];
        s += d3 * acts[x3 + k];
        paramsBar[wj + k] = s;
      }
    }
  }
  for (; r < n; r++) {
    const x0 = inAt + r * as, g0 = r * gs;
    for (let j = 0; j < nOut; j++) {
      const d = grad[g0 + j];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) paramsBar[wj + k] += d * acts[x0 + k];
    }
  }
}

/**
 * `gradIn = Wᵀ δ` over `n` rows, each entry summed as the reference sums it
 * (`0`, then `W_jk δ_j` for j ascending). From four rows on, `W` is first
 * copied transposed so that each sum runs over contiguous memory, four rows
 * by two inputs at a time.
 */
function _transposedProduct(
  params: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  grad: Float64Array,
  gs: number,
  gradIn: Float64Array,
  n: number,
  wt: Float64Array,
): void {
  if (n < 4) {
    for (let r = 0; r < n; r++) {
      const g = r * gs;
      for (let k = 0; k < nIn; k++) {
        let s = 0;
        for (let j = 0; j < nOut; j++) s += params[w + j * nIn + k] * grad[g + j];
        gradIn[g + k] = s;
      }
    }
    return;
  }
  for (let j = 0; j < nOut; j++) {
    const wj = w + j * nIn;
    for (let k = 0; k < nIn; k++) wt[k * nOut + j] = params[wj + k];
  }
  const pairs = nIn & ~1;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const g0 = r * gs, g1 = g0 + gs, g2 = g1 + gs, g3 = g2 + gs;
    let k = 0;
    for (; k < pairs; k += 2) {
      const tk = k * nOut, tl = tk + nOut;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
      for (let j = 0; j < nOut; j++) {
        const a = wt[tk + j], b = wt[tl + j];
        const d0 = grad[g0 + j], d1 = grad[g1 + j], d2 = grad[g2 + j], d3 = grad[g3 + j];
        s0 += a * d0;
        s1 += a * d1;
        s2 += a * d2;
        s3 += a * d3;
        u0 += b * d0;
        u1 += b * d1;
        u2 += b * d2;
        u3 += b * d3;
      }
      gradIn[g0 + k] = s0;
      gradIn[g1 + k] = s1;
      gradIn[g2 + k] = s2;
      gradIn[g3 + k] = s3;
      gradIn[g0 + k + 1] = u0;
      gradIn[g1 + k + 1] = u1;
      gradIn[g2 + k + 1] = u2;
      gradIn[g3 + k + 1] = u3;
    }
    if (k < nIn) {
      const tk = k * nOut;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < nOut; j++) {
        const wk = wt[tk + j];
        s0 += wk * grad[g0 + j];
        s1 += wk * grad[g1 + j];
        s2 += wk * grad[g2 + j];
        s3 += wk * grad[g3 + j];
      }
      gradIn[g0 + k] = s0;
      gradIn[g1 + k] = s1;
      gradIn[g2 + k] = s2;
      gradIn[g3 + k] = s3;
    }
  }
  for (; r < n; r++) {
    const g = r * gs;
    for (let k = 0; k < nIn; k++) {
      const tk = k * nOut;
      let s = 0;
      for (let j = 0; j < nOut; j++) s += wt[tk + j] * grad[g + j];
      gradIn[g + k] = s;
    }
  }
}
