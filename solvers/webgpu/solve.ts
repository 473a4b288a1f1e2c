/**
 * A reversible solve of an MLP vector field on the GPU, with `solve()`'s
 * options by the same names (`field`, `scheme`, `steps` or `controller`,
 * `saveAt`, `gradient`) for what the GPU runs (support.ts says what, and
 * what to use instead), and three one-shot helpers for parity checks
 * against the CPU: {@link gpuSolve} (the trajectory),
 * {@link gpuReconstruction} (the inverse's drift) and {@link gpuGradient}
 * (outputs, loss and gradients).
 *
 * Everything runs in f32. All buffers are allocated when the solver is
 * created; recording a forward solve or a backward pass allocates nothing
 * and reads nothing back.
 *
 * @module
 */

import { Mlp, type MlpConfig } from "../fields/mlp.ts";
import { type CheckedTableau, checkTableau } from "../tableau.ts";
import type { SchemeSpec } from "../schemes/spec.ts";
import type { GradientSpec } from "../gradients/spec.ts";
import { solveCalls } from "./runtime/calls.ts";
import { allocating, GpuContext, type Slice } from "./runtime/context.ts";
import type { GpuDevice } from "./runtime/device.ts";
import { GpuMlp, type MlpKernels, type Tiling } from "./fields/mlp.ts";
import { type GpuLoss, GpuOutputs } from "./outputs.ts";
import { type CommandCounts, Recorder } from "./runtime/recorder.ts";
import { GpuReversibleScheme } from "./schemes/reversible.ts";
import { type GpuGradientRun, type GpuProblem, reconstructionOps } from "./gradients/problem.ts";
import { reversibleGradient } from "./gradients/reversible.ts";
import {
  chooseSolveKernel,
  restoredStates,
  wholeReversibleGradient,
  wholeSolveBytes,
} from "./gradients/whole.ts";
import { snapshotBytes } from "./gradients/whole_base.ts";
import { directGradient } from "./gradients/direct.ts";
import { checkpointCount, checkpointedGradient } from "./gradients/checkpointed.ts";
import { wholeCheckpointedGradient } from "./gradients/whole_checkpointed.ts";
import { wholeDirectGradient, wholeTapeBytes } from "./gradients/whole_direct.ts";
import {
  adaptiveCheckpointedGradient,
  adaptiveDirectGradient,
  type AdaptiveParts,
  adaptiveReversibleGradient,
} from "./gradients/adaptive.ts";
import { GpuAdaptive, type GpuAdaptiveRun } from "./adaptive.ts";
import { GpuIncrement } from "./increment.ts";
import { GpuInterpolation } from "./interpolation.ts";
import { tableaux } from "../tableaux.ts";
import { checkSaveAt, type SaveAt } from "../outputs.ts";
import { invalidArgument, requireFinite, requireInteger, requireKnownKeys } from "../checks.ts";
import { gpuSupport } from "./support.ts";
import type { PidController } from "../controller.ts";

/**
 * The keys of {@link GpuSolveOptions}: any other is refused, not ignored.
 *
 * @example
 * ```ts
 * import { GPU_SOLVE_KEYS } from "./solve.ts";
 * import assert from "node:assert/strict";
 * assert.ok(GPU_SOLVE_KEYS.includes("solveKernel"));
 * ```
 */
export const GPU_SOLVE_KEYS: readonly string[] = [
  "field",
  "params",
  "scheme",
  "t0",
  "t1",
  "steps",
  "controller",
  "dt0",
  "saveAt",
  "gradient",
  "y0",
  "batch",
  "tiling",
  "kernels",
  "solveKernel",
];

/**
 * What a GPU solve needs: `solve()`'s options, by the same names, for what
 * the GPU runs (support.ts: a reversible scheme; fixed steps saving every
 * step, or a controller saving at given times), and three GPU-only layout
 * choices (`batch`, `tiling`, `kernels`, `solveKernel`).
 *
 * @example
 * ```ts
 * import type { GpuSolveOptions } from "./solve.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolveOptions = {
 *   field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   scheme: reversible(rk4),
 *   t1: 1,
 *   steps: 10,
 *   y0: Float64Array.of(1),
 *   saveAt: { t0: true, steps: true },
 * };
 * assert.equal(options.gradient ?? "reversible", "reversible");
 * ```
 */
