/**
 * The three experiments of McCallum & Foster (2024) as data (numerics.md §5):
 * model, solver, step, iterations and optimizer of each, and where its data
 * come from. `deno task train` and `deno task experiments` start from these.
 *
 * @example
 * ```ts
 * import { EXPERIMENTS } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const wd = EXPERIMENTS["white-dwarf"];
 * assert.equal(wd.steps, 1000);
 * assert.deepEqual(wd.paperSolvers, ["euler", "midpoint", "ralston3", "rk4"]);
 * ```
 *
 * @module
 */

import type { MlpConfig } from "../solvers/fields/mlp.ts";
import { simulateOscillator, simulatePendulum } from "./datasets/simulated.ts";
import {
  OSCILLATOR_FILE,
  PENDULUM_FILE,
  readOscillator,
  readPendulum,
} from "./datasets/schmidt_lipson.ts";
import { whiteDwarfData } from "./datasets/white_dwarf.ts";
import type { AdaptiveConfig, SeriesData, SolverName, TrainConfig } from "./config.ts";

/** The name of one of the paper's experiments. */
export type ExampleName = "white-dwarf" | "oscillator" | "pendulum";

/**
 * Every experiment name, in the paper's order.
 *
 * @example
 * ```ts
 * import { EXAMPLE_NAMES } from "./experiments.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(EXAMPLE_NAMES, ["white-dwarf", "oscillator", "pendulum"]);
 * ```
 */
export const EXAMPLE_NAMES: readonly ExampleName[] = Object.freeze([
  "white-dwarf",
  "oscillator",
  "pendulum",
]);

/** One experiment's settings, as in the paper unless `deviation` says otherwise. */
export interface Experiment {
  /** Its name on the command line. */
  readonly name: ExampleName;
  /** A title for reports. */
  readonly title: string;
  /** The vector field's architecture. */
  readonly mlp: Readonly<MlpConfig>;
  /** Default base solver (a tableau name). */
  readonly solver: SolverName;
  /** Solvers the paper compares on this experiment. */
  readonly paperSolvers: readonly SolverName[];
  /** Solver steps over the data window (fixed step `duration / steps`), when not adaptive. */
  readonly steps: number;
  /** Adaptive step sizes as in the paper, or null for fixed steps. */
  readonly adaptive: Readonly<AdaptiveConfig> | null;
  /** Number of data points, `t = 0` included. */
  readonly points: number;
  /** The data window `[0, duration]`. */
  readonly duration: number;
  /** Training iterations in the paper. */
  readonly iterations: number;
  /** Coupling λ of the reversible scheme. */
  readonly coupling: number;
  /** AdamW learning rate. */
  readonly lr: number;
  /** AdamW decoupled weight decay. */
  readonly weightDecay: number;
  /** Names of the state components, for plots. */
  readonly stateNames: readonly string[];
  /** What the state's numbers mean, for plot axes. */
  readonly stateLabel: string;
  /** The Schmidt–Lipson file of the real data, when the experiment uses one. */
  readonly dataFile: string | null;
  /** Where this definition departs from the paper, and why; null when it does not. */
  readonly deviation: string | null;
}

/**
 * The paper's three experiments (numerics.md §5). The double pendulum runs
 * Bosh3 with adaptive steps (rtol = atol = 1e-6, at most 1000 steps); the
 * others fixed steps.
 *
 * @example
 * ```ts
 * import { EXPERIMENTS } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const osc = EXPERIMENTS.oscillator;
 * assert.equal(osc.duration / osc.steps, 3 / 499);
 * assert.equal(osc.mlp.timeDependent, false);
 * assert.equal(EXPERIMENTS.pendulum.solver, "bosh3");
 * assert.equal(EXPERIMENTS.pendulum.adaptive?.rtol, 1e-6);
 * ```
 */
