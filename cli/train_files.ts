/**
 * The files of a `deno task train` run: its output folder, made and checked
 * before training, and what is written there after it (model.json, the
 * history, plots, summary and report, and model.onnx).
 *
 * @module
 */

import { type Failure, failureMessage, SolveFailure } from "../solvers/results.ts";
import { UsageError } from "./flags.ts";
import { writeRunFiles } from "./run_files.ts";
import { deviceText } from "./train_backend.ts";
import { claimRunFolder, type RunLock } from "./train_lock.ts";
import type { TrainPlan } from "./train_plan.ts";
import { exportModelFile } from "../export/files.ts";
import type { BackendChoice } from "../solvers/webgpu/runtime/device.ts";
import { writeModelFile } from "../training/model_file.ts";
import { modelFromState } from "../training/model_state.ts";
import type { TrainResult } from "../training/state.ts";

/** The output folder of a run. */
export interface RunFolder {
  /** The folder. */
  dir: string;
  /** True when this run created it (it goes again should training fail). */
  created: boolean;
  /** The run's hold on the folder (released when the run ends), or null for none. */
  lock: RunLock | null;
}

/** A file of a run that could not be written; the message names it and what was kept. */
export class RunFileError extends Error {
  /**
   * @param path The file.
   * @param cause What the file system said.
   * @param kept What the folder still holds, as a sentence, or "".
   */
  constructor(readonly path: string, cause: unknown, kept: string) {
    const why = (cause instanceof Error ? cause.message : String(cause))
      .replace(/: \w+ '.*'$/, "");
    super(`could not write ${path}: ${why}.${kept ? ` ${kept}` : ""}`, { cause });
    this.name = "RunFileError";
  }
}

/** What {@link saveRun} wrote beyond the training outputs. */
export interface SavedRun {
  /** Why model.onnx was not written, or null when it was. */
  onnxError: string | null;
}

/**
 * Creates the output folder (`--out`, or the default one), checks that it
 * can be written to, and claims it (train_lock.ts) before any training: a
 * bad folder, one in use by another run, or one holding a run this one does
 * not resume is a usage error, not a run lost or overwritten at the end.
 *
 * @param plan The run's plan (`out`, the experiment's name, the model resumed).
 * @param force True with `--force`: a run already in the folder is replaced.
 * @returns The folder, whether it was created, and the held lock.
 * @throws {UsageError} For a folder that cannot be created, written to or claimed.
 *
 * @example
 * ```ts
 * import { prepareRunFolder } from "./train_files.ts";
 * import type { TrainPlan } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const parent = await Deno.makeTempDir();
 *   const plan = { out: `${parent}/run`, resumedFrom: null } as TrainPlan;
 *   const folder = await prepareRunFolder(plan);
 *   assert.deepEqual([folder.dir, folder.created], [`${parent}/run`, true]);
 *   await assert.rejects(prepareRunFolder(plan), /in use by another training run/);
 *   await folder.lock?.release();
 *   await Deno.remove(parent, { recursive: true });
 * }
 * ```
 */
export async function prepareRunFolder(plan: TrainPlan, force = false): Promise<RunFolder> {
  const dir = await _outDir(plan);
  const existed = await Deno.stat(dir).then(() => true, () => false);
  const refuse = (why: string) =>
    new UsageError(
      plan.out === null
        ? `the default output folder ${dir} ${why}; choose another with --out DIR.`
        : `invalid value for --out: ${JSON.stringify(dir)}: ${why}. Allowed: a folder to ` +
          `write the run's files to, existing or to be created.`,
    );
  if (dir.trim() === "") throw refuse("it is empty");
  const reason = (error: unknown) =>
    (error instanceof Error ? error.message : String(error)).replace(/: \w+ '.*'$/, "");
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw refuse(
      error instanceof Deno.errors.AlreadyExists
        ? "it is a file, not a folder"
        : `cannot be created (${reason(error)})`,
    );
  }
  try {
    const probe = await Deno.makeTempFile({ dir, prefix: ".revode-write-check-" });
    await Deno.remove(probe);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw refuse(`cannot be written to (${reason(error)})`);
  }
  try {
    const lock = await claimRunFolder(dir, { resumedFrom: plan.resumedFrom, force });
    return { dir, created: !existed, lock };
  } catch (error) {
    if (!existed) await Deno.remove(dir).catch(() => {});
    if (error instanceof UsageError || error instanceof Deno.errors.NotCapable) throw error;
    throw refuse(`cannot be written to (${reason(error)})`);
  }
}

