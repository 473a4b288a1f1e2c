/**
 * One fixed-step reversible solve of an MLP vector field on the GPU — the
 * scheme × time grid × saved outputs × gradient method combination of
 * solvers/solve.ts, for `saveAt: { t0?, steps: true }` — and two one-shot
 * helpers for parity checks against the CPU: {@link gpuSolve} (the
 * trajectory) and {@link gpuGradient} (outputs, loss and gradients).
 *
 * Everything runs in f32. All buffers are allocated when the solver is
 * created; recording a forward solve or a backward pass allocates nothing
 * and reads nothing back.
 *
 * @module
 */

import { Mlp, type MlpConfig } from "../fields/mlp.ts";
import { checkTableau, type Tableau } from "../tableau.ts";
import { DEFAULT_COUPLING } from "../schemes/spec.ts";
import { solveCalls } from "./runtime/calls.ts";
import { allocating, GpuContext, type Slice } from "./runtime/context.ts";
import type { GpuDevice } from "./runtime/device.ts";
import { mseLossOps } from "./loss.ts";
import { GpuMlp, type MlpKernels, type Tiling } from "./fields/mlp.ts";
import { GpuOutputs } from "./outputs.ts";
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
import { checkSaveAt } from "../outputs.ts";
import { requireFinite, requireKnownKeys } from "../checks.ts";
import type { PidController } from "../controller.ts";

/**
 * The gradient methods the GPU backend has (backsolve is CPU-only).
 *
 * @example
 * ```ts
 * import type { GpuGradientSpec } from "./solve.ts";
 * import assert from "node:assert/strict";
 *
 * const specs: GpuGradientSpec[] = ["reversible", { method: "checkpointed", checkpoints: 8 }];
 * assert.equal(specs.length, 2);
 * ```
 */
export type GpuGradientSpec =
  | "reversible"
  | "direct"
  | "checkpointed"
  | { readonly method: "reversible"; readonly checkpointEvery?: number }
  | { readonly method: "direct" }
  | { readonly method: "checkpointed"; readonly checkpoints?: number };

/**
 * Adaptive steps on the GPU (adaptive.ts): a PID controller on the
 * embedded error estimate, one step size for the whole batch (the worst
 * trajectory decides), outputs at the times `ts` by Hermite interpolation.
 * The solve saves `y(t0)` (unless `saveT0` is false) and then `y` at `ts`.
 *
 * @example
 * ```ts
 * import type { GpuAdaptiveOptions } from "./solve.ts";
 * import { pid } from "../controller.ts";
 * import assert from "node:assert/strict";
 *
 * const a: GpuAdaptiveOptions = { controller: pid({ rtol: 1e-6, atol: 1e-6, maxSteps: 1000 }), ts: [0.5, 1] };
 * assert.equal(a.controller.maxSteps, 1000);
 * ```
 */
export interface GpuAdaptiveOptions {
  /** The controller, from `pid()`; `maxSteps` trial steps are recorded per solve. */
  controller: PidController;
  /** Output times, strictly increasing, inside `[t0, t1]` (at least one). */
  ts: ArrayLike<number>;
  /** First step (default: the heuristic of Hairer, Nørsett & Wanner, smallest over the batch). */
  dt0?: number;
}

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
  "mlp",
  "params",
  "tableau",
  "coupling",
  "t0",
  "t1",
  "dt",
  "steps",
  "adaptive",
  "y0",
  "batch",
  "saveT0",
  "tiling",
  "kernels",
  "solveKernel",
];

/**
 * What a GPU solve needs.
 *
 * @example
 * ```ts
 * import type { GpuSolveOptions } from "./solve.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolveOptions = {
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   tableau: rk4,
 *   dt: 0.1,
 *   steps: 10,
 *   y0: Float64Array.of(1),
 * };
 * assert.equal(options.saveT0 ?? true, true);
 * ```
 */
