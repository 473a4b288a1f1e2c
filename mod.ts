/**
 * # revode
 *
 * Neural ordinary differential equations with exact gradients in O(1) memory,
 * through the algebraically reversible solvers of McCallum & Foster (2024):
 * any explicit Runge–Kutta method becomes reversible, so the backward pass
 * rebuilds every state exactly instead of storing it.
 *
 * @example Train-free tour: solve, then take a reversible gradient
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
 * // L = y(1): ∂L/∂θ = e^θ and ∂L/∂y0 = e^θ
 * const grad = sol.backward(Float64Array.of(1));
 * assert.ok(Math.abs(grad.params[0] - Math.exp(-1)) < 1e-10);
 * assert.ok(Math.abs(grad.y0[0] - Math.exp(-1)) < 1e-10);
 * ```
 *
 * @module
 */

export type { VectorField, WorkCounts } from "./solvers/vector_field.ts";
export { countingField } from "./solvers/vector_field.ts";
export type { CheckedTableau, Tableau } from "./solvers/tableau.ts";
export { checkTableau, liveStages } from "./solvers/tableau.ts";
export {
  bosh3,
  dopri5,
  euler,
  heun,
  kutta3,
  midpoint,
  ralston,
  ralston3,
  rk38,
  rk4,
  tableaux,
  tsit5,
} from "./solvers/tableaux.ts";
export { Increment } from "./solvers/increment.ts";
export { MemoryMeter } from "./solvers/memory.ts";
export type { Scheme } from "./solvers/schemes/scheme.ts";
export {
  buildScheme,
  DEFAULT_COUPLING,
  leapfrog,
  plain,
  reversible,
  reversibleHeun,
  type SchemeSpec,
} from "./solvers/schemes/spec.ts";
export { explicitGrid, type TimeGrid, uniformGrid } from "./solvers/grid.ts";
export { checkSaveAt, type SaveAt, type SavePlan } from "./solvers/outputs.ts";
export {
  nextStep,
  pid,
  type PidController,
  type PidOptions,
  scaledErrorNorm,
} from "./solvers/controller.ts";
export { initialStep } from "./solvers/adaptive.ts";
export { failureMessage, ReconstructionDriftError, type Status } from "./solvers/results.ts";
export { Mlp, type MlpConfig, type MlpOptions } from "./solvers/fields/mlp.ts";
export type { LayerShape } from "./solvers/fields/mlp_layout.ts";
export { type ActivationName, activationNames } from "./solvers/fields/activations.ts";
export {
  AdamW,
  type AdamWOptions,
  type AdamWState,
  clipGradNorm,
  constantSchedule,
  cosineSchedule,
  type CosineScheduleOptions,
  type Schedule,
} from "./training/adamw.ts";
export {
  OSCILLATOR_FILE,
  parseOscillator,
  parsePendulum,
  PENDULUM_FILE,
  type PreprocessOptions,
  readOscillator,
  readPendulum,
  type Trajectory,
} from "./training/datasets/schmidt_lipson.ts";
export {
  type OscillatorOptions,
  type PendulumOptions,
  type SimulateOptions,
  simulateOscillator,
  simulatePendulum,
} from "./training/datasets/simulated.ts";
export {
  whiteDwarfData,
  type WhiteDwarfOptions,
  type WhiteDwarfTrajectory,
} from "./training/datasets/white_dwarf.ts";
export { solve } from "./solvers/solve.ts";
export type { SolveOptions } from "./solvers/options.ts";
export type { Gradient, GradientStats, Solution, TrajectoryStats } from "./solvers/solution.ts";
export type { GradientMethodName, GradientSpec } from "./solvers/gradients/spec.ts";
export {
  binomialPositions,
  binomialSchedule,
  binomialSplit,
  binomialWalk,
  defaultCheckpoints,
  SCHEDULE,
  type ScheduleInstruction,
} from "./solvers/gradients/checkpointed.ts";
export { linearField } from "./solvers/fields/linear.ts";
export { whiteDwarfField } from "./solvers/fields/white_dwarf.ts";
