/**
 * The training loop of train.ts on the WebGPU backend: the same
 * configuration, data preparation (train_data.ts), loss log and progress
 * (train_log.ts), divergence reasons and remedies (divergence.ts) and the
 * same {@link TrainResult}, with each iteration's solve, MSE, backward pass
 * and AdamW step run on the GPU in float32 by a {@link GpuTrainer}.
 *
 * A step reads nothing back. The losses and the trainer's status are read
 * back after the first iteration, then every `readEveryMs` milliseconds and
 * after the last one; at most one step is queued ahead of the GPU, so a
 * stop request (Ctrl-C) ends the run at the next iteration. At the end the
 * parameters, the best parameters and the optimizer's state are read back
 * into a {@link TrainState} of the CPU's format, so the model file is the
 * same and the model evaluates and resumes on either backend.
 *
 * Differences from the CPU loop, all from running in float32:
 * - losses, parameters and moments are float32 values (a run resumed on the
 *   GPU continues bit-identically; the same seed on the CPU gives losses
 *   that agree to about 1e-6 relative at first, drifting apart slowly);
 * - a non-finite loss or gradient is detected on the GPU, which skips that
 *   update and every later one; the run stops at the next read-back and
 *   keeps the state before the diverging iteration (the CPU keeps the one
 *   before the previous iteration, one update earlier);
 * - the reversible gradient's reconstruction error of `y0` is sampled at
 *   each read-back, not at every iteration.
 *
 * Runs what `configGpuSupport()` accepts: a reversible scheme on a Runge–Kutta
 * tableau with fixed steps, and the reversible, direct or checkpointed
 * gradient.
 *
 * @example Five iterations on the GPU (skipped without an adapter)
 * ```ts
 * import { trainGpu } from "./train.ts";
 * import { defaultConfig } from "../config.ts";
 * import { whiteDwarfData } from "../datasets/white_dwarf.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const data = whiteDwarfData({ points: 11 });
 *   const config = defaultConfig({
 *     mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *     steps: 10,
 *   });
 *   const result = await trainGpu({ gpu: device, config, data, iterations: 5 });
 *   assert.equal(result.status, "completed");
 *   assert.equal(result.state.losses.length, 5);
 *   assert.equal(result.state.optimizer.step, 5);
 *   device.destroy();
 * }
 * ```
 *
 * @module
 */

import { Mlp } from "../../solvers/fields/mlp.ts";
import { solve } from "../../solvers/solve.ts";

import { invalidArgument, requireInteger } from "../../solvers/checks.ts";
import { pid } from "../../solvers/controller.ts";
import { failureMessage, type Status, trajectoryFailure } from "../../solvers/results.ts";
import { checkConfig, gradientSpecOf, scheduleOf, schemeOf, type TrainConfig } from "../config.ts";
import {
  type GradientRecord,
  startState,
  type TrainResult,
  type TrainState,
  type TrainStatus,
} from "../state.ts";
import type { TrainOptions } from "../train.ts";
import { TrainingData } from "../data.ts";
import { TrainLog } from "../log.ts";
import { gradientReason, lossReason } from "../divergence.ts";
import { GpuTrainer } from "./trainer.ts";
import { gpuSupport } from "../../solvers/webgpu/support.ts";
import { TrialBudget } from "./trial_budget.ts";
import { allocating } from "../../solvers/webgpu/runtime/context.ts";
import type { GpuLike, SolveKernel } from "../../solvers/webgpu/options.ts";

/** Losses a trainer keeps between two read-backs; {@link trainGpu} reads before it would drop any. */
const LOSS_HISTORY = 4096;

/** Options of {@link trainGpu}: those of `train()` for its MLP, and the device. */
export interface GpuTrainOptions extends Omit<TrainOptions, "config" | "field" | "init"> {
  /** The configuration, with its MLP. */
  config: TrainConfig;
  /** A device (`chooseBackend()`'s `gpu`, or a `GPUDevice`), or a context; the caller destroys it. */
  gpu: GpuLike;
  /**
   * Milliseconds between two read-backs of the losses (progress, divergence
   * checks); default 250. Results do not depend on it.
   */
  readEveryMs?: number;
  /**
   * How the solve is laid out in kernels (`GpuSolveOptions.solveKernel`):
   * default `"auto"`, the whole-solve kernels where they apply.
   */
  solveKernel?: SolveKernel;
}

