/**
 * The data of a training iteration, as both training loops use them (the
 * CPU's in train.ts, the GPU's in webgpu/train.ts): the trajectories checked,
 * the solver's steps lined up with their grid when it is uniform and shared
 * (else outputs at the data times, `saveAt.ts`), and for
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
import type { FieldTrainConfig, SeriesData, TrainConfig } from "./config.ts";

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
 * Whether times are uniformly spaced (to 1e-9 of their span).
 *
 * @param ts Strictly increasing times, at least 2.
 * @returns True when `ts[i] = ts[0] + i·(ts[n−1] − ts[0])/(n − 1)` for every `i`.
 *
 * @example
 * ```ts
 * import { isUniform } from "./data.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isUniform(Float64Array.of(0, 0.5, 1)), true);
 * assert.equal(isUniform(Float64Array.of(0, 0.1, 1)), false);
 * ```
 */
export function isUniform(ts: Float64Array): boolean {
  const n = ts.length;
  const span = ts[n - 1] - ts[0];
  for (let i = 1; i < n; i++) {
    const expected = ts[0] + (span * i) / (n - 1);
    if (Math.abs(ts[i] - expected) > 1e-9 * Math.max(1, Math.abs(span))) return false;
  }
  return true;
}

/**
 * The data as one list, checked: each trajectory has at least 2 strictly
 * increasing finite times (any spacing; trajectories may have different
 * times), finite states and the model's state dimension.
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
 * assert.throws(() => checkData({ ...d, ts: Float64Array.of(1, 0) }, 1), /data\[0\]\.ts\[1\]/);
 * ```
 */
export function checkData(data: SeriesData | readonly SeriesData[], dim: number): SeriesData[] {
  const list = (Array.isArray(data) ? data : [data]) as SeriesData[];
  if (list.length === 0) invalidArgument("data", data, "at least one trajectory");
  list.forEach((d, k) => {
    const ts = d.ts;
    if (!(ts instanceof Float64Array) || ts.length < 2) {
      invalidArgument(`data[${k}].ts`, ts, "a Float64Array of at least 2 times");
    }
    for (let i = 0; i < ts.length; i++) {
      if (!Number.isFinite(ts[i]) || (i > 0 && !(ts[i] > ts[i - 1]))) {
        invalidArgument(`data[${k}].ts[${i}]`, ts[i], "finite, strictly increasing times");
      }
    }
    if (d.dim !== dim) {
      invalidArgument(`data[${k}].dim`, d.dim, `${dim}, the model's state dimension`);
    }
    if (!(d.ys instanceof Float64Array) || d.ys.length !== ts.length * dim) {
      invalidArgument(`data[${k}].ys`, d.ys, `a Float64Array [${ts.length}, ${dim}]`);
    }
    for (let i = 0; i < d.ys.length; i++) {
      if (!Number.isFinite(d.ys[i])) {
        invalidArgument(`data[${k}].ys[${i}]`, d.ys[i], "finite numbers only");
      }
    }
  });
  return list;
}

/** The index of the first trajectory whose times differ from the first's, or -1. */
function _firstOtherTimes(list: readonly SeriesData[]): number {
  const ts = list[0].ts;
  return list.findIndex((d) => d.ts.length !== ts.length || d.ts.some((t, i) => t !== ts[i]));
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
  /** The members' times (they share them): the solve runs from the first to the last. */
  ts: Float64Array;
  /** Initial states `[members, dim]`. */
  y0: Float64Array;
  /**
   * Targets `[saved, members, dim]`. On the `"aligned"` grid saved row `s` is
   * the end of solver step `s + 1` (zero off the data points); on the
   * `"times"` grid it is the data at `ts[s + 1]`.
   */
  targets: Float64Array;
}

/**
 * The training data of a configuration: checked trajectories, how the solve's
 * outputs meet the data (the solver's steps aligned with a uniform grid, or
 * outputs at the data times), the MSE's row weights, and each iteration's
 * minibatch.
 */
