/**
 * The adaptive section's one measurement: one gradient over a span (adaptive
 * solve saving every accepted step, MSE cotangent, backward), timed whole;
 * and the bytes of one reversible state, the unit of the K row's accounting.
 *
 * @module
 */

import {
  bosh3,
  type Gradient,
  type GradientSpec,
  reversible,
  type SchemeSpec,
  type Solution,
  solve,
} from "../../mod.ts";
import type { Mlp } from "../../solvers/fields/mlp.ts";
import { backwardOrError } from "../failure.ts";
import { controller } from "./configs.ts";
import { buildScheme } from "../../solvers/schemes/spec.ts";
import { MemoryMeter } from "../../solvers/memory.ts";

/** One gradient's time, solution, loss, and gradient or error. */
export interface Once {
  /** Milliseconds: solve, cotangent and backward. */
  ms: number;
  /** The solution. */
  sol: Solution;
  /** The loss. */
  loss: number;
  /** The gradient, or null when `backward()` threw. */
  grad: Gradient | null;
  /** What `backward()` threw, or null. */
  error: Error | null;
}

/**
 * One gradient: adaptive solve saving t0 and every accepted step, the MSE
 * cotangent against a zero target, backward. An error thrown by `backward()`
 * is returned, not thrown; one thrown by the solve propagates.
 *
 * @param field The vector field.
 * @param params Its parameters θ.
 * @param y0 The initial state.
 * @param span The end of the span [0, T].
 * @param scheme The scheme integrated.
 * @param spec The gradient method.
 * @returns The time, solution, loss, and gradient or error.
 *
 * @example
 * ```ts
 * import { gradientOnce } from "./gradient.ts";
 * import { chaoticField } from "./field.ts";
 * import { bosh3, reversible } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const { field, params } = chaoticField();
 * const once = gradientOnce(field, params, Float64Array.of(1, 0, 0, 1), 0.25,
 *   reversible(bosh3), "direct");
 * assert.equal(once.error, null);
 * assert.ok(once.sol.trajectories![0].accepted > 0);
 * ```
 */
export function gradientOnce(
  field: Mlp,
  params: Float64Array,
  y0: Float64Array,
  span: number,
  scheme: SchemeSpec,
  spec: GradientSpec,
): Once {
  const start = performance.now();
  const sol = solve({
    field,
    y0,
    params,
    scheme,
    t0: 0,
    t1: span,
    controller: controller(),
    saveAt: { t0: true, steps: true },
    gradient: spec,
  });
  // L = mean(ys²) (MSE against a zero target over every saved point), ∂L/∂ys = 2 ys / size.
  const ys = sol.ys, size = ys.length;
  const cotangent = new Float64Array(size);
  let loss = 0;
  for (let i = 0; i < size; i++) {
    loss += ys[i] * ys[i];
    cotangent[i] = (2 * ys[i]) / size;
  }
  loss /= size;
  const { grad, error } = backwardOrError(sol, cotangent);
  return { ms: performance.now() - start, sol, loss, grad, error };
}

/**
 * Bytes of one state of reversible Bosh3 for this field and one trajectory.
 *
 * @param field The vector field.
 * @returns Bytes of `[y, z]`.
 *
 * @example
 * ```ts
 * import { reversibleStateBytes } from "./gradient.ts";
 * import { chaoticField } from "./field.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reversibleStateBytes(chaoticField().field), 2 * 4 * 8);
 * ```
 */
export function reversibleStateBytes(field: Mlp): number {
  const { scheme } = buildScheme(reversible(bosh3), field, 1, new MemoryMeter());
  return scheme.stateCount * field.dim * 8;
}
