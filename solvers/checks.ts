/**
 * Argument checking with messages that name the argument, the value received
 * and what is allowed.
 *
 * @module
 */

/** Formats a value for an error message, briefly. */
function describe(value: unknown): string {
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name} of length ${(value as Float64Array).length}`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  } catch {
    return String(value);
  }
}

/**
 * An argument refused by a check: a `RangeError` whose `data` holds what its
 * message says (the argument's name, the value received as the message
 * shows it, and what is allowed), so that a program can say it in its own
 * words (name its flag) without parsing the message.
 *
 * @example
 * ```ts
 * import { ArgumentError } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new ArgumentError({ argument: "steps", got: "0", expected: "an integer >= 1" });
 * assert.ok(e instanceof RangeError);
 * assert.equal(e.message, "Invalid steps: got 0; expected an integer >= 1.");
 * ```
 */
export class ArgumentError extends RangeError {
  /** The kind of failure, as in results.ts. */
  readonly kind = "invalid_argument";
  /** The argument's name, the value received (formatted) and what is allowed. */
  readonly data: { argument: string; got: string; expected: string };

  /**
   * Makes the error.
   *
   * @param data The argument's name, the value received (formatted) and what is allowed.
   */
  constructor(data: { argument: string; got: string; expected: string }) {
    super(`Invalid ${data.argument}: got ${data.got}; expected ${data.expected}.`);
    this.name = "ArgumentError";
    this.data = data;
  }
}

/**
 * Throws an {@link ArgumentError} saying that `name` received `value` but
 * only `allowed` is accepted.
 *
 * @param name The argument's name, as the caller wrote it.
 * @param value The value received.
 * @param allowed What the argument accepts, as a phrase.
 * @returns Never: it always throws.
 *
 * @example
 * ```ts
 * import { ArgumentError, invalidArgument } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => invalidArgument("steps", 0, "a positive integer"), /steps.*0.*positive/);
 * assert.throws(
 *   () => invalidArgument("solver", "rk5", "one of rk4, dopri5"),
 *   (e: ArgumentError) => e.data.argument === "solver" && e.data.got === '"rk5"',
 * );
 * ```
 */
export function invalidArgument(name: string, value: unknown, allowed: string): never {
  throw new ArgumentError({ argument: name, got: describe(value), expected: allowed });
}

/**
 * Checks that every entry of `values` is finite; otherwise throws naming the
 * first bad index.
 *
 * @param name The argument's name.
 * @param values The array to check.
 *
 * @example
 * ```ts
 * import { requireFinite } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => requireFinite("y0", Float64Array.of(1, NaN)), /y0\[1\].*NaN/);
 * ```
 */
export function requireFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      invalidArgument(`${name}[${i}]`, values[i], "finite numbers only");
    }
  }
}

/**
 * Checks the cotangents given to `backward()`: a finite Float64Array shaped
 * like the saved outputs.
 *
 * @param cotangents The cotangents.
 * @param length The length of the saved outputs.
 *
 * @example
 * ```ts
 * import { checkCotangents } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * checkCotangents(Float64Array.of(1, 2), 2);
 * assert.throws(() => checkCotangents(Float64Array.of(1), 2), /cotangents.*of length 2/);
 * ```
 */
export function checkCotangents(cotangents: Float64Array, length: number): void {
  if (!(cotangents instanceof Float64Array) || cotangents.length !== length) {
    invalidArgument("cotangents", cotangents, `a Float64Array shaped like ys, of length ${length}`);
  }
  requireFinite("cotangents", cotangents);
}

/**
 * Checks that `value` is an integer at least `min`.
 *
 * @param name The argument's name.
 * @param value The value to check.
 * @param min The smallest integer allowed.
 * @returns The value, typed as a number.
 *
 * @example
 * ```ts
 * import { requireInteger } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requireInteger("steps", 3, 1), 3);
 * assert.throws(() => requireInteger("steps", 0, 1), /steps.*0.*integer >= 1/);
 * ```
 */
export function requireInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    invalidArgument(name, value, `an integer >= ${min}`);
  }
  return value;
}

/**
 * Checks a coupling λ of the reversible scheme (numerics.md §2): a number in
 * (0, 1]. The one check of λ; every place that takes a coupling calls it.
 *
 * @param value The coupling to check.
 * @returns The value, typed as a number.
 *
 * @example
 * ```ts
 * import { requireCoupling } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requireCoupling(0.999), 0.999);
 * assert.equal(requireCoupling(1), 1);
 * assert.throws(() => requireCoupling(0), /Invalid coupling: got 0; expected a number λ in \(0, 1\]/);
 * ```
 */
export function requireCoupling(value: unknown): number {
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    invalidArgument("coupling", value, "a number λ in (0, 1]");
  }
  return value;
}

/**
 * Checks that an options object holds only the keys `allowed`: a misspelt
 * or foreign option (`lambda` for `coupling`, `weight_decay`) would
 * otherwise be ignored without a word and its default used.
 *
 * @param name The argument's name (the keys are reported as `name.key`).
 * @param options The object, or `undefined`.
 * @param allowed The keys it may hold.
 *
 * @example
 * ```ts
 * import { requireKnownKeys } from "./checks.ts";
 * import assert from "node:assert/strict";
 *
 * requireKnownKeys("options", { coupling: 0.5 }, ["coupling"]);
 * assert.throws(
 *   () => requireKnownKeys("options", { lambda: 0.5 }, ["coupling"]),
 *   /Invalid options\.lambda: got 0\.5; expected one of the keys coupling/,
 * );
 * ```
 */
export function requireKnownKeys(
  name: string,
  options: unknown,
  allowed: readonly string[],
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    invalidArgument(name, options, `an object with the keys ${allowed.join(", ")}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      invalidArgument(
        `${name}.${key}`,
        (options as Record<string, unknown>)[key],
        `one of the keys ${allowed.join(", ")}`,
      );
    }
  }
}
