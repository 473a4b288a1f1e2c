/**
 * The adaptive section's PASS/FAIL lines: exact memory accounting of the
 * reversible rows (only the accepted step times grow, plus the K row's stored
 * states), and gradients equal to direct's at the same λ.
 *
 * @module
 */

import { fmtExp } from "../format.ts";
import type { AdaptiveCheck, AdaptiveRow } from "./result.ts";
import { GRADIENT_TOLERANCE } from "./setting.ts";

/** Bytes a row held, measured or (failed rows) from the unchecked rerun. */
function bytesOf(row: AdaptiveRow): { bytes: number; rerun: boolean } | null {
  if (row.peakBytes !== null) return { bytes: row.peakBytes, rerun: false };
  if (row.diagnostic !== null) return { bytes: row.diagnostic.peakBytes, rerun: true };
  return null;
}

/**
 * The checks: exact memory accounting of the reversible rows, and gradients
 * equal to direct's.
 *
 * @param rows The rows.
 * @param spans The spans run.
 * @param stateBytes Bytes of one stored reversible state.
 * @returns One check per line.
 *
 * @example
 * ```ts
 * import { computeAdaptiveChecks } from "./checks.ts";
 * import { runAdaptiveBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 * const result = runAdaptiveBenchmark({
 *   spans: [0.25, 0.5],
 *   repetitions: () => 1,
 *   measureChaos: false,
 *   configs: [{ label: "reversible", method: "reversible" }, { label: "direct", method: "direct" }],
 * });
 * const [accounting] = computeAdaptiveChecks(result.rows, [0.25, 0.5], result.stateBytes);
 * assert.equal(accounting.status, "PASS");
 * ```
 */
export function computeAdaptiveChecks(
  rows: AdaptiveRow[],
  spans: readonly number[],
  stateBytes: number,
): AdaptiveCheck[] {
  const lo = spans[0];
  const base = rows.find((r) => r.span === lo && r.label === "reversible" && r.peakBytes !== null);
  const accounting = { lo, base, stateBytes };
  return [
    accountingCheck(
      accounting,
      rows.filter((r) => r.label === "reversible" && r.span !== lo),
      `reversible held bytes − bytes at the smallest span (T=${lo}) == 8·(N − N_T=${lo}) ` +
        "at every span (only the accepted step times grow)",
    ),
    accountingCheck(
      accounting,
      rows.filter((r) => r.method === "reversible" && r.label !== "reversible"),
      `other reversible rows: held bytes − bytes(reversible, T=${lo}) == 8·(N − N_T=${lo}) + ` +
        `${stateBytes}·(stored states ⌊(N − 1)/K⌋) (λ does not change what is held)`,
    ),
    ...rows.filter((r) => r.method !== "direct").map(gradientCheck),
    ...finiteChecks(rows),
  ];
}

/** What the accounting compares with: reversible at the smallest span. */
interface Accounting {
  lo: number;
  base: AdaptiveRow | undefined;
  stateBytes: number;
}

/**
 * Each row of a family holds exactly the base's bytes plus 8 per extra
 * accepted step plus its stored states.
 */
function accountingCheck(
  accounting: Accounting,
  family: AdaptiveRow[],
  name: string,
): AdaptiveCheck {
  const { lo, base, stateBytes } = accounting;
  if (base === undefined || family.length === 0) {
    return {
      name,
      status: "SKIP",
      detail: base === undefined
        ? `the reversible row at T=${lo} was not measured`
        : "no rows to check",
    };
  }
  const parts: string[] = [];
  let exact = true;
  for (const r of family) {
    const b = bytesOf(r);
    if (b === null) {
      parts.push(`T=${r.span} ${r.label}: no bytes measured`);
      exact = false;
      continue;
    }
    const dn = r.accepted! - base.accepted!;
    const stored = r.storedStates ?? 0;
    const expected = 8 * dn + stateBytes * stored;
    const got = b.bytes - base.peakBytes!;
    const ok = got === expected;
    exact &&= ok;
    parts.push(
      `T=${r.span}${b.rerun ? "†" : ""}${
        family.some((f) => f.label !== r.label) ? ` ${r.label}` : ""
      }: ` +
        `${b.bytes} − ${base.peakBytes} = ${got} ${ok ? "=" : "≠"} 8·${dn}` +
        (stored > 0 ? ` + ${stateBytes}·${stored}` : ""),
    );
  }
  return { name, status: exact ? "PASS" : "FAIL", detail: parts.join("; ") };
}

/** A row's gradient against direct's at the same λ and span. */
function gradientCheck(r: AdaptiveRow): AdaptiveCheck {
  const name = `T=${r.span}: ${r.label}${r.c !== null ? ` c=${r.c}` : ""} gradient equals ` +
    `direct's (λ = ${r.coupling}, rel. error ≤ ${GRADIENT_TOLERANCE.toExponential(0)})`;
  if (r.failed !== null) {
    const d = r.diagnostic;
    return {
      name,
      status: "FAIL",
      detail: `backward() threw: ${r.failed}` +
        (d !== null
          ? ` (unchecked rerun: reconstruction error ${fmtExp(d.reconstructionError)}, ` +
            `gradient error ${fmtExp(d.gradientError)})`
          : ""),
    };
  }
  if (r.gradientError === null) {
    return { name, status: "SKIP", detail: "no direct gradient with the same λ" };
  }
  return {
    name,
    status: r.gradientError <= GRADIENT_TOLERANCE ? "PASS" : "FAIL",
    detail: `rel. error ${fmtExp(r.gradientError, 2)}` +
      (r.reconstructionError !== null
        ? `, reconstruction error ${fmtExp(r.reconstructionError, 2)}`
        : ""),
  };
}

function finiteChecks(rows: AdaptiveRow[]): AdaptiveCheck[] {
  return rows.filter((r) => r.finite === false).map((r): AdaptiveCheck => ({
    name: `T=${r.span}: ${r.label} outputs and gradient finite`,
    status: "FAIL",
    detail: "non-finite values",
  }));
}
