/**
 * `deno task train`: trains a neural ODE on one of the paper's three
 * experiments and writes a model file, the loss history, plots and a report.
 *
 *     deno task train                                  # white dwarf, RK4, reversible
 *     deno task train --example oscillator --data real_double_linear_h_1.txt
 *     deno task train --resume runs/white-dwarf-20250101-120000/model.json --iterations 500
 *
 * Needs `--allow-read` (data and model files) and `--allow-write` (the output
 * folder); `--backend webgpu` needs no further permission. Run with `--help`
 * for every flag.
 *
 * @module
 */

import { resolve } from "node:path";
import { exportModelFile } from "../export/files.ts";
import { type CliIo, consoleIo } from "./io.ts";
import { flagHelp, type FlagTable, type FlagValues, parseFlags, UsageError } from "./flags.ts";
import { type ActivationName, activationNames } from "../solvers/fields/activations.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import {
  EXAMPLE_NAMES,
  type ExampleName,
  type Experiment,
  experimentConfig,
  EXPERIMENTS,
  loadExperimentData,
} from "../training/experiments.ts";
import {
  GRADIENT_NAMES,
  type ScheduleConfig,
  schemeOf,
  SOLVER_NAMES,
  type TrainConfig,
} from "../training/config.ts";
import type { TrainResult, TrainState } from "../training/state.ts";
import type { Progress } from "../training/state.ts";
import { train } from "../training/train.ts";
import { alignSteps } from "../training/data.ts";
import { readModelFile, writeModelFile } from "../training/model_file.ts";
import { type ModelConfig, ModelFileError } from "../training/model_format.ts";
import { modelFromState, stateFromModel } from "../training/model_state.ts";
import { writeRunFiles } from "./run_files.ts";
import { cpuFallbackReason, trainGpu } from "../training/webgpu/train.ts";
import type { SolveKernel } from "../solvers/webgpu/solve.ts";
import {
  type BackendChoice,
  chooseBackend,
  GpuUnavailableError,
} from "../solvers/webgpu/runtime/device.ts";
import { gpuSupport } from "../training/webgpu/trainer.ts";
import type { GradientMethodName } from "../solvers/solve.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";

/**
 * Exit codes of {@link main}.
 *
 * @example
 * ```ts
 * import { EXIT } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert.equal(EXIT.usage, 2);
 * ```
 */
export const EXIT: Readonly<{ ok: 0; failed: 1; usage: 2; interrupted: 130 }> = Object.freeze({
  /** Training completed (or `--help`). */
  ok: 0,
  /** Training diverged, or a data or model file could not be used. */
  failed: 1,
  /** A bad flag or flag value. */
  usage: 2,
  /** Stopped by Ctrl-C; the state was saved. */
  interrupted: 130,
});

/** The values of `--backend`. */
const BACKEND_FLAGS = ["cpu", "webgpu", "auto"] as const;
type _BackendFlag = typeof BACKEND_FLAGS[number];

/** The flags, in help order: name, value placeholder, description. */
const _FLAGS: FlagTable = [
  ["example", "NAME", `experiment: ${EXAMPLE_NAMES.join(", ")} (default white-dwarf)`],
  [
    "solver",
    "NAME",
    `base solver: ${SOLVER_NAMES.join(", ")} (default: the experiment's, rk4 or bosh3)`,
  ],
  [
    "scheme",
    "NAME",
    "reversible (McCallum & Foster; default) or plain (ordinary Runge-Kutta, " +
    "not with --gradient reversible)",
  ],
  ["gradient", "NAME", `gradient method: ${GRADIENT_NAMES.join(", ")} (default reversible)`],
  [
    "checkpoints",
    "C",
    "checkpoints of --gradient checkpointed (default ⌊√(2N + ¼) − 1.5⌋ + 1 for N steps: " +
    "44 for 1000, 31 for 499)",
  ],
  [
    "coupling",
    "λ",
    "coupling of the reversible scheme, in (0, 1] (default 0.999); with --gradient " +
    "reversible keep N·(1 − λ) below about 20 for the N steps of a solve (λ ≥ 0.98 for " +
    "1000 steps), or its backward pass drifts from the forward solve",
  ],
  [
    "steps",
    "N",
    "fixed solver steps over the data window: a multiple or divisor of the data " +
    "intervals (default 1000 white dwarf, 499 oscillator; the pendulum steps adaptively)",
  ],
  [
    "dt",
    "H",
    "fixed step size instead of --steps, a number or a fraction a/b (0.005 white dwarf, " +
    "3/499 oscillator)",
  ],
  [
    "rtol",
    "R",
    "adaptive steps with this relative tolerance (default 1e-6; the pendulum's default; " +
    "needs bosh3, dopri5, tsit5, heun, reversible-heun or leapfrog)",
  ],
  ["atol", "A", "absolute tolerance of adaptive steps (default 1e-6)"],
  ["max-steps", "N", "most steps of an adaptive solve, rejected ones included (default 1000)"],
  [
    "iterations",
    "N",
    "iterations to train (default: the paper's); with --resume, iterations more (default: " +
    "the rest of the resumed run's planned iterations)",
  ],
  ["lr", "RATE", "AdamW learning rate (default 0.01)"],
  ["weight-decay", "W", "AdamW decoupled weight decay (default 1e-5)"],
  [
    "schedule",
    "NAME",
    "learning-rate schedule: constant (default) or cosine (from --lr down to lr/100 " +
    "over --iterations)",
  ],
  ["clip", "NORM", "clip the gradient norm to NORM (default: no clipping)"],
  ["width", "N", "hidden layer width (default 10)"],
  ["depth", "N", "number of hidden layers (default 1)"],
  ["activation", "NAME", `hidden activation: ${activationNames.join(", ")} (default tanh)`],
  ["batch", "N", "trajectories per iteration, for data with several (default 1)"],
  ["seed", "N", "seed of the initial parameters (default 0)"],
  [
    "backend",
    "NAME",
    "cpu (float64; the default, or the resumed model's), webgpu (float32 on the GPU: " +
    "the reversible scheme of a Runge-Kutta solver; fixed steps with the reversible, direct " +
    "or checkpointed gradient, adaptive steps with any of the three, the batch " +
    "sharing one step size), or auto (webgpu when a hardware adapter exists and the " +
    "configuration runs there, else cpu, saying why; a software adapter such as llvmpipe " +
    "is used only when asked for by webgpu)",
  ],
  [
    "solve-kernel",
    "NAME",
    "WebGPU only: auto (default: whole where it applies — widths up to 32, fixed steps), " +
    "whole (one kernel runs each trajectory's whole solve, " +
    "another its whole backward pass) or steps (kernels per stage and step)",
  ],
  [
    "data",
    "FILE",
    "Schmidt-Lipson data file for oscillator or pendulum (default: simulated data)",
  ],
  ["out", "DIR", "output folder (default runs/<example>-<timestamp>/)"],
  ["resume", "FILE", "continue training from a model.json (optimizer state included)"],
  ["help", "", "print this help"],
];

