/**
 * `model.json`: a trained neural ODE in a versioned JSON format, with
 * everything needed to use it (architecture, solver, parameters) and to
 * resume its training bit-identically (optimizer state, iteration, loss
 * history).
 *
 *     {
 *       "format": "revode-model", "version": 1, "createdAt": "2025-…Z",
 *       "config":    { example, mlp, solver, scheme, coupling, gradient, checkpoints,
 *                      steps, adaptive, lr, weightDecay, schedule, clip, batch, seed,
 *                      t0, t1, y0, data: { source, path, simulated, points } },
 *       "params":    [θ …]                       the current parameters
 *       "best":      { loss, iteration, params }  the lowest-loss parameters
 *       "optimizer": { kind: "adamw", step, lr, beta1, beta2, eps, weightDecay, m, v },
 *       "training":  { iterations, plannedIterations, status, reason, seconds,
 *                      history: { loss: […], seconds: […] }, gradient, backend }
 *     }
 *
 * `training.backend` (`"cpu"` or `"webgpu"`) names the backend of the last
 * run; files written before it existed read as `"cpu"`. A model trained on
 * either backend is the same model: it evaluates and resumes on the other.
 *
 * Files are written atomically (a temporary file renamed over the target),
 * and read back with full validation: a file of another version, a truncated
 * file or one edited into nonsense is refused with a {@link ModelFileError}
 * naming the file and what is wrong.
 *
 * @module
 */

import { writeTextFileAtomic } from "./atomic_write.ts";
import { AdamW, type AdamWState } from "./adamw.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { EXAMPLE_NAMES, type ExampleName } from "./experiments.ts";
import {
  type AdaptiveConfig,
  GRADIENT_NAMES,
  type ScheduleConfig,
  SOLVER_NAMES,
  type TrainConfig,
} from "./config.ts";
import type { GradientRecord, TrainState, TrainStatus } from "./state.ts";

/** The `format` tag of a model file. */
export const MODEL_FORMAT = "revode-model";
/** The format version this module writes and reads. */
export const MODEL_VERSION = 1;

/** Where the training data came from. */
export interface DataInfo {
  /** A description of the data (file path or simulation). */
  source: string;
  /** The file read, or null. */
  path: string | null;
  /** True when the data were simulated. */
  simulated: boolean;
  /** Number of data points. */
  points: number;
}

/** The configuration stored in a model file: training settings plus the problem. */
export interface ModelConfig extends TrainConfig {
  /** The experiment trained, or null for other data. */
  example: ExampleName | null;
  /** Start of the solve window. */
  t0: number;
  /** End of the solve window. */
  t1: number;
  /** The initial state the model is solved from. */
  y0: number[];
  /** Where the data came from. */
  data: DataInfo;
}

/** The backend a run trained on: the CPU (float64) or WebGPU (float32). */
export type BackendName = "cpu" | "webgpu";

/**
 * Every {@link BackendName}.
 *
 * @example
 * ```ts
 * import { BACKEND_NAMES } from "./model_file.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(BACKEND_NAMES, ["cpu", "webgpu"]);
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = Object.freeze(["cpu", "webgpu"]);

/** Training metadata of a model file. */
export interface TrainingInfo {
  /** Iterations done. */
  iterations: number;
  /** Iterations the last run was asked to reach. */
  plannedIterations: number;
  /** How the last run ended. */
  status: TrainStatus;
  /** Why it ended early, or null. */
  reason: string | null;
  /** Training seconds, across resumes. */
  seconds: number;
  /** Loss and elapsed seconds of every iteration. */
  history: { loss: number[]; seconds: number[] };
  /** Gradient work and memory of the last run, or null. */
  gradient: GradientRecord | null;
  /** The backend of the last run (`"cpu"` for files that do not say). */
  backend: BackendName;
}

/** A parsed model file. */
export interface ModelFile {
  /** Always {@link MODEL_FORMAT}. */
  format: typeof MODEL_FORMAT;
  /** Always {@link MODEL_VERSION}. */
  version: typeof MODEL_VERSION;
  /** ISO 8601 time of writing. */
  createdAt: string;
  /** Problem and training settings. */
  config: ModelConfig;
  /** The current parameters (where training resumes). */
  params: number[];
  /** The lowest loss seen and its parameters (the initial ones before any iteration). */
  best: { loss: number | null; iteration: number; params: number[] };
  /** The optimizer's state. */
  optimizer: AdamWState;
  /** Training metadata. */
  training: TrainingInfo;
}

