/**
 * `solve()`: one entry point combining a scheme, a time grid, the saved
 * points and a gradient method, as Diffrax's `diffeqsolve` does.
 *
 * @module
 */

import type { VectorField, WorkCounts } from "./vector_field.ts";
import { countingField } from "./vector_field.ts";
import { invalidArgument, requireFinite, requireInteger } from "./errors.ts";
import { explicitGrid, type SaveAt, SaveSlots, type TimeGrid, uniformGrid } from "./grid.ts";
import { MemoryMeter } from "./memory.ts";
import { buildScheme, type SchemeSpec } from "./schemes/spec.ts";
import type { GradientRun, Problem } from "./gradients/problem.ts";
import { reversibleGradient } from "./gradients/reversible.ts";
import { directGradient } from "./gradients/direct.ts";
import { checkpointedGradient, defaultCheckpoints } from "./gradients/checkpointed.ts";
import { backsolveGradient } from "./gradients/backsolve.ts";

/** Names of the gradient methods. */
export type GradientMethodName = "reversible" | "direct" | "checkpointed" | "backsolve";

/**
 * How gradients are taken. A name alone uses the defaults; the object forms
 * set `checkpointEvery` (reversible: store the state every K steps to bound
 * reconstruction drift) or `checkpoints` (checkpointed: number of stored
 * states, default `floor(−1.5 + √(2N + 0.25)) + 1`).
 */
export type GradientSpec =
  | GradientMethodName
  | { readonly method: "reversible"; readonly checkpointEvery?: number }
  | { readonly method: "checkpointed"; readonly checkpoints?: number }
  | { readonly method: "direct" | "backsolve" };

/** Everything `solve()` needs. Give either `t0`, `t1`, `steps` or `grid`. */
export interface SolveOptions {
  /** The vector field. */
  field: VectorField;
  /** Initial states `[batch, dim]`, row-major. */
  y0: Float64Array;
  /** Parameters θ (default: none). */
  params?: Float64Array;
  /** The scheme: `plain(t)`, `reversible(t, { coupling })`, `reversibleHeun()`, `leapfrog()`. */
  scheme: SchemeSpec;
  /** Start time (with `t1` and `steps`). */
  t0?: number;
  /** End time. */
  t1?: number;
  /** Number of uniform steps. */
  steps?: number;
  /** An explicit increasing grid, instead of `t0`, `t1`, `steps`. */
  grid?: ArrayLike<number>;
  /** Which grid points are returned (default `{ t1: true }`). */
  saveAt?: SaveAt;
  /** How `backward()` computes gradients; without it the solve is forward only. */
  gradient?: GradientSpec;
}

/** What a gradient computation did. */
export interface GradientStats {
  /** The gradient method used. */
  method: GradientMethodName;
  /** Steps of the solve. */
  steps: number;
  /** Vector-field evaluations, forward solve and backward pass together. */
  evaluations: number;
  /** Vector-field VJPs made by the backward pass. */
  vjps: number;
  /**
   * Peak bytes held by the method, forward and backward: states,
   * checkpoints, tapes, stage buffers, cotangents. The saved outputs and the
   * returned gradients are the caller's and are not counted.
   */
  peakBytes: number;
  /** Reversible methods: relative ∞-norm distance of the rebuilt `y0` from the true `y0`. */
  reconstructionError?: number;
}

/** Gradients of a scalar loss with respect to `y0` and `θ`. */
export interface Gradient {
  /** `∂L/∂y0`, `[batch, dim]`. */
  y0: Float64Array;
  /** `∂L/∂θ`. */
  params: Float64Array;
  /** Work and memory. */
  stats: GradientStats;
}

/** The result of `solve()`. */
export interface Solution {
  /** Times of the saved points. */
  ts: Float64Array;
  /** Saved states `[saved, batch, dim]`. */
  ys: Float64Array;
  /** Number of trajectories. */
  batch: number;
  /** State dimension. */
  dim: number;
  /** Forward work: steps and evaluations. */
  stats: { steps: number; evaluations: number };
  /**
   * Back-propagates cotangents of the saved outputs (`∂L/∂ys`, same shape as
   * `ys`) with the gradient method chosen in `solve()`. May be called again
   * with other cotangents.
   */
  backward(cotangents: Float64Array): Gradient;
}

function parseGradient(spec: GradientSpec, steps: number): {
  method: GradientMethodName;
  checkpointEvery: number;
  checkpoints: number;
} {
  const names = ["reversible", "direct", "checkpointed", "backsolve"];
  const object = typeof spec === "string" ? { method: spec } : spec;
  if (object === null || typeof object !== "object" || !names.includes(object.method)) {
    invalidArgument(
      "gradient",
      spec,
      `one of ${names.map((n) => `"${n}"`).join(", ")} or { method, … }`,
    );
  }
  const o = object as {
    method: GradientMethodName;
    checkpointEvery?: number;
    checkpoints?: number;
  };
  const checkpointEvery = o.checkpointEvery === undefined
    ? 0
    : requireInteger("gradient.checkpointEvery", o.checkpointEvery, 1);
  const checkpoints = o.checkpoints === undefined
    ? defaultCheckpoints(steps)
    : requireInteger("gradient.checkpoints", o.checkpoints, 1);
  return { method: o.method, checkpointEvery, checkpoints };
}

