/**
 * The batched kernels of mlp_kernels.ts with their products in WebAssembly
 * SIMD (wasm_affine.ts), the forward pass and right beside it its VJP, bit
 * for bit the same as the JavaScript ones: a block's layer values go through
 * the kernel's buffers transposed (`[column][row]`, two rows per `f64x2`).
 *
 * @module
 */

import { activateColumns, scaleByDerivative } from "./activation_loops.ts";
import type { MlpLayout, RowStore } from "./mlp_layout.ts";
import type { WasmAffine } from "./wasm_affine.ts";

/**
 * `forwardRows` (mlp_kernels.ts) with the products in WebAssembly SIMD (wasm_affine.ts),
 * bit for bit the same: each layer's input goes in transposed, its
 * pre-activations come out transposed, and one pass stores them in the
 * rows, applies σ and writes the next layer's transposed input.
 * @example Through Mlp, which uses it from 8 rows on: equal to the one-row pass
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const f = new Mlp({ dim: 2, widths: [5], activation: "relu" });
 * const params = f.init(1), y = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i));
 * const all = new Float64Array(20), one = new Float64Array(2);
 * f.evaluate(0, y, 10, params, all);
 * f.evaluate(0, y.subarray(18), 1, params, one);
 * assert.deepEqual(all.subarray(18), one);
 * ```
 */
export function forwardRowsSimd(
  net: MlpLayout,
  t: number,
  y: Float64Array,
  b0: number,
  n: number,
  params: Float64Array,
  store: RowStore,
  simd: WasmAffine,
): void {
  const { acts, a, actsStride: as, pre, p, preStride: ps } = store;
  const dim = net.dim;
  const layerCount = net.layerCount;
  const rows = (n + 7) & ~7;
  const x = simd.x;
  simd.params.set(params);
  const shift = net.timeDependent ? 1 : 0;
  for (let r = 0; r < n; r++) {
    const q = a + r * as;
    const row = (b0 + r) * dim;
    if (shift === 1) acts[q] = x[r] = t;
    for (let k = 0; k < dim; k++) {
      const v = y[row + k];
      acts[q + shift + k] = v;
      x[(shift + k) * rows + r] = v;
    }
  }
  for (let l = 0; l < layerCount; l++) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const w = net.weightOffsets[l];
    simd.affine(w, nIn, nOut, w + nOut * nIn, rows, false);
    const name = l < layerCount - 1 ? net.hidden.name : net.final.name;
    const outAt = a + net.actOffsets[l + 1];
    const preAt = p + net.preOffsets[l];
    if (name === "tanh") _tanhColumns(simd, rows, pre, preAt, ps, acts, outAt, as, nOut, n);
    else activateColumns(name, simd.z, rows, pre, preAt, ps, acts, outAt, as, nOut, n, x);
  }
}

/**
 * `activateColumns` for tanh with the tanh itself in the SIMD kernel (the
 * same function, bit for bit, two lanes at a time): z into the rows of
 * `pre`, tanh z into `x` (the next layer's input), then into the rows of `acts`.
 */
function _tanhColumns(
  simd: WasmAffine,
  rows: number,
  pre: Float64Array,
  preAt: number,
  ps: number,
  acts: Float64Array,
  outAt: number,
  as: number,
  width: number,
  n: number,
): void {
  const z = simd.z, x = simd.x;
  for (let j = 0; j < width; j++) {
    const c = j * rows, zj = preAt + j;
    for (let r = 0; r < n; r++) pre[zj + r * ps] = z[c + r];
  }
  simd.tanhZToX(width * rows);
  for (let j = 0; j < width; j++) {
    const c = j * rows, xj = outAt + j;
    for (let r = 0; r < n; r++) acts[xj + r * as] = x[c + r];
  }
}

