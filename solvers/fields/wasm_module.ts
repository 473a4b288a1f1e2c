/**
 * The bytes of the MLP kernels' WebAssembly module, assembled here opcode by
 * opcode (no toolchain outside Deno): three functions on one imported memory,
 *
 * - `product`: `z = W x + b` or `Wᵀ δ` for blocks of eight rows, two rows
 *   per `f64x2`;
 * - `tanh`: tanh.ts's `tanh`, two lanes at a time, the same operations;
 * - `outer`: `W̄ += δ xᵀ`, two inputs per `f64x2`, rows in ascending order.
 *
 * Each sums in the order of the one-row reference (a multiply and an add,
 * each rounded: WebAssembly has no fused multiply–add), so the results are
 * bit-identical to the JavaScript kernels. wasm_affine.ts runs them.
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

/*
 * `product(w, wOuter, wInner, b, bStep, nIn, nOut, x, z,
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
/**
 * The module's bytes (see the module documentation).
 *
 * @returns A WebAssembly binary with the exports `product`, `tanh` and `outer`.
 *
 * @example
 * ```ts
 * import { moduleBytes } from "./wasm_module.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(moduleBytes());
 * assert.ok(WebAssembly.validate(bytes));
 * const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
 * assert.deepEqual(names, ["product", "tanh", "outer"]);
 * ```
 */
export function moduleBytes(): number[] {
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
