/**
 * What an exported model records about its training data, read from a
 * `model.json` at export: the state's names, units and scaling (known for
 * the paper's experiments), the data file's base name and SHA-256 (never
 * its path), the time window and the data's range, and — for a model
 * trained with adaptive steps — how far the exported fixed-step solve is
 * from the training solve. No file is read here (the browser bundles it):
 * provenance_file.ts reads the data file.
 *
 * @module
 */

import { Mlp } from "../solvers/fields/mlp.ts";
import { solve } from "../solvers/solve.ts";
import { pid } from "../solvers/controller.ts";
import { builtInData, type ExampleName, EXPERIMENTS } from "../training/experiments.ts";
import { schemeOf, type SeriesData } from "../training/config.ts";
import type { ModelConfig } from "../training/model_format.ts";
import type { AdaptiveGap, DataSummary, StateInfo } from "./metadata.ts";
import { scaleAt, type Scaling, toUser } from "./units.ts";

/**
 * Units and scaling of the paper's experiments. The scales are the data
 * readers' divisors (training/datasets/schmidt_lipson.ts: oscillator ÷ 100,
 * pendulum ÷ 10; the simulations use the same units); the white dwarf's
 * equation is dimensionless.
 */
const _UNITS: Readonly<Record<ExampleName, { units: readonly string[]; scale: number }>> = {
  "white-dwarf": { units: ["1", "1"], scale: 1 },
  oscillator: { units: ["px", "px", "px/s", "px/s"], scale: 100 },
  pendulum: { units: ["rad", "rad", "rad/s", "rad/s"], scale: 10 },
};

/**
 * Names, units and scaling of an experiment's state; none for other data.
 *
 * @param example The experiment, or null.
 * @param dim The field's dimension (names are given only when it matches).
 * @returns The state information.
 *
 * @example
 * ```ts
 * import { stateInfoOf } from "./provenance.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stateInfoOf("oscillator", 4).scale, 100);
 * assert.deepEqual(stateInfoOf("pendulum", 4).units, ["rad", "rad", "rad/s", "rad/s"]);
 * assert.deepEqual(stateInfoOf(null, 3), { names: null, units: null, scale: 1 });
 * ```
 */
export function stateInfoOf(example: ExampleName | null, dim: number): StateInfo {
  const e = example === null ? undefined : EXPERIMENTS[example];
  if (e === undefined || e.stateNames.length !== dim) {
    return { names: null, units: null, scale: 1 };
  }
  const u = _UNITS[e.name];
  return { names: [...e.stateNames], units: [...u.units], scale: u.scale };
}

/**
 * Names, units and scaling of a model file's state: the experiment's
 * ({@link stateInfoOf}), with `config.normalization` taking precedence
 * over the experiment's scalar (per-component `scale` and `shift`), and
 * the names from `config.data.columns` when the file has them.
 *
 * @param c The model file's configuration.
 * @returns The state information.
 *
 * @example
 * ```ts
 * import { stateInfoOfModel } from "./provenance.ts";
 * import assert from "node:assert/strict";
 *
 * const c = {
 *   example: null, mlp: { dim: 2, widths: [] },
 *   data: { source: "t.csv", path: "t.csv", simulated: false, points: 3, columns: { time: "t", states: ["x", "v"] } },
 *   normalization: { shift: [1, 2], scale: [3, 4] },
 * };
 * assert.deepEqual(stateInfoOfModel(c), { names: ["x", "v"], units: null, scale: [3, 4], shift: [1, 2] });
 * assert.deepEqual(stateInfoOfModel({ ...c, normalization: undefined }).scale, 1);
 * ```
 */
export function stateInfoOfModel(
  c: Pick<ModelConfig, "example" | "data" | "normalization"> & { mlp: { dim: number } },
): StateInfo {
  const dim = c.mlp.dim;
  const base = stateInfoOf(c.example, dim);
  const columns = c.data.columns?.states;
  const names = columns !== undefined && columns.length === dim ? [...columns] : base.names;
  const n = c.normalization;
  if (n === undefined) return { ...base, names };
  return { names, units: base.units, scale: [...n.scale], shift: [...n.shift] };
}

/**
 * What was found of a model's training data: the data file's SHA-256 (null
 * when there is no file or it was not readable) and the data themselves in
 * the experiment's units (null when not at hand).
 *
 * @example
 * ```ts
 * import type { DataFound } from "./provenance.ts";
 * import assert from "node:assert/strict";
 *
 * const found: DataFound = { sha256: null, data: null };
 * assert.equal(found.data, null);
 * ```
 */
export interface DataFound {
  /** The data file's SHA-256 (hex), or null. */
  sha256: string | null;
  /** The data, or null. */
  data: SeriesData | null;
}

/**
 * What can be found of a model's data without reading a file: the
 * experiment's built-in data (generated or simulated, as training made
 * them) when the model names an experiment and no data file; nothing else.
 *
 * @param c The model file's configuration.
 * @returns The data found.
 *
 * @example
 * ```ts
 * import { builtInFound } from "./provenance.ts";
 * import assert from "node:assert/strict";
 *
 * const c = { example: "white-dwarf" as const, data: { source: "", path: null, simulated: false, points: 1001 } };
 * assert.equal(builtInFound(c).data!.ts.length, 1001);
 * assert.equal(builtInFound({ ...c, data: { ...c.data, path: "wd.csv" } }).data, null);
 * ```
 */
export function builtInFound(c: Pick<ModelConfig, "example" | "data">): DataFound {
  const data = c.example !== null && c.data.path === null ? builtInData(c.example).data : null;
  return { sha256: null, data };
}

