/**
 * A trained model and its predictions in the data's own units: a model that
 * learned normalised states ({@link ModelConfig}'s `normalization`) is
 * solved in its units and its outputs mapped back, so that no caller sees
 * normalised numbers. {@link loadModel} reads a model file; this module uses
 * Deno's file API and is not part of the browser bundle (mod.ts).
 *
 * @module
 */

import { invalidArgument, requireFinite } from "../solvers/checks.ts";
import { pid } from "../solvers/controller.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { solve } from "../solvers/solve.ts";
import { schemeOf } from "./config.ts";
import type { ModelConfig, ModelFile } from "./model_format.ts";
import { serializeModel } from "./model_serialize.ts";
import { readModelFile } from "./model_file.ts";
import { writeTextFileAtomic } from "./atomic_write.ts";
import { denormalize, normalize } from "./normalize.ts";
export { predictData } from "./predict_data.ts";

/** What {@link Model.predict} solves: from `y0` at `ts[0]`, outputs at every `ts`. */
export interface PredictRequest {
  /** The initial state in the data's units (default: the first training trajectory's). */
  y0?: ArrayLike<number>;
  /** Strictly increasing times, at least 2; `ts[0]` is the initial time. */
  ts: ArrayLike<number>;
}

/**
 * A trained model: its vector field, best parameters and configuration, and
 * predictions in the data's units. Build one from a model file's content
 * ({@link Model.fromFile}); `loadModel` in model_load.ts reads and writes files.
 *
 * @example
 * ```ts
 * import { Model } from "./model.ts";
 * import { modelFromState } from "./model_state.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const train = defaultConfig({
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 10,
 * });
 * const config = {
 *   ...train, example: null, t0: 0, t1: 1, y0: [0.5],
 *   data: { source: "by hand", path: null, simulated: false, points: 11 },
 *   normalization: { shift: [3], scale: [2] },
 * };
 * const state = initialState(train);
 * state.bestParams.set([-1, 0]); // z' = −z in the model's units
 * const model = Model.fromFile(modelFromState(config, state, {
 *   plannedIterations: 0, status: "completed", reason: null, gradient: null, backend: "cpu",
 * }));
 * const { ys } = model.predict({ ts: [0, 1] });
 * assert.equal(ys[0], 4); // 3 + 2 · 0.5, the default y0 in the data's units
 * assert.ok(Math.abs(ys[1] - (3 + Math.exp(-1))) < 1e-6); // z(1) = 0.5 e^{−1}
 * ```
 */
export class Model {
  /** The model file it was built from. */
  readonly file: ModelFile;
  /** Its configuration (architecture, solver, window, normalisation). */
  readonly config: ModelConfig;
  /** The vector field. */
  readonly field: Mlp;
  /** The parameters it predicts with: the best ones of training. */
  readonly params: Float64Array;

  /**
   * Wraps a parsed model file.
   *
   * @param file The model file (from `parseModelFile`).
   */
  constructor(file: ModelFile) {
    this.file = file;
    this.config = file.config;
    this.field = Mlp.fromJSON(file.config.mlp);
    this.params = Float64Array.from(file.best.params);
  }

  /**
   * A model from a parsed model file.
   *
   * @param file The model file.
   * @returns The model.
   */
  static fromFile(file: ModelFile): Model {
    return new Model(file);
  }

  /** The state names: the data's columns, else `y1`, `y2`, …. */
  get stateNames(): string[] {
    return this.config.data.columns?.states ??
      Array.from({ length: this.field.dim }, (_, k) => `y${k + 1}`);
  }

  /** The time column's name: the data's, else `t`. */
  get timeName(): string {
    return this.config.data.columns?.time ?? "t";
  }

  /**
   * Solves the model from `y0` at `ts[0]` and returns the states at every
   * `ts`, in the data's units. Fixed steps keep the training step size
   * (`(t1 − t0) / steps`), with outputs between steps by Hermite
   * interpolation; adaptive solves keep their tolerances.
   *
   * @param request The times and, optionally, the initial state.
   * @returns `ts` and states `[ts.length, dim]` (row 0 is `y0`).
   * @throws {RangeError} When `ts` or `y0` are invalid, naming them.
   */
  predict(request: PredictRequest): { ts: Float64Array; ys: Float64Array } {
    const { config, field } = this;
    const dim = field.dim;
    const ts = Float64Array.from(request.ts ?? []);
    if (ts.length < 2) invalidArgument("ts", request.ts, "at least 2 times");
    for (let i = 0; i < ts.length; i++) {
      if (!Number.isFinite(ts[i]) || (i > 0 && !(ts[i] > ts[i - 1]))) {
        invalidArgument(`ts[${i}]`, ts[i], "finite, strictly increasing times");
      }
    }
    const n = config.normalization;
    let z0: Float64Array;
    if (request.y0 === undefined) z0 = Float64Array.from(config.y0);
    else {
      if (request.y0.length !== dim) {
        invalidArgument("y0", request.y0, `${dim} numbers (${this.stateNames.join(", ")})`);
      }
      requireFinite("y0", request.y0);
      z0 = n === undefined ? Float64Array.from(request.y0) : normalize(request.y0, n);
    }
    const t0 = ts[0], t1 = ts[ts.length - 1];
    const h = (config.t1 - config.t0) / config.steps;
    const sol = solve({
      field,
      y0: z0,
      params: this.params,
      scheme: schemeOf({ ...config, gradient: "direct" }),
      t0,
      t1,
      ...(config.adaptive === null
        ? { steps: Math.max(1, Math.ceil((t1 - t0) / h - 1e-9)) }
        : { controller: pid(config.adaptive) }),
      saveAt: { t0: true, ts: ts.subarray(1) },
      throwOnFailure: true,
    });
    return { ts, ys: n === undefined ? sol.ys : denormalize(sol.ys, n) };
  }

  /**
   * The model file's text, as `serializeModel` writes it.
   *
   * @returns The text.
   */
  toText(): string {
    return serializeModel(this.file);
  }

  /**
   * Writes the model file atomically (a reader never sees half a file).
   *
   * @param path The file to write.
   */
  async save(path: string): Promise<void> {
    await writeTextFileAtomic(path, this.toText());
  }
}

/**
 * Reads a model file (`model.json` of `deno task train`) as a {@link Model}.
 *
 * @param path The file.
 * @returns The model.
 * @throws {ModelFileError} When the file cannot be read or used, naming it and the field.
 *
 * @example Load, predict in the data's units, save and load again
 * ```ts
 * import { loadModel, Model } from "./model.ts";
 * import { modelFromState } from "./model_state.ts";
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import assert from "node:assert/strict";
 *
 * const train = defaultConfig({
 *   mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 10,
 * });
 * const config = {
 *   ...train, example: null, t0: 0, t1: 1, y0: [1],
 *   data: { source: "by hand", path: null, simulated: false, points: 11 },
 * };
 * const file = modelFromState(config, initialState(train), {
 *   plannedIterations: 0, status: "completed", reason: null, gradient: null, backend: "cpu",
 * });
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await new Model(file).save(path);
 * const model = await loadModel(path);
 * assert.deepEqual(model.predict({ ts: [0, 0.5] }).ys, new Model(file).predict({ ts: [0, 0.5] }).ys);
 * await Deno.remove(path);
 * ```
 */
export async function loadModel(path: string): Promise<Model> {
  return new Model(await readModelFile(path));
}
