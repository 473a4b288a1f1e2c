/**
 * The adaptive section's run: for each time span, the growth of a
 * perturbation, then every configuration warmed up (a K row that would store
 * nothing is not run), then timed round robin; then the rows get their errors
 * and time ratios against direct at the same λ, and the run its checks and
 * summary.
 *
 * @module
 */

import { bosh3, type GradientSpec, reversible, type SchemeSpec } from "../../mod.ts";
import type { Mlp } from "../../solvers/fields/mlp.ts";
import { diagnosticOf } from "../failure.ts";
import type { MachineInfo } from "../machine.ts";
import { allFinite, firstSentence, median, relativeError } from "../stats.ts";
import { roundRobin, type Timed } from "../timing.ts";
import { computeAdaptiveChecks } from "./checks.ts";
import { ADAPTIVE_CONFIGS, type AdaptiveConfig, couplingOf, specOf } from "./configs.ts";
import { chaoticField, perturbationGrowth } from "./field.ts";
import { gradientOnce, type Once, reversibleStateBytes } from "./gradient.ts";
import type { AdaptiveResult, AdaptiveRow, ChaosRow } from "./result.ts";
import {
  ADAPTIVE_NOTES,
  ADAPTIVE_SPANS,
  adaptiveSettings,
  CHAOTIC_Y0,
  PERTURBATION,
  QUICK_ADAPTIVE_SPANS,
} from "./setting.ts";
import { adaptiveSummary } from "./summary.ts";
import { defaultCheckpoints } from "../../solvers/gradients/checkpointed.ts";

