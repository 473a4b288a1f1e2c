/**
 * What every GPU gradient method is handed: one discretised solve (scheme ×
 * call table × saved outputs), and the shared forward loop; the mirror of
 * solvers/gradients/problem.ts. Methods record their work into a
 * {@link Recorder}; nothing is read back.
 *
 * @module
 */

import type { SolveCalls } from "../runtime/calls.ts";
import type { GpuContext, Slice } from "../runtime/context.ts";
import type { GpuMlp } from "../fields/mlp.ts";
import type { GpuOutputs } from "../outputs.ts";
import type { Op, Recorder } from "../runtime/recorder.ts";
import { reductionOps } from "../runtime/reduce.ts";
import type { GpuReversibleScheme, GpuReversibleState } from "../schemes/reversible.ts";

/**
 * A discretised solve on the GPU.
 *
 * @example
 * ```ts
 * import type { GpuProblem } from "./problem.ts";
 * import assert from "node:assert/strict";
 * const steps = (p: GpuProblem): number => p.calls.steps;
 * assert.equal(typeof steps, "function");
 * ```
 */
export interface GpuProblem<S extends GpuReversibleState = GpuReversibleScheme> {
  /** The context. */
  readonly ctx: GpuContext;
  /** The field's kernels. */
  readonly mlp: GpuMlp;
  /**
   * The scheme: its working state and cotangent, and, for the per-step
   * gradients (the default type), the kernels of one step.
   */
  readonly scheme: S;
  /** Times of every step and grid point. */
  readonly calls: SolveCalls;
  /** Saved outputs and their targets or cotangents. */
  readonly outputs: GpuOutputs;
  /** Initial states `[batch, dim]`. */
  readonly y0: Slice;
  /** Parameters θ. */
  readonly params: Slice;
  /** Partial parameter gradients `[chunks, P]`. */
  readonly partials: Slice;
  /** `∂L/∂θ` after a backward pass. */
  readonly paramsBar: Slice;
  /** `∂L/∂y0` after a backward pass. */
  readonly y0Bar: Slice;
}

/**
 * A problem whose scheme holds only the state and its cotangent: what the
 * whole-solve kernels (whole*.ts) run on, and what the helpers that touch
 * no step accept.
 *
 * @example Every per-step problem is also one
 * ```ts
 * import type { GpuProblem, GpuStateProblem } from "./problem.ts";
 * import assert from "node:assert/strict";
 *
 * const widen = (p: GpuProblem): GpuStateProblem => p; // a scheme with steps is a state
 * const dim = (p: GpuStateProblem) => p.scheme.stateLengths[0];
 * const stepped = { scheme: { stateLengths: [6, 6] } } as unknown as GpuProblem;
 * assert.equal(dim(widen(stepped)), 6);
 * ```
 */
export type GpuStateProblem = GpuProblem<GpuReversibleState>;

/**
 * A GPU gradient method: records one solve forward, then backward.
 *
 * @example
 * ```ts
 * import type { GpuGradientRun } from "./problem.ts";
 * import assert from "node:assert/strict";
 * const none: GpuGradientRun = { name: "none", bytes: 0, forward() {}, backward() {} };
 * assert.equal(none.bytes, 0);
 * ```
 */
export interface GpuGradientRun {
  /** The method's name. */
  readonly name: string;
  /** Bytes of the buffers the method holds beyond the problem's. */
  readonly bytes: number;
  /** Records the forward solve, writing the saved outputs. */
  forward(rec: Recorder): void;
  /**
   * Records the backward pass: `∂L/∂θ` into `paramsBar`, `∂L/∂y0` into `y0Bar`
   * (when `withY0`), from the cotangents of the saved outputs.
   */
  backward(rec: Recorder, withY0?: boolean): void;
  /**
   * Adaptive solves: the dispatch that sets `out[index]` to 1 when the
   * forward solve failed, else 0 (a training step's divergence gate reads
   * it). Absent for fixed steps.
   */
  failureOps?(out: Slice, index: number): Op[];
}

/**
 * Records the saved output of grid point `n` (if it is saved) from the
 * scheme's working state.
 *
 * @param problem The solve.
 * @param rec The recorder.
 * @param n Grid index.
 *
 * @example
 * ```ts
 * import { record } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(record.length, 3);
 * ```
 */
export function record(problem: GpuStateProblem, rec: Recorder, n: number): void {
  if (problem.calls.slot(n) < 0) return;
  rec.run(problem.outputs.recordOps(problem.scheme.y), problem.calls.point(n));
}

/**
 * Records adding the cotangent of grid point `n`'s output (if saved) to `ȳ`.
 *
 * @param problem The solve.
 * @param rec The recorder.
 * @param n Grid index.
 *
 * @example
 * ```ts
 * import { addCotangent } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(addCotangent.length, 3);
 * ```
 */
