/**
 * The data summary of a model file, read at export: the data file's
 * SHA-256 and the data re-read (or re-generated) as training did. The file
 * reading half of provenance.ts, kept apart so that the modules a browser
 * bundles use no Deno API.
 *
 * @module
 */

import { loadExperimentData } from "../training/experiments.ts";
import type { ModelConfig } from "../training/model_format.ts";
import type { DataSummary } from "./metadata.ts";
import { dataSummaryFrom } from "./provenance.ts";
import type { Scaling } from "./units.ts";

/**
 * The data summary of a model file's configuration: the file's base name
 * and SHA-256 when it is readable now, the window, and the range of the
 * data (in user units, `shift + scale ·` the data's), re-read or re-generated
 * as training did ({@link dataSummaryFrom} with what was read).
 *
 * @param c The model file's configuration.
 * @param scale The data's divisor, or the state's scaling (per-component scale, shift).
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { dataSummaryOf } from "./provenance_file.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const c = {
 *   ...experimentConfig("oscillator"), example: "oscillator" as const, t0: 0, t1: 3,
 *   y0: [0, 0, 0, 0], data: { source: "simulated", path: null, simulated: true, points: 500 },
 * };
 * const data = await dataSummaryOf(c, 100);
 * assert.equal(data.file, null);
 * assert.deepEqual(data.window, [0, 3]);
 * assert.ok(data.range!.max[0] > 1); // pixels, not pixels ÷ 100
 * const shifted = await dataSummaryOf(c, { scale: [100, 100, 100, 100], shift: [5, 0, 0, 0] });
 * assert.equal(shifted.range!.max[0], data.range!.max[0] + 5);
 * ```
 */
export async function dataSummaryOf(
  c: ModelConfig,
  scale: number | Scaling,
): Promise<DataSummary> {
  const path = c.data.path;
  const sha256 = path === null ? null : await _sha256OfFile(path);
  // a file moved or unreadable here: its name alone is recorded, no range
  const data = c.example !== null && (path === null || sha256 !== null)
    ? (await loadExperimentData(c.example, path === null ? {} : { path })).data
    : null;
  return dataSummaryFrom(c, scale, { sha256, data });
}

/** The file's SHA-256 (hex), or null when it cannot be read. */
async function _sha256OfFile(path: string): Promise<string | null> {
  try {
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  } catch {
    return null;
  }
}