export interface GpuSolveOptions {
  /** The vector field: an {@link Mlp} or its JSON. */
  field: Mlp | MlpConfig;
  /** Parameters θ (float64; used as f32). */
  params: Float64Array;
  /** The scheme: `reversible(tableau, { coupling })`, any explicit tableau of at most 16 stages. */
  scheme: SchemeSpec;
  /** Start time (default 0). */
  t0?: number;
  /** End time. */
  t1: number;
  /** Number of uniform steps; or give a `controller`. */
  steps?: number;
  /** Adaptive step sizes from `pid()`: one step size for the whole batch (the worst trajectory decides); `maxSteps` trial steps are recorded per solve. */
  controller?: PidController;
  /** First step of an adaptive solve (default: Hairer's heuristic, smallest over the batch). */
  dt0?: number;
  /**
   * What is saved: with fixed steps `{ steps: true }` (every step), with a
   * controller `{ ts }` (by Hermite interpolation); `t0: true` saves `y(t0)`
   * too. Required: `solve()`'s default `{ t1: true }` is not a GPU form.
   */
  saveAt?: SaveAt;
  /** The gradient method (default `"reversible"`; `"backsolve"` is CPU-only). */
  gradient?: GradientSpec;
  /** Initial states `[rows, dim]`; `rows ≤ batch`. */
  y0: Float64Array;
  /** GPU-only: trajectories the buffers hold (default: the rows of `y0`). */
  batch?: number;
  /** GPU-only: tiled matrix products (default `"auto"`). */
  tiling?: Tiling;
  /** GPU-only: fused or per-layer network kernels (default `"auto"`: fused up to width 32). */
  kernels?: MlpKernels;
  /**
   * GPU-only: the gradient of fixed steps in one kernel per pass (`"whole"`:
   * one invocation runs a trajectory's whole solve, another its whole
   * backward pass; gradients/whole.ts, whole_checkpointed.ts,
   * whole_direct.ts) or in kernels per stage and step (`"steps"`). Default
   * `"auto"`: whole where it applies — a fused network, fixed steps, and
   * per-row gradients (`batch × P` values), checkpoints or tape within the
   * device's binding size.
   */
  solveKernel?: SolveKernel;
}

/**
 * How a solve is laid out in kernels: see {@link GpuSolveOptions.solveKernel}.
 *
 * @example
 * ```ts
 * import type { SolveKernel } from "./solve.ts";
 * import assert from "node:assert/strict";
 * const kinds: SolveKernel[] = ["auto", "whole", "steps"];
 * assert.equal(kinds.length, 3);
 * ```
 */
export type SolveKernel = "auto" | "whole" | "steps";

/**
 * Options of {@link GpuSolver.create}: a solve and the loss whose
 * cotangents its backward pass takes.
 *
 * @example
 * ```ts
 * import type { GpuSolverOptions } from "./solve.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolverOptions = {
 *   field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   scheme: reversible(rk4),
 *   t1: 1,
 *   steps: 10,
 *   y0: Float64Array.of(1),
 *   saveAt: { steps: true },
 *   gradient: "direct",
 * };
 * assert.equal(options.loss ?? null, null); // the data are cotangents
 * ```
 */
export interface GpuSolverOptions extends GpuSolveOptions {
  /** A loss of the outputs (training/webgpu/loss.ts), or null (default) when the data are the cotangents `∂L/∂ys`. */
  loss?: GpuLoss | null;
}

/**
 * A device, a {@link GpuDevice}, or a context whose buffers the caller
 * manages.
 *
 * @example
 * ```ts
 * import type { GpuLike } from "./solve.ts";
 * import assert from "node:assert/strict";
 * const none: GpuLike | null = null;
 * assert.equal(none, null);
 * ```
 */
export type GpuLike = GPUDevice | GpuDevice | GpuContext;

