/**
 * The fixed-step section's PASS/FAIL lines: the issue's targets (reversible
 * memory flat in N, direct's linear, reversible time within 3× direct's, the
 * gap to checkpointing with c = 2) and sanity checks (gradients equal to
 * direct's, exact accounting of stored states, the schedule model). The
 * memory target is evaluated only on rows whose gradient is correct; a
 * reversible row that threw is a FAIL with its reason.
 *
 * @module
 */

import { fmtExp, fmtNum, fmtRatio } from "../format.ts";
import { RATIO_BASES } from "./configs.ts";
import type { BenchCheck, BenchRow } from "./result.ts";
import { findRow, gradientCorrect, whyIncorrect } from "./rows.ts";
import {
  COUPLING,
  FLAT_MEMORY_RATIO,
  GRADIENT_TOLERANCE,
  RECONSTRUCTION_CHECKPOINT_EVERY,
  SAFE_COUPLING,
} from "./setting.ts";

/** The sizes a memory check compares: the smallest and the largest run. */
interface SizeRange {
  lo: number;
  hi: number;
}

function check(
  name: string,
  status: BenchCheck["status"],
  detail: string,
  target: boolean,
  timing: boolean,
): BenchCheck {
  return { name, status, detail, target, timing };
}

const RATIO_LIMIT = FLAT_MEMORY_RATIO.toFixed(2);
const TOLERANCE = GRADIENT_TOLERANCE.toExponential(0);

/**
 * The issue's target checks, plus sanity checks (gradients equal to direct's).
 *
 * @param rows The measured rows.
 * @param sizes The sizes run.
 * @param stateBytes Bytes of one stored reversible state (K rows).
 * @returns One check per line.
 *
 * @example
 * ```ts
 * import { computeChecks } from "./checks.ts";
 * import { runBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 * const result = runBenchmark({ sizes: [10, 30], repetitions: () => 1 });
 * const checks = computeChecks(result.rows, [10, 30], result.stateBytes);
 * const memory = checks.find((c) => c.name.startsWith("reversible held bytes"))!;
 * assert.equal(memory.status, "PASS");
 * ```
 */
export function computeChecks(
  rows: BenchRow[],
  sizes: readonly number[],
  stateBytes: number,
): BenchCheck[] {
  const range = { lo: sizes[0], hi: sizes[sizes.length - 1] };
  return [
    ...memoryChecks(rows, range, stateBytes),
    ...timeChecks(rows, sizes),
    ...gapChecks(rows),
    ...referenceChecks(rows, sizes),
    ...gradientChecks(rows, sizes, range),
    ...storedStateChecks(rows, range, stateBytes),
    ...scheduleModelChecks(rows),
    ...finiteChecks(rows),
  ];
}

/** Memory: reversible flat (on rows with a correct gradient), its remedies, direct linear. */
function memoryChecks(rows: BenchRow[], range: SizeRange, stateBytes: number): BenchCheck[] {
  const { lo, hi } = range;
  const base = findRow(rows, lo, "reversible");
  return [
    ...(lo !== hi ? [reversibleCorrectCheck(rows, hi)] : []),
    flatMemoryCheck(rows, range, base),
    ...remedyMemoryChecks(rows, range, base, stateBytes),
    directGrowthCheck(rows, range),
  ];
}

function reversibleCorrectCheck(rows: BenchRow[], hi: number): BenchCheck {
  const top = findRow(rows, hi, "reversible");
  const lambda = top?.coupling ?? COUPLING;
  const ok = gradientCorrect(top);
  return check(
    `N=${hi}: reversible (λ = ${lambda}) gradient correct (backward() returns, ` +
      `rel. error vs direct ≤ ${TOLERANCE}; N(1−λ) = ${fmtNum(hi * (1 - lambda))})`,
    ok ? "PASS" : "FAIL",
    ok
      ? `rel. error ${fmtExp(top.gradientError, 2)}, reconstruction error ` +
        fmtExp(top.reconstructionError, 2)
      : whyIncorrect(top),
    true,
    false,
  );
}

