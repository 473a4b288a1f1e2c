/**
 * A whole training step of a neural ODE on the GPU — the mirror of one
 * iteration of training/train.ts's loop: solve forward from `y0` saving
 * every step, MSE against the targets, back-propagate with the chosen
 * gradient method (reversible by default), optionally clip, AdamW. All
 * buffers are allocated once, by {@link GpuTrainer.create}; a step records
 * one command buffer, writes two small uniforms and submits, with no read
 * back to the CPU. The loss, the parameters and the rest are read only when
 * asked.
 *
 * A non-finite loss or gradient is detected on the GPU: that step's update
 * is skipped, the trainer is marked diverged (see {@link GpuTrainer.readStatus})
 * and every later step leaves the parameters alone, so the last good
 * parameters are kept, as the CPU loop does. The parameters of the lowest
 * loss are kept as well ({@link GpuTrainer.readBestParams}).
 *
 * @module
 */

import type { Mlp } from "../../solvers/fields/mlp.ts";

import type { AdamWState } from "../adamw.ts";
import { GpuAdamW } from "./adamw.ts";
import type { Slice } from "../../solvers/webgpu/runtime/context.ts";
import { gpuMse } from "./loss.ts";
import {
  type CommandCounts,
  type KernelTiming,
  type Op,
  Recorder,
} from "../../solvers/webgpu/runtime/recorder.ts";
import { reductionOps } from "../../solvers/webgpu/runtime/reduce.ts";
import { reconstructionOps } from "../../solvers/webgpu/gradients/problem.ts";
import {
  GPU_SOLVE_KEYS,
  type GpuLike,
  type GpuSolveOptions,
  type GpuSolverOptions,
} from "../../solvers/webgpu/options.ts";
import { GpuSolver } from "../../solvers/webgpu/solve.ts";
import { requireKnownKeys } from "../../solvers/checks.ts";
import { isFinite, linearGroups, linearMain } from "../../solvers/webgpu/runtime/wgsl.ts";

/** The keys of {@link GpuTrainerOptions} besides the solve's. */
const TRAINER_KEYS = [
  "targets",
  "weights",
  "lr",
  "weightDecay",
  "beta1",
  "beta2",
  "eps",
  "clip",
  "optimizer",
  "iteration",
  "lossHistory",
  "profile",
];

/** The trainer's options that configure its solver. */
function solverOptions(options: GpuTrainerOptions): GpuSolverOptions {
  const picked: Record<string, unknown> = {};
  for (const key of GPU_SOLVE_KEYS) {
    if (key in options) picked[key] = (options as unknown as Record<string, unknown>)[key];
  }
  return picked as unknown as GpuSolverOptions;
}

/** Indices of the trainer's status scalars. */
const S = {
  loss: 0,
  normSq: 1,
  ok: 2,
  improved: 3,
  best: 4,
  bestIteration: 5,
  diverged: 6,
  divergedIteration: 7,
  reconDiff: 8,
  reconScale: 9,
  iteration: 10,
  solveFailed: 11,
  divergedBy: 12,
} as const;
const STATUS_LENGTH = 13;
/** What stopped the updates, by the code the gate keeps (`solveFailed`'s value, 0 for the loss). */
const DIVERGED_BY = ["loss", "solve", "trials"] as const;
/** Largest finite f32: the "no loss yet" best loss (no infinities on the GPU). */
const F32_MAX = 3.4028234663852886e38;

/**
 * Options of {@link GpuTrainer.create}.
 *
 * @example
 * ```ts
 * import { GpuTrainer, type GpuTrainerOptions } from "./trainer.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuTrainerOptions = {
 *   field: { dim: 1, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: new Float64Array(13), scheme: reversible(rk4), t1: 1, steps: 4, y0: Float64Array.of(1),
 *   saveAt: { t0: true, steps: true }, targets: new Float64Array(5), lr: 1e-2, weightDecay: 1e-5,
 * };
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const trainer = GpuTrainer.create(await adapter.requestDevice(), options);
 *   trainer.step(); // zero θ: y stays 1 against targets 0
 *   assert.ok(Math.abs((await trainer.readLoss()) - 1) < 1e-6);
 *   trainer.destroy();
 * }
 * ```
 */
