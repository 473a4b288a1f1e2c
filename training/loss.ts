/**
 * Mean squared error between saved solver outputs and targets, with its
 * cotangent. Both arrays are row-major `[saved, batch, dim]`.
 *
 * With weights `w` (all ones when absent) expanded to one per element,
 *
 *     L = Σᵢ wᵢ (pᵢ − yᵢ)² / Σᵢ wᵢ,        ∂L/∂pᵢ = 2 wᵢ (pᵢ − yᵢ) / Σᵢ wᵢ,
 *
 * so unit weights give the plain mean over every element (numerics.md §5:
 * "MSE over every saved step"), and 0/1 weights give the mean over the
 * elements kept, e.g. a saved row 0 that holds the fixed initial state.
 *
 * @module
 */

import { invalidArgument } from "../solvers/checks.ts";

/** Options of {@link mseLoss} and {@link mseLossVjp}. */
export interface MseOptions {
  /**
   * Non-negative weights, either one per element (length `saved·batch·dim`)
   * or one per saved row (length {@link MseOptions.saved}); they need not sum
   * to one, the loss divides by their total.
   */
  weights?: Float64Array;
  /**
   * The number of saved rows of the `[saved, batch, dim]` layout. Needed only
   * to read per-row weights; when given, the array length must be a multiple
   * of it.
   */
  saved?: number;
}

/**
 * The weighted mean squared error between `prediction` and `target`.
 *
 * @param prediction The saved outputs, `[saved, batch, dim]` row-major.
 * @param target The targets, same shape.
 * @param options Optional weights (per element or per saved row).
 * @returns `Σ w (p − y)² / Σ w`.
 *
 * @example
 * ```ts
 * import { mseLoss } from "./loss.ts";
 * import assert from "node:assert/strict";
 *
 * const p = Float64Array.of(1, 2, 3, 4);
 * const y = Float64Array.of(1, 2, 3, 6);
 * assert.equal(mseLoss(p, y), 1); // (0 + 0 + 0 + 4) / 4
 * // Two saved rows of two elements; drop row 0, average over row 1 only.
 * assert.equal(mseLoss(p, y, { saved: 2, weights: Float64Array.of(0, 1) }), 2);
 * ```
 */
export function mseLoss(
  prediction: Float64Array,
  target: Float64Array,
  options: MseOptions = {},
): number {
  const rowSize = _checkShapes(prediction, target, options);
  const n = prediction.length;
  const weights = options.weights;
  let sum = 0;
  if (weights === undefined) {
    for (let i = 0; i < n; i++) {
      const e = prediction[i] - target[i];
      sum += e * e;
    }
    return sum / n;
  }
  const total = _weightTotal(weights, rowSize);
  if (rowSize === 1) {
    for (let i = 0; i < n; i++) {
      const e = prediction[i] - target[i];
      sum += weights[i] * e * e;
    }
  } else {
    for (let r = 0; r < weights.length; r++) {
      const w = weights[r];
      for (let i = r * rowSize, end = i + rowSize; i < end; i++) {
        const e = prediction[i] - target[i];
        sum += w * e * e;
      }
    }
  }
  return sum / total;
}

/**
 * The weighted mean squared error and its cotangent: returns the same value
 * as {@link mseLoss} and overwrites `cotangent` with `∂L/∂prediction`
 * `= 2 w (p − y) / Σ w`, ready to seed a solver's backward pass.
 *
 * @param prediction The saved outputs, `[saved, batch, dim]` row-major.
 * @param target The targets, same shape.
 * @param cotangent Output buffer, same length as `prediction`; overwritten.
 * @param options Optional weights (per element or per saved row).
 * @returns The loss `Σ w (p − y)² / Σ w`.
 *
 * @example
 * ```ts
 * import { mseLossVjp } from "./loss.ts";
 * import assert from "node:assert/strict";
 *
 * const p = Float64Array.of(1, 2, 3, 4);
 * const y = Float64Array.of(1, 2, 3, 6);
 * const bar = new Float64Array(4);
 * assert.equal(mseLossVjp(p, y, bar), 1);
 * assert.deepEqual([...bar], [0, 0, 0, -1]); // 2 · (4 − 6) / 4
 * ```
 */
export function mseLossVjp(
  prediction: Float64Array,
  target: Float64Array,
  cotangent: Float64Array,
  options: MseOptions = {},
): number {
  const rowSize = _checkShapes(prediction, target, options);
  const n = prediction.length;
  if (cotangent.length !== n) {
    invalidArgument("cotangent", cotangent, `a Float64Array of length ${n} (as prediction)`);
  }
  const weights = options.weights;
  let sum = 0;
  if (weights === undefined) {
    const scale = 2 / n;
    for (let i = 0; i < n; i++) {
      const e = prediction[i] - target[i];
      sum += e * e;
      cotangent[i] = scale * e;
    }
    return sum / n;
  }
  const total = _weightTotal(weights, rowSize);
  const scale = 2 / total;
  if (rowSize === 1) {
    for (let i = 0; i < n; i++) {
      const e = prediction[i] - target[i];
      const we = weights[i] * e;
      sum += we * e;
      cotangent[i] = scale * we;
    }
  } else {
    for (let r = 0; r < weights.length; r++) {
      const w = weights[r];
      for (let i = r * rowSize, end = i + rowSize; i < end; i++) {
        const e = prediction[i] - target[i];
        const we = w * e;
        sum += we * e;
        cotangent[i] = scale * we;
      }
    }
  }
  return sum / total;
}

/** Validates the arrays and weights; returns the elements per weight. */
function _checkShapes(
  prediction: Float64Array,
  target: Float64Array,
  options: MseOptions,
): number {
  const n = prediction.length;
  if (n === 0) invalidArgument("prediction", prediction, "a non-empty Float64Array");
  if (target.length !== n) {
    invalidArgument("target", target, `a Float64Array of length ${n} (as prediction)`);
  }
  const saved = options.saved;
  if (saved !== undefined && (!Number.isInteger(saved) || saved < 1 || n % saved !== 0)) {
    invalidArgument(
      "options.saved",
      saved,
      `a positive integer dividing the prediction length ${n}`,
    );
  }
  const weights = options.weights;
  if (weights === undefined || weights.length === n) return 1;
  if (saved !== undefined && weights.length === saved) return n / saved;
  invalidArgument(
    "options.weights",
    weights,
    saved === undefined
      ? `a Float64Array of length ${n} (one per element), or one per saved row with options.saved set`
      : `a Float64Array of length ${n} (one per element) or ${saved} (one per saved row)`,
  );
}

/** Σ of the weights expanded to elements; refuses negative, non-finite or all-zero weights. */
function _weightTotal(weights: Float64Array, rowSize: number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w >= 0 && w < Infinity)) {
      invalidArgument(`options.weights[${i}]`, w, "a finite number >= 0");
    }
    total += w;
  }
  if (!(total > 0)) invalidArgument("options.weights", weights, "at least one weight > 0");
  return total * rowSize;
}
