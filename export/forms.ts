/**
 * A model in memory to the bytes of one of the ONNX forms
 * ({@link exportOnnx}). No Deno API and no Node built-in: a page exports
 * what it trained with it (files.ts writes `.onnx` files).
 *
 * @module
 */

import { EXPORT_FORMS, type ExportDtype, type ExportForm } from "./metadata.ts";
import type { ExportSource } from "./source_check.ts";
import { exportVectorField } from "./vector_field.ts";
import { exportIntegrator } from "./integrator.ts";

/**
 * Exports a model in memory to bytes, in the given form.
 *
 * @param source The model.
 * @param form The form.
 * @param dtype The element type.
 * @param chunk Steps per Loop iteration of the `chunked` form.
 * @returns The `.onnx` file's bytes.
 *
 * @example
 * ```ts
 * import { exportOnnx } from "./forms.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * assert.ok(exportOnnx({ field, params: [1, 0] }, "vector-field").length > 0);
 * assert.throws(() => exportOnnx({ field, params: [1, 0] }, "loop"), /Invalid scheme/);
 * ```
 */
export function exportOnnx(
  source: ExportSource,
  form: ExportForm,
  dtype: ExportDtype = "float32",
  chunk?: number,
): Uint8Array {
  switch (form) {
    case "vector-field":
      return exportVectorField(source, { dtype });
    case "loop":
    case "chunked":
    case "unrolled":
      return exportIntegrator(source, { variant: form, dtype, chunk });
    default:
      throw new RangeError(
        `Invalid form: got ${JSON.stringify(form)}; expected one of ${EXPORT_FORMS.join(", ")}.`,
      );
  }
}
