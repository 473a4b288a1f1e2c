/**
 * GPU-only: the layout of the adaptive controller's state array
 * ({@link CONTROL}), which its kernels (adaptive_kernels.ts) write and the
 * host (adaptive.ts), the interpolation and the gradients read; the solve
 * the controller is set up for; the buffers its kernels bind and the
 * dispatches they make.
 *
 * @module
 */

import type { PidController } from "../controller.ts";
import type { CheckedTableau } from "../tableau.ts";
import type { GpuContext, Slice } from "./runtime/context.ts";
import type { Gate } from "./runtime/gate.ts";
import type { GpuIncrement } from "./increment.ts";
import type { Op } from "./runtime/recorder.ts";
import type { GpuReversibleScheme } from "./schemes/reversible.ts";

/**
 * Indices of the controller's state array.
 *
 * @example
 * ```ts
 * import { CONTROL } from "./adaptive_layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CONTROL.status, 6);
 * ```
 */
export const CONTROL = {
  /** Time of the last accepted point. */
  t: 0,
  /** Next trial step. */
  h: 1,
  /** Scaled error of the last accepted step (1 before any). */
  err1: 2,
  /** Scaled error of the one before. */
  err2: 3,
  /** Accepted steps. */
  accepted: 4,
  /** Rejected steps. */
  rejected: 5,
  /** The status code (adaptive.ts's `GPU_STATUS`). */
  status: 6,
  /** Scaled error norm of the current trial (worst trajectory). */
  err: 7,
  /** Step of the current trial. */
  hUsed: 8,
  /** End time of the current interval `t_B`. */
  tB: 9,
  /** 1 when the current trial was accepted (forward), or the interval is live (backward). */
  active: 10,
  /** First interpolated output inside the current interval. */
  k0: 11,
  /** One past the last. */
  k1: 12,
  /** Scratch of the initial-step heuristic. */
  scratch: 13,
  /** Start time of the current interval `t_A`. */
  tA: 14,
  /** Steps left to walk back (backward pass). */
  cursor: 15,
  /** Most trial steps any solve of this solver has taken (kept across solves). */
  most: 16,
} as const;

/**
 * Length of the controller's state array ({@link CONTROL}).
 *
 * @example
 * ```ts
 * import { CONTROL, CONTROL_LENGTH } from "./adaptive_layout.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CONTROL_LENGTH, Object.keys(CONTROL).length);
 * ```
 */
export const CONTROL_LENGTH = 17;

/**
 * What a `GpuAdaptive` (adaptive.ts) needs.
 *
 * @example
 * ```ts
 * import type { GpuAdaptiveSetup } from "./adaptive_layout.ts";
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { pid } from "../controller.ts";
 * import { bosh3 } from "../tableaux.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // GpuSolver sets the controller up from solve()'s options.
 *   const solver = GpuSolver.create(device, {
 *     field: new Mlp({ dim: 2, widths: [4] }), params: new Mlp({ dim: 2, widths: [4] }).init(0),
 *     y0: Float64Array.of(1, 0, 0, 1, 0.5, 0.5), scheme: reversible(bosh3), t0: 0.5, t1: 2,
 *     controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 64 }), saveAt: { ts: [1, 2] },
 *   });
 *   const setup: GpuAdaptiveSetup = solver.adaptive!.setup;
 *   assert.equal(setup.t1 - setup.t0, 1.5);
 *   assert.deepEqual([...setup.ts], [1, 2]);
 *   assert.equal(setup.batch, 3);
 *   assert.equal(setup.dim, 2);
 *   assert.equal(setup.controller.maxSteps, 64);
 *   assert.equal(setup.dt0, undefined); // the starting-step heuristic
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface GpuAdaptiveSetup {
  /** The controller (tolerances, factors, bounds, `maxSteps`, norm). */
  readonly controller: PidController;
  /** The base method (with `bError`). */
  readonly tableau: CheckedTableau;
  /** Start time. */
  readonly t0: number;
  /** End time. */
  readonly t1: number;
  /** First step, or undefined for the heuristic of Hairer, Nørsett & Wanner. */
  readonly dt0?: number;
  /** Interpolated output times, increasing, inside `[t0, t1]`. */
  readonly ts: Float64Array;
  /** Trajectories. */
  readonly batch: number;
  /** State dimension. */
  readonly dim: number;
  /** The scheme whose steps are controlled. */
  readonly scheme: GpuReversibleScheme;
  /** An Euler increment evaluating `f(t_A, ·)` (call record `GpuAdaptive.pointA`). */
  readonly fieldA: GpuIncrement;
  /** An Euler increment evaluating `f(t_B, ·)` (call record `GpuAdaptive.pointB`). */
  readonly fieldB: GpuIncrement;
  /** Initial states `[batch, dim]`. */
  readonly y0: Slice;
}