export const EXPERIMENTS: Readonly<Record<ExampleName, Experiment>> = Object.freeze({
  "white-dwarf": Object.freeze(
    {
      name: "white-dwarf",
      title: "Chandrasekhar white dwarf equation",
      mlp: Object.freeze({
        dim: 2,
        widths: [10],
        activation: "tanh",
        finalActivation: "identity",
        timeDependent: true,
      }),
      solver: "rk4",
      paperSolvers: Object.freeze<SolverName[]>(["euler", "midpoint", "ralston3", "rk4"]),
      steps: 1000,
      adaptive: null,
      points: 1001,
      duration: 5,
      iterations: 1000,
      coupling: 0.999,
      lr: 1e-2,
      weightDecay: 1e-5,
      stateNames: Object.freeze(["y1", "y2"]),
      stateLabel: "state y",
      dataFile: null,
      deviation: null,
    } as const,
  ),
  oscillator: Object.freeze(
    {
      name: "oscillator",
      title: "Coupled oscillator (Schmidt & Lipson 2009)",
      mlp: Object.freeze({
        dim: 4,
        widths: [10],
        activation: "tanh",
        finalActivation: "identity",
        timeDependent: false,
      }),
      solver: "rk4",
      paperSolvers: Object.freeze<SolverName[]>(["rk4"]),
      steps: 499,
      adaptive: null,
      points: 500,
      duration: 3,
      iterations: 10000,
      coupling: 0.999,
      lr: 1e-2,
      weightDecay: 1e-5,
      stateNames: Object.freeze(["x1", "x2", "v1", "v2"]),
      stateLabel: "position (px / 100), velocity (px/s / 100)",
      dataFile: OSCILLATOR_FILE,
      deviation: null,
    } as const,
  ),
  pendulum: Object.freeze(
    {
      name: "pendulum",
      title: "Chaotic double pendulum (Schmidt & Lipson 2009)",
      mlp: Object.freeze({
        dim: 4,
        widths: [10],
        activation: "tanh",
        finalActivation: "identity",
        timeDependent: false,
      }),
      solver: "bosh3",
      paperSolvers: Object.freeze<SolverName[]>(["bosh3"]),
      steps: 499,
      adaptive: Object.freeze({ rtol: 1e-6, atol: 1e-6, maxSteps: 1000 }),
      points: 500,
      duration: 2,
      iterations: 10000,
      coupling: 0.999,
      lr: 1e-2,
      weightDecay: 1e-5,
      stateNames: Object.freeze(["θ1", "θ2", "ω1", "ω2"]),
      stateLabel: "angle (rad / 10), angular velocity (rad/s / 10)",
      dataFile: PENDULUM_FILE,
      deviation: "The paper interpolates the adaptive solver's outputs linearly onto the data " +
        "times; solve() interpolates them with Hermite cubics (exact gradients through the " +
        "interpolation).",
    } as const,
  ),
});

/**
 * The training configuration of an experiment as in the paper (reversible
 * scheme and gradient, constant learning rate, no clipping, seed 0), with
 * `overrides` applied.
 *
 * @param name The experiment.
 * @param overrides Settings to change.
 * @returns The configuration for `train()`.
 *
 * @example
 * ```ts
 * import { experimentConfig } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const config = experimentConfig("oscillator", { gradient: "checkpointed", scheme: "plain" });
 * assert.equal(config.steps, 499);
 * assert.equal(config.weightDecay, 1e-5);
 * assert.equal(config.gradient, "checkpointed");
 * ```
 */
export function experimentConfig(
  name: ExampleName,
  overrides: Partial<TrainConfig> = {},
): TrainConfig {
  const e = EXPERIMENTS[name];
  if (e === undefined) {
    throw new RangeError(
      `Unknown experiment ${JSON.stringify(name)}; expected one of ${EXAMPLE_NAMES.join(", ")}.`,
    );
  }
  return {
    mlp: { ...e.mlp, widths: e.mlp.widths.slice() },
    solver: e.solver,
    scheme: "reversible",
    coupling: e.coupling,
    gradient: "reversible",
    checkpoints: null,
    steps: e.steps,
    adaptive: e.adaptive === null ? null : { ...e.adaptive },
    lr: e.lr,
    weightDecay: e.weightDecay,
    schedule: { kind: "constant" },
    clip: null,
    batch: 1,
    seed: 0,
    ...overrides,
  };
}

