/**
 * The data of `deno task train`: the experiment's data loaded from `--data`
 * (or simulated), or a user's own table (`--data` without `--example`, read
 * by `--columns`, `--time-column`, `--state-columns`, `--trajectory-column`
 * and `--window`); a file that cannot be read named by the flag that chose
 * it, and the line that says which data a run trains on.
 *
 * @module
 */

import { basename, resolve } from "node:path";
import {
  type ExampleName,
  type Experiment,
  type ExperimentData,
  EXPERIMENTS,
  loadExperimentData,
} from "../training/experiments.ts";
import type { ModelConfig, TableReading } from "../training/model_format.ts";
import type { SeriesData, TrainConfig } from "../training/config.ts";
import { samplingGaps } from "../training/preflight.ts";
import { type Table, TableError, type TableOptions } from "../training/table.ts";
import { readTableFile } from "../training/table_file.ts";
import { TABLE_DEFAULTS, tableReading, tableRunDefaults } from "../training/table_run.ts";
import { ArgumentError } from "../solvers/checks.ts";
import { type FlagValues, UsageError } from "./flags.ts";
import { numberFlag, stringFlag } from "./flag_values.ts";

/**
 * The data a run trains on, as {@link loadTrainData} or {@link loadTableData}
 * load them: `data` is the first trajectory (the model's y0 and window, the
 * report's plots); `trajectories`, when given, all of them (what trains).
 */
export interface TrainData extends ExperimentData {
  /** Every trajectory of a table (absent for an experiment's one trajectory). */
  trajectories?: readonly SeriesData[];
  /** The table read (absent for an experiment's data). */
  table?: Table;
  /** What reading a data file dropped, interpolated or found missing, in sentences. */
  notes?: string[];
}

/**
 * What the Schmidt & Lipson reader does to a file, said: the rows it reads
 * (the trial kept, the others not used), the rows past the paper's window
 * `[0, duration]` after the shift to t = 0 (not used), the linear
 * interpolation onto the paper's grid, and the gaps in the window longer
 * than three sampling intervals, which that interpolation bridges.
 *
 * @param text The file's content (read by the reader already, so well formed).
 * @param path The file, for the messages.
 * @param example The experiment: its window and points.
 * @param trial The trial read (default 0).
 * @returns Sentences, `FILE:LINE: …` where a line is concerned.
 *
 * @example
 * ```ts
 * import { schmidtLipsonNotes } from "./train_data.ts";
 * import { EXPERIMENTS } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const rows = [0, 0.1, 0.2, 0.3, 2.7, 2.8, 2.9, 3, 4, 5, 6].map((t) => `0 ${t} 1 2 3 4`);
 * const notes = schmidtLipsonNotes("% x\n" + rows.join("\n"), "f.txt", EXPERIMENTS.oscillator);
 * assert.match(notes[0], /f\.txt:10: 3 row\(s\) after the window \[0, 3\] s not used \(t = 4 to 6 s/);
 * assert.match(notes[1], /interpolated linearly onto 500 points/);
 * assert.match(notes[2], /f\.txt:6: a gap of 2\.4 s \(t = 0\.3 to 2\.7 s, 24 sampling intervals/);
 * ```
 */
export function schmidtLipsonNotes(
  text: string,
  path: string,
  example: Experiment,
  trial = 0,
): string[] {
  const times: number[] = [], lines: number[] = [];
  let others = 0;
  const rows = text.split(/\r\n|\r|\n/);
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k].trim();
    if (row === "" || row.startsWith("%")) continue;
    const fields = row.split(/\s+/);
    if (Number(fields[0]) !== trial) {
      others++;
      continue;
    }
    times.push(Number(fields[1]));
    lines.push(k + 1);
  }
  if (times.length < 2) return [];
  const t0 = times[0], end = example.duration;
  const kept = times.filter((t) => t - t0 <= end).length;
  const g = (x: number) => Number(x.toPrecision(4));
  const notes: string[] = [];
  if (kept < times.length) {
    notes.push(
      `${path}:${lines[kept]}: ${times.length - kept} row(s) after the window [0, ${end}] s ` +
        `not used (t = ${g(times[kept] - t0)} to ${g(times[times.length - 1] - t0)} s after the ` +
        `first row, lines ${lines[kept]}–${lines[lines.length - 1]}): the paper trains on the ` +
        `first ${end} s.`,
    );
  }
  notes.push(
    `${kept} rows of trial ${trial} in the window interpolated linearly onto ` +
      `${example.points} points (the paper's preprocessing)` +
      (others > 0 ? `; ${others} row(s) of other trials not used` : "") + ".",
  );
  const { median, gaps } = samplingGaps(times.slice(0, kept).map((t) => t - t0));
  for (const gap of gaps) {
    notes.push(
      `${path}:${lines[gap.index + 1]}: a gap of ${g(gap.length)} s (t = ${g(gap.from)} to ` +
        `${g(gap.to)} s, ${Math.round(gap.length / median)} sampling intervals of ` +
        `${g(median)} s) with no data, bridged by that linear interpolation.`,
    );
  }
  return notes;
}

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
    if (loaded.path === null) return loaded;
    const notes = loaded.simulated ? [] : schmidtLipsonNotes(
      await Deno.readTextFile(loaded.path),
      loaded.path,
      EXPERIMENTS[name],
    );
    return { ...loaded, path: resolve(loaded.path), notes };
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
  if (!data.simulated) {
    return `data: ${data.data.source}` + (data.notes ?? []).map((n) => `\n      ${n}`).join("");
  }
  return `data: SIMULATED — ${data.data.source}.\n      No --data file was given; for the ` +
    `paper's real measurements pass --data path/to/${example.dataFile}.`;
}

