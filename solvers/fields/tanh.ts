/**
 * A faster `tanh` of full float64 accuracy, for the MLP kernels: plain
 * arithmetic on a 64-entry table, which V8 inlines into the activation
 * loop, where `Math.tanh` is a call into C for each element (28% of all
 * ticks of a gradient before). Within 2 ulp of the true value over all
 * finite inputs (tests/tanh_test.ts holds it to `Math.tanh`; the report of
 * issue 20 gives the measured maximum against a 200-bit reference).
 *
 * The method, for `a = |x|`, `u = 2a`: `tanh a = t / (t + 2)` with
 * `t = expm1(u)`. Write `u = (64k + j)·ln2/64 + r`, `|r| ≤ ln2/128`, so that
 * `e^u = 2^k·2^{j/64}·e^r`; with `2^{j/64} = T_j + τ_j` (a double and its
 * remainder, tabulated) and `q = expm1(r)` (its Taylor polynomial of degree
 * 6, truncation below 1e-17 relative),
 *
 *     t = (2^k T_j − 1) + 2^k (τ_j + T_j q),
 *
 * where the first bracket is exact (a power of two times a double in
 * [1, 2), minus 1), so `t` carries about half an ulp of error even where
 * `e^u − 1` cancels. The reduction `u − n·ln2/64` splits ln2/64 into a
 * 28-bit head (so `n·head` is exact for `n < 2^12`) and a tail.
 *
 * @module
 */

/** ln2/64 to 28 bits: `n × _L1` is exact for every n the reduction meets. */
const _L1 = 0.010830424667801708;
/** ln2/64 − {@link _L1}. */
const _L2 = 2.8447437476627285e-11;
/** 64/ln2. */
const _INV_L = 92.33248261689366;
/** 2 · 64/ln2 (exact: a power of two times {@link _INV_L}). */
const _INV_L2 = 2 * _INV_L;
/** Below this, tanh x = x − x³/3 + … rounds to x. */
const _TINY = 2 ** -28;
/** From here on tanh x rounds to ±1 (it does from 19.1 on). */
const _HUGE = 22;

/** `2^{j/64}` rounded to a double, j = 0 … 63 (mpmath, 200 bits). */
const _T: Float64Array = Float64Array.of(
  1.0,
  1.0108892860517005,
  1.0218971486541166,
  1.0330248790212284,
  1.0442737824274138,
  1.0556451783605572,
  1.0671404006768237,
  1.0787607977571199,
  1.0905077326652577,
  1.102382583307841,
  1.1143867425958924,
  1.1265216186082418,
  1.1387886347566916,
  1.1511892299529827,
  1.1637248587775775,
  1.1763969916502812,
  1.189207115002721,
  1.202156731452703,
  1.215247359980469,
  1.22848053610687,
  1.241857812073484,
  1.255380757024691,
  1.2690509571917332,
  1.2828700160787783,
  1.2968395546510096,
  1.3109612115247644,
  1.3252366431597413,
  1.339667524053303,
  1.3542555469368927,
  1.3690024229745905,
  1.383909881963832,
  1.3989796725383112,
  1.4142135623730951,
  1.42961333839197,
  1.4451808069770467,
  1.460917794180647,
  1.4768261459394993,
  1.4929077282912648,
  1.5091644275934228,
  1.5255981507445384,
  1.5422108254079407,
  1.559004400237837,
  1.5759808451078865,
  1.593142151342267,
  1.6104903319492543,
  1.6280274218573478,
  1.645755478153965,
  1.6636765803267364,
  1.681792830507429,
  1.7001063537185235,
  1.718619298122478,
  1.7373338352737062,
  1.7562521603732995,
  1.7753764925265212,
  1.7947090750031072,
  1.8142521755003989,
  1.8340080864093424,
  1.8539791250833855,
  1.8741676341103,
  1.8945759815869656,
  1.9152065613971474,
  1.9360617934922943,
  1.9571441241754002,
  1.978456026387951,
);

