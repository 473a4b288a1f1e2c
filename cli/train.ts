/**
 * `deno task train`: trains a neural ODE on one of the paper's three
 * experiments or on a user's table, and writes a model file, the loss
 * history, plots and a report.
 *
 *     deno task train                                  # white dwarf, RK4, reversible
 *     deno task train --data my_series.csv --validation 0.2
 *     deno task train --resume runs/white-dwarf-20250101-120000/model.json --iterations 500
 *
 * Needs `--allow-read` (data and model files) and `--allow-write` (the output
 * folder); `--allow-sys=systemMemoryInfo` lets the pre-flight check compare
 * a run's memory with the machine's (without it that check is skipped);
 * `--backend webgpu` needs no further permission. Run with `--help` for
 * every flag.
 *
 * {@link main} runs the steps, each in its own module: the flags
 * (train_flags.ts, with their values read by flag_values.ts), the plan
 * (train_plan.ts; the training settings in train_settings.ts, the data in
 * train_data.ts), the backend (train_backend.ts), the output folder and
 * files (train_files.ts; the folder's lock in train_lock.ts), the
 * pre-flight checks (train_preflight.ts), the training itself with its
 * checkpoints and signals (train_run.ts), what is printed (train_print.ts)
 * and the exit codes (train_exit.ts).
 *
 * @module
 */

import { type CliIo, consoleIo } from "./io.ts";
import { parseFlags } from "./flags.ts";
import { numberFlag, stringFlag } from "./flag_values.ts";
import { helpText, TRAIN_FLAGS } from "./train_flags.ts";
import { planRun, probePlan, type TrainPlan } from "./train_plan.ts";
import { preflightRun } from "./train_preflight.ts";
import { chooseTrainBackend, reportBackendError } from "./train_backend.ts";
import {
  prepareRunFolder,
  type RunFolder,
  saveCheckpoint,
  type SavedRun,
  saveRun,
} from "./train_files.ts";
import { headerText, summaryText } from "./train_print.ts";
import { listenStopSignals, type RunOutcome, runTraining, STOP_SIGNALS } from "./train_run.ts";
import { ProbesInterrupted } from "./train_restarts.ts";
import { versionText } from "./version.ts";
import { EXIT, exitCodeOf, reportError } from "./train_exit.ts";
import type { BackendChoice } from "../solvers/webgpu/runtime/device.ts";

/**
 * Runs `deno task train` with the given arguments.
 *
 * @param args The command-line arguments (`Deno.args`).
 * @param io Where to write; default the process's stdout and stderr.
 * @returns The exit code: 0 done, 1 diverged or a bad file, 2 a bad flag; after
 * saving, 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP.
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
  let saveEverySeconds: number, force: boolean;
  try {
    const flags = parseFlags(args, TRAIN_FLAGS, { dashValues: true });
    if (flags.help === true || flags.version === true) {
      io.write(flags.help === true ? helpText() : versionText("deno task train"));
      return EXIT.ok;
    }
    const saveEvery = stringFlag(flags, "save-every");
    saveEverySeconds = saveEvery === undefined ? 60 : numberFlag("save-every", saveEvery, {
      above: 0,
    });
    force = flags.force === true;
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
    folder = await prepareRunFolder(plan, force);
  } catch (error) {
    choice.gpu?.device.destroy();
    return reportError(io, error);
  }
  try {
    return await _trainAndSave(io, plan, choice, folder, saveEverySeconds);
  } finally {
    await folder.lock?.release();
  }
}

/** Trains with checkpoints, saves the run and prints its summary; returns the exit code. */
async function _trainAndSave(
  io: CliIo,
  plan: TrainPlan,
  choice: BackendChoice,
  folder: RunFolder,
  saveEverySeconds: number,
): Promise<number> {
  const probing = listenStopSignals(io);
  if (plan.restarts) {
    const { count, probe } = plan.restarts, first = plan.config.seed;
    io.write(`probing seeds ${first}–${first + count - 1} for ${probe} iterations each…\n`);
  }
  try {
    await probePlan(plan, () => probing.stoppedBy !== null);
  } catch (error) {
    if (!(error instanceof ProbesInterrupted) || probing.stoppedBy === null) {
      return reportError(io, error);
    }
    // nothing is trained yet: the folder made for this run goes again
    io.error(
      `\nInterrupted (${probing.stoppedBy}) ${error.message.slice("interrupted ".length)}: ` +
        `no seed was chosen yet, so nothing is saved${
          folder.created ? ` and ${folder.dir} is removed` : ""
        }.\n`,
    );
    if (folder.created) {
      await folder.lock?.release();
      await Deno.remove(folder.dir).catch(() => {});
    }
    return STOP_SIGNALS[probing.stoppedBy];
  } finally {
    probing.stop();
  }
  io.write(headerText(plan, choice));
  let outcome: RunOutcome;
  try {
    outcome = await runTraining(io, plan, choice, folder, {
      saveEverySeconds,
      checkpoint: (part) => saveCheckpoint(folder.dir, plan, choice, part),
    });
  } catch (error) {
    return reportError(io, error);
  }
  const { result, signal } = outcome;
  let saved: SavedRun;
  try {
    saved = await saveRun(folder.dir, plan, choice, result);
  } catch (error) {
    return reportError(io, error);
  }
  io.write(summaryText(plan, choice, result, folder.dir, saved));
  return exitCodeOf(result.status, signal);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
