/**
 * # revode's WebGPU backend
 *
 * Trains MLP vector fields with the algebraically reversible solvers on the
 * GPU, in f32, through WebGPU (`navigator.gpu` in Deno): the forward solve,
 * the MSE loss, the reversible backward pass (or direct or checkpointed
 * backpropagation) and AdamW all run on the GPU, with buffers allocated once
 * per run and nothing read back inside a training step.
 *
 * The modules mirror the CPU backend's, file for file:
 *
 *     device.ts                      adapter, limits, "no adapter" advice, --backend choice
 *     context.ts, recorder.ts        buffers, kernel cache, command recording, timestamps
 *     calls.ts                       per-step times (the CPU's time grid)
 *     adaptive.ts, gate.ts           solvers/adaptive.ts, controller.ts: the PID controller in kernels
 *     interpolation.ts               solvers/outputs.ts's Hermite outputs at `ts` and their VJP
 *     activations.ts, matmul.ts      σ and σ' in WGSL; plain and tiled layer products
 *     mlp.ts                         solvers/fields/mlp.ts: forward beside VJP, fused or per layer
 *     increment.ts                   solvers/increment.ts: Ψ_h for any tableau and its VJP
 *     schemes/reversible.ts          solvers/schemes/reversible.ts: step, inverse, step VJP
 *     gradients/*.ts                 solvers/gradients/: reversible, direct, checkpointed; adaptive
 *     field_code.ts, gradients/whole*.ts  each gradient of fixed steps in two kernels
 *     trial_budget.ts                how many adaptive trial steps a training step records
 *     outputs.ts, loss.ts            saved outputs and their cotangents; training/loss.ts
 *     reduce.ts                      deterministic reductions (no atomics)
 *     adamw.ts                       training/adamw.ts
 *     solve.ts                       solvers/solve.ts; one-shot parity helpers
 *     trainer.ts                     one iteration of training/train.ts's loop
 *
 * ## What runs on the GPU
 * The reversible scheme of any explicit tableau (up to 16 stages) with
 * fixed steps, outputs saved at every step (`saveAt: { t0?, steps: true }`),
 * a weighted MSE against targets (or given cotangents), the `reversible`
 * (optionally with `checkpointEvery`), `direct` and `checkpointed`
 * gradients, AdamW with optional clipping.
 *
 * With a network that fits one invocation (widths up to 32, as the
 * paper's) and fixed steps, the default (`solveKernel: "auto"`) runs the
 * whole forward solve in one kernel and the whole backward pass in another,
 * one invocation per trajectory, for the reversible (with or without
 * `checkpointEvery`), direct and checkpointed gradients (gradients/whole.ts,
 * whole_direct.ts, whole_checkpointed.ts): a training step is 15
 * dispatches whatever the
 * number of steps, where the per-step kernels need about 40 per step (40 015
 * for the white dwarf's 1 000 RK4 steps). The trajectories are the
 * per-step kernels' bit for bit; the parameter gradient is summed per
 * trajectory first, so it rounds differently (within 1e-6).
 *
 * Adaptive steps (`adaptive: { controller: pid(…), ts }`, any tableau with
 * an embedded estimate) with outputs at any times `ts` by Hermite
 * interpolation, and the `reversible`, `direct` or `checkpointed` (two-level)
 * gradient through them,
 * exact for the accepted grid. The PID controller runs on the GPU, so nothing is read
 * back inside a step; two differences from the CPU backend:
 * - the batch shares one step size: a trial is accepted when every
 *   trajectory's scaled error norm is at most 1 (the worst trajectory
 *   decides), where the CPU gives each trajectory its own steps; for one
 *   trajectory (the paper's experiments) they take the same steps;
 * - the CPU cannot know how many steps the GPU will take, so it records a
 *   fixed number of trial steps (`GpuAdaptive.trials`, `maxSteps` unless
 *   lowered) and as many steps back; those past the end are closed by a
 *   gate (gate.ts) and cost the GPU nothing, but each costs the CPU its
 *   commands (about 18 forward and 34 backward dispatches per trial for
 *   Bosh3 and a fused network). `trainGpu` therefore records about 1.5×
 *   the most trials its solves have taken (trial_budget.ts); a solve that
 *   runs out ends `incomplete`, the trainer rewinds to before it
 *   (`GpuTrainer.rewind`) and it runs again with twice as many, so the
 *   results are those of recording `maxSteps` every time.
 *
 * In f32 the embedded error estimate `h Σ bError_i k_i` keeps only a few
 * digits when the tolerance is near f32's precision: step sizes differ
 * from the CPU's by about 1e-3 relative at rtol = 1e-5, and below rtol ≈
 * 1e-6 round-off rather than the error drives the steps.
 *
 * The plain, reversible-Heun and leapfrog schemes and `backsolve` stay on the CPU
 * ({@link gpuSupport} says which).
 *
 * ## Accuracy
 * Everything is f32. Against the CPU backend (float64) on the same weights,
 * 30–50 steps of the white-dwarf network give trajectories within ~1e-6
 * relative and gradients within ~1e-6 relative (tests/webgpu_test.ts
 * requires 1e-5 and 1e-4).
 *
 * The reversible gradient rebuilds each state with the scheme's inverse,
 * whose round-off grows like `λ^(−N)` (numerics.md §2); in f32 it starts
 * from an error about 5·10⁸ times larger than in float64. Measured on the
 * white-dwarf network ([t, y] → 10 tanh → 2, seed 0, y0 = [1, 0], RK4,
 * h = 0.005), ∞-norm error of the rebuilt `y0` relative to the larger of
 * `|y0|` and `|y_N|` (|y_N| grows from 1 to 35 over these solves):
 *
 *     steps N          100      1000     2000     4000     8000
 *     λ = 0.999, f32   7e-9     3e-8     5e-7     2e-5     7e-4
 *     λ = 0.999, f64   1e-17    4e-17    7e-16    4e-15    2e-13
 *     λ = 0.9,   f32   7e-4     (f64: 1e-11 at N = 100)
 *
 * The tests assert below 1e-5 up to 1000 steps and below 1e-4 up to 2000
 * (λ = 0.999). Keep `N·(1 − λ)` below about 2 for errors under 1e-6, or
 * store states with `{ method: "reversible", checkpointEvery: K }` (O(N/K)
 * memory; `K·(1 − λ)` below about 2), or use the direct or checkpointed
 * gradient, or the CPU backend. The trainer measures the error at every
 * step ({@link GpuTrainer.readStatus}'s `reconstructionError`) without
 * reading it back until asked.
 *
 * ## Determinism
 * Parameter gradients are summed per chunk of rows, then over chunks in a
 * fixed order; losses and norms by fixed-order tree reductions. Two runs
 * on the same device give bit-identical results.
 *
 * @example Three training steps, then the parameters (skipped without an adapter)
 * ```ts
 * import { chooseBackend, GpuTrainer } from "./mod.ts";
 * import { Mlp } from "../../solvers/fields/mlp.ts";
 * import { rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const choice = await chooseBackend("auto", { allowSoftware: true });
 * if (choice.gpu !== null) {
 *   const mlp = new Mlp({ dim: 2, widths: [10], timeDependent: true });
 *   const steps = 10;
 *   const trainer = GpuTrainer.create(choice.gpu, {
 *     mlp, params: mlp.init(0), tableau: rk4, t1: 1, steps,
 *     y0: Float64Array.of(1, 0), targets: new Float64Array((steps + 1) * 2),
 *     lr: 1e-2, weightDecay: 1e-5,
 *   });
 *   for (let i = 0; i < 3; i++) trainer.step();
 *   const status = await trainer.readStatus();
 *   assert.equal(status.iteration, 3);
 *   assert.equal((await trainer.readParams()).length, mlp.paramCount);
 *   trainer.destroy();
 *   choice.gpu.device.destroy();
 * } else {
 *   assert.match(choice.message, /CPU/);
 * }
 * ```
 *
 * @module
 */

