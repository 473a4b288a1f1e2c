/**
 * A model file (`model.json`, format `revode-model`, version 1) as an
 * {@link ExportSource}, in memory: no Deno API and no Node built-in, so a
 * page can export what it trained (source.ts's `sourceFromModelFile` reads
 * the file and its data first).
 *
 * @module
 */

import { invalidArgument } from "../solvers/checks.ts";
import { schemeOf } from "../training/config.ts";
import type { ModelFile } from "../training/model_format.ts";
import type { DataSummary } from "./metadata.ts";
import { adaptiveGapOf, dataSummaryFrom, stateInfoOfModel } from "./provenance.ts";
import type { ExportSource } from "./source_check.ts";

/**
 * Which parameters of a model file to export.
 *
 * @example
 * ```ts
 * import type { ParamsChoice } from "./source_model.ts";
 * import assert from "node:assert/strict";
 *
 * const choice: ParamsChoice = "best";
 * assert.equal(choice, "best");
 * ```
 */
export type ParamsChoice = "best" | "current";

/**
 * A model file, parsed, as an {@link ExportSource}: the architecture, the
 * best (default) or current parameters, the scheme and coupling, `t0`,
 * `dt = (t1 − t0) / steps`, `steps`, the initial state, a training summary,
 * and the state's scaling: the file's `config.normalization` when present
 * (it takes precedence over the experiment's scalar), names from
 * `config.data.columns`. For a model trained with adaptive steps, the
 * fixed-step gap is measured (a solve each way).
 *
 * @param model The model file (from `parseModelFile`, `modelFromState` or `readModelFile`).
 * @param params Which parameters: `best` (lowest loss, default) or `current`.
 * @param data The training data's summary for the metadata; by default what
 *   is known without reading a file (provenance.ts's `dataSummaryFrom`: the
 *   file's base name, the window, and the range of an experiment's built-in data).
 * @returns The model to export.
 * @throws {RangeError} When `params` is neither `best` nor `current`.
 *
 * @example A model made in memory, exported as the loop form
 * ```ts
 * import { sourceFromModel } from "./source_model.ts";
 * import { exportOnnx } from "./forms.ts";
 * import { modelMetadata } from "./onnx_model.ts";
 * import { modelFromState } from "../training/model_state.ts";
 * import { defaultConfig } from "../training/config.ts";
 * import { initialState } from "../training/state.ts";
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
 * const model = modelFromState(config, initialState(train), {
 *   plannedIterations: 0, status: "completed", reason: null, gradient: null,
 * });
 * const source = sourceFromModel(model);
 * assert.equal(source.dt, 0.1);
 * assert.equal(source.training!.data, "given in memory");
 * const meta = modelMetadata(exportOnnx(source, "loop"));
 * assert.equal(meta["revode.form"], "loop");
 * assert.equal(meta["revode.steps"], "10");
 * assert.throws(() => sourceFromModel(model, "last" as never), /Invalid params: got "last"/);
 * ```
 */
export function sourceFromModel(
  model: ModelFile,
  params: ParamsChoice = "best",
  data?: DataSummary,
): ExportSource {
  if (params !== "best" && params !== "current") {
    invalidArgument("params", params, '"best" or "current"');
  }
  if (
    model === null || typeof model !== "object" || model.config === null ||
    typeof model.config !== "object"
  ) {
    invalidArgument("model", model, "a parsed model file { config, params, best, training, … }");
  }
  const c = model.config;
  const scheme = schemeOf({ ...c, gradient: "direct" });
  const state = stateInfoOfModel(c);
  // the data are in the experiment's units; a normalisation applies to them as they are
  const summary = data ?? dataSummaryFrom(c, c.normalization ? 1 : state);
  const chosen = params === "best" ? model.best.params : model.params;
  const adaptiveGap = c.adaptive ? adaptiveGapOf(c, chosen, state) : undefined;
  return {
    field: c.mlp,
    params: chosen,
    scheme,
    t0: c.t0,
    dt: (c.t1 - c.t0) / c.steps,
    steps: c.steps,
    y0: c.y0,
    training: {
      example: c.example,
      iterations: model.training.iterations,
      status: model.training.status,
      bestLoss: model.best.loss,
      bestIteration: model.best.iteration,
      params,
      seconds: model.training.seconds,
      gradient: c.gradient,
      data: summary.file ?? summary.description,
      ...(c.adaptive ? { adaptive: { ...c.adaptive } } : {}),
      createdAt: model.createdAt,
    },
    state,
    data: summary,
    ...(adaptiveGap ? { adaptiveGap } : {}),
  };
}
