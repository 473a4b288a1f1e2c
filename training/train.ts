/**
 * The training loop of a neural ODE: an {@link Mlp} vector field, solved over
 * the data grid with a chosen scheme, fitted by the mean squared error over
 * every saved step, with gradients from the chosen gradient method and AdamW
 * steps (numerics.md §5).
 *
 * Deterministic on the CPU: the same configuration, data and seed give
 * bit-identical losses, and a run resumed from its saved state continues
 * exactly as an uninterrupted one would. A non-finite loss or gradient stops
 * the run with a readable reason, keeps the last good parameters and suggests
 * remedies.
 *
 * @example Ten iterations on the white-dwarf data (on a coarse grid)
 * ```ts
 * import { train, defaultConfig } from "./train.ts";
 * import { whiteDwarfData } from "./datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 101 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 100,
 * });
 * const result = await train({ config, data, iterations: 10 });
 * assert.equal(result.status, "completed");
 * assert.ok(result.history[9].loss < result.history[0].loss);
 * ```
 *
 * @module
 */

import { Mlp, type MlpConfig } from "./mlp.ts";
import { mseLossVjp } from "./loss.ts";
import {
  AdamW,
  type AdamWState,
  clipGradNorm,
  constantSchedule,
  cosineSchedule,
  type Schedule,
} from "./adamw.ts";
import { Rng } from "./random.ts";
import { solve, type SolveOptions } from "../solvers/solve.ts";
import type { GradientMethodName, GradientSpec } from "../solvers/solve.ts";
import { pid } from "../solvers/controller.ts";
import { failureMessage } from "../solvers/adaptive.ts";
import { leapfrog, plain, reversible, reversibleHeun } from "../solvers/schemes/spec.ts";
import type { SchemeSpec } from "../solvers/schemes/spec.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { invalidArgument, requireInteger } from "../solvers/errors.ts";

/**
 * A trajectory sampled on a time grid: the shape of every dataset
 * (`Trajectory` of schmidt_lipson.ts, `WhiteDwarfTrajectory`).
 *
 * @example
 * ```ts
 * import type { SeriesData } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const data: SeriesData = {
 *   ts: Float64Array.of(0, 1), ys: Float64Array.of(1, 0.5), dim: 1, source: "by hand",
 * };
 * assert.equal(data.ys.length, data.ts.length * data.dim);
 * ```
 */
export interface SeriesData {
  /** Sample times, strictly increasing and uniformly spaced. */
  readonly ts: Float64Array;
  /** States `[points, dim]` row-major. */
  readonly ys: Float64Array;
  /** State dimension. */
  readonly dim: number;
  /** Where the data came from. */
  readonly source: string;
}

/**
 * Names of the solvers: every shipped tableau (run by the reversible or the
 * plain scheme), plus the two schemes that are not built on a tableau.
 */
export type SolverName =
  | "euler"
  | "midpoint"
  | "heun"
  | "ralston"
  | "ralston3"
  | "kutta3"
  | "rk4"
  | "rk38"
  | "bosh3"
  | "dopri5"
  | "tsit5"
  | "reversible-heun"
  | "leapfrog";

/**
 * Every {@link SolverName}: the tableau names of solvers/tableaux.ts, then
 * `reversible-heun` and `leapfrog`.
 *
 * @example
 * ```ts
 * import { SOLVER_NAMES } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert.ok(SOLVER_NAMES.includes("rk4") && SOLVER_NAMES.includes("leapfrog"));
 * ```
 */
export const SOLVER_NAMES: readonly SolverName[] = Object.freeze([
  ...(Object.keys(tableaux) as SolverName[]),
  "reversible-heun",
  "leapfrog",
]);

/**
 * Names of the gradient methods.
 *
 * @example
 * ```ts
 * import { GRADIENT_NAMES } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GRADIENT_NAMES[0], "reversible");
 * ```
 */
export const GRADIENT_NAMES: readonly GradientMethodName[] = Object.freeze([
  "reversible",
  "direct",
  "checkpointed",
  "backsolve",
]);

/** A learning-rate schedule, as data. */
export type ScheduleConfig =
  | { kind: "constant" }
  | {
    kind: "cosine";
    /** Iterations from the peak to `minLr`. */
    iterations: number;
    /** Linear warm-up iterations (default 0). */
    warmup?: number;
    /** Final learning rate (default 0). */
    minLr?: number;
  };

