/**
 * The options of a GPU solve — solve()'s, by the same names (solvers/options.ts), plus the GPU's own layout choices — and their check: what the GPU supports (support.ts), then each argument, then the grid, outputs and sizes the solver is built from.
 *
 * @module
 */

import { Mlp, type MlpConfig } from "../fields/mlp.ts";
import { type CheckedTableau, checkTableau } from "../tableau.ts";
import type { SchemeSpec } from "../schemes/spec.ts";
import type { GradientSpec } from "../gradients/spec.ts";
import type { GpuContext } from "./runtime/context.ts";
import type { GpuDevice } from "./runtime/device.ts";
import type { MlpKernels, Tiling } from "./fields/mlp.ts";
import type { GpuLoss } from "./outputs.ts";
import { checkSaveAt, type SaveAt } from "../outputs.ts";
import { invalidArgument, requireFinite, requireInteger } from "../checks.ts";
import { gpuSupport } from "./support.ts";
import type { PidController } from "../controller.ts";

/**
 * The keys of {@link GpuSolveOptions}: any other is refused, not ignored.
 *
 * @example
 * ```ts
 * import { GPU_SOLVE_KEYS } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.ok(GPU_SOLVE_KEYS.includes("solveKernel"));
 * ```
 */
export const GPU_SOLVE_KEYS: readonly string[] = [
  "field",
  "params",
  "scheme",
  "t0",
  "t1",
  "steps",
  "controller",
  "dt0",
  "saveAt",
  "gradient",
  "y0",
  "batch",
  "tiling",
  "kernels",
  "solveKernel",
];

/**
 * What a GPU solve needs: `solve()`'s options, by the same names, for what
 * the GPU runs (support.ts: a reversible scheme; fixed steps saving every
 * step, or a controller saving at given times), and three GPU-only layout
 * choices (`batch`, `tiling`, `kernels`, `solveKernel`).
 *
 * @example
 * ```ts
 * import { type GpuSolveOptions, planOf } from "./options.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolveOptions = {
 *   field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   scheme: reversible(rk4),
 *   t1: 1,
 *   steps: 10,
 *   y0: Float64Array.of(1),
 *   saveAt: { t0: true, steps: true },
 * };
 * // The plan GpuSolver allocates for: the reversible gradient by default, on rk4's 10 steps
 * const plan = planOf(options);
 * assert.equal(plan.method, "reversible");
 * assert.equal(plan.tableau.stages, 4);
 * assert.equal(plan.times.length, 11);
 * assert.equal(plan.batch, 1);
 * ```
 */
export interface GpuSolveOptions {
  /** The vector field: an {@link Mlp} or its JSON. */
  field: Mlp | MlpConfig;
  /** Parameters θ (float64; used as f32). */
  params: Float64Array;
  /** The scheme: `reversible(tableau, { coupling })`, any explicit tableau of at most 16 stages. */
  scheme: SchemeSpec;
  /** Start time (default 0). */
  t0?: number;
  /** End time. */
  t1: number;
  /** Number of uniform steps; or give a `controller`. */
  steps?: number;
  /** Adaptive step sizes from `pid()`: one step size for the whole batch (the worst trajectory decides); `maxSteps` trial steps are recorded per solve. */
  controller?: PidController;
  /** First step of an adaptive solve (default: Hairer's heuristic, smallest over the batch). */
  dt0?: number;
  /**
   * What is saved: with fixed steps `{ steps: true }` (every step), with a
   * controller `{ ts }` (by Hermite interpolation); `t0: true` saves `y(t0)`
   * too. Required: `solve()`'s default `{ t1: true }` is not a GPU form.
   */
  saveAt?: SaveAt;
  /** The gradient method (default `"reversible"`; `"backsolve"` is CPU-only). */
  gradient?: GradientSpec;
  /** Initial states `[rows, dim]`; `rows ≤ batch`. */
  y0: Float64Array;
  /** GPU-only: trajectories the buffers hold (default: the rows of `y0`). */
  batch?: number;
  /** GPU-only: tiled matrix products (default `"auto"`). */
  tiling?: Tiling;
  /** GPU-only: fused or per-layer network kernels (default `"auto"`: fused up to width 32). */
  kernels?: MlpKernels;
  /**
   * GPU-only: the gradient of fixed steps in one kernel per pass (`"whole"`:
   * one invocation runs a trajectory's whole solve, another its whole
   * backward pass; gradients/whole.ts, whole_checkpointed.ts,
   * whole_direct.ts) or in kernels per stage and step (`"steps"`). Default
   * `"auto"`: whole where it applies — a fused network, fixed steps, and
   * per-row gradients (`batch × P` values), checkpoints or tape within the
   * device's binding size.
   */
  solveKernel?: SolveKernel;
}

