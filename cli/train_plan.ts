/**
 * The plan of a `deno task train` run: the flags turned into a model
 * configuration, the data, the iterations and, on `--resume`, the state to
 * go on from, with every refusal made before anything trains.
 *
 * @module
 */

import { type FlagValues, UsageError } from "./flags.ts";
import { numberFlag, oneOf, stringFlag } from "./flag_values.ts";
import { BACKEND_FLAGS, type BackendFlag } from "./train_flags.ts";
import { applyTrainingFlags } from "./train_settings.ts";
import { initState } from "./train_init.ts";
import { probeRestarts, restartFlags } from "./train_restarts.ts";
import {
  dataNote,
  dataWindow,
  loadTableData,
  loadTrainData,
  TABLE_FLAGS,
  type TrainData,
} from "./train_data.ts";
import { type ActivationName, activationNames } from "../solvers/fields/activations.ts";
import {
  EXAMPLE_NAMES,
  type Experiment,
  experimentConfig,
  EXPERIMENTS,
} from "../training/experiments.ts";
import type {
  FieldTrainConfig,
  ScheduleConfig,
  SeriesData,
  TrainConfig,
} from "../training/config.ts";
import { splitValidation, type ValidationSplit } from "../training/validation.ts";
import { ArgumentError } from "../solvers/checks.ts";
import type { TrainState } from "../training/state.ts";
import { readModelFile } from "../training/model_file.ts";
import { type ModelConfig, type ModelFile, ModelFileError } from "../training/model_format.ts";
import { stateFromModel } from "../training/model_state.ts";
import { normalizeData, standardization } from "../training/normalize.ts";
import type { SolveKernel } from "../solvers/webgpu/options.ts";

/** What a run of `deno task train` will do, from its flags. */
export interface TrainPlan {
  /** The backend asked for: the flag, else the resumed model's, else cpu. */
  backend: BackendFlag;
  /** True when the backend is the resumed model's (no --backend given). */
  backendFromModel: boolean;
  /** The experiment. */
  example: Experiment;
  /** The configuration to train with and to save. */
  config: ModelConfig;
  /** Iterations to run now. */
  iterations: number;
  /** The state to go on from, or null for a new run. */
  resume: TrainState | null;
  /** The model file resumed, or null. */
  resumedFrom: string | null;
  /** `--out`, or null for the default folder. */
  out: string | null;
  /** Which data, in words (see `dataNote()`). */
  dataNote: string;
  /** The data. */
  data: TrainData;
  /** On resume, the settings changed from the model's, in words. */
  overrides: string[];
  /**
   * When a resumed run trains on other data than the model's: the data it
   * was trained on so far, and the best so far on them (restored should no
   * iteration complete on the new data).
   */
  dataChange:
    | { from: string; best: Pick<TrainState, "bestLoss" | "bestIteration" | "bestParams"> }
    | null;
  /** `--solve-kernel`, or undefined when not given. */
  solveKernel: SolveKernel | undefined;
}

/** Flags that fix the architecture or the problem, refused on resume when they differ. */
const _FIXED_ON_RESUME = ["example", "width", "depth", "activation", "seed"];

/** The flags read the same way by a new run and a resumed one. */
interface _Given {
  backend: BackendFlag | undefined;
  dataPath: string | undefined;
  iterations: number | undefined;
  schedule: string | undefined;
}

/**
 * Plans a run: reads the resumed model and the data, and checks every flag
 * against them.
 *
 * @param flags The parsed flags.
 * @returns The plan.
 * @throws {UsageError} For a bad flag; {@link ModelFileError} or
 * `DataFileError` for a file that cannot be used.
 *
 * @example
 * ```ts
 * import { planRun } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = await planRun({ steps: "20", iterations: "3" });
 * assert.equal(plan.example.name, "white-dwarf");
 * assert.equal(plan.config.steps, 20);
 * assert.equal(plan.backend, "cpu");
 * await assert.rejects(planRun({ "solve-kernel": "whole" }), /--solve-kernel whole chooses/);
 * ```
 */
