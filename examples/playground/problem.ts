/**
 * What the playground trains, from the choices on its page: one of the
 * paper's experiments on its built-in data, or a table the visitor dropped
 * (read by the library's `readTable`, normalised per state as
 * `deno task train --data FILE` does), with the solver, gradient method,
 * coupling and width chosen. No DOM and no Deno API: the page and its
 * worker both build the same problem from the same {@link Setup}.
 *
 * @example The white dwarf with a narrower network
 * ```ts
 * import { problemOf } from "./problem.ts";
 * import assert from "node:assert/strict";
 *
 * const problem = problemOf({ source: { example: "white-dwarf" }, width: 4 });
 * assert.deepEqual(problem.config.mlp.widths, [4]);
 * assert.equal(problem.config.example, "white-dwarf");
 * assert.equal(problem.shown.ts.length, 1001);
 * ```
 *
 * @module
 */

import {
  builtInData,
  type ExampleName,
  experimentConfig,
  EXPERIMENTS,
} from "../../training/experiments.ts";
import type { SeriesData, SolverName } from "../../training/config.ts";
import type { GradientMethodName } from "../../solvers/gradients/spec.ts";
import type { ModelConfig } from "../../training/model_format.ts";
import { readTable } from "../../training/table.ts";
import { normalizeTable, tableModelConfig, tableRunDefaults } from "../../training/table_run.ts";

/** Where the data come from: an experiment, or a table's text and file name. */
export type DataSource = { example: ExampleName } | { table: string; file: string };

/** The page's choices; what is left out takes the experiment's (or the CLI's table) default. */
export interface Setup {
  /** The data. */
  source: DataSource;
  /** The solver (a tableau, `reversible-heun` or `leapfrog`). */
  solver?: SolverName;
  /** The gradient method. */
  gradient?: GradientMethodName;
  /** The reversible scheme's coupling λ. */
  coupling?: number;
  /** The hidden layer's width. */
  width?: number;
}

/** A problem ready to train: the model file's configuration and the data. */
export interface Problem {
  /** The configuration as model.json records it. */
  config: ModelConfig;
  /** The trajectories training sees (normalised for a table). */
  data: SeriesData[];
  /** The first trajectory in the data's own units, as the page plots it. */
  shown: SeriesData;
  /** A title for the plots. */
  title: string;
  /** The state names. */
  stateNames: readonly string[];
  /** True when every trajectory shares one uniform set of times (what the GPU trains on). */
  uniform: boolean;
  /** What reading a table dropped or changed, one sentence each. */
  notes: string[];
}

/**
 * The problem a page's choices describe.
 *
 * @param setup The data and the choices.
 * @returns The configuration and the data.
 * @throws {TableError} When a table cannot be read (the reader's message, naming the line).
 *
 * @example A table: its columns name the states, the model learns normalised states
 * ```ts
 * import { problemOf } from "./problem.ts";
 * import assert from "node:assert/strict";
 *
 * const table = "t,x,v\n0,1,0\n0.5,0.9,-0.4\n1,0.6,-0.7\n1.5,0.1,-0.8\n";
 * const problem = problemOf({ source: { table, file: "d.csv" }, solver: "midpoint" });
 * assert.deepEqual(problem.stateNames, ["x", "v"]);
 * assert.equal(problem.config.solver, "midpoint");
 * assert.equal(problem.config.steps, 102);
 * assert.equal(problem.config.normalization!.shift.length, 2);
 * assert.throws(
 *   () => problemOf({ source: { table: "t,x\n0,1\n1,abc\n", file: "d.csv" } }),
 *   /^TableError: d\.csv:3: column "x"/,
 * );
 * ```
 */
export function problemOf(setup: Setup): Problem {
  const choices = {
    ...(setup.solver === undefined ? {} : { solver: setup.solver }),
    ...(setup.gradient === undefined ? {} : { gradient: setup.gradient }),
    ...(setup.coupling === undefined ? {} : { coupling: setup.coupling }),
  };
  const widths = (w: readonly number[]) => setup.width === undefined ? w.slice() : [setup.width];
  if ("example" in setup.source) {
    const name = setup.source.example;
    const { data, simulated } = builtInData(name);
    const base = experimentConfig(name, choices);
    const config: ModelConfig = {
      ...base,
      mlp: { ...base.mlp, widths: widths(base.mlp.widths) },
      example: name,
      ..._window(data),
      data: { source: data.source, path: null, simulated, points: data.ts.length },
    };
    const e = EXPERIMENTS[name];
    const notes = simulated ? [`simulated data: ${data.source}`] : [];
    return {
      config,
      data: [data],
      shown: data,
      title: e.title,
      stateNames: e.stateNames,
      uniform: true,
      notes,
    };
  }
  return _tableProblem(setup.source, choices, widths);
}

/** A table's problem, with `deno task train --data FILE`'s defaults (training/table_run.ts). */
function _tableProblem(
  source: { table: string; file: string },
  choices: Partial<ModelConfig>,
  widths: (w: readonly number[]) => number[],
): Problem {
  const table = readTable(source.table, { source: source.file });
  const run = tableRunDefaults(table, source.file, choices);
  const { data, normalization } = normalizeTable(run.trajectories, "standard");
  const base = { ...run.base, mlp: { ...run.base.mlp, widths: widths(run.base.mlp.widths) } };
  return {
    config: tableModelConfig(base, table, data, normalization, { path: null }),
    data,
    shown: run.trajectories[0],
    title: run.title,
    stateNames: table.stateColumns,
    uniform: run.uniform,
    notes: table.notes.map((n) =>
      `${source.file}${n.line === null ? "" : `:${n.line}`}: ${n.message}`
    ),
  };
}

/** The data's window and first state, as model.json records them. */
function _window(data: SeriesData): Pick<ModelConfig, "t0" | "t1" | "y0"> {
  const { ts, ys, dim } = data;
  return { t0: ts[0], t1: ts[ts.length - 1], y0: Array.from(ys.subarray(0, dim)) };
}
