/**
 * Adaptive steps on the GPU (numerics.md §4); the mirror of
 * solvers/adaptive.ts and solvers/controller.ts. The PID controller runs in
 * one-invocation kernels, so a whole adaptive solve is recorded without the
 * CPU ever learning where the steps fall: the controller's state (time,
 * next step, error history, counts, status) lives in a small storage array,
 * the accepted step times in another, and every trial step's times reach
 * the solver kernels as call records that a kernel writes and a copy moves
 * into the uniform call table. The kernels, one function each, are in
 * adaptive_kernels.ts; the layout of the state array in adaptive_layout.ts.
 *
 * The batch shares one step size: a trial step is accepted when every
 * trajectory's scaled error norm is at most 1, and the next step follows
 * the worst one (the CPU backend gives each trajectory its own steps; for
 * one trajectory the two agree). The CPU records {@link GpuAdaptive.trials}
 * trial steps (`maxSteps` unless lowered); the controller closes their gate
 * ({@link Gate}) once the solve is done, so the steps past the end cost
 * almost nothing on the GPU — but each still costs the CPU its commands,
 * which is why a training loop records fewer than `maxSteps` when it has
 * learned how many its solves take. A solve whose recorded trials run out
 * before `t1` ends `incomplete`.
 *
 * @module
 */

import { adaptiveKernels } from "./adaptive_kernels.ts";
import {
  type AdaptiveOps,
  CONTROL,
  CONTROL_LENGTH,
  type GpuAdaptiveSetup,
} from "./adaptive_layout.ts";
import { CallTable } from "./runtime/calls.ts";
import type { SolveCalls } from "./runtime/calls.ts";
import type { GpuContext, Slice } from "./runtime/context.ts";
import { Gate } from "./runtime/gate.ts";
import type { CallRef, Op, Recorder } from "./runtime/recorder.ts";
import { f32, u32 } from "./runtime/wgsl.ts";

/**
 * Status codes of a GPU adaptive solve (`CONTROL.status`), by name.
 *
 * @example
 * ```ts
 * import { GPU_STATUS } from "./adaptive.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GPU_STATUS[1], "success");
 * ```
 */
export const GPU_STATUS: Readonly<Record<number, string>> = {
  /** The recorded trials ran out before `t1` (or no solve has run). */
  0: "incomplete",
  1: "success",
  2: "max_steps_reached",
  3: "dt_min_reached",
  4: "non_finite",
};

/**
 * The failure code {@link GpuAdaptive.failureOps} writes when a solve ran
 * out of recorded trials (1 stands for the controller's own failures).
 *
 * @example
 * ```ts
 * import { INCOMPLETE } from "./adaptive.ts";
 * import assert from "node:assert/strict";
 * assert.equal(INCOMPLETE, 2);
 * ```
 */
export const INCOMPLETE = 2;