/** The flags that read a table, with the option each sets. */
export const TABLE_FLAGS = [
  ["normalize", "normalize"],
  ["columns", "columns"],
  ["time-column", "timeColumn"],
  ["state-columns", "stateColumns"],
  ["trajectory-column", "trajectoryColumn"],
  ["window", "window"],
] as const;

/** A comma-separated list flag: names, trimmed, none empty. */
function _names(flag: string, value: string): string[] {
  const names = value.split(",").map((n) => n.trim());
  if (names.some((n) => n === "")) {
    throw new UsageError(
      `invalid value for --${flag}: ${JSON.stringify(value)}. Allowed: column names ` +
        `separated by commas, such as x,v.`,
    );
  }
  return names;
}

/**
 * The table options of the flags.
 *
 * @param flags The parsed flags.
 * @returns The options of `readTable`.
 * @throws {UsageError} For a bad value.
 *
 * @example
 * ```ts
 * import { tableOptions } from "./train_data.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(tableOptions({ "state-columns": "x, v", window: "0:2.5" }), {
 *   stateColumns: ["x", "v"], window: [0, 2.5],
 * });
 * assert.throws(() => tableOptions({ window: "3:1" }), /--window: "3:1"\. Allowed: A:B/);
 * ```
 */
export function tableOptions(flags: FlagValues): TableOptions {
  const options: TableOptions = {};
  const columns = stringFlag(flags, "columns");
  if (columns !== undefined) options.columns = _names("columns", columns);
  const time = stringFlag(flags, "time-column");
  if (time !== undefined) options.timeColumn = time;
  const states = stringFlag(flags, "state-columns");
  if (states !== undefined) options.stateColumns = _names("state-columns", states);
  const trajectory = stringFlag(flags, "trajectory-column");
  if (trajectory !== undefined) options.trajectoryColumn = trajectory;
  const window = stringFlag(flags, "window");
  if (window !== undefined) {
    const parts = window.split(":");
    const [a, b] = parts.length === 2 && parts.every((p) => p.trim() !== "")
      ? parts.map((p) => numberFlag("window", p.trim(), {}))
      : [NaN, NaN];
    if (!(a < b)) {
      throw new UsageError(
        `invalid value for --window: ${JSON.stringify(window)}. Allowed: A:B, two times ` +
          `with A < B, such as 0:3.`,
      );
    }
    options.window = [a, b];
  }
  return options;
}

/** A run on a table: its data, the settings it starts from, and what reading it changed. */
export interface TableRun {
  /** The data (`trajectories`: all of them, in the data's units). */
  data: TrainData;
  /** Title, state names, default architecture, steps and iterations of the run. */
  example: Experiment;
  /** The configuration before the flags apply (`tableRunDefaults()`). */
  base: TrainConfig;
  /** True when every trajectory has the same, uniformly spaced times. */
  uniform: boolean;
  /** True when every trajectory has the first one's times. */
  shared: boolean;
  /** How the table was read, as the model file records it. */
  reading: TableReading;
  /** Every row, trajectory or column dropped or changed, as `FILE:LINE: sentence`. */
  notes: string[];
}

/**
 * Reads `--data FILE` as a table with the given options (`tableOptions()`
 * of the flags, or a resumed model's): the run's data, title and default
 * settings (`tableRunDefaults()` in training/table_run.ts: an autonomous MLP
 * over the state columns; fixed RK4 steps: on a uniform shared grid a
 * multiple of its intervals, at least 100, else 200 steps over each
 * trajectory's span, with outputs at the data times).
 *
 * @param path The file.
 * @param options How to read it.
 * @returns The run's data and settings.
 * @throws {UsageError} When the file refuses the options, naming the flag;
 * {@link DataFileError} when it cannot be read.
 *
 * @example
 * ```ts
 * import { loadTableData } from "./train_data.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "t,x,v\n0,1,0\n0.5,0.9,-0.4\n1,0.6,-0.7\n3,0,0\n");
 * const run = await loadTableData(path, { window: [0, 1] });
 * assert.deepEqual(run.example.stateNames, ["x", "v"]);
 * assert.equal(run.base.mlp.dim, 2);
 * assert.equal(run.base.steps, 100);
 * assert.deepEqual([run.reading.options, run.reading.rows], [{ window: [0, 1] }, 3]);
 * assert.match(run.notes[0], /:5: 1 row\(s\) of the table outside the window \[0, 1\]/);
 * await assert.rejects(loadTableData(path, { timeColumn: "s" }),
 *   /invalid value for --time-column: "s"\. Allowed: one of the columns of .*: t, x, v\./);
 * await Deno.remove(path);
 * ```
 */
