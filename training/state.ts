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
import { requireSafeInteger, type TrainConfig } from "./config.ts";

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
