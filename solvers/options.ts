/**
 * The options of `solve()`, and the checks every solve makes of them before
 * its grid is chosen: the field, the initial states, the parameters, the
 * gradient method and `throwOnFailure`.
 *
 * @module
 */

import type { VectorField } from "./vector_field.ts";
import { invalidArgument, requireFinite, requireInteger, requireKnownKeys } from "./checks.ts";
import type { SaveAt } from "./outputs.ts";
import type { SchemeSpec } from "./schemes/spec.ts";
import type { PidController } from "./controller.ts";
import { type GradientSpec, type ParsedGradient, parseGradient } from "./gradients/spec.ts";

/**
 * Everything `solve()` needs. The time grid is either fixed — `t0`, `t1`,
 * `steps`, or an explicit `grid` — or adaptive: `t0`, `t1` and a
 * `controller` (`pid({ rtol, atol })`), with an optional first step `dt0`.
 */
export interface SolveOptions {
  /** The vector field. */
  field: VectorField;
  /** Initial states `[batch, dim]`, row-major (copied: later changes do not reach the solve). */
  y0: Float64Array;
  /** Parameters θ (default: none; copied, so `backward()` after an update of θ in place is still this solve's gradient). */
  params?: Float64Array;
  /** The scheme: `plain(t)`, `reversible(t, { coupling })`, `reversibleHeun()`, `leapfrog()`. */
  scheme: SchemeSpec;
  /** Start time (default 0). */
  t0?: number;
  /** End time. */
  t1?: number;
  /** Number of uniform steps. */
  steps?: number;
  /** An explicit increasing grid, instead of `t0`, `t1`, `steps`. */
  grid?: ArrayLike<number>;
  /** Adaptive step sizes: each trajectory gets its own steps, status and statistics. */
  controller?: PidController;
  /** First step of an adaptive solve (default: Hairer's heuristic). */
  dt0?: number;
  /** Which outputs are returned (default `{ t1: true }`). */
  saveAt?: SaveAt;
  /** How `backward()` computes gradients; without it the solve is forward only. */
  gradient?: GradientSpec;
  /**
   * Throw when a trajectory fails (default true). When false, the solution
   * carries each trajectory's status and outputs past a failure are NaN.
   * Adaptive steps: each trajectory's gradient covers its solve up to the
   * failure. Fixed steps (whose only failure is overflow): a failed row has
   * no gradient — its cotangents must be zero and its `∂L/∂y0` is zero —
   * and the other rows' gradient is exact (they are solved again without it).
   */
  throwOnFailure?: boolean;
}

/** The keys of {@link SolveOptions}. */
const SOLVE_KEYS = [
  "field",
  "y0",
  "params",
  "scheme",
  "t0",
  "t1",
  "steps",
  "grid",
  "controller",
  "dt0",
  "saveAt",
  "gradient",
  "throwOnFailure",
];

/** What every solve takes from its options once they are checked. */
export interface CheckedOptions {
  /** The field. */
  field: VectorField;
  /** A private copy of the initial states `[batch, dim]`. */
  y0: Float64Array;
  /** A private copy of θ. */
  params: Float64Array;
  /** State dimension. */
  dim: number;
  /** Number of trajectories. */
  batch: number;
  /** The gradient method, or null for a forward-only solve. */
  gradient: ParsedGradient | null;
  /** Whether a failed trajectory throws. */
  throwOnFailure: boolean;
}

/**
 * Checks the options every solve shares (the grid's are checked by the
 * fixed and the adaptive solve) and copies `y0` and θ.
 *
 * @param options The options of `solve()`.
 * @returns The checked parts.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./options.ts";
 * import { reversible } from "./schemes/spec.ts";
 * import { rk4 } from "./tableaux.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const y0 = Float64Array.of(1, 2);
 * const options = { field: linearField(1), y0, params: Float64Array.of(-1), scheme: reversible(rk4), t1: 1, steps: 4 };
 * const checked = checkOptions(options);
 * assert.equal(checked.batch, 2);
 * assert.notEqual(checked.y0, y0);
 * assert.throws(() => checkOptions({ ...options, lambda: 0.5 } as never), /options\.lambda/);
 * ```
 */
export function checkOptions(options: SolveOptions): CheckedOptions {
  if (options === null || typeof options !== "object") {
    invalidArgument("options", options, "an object { field, y0, scheme, … }");
  }
  requireKnownKeys("options", options, SOLVE_KEYS);
  const { field } = options;
  if (
    field === null || typeof field !== "object" || typeof field.evaluate !== "function" ||
    typeof field.vjp !== "function"
  ) {
    invalidArgument("field", field, "a VectorField with evaluate() and vjp()");
  }
  const dim = requireInteger("field.dim", field.dim, 1);
  const y0 = options.y0;
  if (!(y0 instanceof Float64Array) || y0.length === 0 || y0.length % dim !== 0) {
    invalidArgument(
      "y0",
      y0,
      `a Float64Array [batch, dim] whose length is a positive multiple of dim = ${dim}`,
    );
  }
  requireFinite("y0", y0);
  const params = options.params ?? new Float64Array(0);
  if (!(params instanceof Float64Array) || params.length !== field.paramCount) {
    invalidArgument(
      "params",
      params,
      `a Float64Array of length field.paramCount = ${field.paramCount}`,
    );
  }
  requireFinite("params", params);
  const throwOnFailure = options.throwOnFailure ?? true;
  if (typeof throwOnFailure !== "boolean") {
    invalidArgument("throwOnFailure", throwOnFailure, "true or false");
  }
  const gradient = options.gradient === undefined ? null : parseGradient(options.gradient);
  // private copies of θ and y0: backward() may come after the caller updates them in place
  // (an optimizer step), and must give the gradient of the solve that was made
  return {
    field,
    y0: y0.slice(),
    params: params.slice(),
    dim,
    batch: y0.length / dim,
    gradient,
    throwOnFailure,
  };
}