/** Adaptive step sizes: the PID controller's tolerances and step budget. */
export interface AdaptiveConfig {
  /** Relative tolerance. */
  rtol: number;
  /** Absolute tolerance. */
  atol: number;
  /** Most steps per solve, accepted and rejected together. */
  maxSteps: number;
}

/** Everything that determines a training run; plain JSON, stored in model files. */
export interface TrainConfig {
  /** The vector field's architecture. */
  mlp: MlpConfig;
  /** The base solver. */
  solver: SolverName;
  /**
   * For tableau solvers: the reversible scheme of McCallum & Foster, or the
   * plain Runge–Kutta scheme (which the reversible gradient cannot use).
   * `reversible-heun` and `leapfrog` are their own schemes and take `"reversible"`.
   */
  scheme: "reversible" | "plain";
  /** Coupling λ ∈ (0, 1] of the reversible scheme. */
  coupling: number;
  /** The gradient method. */
  gradient: GradientMethodName;
  /** Checkpoints of the `checkpointed` method; null for the default `≈ √(2N)`. */
  checkpoints: number | null;
  /**
   * Solver steps over the data window, when `adaptive` is null. Either a
   * multiple of the number of data intervals (several steps per interval) or
   * a divisor of it (a subsampled data grid).
   */
  steps: number;
  /**
   * Adaptive steps instead of `steps`: the solver picks its own steps (the
   * base method needs an embedded error estimate: bosh3, dopri5, tsit5,
   * heun, reversible-heun, leapfrog) and its outputs are interpolated onto
   * the data times. Null for fixed steps.
   */
  adaptive: AdaptiveConfig | null;
  /** Base learning rate of AdamW. */
  lr: number;
  /** AdamW's decoupled weight decay. */
  weightDecay: number;
  /** Learning-rate schedule; the rate it gives is multiplied into nothing else. */
  schedule: ScheduleConfig;
  /** Largest gradient norm (clipping), or null for no clipping. */
  clip: number | null;
  /** Trajectories per iteration when the data hold several. */
  batch: number;
  /** Seed of the initial parameters and of minibatch shuffles. */
  seed: number;
}

/**
 * A training configuration with the paper's defaults (RK4, reversible
 * scheme and gradient, λ = 0.999, AdamW lr 1e-2 and weight decay 1e-5,
 * constant rate, no clipping, seed 0), overridden by `overrides`.
 *
 * @param overrides At least `mlp` and `steps`.
 * @returns The configuration.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const c = defaultConfig({
 *   mlp: { dim: 4, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 499,
 *   solver: "bosh3",
 * });
 * assert.equal(c.gradient, "reversible");
 * assert.equal(c.coupling, 0.999);
 * ```
 */
export function defaultConfig(
  overrides: Partial<TrainConfig> & Pick<TrainConfig, "mlp" | "steps">,
): TrainConfig {
  return {
    solver: "rk4",
    scheme: "reversible",
    coupling: 0.999,
    gradient: "reversible",
    checkpoints: null,
    adaptive: null,
    lr: 1e-2,
    weightDecay: 1e-5,
    schedule: { kind: "constant" },
    clip: null,
    batch: 1,
    seed: 0,
    ...overrides,
  };
}

/**
 * The scheme a configuration asks for, checked: the reversible gradient
 * needs a reversible scheme.
 *
 * @param config The configuration.
 * @returns The scheme choice for `solve()`.
 *
 * @example
 * ```ts
 * import { defaultConfig, schemeOf } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } as const;
 * assert.equal(schemeOf(defaultConfig({ mlp: { ...mlp, widths: [] }, steps: 1 })).kind, "reversible");
 * assert.throws(
 *   () => schemeOf(defaultConfig({ mlp: { ...mlp, widths: [] }, steps: 1, scheme: "plain" })),
 *   /reversible gradient needs a reversible scheme/,
 * );
 * ```
 */
