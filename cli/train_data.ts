/**
 * The data of `deno task train`: the experiment's data loaded from `--data`
 * (or simulated), a file that cannot be read named by the flag that chose
 * it, and the line that says which data a run trains on.
 *
 * @module
 */

import { resolve } from "node:path";
import {
  type ExampleName,
  type Experiment,
  EXPERIMENTS,
  loadExperimentData,
} from "../training/experiments.ts";
import type { ModelConfig } from "../training/model_format.ts";

/** The data an experiment trains on, as {@link loadTrainData} loads them. */
export type TrainData = Awaited<ReturnType<typeof loadExperimentData>>;

/**
 * A data file that cannot be read (absent, a folder, not permitted).
 *
 * @example
 * ```ts
 * import { DataFileError } from "./train_data.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(new DataFileError("--data x: no such file.") instanceof Error);
 * ```
 */
export class DataFileError extends Error {}

/**
 * The data's window and initial state, as a model file records them.
 *
 * @param data The data.
 * @returns `t0` and `t1`, the first and last times, and `y0`, the first state.
 *
 * @example
 * ```ts
 * import { dataWindow, loadTrainData } from "./train_data.ts";
 * import assert from "node:assert/strict";
 *
 * const window = dataWindow(await loadTrainData("white-dwarf", undefined, null));
 * assert.deepEqual(window, { t0: 0, t1: 5, y0: [1, 0] });
 * ```
 */
export function dataWindow(data: TrainData): Pick<ModelConfig, "t0" | "t1" | "y0"> {
  const { ts, ys, dim } = data.data;
  return { t0: ts[0], t1: ts[ts.length - 1], y0: Array.from(ys.subarray(0, dim)) };
}

/**
 * Loads the experiment's data, naming `--data` (or, for `recordedBy`, the
 * resumed model's recorded data file) when the file cannot be read.
 *
 * @param name The experiment.
 * @param path The data file, or undefined for the experiment's own data.
 * @param recordedBy The model file that recorded `path`, or null when `--data` gave it.
 * @returns The data, their path made absolute.
 * @throws {DataFileError} When the file cannot be read.
 *
 * @example
 * ```ts
 * import { DataFileError, loadTrainData } from "./train_data.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(loadTrainData("oscillator", "no/such.txt", null), (e) =>
 *     e instanceof DataFileError && /^--data "no\/such\.txt": no such file\./.test(e.message));
 * }
 * ```
 */
export async function loadTrainData(
  name: ExampleName,
  path: string | undefined,
  recordedBy: string | null,
): Promise<TrainData> {
  try {
    const loaded = await loadExperimentData(name, { path });
    // recorded absolute: a resume, the run's summary and the ONNX metadata are read from
    // other folders than the one the path was typed in
    return loaded.path === null ? loaded : { ...loaded, path: resolve(loaded.path) };
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a folder, not a file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : null;
    if (why === null || path === undefined) throw error;
    const expected = `a data file in Schmidt & Lipson's format, such as ` +
      `${EXPERIMENTS[name].dataFile}`;
    throw new DataFileError(
      recordedBy === null
        ? `--data ${JSON.stringify(path)}: ${why}. Expected ${expected}.`
        : `the data file recorded in ${recordedBy} (config.data.path), ` +
          `${JSON.stringify(path)}, cannot be read: ${why}. If it has moved, pass ` +
          `--data NEW to point to it instead.`,
    );
  }
}

/**
 * The line that says which data a run trains on; simulated data say how to
 * train on the paper's measurements instead.
 *
 * @param example The experiment.
 * @param data Its data.
 * @returns The line (two for simulated data), without indent.
 *
 * @example
 * ```ts
 * import { dataNote, loadTrainData } from "./train_data.ts";
 * import { EXPERIMENTS } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const data = await loadTrainData("oscillator", undefined, null);
 * assert.match(dataNote(EXPERIMENTS.oscillator, data), /^data: SIMULATED — /);
 * ```
 */
export function dataNote(example: Experiment, data: TrainData): string {
  if (!data.simulated) return `data: ${data.data.source}`;
  return `data: SIMULATED — ${data.data.source}.\n      No --data file was given; for the ` +
    `paper's real measurements pass --data path/to/${example.dataFile}.`;
}