export interface GpuTrainerOptions extends GpuSolveOptions {
  /** Targets `[saved, rows, dim]` (saved = steps + 1 with `saveAt.t0`, else steps). */
  targets: Float64Array;
  /** One MSE weight per saved row (default all ones; train.ts uses 0/1 weights). */
  weights?: Float64Array;
  /** AdamW's base learning rate (default 1e-3, PyTorch's; the paper uses 1e-2). */
  lr?: number;
  /** AdamW's decoupled weight decay (default 1e-2, PyTorch's; the paper uses 1e-5). */
  weightDecay?: number;
  /** AdamW's β₁ (default 0.9). */
  beta1?: number;
  /** AdamW's β₂ (default 0.999). */
  beta2?: number;
  /** AdamW's ε (default 1e-8). */
  eps?: number;
  /** Largest gradient norm (clipping), or null (default) for none. */
  clip?: number | null;
  /** An optimizer state to resume from (moments and step count; same hyperparameters). */
  optimizer?: AdamWState;
  /** Iterations numbered from here (default `optimizer.step`, or 0). */
  iteration?: number;
  /** Losses kept on the GPU between two {@link GpuTrainer.readLosses} (default 4096). */
  lossHistory?: number;
  /** Time every kernel with timestamp queries (slower; default false). */
  profile?: boolean;
}

/**
 * What {@link GpuTrainer.readStatus} reports.
 *
 * @example
 * ```ts
 * import { GpuTrainer, type GpuTrainStatus } from "./trainer.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const trainer = GpuTrainer.create(await adapter.requestDevice(), {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-0.5, 0), scheme: reversible(rk4), t1: 1, steps: 4,
 *     y0: Float64Array.of(1), saveAt: { steps: true }, targets: new Float64Array(4),
 *   });
 *   trainer.step();
 *   const s: GpuTrainStatus = await trainer.readStatus();
 *   assert.deepEqual([s.iteration, s.loss, s.diverged, s.gradNorm > 0], [1, await trainer.readLoss(), false, true]);
 *   trainer.destroy();
 * }
 * ```
 */
export interface GpuTrainStatus {
  /** Iterations run (1-based index of the latest). */
  iteration: number;
  /** The latest iteration's loss. */
  loss: number;
  /** The latest gradient's Euclidean norm (before clipping). */
  gradNorm: number;
  /** Lowest loss so far, or null. */
  bestLoss: number | null;
  /** Iteration of the lowest loss (0 before any). */
  bestIteration: number;
  /** Whether a non-finite loss or gradient, or a failed adaptive solve, stopped the updates. */
  diverged: boolean;
  /** The iteration that diverged, or null. */
  divergedIteration: number | null;
  /**
   * Why: `"loss"` (a non-finite loss or gradient), `"solve"` (the adaptive
   * controller failed), `"trials"` (an adaptive solve ran out of recorded
   * trials, `GpuAdaptive.trials`: not a divergence — raise them and
   * {@link GpuTrainer.rewind}), or null.
   */
  divergedBy: "loss" | "solve" | "trials" | null;
  /** Reversible gradient: ∞-norm distance of the rebuilt `y0` from the true one in the latest step, relative to the larger of `|y0|` and `|y(t1)|` (as the CPU's). */
  reconstructionError: number | null;
}

/**
 * Work per training step.
 *
 * @example
 * ```ts
 * import type { StepCounts } from "./trainer.ts";
 * import assert from "node:assert/strict";
 *
 * const counts: StepCounts = { dispatches: 815, copies: 0, clears: 2, submits: 1, readbacks: 0 };
 * assert.equal(counts.readbacks, 0);
 * ```
 */
export interface StepCounts extends CommandCounts {
  /** Read-backs during the step (0: the step never waits for the GPU). */
  readbacks: number;
}

/**
 * Trains an MLP vector field on the GPU, one AdamW step per {@link GpuTrainer.step}.
 *
 * @example Three steps lower the loss
 * ```ts
 * import { GpuTrainer } from "./trainer.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { Mlp } from "../../solvers/fields/mlp.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const mlp = new Mlp({ dim: 1, widths: [4] }), steps = 8;
 *   const targets = new Float64Array(steps + 1).map((_, n) => Math.exp(-n / steps));
 *   const trainer = GpuTrainer.create(await adapter.requestDevice(), {
 *     field: mlp, params: mlp.init(0), scheme: reversible(rk4), t1: 1, steps,
 *     saveAt: { t0: true, steps: true }, y0: Float64Array.of(1), targets, lr: 0.01,
 *   });
 *   trainer.step();
 *   const first = await trainer.readLoss();
 *   for (const _ of [1, 2]) trainer.step();
 *   assert.ok((await trainer.readLoss()) < first && trainer.lastStep.readbacks === 0);
 *   trainer.destroy();
 * }
 * ```
 */
