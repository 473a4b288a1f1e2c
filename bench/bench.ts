/**
 * Gradient benchmark. Two sections:
 *
 * - `fixed` (issue 2), white-dwarf setting: time of one gradient (forward
 *   solve + backward pass) and peak bytes held, for every gradient method,
 *   side by side, with ratios to the reversible method;
 * - `adaptive` (issue 3, `bench/adaptive.ts`): a chaotic MLP field with
 *   adaptive Bosh3 steps over growing time spans.
 *
 *     deno task bench [--section all|fixed|adaptive|inference|gpu] [--json] [--quick]
 *
 * Setting (numerics.md §5.1, with the horizon stretched): time-dependent MLP
 * [t, y] (3) → 10 tanh → 2 with random init, reversible RK4 with coupling
 * λ = 0.999, h = 0.005, y0 = [1, 0], N steps over [0, 0.005·N], every step
 * saved ({ t0, steps }) and an MSE loss (target 0) whose cotangent is passed to
 * `backward()`. Every method integrates the same reversible scheme; two extra
 * reference rows (not in the target checks) run direct and checkpointed
 * gradients on plain RK4, the usual non-reversible baseline.
 *
 * The reversible backward pass refuses (throws) when the rebuilt y0 drifts
 * beyond `reconstructionTolerance` (1e-6): round-off grows like λ^(−N), so at
 * N = 100 000 with λ = 0.999 (N(1 − λ) = 100) it does. A configuration that
 * throws is a failed row with its reason, never a crash; extra rows with
 * λ = 0.9999 (N(1 − λ) = 10 at N = 100 000) and with a stored state every
 * 10 000 steps show the two remedies, and the memory targets are evaluated on
 * rows whose gradient is correct.
 *
 * With `--allow-sys` the report also records the CPU model and load average.
 *
 * @module
 */

import { flagHelp, type FlagTable, parseFlags, UsageError } from "../cli/flags.ts";

import {
  binomialSchedule,
  buildScheme,
  defaultCheckpoints,
  type Gradient,
  type GradientMethodName,
  type GradientSpec,
  MemoryMeter,
  plain,
  reversible,
  rk4,
  SCHEDULE,
  type SchemeSpec,
  solve,
} from "../mod.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { mseLossVjp } from "../training/loss.ts";
import { allFinite, firstSentence, group, median, relativeError, renderTable } from "./stats.ts";
import { loadavg, type MachineInfo, machineInfo, machineLines } from "./machine.ts";
import {
  type AdaptiveResult,
  type Diagnostic,
  formatAdaptiveReport,
  runAdaptiveBenchmark,
} from "./adaptive.ts";

/** Step size of the white-dwarf experiment. */
export const STEP = 0.005;
/** Coupling λ of the reversible scheme. */
export const COUPLING = 0.999;
/** The sizes of the full benchmark. */
export const FULL_SIZES: readonly number[] = [100, 1_000, 10_000, 100_000];
/** The sizes of `--quick`. */
export const QUICK_SIZES: readonly number[] = [100, 1_000];
/** A configuration whose warm-up plus one repetition would exceed this is skipped. */
export const DEFAULT_CONFIG_LIMIT_MS = 60_000;
/** Reconstruction checkpoint interval of the extra "reversible, K" row (runs only for N > K). */
export const RECONSTRUCTION_CHECKPOINT_EVERY = 10_000;
/** Coupling of the extra "reversible λ" rows: N(1 − λ) = 10 at N = 100 000. */
export const SAFE_COUPLING = 0.9999;
/** The extra λ rows run only for N ≥ this. */
export const SAFE_COUPLING_FROM = 10_000;
/** Relative gradient error vs direct above which a gradient counts as wrong. */
export const GRADIENT_TOLERANCE = 1e-6;
/** Largest `bytes(N = largest) / bytes(N = smallest)` of reversible's held bytes (issue 2). */
export const FLAT_MEMORY_RATIO = 1.05;

/** One gradient method with its settings. */
export interface BenchConfig {
  /** Label shown in the table. */
  readonly label: string;
  /** The gradient method. */
  readonly method: GradientMethodName;
  /** Checkpointed: number of checkpoints, or "default" for `defaultCheckpoints(N)`. */
  readonly checkpoints?: number | "default";
  /** Reversible: store the state every this many steps (the row runs only for N > it). */
  readonly checkpointEvery?: number;
  /** The scheme: reversible RK4 with λ = {@link COUPLING} (default) or plain RK4 (reference rows). */
  readonly scheme?: "reversible" | "plain";
  /** Coupling λ of the reversible scheme (default {@link COUPLING}). */
  readonly coupling?: number;
  /** The row runs only for N ≥ this. */
  readonly minSteps?: number;
}

/** The configurations measured, in table order. */
export const CONFIGS: readonly BenchConfig[] = [
  { label: "reversible", method: "reversible" },
  { label: "direct", method: "direct" },
  { label: "checkpointed", method: "checkpointed", checkpoints: "default" },
  { label: "checkpointed", method: "checkpointed", checkpoints: 8 },
  { label: "checkpointed", method: "checkpointed", checkpoints: 2 },
  { label: "backsolve", method: "backsolve" },
  {
    label: `reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}`,
    method: "reversible",
    checkpointEvery: RECONSTRUCTION_CHECKPOINT_EVERY,
  },
  {
    label: `reversible λ=${SAFE_COUPLING}`,
    method: "reversible",
    coupling: SAFE_COUPLING,
    minSteps: SAFE_COUPLING_FROM,
  },
  {
    label: `direct λ=${SAFE_COUPLING}`,
    method: "direct",
    coupling: SAFE_COUPLING,
    minSteps: SAFE_COUPLING_FROM,
  },
  { label: "direct, plain RK4", method: "direct", scheme: "plain" },
  {
    label: "checkpointed, plain RK4",
    method: "checkpointed",
    checkpoints: "default",
    scheme: "plain",
  },
];

