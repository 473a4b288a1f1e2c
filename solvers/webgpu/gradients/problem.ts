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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.steppedProblem!, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   // GpuSolver builds the problem: its buffers hold θ and y0, its call table the steps.
 *   const problem: GpuProblem = p;
 *   assert.equal(problem.calls.steps, 10);
 *   assert.deepEqual([...await ctx.read(problem.params)], [-1, 0]);
 *   assert.deepEqual([...await ctx.read(problem.y0)], [1]);
 *   rec.run(problem.scheme.initOps(problem.y0), null);
 *   for (let i = 0; i < 10; i++) problem.scheme.step(rec, problem.calls, i);
 *   rec.submit();
 *   assert.ok(Math.abs((await ctx.read(problem.scheme.y))[0] - Math.exp(-1)) < 1e-5);
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.problem, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   // The solver's method (reversible by default): L = y(1), so ∂L/∂y(1) = 1.
 *   const run: GpuGradientRun = solver.run;
 *   assert.equal(run.name, "reversible");
 *   assert.equal(run.bytes, 0); // no stored states beyond the problem's
 *   solver.setData(Float64Array.from({ length: 11 }, (_, n) => (n === 10 ? 1 : 0)));
 *   run.forward(rec);
 *   run.backward(rec, true);
 *   rec.submit();
 *   // y(1) = y0 e^w + b (e^w − 1) / w
 *   const [dw, db] = await solver.readParamsBar();
 *   assert.ok(Math.abs(dw - Math.exp(-1)) < 1e-4);
 *   assert.ok(Math.abs(db - (1 - Math.exp(-1))) < 1e-4);
 *   assert.ok(Math.abs((await ctx.read(p.y0Bar))[0] - Math.exp(-1)) < 1e-4);
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.problem, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   rec.run(p.scheme.initOps(p.y0), null);
 *   record(p, rec, 0); // y(t0) is saved in slot 0
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   assert.equal(ys[0], 1);
 *   assert.ok(ys.subarray(1).every((y) => y === 0)); // the later slots are not written yet
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.problem, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   // Cotangents (no loss): 3 on the output at t_4, 0 elsewhere.
 *   solver.setData(Float64Array.from({ length: 11 }, (_, n) => (n === 4 ? 3 : 0)));
 *   rec.clear(p.scheme.bar);
 *   addCotangent(p, rec, 4);
 *   addCotangent(p, rec, 4); // it adds: ȳ = 3 + 3
 *   addCotangent(p, rec, 5); // a zero cotangent
 *   rec.submit();
 *   assert.deepEqual([...await ctx.read(p.scheme.yBar)], [6]);
 *   assert.deepEqual([...await ctx.read(p.scheme.zBar)], [0]);
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.steppedProblem!, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   rec.run(p.scheme.initOps(p.y0), null);
 *   advance(p, rec, 0, 5, false); // steps 0 … 4, nothing saved
 *   advance(p, rec, 5, 10, true); // steps 5 … 9, saving y(t_6) … y(t_10)
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   for (let n = 0; n <= 10; n++) {
 *     if (n <= 5) assert.equal(ys[n], 0);
 *     else assert.ok(Math.abs(ys[n] - Math.exp(-n / 10)) < 1e-5);
 *   }
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.problem, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   // Cotangents (no loss): 2 on the final output y(1).
 *   solver.setData(Float64Array.from({ length: 11 }, (_, n) => (n === 10 ? 2 : 0)));
 *   startBackward(p, rec);
 *   rec.submit();
 *   assert.deepEqual([...await ctx.read(p.scheme.yBar)], [2]);
 *   assert.deepEqual([...await ctx.read(p.scheme.zBar)], [0]);
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { finishAtStart, startBackward, stepBackward } from "./problem.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.steppedProblem!, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   // L = Σ_n y(t_n): a cotangent of 1 on every output, so ∂L/∂y0 = Σ_n e^(−t_n).
 *   solver.setData(new Float64Array(11).fill(1));
 *   solver.run.forward(rec);
 *   startBackward(p, rec);
 *   for (let i = 9; i >= 0; i--) {
 *     p.scheme.inverse(rec, p.calls, i); // rebuilds y_i and step i's stage values
 *     stepBackward(p, rec, i);
 *   }
 *   finishAtStart(p, rec, true);
 *   rec.submit();
 *   let dy0 = 0;
 *   for (let n = 0; n <= 10; n++) dy0 += Math.exp(-n / 10);
 *   assert.ok(Math.abs((await ctx.read(p.y0Bar))[0] - dy0) < 1e-4);
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { finishAtStart, startBackward, stepBackward } from "./problem.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.steppedProblem!, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   // L = y(1); a reversible backward pass by hand.
 *   solver.setData(Float64Array.from({ length: 11 }, (_, n) => (n === 10 ? 1 : 0)));
 *   solver.run.forward(rec);
 *   startBackward(p, rec);
 *   for (let i = 9; i >= 0; i--) {
 *     p.scheme.inverse(rec, p.calls, i);
 *     stepBackward(p, rec, i);
 *   }
 *   finishAtStart(p, rec, false); // ∂L/∂θ only
 *   rec.submit();
 *   const [dw, db] = await solver.readParamsBar(); // y(1) = y0 e^w + b (e^w − 1) / w
 *   assert.ok(Math.abs(dw - Math.exp(-1)) < 1e-4);
 *   assert.ok(Math.abs(db - (1 - Math.exp(-1))) < 1e-4);
 *   assert.deepEqual([...await ctx.read(p.y0Bar)], [0]); // not written
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const p = solver.steppedProblem!, ctx = solver.ctx;
 *   const rec = new Recorder(ctx);
 *   const out = ctx.buffer("out", 2);
 *   const measure = reconstructionOps(p, out, 0);
 *   solver.run.forward(rec);
 *   rec.run(measure.scale, null); // out[1] = max(|y(1)|, |y0|) = 1
 *   for (let i = 9; i >= 0; i--) p.scheme.inverse(rec, p.calls, i);
 *   rec.run(measure.diff, null); // out[0] = |rebuilt y0 − y0|
 *   rec.submit();
 *   const [diff, scale] = await ctx.read(out);
 *   assert.equal(scale, 1);
 *   assert.ok(diff / scale < 1e-5);
 *   solver.destroy();
 *   device.destroy();
 * }
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