/**
 * A model file that cannot be used: unreadable, not JSON, of another format
 * or version, or with a missing or invalid field. The message names the file.
 *
 * @example
 * ```ts
 * import { ModelFileError, parseModelFile } from "./model_file.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseModelFile('{"format": "revode-model"', "m.json"), (e) =>
 *   e instanceof ModelFileError && e.path === "m.json" && /not valid JSON/.test(e.message));
 * ```
 */
export class ModelFileError extends Error {
  /** The file. */
  readonly path: string;

  /**
   * Creates the error; its message is `PATH: PROBLEM`.
   *
   * @param path The file.
   * @param problem What is wrong, as a sentence.
   *
   * @example
   * ```ts
   * import { ModelFileError } from "./model_file.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ModelFileError("m.json", "no such file.").message, "m.json: no such file.");
   * ```
   */
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "ModelFileError";
    this.path = path;
  }
}

/** Extra information stored next to a {@link TrainState}. */
export interface ModelInfo {
  /** Iterations the run was asked to reach. */
  plannedIterations: number;
  /** How the run ended. */
  status: TrainStatus;
  /** Why it ended early, or null. */
  reason: string | null;
  /** Gradient statistics, or null. */
  gradient: GradientRecord | null;
  /** The backend the run trained on (default `"cpu"`). */
  backend?: BackendName;
  /** Time of writing (default now). */
  createdAt?: Date;
}

/**
 * Builds a model file from a configuration and a training state.
 *
 * @param config The problem and training settings.
 * @param state The state (from `train()` or `initialState()`).
 * @param info Status and metadata.
 * @returns The model file, ready for {@link serializeModel}.
 *
 * @example
 * ```ts
 * import { modelFromState, stateFromModel } from "./model_file.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const train = defaultConfig({
 *   mlp: { dim: 1, widths: [2], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 10,
 * });
 * const config = {
 *   ...train, example: null, t0: 0, t1: 1, y0: [1],
 *   data: { source: "by hand", path: null, simulated: false, points: 11 },
 * };
 * const state = initialState(train);
 * const model = modelFromState(config, state, {
 *   plannedIterations: 0, status: "completed", reason: null, gradient: null,
 * });
 * assert.equal(model.version, 1);
 * assert.deepEqual(stateFromModel(model).params, state.params);
 * ```
 */
export function modelFromState(
  config: ModelConfig,
  state: TrainState,
  info: ModelInfo,
): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: (info.createdAt ?? new Date()).toISOString(),
    config,
    params: Array.from(state.params),
    best: {
      loss: state.bestLoss,
      iteration: state.bestIteration,
      params: Array.from(state.bestParams),
    },
    optimizer: state.optimizer,
    training: {
      iterations: state.iteration,
      plannedIterations: info.plannedIterations,
      status: info.status,
      reason: info.reason,
      seconds: state.seconds.length > 0 ? state.seconds[state.seconds.length - 1] : 0,
      history: { loss: state.losses.slice(), seconds: state.seconds.slice() },
      gradient: info.gradient,
      backend: info.backend ?? "cpu",
    },
  };
}

/**
 * The training state stored in a model file, to resume from.
 *
 * @param model A parsed model file.
 * @returns The state: parameters, optimizer, iteration, best, history.
 *
 * @example
 * ```ts
 * import { modelFromState, stateFromModel } from "./model_file.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const train = defaultConfig({
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 4,
 * });
 * const config = {
 *   ...train, example: null, t0: 0, t1: 1, y0: [1],
 *   data: { source: "by hand", path: null, simulated: false, points: 5 },
 * };
 * const info = { plannedIterations: 0, status: "completed" as const, reason: null, gradient: null };
 * const state = stateFromModel(modelFromState(config, initialState(train), info));
 * assert.equal(state.iteration, 0);
 * assert.ok(state.params instanceof Float64Array);
 * ```
 */
export function stateFromModel(model: ModelFile): TrainState {
  return {
    iteration: model.training.iterations,
    params: Float64Array.from(model.params),
    optimizer: { ...model.optimizer, m: model.optimizer.m.slice(), v: model.optimizer.v.slice() },
    bestLoss: model.best.loss,
    bestIteration: model.best.iteration,
    bestParams: Float64Array.from(model.best.params),
    losses: model.training.history.loss.slice(),
    seconds: model.training.history.seconds.slice(),
  };
}

