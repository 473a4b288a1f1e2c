/**
 * A reversible solve of an MLP vector field on the GPU, with `solve()`'s
 * options by the same names (`field`, `scheme`, `steps` or `controller`,
 * `saveAt`, `gradient`; options.ts) for what the GPU runs (support.ts says
 * what, and what to use instead), and its gradient method. The one-shot
 * helpers that drive it for parity checks against the CPU are in
 * one_shot.ts.
 *
 * Everything runs in f32. All buffers are allocated when the solver is
 * created; recording a forward solve or a backward pass allocates nothing
 * and reads nothing back.
 *
 * @module
 */

import type { Mlp } from "../fields/mlp.ts";
import { checkTableau } from "../tableau.ts";

import type { GradientSpec } from "../gradients/spec.ts";
import { solveCalls } from "./runtime/calls.ts";
import { GpuContext } from "./runtime/context.ts";

import { GpuMlp } from "./fields/mlp.ts";
import { GpuOutputs } from "./outputs.ts";

import { GpuReversibleScheme, GpuReversibleState } from "./schemes/reversible.ts";
import type { GpuGradientRun, GpuProblem, GpuStateProblem } from "./gradients/problem.ts";
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

import { requireFinite, requireKnownKeys } from "../checks.ts";

import {
  checkpointsOf,
  GPU_SOLVE_KEYS,
  type GpuLike,
  type GpuSolverOptions,
  planOf,
} from "./options.ts";

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
  readonly problem: GpuStateProblem;
  /** The same problem with the scheme's per-step kernels, or null where the whole-solve kernels run it. */
  readonly steppedProblem: GpuProblem | null;
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
    // the whole-solve kernels keep the stage values in each invocation's own memory:
    // their scheme is the state alone, without increments or per-step kernels
    const stepped = this.solveKernel === "steps"
      ? new GpuReversibleScheme(ctx, gpuMlp, tableau, plan.coupling, params, partials, {
        errorEstimate: ts !== null,
      })
      : null;
    const scheme = stepped ?? new GpuReversibleState(ctx, gpuMlp, tableau, plan.coupling);
    const outputs = new GpuOutputs(ctx, {
      batch,
      dim,
      saved: this.saved,
      loss: options.loss ?? null,
    });
    let parts: AdaptiveParts | null = null;
    if (ts !== null) {
      // adaptive solves record one trial step at a time (chooseSolveKernel: "steps")
      const steps = stepped!;
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
        scheme: steps,
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
    this.steppedProblem = stepped === null ? null : { ...this.problem, scheme: stepped };
    this.run = gradientRun(this.problem, this.steppedProblem, parts, this.times, spec);
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
 * The gradient method's run: around the adaptive parts, or in per-step
 * kernels (given the problem with the scheme's steps), or in whole-solve
 * kernels.
 */
function gradientRun(
  problem: GpuStateProblem,
  stepped: GpuProblem | null,
  parts: AdaptiveParts | null,
  times: Float64Array,
  spec: GradientSpec,
): GpuGradientRun {
  const method = typeof spec === "string" ? spec : spec.method;
  const every = typeof spec === "object" && "checkpointEvery" in spec
    ? spec.checkpointEvery ?? 0
    : 0;
  if (stepped === null) {
    return method === "direct"
      ? wholeDirectGradient(problem, times)
      : method === "checkpointed"
      ? wholeCheckpointedGradient(problem, times, checkpointsOf(spec))
      : wholeReversibleGradient(problem, times, every);
  }
  if (parts !== null) {
    return method === "direct"
      ? adaptiveDirectGradient(stepped, parts)
      : method === "checkpointed"
      ? adaptiveCheckpointedGradient(stepped, parts, checkpointsOf(spec))
      : adaptiveReversibleGradient(stepped, parts);
  }
  return method === "direct"
    ? directGradient(stepped)
    : method === "checkpointed"
    ? checkpointedGradient(stepped, checkpointsOf(spec))
    : reversibleGradient(stepped, every);
}
