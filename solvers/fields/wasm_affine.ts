/**
 * The MLP kernels in WebAssembly SIMD (module bytes: wasm_module.ts), one
 * instance and memory per network: `z = W x + b` and `Wᵀ δ` for blocks of
 * eight rows, two batch rows per `f64x2`; tanh two lanes at a time;
 * `W̄ += δ xᵀ` two inputs per `f64x2`. Every result is bit-identical to
 * the JavaScript kernels.
 *
 * Memory: the parameters, a zero, tanh's table, then the buffers `x` and
 * `z` (`[column][row]`, rows padded to a multiple of 8), then a layer's
 * inputs row-major and its `W̄`, for the outer product.
 *
 * @module
 */

import { TANH_CONSTANTS } from "./tanh.ts";
import { moduleBytes } from "./wasm_module.ts";

let _module: WebAssembly.Module | null | undefined;

/** The most 64 KiB pages of a 32-bit WebAssembly memory (4 GiB). */
const _MAX_PAGES = 65536;

/** The compiled module, or null where WebAssembly SIMD is missing. */
function _compiled(): WebAssembly.Module | null {
  if (_module !== undefined) return _module;
  try {
    _module = new WebAssembly.Module(new Uint8Array(moduleBytes()));
  } catch {
    _module = null;
  }
  return _module;
}

/**
 * One network's SIMD kernels and their memory: the parameters at 0, a zero,
 * then two buffers `x` and `z` for up to `rows` rows (padded to 8) of the
 * widest layer, each `[column][row]`.
 *
 * @example Two rows of z = W x + b, W = [[1, 2]], b = [0.5]; then Wᵀ z
 * ```ts
 * import { WasmAffine } from "./wasm_affine.ts";
 * import assert from "node:assert/strict";
 *
 * const k = WasmAffine.create(3, 2, 8)!;
 * k.params.set([1, 2, 0.5]);
 * k.x.set([1, 3], 0); // x_0 of rows 0, 1
 * k.x.set([2, 4], 8); // x_1 of rows 0, 1
 * k.affine(0, 2, 1, 2, 8, false);
 * assert.deepEqual([k.z[0], k.z[1]], [0.5 + 1 + 4, 0.5 + 3 + 8]);
 * k.transposed(0, 2, 1, 8, true); // into x: W_0k z
 * assert.deepEqual([k.x[0], k.x[1], k.x[8], k.x[9]], [5.5, 11.5, 11, 23]);
 * k.z.set([0.5, -2, NaN, Infinity]);
 * k.tanhZToX(4);
 * assert.ok(Math.abs(k.x[0] - Math.tanh(0.5)) < 1e-16 && Math.abs(k.x[1] - Math.tanh(-2)) < 1e-15);
 * assert.ok(Number.isNaN(k.x[2]) && k.x[3] === 1);
 * ```
 */
export class WasmAffine {
  /** The parameters' copy. */
  readonly params: Float64Array;
  /** One buffer, `[column][row]`, rows padded. */
  readonly x: Float64Array;
  /** The other. */
  readonly z: Float64Array;
  readonly #run: (...args: number[]) => void;
  readonly #tanh: (src: number, dst: number, count: number, table: number) => void;
  readonly #outer: (...args: number[]) => void;
  /** Rows of a layer's input, row-major, `stride` (even) doubles a row. */
  readonly rowsBuffer: Float64Array;
  /** One layer's `W̄`, row-major, the same stride. */
  readonly barBuffer: Float64Array;
  /** Doubles per row of {@link WasmAffine.rowsBuffer} and {@link WasmAffine.barBuffer}. */
  readonly stride: number;
  readonly #rowsAt: number;
  readonly #barAt: number;
  readonly #zero: number;
  readonly #table: number;
  readonly #xAt: number;
  readonly #zAt: number;

