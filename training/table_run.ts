/**
 * A training run on a user's table, as `deno task train --data FILE` and the
 * playground set it up: the defaults (an autonomous MLP over the state
 * columns, fixed RK4 steps by the step-count rule, the oscillator's
 * optimiser), the per-state normalisation, the model file's configuration,
 * and the record of how the table was read ({@link tableReading}), with
 * which a resumed run reads it again and tells whether it changed. No Deno
 * API: the playground bundles it for the browser.
 *
 * @example From a table to a model configuration
 * ```ts
 * import { normalizeTable, tableModelConfig, tableRunDefaults } from "./table_run.ts";
 * import { readTable } from "./table.ts";
 * import assert from "node:assert/strict";
 *
 * const table = readTable("t,x\n0,1\n0.5,2\n1,3\n", { source: "d.csv" });
 * const run = tableRunDefaults(table, "d.csv");
 * assert.equal(run.base.steps, 100);
 * const { data, normalization } = normalizeTable(run.trajectories, "standard");
 * const config = tableModelConfig(run.base, table, data, normalization, { path: null });
 * assert.deepEqual(config.y0, [-Math.sqrt(1.5)]);
 * assert.deepEqual(config.data.columns, { time: "t", states: ["x"] });
 * ```
 *
 * @module
 */

import type { SeriesData, TrainConfig } from "./config.ts";
import { isUniform } from "./data.ts";
import { experimentConfig } from "./experiments.ts";
import type { ModelConfig, TableReading } from "./model_format.ts";
import { type Normalization, normalizeData, standardization } from "./normalize.ts";
import type { Table, TableOptions } from "./table.ts";

/** The defaults of a new run on a table that its flags do not set. */
export interface TableDefaults {
  /** `--iterations`. */
  iterations: number;
  /** `--schedule`: `"cosine"` goes from `lr` to `lr / 100` over the run. */
  schedule: "constant" | "cosine";
  /** `--restarts`: initialisations probed, the lowest kept (1: none). */
  restarts: number;
  /** `--probe`: iterations of each probe, part of `iterations` (the most by default). */
  probe: number;
  /** Without `--probe`: a probe is this fraction of the iterations, at most `probe`. */
  probeFraction: number;
  /** `--lr`: AdamW's learning rate. */
  lr: number;
}

/**
 * The defaults of `deno task train --data FILE` (and of the playground's
 * optimiser on a table), chosen on evidence over base seeds 0–9 on four
 * synthetic tables (a damped oscillator, Lotka–Volterra sampled
 * irregularly, a short Lorenz window, a noisy damped pendulum): `deno task
 * defaults --section tables` (bench/defaults.ts) measures them, README
 * ("Choosing the defaults") holds the table and the reasons. The white
 * dwarf's 1 000 iterations at lr 0.01, which tables took before, left the
 * oscillator's seed 0 at a residual of 1.7% of v's range and still falling,
 * and some seeds stuck on a plateau (the model near the data's mean) at
 * 25%. 5 000 iterations at lr 0.03, three seeds probed for a fifth of them
 * (at most 1 000) and the lowest kept, bring every state of every base
 * seed on every table within 0.5% of its range (at the noise on the noisy
 * one).
 *
 * @example
 * ```ts
 * import { TABLE_DEFAULTS } from "./table_run.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(TABLE_DEFAULTS,
 *   { iterations: 5000, schedule: "constant", restarts: 3, probe: 1000, probeFraction: 0.2, lr: 0.03 });
 * ```
 */
export const TABLE_DEFAULTS: Readonly<TableDefaults> = Object.freeze({
  iterations: 5000,
  schedule: "constant",
  restarts: 3,
  probe: 1000,
  probeFraction: 0.2,
  lr: 0.03,
});

/** What a run on a table starts from, before any setting is changed. */
export interface TableRunDefaults {
  /** Every trajectory, in the data's units. */
  trajectories: SeriesData[];
  /** True when every trajectory has the first one's times. */
  shared: boolean;
  /** True when they share them and they are uniformly spaced (what a batch and the GPU take). */
  uniform: boolean;
  /** The configuration: the step-count rule's steps, RK4, an MLP over the state columns. */
  base: TrainConfig;
  /** A title: the file and its columns. */
  title: string;
}

