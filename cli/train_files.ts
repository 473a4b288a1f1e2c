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
}

/** What {@link saveRun} wrote beyond the training outputs. */
export interface SavedRun {
  /** Why model.onnx was not written, or null when it was. */
  onnxError: string | null;
}

/**
 * Creates the output folder (`--out`, or the default one) and checks that
 * it can be written to, before any training: a bad folder is a usage error,
 * not a run lost at the end.
 *
 * @param plan The run's plan (`out` and the experiment's name).
 * @returns The folder, and whether it was created.
 * @throws {UsageError} For a folder that cannot be created or written to.
 *
 * @example
 * ```ts
 * import { prepareRunFolder } from "./train_files.ts";
 * import type { TrainPlan } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const parent = await Deno.makeTempDir();
 *   const plan = { out: `${parent}/run` } as TrainPlan;
 *   assert.deepEqual(await prepareRunFolder(plan), { dir: `${parent}/run`, created: true });
 *   await Deno.remove(parent, { recursive: true });
 * }
 * ```
 */
export async function prepareRunFolder(plan: TrainPlan): Promise<RunFolder> {
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
  return { dir, created: !existed };
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
 * Writes a finished run: model.json, the run files of `writeRunFiles()`,
 * and model.onnx when the exporter can express the model.
 *
 * @param dir The output folder.
 * @param plan The run's plan.
 * @param choice The backend it trained on.
 * @param result The run's result.
 * @returns Whether model.onnx was written.
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
  await writeModelFile(`${dir}/model.json`, model);
  await writeRunFiles(dir, {
    title: example.title,
    model,
    result,
    data: plan.data.data,
    stateNames: example.stateNames,
    stateLabel: example.stateLabel,
    notes: [
      plan.data.simulated ? "simulated data (no --data file given)" : null,
      example.deviation && config.adaptive ? example.deviation : null,
      plan.resumedFrom ? `resumed from ${plan.resumedFrom}` : null,
      plan.dataChange !== null
        ? `resumed on other data at iteration ${first}: the losses before it are on ` +
          `${plan.dataChange.from}`
        : null,
    ].filter((n): n is string => n !== null),
    device: deviceText(choice),
  });
  // The whole integrator as ONNX, runnable in any ONNX runtime; a model the
  // exporter cannot express leaves the training outputs intact.
  try {
    await exportModelFile(`${dir}/model.json`, `${dir}/model.onnx`, "loop");
    return { onnxError: null };
  } catch (error) {
    // a failed solve says what happened; the summary's remedies name the flags to change
    const why = error instanceof SolveFailure
      ? failureMessage({ kind: error.kind, data: error.data } as Failure, { advice: false }) + "."
      : error instanceof Error
      ? error.message
      : String(error);
    return { onnxError: why };
  }
}
