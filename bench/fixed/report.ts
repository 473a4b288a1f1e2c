/**
 * The fixed-step section's text report: the header (setting, notes,
 * machine), the table, the failed and skipped configurations, the target and
 * sanity checks, and the summary.
 *
 * @module
 */

import { machineLines } from "../machine.ts";
import { fmtExp, fmtMs, fmtRatio } from "../format.ts";
import { group, renderTable } from "../stats.ts";
import type { BenchCheck, BenchResult, BenchRow } from "./result.ts";

/**
 * The human-readable report: header, table, skipped and failed
 * configurations, checks, summary.
 *
 * @param result A benchmark result.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatReport } from "./report.ts";
 * import { runBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 * const text = formatReport(runBenchmark({ sizes: [10, 30], repetitions: () => 1 }));
 * assert.match(text, /^revode gradient benchmark — white-dwarf setting \(fixed steps\)/);
 * assert.match(text, /\nPASS reversible held bytes do not grow with N/);
 * ```
 */
export function formatReport(result: BenchResult): string {
  const lines = [
    ...headerLines(result),
    "",
    ...renderTable(table(result.rows)),
    ...footnoteLines(result.rows),
    "",
    ...checkLines(result.checks),
  ];
  if (result.summary.length > 0) {
    lines.push("");
    lines.push(`Summary: ${result.summary.join(" ")}`);
  }
  lines.push("");
  lines.push(`fixed section ${result.totalSeconds.toFixed(1)} s`);
  return lines.join("\n");
}

function headerLines(result: BenchResult): string[] {
  const s = result.settings;
  return [
    "revode gradient benchmark — white-dwarf setting (fixed steps)",
    `  field:   ${s.field}`,
    `  scheme:  ${s.scheme}, h = ${s.step}, y0 = [${s.y0}], t ∈ [0, ${s.step}·N]`,
    `  saveAt:  ${s.saveAt}; loss: ${s.loss}`,
    `  timing:  ${s.timing}`,
    `  skip:    a configuration whose estimated warm-up + 1 repetition exceeds ${
      s.configLimitMs / 1000
    } s`,
    ...result.notes.map((note) => `  note:    ${note}`),
    ...machineLines(result.machine),
  ];
}

const HEADER = [
  "method",
  "N",
  "c",
  "ms/grad",
  "reps",
  "peak bytes",
  "time×rev",
  "mem×rev",
  "evals/step",
  "VJPs/step",
  "recon err",
  "grad err",
];

/** The table: a line per row run; a failed row shows its unchecked rerun's numbers, marked †. */
function table(rows: BenchRow[]): string[][] {
  const out: string[][] = [HEADER];
  for (const r of rows) {
    if (r.skipped !== null) continue;
    out.push(r.failed !== null ? failedCells(r) : measuredCells(r));
  }
  return out;
}

function failedCells(r: BenchRow): string[] {
  const d = r.diagnostic;
  return [
    r.label,
    String(r.n),
    r.c === null ? "-" : String(r.c),
    "FAILED",
    "0",
    d === null ? "-" : `${group(d.peakBytes)}†`,
    "-",
    "-",
    "-",
    "-",
    d === null ? "-" : `${fmtExp(d.reconstructionError)}†`,
    d === null ? "-" : `${fmtExp(d.gradientError)}†`,
  ];
}

function measuredCells(r: BenchRow): string[] {
  return [
    r.label,
    String(r.n),
    r.c === null ? "-" : String(r.c),
    fmtMs(r.ms!),
    String(r.repetitions),
    group(r.peakBytes!),
    r.timeRatio === null ? "-" : fmtRatio(r.timeRatio),
    r.memoryRatio === null ? "-" : fmtRatio(r.memoryRatio),
    fmtPerStep(r.evaluationsPerStep!),
    fmtPerStep(r.vjpsPerStep!),
    fmtExp(r.reconstructionError),
    fmtExp(r.gradientError),
  ];
}

function fmtPerStep(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

/** Under the table: which ratios are rebased, which rows failed or were skipped, and why. */
function footnoteLines(rows: BenchRow[]): string[] {
  const rebased = [
    ...new Set(
      rows.filter((r) => r.ratioBase !== null && r.ratioBase !== "reversible").map((r) => r.n),
    ),
  ];
  const failed = rows.filter((r) => r.failed !== null);
  const skipped = rows.filter((r) => r.skipped !== null);
  const lines: string[] = [];
  if (rebased.length + failed.length + skipped.length > 0) lines.push("");
  for (const n of rebased) {
    const base = rows.find((r) => r.n === n && r.ratioBase !== null)!.ratioBase;
    lines.push(`ratios at N=${n} are to "${base}" (the "reversible" row has no time there)`);
  }
  for (const r of failed) {
    lines.push(
      `failed: ${r.label} N=${r.n} (threw after ${fmtMs(r.msWarmup!)} ms, solve + whole ` +
        `backward pass): ${r.failed}`,
    );
  }
  if (failed.some((r) => r.diagnostic !== null)) {
    lines.push(
      "† from the same solve rerun with reconstructionTolerance: Infinity (the gradient the " +
        "check refused; grad err is its error against direct).",
    );
  }
  for (const r of skipped) {
    lines.push(`skipped: ${r.label}${r.c !== null ? ` c=${r.c}` : ""} N=${r.n}: ${r.skipped}`);
  }
  return lines;
}

/** The targets first, then the sanity checks, one PASS/FAIL/SKIP line each. */
function checkLines(checks: BenchCheck[]): string[] {
  const line = (c: BenchCheck) => `${c.status} ${c.name} — ${c.detail}`;
  const lines = ["Targets (from the issue):", ...checks.filter((c) => c.target).map(line)];
  const sanity = checks.filter((c) => !c.target);
  if (sanity.length > 0) {
    lines.push("");
    lines.push("Sanity checks (not issue targets):");
    lines.push(...sanity.map(line));
  }
  return lines;
}
