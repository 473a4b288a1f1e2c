/**
 * `deno task train --init FILE.json`: a new run that starts from given
 * parameters instead of the seeded initialisation. FILE is one of
 *
 * - a revode `model.json`: its best parameters (the ones `predict` uses),
 *   or its current ones when it has no best yet; the optimizer starts
 *   afresh (`--resume` continues a run with its optimizer state);
 * - a JSON array of numbers, in the MLP's flat order (weights row-major
 *   per layer, then the bias, layer by layer; `Mlp` documents it);
 * - an object with such an array under `params` or `params0`;
 * - the paper-inits format (`../shared/data/paper-inits/`): `{ keys: { "0":
 *   { params0: […] }, … } }`, the authors' initialisations per seed; the one
 *   of `--seed` (default 0) is taken.
 *
 * The parameter count must be the configured MLP's, and the parameters'
 * units the run's (`checkInitUnits`): a model.json's normalisation must be
 * the one this run computes, and the paper-inits form, drawn for the
 * paper's experiments in the data's own units, is refused by a run that
 * normalises. The run's model.json records what was taken
 * (`config.start.init`).
 *
 * @module
 */

import { UsageError } from "./flags.ts";
import { Mlp, type MlpConfig } from "../solvers/fields/mlp.ts";
import { parseModelFile } from "../training/model_parse.ts";
import { MODEL_FORMAT, type ModelConfig, type StartRecord } from "../training/model_format.ts";
import type { TrainConfig } from "../training/config.ts";
import { initialState, type TrainState } from "../training/state.ts";

/** Parameters read by {@link readInitFile}, and where they came from in words. */
export interface InitParams {
  /** The parameters, in the MLP's flat order. */
  params: Float64Array;
  /** Where they came from, for the run's header: `x.json (model.json: best, iteration 7)`. */
  note: string;
  /** What the model file records of them (`config.start.init`). */
  record: InitRecord;
}

/** What a model file records of an `--init` file (`config.start.init`). */
export type InitRecord = NonNullable<StartRecord["init"]>;

/** A normalisation of the states, `(y − shift) / scale`, as a model file holds it. */
export type Normalization = NonNullable<ModelConfig["normalization"]>;

/**
 * Reads the parameters of `--init` for an MLP and checks their count.
 *
 * @param path The file.
 * @param mlp The configured MLP.
 * @param seed `--seed`: which initialisation of a paper-inits file.
 * @returns The parameters and a note saying which were taken.
 * @throws {UsageError} Naming `--init` and the file, for a file that is missing, not
 * JSON, of no form above, or with a parameter count not the MLP's.
 *
 * @example
 * ```ts
 * import { readInitFile } from "./train_init.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const file = await Deno.makeTempFile({ suffix: ".json" });
 *   const mlp: MlpConfig = { dim: 1, widths: [2], activation: "tanh",
 *     finalActivation: "identity", timeDependent: false };
 *   // 1·2 + 2 + 2·1 + 1 = 7 parameters
 *   await Deno.writeTextFile(file, JSON.stringify([1, 2, 3, 4, 5, 6, 7]));
 *   assert.deepEqual([...(await readInitFile(file, mlp, 0)).params], [1, 2, 3, 4, 5, 6, 7]);
 *   await Deno.writeTextFile(file, JSON.stringify({ params: [1, 2, 3] }));
 *   await assert.rejects(readInitFile(file, mlp, 0),
 *     /holds 3 parameters; the MLP configured \(1 → 2 tanh → 1, widths \[2\]\) takes 7\./);
 *   await Deno.remove(file);
 * }
 * ```
 */
export async function readInitFile(
  path: string,
  mlp: MlpConfig,
  seed: number,
): Promise<InitParams> {
  const flag = `--init ${path}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UsageError(`${flag}: no such file.`);
    if (error instanceof Deno.errors.IsADirectory) {
      throw new UsageError(`${flag}: a folder, not a file.`);
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag}: not JSON (${(error as Error).message}). ${_FORMS}`);
  }
  const { values, note, record } = _paramsOf(json, text, path, mlp, seed);
  const count = Mlp.fromJSON(mlp).paramCount;
  if (values.length !== count) {
    throw new UsageError(
      `${flag}: ${note} holds ${values.length} parameters; the MLP configured ` +
        `(${_mlpText(mlp)}) takes ${count}. Set --width, --depth and the experiment to ` +
        `the MLP the parameters are for.`,
    );
  }
  const bad = values.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (bad >= 0) {
    throw new UsageError(
      `${flag}: parameter ${bad} is ${JSON.stringify(values[bad])}; allowed: finite numbers.`,
    );
  }
  return {
    params: Float64Array.from(values as number[]),
    note: `${path} (${note})`,
    record: { file: path, ...record },
  };
}

