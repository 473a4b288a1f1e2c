/**
 * The model's prediction at the data's times in the data's units, apart from
 * model.ts (whose `Model.save` writes files): the browser bundle uses it.
 *
 * @module
 */

import type { SeriesData, TrainConfig } from "./config.ts";
import type { ModelConfig } from "./model_format.ts";
import { denormalize, normalize } from "./normalize.ts";
import { predict } from "./train.ts";

/**
 * The model's solution from the data's first state, at the data's times, in
 * the data's units (normalised and back when the configuration says so).
 *
 * @param config The configuration, with its optional `normalization`.
 * @param params The parameters.
 * @param data A trajectory in the data's units: its first state and its times are used.
 * @returns The times and states `[points, dim]`, in the data's units.
 *
 * @example States learned as (y − 10) / 2 come back in the data's units
 * ```ts
 * import { predictData } from "./predict_data.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * // y' = 0 (the MLP's only parameter, its bias, is 0): the state stays y0
 * const config = {
 *   ...defaultConfig({
 *     mlp: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     steps: 2,
 *   }),
 *   normalization: { shift: [10], scale: [2] },
 * };
 * const data = { ts: Float64Array.of(0, 1, 2), ys: Float64Array.of(12, 0, 0), dim: 1, source: "" };
 * const { ys } = predictData(config, Float64Array.of(0, 0), data);
 * assert.deepEqual([...ys], [12, 12, 12]);
 * ```
 */
export function predictData(
  config: TrainConfig & Pick<ModelConfig, "normalization">,
  params: Float64Array,
  data: SeriesData,
): { ts: Float64Array; ys: Float64Array } {
  const n = config.normalization;
  if (n === undefined) return predict(config, params, data);
  const fit = predict(config, params, { ...data, ys: normalize(data.ys, n) });
  return { ts: fit.ts, ys: denormalize(fit.ys, n) };
}