export function schemeOf(config: TrainConfig): SchemeSpec {
  const { solver } = config;
  if (!SOLVER_NAMES.includes(solver)) {
    invalidArgument("solver", solver, `one of ${SOLVER_NAMES.join(", ")}`);
  }
  if (config.scheme !== "reversible" && config.scheme !== "plain") {
    invalidArgument("scheme", config.scheme, '"reversible" or "plain"');
  }
  if (config.adaptive && solver in tableaux && tableaux[solver].bError === undefined) {
    const embedded = SOLVER_NAMES.filter((n) =>
      !(n in tableaux) || tableaux[n].bError !== undefined
    );
    invalidArgument(
      "solver",
      solver,
      `a solver with an embedded error estimate for adaptive steps (${embedded.join(", ")}), ` +
        `or fixed steps`,
    );
  }
  if (solver === "reversible-heun" || solver === "leapfrog") {
    if (config.scheme !== "reversible") {
      invalidArgument(
        "scheme",
        config.scheme,
        `"reversible": ${solver} is a reversible scheme of its own, with no plain form`,
      );
    }
    return solver === "leapfrog" ? leapfrog() : reversibleHeun();
  }
  if (config.scheme === "plain") {
    if (config.gradient === "reversible") {
      throw new RangeError(
        'The reversible gradient needs a reversible scheme: use scheme "reversible", or a ' +
          'gradient method that stores or recomputes states ("direct", "checkpointed") or ' +
          'solves the adjoint backwards ("backsolve").',
      );
    }
    return plain(tableaux[solver]);
  }
  return reversible(tableaux[solver], { coupling: config.coupling });
}

/** The resumable state of a run: what a model file stores. */
export interface TrainState {
  /** Iterations done (= AdamW steps taken). */
  iteration: number;
  /** Current parameters θ. */
  params: Float64Array;
  /** The optimizer's state. */
  optimizer: AdamWState;
  /** Lowest loss so far, or null before the first iteration. */
  bestLoss: number | null;
  /** 1-based iteration of the lowest loss (0 before the first). */
  bestIteration: number;
  /** The parameters that gave the lowest loss (the initial ones before the first iteration). */
  bestParams: Float64Array;
  /** Loss of every iteration so far (`losses[i]` is iteration `i + 1`'s). */
  losses: number[];
  /** Training seconds elapsed at the end of every iteration, across resumes. */
  seconds: number[];
}

/**
 * The state of a run that has not started: parameters initialised from
 * `config.seed` and a fresh optimizer.
 *
 * @param config The configuration.
 * @returns The state before iteration 1.
 *
 * @example
 * ```ts
 * import { defaultConfig, initialState } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 1000,
 * });
 * const state = initialState(config);
 * assert.equal(state.params.length, 62); // 3·10 + 10 + 10·2 + 2
 * assert.deepEqual(state.params, initialState(config).params); // seeded
 * assert.equal(state.bestLoss, null);
 * ```
 */
export function initialState(config: TrainConfig): TrainState {
  const mlp = Mlp.fromJSON(config.mlp);
  const params = mlp.init(requireSafeInteger("seed", config.seed));
  const optimizer = new AdamW(mlp.paramCount, { lr: config.lr, weightDecay: config.weightDecay });
  return {
    iteration: 0,
    params,
    optimizer: optimizer.state(),
    bestLoss: null,
    bestIteration: 0,
    bestParams: params.slice(),
    losses: [],
    seconds: [],
  };
}

/** What {@link train} reports after every iteration. */
export interface Progress {
  /** Iterations done, across resumes. */
  iteration: number;
  /** Iteration count this run stops at (across resumes). */
  total: number;
  /** This iteration's loss. */
  loss: number;
  /** Lowest loss so far. */
  bestLoss: number;
  /** Seconds of training in this run. */
  seconds: number;
  /** Iterations per second in this run. */
  iterationsPerSecond: number;
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** The configuration. */
  config: TrainConfig;
  /** One trajectory, or several sharing their time grid (minibatches of `config.batch`). */
  data: SeriesData | readonly SeriesData[];
  /** Iterations to run now (on top of `resume.iteration`). */
  iterations: number;
  /** A state to continue from (from {@link train} or a model file); default a fresh start. */
  resume?: TrainState;
  /** Called after every iteration. */
  onProgress?: (progress: Progress) => void;
  /** Checked between iterations; returning true ends the run as "interrupted". */
  shouldStop?: () => boolean;
  /**
   * Milliseconds of computing between two yields to the event loop (so that
   * signal handlers and timers run); default 50. Does not change results.
   */
  yieldMs?: number;
}