/**
 * The defaults of a run on a table: an autonomous MLP over the state
 * columns with the oscillator's width and optimiser but for the learning
 * rate, {@link TABLE_DEFAULTS}'s, and fixed RK4 steps:
 * on a uniform grid shared by every trajectory the smallest multiple of its
 * intervals that is at least 100 (so that the steps land on the data
 * times), else 200 steps over each trajectory's span with outputs at the
 * data times.
 *
 * @param table The table read.
 * @param file The file's name, for the title.
 * @param overrides Settings that replace the defaults (the mlp's `dim` stays the table's).
 * @returns The trajectories, their sampling and the configuration.
 *
 * @example
 * ```ts
 * import { tableRunDefaults } from "./table_run.ts";
 * import { readTable } from "./table.ts";
 * import assert from "node:assert/strict";
 *
 * const uniform = tableRunDefaults(readTable("t,x\n0,1\n1,2\n2,3\n"), "u.csv");
 * assert.equal(uniform.base.steps, 100);
 * assert.equal(uniform.title, "u.csv (x against t)");
 * const irregular = tableRunDefaults(readTable("t,x,v\n0,1,0\n0.3,2,1\n1,3,2\n"), "i.csv");
 * assert.deepEqual([irregular.uniform, irregular.base.steps, irregular.base.mlp.dim], [false, 200, 2]);
 * ```
 */
export function tableRunDefaults(
  table: Pick<Table, "trajectories" | "stateColumns" | "timeColumn">,
  file: string,
  overrides: Partial<TrainConfig> = {},
): TableRunDefaults {
  const trajectories = table.trajectories.map(({ ts, ys, dim, source }) => ({
    ts,
    ys,
    dim,
    source,
  }));
  const first = trajectories[0];
  const shared = trajectories.every((d) =>
    d.ts.length === first.ts.length && d.ts.every((t, i) => t === first.ts[i])
  );
  const uniform = shared && isUniform(first.ts);
  const intervals = first.ts.length - 1;
  const steps = uniform ? intervals * Math.ceil(100 / intervals) : 200;
  const base = experimentConfig("oscillator", {
    steps,
    solver: "rk4",
    adaptive: null,
    lr: TABLE_DEFAULTS.lr,
    ...overrides,
  });
  base.mlp = { ...base.mlp, dim: table.stateColumns.length };
  const title = `${file} (${table.stateColumns.join(", ")} against ${table.timeColumn})`;
  return { trajectories, shared, uniform, base, title };
}

/**
 * The trajectories in the model's units: `"standard"` scales each state by
 * its mean and standard deviation over the training trajectories (never the
 * held-out ones), `"none"` leaves them, and a given normalisation (a resumed
 * model's) is applied as it is, never recomputed.
 *
 * @param trajectories Every trajectory, in the data's units.
 * @param how `"none"`, `"standard"`, or the normalisation to apply.
 * @param training The trajectories `"standard"` is computed from (default all).
 * @returns The trajectories to train on and the normalisation (absent for `"none"`).
 *
 * @example
 * ```ts
 * import { normalizeTable } from "./table_run.ts";
 * import assert from "node:assert/strict";
 *
 * const a = { ts: Float64Array.of(0, 1), ys: Float64Array.of(1, 3), dim: 1, source: "" };
 * const b = { ts: Float64Array.of(0, 1), ys: Float64Array.of(9, 9), dim: 1, source: "" };
 * const { data, normalization } = normalizeTable([a, b], "standard", [a]);
 * assert.deepEqual(normalization, { shift: [2], scale: [1] });
 * assert.deepEqual([...data[1].ys], [7, 7]);
 * assert.deepEqual([...normalizeTable([a], { shift: [1], scale: [2] }).data[0].ys], [0, 1]);
 * assert.equal(normalizeTable([a], "none").normalization, undefined);
 * ```
 */
export function normalizeTable(
  trajectories: readonly SeriesData[],
  how: "none" | "standard" | Normalization,
  training: readonly SeriesData[] = trajectories,
): { data: SeriesData[]; normalization?: Normalization } {
  if (how === "none") return { data: trajectories.slice() };
  const normalization = how === "standard" ? standardization(training) : how;
  return { data: normalizeData(trajectories, normalization), normalization };
}

/**
 * The model file's configuration of a run on a table: the settings, the
 * window and y0 of the first trajectory (in the model's units, as its
 * parameters), the data's columns, the normalisation and, from a file, how
 * it was read.
 *
 * @param config The training settings.
 * @param table The table's time and state columns.
 * @param data The trajectories in the model's units ({@link normalizeTable}).
 * @param normalization The normalisation, or undefined for the data's units.
 * @param where The file read (null: none, e.g. a dropped file) and how ({@link tableReading}).
 * @returns The configuration.
 *
 * @example
 * ```ts
 * import { tableModelConfig } from "./table_run.ts";
 * import { experimentConfig } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0, 2), ys: Float64Array.of(1, 3), dim: 1, source: "d.csv" };
 * const table = { timeColumn: "t", stateColumns: ["x"] };
 * const config = tableModelConfig(experimentConfig("oscillator"), table, [d], undefined, { path: null });
 * assert.deepEqual([config.t0, config.t1, config.y0, config.example], [0, 2, [1], null]);
 * assert.equal(config.data.points, 2);
 * ```
 */