/** Data loaded for an experiment. */
export interface ExperimentData {
  /** The trajectory. */
  data: SeriesData;
  /** True when the data were simulated because no file was given. */
  simulated: boolean;
  /** The file read, or null. */
  path: string | null;
}

/** Options of {@link loadExperimentData}. */
export interface LoadDataOptions {
  /** A data file for the oscillator or the pendulum (the Schmidt–Lipson format). */
  path?: string;
  /** A folder holding the Schmidt–Lipson files under their original names. */
  dir?: string;
}

/**
 * An experiment's built-in data, with no file read: the white dwarf from its
 * equation, the oscillator and the pendulum simulated (seeded, so always the
 * same). What {@link loadExperimentData} gives without a file; a page that
 * bundles the library uses it, since the file readers use Deno's file API.
 *
 * @param name The experiment.
 * @returns The data; `simulated` is true for the oscillator and the pendulum.
 * @throws {RangeError} For an unknown experiment, naming the three.
 *
 * @example
 * ```ts
 * import { builtInData } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(builtInData("white-dwarf").simulated, false);
 * assert.equal(builtInData("oscillator").data.ts.length, 500);
 * assert.throws(() => builtInData("spring" as never), /expected one of white-dwarf, oscillator/);
 * ```
 */
export function builtInData(name: ExampleName): ExperimentData {
  const experiment = EXPERIMENTS[name];
  if (experiment === undefined) {
    throw new RangeError(
      `Unknown experiment ${JSON.stringify(name)}; expected one of ${EXAMPLE_NAMES.join(", ")}.`,
    );
  }
  const window = { points: experiment.points, duration: experiment.duration };
  switch (name) {
    case "white-dwarf":
      return { data: whiteDwarfData(window), simulated: false, path: null };
    case "oscillator":
      return { data: simulateOscillator(window), simulated: true, path: null };
    default:
      return { data: simulatePendulum(window), simulated: true, path: null };
  }
}

/**
 * Loads an experiment's data: the white dwarf from its equation; the
 * oscillator and the pendulum from a Schmidt–Lipson file when one is given,
 * else simulated data of the same system (seeded, so always the same).
 *
 * @param name The experiment.
 * @param options A file or a folder of files; neither means simulated data.
 * @returns The data and where they came from.
 *
 * @example
 * ```ts
 * import { loadExperimentData } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const { data, simulated } = await loadExperimentData("pendulum");
 * assert.equal(simulated, true);
 * assert.equal(data.ts.length, 500);
 * assert.equal((await loadExperimentData("white-dwarf")).data.dim, 2);
 * await assert.rejects(loadExperimentData("white-dwarf", { path: "x.txt" }), /generated/);
 * ```
 */
export async function loadExperimentData(
  name: ExampleName,
  options: LoadDataOptions = {},
): Promise<ExperimentData> {
  const experiment = EXPERIMENTS[name];
  if (experiment === undefined) {
    throw new RangeError(
      `Unknown experiment ${JSON.stringify(name)}; expected one of ${EXAMPLE_NAMES.join(", ")}.`,
    );
  }
  let path = options.path ?? null;
  if (path === null && options.dir !== undefined && experiment.dataFile !== null) {
    path = `${options.dir.replace(/[\\/]+$/, "")}/${experiment.dataFile}`;
  }
  if (name === "white-dwarf" && options.path !== undefined) {
    throw new RangeError(
      "The white-dwarf data are generated from the equation; a data file applies to " +
        "the oscillator and the pendulum only.",
    );
  }
  if (path === null || name === "white-dwarf") return builtInData(name);
  const window = { points: experiment.points, duration: experiment.duration };
  return name === "oscillator"
    ? { data: await readOscillator(path, window), simulated: false, path }
    : { data: await readPendulum(path, window), simulated: false, path };
}