/**
 * The controller's buffers and kernels for one solve.
 *
 * @example Steps of y' = −y (f(y) = w y + b) on [0, 1]
 * ```ts
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
 *     field: new Mlp({ dim: 1, widths: [] }),
 *     params: Float64Array.of(-1, 0),
 *     scheme: reversible(bosh3),
 *     t1: 1,
 *     controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 64 }),
 *     saveAt: { t0: true, ts: [0.5, 1] },
 *     y0: Float64Array.of(1),
 *   });
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   rec.submit();
 *   const run = await solver.readAdaptive();
 *   assert.equal(run!.status, "success");
 *   assert.ok(run!.accepted > 2 && run!.times[run!.accepted] === 1);
 *   const ys = await solver.readYs();
 *   assert.ok(Math.abs(ys[1] - Math.exp(-0.5)) < 1e-3);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export class GpuAdaptive {
  /** The setup. */
  readonly setup: GpuAdaptiveSetup;
  /** The controller's state, indexed by {@link CONTROL}. */
  readonly control: Slice;
  /** Accepted times `t_0 … t_N` (`maxSteps + 1` values). */
  readonly times: Slice;
  /** The interpolated output times. */
  readonly ts: Slice;
  /** `(y, z)` before the current trial. */
  readonly backup: Slice;
  /** `y` before the current trial (the start of the interval). */
  readonly yA: Slice;
  /** Call records of the current trial or interval, as the scheme reads them. */
  readonly calls: SolveCalls;
  /** Call record of `f(t_A, ·)`. */
  readonly pointA: CallRef;
  /** Call record of `f(t_B, ·)`. */
  readonly pointB: CallRef;
  /** Call record of `t_0` (saved-output slot 0 when `t_0` is saved). */
  readonly start: CallRef;
  /** Opens the trial step (forward) or the interval's step (backward). */
  readonly stepGate: Gate;
  /** Opens the interval's interpolated outputs. */
  readonly outputGate: Gate;
  readonly #ctx: GpuContext;
  readonly #table: CallTable;
  readonly #records: Slice;
  readonly #ops: AdaptiveOps;
  #trials: number;

  /**
   * Allocates the buffers and prepares the kernels.
   *
   * @param ctx The context.
   * @param setup The solve.
   * @param saveT0 Whether slot 0 holds `y(t0)`.
   */
  constructor(ctx: GpuContext, setup: GpuAdaptiveSetup, saveT0: boolean) {
    const { controller: c, tableau, batch, dim } = setup;
    if (tableau.bError === undefined) {
      throw new RangeError(
        `Invalid tableau: ${tableau.name} has no embedded error estimate (bError), which ` +
          "adaptive steps need; use bosh3, dopri5 or tsit5, or give a fixed number of steps.",
      );
    }
    this.#ctx = ctx;
    this.setup = setup;
    this.#trials = c.maxSteps;
    const n = batch * dim;
    const T = setup.ts.length;
    let rows: Slice;
    [this.control, this.times, this.ts, rows] = ctx.arena("adaptive", [
      CONTROL_LENGTH,
      c.maxSteps + 1,
      T,
      batch,
    ]);
    if (T > 0) ctx.write(this.ts, setup.ts);
    // a copy of the scheme's state span [y, (padding), z]
    this.backup = ctx.buffer("adaptive.backup", setup.scheme.state.length);
    this.yA = { buffer: this.backup.buffer, offset: this.backup.offset, length: n };
    // Four records the kernels rewrite: Ψ_h(t_A, ·), Ψ_{−h}(t_B, ·), f(t_A, ·), f(t_B, ·).
    this.#table = new CallTable(ctx, [{ t: 0 }, { t: 0 }, { t: 0 }, { t: 0 }]);
    const stride = this.#table.stride / 4;
    this.#records = ctx.buffer("adaptive.records", 4 * stride);
    const table = this.#table;
    this.calls = {
      table,
      steps: 1,
      forward: () => table.ref(0),
      backward: () => table.ref(1),
      point: () => table.ref(2),
      slot: () => -1,
    };
    this.pointA = table.ref(2);
    this.pointB = table.ref(3);
    const startTable = new CallTable(ctx, [{
      t: setup.t0,
      h: 1,
      slot: saveT0 ? 0 : -1,
      stageTimes: [setup.t0],
    }]);
    this.start = startTable.ref(0);
    this.stepGate = new Gate(ctx, "adaptive.step");
    this.outputGate = new Gate(ctx, "adaptive.output");
    this.#ops = adaptiveKernels({
      ctx,
      setup,
      control: this.control,
      times: this.times,
      ts: this.ts,
      rows,
      records: this.#records,
      stride,
      backup: this.backup,
      yA: this.yA,
      stepGate: this.stepGate,
      outputGate: this.outputGate,
    });
  }

  /**
   * Trial steps recorded per solve, forward and back: `maxSteps` by
   * default. Fewer cost the CPU fewer commands; a solve that needs more
   * ends `incomplete` ({@link GPU_STATUS}; {@link GpuAdaptive.failureOps}
   * reports it apart from the controller's failures), its outputs and
   * gradient not those of the whole solve.
   *
   * @throws {RangeError} When set to anything but an integer in `[1, maxSteps]`.
   */
  get trials(): number {
    return this.#trials;
  }

  set trials(value: number) {
    const most = this.setup.controller.maxSteps;
    if (!Number.isInteger(value) || value < 1 || value > most) {
      throw new RangeError(
        `Invalid trials: got ${value}; expected an integer in [1, ${most}] (maxSteps).`,
      );
    }
    this.#trials = value;
  }

  /**
   * Records the start of the forward solve: the controller's state, `t_0`,
   * and the first step (given, or by the heuristic, which evaluates `f`
   * twice). The scheme's state must already hold `(y_0, y_0)`.
   *
   * @param rec The recorder.
   */
  recordStart(rec: Recorder): void {
    const ops = this.#ops;
    const { fieldA, fieldB, y0 } = this.setup;
    rec.run(ops.start, null);
    if (this.setup.dt0 !== undefined) return;
    rec.run(fieldA.evaluateOps(y0), this.start);
    rec.run(ops.initialH0, null);
    rec.run(ops.initialY1, null);
    this.#copyRecords(rec);
    rec.run(fieldB.evaluateOps(this.yA), this.pointB);
    rec.run(ops.initialH1, null);
  }

  /**
   * Records one trial step: sets its times, and, while the solve runs,
   * steps the scheme, estimates the error, accepts or rejects (restoring
   * the state), and writes the interpolated outputs of an accepted step
   * with `output`.
   *
   * @param rec The recorder.
   * @param output Records the interpolated outputs of the interval (gated).
   * @param after Records kernels run after every trial while the solve runs
   *   (they read `CONTROL.active` to tell an accepted trial).
   */
  recordTrial(rec: Recorder, output: () => void, after?: () => void): void {
    const ops = this.#ops;
    const { scheme } = this.setup;
    rec.run(ops.prepare, null);
    this.#copyRecords(rec);
    rec.gated(this.stepGate, () => {
      rec.run(ops.save, null);
      scheme.step(rec, this.calls, 0);
      rec.run(ops.error, this.calls.backward(0));
      rec.run(ops.decide, null);
      rec.run(ops.commit, null);
      after?.();
    });
    rec.gated(this.outputGate, output);
  }

  /**
   * Records the start of the backward pass: the walk back starts at the
   * last accepted step.
   *
   * @param rec The recorder.
   */
  recordBackStart(rec: Recorder): void {
    rec.run(this.#ops.backStart, null);
  }

  /**
   * Records one step of the walk back: selects the latest interval not yet
   * walked, `[t_m, t_{m+1}]`, sets its call records and opens the gates
   * (closed once every accepted step has been walked).
   *
   * @param rec The recorder.
   */
  recordBackStep(rec: Recorder): void {
    const ops = this.#ops;
    rec.run(ops.backPrepare, null);
    this.#copyRecords(rec);
  }

  /**
   * Records the selection of accepted step `m`, given by the call record
   * `index` (its slot): sets its call records, opens the step gate when
   * `m < N` and, with `back`, the output gate when its interval holds
   * outputs. `CONTROL.cursor` holds `m` afterwards.
   *
   * @param rec The recorder.
   * @param index A call record whose slot is `m`.
   * @param back Whether the step is walked back (its outputs' cotangents enter).
   */
  recordIndexStep(rec: Recorder, index: CallRef, back: boolean): void {
    rec.run(back ? this.#ops.indexBack : this.#ops.indexForward, index);
    this.#copyRecords(rec);
  }

  /**
   * Reads the controller's state and the accepted times (one read-back).
   *
   * @returns Status, counts, the time reached and the accepted times.
   */
  async read(): Promise<GpuAdaptiveRun> {
    const [s, times] = await this.#ctx.readMany([{ slice: this.control }, {
      slice: this.times,
    }]);
    const accepted = s[CONTROL.accepted];
    return {
      status: GPU_STATUS[s[CONTROL.status]] ?? "incomplete",
      accepted,
      rejected: s[CONTROL.rejected],
      tEnd: s[CONTROL.t],
      times: Float64Array.from(times.subarray(0, accepted + 1)),
      mostTrials: s[CONTROL.most],
    };
  }

  /**
   * The dispatch that sets `out[index]` to 0 when the solve succeeded, to 1
   * when the controller failed (`max_steps_reached`, `dt_min_reached`,
   * `non_finite`) and to {@link INCOMPLETE} when the recorded trials ran out
   * first (a training step's divergence gate reads it).
   *
   * @param out A storage slice.
   * @param index Index in it.
   * @returns The dispatch.
   */
  failureOps(out: Slice, index: number): Op[] {
    const kernel = this.#ctx.kernel({
      name: "adaptive.failure",
      bindings: [{ name: "ctl", access: "read" }, { name: "out", access: "read_write" }],
      code: `@compute @workgroup_size(1)
fn main() {
  let status = ctl[${CONTROL.status}];
  out[${u32(index)}] = select(select(1.0, ${f32(INCOMPLETE)}, status == 0.0), 0.0, status == 1.0);
}`,
    });
    return [{ kernel, group: this.#ctx.bind(kernel, [this.control, out]), groups: [1, 1, 1] }];
  }

  #copyRecords(rec: Recorder): void {
    const r = this.#records;
    rec.copyBytes(r.buffer, r.offset, this.#table.buffer, 0, r.length * 4);
  }
}

