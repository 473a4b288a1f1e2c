/**
 * What every program prints for `--version`: revode's version (deno.json's,
 * the one the ONNX exports record) and the runtime's.
 *
 * @module
 */

import { REVODE_VERSION } from "../export/metadata.ts";

/**
 * The `--version` line of a program.
 *
 * @param program The program, e.g. `"deno task train"`.
 * @returns One line, ending in a newline.
 *
 * @example
 * ```ts
 * import { versionText } from "./version.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(versionText("deno task train"), /^revode \d+\.\d+\.\d+ \(deno task train\); Deno \d+/);
 * ```
 */
export function versionText(program: string): string {
  return `revode ${REVODE_VERSION} (${program}); Deno ${Deno.version.deno}, V8 ${Deno.version.v8}\n`;
}
