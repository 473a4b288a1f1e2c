/**
 * What every gradient method is handed: one discretised solve, and the shared
 * forward loop. Internal to the solvers.
 *
 * @module
 */

import type { Scheme } from "../schemes/scheme.ts";
import type { TimeGrid } from "../grid.ts";
import type { Outputs } from "../outputs.ts";
import type { MemoryMeter } from "../memory.ts";
import type { CheckedTableau } from "../tableau.ts";
import type { VectorField } from "../vector_field.ts";

/** A discretised solve: scheme × grid × saved points, with its buffers' meter. */
export interface Problem {
  /** The field, already wrapped to count its calls. */
  readonly field: VectorField;
  /** The scheme, bound to the batch. */
  readonly scheme: Scheme;
  /** The tableau of the base method, for the continuous adjoint. */
  readonly baseTableau: CheckedTableau;
  /** Time grid. */
  readonly grid: TimeGrid;
  /** Saved outputs. */
  readonly outputs: Outputs;
  /** Parameters θ. */
  readonly params: Float64Array;
  /** Initial state `[batch, dim]` (a private copy). */
  readonly y0: Float64Array;
  /** Number of trajectories. */
  readonly batch: number;
  /** Meter that counts every buffer a method holds. */
  readonly meter: MemoryMeter;
  /** Scratch `[batch, dim]`: the solution before a step with interpolated outputs. */
  readonly before: Float64Array;
  /** Scratch `[batch, dim]`: the outputs' cotangent for the solution before a step. */
  readonly extra: Float64Array;
  /**
   * Per trajectory, the first grid time at which the forward solve's state
   * (`y`, and the scheme's auxiliary parts) was not finite; NaN while it
   * stays finite. Written by {@link record}.
   */
  readonly overflowAt: Float64Array;
}

/** The result of a method's backward pass. */
export interface Cotangents {
  /** `∂L/∂y0`, `[batch, dim]`. */
  y0: Float64Array;
  /** `∂L/∂θ`. */
  params: Float64Array;
  /** `∂L/∂ts` for interpolated outputs (empty without them). */
  ts: Float64Array;
  /** Relative ∞-norm distance of the rebuilt `y0` from the true one (reversible methods). */
  reconstructionError?: number;
}

/** A gradient method running one solve forward, then backward. */
export interface GradientRun {
  /** Solves forward, writing the saved outputs `[saved, batch, dim]` into `ys`. */
  forward(ys: Float64Array): void;
  /**
   * Takes the final state of a forward solve made elsewhere (the adaptive
   * driver's) instead of running {@link GradientRun.forward}; absent for
   * methods that must store states on the way.
   */
  adopt?: (finalState: Float64Array[]) => void;
  /** Given the cotangents of the saved outputs, returns those of `y0` and `θ`. */
  backward(cotangents: Float64Array): Cotangents;
}

/** What a {@link Problem} is made of, before its scratch buffers. */
export type ProblemParts = Omit<Problem, "before" | "extra" | "overflowAt">;

/**
 * A discretised solve from its parts, with its scratch buffers (counted by
 * its meter) and no trajectory overflowed yet.
 *
 * @param parts Field, scheme, grid, outputs, parameters, initial state, batch and meter.
 * @returns The problem.
 */
export function newProblem(parts: ProblemParts): Problem {
  const n = parts.y0.length;
  const overflowAt = new Float64Array(parts.batch).fill(NaN);
  return { ...parts, before: parts.meter.f64(n), extra: parts.meter.f64(n), overflowAt };
}

/**
 * Allocates a state (a list of `[batch, dim]` arrays) through the meter.
 *
 * @param problem The solve.
 * @returns A zeroed state.
 */
export function newState(problem: Problem): Float64Array[] {
  const n = problem.batch * problem.field.dim;
  const state: Float64Array[] = [];
  for (let i = 0; i < problem.scheme.stateCount; i++) state.push(problem.meter.f64(n));
  return state;
}

/**
 * Copies state `from` into `to`.
 *
 * @param from Source state.
 * @param to Destination state.
 */
export function copyState(from: Float64Array[], to: Float64Array[]): void {
  for (let i = 0; i < from.length; i++) to[i].set(from[i]);
}

/**
 * Writes `y` of grid point `i` into its output slots, if it is saved, and
 * notes in `problem.overflowAt` the trajectories whose state stopped being
 * finite there: an overflow after the last saved output leaves every
 * output finite but would still make the backward pass NaN.
 *
 * @param problem The solve.
 * @param i Grid index.
 * @param state The state at `t_i`.
 * @param ys The outputs.
 */
