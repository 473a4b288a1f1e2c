/**
 * Reading the fixed-step section's rows: finding a configuration's row at a
 * size, the row the ratios divide by, and whether (or why not) a row's
 * gradient counts as correct. The checks, the summary and the run share them.
 *
 * @module
 */

import { fmtExp, fmtMs } from "../format.ts";
import { RATIO_BASES } from "./configs.ts";
import type { BenchRow } from "./result.ts";
import { GRADIENT_TOLERANCE } from "./setting.ts";
import { defaultCheckpoints } from "../../solvers/gradients/checkpointed.ts";

/**
 * The row of a configuration at N.
 *
 * @param rows The rows.
 * @param n Number of steps N.
 * @param label The configuration's label.
 * @param c Checkpoints: null for none, "default" for `defaultCheckpoints(N)`, or a count.
 * @returns The row, if it was run.
 *
 * @example
 * ```ts
 * import { findRow } from "./rows.ts";
 * import type { BenchRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * const rows = [{ n: 100, label: "checkpointed", c: 2 }] as BenchRow[];
 * assert.equal(findRow(rows, 100, "checkpointed", 2), rows[0]);
 * assert.equal(findRow(rows, 100, "checkpointed"), undefined);
 * ```
 */
export function findRow(
  rows: BenchRow[],
  n: number,
  label: string,
  c: number | "default" | null = null,
): BenchRow | undefined {
  return rows.find((r) => {
    if (r.n !== n || r.label !== label) return false;
    if (c === null) return r.c === null;
    if (c === "default") return r.c === Math.min(defaultCheckpoints(n), n + 1);
    return r.c === c;
  });
}

/**
 * The row the ratios at N divide by: the first of {@link RATIO_BASES} with a
 * time there.
 *
 * @param rows The rows.
 * @param n Number of steps N.
 * @returns The row, or undefined when none has a time.
 *
 * @example
 * ```ts
 * import { ratioBase } from "./rows.ts";
 * import type { BenchRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * const rows = [
 *   { n: 60, label: "reversible", ms: null },
 *   { n: 60, label: "reversible λ=0.9999", ms: 0.9 },
 * ] as BenchRow[];
 * assert.equal(ratioBase(rows, 60)?.label, "reversible λ=0.9999");
 * ```
 */
export function ratioBase(rows: BenchRow[], n: number): BenchRow | undefined {
  for (const label of RATIO_BASES) {
    const row = rows.find((r) => r.n === n && r.label === label && r.ms !== null);
    if (row !== undefined) return row;
  }
  return undefined;
}

/**
 * Whether a row returned a gradient equal to direct's (same scheme, λ and N).
 *
 * @param row A row, if it was run.
 * @returns True when it has a time and its error against direct is within tolerance.
 *
 * @example
 * ```ts
 * import { gradientCorrect } from "./rows.ts";
 * import type { BenchRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * const row = { failed: null, ms: 1, gradientError: 1e-16 } as BenchRow;
 * assert.equal(gradientCorrect(row), true);
 * assert.equal(gradientCorrect({ ...row, gradientError: 1e-3 }), false);
 * ```
 */
export function gradientCorrect(row: BenchRow | undefined): row is BenchRow {
  return row !== undefined && row.failed === null && row.ms !== null &&
    row.gradientError !== null && row.gradientError <= GRADIENT_TOLERANCE;
}

/**
 * Why a row's gradient does not count as correct.
 *
 * @param row A row, if it was run.
 * @returns The reason, in words.
 *
 * @example
 * ```ts
 * import { whyIncorrect } from "./rows.ts";
 * import type { BenchRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * assert.equal(whyIncorrect(undefined), "not run");
 * const row = { skipped: null, failed: null, gradientError: 1e-3 } as BenchRow;
 * assert.equal(whyIncorrect(row), "rel. error vs direct 1.00e-3 > 1e-6");
 * ```
 */
export function whyIncorrect(row: BenchRow | undefined): string {
  if (row === undefined) return "not run";
  if (row.skipped !== null) return `skipped: ${row.skipped}`;
  if (row.failed !== null) {
    const d = row.diagnostic;
    return `backward() threw after ${fmtMs(row.msWarmup!)} ms: ${row.failed}` +
      (d !== null
        ? ` (rerun unchecked: reconstruction error ${fmtExp(d.reconstructionError)}, ` +
          `gradient error vs direct ${fmtExp(d.gradientError)})`
        : "");
  }
  if (row.gradientError === null) return "no direct gradient with the same scheme to compare with";
  return `rel. error vs direct ${fmtExp(row.gradientError, 2)} > ${
    GRADIENT_TOLERANCE.toExponential(0)
  }`;
}