export async function planRun(flags: FlagValues): Promise<TrainPlan> {
  const backendFlag = stringFlag(flags, "backend");
  const iterationsFlag = stringFlag(flags, "iterations");
  const given: _Given = {
    backend: backendFlag === undefined ? undefined : oneOf("backend", backendFlag, BACKEND_FLAGS),
    dataPath: stringFlag(flags, "data"),
    iterations: iterationsFlag === undefined
      ? undefined
      : numberFlag("iterations", iterationsFlag, { integer: true, min: 1 }),
    schedule: stringFlag(flags, "schedule"),
  };
  if (given.schedule !== undefined) oneOf("schedule", given.schedule, ["constant", "cosine"]);
  const resumePath = stringFlag(flags, "resume");
  const initPath = stringFlag(flags, "init");
  if (initPath !== undefined && resumePath !== undefined) {
    throw new UsageError(
      "--init starts a new run from given parameters and --resume goes on from a model " +
        "with its optimizer state; give one of them.",
    );
  }
  const plan = resumePath !== undefined
    ? await _planResume(flags, given, resumePath)
    : await _planNew(flags, given);
  if (initPath !== undefined) {
    const { state, note } = await initState(initPath, plan.config);
    plan.resume = state;
    plan.dataNote += `\n  ${note}`;
  }
  const restarts = restartFlags(flags, plan.iterations);
  if (restarts !== null) {
    if (initPath !== undefined || resumePath !== undefined) {
      throw new UsageError(
        `--restarts probes initialisations from seeds; --${
          initPath !== undefined ? "init" : "resume"
        } gives the start. Give one of them.`,
      );
    }
    const kept = await probeRestarts(
      plan.config,
      plan.data.trajectories ?? plan.data.data,
      restarts,
    );
    plan.config = { ...plan.config, seed: kept.seed };
    plan.resume = kept.state;
    plan.iterations -= restarts.probe;
    plan.dataNote += `\n  ${kept.note}`;
  }
  return { ...plan, solveKernel: _solveKernel(flags, plan.backend) };
}

/** A new run of an experiment. */
async function _planNew(flags: FlagValues, given: _Given): Promise<Omit<TrainPlan, "solveKernel">> {
  const tableFlag = TABLE_FLAGS.find(([flag]) => stringFlag(flags, flag) !== undefined)?.[0];
  const exampleFlag = stringFlag(flags, "example");
  if (given.dataPath !== undefined && exampleFlag === undefined) {
    return await _planTable(flags, given, given.dataPath);
  }
  if (tableFlag !== undefined) {
    throw new UsageError(
      `--${tableFlag} reads a table given by --data FILE without --example; ` +
        `${exampleFlag === undefined ? "no --data was given" : "--example reads its own data"}.`,
    );
  }
  const name = oneOf("example", exampleFlag ?? "white-dwarf", EXAMPLE_NAMES);
  const example = EXPERIMENTS[name];
  if (name === "white-dwarf" && given.dataPath !== undefined) {
    throw new UsageError(
      "--data applies to the oscillator and the pendulum; the white-dwarf data are " +
        "generated from the equation.",
    );
  }
  const width = numberFlag("width", stringFlag(flags, "width") ?? "10", {
    integer: true,
    min: 1,
  });
  const depth = numberFlag("depth", stringFlag(flags, "depth") ?? "1", {
    integer: true,
    min: 0,
  });
  const activation = oneOf(
    "activation",
    stringFlag(flags, "activation") ?? "tanh",
    activationNames,
  ) as ActivationName;
  const seed = numberFlag("seed", stringFlag(flags, "seed") ?? "0", { integer: true });
  const iterations = given.iterations ?? example.iterations;
  const base = experimentConfig(name, {
    mlp: { ...example.mlp, widths: Array.from({ length: depth }, () => width), activation },
    seed,
  });
  const config = applyTrainingFlags(flags, base, example.points, example.duration);
  if (given.schedule === "cosine") {
    // From lr down to lr/100 over this run; a resumed run continues at lr/100.
    const schedule: ScheduleConfig = { kind: "cosine", iterations, minLr: config.lr / 100 };
    config.schedule = schedule;
  }
  const data = await loadTrainData(name, given.dataPath, null);
  validationSplit(config, [data.data]);
  return {
    backend: given.backend ?? "cpu",
    backendFromModel: false,
    example,
    config: {
      ...config,
      example: name,
      ...dataWindow(data),
      data: {
        source: data.data.source,
        path: data.path,
        simulated: data.simulated,
        points: data.data.ts.length,
      },
    },
    iterations,
    resume: null,
    resumedFrom: null,
    out: stringFlag(flags, "out") ?? null,
    dataNote: dataNote(example, data),
    data,
    overrides: [],
    dataChange: null,
  };
}