/** One row of the loss history. */
export interface HistoryEntry {
  /** 1-based iteration. */
  iteration: number;
  /** Its loss. */
  loss: number;
  /** Lowest loss up to it. */
  bestLoss: number;
  /** Training seconds at its end, across resumes. */
  seconds: number;
}

/** Work and memory of the gradient method, as measured by `solve()`. */
export interface GradientRecord {
  /** The method. */
  method: GradientMethodName;
  /** Largest bytes held by the method in any iteration (the saved outputs not counted). */
  peakBytes: number;
  /** Solver steps per iteration (a mean over the iterations when adaptive). */
  stepsPerIteration: number;
  /** Vector-field evaluations per iteration, forward and backward (a mean when adaptive). */
  evaluationsPerIteration: number;
  /** Vector-field VJPs per iteration (a mean when adaptive). */
  vjpsPerIteration: number;
  /** Largest relative error of the rebuilt `y0` (reversible methods), or null. */
  maxReconstructionError: number | null;
}

/** How a run ended. */
export type TrainStatus = "completed" | "diverged" | "interrupted";

/** What {@link train} returns. */
export interface TrainResult {
  /** How the run ended. */
  status: TrainStatus;
  /** Why it stopped early, as a sentence; null when completed. */
  reason: string | null;
  /** For a diverged run: what to try. */
  remedies: string[];
  /**
   * The state to save or resume from. After a divergence it is the last good
   * one: the parameters of the last iteration whose loss and gradient were
   * finite, before that iteration's update.
   */
  state: TrainState;
  /** Every iteration's loss so far, across resumes. */
  history: HistoryEntry[];
  /** Gradient work and memory (null when no iteration ran). */
  gradient: GradientRecord | null;
  /** Iterations run by this call. */
  iterationsRun: number;
  /** Wall seconds of this call's iterations. */
  seconds: number;
}

/** How the saved outputs of a solve line up with the data grid. */
export interface Alignment {
  /** Solver steps. */
  steps: number;
  /** Solver steps per data interval (≥ 1), or 1 when the data are subsampled. */
  stepsPerPoint: number;
  /** Data points per saved point used (≥ 1), or 1 when several steps per interval. */
  pointStride: number;
  /** Data rows compared with the model, after row 0 (the initial state). */
  targets: number;
}

/**
 * Lines the solver's steps up with a uniform data grid of `points` points:
 * `steps` must be a multiple of the `points − 1` intervals or divide it.
 *
 * @param points Data points, row 0 the initial state.
 * @param steps Solver steps over the same window.
 * @returns The alignment.
 *
 * @example
 * ```ts
 * import { alignSteps } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(alignSteps(500, 998), { steps: 998, stepsPerPoint: 2, pointStride: 1, targets: 499 });
 * assert.equal(alignSteps(1001, 250).pointStride, 4);
 * assert.throws(() => alignSteps(500, 600), /multiple of 499 .* or a divisor of it/);
 * ```
 */
export function alignSteps(points: number, steps: number): Alignment {
  requireInteger("points", points, 2);
  requireInteger("steps", steps, 1);
  const intervals = points - 1;
  if (steps % intervals === 0) {
    return { steps, stepsPerPoint: steps / intervals, pointStride: 1, targets: intervals };
  }
  if (intervals % steps === 0) {
    return { steps, stepsPerPoint: 1, pointStride: intervals / steps, targets: steps };
  }
  const divisors: number[] = [];
  for (let d = 1; d <= intervals && divisors.length < 8; d++) {
    if (intervals % d === 0) divisors.push(d);
  }
  invalidArgument(
    "steps",
    steps,
    `a multiple of ${intervals} (the data's intervals: ${intervals}, ${2 * intervals}, ` +
      `${3 * intervals}, …) or a divisor of it (${divisors.join(", ")}, …)`,
  );
}