/**
 * How a solve is laid out in kernels: see {@link GpuSolveOptions.solveKernel}.
 *
 * @example
 * ```ts
 * import type { SolveKernel } from "./options.ts";
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const mlp = new Mlp({ dim: 2, widths: [8] });
 *   const chosen = (solveKernel: SolveKernel) => {
 *     const solver = GpuSolver.create(device, {
 *       field: mlp, params: mlp.init(0), y0: Float64Array.of(1, 0), scheme: reversible(rk4),
 *       t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel,
 *     });
 *     solver.destroy();
 *     return solver.solveKernel;
 *   };
 *   assert.equal(chosen("steps"), "steps");
 *   assert.equal(chosen("auto"), "whole"); // a small fused network with fixed steps
 *   device.destroy();
 * }
 * ```
 */
export type SolveKernel = "auto" | "whole" | "steps";

/**
 * Options of {@link GpuSolver.create}: a solve and the loss whose
 * cotangents its backward pass takes.
 *
 * @example
 * ```ts
 * import type { GpuSolverOptions } from "./options.ts";
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolverOptions = {
 *   field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0),
 *   scheme: reversible(rk4),
 *   t1: 1,
 *   steps: 10,
 *   y0: Float64Array.of(1),
 *   saveAt: { steps: true },
 *   gradient: "direct",
 * };
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const solver = GpuSolver.create(device, options);
 *   assert.equal(solver.run.name, "direct");
 *   // no loss: the data are cotangents, here ∂L/∂y(1) = 1
 *   solver.setData(Float64Array.from({ length: 10 }, (_, n) => (n === 9 ? 1 : 0)));
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   solver.run.backward(rec);
 *   rec.submit();
 *   assert.ok(Math.abs((await solver.readParamsBar())[0] - Math.exp(-1)) < 1e-4); // ∂y(1)/∂w
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface GpuSolverOptions extends GpuSolveOptions {
  /** A loss of the outputs (training/webgpu/loss.ts), or null (default) when the data are the cotangents `∂L/∂ys`. */
  loss?: GpuLoss | null;
}

/**
 * A device, a {@link GpuDevice}, or a context whose buffers the caller
 * manages.
 *
 * @example
 * ```ts
 * import type { GpuLike } from "./options.ts";
 * import { gpuSolve } from "./one_shot.ts";
 * import { GpuContext } from "./runtime/context.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { reversible, rk4 } from "../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const solveOn = (gpu: GpuLike) =>
 *     gpuSolve(gpu, {
 *       field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *       params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 4,
 *       y0: Float64Array.of(1), saveAt: { steps: true },
 *     });
 *   // A device, or a context whose buffers the caller keeps: the same solve.
 *   const ctx = new GpuContext(device);
 *   const onDevice = await solveOn(device), onContext = await solveOn(ctx);
 *   assert.deepEqual(onContext.ys, onDevice.ys);
 *   assert.ok(Math.abs(onDevice.ys[3] - Math.exp(-1)) < 1e-4);
 *   ctx.destroy();
 *   device.destroy();
 * }
 * ```
 */
export type GpuLike = GPUDevice | GpuDevice | GpuContext;

/**
 * The `checkpoints` of a checkpointed gradient's spec, if given.
 *
 * @param spec The gradient method.
 * @returns Its checkpoints, or undefined for the default (or another method).
 *
 * @example
 * ```ts
 * import { checkpointsOf } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkpointsOf({ method: "checkpointed", checkpoints: 8 }), 8);
 * assert.equal(checkpointsOf("checkpointed"), undefined);
 * ```
 */
export function checkpointsOf(spec: GradientSpec): number | undefined {
  return typeof spec === "object" && "checkpoints" in spec ? spec.checkpoints : undefined;
}

/**
 * A checked {@link GpuSolveOptions}: what the solver is built from.
 *
 * @example
 * ```ts
 * import type { SolvePlan } from "./options.ts";
 * import assert from "node:assert/strict";
 *
 * const saved = (p: Pick<SolvePlan, "ts" | "steps" | "saveT0">) =>
 *   (p.ts === null ? p.steps : p.ts.length) + (p.saveT0 ? 1 : 0);
 * assert.equal(saved({ ts: null, steps: 10, saveT0: true }), 11);
 * assert.equal(saved({ ts: Float64Array.of(0.5, 1), steps: 1, saveT0: false }), 2);
 * ```
 */
export interface SolvePlan {
  /** The network. */
  mlp: Mlp;
  /** The base method. */
  tableau: CheckedTableau;
  /** λ. */
  coupling: number;
  /** Start time. */
  t0: number;
  /** End time. */
  t1: number;
  /** Uniform steps (1 for an adaptive solve, whose grid the controller makes). */
  steps: number;
  /** Grid times `t_0 … t_N` of fixed steps (`[t0, t1]` when adaptive). */
  times: Float64Array;
  /** The output times of an adaptive solve, or null for fixed steps. */
  ts: Float64Array | null;
  /** Whether `y(t0)` is saved (slot 0). */
  saveT0: boolean;
  /** The gradient method as given. */
  spec: GradientSpec;
  /** Its name. */
  method: string;
  /** Rows of `y0`. */
  rows: number;
  /** Trajectories the buffers hold. */
  batch: number;
}