export class TrainingData {
  /** The trajectories. */
  readonly list: readonly SeriesData[];
  /** State dimension. */
  readonly dim: number;
  /** Data points of the first trajectory. */
  readonly points: number;
  /** The first trajectory's first time. */
  readonly t0: number;
  /** The first trajectory's last time. */
  readonly t1: number;
  /**
   * How the solve's outputs meet the data: `"aligned"`, the ends of fixed
   * steps lined up with a uniform grid the trajectories share; `"times"`,
   * outputs at each data time (`saveAt.ts`: the adaptive solve's own steps,
   * or fixed steps with Hermite interpolation when the times are not uniform
   * or not shared). Gaps in the data are then simply times without output.
   */
  readonly grid: "aligned" | "times";
  /** True when every trajectory has the same times. */
  readonly sharedTimes: boolean;
  /** How the saved outputs line up with the data (the `"times"` grid: one output per data time). */
  readonly align: Alignment;
  /** Saved rows per solve of the first trajectory (the initial state not saved). */
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
   * @param config The configuration (steps or adaptive, batch, seed).
   * @param data One trajectory or several; trajectories with different times need `batch` 1.
   * @param dim The vector field's state dimension (default `config.mlp.dim`).
   * @throws {RangeError} When the data or the batch size do not fit.
   */
  constructor(
    config: FieldTrainConfig,
    data: SeriesData | readonly SeriesData[],
    dim: number = (config as TrainConfig).mlp.dim,
  ) {
    const list = checkData(data, dim);
    this.list = list;
    this.dim = dim;
    const ts = list[0].ts;
    this.points = ts.length;
    this.t0 = ts[0];
    this.t1 = ts[ts.length - 1];
    const other = _firstOtherTimes(list);
    this.sharedTimes = other < 0;
    this.grid = config.adaptive === null && this.sharedTimes && isUniform(ts) ? "aligned" : "times";
    // Outputs at the data times: one saved row per point after the first.
    this.align = this.grid === "times"
      ? {
        steps: config.adaptive ? this.points - 1 : config.steps,
        stepsPerPoint: 1,
        pointStride: 1,
        targets: this.points - 1,
      }
      : alignSteps(this.points, config.steps);
    this.saved = this.grid === "times" ? this.points - 1 : this.align.steps;
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
    if (!this.sharedTimes && config.batch > 1) {
      invalidArgument(
        "batch",
        config.batch,
        `1: the trajectories have different times (data[${other}].ts differs from ` +
          `data[0].ts), and a batch is solved on one set of times`,
      );
    }
    this.batchSize = Math.min(config.batch, list.length);
    this.minibatches = this.batchSize < list.length;
    this.#seed = config.seed;
  }

  /**
   * The minibatch of an iteration: its members' times, initial states and targets.
   *
   * @param iteration 0-based iteration.
   * @returns Members, times, `y0` and targets.
   */
  batch(iteration: number): Batch {
    const { dim, align, list } = this;
    const members = minibatch(list.length, this.batchSize, this.#seed, iteration);
    const ts = list[members[0]].ts;
    const saved = this.grid === "times" ? ts.length - 1 : this.saved;
    const size = members.length;
    const y0 = new Float64Array(size * dim);
    const targets = new Float64Array(saved * size * dim);
    members.forEach((m, b) => {
      const ys = list[m].ys;
      y0.set(ys.subarray(0, dim), b * dim);
      for (let s = 0; s < saved; s++) {
        // Saved row s is the end of step s + 1 (aligned), or data time s + 1.
        const stepEnd = s + 1;
        if (stepEnd % align.stepsPerPoint !== 0) continue;
        const row = (stepEnd / align.stepsPerPoint) * align.pointStride;
        targets.set(ys.subarray(row * dim, row * dim + dim), (s * size + b) * dim);
      }
    });
    return { members, ts, y0, targets };
  }
}