/**
 * The parts of a training configuration that decide whether it runs on the
 * GPU.
 *
 * @example
 * ```ts
 * import type { GpuConfigQuery } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const query: GpuConfigQuery = { solver: "ralston3", scheme: "reversible", gradient: "direct" };
 * assert.equal(query.adaptive ?? null, null);
 * ```
 */
export type GpuConfigQuery =
  & Pick<TrainConfig, "solver" | "scheme" | "gradient">
  & Partial<Pick<TrainConfig, "coupling" | "checkpoints" | "validation">>
  & { readonly adaptive?: unknown };

/** Stands in for a configuration's controller: support asks only whether steps are adaptive. */
const ANY_CONTROLLER = pid({ rtol: 1e-6, atol: 1e-6 });

/**
 * Whether a training configuration runs on the GPU: `gpuSupport()` asked
 * of the solve the configuration makes (its scheme, gradient method and
 * controller; training saves the data times, a form the GPU has).
 *
 * @param config The configuration's solver, scheme, gradient and adaptivity.
 * @returns Null when it runs on the GPU; else the sentence saying why not and what to use instead.
 * @throws {RangeError} When the configuration is not one at all (an unknown solver, or adaptive
 *   steps on a tableau without an error estimate): `schemeOf()`'s refusal, whatever the backend.
 *
 * @example
 * ```ts
 * import { configGpuSupport } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(configGpuSupport({ solver: "rk4", scheme: "reversible", gradient: "reversible" }), null);
 * assert.equal(
 *   configGpuSupport({ solver: "bosh3", scheme: "reversible", gradient: "checkpointed", adaptive: {} }),
 *   null,
 * );
 * assert.match(
 *   configGpuSupport({ solver: "rk4", scheme: "plain", gradient: "direct" })!,
 *   /plain scheme runs on the CPU backend only/,
 * );
 * assert.match(
 *   configGpuSupport({ solver: "rk4", scheme: "reversible", gradient: "backsolve" })!,
 *   /backsolve gradient runs on the CPU backend only/,
 * );
 * ```
 */
export function configGpuSupport(config: GpuConfigQuery): string | null {
  const full = config as TrainConfig;
  if (config.validation) {
    // the held-out data are solved on the CPU loop's side, between its iterations
    return "validation (a held-out part of the data) runs on the CPU backend only; train " +
      "on the CPU, or without validation on the GPU.";
  }
  const adaptive = config.adaptive !== undefined && config.adaptive !== null;
  return gpuSupport({
    scheme: schemeOf(full),
    gradient: gradientSpecOf({ ...full, checkpoints: config.checkpoints ?? null }),
    ...(adaptive
      ? { controller: ANY_CONTROLLER, saveAt: { ts: [] } }
      : { saveAt: { steps: true } }),
  });
}

/**
 * A {@link GpuTrainer} for a configuration, its data and a state, set up as
 * {@link trainGpu} sets it up: the reversible scheme of the configuration's
 * tableau and coupling over the data window, every step saved but `y0`,
 * targets and row weights built as train.ts builds them for the CPU, the
 * configured gradient method, AdamW resumed from the state's optimizer.
 * Its first minibatch is iteration `state.iteration`'s.
 *
 * @param gpu A device or a context.
 * @param config The configuration (GPU-supported: see `gpuSupport()`).
 * @param data The training data.
 * @param state The state to start from (parameters, optimizer, iteration).
 * @param solveKernel The solve's layout in kernels (default `"auto"`).
 * @returns The trainer; destroy it when done.
 * @throws {RangeError} When the configuration does not run on the GPU.
 *
 * @example The trainer's outputs are the model's trajectory (skipped without an adapter)
 * ```ts
 * import { createGpuTrainer } from "./train.ts";
 * import { defaultConfig } from "../config.ts";
 * import { initialState } from "../state.ts";
 * import { TrainingData } from "../data.ts";
 * import { whiteDwarfData } from "../datasets/white_dwarf.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const config = defaultConfig({
 *     mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *     steps: 10,
 *   });
 *   const data = new TrainingData(config, whiteDwarfData({ points: 11 }));
 *   const trainer = createGpuTrainer(device, config, data, initialState(config));
 *   trainer.step();
 *   assert.equal((await trainer.readOutputs()).length, 10 * 2);
 *   trainer.destroy();
 *   device.destroy();
 * }
 * ```
 */
