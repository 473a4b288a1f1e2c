/**
 * The fixed-step section's summary: what the numbers mean, in a sentence or
 * two — how far O(1) memory holds, and what a failure costs to repair.
 *
 * @module
 */

import { fmtExp, fmtNum } from "../format.ts";
import { group } from "../stats.ts";
import type { BenchRow } from "./result.ts";
import { findRow, gradientCorrect } from "./rows.ts";
import { SAFE_COUPLING } from "./setting.ts";

/**
 * What the numbers mean, in a sentence or two: how far O(1) memory holds and
 * what a failure costs to repair.
 *
 * @param rows The rows.
 * @param sizes The sizes run.
 * @param stateBytes Bytes of one stored reversible state.
 * @returns The sentences.
 *
 * @example
 * ```ts
 * import { fixedSummary } from "./summary.ts";
 * import type { BenchRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * const row = (n: number, label: string, peakBytes: number) =>
 *   ({ n, label, c: null, coupling: 0.999, peakBytes, failed: null, ms: 1, gradientError: 0 }) as BenchRow;
 * const rows = [row(100, "reversible", 2848), row(100, "direct", 191584)];
 * const [held] = fixedSummary(rows, [100], 32);
 * assert.match(held, /^Reversible held 2 848 bytes .* direct held 191 584 bytes at N = 100/);
 * ```
 */
export function fixedSummary(
  rows: BenchRow[],
  sizes: readonly number[],
  stateBytes: number,
): string[] {
  const rev = rows.filter((r) => r.label === "reversible" && gradientCorrect(r));
  return [
    ...heldSentence(rows, rev, sizes[sizes.length - 1]),
    ...failureSentence(rows, rev, stateBytes),
  ];
}

/** How many bytes reversible held, and up to which N(1 − λ) that held. */
function heldSentence(rows: BenchRow[], rev: BenchRow[], hi: number): string[] {
  const safe = rows.filter((r) =>
    r.label === `reversible λ=${SAFE_COUPLING}` && gradientCorrect(r)
  );
  const flat = [...rev, ...safe];
  if (flat.length === 0) return [];
  const bytes = [...new Set(flat.map((r) => r.peakBytes!))].sort((a, b) => a - b);
  const held = bytes.length === 1
    ? `${group(bytes[0])} bytes`
    : `${group(bytes[0])}–${group(bytes[bytes.length - 1])} bytes`;
  const parts: string[] = [];
  if (rev.length > 0) {
    const top = rev[rev.length - 1];
    const lambda = top.coupling!;
    parts.push(
      `λ = ${lambda} up to N = ${top.n}, where N(1−λ) = ${fmtNum(top.n * (1 - lambda))}`,
    );
  }
  if (safe.length > 0) {
    const top = safe[safe.length - 1];
    parts.push(
      `λ = ${SAFE_COUPLING} at N = ${top.n}, where N(1−λ) = ${fmtNum(top.n * (1 - SAFE_COUPLING))}`,
    );
  }
  const direct = findRow(rows, hi, "direct");
  return [
    `Reversible held ${held} at every N where its gradient was correct (${parts.join("; ")})` +
    (direct?.peakBytes != null
      ? `, while direct held ${group(direct.peakBytes)} bytes at N = ${hi}`
      : "") +
    ": O(1) memory holds while N(1−λ) stays small (the library's guidance is ≲ 20).",
  ];
}

/** Where reversible broke, how far the rebuilt y0 drifted, and what restored the gradient. */
function failureSentence(rows: BenchRow[], rev: BenchRow[], stateBytes: number): string[] {
  const failed = rows.find((r) => r.label === "reversible" && r.failed !== null);
  if (failed === undefined) return [];
  const k = rows.find((r) => r.n === failed.n && r.checkpointEvery !== null);
  const closer = rows.find((r) =>
    r.n === failed.n && r.label === `reversible λ=${SAFE_COUPLING}` && gradientCorrect(r)
  );
  const recon = failed.diagnostic?.reconstructionError ?? null;
  const remedies: string[] = [];
  if (closer !== undefined) {
    remedies.push(
      `λ = ${SAFE_COUPLING} restores it at the same ${group(closer.peakBytes!)} bytes`,
    );
  }
  if (k !== undefined && gradientCorrect(k)) {
    remedies.push(
      `checkpointEvery K = ${k.checkpointEvery} restores it for ⌊(N − 1)/K⌋ = ${
        Math.floor((k.n - 1) / k.checkpointEvery!)
      } stored states (+${group(k.peakBytes! - (rev[0]?.peakBytes ?? k.peakBytes!))} bytes, ` +
        `${stateBytes} each: memory O(N/K))`,
    );
  }
  return [
    `Beyond that it breaks: at N = ${failed.n} with λ = ${failed.coupling} (N(1−λ) = ${
      fmtNum(failed.n * (1 - failed.coupling!))
    }) round-off grows like e^{N(1−λ)}` +
    (recon !== null ? `, the rebuilt y0 was off by ${fmtExp(recon)} (relative)` : "") +
    " and backward() refused to return a gradient; " +
    (remedies.length > 0
      ? `${remedies.join(", and ")}.`
      : "a coupling closer to 1 or checkpointEvery K (N/K stored states) is needed."),
  ];
}
