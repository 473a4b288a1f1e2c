/**
 * The adaptive section's summary: what the numbers mean, in a sentence or
 * two — what reversible held per accepted step against direct, and where and
 * why its backward pass refused.
 *
 * @module
 */

import { fmtExp, fmtRatio } from "../format.ts";
import { group } from "../stats.ts";
import type { AdaptiveRow, ChaosRow } from "./result.ts";
import { ADAPTIVE_COUPLING, GRADIENT_TOLERANCE, PERTURBATION } from "./setting.ts";

/**
 * What the numbers mean, in a sentence or two: the bytes reversible held per
 * accepted step against direct's, and where its backward pass refused, why,
 * and what a closer coupling or stored states did about it.
 *
 * @param rows The rows.
 * @param chaos The perturbation growth per span.
 * @param stateBytes Bytes of one stored reversible state.
 * @returns The sentences.
 *
 * @example
 * ```ts
 * import { adaptiveSummary } from "./summary.ts";
 * import type { AdaptiveRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * const rows = [{ label: "reversible", span: 1, accepted: 182, peakBytes: 9976, failed: null,
 *   gradientError: 1e-15 }] as AdaptiveRow[];
 * const [held] = adaptiveSummary(rows, [], 64);
 * assert.equal(held, "Reversible held 8 520 bytes plus 8 per accepted step " +
 *   "(9 976 B at N = 182); its gradient matched direct's up to T = 1.");
 * ```
 */
export function adaptiveSummary(
  rows: AdaptiveRow[],
  chaos: ChaosRow[],
  stateBytes: number,
): string[] {
  const rev = rows.filter((r) => r.label === "reversible");
  const ok = rev.filter((r) =>
    r.failed === null && r.gradientError !== null &&
    r.gradientError <= GRADIENT_TOLERANCE
  );
  const failed = rev.filter((r) => r.failed !== null);
  const out: string[] = [];
  const first = rev.find((r) => r.peakBytes !== null);
  const direct = rows.filter((r) => r.label === "direct" && r.peakBytes !== null);
  const lastDirect = direct[direct.length - 1];
  if (first !== undefined) {
    const constant = first.peakBytes! - 8 * first.accepted!;
    out.push(
      `Reversible held ${group(constant)} bytes plus 8 per accepted step ` +
        `(${
          rev.filter((r) => r.peakBytes !== null).map((r) =>
            `${group(r.peakBytes!)} B at ` +
            `N = ${r.accepted}`
          ).join(", ")
        })` +
        (lastDirect !== undefined
          ? `, against ${fmtRatio(lastDirect.bytesPerStep!)} bytes per step for direct ` +
            `(${group(lastDirect.peakBytes!)} B at T = ${lastDirect.span})`
          : "") +
        (ok.length > 0
          ? `; its gradient matched direct's up to T = ${ok[ok.length - 1].span}.`
          : "."),
    );
  }
  if (failed.length > 0) {
    const f = failed[0];
    const growth = chaos.find((c) => c.span === f.span);
    const closer = rows.find((r) =>
      r.span === f.span && r.coupling !== ADAPTIVE_COUPLING &&
      r.method === "reversible"
    );
    const withK = rows.find((r) => r.span === f.span && r.checkpointEvery !== null);
    const nLambda = f.accepted! * (1 - f.coupling);
    out.push(
      `At T = ${f.span} (N = ${f.accepted}, N(1−λ) = ${nLambda.toFixed(1)}) the rebuilt states ` +
        `drifted${f.diagnostic ? ` by ${fmtExp(f.diagnostic.reconstructionError)}` : ""} and ` +
        "backward() refused: round-off in the inverse steps is amplified by λ^(−N) and by the " +
        "chaos itself" +
        (growth
          ? ` (a ${PERTURBATION} perturbation grows ×${growth.growth.toExponential(1)})`
          : "") +
        (closer !== undefined
          ? `, so λ = ${closer.coupling} ${
            closer.failed === null
              ? `fixes it (reconstruction error ${fmtExp(closer.reconstructionError)})`
              : `only reduces it (${fmtExp(closer.diagnostic?.reconstructionError ?? null)})`
          }`
          : "") +
        (withK !== undefined
          ? withK.failed === null
            ? `, while storing a state every K = ${withK.checkpointEvery} steps keeps the ` +
              `gradient exact (rel. error ${
                fmtExp(withK.gradientError)
              }) for ${stateBytes} bytes ` +
              `per stored state (${withK.storedStates} here)`
            : `; K = ${withK.checkpointEvery} also failed`
          : "") +
        ".",
    );
  }
  return out;
}