/** Reversible's bytes at the largest N over its bytes at the smallest, or a remedy's if it failed. */
function flatMemoryCheck(
  rows: BenchRow[],
  range: SizeRange,
  base: BenchRow | undefined,
): BenchCheck {
  const { lo, hi } = range;
  const name = `reversible held bytes do not grow with N: bytes(N=${hi}) / bytes(N=${lo}) ≤ ` +
    `${RATIO_LIMIT}, on a row whose gradient is correct at N=${hi}`;
  const candidates = RATIO_BASES.map((label) => findRow(rows, hi, label));
  const used = candidates.find(gradientCorrect);
  if (lo === hi || !gradientCorrect(base)) {
    const detail = lo === hi
      ? "needs two sizes measured"
      : `reversible at N=${lo}: ${whyIncorrect(base)}`;
    return check(name, "SKIP", detail, true, false);
  }
  if (used === undefined) {
    const detail = `no reversible row has a correct gradient at N=${hi}: ` +
      RATIO_BASES.map((label, i) => `${label}: ${whyIncorrect(candidates[i])}`).join("; ");
    return check(name, "FAIL", detail, true, false);
  }
  const ratio = used.peakBytes! / base.peakBytes!;
  const before = RATIO_BASES.slice(0, RATIO_BASES.indexOf(used.label));
  const passed = before.length === 0
    ? ""
    : ` (first with a correct gradient in the order ${RATIO_BASES.join(", ")}; ` +
      `${before.map((l) => `"${l}"`).join(", ")} had none at N=${hi})`;
  return check(
    name,
    ratio <= FLAT_MEMORY_RATIO ? "PASS" : "FAIL",
    `row used: "${used.label}"${passed}: ${used.peakBytes} / ${base.peakBytes} ` +
      `(reversible, N=${lo}) = ${ratio.toFixed(3)}`,
    true,
    false,
  );
}

/** The remedies, each on its own line: bytes at the largest N over reversible's at the smallest. */
function remedyMemoryChecks(
  rows: BenchRow[],
  range: SizeRange,
  base: BenchRow | undefined,
  stateBytes: number,
): BenchCheck[] {
  const { lo, hi } = range;
  const checks: BenchCheck[] = [];
  for (const label of RATIO_BASES.slice(1)) {
    const row = findRow(rows, hi, label);
    if (row === undefined || lo === hi) continue;
    const name = `N=${hi}: ${label} gradient correct and held bytes / bytes(reversible, ` +
      `N=${lo}) ≤ ${RATIO_LIMIT}`;
    if (!gradientCorrect(row) || !gradientCorrect(base)) {
      checks.push(
        gradientCorrect(row)
          ? check(name, "SKIP", `reversible at N=${lo}: ${whyIncorrect(base)}`, true, false)
          : check(name, "FAIL", whyIncorrect(row), true, false),
      );
      continue;
    }
    const ratio = row.peakBytes! / base.peakBytes!;
    const extra = row.peakBytes! - base.peakBytes!;
    const stored = row.checkpointEvery !== null ? Math.floor((row.n - 1) / row.checkpointEvery) : 0;
    checks.push(check(
      name,
      ratio <= FLAT_MEMORY_RATIO ? "PASS" : "FAIL",
      `rel. error ${fmtExp(row.gradientError, 2)}, reconstruction error ` +
        `${fmtExp(row.reconstructionError, 2)}; ${row.peakBytes} / ${base.peakBytes} = ` +
        ratio.toFixed(3) +
        (stored > 0
          ? ` (+${extra} bytes: ${stored} stored states of ${stateBytes} bytes, ` +
            `⌊(N − 1)/K⌋; memory O(N/K))`
          : ""),
      true,
      false,
    ));
  }
  return checks;
}

function directGrowthCheck(rows: BenchRow[], range: SizeRange): BenchCheck {
  const { lo, hi } = range;
  const da = findRow(rows, lo, "direct"), db = findRow(rows, hi, "direct");
  const name = `direct peak bytes grow ~linearly with N: log-log slope between N=${lo} and ` +
    `N=${hi} in [0.9, 1.1]`;
  if (lo === hi || da?.peakBytes == null || db?.peakBytes == null) {
    return check(name, "SKIP", "needs two sizes measured", true, false);
  }
  const ratio = db.peakBytes / da.peakBytes;
  const slope = Math.log(ratio) / Math.log(hi / lo);
  const perStep = (db.peakBytes - da.peakBytes) / (hi - lo);
  return check(
    name,
    slope >= 0.9 && slope <= 1.1 ? "PASS" : "FAIL",
    `${db.peakBytes} / ${da.peakBytes} = ${fmtRatio(ratio)} for N ×${hi / lo}; ` +
      `slope ${slope.toFixed(3)}; ${perStep.toFixed(1)} bytes per step`,
    true,
    false,
  );
}