export class GpuTrainer {
  /** The solve and its gradient method. */
  readonly solver: GpuSolver;
  /** The optimizer. */
  readonly optimizer: GpuAdamW;
  /** Commands and read-backs of the latest step. */
  lastStep: StepCounts = { dispatches: 0, copies: 0, clears: 0, submits: 0, readbacks: 0 };
  readonly #recorder: Recorder;
  readonly #status: Slice;
  readonly #history: Slice;
  readonly #best: Slice;
  readonly #uniform: GPUBuffer;
  readonly #ops: {
    loss: Op[];
    failure: Op[];
    norm: Op[];
    gate: Op[];
    best: Op[];
    reconstruction: { scale: Op[]; diff: Op[] };
  };
  #iteration: number;
  #lastRead: number;

  private constructor(solver: GpuSolver, options: GpuTrainerOptions) {
    this.solver = solver;
    const { ctx, problem } = solver;
    const P = solver.mlp.paramCount;
    this.#recorder = new Recorder(ctx, { profile: options.profile ?? false });
    const capacity = options.lossHistory ?? 4096;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid lossHistory: got ${capacity}; expected an integer >= 1.`);
    }
    [this.#status, this.#history] = ctx.arena("trainer.status", [STATUS_LENGTH, capacity]);
    this.#best = ctx.buffer("trainer.best", P);
    ctx.device.queue.writeBuffer(this.#best.buffer, this.#best.offset, new Float32Array(P));
    this.optimizer = new GpuAdamW(ctx, P, options, problem.params, problem.paramsBar, {
      status: this.#status,
      okIndex: S.ok,
      normIndex: S.normSq,
    });
    if (options.optimizer) this.optimizer.restore(options.optimizer);
    this.#iteration = options.iteration ?? options.optimizer?.step ?? 0;
    this.#lastRead = this.#iteration;
    const status = new Float64Array(STATUS_LENGTH);
    status[S.best] = F32_MAX;
    status[S.iteration] = this.#iteration;
    ctx.write(this.#status, status);
    ctx.write(this.#best, options.params);
    this.#uniform = ctx.uniform("trainer.step", 16);
    const gateKernel = ctx.kernel({
      name: "trainer.gate",
      header: "struct Step { iteration: f32, slot: u32, pad0: u32, pad1: u32 }",
      bindings: [
        { name: "status", access: "read_write" },
        { name: "history", access: "read_write" },
        { name: "step", access: "uniform", type: "Step" },
      ],
      code: `@compute @workgroup_size(1)
fn main() {
  let loss = status[${S.loss}];
  let ok = ${isFinite("loss")} && ${isFinite(`status[${S.normSq}]`)} &&
    status[${S.diverged}] == 0.0 && status[${S.solveFailed}] == 0.0;
  let improved = ok && loss < status[${S.best}];
  status[${S.ok}] = select(0.0, 1.0, ok);
  status[${S.improved}] = select(0.0, 1.0, improved);
  if (improved) {
    status[${S.best}] = loss;
    status[${S.bestIteration}] = step.iteration;
  }
  if (!ok && status[${S.diverged}] == 0.0) {
    status[${S.diverged}] = 1.0;
    status[${S.divergedIteration}] = step.iteration;
    status[${S.divergedBy}] = status[${S.solveFailed}];
  }
  history[step.slot] = loss;
  status[${S.iteration}] = step.iteration;
}`,
    });
    const gateGroup = ctx.device.createBindGroup({
      label: "trainer.gate",
      layout: gateKernel.layout,
      entries: [
        {
          binding: 0,
          resource: {
            buffer: this.#status.buffer,
            offset: this.#status.offset,
            size: STATUS_LENGTH * 4,
          },
        },
        {
          binding: 1,
          resource: {
            buffer: this.#history.buffer,
            offset: this.#history.offset,
            size: capacity * 4,
          },
        },
        { binding: 2, resource: { buffer: this.#uniform, offset: 0, size: 16 } },
      ],
    });
    const bestKernel = ctx.kernel({
      name: "trainer.best",
      bindings: [
        { name: "status", access: "read" },
        { name: "theta", access: "read" },
        { name: "best", access: "read_write" },
      ],
      code: linearMain(P, `  if (status[${S.improved}] == 1.0) { best[i] = theta[i]; }`),
    });
    this.#ops = {
      loss: gpuMse.lossOps(ctx, problem.outputs, this.#status, S.loss),
      // a failed adaptive solve: the gate then stops the updates
      failure: solver.run.failureOps?.(this.#status, S.solveFailed) ?? [],
      norm: reductionOps(ctx, {
        name: "trainer.gradnorm",
        n: P,
        inputs: [{ binding: { name: "g", access: "read" }, slice: problem.paramsBar }],
        term: "fn term(e: u32) -> f32 { return g[e] * g[e]; }",
        combine: "sum",
        out: this.#status,
        index: S.normSq,
      }),
      gate: [{ kernel: gateKernel, group: gateGroup, groups: [1, 1, 1] }],
      best: [{
        kernel: bestKernel,
        group: ctx.bind(bestKernel, [this.#status, problem.params, this.#best]),
        groups: linearGroups(P, 64),
      }],
      reconstruction: solver.run.name === "reversible"
        ? reconstructionOps(problem, this.#status, S.reconDiff)
        : { scale: [], diff: [] },
    };
    solver.setData(options.targets, options.weights);
  }

  /**
   * Creates a trainer: allocates every buffer and uploads parameters, `y0`
   * and targets. Kernels compile during the first step.
   *
   * @param gpu A device, a `GpuDevice`, or a context.
   * @param options The solve, data, gradient method and optimizer.
   * @returns The trainer.
   */
  static create(gpu: GpuLike, options: GpuTrainerOptions): GpuTrainer {
    requireKnownKeys("options", options, [...GPU_SOLVE_KEYS, ...TRAINER_KEYS]);
    const solver = GpuSolver.create(gpu, { ...solverOptions(options), loss: gpuMse });
    try {
      return new GpuTrainer(solver, options);
    } catch (e) {
      solver.destroy();
      throw e;
    }
  }

  /** The network. */
  get mlp(): Mlp {
    return this.solver.mlp;
  }

  /** Iterations run so far (including any before a resume). */
  get iteration(): number {
    return this.#iteration;
  }

  /**
   * Records and submits one training step (forward solve, loss, backward
   * pass, gradient norm, AdamW). Nothing is read back; the GPU may still be
   * working when this returns.
   *
   * @param lr This step's learning rate (e.g. from a schedule; default the base one).
   */
  step(lr?: number): void {
    const { ctx } = this.solver;
    const readbacks = ctx.readbacks;
    const rec = this.#recorder;
    rec.resetCounts();
    const iteration = ++this.#iteration;
    const capacity = this.#history.length;
    const scalars = new ArrayBuffer(16);
    new Float32Array(scalars, 0, 1)[0] = iteration;
    new Uint32Array(scalars, 4, 1)[0] = (iteration - 1) % capacity;
    ctx.device.queue.writeBuffer(this.#uniform, 0, scalars);
    this.optimizer.prepare(lr);
    const run = this.solver.run;
    run.forward(rec);
    rec.run(this.#ops.reconstruction.scale, null);
    rec.run(this.#ops.loss, null);
    rec.run(this.#ops.failure, null);
    run.backward(rec, false);
    rec.run(this.#ops.norm, null);
    rec.run(this.#ops.gate, null);
    rec.run(this.#ops.best, null);
    rec.run(this.optimizer.ops, null);
    rec.run(this.#ops.reconstruction.diff, null);
    rec.submit();
    this.lastStep = { ...rec.counts, readbacks: ctx.readbacks - readbacks };
  }

  /**
   * The latest step's loss (one read-back; waits for the GPU).
   *
   * @returns The loss, NaN before the first step.
   */
  async readLoss(): Promise<number> {
    if (this.#iteration === 0) return NaN;
    return (await this.solver.ctx.read(this.#status, S.loss + 1))[S.loss];
  }

  /**
   * Every loss since the previous call (one read-back): at most the
   * `lossHistory` most recent ones.
   *
   * @returns `{ iteration, loss }` in order, and how many older ones were dropped.
   */
  async readLosses(): Promise<{ losses: { iteration: number; loss: number }[]; dropped: number }> {
    const capacity = this.#history.length;
    const from = Math.max(this.#lastRead, this.#iteration - capacity);
    const dropped = from - this.#lastRead;
    const values = await this.solver.ctx.read(this.#history);
    const losses = [];
    for (let it = from + 1; it <= this.#iteration; it++) {
      losses.push({ iteration: it, loss: values[(it - 1) % capacity] });
    }
    this.#lastRead = this.#iteration;
    return { losses, dropped };
  }

  /**
   * The status scalars (one read-back).
   *
   * @returns Iteration, loss, gradient norm, best loss, divergence and reconstruction error.
   */
  async readStatus(): Promise<GpuTrainStatus> {
    const s = await this.solver.ctx.read(this.#status);
    const diverged = s[S.diverged] === 1;
    return {
      iteration: this.#iteration,
      loss: this.#iteration === 0 ? NaN : s[S.loss],
      gradNorm: Math.sqrt(s[S.normSq]),
      bestLoss: s[S.best] === Math.fround(F32_MAX) ? null : s[S.best],
      bestIteration: s[S.bestIteration],
      diverged,
      divergedIteration: diverged ? s[S.divergedIteration] : null,
      divergedBy: diverged ? DIVERGED_BY[s[S.divergedBy]] ?? "solve" : null,
      reconstructionError: this.solver.run.name === "reversible" && this.#iteration > 0
        ? s[S.reconDiff] / Math.max(s[S.reconScale], Number.MIN_VALUE)
        : null,
    };
  }

  /**
   * Takes back every step from the diverged one on, so that they run again
   * — meant for a divergence by `"trials"` (an adaptive solve that ran out
   * of recorded trials), after raising `solver.adaptive.trials`. The steps
   * taken back made no update (the gate skipped them), so parameters,
   * moments and best parameters are already those before the diverged
   * step; the iteration and optimizer step counts go back, and the
   * divergence flag is cleared. Their losses are dropped.
   *
   * @returns The iteration the trainer is back at (the diverged one − 1).
   * @throws {Error} When the trainer has not diverged.
   */
  async rewind(): Promise<number> {
    const status = await this.readStatus();
    if (!status.diverged) {
      throw new Error("Cannot rewind: the trainer has not diverged; nothing to take back.");
    }
    const back = status.divergedIteration! - 1;
    this.optimizer.rewind(this.#iteration - back);
    this.#iteration = back;
    this.#lastRead = Math.min(this.#lastRead, back);
    const { ctx } = this.solver;
    const at = this.#status.offset + S.diverged * 4;
    ctx.device.queue.writeBuffer(this.#status.buffer, at, new Float32Array(2));
    return back;
  }

  /**
   * The parameters (one read-back).
   *
   * @returns θ as float64.
   */
  async readParams(): Promise<Float64Array> {
    return Float64Array.from(await this.solver.ctx.read(this.solver.problem.params));
  }

  /**
   * The parameters that gave the lowest loss (one read-back); the initial
   * ones before any step.
   *
   * @returns θ as float64.
   */
  async readBestParams(): Promise<Float64Array> {
    return Float64Array.from(await this.solver.ctx.read(this.#best));
  }

  /**
   * The latest step's gradient `∂L/∂θ`, before clipping (one read-back).
   *
   * @returns The gradient.
   */
  async readGradient(): Promise<Float64Array> {
    return await this.solver.readParamsBar();
  }

  /**
   * The optimizer's state in training/adamw.ts's format (one read-back); its
   * step count stops at the last update made (before a divergence).
   *
   * @returns The state.
   */
  async readOptimizerState(): Promise<AdamWState> {
    const status = await this.readStatus();
    const skipped = status.diverged ? this.#iteration - status.divergedIteration! + 1 : 0;
    return await this.optimizer.state(this.optimizer.stepCount - skipped);
  }

  /**
   * The saved outputs of the latest step's forward solve (one read-back).
   *
   * @returns `[saved, rows, dim]`.
   */
  async readOutputs(): Promise<Float64Array> {
    return await this.solver.readYs();
  }

  /**
   * Replaces the data (a new minibatch): initial states `[rows, dim]` with
   * `rows ≤ batch` and targets `[saved, rows, dim]`; rows past `rows` are
   * padding, masked out of the loss. Writes only.
   *
   * @param y0 Initial states.
   * @param targets Targets.
   * @param weights One weight per saved row (default all ones).
   */
  setData(y0: Float64Array, targets: Float64Array, weights?: Float64Array): void {
    this.solver.setY0(y0);
    this.solver.setData(targets, weights);
  }

  /**
   * Replaces the parameters (and the best ones); the optimizer's moments stay.
   *
   * @param params θ.
   */
  setParams(params: Float64Array): void {
    this.solver.setParams(params);
    this.solver.ctx.write(this.#best, params);
  }

  /**
   * Kernel times of the steps run since the last call, when profiling (one read-back).
   *
   * @returns Per-kernel times, largest first.
   */
  async timings(): Promise<KernelTiming[]> {
    return await this.#recorder.timings();
  }

  /** Releases every buffer (and the context, when the trainer created it). */
  destroy(): void {
    this.solver.destroy();
  }
}