/**
 * `backwardRows` (mlp_kernels.ts) with `Wᵀ δ` in WebAssembly SIMD, bit for bit the
 * same: δ lives transposed (`[j][row]`) in the kernel's two buffers, which
 * take turns as input and output from layer to layer.
 * @example Through Mlp, which uses it from 8 rows on: rows independent, bit for bit
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const f = new Mlp({ dim: 2, widths: [5], activation: "silu" });
 * const params = f.init(1), y = Float64Array.from({ length: 20 }, (_, i) => Math.sin(i));
 * const v = y.map((x) => 1 - x), all = new Float64Array(20), one = new Float64Array(2);
 * f.vjp(0, y, 10, params, v, all, null);
 * f.vjp(0, y.subarray(18), 1, params, v.subarray(18), one, null);
 * assert.deepEqual(all.subarray(18), one);
 * ```
 */
export function backwardRowsSimd(
  net: MlpLayout,
  b0: number,
  n: number,
  params: Float64Array,
  store: RowStore,
  cotangent: Float64Array,
  yBar: Float64Array,
  paramsBar: Float64Array | null,
  simd: WasmAffine,
): void {
  const { acts, a, actsStride: as, pre, p, preStride: ps } = store;
  const dim = net.dim;
  const last = net.layerCount - 1;
  const rows = (n + 7) & ~7;
  simd.params.set(params);
  let inZ = false;
  let grad = simd.x;
  for (let r = 0; r < n; r++) {
    const row = (b0 + r) * dim;
    for (let j = 0; j < dim; j++) grad[j * rows + r] = cotangent[row + j];
  }
  const finalAt = p + net.preOffsets[last];
  const outAt = a + net.actOffsets[last + 1];
  scaleByDerivative(net.final.name, grad, 1, rows, pre, finalAt, ps, acts, outAt, as, dim, n);
  for (let l = last; l >= 0; l--) {
    const nIn = net.sizes[l];
    const nOut = net.sizes[l + 1];
    const w = net.weightOffsets[l];
    const inAt = a + net.actOffsets[l];
    if (paramsBar !== null) {
      _weightGradient(simd, paramsBar, w, nIn, nOut, inZ, rows, acts, inAt, as, n);
    }
    simd.transposed(w, nIn, nOut, rows, inZ);
    inZ = !inZ;
    grad = inZ ? simd.z : simd.x;
    if (l > 0) {
      const preAt = p + net.preOffsets[l - 1];
      scaleByDerivative(net.hidden.name, grad, 1, rows, pre, preAt, ps, acts, inAt, as, nIn, n);
    } else {
      const skip = net.timeDependent ? 1 : 0;
      for (let r = 0; r < n; r++) {
        const row = (b0 + r) * dim - skip;
        for (let k = skip; k < nIn; k++) yBar[row + k] = grad[k * rows + r];
      }
    }
  }
}

/**
 * `b̄ += δ`, `W̄ += δ xᵀ` with the products in the SIMD kernel (two inputs
 * per lane pair, rows added in ascending order: bit for bit
 * mlp_products.ts's `weightGradient`); the layer's `W̄` and inputs are
 * copied into the kernel's memory and `W̄` back.
 */
function _weightGradient(
  simd: WasmAffine,
  paramsBar: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  inZ: boolean,
  rows: number,
  acts: Float64Array,
  inAt: number,
  as: number,
  n: number,
): void {
  const grad = inZ ? simd.z : simd.x;
  const bias = w + nOut * nIn;
  for (let j = 0; j < nOut; j++) {
    let bj = paramsBar[bias + j];
    for (let r = 0; r < n; r++) bj += grad[j * rows + r];
    paramsBar[bias + j] = bj;
  }
  const st = simd.stride, xs = simd.rowsBuffer, bar = simd.barBuffer;
  for (let r = 0; r < n; r++) {
    const from = inAt + r * as, to = r * st;
    for (let k = 0; k < nIn; k++) xs[to + k] = acts[from + k];
    xs[to + nIn] = 0; // the pad lane of an odd width
  }
  for (let j = 0; j < nOut; j++) {
    const from = w + j * nIn, to = j * st;
    for (let k = 0; k < nIn; k++) bar[to + k] = paramsBar[from + k];
  }
  simd.outer(nIn, nOut, n, rows, inZ);
  for (let j = 0; j < nOut; j++) {
    const to = w + j * nIn, from = j * st;
    for (let k = 0; k < nIn; k++) paramsBar[to + k] = bar[from + k];
  }
}
