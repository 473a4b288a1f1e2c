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

import { TANH_CONSTANTS } from "./tanh.ts";

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
const F64X2_SUB = [SIMD, ..._u(241)], F64X2_DIV = [SIMD, ..._u(243)];
const F64X2_ABS = [SIMD, ..._u(236)], F64X2_FLOOR = [SIMD, ..._u(117)];
const F64X2_GE = [SIMD, ..._u(76)], F64X2_REPLACE = [SIMD, ..._u(34)];
const V128_NOT = [SIMD, ..._u(77)], V128_AND = [SIMD, ..._u(78)], V128_OR = [SIMD, ..._u(80)];
const BITSELECT = [SIMD, ..._u(82)], I32X4_EXTRACT = [SIMD, ..._u(27)];
const TRUNC_SAT_ZERO = [SIMD, ..._u(252)], I32X4_SHR_S = [SIMD, ..._u(172)];
const I64X2_EXTEND_LOW = [SIMD, ..._u(199)], I64X2_SHL = [SIMD, ..._u(203)];
const I64X2_ADD = [SIMD, ..._u(206)];
const F64_LOAD = 0x2b, I32_AND = 0x71, BLOCK = 0x02, BR = 0x0c, GE_U = 0x4f;

/** `v128.const` of two equal float64 lanes. */
function _f64x2(v: number): number[] {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, v, true);
  view.setFloat64(8, v, true);
  return [SIMD, ..._u(12), ...bytes];
}

/** `v128.const` of two equal int64 lanes. */
function _i64x2(v: number): number[] {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigInt64(0, BigInt(v), true);
  view.setBigInt64(8, BigInt(v), true);
  return [SIMD, ..._u(12), ...bytes];
}

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
  const tanh = _tanhBody();
  const outer = _outerBody();
  const I32 = 0x7f;
  // deno-fmt-ignore
  return [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ..._section(1, [3, 0x60, 10, ...new Array(10).fill(I32), 0, 0x60, 4, I32, I32, I32, I32, 0,
      0x60, 8, ...new Array(8).fill(I32), 0]),
    ..._section(2, [1, ..._name("env"), ..._name("mem"), 0x02, 0x00, 1]),
    ..._section(3, [3, 0, 1, 2]),
    ..._section(7, [3, ..._name("product"), 0x00, 0, ..._name("tanh"), 0x00, 1,
      ..._name("outer"), 0x00, 2]),
    ..._section(10, [3, ..._u(code.length), ...code, ..._u(tanh.length), ...tanh,
      ..._u(outer.length), ...outer]),
  ];
}

/**
 * The body of `tanh(src, dst, count, table)`: tanh.ts's `tanh` on `count`
 * doubles (even) from `src` into `dst`, two lanes at a time, with the same
 * operations in the same order (so the same results bit for bit): the table
 * lookups are two scalar loads per vector, and `2^k` is built from its bits.
 */
