/**
 * The table part of a `deno task train` plan: a new run on a user's table
 * (`--data FILE` without `--example`) and a resumed one, which reads the
 * file again as the model recorded (`config.data.table`), refuses it when
 * its data changed, and reuses the model's normalisation; and the
 * validation checks every plan shares.
 *
 * @module
 */

import { type FlagValues, UsageError } from "./flags.ts";
import { numberFlag, oneOf, stringFlag } from "./flag_values.ts";
import { applyTrainingFlags } from "./train_settings.ts";
import {
  DataFileError,
  loadTableData,
  TABLE_FLAGS,
  tableOptions,
  type TrainData,
} from "./train_data.ts";
import { type ActivationName, activationNames } from "../solvers/fields/activations.ts";
import { ArgumentError } from "../solvers/checks.ts";
import type { Experiment } from "../training/experiments.ts";
import type { FieldTrainConfig, SeriesData, TrainConfig } from "../training/config.ts";
import { type ModelConfig, type ModelFile, ModelFileError } from "../training/model_format.ts";
import type { Normalization } from "../training/normalize.ts";
import { normalizeTable, TABLE_DEFAULTS, tableModelConfig } from "../training/table_run.ts";
import type { TableOptions } from "../training/table.ts";
import { splitValidation, type ValidationSplit } from "../training/validation.ts";

/** The table's share of a plan: what `planRun()` completes into a `TrainPlan`. */
export interface TablePlan {
  /** The run's title, state names and defaults. */
  example: Experiment;
  /** The configuration to train with and to save. */
  config: ModelConfig;
  /** The data (`trajectories` in the model's units, `data` the first in the data's). */
  data: TrainData;
  /** Which data, in words. */
  dataNote: string;
  /** On resume, the settings changed from the model's, in words. */
  overrides: string[];
}

/**
 * Plans a new run on a table: reads it with the flags' options, applies the
 * settings, splits off the validation data and normalises by the rest.
 *
 * @param flags The parsed flags.
 * @param path The table (`--data`).
 * @param schedule `--schedule`, or undefined for the default ({@link TABLE_DEFAULTS}).
 * @param iterations `--iterations`, or undefined for the default ({@link TABLE_DEFAULTS}).
 * @returns The table's share of the plan.
 * @throws {UsageError} For a flag the table refuses.
 *
 * @example
 * ```ts
 * import { planTable } from "./train_table.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "t,x\n0,1\n1,2\n2,4\n");
 * const plan = await planTable({ window: "0:1" }, path, undefined, undefined);
 * assert.deepEqual(plan.config.data.table!.options, { window: [0, 1] });
 * assert.deepEqual(plan.config.normalization, { shift: [1.5], scale: [0.5] });
 * await Deno.remove(path);
 * ```
 */
export async function planTable(
  flags: FlagValues,
  path: string,
  schedule: string | undefined,
  iterations: number | undefined,
): Promise<TablePlan> {
  const run = await loadTableData(path, tableOptions(flags));
  const { example } = run;
  const how = oneOf(
    "normalize",
    stringFlag(flags, "normalize") ?? "standard",
    [
      "none",
      "standard",
    ] as const,
  );
  const raw = run.data.trajectories!;
  const base = { ...run.base, ...architectureFlags(flags, run.base.mlp) };
  const config = applyTrainingFlags(flags, base, example.points, example.duration, {
    uniform: run.uniform,
    trajectories: raw.length,
  });
  const split = validationSplit(config, raw);
  // the model learns normalised states, scaled by the data it trains on (not the held-out
  // ones); the report's data stay in their units
  const { data: trajectories, normalization } = normalizeTable(raw, how, split?.train ?? raw);
  _refuseBatch(config, run.shared, path);
  if ((schedule ?? TABLE_DEFAULTS.schedule) === "cosine") {
    const n = iterations ?? example.iterations;
    config.schedule = { kind: "cosine", iterations: n, minLr: config.lr / 100 };
  }
  return {
    example,
    config: tableModelConfig(config, run.data.table!, trajectories, normalization, {
      path: run.data.path,
      reading: run.reading,
    }),
    data: { ...run.data, trajectories },
    dataNote: _dataNote(path, run, trajectories.length, normalization),
    overrides: [],
  };
}

