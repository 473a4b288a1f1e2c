/**
 * Time grids `t_0 < t_1 < … < t_N`.
 * A uniform grid is computed on the fly, so a solve holds no array that grows
 * with the number of steps.
 *
 * @module
 */

import { invalidArgument, requireInteger } from "./checks.ts";

/** An increasing time grid with `steps + 1` points. */
export interface TimeGrid {
  /** Number of steps `N`. */
  readonly steps: number;
  /** The time `t_n`, `0 ≤ n ≤ N`. */
  time(n: number): number;
}

/**
 * The shortest step a solve over `[t0, t1]` takes: 64 ulp of the larger
 * time, below which `t + h` rounds to `t` or nearly. Uniform grids refuse
 * steps below it; adaptive steps are never shorter.
 *
 * @param t0 Start time.
 * @param t1 End time.
 * @returns `64 ε max(|t0|, |t1|)`.
 *
 * @example
 * ```ts
 * import { timeResolution } from "./grid.ts";
 * import assert from "node:assert/strict";
 * assert.ok(1 + timeResolution(0, 1) > 1);
 * assert.equal(timeResolution(0, 1), 64 * Number.EPSILON);
 * ```
 */
export function timeResolution(t0: number, t1: number): number {
  return 64 * Number.EPSILON * Math.max(Math.abs(t0), Math.abs(t1));
}

/**
 * The uniform grid `t_n = t0 + n (t1 − t0) / N`, with `t_N = t1` exactly.
 *
 * @param t0 Start time.
 * @param t1 End time, greater than `t0`.
 * @param steps Number of steps `N ≥ 1`.
 * @returns The grid.
 *
 * @example
 * ```ts
 * import { uniformGrid } from "./grid.ts";
 * import assert from "node:assert/strict";
 * assert.equal(uniformGrid(0, 1, 4).time(2), 0.5);
 * // steps below the resolution of t are refused
 * assert.throws(() => uniformGrid(1e16, 1e16 + 4, 1000), /steps.*1000.*at most 0/);
 * ```
 */
export function uniformGrid(t0: number, t1: number, steps: number): TimeGrid {
  if (!Number.isFinite(t0)) invalidArgument("t0", t0, "a finite number");
  if (!Number.isFinite(t1) || !(t1 > t0)) {
    invalidArgument("t1", t1, `a finite number greater than t0 = ${t0}`);
  }
  requireInteger("steps", steps, 1);
  const span = t1 - t0;
  const resolution = timeResolution(t0, t1);
  if (!(span / steps > resolution)) {
    invalidArgument(
      "steps",
      steps,
      `at most ${Math.floor(span / resolution)} over [${t0}, ${t1}]: a step shorter than ` +
        `${resolution} (64 ulp of t) cannot be told apart from the times around it`,
    );
  }
  return { steps, time: (n) => (n === steps ? t1 : t0 + (span * n) / steps) };
}

/**
 * A grid given point by point.
 *
 * @param ts At least two finite, strictly increasing times.
 * @param name The argument name used in error messages.
 * @returns The grid.
 *
 * @example
 * ```ts
 * import { explicitGrid } from "./grid.ts";
 * import assert from "node:assert/strict";
 * assert.equal(explicitGrid([0, 0.1, 0.5]).steps, 2);
 * assert.throws(() => explicitGrid([0, 0.5, 0.5]), /grid\[2\].*strictly greater/);
 * ```
 */
export function explicitGrid(ts: ArrayLike<number>, name = "grid"): TimeGrid {
  if (ts === null || typeof ts !== "object" || typeof ts.length !== "number" || ts.length < 2) {
    invalidArgument(name, ts, "an array of at least two increasing times");
  }
  const times = Float64Array.from(ts);
  for (let i = 0; i < times.length; i++) {
    if (!Number.isFinite(times[i])) invalidArgument(`${name}[${i}]`, times[i], "a finite time");
    if (i > 0 && !(times[i] > times[i - 1])) {
      invalidArgument(
        `${name}[${i}]`,
        times[i],
        `a time strictly greater than ${name}[${i - 1}] = ${times[i - 1]}`,
      );
    }
  }
  return { steps: times.length - 1, time: (n) => times[n] };
}
