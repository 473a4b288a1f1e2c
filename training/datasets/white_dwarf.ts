/**
 * The white-dwarf dataset of McCallum & Foster (2024) (numerics.md §5.1):
 * Chandrasekhar's equation with C = 0.001 from y(0) = [1, 0], solved
 * accurately with fixed-step RK4 on a grid finer than the training grid and
 * sampled on the training grid `t_i = 5 i / 1000` (h = 0.005).
 *
 * @module
 */

import { invalidArgument, requireInteger, requireKnownKeys } from "../../solvers/checks.ts";
import { whiteDwarfField } from "../../solvers/fields/white_dwarf.ts";

/**
 * A white-dwarf trajectory: the same shape as the Schmidt–Lipson
 * `Trajectory` (schmidt_lipson.ts), with a two-dimensional state.
 *
 * @example
 * ```ts
 * import { whiteDwarfData, type WhiteDwarfTrajectory } from "./white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data: WhiteDwarfTrajectory = whiteDwarfData({ points: 11 });
 * assert.equal(data.dim, 2);
 * ```
 */
export interface WhiteDwarfTrajectory {
  /** Sample times, strictly increasing, from 0 to the duration. */
  ts: Float64Array;
  /** States `[points, 2]` row-major: (y1, y2) at `ts[i]`. */
  ys: Float64Array;
  /** State dimension, 2. */
  dim: 2;
  /** How the data were made. */
  source: string;
}

/** Options of {@link whiteDwarfData}; the defaults are the paper's. */
export interface WhiteDwarfOptions {
  /** Number of grid points including t = 0, ≥ 2 (default 1001: 1000 steps of 0.005). */
  points?: number;
  /** End of the window [0, duration] (default 5). */
  duration?: number;
  /** The equation's constant C (default 0.001). */
  c?: number;
  /** Initial state (default [1, 0]). */
  y0?: ArrayLike<number>;
  /** RK4 steps per grid interval (default 20). */
  substeps?: number;
}

/**
 * Generates the white-dwarf training data from the equation.
 *
 * With the defaults the samples agree with the exact solution of the equation
 * to about 1e-12 (RK4 at h = 0.00025, error O(h⁴)).
 *
 * @param options Grid, constant, initial state, accuracy.
 * @returns `{ ts, ys: [points, 2], dim: 2, source }`; row 0 is `y0`.
 *
 * @example
 * ```ts
 * import { whiteDwarfData } from "./white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData();
 * assert.equal(data.ts.length, 1001);
 * assert.equal(data.ts[1000], 5);
 * assert.deepEqual([...data.ys.subarray(0, 2)], [1, 0]);
 * // Twice the substeps changes the samples by far less than the training loss can see.
 * const finer = whiteDwarfData({ substeps: 40 });
 * assert.ok(Math.abs(finer.ys[2000] - data.ys[2000]) < 1e-10);
 * ```
 */
export function whiteDwarfData(options: WhiteDwarfOptions = {}): WhiteDwarfTrajectory {
  requireKnownKeys("options", options, ["points", "duration", "c", "y0", "substeps"]);
  const points = requireInteger("options.points", options.points ?? 1001, 2);
  const duration = options.duration ?? 5;
  if (!(duration > 0 && duration < Infinity)) {
    invalidArgument("options.duration", duration, "a finite number > 0");
  }
  const c = options.c ?? 0.001;
  if (!(c >= 0 && c < Infinity)) invalidArgument("options.c", c, "a finite number >= 0");
  const substeps = requireInteger("options.substeps", options.substeps ?? 20, 1);
  const start = options.y0 ?? [1, 0];
  if (start.length !== 2) invalidArgument("options.y0", start, "two numbers (y1, y2)");
  const y = Float64Array.of(start[0], start[1]);
  for (let k = 0; k < 2; k++) {
    if (!Number.isFinite(y[k])) invalidArgument(`options.y0[${k}]`, y[k], "a finite number");
  }

  const field = whiteDwarfField();
  const params = Float64Array.of(c);
  const k1 = new Float64Array(2), k2 = new Float64Array(2);
  const k3 = new Float64Array(2), k4 = new Float64Array(2);
  const tmp = new Float64Array(2);
  const ts = new Float64Array(points);
  const ys = new Float64Array(points * 2);
  ys[0] = y[0];
  ys[1] = y[1];
  const total = (points - 1) * substeps;
  const h = duration / total;
  for (let i = 1; i < points; i++) {
    for (let s = 0; s < substeps; s++) {
      // Time from the step index, not by accumulation, so no drift in t.
      const t = (duration * ((i - 1) * substeps + s)) / total;
      field.evaluate(t, y, 1, params, k1);
      for (let k = 0; k < 2; k++) tmp[k] = y[k] + 0.5 * h * k1[k];
      field.evaluate(t + 0.5 * h, tmp, 1, params, k2);
      for (let k = 0; k < 2; k++) tmp[k] = y[k] + 0.5 * h * k2[k];
      field.evaluate(t + 0.5 * h, tmp, 1, params, k3);
      for (let k = 0; k < 2; k++) tmp[k] = y[k] + h * k3[k];
      field.evaluate(t + h, tmp, 1, params, k4);
      for (let k = 0; k < 2; k++) y[k] += (h / 6) * (k1[k] + 2 * k2[k] + 2 * k3[k] + k4[k]);
    }
    ts[i] = i === points - 1 ? duration : (duration * i) / (points - 1);
    if (!Number.isFinite(y[0]) || !Number.isFinite(y[1])) {
      // (y1² − C)^{3/2} is undefined once y1² < C: the solution left the
      // equation's domain.
      throw new RangeError(
        `The white-dwarf solution leaves the domain y1² > C = ${c} before t = ${ts[i]}; ` +
          `choose a shorter duration or a smaller C.`,
      );
    }
    ys[2 * i] = y[0];
    ys[2 * i + 1] = y[1];
  }
  return {
    ts,
    ys,
    dim: 2,
    source: `white dwarf equation (C=${c}, y0=[${start[0]}, ${start[1]}]), ` +
      `RK4 with ${substeps} steps per sample`,
  };
}
