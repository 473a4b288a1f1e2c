/**
 * The values of `deno task train`'s flags, read and checked: a refused value
 * is a {@link UsageError} that names the flag, quotes the value and says
 * what is allowed.
 *
 * @module
 */

import { type FlagValues, UsageError } from "./flags.ts";

/**
 * A flag's value when it was given one.
 *
 * @param flags The parsed flags.
 * @param name The flag, without `--`.
 * @returns The value, or undefined for a flag not given (or a boolean flag).
 *
 * @example
 * ```ts
 * import { stringFlag } from "./flag_values.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stringFlag({ lr: "0.1", help: true }, "lr"), "0.1");
 * assert.equal(stringFlag({ lr: "0.1", help: true }, "help"), undefined);
 * ```
 */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

/**
 * A flag's value, which must be one of a list of names.
 *
 * @param flag The flag, without `--`, for the message.
 * @param value The value given.
 * @param allowed The names allowed.
 * @returns The value, typed as one of them.
 * @throws {UsageError} Listing the names allowed.
 *
 * @example
 * ```ts
 * import { oneOf } from "./flag_values.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(oneOf("scheme", "plain", ["reversible", "plain"]), "plain");
 * assert.throws(() => oneOf("scheme", "odd", ["reversible", "plain"]),
 *   /invalid value for --scheme: "odd". Allowed: reversible, plain\./);
 * ```
 */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new UsageError(
      `invalid value for --${flag}: ${JSON.stringify(value)}. Allowed: ${allowed.join(", ")}.`,
    );
  }
  return value as T;
}

/**
 * A flag's numeric value: a decimal number (or, with `fraction`, `a/b`)
 * within a range.
 *
 * @param flag The flag, without `--`, for the message.
 * @param text The value given.
 * @param range `integer`: a safe integer; `min`/`above`: at least, or more
 * than; `max`: at most; `fraction`: `a/b` allowed.
 * @returns The number.
 * @throws {UsageError} Saying which numbers are allowed.
 *
 * @example
 * ```ts
 * import { numberFlag } from "./flag_values.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(numberFlag("dt", "3/499", { above: 0, fraction: true }), 3 / 499);
 * assert.throws(() => numberFlag("coupling", "0", { above: 0, max: 1 }),
 *   /invalid value for --coupling: "0". Allowed: a number in \(0, 1\]\./);
 * ```
 */
export function numberFlag(
  flag: string,
  text: string,
  range: { integer?: boolean; min?: number; above?: number; max?: number; fraction?: boolean },
): number {
  const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  const t = text.trim();
  let value = decimal.test(t) ? Number(t) : NaN;
  const parts = range.fraction ? /^([^/]+)\/([^/]+)$/.exec(t) : null;
  if (parts !== null && decimal.test(parts[1].trim()) && decimal.test(parts[2].trim())) {
    value = Number(parts[1]) / Number(parts[2]);
  }
  const ok = Number.isFinite(value) &&
    (!range.integer || Number.isSafeInteger(value)) &&
    (range.min === undefined || value >= range.min) &&
    (range.above === undefined || value > range.above) &&
    (range.max === undefined || value <= range.max);
  if (!ok) {
    throw new UsageError(
      `invalid value for --${flag}: ${JSON.stringify(text)}. Allowed: ${
        _allowedNumbers(range, value)
      }.`,
    );
  }
  return value;
}

/** The numbers a range allows, in words; `value` (the one refused) flags a huge integer. */
function _allowedNumbers(
  range: { integer?: boolean; min?: number; above?: number; max?: number; fraction?: boolean },
  value: number,
): string {
  const kind = range.integer
    ? "an integer"
    : range.fraction
    ? "a number or a fraction a/b"
    : "a number";
  const lo = range.above !== undefined ? `(${range.above}` : `[${range.min}`;
  return range.max !== undefined && (range.above ?? range.min) !== undefined
    ? `${kind} in ${lo}, ${range.max}]`
    : range.above !== undefined
    ? `${kind} > ${range.above}`
    : range.min !== undefined
    ? `${kind} >= ${range.min}` +
      (Number.isInteger(value) && !Number.isSafeInteger(value) ? " and <= 2^53 − 1" : "")
    : range.integer
    ? "a safe integer (|n| <= 2^53 − 1)"
    : kind;
}