/** `2^{j/64} − _T[j]`, the rounding error of the table above. */
const _TAU: Float64Array = Float64Array.of(
  0.0,
  -1.5234778603368577e-17,
  5.109225028973444e-17,
  7.600838874027088e-18,
  8.551889705537965e-17,
  1.759325738772092e-18,
  -7.899853966841582e-17,
  -6.656660436056593e-17,
  -3.046782079812471e-17,
  5.2660368715706944e-17,
  1.0410278456845571e-16,
  5.165856758795457e-17,
  8.912812676025408e-17,
  3.250710218863827e-17,
  3.8292048369240935e-17,
  5.554203254218079e-17,
  3.982015231465646e-17,
  6.644981499252301e-17,
  -7.712630692681488e-17,
  -1.89878163130253e-17,
  4.658027591836937e-17,
  -6.7113898212968784e-18,
  2.667932131342186e-18,
  1.713594918243561e-17,
  2.5382502794888315e-17,
  -7.181536135519454e-17,
  -2.8587312100388614e-17,
  8.927282594831732e-17,
  7.70094837980299e-17,
  9.593797919118849e-17,
  -6.770511658794786e-17,
  -9.614213209051323e-17,
  -9.667293313452913e-17,
  -1.2031642489053655e-17,
  -3.0237581349939873e-17,
  -5.600377186075216e-17,
  -3.483994556892796e-17,
  1.4192920154284036e-17,
  -1.016455327754295e-16,
  -1.1024941712342561e-16,
  7.949834809697621e-17,
  3.7812070533575275e-17,
  -1.0136916471278304e-17,
  -1.0094406542311964e-16,
  2.4707192569797888e-17,
  -6.712955084707084e-17,
  -1.0125679913674773e-16,
  5.8909926967131e-17,
  8.199010020581497e-17,
  -8.0237193703977e-18,
  -1.851380418263111e-17,
  3.164389299292957e-17,
  2.960140695448873e-17,
  6.429731796556572e-17,
  1.8227458427912087e-17,
  -9.969531538920349e-17,
  3.283107224245627e-17,
  9.761887490727594e-17,
  -6.122763413004143e-17,
  3.4034035352165297e-17,
  -1.0619946056195963e-16,
  1.0332385960676326e-16,
  8.960767791036668e-17,
  4.0388753109278167e-17,
);

/** `2^k`, k = 0 … 63 (`u < 44` keeps k below 64). */
const _POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/**
 * `tanh x` in float64, to within 2 ulp: `±0`, NaN and ±Infinity as
 * `Math.tanh` gives them.
 *
 * @param x Any number.
 * @returns The hyperbolic tangent of `x`.
 *
 * @example
 * ```ts
 * import { tanh } from "./tanh.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(tanh(0), 0);
 * assert.ok(Object.is(tanh(-0), -0));
 * assert.equal(tanh(Infinity), 1);
 * assert.ok(Number.isNaN(tanh(NaN)));
 * for (const x of [1e-300, 1e-9, 0.3, -0.7, 2.5, -18]) {
 *   const ulp = Math.abs(Math.tanh(x)) * 2 ** -52;
 *   assert.ok(Math.abs(tanh(x) - Math.tanh(x)) <= 2 * ulp);
 * }
 * ```
 */
export function tanh(x: number): number {
  const a = Math.abs(x);
  // NaN fails both tests and comes back as itself.
  if (!(a < _HUGE)) return a >= _HUGE ? (x > 0 ? 1 : -1) : x;
  if (a < _TINY) return x;
  const u = 2 * a;
  // ⌊v + ½⌋ rather than Math.round: the same rounding as the SIMD kernel's f64x2.floor.
  // a·(2·64/ln2) is (2a)·(64/ln2) bit for bit (scaling by 2 is exact), one
  // multiplication sooner.
  const n = Math.floor(a * _INV_L2 + 0.5);
  const r = (u - n * _L1) - n * _L2;
  const j = n & 63;
  const scale = _POW2[n >> 6];
  // Estrin's scheme: shorter dependency chains than Horner's, so that the
  // loop over a layer overlaps more elements.
  const r2 = r * r;
  const q = r + r2 * ((0.5 + r * (1 / 6)) + r2 * ((1 / 24 + r * (1 / 120)) + r2 * (1 / 720)));
  // t = (2^k T_j − 1) + 2^k (τ_j + T_j q), with the power of two taken into
  // the products before q is ready (exact, so the same bits): the chain from
  // q is then three operations instead of four.
  const head = scale * _T[j];
  const t = (head - 1) + (scale * _TAU[j] + head * q);
  // t / (t + 2), with the rounding error e of d = t + 2 (exact) taken back:
  // t / (d + e) ≈ (t / d)(1 − e / d), where a few bits of 1/d suffice and
  // (1 − t/d) / 2 = 1/d gives them without a second division (a division
  // costs as much as the rest). The ½ goes on e while the division runs
  // (exact again): two operations after it, not three. e by Dekker's fast
  // two-sum, the larger addend first: two operations where Knuth's
  // branch-free two-sum (the SIMD kernel's) takes five, and the same e (the
  // rounding error of a sum is unique).
  const d = t + 2;
  const halfE = 0.5 * (t < 2 ? (2 - d) + t : (t - d) + 2);
  const z0 = t / d;
  const z = z0 - z0 * halfE * (1 - z0);
  return x < 0 ? -z : z;
}

/**
 * The constants of {@link tanh}, for the WebAssembly SIMD kernel that
 * computes it two lanes at a time (wasm_affine.ts) with the same operations.
 *
 * @example
 * ```ts
 * import { TANH_CONSTANTS } from "./tanh.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TANH_CONSTANTS.table.length, 64);
 * assert.equal(TANH_CONSTANTS.table[32], Math.SQRT2);
 * ```
 */
export const TANH_CONSTANTS: {
  readonly table: Float64Array;
  readonly tableTail: Float64Array;
  readonly l1: number;
  readonly l2: number;
  readonly invL: number;
  readonly tiny: number;
  readonly huge: number;
} = Object.freeze({
  table: _T,
  tableTail: _TAU,
  l1: _L1,
  l2: _L2,
  invL: _INV_L,
  tiny: _TINY,
  huge: _HUGE,
});