/**
 * A reversible solve of an MLP field on the GPU with its gradient method,
 * buffers allocated once.
 *
 * @example Forward solve against the CPU
 * ```ts
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { reversible, rk4, solve } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const mlp = new Mlp({ dim: 2, widths: [8], timeDependent: true });
 *   const params = mlp.init(0);
 *   const y0 = Float64Array.of(1, 0);
 *   // the same options as solve()'s
 *   const options = {
 *     field: mlp, y0, params, scheme: reversible(rk4), t1: 1, steps: 10,
 *     saveAt: { t0: true, steps: true },
 *   };
 *   const solver = GpuSolver.create(device, options);
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   const cpu = solve(options);
 *   for (let e = 0; e < ys.length; e++) assert.ok(Math.abs(ys[e] - cpu.ys[e]) < 1e-5);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export class GpuSolver {
  /** The context holding every buffer. */
  readonly ctx: GpuContext;
  /** The solve's buffers and kernels. */
  readonly problem: GpuProblem;
  /** The gradient method. */
  readonly run: GpuGradientRun;
  /** The network. */
  readonly mlp: Mlp;
  /** Trajectories the buffers hold. */
  readonly batch: number;
  /** Rows of the current data (the others are padding, masked out). */
  rows: number;
  /** Saved slots. */
  readonly saved: number;
  /** Grid times `t_0 … t_N`. */
  readonly times: Float64Array;
  /** Whether `y(t0)` is saved (slot 0). */
  readonly saveT0: boolean;
  /** Times of the saved slots. */
  readonly outputTimes: Float64Array;
  /** The step-size controller of an adaptive solve, or null for fixed steps. */
  readonly adaptive: GpuAdaptive | null = null;
  /** How the solve runs: in whole-solve kernels or per stage and step ({@link GpuSolveOptions.solveKernel}). */
  readonly solveKernel: "whole" | "steps";
  readonly #ownsContext: boolean;

  private constructor(
    ctx: GpuContext,
    ownsContext: boolean,
    options: GpuSolverOptions,
  ) {
    this.ctx = ctx;
    this.#ownsContext = ownsContext;
    const plan = planOf(options);
    const { mlp, tableau, t0, t1, ts, spec, method, batch } = plan;
    this.mlp = mlp;
    this.times = plan.times;
    this.batch = batch;
    this.rows = plan.rows;
    this.saveT0 = plan.saveT0;
    this.saved = (ts === null ? plan.steps : ts.length) + (this.saveT0 ? 1 : 0);
    const dim = mlp.dim;
    const steps = plan.steps;
    const slotOf = (n: number) => (this.saveT0 ? n : n - 1);
    const gpuMlp = new GpuMlp(ctx, mlp, batch, {
      tiling: options.tiling,
      kernels: options.kernels,
    });
    const [params, paramsBar] = ctx.arena("params", [mlp.paramCount, mlp.paramCount]);
    const partials = ctx.buffer("partials", gpuMlp.partialsLength);
    const [y0Slice, y0Bar] = ctx.arena("y0", [batch * dim, batch * dim]);
    const every = typeof spec === "object" && "checkpointEvery" in spec
      ? spec.checkpointEvery ?? 0
      : 0;
    this.solveKernel = chooseSolveKernel(options.solveKernel, {
      adaptive: ts !== null,
      method,
      fused: gpuMlp.fused,
      bytes: Math.max(
        wholeSolveBytes(batch, mlp.paramCount),
        ts !== null
          ? 0
          : method === "checkpointed"
          ? snapshotBytes(checkpointCount(steps, checkpointsOf(spec)), batch, dim)
          : method === "direct"
          ? wholeTapeBytes(steps, batch, tableau.stages, dim)
          : snapshotBytes(restoredStates(steps, every), batch, dim),
      ),
      limit: ctx.device.limits.maxStorageBufferBindingSize,
    });
    // the whole-solve kernels need neither the increments' stage buffers nor the per-step kernels
    const scheme = new GpuReversibleScheme(
      ctx,
      gpuMlp,
      tableau,
      plan.coupling,
      params,
      partials,
      { errorEstimate: ts !== null, perStep: this.solveKernel === "steps" },
    );
    const outputs = new GpuOutputs(ctx, {
      batch,
      dim,
      saved: this.saved,
      loss: options.loss ?? null,
    });
    let parts: AdaptiveParts | null = null;
    if (ts !== null) {
      const euler = checkTableau(tableaux.euler);
      const fieldA = new GpuIncrement(ctx, gpuMlp, euler, params, partials);
      const fieldB = new GpuIncrement(ctx, gpuMlp, euler, params, partials);
      const adaptive = new GpuAdaptive(ctx, {
        controller: options.controller!,
        tableau,
        t0,
        t1,
        dt0: options.dt0,
        ts,
        batch,
        dim,
        scheme,
        fieldA,
        fieldB,
        y0: y0Slice,
      }, this.saveT0);
      const base = this.saveT0 ? 1 : 0;
      const interpolation = new GpuInterpolation(ctx, adaptive, outputs, base);
      parts = { adaptive, interpolation, fieldA, fieldB, saveT0: this.saveT0 };
      this.adaptive = adaptive;
      this.outputTimes = this.saveT0 ? Float64Array.of(t0, ...ts) : ts.slice();
    } else {
      this.outputTimes = this.saveT0 ? this.times.slice() : this.times.slice(1);
    }
    const calls = parts === null
      ? solveCalls(ctx, this.times, tableau, slotOf)
      : parts.adaptive.calls;
    this.problem = {
      ctx,
      mlp: gpuMlp,
      scheme,
      calls,
      outputs,
      y0: y0Slice,
      params,
      partials,
      paramsBar,
      y0Bar,
    };
    ctx.write(params, options.params);
    this.setY0(options.y0);
    this.run = gradientRun(this.problem, parts, this.solveKernel, this.times, spec);
  }

  /**
   * Creates a solver: allocates every buffer, uploads `params` and `y0`,
   * prepares the call table. Kernels compile on first use.
   *
   * @param gpu A device, a {@link GpuDevice}, or a context (whose buffers the caller destroys).
   * @param options The solve, gradient method and data mode.
   * @returns The solver.
   */
  static create(gpu: GpuLike, options: GpuSolverOptions): GpuSolver {
    requireKnownKeys("options", options, [...GPU_SOLVE_KEYS, "loss"]);
    const owns = !(gpu instanceof GpuContext);
    const ctx = gpu instanceof GpuContext ? gpu : new GpuContext(gpu);
    return new GpuSolver(ctx, owns, options);
  }

  /**
   * Uploads parameters (converted to f32).
   *
   * @param params θ, length `paramCount`.
   */
  setParams(params: Float64Array): void {
    if (params.length !== this.mlp.paramCount) {
      throw new RangeError(
        `Invalid params: got ${params.length}; expected ${this.mlp.paramCount}.`,
      );
    }
    requireFinite("params", params);
    this.ctx.write(this.problem.params, params);
  }

  /**
   * Uploads initial states `[rows, dim]` with `rows ≤ batch`; rows past them
   * repeat row 0 (finite dynamics for padding; mask them with
   * {@link GpuOutputs.setWeights}).
   *
   * @param y0 The states.
   */
  setY0(y0: Float64Array): void {
    const dim = this.mlp.dim;
    const rows = y0.length / dim;
    if (!Number.isInteger(rows) || rows < 1 || rows > this.batch) {
      throw new RangeError(
        `Invalid y0: got length ${y0.length}; expected [rows, ${dim}] with 1 <= rows <= ${this.batch}.`,
      );
    }
    for (let i = 0; i < y0.length; i++) {
      if (!Number.isFinite(y0[i])) {
        throw new RangeError(`Invalid y0[${i}]: got ${y0[i]}; expected a finite number.`);
      }
    }
    const full = new Float64Array(this.batch * dim);
    full.set(y0);
    for (let b = rows; b < this.batch; b++) full.set(y0.subarray(0, dim), b * dim);
    this.ctx.write(this.problem.y0, full);
    this.rows = rows;
  }

  /**
   * Uploads the loss's data (e.g. targets) or, without a loss, the cotangents `[saved, rows, dim]`, with
   * `rows` the rows of the current `y0`; padding rows are zero and masked.
   * Also sets the per-saved-row weights.
   *
   * @param data The values.
   * @param weights One weight per saved row (default all ones).
   * @returns The loss's denominator `Σ w · rows · dim`.
   */
  setData(data: Float64Array, weights?: Float64Array): number {
    const { saved, rows, batch } = this;
    const dim = this.mlp.dim;
    if (data.length !== saved * rows * dim) {
      throw new RangeError(
        `Invalid data: got length ${data.length}; expected [saved, rows, dim] = ` +
          `[${saved}, ${rows}, ${dim}] = ${saved * rows * dim}.`,
      );
    }
    const full = rows === batch ? data : new Float64Array(saved * batch * dim);
    if (full !== data) {
      for (let s = 0; s < saved; s++) {
        full.set(data.subarray(s * rows * dim, (s + 1) * rows * dim), s * batch * dim);
      }
    }
    this.ctx.write(this.problem.outputs.data, full);
    return this.problem.outputs.setWeights(weights, rows);
  }

  /**
   * Reads the saved outputs of the current rows (one read-back).
   *
   * @returns `[saved, rows, dim]`.
   */
  async readYs(): Promise<Float64Array> {
    const all = await this.ctx.read(this.problem.outputs.ys);
    return this.#rowsOf(all, this.saved);
  }

  /**
   * Reads `∂L/∂θ` (one read-back).
   *
   * @returns The gradient.
   */
  async readParamsBar(): Promise<Float64Array> {
    return Float64Array.from(await this.ctx.read(this.problem.paramsBar));
  }

  /**
   * Adaptive solves: the controller's outcome of the latest forward solve
   * (one read-back); null for fixed steps.
   *
   * @returns Status, accepted and rejected steps, the time reached and the accepted times.
   */
  async readAdaptive(): Promise<GpuAdaptiveRun | null> {
    return this.adaptive === null ? null : await this.adaptive.read();
  }

  /** Releases every buffer (and the context, when the solver created it). */
  destroy(): void {
    if (this.#ownsContext) this.ctx.destroy();
  }

  /** Keeps the current rows of `[slots, batch, dim]` values. */
  #rowsOf(all: Float32Array, slots: number): Float64Array {
    const dim = this.mlp.dim;
    const { rows, batch } = this;
    const out = new Float64Array(slots * rows * dim);
    for (let s = 0; s < slots; s++) {
      for (let e = 0; e < rows * dim; e++) out[s * rows * dim + e] = all[s * batch * dim + e];
    }
    return out;
  }

  /**
   * Keeps the current rows of `[slots, batch, dim]` values read back.
   *
   * @param all Values of every row.
   * @param slots Leading dimension.
   * @returns `[slots, rows, dim]` as float64.
   */
  rowsOf(all: Float32Array, slots: number): Float64Array {
    return this.#rowsOf(all, slots);
  }
}