/**
 * The model file as JSON text: objects indented, arrays of numbers on one
 * line; every float64 is written with enough digits to be read back exactly.
 *
 * @param model The model file.
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { serializeModel } from "./model_file.ts";
 * import assert from "node:assert/strict";
 *
 * const text = serializeModel({ params: [0.1, 1 / 3] } as never);
 * assert.equal(text, '{\n  "params": [0.1, 0.3333333333333333]\n}\n');
 * assert.equal(JSON.parse(text).params[1], 1 / 3);
 * ```
 */
export function serializeModel(model: ModelFile): string {
  return _format(model, "") + "\n";
}

function _format(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "number" || typeof v === "string")) {
      return `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
    }
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + _format(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const inner = indent + "  ";
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${
      entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${_format(v, inner)}`).join(",\n")
    }\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Writes a model file atomically: readers and a crash see the old file or
 * the new one, never a mix. The model is validated first, so a file this
 * function writes can always be read back.
 *
 * @param path The file to create or replace; its directory must exist.
 * @param model The model file.
 *
 * @example
 * ```ts
 * import { modelFromState, readModelFile, writeModelFile } from "./model_file.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const train = defaultConfig({
 *     mlp: { dim: 1, widths: [2], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     steps: 10,
 *   });
 *   const config = {
 *     ...train, example: null, t0: 0, t1: 1, y0: [1],
 *     data: { source: "by hand", path: null, simulated: false, points: 11 },
 *   };
 *   const model = modelFromState(config, initialState(train), {
 *     plannedIterations: 0, status: "completed", reason: null, gradient: null,
 *   });
 *   const dir = await Deno.makeTempDir();
 *   await writeModelFile(`${dir}/model.json`, model);
 *   assert.deepEqual(await readModelFile(`${dir}/model.json`), model);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeModelFile(path: string, model: ModelFile): Promise<void> {
  const text = serializeModel(model);
  parseModelFile(text, path); // never write what could not be read back
  await writeTextFileAtomic(path, text);
}

/**
 * Reads and validates a model file.
 *
 * @param path The file.
 * @returns The parsed model.
 * @throws {ModelFileError} When the file is missing, unreadable or invalid.
 *
 * @example
 * ```ts
 * import { ModelFileError, readModelFile } from "./model_file.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(readModelFile("no/such/model.json"), (e) =>
 *     e instanceof ModelFileError && /no such file/.test(e.message));
 * }
 * ```
 */
export async function readModelFile(path: string): Promise<ModelFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new ModelFileError(path, "no such file.");
    if (error instanceof Deno.errors.IsADirectory) {
      throw new ModelFileError(path, "is a directory, not a model file.");
    }
    throw new ModelFileError(
      path,
      `cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseModelFile(text, path);
}

/** Records the path of the field being checked, for messages. */
class _Checker {
  constructor(readonly path: string) {}

  fail(field: string, value: unknown, expected: string): never {
    throw new ModelFileError(
      this.path,
      `${field} is ${_describe(value)}; expected ${expected}. The file was edited or ` +
        `damaged; use another model file or train again.`,
    );
  }

  object(field: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.fail(field, value, "an object");
    }
    return value as Record<string, unknown>;
  }

  number(
    field: string,
    value: unknown,
    range: { min?: number; max?: number; above?: number; integer?: boolean } = {},
  ): number {
    const ok = typeof value === "number" && Number.isFinite(value) &&
      (range.min === undefined || value >= range.min) &&
      (range.max === undefined || value <= range.max) &&
      (range.above === undefined || value > range.above) &&
      (!range.integer || Number.isSafeInteger(value));
    if (!ok) {
      const kind = range.integer ? "an integer" : "a finite number";
      const low = range.above ?? range.min;
      const lo = range.above !== undefined ? `(${range.above}` : `[${range.min}`;
      this.fail(
        field,
        value,
        low !== undefined && low === range.max
          ? `${range.max}`
          : low !== undefined && range.max !== undefined
          ? `${kind} in ${lo}, ${range.max}]`
          : range.above !== undefined
          ? `${kind} > ${range.above}`
          : range.min !== undefined
          ? `${kind} >= ${range.min}`
          : range.max !== undefined
          ? `${kind} <= ${range.max}`
          : kind,
      );
    }
    return value as number;
  }

  numbers(field: string, value: unknown, length?: number): number[] {
    if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
      this.fail(
        field,
        value,
        length === undefined ? "an array of numbers" : `an array of ${length} numbers`,
      );
    }
    for (let i = 0; i < value.length; i++) this.number(`${field}[${i}]`, value[i]);
    return value;
  }

  string(field: string, value: unknown): string {
    if (typeof value !== "string") this.fail(field, value, "a string");
    return value;
  }

  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
      this.fail(field, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
    }
    return value as T;
  }

  boolean(field: string, value: unknown): boolean {
    if (typeof value !== "boolean") this.fail(field, value, "true or false");
    return value;
  }
}