function timeRatioDetail(r: BenchRow, d: BenchRow): { ratio: number; detail: string } {
  const ratio = r.ms! / d.ms!;
  return {
    ratio,
    detail: `${r.ms!.toFixed(2)} ms / ${d.ms!.toFixed(2)} ms = ${ratio.toFixed(2)}×`,
  };
}

/** Reversible time ≤ 3× direct, per N (and for the remedies, against direct on their scheme). */
function timeChecks(rows: BenchRow[], sizes: readonly number[]): BenchCheck[] {
  const checks: BenchCheck[] = [];
  for (const n of sizes) {
    const r = findRow(rows, n, "reversible"), d = findRow(rows, n, "direct");
    const name = `N=${n}: reversible time ≤ 3 × direct`;
    if (r?.failed != null) {
      checks.push(check(name, "FAIL", `no gradient: ${whyIncorrect(r)}`, true, true));
    } else if (r?.ms == null || d?.ms == null) {
      checks.push(check(name, "SKIP", "not measured", true, true));
    } else {
      const { ratio, detail } = timeRatioDetail(r, d);
      checks.push(check(name, ratio <= 3 ? "PASS" : "FAIL", detail, true, true));
    }
  }
  const pairs: [string, string][] = [
    [`reversible λ=${SAFE_COUPLING}`, `direct λ=${SAFE_COUPLING}`],
    [`reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}`, "direct"],
  ];
  for (const n of sizes) {
    for (const [rl, dl] of pairs) {
      const r = findRow(rows, n, rl), d = findRow(rows, n, dl);
      if (r === undefined || d?.ms == null) continue;
      const name = `N=${n}: ${rl} time ≤ 3 × ${dl}`;
      if (r.ms === null) {
        checks.push(check(name, r.failed !== null ? "FAIL" : "SKIP", whyIncorrect(r), true, true));
      } else {
        const { ratio, detail } = timeRatioDetail(r, d);
        checks.push(check(name, ratio <= 3 ? "PASS" : "FAIL", detail, true, true));
      }
    }
  }
  return checks;
}

/** Reversible vs checkpointed c = 2: ≥ 4× at N = 1000, widening to N = 10 000. */
function gapChecks(rows: BenchRow[]): BenchCheck[] {
  const gap = (n: number): number | null => {
    const r = findRow(rows, n, "reversible"), k = findRow(rows, n, "checkpointed", 2);
    return r?.ms == null || k?.ms == null ? null : k.ms / r.ms;
  };
  const g = gap(1_000), g2 = gap(10_000), beyond = gap(100_000);
  const name = "N=1000: reversible ≥ 4× faster than checkpointed c=2";
  const name2 = "the gap widens with N: (c=2 / reversible) at N=10000 > at N=1000";
  return [
    g === null ? check(name, "SKIP", "not measured", true, true) : check(
      name,
      g >= 4 ? "PASS" : "FAIL",
      `checkpointed c=2 / reversible = ${fmtRatio(g)}×`,
      true,
      true,
    ),
    g === null || g2 === null
      ? check(name2, "SKIP", "N=1000 and N=10000 not both measured", true, true)
      : check(
        name2,
        g2 > g ? "PASS" : "FAIL",
        `${fmtRatio(g2)}× at N=10000 vs ${fmtRatio(g)}× at N=1000` +
          (beyond !== null ? `; ${fmtRatio(beyond)}× at N=100000` : ""),
        true,
        true,
      ),
  ];
}

