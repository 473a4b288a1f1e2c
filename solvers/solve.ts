/**
 * `solve()`: one entry point combining a scheme, a time grid (fixed, or
 * adaptive under a step-size controller), the saved outputs and a gradient
 * method, as Diffrax's `diffeqsolve` does.
 *
 * @module
 */

import type { VectorField, WorkCounts } from "./vector_field.ts";
import { countingField } from "./vector_field.ts";
import { invalidArgument, requireFinite, requireInteger, requireKnownKeys } from "./checks.ts";
import { explicitGrid, type TimeGrid, uniformGrid } from "./grid.ts";
import { checkSaveAt, Outputs, type SaveAt, type SavePlan } from "./outputs.ts";
import { MemoryMeter } from "./memory.ts";
import { buildScheme, type SchemeSpec } from "./schemes/spec.ts";
import type { Scheme } from "./schemes/scheme.ts";
import type { CheckedTableau } from "./tableau.ts";
import type { GradientRun, Problem } from "./gradients/problem.ts";
import { ReconstructionDriftError, reversibleGradient } from "./gradients/reversible.ts";
import { directGradient } from "./gradients/direct.ts";
import { checkpointedGradient, defaultCheckpoints } from "./gradients/checkpointed.ts";
import { backsolveGradient } from "./gradients/backsolve.ts";
import type { PidController } from "./controller.ts";
import { adaptiveSolve, failureMessage, type Status } from "./adaptive.ts";

/** Names of the gradient methods. */
export type GradientMethodName = "reversible" | "direct" | "checkpointed" | "backsolve";

/**
 * How gradients are taken. A name alone uses the defaults; the object forms
 * set, for `reversible`, `checkpointEvery` (store the state every K steps to
 * bound reconstruction drift) and `reconstructionTolerance` (the largest
 * relative distance of a rebuilt state from the true one before `backward()`
 * throws, default 1e-6; `Infinity` disables the check), or, for
 * `checkpointed`, `checkpoints` (number of stored states, default
 * `floor(−1.5 + √(2N + 0.25)) + 1`).
 */
export type GradientSpec =
  | GradientMethodName
  | {
    readonly method: "reversible";
    readonly checkpointEvery?: number;
    readonly reconstructionTolerance?: number;
  }
  | { readonly method: "checkpointed"; readonly checkpoints?: number }
  | { readonly method: "direct" | "backsolve" };

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

/** What a gradient computation did. */
export interface GradientStats {
  /** The gradient method used. */
  method: GradientMethodName;
  /** Steps of the solve (summed over trajectories when adaptive). */
  steps: number;
  /** Vector-field evaluations, forward solve and backward pass together (rejected steps included). */
  evaluations: number;
  /** Vector-field VJPs made by the backward pass. */
  vjps: number;
  /**
   * Peak bytes held by the method, forward and backward: states,
   * checkpoints, tapes, stage buffers, cotangents, accepted step times. The
   * saved outputs and the returned gradients are the caller's and are not
   * counted.
   */
  peakBytes: number;
  /**
   * Reversible methods: ∞-norm distance of the rebuilt `y0` (and of every
   * state restored by `checkpointEvery`) from the true one, relative to the
   * larger of `|y(t0)|∞` and `|y(t1)|∞` (so a solve from `y0 = 0` is
   * measured on the solution's size).
   */
  reconstructionError?: number;
}

/** Gradients of a scalar loss with respect to `y0`, `θ` and the output times. */
export interface Gradient {
  /** `∂L/∂y0`, `[batch, dim]`. */
  y0: Float64Array;
  /** `∂L/∂θ`. */
  params: Float64Array;
  /** `∂L/∂saveAt.ts` (empty without interpolated outputs). */
  ts: Float64Array;
  /** Work and memory. */
  stats: GradientStats;
  /** Adaptive solves: each trajectory's own `∂L/∂θ` share and statistics. */
  trajectories?: { params: Float64Array; stats: GradientStats }[];
}

/** Per-trajectory statistics of an adaptive solve. */
export interface TrajectoryStats {
  /** How it ended. */
  status: Status;
  /** Accepted steps. */
  accepted: number;
  /** Rejected steps. */
  rejected: number;
  /** Vector-field evaluations of the forward solve. */
  evaluations: number;
  /** Time reached. */
  tEnd: number;
}