/**
 * Plans the resumption of a model trained on a table: reads the file the
 * model recorded (or `--data`, when it moved) with the options it recorded,
 * refuses it when the data read differ from the model's (the digest), and
 * normalises with the model's normalisation, never recomputed. Table flags
 * that differ from the model's are refused; the validation split is the
 * model's (same data, fraction and seed).
 *
 * @param flags The parsed flags.
 * @param model The model resumed.
 * @param resumePath Its file.
 * @param dataPath `--data`, or undefined for the file the model recorded.
 * @returns The table's share of the plan.
 * @throws {ModelFileError} For a model that does not record how its table was read;
 * {@link DataFileError} for a table that cannot be read or has changed;
 * {@link UsageError} for a flag that conflicts with the model.
 *
 * @example
 * ```ts
 * import { planTable, planTableResume } from "./train_table.ts";
 * import { modelFromState } from "../training/model_state.ts";
 * import { initialState } from "../training/state.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "t,x\n0,1\n1,2\n2,4\n");
 * const { config } = await planTable({}, path, undefined, undefined);
 * const info = { plannedIterations: 0, status: "completed" as const, reason: null, gradient: null };
 * const model = modelFromState(config, initialState(config), info);
 * const plan = await planTableResume({}, model, "m.json", undefined);
 * assert.deepEqual(plan.config.normalization, config.normalization);
 * await assert.rejects(planTableResume({ normalize: "none" }, model, "m.json", undefined),
 *   /--normalize none conflicts with the model being resumed \(normalize standard\)/);
 * await Deno.writeTextFile(path, "t,x\n0,1\n1,2\n2,5\n");
 * await assert.rejects(planTableResume({}, model, "m.json", undefined),
 *   /has changed since m\.json was trained on it/);
 * await Deno.remove(path);
 * ```
 */
export async function planTableResume(
  flags: FlagValues,
  model: ModelFile,
  resumePath: string,
  dataPath: string | undefined,
): Promise<TablePlan> {
  const saved = model.config;
  const reading = saved.data.table;
  const path = dataPath ?? saved.data.path;
  if (reading === undefined || path === null) {
    throw new ModelFileError(
      resumePath,
      "was trained on data that it does not record how to read again (config.data.table " +
        "is absent: a table read by an older revode, or data given to the library's " +
        "train()); resume it with the library's train() instead.",
    );
  }
  const options = _refuseTableChanges(flags, saved, resumePath);
  const run = await _reread(path, options, dataPath === undefined ? resumePath : null);
  if (run.reading.digest !== reading.digest) {
    throw new DataFileError(
      `${path}: the table has changed since ${resumePath} was trained on it: it now reads ` +
        `${run.reading.rows} rows (digest ${run.reading.digest}), the model's data were ` +
        `${reading.rows} rows (digest ${reading.digest}). A resumed run goes on with the same ` +
        `data; to train on the table as it is now, start a new run with --data ${path}.`,
    );
  }
  const raw = run.data.trajectories!;
  const { example } = run;
  const base: TrainConfig = { ...saved };
  const config = applyTrainingFlags(flags, base, example.points, example.duration, {
    uniform: run.uniform,
    trajectories: raw.length,
  });
  refuseValidationChange(config, saved, resumePath);
  validationSplit(config, raw);
  _refuseBatch(config, run.shared, path);
  // the model's units: its own normalisation, whatever the data would give now
  const { data: trajectories } = normalizeTable(raw, saved.normalization ?? "none");
  return {
    example,
    config: {
      ...saved,
      ...config,
      data: { ...saved.data, path: run.data.path },
    },
    data: { ...run.data, trajectories },
    dataNote: _dataNote(path, run, trajectories.length, saved.normalization),
    overrides: changedSettings(config, base),
  };
}

/**
 * The settings a configuration changes from a base, by name.
 *
 * @param config The configuration.
 * @param base The base.
 * @returns The keys whose values differ.
 *
 * @example
 * ```ts
 * import { changedSettings } from "./train_table.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const base = experimentConfig("oscillator");
 * assert.deepEqual(changedSettings({ ...base, lr: 1 }, base), ["lr"]);
 * ```
 */
