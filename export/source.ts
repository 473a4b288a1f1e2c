/**
 * What is exported: a model given in memory ({@link ExportSource}, checked
 * by {@link checkSource}; source_check.ts), a parsed model file
 * ({@link sourceFromModel}; source_model.ts), or a training run's
 * `model.json` read from disk ({@link sourceFromModelFile}, here, with the
 * data file it names). The first two use no Deno API (a browser bundles
 * them); they are re-exported here, where they have always been imported from.
 *
 * @module
 */

import { invalidArgument } from "../solvers/checks.ts";
import { readModelFile } from "../training/model_file.ts";
import { dataSummaryOf } from "./provenance_file.ts";
import { stateInfoOfModel } from "./provenance.ts";
import type { ExportSource } from "./source_check.ts";
import { type ParamsChoice, sourceFromModel } from "./source_model.ts";

export {
  type CheckedSource,
  checkSource,
  EXPORTABLE_ACTIVATIONS,
  type ExportScheme,
  type ExportSource,
} from "./source_check.ts";
export { type ParamsChoice, sourceFromModel } from "./source_model.ts";

/**
 * Reads a training run's `model.json` (format `revode-model`, version 1)
 * into an {@link ExportSource}: {@link sourceFromModel} of the file, with the
 * data file it names read for the metadata (its SHA-256 and the data's
 * range, when it is readable now). A file of another format or version, or
 * a damaged one, is refused by the model file reader with a message naming
 * the file.
 *
 * @param path The model file.
 * @param params Which parameters: `best` (lowest loss, default) or `current`.
 * @returns The model to export.
 * @throws {ModelFileError} When the file cannot be used.
 *
 * @example
 * ```ts
 * import { sourceFromModelFile } from "./source.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(sourceFromModelFile("no/such/model.json"), /no such file/);
 * }
 * ```
 */
export async function sourceFromModelFile(
  path: string,
  params: ParamsChoice = "best",
): Promise<ExportSource> {
  if (params !== "best" && params !== "current") {
    invalidArgument("params", params, '"best" or "current"');
  }
  const model = await readModelFile(path);
  const c = model.config;
  // the data are read in the experiment's units; a normalisation applies to them as they are
  const data = await dataSummaryOf(c, c.normalization ? 1 : stateInfoOfModel(c));
  return sourceFromModel(model, params, data);
}