/**
 * The trajectory from {@link gpuSolve}.
 *
 * @example
 * ```ts
 * import type { GpuTrajectory } from "./solve.ts";
 * import assert from "node:assert/strict";
 *
 * const last = (r: GpuTrajectory, dim: number) => r.ys.subarray(r.ys.length - dim);
 * assert.equal(typeof last, "function"); // see gpuSolve
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
 * import { gpuSolve } from "./solve.ts";
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
 * import type { GpuReconstruction } from "./solve.ts";
 * import assert from "node:assert/strict";
 *
 * const acceptable = (r: GpuReconstruction) => r.error < 1e-4;
 * assert.equal(typeof acceptable, "function"); // see gpuReconstruction
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
 * import { gpuReconstruction } from "./solve.ts";
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
    const { ctx, problem } = solver;
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
 * import type { GpuGradientOptions } from "./solve.ts";
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
 * assert.equal(options.loss?.name, "mse");
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
 * import type { GpuGradientResult } from "./solve.ts";
 * import assert from "node:assert/strict";
 *
 * const norm = (g: GpuGradientResult) => Math.hypot(...g.params);
 * assert.equal(typeof norm, "function"); // see gpuGradient
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
 * import { gpuGradient } from "./solve.ts";
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

/** The `checkpoints` of a checkpointed gradient's spec, if given. */
function checkpointsOf(spec: GradientSpec): number | undefined {
  return typeof spec === "object" && "checkpoints" in spec ? spec.checkpoints : undefined;
}

