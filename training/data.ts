/**
 * The data of a training iteration, as both training loops use them (the
 * CPU's in train.ts, the GPU's in train_gpu.ts): the trajectories checked to
 * share a uniform grid, the solver's steps lined up with that grid, and for
 * each iteration its minibatch as initial states `[batch, dim]`, targets
 * `[saved, batch, dim]` (one saved row per solver step, the end of each) and
 * per-row MSE weights that keep only the rows lying on data points.
 *
 * @example Two solver steps per data interval: only every other saved row is a data point
 * ```ts
 * import { TrainingData } from "./data.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const data = { ts: Float64Array.of(0, 1, 2), ys: Float64Array.of(1, 2, 3), dim: 1, source: "by hand" };
 * const config = defaultConfig({
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 4,
 * });
 * const d = new TrainingData(config, data);
 * assert.equal(d.saved, 4);
 * assert.deepEqual([...d.weights!], [0, 1, 0, 1]);
 * const batch = d.batch(0);
 * assert.deepEqual([...batch.y0], [1]);
 * assert.deepEqual([...batch.targets], [0, 2, 0, 3]);
 * ```
 *
 * @module
 */

import { invalidArgument, requireInteger } from "../solvers/checks.ts";
import { Rng } from "../solvers/fields/random.ts";
import type { SeriesData, TrainConfig } from "./config.ts";

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
 * import { alignSteps } from "./data.ts";
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

/**
 * The data as one list, checked to share a uniform grid and the model's
 * state dimension, with finite values only.
 *
 * @param data One trajectory or several.
 * @param dim The model's state dimension.
 * @returns The trajectories.
 *
 * @example
 * ```ts
 * import { checkData } from "./data.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0, 1), ys: Float64Array.of(1, 2), dim: 1, source: "" };
 * assert.equal(checkData(d, 1).length, 1);
 * assert.throws(() => checkData(d, 2), /dim/);
 * ```
 */
export function checkData(data: SeriesData | readonly SeriesData[], dim: number): SeriesData[] {
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

/**
 * The trajectory indices of iteration `iteration` (0-based): all of them
 * when `batch ≥ count`, else the next `batch` of a per-epoch shuffle seeded
 * by `(seed, epoch)` — a pure function of the iteration, so a resumed run
 * draws the same minibatches as an uninterrupted one.
 *
 * @param count Trajectories.
 * @param batch Trajectories per iteration.
 * @param seed The run's seed.
 * @param iteration 0-based iteration.
 * @returns The indices.
 *
 * @example
 * ```ts
 * import { minibatch } from "./data.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(minibatch(3, 5, 0, 7), [0, 1, 2]);
 * const epoch = [...minibatch(5, 2, 0, 0), ...minibatch(5, 2, 0, 1), ...minibatch(5, 2, 0, 2)];
 * assert.deepEqual(epoch.sort(), [0, 1, 2, 3, 4]);
 * ```
 */
export function minibatch(count: number, batch: number, seed: number, iteration: number): number[] {
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

/** One iteration's data, from {@link TrainingData.batch}. */
export interface Batch {
  /** Indices of the trajectories in it. */
  members: number[];
  /** Initial states `[members, dim]`. */
  y0: Float64Array;
  /** Targets `[saved, members, dim]`: saved row `s` is the end of solver step `s + 1` (zero off the data points). */
  targets: Float64Array;
}

/**
 * The training data of a configuration: checked trajectories, the solver
 * steps' alignment with the data grid, the MSE's row weights, and each
 * iteration's minibatch.
 */
export class TrainingData {
  /** The trajectories. */
  readonly list: readonly SeriesData[];
  /** State dimension. */
  readonly dim: number;
  /** Data points per trajectory. */
  readonly points: number;
  /** The solve window's start (the first data time). */
  readonly t0: number;
  /** The solve window's end (the last data time). */
  readonly t1: number;
  /** How the saved outputs line up with the data (adaptive solves: one output per data time). */
  readonly align: Alignment;
  /** Saved rows per solve (one per step, the initial state not saved). */
  readonly saved: number;
  /**
   * One MSE weight per saved row (1 on data points, 0 between them) when the
   * solver takes several steps per data interval; undefined when every saved
   * row is a data point.
   */
  readonly weights: Float64Array | undefined;
  /** Trajectories per iteration: `min(config.batch, trajectories)`. */
  readonly batchSize: number;
  /** True when iterations draw different minibatches (fewer per batch than trajectories). */
  readonly minibatches: boolean;
  readonly #seed: number;

  /**
   * Checks the data against the configuration and lines the steps up.
   *
   * @param config The configuration (state dimension, steps or adaptive, batch, seed).
   * @param data One trajectory or several sharing their time grid.
   * @throws {RangeError} When the data or the batch size do not fit.
   */
  constructor(config: TrainConfig, data: SeriesData | readonly SeriesData[]) {
    const dim = config.mlp.dim;
    const list = checkData(data, dim);
    this.list = list;
    this.dim = dim;
    const ts = list[0].ts;
    this.points = ts.length;
    this.t0 = ts[0];
    this.t1 = ts[ts.length - 1];
    // Adaptive solves save at the data times themselves: one step per point.
    this.align = config.adaptive
      ? { steps: this.points - 1, stepsPerPoint: 1, pointStride: 1, targets: this.points - 1 }
      : alignSteps(this.points, config.steps);
    this.saved = this.align.steps;
    if (this.align.stepsPerPoint > 1) {
      const weights = new Float64Array(this.saved);
      for (let i = this.align.stepsPerPoint - 1; i < this.saved; i += this.align.stepsPerPoint) {
        weights[i] = 1;
      }
      this.weights = weights;
    }
    requireInteger("batch", config.batch, 1);
    if (config.batch > list.length && list.length > 1) {
      invalidArgument("batch", config.batch, `at most ${list.length}, the number of trajectories`);
    }
    this.batchSize = Math.min(config.batch, list.length);
    this.minibatches = this.batchSize < list.length;
    this.#seed = config.seed;
  }

  /**
   * The minibatch of an iteration: its members' initial states and targets.
   *
   * @param iteration 0-based iteration.
   * @returns Members, `y0` and targets.
   */
  batch(iteration: number): Batch {
    const { dim, saved, align, list } = this;
    const members = minibatch(list.length, this.batchSize, this.#seed, iteration);
    const size = members.length;
    const y0 = new Float64Array(size * dim);
    const targets = new Float64Array(saved * size * dim);
    members.forEach((m, b) => {
      const ys = list[m].ys;
      y0.set(ys.subarray(0, dim), b * dim);
      for (let s = 0; s < saved; s++) {
        // Saved row s is the end of step s + 1.
        const stepEnd = s + 1;
        if (stepEnd % align.stepsPerPoint !== 0) continue;
        const row = (stepEnd / align.stepsPerPoint) * align.pointStride;
        targets.set(ys.subarray(row * dim, row * dim + dim), (s * size + b) * dim);
      }
    });
    return { members, y0, targets };
  }
}