/**
 * The help text of `deno task train`.
 *
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { helpText } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(helpText().includes("--gradient NAME"));
 * ```
 */
export function helpText(): string {
  const lines = [
    "Usage: deno task train [flags]",
    "",
    "Trains a neural ODE (an MLP vector field) on one of the three experiments of",
    "McCallum & Foster (2024) with exact gradients through an algebraically reversible",
    "solver, and writes model.json, history.csv, loss.svg, fit.svg, summary.json and",
    "report.html to the output folder. With no flags: the white dwarf, RK4, reversible",
    "gradient, 1000 iterations.",
    "",
    "Flags:",
  ];
  lines.push(...flagHelp(_FLAGS, 24, 80));
  lines.push(
    "",
    "Examples:",
    "  deno task train --example oscillator --iterations 2000",
    "  deno task train --example pendulum --data ../shared/data/schmidt-lipson-2009/real_double_pend_h_1.txt",
    "  deno task train --gradient checkpointed --scheme plain --solver ralston3",
    "  deno task train --backend webgpu --example oscillator",
    "  deno task train --resume runs/<run>/model.json --iterations 500",
    "",
    "Ctrl-C saves the current state (model.json and the rest) before exiting;",
    "--resume continues it exactly as if it had not stopped.",
  );
  return lines.join("\n") + "\n";
}

function _allowed(values: readonly string[]): string {
  return values.join(", ");
}

function _oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new UsageError(
      `invalid value for --${flag}: ${JSON.stringify(value)}. Allowed: ${_allowed(allowed)}.`,
    );
  }
  return value as T;
}

function _number(
  flag: string,
  text: string,
  range: { integer?: boolean; min?: number; above?: number; max?: number; fraction?: boolean },
): number {
  const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  const t = text.trim();
  let value = decimal.test(t) ? Number(t) : NaN;
  const parts = range.fraction ? /^([^/]+)\/([^/]+)$/.exec(t) : null;
  if (parts !== null && decimal.test(parts[1].trim()) && decimal.test(parts[2].trim())) {
    value = Number(parts[1]) / Number(parts[2]);
  }
  const ok = Number.isFinite(value) &&
    (!range.integer || Number.isSafeInteger(value)) &&
    (range.min === undefined || value >= range.min) &&
    (range.above === undefined || value > range.above) &&
    (range.max === undefined || value <= range.max);
  if (!ok) {
    const kind = range.integer
      ? "an integer"
      : range.fraction
      ? "a number or a fraction a/b"
      : "a number";
    const lo = range.above !== undefined ? `(${range.above}` : `[${range.min}`;
    const phrase = range.max !== undefined && (range.above ?? range.min) !== undefined
      ? `${kind} in ${lo}, ${range.max}]`
      : range.above !== undefined
      ? `${kind} > ${range.above}`
      : range.min !== undefined
      ? `${kind} >= ${range.min}` +
        (Number.isInteger(value) && !Number.isSafeInteger(value) ? " and <= 2^53 − 1" : "")
      : range.integer
      ? "a safe integer (|n| <= 2^53 − 1)"
      : kind;
    throw new UsageError(
      `invalid value for --${flag}: ${JSON.stringify(text)}. Allowed: ${phrase}.`,
    );
  }
  return value;
}