export function addCotangent(
  problem: GpuStateProblem,
  rec: Recorder,
  n: number,
): void {
  if (problem.calls.slot(n) < 0) return;
  rec.run(problem.outputs.addCotangentOps(problem.scheme.yBar), problem.calls.point(n));
}

/**
 * Records steps `from … to − 1` of the scheme on its working state,
 * saving outputs on the way when `save`.
 *
 * @param problem The solve.
 * @param rec The recorder.
 * @param from First grid index.
 * @param to Last grid index.
 * @param save Whether to write the saved outputs.
 *
 * @example
 * ```ts
 * import { advance } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(advance.length, 5);
 * ```
 */
export function advance(
  problem: GpuProblem,
  rec: Recorder,
  from: number,
  to: number,
  save: boolean,
): void {
  for (let i = from; i < to; i++) {
    problem.scheme.step(rec, problem.calls, i);
    if (save) record(problem, rec, i + 1);
  }
}

/**
 * Records the start of a backward pass: zero cotangents and partial
 * gradients, then the cotangent of the final output.
 *
 * @param problem The solve.
 * @param rec The recorder.
 *
 * @example
 * ```ts
 * import { startBackward } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(startBackward.length, 2);
 * ```
 */
export function startBackward(problem: GpuStateProblem, rec: Recorder): void {
  rec.clear(problem.scheme.bar);
  rec.clear(problem.partials);
  addCotangent(problem, rec, problem.calls.steps);
}

/**
 * Records the back-propagation through step `i` (the scheme's stage values
 * of step `i` must be current), then the cotangent of output `i`.
 *
 * @param problem The solve.
 * @param rec The recorder.
 * @param i Step index.
 *
 * @example
 * ```ts
 * import { stepBackward } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stepBackward.length, 3);
 * ```
 */
export function stepBackward(problem: GpuProblem, rec: Recorder, i: number): void {
  problem.scheme.stepVjp(rec, problem.calls, i);
  if (i > 0) addCotangent(problem, rec, i);
}

/**
 * Records the end of a backward pass at `t_0`: the cotangent of a saved
 * `y(t_0)`, the parameter gradient's reduction over chunks, and, when
 * `withY0`, `∂L/∂y0`.
 *
 * @param problem The solve.
 * @param rec The recorder.
 * @param withY0 Whether to write `∂L/∂y0`.
 *
 * @example
 * ```ts
 * import { finishAtStart } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(finishAtStart.length, 3);
 * ```
 */
export function finishAtStart(
  problem: GpuStateProblem,
  rec: Recorder,
  withY0: boolean,
): void {
  addCotangent(problem, rec, 0);
  rec.run(problem.mlp.reduceOps(problem.partials, problem.paramsBar), null);
  if (withY0) rec.run(problem.scheme.initVjpOps(problem.y0Bar), null);
}

/**
 * The dispatches that measure how far the rebuilt `y0` is from the true
 * one, as the CPU's `reconstructionError` does: `scale`, recorded after the
 * forward solve (the scheme's working `y` is then `y(t_1)`), writes
 * `out[index + 1] = max(|y(t_1)|, |y0|)`; `diff`, recorded after a
 * reversible backward pass (`y` is then the rebuilt `y0`), writes
 * `out[index] = max |y − y0|`. Their ratio is the error, relative to the
 * solution's size, so a solve from `y0 = 0` is not read as drifting.
 *
 * @param problem The solve.
 * @param out Destination.
 * @param index First index written.
 * @returns The two sets of dispatches (a reduction each).
 *
 * @example
 * ```ts
 * import { reconstructionOps } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reconstructionOps.length, 3);
 * ```
 */
export function reconstructionOps(
  problem: GpuStateProblem,
  out: Slice,
  index: number,
): { scale: ReturnType<typeof reductionOps>; diff: ReturnType<typeof reductionOps> } {
  const { ctx, scheme, y0 } = problem;
  const n = scheme.y.length;
  const inputs = [
    { binding: { name: "y", access: "read" as const }, slice: scheme.y },
    { binding: { name: "y0", access: "read" as const }, slice: y0 },
  ];
  return {
    scale: reductionOps(ctx, {
      name: "reconstruction.scale",
      n,
      inputs,
      term: "fn term(e: u32) -> f32 { return max(abs(y[e]), abs(y0[e])); }",
      combine: "max",
      out,
      index: index + 1,
    }),
    diff: reductionOps(ctx, {
      name: "reconstruction.diff",
      n,
      inputs,
      term: "fn term(e: u32) -> f32 { return abs(y[e] - y0[e]); }",
      combine: "max",
      out,
      index,
    }),
  };
}