/** The data as one list, checked to share a uniform grid. */
function _checkData(data: SeriesData | readonly SeriesData[], dim: number): SeriesData[] {
  const list = (Array.isArray(data) ? data : [data]) as SeriesData[];
  if (list.length === 0) invalidArgument("data", data, "at least one trajectory");
  const ts = list[0].ts;
  if (!(ts instanceof Float64Array) || ts.length < 2) {
    invalidArgument("data.ts", ts, "a Float64Array of at least 2 times");
  }
  const span = ts[ts.length - 1] - ts[0];
  for (let i = 1; i < ts.length; i++) {
    const expected = ts[0] + (span * i) / (ts.length - 1);
    if (!(ts[i] > ts[i - 1]) || Math.abs(ts[i] - expected) > 1e-9 * Math.max(1, Math.abs(span))) {
      invalidArgument(`data.ts[${i}]`, ts[i], "uniformly spaced, increasing times");
    }
  }
  list.forEach((d, k) => {
    if (d.dim !== dim) {
      invalidArgument(`data[${k}].dim`, d.dim, `${dim}, the model's state dimension`);
    }
    if (!(d.ys instanceof Float64Array) || d.ys.length !== ts.length * dim) {
      invalidArgument(`data[${k}].ys`, d.ys, `a Float64Array [${ts.length}, ${dim}]`);
    }
    if (d.ts.length !== ts.length || d.ts.some((t, i) => t !== ts[i])) {
      invalidArgument(`data[${k}].ts`, d.ts, "the same times as data[0]");
    }
    for (let i = 0; i < d.ys.length; i++) {
      if (!Number.isFinite(d.ys[i])) {
        invalidArgument(`data[${k}].ys[${i}]`, d.ys[i], "finite numbers only");
      }
    }
  });
  return list;
}

function requireSafeInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    invalidArgument(name, value, "a safe integer");
  }
  return value;
}

function _checkConfig(config: TrainConfig): void {
  if (!(config.lr > 0 && config.lr < Infinity)) {
    invalidArgument("lr", config.lr, "a finite number > 0");
  }
  if (!(config.weightDecay >= 0 && config.weightDecay < Infinity)) {
    invalidArgument("weightDecay", config.weightDecay, "a finite number >= 0");
  }
  if (config.clip !== null && !(config.clip > 0 && config.clip < Infinity)) {
    invalidArgument("clip", config.clip, "null or a finite number > 0");
  }
  if (config.checkpoints !== null) requireInteger("checkpoints", config.checkpoints, 1);
  const a = config.adaptive;
  if (a !== null) {
    if (a === undefined || typeof a !== "object") {
      invalidArgument("adaptive", a, "null or { rtol, atol, maxSteps }");
    }
    if (!(a.rtol > 0 && a.rtol < Infinity)) {
      invalidArgument("adaptive.rtol", a.rtol, "a number > 0");
    }
    if (!(a.atol > 0 && a.atol < Infinity)) {
      invalidArgument("adaptive.atol", a.atol, "a number > 0");
    }
    requireInteger("adaptive.maxSteps", a.maxSteps, 1);
  }
  if (!GRADIENT_NAMES.includes(config.gradient)) {
    invalidArgument("gradient", config.gradient, `one of ${GRADIENT_NAMES.join(", ")}`);
  }
  requireInteger("batch", config.batch, 1);
  requireSafeInteger("seed", config.seed);
}

function _schedule(config: TrainConfig): Schedule {
  const s = config.schedule;
  if (s === null || typeof s !== "object") {
    invalidArgument("schedule", s, '{ kind: "constant" } or { kind: "cosine", iterations }');
  }
  if (s.kind === "constant") return constantSchedule(config.lr);
  if (s.kind === "cosine") {
    return cosineSchedule({
      lr: config.lr,
      iterations: s.iterations,
      warmup: s.warmup,
      minLr: s.minLr,
    });
  }
  return invalidArgument("schedule.kind", (s as { kind: unknown }).kind, '"constant" or "cosine"');
}

function _gradientSpec(config: TrainConfig): GradientSpec {
  if (config.gradient === "checkpointed" && config.checkpoints !== null) {
    return { method: "checkpointed", checkpoints: config.checkpoints };
  }
  return config.gradient;
}

/**
 * The trajectory indices of iteration `iteration` (0-based): all of them
 * when `batch ≥ count`, else the next `batch` of a per-epoch shuffle seeded
 * by `(seed, epoch)` — a pure function of the iteration, so a resumed run
 * draws the same minibatches as an uninterrupted one.
 */
function _minibatch(count: number, batch: number, seed: number, iteration: number): number[] {
  if (batch >= count) return Array.from({ length: count }, (_, i) => i);
  const perEpoch = Math.ceil(count / batch);
  const epoch = Math.floor(iteration / perEpoch);
  const slot = iteration % perEpoch;
  const rng = new Rng((seed * 1000003 + epoch * 7919 + 12345) % Number.MAX_SAFE_INTEGER);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.next() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(slot * batch, Math.min(count, (slot + 1) * batch));
}

