/**
 * Adaptive steps (numerics.md §4): the forward solve of one trajectory —
 * trial steps with the scheme's embedded error estimate, accepted or
 * rejected by a PID controller — and the solve of a batch, trajectory by
 * trajectory, each on its own accepted grid. A rejected step leaves no
 * trace; the accepted step times are all a gradient method needs to replay
 * the solve exactly.
 *
 * @module
 */

import type { Scheme } from "./schemes/scheme.ts";
import { buildScheme } from "./schemes/spec.ts";
import { countingField, type VectorField, type WorkCounts } from "./vector_field.ts";
import { MemoryMeter } from "./memory.ts";
import { checkSaveAt, Outputs, type SavePlan, slotTimes } from "./outputs.ts";
import { nextStep, type PidController, scaledErrorNorm } from "./controller.ts";
import { timeResolution } from "./grid.ts";
import { checkCotangents, invalidArgument } from "./checks.ts";
import {
  ReconstructionDriftError,
  SolveFailure,
  SolveRefusal,
  type Status,
  trajectoryFailure,
} from "./results.ts";
import type { CheckedOptions, SolveOptions } from "./options.ts";
import type { Gradient, GradientStats, Solution, TrajectoryStats } from "./solution.ts";
import { type GradientRun, newProblem, type ProblemParts } from "./gradients/problem.ts";
import { buildGradient, type ParsedGradient, refuseIrreversible } from "./gradients/spec.ts";

/** The outcome of an adaptive forward solve of one trajectory. */
export interface AdaptiveRun {
  /** Accepted grid `t_0 < … < t_N` (`t_N = t1` on success). */
  times: Float64Array;
  /** How it ended. */
  status: Status;
  /** Accepted steps. */
  accepted: number;
  /** Rejected steps. */
  rejected: number;
  /** The solution after each accepted step, when asked to collect them. */
  collected: Float64Array[];
}

/**
 * Hairer, Nørsett & Wanner's initial step (II.4), as Diffrax selects it.
 *
 * @param field The field.
 * @param params Parameters.
 * @param t0 Start time.
 * @param y0 Initial state of one trajectory.
 * @param c The controller (tolerances, norm).
 * @param errorOrder Order of the embedded solution.
 * @param meter Where scratch bytes are counted.
 * @returns A first step size.
 *
 * @example
 * ```ts
 * import { initialStep } from "./adaptive.ts";
 * import { pid } from "./controller.ts";
 * import { linearField } from "./fields/linear.ts";
 * import { MemoryMeter } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const h = initialStep(linearField(1), Float64Array.of(-1), 0, Float64Array.of(1),
 *   pid({ rtol: 1e-6, atol: 1e-6 }), 2, new MemoryMeter());
 * assert.ok(h > 1e-4 && h < 0.1);
 * ```
 */
export function initialStep(
  field: VectorField,
  params: Float64Array,
  t0: number,
  y0: Float64Array,
  c: PidController,
  errorOrder: number,
  meter: MemoryMeter,
): number {
  const n = y0.length;
  const f0 = meter.f64(n), y1 = meter.f64(n), f1 = meter.f64(n), scratch = meter.f64(n);
  const batch = n / field.dim;
  const norm = (v: Float64Array): number => {
    let acc = 0;
    for (let e = 0; e < n; e++) {
      const r = v[e] / (c.atol + Math.abs(y0[e]) * c.rtol);
      acc = c.norm === "rms" ? acc + r * r : Math.max(acc, Math.abs(r));
    }
    return c.norm === "rms" ? Math.sqrt(acc / n) : acc;
  };
  field.evaluate(t0, y0, batch, params, f0);
  const d0 = norm(y0), d1 = norm(f0);
  const h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
  for (let e = 0; e < n; e++) y1[e] = y0[e] + h0 * f0[e];
  field.evaluate(t0 + h0, y1, batch, params, f1);
  for (let e = 0; e < n; e++) scratch[e] = f1[e] - f0[e];
  const d2 = norm(scratch) / h0;
  const maxD = Math.max(d1, d2);
  const h1 = maxD <= 1e-15
    ? Math.max(1e-6, h0 * 1e-3)
    : Math.pow(0.01 / maxD, 1 / (errorOrder + 1));
  for (const a of [f0, y1, f1, scratch]) meter.release(a);
  const h = Math.min(100 * h0, h1);
  return Number.isFinite(h) && h > 0 ? h : 1e-6;
}

