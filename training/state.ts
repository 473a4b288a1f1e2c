/**
 * The resumable state of a training run (what a model file stores) and what a
 * run returns: its status, history and gradient record.
 *
 * @module
 */

import { Mlp } from "../solvers/fields/mlp.ts";
import { AdamW, type AdamWState } from "./adamw.ts";

import type { GradientMethodName } from "../solvers/gradients/spec.ts";

import { invalidArgument } from "../solvers/checks.ts";
import { type FieldTrainConfig, requireSafeInteger, type TrainConfig } from "./config.ts";

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
  /**
   * With validation (`config.validation`): the validation loss of every iteration,
   * at the same parameters as its training loss; `bestLoss`, `bestIteration` and
   * `bestParams` then follow the lowest validation loss. Absent without validation.
   */
  validationLosses?: number[];
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
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
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
  return paramsState(config, mlp.init(requireSafeInteger("seed", config.seed)));
}

/**
 * The state of a run that has not started from given parameters (a field of
 * the caller's own, or an MLP started elsewhere): a copy of them and a fresh
 * optimizer; with validation, an empty validation history.
 *
 * @param config The configuration (learning rate, weight decay, validation).
 * @param init The initial parameters θ.
 * @returns The state before iteration 1.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { paramsState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const init = Float64Array.of(0.5, -1);
 * const state = paramsState(defaultConfig({ steps: 4, validation: 0.25 }), init);
 * assert.deepEqual(state.params, init);
 * assert.notEqual(state.params, init); // a copy
 * assert.deepEqual(state.validationLosses, []);
 * ```
 */
export function paramsState(config: FieldTrainConfig, init: Float64Array): TrainState {
  const params = Float64Array.from(init);
  const optimizer = new AdamW(params.length, { lr: config.lr, weightDecay: config.weightDecay });
  return {
    iteration: 0,
    params,
    optimizer: optimizer.state(),
    bestLoss: null,
    bestIteration: 0,
    bestParams: params.slice(),
    losses: [],
    seconds: [],
    ...(config.validation ? { validationLosses: [] } : {}),
  };
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
  /** Its validation loss, with validation (at the same parameters as `loss`). */
  validationLoss?: number;
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
  /** For a diverged run: what to try, naming the configuration's keys. */
  remedies: string[];
  /**
   * Which remedies apply: those of a divergence, those of a reversible
   * backward pass that drifted, or none. A program renders them in its own
   * names with `remediesOf()` (the CLI names its flags).
   */
  remedyKind: "divergence" | "drift" | null;
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
  /**
   * True when early stopping ended the run (`config.patience` iterations
   * without a lower validation loss); its reason says when.
   */
  stoppedEarly?: boolean;
  /** GPU runs: how the solve was laid out in kernels (`GpuSolver.solveKernel`). */
  solveKernel?: "whole" | "steps";
}

/**
 * A deep copy of a training state.
 *
 * @param state The state.
 * @returns The copy.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { copyState, initialState } from "./state.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
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
    ...(state.validationLosses ? { validationLosses: state.validationLosses.slice() } : {}),
  };
}

/**
 * The state a run starts from: a copy of `resume`, checked against the
 * configuration (parameter count; one optimizer step per iteration done;
 * a validation history when validating, of one loss per iteration), or a
 * fresh one: {@link initialState}, or {@link paramsState} of `start.init`.
 *
 * @param config The configuration.
 * @param resume A state to continue from, or undefined.
 * @param start For a field other than `config.mlp`: its parameter count and,
 *   for a fresh start, its initial parameters.
 * @returns A state the run may modify.
 * @throws {RangeError} When `resume` does not fit the configuration.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { initialState, startState } from "./state.ts";
 * import type { MlpConfig } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false } satisfies MlpConfig;
 * const config = defaultConfig({ mlp, steps: 1 });
 * assert.equal(startState(config).iteration, 0);
 * const bad = { ...initialState(config), iteration: 3 };
 * assert.throws(() => startState(config, bad), /optimizer\.step/);
 * assert.throws(() => startState(config, undefined, { paramCount: 3 }), /init/);
 * ```
 */
export function startState(
  config: FieldTrainConfig & Partial<Pick<TrainConfig, "mlp">>,
  resume?: TrainState,
  start?: { paramCount: number; init?: Float64Array },
): TrainState {
  const paramCount = start?.paramCount ?? Mlp.fromJSON(config.mlp).paramCount;
  let fresh: TrainState | undefined;
  if (resume === undefined) {
    if (start === undefined) fresh = initialState(config as TrainConfig);
    else if (start.init === undefined) {
      invalidArgument("init", start.init, `the field's ${paramCount} initial parameters`);
    } else fresh = paramsState(config, start.init);
  }
  const state = copyState(resume ?? fresh!);
  if (state.params.length !== paramCount) {
    invalidArgument(
      resume ? "resume.params" : "init",
      state.params,
      `${paramCount} parameters, the field's`,
    );
  }
  const optimizer = AdamW.fromState({ ...state.optimizer, weightDecay: config.weightDecay });
  if (optimizer.stepCount !== state.iteration) {
    invalidArgument(
      "resume.optimizer.step",
      optimizer.stepCount,
      `${state.iteration}, the iterations done`,
    );
  }
  _checkValidationHistory(config, state);
  return state;
}

/** With validation, one validation loss per iteration done; without, none. */
function _checkValidationHistory(config: FieldTrainConfig, state: TrainState): void {
  const v = state.validationLosses;
  if (config.validation) {
    if (v === undefined || v.length !== state.iteration) {
      invalidArgument(
        "resume.validationLosses",
        v,
        `${state.iteration} validation losses (one per iteration done): a run resumes with ` +
          `the validation it started with`,
      );
    }
  } else if (v !== undefined && v.length > 0) {
    invalidArgument(
      "config.validation",
      config.validation ?? null,
      "a fraction in (0, 1): the state resumed was validated at every iteration, and its " +
        "best parameters are the best-validation ones",
    );
  }
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
  /** This iteration's validation loss, with validation. */
  validationLoss?: number;
}