/**
 * The data summary of a model file's configuration: the data file's base
 * name (never its path) and the SHA-256 found, the window, and the range of
 * the data found (in user units, `shift + scale ·` the data's; null when no
 * data were found or the model names no experiment). No file is read here:
 * provenance_file.ts's `dataSummaryOf` reads them.
 *
 * @param c The model file's configuration.
 * @param scale The data's divisor, or the state's scaling (per-component scale, shift).
 * @param found What was found of the data; by default {@link builtInFound}.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { dataSummaryFrom } from "./provenance.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const c = {
 *   ...experimentConfig("oscillator"), example: "oscillator" as const, t0: 0, t1: 3,
 *   y0: [0, 0, 0, 0], data: { source: "simulated", path: null, simulated: true, points: 500 },
 * };
 * const data = dataSummaryFrom(c, 100);
 * assert.equal(data.file, null);
 * assert.equal(data.description, "simulated");
 * assert.deepEqual(data.window, [0, 3]);
 * assert.ok(data.range!.max[0] > 1); // pixels, not pixels ÷ 100
 * const shifted = dataSummaryFrom(c, { scale: [100, 100, 100, 100], shift: [5, 0, 0, 0] });
 * assert.equal(shifted.range!.max[0], data.range!.max[0] + 5);
 * const measured = { ...c, data: { ...c.data, path: "runs/../data/real_osc.txt", simulated: false } };
 * const unread = dataSummaryFrom(measured, 100);
 * assert.deepEqual([unread.file, unread.sha256, unread.range], ["real_osc.txt", null, null]);
 * ```
 */
export function dataSummaryFrom(
  c: ModelConfig,
  scale: number | Scaling,
  found: DataFound = builtInFound(c),
): DataSummary {
  const units: Scaling = typeof scale === "number" ? { scale } : scale;
  const path = c.data.path;
  const { sha256, data } = found;
  let range: DataSummary["range"] = null;
  if (c.example !== null && data !== null) {
    const min = new Array(data.dim).fill(Infinity);
    const max = new Array(data.dim).fill(-Infinity);
    const user = toUser(data.ys, data.dim, units);
    for (let i = 0; i < user.length; i++) {
      const d = i % data.dim;
      min[d] = Math.min(min[d], user[i]);
      max[d] = Math.max(max[d], user[i]);
    }
    range = { min, max };
  }
  return {
    file: path === null ? null : _baseName(path),
    sha256,
    description: c.data.simulated
      ? "simulated"
      : path !== null
      ? "measured, read from the file"
      : c.example === "white-dwarf"
      ? "generated from the equation"
      : "given in memory",
    window: [c.t0, c.t1],
    points: c.data.points,
    range,
  };
}

/** The last part of a path (either separator), as `basename` gives it: a name, never a path. */
function _baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  return trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) + 1);
}

/**
 * For a model trained with adaptive steps: solves from the trained initial
 * state once as training did (PID-controlled steps, outputs at the grid
 * times) and once as the exported integrator does (`steps` fixed steps),
 * and measures the largest difference, in user units.
 *
 * @param c The model file's configuration (with `adaptive`).
 * @param params The exported parameters.
 * @param scale The data's divisor, or the state's scaling (per-component scale, shift).
 * @returns The gap.
 *
 * @example
 * ```ts
 * import { adaptiveGapOf } from "./provenance.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const config = experimentConfig("pendulum");
 * const c = {
 *   ...config, example: "pendulum" as const, t0: 0, t1: 2, y0: [-0.1, -0.1, 0, -0.6],
 *   data: { source: "simulated", path: null, simulated: true, points: 500 },
 * };
 * const gap = adaptiveGapOf(c, new Mlp(config.mlp).init(0), 10);
 * assert.equal(gap.points, 499);
 * assert.ok(gap.maxAbs >= 0 && gap.relative < 1e-3);
 * const same = adaptiveGapOf(c, new Mlp(config.mlp).init(0), { scale: [10, 10, 10, 10], shift: [0, 0, 0, 0] });
 * assert.equal(same.maxAbs, gap.maxAbs); // a shift moves both solves alike
 * ```
 */
export function adaptiveGapOf(
  c: ModelConfig,
  params: ArrayLike<number>,
  scale: number | Scaling,
): AdaptiveGap {
  const units: Scaling = typeof scale === "number" ? { scale } : scale;
  if (c.adaptive === null) throw new RangeError("adaptiveGapOf needs a model trained adaptively.");
  const field = Mlp.fromJSON(c.mlp);
  const scheme = schemeOf({ ...c, gradient: "direct" });
  const y0 = Float64Array.from(c.y0);
  const theta = Float64Array.from(params);
  const dt = (c.t1 - c.t0) / c.steps;
  const grid = Array.from({ length: c.steps + 1 }, (_, n) => c.t0 + n * dt);
  const fixed = solve({ field, y0, params: theta, scheme, grid, saveAt: { steps: true } });
  const { rtol, atol, maxSteps } = c.adaptive;
  const adaptive = solve({
    field,
    y0,
    params: theta,
    scheme,
    t0: c.t0,
    t1: c.t1,
    controller: pid({ rtol, atol, maxSteps }),
    saveAt: { ts: grid.slice(1) },
  });
  let maxAbs = 0;
  let size = 0;
  const dim = y0.length;
  const user = toUser(adaptive.ys, dim, units);
  for (let i = 0; i < adaptive.ys.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(fixed.ys[i] - adaptive.ys[i]) * scaleAt(units, i % dim));
    size = Math.max(size, Math.abs(user[i]));
  }
  return {
    maxAbs,
    relative: size === 0 ? maxAbs : maxAbs / size,
    points: c.steps,
    adaptiveSteps: adaptive.stats.steps,
  };
}