/**
 * The state a run given `--init` starts from: the file's parameters, a fresh
 * optimizer, no iteration run and no best loss yet; the units of the file's
 * parameters checked against the run's ({@link checkInitUnits}).
 *
 * @param path The file.
 * @param config The run's configuration (its MLP, its seed for a paper-inits
 * file, and its normalisation).
 * @returns The state, a line for the run's header saying where the
 * parameters came from, and what the model file records of them.
 * @throws {UsageError} As {@link readInitFile} and {@link checkInitUnits}.
 *
 * @example
 * ```ts
 * import { initState } from "./train_init.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const file = await Deno.makeTempFile({ suffix: ".json" });
 *   await Deno.writeTextFile(file, JSON.stringify(Array.from({ length: 62 }, (_, i) => i / 100)));
 *   const { state, note, record } = await initState(file, experimentConfig("white-dwarf"));
 *   assert.equal(state.params[5], 0.05);
 *   assert.deepEqual(state.bestParams, state.params);
 *   assert.equal(state.iteration, 0);
 *   assert.match(note, /^init: .*\.json \(an array\); it carries no normalisation/);
 *   assert.deepEqual(record, { file, form: "array" });
 *   await Deno.remove(file);
 * }
 * ```
 */
export async function initState(
  path: string,
  config: TrainConfig & Pick<ModelConfig, "normalization">,
): Promise<{ state: TrainState; note: string; record: InitRecord }> {
  const { params, note, record } = await readInitFile(path, config.mlp, config.seed);
  const units = checkInitUnits(record, config.normalization);
  const state = initialState(config);
  state.params = params;
  state.bestParams = params.slice();
  return { state, note: `init: ${note}${units}`, record };
}

/**
 * Checks that the parameters of an `--init` file act in the units this run
 * trains in. A revode model file says which normalisation its parameters
 * act in (`config.normalization`, absent: the data's own units), and it
 * must be the run's: a field fitted to `(y − shift) / scale` is another
 * function of y under another shift or scale. A paper-inits file holds
 * the authors' initialisations for the paper's experiments, which train
 * in the data's own units, so a run that normalises is refused. An array
 * or an object of parameters says nothing of units: only its count can be
 * checked, and the note says so.
 *
 * @param record What was read ({@link readInitFile}'s `record`).
 * @param run The run's normalisation, or undefined for the data's own units.
 * @returns Text to append to the run's `init:` line (empty when there is nothing to say).
 * @throws {UsageError} Naming `--init`, the file, both normalisations and the remedy.
 *
 * @example
 * ```ts
 * import { checkInitUnits } from "./train_init.ts";
 * import assert from "node:assert/strict";
 *
 * const a = { shift: [1, 2], scale: [3, 4] };
 * assert.equal(checkInitUnits({ file: "m.json", form: "model", normalization: a }, a), "");
 * assert.throws(() => checkInitUnits({ file: "m.json", form: "model", normalization: a },
 *   { shift: [1, 2], scale: [3, 5] }),
 *   /--init m\.json: the model's parameters act on states normalised with shift \[1, 2\] and scale \[3, 4\]; this run normalises with shift \[1, 2\] and scale \[3, 5\]/);
 * assert.throws(() => checkInitUnits({ file: "m.json", form: "model" }, a),
 *   /act on the data's own units \(no normalisation\); this run normalises .* give --normalize none/);
 * assert.match(checkInitUnits({ file: "p.json", form: "array" }, a), /carries no normalisation/);
 * ```
 */
export function checkInitUnits(record: InitRecord, run: Normalization | undefined): string {
  const flag = `--init ${record.file}`;
  const runText = run === undefined
    ? "this run trains in the data's own units (no normalisation: an example's data, or " +
      "--normalize none)"
    : `this run normalises with ${_unitsText(run)} (--normalize standard: the mean and ` +
      "standard deviation of its training data)";
  if (record.form === "model") {
    const model = record.normalization;
    if (_sameUnits(model, run)) return "";
    const modelText = model === undefined
      ? "act on the data's own units (no normalisation)"
      : `act on states normalised with ${_unitsText(model)}`;
    const remedy = run === undefined
      ? "train with --normalize standard on the data, --window and --validation the model " +
        "trained on, which give its normalisation back"
      : model === undefined
      ? "give --normalize none"
      : "train on the data, --window and --validation the model trained on, which give " +
        "its normalisation back, or --resume the model to go on in its own units";
    throw new UsageError(
      `${flag}: the model's parameters ${modelText}; ${runText}. A field fitted in one ` +
        `normalisation is another function in another. Remedy: ${remedy}.`,
    );
  }
  if (record.form === "paper-inits") {
    if (run === undefined) return "";
    throw new UsageError(
      `${flag}: the paper-inits form holds the authors' initialisations for the paper's ` +
        `experiments, which train in the data's own units (no normalisation); ${runText}. ` +
        "Remedy: give --normalize none, or initialise from --seed.",
    );
  }
  return `; it carries no normalisation, so it is taken in this run's units (${
    run === undefined ? "the data's own" : `normalised with ${_unitsText(run)}`
  })`;
}

