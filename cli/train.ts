/**
 * `deno task train`: trains a neural ODE on one of the paper's three
 * experiments and writes a model file, the loss history, plots and a report.
 *
 *     deno task train                                  # white dwarf, RK4, reversible
 *     deno task train --example oscillator --data real_double_linear_h_1.txt
 *     deno task train --resume runs/white-dwarf-20250101-120000/model.json --iterations 500
 *
 * Needs `--allow-read` (data and model files) and `--allow-write` (the output
 * folder); `--backend webgpu` needs no further permission. Run with `--help`
 * for every flag.
 *
 * {@link main} runs the steps, each in its own module: the flags
 * (train_flags.ts, with their values read by flag_values.ts), the plan
 * (train_plan.ts; the training settings in train_settings.ts, the data in
 * train_data.ts), the backend (train_backend.ts), the output folder and
 * files (train_files.ts), the training itself (train_run.ts), what is
 * printed (train_print.ts) and the exit codes (train_exit.ts).
 *
 * @module
 */

import { type CliIo, consoleIo } from "./io.ts";
import { parseFlags } from "./flags.ts";
import { helpText, TRAIN_FLAGS } from "./train_flags.ts";
import { planRun, type TrainPlan } from "./train_plan.ts";
import { preflightRun } from "./train_preflight.ts";
import { chooseTrainBackend, reportBackendError } from "./train_backend.ts";
import { prepareRunFolder, type RunFolder, type SavedRun, saveRun } from "./train_files.ts";
import { headerText, summaryText } from "./train_print.ts";
import { runTraining } from "./train_run.ts";
import { EXIT, exitCodeOf, reportError } from "./train_exit.ts";
import type { BackendChoice } from "../solvers/webgpu/runtime/device.ts";
import type { TrainResult } from "../training/state.ts";

/**
 * Runs `deno task train` with the given arguments.
 *
 * @param args The command-line arguments (`Deno.args`).
 * @param io Where to write; default the process's stdout and stderr.
 * @returns The exit code: 0 done, 1 diverged or a bad file, 2 a bad flag, 130 Ctrl-C.
 *
 * @example Bad flags are refused with the allowed values
 * ```ts
 * import { main } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(await main(["--solver", "rk5"], io), 2);
 * assert.match(err, /--solver: "rk5". Allowed: euler, midpoint/);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo()): Promise<number> {
  let plan: TrainPlan;
  try {
    const flags = parseFlags(args, TRAIN_FLAGS, { dashValues: true });
    if (flags.help === true) {
      io.write(helpText());
      return EXIT.ok;
    }
    plan = await planRun(flags);
    preflightRun(plan, io);
  } catch (error) {
    return reportError(io, error);
  }
  let choice: BackendChoice;
  try {
    choice = await chooseTrainBackend(plan.backend, plan.config);
  } catch (error) {
    return reportBackendError(io, plan, error);
  }
  let folder: RunFolder;
  try {
    folder = await prepareRunFolder(plan);
  } catch (error) {
    choice.gpu?.device.destroy();
    return reportError(io, error);
  }
  io.write(headerText(plan, choice));
  let result: TrainResult;
  try {
    result = await runTraining(io, plan, choice, folder);
  } catch (error) {
    return reportError(io, error);
  }
  let saved: SavedRun;
  try {
    saved = await saveRun(folder.dir, plan, choice, result);
  } catch (error) {
    return reportError(io, error);
  }
  io.write(summaryText(plan, choice, result, folder.dir, saved));
  return exitCodeOf(result.status);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
