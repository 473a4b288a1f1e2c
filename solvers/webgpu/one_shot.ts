/**
 * GPU-only: one-shot solves for parity checks against the CPU: gpuSolve (the trajectory), gpuReconstruction (the inverse's drift) and gpuGradient (outputs, loss and gradients), each creating a solver, recording once and reading back once.
 *
 * @module
 */

import { allocating, type Slice } from "./runtime/context.ts";
import type { GpuLoss } from "./outputs.ts";
import { type CommandCounts, Recorder } from "./runtime/recorder.ts";
import { reconstructionOps } from "./gradients/problem.ts";
import type { GpuAdaptiveRun } from "./adaptive.ts";
import { requireKnownKeys } from "../checks.ts";
import { GPU_SOLVE_KEYS, type GpuLike, type GpuSolveOptions } from "./options.ts";
import { GpuSolver } from "./solve.ts";

/**
 * The trajectory from {@link gpuSolve}.
 *
 * @example
 * ```ts
 * import { gpuSolve, type GpuTrajectory } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = −y to t = 1 in 4 steps, every step's end saved
 *   const r: GpuTrajectory = await gpuSolve(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 4,
 *     y0: Float64Array.of(1), saveAt: { steps: true },
 *   });
 *   assert.deepEqual([...r.ts], [0.25, 0.5, 0.75, 1]);
 *   r.ys.forEach((y, k) => assert.ok(Math.abs(y - Math.exp(-r.ts[k])) < 1e-4));
 *   assert.equal(r.counts.submits, 1);
 *   device.destroy();
 * }
 * ```
 */
export interface GpuTrajectory {
  /** Times of the saved outputs. */
  ts: Float64Array;
  /** Saved states `[saved, rows, dim]`. */
  ys: Float64Array;
  /** Commands recorded for the solve. */
  counts: CommandCounts;
}

/**
 * Solves once on the GPU and reads the trajectory back.
 *
 * @param gpu A device, a {@link GpuDevice} or a context.
 * @param options The solve.
 * @returns Times and saved states.
 *
 * @example
 * ```ts
 * import { gpuSolve } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // f(y) = −y: one linear layer with weight −1, bias 0
 *   const { ts, ys } = await gpuSolve(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 20,
 *     y0: Float64Array.of(1), saveAt: { t0: true, steps: true },
 *   });
 *   assert.equal(ts.length, 21);
 *   assert.ok(Math.abs(ys[20] - Math.exp(-1)) < 1e-4);
 *   device.destroy();
 * }
 * ```
 */
export async function gpuSolve(gpu: GpuLike, options: GpuSolveOptions): Promise<GpuTrajectory> {
  const solver = GpuSolver.create(gpu, { ...options, gradient: "reversible" });
  try {
    const rec = new Recorder(solver.ctx);
    solver.run.forward(rec);
    rec.submit();
    const ys = await solver.readYs();
    return { ts: solver.outputTimes.slice(), ys, counts: rec.counts };
  } finally {
    solver.destroy();
  }
}

/**
 * What {@link gpuReconstruction} measures.
 *
 * @example
 * ```ts
 * import { gpuReconstruction, type GpuReconstruction } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = −y for two trajectories, y0 = 1 and 2
 *   const r: GpuReconstruction = await gpuReconstruction(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 20,
 *     y0: Float64Array.of(1, 2), saveAt: { t0: true, steps: true },
 *   });
 *   [1, 2].forEach((y0, b) => {
 *     assert.ok(Math.abs(r.yN[b] - y0 * Math.exp(-1)) < 1e-4); // the forward solve's end
 *     assert.ok(Math.abs(r.y0[b] - y0) < 1e-4); // rebuilt by the inverse sweep
 *   });
 *   assert.ok(r.error < 1e-5);
 *   assert.ok(r.counts.dispatches > 0);
 *   device.destroy();
 * }
 * ```
 */
export interface GpuReconstruction {
  /** ∞-norm distance of the rebuilt `y0` from the true one, relative to the larger of `|y0|` and `|y_N|`. */
  error: number;
  /** The rebuilt `y0`, `[rows, dim]`. */
  y0: Float64Array;
  /** The final state `y_N`, `[rows, dim]`. */
  yN: Float64Array;
  /** Commands recorded (forward and inverse sweeps). */
  counts: CommandCounts;
}

/**
 * Solves forward over every step, then runs the exact inverse back to
 * `t0`, and measures how far the rebuilt `y0` is from the true one: the
 * f32 round-off drift that the reversible gradient's reconstruction
 * suffers (numerics.md §2), without any VJP work. It records the
 * per-step kernels (`solveKernel` `"auto"` or `"steps"`).
 *
 * @param gpu A device, a {@link GpuDevice} or a context.
 * @param options The solve.
 * @returns The relative error and the states.
 *
 * @example
 * ```ts
 * import { gpuReconstruction } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const r = await gpuReconstruction(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 50,
 *     y0: Float64Array.of(1), saveAt: { t0: true, steps: true },
 *   });
 *   assert.ok(r.error < 1e-5);
 *   device.destroy();
 * }
 * ```
 */