/** A new run on a user's table (`--data` without `--example`). */
async function _planTable(
  flags: FlagValues,
  given: _Given,
  path: string,
): Promise<Omit<TrainPlan, "solveKernel">> {
  const run = await loadTableData(path, flags);
  const { example } = run;
  const how = oneOf("normalize", stringFlag(flags, "normalize") ?? "standard", [
    "none",
    "standard",
  ]);
  const raw = run.data.trajectories!;
  const width = numberFlag("width", stringFlag(flags, "width") ?? "10", { integer: true, min: 1 });
  const depth = numberFlag("depth", stringFlag(flags, "depth") ?? "1", { integer: true, min: 0 });
  const activation = oneOf(
    "activation",
    stringFlag(flags, "activation") ?? "tanh",
    activationNames,
  ) as ActivationName;
  const seed = numberFlag("seed", stringFlag(flags, "seed") ?? "0", { integer: true });
  const iterations = given.iterations ?? example.iterations;
  const base = {
    ...run.base,
    mlp: { ...run.base.mlp, widths: Array.from({ length: depth }, () => width), activation },
    seed,
  };
  const shared = raw.every((d) =>
    d.ts.length === run.data.data.ts.length &&
    d.ts.every((t, i) => t === run.data.data.ts[i])
  );
  const config = applyTrainingFlags(flags, base, example.points, example.duration, {
    uniform: run.uniform,
    trajectories: raw.length,
  });
  const split = validationSplit(config, raw);
  // the model learns normalised states, scaled by the data it trains on (not the held-out
  // ones); the report's data stay in their units
  const normalization = how === "standard" ? standardization(split?.train ?? raw) : undefined;
  const trajectories = normalization === undefined ? raw : normalizeData(raw, normalization);
  const data = { ...run.data, trajectories };
  if (!shared && config.batch > 1) {
    throw new UsageError(
      `invalid value for --batch: ${config.batch}. The trajectories of ${path} have ` +
        `different times, and a batch is solved on one set of times; allowed: 1.`,
    );
  }
  if (given.schedule === "cosine") {
    config.schedule = { kind: "cosine", iterations, minLr: config.lr / 100 };
  }
  const count = trajectories.length;
  return {
    backend: given.backend ?? "cpu",
    backendFromModel: false,
    example,
    config: {
      ...config,
      example: null,
      // y0 in the model's units, as its parameters
      ...dataWindow({ ...data, data: trajectories[0] }),
      data: {
        source: data.data.source,
        path: data.path,
        simulated: false,
        points: example.points,
        trajectories: count,
        columns: { time: run.data.table!.timeColumn, states: run.data.table!.stateColumns },
      },
      ...(normalization === undefined ? {} : { normalization }),
    },
    iterations,
    resume: null,
    resumedFrom: null,
    out: stringFlag(flags, "out") ?? null,
    dataNote: `data: ${path}: ${count} ${count === 1 ? "trajectory" : "trajectories"} of ` +
      `${example.stateNames.join(", ")}${
        run.uniform ? "" : " (irregular times: outputs at the data times)"
      }` +
      (normalization === undefined
        ? ""
        : `\n      normalised per state (${_normText(example.stateNames, normalization)}); ` +
          `the loss is in these units; model.onnx takes and returns the data's own units ` +
          `(the graph applies config.normalization: revode.shift, revode.scale)`) +
      run.notes.map((n) => `\n      ${n}`).join(""),
    data,
    overrides: [],
    dataChange: null,
  };
}