/** One row of the table: a configuration at one N. */
export interface BenchRow {
  /** Table label. */
  label: string;
  /** Gradient method. */
  method: GradientMethodName;
  /** Scheme integrated: reversible RK4 or plain RK4. */
  scheme: "reversible" | "plain";
  /** Coupling λ of the reversible scheme; null for plain RK4. */
  coupling: number | null;
  /** Number of steps. */
  n: number;
  /** Checkpoints used (checkpointed only), else null. */
  c: number | null;
  /** Reconstruction checkpoint interval (reversible with K only), else null. */
  checkpointEvery: number | null;
  /** Why the configuration was not measured, or null. */
  skipped: string | null;
  /** The first sentence of the error `backward()` threw, or null when it returned a gradient. */
  failed: string | null;
  /** The whole error message of a failed row. */
  failedMessage: string | null;
  /** Failed reversible rows: the same solve with `reconstructionTolerance: Infinity`. */
  diagnostic: Diagnostic | null;
  /** Median milliseconds per gradient (solve + loss cotangent + backward), null if skipped or failed. */
  ms: number | null;
  /** Fastest repetition. */
  msMin: number | null;
  /** Warm-up time (not in the median); for a failed row, the time until `backward()` threw. */
  msWarmup: number | null;
  /** Timed repetitions (warm-up excluded). */
  repetitions: number;
  /** `stats.peakBytes`. */
  peakBytes: number | null;
  /** `ms / ms(ratio base)` at the same N (see {@link BenchRow.ratioBase}). */
  timeRatio: number | null;
  /** `peakBytes / peakBytes(ratio base)` at the same N. */
  memoryRatio: number | null;
  /**
   * Label of the row the ratios divide by: "reversible", or, when it failed
   * or was not measured at this N, the first measured of the λ and K rows.
   */
  ratioBase: string | null;
  /** `stats.evaluations / N` (forward and backward). */
  evaluationsPerStep: number | null;
  /** `stats.vjps / N`. */
  vjpsPerStep: number | null;
  /** `stats.reconstructionError` (reversible methods). */
  reconstructionError: number | null;
  /** `max |∂L/∂θ − ∂L/∂θ(direct)| / max |∂L/∂θ(direct)|`, direct on the same scheme, λ and N. */
  gradientError: number | null;
  /** The loss of the warm-up run. */
  loss: number | null;
  /** Whether the saved trajectory and the gradient were all finite. */
  finite: boolean | null;
  /** Checkpointed: evaluations predicted by the schedule model (see {@link checkpointedStepCount}). */
  predictedEvaluations: number | null;
}

/** A target check. */
export interface BenchCheck {
  /** What is checked. */
  name: string;
  /** PASS, FAIL, or SKIP when the numbers it needs were not measured. */
  status: "PASS" | "FAIL" | "SKIP";
  /** The measured numbers. */
  detail: string;
  /** Whether the check is one of the issue's targets (false: a sanity check added here). */
  target: boolean;
  /** Whether the check compares wall times (and so depends on the machine and its load). */
  timing: boolean;
}

/** Everything a run produced. */
export interface BenchResult {
  /** Settings of the run. */
  settings: {
    sizes: number[];
    step: number;
    coupling: number;
    field: string;
    scheme: string;
    y0: number[];
    saveAt: string;
    loss: string;
    timing: string;
    configLimitMs: number;
  };
  /** Notes printed in the header. */
  notes: string[];
  /** Runtime and machine. */
  machine: MachineInfo;
  /** One row per configuration and N. */
  rows: BenchRow[];
  /** Target checks and sanity checks. */
  checks: BenchCheck[];
  /** What the numbers mean, in a sentence or two. */
  summary: string[];
  /** Bytes of one reversible RK4 state `[y, z]` (one stored checkpoint of the K row). */
  stateBytes: number;
  /** Wall time of the whole run, seconds. */
  totalSeconds: number;
}

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

/**
 * Number of `scheme.step` calls a checkpointed gradient makes (forward solve
 * and backward pass), counted on the schedule of
 * `solvers/gradients/checkpointed.ts` (`binomialSchedule`) without running it.
 * Used to estimate the time of configurations too slow to run, and checked
 * against the measured evaluation counts.
 *
 * @param steps Number of steps N.
 * @param checkpoints Number of checkpoints c.
 * @returns Step calls.
 */
export function checkpointedStepCount(steps: number, checkpoints: number): number {
  const { program } = binomialSchedule(steps, Math.min(checkpoints, steps + 1));
  let count = steps; // the forward solve
  for (const [op, a, b] of program) {
    if (op === SCHEDULE.advance) count += b - a;
    else if (op === SCHEDULE.reverse) count += 1;
  }
  return count;
}

function checkpointsOf(config: BenchConfig, n: number): number | null {
  if (config.method !== "checkpointed") return null;
  const c = config.checkpoints === undefined || config.checkpoints === "default"
    ? defaultCheckpoints(n)
    : config.checkpoints;
  return Math.min(c, n + 1);
}

function gradientSpec(config: BenchConfig, n: number, unchecked = false): GradientSpec {
  if (config.method === "checkpointed") {
    return { method: "checkpointed", checkpoints: checkpointsOf(config, n)! };
  }
  if (config.method === "reversible") {
    return {
      method: "reversible",
      ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
      ...(unchecked ? { reconstructionTolerance: Infinity } : {}),
    };
  }
  return config.method;
}

function couplingOf(config: BenchConfig): number | null {
  return config.scheme === "plain" ? null : config.coupling ?? COUPLING;
}

/** Rows with the same key compare with the same direct gradient. */
function schemeKey(row: { scheme: string; coupling: number | null }): string {
  return row.scheme === "plain" ? "plain" : `reversible λ=${row.coupling}`;
}

function configKey(config: BenchConfig): string {
  return `${config.scheme ?? "reversible"}|${couplingOf(config)}|${config.method}|${
    config.checkpoints ?? ""
  }|${config.checkpointEvery ?? ""}`;
}

function defaultRepetitions(n: number): number {
  if (n <= 100) return 15;
  if (n <= 1_000) return 11;
  if (n <= 10_000) return 7;
  return 5;
}

