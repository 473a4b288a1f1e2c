/**
 * The fixed-step section's one measurement: one gradient of the white-dwarf
 * setting (solve saving every step, MSE cotangent, backward), timed whole.
 *
 * @module
 */

import { type GradientSpec, type SchemeSpec, solve } from "../../mod.ts";
import type { Mlp } from "../../solvers/fields/mlp.ts";
import { mseLossVjp } from "../../training/loss.ts";
import { backwardOrError } from "../failure.ts";
import { STEP } from "./setting.ts";

/**
 * One gradient: solve over [0, STEP·N] from y0 = [1, 0], MSE cotangent,
 * backward. An error thrown by `backward()` is returned (grad null), not
 * thrown; one thrown by the solve propagates.
 *
 * @param scheme The scheme integrated.
 * @param field The vector field.
 * @param params Its parameters θ.
 * @param n Number of steps N.
 * @param spec The gradient method.
 * @param target The loss's target, (N + 1)·dim values.
 * @param cotangent Scratch for ∂L/∂ys, (N + 1)·dim values.
 * @returns The time in ms, the solution, the loss, and the gradient or the error.
 *
 * @example
 * ```ts
 * import { gradientOnce } from "./gradient.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import { Mlp } from "../../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 * const field = new Mlp({ dim: 2, widths: [10], activation: "tanh", timeDependent: true });
 * const size = 11 * field.dim;
 * const once = gradientOnce(reversible(rk4), field, field.init(0), 10, "reversible",
 *   new Float64Array(size), new Float64Array(size));
 * assert.equal(once.error, null);
 * assert.ok(once.ms > 0 && once.loss > 0);
 * assert.equal(once.grad!.params.length, field.paramCount);
 * ```
 */
export function gradientOnce(
  scheme: SchemeSpec,
  field: Mlp,
  params: Float64Array,
  n: number,
  spec: GradientSpec,
  target: Float64Array,
  cotangent: Float64Array,
) {
  const start = performance.now();
  const sol = solve({
    field,
    y0: Float64Array.of(1, 0),
    params,
    scheme,
    t0: 0,
    t1: STEP * n,
    steps: n,
    saveAt: { t0: true, steps: true },
    gradient: spec,
  });
  const loss = mseLossVjp(sol.ys, target, cotangent);
  const { grad, error } = backwardOrError(sol, cotangent);
  const ms = performance.now() - start;
  return { ms, sol, loss, grad, error };
}