function _copyState(state: TrainState): TrainState {
  return {
    iteration: state.iteration,
    params: state.params.slice(),
    optimizer: { ...state.optimizer, m: state.optimizer.m.slice(), v: state.optimizer.v.slice() },
    bestLoss: state.bestLoss,
    bestIteration: state.bestIteration,
    bestParams: state.bestParams.slice(),
    losses: state.losses.slice(),
    seconds: state.seconds.slice(),
  };
}

/**
 * The remedies for a diverged run, as sentences naming the settings to change.
 *
 * @param config The configuration that diverged.
 * @returns Suggestions, most likely to help first.
 *
 * @example
 * ```ts
 * import { defaultConfig, divergenceRemedies } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 1000,
 * });
 * const remedies = divergenceRemedies(config);
 * assert.ok(remedies.some((r) => r.includes("coupling")));
 * assert.ok(remedies.some((r) => r.includes("weight decay")));
 * ```
 */
export function divergenceRemedies(config: TrainConfig): string[] {
  const remedies = config.adaptive
    ? [
      `tighter tolerances or more steps (now rtol ${config.adaptive.rtol}, atol ` +
      `${config.adaptive.atol}, at most ${config.adaptive.maxSteps} steps), or fixed steps`,
    ]
    : [`a smaller step: more solver steps (now ${config.steps}; e.g. ${2 * config.steps})`];
  if (
    config.scheme === "reversible" && config.solver !== "reversible-heun" &&
    config.solver !== "leapfrog"
  ) {
    remedies.push(
      `a smaller coupling λ (now ${config.coupling}; e.g. 0.9 or 0.5): the reversible scheme ` +
        `is more stable forward for smaller λ (numerics.md §2)`,
    );
  }
  remedies.push(
    `more weight decay on the vector field (now ${config.weightDecay}; e.g. ${
      Math.max(1e-4, config.weightDecay * 10)
    })`,
    `a smaller learning rate (now ${config.lr}) or gradient clipping (now ${
      config.clip === null ? "off" : config.clip
    }; e.g. 1)`,
  );
  return remedies;
}

/** The time-grid part of `solve()`'s options: fixed steps saving every step, or adaptive steps saving at the data times. */
function _gridOptions(
  config: TrainConfig,
  ts: Float64Array,
): Pick<SolveOptions, "t0" | "t1" | "steps" | "controller" | "saveAt"> {
  const t0 = ts[0], t1 = ts[ts.length - 1];
  if (config.adaptive === null) {
    return { t0, t1, steps: config.steps, saveAt: { steps: true } };
  }
  const { rtol, atol, maxSteps } = config.adaptive;
  return { t0, t1, controller: pid({ rtol, atol, maxSteps }), saveAt: { ts: ts.subarray(1) } };
}

function _history(state: TrainState): HistoryEntry[] {
  const history: HistoryEntry[] = [];
  let best = Infinity;
  for (let i = 0; i < state.losses.length; i++) {
    best = Math.min(best, state.losses[i]);
    history.push({
      iteration: i + 1,
      loss: state.losses[i],
      bestLoss: best,
      seconds: state.seconds[i],
    });
  }
  return history;
}

