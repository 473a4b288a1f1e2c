/**
 * The training of a `deno task train` run: on the CPU or the GPU, with
 * progress printed, and Ctrl-C stopping it at the next iteration so that
 * the state can be saved (a second Ctrl-C exits at once).
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
import type { BackendChoice } from "../solvers/webgpu/runtime/device.ts";
import type { TrainResult } from "../training/state.ts";
import { train } from "../training/train.ts";
import { trainGpu } from "../training/webgpu/train.ts";

/**
 * Trains as planned, on the backend chosen, and releases its GPU device.
 * The result's remedies name the flags that set them.
 * A run that fails removes the folder made for it (when still empty); one
 * that resumed on other data and completed no iteration on them keeps the
 * model's old best.
 *
 * @param io Where progress is drawn.
 * @param plan The run's plan.
 * @param choice The backend.
 * @param folder The output folder.
 * @returns The result: completed, diverged or interrupted.
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
 * const plan = await planRun({ steps: "20", iterations: "2" });
 * const choice = { backend: "cpu" as const, gpu: null, message: "" };
 * const result = await runTraining(io, plan, choice, { dir: "unused", created: false });
 * assert.equal(result.status, "completed");
 * assert.equal(result.state.iteration, 2);
 * ```
 */
export async function runTraining(
  io: CliIo,
  plan: TrainPlan,
  choice: BackendChoice,
  folder: RunFolder,
): Promise<TrainResult> {
  let stop = false;
  let signals = 0;
  const onSigint = () => {
    signals++;
    if (signals > 1) {
      io.error("\nSecond Ctrl-C: exiting without saving.\n");
      Deno.exit(EXIT.interrupted);
    }
    stop = true;
  };
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onSigint);
    listening = true;
  } catch {
    // No signal support here (e.g. a restricted platform): Ctrl-C just exits.
  }
  let result: TrainResult;
  try {
    const options = {
      config: plan.config,
      data: plan.data.trajectories ?? plan.data.data,
      iterations: plan.iterations,
      resume: plan.resume ?? undefined,
      onProgress: progressPrinter(io, plan.iterations, plan.resume?.iteration ?? 0),
      shouldStop: () => stop,
    };
    result = choice.gpu === null
      ? await train(options)
      : await trainGpu({ ...options, gpu: choice.gpu, solveKernel: plan.solveKernel });
  } catch (error) {
    // nothing was written: a folder made for this run goes again (remove refuses a full one)
    if (folder.created) await Deno.remove(folder.dir).catch(() => {});
    // "whole" where the whole-solve kernels do not apply: refused before any iteration runs
    if (error instanceof RangeError && error.message.startsWith("Invalid solveKernel: ")) {
      throw new UsageError(
        error.message.replace(/^Invalid solveKernel: got "(\w+)"/, "--solve-kernel $1"),
      );
    }
    throw error;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
    choice.gpu?.device.destroy();
  }
  if (io.isTerminal && result.status !== "completed") io.write("\n");
  if (
    plan.dataChange !== null && result.state.bestLoss === null && result.state.iteration > 0
  ) {
    // No iteration completed on the new data: the model keeps its old best.
    Object.assign(result.state, plan.dataChange.best);
  }
  // The library names the settings by the configuration's keys; the user set them by flags.
  return { ...result, remedies: remediesOf(result.remedyKind, plan.config, flagNames) };
}
