/**
 * ONNX files from models: a `model.json` of `deno task train` to an `.onnx`
 * file written atomically ({@link exportModelFile}). A model in memory to the
 * bytes of one of the forms is forms.ts's `exportOnnx`, re-exported here.
 *
 * @module
 */

import { writeFileAtomic } from "../training/atomic_write.ts";
import type { ExportDtype, ExportForm } from "./metadata.ts";
import { type ExportSource, type ParamsChoice, sourceFromModelFile } from "./source.ts";
import { exportOnnx } from "./forms.ts";

// where it has always been imported from; it lives in forms.ts, which a browser can bundle
export { exportOnnx };

/**
 * The default output file for a form: `model.onnx` next to the model file
 * for the loop, `model.<form>.onnx` for the others.
 *
 * @param modelJsonPath The model file.
 * @param form The form.
 * @returns The path.
 *
 * @example
 * ```ts
 * import { defaultOnnxPath } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(defaultOnnxPath("runs/a/model.json", "loop"), "runs/a/model.onnx");
 * assert.equal(defaultOnnxPath("model.json", "unrolled"), "model.unrolled.onnx");
 * ```
 */
export function defaultOnnxPath(modelJsonPath: string, form: ExportForm): string {
  const slash = modelJsonPath.lastIndexOf("/");
  const dir = slash < 0 ? "" : modelJsonPath.slice(0, slash + 1);
  return `${dir}model${form === "loop" ? "" : `.${form}`}.onnx`;
}

/**
 * Options of {@link exportModelFile}.
 *
 * @example
 * ```ts
 * import type { ExportFileOptions } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ExportFileOptions = { dtype: "float64", params: "current" };
 * assert.equal(options.dtype, "float64");
 * ```
 */
export interface ExportFileOptions {
  /** Element type; default `float32`. */
  dtype?: ExportDtype;
  /** Which parameters; default `best`. */
  params?: ParamsChoice;
  /** Steps per Loop iteration of the `chunked` form. */
  chunk?: number;
}

/**
 * What {@link exportModelFile} wrote.
 *
 * @example
 * ```ts
 * import type { ExportedFile } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * const written: Pick<ExportedFile, "path" | "bytes"> = { path: "runs/a/model.onnx", bytes: 11598 };
 * assert.ok(written.path.endsWith(".onnx"));
 * ```
 */
export interface ExportedFile {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The model it came from, for verification. */
  source: ExportSource;
  /** The file's content. */
  onnx: Uint8Array;
}

/**
 * Reads a `model.json` and writes it as ONNX (atomically: a temporary file,
 * flushed to disk, renamed over the target). The training CLI calls it to write `model.onnx`
 * next to `model.json`.
 *
 * @param modelJsonPath The model file (format `revode-model`, version 1).
 * @param outPath The `.onnx` file to write.
 * @param form `vector-field`, `loop` or `unrolled`.
 * @param options Element type and which parameters.
 * @returns What was written.
 * @throws {ModelFileError} When the model file cannot be used.
 * @throws {RangeError} When the model cannot be exported (e.g. too many steps to unroll), or
 *   when `outPath` is the model file itself.
 *
 * @example
 * ```ts
 * import { exportModelFile } from "./files.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(exportModelFile("no/such/model.json", "x.onnx", "loop"), /no such file/);
 * }
 * ```
 */
export async function exportModelFile(
  modelJsonPath: string,
  outPath: string,
  form: ExportForm,
  options: ExportFileOptions = {},
): Promise<ExportedFile> {
  const source = await sourceFromModelFile(modelJsonPath, options.params ?? "best");
  const onnx = exportOnnx(source, form, options.dtype ?? "float32", options.chunk);
  if (await sameFile(modelJsonPath, outPath)) {
    throw new RangeError(
      `Invalid output file: ${JSON.stringify(outPath)} is the model file itself; ` +
        `expected another path, such as ${defaultOnnxPath(modelJsonPath, form)}.`,
    );
  }
  await writeFileAtomic(outPath, onnx);
  return { path: outPath, bytes: onnx.length, source, onnx };
}

/**
 * True when both paths name one existing file (through links, `..` or a
 * hard link); false when either does not exist.
 */
export async function sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([statOrNull(a), statOrNull(b)]);
  if (sa === null || sb === null) return false;
  if (sa.ino !== null && sb.ino !== null && sa.dev === sb.dev) return sa.ino === sb.ino;
  return await Deno.realPath(a) === await Deno.realPath(b);
}

/** The path's file information, or null when there is nothing at that path. */
export async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}
