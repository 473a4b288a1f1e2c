/**
 * The training loop of a neural ODE: an {@link Mlp} vector field, solved over
 * the data grid with a chosen scheme, fitted by the mean squared error over
 * every saved step, with gradients from the chosen gradient method and AdamW
 * steps (numerics.md §5).
 *
 * Deterministic on the CPU: the same configuration, data and seed give
 * bit-identical losses, and a run resumed from its saved state continues
 * exactly as an uninterrupted one would. A non-finite loss or gradient, a
 * failed adaptive solve, or a reversible backward pass that cannot rebuild
 * the forward solve stops the run with a readable reason, keeps the last good
 * parameters and suggests remedies.
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
import { alignSteps, checkData, TrainingData } from "./train_data.ts";
import { driftReason, driftRemedies, gradientReason, lossReason } from "./divergence.ts";
import { TrainLog } from "./train_log.ts";
import { solve, type SolveOptions } from "../solvers/solve.ts";
import { ReconstructionDriftError } from "../solvers/gradients/reversible.ts";
import type { GradientMethodName, GradientSpec } from "../solvers/solve.ts";
import { pid } from "../solvers/controller.ts";
import { failureMessage } from "../solvers/adaptive.ts";
import { leapfrog, plain, reversible, reversibleHeun } from "../solvers/schemes/spec.ts";
import type { SchemeSpec } from "../solvers/schemes/spec.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { invalidArgument, requireInteger } from "../solvers/errors.ts";

// Moved to their own modules; exported here as well, where they used to be.
export { type Alignment, alignSteps } from "./train_data.ts";
export { divergenceRemedies } from "./divergence.ts";

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
 * import type { MlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
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
   * finite, before that iteration's update; or, when the reversible backward
   * pass could not rebuild the forward solve, the state after the last
   * iteration that completed.
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
  /** Remarks on how the run could be set up better (sentences), if any. */
  notes?: string[];
  /** GPU runs: how the solve was laid out in kernels (`GpuSolver.solveKernel`). */
  solveKernel?: "whole" | "steps";
}

function requireSafeInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    invalidArgument(name, value, "a safe integer");
  }
  return value;
}

/**
 * Checks the settings of a configuration that no other check covers
 * (learning rate, weight decay, clipping, checkpoints, tolerances, gradient
 * method, batch, seed); both training loops call it first.
 *
 * @param config The configuration.
 * @throws {RangeError} Naming the first invalid setting.
 *
 * @example
 * ```ts
 * import { checkConfig, defaultConfig } from "./train.ts";
 * import type { MlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * assert.throws(() => checkConfig(defaultConfig({ mlp, steps: 1, lr: -1 })), /lr/);
 * ```
 */
