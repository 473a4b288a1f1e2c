/**
 * The synthetic tables behind the defaults of `deno task train --data
 * FILE` (bench/defaults.ts, `--section tables`): small systems a scientist
 * might bring, made here from their equations (RK4 with many substeps per
 * output interval, so the truth is exact to plotting accuracy), as the CSV
 * text a user's file would hold. Nothing is read from disk.
 *
 * - `oscillator`: x = e^(−0.1t)·cos 2t and its velocity v, t in [0, 10],
 *   101 rows (the new user's table of issue 15).
 * - `lotka-volterra`: prey and predator (α = 2/3, β = 4/3, γ = δ = 1, from
 *   (1, 1)), 101 times drawn uniformly in [0, 15] (irregular sampling).
 * - `lorenz`: the Lorenz system (σ = 10, ρ = 28, β = 8/3) from (−8, 7, 27)
 *   over t in [0, 1], 101 rows: three states, one loop of the attractor.
 * - `pendulum`: a damped pendulum θ'' = −0.3θ' − 4 sin θ from (2, 0), t in
 *   [0, 10], 101 rows, with Gaussian noise of 1% of each state's range.
 *
 * @module
 */

/** A synthetic table: its CSV text and the noise-free states at its times. */
export interface SyntheticTable {
  /** Its name on the command line of `deno task defaults`. */
  name: string;
  /** What it is, in words. */
  description: string;
  /** The CSV text: a header `t,…` and one row per time. */
  csv: string;
  /** The times. */
  ts: Float64Array;
  /** The noise-free states `[points, dim]` (equal to the table's where it has no noise). */
  truth: Float64Array;
  /** The standard deviation of the added noise, per state (0 where none). */
  noise: number[];
}

/** A right-hand side y' = f(t, y). */
type Rhs = (t: number, y: readonly number[]) => number[];

/**
 * Every synthetic table, in a fixed order.
 *
 * @returns The four tables.
 *
 * @example
 * ```ts
 * import { syntheticTables } from "./defaults_tables.ts";
 * import assert from "node:assert/strict";
 *
 * const tables = syntheticTables();
 * assert.deepEqual(tables.map((t) => t.name), ["oscillator", "lotka-volterra", "lorenz", "pendulum"]);
 * const osc = tables[0];
 * assert.equal(osc.csv.split("\n")[0], "time,x,v");
 * // x(10) = e^(−1) cos 20
 * assert.ok(Math.abs(osc.truth[2 * 100] - Math.exp(-1) * Math.cos(20)) < 1e-9);
 * assert.ok(tables[3].noise.every((s) => s > 0));
 * ```
 */
export function syntheticTables(): SyntheticTable[] {
  const uniform = (t1: number) => Float64Array.from({ length: 101 }, (_, i) => (t1 * i) / 100);
  const random = _mulberry32(15);
  const irregular = Float64Array.from(
    [0, 15, ...Array.from({ length: 99 }, () => 15 * random())].sort((a, b) => a - b),
  );
  const pendulum = _integrate((_, [q, w]) => [w, -0.3 * w - 4 * Math.sin(q)], [2, 0], uniform(10));
  return [
    _table(
      "oscillator",
      "x = e^(−0.1t)·cos 2t and v = x', t in [0, 10], 101 rows",
      ["time", "x", "v"],
      _integrate((_, [x, v]) => [v, -0.2 * v - 4.01 * x], [1, -0.1], uniform(10)),
    ),
    _table(
      "lotka-volterra",
      "prey and predator, 101 irregular times in [0, 15]",
      ["t", "prey", "predator"],
      _integrate(
        (_, [x, y]) => [(2 / 3) * x - (4 / 3) * x * y, x * y - y],
        [1, 1],
        irregular,
      ),
    ),
    _table(
      "lorenz",
      "Lorenz (σ 10, ρ 28, β 8/3) from (−8, 7, 27), t in [0, 1], 101 rows",
      ["t", "x", "y", "z"],
      _integrate(
        (_, [x, y, z]) => [10 * (y - x), x * (28 - z) - y, x * y - (8 / 3) * z],
        [-8, 7, 27],
        uniform(1),
      ),
    ),
    _table(
      "pendulum",
      "damped pendulum θ, ω, t in [0, 10], 101 rows, noise 1% of each range",
      ["t", "theta", "omega"],
      pendulum,
      0.01,
    ),
  ];
}

/** The states at `ts` from y0 by RK4, 200 substeps per interval. */
function _integrate(f: Rhs, y0: number[], ts: Float64Array): { ts: Float64Array; ys: number[][] } {
  const ys = [y0.slice()];
  let y = y0.slice();
  for (let i = 1; i < ts.length; i++) {
    const n = 200, h = (ts[i] - ts[i - 1]) / n;
    for (let k = 0, t = ts[i - 1]; k < n; k++, t += h) {
      const k1 = f(t, y);
      const k2 = f(t + h / 2, y.map((v, j) => v + (h / 2) * k1[j]));
      const k3 = f(t + h / 2, y.map((v, j) => v + (h / 2) * k2[j]));
      const k4 = f(t + h, y.map((v, j) => v + h * k3[j]));
      y = y.map((v, j) => v + (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]));
    }
    ys.push(y.slice());
  }
  return { ts, ys };
}

/** A table from a solution; `noise` adds N(0, (noise · range)²) per state (seeded). */
function _table(
  name: string,
  description: string,
  columns: string[],
  { ts, ys }: { ts: Float64Array; ys: number[][] },
  noise = 0,
): SyntheticTable {
  const dim = ys[0].length;
  const range = Array.from({ length: dim }, (_, j) => {
    const column = ys.map((y) => y[j]);
    return Math.max(...column) - Math.min(...column);
  });
  const sigma = range.map((r) => noise * r);
  const gauss = _gaussian(_mulberry32(2009));
  const rows = ys.map((y, i) =>
    [ts[i], ...y.map((v, j) => v + (sigma[j] > 0 ? sigma[j] * gauss() : 0))].join(",")
  );
  return {
    name,
    description,
    csv: [columns.join(","), ...rows].join("\n") + "\n",
    ts,
    truth: Float64Array.from(ys.flat()),
    noise: sigma,
  };
}

/** A seeded uniform generator on [0, 1) (mulberry32). */
function _mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform generator (Box–Muller). */
function _gaussian(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}