/** Everything {@link adaptiveSolve} needs for one trajectory. */
export interface AdaptiveProblem {
  /** The scheme (batch 1), with an error estimate. */
  scheme: Scheme;
  /** The field (counted). */
  field: VectorField;
  /** Parameters. */
  params: Float64Array;
  /** Initial state of the trajectory. */
  y0: Float64Array;
  /** Start time. */
  t0: number;
  /** End time. */
  t1: number;
  /** First step size, or undefined for the heuristic. */
  dt0: number | undefined;
  /** The controller. */
  controller: PidController;
  /** Outputs at t0, t1 and `ts` (not `steps`), written into `ys`. */
  outputs: Outputs;
  /** The caller's outputs. */
  ys: Float64Array;
  /** Keep a copy of `y` after every accepted step. */
  collect: boolean;
  /** Where buffer bytes are counted. */
  meter: MemoryMeter;
  /** The state, advanced in place to the last accepted point. */
  state: Float64Array[];
}

/**
 * Runs the adaptive forward solve of one trajectory.
 *
 * @param p The trajectory's problem.
 * @returns Accepted times, status and counts; `p.state` holds the final state.
 */
export function adaptiveSolve(p: AdaptiveProblem): AdaptiveRun {
  const { scheme, params, controller: c, outputs, ys, meter, state, t0, t1 } = p;
  const errorOrder = scheme.errorOrder as number;
  const n = p.y0.length;
  const trial: Float64Array[] = state.map(() => meter.f64(n));
  const error = meter.f64(n);
  scheme.init(t0, p.y0, params, state);
  outputs.point(0, false, t0, state[0], ys);
  const times: number[] = [t0];
  const collected: Float64Array[] = [];
  const tiny = timeResolution(t0, t1);
  let h = p.dt0 ?? initialStep(p.field, params, t0, p.y0, c, errorOrder, meter);
  let history: [number, number] = [1, 1];
  let accepted = 0, rejected = 0;
  let status: Status = "success";
  let t = t0;
  while (t < t1) {
    if (accepted + rejected >= c.maxSteps) {
      status = "max_steps_reached";
      break;
    }
    // never shorter than `tiny`: a step below the resolution of t would not move it (t + h
    // rounds to t), be accepted with zero error and keep its size, until maxSteps
    h = Math.max(Math.min(Math.max(h, c.dtmin), c.dtmax), tiny);
    const tNext = t + h >= t1 ? t1 : t + h;
    const hUsed = tNext - t;
    for (let k = 0; k < state.length; k++) trial[k].set(state[k]);
    scheme.step(t, hUsed, params, trial, error);
    const err = scaledErrorNorm(c, error, state[0], trial[0]);
    if (err <= 1) {
      const i = times.length - 1;
      if (outputs.hasInterval(i, t, tNext)) {
        outputs.interpolate(i, t, tNext, params, state[0], trial[0], ys);
      }
      for (let k = 0; k < state.length; k++) state[k].set(trial[k]);
      times.push(tNext);
      accepted++;
      outputs.point(i + 1, tNext === t1, tNext, state[0], ys);
      if (p.collect) collected.push(state[0].slice());
      h = nextStep(c, hUsed, err, history, errorOrder);
      history = [err, history[0]];
      t = tNext;
    } else {
      rejected++;
      const next = nextStep(c, hUsed, err, history, errorOrder);
      if (hUsed <= c.dtmin || next < tiny) {
        status = Number.isFinite(err) ? "dt_min_reached" : "non_finite";
        break;
      }
      h = next;
    }
  }
  for (const a of trial) meter.release(a);
  meter.release(error);
  meter.add(8 * times.length);
  return { times: Float64Array.from(times), status, accepted, rejected, collected };
}

/** The grid options of an adaptive solve, checked. */
interface _Span {
  t0: number;
  t1: number;
  dt0: number | undefined;
  controller: PidController;
}

/** One trajectory of an adaptive solve: its forward solve, and what its backward pass needs. */
interface _Trajectory {
  counts: WorkCounts;
  meter: MemoryMeter;
  /** The gradient run, once prepared; null for a forward-only solve. */
  run: GradientRun | null;
  forwardEvaluations: number;
  steps: number;
  stats: TrajectoryStats;
  collected: Float64Array[];
  /** The discretised solve on the trajectory's accepted grid (outputs: the discovery's). */
  parts: ProblemParts;
  /** The final state of the forward solve. */
  state: Float64Array[];
}

