/**
 * The text of a model file: JSON laid out for reading and diffing, with
 * every float64 written so that it reads back exactly.
 *
 * @module
 */

import type { ModelFile } from "./model_format.ts";

/**
 * The model file as JSON text: objects indented, arrays of numbers on one
 * line; every float64 is written with enough digits to be read back exactly.
 *
 * @param model The model file.
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { serializeModel } from "./model_serialize.ts";
 * import assert from "node:assert/strict";
 *
 * const text = serializeModel({ params: [0.1, 1 / 3] } as never);
 * assert.equal(text, '{\n  "params": [0.1, 0.3333333333333333]\n}\n');
 * assert.equal(JSON.parse(text).params[1], 1 / 3);
 * ```
 */
export function serializeModel(model: ModelFile): string {
  return _format(model, "") + "\n";
}

function _format(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "number" || typeof v === "string")) {
      return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
    }
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + _format(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const inner = indent + "  ";
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${
      entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${_format(v, inner)}`).join(",\n")
    }\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}
