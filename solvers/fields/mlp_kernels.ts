/**
 * The MLP field's batched kernels: the forward pass of a block of rows,
 * layer by layer, and right beside it its vector–Jacobian product. They do
 * the same floating-point operations, in the same order for every output,
 * as the one-row reference in mlp_layers.ts, so their results are
 * bit-identical to it, but for `tanh`, which is tanh.ts's (within 2 ulp, as
 * `Math.tanh` is, and faster); only the loop nest changes:
 *
 * - layer by layer over the block, so each weight load serves four batch
 *   rows, with the products of mlp_products.ts;
 * - the activation in a pass of its own, one loop per activation
 *   (activation_loops.ts), so V8 inlines it instead of calling through a
 *   shared closure;
 * - below 4 rows, row by row in one function (mlp_row.ts);
 * - from 8 rows on, `W x + b` and `Wᵀ δ` in WebAssembly SIMD, two rows per
 *   `f64x2` (mlp_kernels_simd.ts, wasm_affine.ts), where WebAssembly exists.
 *
 * A row's values lie at a stride: in a workspace one row follows the
 * other; in a tape each row's activations and pre-activations sit together
 * (see mlp.ts). Nothing is allocated.
 *
 * @module
 */

import { activate, scaleByDerivative } from "./activation_loops.ts";
import type { MlpLayout, RowStore } from "./mlp_layout.ts";
import { affine, transposedProduct, weightGradient } from "./mlp_products.ts";
import { backwardRowsSimd, forwardRowsSimd } from "./mlp_kernels_simd.ts";
import { backwardOne, forwardOne } from "./mlp_row.ts";
import { WasmAffine } from "./wasm_affine.ts";

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
 * @param simd The network's WebAssembly SIMD kernel (used from 8 rows on), or null.
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
  simd: WasmAffine | null = null,
): void {
  if (simd !== null && n >= 8) {
    forwardRowsSimd(net, t, y, b0, n, params, store, simd);
  } else if (n < 4) {
    const { acts, a, actsStride: as, pre, p, preStride: ps } = store;
    for (let r = 0; r < n; r++) {
      forwardOne(net, t, y, b0 + r, params, acts, a + r * as, pre, p + r * ps);
    }
  } else _forwardJs(net, t, y, b0, n, params, store);
  if (out === null) return;
  const { acts, a, actsStride: as } = store;
  const dim = net.dim;
  const outAt = a + net.actOffsets[net.layerCount];
  for (let r = 0; r < n; r++) {
    const row = (b0 + r) * dim;
    const q = outAt + r * as;
    for (let j = 0; j < dim; j++) out[row + j] = acts[q + j];
  }
}

