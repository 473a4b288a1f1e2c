/**
 * How the reports of the CPU gradient sections write their numbers: times,
 * ratios, errors and small decimals, each with the digits that matter at its
 * size.
 *
 * @module
 */

/**
 * Milliseconds: more decimals for short times, none beyond a second.
 *
 * @param ms A time in milliseconds.
 * @returns E.g. "0.47", "11.4", "1234".
 *
 * @example
 * ```ts
 * import { fmtMs } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fmtMs(0.468), "0.47");
 * assert.equal(fmtMs(11.44), "11.4");
 * assert.equal(fmtMs(1234.5), "1235");
 * ```
 */
export function fmtMs(ms: number): string {
  return ms >= 1000 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/**
 * A ratio with three significant figures at most.
 *
 * @param x A ratio.
 * @returns E.g. "1.34", "10.4", "332".
 *
 * @example
 * ```ts
 * import { fmtRatio } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fmtRatio(1.3412), "1.34");
 * assert.equal(fmtRatio(10.42), "10.4");
 * assert.equal(fmtRatio(331.9), "332");
 * ```
 */
export function fmtRatio(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/**
 * A number in exponential notation, or "-" when there is none (an error not
 * measured).
 *
 * @param x A number, null or undefined.
 * @param digits Digits after the point.
 * @returns E.g. "1.4e-16", or "-".
 *
 * @example
 * ```ts
 * import { fmtExp } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fmtExp(1.4e-16), "1.4e-16");
 * assert.equal(fmtExp(0.000123, 2), "1.23e-4");
 * assert.equal(fmtExp(null), "-");
 * ```
 */
export function fmtExp(x: number | null | undefined, digits = 1): string {
  return x == null ? "-" : x.toExponential(digits);
}

/**
 * A number rounded to two decimals, without trailing zeros.
 *
 * @param x A number.
 * @returns E.g. "0.06", "100".
 *
 * @example
 * ```ts
 * import { fmtNum } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fmtNum(60 * (1 - 0.999)), "0.06");
 * assert.equal(fmtNum(100.0000001), "100");
 * ```
 */
export function fmtNum(x: number): string {
  return String(Math.round(x * 100) / 100);
}