function _describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Parses and validates the text of a model file.
 *
 * @param text The file's content.
 * @param path The file's name, for messages.
 * @returns The parsed model.
 * @throws {ModelFileError} When the text is not a valid model file of this version.
 *
 * @example
 * ```ts
 * import { parseModelFile } from "./model_file.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseModelFile('{"format": "revode-model", "version": 7}', "m.json"),
 *   /m\.json: .*version 7.*version 1/);
 * assert.throws(() => parseModelFile('[1, 2]', "m.json"), /m\.json: not a revode model file/);
 * ```
 */
export function parseModelFile(text: string, path: string): ModelFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelFileError(
      path,
      `not valid JSON (${text.trim() === "" ? "the file is empty" : detail}); ` +
        `the file is truncated or damaged.`,
    );
  }
  const c = new _Checker(path);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ModelFileError(path, `not a revode model file (expected a JSON object).`);
  }
  const top = raw as Record<string, unknown>;
  if (top.format !== MODEL_FORMAT) {
    throw new ModelFileError(
      path,
      `not a revode model file: "format" is ${_describe(top.format)}, ` +
        `expected "${MODEL_FORMAT}".`,
    );
  }
  if (top.version !== MODEL_VERSION) {
    const newer = typeof top.version === "number" && top.version > MODEL_VERSION;
    throw new ModelFileError(
      path,
      `model format version ${_describe(top.version)} is not supported: this revode reads ` +
        `version ${MODEL_VERSION}` +
        (newer ? "; the file was written by a newer revode, upgrade to read it." : "."),
    );
  }
  c.string("createdAt", top.createdAt);

  // Configuration.
  const cfg = c.object("config", top.config);
  const example = cfg.example === null
    ? null
    : c.oneOf("config.example", cfg.example, EXAMPLE_NAMES);
  let mlp: Mlp;
  try {
    mlp = Mlp.fromJSON(cfg.mlp);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelFileError(path, `config.mlp is invalid: ${detail}`);
  }
  const solver = c.oneOf("config.solver", cfg.solver, SOLVER_NAMES);
  const scheme = c.oneOf("config.scheme", cfg.scheme, ["reversible", "plain"] as const);
  const coupling = c.number("config.coupling", cfg.coupling, { above: 0, max: 1 });
  const gradient = c.oneOf("config.gradient", cfg.gradient, GRADIENT_NAMES);
  const checkpoints = cfg.checkpoints === null
    ? null
    : c.number("config.checkpoints", cfg.checkpoints, { integer: true, min: 1 });
  const steps = c.number("config.steps", cfg.steps, { integer: true, min: 1 });
  let adaptive: AdaptiveConfig | null = null;
  if (cfg.adaptive !== null && cfg.adaptive !== undefined) {
    const a = c.object("config.adaptive", cfg.adaptive);
    adaptive = {
      rtol: c.number("config.adaptive.rtol", a.rtol, { above: 0 }),
      atol: c.number("config.adaptive.atol", a.atol, { above: 0 }),
      maxSteps: c.number("config.adaptive.maxSteps", a.maxSteps, { integer: true, min: 1 }),
    };
  }
  const lr = c.number("config.lr", cfg.lr, { above: 0 });
  const weightDecay = c.number("config.weightDecay", cfg.weightDecay, { min: 0 });
  const sched = c.object("config.schedule", cfg.schedule);
  let schedule: ScheduleConfig;
  if (c.oneOf("config.schedule.kind", sched.kind, ["constant", "cosine"] as const) === "cosine") {
    const iterations = c.number("config.schedule.iterations", sched.iterations, {
      integer: true,
      min: 1,
    });
    schedule = { kind: "cosine", iterations };
    if (sched.warmup !== undefined) {
      schedule.warmup = c.number("config.schedule.warmup", sched.warmup, {
        integer: true,
        min: 0,
        max: iterations - 1,
      });
    }
    if (sched.minLr !== undefined) {
      schedule.minLr = c.number("config.schedule.minLr", sched.minLr, { min: 0, max: lr });
    }
  } else {
    schedule = { kind: "constant" };
  }
  const clip = cfg.clip === null ? null : c.number("config.clip", cfg.clip, { above: 0 });
  const batch = c.number("config.batch", cfg.batch, { integer: true, min: 1 });
  const seed = c.number("config.seed", cfg.seed, { integer: true });
  const t0 = c.number("config.t0", cfg.t0);
  const t1 = c.number("config.t1", cfg.t1, { above: t0 });
  const y0 = c.numbers("config.y0", cfg.y0, mlp.dim);
  const dataObject = c.object("config.data", cfg.data);
  const data: DataInfo = {
    source: c.string("config.data.source", dataObject.source),
    path: dataObject.path === null ? null : c.string("config.data.path", dataObject.path),
    simulated: c.boolean("config.data.simulated", dataObject.simulated),
    points: c.number("config.data.points", dataObject.points, { integer: true, min: 2 }),
  };
  const config: ModelConfig = {
    example,
    mlp: mlp.toJSON(),
    solver,
    scheme,
    coupling,
    gradient,
    checkpoints,
    steps,
    adaptive,
    lr,
    weightDecay,
    schedule,
    clip,
    batch,
    seed,
    t0,
    t1,
    y0,
    data,
  };

  // Parameters, best, optimizer, training.
  const n = mlp.paramCount;
  const params = c.numbers("params", top.params, n);
  const trainingObject = c.object("training", top.training);
  const iterations = c.number("training.iterations", trainingObject.iterations, {
    integer: true,
    min: 0,
  });
  const bestObject = c.object("best", top.best);
  const bestLoss = bestObject.loss === null && iterations === 0
    ? null
    : c.number("best.loss", bestObject.loss, { min: 0 });
  const bestIteration = c.number("best.iteration", bestObject.iteration, {
    integer: true,
    min: iterations === 0 ? 0 : 1,
    max: iterations,
  });
  const bestParams = c.numbers("best.params", bestObject.params, n);
  const opt = c.object("optimizer", top.optimizer);
  c.numbers("optimizer.m", opt.m, n);
  c.numbers("optimizer.v", opt.v, n);
  for (let i = 0; i < n; i++) {
    c.number(`optimizer.v[${i}]`, (opt.v as number[])[i], { min: 0 });
  }
  if (opt.step !== iterations) {
    c.fail("optimizer.step", opt.step, `${iterations}, the iterations done (training.iterations)`);
  }
  let optimizer: AdamWState;
  try {
    optimizer = AdamW.fromState(opt as unknown as AdamWState).state();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelFileError(path, `optimizer is invalid: ${detail}`);
  }
  const planned = c.number("training.plannedIterations", trainingObject.plannedIterations, {
    integer: true,
    min: 0,
  });
  const status = c.oneOf(
    "training.status",
    trainingObject.status,
    ["completed", "diverged", "interrupted"] as const,
  );
  const reason = trainingObject.reason === null
    ? null
    : c.string("training.reason", trainingObject.reason);
  const seconds = c.number("training.seconds", trainingObject.seconds, { min: 0 });
  const historyObject = c.object("training.history", trainingObject.history);
  const losses = c.numbers("training.history.loss", historyObject.loss, iterations);
  const times = c.numbers("training.history.seconds", historyObject.seconds, iterations);
  let gradientRecord: GradientRecord | null = null;
  if (trainingObject.gradient !== null) {
    const g = c.object("training.gradient", trainingObject.gradient);
    gradientRecord = {
      method: c.oneOf("training.gradient.method", g.method, GRADIENT_NAMES),
      peakBytes: c.number("training.gradient.peakBytes", g.peakBytes, { integer: true, min: 0 }),
      stepsPerIteration: c.number("training.gradient.stepsPerIteration", g.stepsPerIteration, {
        integer: true,
        min: 0,
      }),
      evaluationsPerIteration: c.number(
        "training.gradient.evaluationsPerIteration",
        g.evaluationsPerIteration,
        { integer: true, min: 0 },
      ),
      vjpsPerIteration: c.number("training.gradient.vjpsPerIteration", g.vjpsPerIteration, {
        integer: true,
        min: 0,
      }),
      maxReconstructionError: g.maxReconstructionError === null
        ? null
        : c.number("training.gradient.maxReconstructionError", g.maxReconstructionError, {
          min: 0,
        }),
    };
  }
  // Absent in files written before the WebGPU backend: they were all trained on the CPU.
  const backend = trainingObject.backend === undefined
    ? "cpu"
    : c.oneOf("training.backend", trainingObject.backend, BACKEND_NAMES);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: top.createdAt as string,
    config,
    params,
    best: { loss: bestLoss, iteration: bestIteration, params: bestParams },
    optimizer,
    training: {
      iterations,
      plannedIterations: planned,
      status,
      reason,
      seconds,
      history: { loss: losses, seconds: times },
      gradient: gradientRecord,
      backend,
    },
  };
}
