/**
 * The plan of a `deno task train` run: the flags turned into a model
 * configuration, the data, the iterations and, on `--resume`, the state to
 * go on from, with every refusal made before anything trains. A run on a
 * user's table, new or resumed, is planned by train_table.ts.
 *
 * @module
 */

import { type FlagValues, UsageError } from "./flags.ts";
import { numberFlag, oneOf, stringFlag } from "./flag_values.ts";
import { BACKEND_FLAGS, type BackendFlag } from "./train_flags.ts";
import { applyTrainingFlags } from "./train_settings.ts";
import { initState } from "./train_init.ts";
import {
  DEFAULT_PROBE_MAX,
  probeRestarts,
  restartFlags,
  type RestartSettings,
} from "./train_restarts.ts";
import { TABLE_DEFAULTS, TRAIN_DEFAULTS } from "./train_defaults.ts";
import { dataNote, dataWindow, loadTrainData, TABLE_FLAGS, type TrainData } from "./train_data.ts";
import {
  architectureFlags,
  changedSettings,
  planTable,
  planTableResume,
  refuseValidationChange,
  type TablePlan,
  validationSplit,
} from "./train_table.ts";
import {
  EXAMPLE_NAMES,
  type Experiment,
  experimentConfig,
  EXPERIMENTS,
} from "../training/experiments.ts";
import type { ScheduleConfig, TrainConfig } from "../training/config.ts";
import type { TrainState } from "../training/state.ts";
import { readModelFile } from "../training/model_file.ts";
import type { ModelConfig, ModelFile } from "../training/model_format.ts";
import { stateFromModel } from "../training/model_state.ts";
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
  /**
   * The `--restarts` probes still to run ({@link probePlan}), given or by
   * default; null or absent for none.
   */
  restarts?: RestartSettings | null;
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
    const { state, note, record } = await initState(initPath, plan.config);
    plan.resume = state;
    plan.dataNote += `\n  ${note}`;
    plan.config = { ...plan.config, start: { init: record } };
  }
  const start = initPath !== undefined ? "init" : resumePath !== undefined ? "resume" : null;
  const restarts = _restarts(flags, plan, start);
  const config = { ...plan.config, command: commandLine(flags) };
  return { ...plan, config, restarts, solveKernel: _solveKernel(flags, plan.backend) };
}

/**
 * The command line of a run, from its flags in the order given: `deno task
 * train` and each flag with its value, quoted for a POSIX shell where
 * needed (a flag repeated shows once, with the value that counts).
 *
 * @param flags The parsed flags.
 * @returns The line.
 *
 * @example
 * ```ts
 * import { commandLine } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(commandLine({ data: "my data.csv", lr: "-1", force: true }),
 *   "deno task train --data 'my data.csv' --lr=-1 --force");
 * ```
 */
export function commandLine(flags: FlagValues): string {
  const words = ["deno task train"];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined || value === false) continue;
    if (value === true) words.push(`--${name}`);
    else if (value.startsWith("-")) words.push(`--${name}=${_quoted(value)}`);
    else words.push(`--${name} ${_quoted(value)}`);
  }
  return words.join(" ");
}