/** A checked {@link GpuSolveOptions}: what the constructor builds from. */
interface SolvePlan {
  mlp: Mlp;
  tableau: CheckedTableau;
  coupling: number;
  t0: number;
  t1: number;
  /** Uniform steps (1 for an adaptive solve, whose grid the controller makes). */
  steps: number;
  /** Grid times `t_0 … t_N` of fixed steps (`[t0, t1]` when adaptive). */
  times: Float64Array;
  /** The output times of an adaptive solve, or null for fixed steps. */
  ts: Float64Array | null;
  saveT0: boolean;
  spec: GradientSpec;
  method: string;
  rows: number;
  batch: number;
}

/**
 * Checks the options — first what the GPU supports (support.ts), then each
 * argument — and works out the grid, the outputs and the sizes.
 */
function planOf(options: GpuSolveOptions): SolvePlan {
  const why = gpuSupport(options);
  if (why !== null) throw new RangeError(`This solve does not run on the WebGPU backend: ${why}`);
  const field = options.field;
  if (field === null || typeof field !== "object") {
    invalidArgument("field", field, "an Mlp or its JSON (the GPU runs MLP vector fields)");
  }
  const mlp = field instanceof Mlp ? field : Mlp.fromJSON(field);
  const scheme = options.scheme as Extract<SchemeSpec, { kind: "reversible" }>;
  const tableau = checkTableau(scheme.tableau);
  const adaptive = options.controller !== undefined;
  if (adaptive && options.steps !== undefined) {
    invalidArgument("steps", options.steps, "no steps with a controller (give one of the two)");
  }
  if (!adaptive && options.dt0 !== undefined) {
    invalidArgument(
      "dt0",
      options.dt0,
      "no dt0 without a controller (it is an adaptive first step)",
    );
  }
  const steps = adaptive ? 1 : requireInteger("steps", options.steps, 1);
  const t0 = options.t0 ?? 0;
  const t1 = options.t1;
  if (!Number.isFinite(t0)) invalidArgument("t0", t0, "a finite number");
  if (!(Number.isFinite(t1) && t1 > t0)) invalidArgument("t1", t1, `a finite number > t0 = ${t0}`);
  const times = new Float64Array(steps + 1);
  for (let n = 0; n <= steps; n++) times[n] = n === steps ? t1 : t0 + ((t1 - t0) * n) / steps;
  const y0 = options.y0;
  if (!(y0 instanceof Float64Array) || y0.length === 0 || y0.length % mlp.dim !== 0) {
    invalidArgument("y0", y0?.length, `a Float64Array [rows, dim] with dim = ${mlp.dim}`);
  }
  const rows = y0.length / mlp.dim;
  const batch = options.batch ?? rows;
  if (!Number.isInteger(batch) || batch < rows) {
    invalidArgument("batch", batch, `an integer >= the ${rows} rows of y0`);
  }
  if (!(options.params instanceof Float64Array) || options.params.length !== mlp.paramCount) {
    invalidArgument("params", options.params?.length, `a Float64Array of length ${mlp.paramCount}`);
  }
  requireFinite("params", options.params);
  const saveAt = checkSaveAt(options.saveAt, t0, t1);
  const ts = adaptive ? adaptiveTimes(options, saveAt.ts) : null;
  const spec = options.gradient ?? "reversible";
  const method = typeof spec === "string" ? spec : spec.method;
  return {
    mlp,
    tableau,
    coupling: scheme.coupling,
    t0,
    t1,
    steps,
    times,
    ts,
    saveT0: saveAt.t0,
    spec,
    method,
    rows,
    batch,
  };
}

