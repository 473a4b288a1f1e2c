/**
 * The checks a model file's fields go through as it is parsed: each check
 * returns the value with its type, or throws a {@link ModelFileError} that
 * names the file, the field's path, what was found and what was expected.
 *
 * @module
 */

import { ModelFileError } from "./model_format.ts";

/**
 * Checks fields of one file, naming the file and the field in each refusal.
 *
 * @example
 * ```ts
 * import { FieldChecker } from "./model_check.ts";
 * import assert from "node:assert/strict";
 *
 * const c = new FieldChecker("m.json");
 * assert.equal(c.number("config.lr", 0.01, { above: 0 }), 0.01);
 * assert.throws(() => c.number("config.lr", -1, { above: 0 }),
 *   /m\.json: config\.lr is -1; expected a finite number > 0\./);
 * ```
 */
export class FieldChecker {
  /**
   * Creates a checker for one file.
   *
   * @param path The file, named in every message.
   *
   * @example
   * ```ts
   * import { FieldChecker } from "./model_check.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new FieldChecker("m.json").path, "m.json");
   * ```
   */
  constructor(readonly path: string) {}

  /** Refuses the file: `field` holds `value` where `expected` was due. */
  fail(field: string, value: unknown, expected: string): never {
    throw new ModelFileError(
      this.path,
      `${field} is ${describeValue(value)}; expected ${expected}. The file was edited or ` +
        `damaged; use another model file or train again.`,
    );
  }

  /** A JSON object (not null, not an array). */
  object(field: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(field, value, "an object");
    }
    return value as Record<string, unknown>;
  }

  /** A finite number, within `range` when given. */
  number(
    field: string,
    value: unknown,
    range: { min?: number; max?: number; above?: number; integer?: boolean } = {},
  ): number {
    const ok = typeof value === "number" && Number.isFinite(value) &&
      (range.min === undefined || value >= range.min) &&
      (range.max === undefined || value <= range.max) &&
      (range.above === undefined || value > range.above) &&
      (!range.integer || Number.isSafeInteger(value));
    if (!ok) {
      const kind = range.integer ? "an integer" : "a finite number";
      const low = range.above ?? range.min;
      const lo = range.above !== undefined ? `(${range.above}` : `[${range.min}`;
      this.fail(
        field,
        value,
        low !== undefined && low === range.max
          ? `${range.max}`
          : low !== undefined && range.max !== undefined
          ? `${kind} in ${lo}, ${range.max}]`
          : range.above !== undefined
          ? `${kind} > ${range.above}`
          : range.min !== undefined
          ? `${kind} >= ${range.min}`
          : range.max !== undefined
          ? `${kind} <= ${range.max}`
          : kind,
      );
    }
    return value as number;
  }

  /** An array of finite numbers, of `length` when given. */
  numbers(field: string, value: unknown, length?: number): number[] {
    if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
      this.fail(
        field,
        value,
        length === undefined ? "an array of numbers" : `an array of ${length} numbers`,
      );
    }
    for (let i = 0; i < value.length; i++) this.number(`${field}[${i}]`, value[i]);
    return value;
  }

  /** A string. */
  string(field: string, value: unknown): string {
    if (typeof value !== "string") this.fail(field, value, "a string");
    return value;
  }

  /** One of the `allowed` strings. */
  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
      this.fail(field, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
    }
    return value as T;
  }

  /** true or false. */
  boolean(field: string, value: unknown): boolean {
    if (typeof value !== "boolean") this.fail(field, value, "true or false");
    return value;
  }
}

/**
 * A field's value as a message shows it: `missing`, a non-finite number by
 * name, an array by its length, anything else as JSON cut to 60 characters.
 *
 * @param value The value found.
 * @returns The description.
 *
 * @example
 * ```ts
 * import { describeValue } from "./model_check.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(describeValue(undefined), "missing");
 * assert.equal(describeValue([1, 2, 3]), "an array of length 3");
 * assert.equal(describeValue("cpu"), '"cpu"');
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
