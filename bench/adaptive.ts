/**
 * Adaptive-step gradient benchmark (issue 3): a chaotic, double-pendulum-like
 * MLP vector field integrated by reversible Bosh3 under a PID controller
 * (rtol = atol = 1e-6) over growing time spans; one gradient per method and
 * span, with its time, held bytes, accepted and rejected steps, and how far
 * the reversible backward pass drifted.
 *
 *     deno run --allow-read --allow-env --allow-sys bench/bench.ts --section adaptive
 *
 * The field is an autonomous {@link Mlp} 4 → 32 tanh → 4 whose weights are
 * tied so that it is the Hamiltonian vector field of a two-degree-of-freedom
 * system (see {@link chaoticField}): energy is conserved, the energy surfaces
 * are bounded and the motion is chaotic, as for the double pendulum. The
 * chaos is measured, not assumed: the report gives the growth of a 1e-8
 * perturbation of y0 at each span.
 *
 * The reversible gradient holds a constant state plus the accepted step times
 * (8 bytes each); the benchmark checks that accounting exactly from the
 * library's MemoryMeter (`stats.peakBytes`).
 *
 * @module
 */

import {
  bosh3,
  buildScheme,
  defaultCheckpoints,
  dopri5,
  type Gradient,
  type GradientMethodName,
  type GradientSpec,
  MemoryMeter,
  pid,
  type PidController,
  plain,
  reversible,
  type SchemeSpec,
  type Solution,
  solve,
} from "../mod.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { Rng } from "../solvers/fields/random.ts";
import type { MachineInfo } from "./machine.ts";
import { allFinite, firstSentence, group, median, relativeError, renderTable } from "./stats.ts";

/** Relative and absolute tolerance of the controller (the paper's double-pendulum setting). */
export const ADAPTIVE_TOLERANCE = 1e-6;
/** `maxSteps` of the controller: far above what the longest span needs (~12 300 tries). */
export const ADAPTIVE_MAX_STEPS = 1_000_000;
/** Time spans of the full benchmark (T = 64 takes about half a second per gradient). */
export const ADAPTIVE_SPANS: readonly number[] = [1, 4, 16, 64];
/** Time spans of `--quick`. */
export const QUICK_ADAPTIVE_SPANS: readonly number[] = [1, 4];
/** Coupling λ of the reversible scheme for the main rows (the library default). */
export const ADAPTIVE_COUPLING = 0.999;
/** A coupling closer to 1, for the extra rows that show what it buys over long spans. */
export const CLOSER_COUPLING = 0.99999;
/** Reconstruction checkpoint interval of the "reversible K" row (runs only when N > K). */
export const ADAPTIVE_CHECKPOINT_EVERY = 1_000;
/** Size of the perturbation of y0 whose growth measures the chaos. */
export const PERTURBATION = 1e-8;
/** Initial state `(q1, q2, p1, p2)`. */
export const CHAOTIC_Y0: readonly number[] = [1, 0, 0, 1];
/** Seed of {@link chaoticField}'s weights. */
export const CHAOTIC_SEED = 5;
/** Scale of {@link chaoticField}'s weights and biases, `U(−gain, gain)`. */
export const CHAOTIC_GAIN = 2;
/** Relative gradient error vs direct above which a gradient counts as wrong. */
export const GRADIENT_TOLERANCE = 1e-6;

/**
 * The chaotic field and its parameters: an autonomous `Mlp` 4 → 32 tanh → 4
 * (identity output) with the state `y = (q1, q2, p1, p2)`, whose weights make
 * it the Hamiltonian field `q' = ∂H/∂p`, `p' = −∂H/∂q` of
 *
 *     H(q, p) = Σ_{i<16} a_i log cosh(w_i·p + b_i) + Σ_{i≥16} c_i log cosh(u_i·q + d_i),
 *
 * i.e. hidden units 0–15 read only p, units 16–31 only q, and the output
 * weights are the input weights scaled by `a_i` (for q') or `−c_i` (for p').
 * Weights and biases are drawn from `U(−gain, gain)`, `a_i` from `U(0.5, 1.5)`
 * and `c_i` from `U(0, 1)`, with seed {@link CHAOTIC_SEED}. Since a, c > 0, H
 * grows like |q| + |p|: energy surfaces are bounded, so trajectories stay
 * bounded without damping; with seed 5 and gain 2 the motion from
 * {@link CHAOTIC_Y0} is chaotic (finite-time Lyapunov exponent ≈ 0.3, as
 * measured by the benchmark). Gradients are taken with respect to all 292
 * MLP parameters, as for any MLP field.
 *
 * @param seed Seed of the weights.
 * @param gain Scale of weights and biases.
 * @returns The field and its parameters.
 */
