/**
 * The bridge between a training state and a model file: what a run saves
 * ({@link modelFromState}) and what a resumed run starts from
 * ({@link stateFromModel}).
 *
 * @module
 */

import { MODEL_FORMAT, MODEL_VERSION, type ModelConfig, type ModelFile } from "./model_format.ts";
import type { GradientRecord, TrainState, TrainStatus } from "./state.ts";

/** Extra information stored next to a {@link TrainState}. */
export interface ModelInfo {
  /** Iterations the run was asked to reach. */
  plannedIterations: number;
  /** How the run ended. */
  status: TrainStatus;
  /** Why it ended early, or null. */
  reason: string | null;
  /** Gradient statistics, or null. */
  gradient: GradientRecord | null;
  /** The backend the run trained on (default `"cpu"`). */
  backend?: "cpu" | "webgpu";
  /** Time of writing (default now). */
  createdAt?: Date;
}

/**
 * Builds a model file from a configuration and a training state.
 *
 * @param config The problem and training settings.
 * @param state The state (from `train()` or `initialState()`).
 * @param info Status and metadata.
 * @returns The model file, ready for `serializeModel()` or `writeModelFile()`.
 *
 * @example
 * ```ts
 * import { modelFromState, stateFromModel } from "./model_state.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const train = defaultConfig({
 *   mlp: { dim: 1, widths: [2], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 10,
 * });
 * const config = {
 *   ...train, example: null, t0: 0, t1: 1, y0: [1],
 *   data: { source: "by hand", path: null, simulated: false, points: 11 },
 * };
 * const state = initialState(train);
 * const model = modelFromState(config, state, {
 *   plannedIterations: 0, status: "completed", reason: null, gradient: null,
 * });
 * assert.equal(model.version, 1);
 * assert.deepEqual(stateFromModel(model).params, state.params);
 * ```
 */
export function modelFromState(
  config: ModelConfig,
  state: TrainState,
  info: ModelInfo,
): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: (info.createdAt ?? new Date()).toISOString(),
    config,
    params: Array.from(state.params),
    best: {
      loss: state.bestLoss,
      iteration: state.bestIteration,
      params: Array.from(state.bestParams),
    },
    optimizer: state.optimizer,
    training: {
      iterations: state.iteration,
      plannedIterations: info.plannedIterations,
      status: info.status,
      reason: info.reason,
      seconds: state.seconds.length > 0 ? state.seconds[state.seconds.length - 1] : 0,
      history: {
        loss: state.losses.slice(),
        seconds: state.seconds.slice(),
        ...(state.validationLosses ? { validationLoss: state.validationLosses.slice() } : {}),
      },
      gradient: info.gradient,
      backend: info.backend ?? "cpu",
    },
  };
}

/**
 * The training state stored in a model file, to resume from.
 *
 * @param model A parsed model file.
 * @returns The state: parameters, optimizer, iteration, best, history.
 *
 * @example
 * ```ts
 * import { modelFromState, stateFromModel } from "./model_state.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const train = defaultConfig({
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 4,
 * });
 * const config = {
 *   ...train, example: null, t0: 0, t1: 1, y0: [1],
 *   data: { source: "by hand", path: null, simulated: false, points: 5 },
 * };
 * const info = { plannedIterations: 0, status: "completed" as const, reason: null, gradient: null };
 * const state = stateFromModel(modelFromState(config, initialState(train), info));
 * assert.equal(state.iteration, 0);
 * assert.ok(state.params instanceof Float64Array);
 * ```
 */
export function stateFromModel(model: ModelFile): TrainState {
  return {
    iteration: model.training.iterations,
    params: Float64Array.from(model.params),
    optimizer: { ...model.optimizer, m: model.optimizer.m.slice(), v: model.optimizer.v.slice() },
    bestLoss: model.best.loss,
    bestIteration: model.best.iteration,
    bestParams: Float64Array.from(model.best.params),
    losses: model.training.history.loss.slice(),
    seconds: model.training.history.seconds.slice(),
    ...(model.training.history.validationLoss
      ? { validationLosses: model.training.history.validationLoss.slice() }
      : {}),
  };
}
