/**
 * Adaptive steps on the GPU (numerics.md §4); the mirror of
 * solvers/adaptive.ts and solvers/controller.ts. The PID controller runs in
 * one-invocation kernels, so a whole adaptive solve is recorded without the
 * CPU ever learning where the steps fall: the controller's state (time,
 * next step, error history, counts, status) lives in a small storage array,
 * the accepted step times in another, and every trial step's times reach
 * the solver kernels as call records that a kernel writes and a copy moves
 * into the uniform call table.
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

import type { PidController } from "../controller.ts";
import type { CheckedTableau } from "../tableau.ts";
import { CallTable } from "./runtime/calls.ts";
import type { SolveCalls } from "./runtime/calls.ts";
import type { GpuContext, Slice } from "./runtime/context.ts";
import { Gate } from "./runtime/gate.ts";
import type { GpuIncrement } from "./increment.ts";
import type { CallRef, Op, Recorder } from "./runtime/recorder.ts";
import { reductionOps } from "./runtime/reduce.ts";
import type { GpuReversibleScheme } from "./schemes/reversible.ts";
import { f32, isFinite, linearGroups, linearMain, u32 } from "./runtime/wgsl.ts";

/**
 * Indices of the controller's state array.
 *
 * @example
 * ```ts
 * import { CONTROL } from "./adaptive.ts";
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
  /** {@link GPU_STATUS}. */
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

/** Length of the controller's state array. */
const CONTROL_LENGTH = 17;

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

/** A scaled error standing for "not finite" (the reductions take maxima of finite values). */
const BIG = 3.0e38;
/** Largest finite f32, standing for an infinite `dtmax`. */
const F32_MAX = 3.4028234663852886e38;

