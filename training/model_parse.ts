/**
 * Reading a model file's text back into a {@link ModelFile}, with every
 * field validated: a file of another version, a truncated file or one edited
 * into nonsense is refused with a {@link ModelFileError} naming the file and
 * what is wrong. The sections are checked in the order they are written: the
 * header here, then the configuration (model_parse_config.ts), the
 * parameters, the best and the optimizer here, and the training record
 * (model_parse_training.ts).
 *
 * No Deno API is used, so that a browser can read a model from text.
 *
 * @module
 */

import { AdamW, type AdamWState } from "./adamw.ts";
import { describeValue, FieldChecker } from "./model_check.ts";
import { MODEL_FORMAT, MODEL_VERSION, type ModelFile, ModelFileError } from "./model_format.ts";
import { parseConfigSection } from "./model_parse_config.ts";
import { parseTrainingSection } from "./model_parse_training.ts";

/**
 * Parses and validates the text of a model file.
 *
 * @param text The file's content.
 * @param path The file's name, for messages.
 * @returns The parsed model.
 * @throws {ModelFileError} When the text is not a valid model file of this version.
 *
 * @example
 * ```ts
 * import { parseModelFile } from "./model_parse.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseModelFile('{"format": "revode-model", "version": 7}', "m.json"),
 *   /m\.json: .*version 7.*version 1/);
 * assert.throws(() => parseModelFile('[1, 2]', "m.json"), /m\.json: not a revode model file/);
 * ```
 */
export function parseModelFile(text: string, path: string): ModelFile {
  const top = _parseHeader(text, path);
  const c = new FieldChecker(path);
  c.string("createdAt", top.createdAt);
  const { config, paramCount: n } = parseConfigSection(c, top.config);
  const params = c.numbers("params", top.params, n);
  // The training record's iteration count bounds the best and the optimizer's step.
  const trainingObject = c.object("training", top.training);
  const iterations = c.number("training.iterations", trainingObject.iterations, {
    integer: true,
    min: 0,
  });
  const best = _parseBest(c, top.best, iterations, n);
  const optimizer = _parseOptimizer(c, top.optimizer, iterations, n);
  const training = parseTrainingSection(c, trainingObject, iterations);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: top.createdAt as string,
    config,
    params,
    best,
    optimizer,
    training,
  };
}

/** The JSON object of a model file of this format and version. */
function _parseHeader(text: string, path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelFileError(
      path,
      `not valid JSON (${text.trim() === "" ? "the file is empty" : detail}); ` +
        `the file is truncated or damaged.`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ModelFileError(path, `not a revode model file (expected a JSON object).`);
  }
  const top = raw as Record<string, unknown>;
  if (top.format !== MODEL_FORMAT) {
    throw new ModelFileError(
      path,
      `not a revode model file: "format" is ${describeValue(top.format)}, ` +
        `expected "${MODEL_FORMAT}".`,
    );
  }
  if (top.version !== MODEL_VERSION) {
    const newer = typeof top.version === "number" && top.version > MODEL_VERSION;
    throw new ModelFileError(
      path,
      `model format version ${describeValue(top.version)} is not supported: this revode reads ` +
        `version ${MODEL_VERSION}` +
        (newer ? "; the file was written by a newer revode, upgrade to read it." : "."),
    );
  }
  return top;
}

/** The `best` section: no loss before the first iteration, else one seen so far. */
function _parseBest(
  c: FieldChecker,
  value: unknown,
  iterations: number,
  n: number,
): ModelFile["best"] {
  const bestObject = c.object("best", value);
  const bestLoss = bestObject.loss === null && iterations === 0
    ? null
    : c.number("best.loss", bestObject.loss, { min: 0 });
  const bestIteration = c.number("best.iteration", bestObject.iteration, {
    integer: true,
    min: iterations === 0 ? 0 : 1,
    max: iterations,
  });
  const bestParams = c.numbers("best.params", bestObject.params, n);
  return { loss: bestLoss, iteration: bestIteration, params: bestParams };
}

/** The `optimizer` section: AdamW's moments for `n` parameters, `iterations` steps taken. */
function _parseOptimizer(
  c: FieldChecker,
  value: unknown,
  iterations: number,
  n: number,
): AdamWState {
  const opt = c.object("optimizer", value);
  c.numbers("optimizer.m", opt.m, n);
  c.numbers("optimizer.v", opt.v, n);
  for (let i = 0; i < n; i++) {
    c.number(`optimizer.v[${i}]`, (opt.v as number[])[i], { min: 0 });
  }
  if (opt.step !== iterations) {
    c.fail("optimizer.step", opt.step, `${iterations}, the iterations done (training.iterations)`);
  }
  try {
    return AdamW.fromState(opt as unknown as AdamWState).state();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelFileError(c.path, `optimizer is invalid: ${detail}`);
  }
}