export function chaoticField(
  seed = CHAOTIC_SEED,
  gain = CHAOTIC_GAIN,
): { field: Mlp; params: Float64Array } {
  const hidden = 32, half = hidden / 2;
  const field = new Mlp({ dim: 4, widths: [hidden], activation: "tanh" });
  const [first, last] = field.layerShapes;
  const params = new Float64Array(field.paramCount);
  const rng = new Rng(seed);
  for (let i = 0; i < hidden; i++) {
    const kinetic = i < half; // reads p = y[2..3], drives q'
    const column = kinetic ? 2 : 0;
    for (let k = 0; k < 2; k++) {
      params[first.weightOffset + i * 4 + column + k] = rng.uniform(-gain, gain);
    }
    params[first.biasOffset + i] = rng.uniform(-gain, gain);
    const coefficient = kinetic ? rng.uniform(0.5, 1.5) : rng.uniform(0, 1);
    for (let k = 0; k < 2; k++) {
      const w = params[first.weightOffset + i * 4 + column + k];
      const output = kinetic ? k : 2 + k;
      params[last.weightOffset + output * hidden + i] = (kinetic ? 1 : -1) * coefficient * w;
    }
  }
  return { field, params };
}

/** One gradient method with its settings. */
export interface AdaptiveConfig {
  /** Label shown in the table. */
  readonly label: string;
  /** The gradient method. */
  readonly method: GradientMethodName;
  /** Coupling λ of the reversible scheme (default {@link ADAPTIVE_COUPLING}). */
  readonly coupling?: number;
  /** Reversible: store the state every this many steps (the row runs only when N > it). */
  readonly checkpointEvery?: number;
}

/** The configurations measured, in table order. Every method integrates reversible Bosh3. */
export const ADAPTIVE_CONFIGS: readonly AdaptiveConfig[] = [
  { label: "reversible", method: "reversible" },
  { label: "checkpointed", method: "checkpointed" },
  { label: "direct", method: "direct" },
  {
    label: `reversible K=${ADAPTIVE_CHECKPOINT_EVERY}`,
    method: "reversible",
    checkpointEvery: ADAPTIVE_CHECKPOINT_EVERY,
  },
  { label: `reversible λ=${CLOSER_COUPLING}`, method: "reversible", coupling: CLOSER_COUPLING },
  { label: `direct λ=${CLOSER_COUPLING}`, method: "direct", coupling: CLOSER_COUPLING },
];

/** What a run with the reconstruction check switched off found, for a row that threw. */
export interface Diagnostic {
  /** `stats.reconstructionError` of the unchecked run. */
  reconstructionError: number | null;
  /** Relative error of the gradient it returned against direct (same λ and span). */
  gradientError: number | null;
  /** `stats.peakBytes` (the memory does not depend on the check). */
  peakBytes: number;
}