/**
 * What {@link GpuAdaptive} needs.
 *
 * @example
 * ```ts
 * import type { GpuAdaptiveSetup } from "./adaptive.ts";
 * import assert from "node:assert/strict";
 *
 * const span = (s: GpuAdaptiveSetup) => s.t1 - s.t0;
 * assert.equal(typeof span, "function"); // see GpuSolver with `adaptive`
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
  /** An Euler increment evaluating `f(t_A, ·)` (call record {@link GpuAdaptive.pointA}). */
  readonly fieldA: GpuIncrement;
  /** An Euler increment evaluating `f(t_B, ·)` (call record {@link GpuAdaptive.pointB}). */
  readonly fieldB: GpuIncrement;
  /** Initial states `[batch, dim]`. */
  readonly y0: Slice;
}

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
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const solver = GpuSolver.create(device, {
 *     mlp: new Mlp({ dim: 1, widths: [] }),
 *     params: Float64Array.of(-1, 0),
 *     tableau: bosh3,
 *     t1: 1,
 *     adaptive: { controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 64 }), ts: [0.5, 1] },
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
  readonly #rowScratch: Slice;
  readonly #n: number;
  readonly #ops: Record<string, Op[]>;
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
    this.#n = n;
    const T = setup.ts.length;
    [this.control, this.times, this.ts, this.#rowScratch] = ctx.arena("adaptive", [
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
    this.#ops = this.#kernels(stride);
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

  #kernels(stride: number): Record<string, Op[]> {
    const ctx = this.#ctx;
    const { controller: c, tableau, batch, dim, scheme, fieldA, fieldB, y0, t0, t1 } = this.setup;
    const n = this.#n;
    const span = scheme.state.length;
    const T = this.setup.ts.length;
    const C = CONTROL;
    const ctl = this.control, times = this.times, ts = this.ts, rows = this.#rowScratch;
    const errorOrder = tableau.errorOrder ?? tableau.order - 1;
    const k = errorOrder + 1;
    const rms = c.norm === "rms";
    const tiny = 64 * 1.1920928955078125e-7 * Math.max(Math.abs(t0), Math.abs(t1));
    const dtmax = Math.min(c.dtmax, F32_MAX);
    // the call records are raw u32 words: floats by bitcast, and the slot 0xffffffff
    const typeOf = (
      b: string,
    ) => (["recs", "gstep", "gout"].includes(b) ? "array<u32>" : undefined);
    const stepTable = this.stepGate.table, outTable = this.outputGate.table;
    const outputSetter = this.outputGate.setterCode("set_output_gate", "gout");
    const gates = `${this.stepGate.setterCode("set_step_gate", "gstep")}\n${outputSetter}`;
    const one = (
      name: string,
      bindings: [string, Slice][],
      body: string,
      header = "",
      call = false,
    ) => {
      const kernel = ctx.kernel({
        name: `adaptive.${name}`,
        call,
        bindings: bindings.map(([b]) => ({
          name: b,
          access: "read_write" as const,
          type: typeOf(b),
        })),
        header,
        code: `@compute @workgroup_size(1)\nfn main() {\n${body}\n}`,
      });
      return [{
        kernel,
        group: ctx.bind(kernel, bindings.map(([, s]) => s)),
        groups: [1, 1, 1],
      }] as Op[];
    };
    const perRow = (name: string, bindings: [string, Slice][], body: string, call = false) => {
      const kernel = ctx.kernel({
        name: `adaptive.${name}`,
        bindings: bindings.map(([b]) => ({ name: b, access: "read_write" as const })),
        call,
        code: linearMain(batch, `  let b = i;\n${body}`),
      });
      return [{
        kernel,
        group: ctx.bind(kernel, bindings.map(([, s]) => s)),
        groups: linearGroups(batch, 64),
      }] as Op[];
    };
    const maxOf = (name: string, index: number) =>
      reductionOps(ctx, {
        name: `adaptive.${name}`,
        n: batch,
        inputs: [{ binding: { name: "rows", access: "read" }, slice: rows }],
        term: "fn term(e: u32) -> f32 { return rows[e]; }",
        combine: "max",
        out: ctl,
        index,
      });
    // Scaled norms as the CPU's initialStep takes them (scale from y0).
    const norm = (out: string, expr: string) => `
  var ${out} = 0.0;
  for (var e = 0u; e < ${u32(dim)}; e++) {
    let at = b * ${u32(dim)} + e;
    let r = (${expr}) / (${f32(c.atol)} + abs(y0[at]) * ${f32(c.rtol)});
    ${out} = ${rms ? `${out} + r * r` : `max(${out}, abs(r))`};
  }
  ${rms ? `${out} = sqrt(${out} / ${f32(dim)});` : ""}`;
    // The four call records of the interval [tA, tB], as calls.ts lays them out.
    const stages = tableau.c.map((ci, i) => ({ ci, i }));
    const records = `fn record(r: u32, t: f32, h: f32) {
  let o = r * ${u32(stride)};
  recs[o] = bitcast<u32>(t);
  recs[o + 1u] = bitcast<u32>(h);
  recs[o + 2u] = 0xffffffffu;
  recs[o + 3u] = 0u;
}
fn write_records(tA: f32, tB: f32) {
  let h = tB - tA;
  record(0u, tA, h);
  record(1u, tB, -h);
  record(2u, tA, 1.0);
  record(3u, tB, 1.0);
${stages.map(({ ci, i }) => `  recs[${4 + i}u] = bitcast<u32>(tA + ${f32(ci)} * h);`).join("\n")}
${
      stages.map(({ ci, i }) =>
        `  recs[${stride + 4 + i}u] = bitcast<u32>(tB + ${f32(ci)} * (-h));`
      )
        .join("\n")
    }
  recs[${2 * stride + 4}u] = bitcast<u32>(tA);
  recs[${3 * stride + 4}u] = bitcast<u32>(tB);
}
// first output index with ts[k] > x (>= x when inclusive)
fn first_after(x: f32, inclusive: bool) -> u32 {
  var lo = 0u;
  var hi = ${u32(T)};
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ts[mid] > x || (inclusive && ts[mid] == x)) { hi = mid; } else { lo = mid + 1u; }
  }
  return lo;
}
fn set_interval(tA: f32, tB: f32, first: bool) {
  ctl[${C.tA}] = tA;
  ctl[${C.tB}] = tB;
  write_records(tA, tB);
  ctl[${C.k0}] = f32(first_after(tA, first));
  ctl[${C.k1}] = f32(first_after(tB, false));
}`;
    const recs = this.#records;
    const bwdK = scheme.backward.kRegion;
    const bError = tableau.bError!;
    const errTerms = bError.map((w, j) =>
      w === 0 ? "" : ` + ${f32(w)} * k[${u32(scheme.backward.kOffsets[j])} + at]`
    ).join("");
    const fA = fieldA.kRegion, fB = fieldB.kRegion;
    const beta1 = (c.pcoeff + c.icoeff + c.dcoeff) / k;
    const beta2 = -(c.pcoeff + 2 * c.dcoeff) / k;
    const beta3 = c.dcoeff / k;
    const inv = "fn inv(x: f32) -> f32 { return 1.0 / max(x, 1e-30); }";
    // what the kernels that select a step to walk (back) bind
    const walk: [string, Slice][] = [
      ["ctl", ctl],
      ["ts", ts],
      ["recs", recs],
      ["times", times],
      ["gstep", stepTable],
      ["gout", outTable],
    ];
    return {
      start: one(
        "start",
        [["ctl", ctl], ["times", times]],
        `  ctl[${C.t}] = ${f32(t0)};
  ctl[${C.h}] = ${f32(this.setup.dt0 ?? 0)};
  ctl[${C.err1}] = 1.0;
  ctl[${C.err2}] = 1.0;
  ctl[${C.accepted}] = 0.0;
  ctl[${C.rejected}] = 0.0;
  ctl[${C.status}] = 0.0;
  ctl[${C.active}] = 0.0;
  times[0] = ${f32(t0)};`,
      ),
      // Hairer's h0 = 0.01 d0 / d1 per trajectory; the batch takes the smallest
      initialH0: [
        ...perRow(
          "initial.h0",
          [["y0", y0], ["f", fA], ["rows", rows]],
          `${norm("d0", "y0[at]")}
${norm("d1", "f[at]")}
  var h0 = 1e-6;
  if (!(d0 < 1e-5 || d1 < 1e-5)) { h0 = 0.01 * d0 / d1; }
  rows[b] = 1.0 / h0;`,
        ),
        ...maxOf("initial.h0.max", C.scratch),
      ],
      // y1 = y0 + h0 f(t0, y0), and the record of f(t0 + h0, ·)
      initialY1: (() => {
        const kernel = ctx.kernel({
          name: "adaptive.initial.y1",
          bindings: ["ctl", "y0", "f", "y1", "recs"].map((name) => ({
            name,
            access: "read_write" as const,
            type: name === "recs" ? "array<u32>" : undefined,
          })),
          code: linearMain(
            n,
            `  let h0 = 1.0 / ctl[${C.scratch}];
  y1[i] = y0[i] + h0 * f[i];
  if (i == 0u) {
    let o = ${u32(3 * stride)};
    recs[o] = bitcast<u32>(${f32(t0)} + h0);
    recs[o + 1u] = bitcast<u32>(1.0);
    recs[o + 2u] = 0xffffffffu;
    recs[o + 4u] = bitcast<u32>(${f32(t0)} + h0);
  }`,
          ),
        });
        return [{
          kernel,
          group: ctx.bind(kernel, [ctl, y0, fA, this.yA, recs]),
          groups: linearGroups(n, 64),
        }];
      })(),
      initialH1: [
        ...perRow(
          "initial.h1",
          [["ctl", ctl], ["y0", y0], ["fa", fA], ["fb", fB], ["rows", rows]],
          `  let h0 = 1.0 / ctl[${C.scratch}];
${norm("d1", "fa[at]")}
${norm("d2h", "fb[at] - fa[at]")}
  let d2 = d2h / h0;
  let maxD = max(d1, d2);
  var h1 = pow(0.01 / maxD, ${f32(1 / (errorOrder + 1))});
  if (maxD <= 1e-15) { h1 = max(1e-6, h0 * 1e-3); }
  rows[b] = 1.0 / min(100.0 * h0, h1);`,
        ),
        ...maxOf("initial.h1.max", C.scratch),
        ...one(
          "initial.h",
          [["ctl", ctl]],
          `  let h = 1.0 / ctl[${C.scratch}];
  ctl[${C.h}] = select(1e-6, h, ${isFinite("h")} && h > 0.0);`,
        ),
      ],
      // the gates: the trial runs while the solve does; its outputs wait for `decide`
      prepare: one(
        "prepare",
        [["ctl", ctl], ["ts", ts], ["recs", recs], ["gstep", stepTable], ["gout", outTable]],
        `  ctl[${C.active}] = 0.0;
  set_output_gate(false);
  if (ctl[${C.status}] != 0.0) {
    set_step_gate(false);
    return;
  }
  set_step_gate(true);
  let t = ctl[${C.t}];
  // never below the resolution of t (as the CPU's adaptiveSolve), or t + h rounds to t
  let h = max(clamp(ctl[${C.h}], ${f32(c.dtmin)}, ${f32(dtmax)}), ${f32(tiny)});
  var tB = t + h;
  if (t + h >= ${f32(t1)}) { tB = ${f32(t1)}; }
  ctl[${C.hUsed}] = tB - t;
  set_interval(t, tB, ctl[${C.accepted}] == 0.0);`,
        `${records}\n${gates}`,
      ),
      save: (() => {
        const kernel = ctx.kernel({
          name: "adaptive.save",
          bindings: ["state", "backup"].map((name) => ({ name, access: "read_write" as const })),
          code: linearMain(span, "  backup[i] = state[i];"),
        });
        return [{
          kernel,
          group: ctx.bind(kernel, [scheme.state, this.backup]),
          groups: linearGroups(span, 64),
        }];
      })(),
      // the scaled error of every trajectory (numerics.md §4: the embedded
      // estimate of the second sub-step), then the worst of them
      error: [
        ...perRow(
          "error",
          [["k", bwdK], ["old", this.yA], ["y", scheme.y], ["rows", rows]],
          `  var acc = 0.0;
  var bad = false;
  for (var e = 0u; e < ${u32(dim)}; e++) {
    let at = b * ${u32(dim)} + e;
    let err = call.h * (0.0${errTerms});
    let scale = ${f32(c.atol)} + ${f32(c.rtol)} * max(abs(old[at]), abs(y[at]));
    let r = err / scale;
    if (!(${isFinite("r")}) || !(${isFinite("y[at]")})) { bad = true; }
    acc = ${rms ? "acc + r * r" : "max(acc, abs(r))"};
  }
  var v = ${rms ? `sqrt(acc / ${f32(dim)})` : "acc"};
  if (bad || !(${isFinite("v")})) { v = ${f32(BIG)}; }
  rows[b] = v;`,
          true,
        ),
        ...maxOf("error.max", C.err),
      ],
      // accept or reject; the PID update of controller.ts's nextStep in f32
      decide: one(
        "decide",
        [["ctl", ctl], ["times", times], ["gout", outTable]],
        `  if (ctl[${C.status}] != 0.0) { return; }
  let err = ctl[${C.err}];
  let finite = err < ${f32(BIG)};
  let hUsed = ctl[${C.hUsed}];
  let tB = ctl[${C.tB}];
  var status = 0.0;
  if (finite && err <= 1.0) {
    let accepted = ctl[${C.accepted}] + 1.0;
    ctl[${C.accepted}] = accepted;
    times[u32(accepted)] = tB;
    ctl[${C.t}] = tB;
    var factor = ${f32(c.safety)} * pow(inv(err), ${f32(beta1)});
    factor *= pow(inv(ctl[${C.err1}]), ${f32(beta2)}) * pow(inv(ctl[${C.err2}]), ${f32(beta3)});
    ctl[${C.h}] = hUsed * min(${f32(c.factormax)}, max(1.0, factor));
    ctl[${C.err2}] = ctl[${C.err1}];
    ctl[${C.err1}] = err;
    ctl[${C.active}] = 1.0;
    if (tB >= ${f32(t1)}) { status = 1.0; }
  } else {
    ctl[${C.rejected}] += 1.0;
    var next = hUsed * ${f32(c.factormin)};
    if (finite) {
      let factor = ${f32(c.safety)} * pow(inv(err), ${f32(c.icoeff / k)});
      next = hUsed * min(${f32(c.factormax)}, max(${f32(c.factormin)}, factor));
    }
    if (hUsed <= ${f32(c.dtmin)} || next < ${f32(tiny)}) { status = select(4.0, 3.0, finite); }
    ctl[${C.h}] = next;
  }
  let trials = ctl[${C.accepted}] + ctl[${C.rejected}];
  if (status == 0.0 && trials >= ${f32(c.maxSteps)}) { status = 2.0; }
  if (status != 0.0) { ctl[${C.most}] = max(ctl[${C.most}], trials); }
  ctl[${C.status}] = status;
  set_output_gate(ctl[${C.active}] == 1.0 && ctl[${C.k1}] > ctl[${C.k0}]);`,
        `${inv}\n${outputSetter}`,
      ),
      commit: (() => {
        const kernel = ctx.kernel({
          name: "adaptive.commit",
          bindings: ["ctl", "state", "backup"].map((name) => ({
            name,
            access: "read_write" as const,
          })),
          code: linearMain(
            span,
            `  if (ctl[${C.active}] != 1.0) { state[i] = backup[i]; }`,
          ),
        });
        return [{
          kernel,
          group: ctx.bind(kernel, [ctl, scheme.state, this.backup]),
          groups: linearGroups(span, 64),
        }];
      })(),
      backStart: one(
        "back.start",
        [["ctl", ctl]],
        `  ctl[${C.cursor}] = ctl[${C.accepted}];`,
      ),
      backPrepare: one(
        "back.prepare",
        walk,
        `  ctl[${C.active}] = 0.0;
  let cursor = ctl[${C.cursor}];
  if (cursor < 1.0) {
    set_step_gate(false);
    set_output_gate(false);
    return;
  }
  let m = u32(cursor) - 1u;
  ctl[${C.cursor}] = f32(m);
  ctl[${C.active}] = 1.0;
  set_interval(times[m], times[m + 1u], m == 0u);
  set_step_gate(true);
  set_output_gate(ctl[${C.k1}] > ctl[${C.k0}]);`,
        `${records}\n${gates}`,
      ),
      ...Object.fromEntries([false, true].map((back) => [
        back ? "indexBack" : "indexForward",
        one(
          back ? "index.back" : "index.forward",
          walk,
          `  let m = call.slot;
  ctl[${C.cursor}] = f32(m);
  ctl[${C.active}] = 0.0;
  if (f32(m) >= ctl[${C.accepted}]) {
    set_step_gate(false);
    set_output_gate(false);
    return;
  }
  ctl[${C.active}] = 1.0;
  set_interval(times[m], times[m + 1u], m == 0u);
  set_step_gate(true);
  set_output_gate(${back ? `ctl[${C.k1}] > ctl[${C.k0}]` : "false"});`,
          `${records}\n${gates}`,
          true,
        ),
      ])),
    };
  }
}

/**
 * The outcome of a GPU adaptive solve, read back.
 *
 * @example
 * ```ts
 * import type { GpuAdaptiveRun } from "./adaptive.ts";
 * import assert from "node:assert/strict";
 *
 * const run: GpuAdaptiveRun = {
 *   status: "success", accepted: 2, rejected: 0, tEnd: 1, times: Float64Array.of(0, 0.5, 1),
 *   mostTrials: 2,
 * };
 * assert.equal(run.times.length, run.accepted + 1);
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