function buildGrid(options: SolveOptions): TimeGrid {
  if (options.grid !== undefined) {
    for (const key of ["t0", "t1", "steps"] as const) {
      if (options[key] !== undefined) {
        invalidArgument(key, options[key], "undefined when an explicit grid is given");
      }
    }
    return explicitGrid(options.grid);
  }
  return uniformGrid(options.t0 ?? 0, options.t1 as number, options.steps as number);
}

/**
 * Solves `y' = f(t, y; θ)` from `y0` over a time grid with a scheme, and
 * returns the saved states with a `backward()` that computes exact gradients
 * with the chosen method.
 *
 * @param options The field, initial states, parameters, scheme, grid, saved points and gradient method.
 * @returns The solution.
 *
 * @example A reversible gradient of y(1) for y' = θ y
 * ```ts
 * import { solve } from "./solve.ts";
 * import { reversible } from "./schemes/spec.ts";
 * import { rk4 } from "./tableaux.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const sol = solve({
 *   field: linearField(1),
 *   y0: Float64Array.of(1),
 *   params: Float64Array.of(-0.5),
 *   scheme: reversible(rk4),
 *   t0: 0, t1: 1, steps: 100,
 *   gradient: "reversible",
 * });
 * assert.ok(Math.abs(sol.ys[0] - Math.exp(-0.5)) < 1e-8);
 * const g = sol.backward(Float64Array.of(1));
 * assert.ok(Math.abs(g.params[0] - Math.exp(-0.5)) < 1e-8); // d/dθ e^θ
 * assert.ok(g.stats.reconstructionError! < 1e-12);
 * ```
 */
export function solve(options: SolveOptions): Solution {
  if (options === null || typeof options !== "object") {
    invalidArgument("options", options, "an object { field, y0, scheme, … }");
  }
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
  const grid = buildGrid(options);
  const saved = new SaveSlots(options.saveAt ?? { t1: true }, grid.steps);
  const batch = y0.length / dim;
  const gradient = options.gradient === undefined
    ? null
    : parseGradient(options.gradient, grid.steps);

  const counts: WorkCounts = { evaluations: 0, vjps: 0 };
  const meter = new MemoryMeter();
  const counted = countingField(field, counts);
  const { scheme, baseTableau } = buildScheme(options.scheme, counted, batch, meter);
  if (gradient?.method === "reversible" && !scheme.reversible) {
    invalidArgument(
      "gradient",
      "reversible",
      `a method other than "reversible" for the ${scheme.name} scheme, which has no algebraic inverse; or the scheme reversible(tableau)`,
    );
  }
  const problem: Problem = {
    field: counted,
    scheme,
    baseTableau,
    grid,
    saved,
    params,
    y0: y0.slice(),
    batch,
    meter,
  };
  let run: GradientRun;
  switch (gradient?.method) {
    case "reversible":
      run = reversibleGradient(problem, gradient.checkpointEvery);
      break;
    case "direct":
      run = directGradient(problem);
      break;
    case "checkpointed":
      run = checkpointedGradient(problem, gradient.checkpoints);
      break;
    default:
      run = backsolveGradient(problem);
  }
  const size = batch * dim;
  const ys = new Float64Array(saved.count * size);
  run.forward(ys);
  const ts = new Float64Array(saved.count);
  for (let i = 0; i <= grid.steps; i++) {
    const slot = saved.slot(i);
    if (slot >= 0) ts[slot] = grid.time(i);
  }
  const forwardEvaluations = counts.evaluations;
  return {
    ts,
    ys,
    batch,
    dim,
    stats: { steps: grid.steps, evaluations: forwardEvaluations },
    backward(cotangents) {
      if (gradient === null) {
        throw new Error(
          'backward() needs a gradient method: pass gradient: "reversible" (or "direct", "checkpointed", "backsolve") to solve().',
        );
      }
      if (!(cotangents instanceof Float64Array) || cotangents.length !== ys.length) {
        invalidArgument(
          "cotangents",
          cotangents,
          `a Float64Array shaped like ys, of length ${ys.length}`,
        );
      }
      requireFinite("cotangents", cotangents);
      counts.evaluations = 0;
      counts.vjps = 0;
      const result = run.backward(cotangents);
      const stats: GradientStats = {
        method: gradient.method,
        steps: grid.steps,
        evaluations: forwardEvaluations + counts.evaluations,
        vjps: counts.vjps,
        peakBytes: meter.peak,
      };
      if (result.reconstructionError !== undefined) {
        stats.reconstructionError = result.reconstructionError;
      }
      return { y0: result.y0, params: result.params, stats };
    },
  };
}