export function tableModelConfig(
  config: TrainConfig,
  table: Pick<Table, "timeColumn" | "stateColumns">,
  data: readonly SeriesData[],
  normalization: Normalization | undefined,
  where: { path: string | null; reading?: TableReading },
): ModelConfig {
  const { ts, ys, dim, source } = data[0];
  return {
    ...config,
    example: null,
    t0: ts[0],
    t1: ts[ts.length - 1],
    y0: Array.from(ys.subarray(0, dim)),
    data: {
      source,
      path: where.path,
      simulated: false,
      points: ts.length,
      trajectories: data.length,
      columns: { time: table.timeColumn, states: table.stateColumns.slice() },
      ...(where.reading === undefined ? {} : { table: where.reading }),
    },
    ...(normalization === undefined ? {} : { normalization }),
  };
}

/**
 * How a table was read, as a model file records it: the options given
 * (without `source`), the rows read and their digest.
 *
 * @param options The options the table was read with.
 * @param trajectories The trajectories read, in the data's units.
 * @returns The record.
 *
 * @example
 * ```ts
 * import { tableReading } from "./table_run.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0, 1), ys: Float64Array.of(5, 6), dim: 1, source: "" };
 * const r = tableReading({ window: [0, 1], source: "d.csv" }, [d]);
 * assert.deepEqual(r.options, { window: [0, 1] });
 * assert.equal(r.rows, 2);
 * ```
 */
export function tableReading(
  options: TableOptions,
  trajectories: readonly SeriesData[],
): TableReading {
  const recorded: TableReading["options"] = {};
  if (options.columns !== undefined) recorded.columns = [...options.columns];
  if (options.timeColumn !== undefined) recorded.timeColumn = options.timeColumn;
  if (options.stateColumns !== undefined) recorded.stateColumns = [...options.stateColumns];
  if (options.trajectoryColumn !== undefined) {
    recorded.trajectoryColumn = options.trajectoryColumn;
  }
  if (options.window !== undefined) recorded.window = [options.window[0], options.window[1]];
  const rows = trajectories.reduce((n, d) => n + d.ts.length, 0);
  return { options: recorded, rows, digest: tableDigest(trajectories) };
}

/**
 * A digest of trajectories: a 53-bit hash (cyrb53) of their count, each
 * one's dimension and length, and the bits of every time and state, as 14
 * hex digits. Equal data give equal digests on every platform; any changed
 * value, row or trajectory changes it (but for a chance of 2⁻⁵³).
 *
 * @param trajectories The trajectories.
 * @returns The digest, `cyrb53:` and 14 hex digits.
 *
 * @example
 * ```ts
 * import { tableDigest } from "./table_run.ts";
 * import assert from "node:assert/strict";
 *
 * const d = (y: number) => ({ ts: Float64Array.of(0, 1), ys: Float64Array.of(1, y), dim: 1, source: "" });
 * assert.equal(tableDigest([d(2)]), tableDigest([d(2)]));
 * assert.notEqual(tableDigest([d(2)]), tableDigest([d(2 + 1e-15)]));
 * assert.match(tableDigest([d(2)]), /^cyrb53:[0-9a-f]{14}$/);
 * ```
 */
export function tableDigest(trajectories: readonly SeriesData[]): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  const mix = (word: number) => {
    h1 = Math.imul(h1 ^ word, 2654435761);
    h2 = Math.imul(h2 ^ word, 1597334677);
  };
  const view = new DataView(new ArrayBuffer(8));
  const mixFloat = (x: number) => {
    // little-endian words, so that a digest reads the same on every machine
    view.setFloat64(0, x, true);
    mix(view.getUint32(0, true));
    mix(view.getUint32(4, true));
  };
  mix(trajectories.length);
  for (const { ts, ys, dim } of trajectories) {
    mix(dim);
    mix(ts.length);
    for (let i = 0; i < ts.length; i++) mixFloat(ts[i]);
    for (let i = 0; i < ys.length; i++) mixFloat(ys[i]);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return `cyrb53:${hash.toString(16).padStart(14, "0")}`;
}