export {
  type BackendChoice,
  type BackendOptions,
  chooseBackend,
  findGpuAdapter,
  type GpuDevice,
  type GpuDeviceOptions,
  GpuUnavailableError,
  hasWebGpu,
  HOW_TO_GET_AN_ADAPTER,
  requestGpuDevice,
} from "../../solvers/webgpu/runtime/device.ts";
export {
  allocating,
  type BindingSpec,
  GpuContext,
  type Kernel,
  type KernelSpec,
  type Slice,
} from "../../solvers/webgpu/runtime/context.ts";
export {
  type CallRef,
  type CommandCounts,
  type DispatchGate,
  type KernelTiming,
  type Op,
  Recorder,
} from "../../solvers/webgpu/runtime/recorder.ts";
export { FUSED_MAX_WIDTH, type MlpKernels, type Tiling } from "../../solvers/webgpu/fields/mlp.ts";
export { type AdamWGate, GpuAdamW, type GpuAdamWOptions } from "./adamw.ts";
export type { GpuGradientRun, GpuProblem } from "../../solvers/webgpu/gradients/problem.ts";
export {
  type CallRecord,
  CallTable,
  type SolveCalls,
  solveCalls,
} from "../../solvers/webgpu/runtime/calls.ts";
export { GpuMlp, type GpuMlpOptions } from "../../solvers/webgpu/fields/mlp.ts";
export type { FusedIo, StageBuffers } from "../../solvers/webgpu/fields/mlp_stage.ts";
export { GpuIncrement } from "../../solvers/webgpu/increment.ts";
export {
  type Chunking,
  chunking,
  type LayerProduct,
  TILE,
  tilingPays,
} from "../../solvers/webgpu/fields/matmul.ts";
export {
  GpuReversibleScheme,
  type GpuSchemeOptions,
} from "../../solvers/webgpu/schemes/reversible.ts";
export { GpuOutputs, type GpuOutputsOptions } from "../../solvers/webgpu/outputs.ts";
export {
  GPU_STATUS,
  GpuAdaptive,
  type GpuAdaptiveRun,
  INCOMPLETE,
} from "../../solvers/webgpu/adaptive.ts";
export { CONTROL, type GpuAdaptiveSetup } from "../../solvers/webgpu/adaptive_layout.ts";
export { TrialBudget } from "./trial_budget.ts";
export { Gate, GATE_CAPACITY } from "../../solvers/webgpu/runtime/gate.ts";
export { GpuInterpolation } from "../../solvers/webgpu/interpolation.ts";
export {
  adaptiveCheckpointedGradient,
  adaptiveDirectGradient,
  type AdaptiveParts,
  adaptiveReversibleGradient,
} from "../../solvers/webgpu/gradients/adaptive.ts";
export type { PidController, PidOptions } from "../../solvers/controller.ts";
// Types of the CPU backend that this API takes or returns (also exported by the root mod.ts).
export type { LayerShape, Mlp, MlpConfig } from "../../solvers/fields/mlp.ts";
export type { ActivationName } from "../../solvers/fields/activations.ts";
export type { VectorField } from "../../solvers/vector_field.ts";
export type { AdamWOptions, AdamWState } from "../adamw.ts";
export type { CheckedTableau, Tableau } from "../../solvers/tableau.ts";
export {
  type GpuAdaptiveOptions,
  gpuGradient,
  type GpuGradientOptions,
  type GpuGradientResult,
  type GpuGradientSpec,
  type GpuLike,
  type GpuReconstruction,
  gpuReconstruction,
  gpuSolve,
  type GpuSolveOptions,
  GpuSolver,
  type GpuSolverOptions,
  type GpuTrajectory,
  type SolveKernel,
} from "../../solvers/webgpu/solve.ts";
export {
  chooseSolveKernel,
  restoredStates,
  wholeReversibleGradient,
  wholeSolveBytes,
  type WholeSolveFacts,
} from "../../solvers/webgpu/gradients/whole.ts";
export {
  bindingsOf,
  snapshotBytes,
  type WholeBase,
  wholeBase,
  type WholeKeep,
  wholeRun,
  type WholeSnapshots,
} from "../../solvers/webgpu/gradients/whole_base.ts";
export {
  wholeDirectGradient,
  wholeTapeBytes,
} from "../../solvers/webgpu/gradients/whole_direct.ts";
export { wholeCheckpointedGradient } from "../../solvers/webgpu/gradients/whole_checkpointed.ts";
export { checkpointCount } from "../../solvers/webgpu/gradients/checkpointed.ts";
export { fieldCode, layerSizes } from "../../solvers/webgpu/fields/field_code.ts";
export {
  gpuSupport,
  type GpuSupportQuery,
  GpuTrainer,
  type GpuTrainerOptions,
  type GpuTrainStatus,
  type StepCounts,
} from "./trainer.ts";