export async function loadTableData(path: string, options: TableOptions): Promise<TableRun> {
  let table: Table;
  try {
    table = await readTableFile(path, options);
  } catch (error) {
    throw _tableUsageError(error, path);
  }
  const { trajectories, shared, uniform, base, title } = tableRunDefaults(table, basename(path));
  const first = trajectories[0];
  const intervals = first.ts.length - 1;
  const wd = EXPERIMENTS["white-dwarf"];
  const example: Experiment = {
    ...wd,
    // not one of the paper's experiments: the run folder and messages say "data"
    name: "data" as ExampleName,
    title,
    mlp: base.mlp,
    solver: "rk4",
    paperSolvers: [],
    steps: base.steps,
    adaptive: null,
    // the table default (the white dwarf's paper iterations left fits visibly off)
    iterations: TABLE_DEFAULTS.iterations,
    points: first.ts.length,
    duration: first.ts[intervals] - first.ts[0],
    stateNames: table.stateColumns,
    stateLabel: "the data's units",
    dataFile: null,
    deviation: null,
  };
  const notes = table.notes.map((n) =>
    `${path}${n.line === null ? "" : `:${n.line}`}: ${n.message}`
  );
  notes.push(...tableGapNotes(table, path));
  return {
    data: { data: first, simulated: false, path: resolve(path), trajectories, table },
    example,
    base,
    uniform,
    shared,
    reading: tableReading(options, trajectories),
    notes,
  };
}

/**
 * The gaps of a table's trajectories longer than three sampling intervals,
 * said: where, how long; nothing is interpolated across them (the loss
 * compares the model at the observed times), but the model is unchecked
 * there.
 *
 * @param table The table read.
 * @param path The file, for the messages.
 * @returns Sentences, `FILE:LINE: …` at the row after each gap.
 *
 * @example
 * ```ts
 * import { tableGapNotes } from "./train_data.ts";
 * import { readTable } from "../training/table.ts";
 * import assert from "node:assert/strict";
 *
 * const table = readTable("t,x\n0,1\n1,2\n2,3\n3,4\n9,5\n10,6\n");
 * const [note] = tableGapNotes(table, "g.csv");
 * assert.match(note, /^g\.csv:6: a gap of 6 \(t = 3 to 9, 6 sampling intervals of 1\)/);
 * ```
 */
export function tableGapNotes(table: Table, path: string): string[] {
  const notes: string[] = [];
  const g = (x: number) => Number(x.toPrecision(4));
  for (const trajectory of table.trajectories) {
    const { median, gaps } = samplingGaps(trajectory.ts);
    const name = trajectory.id === "" ? "" : ` in trajectory ${JSON.stringify(trajectory.id)}`;
    for (const gap of gaps) {
      notes.push(
        `${path}:${trajectory.lines[gap.index + 1]}: a gap of ${g(gap.length)} (t = ` +
          `${g(gap.from)} to ${g(gap.to)}, ${Math.round(gap.length / median)} sampling ` +
          `intervals of ${g(median)})${name} with no data: the data are not filled in there (the ` +
          `loss compares the model at the observed times only), so nothing checks the model there.`,
      );
    }
  }
  return notes;
}

/** A table's refusal in the flags' words. */
function _tableUsageError(error: unknown, path: string): unknown {
  if (error instanceof TableError) return new UsageError(`--data ${error.message}`);
  if (error instanceof ArgumentError) {
    const flag = TABLE_FLAGS.find(([, option]) => option === error.data.argument)?.[0];
    if (flag !== undefined) {
      return new UsageError(
        `invalid value for --${flag}: ${error.data.got}. Allowed: ${error.data.expected}.`,
      );
    }
  }
  const why = error instanceof Deno.errors.NotFound
    ? "no such file"
    : error instanceof Deno.errors.IsADirectory
    ? "it is a folder, not a file"
    : error instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : null;
  if (why === null) return error;
  return new DataFileError(
    `--data ${JSON.stringify(path)}: ${why}. Expected a table: CSV (comma or semicolon) or ` +
      `whitespace-separated columns, with a header row or --columns.`,
  );
}
