/**
 * The training of a `deno task train` run: on the CPU or the GPU, with
 * progress printed, a checkpoint written every `--save-every` seconds, and
 * SIGINT (Ctrl-C), SIGTERM or SIGHUP stopping it at the next iteration so
 * that the state can be saved (a second signal exits at once).
 *
 * The checkpoints cost nothing in exactness: training runs in segments of
 * `--save-every` seconds, each resumed from the state the last one ended
 * with, and a resumed run continues bit-identically (the training loop's
 * promise), so a run cut into segments gives the losses of an uncut one.
 *
 * @module
 */

import type { CliIo } from "./io.ts";
import { UsageError } from "./flags.ts";
import { EXIT } from "./train_exit.ts";
import type { RunFolder } from "./train_files.ts";
import type { TrainPlan } from "./train_plan.ts";
import { progressPrinter } from "./train_print.ts";
import { flagNames } from "./train_flags.ts";
import { remediesOf } from "../training/divergence.ts";
import { ArgumentError } from "../solvers/checks.ts";
import type { BackendChoice } from "../solvers/webgpu/runtime/device.ts";
import type { GradientRecord, Progress, TrainResult } from "../training/state.ts";
import { train } from "../training/train.ts";
import { trainGpu } from "../training/webgpu/train.ts";

/** The signals that stop a run, with the exit code of a run they stopped (128 + number). */
export const STOP_SIGNALS: Readonly<Record<StopSignal, number>> = Object.freeze({
  SIGINT: EXIT.interrupted,
  SIGTERM: EXIT.terminated,
  SIGHUP: EXIT.hangup,
});

/** A signal that stops a run and has it save its state. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** How a run is driven beyond its plan. */
export interface RunControl {
  /** Seconds of training between two checkpoints. */
  saveEverySeconds: number;
  /** Writes a checkpoint of a run still going (model.json); may throw. */
  checkpoint?: (result: TrainResult) => Promise<void>;
}

/** What {@link runTraining} returns: the result, and the signal that stopped it. */
export interface RunOutcome {
  /** The result: completed, diverged or interrupted. */
  result: TrainResult;
  /** The signal that interrupted the run, or null. */
  signal: StopSignal | null;
}

/**
 * Trains as planned, on the backend chosen, and releases its GPU device.
 * Every `control.saveEverySeconds` of training it hands the state so far to
 * `control.checkpoint` (a failing checkpoint is reported and training goes
 * on). The result's remedies name the flags that set them. A run that fails
 * removes the folder made for it (when still empty); one that resumed on
 * other data and completed no iteration on them keeps the model's old best.
 *
 * @param io Where progress is drawn.
 * @param plan The run's plan.
 * @param choice The backend.
 * @param folder The output folder.
 * @param control Checkpoints; default none.
 * @returns The result (completed, diverged or interrupted) and the signal that stopped it.
 * @throws {UsageError} For a `--solve-kernel` the configuration cannot take;
 * else what training threw.
 *
 * @example
 * ```ts
 * import { runTraining } from "./train_run.ts";
 * import { planRun } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const io = { write: () => {}, error: () => {}, isTerminal: false };
 * const plan = await planRun({ steps: "20", iterations: "4" });
 * const choice = { backend: "cpu" as const, gpu: null, message: "" };
 * const saved: number[] = [];
 * const control = {
 *   saveEverySeconds: 1e-9, // a checkpoint after every iteration
 *   checkpoint: async (r: { state: { iteration: number } }) => void saved.push(r.state.iteration),
 * };
 * const folder = { dir: "unused", created: false, lock: null };
 * const { result, signal } = await runTraining(io, plan, choice, folder, control);
 * assert.equal(result.status, "completed");
 * assert.equal(result.state.iteration, 4);
 * assert.equal(signal, null);
 * assert.deepEqual(saved, [1, 2, 3]);
 * ```
 */
export async function runTraining(
  io: CliIo,
  plan: TrainPlan,
  choice: BackendChoice,
  folder: RunFolder,
  control: RunControl = { saveEverySeconds: Infinity },
): Promise<RunOutcome> {
  const signals = listenStopSignals(io);
  let result: TrainResult;
  try {
    result = await _trainInSegments(io, plan, choice, control, () => signals.stoppedBy !== null);
  } catch (error) {
    // nothing was written: a folder made for this run goes again (remove refuses a full one)
    if (folder.created) {
      await folder.lock?.release();
      await Deno.remove(folder.dir).catch(() => {});
    }
    // "whole" where the whole-solve kernels do not apply: refused before any iteration runs
    if (error instanceof ArgumentError && error.data.argument === "solveKernel") {
      const { got, expected } = error.data;
      throw new UsageError(
        `--solve-kernel ${got.replace(/^"(\w+)"/, "$1")}; use ${expected.replaceAll('"', "")}.`,
      );
    }
    throw error;
  } finally {
    signals.stop();
    choice.gpu?.device.destroy();
  }
  if (io.isTerminal && result.status !== "completed") io.write("\n");
  if (
    plan.dataChange !== null && result.state.bestLoss === null && result.state.iteration > 0
  ) {
    // No iteration completed on the new data: the model keeps its old best.
    Object.assign(result.state, plan.dataChange.best);
  }
  if (result.status === "interrupted" && signals.stoppedBy !== null) {
    result.reason = `stopped by ${signals.stoppedBy} after iteration ${result.state.iteration}`;
  }
  // The library names the settings by the configuration's keys; the user set them by flags.
  return {
    result: { ...result, remedies: remediesOf(result.remedyKind, plan.config, flagNames) },
    signal: signals.stoppedBy,
  };
}