export function createGpuTrainer(
  gpu: GpuLike,
  config: TrainConfig,
  data: TrainingData,
  state: TrainState,
  solveKernel: SolveKernel = "auto",
): GpuTrainer {
  const support = configGpuSupport(config);
  if (support !== null) {
    throw new RangeError(`This configuration does not run on the WebGPU backend: ${support}`);
  }
  const first = data.batch(state.iteration);
  const o = state.optimizer;
  return GpuTrainer.create(gpu, {
    field: config.mlp,
    params: state.params,
    scheme: schemeOf(config),
    t0: data.t0,
    t1: data.t1,
    ...(config.adaptive === null ? { steps: data.saved, saveAt: { steps: true } } : {
      controller: pid({
        rtol: config.adaptive.rtol,
        atol: config.adaptive.atol,
        maxSteps: config.adaptive.maxSteps,
      }),
      // the data times after the first, as the CPU's adaptive solve saves them
      saveAt: { ts: data.list[0].ts.subarray(1) },
    }),
    batch: data.batchSize,
    y0: first.y0,
    targets: first.targets,
    weights: data.weights,
    gradient: gradientSpecOf(config),
    lr: config.lr,
    weightDecay: config.weightDecay,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    clip: config.clip,
    optimizer: { ...o, lr: config.lr, weightDecay: config.weightDecay },
    iteration: state.iteration,
    lossHistory: LOSS_HISTORY,
    solveKernel,
  });
}

/**
 * Steps, evaluations and VJPs per iteration of a configuration's gradient
 * method: the GPU runs the CPU's schedule, whose counts do not depend on the
 * network's widths or the batch, so they are counted by one CPU solve of an
 * affine field of the same dimension. Adaptive solves are counted on the
 * latest accepted grid (`times`; trial steps that were rejected not counted).
 */
function _workCounts(config: TrainConfig, data: TrainingData, times: Float64Array | null) {
  const mlp = new Mlp({
    dim: config.mlp.dim,
    widths: [],
    timeDependent: config.mlp.timeDependent,
  });
  const sol = solve({
    field: mlp,
    y0: new Float64Array(mlp.dim),
    params: new Float64Array(mlp.paramCount),
    scheme: schemeOf(config),
    ...(times === null ? { t0: data.t0, t1: data.t1, steps: data.saved } : { grid: times }),
    saveAt: { steps: true },
    gradient: gradientSpecOf(config),
  });
  return sol.backward(new Float64Array(sol.ys.length)).stats;
}

/**
 * Bytes of GPU buffers the gradient method holds: its own (stored states or
 * tape, as the method counts them) plus the scheme's working state `[y, z]`
 * and its cotangent, counted the same way (spans of binding-aligned slices).
 * Like the CPU's `peakBytes`, the saved outputs are not counted, nor the
 * buffers every method shares (stages, activations, parameters).
 */
function _gradientBytes(trainer: GpuTrainer): number {
  const s = trainer.solver.problem.scheme;
  return trainer.solver.run.bytes + 4 * (s.state.length + s.bar.length);
}