/** One row: a configuration at one time span. */
export interface AdaptiveRow {
  /** Table label. */
  label: string;
  /** Gradient method. */
  method: GradientMethodName;
  /** Coupling λ of the reversible Bosh3 scheme. */
  coupling: number;
  /** Reconstruction checkpoint interval K (reversible with K only), else null. */
  checkpointEvery: number | null;
  /** States stored by the K row: `⌊(N − 1) / K⌋`; 0 for other reversible rows, null otherwise. */
  storedStates: number | null;
  /** Checkpoints (checkpointed only: `defaultCheckpoints(N)`), else null. */
  c: number | null;
  /** End of the time span [0, T]. */
  span: number;
  /** Accepted steps N. */
  accepted: number | null;
  /** Rejected steps. */
  rejected: number | null;
  /** The first sentence of the error `backward()` threw, or null when it returned a gradient. */
  failed: string | null;
  /** The whole error message of a failed row. */
  failedMessage: string | null;
  /** Median milliseconds per gradient (solve + cotangent + backward); null when failed. */
  ms: number | null;
  /** Fastest repetition. */
  msMin: number | null;
  /** Warm-up time; for a failed row, the time until `backward()` threw. */
  msWarmup: number | null;
  /** Timed repetitions (warm-up excluded). */
  repetitions: number;
  /** `ms / ms(direct)` at the same span and λ. */
  timeRatio: number | null;
  /** `stats.peakBytes`. */
  peakBytes: number | null;
  /** `peakBytes / N`. */
  bytesPerStep: number | null;
  /** `stats.evaluations / N` (forward, rejected tries, replay and backward). */
  evaluationsPerStep: number | null;
  /** `stats.vjps / N`. */
  vjpsPerStep: number | null;
  /** `stats.reconstructionError` (reversible). */
  reconstructionError: number | null;
  /** `max |∂L/∂θ − ∂L/∂θ(direct)| / max |∂L/∂θ(direct)|`, direct with the same λ and span. */
  gradientError: number | null;
  /** `max |∂L/∂θ|` (grows with the span: the chaos). */
  gradientMax: number | null;
  /** The loss. */
  loss: number | null;
  /** Whether the outputs and the gradient were finite. */
  finite: boolean | null;
  /** Failed reversible rows: the same solve with `reconstructionTolerance: Infinity`. */
  diagnostic: Diagnostic | null;
}

/** Growth of a small perturbation of y0 over one span. */
export interface ChaosRow {
  /** End of the span. */
  span: number;
  /** `max |y(T; y0 + δ e_1) − y(T; y0)| / δ`. */
  growth: number;
  /** `ln(growth) / T`. */
  lyapunov: number;
}

/** A check. */
export interface AdaptiveCheck {
  /** What is checked. */
  name: string;
  /** PASS, FAIL, or SKIP when the numbers it needs were not measured. */
  status: "PASS" | "FAIL" | "SKIP";
  /** The measured numbers. */
  detail: string;
}

/** Everything an adaptive run produced. */
export interface AdaptiveResult {
  /** Settings. */
  settings: {
    spans: number[];
    field: string;
    y0: number[];
    scheme: string;
    controller: string;
    saveAt: string;
    loss: string;
    timing: string;
    chaos: string;
  };
  /** Notes printed in the header. */
  notes: string[];
  /** Machine, when the caller supplied it. */
  machine: MachineInfo | null;
  /** Perturbation growth per span (empty when not measured). */
  chaos: ChaosRow[];
  /** One row per configuration and span. */
  rows: AdaptiveRow[];
  /** Checks. */
  checks: AdaptiveCheck[];
  /** What the numbers mean, in a sentence or two. */
  summary: string[];
  /** Bytes of one reversible Bosh3 state `[y, z]` of this field (one stored checkpoint). */
  stateBytes: number;
  /** Wall time of the section, seconds. */
  totalSeconds: number;
}

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