/** Checks the options an adaptive solve reads: no `steps` or `grid`, a PID controller, `t0 < t1`, `dt0`. */
function _checkSpan(options: SolveOptions): _Span {
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
  return { t0, t1, dt0, controller };
}

/**
 * The forward solve of trajectory `b`, writing its outputs at `t0`, `ts`
 * and `t1` into `out.ys` (allocated by trajectory 0); throws its failure
 * unless the solve was asked not to.
 */
function _forward(
  options: SolveOptions,
  c: CheckedOptions,
  span: _Span,
  plan: SavePlan,
  b: number,
  out: { ys: Float64Array },
): _Trajectory {
  const { dim, batch } = c;
  const stride = batch * dim;
  // Discovery writes t0, ts and t1 directly; with `steps` the states are collected.
  const discoveryPlan: SavePlan = plan.steps
    ? { t0: false, t1: false, steps: false, ts: plan.ts }
    : plan;
  const counts: WorkCounts = { evaluations: 0, vjps: 0 };
  const meter = new MemoryMeter();
  const field = countingField(c.field, counts);
  const { scheme, baseTableau } = buildScheme(options.scheme, field, 1, meter);
  if (scheme.errorOrder === null) {
    throw new SolveRefusal({ kind: "no_error_estimate", data: { scheme: scheme.name } });
  }
  refuseIrreversible(scheme, c.gradient);
  const place = { size: dim, slotStride: stride, rowOffset: b * dim, stepSlots: 0, tEnd: span.t1 };
  const outputs = new Outputs(discoveryPlan, field, 1, place, meter);
  if (b === 0) out.ys = new Float64Array(plan.steps ? 0 : outputs.count * stride).fill(NaN);
  const y0 = c.y0.slice(b * dim, (b + 1) * dim);
  const state: Float64Array[] = [];
  for (let k = 0; k < scheme.stateCount; k++) state.push(meter.f64(dim));
  const { params } = c;
  const result = adaptiveSolve({
    ...span,
    scheme,
    field,
    params,
    y0,
    outputs,
    ys: out.ys,
    collect: plan.steps,
    meter,
    state,
  });
  const times = result.times;
  const tEnd = times[times.length - 1];
  const failure = trajectoryFailure(result.status, tEnd, b, span.controller);
  if (failure !== null && c.throwOnFailure) throw new SolveFailure(failure);
  const steps = times.length - 1;
  const grid = { steps, time: (i: number) => times[i] };
  return {
    counts,
    meter,
    run: null,
    forwardEvaluations: 0,
    steps,
    stats: {
      status: result.status,
      accepted: result.accepted,
      rejected: result.rejected,
      evaluations: counts.evaluations,
      tEnd,
    },
    collected: result.collected,
    parts: { field, scheme, baseTableau, grid, outputs, params, y0, batch: 1, meter },
    state,
  };
}

/**
 * The saved outputs that only the whole batch determines: with `steps`,
 * each trajectory's states padded to the longest grid by repeating its last.
 */
function _outputs(
  c: CheckedOptions,
  plan: SavePlan,
  runs: _Trajectory[],
  t1: number,
  discovered: Float64Array,
): { ts: Float64Array; ys: Float64Array; stepSlots: number } {
  const { batch, dim } = c;
  const stride = batch * dim;
  const stepSlots = plan.steps ? Math.max(...runs.map((r) => r.steps)) : 0;
  const count = plan.steps ? (plan.t0 ? 1 : 0) + stepSlots : discovered.length / stride;
  const ts = new Float64Array(plan.steps ? batch * count : count);
  slotTimes(plan, runs[0].parts.grid, stepSlots, t1, ts);
  if (!plan.steps) return { ts, ys: discovered, stepSlots };
  const ys = new Float64Array(count * stride);
  for (let b = 0; b < batch; b++) {
    const { grid, y0 } = runs[b].parts;
    slotTimes(plan, grid, stepSlots, t1, ts.subarray(b * count, (b + 1) * count));
    const rows = runs[b].collected;
    const first = plan.t0 ? 1 : 0;
    if (plan.t0) ys.set(y0, b * dim);
    for (let k = 0; k < stepSlots; k++) {
      const y = rows.length === 0 ? y0 : rows[Math.min(k, rows.length - 1)];
      ys.set(y, (first + k) * stride + b * dim);
    }
  }
  return { ts, ys, stepSlots };
}