/** {@link forwardRows} in plain JavaScript. */
function _forwardJs(
  net: MlpLayout,
  t: number,
  y: Float64Array,
  b0: number,
  n: number,
  params: Float64Array,
  store: RowStore,
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
    affine(
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
    activate(name, pre, preAt, ps, acts, a + actOffsets[l + 1], as, nOut, n);
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
 * @param simd The network's WebAssembly SIMD kernels (used from 8 rows on), or null.
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
  simd: WasmAffine | null = null,
): void {
  if (simd !== null && n >= 8) {
    backwardRowsSimd(net, b0, n, params, store, cotangent, yBar, paramsBar, simd);
    return;
  }
  const { acts, a, actsStride: as, pre, p, preStride: ps } = store;
  if (n < 4) {
    const [g, gIn] = scratch.grads;
    for (let r = 0; r < n; r++) {
      const at = a + r * as, pt = p + r * ps;
      backwardOne(net, b0 + r, params, acts, at, pre, pt, cotangent, yBar, paramsBar, g, gIn);
    }
    return;
  }
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
  scaleByDerivative(
    net.final.name,
    grad,
    gs,
    1,
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
    if (paramsBar !== null) {
      weightGradient(paramsBar, w, nIn, nOut, grad, gs, 1, acts, inAt, as, n);
    }
    transposedProduct(params, w, nIn, nOut, grad, gs, gradIn, n, scratch.transposed);
    if (l > 0) {
      // δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}); layer l's input is σ(z_{l−1}).
      const preAt = p + net.preOffsets[l - 1];
      scaleByDerivative(net.hidden.name, gradIn, gs, 1, pre, preAt, ps, acts, inAt, as, nIn, n);
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
 * Rows per block: enough to share every weight load among several rows and
 * amortise the copies into the SIMD kernel's memory, few enough that a
 * block's activations stay in cache.
 */
const _BLOCK = 64;

/**
 * One network's kernels with their workspace, sized once: what `Mlp` runs,
 * batch by blocks of 64 rows, in WebAssembly SIMD from 8 rows on where it
 * exists. Nothing is allocated per call. Not re-entrant.
 *
 * @example
 * ```ts
 * import { MlpKernels } from "./mlp_kernels.ts";
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const kernels = new MlpKernels(mlpLayout(resolveMlpOptions({ dim: 1, widths: [] }, "")));
 * const out = new Float64Array(2);
 * kernels.evaluate(0, Float64Array.of(1, 3), 2, Float64Array.of(2, 0.5), out);
 * assert.deepEqual(out, Float64Array.of(2.5, 6.5));
 * ```
 */
export class MlpKernels {
  readonly #net: MlpLayout;
  /** A block's values in the workspace, row after row. */
  readonly #block: RowStore;
  /** A block's values in a tape (offsets and arrays set per block). */
  readonly #taped: RowStore;
  readonly #scratch: BackwardScratch;
  /** The SIMD kernels, or null where WebAssembly SIMD is missing. */
  readonly #simd: WasmAffine | null;

  /**
   * Sizes the workspace.
   *
   * @param net The network's layout.
   */
  constructor(net: MlpLayout) {
    this.#net = net;
    this.#block = {
      acts: new Float64Array(_BLOCK * net.actsLength),
      a: 0,
      actsStride: net.actsLength,
      pre: new Float64Array(_BLOCK * net.preLength),
      p: 0,
      preStride: net.preLength,
    };
    const rowLength = net.actsLength + net.preLength;
    const empty = new Float64Array(0);
    this.#taped = {
      acts: empty,
      a: 0,
      actsStride: rowLength,
      pre: empty,
      p: 0,
      preStride: rowLength,
    };
    this.#scratch = new BackwardScratch(net, _BLOCK);
    this.#simd = WasmAffine.create(net.paramCount, net.maxWidth, _BLOCK);
  }

  /**
   * `f(t, y_b)` for every row into `out`, as `Mlp.evaluate` (arguments checked by it).
   *
   * @param t The time.
   * @param y The states.
   * @param batch The rows.
   * @param params The flat parameters.
   * @param out Where `f` goes.
   */
  evaluate(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    out: Float64Array,
  ): void {
    for (let b = 0; b < batch; b += _BLOCK) {
      const n = Math.min(_BLOCK, batch - b);
      forwardRows(this.#net, t, y, b, n, params, this.#block, out, this.#simd);
    }
  }

  /**
   * The VJP, forward pass recomputed block by block, as `Mlp.vjp`.
   *
   * @param t The time.
   * @param y The states.
   * @param batch The rows.
   * @param params The flat parameters.
   * @param cotangent The cotangent of `f`.
   * @param yBar Overwritten with `J_yᵀ v`.
   * @param paramsBar Accumulates `J_θᵀ v`, or null.
   */
  vjp(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    cotangent: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void {
    const net = this.#net, block = this.#block, scratch = this.#scratch, simd = this.#simd;
    for (let b = 0; b < batch; b += _BLOCK) {
      const n = Math.min(_BLOCK, batch - b);
      forwardRows(net, t, y, b, n, params, block, null, simd);
      backwardRows(net, b, n, params, block, cotangent, yBar, paramsBar, scratch, simd);
    }
  }

  /**
   * `evaluate`, keeping each row's activations then pre-activations in `tape`.
   *
   * @param t The time.
   * @param y The states.
   * @param batch The rows.
   * @param params The flat parameters.
   * @param out Where `f` goes.
   * @param tape `batch × (actsLength + preLength)` entries.
   */
  evaluateTaped(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    out: Float64Array,
    tape: Float64Array,
  ): void {
    const net = this.#net;
    if (batch === 1) {
      // the white dwarf's case, straight to the one-row kernel
      forwardOne(net, t, y, 0, params, tape, 0, tape, net.actsLength);
      const outAt = net.actOffsets[net.layerCount];
      for (let j = 0; j < net.dim; j++) out[j] = tape[outAt + j];
      return;
    }
    for (let b = 0; b < batch; b += _BLOCK) {
      const n = Math.min(_BLOCK, batch - b);
      forwardRows(this.#net, t, y, b, n, params, this.#tapeBlock(tape, b), out, this.#simd);
    }
  }

  /**
   * The VJP from a tape that {@link MlpKernels.evaluateTaped} filled.
   *
   * @param batch The rows.
   * @param params The flat parameters.
   * @param tape The tape.
   * @param cotangent The cotangent of `f`.
   * @param yBar Overwritten with `J_yᵀ v`.
   * @param paramsBar Accumulates `J_θᵀ v`, or null.
   */
  vjpTaped(
    batch: number,
    params: Float64Array,
    tape: Float64Array,
    cotangent: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void {
    const net = this.#net, scratch = this.#scratch, simd = this.#simd;
    if (batch === 1) {
      const [g, gIn] = scratch.grads;
      backwardOne(
        net,
        0,
        params,
        tape,
        0,
        tape,
        net.actsLength,
        cotangent,
        yBar,
        paramsBar,
        g,
        gIn,
      );
      return;
    }
    for (let b = 0; b < batch; b += _BLOCK) {
      const n = Math.min(_BLOCK, batch - b);
      const store = this.#tapeBlock(tape, b);
      backwardRows(net, b, n, params, store, cotangent, yBar, paramsBar, scratch, simd);
    }
  }

  /** The tape's rows from `b` on, each row its activations then its pre-activations. */
  #tapeBlock(tape: Float64Array, b: number): RowStore {
    const store = this.#taped;
    const at = b * store.actsStride;
    store.acts = tape;
    store.pre = tape;
    store.a = at;
    store.p = at + this.#net.actsLength;
    return store;
  }
}