export function record(problem: Problem, i: number, state: Float64Array[], ys: Float64Array): void {
  const { grid } = problem;
  const t = grid.time(i);
  problem.outputs.point(i, i === grid.steps, t, state[0], ys);
  if (i === 0) problem.overflowAt.fill(NaN);
  // x − x is NaN exactly when x is not finite: one cheap pass finds whether any row overflowed
  let probe = 0;
  for (const part of state) for (let e = 0; e < part.length; e++) probe += part[e] - part[e];
  if (probe === 0) return;
  const dim = problem.field.dim;
  for (let b = 0; b < problem.batch; b++) {
    if (!Number.isNaN(problem.overflowAt[b])) continue;
    for (const part of state) {
      for (let e = b * dim; e < (b + 1) * dim; e++) {
        if (!Number.isFinite(part[e])) problem.overflowAt[b] = t;
      }
    }
  }
}

/**
 * Adds the cotangents of grid point `i`'s outputs, if saved, to `ȳ`.
 *
 * @param problem The solve.
 * @param i Grid index.
 * @param yBar Cotangent of `y_i` being accumulated.
 * @param cotangents The cotangents of all saved outputs.
 */
export function addCotangent(
  problem: Problem,
  i: number,
  yBar: Float64Array,
  cotangents: Float64Array,
): void {
  const { grid } = problem;
  problem.outputs.pointCotangent(i, i === grid.steps, grid.time(i), yBar, cotangents);
}

/**
 * Runs the scheme from `state` at grid index `from` to index `to`, in place.
 *
 * @param problem The solve.
 * @param state State at `t_from`, advanced in place.
 * @param from First grid index.
 * @param to Last grid index.
 * @param ys When given, saved outputs along the way are written here.
 */
export function advance(
  problem: Problem,
  state: Float64Array[],
  from: number,
  to: number,
  ys?: Float64Array,
): void {
  const { grid, scheme, params, outputs } = problem;
  for (let i = from; i < to; i++) {
    const t = grid.time(i), tNext = grid.time(i + 1);
    const interpolate = ys !== undefined && outputs.hasInterval(i, t, tNext);
    if (interpolate) problem.before.set(state[0]);
    scheme.step(t, tNext - t, params, state);
    if (ys) {
      if (interpolate) outputs.interpolate(i, t, tNext, params, problem.before, state[0], ys);
      record(problem, i + 1, state, ys);
    }
  }
}

/**
 * Back-propagates through step `i` of a discrete scheme: the cotangents of
 * the outputs interpolated inside the step, the step itself, then the
 * outputs at grid point `i`. On entry `bar` is the cotangent of the state
 * after the step; on return, of the state before it.
 *
 * @param problem The solve.
 * @param i Step index.
 * @param before Solution `y_i` (entry 0 of the state before the step).
 * @param after State after the step.
 * @param bar Cotangent of the state, updated in place.
 * @param paramsBar Accumulated `θ̄`.
 * @param tsBar Accumulated `∂L/∂ts`.
 * @param cotangents Cotangents of all outputs.
 */
export function stepBackward(
  problem: Problem,
  i: number,
  before: Float64Array,
  after: Float64Array[],
  bar: Float64Array[],
  paramsBar: Float64Array,
  tsBar: Float64Array,
  cotangents: Float64Array,
): void {
  const { grid, scheme, params, outputs } = problem;
  const t = grid.time(i), tNext = grid.time(i + 1);
  const inside = outputs.hasInterval(i, t, tNext);
  if (inside) {
    outputs.intervalVjp(i, t, tNext, 1, after[0], params, cotangents, bar[0], paramsBar, tsBar);
    problem.extra.fill(0);
    outputs.intervalVjp(
      i,
      t,
      tNext,
      0,
      before,
      params,
      cotangents,
      problem.extra,
      paramsBar,
      tsBar,
    );
  }
  scheme.stepVjp(t, tNext - t, params, after, bar, paramsBar);
  if (inside) {
    const yBar = bar[0], extra = problem.extra;
    for (let e = 0; e < yBar.length; e++) yBar[e] += extra[e];
  }
  if (i > 0) addCotangent(problem, i, bar[0], cotangents);
}
/**
 * Finishes a backward pass at `t_0`: cotangent of `y0` through the scheme's
 * initialisation, plus the cotangent of a saved `y(t_0)`.
 *
 * @param problem The solve.
 * @param bar Cotangent of the initial state.
 * @param paramsBar Accumulated `θ̄`.
 * @param cotangents Cotangents of the saved outputs.
 * @returns `∂L/∂y0`.
 */
export function finishAtStart(
  problem: Problem,
  bar: Float64Array[],
  paramsBar: Float64Array,
  cotangents: Float64Array,
): Float64Array {
  addCotangent(problem, 0, bar[0], cotangents);
  const y0Bar = new Float64Array(problem.y0.length);
  problem.scheme.initVjp(problem.grid.time(0), problem.y0, problem.params, bar, y0Bar, paramsBar);
  return y0Bar;
}
