/**
 * Butcher tableaux of explicit Runge–Kutta methods, as data, and their
 * validation (numerics.md §1).
 *
 * @module
 */

import { invalidArgument } from "./checks.ts";

/**
 * An explicit Runge–Kutta method `(A, b, c)` with `s` stages. `a[i]` holds the
 * coefficients `a_ij` for `j < i` (row 0 is empty); one base step is
 * `y ↦ y + h Σ_i b_i k_i` with `k_i = f(t + c_i h, y + h Σ_{j<i} a_ij k_j)`.
 */
export interface Tableau {
  /** A short name, e.g. `"rk4"`. */
  readonly name: string;
  /** Order of convergence of the solution weights `b`. */
  readonly order: number;
  /** Strictly lower-triangular coefficients, row `i` of length `i` (or `s` with zeros on and above the diagonal). */
  readonly a: readonly (readonly number[])[];
  /** Solution weights, summing to one. */
  readonly b: readonly number[];
  /** Nodes; `c_i` equals the sum of row `i` of `a`. */
  readonly c: readonly number[];
  /**
   * Weights of the embedded error estimate, `b − b̂` where `b̂` is the
   * lower-order solution; absent when the method has none.
   */
  readonly bError?: readonly number[];
  /** Order of the embedded (lower-order) solution `b̂`, when `bError` is given. */
  readonly errorOrder?: number;
}

/** A validated tableau with `a` stored as a full `s × s` matrix. */
export interface CheckedTableau extends Tableau {
  /** Number of stages `s`. */
  readonly stages: number;
  /** `a` as a dense strictly lower-triangular `s × s` row-major matrix. */
  readonly aDense: Float64Array;
}

const TOLERANCE = 1e-12;

/**
 * Checks a tableau: `b`, `c`, `a` of matching sizes, finite, `A` strictly
 * lower-triangular, row sums of `A` equal to `c`, `Σ b = 1`, and `bError` (if
 * any) of length `s`.
 *
 * @param tableau The tableau to check.
 * @param name The argument name to use in error messages.
 * @returns The tableau with its stage count and a dense copy of `A`.
 *
 * @example
 * ```ts
 * import { checkTableau } from "./tableau.ts";
 * import assert from "node:assert/strict";
 *
 * const heun = { name: "heun", order: 2, a: [[], [1]], b: [0.5, 0.5], c: [0, 1] };
 * assert.equal(checkTableau(heun).stages, 2);
 * assert.throws(() => checkTableau({ ...heun, b: [0.5, 0.6] }), /sum to 1/);
 * ```
 */
export function checkTableau(tableau: Tableau, name = "tableau"): CheckedTableau {
  if (tableau === null || typeof tableau !== "object") {
    invalidArgument(name, tableau, "a Butcher tableau { name, order, a, b, c }");
  }
  const { a, b, c } = tableau;
  if (!Array.isArray(b) || b.length < 1) {
    invalidArgument(`${name}.b`, b, "a non-empty array of weights");
  }
  const s = b.length;
  if (!Array.isArray(c) || c.length !== s) {
    invalidArgument(`${name}.c`, c, `an array of ${s} nodes (one per weight in b)`);
  }
  if (!Array.isArray(a) || a.length !== s) {
    invalidArgument(`${name}.a`, a, `an array of ${s} rows (one per stage)`);
  }
  if (!Number.isInteger(tableau.order) || tableau.order < 1) {
    invalidArgument(`${name}.order`, tableau.order, "an integer >= 1");
  }
  const dense = new Float64Array(s * s);
  for (let i = 0; i < s; i++) {
    const row = a[i];
    if (!Array.isArray(row) || (row.length !== i && row.length !== s)) {
      invalidArgument(
        `${name}.a[${i}]`,
        row,
        `a row of length ${i} (or ${s}, zero from column ${i} on)`,
      );
    }
    let sum = 0;
    for (let j = 0; j < row.length; j++) {
      const v = row[j];
      if (!Number.isFinite(v)) invalidArgument(`${name}.a[${i}][${j}]`, v, "a finite number");
      if (j >= i && v !== 0) {
        invalidArgument(
          `${name}.a[${i}][${j}]`,
          v,
          "0: an explicit method needs a strictly lower-triangular A",
        );
      }
      dense[i * s + j] = v;
      sum += v;
    }
    if (!Number.isFinite(c[i])) invalidArgument(`${name}.c[${i}]`, c[i], "a finite number");
    if (Math.abs(sum - c[i]) > TOLERANCE * Math.max(1, Math.abs(c[i]))) {
      invalidArgument(`${name}.c[${i}]`, c[i], `the sum of row ${i} of A, ${sum}`);
    }
    if (!Number.isFinite(b[i])) invalidArgument(`${name}.b[${i}]`, b[i], "a finite number");
  }
  const total = b.reduce((x, y) => x + y, 0);
  if (Math.abs(total - 1) > TOLERANCE) {
    invalidArgument(`${name}.b`, b, `weights that sum to 1 (they sum to ${total})`);
  }
  if (tableau.bError !== undefined) {
    const e = tableau.bError;
    if (!Array.isArray(e) || e.length !== s || !e.every(Number.isFinite)) {
      invalidArgument(`${name}.bError`, e, `an array of ${s} finite error weights`);
    }
  }
  if (tableau.errorOrder !== undefined) {
    const q = tableau.errorOrder;
    if (tableau.bError === undefined) {
      invalidArgument(`${name}.errorOrder`, q, "undefined unless bError is given");
    }
    // the controller's exponents are 1 / (errorOrder + 1): it must be a real order
    if (!Number.isInteger(q) || q < 1 || q === tableau.order) {
      invalidArgument(
        `${name}.errorOrder`,
        q,
        `an integer >= 1 other than order = ${tableau.order} (the embedded solution's order)`,
      );
    }
  }
  return { ...tableau, stages: s, aDense: dense };
}

/**
 * Which stages influence the solution: stage `i` is live when `b_i ≠ 0` or
 * a live later stage reads it (`a_li ≠ 0`). Dead stages — the embedded
 * error estimate's extra stage of Bosh3, say — need not be evaluated when
 * no error estimate is wanted.
 *
 * @param tableau A checked tableau.
 * @returns One flag per stage.
 *
 * @example Bosh3's fourth stage serves only the error estimate
 * ```ts
 * import { checkTableau, liveStages } from "./tableau.ts";
 * import { bosh3 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(liveStages(checkTableau(bosh3)), [true, true, true, false]);
 * ```
 *
 * @example The midpoint method's `b_0` is 0, but stage 1 reads `k_0`
 * ```ts
 * import { checkTableau, liveStages } from "./tableau.ts";
 * import { midpoint } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(liveStages(checkTableau(midpoint)), [true, true]);
 * ```
 */
export function liveStages(tableau: CheckedTableau): boolean[] {
  const s = tableau.stages;
  const live = new Array<boolean>(s).fill(false);
  for (let i = s - 1; i >= 0; i--) {
    let used = tableau.b[i] !== 0;
    for (let l = i + 1; l < s && !used; l++) used = live[l] && tableau.aDense[l * s + i] !== 0;
    live[i] = used;
  }
  return live;
}
