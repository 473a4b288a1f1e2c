/**
 * A gradient that `backward()` refused. Both CPU sections record such a
 * configuration as a failed row with its reason, never a crash, and rerun a
 * refused reversible gradient with the reconstruction check off to show what
 * it would have returned.
 *
 * @module
 */

import type { Gradient, Solution } from "../mod.ts";

/** What a run with the reconstruction check switched off found, for a row that threw. */
export interface Diagnostic {
  /** `stats.reconstructionError` of the unchecked run. */
  reconstructionError: number | null;
  /** Relative error of the gradient it returned against direct (same scheme, λ and size). */
  gradientError: number | null;
  /** `stats.peakBytes` (the memory does not depend on the check). */
  peakBytes: number;
}

/**
 * Runs `backward()` and catches what it throws: a refused gradient is a
 * result to report, not a crash.
 *
 * @param sol A solve with a gradient method.
 * @param cotangent ∂L/∂ys.
 * @returns The gradient and a null error, or a null gradient and the error.
 *
 * @example
 * ```ts
 * import { backwardOrError } from "./failure.ts";
 * import { plain, rk4, solve } from "../mod.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 * const field = new Mlp({ dim: 1, widths: [] });
 * const sol = solve({ field, y0: Float64Array.of(1), params: field.init(0),
 *   scheme: plain(rk4), t1: 1, steps: 4, gradient: "direct" });
 * const { grad, error } = backwardOrError(sol, Float64Array.of(1));
 * assert.equal(error, null);
 * assert.equal(grad!.params.length, field.paramCount);
 * ```
 */
export function backwardOrError(
  sol: Solution,
  cotangent: Float64Array,
): { grad: Gradient | null; error: Error | null } {
  try {
    return { grad: sol.backward(cotangent), error: null };
  } catch (e) {
    return { grad: null, error: e instanceof Error ? e : new Error(String(e)) };
  }
}

/**
 * The diagnostic of an unchecked rerun's gradient; its error against direct
 * is filled in once direct has run.
 *
 * @param grad The gradient the unchecked rerun returned.
 * @returns Its reconstruction error and held bytes.
 *
 * @example
 * ```ts
 * import { diagnosticOf } from "./failure.ts";
 * import type { Gradient } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const grad = { stats: { reconstructionError: 3e-2, peakBytes: 2848 } } as unknown as Gradient;
 * assert.deepEqual(diagnosticOf(grad), {
 *   reconstructionError: 3e-2,
 *   gradientError: null,
 *   peakBytes: 2848,
 * });
 * ```
 */
export function diagnosticOf(grad: Gradient): Diagnostic {
  return {
    reconstructionError: grad.stats.reconstructionError ?? null,
    gradientError: null,
    peakBytes: grad.stats.peakBytes,
  };
}