function fmtMs(ms: number): string {
  return ms >= 1000 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function fmtRatio(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function exp(x: number | null, digits = 1): string {
  return x === null ? "-" : x.toExponential(digits);
}

function defaultRepetitions(span: number): number {
  if (span <= 4) return 7;
  if (span <= 16) return 5;
  return 3;
}

function couplingOf(config: AdaptiveConfig): number {
  return config.coupling ?? ADAPTIVE_COUPLING;
}

function controller(): PidController {
  return pid({ rtol: ADAPTIVE_TOLERANCE, atol: ADAPTIVE_TOLERANCE, maxSteps: ADAPTIVE_MAX_STEPS });
}

function specOf(config: AdaptiveConfig, unchecked = false): GradientSpec {
  if (config.method !== "reversible") return config.method;
  return {
    method: "reversible",
    ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
    ...(unchecked ? { reconstructionTolerance: Infinity } : {}),
  };
}

interface Once {
  ms: number;
  sol: Solution;
  loss: number;
  grad: Gradient | null;
  error: Error | null;
}

/**
 * One gradient: adaptive solve saving t0 and every accepted step, the MSE
 * cotangent against a zero target, backward. An error thrown by `backward()`
 * is returned, not thrown; one thrown by the solve propagates.
 */
function gradientOnce(
  field: Mlp,
  params: Float64Array,
  y0: Float64Array,
  span: number,
  scheme: SchemeSpec,
  spec: GradientSpec,
): Once {
  const start = performance.now();
  const sol = solve({
    field,
    y0,
    params,
    scheme,
    t0: 0,
    t1: span,
    controller: controller(),
    saveAt: { t0: true, steps: true },
    gradient: spec,
  });
  // L = mean(ys²) (MSE against a zero target over every saved point), ∂L/∂ys = 2 ys / size.
  const ys = sol.ys, size = ys.length;
  const cotangent = new Float64Array(size);
  let loss = 0;
  for (let i = 0; i < size; i++) {
    loss += ys[i] * ys[i];
    cotangent[i] = (2 * ys[i]) / size;
  }
  loss /= size;
  let grad: Gradient | null = null, error: Error | null = null;
  try {
    grad = sol.backward(cotangent);
  } catch (e) {
    error = e instanceof Error ? e : new Error(String(e));
  }
  return { ms: performance.now() - start, sol, loss, grad, error };
}

/**
 * Growth of a perturbation `δ e_1` of y0 at time T, integrated with plain
 * Dopri5 at rtol = atol = 1e-12 (far below δ = 1e-8, so the growth is the
 * field's, not the solver's).
 */
function perturbationGrowth(field: Mlp, params: Float64Array, y0: Float64Array, span: number) {
  const c = pid({ rtol: 1e-12, atol: 1e-12, maxSteps: 10 * ADAPTIVE_MAX_STEPS });
  const base = solve({ field, y0, params, scheme: plain(dopri5), t1: span, controller: c });
  const moved = y0.slice();
  moved[0] += PERTURBATION;
  const other = solve({ field, y0: moved, params, scheme: plain(dopri5), t1: span, controller: c });
  let d = 0;
  for (let i = 0; i < y0.length; i++) d = Math.max(d, Math.abs(base.ys[i] - other.ys[i]));
  const growth = d / PERTURBATION;
  return { span, growth, lyapunov: Math.log(growth) / span };
}

/** Bytes of one state of reversible Bosh3 for this field and one trajectory. */
function reversibleStateBytes(field: Mlp): number {
  const { scheme } = buildScheme(reversible(bosh3), field, 1, new MemoryMeter());
  return scheme.stateCount * field.dim * 8;
}

/**
 * Runs the adaptive benchmark in-process.
 *
 * @param options Spans, repetitions, configurations, progress output.
 * @returns Rows, checks and the summary.
 */
export function runAdaptiveBenchmark(options: AdaptiveOptions = {}): AdaptiveResult {
  const started = performance.now();
  const spans = [
    ...(options.spans ?? (options.quick ? QUICK_ADAPTIVE_SPANS : ADAPTIVE_SPANS)),
  ].sort((a, b) => a - b);
  const maxReps = options.repetitions ?? defaultRepetitions;
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
    const active: {
      row: AdaptiveRow;
      scheme: SchemeSpec;
      spec: GradientSpec;
      grad: Float64Array;
      samples: number[];
      reps: number;
    }[] = [];
    const diagnosed: { row: AdaptiveRow; grad: Float64Array }[] = [];
    const directGrad = new Map<number, Float64Array>();
    const directMs = new Map<number, number>();

    for (const config of configs) {
      const coupling = couplingOf(config);
      const scheme = reversible(bosh3, { coupling });
      const spec = specOf(config);
      const k = config.checkpointEvery ?? null;
      // The accepted steps depend only on λ and T: skip a K row with N ≤ K without running it.
      const known = rows.find((r) => r.span === span && r.coupling === coupling);
      if (k !== null && known !== undefined && known.accepted! <= k) {
        log(`  T=${span} ${config.label}: not run (N = ${known.accepted} ≤ K = ${k})`);
        continue;
      }
      const warm = gradientOnce(field, params, y0, span, scheme, spec);
      const trajectory = warm.sol.trajectories![0];
      const n = trajectory.accepted;
      if (k !== null && n <= k) {
        log(`  T=${span} ${config.label}: not run (N = ${n} ≤ K = ${k})`);
        continue;
      }
      const row: AdaptiveRow = {
        label: config.label,
        method: config.method,
        coupling,
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
      rows.push(row);
      if (warm.grad === null) {
        const message = warm.error!.message;
        row.failed = firstSentence(message);
        row.failedMessage = message;
        log(`  T=${span} ${config.label}: FAILED after ${warm.ms.toFixed(1)} ms: ${row.failed}`);
        if (config.method === "reversible") {
          const unchecked = gradientOnce(field, params, y0, span, scheme, specOf(config, true));
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
      const stats = warm.grad.stats;
      row.peakBytes = stats.peakBytes;
      row.bytesPerStep = stats.peakBytes / n;
      row.evaluationsPerStep = stats.evaluations / n;
      row.vjpsPerStep = stats.vjps / n;
      row.reconstructionError = stats.reconstructionError ?? null;
      row.gradientMax = warm.grad.params.reduce((a, g) => Math.max(a, Math.abs(g)), 0);
      row.finite = allFinite(warm.sol.ys) && allFinite(warm.grad.params) &&
        allFinite(warm.grad.y0) && Number.isFinite(warm.loss);
      if (config.method === "direct") directGrad.set(coupling, warm.grad.params);
      const reps = Math.max(1, maxReps(span));
      active.push({ row, scheme, spec, grad: warm.grad.params, samples: [], reps });
      log(
        `  T=${span} ${config.label}: N = ${n}, warm-up ${
          warm.ms.toFixed(1)
        } ms, ${reps} repetitions`,
      );
    }

    // Timed repetitions, round robin over the configurations.
    const rounds = Math.max(0, ...active.map((a) => a.reps));
    for (let r = 0; r < rounds; r++) {
      for (const a of active) {
        if (r < a.reps) a.samples.push(gradientOnce(field, params, y0, span, a.scheme, a.spec).ms);
      }
    }
    for (const a of active) {
      a.row.ms = median(a.samples);
      a.row.msMin = Math.min(...a.samples);
      a.row.repetitions = a.samples.length;
      if (a.row.method === "direct") directMs.set(a.row.coupling, a.row.ms);
    }
    for (const a of active) {
      const reference = directGrad.get(a.row.coupling);
      if (reference !== undefined) a.row.gradientError = relativeError(a.grad, reference);
      const ms = directMs.get(a.row.coupling);
      if (ms !== undefined) a.row.timeRatio = a.row.ms! / ms;
    }
    for (const d of diagnosed) {
      const reference = directGrad.get(d.row.coupling);
      if (reference !== undefined) {
        d.row.diagnostic!.gradientError = relativeError(d.grad, reference);
      }
    }
  }

  const checks = computeAdaptiveChecks(rows, spans, stateBytes);
  return {
    settings: {
      spans,
      field: "Mlp { dim: 4, widths: [32], activation: tanh } (autonomous), weights tied to a " +
        `Hamiltonian H(q, p) (chaoticField(seed ${CHAOTIC_SEED}, gain ${CHAOTIC_GAIN}))`,
      y0: [...CHAOTIC_Y0],
      scheme: `reversible(bosh3, { coupling: ${ADAPTIVE_COUPLING} }) for every method ` +
        `(λ = ${CLOSER_COUPLING} on the λ rows)`,
      controller:
        `pid({ rtol: ${ADAPTIVE_TOLERANCE.toExponential(0)}, atol: ${
          ADAPTIVE_TOLERANCE.toExponential(0)
        }, maxSteps: ` +
        `${ADAPTIVE_MAX_STEPS} }) (Diffrax defaults otherwise)`,
      saveAt: "{ t0: true, steps: true } (every accepted step)",
      loss: "MSE against a zero target over every saved point",
      timing: "solve() + loss cotangent + sol.backward(); one warm-up per configuration and " +
        "span, then the median of the repetitions, round robin over the configurations",
      chaos: `growth of a ${PERTURBATION} perturbation of y0[0], plain(dopri5) at ` +
        "rtol = atol = 1e-12",
    },
    notes: [
      "The reversible method holds only the N accepted step times (8 bytes each) beyond its " +
      "constant state (states, stage buffers, cotangents); checked exactly below from " +
      "stats.peakBytes (the library's MemoryMeter). Every method holds the step times; " +
      "checkpointed adds c stored states, direct every state and stage.",
      `"reversible K=${ADAPTIVE_CHECKPOINT_EVERY}" stores the state every ` +
      `${ADAPTIVE_CHECKPOINT_EVERY} accepted steps (runs only when N > K); the λ=${CLOSER_COUPLING} ` +
      "rows take their own accepted steps (the coupling changes the solution slightly), so " +
      `they are compared with direct at λ = ${CLOSER_COUPLING}.`,
      "grad err = max|∂L/∂θ − ∂L/∂θ(direct)| / max|∂L/∂θ(direct)|, direct with the same λ " +
      "and span (the exact gradient of the same accepted-step sequence). max|∂L/∂θ| grows " +
      "with the span: that is the chaos.",
      "A configuration whose backward() throws is a failed row (its reason below); for a " +
      "failed reversible row, † marks values from the same solve rerun with " +
      "reconstructionTolerance: Infinity, to show what the refused gradient would have been.",
    ],
    machine: options.machine ?? null,
    chaos,
    rows,
    checks,
    summary: adaptiveSummary(rows, chaos, stateBytes),
    stateBytes,
    totalSeconds: (performance.now() - started) / 1000,
  };
}

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
 */
export function computeAdaptiveChecks(
  rows: AdaptiveRow[],
  spans: readonly number[],
  stateBytes: number,
): AdaptiveCheck[] {
  const checks: AdaptiveCheck[] = [];
  const lo = spans[0];
  const base = rows.find((r) => r.span === lo && r.label === "reversible" && r.peakBytes !== null);
  const accounting = (family: AdaptiveRow[], name: string) => {
    if (base === undefined || family.length === 0) {
      checks.push({
        name,
        status: "SKIP",
        detail: base === undefined
          ? `the reversible row at T=${lo} was not measured`
          : "no rows to check",
      });
      return;
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
    checks.push({ name, status: exact ? "PASS" : "FAIL", detail: parts.join("; ") });
  };
  accounting(
    rows.filter((r) => r.label === "reversible" && r.span !== lo),
    `reversible held bytes − bytes at the smallest span (T=${lo}) == 8·(N − N_T=${lo}) ` +
      "at every span (only the accepted step times grow)",
  );
  accounting(
    rows.filter((r) => r.method === "reversible" && r.label !== "reversible"),
    `other reversible rows: held bytes − bytes(reversible, T=${lo}) == 8·(N − N_T=${lo}) + ` +
      `${stateBytes}·(stored states ⌊(N − 1)/K⌋) (λ does not change what is held)`,
  );

  for (const r of rows) {
    if (r.method === "direct") continue;
    const name = `T=${r.span}: ${r.label}${r.c !== null ? ` c=${r.c}` : ""} gradient equals ` +
      `direct's (λ = ${r.coupling}, rel. error ≤ ${GRADIENT_TOLERANCE.toExponential(0)})`;
    if (r.failed !== null) {
      const d = r.diagnostic;
      checks.push({
        name,
        status: "FAIL",
        detail: `backward() threw: ${r.failed}` +
          (d !== null
            ? ` (unchecked rerun: reconstruction error ${exp(d.reconstructionError)}, ` +
              `gradient error ${exp(d.gradientError)})`
            : ""),
      });
    } else if (r.gradientError === null) {
      checks.push({ name, status: "SKIP", detail: "no direct gradient with the same λ" });
    } else {
      checks.push({
        name,
        status: r.gradientError <= GRADIENT_TOLERANCE ? "PASS" : "FAIL",
        detail: `rel. error ${exp(r.gradientError, 2)}` +
          (r.reconstructionError !== null
            ? `, reconstruction error ${exp(r.reconstructionError, 2)}`
            : ""),
      });
    }
  }
  for (const r of rows) {
    if (r.finite === false) {
      checks.push({
        name: `T=${r.span}: ${r.label} outputs and gradient finite`,
        status: "FAIL",
        detail: "non-finite values",
      });
    }
  }
  return checks;
}

function adaptiveSummary(rows: AdaptiveRow[], chaos: ChaosRow[], stateBytes: number): string[] {
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
        `drifted${f.diagnostic ? ` by ${exp(f.diagnostic.reconstructionError)}` : ""} and ` +
        "backward() refused: round-off in the inverse steps is amplified by λ^(−N) and by the " +
        "chaos itself" +
        (growth
          ? ` (a ${PERTURBATION} perturbation grows ×${growth.growth.toExponential(1)})`
          : "") +
        (closer !== undefined
          ? `, so λ = ${closer.coupling} ${
            closer.failed === null
              ? `fixes it (reconstruction error ${exp(closer.reconstructionError)})`
              : `only reduces it (${exp(closer.diagnostic?.reconstructionError ?? null)})`
          }`
          : "") +
        (withK !== undefined
          ? withK.failed === null
            ? `, while storing a state every K = ${withK.checkpointEvery} steps keeps the ` +
              `gradient exact (rel. error ${exp(withK.gradientError)}) for ${stateBytes} bytes ` +
              `per stored state (${withK.storedStates} here)`
            : `; K = ${withK.checkpointEvery} also failed`
          : "") +
        ".",
    );
  }
  return out;
}

/**
 * The human-readable report of the adaptive section.
 *
 * @param result An adaptive result.
 * @returns The text.
 */
export function formatAdaptiveReport(result: AdaptiveResult): string {
  const s = result.settings;
  const lines: string[] = [];
  lines.push("revode gradient benchmark — adaptive steps, chaotic Hamiltonian MLP field");
  lines.push(`  field:      ${s.field}`);
  lines.push(`  y0:         [${s.y0}] = (q1, q2, p1, p2), t ∈ [0, T], T ∈ {${s.spans.join(", ")}}`);
  lines.push(`  scheme:     ${s.scheme}`);
  lines.push(`  controller: ${s.controller}`);
  lines.push(`  saveAt:     ${s.saveAt}; loss: ${s.loss}`);
  lines.push(`  timing:     ${s.timing}`);
  for (const note of result.notes) lines.push(`  note:       ${note}`);
  if (result.chaos.length > 0) {
    lines.push(
      `  chaos:      ${s.chaos}: ` +
        result.chaos.map((c) =>
          `T=${c.span} ×${c.growth.toExponential(1)} (ln/T = ${c.lyapunov.toFixed(2)})`
        ).join(", "),
    );
  }
  lines.push("");
  const table: string[][] = [[
    "method",
    "T",
    "accepted",
    "rejected",
    "c/K",
    "ms/grad",
    "reps",
    "time×direct",
    "peak bytes",
    "bytes/step",
    "evals/step",
    "VJPs/step",
    "recon err",
    "grad err",
    "max|∂L/∂θ|",
  ]];
  for (const r of result.rows) {
    const d = r.diagnostic;
    const bytes = r.peakBytes ?? d?.peakBytes ?? null;
    const dag = r.failed !== null ? "†" : "";
    table.push([
      r.label,
      String(r.span),
      String(r.accepted),
      String(r.rejected),
      r.c !== null ? `c=${r.c}` : r.checkpointEvery !== null ? `K=${r.checkpointEvery}` : "-",
      r.failed !== null ? "FAILED" : fmtMs(r.ms!),
      String(r.repetitions),
      r.timeRatio === null ? "-" : fmtRatio(r.timeRatio),
      bytes === null ? "-" : group(bytes) + dag,
      bytes === null ? "-" : (bytes / r.accepted!).toFixed(1) + dag,
      r.evaluationsPerStep === null ? "-" : r.evaluationsPerStep.toFixed(2),
      r.vjpsPerStep === null ? "-" : r.vjpsPerStep.toFixed(2),
      r.failed !== null ? exp(d?.reconstructionError ?? null) + dag : exp(r.reconstructionError),
      r.failed !== null ? exp(d?.gradientError ?? null) + dag : exp(r.gradientError),
      r.gradientMax === null ? "-" : exp(r.gradientMax),
    ]);
  }
  lines.push(...renderTable(table));
  const failed = result.rows.filter((r) => r.failed !== null);
  if (failed.length > 0) {
    lines.push("");
    for (const r of failed) {
      lines.push(
        `failed: ${r.label} T=${r.span} (N = ${r.accepted}, threw after ${
          fmtMs(r.msWarmup!)
        } ms): ${r.failed}`,
      );
    }
    lines.push(
      "† from the same solve rerun with reconstructionTolerance: Infinity (the gradient the " +
        "check refused; its error against direct is the grad err shown).",
    );
  }
  lines.push("");
  lines.push("Checks:");
  for (const c of result.checks) lines.push(`${c.status} ${c.name} — ${c.detail}`);
  if (result.summary.length > 0) {
    lines.push("");
    lines.push(`Summary: ${result.summary.join(" ")}`);
  }
  lines.push("");
  lines.push(`adaptive section ${result.totalSeconds.toFixed(1)} s`);
  return lines.join("\n");
}