/**
 * Trains the vector field for `iterations` iterations: each one solves from
 * the data's initial state(s) over the data window, takes the mean squared
 * error against every data point after the first, back-propagates it with
 * the configured gradient method, optionally clips the gradient's norm, and
 * takes an AdamW step at the scheduled learning rate. Yields to the event
 * loop now and then, so that `shouldStop` can be set by a signal handler.
 *
 * @param options Configuration, data, iteration count, optional resume state and callbacks.
 * @returns Status, the resumable state, the loss history and gradient statistics.
 *
 * @example Resuming gives the same losses as an uninterrupted run
 * ```ts
 * import { defaultConfig, train } from "./train.ts";
 * import { whiteDwarfData } from "./datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 51 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 50,
 * });
 * const whole = await train({ config, data, iterations: 6 });
 * const first = await train({ config, data, iterations: 3 });
 * const rest = await train({ config, data, iterations: 3, resume: first.state });
 * assert.deepEqual(rest.state.losses, whole.state.losses);
 * assert.deepEqual(rest.state.params, whole.state.params);
 * assert.ok(whole.gradient!.peakBytes > 0);
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { config } = options;
  _checkConfig(config);
  const mlp = Mlp.fromJSON(config.mlp);
  const dim = mlp.dim;
  const list = _checkData(options.data, dim);
  const points = list[0].ts.length;
  // Adaptive solves save at the data times themselves: one step per point.
  const align = config.adaptive
    ? { steps: points - 1, stepsPerPoint: 1, pointStride: 1, targets: points - 1 }
    : alignSteps(points, config.steps);
  const scheme = schemeOf(config);
  const gradient = _gradientSpec(config);
  const schedule = _schedule(config);
  const iterations = requireInteger("iterations", options.iterations, 0);
  if (config.batch > list.length && list.length > 1) {
    invalidArgument("batch", config.batch, `at most ${list.length}, the number of trajectories`);
  }
  const yieldMs = options.yieldMs ?? 50;

  const state = _copyState(options.resume ?? initialState(config));
  if (state.params.length !== mlp.paramCount) {
    invalidArgument("resume.params", state.params, `${mlp.paramCount} parameters`);
  }
  const optimizer = AdamW.fromState({ ...state.optimizer, weightDecay: config.weightDecay });
  if (optimizer.stepCount !== state.iteration) {
    invalidArgument(
      "resume.optimizer.step",
      optimizer.stepCount,
      `${state.iteration}, the iterations done`,
    );
  }
  const params = state.params;
  const grid = _gridOptions(config, list[0].ts);
  const saved = align.steps;
  const total = state.iteration + iterations;
  const startSeconds = state.seconds.length > 0 ? state.seconds[state.seconds.length - 1] : 0;

  // Per-row weights pick the saved rows that sit on data points when the
  // solver takes several steps per data interval.
  let weights: Float64Array | undefined;
  if (align.stepsPerPoint > 1) {
    weights = new Float64Array(saved);
    for (let i = align.stepsPerPoint - 1; i < saved; i += align.stepsPerPoint) weights[i] = 1;
  }

  let record = null as GradientRecord | null;
  const sums = { steps: 0, evaluations: 0, vjps: 0, count: 0 };
  let best = state.bestLoss ?? Infinity;
  // The state before the previous iteration's update: the last good one
  // should the current iteration diverge (its loss history is a prefix of
  // state.losses, cut on use).
  const lastGood = _copyState({ ...state, losses: [], seconds: [] });
  let status: TrainStatus = "completed";
  let reason: string | null = null;
  const started = performance.now();
  let lastYield = started;
  let run = 0;
  for (; run < iterations; run++) {
    if (options.shouldStop?.()) {
      status = "interrupted";
      reason = `stopped on request after iteration ${state.iteration}`;
      break;
    }
    const iteration = state.iteration; // 0-based index of this iteration
    const members = _minibatch(list.length, config.batch, config.seed, iteration);
    const batch = members.length;
    const y0 = new Float64Array(batch * dim);
    const target = new Float64Array(saved * batch * dim);
    members.forEach((m, b) => {
      const ys = list[m].ys;
      y0.set(ys.subarray(0, dim), b * dim);
      for (let s = 0; s < saved; s++) {
        // Saved row s is the end of step s + 1.
        const stepEnd = s + 1;
        if (stepEnd % align.stepsPerPoint !== 0) continue;
        const row = (stepEnd / align.stepsPerPoint) * align.pointStride;
        target.set(ys.subarray(row * dim, row * dim + dim), (s * batch + b) * dim);
      }
    });
    const sol = solve({
      field: mlp,
      y0,
      params,
      scheme,
      ...grid,
      gradient,
      throwOnFailure: false,
    });
    const failed = sol.status.findIndex((s) => s !== "success");
    if (failed >= 0 && config.adaptive) {
      status = "diverged";
      reason = `the solve failed at iteration ${iteration + 1}: ` +
        failureMessage(
          sol.status[failed],
          sol.trajectories?.[failed]?.tEnd ?? NaN,
          members[failed],
          grid.controller ?? null,
        ).replace(/\.$/, "");
      break;
    }
    const cotangent = new Float64Array(sol.ys.length);
    const loss = mseLossVjp(sol.ys, target, cotangent, weights ? { weights, saved } : {});
    if (!Number.isFinite(loss)) {
      status = "diverged";
      reason = `the loss is ${loss} at iteration ${iteration + 1}: the solution blew up`;
      break;
    }
    const g = sol.backward(cotangent);
    const bad = g.params.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      status = "diverged";
      reason = `the gradient is not finite at iteration ${iteration + 1} ` +
        `(∂L/∂θ[${bad}] = ${g.params[bad]}, loss ${loss})`;
      break;
    }
    const rec = g.stats.reconstructionError;
    sums.steps += g.stats.steps;
    sums.evaluations += g.stats.evaluations;
    sums.vjps += g.stats.vjps;
    sums.count++;
    record = {
      method: g.stats.method,
      peakBytes: Math.max(record?.peakBytes ?? 0, g.stats.peakBytes),
      stepsPerIteration: Math.round(sums.steps / sums.count),
      evaluationsPerIteration: Math.round(sums.evaluations / sums.count),
      vjpsPerIteration: Math.round(sums.vjps / sums.count),
      maxReconstructionError: rec === undefined
        ? null
        : Math.max(record?.maxReconstructionError ?? 0, rec),
    };
    if (config.clip !== null) clipGradNorm(g.params, config.clip);

    lastGood.iteration = state.iteration;
    lastGood.params.set(params);
    lastGood.optimizer = optimizer.state();
    lastGood.bestLoss = state.bestLoss;
    lastGood.bestIteration = state.bestIteration;
    lastGood.bestParams.set(state.bestParams);
    if (loss < best) {
      best = loss;
      state.bestLoss = loss;
      state.bestIteration = iteration + 1;
      state.bestParams.set(params);
    }
    optimizer.step(params, g.params, schedule(iteration));
    state.iteration = iteration + 1;
    const now = performance.now();
    const seconds = (now - started) / 1000;
    state.losses.push(loss);
    state.seconds.push(startSeconds + seconds);
    options.onProgress?.({
      iteration: state.iteration,
      total,
      loss,
      bestLoss: best,
      seconds,
      iterationsPerSecond: (run + 1) / Math.max(seconds, 1e-9),
    });
    if (now - lastYield >= yieldMs) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = performance.now();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  let result = state;
  if (status === "diverged") {
    result = lastGood;
    result.losses = state.losses.slice(0, lastGood.iteration);
    result.seconds = state.seconds.slice(0, lastGood.iteration);
  } else {
    result.optimizer = optimizer.state();
  }
  // The optimizer's own rate is the base one; each step passes the scheduled rate.
  result.optimizer = { ...result.optimizer, lr: config.lr };
  return {
    status,
    reason,
    remedies: status === "diverged" ? divergenceRemedies(config) : [],
    state: result,
    history: _history(result),
    gradient: record,
    iterationsRun: result.iteration - (options.resume?.iteration ?? 0),
    seconds,
  };
}

/**
 * The model's trajectory from the data's initial state: at every solver
 * step, or at the data times when the steps are adaptive. Points past a
 * failed solve are NaN.
 *
 * @param config The configuration (architecture, solver, steps).
 * @param params The parameters θ.
 * @param data The data whose window and initial state to use.
 * @returns Times `[n]` and states `[n, dim]`, row 0 the initial state.
 *
 * @example
 * ```ts
 * import { defaultConfig, initialState, predict } from "./train.ts";
 * import { whiteDwarfData } from "./datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 11 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [3], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 20,
 * });
 * const { ts, ys } = predict(config, initialState(config).params, data);
 * assert.equal(ts.length, 21);
 * assert.equal(ts[20], 5);
 * assert.deepEqual([...ys.subarray(0, 2)], [1, 0]);
 * ```
 */
export function predict(
  config: TrainConfig,
  params: Float64Array,
  data: SeriesData,
): { ts: Float64Array; ys: Float64Array } {
  const mlp = Mlp.fromJSON(config.mlp);
  const [d] = _checkData(data, mlp.dim);
  if (config.adaptive === null) alignSteps(d.ts.length, config.steps);
  const grid = _gridOptions(config, d.ts);
  const sol = solve({
    field: mlp,
    y0: d.ys.slice(0, mlp.dim),
    params,
    scheme: schemeOf({ ...config, gradient: "direct" }),
    ...grid,
    saveAt: { ...grid.saveAt, t0: true },
    throwOnFailure: false,
  });
  return { ts: sol.ts, ys: sol.ys };
}
