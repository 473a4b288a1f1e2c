/**
 * `z = W x + b` and `Wᵀ δ` for blocks of eight rows in WebAssembly SIMD, assembled here
 * byte by byte (no toolchain): the two lanes of an `f64x2` are two batch
 * rows, so every row is still summed as the one-row reference sums it
 * (`b_j`, then `W_jk x_k` for k ascending, a multiply and an add each
 * rounded: WebAssembly has no fused multiply–add), and the results are
 * bit-identical to the JavaScript kernels; only two rows go through each
 * instruction, and there is no bounds check in the inner loop.
 *
 * Memory, one per network: the parameters, then `x` and `z` transposed,
 * `[k][row]` and `[j][row]`, with the rows padded to a multiple of 8.
 *
 * @module
 */

/** Unsigned LEB128. */
function _u(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** A section: id, then its bytes with their length. */
function _section(id: number, bytes: number[]): number[] {
  return [id, ..._u(bytes.length), ...bytes];
}

/** A name as WebAssembly writes it. */
function _name(s: string): number[] {
  return [..._u(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

// Opcodes used below.
const GET = 0x20, SET = 0x21, TEE = 0x22, CONST = 0x41;
const ADD = 0x6a, MUL = 0x6c, LT_U = 0x49, SHL = 0x74;
const LOOP = 0x03, VOID = 0x40, BR_IF = 0x0d, END = 0x0b;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00], SPLAT64 = [SIMD, 0x0a], V128_STORE = [SIMD, 0x0b];
const F64X2_ADD = [SIMD, ..._u(240)], F64X2_MUL = [SIMD, ..._u(242)];

/** `memarg`: alignment 2^3 (a hint), byte offset. */
function _mem(offset: number): number[] {
  return [3, ..._u(offset)];
}

/**
 * The module's bytes. `product(w, wOuter, wInner, b, bStep, nIn, nOut, x, z,
 * rows)`, pointers and steps in bytes, `rows` a multiple of 8:
 *
 *     for r8 in 0, 8, …, rows − 8:
 *       for j < nOut:
 *         acc_p = splat(b + j·bStep)                   p = 0 … 3: rows r8 + 2p, +1
 *         for k < nIn: acc_p += splat(w + j·wOuter + k·wInner) · x[k][r8 + 2p …]
 *         z[j][r8 + 2p …] = acc_p
 *
 * With `wOuter = 8·nIn`, `wInner = 8` it is `z = W x + b`; with
 * `wOuter = 8`, `wInner = 8·(W's columns)` and `b` a zero with `bStep = 0`,
 * it is `Wᵀ δ`.
 */
function _moduleBytes(): number[] {
  const [w, wOuter, wInner, b, bStep, nIn, nOut, x, z, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [r8, j, k, xp, wp] = [10, 11, 12, 13, 14];
  const acc = [15, 16, 17, 18], wv = 19;
  // deno-fmt-ignore
  const body: number[] = [
    CONST, 0, SET, r8,
    LOOP, VOID,
    CONST, 0, SET, j,
    LOOP, VOID,
    // acc_p = splat(b + j bStep)
    GET, b, GET, j, GET, bStep, MUL, ADD, ...SPLAT64, ..._mem(0), SET, acc[0],
    GET, acc[0], SET, acc[1], GET, acc[0], SET, acc[2], GET, acc[0], SET, acc[3],
    // wp = w + j wOuter; xp = x + 8 r8; k = 0
    GET, w, GET, j, GET, wOuter, MUL, ADD, SET, wp,
    GET, x, GET, r8, CONST, 3, SHL, ADD, SET, xp,
    CONST, 0, SET, k,
    LOOP, VOID,
    GET, wp, ...SPLAT64, ..._mem(0), SET, wv,
    ...[0, 1, 2, 3].flatMap((p) => [
      GET, acc[p], GET, wv, GET, xp, ...V128_LOAD, ..._mem(16 * p), ...F64X2_MUL, ...F64X2_ADD,
      SET, acc[p],
    ]),
    GET, wp, GET, wInner, ADD, SET, wp,
    GET, xp, GET, rows, CONST, 3, SHL, ADD, SET, xp,
    GET, k, CONST, 1, ADD, TEE, k, GET, nIn, LT_U, BR_IF, 0,
    END,
    // z[j][r8 …] = acc
    ...[0, 1, 2, 3].flatMap((p) => [
      GET, z, GET, j, GET, rows, MUL, GET, r8, ADD, CONST, 3, SHL, ADD,
      GET, acc[p], ...V128_STORE, ..._mem(16 * p),
    ]),
    GET, j, CONST, 1, ADD, TEE, j, GET, nOut, LT_U, BR_IF, 0,
    END,
    GET, r8, CONST, 8, ADD, TEE, r8, GET, rows, LT_U, BR_IF, 0,
    END,
    END,
  ];
  const locals = [2, 5, 0x7f, 5, 0x7b]; // two groups: 5 × i32, 5 × v128
  const code = [...locals, ...body];
  const I32 = 0x7f;
  // deno-fmt-ignore
  return [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ..._section(1, [1, 0x60, 10, ...new Array(10).fill(I32), 0]),
    ..._section(2, [1, ..._name("env"), ..._name("mem"), 0x02, 0x00, 1]),
    ..._section(3, [1, 0]),
    ..._section(7, [1, ..._name("product"), 0x00, 0]),
    ..._section(10, [1, ..._u(code.length), ...code]),
  ];
}

let _module: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is missing. */
function _compiled(): WebAssembly.Module | null {
  if (_module !== undefined) return _module;
  try {
    _module = new WebAssembly.Module(new Uint8Array(_moduleBytes()));
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
  readonly #zero: number;
  readonly #xAt: number;
  readonly #zAt: number;

  private constructor(
    run: (...args: number[]) => void,
    buffer: ArrayBuffer,
    paramCount: number,
    size: number,
  ) {
    this.#run = run;
    const padded = paramCount + (paramCount & 1);
    this.params = new Float64Array(buffer, 0, paramCount);
    this.#zero = 8 * padded;
    this.#xAt = this.#zero + 16;
    this.#zAt = this.#xAt + 8 * size;
    this.x = new Float64Array(buffer, this.#xAt, size);
    this.z = new Float64Array(buffer, this.#zAt, size);
  }

  /**
   * The kernels for a network, or null where WebAssembly SIMD is missing.
   *
   * @param paramCount Length of the flat parameters.
   * @param maxWidth The widest layer's input or output size.
   * @param rows The most rows of a block, a multiple of 8.
   * @returns The kernels, or null.
   */
  static create(paramCount: number, maxWidth: number, rows: number): WasmAffine | null {
    const module = _compiled();
    if (module === null) return null;
    const size = maxWidth * rows;
    const bytes = 8 * (paramCount + 3 + 2 * size);
    const mem = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const instance = new WebAssembly.Instance(module, { env: { mem } });
    const run = instance.exports.product as (...args: number[]) => void;
    return new WasmAffine(run, mem.buffer as ArrayBuffer, paramCount, size);
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
}