export async function gpuReconstruction(
  gpu: GpuLike,
  options: GpuSolveOptions,
): Promise<GpuReconstruction> {
  if (options.controller !== undefined) {
    throw new RangeError(
      "Invalid controller: gpuReconstruction takes fixed steps; an adaptive solve's " +
        "reconstruction error is reported by gpuGradient (reconstructionError).",
    );
  }
  if (options.solveKernel === "whole") {
    throw new RangeError(
      'Invalid solveKernel: got "whole"; gpuReconstruction records the per-step kernels ' +
        "(the whole-solve kernels' reconstruction error is reported by gpuGradient).",
    );
  }
  const solver = GpuSolver.create(gpu, {
    ...options,
    gradient: "reversible",
    solveKernel: "steps",
  });
  try {
    const { ctx } = solver;
    const problem = solver.steppedProblem!; // solveKernel "steps", asked for above
    const { scheme, calls } = problem;
    const rec = new Recorder(ctx);
    const scalars = ctx.buffer("scalars", 2);
    const measure = reconstructionOps(problem, scalars, 0);
    rec.run(scheme.initOps(problem.y0), null);
    for (let n = 0; n < calls.steps; n++) scheme.step(rec, calls, n);
    const yN = ctx.buffer("yN", scheme.y.length);
    rec.copy(scheme.y, yN);
    rec.run(measure.scale, null);
    for (let n = calls.steps - 1; n >= 0; n--) scheme.inverse(rec, calls, n);
    rec.run(measure.diff, null);
    rec.submit();
    const [s, y0, last] = await ctx.readMany([{ slice: scalars }, { slice: scheme.y }, {
      slice: yN,
    }]);
    return {
      error: s[0] / Math.max(s[1], Number.MIN_VALUE),
      y0: solver.rowsOf(y0, 1),
      yN: solver.rowsOf(last, 1),
      counts: rec.counts,
    };
  } finally {
    solver.destroy();
  }
}

/**
 * Options of {@link gpuGradient}: a solve, a method, and targets or cotangents.
 *
 * @example
 * ```ts
 * import { type GpuGradientOptions, gpuGradient } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { gpuMse } from "../../training/webgpu/loss.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuGradientOptions = {
 *   field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   scheme: reversible(rk4),
 *   t1: 1,
 *   steps: 4,
 *   y0: Float64Array.of(1),
 *   saveAt: { t0: true, steps: true },
 *   loss: gpuMse, // training's MSE against the targets
 *   targets: new Float64Array(5),
 * };
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const g = await gpuGradient(device, options);
 *   // y(t_n) = e^(−n/4) against targets 0: L = (1/5) Σ e^(−n/2), ∂L/∂y0 = 2L
 *   let mse = 0;
 *   for (let n = 0; n <= 4; n++) mse += Math.exp(-n / 2) / 5;
 *   assert.ok(Math.abs(g.loss - mse) < 1e-4); // RK4 with h = 0.25, in f32
 *   assert.ok(Math.abs(g.y0[0] - 2 * mse) < 1e-4);
 *   device.destroy();
 * }
 * ```
 */
export interface GpuGradientOptions extends GpuSolveOptions {
  /** A loss of the outputs against `targets` (training/webgpu/loss.ts's `gpuMse`); or give `cotangents`. */
  loss?: GpuLoss;
  /** The loss's targets `[saved, rows, dim]`. */
  targets?: Float64Array;
  /** Per-saved-row weights of the loss (default all ones). */
  weights?: Float64Array;
  /** Cotangents `∂L/∂ys` `[saved, rows, dim]`, instead of targets. */
  cotangents?: Float64Array;
}

/**
 * What {@link gpuGradient} returns.
 *
 * @example
 * ```ts
 * import { gpuGradient, type GpuGradientResult } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // L = y(1) for y' = w y + b, θ = [w, b] = [−1, 0], y0 = 1, given as cotangents
 *   const g: GpuGradientResult = await gpuGradient(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 20,
 *     y0: Float64Array.of(1), saveAt: { steps: true },
 *     cotangents: Float64Array.from({ length: 20 }, (_, n) => (n === 19 ? 1 : 0)),
 *   });
 *   assert.ok(Math.abs(g.ys[19] - Math.exp(-1)) < 1e-4);
 *   assert.ok(Number.isNaN(g.loss)); // no loss with given cotangents
 *   // y(1) = y0 e^w + b (e^w − 1) / w
 *   assert.ok(Math.abs(g.params[0] - Math.exp(-1)) < 1e-4);
 *   assert.ok(Math.abs(g.params[1] - (1 - Math.exp(-1))) < 1e-4);
 *   assert.ok(Math.abs(g.y0[0] - Math.exp(-1)) < 1e-4);
 *   assert.ok(g.bytes > 0 && g.forward.dispatches > 0 && g.backward.dispatches > 0);
 *   device.destroy();
 * }
 * ```
 */