/** Flags that fix the architecture or the problem, refused on resume when they differ. */
const _FIXED_ON_RESUME = ["example", "width", "depth", "activation", "seed"];

interface _Plan {
  /** The backend asked for: the flag, else the resumed model's, else cpu. */
  backend: _BackendFlag;
  /** True when the backend is the resumed model's (no --backend given). */
  backendFromModel: boolean;
  example: Experiment;
  config: ModelConfig;
  iterations: number;
  resume: TrainState | null;
  resumedFrom: string | null;
  out: string | null;
  dataNote: string;
  data: Awaited<ReturnType<typeof loadExperimentData>>;
  overrides: string[];
  /**
   * When a resumed run trains on other data than the model's: the data it
   * was trained on so far, and the best so far on them (restored should no
   * iteration complete on the new data).
   */
  dataChange:
    | { from: string; best: Pick<TrainState, "bestLoss" | "bestIteration" | "bestParams"> }
    | null;
}

function _str(flags: FlagValues, name: string): string | undefined {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
}

/** Settings that do not depend on the model file: solver, gradient, optimizer. */
function _applyTraining(
  flags: FlagValues,
  base: TrainConfig,
  points: number,
  duration: number,
): TrainConfig {
  const config: TrainConfig = { ...base };
  const solver = _str(flags, "solver");
  if (solver !== undefined) config.solver = _oneOf("solver", solver, SOLVER_NAMES);
  const scheme = _str(flags, "scheme");
  if (scheme !== undefined) config.scheme = _oneOf("scheme", scheme, ["reversible", "plain"]);
  const gradient = _str(flags, "gradient");
  if (gradient !== undefined) {
    config.gradient = _oneOf("gradient", gradient, GRADIENT_NAMES) as GradientMethodName;
    if (config.gradient !== "checkpointed") config.checkpoints = null;
  }
  const checkpoints = _str(flags, "checkpoints");
  if (checkpoints !== undefined) {
    if (config.gradient !== "checkpointed") {
      throw new UsageError(
        `--checkpoints applies to --gradient checkpointed only (the gradient is ${config.gradient}).`,
      );
    }
    config.checkpoints = _number("checkpoints", checkpoints, { integer: true, min: 1 });
  }
  const coupling = _str(flags, "coupling");
  if (coupling !== undefined) {
    config.coupling = _number("coupling", coupling, { above: 0, max: 1 });
    if (
      config.scheme !== "reversible" || config.solver === "reversible-heun" ||
      config.solver === "leapfrog"
    ) {
      throw new UsageError(
        `--coupling applies to the reversible scheme built on a tableau solver ` +
          `(here: --scheme ${config.scheme}, --solver ${config.solver}).`,
      );
    }
  }
  const steps = _str(flags, "steps");
  const dt = _str(flags, "dt");
  if (steps !== undefined && dt !== undefined) {
    throw new UsageError("give --steps or --dt, not both.");
  }
  const tolerances = ["rtol", "atol", "max-steps"].filter((f) => _str(flags, f) !== undefined);
  if ((steps !== undefined || dt !== undefined) && tolerances.length > 0) {
    throw new UsageError(
      `--${steps !== undefined ? "steps" : "dt"} asks for fixed steps and --${tolerances[0]} ` +
        `for adaptive ones; give one or the other.`,
    );
  }
  if (steps !== undefined || dt !== undefined) config.adaptive = null;
  if (tolerances.length > 0) {
    const a = { ...(config.adaptive ?? { rtol: 1e-6, atol: 1e-6, maxSteps: 1000 }) };
    const rtol = _str(flags, "rtol"), atol = _str(flags, "atol"), max = _str(flags, "max-steps");
    if (rtol !== undefined) a.rtol = _number("rtol", rtol, { above: 0 });
    if (atol !== undefined) a.atol = _number("atol", atol, { above: 0 });
    if (max !== undefined) a.maxSteps = _number("max-steps", max, { integer: true, min: 1 });
    config.adaptive = a;
  }
  if (steps !== undefined) config.steps = _number("steps", steps, { integer: true, min: 1 });
  if (dt !== undefined) {
    const h = _number("dt", dt, { above: 0, max: duration, fraction: true });
    const n = Math.round(duration / h);
    let ok = Math.abs(n * h - duration) <= 1e-9 * duration;
    try {
      if (ok) alignSteps(points, n);
    } catch {
      ok = false;
    }
    if (!ok) {
      const intervals = points - 1;
      const candidates = new Set<number>();
      for (let k = 1; k <= 8; k *= 2) candidates.add(intervals * k);
      // every divisor: the nearest may be a large step (0.5 for --dt 0.3 on [0, 5])
      for (let d = 2; d <= intervals; d++) {
        if (intervals % d === 0) candidates.add(intervals / d);
      }
      const near = [...candidates]
        .sort((a, b) => Math.abs(Math.log(duration / a / h)) - Math.abs(Math.log(duration / b / h)))
        .slice(0, 5)
        .sort((a, b) => b - a)
        .map((steps) => `${Number((duration / steps).toPrecision(12))} (${steps} steps)`);
      throw new UsageError(
        `invalid value for --dt: ${JSON.stringify(dt)}. The steps must fill the data window ` +
          `[0, ${duration}] and line up with its ${points} points; allowed near it: ` +
          `${near.join(", ")}.`,
      );
    }
    config.steps = n;
  }
  try {
    if (config.adaptive === null) alignSteps(points, config.steps);
  } catch (error) {
    throw new UsageError(
      `invalid ${dt !== undefined ? "--dt" : "--steps"}: ${config.steps} steps ` +
        `(h = ${duration / config.steps}) do not line up with the ${points} data points. ` +
        `Allowed: ${(error as Error).message.replace(/^.*expected /, "").replace(/\.$/, "")}.`,
    );
  }
  const lr = _str(flags, "lr");
  if (lr !== undefined) config.lr = _number("lr", lr, { above: 0 });
  const wd = _str(flags, "weight-decay");
  if (wd !== undefined) config.weightDecay = _number("weight-decay", wd, { min: 0 });
  const clip = _str(flags, "clip");
  if (clip !== undefined) config.clip = _number("clip", clip, { above: 0 });
  const batch = _str(flags, "batch");
  if (batch !== undefined) {
    config.batch = _number("batch", batch, { integer: true, min: 1 });
    if (config.batch > 1) {
      throw new UsageError(
        `invalid value for --batch: ${batch}. The experiment's data hold 1 trajectory; ` +
          `allowed: 1.`,
      );
    }
  }
  try {
    schemeOf(config);
  } catch (error) {
    throw new UsageError(
      (error as Error).message
        .replace(/scheme "reversible"/, "--scheme reversible")
        .replace(/^Invalid (solver|scheme): got /, "invalid value for --$1: "),
    );
  }
  return config;
}

