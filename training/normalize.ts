/**
 * Normalisation of the states: the model learns `z = (y − shift) / scale`
 * per state, so that states of very different sizes weigh alike in the
 * loss; every value a user sees is mapped back, `y = shift + scale · z`.
 * `"standard"` takes each state's mean and standard deviation over every
 * point of the training trajectories. Times are never changed.
 *
 * @example A round trip
 * ```ts
 * import { denormalize, normalizeData, standardization } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * const data = [{ ts: Float64Array.of(0, 1), ys: Float64Array.of(1, 10, 3, 30), dim: 2, source: "" }];
 * const n = standardization(data);
 * assert.deepEqual(n, { shift: [2, 20], scale: [1, 10] });
 * const [z] = normalizeData(data, n);
 * assert.deepEqual([...z.ys], [-1, -1, 1, 1]);
 * assert.deepEqual([...denormalize(z.ys, n)], [1, 10, 3, 30]);
 * ```
 *
 * @module
 */

import { invalidArgument } from "../solvers/checks.ts";
import type { SeriesData } from "./config.ts";

/** Per-state shift and scale: the model's state is `(y − shift) / scale`. */
export interface Normalization {
  /** Subtracted from each state (its mean for `"standard"`). */
  shift: number[];
  /** Each state is divided by it, > 0 (its standard deviation for `"standard"`; 1 when that is 0). */
  scale: number[];
}

/**
 * The standard normalisation of training data: per state, the mean and the
 * (population) standard deviation over every point of every trajectory; a
 * state that never changes gets scale 1.
 *
 * @param data The training trajectories (at least one, all of one dimension).
 * @returns The shift and scale.
 *
 * @example
 * ```ts
 * import { standardization } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0, 1, 2), ys: Float64Array.of(5, 5, 5), dim: 1, source: "" };
 * assert.deepEqual(standardization([d]), { shift: [5], scale: [1] });
 *
 * // Far from order one, no overflow: mean 2e200, spread √(2/3)·1e200.
 * const big = { ...d, ys: Float64Array.of(1e200, 2e200, 3e200) };
 * const { shift, scale } = standardization([big]);
 * assert.ok(Math.abs(shift[0] / 2e200 - 1) < 1e-15);
 * assert.ok(Math.abs(scale[0] / (Math.sqrt(2 / 3) * 1e200) - 1) < 1e-15);
 * ```
 */
export function standardization(data: readonly SeriesData[]): Normalization {
  if (data.length === 0) invalidArgument("data", data, "at least one trajectory");
  const dim = data[0].dim;
  let count = 0;
  for (const d of data) {
    if (d.dim !== dim) invalidArgument("data.dim", d.dim, `${dim}, as data[0]`);
    count += d.ys.length / dim;
  }
  // Each term divided before it is summed, and the deviations measured in
  // units of the largest: data near 1e200 (or 1e-200) neither overflow nor
  // underflow on the way to their mean and spread.
  const shift = new Array<number>(dim).fill(0);
  const largest = new Float64Array(dim);
  for (const d of data) {
    for (let i = 0; i < d.ys.length; i++) shift[i % dim] += d.ys[i] / count;
  }
  for (const d of data) {
    for (let i = 0; i < d.ys.length; i++) {
      largest[i % dim] = Math.max(largest[i % dim], Math.abs(d.ys[i] - shift[i % dim]));
    }
  }
  const squares = new Float64Array(dim);
  for (const d of data) {
    for (let i = 0; i < d.ys.length; i++) {
      const k = i % dim;
      if (largest[k] > 0) squares[k] += ((d.ys[i] - shift[k]) / largest[k]) ** 2;
    }
  }
  const scale = Array.from(squares, (s, k) => largest[k] * Math.sqrt(s / count) || 1);
  return { shift, scale };
}

/**
 * Checks a normalisation against a state dimension.
 *
 * @param n The normalisation.
 * @param dim The state dimension.
 * @returns `n`.
 *
 * @example
 * ```ts
 * import { checkNormalization } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkNormalization({ shift: [0], scale: [0] }, 1), /scale\[0\].*> 0/);
 * ```
 */
export function checkNormalization(n: Normalization, dim: number): Normalization {
  for (const key of ["shift", "scale"] as const) {
    const v = n[key];
    if (!Array.isArray(v) || v.length !== dim) {
      invalidArgument(`normalization.${key}`, v, `${dim} numbers, one per state`);
    }
    v.forEach((x, i) => {
      if (!Number.isFinite(x) || (key === "scale" && !(x > 0))) {
        invalidArgument(
          `normalization.${key}[${i}]`,
          x,
          key === "scale" ? "a finite number > 0" : "a finite number",
        );
      }
    });
  }
  return n;
}

/**
 * States in model units: `(y − shift) / scale`, row by row.
 *
 * @param ys States `[points, dim]` in the data's units.
 * @param n The normalisation.
 * @returns A new array in model units.
 *
 * @example
 * ```ts
 * import { normalize } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...normalize(Float64Array.of(3), { shift: [1], scale: [2] })], [1]);
 * ```
 */
export function normalize(ys: ArrayLike<number>, n: Normalization): Float64Array {
  const dim = n.shift.length;
  return Float64Array.from(ys, (y, i) => (y - n.shift[i % dim]) / n.scale[i % dim]);
}

/**
 * States in the data's units: `shift + scale · z`, row by row.
 *
 * @param zs States `[points, dim]` in model units.
 * @param n The normalisation.
 * @returns A new array in the data's units.
 *
 * @example
 * ```ts
 * import { denormalize } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...denormalize(Float64Array.of(1), { shift: [1], scale: [2] })], [3]);
 * ```
 */
export function denormalize(zs: ArrayLike<number>, n: Normalization): Float64Array {
  const dim = n.shift.length;
  return Float64Array.from(zs, (z, i) => n.shift[i % dim] + n.scale[i % dim] * z);
}

/**
 * Trajectories in model units (times unchanged).
 *
 * @param data The trajectories in the data's units.
 * @param n The normalisation.
 * @returns New trajectories.
 *
 * @example
 * ```ts
 * import { normalizeData } from "./normalize.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0), ys: Float64Array.of(4), dim: 1, source: "f" };
 * assert.deepEqual([...normalizeData([d], { shift: [2], scale: [2] })[0].ys], [1]);
 * ```
 */
export function normalizeData(data: readonly SeriesData[], n: Normalization): SeriesData[] {
  return data.map((d) => ({ ...d, ys: normalize(d.ys, checkNormalization(n, d.dim)) }));
}