/**
 * The validation split a configuration makes of the data, or null without
 * validation; refusals name `--validation` (too few trajectories or points to
 * hold the fraction out) and `--batch` (more than the trajectories left to train).
 *
 * @param config The configuration (validation, seed, steps, batch).
 * @param trajectories The data.
 * @returns The split, or null.
 * @throws {UsageError} When the data cannot be split so.
 *
 * @example
 * ```ts
 * import { validationSplit } from "./train_plan.ts";
 * import { defaultConfig } from "../training/config.ts";
 * import assert from "node:assert/strict";
 *
 * const d = { ts: Float64Array.of(0, 1, 2), ys: Float64Array.of(0, 1, 2), dim: 1, source: "" };
 * assert.equal(validationSplit(defaultConfig({ steps: 2 }), [d]), null);
 * assert.equal(validationSplit(defaultConfig({ steps: 2, validation: 0.4 }), [d])!.cut, 1);
 * assert.throws(() => validationSplit(defaultConfig({ steps: 2, validation: 0.9 }), [d]),
 *   /invalid value for --validation: 0\.9; expected .*none would train/);
 * ```
 */
export function validationSplit(
  config: FieldTrainConfig,
  trajectories: readonly SeriesData[],
): ValidationSplit | null {
  if (!config.validation) return null;
  let split: ValidationSplit;
  try {
    split = splitValidation(trajectories, config);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    const { got, expected } = error.data;
    throw new UsageError(`invalid value for --validation: ${got}; expected ${expected}.`);
  }
  const n = split.train.length;
  if (config.batch > n) {
    throw new UsageError(
      `invalid value for --batch: ${config.batch}. With --validation ${config.validation}, ` +
        `${n} of the ${trajectories.length} trajectories train; allowed: 1 to ${n}.`,
    );
  }
  return split;
}

/** `x: mean m, std s` per state. */
function _normText(names: readonly string[], n: { shift: number[]; scale: number[] }): string {
  const g = (v: number) => Number(v.toPrecision(4));
  return names.map((name, k) => `${name}: mean ${g(n.shift[k])}, std ${g(n.scale[k])}`).join("; ");
}

/** A run that goes on from a model file. */
async function _planResume(
  flags: FlagValues,
  given: _Given,
  resumePath: string,
): Promise<Omit<TrainPlan, "solveKernel">> {
  const model = await readModelFile(resumePath);
  const name = model.config.example;
  if (name === null) {
    throw new ModelFileError(
      resumePath,
      "was not trained on one of the examples (config.example is null); resume it " +
        "with the library's train() instead.",
    );
  }
  const example = EXPERIMENTS[name];
  const saved = model.config;
  _refuseFixedChanges(flags, saved, resumePath, given.schedule);
  const path = given.dataPath ?? saved.data.path ?? undefined;
  if (name === "white-dwarf" && given.dataPath !== undefined) {
    throw new UsageError(
      "--data applies to the oscillator and the pendulum; the white-dwarf data are " +
        "generated from the equation.",
    );
  }
  const data = await loadTrainData(name, path, given.dataPath === undefined ? resumePath : null);
  const base: TrainConfig = { ...saved };
  const config = applyTrainingFlags(flags, base, data.data.ts.length, example.duration);
  if ((config.validation ?? null) !== (saved.validation ?? null)) {
    throw new UsageError(
      `--validation ${config.validation} conflicts with the model being resumed (${
        saved.validation ? `validation ${saved.validation}` : "no validation"
      }): the held-out data are fixed by ${resumePath}.`,
    );
  }
  validationSplit(config, [data.data]);
  const overrides = Object.keys(config).filter((k) =>
    JSON.stringify((config as unknown as Record<string, unknown>)[k]) !==
      JSON.stringify((base as unknown as Record<string, unknown>)[k])
  );
  const window = dataWindow(data);
  const same = _sameData(saved, data, window);
  const resume = stateFromModel(model);
  let dataChange: TrainPlan["dataChange"] = null;
  if (!same) {
    // Training goes on from the parameters, but on these data: the initial
    // state and the window are theirs, and the lowest loss on the old data
    // says nothing about these.
    dataChange = {
      from: saved.data.source,
      best: {
        bestLoss: resume.bestLoss,
        bestIteration: resume.bestIteration,
        bestParams: resume.bestParams,
      },
    };
    resume.bestLoss = null;
    resume.bestIteration = 0;
    resume.bestParams = resume.params.slice();
    overrides.push(
      `data (${data.data.source}; its y0 and window replace the model's, and the best loss ` +
        `starts again on it)`,
    );
  } else if (data.data.source !== saved.data.source) {
    overrides.push(`data (${data.data.source})`);
  }
  if (given.backend !== undefined && given.backend !== model.training.backend) {
    overrides.push(`backend (${given.backend}; trained on ${model.training.backend})`);
  }
  return {
    backend: given.backend ?? model.training.backend,
    backendFromModel: given.backend === undefined,
    example,
    config: {
      ...saved,
      ...config,
      ...(same ? {} : window),
      example: name,
      data: {
        source: data.data.source,
        path: data.path,
        simulated: data.simulated,
        points: data.data.ts.length,
      },
    },
    iterations: _iterationsLeft(model, given.iterations, resumePath),
    resume,
    resumedFrom: resumePath,
    out: stringFlag(flags, "out") ?? null,
    dataNote: dataNote(example, data),
    data,
    overrides,
    dataChange,
  };
}

