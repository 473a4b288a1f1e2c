/**
 * # revode's WebGPU backend
 *
 * Trains MLP vector fields with the algebraically reversible solvers on the
 * GPU, in f32, through WebGPU (`navigator.gpu` in Deno): the forward solve,
 * the MSE loss, the reversible backward pass (or direct or checkpointed
 * backpropagation) and AdamW all run on the GPU, with buffers allocated once
 * per run and nothing read back inside a training step.
 *
 * Moving a program from the CPU to the GPU is one option: `train()` takes
 * `backend: "webgpu"` (or `"auto"`), and `gpuSolve()` / `gpuGradient()` take
 * `solve()`'s options by the same names (`field`, `scheme`, `steps` or
 * `controller`, `saveAt`, `gradient`). What the GPU cannot run is refused
 * before any work, by {@link gpuSupport}, with a sentence saying what to
 * use instead.
 *
 * The code mirrors the CPU backend's, file for file: solvers/webgpu/X.ts
 * beside solvers/X.ts (increment, schemes/, gradients/, adaptive, outputs,
 * interpolation, solve, fields/), training/webgpu/X.ts beside training/X.ts
 * (adamw, loss, train); solvers/webgpu/runtime/ holds what only a GPU
 * needs (device, context, recorder, kernel plumbing, reductions), and the
 * whole-solve kernels (gradients/whole*.ts) and the trainer's step
 * (training/webgpu/trainer.ts) have no CPU twin.
 *
 * ## What runs on the GPU
 * The reversible scheme of any explicit tableau (up to 16 stages) with
 * fixed steps, outputs saved at every step (`saveAt: { t0?, steps: true }`),
 * training's weighted MSE against targets (`gpuMse`) or given cotangents, the `reversible`
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
 * Adaptive steps (`controller: pid(…)`, `saveAt: { t0?, ts }`, any tableau with
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
 * ({@link gpuSupport} says which, and what to use instead).
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
 * step (the trainer status's `reconstructionError`) without
 * reading it back until asked.
 *
 * ## Determinism
 * Parameter gradients are summed per chunk of rows, then over chunks in a
 * fixed order; losses and norms by fixed-order tree reductions. Two runs
 * on the same device give bit-identical results.
 *
 * @example The same training on the CPU, then wherever it runs best
 * ```ts
 * import { train } from "./mod.ts";
 * import { defaultConfig } from "../config.ts";
 * import { whiteDwarfData } from "../datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 11 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 10,
 * });
 * const cpu = await train({ config, data, iterations: 3 });
 * const auto = await train({ config, data, iterations: 3, backend: "auto" });
 * assert.equal(cpu.backend, "cpu");
 * assert.equal(auto.state.losses.length, 3);
 * assert.ok(Math.abs(auto.state.losses[2] - cpu.state.losses[2]) < 1e-4 * cpu.state.losses[2]);
 * ```
 *
 * @example A solve on the GPU: solve()'s options (skipped without an adapter)
 * ```ts
 * import { gpuSolve, requestGpuDevice } from "./mod.ts";
 * import { Mlp, reversible, rk4, solve } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const gpu = await requestGpuDevice().catch(() => null);
 * if (gpu !== null) {
 *   const field = new Mlp({ dim: 2, widths: [8], timeDependent: true });
 *   const options = {
 *     field, params: field.init(0), scheme: reversible(rk4), t1: 1, steps: 10,
 *     y0: Float64Array.of(1, 0), saveAt: { steps: true },
 *   };
 *   const { ys } = await gpuSolve(gpu, options);
 *   const cpu = solve(options);
 *   for (let e = 0; e < ys.length; e++) assert.ok(Math.abs(ys[e] - cpu.ys[e]) < 1e-5);
 *   gpu.device.destroy();
 * }
 * ```
 *
 * @module
 */

// Train: `train()` with one more option, `backend`.
export { type BackendTrainOptions, type BackendTrainResult, train } from "./backend.ts";
// Solve and differentiate: `solve()`'s options, by the same names.
export {
  gpuGradient,
  type GpuGradientOptions,
  type GpuGradientResult,
  gpuSolve,
  type GpuTrajectory,
} from "../../solvers/webgpu/one_shot.ts";
export type { GpuLike, GpuSolveOptions, SolveKernel } from "../../solvers/webgpu/options.ts";
export { gpuSupport } from "../../solvers/webgpu/support.ts";
export { gpuMse } from "./loss.ts";
// What a solve reports.
export type { CommandCounts } from "../../solvers/webgpu/runtime/recorder.ts";
export type { GpuAdaptiveRun } from "../../solvers/webgpu/adaptive.ts";
// How the network's kernels are laid out.
export type { MlpKernels, Tiling } from "../../solvers/webgpu/fields/mlp.ts";
// The device.
export {
  type GpuDevice,
  type GpuDeviceOptions,
  GpuUnavailableError,
  requestGpuDevice,
} from "../../solvers/webgpu/runtime/device.ts";