async function _plan(flags: FlagValues): Promise<_Plan> {
  const backendFlag = _str(flags, "backend");
  const backend = backendFlag === undefined
    ? undefined
    : _oneOf("backend", backendFlag, BACKEND_FLAGS);
  const dataPath = _str(flags, "data");
  const resumePath = _str(flags, "resume");
  const iterationsFlag = _str(flags, "iterations");
  const iterationsGiven = iterationsFlag === undefined
    ? undefined
    : _number("iterations", iterationsFlag, { integer: true, min: 1 });
  const scheduleName = _str(flags, "schedule");
  if (scheduleName !== undefined) _oneOf("schedule", scheduleName, ["constant", "cosine"]);

  if (resumePath !== undefined) {
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
    const fixed: Record<string, string> = {
      example: name,
      width: String(saved.mlp.widths[0] ?? 0),
      depth: String(saved.mlp.widths.length),
      activation: saved.mlp.activation,
      seed: String(saved.seed),
    };
    for (const flag of _FIXED_ON_RESUME) {
      const given = _str(flags, flag);
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
    const path = dataPath ?? saved.data.path ?? undefined;
    if (name === "white-dwarf" && dataPath !== undefined) {
      throw new UsageError(
        "--data applies to the oscillator and the pendulum; the white-dwarf data are " +
          "generated from the equation.",
      );
    }
    const data = await _loadData(name, path, dataPath === undefined ? resumePath : null);
    const base: TrainConfig = { ...saved };
    const config = _applyTraining(flags, base, data.data.ts.length, example.duration);
    const overrides = Object.keys(config).filter((k) =>
      JSON.stringify((config as unknown as Record<string, unknown>)[k]) !==
        JSON.stringify((base as unknown as Record<string, unknown>)[k])
    );
    const window = _window(data);
    // The same data (a moved file, found again with --data) or other data?
    const same = data.data.source === saved.data.source || (
      data.simulated === saved.data.simulated && data.data.ts.length === saved.data.points &&
      window.t0 === saved.t0 && window.t1 === saved.t1 &&
      window.y0.every((v, i) => v === saved.y0[i])
    );
    const resume = stateFromModel(model);
    let dataChange: _Plan["dataChange"] = null;
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
    if (backend !== undefined && backend !== model.training.backend) {
      overrides.push(`backend (${backend}; trained on ${model.training.backend})`);
    }
    const done = model.training.iterations;
    let iterations = iterationsGiven;
    if (iterations === undefined) {
      iterations = model.training.plannedIterations - done;
      if (iterations <= 0) {
        throw new UsageError(
          `${resumePath} has finished its ${done} iterations; pass --iterations N to train ` +
            `N more.`,
        );
      }
    }
    const modelConfig: ModelConfig = {
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
    };
    return {
      backend: backend ?? model.training.backend,
      backendFromModel: backend === undefined,
      example,
      config: modelConfig,
      iterations,
      resume,
      resumedFrom: resumePath,
      out: _str(flags, "out") ?? null,
      dataNote: _dataNote(example, data),
      data,
      overrides,
      dataChange,
    };
  }

  const name = _oneOf("example", _str(flags, "example") ?? "white-dwarf", EXAMPLE_NAMES);
  const example = EXPERIMENTS[name];
  if (name === "white-dwarf" && dataPath !== undefined) {
    throw new UsageError(
      "--data applies to the oscillator and the pendulum; the white-dwarf data are " +
        "generated from the equation.",
    );
  }
  const width = _number("width", _str(flags, "width") ?? "10", { integer: true, min: 1 });
  const depth = _number("depth", _str(flags, "depth") ?? "1", { integer: true, min: 0 });
  const activation = _oneOf(
    "activation",
    _str(flags, "activation") ?? "tanh",
    activationNames,
  ) as ActivationName;
  const seed = _number("seed", _str(flags, "seed") ?? "0", { integer: true });
  const iterations = iterationsGiven ?? example.iterations;
  const base = experimentConfig(name, {
    mlp: { ...example.mlp, widths: Array.from({ length: depth }, () => width), activation },
    seed,
  });
  const config = _applyTraining(flags, base, example.points, example.duration);
  if (scheduleName === "cosine") {
    // From lr down to lr/100 over this run; a resumed run continues at lr/100.
    const schedule: ScheduleConfig = { kind: "cosine", iterations, minLr: config.lr / 100 };
    config.schedule = schedule;
  }
  const data = await _loadData(name, dataPath, null);
  return {
    backend: backend ?? "cpu",
    backendFromModel: false,
    example,
    config: {
      ...config,
      example: name,
      ..._window(data),
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
    out: _str(flags, "out") ?? null,
    dataNote: _dataNote(example, data),
    data,
    overrides: [],
    dataChange: null,
  };
}

/** The data's window and initial state, as a model file records them. */
function _window(
  data: Awaited<ReturnType<typeof loadExperimentData>>,
): Pick<ModelConfig, "t0" | "t1" | "y0"> {
  const { ts, ys, dim } = data.data;
  return { t0: ts[0], t1: ts[ts.length - 1], y0: Array.from(ys.subarray(0, dim)) };
}

/** A data file that cannot be read (absent, a folder, not permitted). */
class _DataFileError extends Error {}

/**
 * Loads the experiment's data, naming `--data` (or, for `recordedBy`, the
 * resumed model's recorded data file) when the file cannot be read.
 */
async function _loadData(
  name: ExampleName,
  path: string | undefined,
  recordedBy: string | null,
): Promise<Awaited<ReturnType<typeof loadExperimentData>>> {
  try {
    const loaded = await loadExperimentData(name, { path });
    // recorded absolute: a resume, the run's summary and the ONNX metadata are read from
    // other folders than the one the path was typed in
    return loaded.path === null ? loaded : { ...loaded, path: resolve(loaded.path) };
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory
      ? "it is a folder, not a file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : null;
    if (why === null || path === undefined) throw error;
    const expected = `a data file in Schmidt & Lipson's format, such as ` +
      `${EXPERIMENTS[name].dataFile}`;
    throw new _DataFileError(
      recordedBy === null
        ? `--data ${JSON.stringify(path)}: ${why}. Expected ${expected}.`
        : `the data file recorded in ${recordedBy} (config.data.path), ` +
          `${JSON.stringify(path)}, cannot be read: ${why}. If it has moved, pass ` +
          `--data NEW to point to it instead.`,
    );
  }
}

function _dataNote(
  example: Experiment,
  data: Awaited<ReturnType<typeof loadExperimentData>>,
): string {
  if (!data.simulated) return `data: ${data.data.source}`;
  return `data: SIMULATED — ${data.data.source}.\n      No --data file was given; for the ` +
    `paper's real measurements pass --data path/to/${example.dataFile}.`;
}

function _timestamp(date: Date): string {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}

/**
 * Creates the output folder (`--out`, or the default one) and checks that
 * it can be written to, before any training: a bad folder is a usage error,
 * not a run lost at the end.
 */
async function _prepareOut(plan: _Plan): Promise<{ dir: string; created: boolean }> {
  const dir = await _outDir(plan);
  const existed = await Deno.stat(dir).then(() => true, () => false);
  const refuse = (why: string) =>
    new UsageError(
      plan.out === null
        ? `the default output folder ${dir} ${why}; choose another with --out DIR.`
        : `invalid value for --out: ${JSON.stringify(dir)}: ${why}. Allowed: a folder to ` +
          `write the run's files to, existing or to be created.`,
    );
  if (dir.trim() === "") throw refuse("it is empty");
  const reason = (error: unknown) =>
    (error instanceof Error ? error.message : String(error)).replace(/: \w+ '.*'$/, "");
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw refuse(
      error instanceof Deno.errors.AlreadyExists
        ? "it is a file, not a folder"
        : `cannot be created (${reason(error)})`,
    );
  }
  try {
    const probe = await Deno.makeTempFile({ dir, prefix: ".revode-write-check-" });
    await Deno.remove(probe);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw refuse(`cannot be written to (${reason(error)})`);
  }
  return { dir, created: !existed };
}

async function _outDir(plan: _Plan): Promise<string> {
  if (plan.out !== null) return plan.out;
  const base = `runs/${plan.example.name}-${_timestamp(new Date())}`;
  for (let k = 1;; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      await Deno.stat(dir);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return dir;
      throw error;
    }
  }
}

