/**
 * # revode
 *
 * Neural ordinary differential equations with exact gradients in O(1) memory,
 * through the algebraically reversible solvers of McCallum & Foster (2024):
 * any explicit Runge–Kutta method becomes reversible, so the backward pass
 * rebuilds every state exactly instead of storing it.
 *
 * This module is what a user calls: {@link solve} a problem with a scheme
 * built from a tableau, differentiate it through `Solution.backward`, build a
 * vector field ({@link Mlp} or your own {@link VectorField}), {@link train} it
 * on data and {@link predict} with it. Everything else (the increment
 * engine, the gradient methods' internals, the step-size arithmetic) lives in
 * its own file and is imported from there.
 *
 * @example Solve, then take a reversible gradient
 * ```ts
 * import { linearField, reversible, rk4, solve } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * // y' = θ y with θ = −1, from y0 = 1 over [0, 1]
 * const sol = solve({
 *   field: linearField(1),
 *   y0: Float64Array.of(1),
 *   params: Float64Array.of(-1),
 *   scheme: reversible(rk4),
 *   t0: 0,
 *   t1: 1,
 *   steps: 1000,
 *   gradient: "reversible",
 * });
 * assert.ok(Math.abs(sol.ys[0] - Math.exp(-1)) < 1e-10);
 * // L = y(1): ∂L/∂θ = e^θ and ∂L/∂y0 = e^θ
 * const grad = sol.backward(Float64Array.of(1));
 * assert.ok(Math.abs(grad.params[0] - Math.exp(-1)) < 1e-10);
 * assert.ok(Math.abs(grad.y0[0] - Math.exp(-1)) < 1e-10);
 * ```
 *
 * @example Train a small MLP field on a decaying curve, then predict with it
 * ```ts
 * import { defaultConfig, predict, train } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const ts = Float64Array.from({ length: 11 }, (_, i) => i / 10);
 * const data = { ts, ys: ts.map((t) => Math.exp(-t)), dim: 1, source: "y = e^−t" };
 * const config = defaultConfig({
 *   mlp: { dim: 1, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   steps: 10,
 * });
 * const result = await train({ config, data, iterations: 20 });
 * assert.equal(result.status, "completed");
 * assert.ok(result.history[19].loss < result.history[0].loss);
 * // The trained field, solved from the first point, gives one state per data time.
 * const { ys } = predict(config, result.state.params, data);
 * assert.equal(ys.length, 11);
 * assert.equal(ys[0], 1);
 * ```
 *
 * @module
 */

// Solve: the call, its options and result, the schemes and their tableaux,
// adaptive steps and what is saved.
export { solve } from "./solvers/solve.ts";
export type { SolveOptions } from "./solvers/options.ts";
export type { Solution, TrajectoryStats } from "./solvers/solution.ts";
export type { Status } from "./solvers/results.ts";
export type { SaveAt } from "./solvers/outputs.ts";
export { pid, type PidController, type PidOptions } from "./solvers/controller.ts";
export {
  leapfrog,
  plain,
  reversible,
  reversibleHeun,
  type SchemeSpec,
} from "./solvers/schemes/spec.ts";
export type { Tableau } from "./solvers/tableau.ts";
// The methods most solves take by name; every shipped tableau is in `tableaux`.
export { bosh3, dopri5, euler, rk4, tableaux, tsit5 } from "./solvers/tableaux.ts";

// Differentiate: the gradient methods, what backward() returns, and the
// error a reversible backward pass throws when it cannot rebuild the solve.
export type { Gradient, GradientStats } from "./solvers/solution.ts";
export type { GradientMethodName, GradientSpec } from "./solvers/gradients/spec.ts";
export {
  type FailureData,
  type FailureKind,
  ReconstructionDriftError,
  SolveFailure,
  SolveRefusal,
} from "./solvers/results.ts";

// Fields: the interface a field implements, the MLP, a closed-form field.
export type { VectorField } from "./solvers/vector_field.ts";
export { Mlp, type MlpConfig, type MlpOptions } from "./solvers/fields/mlp.ts";
export type { LayerShape } from "./solvers/fields/mlp_layout.ts";
export type { ActivationName } from "./solvers/fields/activations.ts";
export { linearField } from "./solvers/fields/linear.ts";

// Data: a user's own time series from CSV, semicolon or whitespace text
// (read the file with your runtime's API; Deno: readTableFile in training/table_file.ts).
// Its options and result are typed inline, to keep this front door at 70 names.
export { readTable, TableError } from "./training/table.ts";

// Train: the loop and its configuration, the loss it fits (the value and the
// cotangent that seeds backward() in one call), its optimiser, and
// predictions from trained parameters.
export { predict, train, type TrainOptions } from "./training/train.ts";
export {
  type AdaptiveConfig,
  defaultConfig,
  type FieldTrainConfig,
  type ScheduleConfig,
  type SeriesData,
  type SolverName,
  type TrainConfig,
} from "./training/config.ts";
export type {
  GradientRecord,
  HistoryEntry,
  Progress,
  TrainResult,
  TrainState,
  TrainStatus,
} from "./training/state.ts";
export { mseLossVjp, type MseOptions } from "./training/loss.ts";
export { AdamW, type AdamWOptions, type AdamWState } from "./training/adamw.ts";

// Save & load: a model file as text (read and write it with your runtime's
// file API: the library stays free of Deno's, for the browser), and the
// training state it holds.
export {
  type DataInfo,
  type ModelConfig,
  type ModelFile,
  ModelFileError,
  type StartRecord,
  type TableReading,
  type TrainingInfo,
} from "./training/model_format.ts";
export { parseModelFile } from "./training/model_parse.ts";
export type { ExampleName } from "./training/experiments.ts";
export { serializeModel } from "./training/model_serialize.ts";
export { modelFromState, type ModelInfo, stateFromModel } from "./training/model_state.ts";