/** `--out`, else `runs/<example>-<timestamp>/`, numbered when taken. */
async function _outDir(plan: TrainPlan): Promise<string> {
  if (plan.out !== null) return plan.out;
  const base = `runs/${plan.example.name}-${_timestamp(new Date())}`;
  for (let k = 1;; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      await Deno.stat(dir);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return dir;
      throw error;
    }
  }
}

/** `20250102-030405` for 2025-01-02T03:04:05Z. */
function _timestamp(date: Date): string {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}

/**
 * Writes a finished run: model.json first (the trained state is what must
 * survive a full disk), then the run files of `writeRunFiles()`, then
 * model.onnx when the exporter can express the model. Every file is written
 * atomically, so a failure leaves the file's last good version.
 *
 * @param dir The output folder.
 * @param plan The run's plan.
 * @param choice The backend it trained on.
 * @param result The run's result.
 * @returns Whether model.onnx was written.
 * @throws {RunFileError} Naming the file that could not be written and
 * what the folder still holds.
 *
 * @example
 * ```ts
 * import { saveRun } from "./train_files.ts";
 * import { planRun } from "./train_plan.ts";
 * import { train } from "../training/train.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const dir = await Deno.makeTempDir();
 *   const plan = await planRun({ steps: "20", iterations: "1" });
 *   const result = await train({ config: plan.config, data: plan.data.data, iterations: 1 });
 *   const choice = { backend: "cpu" as const, gpu: null, message: "" };
 *   assert.deepEqual(await saveRun(dir, plan, choice, result), { onnxError: null });
 *   assert.ok((await Deno.stat(`${dir}/model.json`)).isFile);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function saveRun(
  dir: string,
  plan: TrainPlan,
  choice: BackendChoice,
  result: TrainResult,
): Promise<SavedRun> {
  const { example, config } = plan;
  const first = plan.resume?.iteration ?? 0;
  await Deno.mkdir(dir, { recursive: true });
  const model = modelFromState(config, result.state, {
    plannedIterations: first + plan.iterations,
    status: result.status,
    reason: result.reason,
    gradient: result.gradient,
    backend: choice.backend,
  });
  const modelPath = `${dir}/model.json`;
  await _named(
    modelPath,
    () => writeModelFile(modelPath, model),
    "model.json keeps the last checkpoint, if one was written.",
  );
  const kept = `${modelPath} holds the trained state (iteration ${result.state.iteration}).`;
  await _named(`${dir}/<run files>`, () =>
    writeRunFiles(dir, {
      title: example.title,
      model,
      result,
      data: plan.data.data,
      stateNames: example.stateNames,
      stateLabel: example.stateLabel,
      notes: _notes(plan, first),
      device: deviceText(choice),
    }), kept);
  return { onnxError: await _writeOnnx(dir, kept) };
}

/**
 * Writes a checkpoint of a run still training: model.json alone, atomic,
 * resumable with `--resume` (it continues bit-identically). A model.onnx of
 * an earlier run in the folder goes, so that no file there describes
 * another state than model.json's.
 *
 * @param dir The output folder.
 * @param plan The run's plan.
 * @param choice The backend.
 * @param result The state so far (a training segment's result).
 * @throws {RunFileError} Naming model.json; its last good version stays.
 *
 * @example
 * ```ts
 * import { saveCheckpoint } from "./train_files.ts";
 * import { planRun } from "./train_plan.ts";
 * import { train } from "../training/train.ts";
 * import { readModelFile } from "../training/model_file.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const dir = await Deno.makeTempDir();
 *   const plan = await planRun({ steps: "20", iterations: "5" });
 *   const result = await train({ config: plan.config, data: plan.data.data, iterations: 2 });
 *   const choice = { backend: "cpu" as const, gpu: null, message: "" };
 *   await saveCheckpoint(dir, plan, choice, result);
 *   const model = await readModelFile(`${dir}/model.json`);
 *   assert.equal(model.training.iterations, 2);
 *   assert.equal(model.training.plannedIterations, 5);
 *   assert.match(model.training.reason!, /checkpoint/);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function saveCheckpoint(
  dir: string,
  plan: TrainPlan,
  choice: BackendChoice,
  result: TrainResult,
): Promise<void> {
  const first = plan.resume?.iteration ?? 0;
  const model = modelFromState(plan.config, result.state, {
    plannedIterations: first + plan.iterations,
    status: "interrupted",
    reason: `checkpoint after iteration ${result.state.iteration}, written while the run ` +
      `was training`,
    gradient: result.gradient,
    backend: choice.backend,
  });
  const path = `${dir}/model.json`;
  await _named(path, () => writeModelFile(path, model), "Its last good version stays.");
  await Deno.remove(`${dir}/model.onnx`).catch(() => {});
}

/** Runs a write, turning its failure into a {@link RunFileError} naming `path`. */
async function _named(path: string, write: () => Promise<void>, kept: string): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    // writeRunFiles names no file: the temporary file in the message does
    const file = /'([^']*)'/.exec(error instanceof Error ? error.message : "")?.[1]
      ?.replace(/\/\.([^/]+)\.\d+\.\w+\.\w+\.tmp$/, "/$1"); // atomic_write.ts's name
    throw new RunFileError(path.endsWith("<run files>") && file ? file : path, error, kept);
  }
}