/** Options of {@link runAdaptiveBenchmark}. */
export interface AdaptiveOptions {
  /** Time spans (default {@link ADAPTIVE_SPANS}, or {@link QUICK_ADAPTIVE_SPANS} with `quick`). */
  spans?: readonly number[];
  /** Use {@link QUICK_ADAPTIVE_SPANS}. */
  quick?: boolean;
  /** Most timed repetitions at a span (default 7 up to T = 4, 5 up to 16, then 3). */
  repetitions?: (span: number) => number;
  /** Configurations (default {@link ADAPTIVE_CONFIGS}). */
  configs?: readonly AdaptiveConfig[];
  /** Measure the growth of a perturbation of y0 (default true). */
  measureChaos?: boolean;
  /** Machine description to include in the result. */
  machine?: MachineInfo;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What every gradient over one span shares: the field, y0, T and the limits. */
interface AtSpan {
  field: Mlp;
  params: Float64Array;
  y0: Float64Array;
  span: number;
  maxReps: (span: number) => number;
  log: (line: string) => void;
}

/** A configuration warmed up over one span, to be timed. */
interface Active extends Timed {
  row: AdaptiveRow;
  scheme: SchemeSpec;
  spec: GradientSpec;
  /** ∂L/∂θ of the warm-up, compared with direct's. */
  grad: Float64Array;
}

/** What one span's warm-ups leave for its timing and its comparisons with direct. */
interface Warmed {
  active: Active[];
  /** Failed reversible rows with the gradient of their unchecked rerun. */
  diagnosed: { row: AdaptiveRow; grad: Float64Array }[];
  /** Direct's ∂L/∂θ by coupling λ. */
  directGrad: Map<number, Float64Array>;
}

function defaultRepetitions(span: number): number {
  if (span <= 4) return 7;
  if (span <= 16) return 5;
  return 3;
}

/**
 * Runs the adaptive benchmark in-process.
 *
 * @param options Spans, repetitions, configurations, progress output.
 * @returns Rows, checks and the summary.
 *
 * @example
 * ```ts
 * import { runAdaptiveBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 * const result = runAdaptiveBenchmark({
 *   spans: [0.25],
 *   repetitions: () => 1,
 *   measureChaos: false,
 *   configs: [{ label: "reversible", method: "reversible" }, { label: "direct", method: "direct" }],
 * });
 * assert.equal(result.rows.length, 2);
 * assert.ok(result.rows.every((r) => r.ms! > 0 && r.accepted! > 0));
 * assert.deepEqual(result.checks.filter((c) => c.status === "FAIL"), []);
 * ```
 */
export function runAdaptiveBenchmark(options: AdaptiveOptions = {}): AdaptiveResult {
  const started = performance.now();
  const spans = [
    ...(options.spans ?? (options.quick ? QUICK_ADAPTIVE_SPANS : ADAPTIVE_SPANS)),
  ].sort((a, b) => a - b);
  const configs = options.configs ?? ADAPTIVE_CONFIGS;
  const log = options.log ?? (() => {});
  const { field, params } = chaoticField();
  const y0 = Float64Array.from(CHAOTIC_Y0);
  const stateBytes = reversibleStateBytes(field);
  const chaos: ChaosRow[] = [];
  const rows: AdaptiveRow[] = [];

  for (const span of spans) {
    if (options.measureChaos ?? true) {
      const c = perturbationGrowth(field, params, y0, span);
      chaos.push(c);
      log(`  T=${span}: a ${PERTURBATION} perturbation of y0 grows ×${c.growth.toExponential(2)}`);
    }
    const maxReps = options.repetitions ?? defaultRepetitions;
    measureSpan({ field, params, y0, span, maxReps, log }, configs, rows);
  }

  const checks = computeAdaptiveChecks(rows, spans, stateBytes);
  return {
    settings: adaptiveSettings(spans),
    notes: [...ADAPTIVE_NOTES],
    machine: options.machine ?? null,
    chaos,
    rows,
    checks,
    summary: adaptiveSummary(rows, chaos, stateBytes),
    stateBytes,
    totalSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * One span: warm-ups, the timed repetitions, then errors and time ratios
 * against direct at the same λ. Adds the span's rows to `rows`.
 */
function measureSpan(at: AtSpan, configs: readonly AdaptiveConfig[], rows: AdaptiveRow[]): void {
  const warmed: Warmed = { active: [], diagnosed: [], directGrad: new Map() };
  for (const config of configs) warmUp(at, config, rows, warmed);
  roundRobin(
    warmed.active,
    (a) => gradientOnce(at.field, at.params, at.y0, at.span, a.scheme, a.spec).ms,
  );
  const directMs = new Map<number, number>();
  for (const a of warmed.active) {
    a.row.ms = median(a.samples);
    a.row.msMin = Math.min(...a.samples);
    a.row.repetitions = a.samples.length;
    if (a.row.method === "direct") directMs.set(a.row.coupling, a.row.ms);
  }
  for (const a of warmed.active) {
    const reference = warmed.directGrad.get(a.row.coupling);
    if (reference !== undefined) a.row.gradientError = relativeError(a.grad, reference);
    const ms = directMs.get(a.row.coupling);
    if (ms !== undefined) a.row.timeRatio = a.row.ms! / ms;
  }
  for (const d of warmed.diagnosed) {
    const reference = warmed.directGrad.get(d.row.coupling);
    if (reference !== undefined) {
      d.row.diagnostic!.gradientError = relativeError(d.grad, reference);
    }
  }
}

/**
 * The warm-up of one configuration: it gives the accepted steps (a K row with
 * N ≤ K is dropped), the row's correctness numbers and its memory; its time
 * is not in the median.
 */
function warmUp(at: AtSpan, config: AdaptiveConfig, rows: AdaptiveRow[], warmed: Warmed): void {
  const { span } = at;
  const coupling = couplingOf(config);
  const scheme = reversible(bosh3, { coupling });
  const spec = specOf(config);
  const k = config.checkpointEvery ?? null;
  // The accepted steps depend only on λ and T: skip a K row with N ≤ K without running it.
  const known = rows.find((r) => r.span === span && r.coupling === coupling);
  if (k !== null && known !== undefined && known.accepted! <= k) {
    at.log(`  T=${span} ${config.label}: not run (N = ${known.accepted} ≤ K = ${k})`);
    return;
  }
  const warm = gradientOnce(at.field, at.params, at.y0, span, scheme, spec);
  const n = warm.sol.trajectories![0].accepted;
  if (k !== null && n <= k) {
    at.log(`  T=${span} ${config.label}: not run (N = ${n} ≤ K = ${k})`);
    return;
  }
  const row = newRow(config, span, warm);
  rows.push(row);
  if (warm.grad === null) {
    recordFailure(at, config, row, scheme, warm, warmed);
    return;
  }
  const stats = warm.grad.stats;
  row.peakBytes = stats.peakBytes;
  row.bytesPerStep = stats.peakBytes / n;
  row.evaluationsPerStep = stats.evaluations / n;
  row.vjpsPerStep = stats.vjps / n;
  row.reconstructionError = stats.reconstructionError ?? null;
  row.gradientMax = warm.grad.params.reduce((a, g) => Math.max(a, Math.abs(g)), 0);
  row.finite = allFinite(warm.sol.ys) && allFinite(warm.grad.params) &&
    allFinite(warm.grad.y0) && Number.isFinite(warm.loss);
  if (config.method === "direct") warmed.directGrad.set(coupling, warm.grad.params);
  const reps = Math.max(1, at.maxReps(span));
  warmed.active.push({ row, scheme, spec, grad: warm.grad.params, samples: [], reps });
  at.log(
    `  T=${span} ${config.label}: N = ${n}, warm-up ${warm.ms.toFixed(1)} ms, ${reps} repetitions`,
  );
}

/** A row with what the warm-up's solve gave: accepted and rejected steps, warm-up time, loss. */
function newRow(config: AdaptiveConfig, span: number, warm: Once): AdaptiveRow {
  const trajectory = warm.sol.trajectories![0];
  const n = trajectory.accepted;
  const k = config.checkpointEvery ?? null;
  return {
    label: config.label,
    method: config.method,
    coupling: couplingOf(config),
    checkpointEvery: k,
    storedStates: config.method !== "reversible" ? null : k === null ? 0 : Math.floor(
      (n - 1) / k,
    ),
    c: config.method === "checkpointed" ? Math.min(defaultCheckpoints(n), n + 1) : null,
    span,
    accepted: n,
    rejected: trajectory.rejected,
    failed: null,
    failedMessage: null,
    ms: null,
    msMin: null,
    msWarmup: warm.ms,
    repetitions: 0,
    timeRatio: null,
    peakBytes: null,
    bytesPerStep: null,
    evaluationsPerStep: null,
    vjpsPerStep: null,
    reconstructionError: null,
    gradientError: null,
    gradientMax: null,
    loss: warm.loss,
    finite: null,
    diagnostic: null,
  };
}

/**
 * A configuration whose `backward()` threw is a failed row with its reason;
 * a reversible one is rerun with the reconstruction check off to show the
 * gradient it refused.
 */
function recordFailure(
  at: AtSpan,
  config: AdaptiveConfig,
  row: AdaptiveRow,
  scheme: SchemeSpec,
  warm: Once,
  warmed: Warmed,
): void {
  const message = warm.error!.message;
  row.failed = firstSentence(message);
  row.failedMessage = message;
  at.log(`  T=${at.span} ${config.label}: FAILED after ${warm.ms.toFixed(1)} ms: ${row.failed}`);
  if (config.method !== "reversible") return;
  const unchecked = gradientOnce(at.field, at.params, at.y0, at.span, scheme, specOf(config, true));
  if (unchecked.grad !== null) {
    row.diagnostic = diagnosticOf(unchecked.grad);
    warmed.diagnosed.push({ row, grad: unchecked.grad.params });
  }
}
