/**
 * A training configuration: the vector field, the solver, the gradient method,
 * the optimiser and the data grid of a run, its defaults ({@link defaultConfig})
 * and its one validator ({@link checkConfig}). The CPU and GPU loops, the model
 * file and the programs all read a configuration through this module.
 *
 * @module
 */

import type { MlpConfig } from "../solvers/fields/mlp.ts";
import { constantSchedule, cosineSchedule, type Schedule } from "./adamw.ts";

import type { GradientMethodName, GradientSpec } from "../solvers/gradients/spec.ts";
import { leapfrog, plain, reversible, reversibleHeun } from "../solvers/schemes/spec.ts";
import type { SchemeSpec } from "../solvers/schemes/spec.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { invalidArgument, requireInteger } from "../solvers/checks.ts";

/**
 * A trajectory sampled on a time grid: the shape of every dataset
 * (`Trajectory` of schmidt_lipson.ts, `WhiteDwarfTrajectory`).
 *
 * @example
 * ```ts
 * import type { SeriesData } from "./config.ts";
 * import { checkData } from "./data.ts";
 * import assert from "node:assert/strict";
 *
 * const data: SeriesData = {
 *   ts: Float64Array.of(0, 1), ys: Float64Array.of(1, 0.5), dim: 1, source: "by hand",
 * };
 * assert.deepEqual(checkData(data, 1), [data]); // ys is [ts.length, dim]
 * assert.throws(() => checkData({ ...data, ys: Float64Array.of(1) }, 1));
 * assert.throws(() => checkData(data, 2), /dim/); // the model's dimension
 * ```
 */
export interface SeriesData {
  /** Sample times, strictly increasing (any spacing). */
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
 * import { SOLVER_NAMES } from "./config.ts";
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
 * import { GRADIENT_NAMES } from "./config.ts";
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
  /**
   * The fraction in (0, 1) of the data held out for validation, or null (absent) for
   * none: with several trajectories, that fraction of them (chosen from `seed`); with
   * one, the last fraction of its time, an extrapolation test (validation.ts).
   */
  validation?: number | null;
  /**
   * Early stopping: the run ends once the validation loss has not improved for this
   * many iterations (it is evaluated at every iteration); null (absent) for never.
   * Needs `validation`.
   */
  patience?: number | null;
}

/**
 * A configuration for a vector field of the caller's own (`train()`'s `field`
 * option): every setting of {@link TrainConfig} but the MLP's architecture.
 */
export type FieldTrainConfig = Omit<TrainConfig, "mlp">;

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
 * import { defaultConfig } from "./config.ts";
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
): TrainConfig;
/**
 * The defaults of a configuration for a field of the caller's own (no `mlp`).
 *
 * @param overrides At least `steps`.
 * @returns The configuration, to train with `train()`'s `field` option.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const c = defaultConfig({ steps: 10 });
 * assert.equal("mlp" in c, false);
 * assert.equal(c.solver, "rk4");
 * ```
 */
export function defaultConfig(
  overrides: Partial<FieldTrainConfig> & Pick<FieldTrainConfig, "steps">,
): FieldTrainConfig;
export function defaultConfig(
  overrides: Partial<TrainConfig> & Pick<TrainConfig, "steps">,
): FieldTrainConfig {
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
 * import { defaultConfig, schemeOf } from "./config.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
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
export function schemeOf(config: FieldTrainConfig): SchemeSpec {
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

/**
 * Checks a configuration entry that must be a safe integer (the seed, the
 * batch): any sign, no fraction, at most 2⁵³ − 1 in size.
 *
 * @param name The entry's name, for the message.
 * @param value The value.
 * @returns The value.
 *
 * @example
 * ```ts
 * import { requireSafeInteger } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(requireSafeInteger("seed", 7), 7);
 * assert.throws(() => requireSafeInteger("seed", 0.5), /seed/);
 * ```
 */
export function requireSafeInteger(name: string, value: unknown): number {
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
 * import { checkConfig, defaultConfig } from "./config.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * assert.throws(() => checkConfig(defaultConfig({ mlp, steps: 1, lr: -1 })), /lr/);
 * assert.throws(() => checkConfig(defaultConfig({ steps: 1, validation: 1 })), /validation/);
 * assert.throws(() => checkConfig(defaultConfig({ steps: 1, patience: 5 })), /without validation/);
 * ```
 */
export function checkConfig(config: FieldTrainConfig): void {
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
  _checkValidation(config);
}

/** `validation` in (0, 1) or null; `patience` a whole number ≥ 1 or null, only with validation. */
function _checkValidation(config: FieldTrainConfig): void {
  const v = config.validation ?? null;
  if (v !== null && !(typeof v === "number" && v > 0 && v < 1)) {
    invalidArgument("validation", v, "null or a fraction in (0, 1) of the data to hold out");
  }
  const patience = config.patience ?? null;
  if (patience === null) return;
  requireInteger("patience", patience, 1);
  if (v === null) {
    invalidArgument(
      "patience",
      patience,
      "null without validation: early stopping watches the validation loss (set validation)",
    );
  }
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
 * import { defaultConfig, scheduleOf } from "./config.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * assert.equal(scheduleOf(defaultConfig({ mlp, steps: 1, lr: 0.5 }))(7), 0.5);
 * ```
 */
export function scheduleOf(config: FieldTrainConfig): Schedule {
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
 * import { defaultConfig, gradientSpecOf } from "./config.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * const c = defaultConfig({ mlp, steps: 9, gradient: "checkpointed", checkpoints: 3 });
 * assert.deepEqual(gradientSpecOf(c), { method: "checkpointed", checkpoints: 3 });
 * ```
 */
export function gradientSpecOf(config: FieldTrainConfig): GradientSpec {
  if (config.gradient === "checkpointed" && config.checkpoints !== null) {
    return { method: "checkpointed", checkpoints: config.checkpoints };
  }
  return config.gradient;
}