export function changedSettings(config: TrainConfig, base: TrainConfig): string[] {
  const a = config as unknown as Record<string, unknown>;
  const b = base as unknown as Record<string, unknown>;
  return Object.keys(config).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/**
 * Refuses a `--validation` other than the resumed model's: the held-out data
 * are fixed by it.
 *
 * @param config The configuration with the flags applied.
 * @param saved The resumed model's.
 * @param resumePath Its file.
 * @throws {UsageError} When they differ.
 *
 * @example
 * ```ts
 * import { refuseValidationChange } from "./train_table.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const saved = experimentConfig("oscillator", { validation: 0.2 });
 * assert.throws(() => refuseValidationChange({ ...saved, validation: 0.3 }, saved, "m.json"),
 *   /--validation 0\.3 conflicts with the model being resumed \(validation 0\.2\)/);
 * ```
 */
export function refuseValidationChange(
  config: FieldTrainConfig,
  saved: FieldTrainConfig,
  resumePath: string,
): void {
  if ((config.validation ?? null) === (saved.validation ?? null)) return;
  throw new UsageError(
    `--validation ${config.validation} conflicts with the model being resumed (${
      saved.validation ? `validation ${saved.validation}` : "no validation"
    }): the held-out data are fixed by ${resumePath}.`,
  );
}

/**
 * The validation split a configuration makes of the data, or null without
 * validation; refusals name `--validation` (too few trajectories or points to
 * hold the fraction out) and `--batch` (more than the trajectories left to train).
 *
 * @param config The configuration (validation, seed, steps, batch).
 * @param trajectories The data.
 * @returns The split, or null.
 * @throws {UsageError} When the data cannot be split so.
 *
 * @example
 * ```ts
 * import { validationSplit } from "./train_table.ts";
 * import { defaultConfig } from "../training/config.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0, 1, 2), ys: Float64Array.of(0, 1, 2), dim: 1, source: "" };
 * assert.equal(validationSplit(defaultConfig({ steps: 2 }), [d]), null);
 * assert.equal(validationSplit(defaultConfig({ steps: 2, validation: 0.4 }), [d])!.cut, 1);
 * assert.throws(() => validationSplit(defaultConfig({ steps: 2, validation: 0.9 }), [d]),
 *   /invalid value for --validation: 0\.9; expected .*none would train/);
 * ```
 */
export function validationSplit(
  config: FieldTrainConfig,
  trajectories: readonly SeriesData[],
): ValidationSplit | null {
  if (!config.validation) return null;
  let split: ValidationSplit;
  try {
    split = splitValidation(trajectories, config);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    const { got, expected } = error.data;
    throw new UsageError(`invalid value for --validation: ${got}; expected ${expected}.`);
  }
  const n = split.train.length;
  if (config.batch > n) {
    throw new UsageError(
      `invalid value for --batch: ${config.batch}. With --validation ${config.validation}, ` +
        `${n} of the ${trajectories.length} trajectories train; allowed: 1 to ${n}.`,
    );
  }
  return split;
}

/**
 * `--width`, `--depth`, `--activation` and `--seed` over the defaults
 * (width 10, depth 1, tanh, seed 0), for a new run of an example or a table.
 *
 * @param flags The parsed flags.
 * @param mlp The MLP the flags change (its dimension stays).
 * @returns The MLP and the seed.
 * @throws {UsageError} For a value out of range.
 *
 * @example
 * ```ts
 * import { architectureFlags } from "./train_table.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = {
 *   dim: 2,
 *   widths: [10],
 *   activation: "tanh" as const,
 *   finalActivation: "identity" as const,
 *   timeDependent: false,
 * };
 * const { mlp: wide, seed } = architectureFlags({ width: "32", depth: "2", seed: "7" }, mlp);
 * assert.deepEqual(wide.widths, [32, 32]);
 * assert.equal(seed, 7);
 * assert.throws(() => architectureFlags({ width: "0" }, mlp), /--width/);
 * ```
 */
export function architectureFlags(
  flags: FlagValues,
  mlp: TrainConfig["mlp"],
): Pick<TrainConfig, "mlp" | "seed"> {
  const width = numberFlag("width", stringFlag(flags, "width") ?? "10", { integer: true, min: 1 });
  const depth = numberFlag("depth", stringFlag(flags, "depth") ?? "1", { integer: true, min: 0 });
  const activation = oneOf(
    "activation",
    stringFlag(flags, "activation") ?? "tanh",
    activationNames,
  ) as ActivationName;
  const seed = numberFlag("seed", stringFlag(flags, "seed") ?? "0", { integer: true });
  return {
    mlp: { ...mlp, widths: Array.from({ length: depth }, () => width), activation },
    seed,
  };
}

/** A batch is solved on one set of times: refused for trajectories with different ones. */
function _refuseBatch(config: TrainConfig, shared: boolean, path: string): void {
  if (shared || config.batch <= 1) return;
  throw new UsageError(
    `invalid value for --batch: ${config.batch}. The trajectories of ${path} have ` +
      `different times, and a batch is solved on one set of times; allowed: 1.`,
  );
}

/**
 * The options the resumed model read its table with; a table flag or
 * `--normalize` given that differs from the model's is refused.
 */
function _refuseTableChanges(
  flags: FlagValues,
  saved: ModelConfig,
  resumePath: string,
): TableOptions {
  const recorded = saved.data.table!.options;
  const given = tableOptions(flags) as Record<string, unknown>;
  // an option the run left to its default took the columns the model names
  const used: Record<string, unknown> = {
    ...recorded,
    timeColumn: recorded.timeColumn ?? saved.data.columns?.time,
    stateColumns: recorded.stateColumns ?? saved.data.columns?.states,
    normalize: saved.normalization === undefined ? "none" : "standard",
  };
  const normalize = stringFlag(flags, "normalize");
  if (normalize !== undefined) given.normalize = normalize;
  for (const [flag, option] of TABLE_FLAGS) {
    if (given[option] === undefined) continue;
    if (JSON.stringify(given[option]) === JSON.stringify(used[option])) continue;
    const text = (v: unknown) =>
      v === undefined
        ? "not given"
        : Array.isArray(v)
        ? v.join(flag === "window" ? ":" : ",")
        : String(v);
    throw new UsageError(
      `--${flag} ${stringFlag(flags, flag)} conflicts with the model being resumed ` +
        `(${flag} ${text(used[option])}): how the table is read is fixed by ${resumePath}.`,
    );
  }
  return recorded;
}

/** The table read again; a file that cannot be read names the model that recorded it. */
async function _reread(path: string, options: TableOptions, recordedBy: string | null) {
  try {
    return await loadTableData(path, options);
  } catch (error) {
    if (recordedBy === null || !(error instanceof Error)) throw error;
    const why = error.message.replace(/^--data ("[^"]*"|\S+): /, "").replace(
      /\.? Expected .*$/,
      "",
    );
    throw new DataFileError(
      `the table recorded in ${recordedBy} (config.data.path), ${JSON.stringify(path)}, ` +
        `cannot be read as it was: ${why}. If it has moved, pass --data NEW to point to it.`,
    );
  }
}

/** The line that says which data a table run trains on. */
function _dataNote(
  path: string,
  run: { example: Experiment; uniform: boolean; notes: string[] },
  count: number,
  normalization: Normalization | undefined,
): string {
  const names = run.example.stateNames;
  return `data: ${path}: ${count} ${count === 1 ? "trajectory" : "trajectories"} of ` +
    `${names.join(", ")}${run.uniform ? "" : " (irregular times: outputs at the data times)"}` +
    (normalization === undefined
      ? ""
      : `\n      normalised per state (${_normText(names, normalization)}); ` +
        `the loss is in these units; model.onnx takes and returns the data's own units ` +
        `(the graph applies config.normalization: revode.shift, revode.scale)`) +
    run.notes.map((n) => `\n      ${n}`).join("");
}

/** `x: mean m, std s` per state. */
function _normText(names: readonly string[], n: Normalization): string {
  const g = (v: number) => Number(v.toPrecision(4));
  return names.map((name, k) => `${name}: mean ${g(n.shift[k])}, std ${g(n.scale[k])}`).join("; ");
}