/** A setting as the user would type it: 1e-5 rather than 0.00001. */
function _num(x: number): string {
  const plain = String(x);
  const exp = x.toExponential();
  return exp.length < plain.length ? exp : plain;
}

function _fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x === 0
    ? "0"
    : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4
    ? x.toPrecision(4)
    : x.toExponential(3);
}

function _duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}

/** Draws progress: a live `\r` line on a terminal, else about ten plain lines. */
function _progressPrinter(io: CliIo, run: number, first: number): (p: Progress) => void {
  let lastDraw = -Infinity;
  let width = 0;
  const every = Math.max(1, Math.round(run / 10));
  return (p) => {
    const doneNow = p.iteration - first;
    const eta = (p.total - p.iteration) / p.iterationsPerSecond;
    const line = `iteration ${p.iteration}/${p.total}  loss ${_fmt(p.loss)}  best ${
      _fmt(p.bestLoss)
    }  ${p.iterationsPerSecond.toFixed(1)} it/s  ETA ${_duration(eta)}`;
    if (io.isTerminal) {
      // Paced by training time: the GPU reports several iterations at each read-back.
      const now = p.seconds * 1000;
      if (now - lastDraw < 100 && p.iteration < p.total) return;
      lastDraw = now;
      io.write(`\r${line.padEnd(width)}`);
      width = line.length;
      if (p.iteration === p.total) io.write("\n");
    } else if (doneNow % every === 0 || p.iteration === p.total || doneNow === 1) {
      io.write(line + "\n");
    }
  };
}

