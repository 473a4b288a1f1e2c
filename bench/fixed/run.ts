/**
 * The fixed-step section's run: for each size N, every configuration is
 * warmed up (or skipped on its estimate), then timed round robin; then the
 * rows get their errors against direct and their ratios, and the run its
 * checks and summary.
 *
 * @module
 */

import { type GradientSpec, plain, reversible, rk4, type SchemeSpec } from "../../mod.ts";
import { Mlp } from "../../solvers/fields/mlp.ts";
import { diagnosticOf } from "../failure.ts";
import { loadavg, machineInfo } from "../machine.ts";
import { allFinite, firstSentence, median, relativeError } from "../stats.ts";
import { roundRobin, type Timed } from "../timing.ts";
import { computeChecks } from "./checks.ts";
import {
  type BenchConfig,
  checkpointsOf,
  configKey,
  CONFIGS,
  couplingOf,
  gradientSpec,
  schemeKey,
} from "./configs.ts";
import { checkpointedStepCount, type Measured, measuredOf, skipReason } from "./estimate.ts";
import { gradientOnce } from "./gradient.ts";
import type { BenchResult, BenchRow } from "./result.ts";
import { ratioBase } from "./rows.ts";
import {
  DEFAULT_CONFIG_LIMIT_MS,
  FIXED_NOTES,
  fixedSettings,
  FULL_SIZES,
  QUICK_SIZES,
} from "./setting.ts";
import { fixedSummary } from "./summary.ts";
import { buildScheme } from "../../solvers/schemes/spec.ts";
import { MemoryMeter } from "../../solvers/memory.ts";

/** Options of {@link runBenchmark}. */
export interface BenchOptions {
  /** Numbers of steps (default {@link FULL_SIZES}, or {@link QUICK_SIZES} with `quick`). */
  sizes?: readonly number[];
  /** Use {@link QUICK_SIZES}. */
  quick?: boolean;
  /** Most timed repetitions at N (default 15 / 11 / 7 / 5 for N ≤ 100 / 1000 / 10 000 / more). */
  repetitions?: (n: number) => number;
  /** Skip limit per configuration, ms (default {@link DEFAULT_CONFIG_LIMIT_MS}). */
  configLimitMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Configurations (default {@link CONFIGS}). */
  configs?: readonly BenchConfig[];
}

/** What every gradient at one size shares: the field, N, the loss's buffers and the limits. */
interface AtSize {
  field: Mlp;
  params: Float64Array;
  n: number;
  target: Float64Array;
  cotangent: Float64Array;
  limit: number;
  maxReps: (n: number) => number;
  log: (line: string) => void;
}

/** A configuration warmed up at one size, to be timed. */
interface Active extends Timed {
  config: BenchConfig;
  row: BenchRow;
  spec: GradientSpec;
  scheme: SchemeSpec;
  /** ∂L/∂θ of the warm-up, compared with direct's. */
  grad: Float64Array;
}

/** What one size's warm-ups leave for its timing and its comparisons with direct. */
interface Warmed {
  active: Active[];
  /** Failed reversible rows with the gradient of their unchecked rerun. */
  diagnosed: { row: BenchRow; grad: Float64Array }[];
  /** Direct's ∂L/∂θ by {@link schemeKey}. */
  directGrad: Map<string, Float64Array>;
}

function defaultRepetitions(n: number): number {
  if (n <= 100) return 15;
  if (n <= 1_000) return 11;
  if (n <= 10_000) return 7;
  return 5;
}

/**
 * Runs the benchmark in-process and returns its rows and checks.
 *
 * @param options Sizes, repetitions, skip limit, progress output.
 * @returns The rows, checks and machine description.
 *
 * @example
 * ```ts
 * import { runBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 * const result = runBenchmark({
 *   sizes: [30, 10],
 *   repetitions: () => 1,
 *   configs: [{ label: "reversible", method: "reversible" }, { label: "direct", method: "direct" }],
 * });
 * assert.deepEqual(result.settings.sizes, [10, 30]);
 * assert.equal(result.rows.length, 4);
 * assert.ok(result.rows.every((r) => r.ms! > 0 && r.gradientError! < 1e-10));
 * ```
 */