/** Refuses flags that would change the resumed model's architecture, problem or schedule. */
function _refuseFixedChanges(
  flags: FlagValues,
  saved: ModelConfig,
  resumePath: string,
  scheduleName: string | undefined,
): void {
  const fixed: Record<string, string> = {
    example: saved.example ?? "",
    width: String(saved.mlp.widths[0] ?? 0),
    depth: String(saved.mlp.widths.length),
    activation: saved.mlp.activation,
    seed: String(saved.seed),
  };
  for (const flag of _FIXED_ON_RESUME) {
    const given = stringFlag(flags, flag);
    if (given !== undefined && given !== fixed[flag]) {
      throw new UsageError(
        `--${flag} ${given} conflicts with the model being resumed (${flag} ${
          fixed[flag]
        }): the architecture and the problem are fixed by ${resumePath}.`,
      );
    }
  }
  if (scheduleName !== undefined && scheduleName !== saved.schedule.kind) {
    throw new UsageError(
      `--schedule ${scheduleName} conflicts with the model being resumed (schedule ` +
        `${saved.schedule.kind}).`,
    );
  }
}

/** The same data as the model's: the same source, or a moved file found again with --data. */
function _sameData(
  saved: ModelConfig,
  data: TrainData,
  window: Pick<ModelConfig, "t0" | "t1" | "y0">,
): boolean {
  return data.data.source === saved.data.source || (
    data.simulated === saved.data.simulated && data.data.ts.length === saved.data.points &&
    window.t0 === saved.t0 && window.t1 === saved.t1 &&
    window.y0.every((v, i) => v === saved.y0[i])
  );
}

/** `--iterations`, else the rest of the resumed run's planned iterations. */
function _iterationsLeft(
  model: ModelFile,
  given: number | undefined,
  resumePath: string,
): number {
  if (given !== undefined) return given;
  const done = model.training.iterations;
  const iterations = model.training.plannedIterations - done;
  if (iterations <= 0) {
    throw new UsageError(
      `${resumePath} has finished its ${done} iterations; pass --iterations N to train ` +
        `N more.`,
    );
  }
  return iterations;
}

/** `--solve-kernel`: refused on the CPU backend (it chooses GPU kernels). */
function _solveKernel(flags: FlagValues, backend: BackendFlag): SolveKernel | undefined {
  const text = stringFlag(flags, "solve-kernel");
  if (text === undefined) return undefined;
  const value = oneOf("solve-kernel", text, ["auto", "whole", "steps"] as const);
  if (backend === "cpu") {
    throw new UsageError(
      `--solve-kernel ${value} chooses WebGPU kernels; it takes --backend webgpu or auto ` +
        "(the backend here is cpu).",
    );
  }
  return value;
}
