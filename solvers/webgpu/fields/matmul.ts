/**
 * The three matrix products of an affine layer `z = W x + b` over a batch,
 * as WGSL entry points, each in two forms: a plain one (one invocation per
 * output, reading global memory) and a tiled one (16 × 16 tiles staged in
 * workgroup memory, each input read once per tile instead of once per
 * output), which pays when both sides of the product are at least a tile
 * wide.
 *
 *     forward     z[b, j]  = b_j + Σ_k W[j, k] x[b, k]
 *     transposed  g[b, k]  = Σ_j δ[b, j] W[j, k]              (cotangent of x)
 *     weight      G[c, j, k] += Σ_{b ∈ chunk c} δ[b, j] x[b, k]  (k = inputs: the bias)
 *
 * Both forms add the terms of every sum in the same order, so they agree
 * with each other and the weight gradient is deterministic: each partial
 * sum over a chunk of rows is owned by one invocation, and the chunks are
 * reduced later in a fixed order (no atomics: WGSL has no float atomics).
 *
 * The caller supplies the operands as WGSL functions `load_x(b, k)`,
 * `load_d(b, j)` and `store(b, j, value)`, and the weights as a storage
 * array named `p`; partial sums go to a storage array named `partials`.
 *
 * @module
 */

import { linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";

/**
 * Side of a tile.
 *
 * @example
 * ```ts
 * import { TILE } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * assert.equal(TILE * TILE, 256); // WebGPU's default invocations per workgroup
 * ```
 */
export const TILE = 16;

/**
 * Shapes of one affine layer inside the flat parameter vector.
 *
 * @example
 * ```ts
 * import type { LayerProduct } from "./matmul.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const [s] = new Mlp({ dim: 2, widths: [10], timeDependent: true }).layerShapes;
 * const layer: LayerProduct = { rows: 8, ...s };
 * assert.equal(layer.biasOffset - layer.weightOffset, 30);
 * ```
 */
export interface LayerProduct {
  /** Rows of the batch `B`. */
  readonly rows: number;
  /** Input size `I` (columns of `W`). */
  readonly inputs: number;
  /** Output size `O` (rows of `W`). */
  readonly outputs: number;
  /** Offset of `W` (row-major `[O, I]`) in `p`. */
  readonly weightOffset: number;
  /** Offset of `b` in `p`. */
  readonly biasOffset: number;
}

/**
 * Whether the tiled form is worth it for a product whose two free sizes
 * are `m` and `n`: both must fill most of a tile.
 *
 * @param m One size.
 * @param n The other.
 * @returns True when both are at least {@link TILE}.
 *
 * @example
 * ```ts
 * import { tilingPays } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tilingPays(64, 256), true);
 * assert.equal(tilingPays(3, 256), false);
 * ```
 */
export function tilingPays(m: number, n: number): boolean {
  return m >= TILE && n >= TILE;
}

const PAD = TILE + 1;
const SHARED = `var<workgroup> ta: array<f32, ${TILE * PAD}>;
var<workgroup> tb: array<f32, ${TILE * PAD}>;`;
const TILED_MAIN = `@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {`;

/**
 * The forward product `z = W x + b`, then `store(b, j, z)`.
 *
 * @param layer Shapes.
 * @param tiled Tiled form, dispatched on {@link forwardGroups}.
 * @returns WGSL: `main` (needs `load_x`, `store`, `p`).
 *
 * @example
 * ```ts
 * import { forwardCode } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * const layer = { rows: 4, inputs: 3, outputs: 2, weightOffset: 0, biasOffset: 6 };
 * assert.match(forwardCode(layer, false), /load_x\(b, k\)/);
 * assert.match(forwardCode(layer, true), /workgroupBarrier/);
 * ```
 */
export function forwardCode(layer: LayerProduct, tiled: boolean): string {
  const { rows: B, inputs: I, outputs: O, weightOffset: W, biasOffset: BIAS } = layer;
  if (!tiled) {
    return linearMain(
      B * O,
      `  let b = i / ${u32(O)};
  let j = i % ${u32(O)};
  var s = p[${u32(BIAS)} + j];
  for (var k = 0u; k < ${u32(I)}; k++) { s += p[${u32(W)} + j * ${u32(I)} + k] * load_x(b, k); }
  store(b, j, s);`,
    );
  }
  return `${SHARED}
${TILED_MAIN}
  let b = wid.y * ${TILE}u + lid.y;
  let j = wid.x * ${TILE}u + lid.x;
  let jw = wid.x * ${TILE}u + lid.y;
  var s = 0.0;
  if (j < ${u32(O)}) { s = p[${u32(BIAS)} + j]; }
  for (var k0 = 0u; k0 < ${u32(I)}; k0 += ${TILE}u) {
    let k = k0 + lid.x;
    var xv = 0.0;
    if (b < ${u32(B)} && k < ${u32(I)}) { xv = load_x(b, k); }
    ta[lid.y * ${PAD}u + lid.x] = xv;
    var wv = 0.0;
    if (jw < ${u32(O)} && k < ${u32(I)}) { wv = p[${u32(W)} + jw * ${u32(I)} + k]; }
    tb[lid.y * ${PAD}u + lid.x] = wv;
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE}u; kk++) {
      if (k0 + kk < ${u32(I)}) { s += tb[lid.x * ${PAD}u + kk] * ta[lid.y * ${PAD}u + kk]; }
    }
    workgroupBarrier();
  }
  if (b < ${u32(B)} && j < ${u32(O)}) { store(b, j, s); }
}`;
}

/**
 * Workgroups of {@link forwardCode}.
 *
 * @param layer Shapes.
 * @param tiled Which form.
 * @returns The grid.
 *
 * @example
 * ```ts
 * import { forwardGroups } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * const layer = { rows: 40, inputs: 32, outputs: 20, weightOffset: 0, biasOffset: 640 };
 * assert.deepEqual(forwardGroups(layer, true), [2, 3, 1]);
 * ```
 */
export function forwardGroups(layer: LayerProduct, tiled: boolean): [number, number, number] {
  if (!tiled) return groups1d(layer.rows * layer.outputs);
  return [Math.ceil(layer.outputs / TILE), Math.ceil(layer.rows / TILE), 1];
}

/**
 * The transposed product `g[b, k] = Σ_j δ[b, j] W[j, k]`, then
 * `store(b, k, g)` for `k ≥ firstColumn`.
 *
 * @param layer Shapes.
 * @param tiled Tiled form, dispatched on {@link transposedGroups}.
 * @param firstColumn First column of `g` wanted (1 skips a time input).
 * @returns WGSL: `main` (needs `load_d`, `store`, `p`).
 *
 * @example
 * ```ts
 * import { transposedCode } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * const layer = { rows: 4, inputs: 3, outputs: 2, weightOffset: 0, biasOffset: 6 };
 * assert.match(transposedCode(layer, false, 1), /load_d\(b, j\)/);
 * ```
 */
export function transposedCode(layer: LayerProduct, tiled: boolean, firstColumn: number): string {
  const { rows: B, inputs: I, outputs: O, weightOffset: W } = layer;
  const F = firstColumn;
  const cols = I - F;
  if (!tiled) {
    return linearMain(
      B * cols,
      `  let b = i / ${u32(cols)};
  let k = i % ${u32(cols)} + ${u32(F)};
  var s = 0.0;
  for (var j = 0u; j < ${u32(O)}; j++) { s += load_d(b, j) * p[${u32(W)} + j * ${u32(I)} + k]; }
  store(b, k, s);`,
    );
  }
  return `${SHARED}
${TILED_MAIN}
  let b = wid.y * ${TILE}u + lid.y;
  let k = wid.x * ${TILE}u + lid.x + ${u32(F)};
  let bd = b;
  var s = 0.0;
  for (var j0 = 0u; j0 < ${u32(O)}; j0 += ${TILE}u) {
    let jd = j0 + lid.x;
    var dv = 0.0;
    if (bd < ${u32(B)} && jd < ${u32(O)}) { dv = load_d(bd, jd); }
    ta[lid.y * ${PAD}u + lid.x] = dv;
    let jw = j0 + lid.y;
    var wv = 0.0;
    if (jw < ${u32(O)} && k < ${u32(I)}) { wv = p[${u32(W)} + jw * ${u32(I)} + k]; }
    tb[lid.y * ${PAD}u + lid.x] = wv;
    workgroupBarrier();
    for (var jj = 0u; jj < ${TILE}u; jj++) {
      if (j0 + jj < ${u32(O)}) { s += ta[lid.y * ${PAD}u + jj] * tb[jj * ${PAD}u + lid.x]; }
    }
    workgroupBarrier();
  }
  if (b < ${u32(B)} && k < ${u32(I)}) { store(b, k, s); }
}`;
}

/**
 * Workgroups of {@link transposedCode}.
 *
 * @param layer Shapes.
 * @param tiled Which form.
 * @param firstColumn As given to the code.
 * @returns The grid.
 *
 * @example
 * ```ts
 * import { transposedGroups } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * const layer = { rows: 40, inputs: 33, outputs: 20, weightOffset: 0, biasOffset: 660 };
 * assert.deepEqual(transposedGroups(layer, true, 1), [2, 3, 1]);
 * ```
 */
export function transposedGroups(
  layer: LayerProduct,
  tiled: boolean,
  firstColumn: number,
): [number, number, number] {
  const cols = layer.inputs - firstColumn;
  if (!tiled) return groups1d(layer.rows * cols);
  return [Math.ceil(cols / TILE), Math.ceil(layer.rows / TILE), 1];
}

/**
 * How the batch is cut into chunks for the weight gradient's partial sums.
 *
 * @example
 * ```ts
 * import { type Chunking, chunking } from "./matmul.ts";
 * import assert from "node:assert/strict";
 *
 * const c: Chunking = chunking(1000);
 * assert.ok(c.rows * c.chunks >= 1000);
 * ```
 */
export interface Chunking {
  /** Rows per chunk (a multiple of {@link TILE}). */
  readonly rows: number;
  /** Number of chunks. */
  readonly chunks: number;
}

/**
 * The chunks of a batch: about 256 of them at most, of a multiple of
 * {@link TILE} rows each, so that the partial sums `[chunks, params]` stay
 * small while every chunk keeps the GPU busy. Depends on the batch only,
 * so a run is deterministic.
 *
 * @param batch Rows.
 * @returns Rows per chunk and number of chunks.
 *
 * @example
 * ```ts
 * import { chunking } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(chunking(1), { rows: 64, chunks: 1 });
 * assert.deepEqual(chunking(65536), { rows: 256, chunks: 256 });
 * ```
 */
export function chunking(batch: number): Chunking {
  const rows = Math.max(64, Math.ceil(batch / 256 / TILE) * TILE);
  return { rows, chunks: Math.ceil(batch / rows) };
}

/**
 * The weight gradient of one layer over chunks of rows:
 * `partials[c·P + index(j, k)] += Σ_{b ∈ chunk c} δ[b, j] x[b, k]`, where
 * column `k = I` is the bias (`x = 1`).
 *
 * @param layer Shapes.
 * @param chunks The batch's chunks.
 * @param paramCount `P`, the stride of `partials` between chunks.
 * @param tiled Tiled form, dispatched on {@link weightGroups}.
 * @returns WGSL: `main` (needs `load_d`, `load_x`, `partials`).
 *
 * @example
 * ```ts
 * import { chunking, weightCode } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * const layer = { rows: 4, inputs: 3, outputs: 2, weightOffset: 0, biasOffset: 6 };
 * assert.match(weightCode(layer, chunking(4), 8, false), /partials\[/);
 * ```
 */
export function weightCode(
  layer: LayerProduct,
  chunks: Chunking,
  paramCount: number,
  tiled: boolean,
): string {
  const { rows: B, inputs: I, outputs: O, weightOffset: W, biasOffset: BIAS } = layer;
  const R = chunks.rows;
  const cols = I + 1;
  const index = `select(${u32(BIAS)} + j, ${u32(W)} + j * ${u32(I)} + k, k < ${u32(I)})`;
  const loadX1 = `fn load_x1(b: u32, k: u32) -> f32 { if (k < ${
    u32(I)
  }) { return load_x(b, k); } return 1.0; }`;
  if (!tiled) {
    return `${loadX1}
${
      linearMain(
        chunks.chunks * O * cols,
        `  let c = i / ${u32(O * cols)};
  let j = (i / ${u32(cols)}) % ${u32(O)};
  let k = i % ${u32(cols)};
  let end = min(c * ${u32(R)} + ${u32(R)}, ${u32(B)});
  var s = 0.0;
  for (var b = c * ${u32(R)}; b < end; b++) { s += load_d(b, j) * load_x1(b, k); }
  partials[c * ${u32(paramCount)} + ${index}] += s;`,
      )
    }`;
  }
  return `${loadX1}
${SHARED}
${TILED_MAIN}
  let c = wid.z;
  let j = wid.y * ${TILE}u + lid.y;
  let k = wid.x * ${TILE}u + lid.x;
  let start = c * ${u32(R)};
  let end = min(start + ${u32(R)}, ${u32(B)});
  var s = 0.0;
  for (var b0 = start; b0 < end; b0 += ${TILE}u) {
    let b = b0 + lid.y;
    let jd = wid.y * ${TILE}u + lid.x;
    var dv = 0.0;
    if (b < end && jd < ${u32(O)}) { dv = load_d(b, jd); }
    ta[lid.y * ${PAD}u + lid.x] = dv;
    var xv = 0.0;
    if (b < end && k < ${u32(cols)}) { xv = load_x1(b, k); }
    tb[lid.y * ${PAD}u + lid.x] = xv;
    workgroupBarrier();
    for (var bb = 0u; bb < ${TILE}u; bb++) {
      if (b0 + bb < end) { s += ta[bb * ${PAD}u + lid.y] * tb[bb * ${PAD}u + lid.x]; }
    }
    workgroupBarrier();
  }
  if (j < ${u32(O)} && k < ${u32(cols)}) { partials[c * ${u32(paramCount)} + ${index}] += s; }
}`;
}

/**
 * Workgroups of {@link weightCode}.
 *
 * @param layer Shapes.
 * @param chunks The batch's chunks.
 * @param tiled Which form.
 * @returns The grid.
 *
 * @example
 * ```ts
 * import { chunking, weightGroups } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * const layer = { rows: 4096, inputs: 64, outputs: 64, weightOffset: 0, biasOffset: 4096 };
 * assert.deepEqual(weightGroups(layer, chunking(4096), true), [5, 4, 64]);
 * ```
 */
export function weightGroups(
  layer: LayerProduct,
  chunks: Chunking,
  tiled: boolean,
): [number, number, number] {
  if (!tiled) return groups1d(chunks.chunks * layer.outputs * (layer.inputs + 1));
  return [
    Math.ceil((layer.inputs + 1) / TILE),
    Math.ceil(layer.outputs / TILE),
    chunks.chunks,
  ];
}

function groups1d(n: number): [number, number, number] {
  return linearGroups(n, 64);
}