export interface GpuSolveOptions {
  /** The vector field's architecture (a {@link Mlp} or its JSON). */
  mlp: Mlp | MlpConfig;
  /** Parameters θ (float64; used as f32). */
  params: Float64Array;
  /** The base Runge–Kutta method (any explicit tableau of at most 16 stages). */
  tableau: Tableau;
  /** Coupling λ of the reversible scheme (default 0.999). */
  coupling?: number;
  /** Start time (default 0). */
  t0?: number;
  /** End time; or give `dt`. */
  t1?: number;
  /** Step size, when `t1` is not given: `t1 = t0 + steps · dt`. */
  dt?: number;
  /** Number of uniform steps; or give `adaptive`. */
  steps?: number;
  /** Adaptive steps instead of `steps`: see {@link GpuAdaptiveOptions}. */
  adaptive?: GpuAdaptiveOptions;
  /** Initial states `[rows, dim]`; `rows ≤ batch`. */
  y0: Float64Array;
  /** Trajectories the buffers hold (default: the rows of `y0`). */
  batch?: number;
  /** Save `y(t0)` as well as the end of every step (default true). */
  saveT0?: boolean;
  /** Tiled matrix products (default `"auto"`). */
  tiling?: Tiling;
  /** Fused or per-layer network kernels (default `"auto"`: fused up to width 32). */
  kernels?: MlpKernels;
  /**
   * The gradient of fixed steps in one kernel per pass (`"whole"`: one
   * invocation runs a trajectory's whole solve, another its whole backward
   * pass; gradients/whole.ts, whole_checkpointed.ts, whole_direct.ts) or in
   * kernels per stage and step (`"steps"`). Default `"auto"`: whole where it
   * applies — a fused network, fixed steps, and per-row gradients (`batch ×
   * P` values), checkpoints or tape within the device's binding size.
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
 * Options of {@link GpuSolver.create}.
 *
 * @example
 * ```ts
 * import type { GpuSolverOptions } from "./solve.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolverOptions = {
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   tableau: rk4,
 *   t1: 1,
 *   steps: 10,
 *   y0: Float64Array.of(1),
 *   gradient: "direct",
 * };
 * assert.equal(options.mode ?? "mse", "mse");
 * ```
 */
export interface GpuSolverOptions extends GpuSolveOptions {
  /** The gradient method (default `"reversible"`). */
  gradient?: GpuGradientSpec;
  /** Whether the data are MSE targets (default) or given cotangents. */
  mode?: "mse" | "cotangents";
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
 *   const solver = GpuSolver.create(device, { mlp, params, tableau: rk4, t1: 1, steps: 10, y0 });
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   const cpu = solve({
 *     field: mlp, y0, params, scheme: reversible(rk4), t0: 0, t1: 1, steps: 10,
 *     saveAt: { t0: true, steps: true },
 *   });
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
    const mlp = options.mlp instanceof Mlp ? options.mlp : Mlp.fromJSON(options.mlp);
    this.mlp = mlp;
    const dim = mlp.dim;
    const tableau = checkTableau(options.tableau);
    const adaptiveOptions = options.adaptive;
    const steps = adaptiveOptions === undefined ? options.steps : 1;
    if (adaptiveOptions !== undefined && options.steps !== undefined) {
      throw new RangeError(
        `Invalid steps: got ${options.steps} with adaptive steps; give one of steps and adaptive.`,
      );
    }
    if (!Number.isInteger(steps) || steps! < 1) {
      throw new RangeError(`Invalid steps: got ${steps}; expected an integer >= 1.`);
    }
    const t0 = options.t0 ?? 0;
    const t1 = options.t1 ??
      (options.dt !== undefined && adaptiveOptions === undefined ? t0 + steps! * options.dt : NaN);
    if (!Number.isFinite(t0) || !Number.isFinite(t1) || !(t1 > t0)) {
      throw new RangeError(
        `Invalid time span: got t0 = ${t0}, t1 = ${options.t1}, dt = ${options.dt}; ` +
          "expected finite t0 < t1 (give t1, or dt > 0).",
      );
    }
    this.times = new Float64Array(steps! + 1);
    for (let n = 0; n <= steps!; n++) {
      this.times[n] = n === steps ? t1 : t0 + ((t1 - t0) * n) / steps!;
    }
    const y0 = options.y0;
    if (!(y0 instanceof Float64Array) || y0.length === 0 || y0.length % dim !== 0) {
      throw new RangeError(
        `Invalid y0: expected a Float64Array [rows, dim] with dim = ${dim}; got length ${y0?.length}.`,
      );
    }
    const rows = y0.length / dim;
    const batch = options.batch ?? rows;
    if (!Number.isInteger(batch) || batch < rows) {
      throw new RangeError(
        `Invalid batch: got ${batch}; expected an integer >= the ${rows} rows of y0.`,
      );
    }
    this.batch = batch;
    this.rows = rows;
    if (!(options.params instanceof Float64Array) || options.params.length !== mlp.paramCount) {
      throw new RangeError(
        `Invalid params: expected a Float64Array of length ${mlp.paramCount}; got ${options.params?.length}.`,
      );
    }
    requireFinite("params", options.params);
    this.saveT0 = options.saveT0 ?? true;
    const ts = adaptiveOptions === undefined
      ? null
      : checkOutputTimes(adaptiveOptions, t0, t1, options.gradient ?? "reversible");
    this.saved = (ts === null ? steps! : ts.length) + (this.saveT0 ? 1 : 0);
    const slotOf = (n: number) => (this.saveT0 ? n : n - 1);
    const gpuMlp = new GpuMlp(ctx, mlp, batch, {
      tiling: options.tiling,
      kernels: options.kernels,
    });
    const [params, paramsBar] = ctx.arena("params", [mlp.paramCount, mlp.paramCount]);
    const partials = ctx.buffer("partials", gpuMlp.partialsLength);
    const [y0Slice, y0Bar] = ctx.arena("y0", [batch * dim, batch * dim]);
    const coupling = options.coupling ?? DEFAULT_COUPLING;
    const spec = options.gradient ?? "reversible";
    const method = typeof spec === "string" ? spec : spec.method;
    const every = typeof spec === "object" && "checkpointEvery" in spec
      ? spec.checkpointEvery ?? 0
      : 0;
    this.solveKernel = chooseSolveKernel(options.solveKernel, {
      adaptive: adaptiveOptions !== undefined,
      method,
      fused: gpuMlp.fused,
      bytes: Math.max(
        wholeSolveBytes(batch, mlp.paramCount),
        adaptiveOptions !== undefined
          ? 0
          : method === "checkpointed"
          ? snapshotBytes(checkpointCount(steps!, checkpointsOf(spec)), batch, dim)
          : method === "direct"
          ? wholeTapeBytes(steps!, batch, tableau.stages, dim)
          : snapshotBytes(restoredStates(steps!, every), batch, dim),
      ),
      limit: ctx.device.limits.maxStorageBufferBindingSize,
    });
    // the whole-solve kernels need neither the increments' stage buffers nor the per-step kernels
    const scheme = new GpuReversibleScheme(ctx, gpuMlp, tableau, coupling, params, partials, {
      errorEstimate: adaptiveOptions !== undefined,
      perStep: this.solveKernel === "steps",
    });
    const outputs = new GpuOutputs(ctx, {
      batch,
      dim,
      saved: this.saved,
      mode: options.mode ?? "mse",
    });
    let parts: AdaptiveParts | null = null;
    if (ts !== null) {
      const euler = checkTableau(tableaux.euler);
      const fieldA = new GpuIncrement(ctx, gpuMlp, euler, params, partials);
      const fieldB = new GpuIncrement(ctx, gpuMlp, euler, params, partials);
      const adaptive = new GpuAdaptive(ctx, {
        controller: adaptiveOptions!.controller,
        tableau,
        t0,
        t1,
        dt0: adaptiveOptions!.dt0,
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
    this.setY0(y0);
    if (parts !== null) {
      this.run = method === "direct"
        ? adaptiveDirectGradient(this.problem, parts)
        : method === "checkpointed"
        ? adaptiveCheckpointedGradient(this.problem, parts, checkpointsOf(spec))
        : adaptiveReversibleGradient(this.problem, parts);
    } else if (method === "reversible") {
      this.run = this.solveKernel === "whole"
        ? wholeReversibleGradient(this.problem, this.times, every)
        : reversibleGradient(this.problem, every);
    } else if (method === "direct") {
      this.run = this.solveKernel === "whole"
        ? wholeDirectGradient(this.problem, this.times)
        : directGradient(this.problem);
    } else if (method === "checkpointed") {
      this.run = this.solveKernel === "whole"
        ? wholeCheckpointedGradient(this.problem, this.times, checkpointsOf(spec))
        : checkpointedGradient(this.problem, checkpointsOf(spec));
    } else {
      throw new RangeError(
        `Invalid gradient: got ${JSON.stringify(spec)}; expected "reversible", "direct" or ` +
          '"checkpointed" (the continuous adjoint "backsolve" runs on the CPU backend only).',
      );
    }
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
    requireKnownKeys("options", options, [...GPU_SOLVE_KEYS, "gradient", "mode"]);
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
   * Uploads targets (`mse` mode) or cotangents `[saved, rows, dim]`, with
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
 * import { rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // f(y) = −y: one linear layer with weight −1, bias 0
 *   const { ts, ys } = await gpuSolve(device, {
 *     mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), tableau: rk4, t1: 1, steps: 20, y0: Float64Array.of(1),
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
 * import { rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const r = await gpuReconstruction(device, {
 *     mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), tableau: rk4, t1: 1, steps: 50, y0: Float64Array.of(1),
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
  if (options.adaptive !== undefined) {
    throw new RangeError(
      "Invalid adaptive: gpuReconstruction takes fixed steps; an adaptive solve's " +
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
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuGradientOptions = {
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   tableau: rk4,
 *   t1: 1,
 *   steps: 4,
 *   y0: Float64Array.of(1),
 *   targets: new Float64Array(5),
 * };
 * assert.equal(options.cotangents, undefined);
 * ```
 */
export interface GpuGradientOptions extends GpuSolveOptions {
  /** The gradient method (default `"reversible"`). */
  gradient?: GpuGradientSpec;
  /** MSE targets `[saved, rows, dim]`; or give `cotangents`. */
  targets?: Float64Array;
  /** Per-saved-row weights of the MSE (default all ones). */
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
  /** The MSE loss (NaN with given cotangents). */
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
 * Solves once on the GPU, then back-propagates the MSE against `targets`
 * (or the given `cotangents`) with the chosen method, and reads everything
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
 * import { rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const cotangents = new Float64Array(21);
 *   cotangents[20] = 1; // L = y(1)
 *   const g = await gpuGradient(device, {
 *     mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), tableau: rk4, t1: 1, steps: 20, y0: Float64Array.of(1),
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
    "gradient",
    "targets",
    "weights",
    "cotangents",
  ]);
  const { targets: _, weights: _w, cotangents: _c, ...solveOptions } = options;
  const withTargets = options.targets !== undefined;
  if (withTargets === (options.cotangents !== undefined)) {
    throw new RangeError("Invalid options: give exactly one of targets and cotangents.");
  }
  const solver = await allocating(
    gpu,
    "the solve's buffers",
    () => GpuSolver.create(gpu, { ...solveOptions, mode: withTargets ? "mse" : "cotangents" }),
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
    if (withTargets) rec.run(mseLossOps(ctx, problem.outputs, scalars, 0), null);
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
function checkpointsOf(spec: GpuGradientSpec): number | undefined {
  return typeof spec === "object" && "checkpoints" in spec ? spec.checkpoints : undefined;
}

/** The checked output times of an adaptive solve; refuses what the GPU cannot do adaptively. */
function checkOutputTimes(
  a: GpuAdaptiveOptions,
  t0: number,
  t1: number,
  gradient: GpuGradientSpec,
): Float64Array {
  if (a === null || typeof a !== "object" || a.controller?.kind !== "pid") {
    throw new RangeError(
      "Invalid adaptive: expected { controller: pid({ rtol, atol, … }), ts: [...] }.",
    );
  }
  requireKnownKeys("adaptive", a, ["controller", "ts", "dt0"]);
  const method = typeof gradient === "string" ? gradient : gradient.method;
  const every = typeof gradient === "object" && "checkpointEvery" in gradient
    ? gradient.checkpointEvery ?? 0
    : 0;
  if (!["reversible", "direct", "checkpointed"].includes(method) || every !== 0) {
    throw new RangeError(
      `Invalid gradient: got ${JSON.stringify(gradient)} with adaptive steps; on the GPU ` +
        'adaptive steps take the "reversible" (without checkpointEvery), "direct" or ' +
        '"checkpointed" gradient.',
    );
  }
  if (a.dt0 !== undefined && !(a.dt0 > 0 && Number.isFinite(a.dt0))) {
    throw new RangeError(`Invalid adaptive.dt0: got ${a.dt0}; expected a finite number > 0.`);
  }
  const ts = checkSaveAt({ ts: a.ts }, t0, t1).ts;
  if (ts.length === 0) {
    throw new RangeError("Invalid adaptive.ts: expected at least one output time.");
  }
  return ts;
}
