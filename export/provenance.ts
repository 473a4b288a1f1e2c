/**
 * What an exported model records about its training data, read from a
 * `model.json` at export: the state's names, units and scaling (known for
 * the paper's experiments), the data file's base name and SHA-256 (never
 * its path), the time window and the data's range, and — for a model
 * trained with adaptive steps — how far the exported fixed-step solve is
 * from the training solve.
 *
 * @module
 */

import { basename } from "node:path";
import { Mlp } from "../solvers/fields/mlp.ts";
import { solve } from "../solvers/solve.ts";
import { pid } from "../solvers/controller.ts";
import { type ExampleName, EXPERIMENTS, loadExperimentData } from "../training/experiments.ts";
import { schemeOf } from "../training/config.ts";
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
 * The data summary of a model file's configuration: the file's base name
 * and SHA-256 when it is readable now, the window, and the range of the
 * data (in user units, `shift + scale ·` the data's), re-read or re-generated
 * as training did.
 *
 * @param c The model file's configuration.
 * @param scale The data's divisor, or the state's scaling (per-component scale, shift).
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { dataSummaryOf } from "./provenance.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const c = {
 *   ...experimentConfig("oscillator"), example: "oscillator" as const, t0: 0, t1: 3,
 *   y0: [0, 0, 0, 0], data: { source: "simulated", path: null, simulated: true, points: 500 },
 * };
 * const data = await dataSummaryOf(c, 100);
 * assert.equal(data.file, null);
 * assert.deepEqual(data.window, [0, 3]);
 * assert.ok(data.range!.max[0] > 1); // pixels, not pixels ÷ 100
 * const shifted = await dataSummaryOf(c, { scale: [100, 100, 100, 100], shift: [5, 0, 0, 0] });
 * assert.equal(shifted.range!.max[0], data.range!.max[0] + 5);
 * ```
 */
export async function dataSummaryOf(
  c: ModelConfig,
  scale: number | Scaling,
): Promise<DataSummary> {
  const units: Scaling = typeof scale === "number" ? { scale } : scale;
  const path = c.data.path;
  let sha256: string | null = null;
  if (path !== null) {
    try {
      const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
      sha256 = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
    } catch {
      sha256 = null; // moved or unreadable here: the name alone is recorded
    }
  }
  let range: DataSummary["range"] = null;
  if (c.example !== null && (path === null || sha256 !== null)) {
    const { data } = await loadExperimentData(c.example, path === null ? {} : { path });
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
    file: path === null ? null : basename(path),
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