/**
 * Trains the planned iterations in segments of `control.saveEverySeconds`,
 * each resumed from the last one's state, with a checkpoint between two;
 * `stopped()` ends the run at the next iteration.
 */
async function _trainInSegments(
  io: CliIo,
  plan: TrainPlan,
  choice: BackendChoice,
  control: RunControl,
  stopped: () => boolean,
): Promise<TrainResult> {
  const first = plan.resume?.iteration ?? 0;
  const printer = progressPrinter(io, plan.iterations, first);
  let state = plan.resume ?? undefined;
  let done = 0;
  const parts: TrainResult[] = [];
  let checkpointFailed = false;
  let secondsBefore = 0; // of the segments done: progress counts this run's training time
  while (true) {
    const deadline = performance.now() + control.saveEverySeconds * 1000;
    let ran = 0;
    const options = {
      config: plan.config,
      data: plan.data.trajectories ?? plan.data.data,
      iterations: plan.iterations - done,
      resume: state,
      onProgress: (p: Progress) => {
        ran++;
        printer({ ...p, seconds: secondsBefore + p.seconds });
      },
      // at least one iteration per segment, however short the interval
      shouldStop: () => stopped() || (ran > 0 && performance.now() >= deadline),
    };
    const part = choice.gpu === null
      ? await train(options)
      : await trainGpu({ ...options, gpu: choice.gpu, solveKernel: plan.solveKernel });
    parts.push(part);
    done += part.iterationsRun;
    secondsBefore += part.seconds;
    const paused = part.status === "interrupted" && !stopped() && done < plan.iterations;
    if (!paused) break;
    state = part.state;
    if (control.checkpoint === undefined) continue;
    try {
      await control.checkpoint(part);
      checkpointFailed = false;
    } catch (error) {
      // Training goes on: the last good checkpoint stays, and the end saves again.
      if (!checkpointFailed) {
        io.error(`\nwarning: ${error instanceof Error ? error.message : String(error)}\n`);
      }
      checkpointFailed = true;
    }
  }
  return _joined(parts);
}

/** One result for a run trained in segments: the last one's, with the totals of all. */
function _joined(parts: readonly TrainResult[]): TrainResult {
  const last = parts[parts.length - 1];
  if (parts.length === 1) return last;
  const records = parts.map((p) => p.gradient).filter((g): g is GradientRecord => g !== null);
  const errors = records.map((g) => g.maxReconstructionError).filter((e) => e !== null);
  const gradient: GradientRecord | null = records.length === 0 ? null : {
    ...records[records.length - 1],
    peakBytes: Math.max(...records.map((g) => g.peakBytes)),
    maxReconstructionError: errors.length === 0 ? null : Math.max(...errors),
  };
  const sum = (key: "iterationsRun" | "seconds") => parts.reduce((n, p) => n + p[key], 0);
  return { ...last, gradient, iterationsRun: sum("iterationsRun"), seconds: sum("seconds") };
}

/** What {@link listenStopSignals} returns. */
export interface StopListener {
  /** The first signal received, or null. */
  readonly stoppedBy: StopSignal | null;
  /** Stops listening: the signals get their default action again. */
  stop(): void;
}

/**
 * Listens for SIGINT, SIGTERM and SIGHUP: the first asks the run to stop
 * at the next iteration (`stoppedBy`), a second one exits at once with its
 * code.
 *
 * @param io Where the second signal's message goes.
 * @returns The listener; call `stop()` when the work it guards ends.
 *
 * @example
 * ```ts
 * import { listenStopSignals } from "./train_run.ts";
 * import assert from "node:assert/strict";
 *
 * const signals = listenStopSignals({ write: () => {}, error: () => {}, isTerminal: false });
 * assert.equal(signals.stoppedBy, null);
 * signals.stop();
 * ```
 */
export function listenStopSignals(io: CliIo): StopListener {
  const state = { stoppedBy: null as StopSignal | null };
  const handlers: [StopSignal, () => void][] = [];
  for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) {
    const handler = () => {
      if (state.stoppedBy !== null) {
        io.error(`\nSecond signal (${signal}): exiting without saving.\n`);
        Deno.exit(STOP_SIGNALS[signal]);
      }
      state.stoppedBy = signal;
    };
    try {
      Deno.addSignalListener(signal, handler);
      handlers.push([signal, handler]);
    } catch {
      // Not on this platform (SIGHUP on Windows, or no signals at all): the
      // signal keeps its default action.
    }
  }
  return {
    get stoppedBy() {
      return state.stoppedBy;
    },
    stop() {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}