/**
 * Runs `deno task train` with the given arguments.
 *
 * @param args The command-line arguments (`Deno.args`).
 * @param io Where to write; default the process's stdout and stderr.
 * @returns The exit code: 0 done, 1 diverged or a bad file, 2 a bad flag, 130 Ctrl-C.
 *
 * @example Bad flags are refused with the allowed values
 * ```ts
 * import { main } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(await main(["--solver", "rk5"], io), 2);
 * assert.match(err, /--solver: "rk5". Allowed: euler, midpoint/);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo()): Promise<number> {
  let plan: _Plan;
  let solveKernel: SolveKernel | undefined;
  try {
    const flags = parseFlags(args, _FLAGS, { dashValues: true });
    if (flags.help === true) {
      io.write(helpText());
      return EXIT.ok;
    }
    plan = await _plan(flags);
    solveKernel = _solveKernel(flags, plan.backend);
  } catch (error) {
    return _report(io, error);
  }
  const { example, config } = plan;
  let choice: BackendChoice;
  try {
    choice = await _chooseBackend(plan.backend, config);
  } catch (error) {
    const code = _report(io, error);
    if (error instanceof GpuUnavailableError && plan.backendFromModel) {
      io.error(
        `${plan.resumedFrom} was trained on WebGPU; pass --backend cpu to resume it on the CPU.\n`,
      );
    }
    return code;
  }
  let dir: string, created: boolean;
  try {
    ({ dir, created } = await _prepareOut(plan));
  } catch (error) {
    choice.gpu?.device.destroy();
    return _report(io, error);
  }
  const first = plan.resume?.iteration ?? 0;
  const total = first + plan.iterations;
  const paramCount = Mlp.fromJSON(config.mlp).paramCount;
  const lines = [
    `revode train: ${example.title}`,
    plan.resumedFrom
      ? `  resuming ${plan.resumedFrom} at iteration ${first}` +
        (plan.overrides.length > 0 ? ` (changed: ${plan.overrides.join(", ")})` : "")
      : null,
    `  ${plan.dataNote}`,
    `  model: MLP ${config.mlp.dim + (config.mlp.timeDependent ? 1 : 0)} → ${
      config.mlp.widths.map((w) => `${w} ${config.mlp.activation}`).join(" → ") || "(affine)"
    } → ${config.mlp.dim}, ${paramCount} parameters`,
    config.adaptive
      ? `  solver: ${_solverText(config)}, adaptive steps (rtol ${_num(config.adaptive.rtol)}, ` +
        `atol ${_num(config.adaptive.atol)}, at most ${config.adaptive.maxSteps}) over ` +
        `[${config.t0}, ${config.t1}], outputs interpolated at the data times`
      : `  solver: ${_solverText(config)}, ${config.steps} steps of ${
        _fmt((config.t1 - config.t0) / config.steps)
      } over [${config.t0}, ${config.t1}]`,
    `  gradient: ${config.gradient}${
      config.gradient === "checkpointed"
        ? config.checkpoints !== null && config.checkpoints !== undefined
          ? ` (${config.checkpoints} checkpoints)`
          : config.adaptive
          ? " (default checkpoints for each solve's number of steps)"
          : ` (${defaultCheckpoints(config.steps)} checkpoints)`
        : ""
    }; AdamW lr ${_num(config.lr)}, weight decay ${_num(config.weightDecay)}${
      config.schedule.kind === "cosine" ? ", cosine schedule" : ""
    }${config.clip !== null ? `, clip ${config.clip}` : ""}; seed ${config.seed}`,
    example.deviation && config.adaptive ? `  note: ${example.deviation}` : null,
    `  ${choice.message}`,
    `  iterations: ${plan.iterations}${first > 0 ? ` (to ${total})` : ""}`,
  ].filter((l) => l !== null);
  io.write(lines.join("\n") + "\n");

  let stop = false;
  let signals = 0;
  const onSigint = () => {
    signals++;
    if (signals > 1) {
      io.error("\nSecond Ctrl-C: exiting without saving.\n");
      Deno.exit(EXIT.interrupted);
    }
    stop = true;
  };
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onSigint);
    listening = true;
  } catch {
    // No signal support here (e.g. a restricted platform): Ctrl-C just exits.
  }
  let result: TrainResult;
  try {
    const options = {
      config,
      data: plan.data.data,
      iterations: plan.iterations,
      resume: plan.resume ?? undefined,
      onProgress: _progressPrinter(io, plan.iterations, first),
      shouldStop: () => stop,
    };
    result = choice.gpu === null
      ? await train(options)
      : await trainGpu({ ...options, gpu: choice.gpu, solveKernel });
  } catch (error) {
    // nothing was written: a folder made for this run goes again (remove refuses a full one)
    if (created) await Deno.remove(dir).catch(() => {});
    // "whole" where the whole-solve kernels do not apply: refused before any iteration runs
    if (error instanceof RangeError && error.message.startsWith("Invalid solveKernel: ")) {
      return _report(
        io,
        new UsageError(
          error.message.replace(/^Invalid solveKernel: got "(\w+)"/, "--solve-kernel $1"),
        ),
      );
    }
    return _report(io, error);
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSigint);
    choice.gpu?.device.destroy();
  }
  if (io.isTerminal && result.status !== "completed") io.write("\n");

  let onnxNote: string | null = null;
  let onnxWritten = false;
  if (
    plan.dataChange !== null && result.state.bestLoss === null && result.state.iteration > 0
  ) {
    // No iteration completed on the new data: the model keeps its old best.
    Object.assign(result.state, plan.dataChange.best);
  }
  try {
    await Deno.mkdir(dir, { recursive: true });
    const model = modelFromState(config, result.state, {
      plannedIterations: total,
      status: result.status,
      reason: result.reason,
      gradient: result.gradient,
      backend: choice.backend,
    });
    await writeModelFile(`${dir}/model.json`, model);
    await writeRunFiles(dir, {
      title: example.title,
      model,
      result,
      data: plan.data.data,
      stateNames: example.stateNames,
      stateLabel: example.stateLabel,
      notes: [
        plan.data.simulated ? "simulated data (no --data file given)" : null,
        example.deviation && config.adaptive ? example.deviation : null,
        plan.resumedFrom ? `resumed from ${plan.resumedFrom}` : null,
        plan.dataChange !== null
          ? `resumed on other data at iteration ${first}: the losses before it are on ` +
            `${plan.dataChange.from}`
          : null,
      ].filter((n): n is string => n !== null),
      device: _deviceText(choice),
    });
    // The whole integrator as ONNX, runnable in any ONNX runtime; a model the
    // exporter cannot express leaves the training outputs intact.
    try {
      await exportModelFile(`${dir}/model.json`, `${dir}/model.onnx`, "loop");
      onnxWritten = true;
      if (config.adaptive) {
        onnxNote = `  note: model.onnx integrates with fixed steps (by default ${config.steps} ` +
          `of ${_fmt((config.t1 - config.t0) / config.steps)}, its steps and dt inputs), not ` +
          "the adaptive steps of training";
      }
    } catch (error) {
      onnxNote = `  model.onnx not written: ${error instanceof Error ? error.message : error}`;
    }
  } catch (error) {
    return _report(io, error);
  }

  const state = result.state;
  const summary = [
    "",
    result.status === "completed"
      ? `Done: ${result.iterationsRun} iterations in ${_duration(result.seconds)} ` +
        `(${(result.iterationsRun / Math.max(result.seconds, 1e-9)).toFixed(1)} it/s).`
      : result.status === "interrupted"
      ? `Interrupted (Ctrl-C) after iteration ${state.iteration}; the state is saved.`
      : `Training diverged: ${result.reason}.`,
    `  best loss ${
      state.bestLoss === null ? "-" : _fmt(state.bestLoss)
    } at iteration ${state.bestIteration}; last loss ${
      state.losses.length > 0 ? _fmt(state.losses[state.losses.length - 1]) : "-"
    }`,
    result.gradient
      ? `  gradient (${result.gradient.method}): peak ${result.gradient.peakBytes} bytes held, ` +
        `${result.gradient.stepsPerIteration} steps, ` +
        `${result.gradient.evaluationsPerIteration} evaluations and ` +
        `${result.gradient.vjpsPerIteration} VJPs per iteration` +
        (result.gradient.maxReconstructionError !== null
          ? `, reconstruction error ≤ ${_fmt(result.gradient.maxReconstructionError)}`
          : "")
      : null,
    (result.gradient?.maxReconstructionError ?? 0) > RECONSTRUCTION_TOLERANCE
      ? `  warning: the reversible backward pass rebuilt y0 only to within ` +
        `${_fmt(result.gradient!.maxReconstructionError!)} (relative), so the gradients are ` +
        (choice.backend === "webgpu"
          ? `inexact; in float32 the error grows like λ^(−N) with the N steps of a solve: ` +
            `take fewer steps, a coupling λ closer to 1, --gradient checkpointed or direct, ` +
            `or --backend cpu (training/webgpu/mod.ts)`
          : `inexact; the error grows like λ^(−N) with the N steps of a solve: take fewer ` +
            `steps, a coupling λ closer to 1 (--coupling), or --gradient checkpointed or ` +
            `direct (numerics.md §2)`)
      : null,
    result.solveKernel
      ? `  kernels: ${
        result.solveKernel === "whole"
          ? "whole-solve (one kernel per pass of the whole solve)"
          : "per stage and step"
      }`
      : null,
    ...(result.notes ?? []).map((n) => `  note: ${n}`),
    `  wrote ${dir}/: model.json, ${
      onnxWritten ? "model.onnx, " : ""
    }history.csv, loss.svg, fit.svg, summary.json, report.html`,
    onnxNote,
  ];
  if (result.status === "diverged") {
    summary.push(
      `  kept the last good parameters (iteration ${state.iteration}). Try:`,
      ...result.remedies.map((r) => `    - ${r}`),
      `  and continue with: deno task train --resume ${dir}/model.json [changed flags]`,
    );
  } else if (result.status === "interrupted") {
    summary.push(`  continue with: deno task train --resume ${dir}/model.json`);
  } else if (total < example.iterations) {
    summary.push(
      `  The paper trains for ${example.iterations} iterations: deno task train --example ` +
        `${example.name} --iterations ${example.iterations}`,
    );
  }
  io.write(summary.filter((l) => l !== null).join("\n") + "\n");
  return result.status === "completed"
    ? EXIT.ok
    : result.status === "interrupted"
    ? EXIT.interrupted
    : EXIT.failed;
}

/** Largest relative error of the rebuilt y0 before the summary warns that gradients are inexact. */
const RECONSTRUCTION_TOLERANCE = 1e-6;