/**
 * The outcome of a GPU adaptive solve, read back.
 *
 * @example
 * ```ts
 * import type { GpuAdaptiveRun } from "./adaptive.ts";
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
 *     scheme: reversible(bosh3), t1: 1, controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 64 }),
 *     saveAt: { ts: [1] },
 *   });
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   rec.submit();
 *   const run: GpuAdaptiveRun = (await solver.readAdaptive())!;
 *   assert.equal(run.status, "success");
 *   assert.equal(run.tEnd, 1);
 *   assert.equal(run.times.length, run.accepted + 1); // t_0 … t_N
 *   assert.equal(run.times[0], 0);
 *   assert.ok(run.times.every((t, n) => n === 0 || t > run.times[n - 1]));
 *   assert.ok(run.mostTrials >= run.accepted + run.rejected);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface GpuAdaptiveRun {
  /** `success`, `max_steps_reached`, `dt_min_reached`, `non_finite`, or `incomplete` (the recorded trials ran out). */
  status: string;
  /** Accepted steps. */
  accepted: number;
  /** Rejected steps. */
  rejected: number;
  /** Time of the last accepted point. */
  tEnd: number;
  /** Accepted times `t_0 … t_N`. */
  times: Float64Array;
  /** Most trial steps (accepted and rejected) of any solve so far on this solver. */
  mostTrials: number;
}