/**
 * The buffers the controller's kernels bind, as `GpuAdaptive` allocates
 * them, and the solve they are generated for.
 *
 * @example
 * ```ts
 * import { type AdaptiveKernelParts, CONTROL } from "./adaptive_layout.ts";
 * import { adaptiveKernels } from "./adaptive_kernels.ts";
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { pid } from "../controller.ts";
 * import { bosh3 } from "../tableaux.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const solver = GpuSolver.create(device, {
 *     field: new Mlp({ dim: 1, widths: [] }), params: Float64Array.of(-1, 0), y0: Float64Array.of(1),
 *     scheme: reversible(bosh3), t0: 0.5, t1: 2, controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 64 }),
 *     saveAt: { ts: [2] },
 *   });
 *   const ctx = solver.ctx, a = solver.adaptive!;
 *   // The parts as GpuAdaptive assembles them, with fresh scratch buffers
 *   const stride = a.calls.table.stride / 4;
 *   const parts: AdaptiveKernelParts = {
 *     ctx, setup: a.setup, control: a.control, times: a.times, ts: a.ts,
 *     rows: ctx.buffer("rows", a.setup.batch), records: ctx.buffer("records", 4 * stride), stride,
 *     backup: a.backup, yA: a.yA, stepGate: a.stepGate, outputGate: a.outputGate,
 *   };
 *   const rec = new Recorder(ctx);
 *   // The kernels bind these buffers: the start kernel writes the controller's state and t_0.
 *   rec.run(adaptiveKernels(parts).start, null);
 *   rec.submit();
 *   const control = await ctx.read(parts.control);
 *   assert.equal(control[CONTROL.t], 0.5);
 *   assert.equal((await ctx.read(parts.times))[0], 0.5);
 *   assert.deepEqual([...await ctx.read(parts.ts)], [2]);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface AdaptiveKernelParts {
  /** The context. */
  readonly ctx: GpuContext;
  /** The solve. */
  readonly setup: GpuAdaptiveSetup;
  /** The controller's state, indexed by {@link CONTROL}. */
  readonly control: Slice;
  /** Accepted times `t_0 … t_N`. */
  readonly times: Slice;
  /** The interpolated output times. */
  readonly ts: Slice;
  /** One value per trajectory, reduced to its maximum. */
  readonly rows: Slice;
  /** The four call records the kernels write, copied into the call table. */
  readonly records: Slice;
  /** Words of one call record. */
  readonly stride: number;
  /** `(y, z)` before the current trial. */
  readonly backup: Slice;
  /** `y` before the current trial. */
  readonly yA: Slice;
  /** Opens the trial step (forward) or the interval's step (backward). */
  readonly stepGate: Gate;
  /** Opens the interval's interpolated outputs. */
  readonly outputGate: Gate;
}

/**
 * The controller's dispatches, by the step of the solve that records them.
 *
 * @example
 * ```ts
 * import { type AdaptiveKernelParts, type AdaptiveOps, CONTROL } from "./adaptive_layout.ts";
 * import { adaptiveKernels } from "./adaptive_kernels.ts";
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { pid } from "../controller.ts";
 * import { bosh3 } from "../tableaux.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const solver = GpuSolver.create(device, {
 *     field: new Mlp({ dim: 1, widths: [] }), params: Float64Array.of(-1, 0), y0: Float64Array.of(1),
 *     scheme: reversible(bosh3), t0: 0.5, t1: 2, controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 64 }),
 *     saveAt: { ts: [2] },
 *   });
 *   const ctx = solver.ctx, a = solver.adaptive!;
 *   // The parts as GpuAdaptive assembles them, with fresh scratch buffers
 *   const stride = a.calls.table.stride / 4;
 *   const parts: AdaptiveKernelParts = {
 *     ctx, setup: a.setup, control: a.control, times: a.times, ts: a.ts,
 *     rows: ctx.buffer("rows", a.setup.batch), records: ctx.buffer("records", 4 * stride), stride,
 *     backup: a.backup, yA: a.yA, stepGate: a.stepGate, outputGate: a.outputGate,
 *   };
 *   const rec = new Recorder(ctx);
 *   const ops: AdaptiveOps = adaptiveKernels(parts);
 *   solver.run.forward(rec); // a whole solve: steps accepted, t = t1
 *   rec.submit();
 *   const solved = await ctx.read(a.control);
 *   assert.ok(solved[CONTROL.accepted] > 0);
 *   assert.equal(solved[CONTROL.t], 2);
 *   rec.run(ops.start, null); // resets the controller's state for the next solve
 *   rec.submit();
 *   const reset = await ctx.read(a.control);
 *   assert.equal(reset[CONTROL.t], 0.5);
 *   assert.equal(reset[CONTROL.accepted], 0);
 *   assert.equal(reset[CONTROL.rejected], 0);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface AdaptiveOps {
  /** Resets the controller's state and writes `t_0`. */
  readonly start: Op[];
  /** The heuristic's first guess `h_0` (from `f(t_0, y_0)`). */
  readonly initialH0: Op[];
  /** `y_1 = y_0 + h_0 f(t_0, y_0)` and the call record of `f(t_0 + h_0, ·)`. */
  readonly initialY1: Op[];
  /** The heuristic's first step (from `f(t_0 + h_0, y_1)`). */
  readonly initialH1: Op[];
  /** Sets the trial's interval and gates. */
  readonly prepare: Op[];
  /** Copies the scheme's state before the trial. */
  readonly save: Op[];
  /** The trial's scaled error norm, worst trajectory. */
  readonly error: Op[];
  /** Accepts or rejects the trial and chooses the next step. */
  readonly decide: Op[];
  /** Restores the state of a rejected trial. */
  readonly commit: Op[];
  /** Starts the walk back at the last accepted step. */
  readonly backStart: Op[];
  /** Selects the next interval of the walk back. */
  readonly backPrepare: Op[];
  /** Selects the accepted step a call record names (forward). */
  readonly indexForward: Op[];
  /** Selects the accepted step a call record names (walked back). */
  readonly indexBack: Op[];
}