/**
 * One gradient: solve, MSE cotangent, backward. An error thrown by
 * `backward()` is returned (grad null), not thrown; one thrown by the solve
 * propagates.
 */
function gradientOnce(
  scheme: SchemeSpec,
  field: Mlp,
  params: Float64Array,
  n: number,
  spec: GradientSpec,
  target: Float64Array,
  cotangent: Float64Array,
) {
  const start = performance.now();
  const sol = solve({
    field,
    y0: Float64Array.of(1, 0),
    params,
    scheme,
    t0: 0,
    t1: STEP * n,
    steps: n,
    saveAt: { t0: true, steps: true },
    gradient: spec,
  });
  const loss = mseLossVjp(sol.ys, target, cotangent);
  let grad: Gradient | null = null, error: Error | null = null;
  try {
    grad = sol.backward(cotangent);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  const ms = performance.now() - start;
  return { ms, sol, loss, grad, error };
}

interface Measured {
  ms: number;
  work: number;
  evaluations: number;
  vjps: number;
  n: number;
}

/**
 * Runs the benchmark in-process and returns its rows and checks.
 *
 * @param options Sizes, repetitions, skip limit, progress output.
 * @returns The rows, checks and machine description.
 */
export function runBenchmark(options: BenchOptions = {}): BenchResult {
  const started = performance.now();
  const sizes = [...(options.sizes ?? (options.quick ? QUICK_SIZES : FULL_SIZES))].sort(
    (a, b) => a - b,
  );
  const maxReps = options.repetitions ?? defaultRepetitions;
  const limit = options.configLimitMs ?? DEFAULT_CONFIG_LIMIT_MS;
  const log = options.log ?? (() => {});
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
    const target = new Float64Array(size);
    const cotangent = new Float64Array(size);
    const active: {
      config: BenchConfig;
      row: BenchRow;
      spec: GradientSpec;
      scheme: SchemeSpec;
      grad: Float64Array;
      samples: number[];
      reps: number;
    }[] = [];
    const diagnosed: { row: BenchRow; grad: Float64Array }[] = [];
    const directGrad = new Map<string, Float64Array>();

    // Phase 1: skip decisions, warm-up (also the correctness numbers), repetition counts.
    for (const config of configs) {
      const c = checkpointsOf(config, n);
      const row: BenchRow = {
        label: config.label,
        method: config.method,
        scheme: config.scheme ?? "reversible",
        coupling: couplingOf(config),
        n,
        c,
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
      if (config.checkpointEvery !== undefined && n <= config.checkpointEvery) continue;
      if (config.minSteps !== undefined && n < config.minSteps) continue;
      rows.push(row);
      const key = configKey(config);
      const previous = last.get(key);
      if (previous !== undefined) {
        let predicted: number;
        if (c !== null) {
          const perCall = previous.evaluations /
            checkpointedStepCount(previous.n, checkpointsOf(config, previous.n)!);
          predicted = perCall * checkpointedStepCount(n, c) + (previous.vjps * n) / previous.n;
        } else predicted = (previous.work * n) / previous.n;
        const estimate = (previous.ms * predicted) / previous.work;
        if (2 * estimate > limit) {
          row.skipped = `estimated ${(estimate / 1000).toFixed(1)} s per gradient ` +
            `(${previous.ms.toFixed(1)} ms at N = ${previous.n} × predicted work ` +
            `${(predicted / previous.work).toFixed(0)}×, evaluations + VJPs); ` +
            `warm-up + 1 repetition would exceed the ${limit / 1000} s limit`;
          log(`  N=${n} ${config.label}${c !== null ? ` c=${c}` : ""}: skipped, ${row.skipped}`);
          continue;
        }
      }
      const spec = gradientSpec(config, n);
      const scheme = row.scheme === "plain"
        ? plain(rk4)
        : reversible(rk4, { coupling: row.coupling! });
      const warm = gradientOnce(scheme, field, params, n, spec, target, cotangent);
      row.msWarmup = warm.ms;
      row.loss = warm.loss;
      if (warm.grad === null) {
        // A configuration that throws is a failed row with its reason, not a crash.
        const message = warm.error!.message;
        row.failed = firstSentence(message);
        row.failedMessage = message;
        log(
          `  N=${n} ${config.label}: FAILED after ${warm.ms.toFixed(1)} ms: ${row.failed}`,
        );
        if (config.method === "reversible") {
          const unchecked = gradientOnce(
            scheme,
            field,
            params,
            n,
            gradientSpec(config, n, true),
            target,
            cotangent,
          );
          if (unchecked.grad !== null) {
            row.diagnostic = {
              reconstructionError: unchecked.grad.stats.reconstructionError ?? null,
              gradientError: null,
              peakBytes: unchecked.grad.stats.peakBytes,
            };
            diagnosed.push({ row, grad: unchecked.grad.params });
          }
        }
        continue;
      }
      const forwardEvalsPerStep = warm.sol.stats.evaluations / n;
      const stats = warm.grad.stats;
      row.peakBytes = stats.peakBytes;
      row.evaluationsPerStep = stats.evaluations / n;
      row.vjpsPerStep = stats.vjps / n;
      row.reconstructionError = stats.reconstructionError ?? null;
      row.finite = allFinite(warm.sol.ys) && allFinite(warm.grad.params) &&
        allFinite(warm.grad.y0) && Number.isFinite(warm.loss);
      if (config.method === "direct") directGrad.set(schemeKey(row), warm.grad.params);
      if (c !== null) {
        row.predictedEvaluations = forwardEvalsPerStep * checkpointedStepCount(n, c);
      }
      const reps = Math.max(1, Math.min(maxReps(n), Math.floor((limit - warm.ms) / warm.ms)));
      active.push({ config, row, spec, scheme, grad: warm.grad.params, samples: [], reps });
      log(
        `  N=${n} ${config.label}${c !== null ? ` c=${c}` : ""}: warm-up ${
          warm.ms.toFixed(1)
        } ms, ${reps} repetitions`,
      );
    }

    // Phase 2: timed repetitions, round robin over the configurations.
    const rounds = Math.max(0, ...active.map((a) => a.reps));
    for (let r = 0; r < rounds; r++) {
      for (const a of active) {
        if (r >= a.reps) continue;
        a.samples.push(gradientOnce(a.scheme, field, params, n, a.spec, target, cotangent).ms);
      }
    }

    for (const a of active) {
      const row = a.row;
      row.ms = median(a.samples);
      row.msMin = Math.min(...a.samples);
      row.repetitions = a.samples.length;
      const reference = directGrad.get(schemeKey(row));
      if (reference !== undefined) row.gradientError = relativeError(a.grad, reference);
      last.set(configKey(a.config), {
        ms: row.ms,
        work: (row.evaluationsPerStep! + row.vjpsPerStep!) * n,
        evaluations: row.evaluationsPerStep! * n,
        vjps: row.vjpsPerStep! * n,
        n,
      });
    }
    for (const d of diagnosed) {
      const reference = directGrad.get(schemeKey(d.row));
      if (reference !== undefined) {
        d.row.diagnostic!.gradientError = relativeError(d.grad, reference);
      }
    }
    const base = ratioBase(rows, n);
    for (const row of rows) {
      if (row.n !== n || row.ms === null || base === undefined) continue;
      row.timeRatio = row.ms / base.ms!;
      row.memoryRatio = row.peakBytes! / base.peakBytes!;
      row.ratioBase = base.label;
    }
  }

  machine.loadavgEnd = loadavg();
  return {
    settings: {
      sizes,
      step: STEP,
      coupling: COUPLING,
      field: "Mlp { dim: 2, widths: [10], activation: tanh, timeDependent: true }, init(seed 0)",
      scheme: `reversible(rk4, { coupling: ${COUPLING} }) for every method ` +
        `(λ = ${SAFE_COUPLING} on the λ rows; plus reference rows on plain(rk4))`,
      y0: [1, 0],
      saveAt: "{ t0: true, steps: true } (every step)",
      loss: "MSE against a zero target over every saved point (training/loss.ts mseLossVjp)",
      timing: "solve() + loss cotangent + sol.backward(); one warm-up per configuration and N, " +
        "then the median of the repetitions, round robin over the configurations",
      configLimitMs: limit,
    },
    notes: [
      "peakBytes is stats.peakBytes: bytes the gradient method holds (states, checkpoints, " +
      "tapes, stage buffers, cotangents). The saved outputs ys (every step, (N+1)·2·8 bytes) " +
      "and the returned gradients are the caller's and are NOT counted, by design.",
      "t1 = 0.005·N: the white-dwarf equation itself lives on [0, 5]; only the MLP " +
      "vector field (random init, bounded by tanh) is integrated here.",
      "evals/step and VJPs/step count the forward solve and the backward pass together.",
      "grad err = max|∂L/∂θ − ∂L/∂θ(direct)| / max|∂L/∂θ(direct)| at the same N " +
      "(direct is the exact gradient of the discrete scheme; rows are compared with direct on " +
      `the same scheme and λ: the λ=${SAFE_COUPLING} rows with "direct λ=${SAFE_COUPLING}", ` +
      "plain-RK4 rows with direct on plain RK4).",
      "The two plain-RK4 rows are references (the usual non-reversible baseline, half the " +
      "evaluations per step); they are not used in the target checks.",
      "The reversible backward pass throws when the rebuilt y0 drifts beyond " +
      "reconstructionTolerance (1e-6, relative): round-off grows like λ^(−N) ≈ e^{N(1−λ)}. " +
      "A configuration that throws is a FAILED row with its reason; † marks values from the " +
      "same solve rerun with reconstructionTolerance: Infinity (what the refused gradient " +
      "would have been).",
      `Extra rows: "reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}" stores the state every ` +
      `${RECONSTRUCTION_CHECKPOINT_EVERY} steps to bound the drift (runs only for ` +
      `N > ${RECONSTRUCTION_CHECKPOINT_EVERY}); "reversible λ=${SAFE_COUPLING}" and ` +
      `"direct λ=${SAFE_COUPLING}" integrate with λ = ${SAFE_COUPLING} (N(1−λ) = 10 at ` +
      `N = 100 000; run only for N ≥ ${SAFE_COUPLING_FROM}).`,
    ],
    machine,
    rows,
    checks: computeChecks(rows, sizes, stateBytes),
    summary: fixedSummary(rows, sizes, stateBytes),
    stateBytes,
    totalSeconds: (performance.now() - started) / 1000,
  };
}

/** Labels the ratios may divide by, in order of preference. */
const RATIO_BASES: readonly string[] = [
  "reversible",
  `reversible λ=${SAFE_COUPLING}`,
  `reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}`,
];

function ratioBase(rows: BenchRow[], n: number): BenchRow | undefined {
  for (const label of RATIO_BASES) {
    const row = rows.find((r) => r.n === n && r.label === label && r.ms !== null);
    if (row !== undefined) return row;
  }
  return undefined;
}

function findRow(
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

function fmtRatio(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function fmtExp(x: number | null | undefined, digits = 1): string {
  return x == null ? "-" : x.toExponential(digits);
}

/** Whether a row returned a gradient equal to direct's (same scheme, λ and N). */
function gradientCorrect(row: BenchRow | undefined): row is BenchRow {
  return row !== undefined && row.failed === null && row.ms !== null &&
    row.gradientError !== null && row.gradientError <= GRADIENT_TOLERANCE;
}

/** Why a row's gradient does not count as correct. */
function whyIncorrect(row: BenchRow | undefined): string {
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

/**
 * The issue's target checks, plus sanity checks (gradients equal to direct's).
 * The memory target is evaluated only on rows whose gradient is correct
 * (rel. error vs direct ≤ {@link GRADIENT_TOLERANCE}); a reversible row that
 * threw is a FAIL with its reason.
 *
 * @param rows The measured rows.
 * @param sizes The sizes run.
 * @param stateBytes Bytes of one stored reversible state (K rows).
 * @returns One check per line.
 */
export function computeChecks(
  rows: BenchRow[],
  sizes: readonly number[],
  stateBytes: number,
): BenchCheck[] {
  const checks: BenchCheck[] = [];
  const lo = sizes[0], hi = sizes[sizes.length - 1];
  const ratioLimit = FLAT_MEMORY_RATIO.toFixed(2);
  const tol = GRADIENT_TOLERANCE.toExponential(0);

  // 1. Memory: reversible flat (on rows with a correct gradient), direct linear.
  {
    const base = findRow(rows, lo, "reversible");
    const top = findRow(rows, hi, "reversible");
    if (lo !== hi) {
      const lambda = top?.coupling ?? COUPLING;
      const ok = gradientCorrect(top);
      checks.push({
        name: `N=${hi}: reversible (λ = ${lambda}) gradient correct (backward() returns, ` +
          `rel. error vs direct ≤ ${tol}; N(1−λ) = ${fmtNum(hi * (1 - lambda))})`,
        status: ok ? "PASS" : "FAIL",
        detail: ok
          ? `rel. error ${fmtExp(top.gradientError, 2)}, reconstruction error ` +
            fmtExp(top.reconstructionError, 2)
          : whyIncorrect(top),
        target: true,
        timing: false,
      });
    }
    const name = `reversible held bytes do not grow with N: bytes(N=${hi}) / bytes(N=${lo}) ≤ ` +
      `${ratioLimit}, on a row whose gradient is correct at N=${hi}`;
    const candidates = RATIO_BASES.map((label) => findRow(rows, hi, label));
    const used = candidates.find(gradientCorrect);
    if (lo === hi || !gradientCorrect(base)) {
      checks.push({
        name,
        status: "SKIP",
        detail: lo === hi
          ? "needs two sizes measured"
          : `reversible at N=${lo}: ${whyIncorrect(base)}`,
        target: true,
        timing: false,
      });
    } else if (used === undefined) {
      checks.push({
        name,
        status: "FAIL",
        detail: `no reversible row has a correct gradient at N=${hi}: ` +
          RATIO_BASES.map((label, i) => `${label}: ${whyIncorrect(candidates[i])}`).join("; "),
        target: true,
        timing: false,
      });
    } else {
      const ratio = used.peakBytes! / base.peakBytes!;
      const before = RATIO_BASES.slice(0, RATIO_BASES.indexOf(used.label));
      const passed = before.length === 0
        ? ""
        : ` (first with a correct gradient in the order ${RATIO_BASES.join(", ")}; ` +
          `${before.map((l) => `"${l}"`).join(", ")} had none at N=${hi})`;
      checks.push({
        name,
        status: ratio <= FLAT_MEMORY_RATIO ? "PASS" : "FAIL",
        detail: `row used: "${used.label}"${passed}: ${used.peakBytes} / ${base.peakBytes} ` +
          `(reversible, N=${lo}) = ${ratio.toFixed(3)}`,
        target: true,
        timing: false,
      });
    }
    // The remedies, each on its own line: bytes at N = hi over reversible's at N = lo.
    for (const label of RATIO_BASES.slice(1)) {
      const row = findRow(rows, hi, label);
      if (row === undefined || lo === hi) continue;
      const rowName = `N=${hi}: ${label} gradient correct and held bytes / bytes(reversible, ` +
        `N=${lo}) ≤ ${ratioLimit}`;
      if (!gradientCorrect(row) || !gradientCorrect(base)) {
        checks.push({
          name: rowName,
          status: gradientCorrect(row) ? "SKIP" : "FAIL",
          detail: gradientCorrect(row)
            ? `reversible at N=${lo}: ${whyIncorrect(base)}`
            : whyIncorrect(row),
          target: true,
          timing: false,
        });
        continue;
      }
      const ratio = row.peakBytes! / base.peakBytes!;
      const extra = row.peakBytes! - base.peakBytes!;
      const stored = row.checkpointEvery !== null
        ? Math.floor((row.n - 1) / row.checkpointEvery)
        : 0;
      checks.push({
        name: rowName,
        status: ratio <= FLAT_MEMORY_RATIO ? "PASS" : "FAIL",
        detail: `rel. error ${fmtExp(row.gradientError, 2)}, reconstruction error ` +
          `${fmtExp(row.reconstructionError, 2)}; ${row.peakBytes} / ${base.peakBytes} = ` +
          ratio.toFixed(3) +
          (stored > 0
            ? ` (+${extra} bytes: ${stored} stored states of ${stateBytes} bytes, ` +
              `⌊(N − 1)/K⌋; memory O(N/K))`
            : ""),
        target: true,
        timing: false,
      });
    }
    const da = findRow(rows, lo, "direct"), db = findRow(rows, hi, "direct");
    const dname = `direct peak bytes grow ~linearly with N: log-log slope between N=${lo} and ` +
      `N=${hi} in [0.9, 1.1]`;
    if (lo === hi || da?.peakBytes == null || db?.peakBytes == null) {
      checks.push({
        name: dname,
        status: "SKIP",
        detail: "needs two sizes measured",
        target: true,
        timing: false,
      });
    } else {
      const ratio = db.peakBytes / da.peakBytes;
      const slope = Math.log(ratio) / Math.log(hi / lo);
      const perStep = (db.peakBytes - da.peakBytes) / (hi - lo);
      checks.push({
        name: dname,
        status: slope >= 0.9 && slope <= 1.1 ? "PASS" : "FAIL",
        detail: `${db.peakBytes} / ${da.peakBytes} = ${fmtRatio(ratio)} for N ×${hi / lo}; ` +
          `slope ${slope.toFixed(3)}; ${perStep.toFixed(1)} bytes per step`,
        target: true,
        timing: false,
      });
    }
  }

  // 2. Reversible time ≤ 3× direct, per N (and for the remedies, against direct on their scheme).
  for (const n of sizes) {
    const r = findRow(rows, n, "reversible"), d = findRow(rows, n, "direct");
    const name = `N=${n}: reversible time ≤ 3 × direct`;
    if (r?.failed != null) {
      checks.push({
        name,
        status: "FAIL",
        detail: `no gradient: ${whyIncorrect(r)}`,
        target: true,
        timing: true,
      });
      continue;
    }
    if (r?.ms == null || d?.ms == null) {
      checks.push({ name, status: "SKIP", detail: "not measured", target: true, timing: true });
      continue;
    }
    const ratio = r.ms / d.ms;
    checks.push({
      name,
      status: ratio <= 3 ? "PASS" : "FAIL",
      detail: `${r.ms.toFixed(2)} ms / ${d.ms.toFixed(2)} ms = ${ratio.toFixed(2)}×`,
      target: true,
      timing: true,
    });
  }
  for (const n of sizes) {
    const pairs: [string, string][] = [
      [`reversible λ=${SAFE_COUPLING}`, `direct λ=${SAFE_COUPLING}`],
      [`reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}`, "direct"],
    ];
    for (const [rl, dl] of pairs) {
      const r = findRow(rows, n, rl), d = findRow(rows, n, dl);
      if (r === undefined || d?.ms == null) continue;
      const name = `N=${n}: ${rl} time ≤ 3 × ${dl}`;
      if (r.ms === null) {
        checks.push({
          name,
          status: r.failed !== null ? "FAIL" : "SKIP",
          detail: whyIncorrect(r),
          target: true,
          timing: true,
        });
        continue;
      }
      const ratio = r.ms / d.ms;
      checks.push({
        name,
        status: ratio <= 3 ? "PASS" : "FAIL",
        detail: `${r.ms.toFixed(2)} ms / ${d.ms.toFixed(2)} ms = ${ratio.toFixed(2)}×`,
        target: true,
        timing: true,
      });
    }
  }

  // 3. Reversible vs checkpointed c = 2: ≥ 4× at N = 1000, widening to N = 10 000.
  const gap = (n: number): number | null => {
    const r = findRow(rows, n, "reversible"), k = findRow(rows, n, "checkpointed", 2);
    return r?.ms == null || k?.ms == null ? null : k.ms / r.ms;
  };
  {
    const g = gap(1_000);
    const name = "N=1000: reversible ≥ 4× faster than checkpointed c=2";
    checks.push(
      g === null ? { name, status: "SKIP", detail: "not measured", target: true, timing: true } : {
        name,
        status: g >= 4 ? "PASS" : "FAIL",
        detail: `checkpointed c=2 / reversible = ${fmtRatio(g)}×`,
        target: true,
        timing: true,
      },
    );
    const g2 = gap(10_000);
    const name2 = "the gap widens with N: (c=2 / reversible) at N=10000 > at N=1000";
    const beyond = gap(100_000);
    checks.push(
      g === null || g2 === null
        ? {
          name: name2,
          status: "SKIP",
          detail: "N=1000 and N=10000 not both measured",
          target: true,
          timing: true,
        }
        : {
          name: name2,
          status: g2 > g ? "PASS" : "FAIL",
          detail: `${fmtRatio(g2)}× at N=10000 vs ${fmtRatio(g)}× at N=1000` +
            (beyond !== null ? `; ${fmtRatio(beyond)}× at N=100000` : ""),
          target: true,
          timing: true,
        },
    );
  }

  // Reference: reversible against direct backpropagation through plain RK4.
  for (const n of sizes) {
    const r = findRow(rows, n, "reversible"), d = findRow(rows, n, "direct, plain RK4");
    if (r?.ms == null || d?.ms == null) continue;
    const ratio = r.ms / d.ms;
    checks.push({
      name:
        `N=${n}: reversible time ≤ 3 × direct on plain RK4 (reference, not the issue's setting)`,
      status: ratio <= 3 ? "PASS" : "FAIL",
      detail: `${r.ms.toFixed(2)} ms / ${d.ms.toFixed(2)} ms = ${ratio.toFixed(2)}×`,
      target: false,
      timing: true,
    });
  }

  // Sanity: exact methods agree with direct; reconstruction error; failures not reported above.
  for (const n of sizes) {
    for (const row of rows) {
      if (row.n !== n || row.method === "direct" || row.method === "backsolve") continue;
      const name = `N=${n}: ${row.label}${
        row.c !== null ? ` c=${row.c}` : ""
      } gradient equals direct's (rel. error ≤ ${tol})`;
      if (row.failed !== null) {
        if (row.label === "reversible" && n === hi && lo !== hi) continue; // a target line above
        checks.push({
          name,
          status: "FAIL",
          detail: whyIncorrect(row),
          target: false,
          timing: false,
        });
        continue;
      }
      if (row.gradientError === null) continue;
      checks.push({
        name,
        status: row.gradientError <= GRADIENT_TOLERANCE ? "PASS" : "FAIL",
        detail: `rel. error ${row.gradientError.toExponential(2)}` +
          (row.reconstructionError !== null
            ? `, reconstruction error ${row.reconstructionError.toExponential(2)}`
            : ""),
        target: false,
        timing: false,
      });
    }
  }
  // Sanity: the K row holds exactly reversible's bytes plus its stored states.
  for (const row of rows) {
    if (row.checkpointEvery === null || row.peakBytes === null) continue;
    const plainRev = findRow(rows, lo, "reversible");
    if (plainRev?.peakBytes == null) continue;
    const stored = Math.floor((row.n - 1) / row.checkpointEvery);
    const expected = plainRev.peakBytes + stateBytes * stored;
    checks.push({
      name: `N=${row.n}: ${row.label} held bytes == bytes(reversible, N=${lo}) + ` +
        `${stateBytes}·⌊(N − 1)/K⌋ (exact accounting of the stored states)`,
      status: row.peakBytes === expected ? "PASS" : "FAIL",
      detail: `${row.peakBytes} ${row.peakBytes === expected ? "=" : "≠"} ${plainRev.peakBytes} ` +
        `+ ${stateBytes}·${stored}`,
      target: false,
      timing: false,
    });
  }
  const modelled = rows.filter((r) =>
    r.predictedEvaluations !== null && r.evaluationsPerStep !== null
  );
  if (modelled.length > 0) {
    const off = modelled.filter((r) => r.predictedEvaluations !== r.evaluationsPerStep! * r.n);
    checks.push({
      name: "the checkpointing schedule model (used for skip estimates) predicts the measured " +
        "evaluation counts",
      status: off.length === 0 ? "PASS" : "FAIL",
      detail: off.length === 0
        ? `${modelled.length}/${modelled.length} checkpointed rows exact`
        : off.map((r) =>
          `N=${r.n} c=${r.c}: predicted ${r.predictedEvaluations}, measured ${
            r.evaluationsPerStep! * r.n
          }`
        ).join("; "),
      target: false,
      timing: false,
    });
  }
  for (const row of rows) {
    if (row.finite === false) {
      checks.push({
        name: `N=${row.n}: ${row.label} trajectory and gradient finite`,
        status: "FAIL",
        detail: "non-finite values",
        target: false,
        timing: false,
      });
    }
  }
  return checks;
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function fmtPerStep(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

function fmtNum(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/**
 * What the numbers mean, in a sentence or two: how far O(1) memory holds and
 * what a failure costs to repair.
 *
 * @param rows The rows.
 * @param sizes The sizes run.
 * @param stateBytes Bytes of one stored reversible state.
 * @returns The sentences.
 */
export function fixedSummary(
  rows: BenchRow[],
  sizes: readonly number[],
  stateBytes: number,
): string[] {
  const hi = sizes[sizes.length - 1];
  const rev = rows.filter((r) => r.label === "reversible" && gradientCorrect(r));
  const safe = rows.filter((r) =>
    r.label === `reversible λ=${SAFE_COUPLING}` && gradientCorrect(r)
  );
  const flat = [...rev, ...safe];
  const out: string[] = [];
  if (flat.length > 0) {
    const bytes = [...new Set(flat.map((r) => r.peakBytes!))].sort((a, b) => a - b);
    const held = bytes.length === 1
      ? `${group(bytes[0])} bytes`
      : `${group(bytes[0])}–${group(bytes[bytes.length - 1])} bytes`;
    const parts: string[] = [];
    if (rev.length > 0) {
      const top = rev[rev.length - 1];
      const lambda = top.coupling!;
      parts.push(
        `λ = ${lambda} up to N = ${top.n}, where N(1−λ) = ${fmtNum(top.n * (1 - lambda))}`,
      );
    }
    if (safe.length > 0) {
      const top = safe[safe.length - 1];
      parts.push(
        `λ = ${SAFE_COUPLING} at N = ${top.n}, where N(1−λ) = ${
          fmtNum(top.n * (1 - SAFE_COUPLING))
        }`,
      );
    }
    const direct = findRow(rows, hi, "direct");
    out.push(
      `Reversible held ${held} at every N where its gradient was correct (${parts.join("; ")})` +
        (direct?.peakBytes != null
          ? `, while direct held ${group(direct.peakBytes)} bytes at N = ${hi}`
          : "") +
        ": O(1) memory holds while N(1−λ) stays small (the library's guidance is ≲ 20).",
    );
  }
  const failed = rows.find((r) => r.label === "reversible" && r.failed !== null);
  if (failed !== undefined) {
    const k = rows.find((r) => r.n === failed.n && r.checkpointEvery !== null);
    const closer = rows.find((r) =>
      r.n === failed.n && r.label === `reversible λ=${SAFE_COUPLING}` && gradientCorrect(r)
    );
    const recon = failed.diagnostic?.reconstructionError ?? null;
    const remedies: string[] = [];
    if (closer !== undefined) {
      remedies.push(
        `λ = ${SAFE_COUPLING} restores it at the same ${group(closer.peakBytes!)} bytes`,
      );
    }
    if (k !== undefined && gradientCorrect(k)) {
      remedies.push(
        `checkpointEvery K = ${k.checkpointEvery} restores it for ⌊(N − 1)/K⌋ = ${
          Math.floor((k.n - 1) / k.checkpointEvery!)
        } stored states (+${group(k.peakBytes! - (rev[0]?.peakBytes ?? k.peakBytes!))} bytes, ` +
          `${stateBytes} each: memory O(N/K))`,
      );
    }
    out.push(
      `Beyond that it breaks: at N = ${failed.n} with λ = ${failed.coupling} (N(1−λ) = ${
        fmtNum(failed.n * (1 - failed.coupling!))
      }) round-off grows like e^{N(1−λ)}` +
        (recon !== null ? `, the rebuilt y0 was off by ${fmtExp(recon)} (relative)` : "") +
        " and backward() refused to return a gradient; " +
        (remedies.length > 0
          ? `${remedies.join(", and ")}.`
          : "a coupling closer to 1 or checkpointEvery K (N/K stored states) is needed."),
    );
  }
  return out;
}

/**
 * The human-readable report: header, table, skipped and failed
 * configurations, checks, summary.
 *
 * @param result A benchmark result.
 * @returns The text.
 */
export function formatReport(result: BenchResult): string {
  const s = result.settings;
  const lines: string[] = [];
  lines.push("revode gradient benchmark — white-dwarf setting (fixed steps)");
  lines.push(`  field:   ${s.field}`);
  lines.push(`  scheme:  ${s.scheme}, h = ${s.step}, y0 = [${s.y0}], t ∈ [0, ${s.step}·N]`);
  lines.push(`  saveAt:  ${s.saveAt}; loss: ${s.loss}`);
  lines.push(`  timing:  ${s.timing}`);
  lines.push(
    `  skip:    a configuration whose estimated warm-up + 1 repetition exceeds ${
      s.configLimitMs / 1000
    } s`,
  );
  for (const note of result.notes) lines.push(`  note:    ${note}`);
  lines.push(...machineLines(result.machine));
  lines.push("");
  const table: string[][] = [[
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
  ]];
  for (const r of result.rows) {
    if (r.skipped !== null) continue;
    if (r.failed !== null) {
      const d = r.diagnostic;
      table.push([
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
      ]);
      continue;
    }
    table.push([
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
    ]);
  }
  lines.push(...renderTable(table));
  const rebased = [
    ...new Set(
      result.rows.filter((r) => r.ratioBase !== null && r.ratioBase !== "reversible").map((r) =>
        r.n
      ),
    ),
  ];
  const failed = result.rows.filter((r) => r.failed !== null);
  const skipped = result.rows.filter((r) => r.skipped !== null);
  if (rebased.length + failed.length + skipped.length > 0) lines.push("");
  for (const n of rebased) {
    const base = result.rows.find((r) => r.n === n && r.ratioBase !== null)!.ratioBase;
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
  lines.push("");
  lines.push("Targets (from the issue):");
  for (const c of result.checks.filter((c) => c.target)) {
    lines.push(`${c.status} ${c.name} — ${c.detail}`);
  }
  const sanity = result.checks.filter((c) => !c.target);
  if (sanity.length > 0) {
    lines.push("");
    lines.push("Sanity checks (not issue targets):");
    for (const c of sanity) lines.push(`${c.status} ${c.name} — ${c.detail}`);
  }
  if (result.summary.length > 0) {
    lines.push("");
    lines.push(`Summary: ${result.summary.join(" ")}`);
  }
  lines.push("");
  lines.push(`fixed section ${result.totalSeconds.toFixed(1)} s`);
  return lines.join("\n");
}

/** The sections `--section` selects. */
export type Section = "all" | "fixed" | "adaptive" | "inference" | "gpu";

/** What `--json` prints: the sections that ran. */
export interface FullResult {
  /** The fixed-step (white-dwarf) section. */
  fixed?: BenchResult;
  /** The adaptive (chaotic field) section. */
  adaptive?: AdaptiveResult;
  /** The ONNX inference section (bench/inference.ts). */
  inference?: unknown;
  /** The WebGPU training-step section (bench/gpu.ts). */
  gpu?: unknown;
}

const _SECTIONS: readonly Section[] = ["all", "fixed", "adaptive", "inference", "gpu"];

/** The flags, in help order: name, value placeholder, description. */
const _FLAGS: FlagTable = [
  [
    "section",
    "NAME",
    "which section to run (default all): fixed = white-dwarf fixed steps (issue 2), " +
    "adaptive = chaotic MLP field with adaptive Bosh3 steps (issue 3), inference = ONNX " +
    "Runtime (CPU, WebGPU) against revode's solver (issue 6), " +
    "gpu = one WebGPU training step against the CPU backend, fixed and adaptive steps (issue 5; " +
    "skipped with its reason when no adapter exists)",
  ],
  [
    "json",
    "",
    "print one JSON object { fixed?, adaptive?, inference?, gpu? }, a key for each section " +
    "that ran (settings, machine, rows, checks; gpu is { skipped } without an adapter), " +
    "instead of the tables",
  ],
  [
    "quick",
    "",
    "short runs (a smoke test): fixed N = 100 and 1000; adaptive spans T = 1 and 4; " +
    "inference 20 steps, batches up to 256, 0.05 s per cell; gpu batches 1 and 256, width 10, " +
    "5 steps, 1 repetition, and adaptive batches 1 and 16, tolerance 1e-4, at most 60 steps",
  ],
  ["help", "", "print this help"],
];

const USAGE = [
  "usage: deno task bench [--section all|fixed|adaptive|inference|gpu] [--json] [--quick]",
  "",
  "Flags:",
  ...flagHelp(_FLAGS, 18, 100),
  "",
  "Deno permissions (not bench flags; deno task bench gives them all): --allow-sys also",
  "records the CPU model and load average; the inference section needs --allow-ffi and",
  "--allow-write.",
].join("\n");

if (import.meta.main) {
  let values: { json: boolean; quick: boolean; help: boolean; section: string };
  try {
    const flags = parseFlags(Deno.args, _FLAGS);
    values = {
      json: flags.json === true,
      quick: flags.quick === true,
      help: flags.help === true,
      section: (flags.section as string | undefined) ?? "all",
    };
    if (!_SECTIONS.includes(values.section as Section)) {
      throw new UsageError(
        `invalid value for --section: ${JSON.stringify(values.section)}. ` +
          `Allowed: ${_SECTIONS.join(", ")}.`,
      );
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\nRun with --help for every flag.`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const section = values.section as Section;
  const log = values.json ? undefined : (line: string) => console.error(line);
  const out: FullResult = {};
  const texts: string[] = [];
  if (section === "all" || section === "fixed") {
    out.fixed = runBenchmark({ quick: values.quick, log });
    texts.push(formatReport(out.fixed));
  }
  if (section === "all" || section === "adaptive") {
    const machine = machineInfo();
    out.adaptive = runAdaptiveBenchmark({ quick: values.quick, log, machine });
    machine.loadavgEnd = loadavg();
    texts.push(
      formatAdaptiveReport(out.adaptive) +
        (section === "adaptive" ? `\n${machineLines(machine).join("\n")}` : ""),
    );
  }
  if (section === "all" || section === "inference") {
    // Loaded only here: it starts ONNX Runtime's native addon.
    const { runInferenceBench, formatInferenceReport } = await import("./inference.ts");
    const result = await runInferenceBench({
      onProgress: log,
      ...(values.quick ? { steps: 20, maxBatch: 256, seconds: 0.05 } : {}),
    });
    out.inference = result;
    texts.push(formatInferenceReport(result));
  }
  if (section === "all" || section === "gpu") {
    const { runGpuBenchmark, formatGpuReport } = await import("./gpu.ts");
    try {
      const result = await runGpuBenchmark(
        values.quick ? { batches: [1, 256], widths: [10], steps: 5, reps: 1 } : {},
      );
      const { runGpuAdaptiveBenchmark, formatGpuAdaptiveReport } = await import(
        "./gpu_adaptive.ts"
      );
      const adaptive = await runGpuAdaptiveBenchmark(
        values.quick ? { batches: [1, 16], tolerance: 1e-4, maxSteps: 60, reps: 1 } : {},
      );
      out.gpu = { ...result, adaptive };
      texts.push(formatGpuReport(result), formatGpuAdaptiveReport(adaptive));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      out.gpu = { skipped: reason };
      texts.push(`WebGPU section skipped: ${reason}`);
    }
  }
  console.log(
    values.json ? JSON.stringify(out, null, 2) : texts.join(`\n\n${"=".repeat(100)}\n\n`),
  );
}