export function runBenchmark(options: BenchOptions = {}): BenchResult {
  const started = performance.now();
  const sizes = [...(options.sizes ?? (options.quick ? QUICK_SIZES : FULL_SIZES))].sort(
    (a, b) => a - b,
  );
  const limit = options.configLimitMs ?? DEFAULT_CONFIG_LIMIT_MS;
  const configs = options.configs ?? CONFIGS;
  const machine = machineInfo();

  const field = new Mlp({ dim: 2, widths: [10], activation: "tanh", timeDependent: true });
  const params = field.init(0);
  const rows: BenchRow[] = [];
  const last = new Map<string, Measured>();
  const stateBytes = buildScheme(reversible(rk4), field, 1, new MemoryMeter()).scheme.stateCount *
    field.dim * 8;

  for (const n of sizes) {
    const size = (n + 1) * field.dim;
    const at: AtSize = {
      field,
      params,
      n,
      target: new Float64Array(size),
      cotangent: new Float64Array(size),
      limit,
      maxReps: options.repetitions ?? defaultRepetitions,
      log: options.log ?? (() => {}),
    };
    measureSize(at, configs, rows, last);
  }

  machine.loadavgEnd = loadavg();
  return {
    settings: fixedSettings(sizes, limit),
    notes: [...FIXED_NOTES],
    machine,
    rows,
    checks: computeChecks(rows, sizes, stateBytes),
    summary: fixedSummary(rows, sizes, stateBytes),
    stateBytes,
    totalSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * One size: warm-ups (skip decisions, correctness numbers, repetition
 * counts), then the timed repetitions, then errors against direct and ratios.
 * Adds the size's rows to `rows` and its times to `last`.
 */
function measureSize(
  at: AtSize,
  configs: readonly BenchConfig[],
  rows: BenchRow[],
  last: Map<string, Measured>,
): void {
  const warmed: Warmed = { active: [], diagnosed: [], directGrad: new Map() };
  for (const config of configs) {
    if (config.checkpointEvery !== undefined && at.n <= config.checkpointEvery) continue;
    if (config.minSteps !== undefined && at.n < config.minSteps) continue;
    const row = newRow(config, at.n);
    rows.push(row);
    row.skipped = skipReason(config, at.n, last.get(configKey(config)), at.limit);
    if (row.skipped !== null) {
      at.log(`  N=${at.n} ${config.label}${cLabel(row)}: skipped, ${row.skipped}`);
      continue;
    }
    warmUp(at, config, row, warmed);
  }
  roundRobin(
    warmed.active,
    (a) => gradientOnce(a.scheme, at.field, at.params, at.n, a.spec, at.target, at.cotangent).ms,
  );
  for (const a of warmed.active) {
    finishRow(a, warmed.directGrad);
    last.set(configKey(a.config), measuredOf(a.row));
  }
  for (const d of warmed.diagnosed) {
    const reference = warmed.directGrad.get(schemeKey(d.row));
    if (reference !== undefined) {
      d.row.diagnostic!.gradientError = relativeError(d.grad, reference);
    }
  }
  setRatios(rows, at.n);
}

function cLabel(row: BenchRow): string {
  return row.c !== null ? ` c=${row.c}` : "";
}

function newRow(config: BenchConfig, n: number): BenchRow {
  return {
    label: config.label,
    method: config.method,
    scheme: config.scheme ?? "reversible",
    coupling: couplingOf(config),
    n,
    c: checkpointsOf(config, n),
    checkpointEvery: config.checkpointEvery ?? null,
    skipped: null,
    failed: null,
    failedMessage: null,
    diagnostic: null,
    ms: null,
    msMin: null,
    msWarmup: null,
    repetitions: 0,
    peakBytes: null,
    timeRatio: null,
    memoryRatio: null,
    ratioBase: null,
    evaluationsPerStep: null,
    vjpsPerStep: null,
    reconstructionError: null,
    gradientError: null,
    loss: null,
    finite: null,
    predictedEvaluations: null,
  };
}

/**
 * The warm-up of one configuration: its time is not in the median, but its
 * gradient gives the row's correctness numbers and its time the number of
 * repetitions that fit in the limit.
 */
function warmUp(at: AtSize, config: BenchConfig, row: BenchRow, warmed: Warmed): void {
  const { n } = at;
  const spec = gradientSpec(config, n);
  const scheme = row.scheme === "plain" ? plain(rk4) : reversible(rk4, { coupling: row.coupling! });
  const warm = gradientOnce(scheme, at.field, at.params, n, spec, at.target, at.cotangent);
  row.msWarmup = warm.ms;
  row.loss = warm.loss;
  if (warm.grad === null) {
    recordFailure(at, config, row, scheme, warm.error!, warm.ms, warmed);
    return;
  }
  const stats = warm.grad.stats;
  row.peakBytes = stats.peakBytes;
  row.evaluationsPerStep = stats.evaluations / n;
  row.vjpsPerStep = stats.vjps / n;
  row.reconstructionError = stats.reconstructionError ?? null;
  row.finite = allFinite(warm.sol.ys) && allFinite(warm.grad.params) &&
    allFinite(warm.grad.y0) && Number.isFinite(warm.loss);
  if (config.method === "direct") warmed.directGrad.set(schemeKey(row), warm.grad.params);
  if (row.c !== null) {
    row.predictedEvaluations = (warm.sol.stats.evaluations / n) * checkpointedStepCount(n, row.c);
  }
  const reps = Math.max(1, Math.min(at.maxReps(n), Math.floor((at.limit - warm.ms) / warm.ms)));
  warmed.active.push({ config, row, spec, scheme, grad: warm.grad.params, samples: [], reps });
  at.log(
    `  N=${n} ${config.label}${cLabel(row)}: warm-up ${warm.ms.toFixed(1)} ms, ${reps} repetitions`,
  );
}

/**
 * A configuration whose `backward()` threw is a failed row with its reason,
 * not a crash; a reversible one is rerun with the reconstruction check off to
 * show the gradient it refused.
 */
function recordFailure(
  at: AtSize,
  config: BenchConfig,
  row: BenchRow,
  scheme: SchemeSpec,
  error: Error,
  ms: number,
  warmed: Warmed,
): void {
  const { n } = at;
  row.failed = firstSentence(error.message);
  row.failedMessage = error.message;
  at.log(`  N=${n} ${config.label}: FAILED after ${ms.toFixed(1)} ms: ${row.failed}`);
  if (config.method !== "reversible") return;
  const unchecked = gradientOnce(
    scheme,
    at.field,
    at.params,
    n,
    gradientSpec(config, n, true),
    at.target,
    at.cotangent,
  );
  if (unchecked.grad !== null) {
    row.diagnostic = diagnosticOf(unchecked.grad);
    warmed.diagnosed.push({ row, grad: unchecked.grad.params });
  }
}

/** A timed row's median, fastest time and error against direct on its scheme. */
function finishRow(a: Active, directGrad: Map<string, Float64Array>): void {
  const row = a.row;
  row.ms = median(a.samples);
  row.msMin = Math.min(...a.samples);
  row.repetitions = a.samples.length;
  const reference = directGrad.get(schemeKey(row));
  if (reference !== undefined) row.gradientError = relativeError(a.grad, reference);
}

/** Time and memory ratios at N, to reversible or, where it has no time, a remedy row. */
function setRatios(rows: BenchRow[], n: number): void {
  const base = ratioBase(rows, n);
  for (const row of rows) {
    if (row.n !== n || row.ms === null || base === undefined) continue;
    row.timeRatio = row.ms / base.ms!;
    row.memoryRatio = row.peakBytes! / base.peakBytes!;
    row.ratioBase = base.label;
  }
}