/** The result of `solve()`. */
export interface Solution {
  /**
   * Times of the saved outputs, `[saved]`; for an adaptive solve saving
   * `steps`, `[batch, saved]` (see `tsPerTrajectory`).
   */
  ts: Float64Array;
  /** Whether `ts` is `[batch, saved]`. */
  tsPerTrajectory: boolean;
  /**
   * Saved states `[saved, batch, dim]`. An adaptive solve saving `steps`
   * pads a trajectory with fewer steps by repeating its final state (whose
   * cotangents then flow to that state, so gradients stay exact).
   */
  ys: Float64Array;
  /** Number of trajectories. */
  batch: number;
  /** State dimension. */
  dim: number;
  /** Each trajectory's status (`"success"` unless a solve failed without throwing). */
  status: Status[];
  /** Forward work: steps (summed over trajectories) and evaluations. */
  stats: { steps: number; evaluations: number };
  /** Adaptive solves: each trajectory's steps and status. */
  trajectories?: TrajectoryStats[];
  /**
   * Back-propagates cotangents of the saved outputs (`∂L/∂ys`, same shape as
   * `ys`) with the gradient method chosen in `solve()`. May be called again
   * with other cotangents.
   */
  backward(cotangents: Float64Array): Gradient;
}

interface ParsedGradient {
  method: GradientMethodName;
  checkpointEvery: number;
  reconstructionTolerance: number;
  /** null: the default for the solve's step count. */
  checkpoints: number | null;
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

function parseGradient(spec: GradientSpec): ParsedGradient {
  const names = ["reversible", "direct", "checkpointed", "backsolve"];
  const object = typeof spec === "string" ? { method: spec } : spec;
  if (object === null || typeof object !== "object" || !names.includes(object.method)) {
    invalidArgument(
      "gradient",
      spec,
      `one of ${names.map((n) => `"${n}"`).join(", ")} or { method, … }`,
    );
  }
  const keys: Record<string, string[]> = {
    reversible: ["method", "checkpointEvery", "reconstructionTolerance"],
    checkpointed: ["method", "checkpoints"],
  };
  requireKnownKeys("gradient", object, keys[object.method] ?? ["method"]);
  const o = object as {
    method: GradientMethodName;
    checkpointEvery?: number;
    reconstructionTolerance?: number;
    checkpoints?: number;
  };
  const reconstructionTolerance = o.reconstructionTolerance ?? 1e-6;
  if (typeof reconstructionTolerance !== "number" || !(reconstructionTolerance > 0)) {
    invalidArgument(
      "gradient.reconstructionTolerance",
      reconstructionTolerance,
      "a number > 0 (Infinity disables the check)",
    );
  }
  const checkpointEvery = o.checkpointEvery === undefined
    ? 0
    : requireInteger("gradient.checkpointEvery", o.checkpointEvery, 1);
  const checkpoints = o.checkpoints === undefined
    ? null
    : requireInteger("gradient.checkpoints", o.checkpoints, 1);
  return { method: o.method, checkpointEvery, reconstructionTolerance, checkpoints };
}

function buildGrid(options: SolveOptions): TimeGrid {
  if (options.dt0 !== undefined) {
    invalidArgument("dt0", options.dt0, "undefined unless a controller is given");
  }
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

interface Parts {
  field: VectorField;
  scheme: Scheme;
  baseTableau: CheckedTableau;
  grid: TimeGrid;
  outputs: Outputs;
  params: Float64Array;
  y0: Float64Array;
  batch: number;
  meter: MemoryMeter;
}

function makeProblem(parts: Parts): Problem {
  const n = parts.y0.length;
  const overflowAt = new Float64Array(parts.batch).fill(NaN);
  return { ...parts, before: parts.meter.f64(n), extra: parts.meter.f64(n), overflowAt };
}

function makeRun(problem: Problem, gradient: ParsedGradient | null): GradientRun {
  switch (gradient?.method) {
    case "reversible":
      return reversibleGradient(
        problem,
        gradient.checkpointEvery,
        gradient.reconstructionTolerance,
      );
    case "direct":
      return directGradient(problem);
    case "checkpointed":
      return checkpointedGradient(
        problem,
        gradient.checkpoints ?? defaultCheckpoints(problem.grid.steps),
      );
    default:
      return backsolveGradient(problem);
  }
}

function refuseIrreversible(scheme: Scheme, gradient: ParsedGradient | null): void {
  if (gradient?.method === "reversible" && !scheme.reversible) {
    invalidArgument(
      "gradient",
      "reversible",
      `a method other than "reversible" for the ${scheme.name} scheme, which has no algebraic inverse; or the scheme reversible(tableau)`,
    );
  }
}

function checkCotangents(cotangents: Float64Array, length: number): void {
  if (!(cotangents instanceof Float64Array) || cotangents.length !== length) {
    invalidArgument("cotangents", cotangents, `a Float64Array shaped like ys, of length ${length}`);
  }
  requireFinite("cotangents", cotangents);
}

function noGradient(): never {
  throw new Error(
    'backward() needs a gradient method: pass gradient: "reversible" (or "direct", "checkpointed", "backsolve") to solve().',
  );
}

/** The times of a plan's slots on one trajectory's grid. */
function slotTimes(
  plan: SavePlan,
  grid: TimeGrid,
  stepSlots: number,
  tEnd: number,
  out: Float64Array,
): void {
  let k = 0;
  if (plan.t0) out[k++] = grid.time(0);
  for (const t of plan.ts) out[k++] = t;
  if (plan.steps) {
    for (let i = 1; i <= stepSlots; i++) out[k++] = grid.time(Math.min(i, grid.steps));
  }
  if (plan.t1) out[k++] = tEnd;
}

/**
 * Solves `y' = f(t, y; θ)` from `y0` over a fixed or adaptive time grid with
 * a scheme, and returns the saved outputs with a `backward()` that computes
 * exact gradients with the chosen method.
 *
 * @param options The field, initial states, parameters, scheme, grid or controller, saved outputs and gradient method.
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
 *
 * @example Adaptive steps with outputs at chosen times
 * ```ts
 * import { solve } from "./solve.ts";
 * import { reversible } from "./schemes/spec.ts";
 * import { bosh3 } from "./tableaux.ts";
 * import { pid } from "./controller.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const sol = solve({
 *   field: linearField(1),
 *   y0: Float64Array.of(1),
 *   params: Float64Array.of(-1),
 *   scheme: reversible(bosh3),
 *   t0: 0, t1: 2,
 *   controller: pid({ rtol: 1e-8, atol: 1e-8 }),
 *   saveAt: { ts: [0.5, 1.5] },
 *   gradient: "reversible",
 * });
 * assert.equal(sol.status[0], "success");
 * assert.ok(Math.abs(sol.ys[1] - Math.exp(-1.5)) < 1e-6);
 * const g = sol.backward(Float64Array.of(0, 1));
 * assert.ok(Math.abs(g.ts[1] + Math.exp(-1.5)) < 1e-5); // d y(τ)/dτ = −y(τ)
 * ```
 */
export function solve(options: SolveOptions): Solution {
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
  // private copies of θ and y0: backward() may come after the caller updates them in place
  // (an optimizer step), and must give the gradient of the solve that was made
  const theta = params.slice();
  const throwOnFailure = options.throwOnFailure ?? true;
  if (typeof throwOnFailure !== "boolean") {
    invalidArgument("throwOnFailure", throwOnFailure, "true or false");
  }
  const gradient = options.gradient === undefined ? null : parseGradient(options.gradient);
  const common = {
    field,
    y0: y0.slice(),
    params: theta,
    dim,
    batch: y0.length / dim,
    gradient,
    throwOnFailure,
  };
  try {
    return options.controller === undefined
      ? solveFixed(options, common)
      : solveAdaptive(options, common);
  } catch (e) {
    throw outOfMemory(e, options, gradient);
  }
}

/** A failed allocation (a typed array too large for memory) as a message saying what to change. */
function outOfMemory(e: unknown, options: SolveOptions, gradient: ParsedGradient | null): unknown {
  const failed = e instanceof RangeError &&
    /allocation failed|Invalid typed array length|Array buffer allocation/i.test(e.message);
  if (!failed) return e;
  const what = options.controller !== undefined
    ? "an adaptive solve"
    : `a solve of ${options.steps ?? (options.grid?.length ?? 1) - 1} steps`;
  return new RangeError(
    `Out of memory: the buffers of ${what} (saveAt ${
      JSON.stringify(options.saveAt ?? { t1: true })
    }, gradient ${gradient?.method ?? "none"}) do not fit (${e.message}); take fewer steps, ` +
      "save fewer outputs, or use a gradient method whose memory does not grow with the steps " +
      '("reversible", or "checkpointed").',
  );
}

interface Common {
  field: VectorField;
  y0: Float64Array;
  params: Float64Array;
  dim: number;
  batch: number;
  gradient: ParsedGradient | null;
  throwOnFailure: boolean;
}

function solveFixed(options: SolveOptions, c: Common): Solution {
  const { field, params, dim, batch, gradient } = c;
  const grid = buildGrid(options);
  const tEnd = grid.time(grid.steps);
  const plan = checkSaveAt(options.saveAt, grid.time(0), tEnd);
  const counts: WorkCounts = { evaluations: 0, vjps: 0 };
  const meter = new MemoryMeter();
  const counted = countingField(field, counts);
  const { scheme, baseTableau } = buildScheme(options.scheme, counted, batch, meter);
  refuseIrreversible(scheme, gradient);
  const size = batch * dim;
  const place = { size, slotStride: size, rowOffset: 0, stepSlots: grid.steps, tEnd };
  const outputs = new Outputs(plan, counted, batch, place, meter);
  const problem = makeProblem({
    field: counted,
    scheme,
    baseTableau,
    grid,
    outputs,
    params,
    y0: c.y0, // already solve()'s own copy
    batch,
    meter,
  });
  const run = makeRun(problem, gradient);
  const ys = new Float64Array(outputs.count * size);
  run.forward(ys);
  const ts = new Float64Array(outputs.count);
  slotTimes(plan, grid, grid.steps, tEnd, ts);
  // A fixed-step solve fails only by overflowing: per row, the first non-finite output or
  // state (a state can overflow after the last saved output, or between outputs).
  const status: Status[] = new Array(batch).fill("success");
  for (let b = 0; b < batch; b++) {
    let at = problem.overflowAt[b];
    for (let slot = 0; slot < outputs.count && !(ts[slot] >= at); slot++) {
      for (let e = 0; e < dim; e++) {
        if (!Number.isFinite(ys[slot * size + b * dim + e])) {
          at = ts[slot];
          break;
        }
      }
    }
    if (Number.isNaN(at)) continue;
    status[b] = "non_finite";
    if (c.throwOnFailure) throw new Error(failureMessage("non_finite", at, b, null));
  }
  const forwardEvaluations = counts.evaluations;
  return {
    ts,
    tsPerTrajectory: false,
    ys,
    batch,
    dim,
    status,
    stats: { steps: grid.steps, evaluations: forwardEvaluations },
    backward(cotangents) {
      if (gradient === null) noGradient();
      checkCotangents(cotangents, ys.length);
      if (status.some((s) => s !== "success")) {
        return backwardWithoutFailed(options, c, status, cotangents, forwardEvaluations);
      }
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
      return { y0: result.y0, params: result.params, ts: result.ts, stats };
    },
  };
}

/**
 * The gradient of a fixed-step batch in which some trajectories overflowed
 * (`throwOnFailure: false`). The rows of a fixed-step solve share one
 * backward pass, so an infinite row would turn the shared parameter
 * gradient into NaN even with a zero cotangent (∞ · 0). The failed rows'
 * cotangents must be zero (a fixed-step trajectory that overflowed has no
 * gradient); the others are solved again without them, whose gradient is
 * the batch's, and the failed rows' `∂L/∂y0` is zero.
 */
function backwardWithoutFailed(
  options: SolveOptions,
  c: Common,
  status: Status[],
  cotangents: Float64Array,
  forwardEvaluations: number,
): Gradient {
  const { dim, batch, params, gradient } = c;
  const size = batch * dim;
  const saved = cotangents.length / size;
  const kept: number[] = [];
  for (let b = 0; b < batch; b++) {
    if (status[b] === "success") {
      kept.push(b);
      continue;
    }
    for (let slot = 0; slot < saved; slot++) {
      for (let e = 0; e < dim; e++) {
        if (cotangents[slot * size + b * dim + e] !== 0) {
          throw new RangeError(
            `Invalid cotangents: trajectory ${b} failed (${
              status[b]
            }) and its cotangent at output ` +
              `${slot} is ${cotangents[slot * size + b * dim + e]}; a fixed-step trajectory that ` +
              "overflowed has no gradient, so its cotangents must be zero (adaptive steps give " +
              "each trajectory a gradient up to its failure).",
          );
        }
      }
    }
  }
  const y0Bar = new Float64Array(size);
  const tsLength = options.saveAt?.ts?.length ?? 0;
  const stats: GradientStats = {
    method: gradient!.method,
    steps: 0,
    evaluations: forwardEvaluations,
    vjps: 0,
    peakBytes: 0,
  };
  if (kept.length === 0) {
    return {
      y0: y0Bar,
      params: new Float64Array(params.length),
      ts: new Float64Array(tsLength),
      stats,
    };
  }
  const y0 = new Float64Array(kept.length * dim);
  const bar = new Float64Array(saved * kept.length * dim);
  kept.forEach((b, r) => {
    y0.set(c.y0.subarray(b * dim, (b + 1) * dim), r * dim);
    for (let slot = 0; slot < saved; slot++) {
      bar.set(
        cotangents.subarray(slot * size + b * dim, slot * size + (b + 1) * dim),
        (slot * kept.length + r) * dim,
      );
    }
  });
  const again = solve({ ...options, y0 }).backward(bar);
  kept.forEach((b, r) => y0Bar.set(again.y0.subarray(r * dim, (r + 1) * dim), b * dim));
  return {
    y0: y0Bar,
    params: again.params,
    ts: again.ts,
    stats: { ...again.stats, evaluations: forwardEvaluations + again.stats.evaluations },
  };
}

interface Trajectory {
  counts: WorkCounts;
  meter: MemoryMeter;
  run: GradientRun | null;
  forwardEvaluations: number;
  steps: number;
}

function solveAdaptive(options: SolveOptions, c: Common): Solution {
  const { field, params, dim, batch, gradient } = c;
  for (const key of ["steps", "grid"] as const) {
    if (options[key] !== undefined) {
      invalidArgument(key, options[key], "undefined when a controller chooses the steps");
    }
  }
  const controller = options.controller as PidController;
  if (controller === null || typeof controller !== "object" || controller.kind !== "pid") {
    invalidArgument("controller", controller, "a controller made by pid({ rtol, atol, … })");
  }
  const t0 = options.t0 ?? 0;
  if (typeof t0 !== "number" || !Number.isFinite(t0)) invalidArgument("t0", t0, "a finite number");
  const t1 = options.t1;
  if (typeof t1 !== "number" || !Number.isFinite(t1) || !(t1 > t0)) {
    invalidArgument("t1", t1, `a finite number greater than t0 = ${t0}`);
  }
  const dt0 = options.dt0;
  if (dt0 !== undefined && (typeof dt0 !== "number" || !(dt0 > 0) || !Number.isFinite(dt0))) {
    invalidArgument("dt0", dt0, "a finite step size > 0");
  }
  const plan = checkSaveAt(options.saveAt, t0, t1);
  // Discovery writes t0, ts and t1 directly; with `steps` the states are collected.
  const discoveryPlan: SavePlan = plan.steps
    ? { t0: false, t1: false, steps: false, ts: plan.ts }
    : plan;
  const stride = batch * dim;
  let ys = new Float64Array(0);
  const runs: Trajectory[] = [];
  const stats: TrajectoryStats[] = [];
  const status: Status[] = [];
  const grids: TimeGrid[] = [];
  const collected: Float64Array[][] = [];
  const pending: { problem: Parts; state: Float64Array[] }[] = [];
  for (let b = 0; b < batch; b++) {
    const counts: WorkCounts = { evaluations: 0, vjps: 0 };
    const meter = new MemoryMeter();
    const counted = countingField(field, counts);
    const { scheme, baseTableau } = buildScheme(options.scheme, counted, 1, meter);
    if (scheme.errorOrder === null) {
      invalidArgument(
        "controller",
        "pid(…)",
        `a scheme with an embedded error estimate; ${scheme.name} has none (use bosh3, dopri5, tsit5, heun, reversibleHeun(), leapfrog() or a tableau with bError)`,
      );
    }
    refuseIrreversible(scheme, gradient);
    const place = { size: dim, slotStride: stride, rowOffset: b * dim, stepSlots: 0, tEnd: t1 };
    const discovery = new Outputs(discoveryPlan, counted, 1, place, meter);
    if (b === 0) ys = new Float64Array(plan.steps ? 0 : discovery.count * stride).fill(NaN);
    const y0 = c.y0.slice(b * dim, (b + 1) * dim);
    const state: Float64Array[] = [];
    for (let k = 0; k < scheme.stateCount; k++) state.push(meter.f64(dim));
    const result = adaptiveSolve({
      scheme,
      field: counted,
      params,
      y0,
      t0,
      t1,
      dt0,
      controller,
      outputs: discovery,
      ys,
      collect: plan.steps,
      meter,
      state,
    });
    const times = result.times;
    const tEnd = times[times.length - 1];
    if (result.status !== "success" && c.throwOnFailure) {
      throw new Error(failureMessage(result.status, tEnd, b, controller));
    }
    status.push(result.status);
    stats.push({
      status: result.status,
      accepted: result.accepted,
      rejected: result.rejected,
      evaluations: counts.evaluations,
      tEnd,
    });
    grids.push({ steps: times.length - 1, time: (i) => times[i] });
    collected.push(result.collected);
    runs.push({ counts, meter, run: null, forwardEvaluations: 0, steps: times.length - 1 });
    pending.push({
      problem: {
        field: counted,
        scheme,
        baseTableau,
        grid: grids[b],
        outputs: discovery,
        params,
        y0,
        batch: 1,
        meter,
      },
      state,
    });
  }
  const stepSlots = plan.steps ? Math.max(...runs.map((r) => r.steps)) : 0;
  const count = plan.steps ? (plan.t0 ? 1 : 0) + stepSlots : ys.length / stride;
  const tsPerTrajectory = plan.steps;
  const ts = new Float64Array(tsPerTrajectory ? batch * count : count);
  slotTimes(plan, grids[0], stepSlots, t1, ts);
  if (plan.steps) {
    ys = new Float64Array(count * stride);
    for (let b = 0; b < batch; b++) {
      slotTimes(plan, grids[b], stepSlots, t1, ts.subarray(b * count, (b + 1) * count));
      const rows = collected[b];
      const first = plan.t0 ? 1 : 0;
      if (plan.t0) ys.set(pending[b].problem.y0, b * dim);
      for (let k = 0; k < stepSlots; k++) {
        const y = rows.length === 0 ? pending[b].problem.y0 : rows[Math.min(k, rows.length - 1)];
        ys.set(y, (first + k) * stride + b * dim);
      }
    }
  }
  for (let b = 0; b < batch; b++) {
    const r = runs[b];
    const parts = pending[b].problem;
    const place = { size: dim, slotStride: stride, rowOffset: b * dim, stepSlots, tEnd: t1 };
    const outputs = new Outputs(plan, parts.field, 1, place, r.meter);
    if (gradient !== null) {
      const run = makeRun(makeProblem({ ...parts, outputs }), gradient);
      if (run.adopt) run.adopt(pending[b].state);
      else run.forward(ys);
      r.run = run;
    }
    r.forwardEvaluations = r.counts.evaluations;
  }
  return {
    ts,
    tsPerTrajectory,
    ys,
    batch,
    dim,
    status,
    stats: {
      steps: runs.reduce((a, r) => a + r.steps, 0),
      evaluations: runs.reduce((a, r) => a + r.forwardEvaluations, 0),
    },
    trajectories: stats,
    backward(cotangents) {
      if (gradient === null) noGradient();
      checkCotangents(cotangents, ys.length);
      const y0Bar = new Float64Array(batch * dim);
      const paramsBar = new Float64Array(params.length);
      const tsBar = new Float64Array(plan.ts.length);
      const perTrajectory: { params: Float64Array; stats: GradientStats }[] = [];
      const total: GradientStats = {
        method: gradient.method,
        steps: 0,
        evaluations: 0,
        vjps: 0,
        peakBytes: 0,
      };
      for (let b = 0; b < batch; b++) {
        const r = runs[b];
        r.counts.evaluations = 0;
        r.counts.vjps = 0;
        let result;
        try {
          result = (r.run as GradientRun).backward(cotangents);
        } catch (e) {
          // each trajectory has its own steps and backward pass: say which one drifted
          if (!(e instanceof ReconstructionDriftError) || batch === 1) throw e;
          throw new ReconstructionDriftError(`Trajectory ${b} of ${batch}: ${e.message}`, e.drift);
        }
        y0Bar.set(result.y0, b * dim);
        for (let q = 0; q < paramsBar.length; q++) paramsBar[q] += result.params[q];
        for (let k = 0; k < tsBar.length; k++) tsBar[k] += result.ts[k];
        const s: GradientStats = {
          method: gradient.method,
          steps: r.steps,
          evaluations: r.forwardEvaluations + r.counts.evaluations,
          vjps: r.counts.vjps,
          peakBytes: r.meter.peak,
        };
        if (result.reconstructionError !== undefined) {
          s.reconstructionError = result.reconstructionError;
          total.reconstructionError = Math.max(
            total.reconstructionError ?? 0,
            result.reconstructionError,
          );
        }
        total.steps += s.steps;
        total.evaluations += s.evaluations;
        total.vjps += s.vjps;
        total.peakBytes += s.peakBytes;
        perTrajectory.push({ params: result.params, stats: s });
      }
      return { y0: y0Bar, params: paramsBar, ts: tsBar, stats: total, trajectories: perTrajectory };
    },
  };
}