  private constructor(
    exports: WebAssembly.Exports,
    buffer: ArrayBuffer,
    paramCount: number,
    maxWidth: number,
    rows: number,
  ) {
    const size = maxWidth * rows;
    this.#run = exports.product as (...args: number[]) => void;
    this.#tanh = exports.tanh as (src: number, dst: number, count: number, table: number) => void;
    this.#outer = exports.outer as (...args: number[]) => void;
    const padded = paramCount + (paramCount & 1);
    this.params = new Float64Array(buffer, 0, paramCount);
    this.#zero = 8 * padded;
    // tanh's table (64 doubles) and its tail (64 more, 512 bytes on)
    this.#table = this.#zero + 16;
    new Float64Array(buffer, this.#table, 64).set(TANH_CONSTANTS.table);
    new Float64Array(buffer, this.#table + 512, 64).set(TANH_CONSTANTS.tableTail);
    this.#xAt = this.#table + 1024;
    this.#zAt = this.#xAt + 8 * size;
    this.x = new Float64Array(buffer, this.#xAt, size);
    this.z = new Float64Array(buffer, this.#zAt, size);
    this.stride = maxWidth + (maxWidth & 1);
    this.#rowsAt = this.#zAt + 8 * size;
    this.#barAt = this.#rowsAt + 8 * rows * this.stride;
    this.rowsBuffer = new Float64Array(buffer, this.#rowsAt, rows * this.stride);
    this.barBuffer = new Float64Array(buffer, this.#barAt, maxWidth * this.stride);
  }

  /**
   * The kernels for a network, or null where WebAssembly SIMD is missing or
   * the memory they need cannot be had: more than a 32-bit memory's 4 GiB
   * (65 536 pages of 64 KiB), or refused by the engine. The JavaScript
   * kernels then run instead.
   *
   * @param paramCount Length of the flat parameters.
   * @param maxWidth The widest layer's input or output size.
   * @param rows The most rows of a block, a multiple of 8.
   * @returns The kernels, or null.
   *
   * @example Past 4 GiB: null, nothing allocated
   * ```ts
   * import { WasmAffine } from "./wasm_affine.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(WasmAffine.create(2 ** 29, 64, 64), null); // 4 GiB of parameters alone
   * assert.ok(WasmAffine.create(100, 10, 64) instanceof WasmAffine);
   * ```
   */
  static create(paramCount: number, maxWidth: number, rows: number): WasmAffine | null {
    const module = _compiled();
    if (module === null) return null;
    const stride = maxWidth + 1;
    const bytes = 8 * (paramCount + 3 + 128 + 2 * maxWidth * rows + (rows + maxWidth) * stride);
    const pages = Math.ceil(bytes / 65536);
    if (pages > _MAX_PAGES) return null;
    let mem: WebAssembly.Memory;
    try {
      mem = new WebAssembly.Memory({ initial: pages });
    } catch (error) {
      // an engine may refuse a large memory with a RangeError: the JS kernels need none
      if (error instanceof RangeError) return null;
      throw error;
    }
    const instance = new WebAssembly.Instance(module, { env: { mem } });
    return new WasmAffine(instance.exports, mem.buffer as ArrayBuffer, paramCount, maxWidth, rows);
  }

  /**
   * `z = W x + b` (or `x = W z + b` when `fromZ`) for `rows` rows of a layer.
   *
   * @param w Offset of `W` (`[nOut, nIn]`) in the parameters.
   * @param nIn Inputs.
   * @param nOut Outputs.
   * @param bias Offset of `b` in the parameters.
   * @param rows Rows, padded to a multiple of 8 (the row stride of both buffers).
   * @param fromZ Read `z` and write `x` instead.
   */
  affine(w: number, nIn: number, nOut: number, bias: number, rows: number, fromZ: boolean): void {
    const [from, to] = fromZ ? [this.#zAt, this.#xAt] : [this.#xAt, this.#zAt];
    this.#run(8 * w, 8 * nIn, 8, 8 * bias, 8, nIn, nOut, from, to, rows);
  }

  /**
   * `Wᵀ δ` for `rows` rows: δ `[nOut][row]` in one buffer, the result
   * `[nIn][row]` in the other, each entry summed from 0 over j ascending.
   *
   * @param w Offset of `W` (`[nOut, nIn]`) in the parameters.
   * @param nIn W's columns (the result's size).
   * @param nOut W's rows (δ's size).
   * @param rows Rows, padded to a multiple of 8.
   * @param fromZ δ is in `z` (the result goes to `x`), else the reverse.
   */
  transposed(w: number, nIn: number, nOut: number, rows: number, fromZ: boolean): void {
    const [from, to] = fromZ ? [this.#zAt, this.#xAt] : [this.#xAt, this.#zAt];
    this.#run(8 * w, 8, 8 * nIn, this.#zero, 0, nOut, nIn, from, to, rows);
  }

  /**
   * `x[i] = tanh(z[i])` for the first `count` entries (even), tanh.ts's
   * `tanh` two lanes at a time, bit for bit.
   *
   * @param count Entries.
   */
  tanhZToX(count: number): void {
    this.#tanh(this.#zAt, this.#xAt, count, this.#table);
  }

  /**
   * `W̄ += δ xᵀ` over `n` rows of a layer with `nOut` outputs: `W̄` in
   * {@link WasmAffine.barBuffer}, `x` in {@link WasmAffine.rowsBuffer}
   * (both `stride` a row, inputs padded to an even count), δ in `z` (or `x`
   * when not `fromZ`), `[j][row]` with `rows` a j.
   *
   * @param nIn Inputs (padded to even inside).
   * @param nOut Outputs.
   * @param n Rows summed.
   * @param rows The row stride of δ.
   * @param fromZ δ is in `z`, else in `x`.
   */
  outer(nIn: number, nOut: number, n: number, rows: number, fromZ: boolean): void {
    const pairs = (nIn + 1) >> 1;
    const d = fromZ ? this.#zAt : this.#xAt;
    this.#outer(this.#barAt, this.stride, pairs, d, 8 * rows, this.#rowsAt, n, nOut);
  }
}