/**
 * Trains on the GPU: `train()`'s loop (see the module's documentation for
 * what differs), same options and result.
 *
 * @param options `train()`'s options and the device.
 * @returns Status, the resumable state (float32 values as float64), the loss history and gradient statistics.
 * @throws {RangeError} When the configuration does not run on the GPU or does not fit the data.
 *
 * @example Resuming on the GPU gives the same losses as an uninterrupted run (skipped without an adapter)
 * ```ts
 * import { trainGpu } from "./train.ts";
 * import { defaultConfig } from "../config.ts";
 * import { whiteDwarfData } from "../datasets/white_dwarf.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const gpu = await adapter.requestDevice();
 *   const data = whiteDwarfData({ points: 11 });
 *   const config = defaultConfig({
 *     mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *     steps: 10,
 *   });
 *   const whole = await trainGpu({ gpu, config, data, iterations: 4 });
 *   const first = await trainGpu({ gpu, config, data, iterations: 2 });
 *   const rest = await trainGpu({ gpu, config, data, iterations: 2, resume: first.state });
 *   assert.deepEqual(rest.state.losses, whole.state.losses);
 *   assert.deepEqual(rest.state.params, whole.state.params);
 *   gpu.destroy();
 * }
 * ```
 */
export async function trainGpu(options: GpuTrainOptions): Promise<TrainResult> {
  const { config } = options;
  checkConfig(config);
  const support = configGpuSupport(config);
  if (support !== null) {
    throw new RangeError(`This configuration does not run on the WebGPU backend: ${support}`);
  }
  const data = new TrainingData(config, options.data);
  if (!data.sharedTimes || (data.grid === "times" && config.adaptive === null)) {
    // the GPU solve saves the ends of fixed steps, or adaptive outputs at one set of times
    invalidArgument(
      "data",
      options.data,
      "on the WebGPU backend, trajectories sharing their times, uniformly spaced for " +
        "fixed steps (train on the CPU for irregular or unequal sampling)",
    );
  }
  const schedule = scheduleOf(config);
  const iterations = requireInteger("iterations", options.iterations, 0);
  const readEveryMs = options.readEveryMs ?? 250;
  const state = startState(config, options.resume);
  const log = new TrainLog(state, iterations, options);
  const gpu = options.gpu;
  const trainer = await allocating(
    gpu,
    "the training buffers",
    () => createGpuTrainer(gpu, config, data, state, options.solveKernel),
  );
  try {
    const device = trainer.solver.ctx.device;
    const reversible = trainer.solver.run.name === "reversible";
    const adaptive = trainer.solver.adaptive;
    const trials = new TrialBudget(config.adaptive?.maxSteps ?? 1);
    let submitted = state.iteration; // iterations submitted to the GPU
    let uploaded = state.iteration; // the iteration whose minibatch the GPU holds
    let redone = 0; // rewinds after a solve ran out of recorded trials
    let queued: Promise<void> | null = null;
    let lastRead = 0; // seconds of this run at the last read-back
    let maxReconstruction: number | null = null;
    const end: { status: TrainStatus; reason: string | null } = {
      status: "completed",
      reason: null,
    };

    /**
     * Reads the losses and the status back and records the good iterations;
     * "diverged" once diverged; "redo" when an adaptive solve ran out of
     * recorded trials (the trainer is then back before it, with more trials).
     */
    const readBack = async (): Promise<"ok" | "diverged" | "redo"> => {
      const { losses } = await trainer.readLosses();
      const s = await trainer.readStatus();
      const now = log.seconds;
      const n = losses.length;
      for (let k = 0; k < n; k++) {
        const { iteration, loss } = losses[k];
        if (s.diverged && iteration >= s.divergedIteration!) {
          if (s.divergedBy === "trials") {
            lastRead = now;
            submitted = await trainer.rewind();
            adaptive!.trials = trials.raise(adaptive!.trials);
            redone++;
            return "redo";
          }
          end.status = "diverged";
          end.reason = await _divergenceReason(trainer, data, s.iteration, iteration, loss);
          return "diverged";
        }
        log.record(loss, lastRead + ((now - lastRead) * (k + 1)) / n);
      }
      lastRead = now;
      if (reversible && s.reconstructionError !== null && n > 0) {
        maxReconstruction = Math.max(maxReconstruction ?? 0, s.reconstructionError);
      }
      if (adaptive !== null && n > 0) {
        adaptive.trials = trials.learn((await trainer.solver.readAdaptive())!.mostTrials);
      }
      return "ok";
    };

    while (submitted < log.total) {
      if (options.shouldStop?.() || options.signal?.aborted) {
        end.status = "interrupted";
        break;
      }
      const iteration = submitted; // 0-based index of this iteration
      if (data.minibatches && uploaded !== iteration) {
        const batch = data.batch(iteration);
        trainer.setData(batch.y0, batch.targets, data.weights);
        uploaded = iteration;
      }
      trainer.step(schedule(iteration));
      submitted++;
      // Keep at most one step queued behind the one running (and let signal handlers run).
      const done = device.queue.onSubmittedWorkDone();
      if (queued !== null) await queued;
      queued = done;
      const due = iteration === log.first || submitted === log.total ||
        (log.seconds - lastRead) * 1000 >= readEveryMs ||
        submitted - state.iteration >= LOSS_HISTORY;
      // (a redo moves `submitted` back, and the loop runs those iterations again)
      if (due && (await readBack()) === "diverged") break;
    }
    if (end.status === "interrupted" && submitted > state.iteration) {
      // the steps run since the last read; a redo among them is left undone
      await readBack();
    }
    if (end.status === "interrupted") {
      end.reason = `stopped on request after iteration ${state.iteration}`;
    }

    if (submitted > log.first) {
      // The state in the CPU's format: float32 values, read back once.
      state.params = await trainer.readParams();
      state.optimizer = { ...(await trainer.readOptimizerState()), lr: config.lr };
      if (state.bestIteration > log.first) state.bestParams = await trainer.readBestParams();
    }

    let gradient: GradientRecord | null = null;
    if (log.iterationsRun > 0) {
      const run = await trainer.solver.readAdaptive();
      const counts = _workCounts(config, data, run === null ? null : run.times);
      gradient = {
        method: config.gradient,
        peakBytes: _gradientBytes(trainer),
        stepsPerIteration: counts.steps,
        evaluationsPerIteration: counts.evaluations,
        vjpsPerIteration: counts.vjps,
        maxReconstructionError: reversible ? maxReconstruction : null,
      };
    }
    const result = log.result(config, { ...end, gradient });
    result.solveKernel = trainer.solver.solveKernel;
    if (redone > 0) {
      result.notes = [
        `an adaptive solve ran out of the trial steps the GPU recorded ${redone} ` +
        `time${redone === 1 ? "" : "s"}; the iterations from it on ran again with more ` +
        `(${adaptive!.trials} at the end, at most adaptive.maxSteps = ${
          config.adaptive!.maxSteps
        })`,
      ];
    }
    return result;
  } finally {
    trainer.destroy();
  }
}

