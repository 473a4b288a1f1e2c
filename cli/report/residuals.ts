/**
 * The residuals of a fit: data − model per state at the data times, in the
 * data's units, their summary (RMS and largest size per state, and with an
 * extrapolation split the fitted and held-out parts apart) for
 * `summary.json`, and their plot, `residuals.svg`.
 *
 * @module
 */

import type { SeriesData } from "../../training/config.ts";
import { lineChart, PALETTE, type Series } from "./svg.ts";

/** One state's residual statistics (null where the model has no finite value). */
export interface ResidualStats {
  /** Root mean square of data − model over every data time. */
  rms: number | null;
  /** Largest |data − model|. */
  maxAbs: number | null;
  /** RMS over the times trained on (t ≤ the cut), with an extrapolation split. */
  rmsFitted?: number | null;
  /** RMS over the held-out times (t > the cut), with an extrapolation split. */
  rmsHeldOut?: number | null;
}

/**
 * Data − model at every data time, row by row (`[points, dim]`). The model's
 * trajectory is taken at the data times where it has them (the solver's
 * outputs land on them), else interpolated linearly between its outputs.
 *
 * @param data The data, in their units.
 * @param fit The model's trajectory in the same units (`predictData()`).
 * @returns The residuals.
 *
 * @example
 * ```ts
 * import { residuals } from "./residuals.ts";
 * import assert from "node:assert/strict";
 *
 * const data = { ts: Float64Array.of(0, 1), ys: Float64Array.of(1, 3), dim: 1, source: "" };
 * const fit = { ts: Float64Array.of(0, 0.5, 1), ys: Float64Array.of(1, 2, 2.5) };
 * assert.deepEqual([...residuals(data, fit)], [0, 0.5]);
 * ```
 */
export function residuals(
  data: SeriesData,
  fit: { ts: ArrayLike<number>; ys: ArrayLike<number> },
): Float64Array {
  const { ts, ys, dim } = data;
  const out = new Float64Array(ys.length);
  const span = Math.abs(ts[ts.length - 1] - ts[0]) || 1;
  let j = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    while (j + 1 < fit.ts.length && fit.ts[j + 1] <= t + 1e-9 * span) j++;
    const exact = Math.abs(fit.ts[j] - t) <= 1e-9 * span || j + 1 >= fit.ts.length;
    const w = exact ? 0 : (t - fit.ts[j]) / (fit.ts[j + 1] - fit.ts[j]);
    for (let k = 0; k < dim; k++) {
      const a = fit.ys[j * dim + k];
      const model = exact ? a : a + w * (fit.ys[(j + 1) * dim + k] - a);
      out[i * dim + k] = ys[i * dim + k] - model;
    }
  }
  return out;
}

/**
 * The residuals' statistics per state, keyed by the state's name.
 *
 * @param names The states' names.
 * @param data The data (their times).
 * @param r The residuals ({@link residuals}).
 * @param cut The last time trained on in an extrapolation split, or null.
 * @returns Per state: RMS and largest size, and with a cut the RMS of each side.
 *
 * @example
 * ```ts
 * import { residualSummary } from "./residuals.ts";
 * import assert from "node:assert/strict";
 *
 * const data = { ts: Float64Array.of(0, 1, 2), ys: new Float64Array(3), dim: 1, source: "" };
 * const s = residualSummary(["x"], data, Float64Array.of(3, -4, 0), 1);
 * assert.deepEqual(s.x, { rms: Math.sqrt(25 / 3), maxAbs: 4, rmsFitted: Math.sqrt(12.5), rmsHeldOut: 0 });
 * ```
 */
export function residualSummary(
  names: readonly string[],
  data: SeriesData,
  r: Float64Array,
  cut: number | null,
): Record<string, ResidualStats> {
  const { ts, dim } = data;
  const rms = (k: number, keep: (t: number) => boolean) => {
    let sum = 0, n = 0;
    for (let i = 0; i < ts.length; i++) {
      if (!keep(ts[i])) continue;
      sum += r[i * dim + k] ** 2;
      n++;
    }
    return _finite(Math.sqrt(sum / n));
  };
  const out: Record<string, ResidualStats> = {};
  for (let k = 0; k < dim; k++) {
    let maxAbs = 0;
    for (let i = 0; i < ts.length; i++) maxAbs = Math.max(maxAbs, Math.abs(r[i * dim + k]));
    const stats: ResidualStats = { rms: rms(k, () => true), maxAbs: _finite(maxAbs) };
    if (cut !== null) {
      stats.rmsFitted = rms(k, (t) => t <= cut);
      stats.rmsHeldOut = rms(k, (t) => t > cut);
    }
    out[names[k]] = stats;
  }
  return out;
}

/**
 * The residuals' plot: data − model against time, one line per state, the
 * held-out part shaded.
 *
 * @param names The states' names.
 * @param data The data (their times).
 * @param r The residuals ({@link residuals}).
 * @param yLabel The vertical axis' units.
 * @param heldOutFrom The cut of an extrapolation split, or null.
 * @returns The SVG document.
 *
 * @example
 * ```ts
 * import { residualChart } from "./residuals.ts";
 * import assert from "node:assert/strict";
 *
 * const data = { ts: Float64Array.of(0, 1), ys: new Float64Array(2), dim: 1, source: "" };
 * const svg = residualChart(["x"], data, Float64Array.of(0.1, -0.2), "m", null);
 * assert.ok(svg.includes("x: data − model"));
 * ```
 */
export function residualChart(
  names: readonly string[],
  data: SeriesData,
  r: Float64Array,
  yLabel: string,
  heldOutFrom: number | null,
): string {
  const { ts, dim } = data;
  const series: Series[] = names.map((name, k) => ({
    name: `${name}: data − model`,
    x: ts,
    y: Array.from({ length: ts.length }, (_, i) => r[i * dim + k]),
    color: PALETTE[k % PALETTE.length],
  }));
  return lineChart({
    title: "Residuals (data − model) at the data times",
    xLabel: "time t",
    yLabel: `residual (${yLabel})`,
    series,
    bands: heldOutFrom === null
      ? []
      : [{ from: heldOutFrom, to: ts[ts.length - 1], label: "held out (validation)" }],
  });
}

function _finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
