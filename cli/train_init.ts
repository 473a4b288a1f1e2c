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
 * The parameter count must be the configured MLP's.
 *
 * @module
 */

import { UsageError } from "./flags.ts";
import { Mlp, type MlpConfig } from "../solvers/fields/mlp.ts";
import { parseModelFile } from "../training/model_parse.ts";
import { MODEL_FORMAT } from "../training/model_format.ts";
import type { TrainConfig } from "../training/config.ts";
import { initialState, type TrainState } from "../training/state.ts";

/** Parameters read by {@link readInitFile}, and where they came from in words. */
export interface InitParams {
  /** The parameters, in the MLP's flat order. */
  params: Float64Array;
  /** Where they came from, for the run's header: `x.json (model.json: best, iteration 7)`. */
  note: string;
}

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
  const { values, note } = _paramsOf(json, text, path, mlp, seed);
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
  return { params: Float64Array.from(values as number[]), note: `${path} (${note})` };
}

/**
 * The state a run given `--init` starts from: the file's parameters, a fresh
 * optimizer, no iteration run and no best loss yet.
 *
 * @param path The file.
 * @param config The run's configuration (its MLP, and its seed for a paper-inits file).
 * @returns The state, and a line for the run's header saying where the parameters came from.
 * @throws {UsageError} As {@link readInitFile}.
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
 *   const { state, note } = await initState(file, experimentConfig("white-dwarf"));
 *   assert.equal(state.params[5], 0.05);
 *   assert.deepEqual(state.bestParams, state.params);
 *   assert.equal(state.iteration, 0);
 *   assert.match(note, /^init: .*\.json \(an array\)$/);
 *   await Deno.remove(file);
 * }
 * ```
 */
export async function initState(
  path: string,
  config: TrainConfig,
): Promise<{ state: TrainState; note: string }> {
  const { params, note } = await readInitFile(path, config.mlp, config.seed);
  const state = initialState(config);
  state.params = params;
  state.bestParams = params.slice();
  return { state, note: `init: ${note}` };
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
): { values: unknown[]; note: string } {
  const flag = `--init ${path}`;
  if (Array.isArray(json)) return { values: json, note: "an array" };
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
    return model.best.loss === null
      ? { values: model.params, note: `model.json: its current parameters, no best yet` }
      : {
        values: model.best.params,
        note: `model.json: its best parameters, iteration ${model.best.iteration}, ` +
          `loss ${model.best.loss.toExponential(4)}`,
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
    return { values: _arrayIn(entry, flag, `keys.${seed}`), note: `paper-inits seed ${seed}` };
  }
  return { values: _arrayIn(object, flag, ""), note: "an object" };
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