/**
 * The reason of a divergence the GPU flagged at `diverged` (1-based), whose
 * loss was read back; `latest` is the last iteration the GPU ran. The
 * parameters stay fixed after a divergence, so without minibatches the
 * latest step's gradient is the diverging one's.
 */
async function _divergenceReason(
  trainer: GpuTrainer,
  data: TrainingData,
  latest: number,
  diverged: number,
  loss: number,
): Promise<string> {
  const run = await trainer.solver.readAdaptive();
  if (run !== null && run.status !== "success" && run.status !== "incomplete") {
    // the controller failed (adaptive.ts): say why
    // one step size for the whole batch: the batch failed, not one trajectory of it
    const failure = trajectoryFailure(
      run.status as Status,
      run.tEnd,
      data.batchSize > 1 ? "batch" : 0,
      trainer.solver.adaptive!.setup.controller,
    )!;
    const why = failureMessage(failure, { advice: false });
    return `the solve failed at iteration ${diverged}: ${why}`;
  }
  if (!Number.isFinite(loss)) return lossReason(loss, diverged);
  if (data.minibatches && latest !== diverged) return gradientReason(diverged, loss, null);
  const g = await trainer.readGradient();
  const index = g.findIndex((v) => !Number.isFinite(v));
  if (index >= 0) return gradientReason(diverged, loss, { index, value: g[index] });
  return `${gradientReason(diverged, loss, null)}: its norm overflows float32`;
}