/**
 * Checks the options — first what the GPU supports (support.ts), then each
 * argument — and works out the grid, the outputs and the sizes.
 *
 * @param options The solve.
 * @returns The checked plan.
 * @throws {RangeError} When the GPU cannot run the solve, or an argument is invalid.
 *
 * @example
 * ```ts
 * import { type GpuSolveOptions, planOf } from "./options.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuSolveOptions = {
 *   field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *   params: Float64Array.of(-1, 0), scheme: reversible(rk4), t1: 1, steps: 4,
 *   y0: Float64Array.of(1, 2), saveAt: { t0: true, steps: true },
 * };
 * const plan = planOf(options);
 * assert.deepEqual([...plan.times], [0, 0.25, 0.5, 0.75, 1]);
 * assert.equal(plan.rows, 2);
 * assert.equal(plan.saveT0, true);
 * assert.throws(() => planOf({ ...options, steps: 0 }), /Invalid steps: got 0/);
 * assert.throws(() => planOf({ ...options, saveAt: { t1: true } }), /the GPU saves every step/);
 * ```
 */
export function planOf(options: GpuSolveOptions): SolvePlan {
  const why = gpuSupport(options);
  if (why !== null) throw new RangeError(`This solve does not run on the WebGPU backend: ${why}`);
  const field = options.field;
  if (field === null || typeof field !== "object") {
    invalidArgument("field", field, "an Mlp or its JSON (the GPU runs MLP vector fields)");
  }
  const mlp = field instanceof Mlp ? field : Mlp.fromJSON(field);
  const scheme = options.scheme as Extract<SchemeSpec, { kind: "reversible" }>;
  const tableau = checkTableau(scheme.tableau);
  const adaptive = options.controller !== undefined;
  if (adaptive && options.steps !== undefined) {
    invalidArgument("steps", options.steps, "no steps with a controller (give one of the two)");
  }
  if (!adaptive && options.dt0 !== undefined) {
    invalidArgument(
      "dt0",
      options.dt0,
      "no dt0 without a controller (it is an adaptive first step)",
    );
  }
  const steps = adaptive ? 1 : requireInteger("steps", options.steps, 1);
  const t0 = options.t0 ?? 0;
  const t1 = options.t1;
  if (!Number.isFinite(t0)) invalidArgument("t0", t0, "a finite number");
  if (!(Number.isFinite(t1) && t1 > t0)) invalidArgument("t1", t1, `a finite number > t0 = ${t0}`);
  const times = new Float64Array(steps + 1);
  for (let n = 0; n <= steps; n++) times[n] = n === steps ? t1 : t0 + ((t1 - t0) * n) / steps;
  const y0 = options.y0;
  if (!(y0 instanceof Float64Array) || y0.length === 0 || y0.length % mlp.dim !== 0) {
    invalidArgument("y0", y0?.length, `a Float64Array [rows, dim] with dim = ${mlp.dim}`);
  }
  const rows = y0.length / mlp.dim;
  const batch = options.batch ?? rows;
  if (!Number.isInteger(batch) || batch < rows) {
    invalidArgument("batch", batch, `an integer >= the ${rows} rows of y0`);
  }
  if (!(options.params instanceof Float64Array) || options.params.length !== mlp.paramCount) {
    invalidArgument("params", options.params?.length, `a Float64Array of length ${mlp.paramCount}`);
  }
  requireFinite("params", options.params);
  const saveAt = checkSaveAt(options.saveAt, t0, t1);
  const ts = adaptive ? adaptiveTimes(options, saveAt.ts) : null;
  const spec = options.gradient ?? "reversible";
  const method = typeof spec === "string" ? spec : spec.method;
  return {
    mlp,
    tableau,
    coupling: scheme.coupling,
    t0,
    t1,
    steps,
    times,
    ts,
    saveT0: saveAt.t0,
    spec,
    method,
    rows,
    batch,
  };
}

/** The checked output times of an adaptive solve. */
function adaptiveTimes(options: GpuSolveOptions, ts: Float64Array): Float64Array {
  if (options.controller?.kind !== "pid") {
    invalidArgument("controller", options.controller, "a controller from pid({ rtol, atol, … })");
  }
  const dt0 = options.dt0;
  if (dt0 !== undefined && !(dt0 > 0 && Number.isFinite(dt0))) {
    invalidArgument("dt0", dt0, "a finite number > 0");
  }
  if (ts.length === 0) invalidArgument("saveAt.ts", "[]", "at least one output time");
  return ts;
}
