/**
 * Time grids `t_0 < t_1 < … < t_N` and which of their points are saved.
 * A uniform grid is computed on the fly, so a solve holds no array that grows
 * with the number of steps.
 *
 * @module
 */

import { invalidArgument, requireInteger } from "./errors.ts";

/** An increasing time grid with `steps + 1` points. */
export interface TimeGrid {
  /** Number of steps `N`. */
  readonly steps: number;
  /** The time `t_n`, `0 ≤ n ≤ N`. */
  time(n: number): number;
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
 * ```
 */
export function uniformGrid(t0: number, t1: number, steps: number): TimeGrid {
  if (!Number.isFinite(t0)) invalidArgument("t0", t0, "a finite number");
  if (!Number.isFinite(t1) || !(t1 > t0)) {
    invalidArgument("t1", t1, `a finite number greater than t0 = ${t0}`);
  }
  requireInteger("steps", steps, 1);
  const span = t1 - t0;
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

/**
 * Which grid points are saved, as in Diffrax's `SaveAt`: `t0` the initial
 * point, `t1` the final one, `steps` the end of every step (`t_1 … t_N`).
 * The default saves `t1` only.
 */
export interface SaveAt {
  /** Save `y(t_0)`. */
  t0?: boolean;
  /** Save `y(t_N)` (implied by `steps`). */
  t1?: boolean;
  /** Save the end of every step. */
  steps?: boolean;
}

/**
 * Maps grid indices to output slots without storing a table.
 *
 * @example
 * ```ts
 * import { SaveSlots } from "./grid.ts";
 * import assert from "node:assert/strict";
 *
 * const s = new SaveSlots({ t0: true, t1: true }, 10);
 * assert.equal(s.count, 2);
 * assert.equal(s.slot(10), 1);
 * assert.equal(s.slot(5), -1);
 * ```
 */
export class SaveSlots {
  /** Number of saved points. */
  readonly count: number;
  /** Number of steps of the grid. */
  readonly n: number;
  private readonly t0: boolean;
  private readonly steps: boolean;
  private readonly t1: boolean;

  /**
   * Checks `saveAt` and counts the saved points of an `n`-step grid.
   *
   * @param saveAt What to save.
   * @param n Number of steps of the grid.
   */
  constructor(saveAt: SaveAt, n: number) {
    this.n = n;
    if (saveAt === null || typeof saveAt !== "object") {
      invalidArgument("saveAt", saveAt, "an object { t0?, t1?, steps? }");
    }
    for (const key of Object.keys(saveAt)) {
      if (!["t0", "t1", "steps"].includes(key)) {
        invalidArgument(
          `saveAt.${key}`,
          (saveAt as Record<string, unknown>)[key],
          "one of the keys t0, t1, steps",
        );
      }
    }
    this.t0 = saveAt.t0 === true;
    this.steps = saveAt.steps === true;
    this.t1 = this.steps || saveAt.t1 === true;
    if (!this.t0 && !this.t1) {
      invalidArgument("saveAt", saveAt, "at least one of t0, t1, steps set to true");
    }
    this.count = (this.t0 ? 1 : 0) + (this.steps ? n : this.t1 ? 1 : 0);
  }

  /**
   * The output slot of grid point `i`, or −1 when it is not saved.
   *
   * @param i Grid index, `0 ≤ i ≤ n`.
   * @returns The slot.
   */
  slot(i: number): number {
    const first = this.t0 ? 1 : 0;
    if (i === 0) return this.t0 ? 0 : -1;
    if (this.steps) return first + i - 1;
    return i === this.n && this.t1 ? first : -1;
  }
}