/** A word as a POSIX shell reads it back. */
function _quoted(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `--restarts` of a plan: given, or without the flag the default of a new
 * run from a seed, of an experiment ({@link TRAIN_DEFAULTS}) or a table
 * ({@link TABLE_DEFAULTS}); none for a run given its start by `--init` or
 * `--resume`, and the flag refused with them.
 */
function _restarts(
  flags: FlagValues,
  plan: Omit<TrainPlan, "solveKernel">,
  start: "init" | "resume" | null,
): RestartSettings | null {
  const name = plan.config.example;
  const defaults = name === null ? TABLE_DEFAULTS : TRAIN_DEFAULTS[name];
  const fallback = start === null ? defaults.restarts : 1;
  const probe = name === null
    ? { fraction: TABLE_DEFAULTS.probeFraction, max: TABLE_DEFAULTS.probe }
    : { fraction: 0.1, max: DEFAULT_PROBE_MAX };
  const restarts = restartFlags(flags, plan.iterations, fallback, probe);
  if (restarts !== null && start !== null) {
    throw new UsageError(
      `--restarts probes initialisations from seeds; --${start} gives the start. Give one ` +
        "of them.",
    );
  }
  return restarts;
}

/**
 * Runs a plan's `--restarts` probes, after the pre-flight checks and before
 * the run's header: keeps the seed with the lowest probe loss, and puts
 * into the plan its seed, its state after the probe, the iterations left,
 * a header line and the record `config.start.restarts`. Nothing to do
 * without probes (or once done).
 *
 * @param plan The plan, changed in place.
 * @param shouldStop Polled between iterations: true stops the probes.
 * @throws {Error} When every probe diverged.
 * @throws {ProbesInterrupted} When `shouldStop` stopped them.
 *
 * @example
 * ```ts
 * import { planRun, probePlan } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = await planRun({ steps: "20", iterations: "10", restarts: "2", probe: "3" });
 * assert.equal(plan.iterations, 10);
 * await probePlan(plan);
 * assert.equal(plan.iterations, 7);
 * assert.equal(plan.resume?.iteration, 3);
 * assert.deepEqual(plan.config.start?.restarts?.probes.map((p) => p.seed), [0, 1]);
 * assert.equal(plan.config.seed, plan.config.start?.restarts?.kept);
 * ```
 */
export async function probePlan(plan: TrainPlan, shouldStop?: () => boolean): Promise<void> {
  const restarts = plan.restarts;
  if (restarts === null || restarts === undefined) return;
  const data = plan.data.trajectories ?? plan.data.data;
  const kept = await probeRestarts(plan.config, data, restarts, shouldStop);
  plan.config = { ...plan.config, seed: kept.seed, start: { restarts: kept.record } };
  plan.resume = kept.state;
  plan.iterations -= restarts.probe;
  plan.dataNote += `\n  ${kept.note}`;
  plan.restarts = null;
}

/** A new run of an experiment. */
async function _planNew(flags: FlagValues, given: _Given): Promise<Omit<TrainPlan, "solveKernel">> {
  const tableFlag = TABLE_FLAGS.find(([flag]) => stringFlag(flags, flag) !== undefined)?.[0];
  const exampleFlag = stringFlag(flags, "example");
  if (given.dataPath !== undefined && exampleFlag === undefined) {
    return _completed(
      flags,
      given,
      await planTable(flags, given.dataPath, given.schedule, given.iterations),
    );
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
  const defaults = TRAIN_DEFAULTS[name];
  const iterations = given.iterations ?? defaults.iterations;
  const base = experimentConfig(name, architectureFlags(flags, example.mlp));
  const config = applyTrainingFlags(flags, base, example.points, example.duration);
  if ((given.schedule ?? defaults.schedule) === "cosine") {
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

/** A run that goes on from a model file. */
async function _planResume(
  flags: FlagValues,
  given: _Given,
  resumePath: string,
): Promise<Omit<TrainPlan, "solveKernel">> {
  const model = await readModelFile(resumePath);
  const name = model.config.example;
  const saved = model.config;
  _refuseFixedChanges(flags, saved, resumePath, given.schedule);
  if (name === null) {
    const table = await planTableResume(flags, model, resumePath, given.dataPath);
    return _completed(flags, given, table, model, resumePath);
  }
  _refuseTableFlags(flags, name);
  const example = EXPERIMENTS[name];
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
  refuseValidationChange(config, saved, resumePath);
  validationSplit(config, [data.data]);
  const overrides = changedSettings(config, base);
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
  overrides.push(..._backendChange(given, model));
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

/**
 * A table plan completed: a new run, or with `model` the resumption of
 * `resumePath` (its backend, iterations left and state).
 */
function _completed(
  flags: FlagValues,
  given: _Given,
  table: TablePlan,
  model?: ModelFile,
  resumePath?: string,
): Omit<TrainPlan, "solveKernel"> {
  const resumed = model !== undefined && resumePath !== undefined;
  return {
    ...table,
    backend: given.backend ?? model?.training.backend ?? "cpu",
    backendFromModel: resumed && given.backend === undefined,
    iterations: resumed
      ? _iterationsLeft(model, given.iterations, resumePath)
      : given.iterations ?? table.example.iterations,
    resume: resumed ? stateFromModel(model) : null,
    resumedFrom: resumed ? resumePath : null,
    out: stringFlag(flags, "out") ?? null,
    overrides: [...table.overrides, ...(resumed ? _backendChange(given, model) : [])],
    dataChange: null,
  };
}

/** The backend override of a resumed run, in words (none or one). */
function _backendChange(given: _Given, model: ModelFile): string[] {
  return given.backend !== undefined && given.backend !== model.training.backend
    ? [`backend (${given.backend}; trained on ${model.training.backend})`]
    : [];
}

/** Refuses the table flags on resuming an experiment's model (it reads its own data). */
function _refuseTableFlags(flags: FlagValues, name: string): void {
  const flag = TABLE_FLAGS.find(([f]) => stringFlag(flags, f) !== undefined)?.[0];
  if (flag === undefined) return;
  throw new UsageError(
    `--${flag} reads a table given by --data FILE without --example; the model being ` +
      `resumed trained on the ${name} example, which reads its own data.`,
  );
}

/** Refuses flags that would change the resumed model's architecture, problem or schedule. */
function _refuseFixedChanges(
  flags: FlagValues,
  saved: ModelConfig,
  resumePath: string,
  scheduleName: string | undefined,
): void {
  const fixed: Record<string, string> = {
    example: saved.example ?? "none (a table)",
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
