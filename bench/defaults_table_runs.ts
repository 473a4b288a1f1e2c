/**
 * `deno task defaults --section tables`: the candidate defaults of a run on
 * a user's table, each from base seeds 0–9 on each synthetic table
 * (bench/defaults_tables.ts), through the very plan `deno task train --data
 * FILE` makes (planRun: the table read from a file, normalised, probed),
 * and how well the kept parameters fit: the final best loss and the
 * residual RMS of each state, data − model at the data times in the data's
 * units, relative to the state's range; on a noisy table also the model
 * against the noise-free states.
 *
 * @module
 */

import type { FlagValues } from "../cli/flags.ts";
import { planRun, probePlan } from "../cli/train_plan.ts";
import { predictData } from "../training/predict_data.ts";
import { train } from "../training/train.ts";
import type { SyntheticTable } from "./defaults_tables.ts";

/** One candidate default of a table run; absent settings keep the defaults. */
export interface TableCandidate {
  /** `--iterations`. */
  iterations: number;
  /** `--schedule`. */
  schedule: "constant" | "cosine";
  /** `--restarts` (1: no probes). */
  restarts: number;
  /** `--probe`, or undefined for the default. */
  probe?: number;
  /**
   * `--lr`, or undefined for 0.01 (the oscillator's rate, which tables took
   * before the table defaults were chosen): given explicitly either way, so
   * that a candidate means the same whatever the defaults are now.
   */
  lr?: number;
}

/** One run of a candidate on a table from a base seed. */
export interface TableRun {
  /** The base seed. */
  seed: number;
  /** The seed kept by the probes (the base seed without them). */
  kept: number;
  /** The final best loss, in the normalised units. */
  bestLoss: number;
  /** Per state: RMS of data − model over the state's range. */
  rms: number[];
  /** Per state: RMS of truth − model over the state's range (the noise-free states). */
  rmsTruth: number[];
  /** Wall seconds, probes included. */
  seconds: number;
}

/**
 * Reads one table candidate, `ITERATIONS:SCHEDULE:RESTARTS` with optional
 * `:probe=N` and `:lr=X` after it.
 *
 * @param item The text.
 * @returns The candidate, or null when it does not read.
 *
 * @example
 * ```ts
 * import { parseTableCandidate } from "./defaults_table_runs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseTableCandidate("3000:cosine:3:probe=100:lr=0.02"),
 *   { iterations: 3000, schedule: "cosine", restarts: 3, probe: 100, lr: 0.02 });
 * assert.equal(parseTableCandidate("3000:cosine"), null);
 * assert.equal(parseTableCandidate("3000:cosine:3:speed=2"), null);
 * ```
 */
export function parseTableCandidate(item: string): TableCandidate | null {
  const [iterations, schedule, restarts, ...rest] = item.trim().split(":");
  if (!/^\d+$/.test(iterations ?? "") || !/^\d+$/.test(restarts ?? "")) return null;
  if (schedule !== "constant" && schedule !== "cosine") return null;
  const candidate: TableCandidate = {
    iterations: Number(iterations),
    schedule,
    restarts: Number(restarts),
  };
  if (candidate.iterations < 1 || candidate.restarts < 1) return null;
  for (const option of rest) {
    const match = /^(probe|lr)=([0-9.eE+-]+)$/.exec(option);
    const value = Number(match?.[2]);
    if (match === null || !(value > 0)) return null;
    candidate[match[1] as "probe" | "lr"] = value;
  }
  return candidate;
}

/**
 * A candidate's name as `--candidates` reads it.
 *
 * @param c The candidate.
 * @returns `ITERATIONS:SCHEDULE:RESTARTS[:probe=N][:lr=X]`.
 *
 * @example
 * ```ts
 * import { tableCandidateName } from "./defaults_table_runs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tableCandidateName({ iterations: 5, schedule: "constant", restarts: 1, lr: 0.1 }),
 *   "5:constant:1:lr=0.1");
 * ```
 */
export function tableCandidateName(c: TableCandidate): string {
  return `${c.iterations}:${c.schedule}:${c.restarts}` +
    (c.probe === undefined ? "" : `:probe=${c.probe}`) + (c.lr === undefined ? "" : `:lr=${c.lr}`);
}

/**
 * Runs a candidate on a table from one base seed as `deno task train --data
 * FILE` would (the table written to a temporary file, removed after), with
 * the candidate's flags given explicitly (the learning rate too).
 *
 * @param table The table.
 * @param candidate The candidate.
 * @param seed The base seed.
 * @param extra Further flags of `deno task train` (e.g. `{ steps: "10" }` for a quick check).
 * @returns The run.
 *
 * @example
 * ```ts
 * import { runTableCandidate } from "./defaults_table_runs.ts";
 * import { syntheticTables } from "./defaults_tables.ts";
 * import assert from "node:assert/strict";
 *
 * const [osc] = syntheticTables();
 * const run = await runTableCandidate(osc,
 *   { iterations: 4, schedule: "constant", restarts: 2, probe: 2 }, 0, { steps: "100" });
 * assert.ok([0, 1].includes(run.kept));
 * assert.equal(run.rms.length, 2);
 * // on a clean table the data are the truth
 * assert.deepEqual(run.rms, run.rmsTruth);
 * ```
 */
