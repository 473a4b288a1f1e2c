/**
 * The comparison over several seeds, summarised per method: the median and
 * the range (min–max) of the best loss and of the wall time, and the median
 * of the paired checkpointed/reversible time ratios. Ten seeds are too few
 * for quartiles to mean much, so the spread is the whole range.
 *
 * @module
 */

import type { ComparisonRun } from "./experiments_compare.ts";

/** The median and the range of some numbers. */
export interface Spread {
  /** The median (the mean of the middle two for an even count). */
  median: number;
  /** The smallest. */
  min: number;
  /** The largest. */
  max: number;
}

/** One method of one comparison, over the seeds it ran on. */
export interface MethodSummary {
  /** The experiment. */
  example: ComparisonRun["example"];
  /** The base solver. */
  solver: ComparisonRun["solver"];
  /** `reversible` or `checkpointed`. */
  method: ComparisonRun["method"];
  /** The scheme the method ran on. */
  scheme: ComparisonRun["scheme"];
  /** The seeds it ran on, in order. */
  seeds: number[];
  /** Seeds whose run did not complete (diverged or interrupted); their losses count still. */
  notCompleted: number[];
  /** The best loss over the seeds with one (null when none has). */
  bestLoss: Spread | null;
  /** Wall seconds of the timed iterations. */
  seconds: Spread;
  /**
   * Checkpointed only: the per-seed ratio of its wall time to the reversible
   * run's on the same seed, when both ran.
   */
  timeRatio: Spread | null;
}

/**
 * The median and the range of `values`.
 *
 * @param values At least one number.
 * @returns Median, min and max.
 *
 * @example
 * ```ts
 * import { spreadOf } from "./experiments_summary.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(spreadOf([3, 1, 2]), { median: 2, min: 1, max: 3 });
 * assert.equal(spreadOf([4, 1, 3, 2]).median, 2.5);
 * ```
 */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError("spreadOf: no values");
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/**
 * Groups runs by experiment, solver and method (in the order they first
 * ran) and summarises each group over its seeds.
 *
 * @param runs Runs from `compare()` on several seeds.
 * @returns One summary per method of each comparison.
 *
 * @example
 * ```ts
 * import { summarize } from "./experiments_summary.ts";
 * import assert from "node:assert/strict";
 *
 * const run = {
 *   example: "white-dwarf", solver: "rk4", method: "reversible", scheme: "reversible",
 *   checkpoints: null, steps: 1000, adaptive: false, seed: 0, iterations: 10,
 *   status: "completed", seconds: 2, bestLoss: 0.01, peakBytes: 1000,
 *   evaluationsPerIteration: 16000, vjpsPerIteration: 8000, simulatedData: false,
 * } as const;
 * const [rev, ckpt] = summarize([
 *   run, { ...run, method: "checkpointed", seconds: 1 },
 *   { ...run, seed: 1, bestLoss: 0.03 }, { ...run, seed: 1, method: "checkpointed", seconds: 3 },
 * ]);
 * assert.deepEqual(rev.seeds, [0, 1]);
 * assert.deepEqual(rev.bestLoss, { median: 0.02, min: 0.01, max: 0.03 });
 * assert.deepEqual(ckpt.timeRatio, { median: 1, min: 0.5, max: 1.5 });
 * ```
 */
export function summarize(runs: readonly ComparisonRun[]): MethodSummary[] {
  const key = (r: ComparisonRun) => `${r.example}/${r.solver}/${r.method}`;
  const groups = new Map<string, ComparisonRun[]>();
  for (const r of runs) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return [...groups.values()].map((group) => {
    const [first] = group;
    const losses = group.map((r) => r.bestLoss).filter((l): l is number => l !== null);
    const ratios: number[] = [];
    if (first.method === "checkpointed") {
      for (const r of group) {
        const partner = runs.find((p) =>
          p.method === "reversible" && p.example === r.example && p.solver === r.solver &&
          p.seed === r.seed
        );
        if (partner !== undefined) ratios.push(r.seconds / partner.seconds);
      }
    }
    return {
      example: first.example,
      solver: first.solver,
      method: first.method,
      scheme: first.scheme,
      seeds: group.map((r) => r.seed),
      notCompleted: group.filter((r) => r.status !== "completed").map((r) => r.seed),
      bestLoss: losses.length === 0 ? null : spreadOf(losses),
      seconds: spreadOf(group.map((r) => r.seconds)),
      timeRatio: ratios.length === 0 ? null : spreadOf(ratios),
    };
  });
}

/**
 * The summaries as a text table: per method the median best loss and wall
 * time, each with its range, and the checkpointed/reversible time ratio.
 *
 * @param summaries From {@link summarize}.
 * @returns The table, with a line saying what the columns are.
 *
 * @example
 * ```ts
 * import { formatSummary } from "./experiments_summary.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatSummary([{
 *   example: "white-dwarf", solver: "rk4", method: "reversible", scheme: "reversible",
 *   seeds: [0, 1, 2], notCompleted: [], bestLoss: { median: 1e-4, min: 5e-6, max: 2e-3 },
 *   seconds: { median: 8, min: 7.5, max: 9 }, timeRatio: null,
 * }]);
 * assert.match(text, /1\.000e-4  5\.000e-6 – 2\.000e-3/);
 * assert.match(text, /median and range \(min – max\) over the seeds/);
 * ```
 */
export function formatSummary(summaries: readonly MethodSummary[]): string {
  const header = [
    "experiment",
    "solver",
    "method",
    "seeds",
    "median best loss",
    "range",
    "median wall s",
    "range",
    "time ckpt/rev",
  ];
  const loss = (v: number) => v.toExponential(3);
  const rows = summaries.map((s) => [
    s.example,
    s.solver,
    (s.method === "checkpointed" ? `checkpointed (${s.scheme})` : "reversible") +
    (s.notCompleted.length > 0 ? ` [not completed: seed ${s.notCompleted.join(", ")}]` : ""),
    String(s.seeds.length),
    s.bestLoss === null ? "-" : loss(s.bestLoss.median),
    s.bestLoss === null ? "-" : `${loss(s.bestLoss.min)} – ${loss(s.bestLoss.max)}`,
    s.seconds.median.toFixed(2),
    `${s.seconds.min.toFixed(2)} – ${s.seconds.max.toFixed(2)}`,
    s.timeRatio === null
      ? ""
      : `${s.timeRatio.median.toFixed(2)}× (${s.timeRatio.min.toFixed(2)} – ` +
        `${s.timeRatio.max.toFixed(2)})`,
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row.map((cell, c) => c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
      .join("  ").trimEnd();
  const seeds = summaries[0]?.seeds ?? [];
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
    `median and range (min – max) over the seeds ${_seedList(seeds)}`,
    "time ckpt/rev: the median (and range) of the per-seed ratios of checkpointed to " +
    "reversible wall time",
  ].join("\n") + "\n";
}

/** Seeds in words, consecutive runs as ranges: `0–9`, `0, 3, 5`. */
function _seedList(seeds: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seeds.length;) {
    let j = i;
    while (j + 1 < seeds.length && seeds[j + 1] === seeds[j] + 1) j++;
    parts.push(j - i >= 2 ? `${seeds[i]}–${seeds[j]}` : seeds.slice(i, j + 1).join(", "));
    i = j + 1;
  }
  return parts.join(", ");
}