/** The checked output times of an adaptive solve. */
function adaptiveTimes(options: GpuSolveOptions, ts: Float64Array): Float64Array {
  if (options.controller?.kind !== "pid") {
    invalidArgument("controller", options.controller, "a controller from pid({ rtol, atol, … })");
  }
  const dt0 = options.dt0;
  if (dt0 !== undefined && !(dt0 > 0 && Number.isFinite(dt0))) {
    invalidArgument("dt0", dt0, "a finite number > 0");
  }
  if (ts.length === 0) invalidArgument("saveAt.ts", "[]", "at least one output time");
  return ts;
}

/** The gradient method's run, in whole-solve or per-step kernels, or around the adaptive parts. */
function gradientRun(
  problem: GpuProblem,
  parts: AdaptiveParts | null,
  solveKernel: "whole" | "steps",
  times: Float64Array,
  spec: GradientSpec,
): GpuGradientRun {
  const method = typeof spec === "string" ? spec : spec.method;
  const every = typeof spec === "object" && "checkpointEvery" in spec
    ? spec.checkpointEvery ?? 0
    : 0;
  const whole = solveKernel === "whole";
  if (parts !== null) {
    return method === "direct"
      ? adaptiveDirectGradient(problem, parts)
      : method === "checkpointed"
      ? adaptiveCheckpointedGradient(problem, parts, checkpointsOf(spec))
      : adaptiveReversibleGradient(problem, parts);
  }
  if (method === "direct") {
    return whole ? wholeDirectGradient(problem, times) : directGradient(problem);
  }
  if (method === "checkpointed") {
    return whole
      ? wholeCheckpointedGradient(problem, times, checkpointsOf(spec))
      : checkpointedGradient(problem, checkpointsOf(spec));
  }
  return whole
    ? wholeReversibleGradient(problem, times, every)
    : reversibleGradient(problem, every);
}