export async function runTableCandidate(
  table: SyntheticTable,
  candidate: TableCandidate,
  seed: number,
  extra: FlagValues = {},
): Promise<TableRun> {
  const path = await Deno.makeTempFile({ prefix: `revode-${table.name}-`, suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, table.csv);
    const started = performance.now();
    const flags: FlagValues = {
      ...extra,
      data: path,
      seed: String(seed),
      iterations: String(candidate.iterations),
      schedule: candidate.schedule,
      restarts: String(candidate.restarts),
    };
    if (candidate.probe !== undefined) flags.probe = String(candidate.probe);
    flags.lr = String(candidate.lr ?? 0.01);
    const { plan, result } = await trainAsPlanned(flags);
    const { bestLoss, bestParams } = result.state;
    if (result.status !== "completed" || bestLoss === null || bestParams === null) {
      throw new Error(
        `${table.name}, base seed ${seed}: the run ended ${result.status}: ${result.reason}`,
      );
    }
    const data = plan.data.data;
    const fit = predictData(plan.config, bestParams, data).ys;
    return {
      seed,
      kept: plan.config.seed,
      bestLoss,
      rms: relativeRms(data.ys, fit, data.ys, data.dim),
      rmsTruth: relativeRms(table.truth, fit, data.ys, data.dim),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Deno.remove(path);
  }
}

/**
 * Per state, the RMS of `a − b` over the range (max − min) of that state in
 * `scale`.
 *
 * @param a States `[points, dim]`.
 * @param b States `[points, dim]`.
 * @param scale The states whose ranges divide.
 * @param dim The dimension.
 * @returns One ratio per state.
 *
 * @example
 * ```ts
 * import { relativeRms } from "./defaults_table_runs.ts";
 * import assert from "node:assert/strict";
 *
 * const data = Float64Array.of(0, 0, 4, 10);
 * assert.deepEqual(relativeRms(data, Float64Array.of(1, 0, 3, 10), data, 2), [0.25, 0]);
 * ```
 */
export function relativeRms(
  a: Float64Array,
  b: Float64Array,
  scale: Float64Array,
  dim: number,
): number[] {
  const points = a.length / dim;
  return Array.from({ length: dim }, (_, j) => {
    let sum = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < points; i++) {
      const r = a[i * dim + j] - b[i * dim + j];
      sum += r * r;
      lo = Math.min(lo, scale[i * dim + j]);
      hi = Math.max(hi, scale[i * dim + j]);
    }
    return Math.sqrt(sum / points) / (hi - lo);
  });
}

/** What one candidate gave on one table over the base seeds. */
export interface TableResult {
  /** The candidate. */
  candidate: TableCandidate;
  /** The table's name. */
  table: string;
  /** One run per base seed. */
  runs: TableRun[];
}

/**
 * The table of results, one row per candidate and table: the median, worst
 * and best final best loss; the residual RMS of the worst-fitted state
 * (over its range) against the data and against the noise-free states,
 * median and worst over the seeds; how many seeds are acceptable, i.e.
 * every state's model − truth RMS at most `tolerance` of its range; and the
 * wall seconds per run.
 *
 * @param results Each candidate's runs on each table.
 * @param tolerance The largest acceptable model − truth RMS over a state's range.
 * @returns The table, in Markdown.
 *
 * @example
 * ```ts
 * import { formatTableResults } from "./defaults_table_runs.ts";
 * import assert from "node:assert/strict";
 *
 * const run = (seed: number, rms: number) =>
 *   ({ seed, kept: seed, bestLoss: rms * rms, rms: [rms, 0], rmsTruth: [rms, 0], seconds: 2 });
 * const text = formatTableResults([{ candidate: { iterations: 9, schedule: "constant", restarts: 1 },
 *   table: "osc", runs: [run(0, 0.005), run(1, 0.03)] }], 0.01);
 * assert.match(text, /\| 9:constant:1 +\| osc +\| .* \| 3\.00% \(seed 1\) +\| .* \| 1 of 2 +\| 2\.0 +\|/);
 * ```
 */
export function formatTableResults(results: TableResult[], tolerance: number): string {
  const header = [
    "candidate",
    "table",
    "best loss: median",
    "worst",
    "best",
    "RMS/range vs data: median",
    "worst (base seed)",
    "vs truth: median",
    "worst (base seed)",
    `vs truth ≤ ${_percent(tolerance)}`,
    "wall s per run: median",
  ];
  const rows = results.map(({ candidate, table, runs }) => {
    const losses = runs.map((r) => r.bestLoss);
    const data = runs.map((r) => Math.max(...r.rms));
    const truth = runs.map((r) => Math.max(...r.rmsTruth));
    const worstAt = (xs: number[]) => {
      const k = xs.indexOf(Math.max(...xs));
      return `${_percent(xs[k])} (seed ${runs[k].seed})`;
    };
    return [
      tableCandidateName(candidate),
      table,
      _median(losses).toExponential(2),
      Math.max(...losses).toExponential(2),
      Math.min(...losses).toExponential(2),
      _percent(_median(data)),
      worstAt(data),
      _percent(_median(truth)),
      worstAt(truth),
      `${truth.filter((e) => e <= tolerance).length} of ${runs.length}`,
      _median(runs.map((r) => r.seconds)).toFixed(1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function _percent(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Trains as `deno task train` with these flags would: the plan, the
 * `--restarts` probes, then the rest of the iterations (no files written).
 */
export async function trainAsPlanned(flags: FlagValues) {
  const plan = await planRun(flags);
  await probePlan(plan);
  const result = await train({
    config: plan.config,
    data: plan.data.trajectories ?? plan.data.data,
    iterations: plan.iterations,
    resume: plan.resume ?? undefined,
  });
  return { plan, result };
}