function _tanhBody(): number[] {
  const C = TANH_CONSTANTS;
  const [src, dst, count, table, end, j0, j1] = [0, 1, 2, 3, 4, 5, 6];
  const [x, a, u, n, r, r2, q, head, tau, scale, t, d, dt, e, z0, z, ni] = [
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
  ];
  const sign = [
    SIMD,
    ..._u(12),
    ...new Uint8Array(16).fill(0).map((_, i) => i % 8 === 7 ? 0x80 : 0),
  ];
  const lookup = (into: number, offset: number) => [
    GET,
    table,
    GET,
    j0,
    CONST,
    3,
    SHL,
    ADD,
    ...SPLAT64,
    ..._mem(offset),
    GET,
    table,
    GET,
    j1,
    CONST,
    3,
    SHL,
    ADD,
    F64_LOAD,
    ..._mem(offset),
    ...F64X2_REPLACE,
    1,
    SET,
    into,
  ];
  // deno-fmt-ignore
  const body: number[] = [
    GET, src, GET, count, CONST, 3, SHL, ADD, SET, end,
    LOOP, VOID,
    GET, src, ...V128_LOAD, ..._mem(0), SET, x,
    GET, x, ...F64X2_ABS, SET, a,
    GET, a, GET, a, ...F64X2_ADD, SET, u,
    // n = ⌊u·64/ln2 + ½⌋; r = (u − n·L1) − n·L2
    GET, u, ..._f64x2(C.invL), ...F64X2_MUL, ..._f64x2(0.5), ...F64X2_ADD, ...F64X2_FLOOR, SET, n,
    GET, u, GET, n, ..._f64x2(C.l1), ...F64X2_MUL, ...F64X2_SUB,
    GET, n, ..._f64x2(C.l2), ...F64X2_MUL, ...F64X2_SUB, SET, r,
    // j = n & 63 per lane; 2^k from the bits (k + 1023) << 52
    GET, n, ...TRUNC_SAT_ZERO, SET, ni,
    GET, ni, ...I32X4_EXTRACT, 0, CONST, 63, I32_AND, SET, j0,
    GET, ni, ...I32X4_EXTRACT, 1, CONST, 63, I32_AND, SET, j1,
    GET, ni, CONST, 6, ...I32X4_SHR_S, ...I64X2_EXTEND_LOW, ..._i64x2(1023), ...I64X2_ADD,
    CONST, 52, ...I64X2_SHL, SET, scale,
    ...lookup(head, 0),
    ...lookup(tau, 512),
    // q = r + r²((c2 + r c3) + r²((c4 + r c5) + r² c6))
    GET, r, GET, r, ...F64X2_MUL, SET, r2,
    GET, r,
    GET, r2,
    ..._f64x2(0.5), GET, r, ..._f64x2(1 / 6), ...F64X2_MUL, ...F64X2_ADD,
    GET, r2,
    ..._f64x2(1 / 24), GET, r, ..._f64x2(1 / 120), ...F64X2_MUL, ...F64X2_ADD,
    GET, r2, ..._f64x2(1 / 720), ...F64X2_MUL, ...F64X2_ADD,
    ...F64X2_MUL, ...F64X2_ADD,
    ...F64X2_MUL, ...F64X2_ADD, SET, q,
    // t = (scale·head − 1) + scale·(tau + head·q)
    GET, scale, GET, head, ...F64X2_MUL, ..._f64x2(1), ...F64X2_SUB,
    GET, scale, GET, tau, GET, head, GET, q, ...F64X2_MUL, ...F64X2_ADD, ...F64X2_MUL,
    ...F64X2_ADD, SET, t,
    // d = t + 2 and its rounding error e (two-sum); z = z0 − z0·e·(½(1 − z0))
    GET, t, ..._f64x2(2), ...F64X2_ADD, SET, d,
    GET, d, GET, t, ...F64X2_SUB, SET, dt,
    GET, t, GET, d, GET, dt, ...F64X2_SUB, ...F64X2_SUB,
    ..._f64x2(2), GET, dt, ...F64X2_SUB, ...F64X2_ADD, SET, e,
    GET, t, GET, d, ...F64X2_DIV, SET, z0,
    GET, z0, GET, z0, GET, e, ...F64X2_MUL,
    ..._f64x2(0.5), ..._f64x2(1), GET, z0, ...F64X2_SUB, ...F64X2_MUL,
    ...F64X2_MUL, ...F64X2_SUB,
    // the sign of x; ±1 from huge on; x itself when tiny or NaN
    GET, x, ...sign, ...V128_AND, ...V128_OR, SET, z,
    ..._f64x2(1), GET, x, ...sign, ...V128_AND, ...V128_OR, GET, z,
    GET, a, ..._f64x2(C.huge), ...F64X2_GE, ...BITSELECT, SET, z,
    GET, x, GET, z, GET, a, ..._f64x2(C.tiny), ...F64X2_GE, ...V128_NOT, ...BITSELECT, SET, z,
    GET, dst, GET, z, ...V128_STORE, ..._mem(0),
    GET, dst, CONST, 16, ADD, SET, dst,
    GET, src, CONST, 16, ADD, TEE, src, GET, end, LT_U, BR_IF, 0,
    END,
    END,
  ];
  return [2, 3, 0x7f, 17, 0x7b, ...body];
}