export function checkConfig(config: TrainConfig): void {
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

/**
 * The learning-rate schedule of a configuration, as a function of the
 * 0-based iteration.
 *
 * @param config The configuration (`lr` and `schedule`).
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import { defaultConfig, scheduleOf } from "./train.ts";
 * import type { MlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * assert.equal(scheduleOf(defaultConfig({ mlp, steps: 1, lr: 0.5 }))(7), 0.5);
 * ```
 */
export function scheduleOf(config: TrainConfig): Schedule {
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

/**
 * The gradient method of a configuration as `solve()` takes it: the name,
 * or `{ method: "checkpointed", checkpoints }` when a count is set.
 *
 * @param config The configuration.
 * @returns The gradient specification.
 *
 * @example
 * ```ts
 * import { defaultConfig, gradientSpecOf } from "./train.ts";
 * import type { MlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * const c = defaultConfig({ mlp, steps: 9, gradient: "checkpointed", checkpoints: 3 });
 * assert.deepEqual(gradientSpecOf(c), { method: "checkpointed", checkpoints: 3 });
 * ```
 */
export function gradientSpecOf(config: TrainConfig): GradientSpec {
  if (config.gradient === "checkpointed" && config.checkpoints !== null) {
    return { method: "checkpointed", checkpoints: config.checkpoints };
  }
  return config.gradient;
}

/**
 * A deep copy of a training state.
 *
 * @param state The state.
 * @returns The copy.
 *
 * @example
 * ```ts
 * import { copyState, defaultConfig, initialState } from "./train.ts";
 * import type { MlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * const state = initialState(defaultConfig({ mlp, steps: 1 }));
 * const copy = copyState(state);
 * copy.params[0] = 42;
 * assert.notEqual(state.params[0], 42);
 * ```
 */
export function copyState(state: TrainState): TrainState {
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
 * The state a run starts from: a copy of `resume`, checked against the
 * configuration (parameter count; one optimizer step per iteration done),
 * or a fresh {@link initialState}.
 *
 * @param config The configuration.
 * @param resume A state to continue from, or undefined.
 * @returns A state the run may modify.
 * @throws {RangeError} When `resume` does not fit the configuration.
 *
 * @example
 * ```ts
 * import { defaultConfig, initialState, startState } from "./train.ts";
 * import type { MlpConfig } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * const config = defaultConfig({ mlp, steps: 1 });
 * assert.equal(startState(config).iteration, 0);
 * const bad = { ...initialState(config), iteration: 3 };
 * assert.throws(() => startState(config, bad), /optimizer\.step/);
 * ```
 */
export function startState(config: TrainConfig, resume?: TrainState): TrainState {
  const mlp = Mlp.fromJSON(config.mlp);
  const state = copyState(resume ?? initialState(config));
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
  return state;
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
  checkConfig(config);
  const mlp = Mlp.fromJSON(config.mlp);
  const data = new TrainingData(config, options.data);
  const scheme = schemeOf(config);
  const gradient = gradientSpecOf(config);
  const schedule = scheduleOf(config);
  const iterations = requireInteger("iterations", options.iterations, 0);
  const state = startState(config, options.resume);
  const optimizer = AdamW.fromState({ ...state.optimizer, weightDecay: config.weightDecay });
  const params = state.params;
  const grid = _gridOptions(config, data.list[0].ts);
  const weights = data.weights;
  const log = new TrainLog(state, iterations, options);

  let record = null as GradientRecord | null;
  const sums = { steps: 0, evaluations: 0, vjps: 0, count: 0 };
  // The state before the previous iteration's update: the last good one
  // should the current iteration diverge (its loss history is a prefix of
  // state.losses, cut on use).
  const lastGood = copyState({ ...state, losses: [], seconds: [] });
  let status: TrainStatus = "completed";
  let reason: string | null = null;
  let drifted = false;
  for (let run = 0; run < iterations; run++) {
    if (options.shouldStop?.()) {
      status = "interrupted";
      reason = `stopped on request after iteration ${state.iteration}`;
      break;
    }
    const iteration = state.iteration; // 0-based index of this iteration
    const { members, y0, targets } = data.batch(iteration);
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
        )
          // The remedies name the settings to change; the solver's own advice
          // uses the library's option names.
          .replace(/; .*$/s, "")
          .replace(/\.$/, "");
      break;
    }
    const cotangent = new Float64Array(sol.ys.length);
    const loss = mseLossVjp(
      sol.ys,
      targets,
      cotangent,
      weights ? { weights, saved: data.saved } : {},
    );
    if (!Number.isFinite(loss)) {
      status = "diverged";
      reason = lossReason(loss, iteration + 1);
      break;
    }
    let g: ReturnType<typeof sol.backward>;
    try {
      g = sol.backward(cotangent);
    } catch (error) {
      const drift = _driftOf(error);
      if (drift === undefined) throw error;
      // This iteration's parameters solved fine: the state after the previous
      // iteration is good, and kept as it is.
      status = "diverged";
      reason = driftReason(iteration + 1, loss, drift);
      drifted = true;
      break;
    }
    const bad = g.params.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      status = "diverged";
      reason = gradientReason(iteration + 1, loss, { index: bad, value: g.params[bad] });
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
    if (log.improves(loss)) state.bestParams.set(params);
    optimizer.step(params, g.params, schedule(iteration));
    log.record(loss);
    await log.pause();
  }
  let result = state;
  if (status === "diverged" && !drifted) {
    result = lastGood;
    result.losses = state.losses.slice(0, lastGood.iteration);
    result.seconds = state.seconds.slice(0, lastGood.iteration);
  } else {
    result.optimizer = optimizer.state();
  }
  // The optimizer's own rate is the base one; each step passes the scheduled rate.
  result.optimizer = { ...result.optimizer, lr: config.lr };
  const out = log.result(config, { status, reason, gradient: record }, result);
  return drifted ? { ...out, remedies: driftRemedies(config) } : out;
}

/**
 * The relative drift of the reversible backward pass's refusal to return a
 * gradient ({@link ReconstructionDriftError}): the number, null when it is
 * not finite, undefined for any other error.
 */
function _driftOf(error: unknown): number | null | undefined {
  if (!(error instanceof ReconstructionDriftError)) return undefined;
  return Number.isFinite(error.drift) ? error.drift : null;
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
  const [d] = checkData(data, mlp.dim);
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