/** Reference: reversible against direct backpropagation through plain RK4. */
function referenceChecks(rows: BenchRow[], sizes: readonly number[]): BenchCheck[] {
  const checks: BenchCheck[] = [];
  for (const n of sizes) {
    const r = findRow(rows, n, "reversible"), d = findRow(rows, n, "direct, plain RK4");
    if (r?.ms == null || d?.ms == null) continue;
    const { ratio, detail } = timeRatioDetail(r, d);
    checks.push(check(
      `N=${n}: reversible time ≤ 3 × direct on plain RK4 (reference, not the issue's setting)`,
      ratio <= 3 ? "PASS" : "FAIL",
      detail,
      false,
      true,
    ));
  }
  return checks;
}

/** Sanity: exact methods agree with direct; failures not reported above. */
function gradientChecks(
  rows: BenchRow[],
  sizes: readonly number[],
  range: SizeRange,
): BenchCheck[] {
  const checks: BenchCheck[] = [];
  for (const n of sizes) {
    for (const row of rows) {
      if (row.n !== n || row.method === "direct" || row.method === "backsolve") continue;
      const name = `N=${n}: ${row.label}${
        row.c !== null ? ` c=${row.c}` : ""
      } gradient equals direct's (rel. error ≤ ${TOLERANCE})`;
      if (row.failed !== null) {
        // The largest N's reversible row is a target line above.
        if (row.label === "reversible" && n === range.hi && range.lo !== range.hi) continue;
        checks.push(check(name, "FAIL", whyIncorrect(row), false, false));
        continue;
      }
      if (row.gradientError === null) continue;
      checks.push(check(
        name,
        row.gradientError <= GRADIENT_TOLERANCE ? "PASS" : "FAIL",
        `rel. error ${row.gradientError.toExponential(2)}` +
          (row.reconstructionError !== null
            ? `, reconstruction error ${row.reconstructionError.toExponential(2)}`
            : ""),
        false,
        false,
      ));
    }
  }
  return checks;
}

/** Sanity: the K row holds exactly reversible's bytes plus its stored states. */
function storedStateChecks(rows: BenchRow[], range: SizeRange, stateBytes: number): BenchCheck[] {
  const { lo } = range;
  const checks: BenchCheck[] = [];
  for (const row of rows) {
    if (row.checkpointEvery === null || row.peakBytes === null) continue;
    const plainRev = findRow(rows, lo, "reversible");
    if (plainRev?.peakBytes == null) continue;
    const stored = Math.floor((row.n - 1) / row.checkpointEvery);
    const expected = plainRev.peakBytes + stateBytes * stored;
    checks.push(check(
      `N=${row.n}: ${row.label} held bytes == bytes(reversible, N=${lo}) + ` +
        `${stateBytes}·⌊(N − 1)/K⌋ (exact accounting of the stored states)`,
      row.peakBytes === expected ? "PASS" : "FAIL",
      `${row.peakBytes} ${row.peakBytes === expected ? "=" : "≠"} ${plainRev.peakBytes} ` +
        `+ ${stateBytes}·${stored}`,
      false,
      false,
    ));
  }
  return checks;
}

/** Sanity: the schedule model behind the skip estimates counts the evaluations exactly. */
function scheduleModelChecks(rows: BenchRow[]): BenchCheck[] {
  const modelled = rows.filter((r) =>
    r.predictedEvaluations !== null && r.evaluationsPerStep !== null
  );
  if (modelled.length === 0) return [];
  const off = modelled.filter((r) => r.predictedEvaluations !== r.evaluationsPerStep! * r.n);
  return [check(
    "the checkpointing schedule model (used for skip estimates) predicts the measured " +
      "evaluation counts",
    off.length === 0 ? "PASS" : "FAIL",
    off.length === 0
      ? `${modelled.length}/${modelled.length} checkpointed rows exact`
      : off.map((r) =>
        `N=${r.n} c=${r.c}: predicted ${r.predictedEvaluations}, measured ${
          r.evaluationsPerStep! * r.n
        }`
      ).join("; "),
    false,
    false,
  )];
}

function finiteChecks(rows: BenchRow[]): BenchCheck[] {
  return rows.filter((row) => row.finite === false).map((row) =>
    check(
      `N=${row.n}: ${row.label} trajectory and gradient finite`,
      "FAIL",
      "non-finite values",
      false,
      false,
    )
  );
}