/**
 * The body of `outer(bar, stride, pairs, d, dStride, x, n, nOut)`:
 * `W̄ += δ xᵀ` over `n` rows, two entries of a row of `W̄` per `f64x2`
 * (lanes are inputs k, k + 1), each entry receiving the rows' terms in
 * ascending order, four rows per load and store (then one by one), as
 * mlp_products.ts's `weightGradient` adds them. `W̄` and `x` are row-major
 * with `stride` (even) doubles a row; δ is `[j][row]`, `dStride` bytes a j.
 */
function _outerBody(): number[] {
  const [bar, stride, pairs, d, dStride, x, n, nOut] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [j, r, kk, dp, xp, pp, xs, n4] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [d0, d1, d2, d3, acc] = [16, 17, 18, 19, 20];
  const term = (dv: number, rowsAhead: number) => [
    GET,
    acc,
    GET,
    dv,
    GET,
    xp,
    ...(rowsAhead === 0 ? [] : [GET, xs, CONST, rowsAhead, MUL, ADD]),
    ...V128_LOAD,
    ..._mem(0),
    ...F64X2_MUL,
    ...F64X2_ADD,
    SET,
    acc,
  ];
  // One pass over the pairs of row j of W̄ from pp, rows from xp, `terms` rows.
  const pass = (terms: number[]) => [
    CONST,
    0,
    SET,
    kk,
    LOOP,
    VOID,
    GET,
    pp,
    ...V128_LOAD,
    ..._mem(0),
    SET,
    acc,
    ...terms,
    GET,
    pp,
    GET,
    acc,
    ...V128_STORE,
    ..._mem(0),
    GET,
    pp,
    CONST,
    16,
    ADD,
    SET,
    pp,
    GET,
    xp,
    CONST,
    16,
    ADD,
    SET,
    xp,
    GET,
    kk,
    CONST,
    1,
    ADD,
    TEE,
    kk,
    GET,
    pairs,
    LT_U,
    BR_IF,
    0,
    END,
  ];
  const start = [
    // dp = d + j dStride + 8 r; pp = bar + j xs; xp = x + r xs
    GET,
    d,
    GET,
    j,
    GET,
    dStride,
    MUL,
    ADD,
    GET,
    r,
    CONST,
    3,
    SHL,
    ADD,
    SET,
    dp,
    GET,
    bar,
    GET,
    j,
    GET,
    xs,
    MUL,
    ADD,
    SET,
    pp,
    GET,
    x,
    GET,
    r,
    GET,
    xs,
    MUL,
    ADD,
    SET,
    xp,
  ];
  // deno-fmt-ignore
  const body: number[] = [
    GET, stride, CONST, 3, SHL, SET, xs,
    GET, n, CONST, 0x7c, I32_AND, SET, n4, // n & −4
    CONST, 0, SET, j,
    LOOP, VOID,
    CONST, 0, SET, r,
    BLOCK, VOID,
    LOOP, VOID,
    GET, r, GET, n4, GE_U, BR_IF, 1,
    ...start,
    GET, dp, ...SPLAT64, ..._mem(0), SET, d0,
    GET, dp, ...SPLAT64, ..._mem(8), SET, d1,
    GET, dp, ...SPLAT64, ..._mem(16), SET, d2,
    GET, dp, ...SPLAT64, ..._mem(24), SET, d3,
    ...pass([...term(d0, 0), ...term(d1, 1), ...term(d2, 2), ...term(d3, 3)]),
    GET, r, CONST, 4, ADD, SET, r,
    BR, 0,
    END,
    END,
    BLOCK, VOID,
    LOOP, VOID,
    GET, r, GET, n, GE_U, BR_IF, 1,
    ...start,
    GET, dp, ...SPLAT64, ..._mem(0), SET, d0,
    ...pass(term(d0, 0)),
    GET, r, CONST, 1, ADD, SET, r,
    BR, 0,
    END,
    END,
    GET, j, CONST, 1, ADD, TEE, j, GET, nOut, LT_U, BR_IF, 0,
    END,
    END,
  ];
  return [2, 8, 0x7f, 5, 0x7b, ...body];
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
    const stride = maxWidth + 1;
    const bytes = 8 * (paramCount + 3 + 128 + 2 * maxWidth * rows + (rows + maxWidth) * stride);
    const mem = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
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