/** The same normalisation (to rounding), or both none. */
function _sameUnits(a: Normalization | undefined, b: Normalization | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const close = (x: number, y: number) =>
    Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
  return a.shift.length === b.shift.length &&
    a.shift.every((x, i) => close(x, b.shift[i]) && close(a.scale[i], b.scale[i]));
}

/** A normalisation in words: `shift [1, 2] and scale [3, 4]`. */
function _unitsText(n: Normalization): string {
  const list = (xs: number[]) => `[${xs.map((x) => Number(x.toPrecision(6))).join(", ")}]`;
  return `shift ${list(n.shift)} and scale ${list(n.scale)}`;
}

/** The forms `--init` reads, for its refusals. */
const _FORMS = "Allowed: a revode model.json, a JSON array of numbers, an object with " +
  "`params` or `params0`, or the paper-inits form { keys: { SEED: { params0 } } }.";

/** The array of parameters in whichever form `json` has, and the form in words. */
function _paramsOf(
  json: unknown,
  text: string,
  path: string,
  mlp: MlpConfig,
  seed: number,
): { values: unknown[]; note: string; record: Omit<InitRecord, "file"> } {
  const flag = `--init ${path}`;
  if (Array.isArray(json)) return { values: json, note: "an array", record: { form: "array" } };
  if (typeof json !== "object" || json === null) {
    throw new UsageError(
      `${flag}: holds ${typeof json === "object" ? "null" : typeof json}. ${_FORMS}`,
    );
  }
  const object = json as Record<string, unknown>;
  if (object.format === MODEL_FORMAT) {
    const model = parseModelFile(text, path);
    const saved = model.config.mlp;
    if (
      saved.dim !== mlp.dim || saved.timeDependent !== mlp.timeDependent ||
      saved.activation !== mlp.activation || saved.finalActivation !== mlp.finalActivation ||
      saved.widths.join() !== mlp.widths.join()
    ) {
      throw new UsageError(
        `${flag}: the model's MLP (${_mlpText(saved)}) is not the one configured ` +
          `(${_mlpText(mlp)}). Set the experiment, --width, --depth and --activation to ` +
          `the model's.`,
      );
    }
    const units = model.config.normalization === undefined
      ? {}
      : { normalization: model.config.normalization };
    return model.best.loss === null
      ? {
        values: model.params,
        note: `model.json: its current parameters, no best yet`,
        record: { form: "model", params: "current", ...units },
      }
      : {
        values: model.best.params,
        note: `model.json: its best parameters, iteration ${model.best.iteration}, ` +
          `loss ${model.best.loss.toExponential(4)}`,
        record: { form: "model", params: "best", ...units },
      };
  }
  if (typeof object.keys === "object" && object.keys !== null) {
    const keys = object.keys as Record<string, unknown>;
    const entry = keys[String(seed)] as Record<string, unknown> | undefined;
    if (entry === undefined) {
      throw new UsageError(
        `${flag}: holds the initialisations of seeds ${Object.keys(keys).join(", ")}, ` +
          `not of --seed ${seed}. Allowed: --seed ${Object.keys(keys).join(", --seed ")}.`,
      );
    }
    return {
      values: _arrayIn(entry, flag, `keys.${seed}`),
      note: `paper-inits seed ${seed}`,
      record: { form: "paper-inits", seed },
    };
  }
  return { values: _arrayIn(object, flag, ""), note: "an object", record: { form: "object" } };
}

/** `params` or `params0` of an object, as an array. */
function _arrayIn(object: Record<string, unknown>, flag: string, where: string): unknown[] {
  const values = object?.params ?? object?.params0;
  if (!Array.isArray(values)) {
    throw new UsageError(
      `${flag}: ${where === "" ? "the object" : where} has no array \`params\` or ` +
        `\`params0\`. ${_FORMS}`,
    );
  }
  return values;
}

/** An MLP in words: `3 → 10 tanh → 2, widths [10]`. */
function _mlpText(mlp: MlpConfig): string {
  const inputs = mlp.dim + (mlp.timeDependent ? 1 : 0);
  const hidden = mlp.widths.map((w) => `${w} ${mlp.activation}`);
  return `${[inputs, ...hidden, mlp.dim].join(" → ")}, widths [${mlp.widths.join(", ")}]`;
}