/** The report's notes on where the data and the state came from. */
function _notes(plan: TrainPlan, first: number): string[] {
  const { example, config } = plan;
  return [
    plan.data.simulated ? "simulated data (no --data file given)" : null,
    example.deviation && config.adaptive ? example.deviation : null,
    plan.resumedFrom ? `resumed from ${plan.resumedFrom}` : null,
    plan.dataChange !== null
      ? `resumed on other data at iteration ${first}: the losses before it are on ` +
        `${plan.dataChange.from}`
      : null,
  ].filter((n): n is string => n !== null);
}

/**
 * The whole integrator as ONNX, runnable in any ONNX runtime. A model the
 * exporter cannot express leaves the training outputs intact (and no stale
 * model.onnx of an earlier state); a file that cannot be written is an error.
 */
async function _writeOnnx(dir: string, kept: string): Promise<string | null> {
  const path = `${dir}/model.onnx`;
  try {
    await exportModelFile(`${dir}/model.json`, path, "loop");
    return null;
  } catch (error) {
    if (_isIoError(error)) throw new RunFileError(path, error, kept);
    await Deno.remove(path).catch(() => {});
    // a failed solve says what happened; the summary's remedies name the flags to change
    return error instanceof SolveFailure
      ? failureMessage({ kind: error.kind, data: error.data } as Failure, { advice: false }) + "."
      : error instanceof Error
      ? error.message
      : String(error);
  }
}

/** An error of the file system (full disk, permissions), not of the model. */
function _isIoError(error: unknown): boolean {
  const errors = Deno.errors;
  return error instanceof errors.NotCapable || error instanceof errors.PermissionDenied ||
    error instanceof errors.IsADirectory ||
    (error instanceof Error && /os error \d+/.test(error.message));
}
