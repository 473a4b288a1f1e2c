/**
 * The loss log of a training run, shared by the CPU loop (train.ts) and the
 * GPU loop (train_gpu.ts): it numbers the iterations across resumes, keeps
 * every loss with the training seconds at its end, tracks the lowest loss,
 * reports progress, yields to the event loop now and then (so that a Ctrl-C
 * handler can run), and assembles the run's {@link TrainResult}.
 *
 * The CPU loop records each iteration as it ends; the GPU loop records the
 * losses it reads back, several at a time, with their end times spread
 * evenly over the interval between two reads.
 *
 * @example
 * ```ts
 * import { TrainLog } from "./log.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 4,
 * });
 * const seen: number[] = [];
 * const log = new TrainLog(initialState(config), 3, { onProgress: (p) => seen.push(p.iteration) });
 * log.record(0.5, 0.1);
 * log.record(0.7, 0.2);
 * log.record(0.25, 0.3);
 * assert.deepEqual(seen, [1, 2, 3]);
 * const result = log.result(config, { status: "completed", reason: null, gradient: null });
 * assert.equal(result.state.bestLoss, 0.25);
 * assert.equal(result.state.bestIteration, 3);
 * assert.deepEqual(result.history.map((h) => h.bestLoss), [0.5, 0.5, 0.25]);
 * ```
 *
 * @module
 */

import { divergenceRemedies } from "./divergence.ts";
import type {
  GradientRecord,
  HistoryEntry,
  TrainResult,
  TrainState,
  TrainStatus,
} from "./state.ts";
import type { Progress } from "./state.ts";
import type { FieldTrainConfig, TrainConfig } from "./config.ts";

/** Options of {@link TrainLog}. */
export interface TrainLogOptions {
  /** Called after every recorded iteration. */
  onProgress?: (progress: Progress) => void;
  /**
   * Milliseconds of computing between two yields to the event loop in
   * {@link TrainLog.pause}; default 50.
   */
  yieldMs?: number;
}

/** How a run ended, for {@link TrainLog.result}. */
export interface RunEnd {
  /** How the run ended. */
  status: TrainStatus;
  /** Why it stopped early, or null. */
  reason: string | null;
  /** Gradient work and memory, or null when no iteration ran. */
  gradient: GradientRecord | null;
}

/**
 * The loss history of a state, with the lowest loss up to each iteration.
 *
 * @param state A training state.
 * @returns One entry per iteration done.
 *
 * @example
 * ```ts
 * import { historyOf } from "./log.ts";
 * import assert from "node:assert/strict";
 *
 * const h = historyOf({ losses: [3, 1, 2], seconds: [1, 2, 3] } as never);
 * assert.deepEqual(h.map((e) => e.bestLoss), [3, 1, 1]);
 * const v = historyOf({ losses: [3, 1], seconds: [1, 2], validationLosses: [4, 5] } as never);
 * assert.deepEqual(v.map((e) => e.validationLoss), [4, 5]);
 * ```
 */
export function historyOf(state: TrainState): HistoryEntry[] {
  const history: HistoryEntry[] = [];
  let best = Infinity;
  const validation = state.validationLosses;
  for (let i = 0; i < state.losses.length; i++) {
    best = Math.min(best, state.losses[i]);
    const entry: HistoryEntry = {
      iteration: i + 1,
      loss: state.losses[i],
      bestLoss: best,
      seconds: state.seconds[i],
    };
    if (validation !== undefined) entry.validationLoss = validation[i];
    history.push(entry);
  }
  return history;
}

/** The loss log of one run (see the module's documentation). */
export class TrainLog {
  /** The run's state: {@link TrainLog.record} advances its iteration, losses, seconds and best loss. */
  readonly state: TrainState;
  /** The iteration the run started from. */
  readonly first: number;
  /** The iteration the run stops at. */
  readonly total: number;
  readonly #started = performance.now();
  readonly #startSeconds: number;
  readonly #onProgress?: (progress: Progress) => void;
  readonly #yieldMs: number;
  #lastYield = this.#started;
  #best: number;

  /**
   * Starts the log of a run.
   *
   * @param state The state the run starts from (updated in place).
   * @param iterations Iterations the run is asked for.
   * @param options Progress callback and yield interval.
   */
  constructor(state: TrainState, iterations: number, options: TrainLogOptions = {}) {
    this.state = state;
    this.first = state.iteration;
    this.total = state.iteration + iterations;
    this.#startSeconds = state.seconds.length > 0 ? state.seconds[state.seconds.length - 1] : 0;
    this.#onProgress = options.onProgress;
    this.#yieldMs = options.yieldMs ?? 50;
    this.#best = state.bestLoss ?? Infinity;
  }

  /** Wall seconds since the run started. */
  get seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** Iterations recorded by this run. */
  get iterationsRun(): number {
    return this.state.iteration - this.first;
  }

  /**
   * Whether a loss would be a new lowest one (the CPU loop keeps the
   * parameters that gave it before updating them). With validation the
   * loss that counts is the validation loss.
   *
   * @param loss A finite loss (the validation loss, when validating).
   * @returns True when lower than every such loss so far.
   */
  improves(loss: number): boolean {
    return loss < this.#best;
  }

  /**
   * Iterations since the best one (the lowest loss, or with validation the
   * lowest validation loss): early stopping's count, read from the state so
   * that a resumed run stops where an uninterrupted one would.
   */
  get sinceBest(): number {
    return this.state.iteration - this.state.bestIteration;
  }

  /**
   * Records the next iteration's loss and reports progress.
   *
   * @param loss Its (finite) loss.
   * @param seconds Seconds of this run at its end (default now).
   * @param validationLoss Its validation loss, when validating: the best is then the lowest of these.
   */
  record(loss: number, seconds: number = this.seconds, validationLoss?: number): void {
    const state = this.state;
    state.iteration++;
    const criterion = validationLoss ?? loss;
    if (criterion < this.#best) {
      this.#best = criterion;
      state.bestLoss = criterion;
      state.bestIteration = state.iteration;
    }
    state.losses.push(loss);
    state.seconds.push(this.#startSeconds + seconds);
    if (validationLoss !== undefined) (state.validationLosses ??= []).push(validationLoss);
    this.#onProgress?.({
      iteration: state.iteration,
      total: this.total,
      loss,
      bestLoss: this.#best,
      seconds,
      iterationsPerSecond: this.iterationsRun / Math.max(seconds, 1e-9),
      ...(validationLoss === undefined ? {} : { validationLoss }),
    });
  }

  /**
   * Yields to the event loop when {@link TrainLogOptions.yieldMs} have
   * passed since the last yield (so that signal handlers and timers run).
   */
  async pause(): Promise<void> {
    const now = performance.now();
    if (now - this.#lastYield >= this.#yieldMs) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      this.#lastYield = performance.now();
    }
  }

  /**
   * The run's result.
   *
   * @param config The configuration (for the remedies of a diverged run).
   * @param end Status, reason and gradient statistics.
   * @param state The state to return (default the log's; a diverged CPU run returns its last good one).
   * @returns The result.
   */
  result(config: FieldTrainConfig, end: RunEnd, state: TrainState = this.state): TrainResult {
    return {
      status: end.status,
      reason: end.reason,
      // the remedies read the solver and optimiser settings only, never the MLP
      remedies: end.status === "diverged" ? divergenceRemedies(config as TrainConfig) : [],
      remedyKind: end.status === "diverged" ? "divergence" : null,
      state,
      history: historyOf(state),
      gradient: end.gradient,
      iterationsRun: state.iteration - this.first,
      seconds: this.seconds,
    };
  }
}
