/**
 * The adaptive section's text report: the header (setting, notes, the
 * measured chaos), the table, the failed rows, the checks and the summary.
 *
 * @module
 */

import { fmtExp, fmtMs, fmtRatio } from "../format.ts";
import { group, renderTable } from "../stats.ts";
import type { AdaptiveResult } from "./result.ts";

/**
 * The human-readable report of the adaptive section.
 *
 * @param result An adaptive result.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatAdaptiveReport } from "./report.ts";
 * import { runAdaptiveBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 * const result = runAdaptiveBenchmark({
 *   spans: [0.25],
 *   repetitions: () => 1,
 *   configs: [{ label: "reversible", method: "reversible" }, { label: "direct", method: "direct" }],
 * });
 * const text = formatAdaptiveReport(result);
 * assert.match(text, /^revode gradient benchmark — adaptive steps/);
 * assert.match(text, /\nPASS T=0\.25: reversible gradient equals direct's/);
 * ```
 */
export function formatAdaptiveReport(result: AdaptiveResult): string {
  const s = result.settings;
  const lines: string[] = [];
  lines.push("revode gradient benchmark — adaptive steps, chaotic Hamiltonian MLP field");
  lines.push(`  field:      ${s.field}`);
  lines.push(`  y0:         [${s.y0}] = (q1, q2, p1, p2), t ∈ [0, T], T ∈ {${s.spans.join(", ")}}`);
  lines.push(`  scheme:     ${s.scheme}`);
  lines.push(`  controller: ${s.controller}`);
  lines.push(`  saveAt:     ${s.saveAt}; loss: ${s.loss}`);
  lines.push(`  timing:     ${s.timing}`);
  for (const note of result.notes) lines.push(`  note:       ${note}`);
  if (result.chaos.length > 0) {
    lines.push(
      `  chaos:      ${s.chaos}: ` +
        result.chaos.map((c) =>
          `T=${c.span} ×${c.growth.toExponential(1)} (ln/T = ${c.lyapunov.toFixed(2)})`
        ).join(", "),
    );
  }
  lines.push("");
  const table: string[][] = [[
    "method",
    "T",
    "accepted",
    "rejected",
    "c/K",
    "ms/grad",
    "reps",
    "time×direct",
    "peak bytes",
    "bytes/step",
    "evals/step",
    "VJPs/step",
    "recon err",
    "grad err",
    "max|∂L/∂θ|",
  ]];
  for (const r of result.rows) {
    const d = r.diagnostic;
    const bytes = r.peakBytes ?? d?.peakBytes ?? null;
    const dag = r.failed !== null ? "†" : "";
    table.push([
      r.label,
      String(r.span),
      String(r.accepted),
      String(r.rejected),
      r.c !== null ? `c=${r.c}` : r.checkpointEvery !== null ? `K=${r.checkpointEvery}` : "-",
      r.failed !== null ? "FAILED" : fmtMs(r.ms!),
      String(r.repetitions),
      r.timeRatio === null ? "-" : fmtRatio(r.timeRatio),
      bytes === null ? "-" : group(bytes) + dag,
      bytes === null ? "-" : (bytes / r.accepted!).toFixed(1) + dag,
      r.evaluationsPerStep === null ? "-" : r.evaluationsPerStep.toFixed(2),
      r.vjpsPerStep === null ? "-" : r.vjpsPerStep.toFixed(2),
      r.failed !== null
        ? fmtExp(d?.reconstructionError ?? null) + dag
        : fmtExp(r.reconstructionError),
      r.failed !== null ? fmtExp(d?.gradientError ?? null) + dag : fmtExp(r.gradientError),
      r.gradientMax === null ? "-" : fmtExp(r.gradientMax),
    ]);
  }
  lines.push(...renderTable(table));
  const failed = result.rows.filter((r) => r.failed !== null);
  if (failed.length > 0) {
    lines.push("");
    for (const r of failed) {
      lines.push(
        `failed: ${r.label} T=${r.span} (N = ${r.accepted}, threw after ${
          fmtMs(r.msWarmup!)
        } ms): ${r.failed}`,
      );
    }
    lines.push(
      "† from the same solve rerun with reconstructionTolerance: Infinity (the gradient the " +
        "check refused; its error against direct is the grad err shown).",
    );
  }
  lines.push("");
  lines.push("Checks:");
  for (const c of result.checks) lines.push(`${c.status} ${c.name} — ${c.detail}`);
  if (result.summary.length > 0) {
    lines.push("");
    lines.push(`Summary: ${result.summary.join(" ")}`);
  }
  lines.push("");
  lines.push(`adaptive section ${result.totalSeconds.toFixed(1)} s`);
  return lines.join("\n");
}