export interface GpuGradientResult {
  /** Saved states `[saved, rows, dim]`. */
  ys: Float64Array;
  /** The loss (NaN with given cotangents). */
  loss: number;
  /** `∂L/∂θ`. */
  params: Float64Array;
  /** `∂L/∂y0`, `[rows, dim]`. */
  y0: Float64Array;
  /** Reversible method: ∞-norm distance of the rebuilt `y0` from the true one, relative to the larger of `|y0|` and `|y(t1)|` (as the CPU's). */
  reconstructionError?: number;
  /** Commands of the forward solve. */
  forward: CommandCounts;
  /** Commands of the loss and the backward pass. */
  backward: CommandCounts;
  /** Bytes of GPU buffers the solve held. */
  bytes: number;
  /** Adaptive solves: the controller's outcome. */
  adaptive?: GpuAdaptiveRun;
}

/**
 * Solves once on the GPU, then back-propagates the loss against `targets`
 * (training's, e.g. `gpuMse`) or the given `cotangents` with the chosen method, and reads everything
 * back (one read-back).
 *
 * @param gpu A device, a {@link GpuDevice} or a context.
 * @param options The solve, the method, targets or cotangents.
 * @returns Outputs, loss and gradients.
 *
 * @example d y(1) / dθ for y' = θ y (θ = −1): e^θ
 * ```ts
 * import { gpuGradient } from "./one_shot.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const cotangents = new Float64Array(21);
 *   cotangents[20] = 1; // L = y(1)
 *   const g = await gpuGradient(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 20,
 *     y0: Float64Array.of(1), saveAt: { t0: true, steps: true },
 *     cotangents,
 *   });
 *   assert.ok(Math.abs(g.params[0] - Math.exp(-1)) < 1e-5);
 *   assert.ok(Math.abs(g.y0[0] - Math.exp(-1)) < 1e-5);
 *   assert.ok(g.reconstructionError! < 1e-5);
 *   device.destroy();
 * }
 * ```
 */
export async function gpuGradient(
  gpu: GpuLike,
  options: GpuGradientOptions,
): Promise<GpuGradientResult> {
  requireKnownKeys("options", options, [
    ...GPU_SOLVE_KEYS,
    "loss",
    "targets",
    "weights",
    "cotangents",
  ]);
  const { targets: _, weights: _w, cotangents: _c, loss, ...solveOptions } = options;
  const withTargets = options.targets !== undefined;
  if (withTargets === (options.cotangents !== undefined)) {
    throw new RangeError(
      "Invalid options: give exactly one of targets (with a loss) and cotangents.",
    );
  }
  if (withTargets !== (loss !== undefined)) {
    throw new RangeError("Invalid options: targets and a loss go together (gpuMse for the MSE).");
  }
  const solver = await allocating(
    gpu,
    "the solve's buffers",
    () => GpuSolver.create(gpu, { ...solveOptions, loss: loss ?? null }),
  );
  try {
    const { ctx, problem } = solver;
    solver.setData(withTargets ? options.targets! : options.cotangents!, options.weights);
    const rec = new Recorder(ctx);
    const scalars: Slice = ctx.buffer("scalars", 3);
    const reversible = solver.run.name === "reversible";
    const measure = reversible ? reconstructionOps(problem, scalars, 1) : null;
    solver.run.forward(rec);
    const forward = { ...rec.counts };
    rec.resetCounts();
    if (measure) rec.run(measure.scale, null);
    if (loss !== undefined) rec.run(loss.lossOps(ctx, problem.outputs, scalars, 0), null);
    solver.run.backward(rec, true);
    if (measure) rec.run(measure.diff, null);
    rec.submit();
    const backward = { ...rec.counts };
    const [ys, paramsBar, y0Bar, s] = await ctx.readMany([
      { slice: problem.outputs.ys },
      { slice: problem.paramsBar },
      { slice: problem.y0Bar },
      { slice: scalars },
    ]);
    return {
      ys: solver.rowsOf(ys, solver.saved),
      loss: withTargets ? s[0] : NaN,
      params: Float64Array.from(paramsBar),
      y0: solver.rowsOf(y0Bar, 1),
      reconstructionError: reversible ? s[1] / Math.max(s[2], Number.MIN_VALUE) : undefined,
      forward,
      backward,
      bytes: ctx.bytes,
      adaptive: (await solver.readAdaptive()) ?? undefined,
    };
  } finally {
    solver.destroy();
  }
}