/**
 * Each trajectory's backward pass in turn: `∂L/∂y0` row by row, `∂L/∂θ`
 * and `∂L/∂ts` summed, and each trajectory's own share and statistics.
 */
function _backward(
  c: CheckedOptions,
  runs: _Trajectory[],
  tsLength: number,
  cotangents: Float64Array,
): Gradient {
  const { batch, dim, gradient } = c;
  const method = (gradient as ParsedGradient).method;
  const y0Bar = new Float64Array(batch * dim);
  const paramsBar = new Float64Array(c.params.length);
  const tsBar = new Float64Array(tsLength);
  const perTrajectory: { params: Float64Array; stats: GradientStats }[] = [];
  const total: GradientStats = { method, steps: 0, evaluations: 0, vjps: 0, peakBytes: 0 };
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
      throw new ReconstructionDriftError({ ...e.data, trajectory: b, trajectories: batch });
    }
    y0Bar.set(result.y0, b * dim);
    for (let q = 0; q < paramsBar.length; q++) paramsBar[q] += result.params[q];
    for (let k = 0; k < tsBar.length; k++) tsBar[k] += result.ts[k];
    const s: GradientStats = {
      method,
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
}

/**
 * An adaptive solve of a batch: each trajectory is solved on its own
 * accepted grid (numerics.md §4), its outputs written into the batch's, and
 * its gradient method prepared on that grid; `backward()` runs each
 * trajectory's backward pass in turn.
 *
 * @param options The options of `solve()`, with a controller.
 * @param c The options every solve checks.
 * @returns The solution.
 *
 * @example Two trajectories, each with its own steps
 * ```ts
 * import { solveAdaptive } from "./adaptive.ts";
 * import { checkOptions } from "./options.ts";
 * import { reversible } from "./schemes/spec.ts";
 * import { bosh3 } from "./tableaux.ts";
 * import { pid } from "./controller.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const options = {
 *   field: linearField(1), y0: Float64Array.of(1, 100), params: Float64Array.of(-1),
 *   scheme: reversible(bosh3), t1: 1, controller: pid({ rtol: 1e-6, atol: 1e-6 }),
 * };
 * const sol = solveAdaptive(options, checkOptions(options));
 * assert.deepEqual(sol.status, ["success", "success"]);
 * assert.ok(Math.abs(sol.ys[1] - 100 * Math.exp(-1)) < 1e-3);
 * ```
 */
export function solveAdaptive(options: SolveOptions, c: CheckedOptions): Solution {
  const { batch, dim, gradient } = c;
  const span = _checkSpan(options);
  const plan = checkSaveAt(options.saveAt, span.t0, span.t1);
  const discovered = { ys: new Float64Array(0) };
  const runs: _Trajectory[] = [];
  for (let b = 0; b < batch; b++) runs.push(_forward(options, c, span, plan, b, discovered));
  const { ts, ys, stepSlots } = _outputs(c, plan, runs, span.t1, discovered.ys);
  for (let b = 0; b < batch; b++) {
    const r = runs[b];
    const place = {
      size: dim,
      slotStride: batch * dim,
      rowOffset: b * dim,
      stepSlots,
      tEnd: span.t1,
    };
    const outputs = new Outputs(plan, r.parts.field, 1, place, r.meter);
    if (gradient !== null) {
      r.run = buildGradient(newProblem({ ...r.parts, outputs }), gradient);
      if (r.run.adopt) r.run.adopt(r.state);
      else r.run.forward(ys);
    }
    r.forwardEvaluations = r.counts.evaluations;
  }
  return {
    ts,
    tsPerTrajectory: plan.steps,
    ys,
    batch,
    dim,
    status: runs.map((r) => r.stats.status),
    stats: {
      steps: runs.reduce((a, r) => a + r.steps, 0),
      evaluations: runs.reduce((a, r) => a + r.forwardEvaluations, 0),
    },
    trajectories: runs.map((r) => r.stats),
    backward(cotangents) {
      if (gradient === null) throw new SolveFailure({ kind: "no_gradient", data: {} });
      checkCotangents(cotangents, ys.length);
      return _backward(c, runs, plan.ts.length, cotangents);
    },
  };
}
