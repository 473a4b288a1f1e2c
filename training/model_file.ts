/**
 * `model.json` on disk: {@link writeModelFile} writes one atomically (a
 * temporary file renamed over the target), {@link readModelFile} reads one
 * back with full validation. The format is model_format.ts's; this module is
 * the only part of the model file that touches the file system, so that the
 * parser (model_parse.ts) runs where Deno's file APIs do not.
 *
 * @module
 */

import { writeTextFileAtomic } from "./atomic_write.ts";
import { type ModelFile, ModelFileError } from "./model_format.ts";
import { parseModelFile } from "./model_parse.ts";
import { serializeModel } from "./model_serialize.ts";

/**
 * Writes a model file atomically: readers and a crash see the old file or
 * the new one, never a mix. The model is validated first, so a file this
 * function writes can always be read back.
 *
 * @param path The file to create or replace; its directory must exist.
 * @param model The model file.
 *
 * @example
 * ```ts
 * import { readModelFile, writeModelFile } from "./model_file.ts";
 * import { modelFromState } from "./model_state.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const train = defaultConfig({
 *     mlp: { dim: 1, widths: [2], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     steps: 10,
 *   });
 *   const config = {
 *     ...train, example: null, t0: 0, t1: 1, y0: [1],
 *     data: { source: "by hand", path: null, simulated: false, points: 11 },
 *   };
 *   const model = modelFromState(config, initialState(train), {
 *     plannedIterations: 0, status: "completed", reason: null, gradient: null,
 *   });
 *   const dir = await Deno.makeTempDir();
 *   await writeModelFile(`${dir}/model.json`, model);
 *   assert.deepEqual(await readModelFile(`${dir}/model.json`), model);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeModelFile(path: string, model: ModelFile): Promise<void> {
  const text = serializeModel(model);
  parseModelFile(text, path); // never write what could not be read back
  await writeTextFileAtomic(path, text);
}

/**
 * Reads and validates a model file.
 *
 * @param path The file.
 * @returns The parsed model.
 * @throws {ModelFileError} When the file is missing, unreadable or invalid.
 *
 * @example
 * ```ts
 * import { readModelFile } from "./model_file.ts";
 * import { ModelFileError } from "./model_format.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(readModelFile("no/such/model.json"), (e) =>
 *     e instanceof ModelFileError && /no such file/.test(e.message));
 * }
 * ```
 */
export async function readModelFile(path: string): Promise<ModelFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new ModelFileError(path, "no such file.");
    if (error instanceof Deno.errors.IsADirectory) {
      throw new ModelFileError(path, "is a directory, not a model file.");
    }
    throw new ModelFileError(
      path,
      `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseModelFile(text, path);
}
