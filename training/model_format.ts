/**
 * `model.json`: a trained neural ODE in a versioned JSON format, with
 * everything needed to use it (architecture, solver, parameters) and to
 * resume its training bit-identically (optimizer state, iteration, loss
 * history). This module holds the format's tag and version, the types of
 * its sections, and the error a file that cannot be used raises.
 *
 *     {
 *       "format": "revode-model", "version": 1, "createdAt": "2025-…Z",
 *       "config":    { example, mlp, solver, scheme, coupling, gradient, checkpoints,
 *                      steps, adaptive, lr, weightDecay, schedule, clip, batch, seed,
 *                      validation?, patience?,
 *                      t0, t1, y0, data: { source, path, simulated, points,
 *                      trajectories?, columns?, table?: { options, rows, digest } },
 *                      normalization?: { shift: […], scale: […] }, command?,
                      start?: { restarts?: { probe, baseSeed, probes, kept },
                                init?: { file, form, seed?, params?, normalization? } } },
 *       "params":    [θ …]                       the current parameters
 *       "best":      { loss, iteration, params }  the lowest-loss parameters
 *       "optimizer": { kind: "adamw", step, lr, beta1, beta2, eps, weightDecay, m, v },
 *       "training":  { iterations, plannedIterations, status, reason, seconds,
 *                      history: { loss: […], seconds: […], validationLoss?: […] },
 *                      gradient, backend }
 *
 * With validation, `best` holds the lowest validation loss and its parameters.
 *     }
 *
 * `training.backend` (`"cpu"` or `"webgpu"`) names the backend of the last
 * run; files written before it existed read as `"cpu"`. A model trained on
 * either backend is the same model: it evaluates and resumes on the other.
 *
 * The pure parts (the types, {@link ModelFileError}, parsing in
 * model_parse.ts, text in model_serialize.ts) use no Deno API; reading and
 * writing files is model_file.ts's.
 *
 * @module
 */

import type { AdamWState } from "./adamw.ts";
import type { ExampleName } from "./experiments.ts";
import type { TrainConfig } from "./config.ts";
import type { GradientRecord, TrainStatus } from "./state.ts";

/** The `format` tag of a model file. */
export const MODEL_FORMAT = "revode-model";
/** The format version this revode writes and reads. */
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
  /** Number of trajectories in the data (absent: one). */
  trajectories?: number;
  /**
   * The data's column names, when they came from a table: the time column
   * and one per state (absent in files that do not say).
   */
  columns?: { time: string; states: string[] };
  /**
   * How the table was read, for a run on a user's table (absent for the
   * experiments' data and in files written before it existed): what a
   * resumed run needs to read the file at `path` again identically, and to
   * tell when it has changed since.
   */
  table?: TableReading;
}

/** How a run read its table ({@link DataInfo}'s `table`). */
export interface TableReading {
  /**
   * `readTable`'s options as the run gave them (`--columns`, `--time-column`,
   * `--state-columns`, `--trajectory-column`, `--window`); an option absent
   * took its default.
   */
  options: {
    columns?: string[];
    timeColumn?: string;
    stateColumns?: string[];
    trajectoryColumn?: string;
    window?: [number, number];
  };
  /** Rows read: the points of every trajectory kept. */
  rows: number;
  /**
   * A digest of the values read (every trajectory's times and states, in the
   * data's units; `tableDigest()` in table_run.ts): the file read again gives
   * the same digest, or it has changed.
   */
  digest: string;
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
  /**
   * The states' normalisation, when the model learned normalised states
   * (`(y − shift) / scale` per state): `y0`, the parameters and the model's
   * outputs are then in those units, and predictions map back with
   * `shift + scale · z`. Absent: the data's own units (every version-1 file
   * written before it existed).
   */
  normalization?: { shift: number[]; scale: number[] };
  /**
   * The command line of the run that wrote the file (`deno task train` and
   * its arguments; a resumed run's replaces its model's), absent for files
   * written by the library or before it existed.
   */
  command?: string;
  /**
   * How the initial parameters were chosen when not simply from `seed`:
   * `--restarts` (the probes and the one kept) or `--init` (the file).
   * Absent: drawn from `seed` (and in files written before it existed).
   */
  start?: StartRecord;
}

/**
 * How a run's initial parameters were chosen ({@link ModelConfig}'s `start`):
 * by probing several seeds (`restarts`), or from a file (`init`).
 */
export interface StartRecord {
  /**
   * `--restarts K`: seeds `seed … seed + K − 1` of the base seed each
   * trained `probe` iterations; `kept` (the run's `config.seed`) had the
   * lowest best loss among the probes that completed, and went on.
   */
  restarts?: {
    /** Iterations of each probe (part of the run's iterations). */
    probe: number;
    /** The base seed, `--seed`: the first probed. */
    baseSeed: number;
    /** Every probe: its seed, its best loss (null: none) and how it ended. */
    probes: { seed: number; bestLoss: number | null; status: string }[];
    /** The seed kept. */
    kept: number;
  };
  /** `--init FILE`: where the initial parameters came from. */
  init?: {
    /** The file, as given. */
    file: string;
    /** Its form: a revode model file, an array, an object, or the paper-inits form. */
    form: "model" | "array" | "object" | "paper-inits";
    /** Of a paper-inits file: the seed whose initialisation was taken. */
    seed?: number;
    /** Of a model file: `best` (its best parameters) or `current` (no best yet). */
    params?: "best" | "current";
    /** Of a model file: the normalisation its parameters act in (absent: none). */
    normalization?: { shift: number[]; scale: number[] };
  };
}

/** The backend a run trained on: the CPU (float64) or WebGPU (float32). */
export type BackendName = "cpu" | "webgpu";

/**
 * Every {@link BackendName}.
 *
 * @example
 * ```ts
 * import { BACKEND_NAMES } from "./model_format.ts";
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
  /**
   * Loss and elapsed seconds of every iteration, and with validation
   * (`config.validation`) the validation loss of every iteration.
   */
  history: { loss: number[]; seconds: number[]; validationLoss?: number[] };
  /** Gradient work and memory of the last run, or null. */
  gradient: GradientRecord | null;
  /** The backend of the last run (`"cpu"` for files that do not say). */
  backend: "cpu" | "webgpu";
}

/** A parsed model file. */
export interface ModelFile {
  /** Always `"revode-model"` ({@link MODEL_FORMAT}). */
  format: "revode-model";
  /** Always 1 ({@link MODEL_VERSION}). */
  version: 1;
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
 * import { ModelFileError } from "./model_format.ts";
 * import { parseModelFile } from "./model_parse.ts";
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
   * import { ModelFileError } from "./model_format.ts";
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