/**
 * Resolves `--backend`: a configuration the GPU cannot run is refused for
 * `webgpu` (a usage error, with `gpuSupport()`'s sentence) and sent to the
 * CPU for `auto`, saying why, without touching WebGPU; otherwise
 * `chooseBackend()` decides (and throws `GpuUnavailableError` for `webgpu`
 * without an adapter).
 */
async function _chooseBackend(
  requested: _BackendFlag,
  config: TrainConfig,
): Promise<BackendChoice> {
  if (requested !== "cpu") {
    const support = gpuSupport(config);
    if (support !== null) {
      if (requested === "webgpu") throw new UsageError(`--backend webgpu: ${support}`);
      const why = cpuFallbackReason(config);
      return {
        backend: "cpu",
        gpu: null,
        message: "backend: CPU (float64): --backend auto falls back to the CPU, as this " +
          `configuration does not run on the GPU: ${why}`,
      };
    }
  }
  return await chooseBackend(requested);
}

/** `--solve-kernel`: refused on the CPU backend (it chooses GPU kernels). */
function _solveKernel(flags: FlagValues, backend: _BackendFlag): SolveKernel | undefined {
  const text = _str(flags, "solve-kernel");
  if (text === undefined) return undefined;
  const value = _oneOf("solve-kernel", text, ["auto", "whole", "steps"] as const);
  if (backend === "cpu") {
    throw new UsageError(
      `--solve-kernel ${value} chooses WebGPU kernels; it takes --backend webgpu or auto ` +
        "(the backend here is cpu).",
    );
  }
  return value;
}

/** The backend in words, for summary.json and the report. */
function _deviceText(choice: BackendChoice): string {
  if (choice.gpu === null) return "CPU (float64)";
  return `WebGPU (float32) on ${choice.gpu.description}` +
    (choice.gpu.isFallback ? " (software adapter)" : "");
}

function _solverText(config: TrainConfig): string {
  if (config.solver === "reversible-heun" || config.solver === "leapfrog") return config.solver;
  return config.scheme === "reversible"
    ? `reversible ${config.solver} (λ = ${config.coupling})`
    : `plain ${config.solver}`;
}

/** Prints an error without a stack trace and picks the exit code. */
function _report(io: CliIo, error: unknown): number {
  if (error instanceof UsageError) {
    io.error(`error: ${error.message}\nRun with --help for every flag.\n`);
    return EXIT.usage;
  }
  if (error instanceof ModelFileError || error instanceof _DataFileError) {
    io.error(`error: ${error.message}\n`);
    return EXIT.failed;
  }
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
    io.error(`error: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  if (error instanceof Deno.errors.NotCapable) {
    io.error(
      `error: ${(error as Error).message}\nRun with --allow-read --allow-write ` +
        `(deno task train does).\n`,
    );
    return EXIT.failed;
  }
  io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
