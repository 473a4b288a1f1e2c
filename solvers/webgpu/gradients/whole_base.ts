/**
 * What the whole-solve kernels share (whole.ts: the reversible gradient;
 * whole_checkpointed.ts: binomial checkpointing; whole_direct.ts: direct
 * backpropagation): the step table — grid
 * times, saved-output slots, the tableau and the layer sizes, read from
 * memory so that compilers neither unroll the loops nor inline the network
 * at every stage (see field_code.ts) — the per-row parameter gradients
 * `g[p·rows + row]` and their reduction in a fixed order, the WGSL header
 * of every whole-solve kernel (with whole_step.ts's increment and step,
 * their VJPs and the output cotangents), and the
 * forward kernel: one invocation runs a trajectory's whole solve, saving
 * its outputs (and, for checkpointing, its state at chosen grid points; for
 * direct backpropagation, every stage input).
 *
 * @module
 */

import { ACTIVATION_HELPERS } from "../fields/activations.ts";
import type { BindingSpec, Slice } from "../runtime/context.ts";
import { fieldCode, layerSizes } from "../fields/field_code.ts";
import type { Op } from "../runtime/recorder.ts";
import { f32, linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";
import type { GpuGradientRun, GpuStateProblem } from "./problem.ts";
import { INCREMENT_CODE, STEP_CODE, STEP_VJP_CODE } from "./whole_step.ts";

/**
 * Per-row copies of the state `(y, z)` that the forward kernel writes at
 * chosen grid points: `slots[(k · rows + row) · 2·DIM + e]` for slot `k`.
 *
 * @example
 * ```ts
 * import { snapshotBytes, wholeBase, type WholeSnapshots } from "./whole_base.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 4 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 4, saveAt: { t0: true, steps: true }, solveKernel: "whole",
 *   });
 *   const p = solver.problem, ctx = solver.ctx, rec = new Recorder(ctx);
 *   // The states at t_3 (slot 0) and t_1 (slot 1), one row of (y, z) each
 *   const snapshots: WholeSnapshots = {
 *     slots: ctx.buffer("snapshots", snapshotBytes(2, 1, 1) / 4),
 *     at: [-1, 1, -1, 0, -1],
 *   };
 *   rec.run(wholeBase(p, solver.times, { snapshots }).forward, null);
 *   rec.submit();
 *   const [y3, z3, y1, z1] = await ctx.read(snapshots.slots);
 *   for (const y of [y3, z3]) assert.ok(Math.abs(y - Math.exp(-0.75)) < 1e-3);
 *   for (const y of [y1, z1]) assert.ok(Math.abs(y - Math.exp(-0.25)) < 1e-3);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface WholeSnapshots {
  /** The buffer of the slots. */
  readonly slots: Slice;
  /** Per grid point `n = 0 … N`: the slot its state is written to, or −1. */
  readonly at: readonly number[];
}

/**
 * Bytes of `count` per-row copies of the state `(y, z)` ({@link WholeSnapshots}).
 *
 * @param count Copies per row.
 * @param rows Trajectories.
 * @param dim State dimension.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { snapshotBytes } from "./whole_base.ts";
 * import assert from "node:assert/strict";
 * assert.equal(snapshotBytes(44, 1, 2), 704);
 * ```
 */
export function snapshotBytes(count: number, rows: number, dim: number): number {
  return 4 * count * rows * 2 * dim;
}

/**
 * What the forward kernel keeps besides the outputs and the final state.
 *
 * @example
 * ```ts
 * import { wholeBase, type WholeKeep } from "./whole_base.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 4 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 4, saveAt: { t0: true, steps: true }, solveKernel: "whole",
 *   });
 *   const p = solver.problem, ctx = solver.ctx, rec = new Recorder(ctx);
 *   // Keep the initial state (y, z) = (y0, y0) besides the outputs.
 *   const keep: WholeKeep = { snapshots: { slots: ctx.buffer("start", 2), at: [0, -1, -1, -1, -1] } };
 *   rec.run(wholeBase(p, solver.times, keep).forward, null);
 *   rec.submit();
 *   assert.deepEqual([...await ctx.read(keep.snapshots!.slots)], [1, 1]);
 *   const ys = await solver.readYs();
 *   ys.forEach((y, n) => assert.ok(Math.abs(y - Math.exp(-n / 4)) < 1e-4));
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface WholeKeep {
  /** The state at chosen grid points (checkpointing). */
  readonly snapshots?: WholeSnapshots;
  /**
   * Both increments' stage inputs of every step (direct backpropagation):
   * `Y_i` of `inputs[k]` at step `n` (`k = 0`: `Ψ_{−h}`, `k = 1`: `Ψ_h`, as
   * `step_vjp` takes them) at `tape[tape_at(n, k, i, e, row)]`.
   */
  readonly tape?: Slice;
}

/**
 * The shared parts of a whole-solve gradient method.
 *
 * @example
 * ```ts
 * import { wholeBase, type WholeBase } from "./whole_base.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 4 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 4, saveAt: { t0: true, steps: true }, solveKernel: "whole",
 *   });
 *   const p = solver.problem, ctx = solver.ctx, rec = new Recorder(ctx);
 *   const base: WholeBase = wholeBase(p, solver.times);
 *   assert.equal(base.forward.length, 1); // the whole forward solve in one dispatch
 *   assert.equal(base.g.length, solver.mlp.paramCount * solver.batch); // [P, rows]
 *   assert.ok(base.backwardHeader.includes("fn step_vjp"));
 *   rec.run(base.forward, null);
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   ys.forEach((y, n) => assert.ok(Math.abs(y - Math.exp(-n / 4)) < 1e-4));
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface WholeBase {
  /**
   * WGSL every backward kernel starts with: the network (`field`,
   * `field_vjp`), the constants and table accessors, `increment`,
   * `increment_vjp`, `step_vjp`, `add_cotangent`, and `cotangents_at_end`,
   * `back_through` and `write_bar`, which a backward kernel starts, steps
   * and ends with; it uses the bindings `p`, `steps`, `g`, `outputs` and `bar`.
   */
  readonly backwardHeader: string;
  /** The step table. */
  readonly stepTable: Slice;
  /** The per-row parameter gradients, `[P, rows]`. */
  readonly g: Slice;
  /** The forward solve: one dispatch. */
  readonly forward: Op[];
  /** After a backward kernel: `g` summed over the rows into `∂L/∂θ` (two or more dispatches). */
  readonly finish: Op[];
}

/**
 * Builds the step table, the per-row gradients, the forward kernel and the
 * reductions of a whole-solve method.
 *
 * @param problem The solve (fixed steps; a fused network).
 * @param times The grid `t_0 … t_N` (float64), as the per-step form's call records take it.
 * @param keep What the forward kernel also stores: states, stage inputs (default nothing).
 * @returns The parts.
 * @throws {RangeError} When the network is not fused.
 *
 * @example
 * ```ts
 * import { wholeBase } from "./whole_base.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 4 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 4, saveAt: { t0: true, steps: true }, solveKernel: "whole",
 *   });
 *   const p = solver.problem, ctx = solver.ctx, rec = new Recorder(ctx);
 *   rec.run(wholeBase(p, solver.times).forward, null);
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   ys.forEach((y, n) => assert.ok(Math.abs(y - Math.exp(-n / 4)) < 1e-4));
 *   // The per-step form's layered network has no whole-solve kernels.
 *   const layered = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 4, saveAt: { t0: true, steps: true }, solveKernel: "steps", kernels: "layered",
 *   });
 *   assert.throws(() => wholeBase(layered.problem, layered.times), RangeError);
 *   layered.destroy();
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export function wholeBase(
  problem: GpuStateProblem,
  times: ArrayLike<number>,
  keep: WholeKeep = {},
): WholeBase {
  const { ctx, mlp, partials, paramsBar } = problem;
  if (!mlp.fused) {
    throw new RangeError(
      "Invalid solveKernel: the whole-solve kernels need a network that fits one invocation " +
        '(kernels "fused", widths up to 32).',
    );
  }
  const steps = times.length - 1;
  const snaps = keep.snapshots?.at ?? [];
  if (keep.snapshots !== undefined && snaps.length !== steps + 1) {
    throw new RangeError(
      `Invalid snapshots: got ${snaps.length} grid points; expected ${steps + 1}.`,
    );
  }
  const table = stepTable(problem, times, snaps);
  const [stepSlice] = ctx.arena("whole.steps", [table.values.length]);
  ctx.write(stepSlice, table.values);
  const [g] = ctx.arena("whole.grads", [mlp.batch * mlp.paramCount]);
  const header = headerCode(problem, table, keep);
  return {
    backwardHeader: backwardHeaderCode(problem, header),
    stepTable: stepSlice,
    g,
    forward: forwardKernel(problem, header, keep, stepSlice, g),
    finish: [...chunkKernel(problem, g), ...mlp.reduceOps(partials, paramsBar)],
  };
}

/** The step table's values and where its parts start. */
interface StepTable {
  /** The values, as the kernels read them (`steps`). */
  readonly values: Float64Array;
  /** Steps. */
  readonly steps: number;
  /** Values per step. */
  readonly stride: number;
  /** Where the constants start (after the slot of t_0 and the steps). */
  readonly constants: number;
  /** Where the snapshot slots start. */
  readonly snapshots: number;
}

/**
 * `[slot_0]`; per step: t, h, its stage times, t_{n+1}, −h, its stage
 * times, slot_{n+1}; then the constants the loops run to — stages, halves
 * (2), a_ij, b_i, live_i, the layer sizes — and, with snapshots, the slot
 * of every grid point.
 */
function stepTable(
  problem: GpuStateProblem,
  times: ArrayLike<number>,
  snaps: readonly number[],
): StepTable {
  const { mlp, scheme, calls } = problem;
  const { tableau, live } = scheme;
  const steps = times.length - 1;
  const S = tableau.stages;
  const R = 2 * (2 + S) + 1;
  const constants = [
    S,
    2,
    ...tableau.aDense,
    ...tableau.b,
    ...live.map((l) => (l ? 1 : 0)),
    ...layerSizes(mlp.mlp),
  ];
  const K = 1 + steps * R;
  const table = new Float64Array(K + constants.length + snaps.length);
  table[0] = calls.slot(0);
  for (let n = 0; n < steps; n++) {
    const t = times[n], tNext = times[n + 1], h = tNext - t;
    const o = 1 + n * R;
    table[o] = t;
    table[o + 1] = h;
    tableau.c.forEach((c, i) => (table[o + 2 + i] = t + c * h));
    table[o + 2 + S] = tNext;
    table[o + 3 + S] = -h;
    tableau.c.forEach((c, i) => (table[o + 4 + S + i] = tNext + c * -h));
    table[o + R - 1] = calls.slot(n + 1);
  }
  table.set(constants, K);
  table.set(snaps, K + constants.length);
  return { values: table, steps, stride: R, constants: K, snapshots: K + constants.length };
}

/**
 * WGSL every whole-solve kernel starts with: the network, the constants,
 * the step table's accessors, one increment and one step.
 */
function headerCode(problem: GpuStateProblem, table: StepTable, keep: WholeKeep): string {
  const { mlp, scheme } = problem;
  const batch = mlp.batch, dim = mlp.mlp.dim;
  const S = scheme.tableau.stages;
  const K = table.constants;
  const at = (k: number) => `steps[${u32(K + k)}]`;
  return `${ACTIVATION_HELPERS}
${fieldCode(mlp.mlp, batch)}
const S = ${u32(S)};
const LAM = ${f32(scheme.coupling)};
const OML = ${f32(1 - scheme.coupling)};
const R = ${u32(table.stride)};
const N_STEPS = ${u32(table.steps)};
const ZOFF = ${u32((scheme.z.offset - scheme.y.offset) / 4)};
const ROW = ${u32(batch * dim)};
const ROWS = ${u32(batch)};
fn stages() -> u32 { return u32(${at(0)}); }
fn halves() -> u32 { return u32(${at(1)}); }
fn coef_a(i: u32, j: u32) -> f32 { return steps[${u32(K + 2)} + i * S + j]; }
fn coef_b(i: u32) -> f32 { return steps[${u32(K + 2 + S * S)} + i]; }
fn is_live(i: u32) -> bool { return steps[${u32(K + 2 + S * S + S)} + i] != 0.0; }
fn width(k: u32) -> u32 { return u32(steps[${u32(K + 2 + S * S + 2 * S)} + k]); }
${
    keep.snapshots !== undefined
      ? `fn snap_at(n: u32) -> i32 { return i32(steps[${u32(table.snapshots)} + n]); }
// the first value of checkpoint k's copy of row b's (y, z)
fn checkpoint_at(k: u32, b: u32) -> u32 { return (k * ROWS + b) * 2u * DIM; }\n`
      : ""
  }${
    keep.tape
      ? `fn tape_at(n: u32, k: u32, i: u32, e: u32, b: u32) -> u32 { return (((n * 2u + k) * S + i) * DIM + e) * ROWS + b; }\n`
      : ""
  }fn slot_at(n: u32) -> i32 {
  if (n == 0u) { return i32(steps[0]); }
  return i32(steps[1u + (n - 1u) * R + R - 1u]);
}
${INCREMENT_CODE}
${STEP_CODE}`;
}

/**
 * The forward kernel: one invocation runs a trajectory's whole solve,
 * saving its outputs and what `keep` asks for, and leaves `(y_N, z_N)` in
 * the scheme's state.
 */
function forwardKernel(
  problem: GpuStateProblem,
  header: string,
  keep: WholeKeep,
  stepSlice: Slice,
  g: Slice,
): Op[] {
  const { ctx, mlp, scheme, outputs, y0, params } = problem;
  const { snapshots, tape } = keep;
  const stored = snapshots !== undefined;
  const kernel = ctx.kernel({
    name: `whole.forward${stored ? ".snapshots" : ""}${tape ? ".tape" : ""}`,
    // g: field_vjp's gradients, bound but never written by this kernel
    bindings: bindingsOf(
      [
        "p",
        "steps",
        "y0",
        "state",
        "ys",
        "g",
        ...(stored ? ["slots"] : []),
        ...(tape ? ["tape"] : []),
      ],
      ["state", "ys", "g", "slots", "tape"],
    ),
    header: `${header}
fn save(n: u32, b: u32, y: array<f32, DIM>, z: array<f32, DIM>) {
  var yv = y;
  let slot = slot_at(n);
  if (slot >= 0) {
    for (var e = 0u; e < DIM; e++) { ys[u32(slot) * ROW + b * DIM + e] = yv[e]; }
  }${
      stored
        ? `
  var zv = z;
  let k = snap_at(n);
  if (k >= 0) {
    let at = checkpoint_at(u32(k), b);
    for (var e = 0u; e < DIM; e++) { slots[at + e] = yv[e]; slots[at + DIM + e] = zv[e]; }
  }`
        : ""
    }
}`,
    code: linearMain(
      mlp.batch,
      `  let b = i;
  var y: array<f32, DIM>;
  var z: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) { y[e] = y0[b * DIM + e]; z[e] = y[e]; }
  save(0u, b, y, z);
  for (var n = 0u; n < N_STEPS; n++) {
    let s = step_kept(n, y, z);
    y = s.y;
    z = s.z;${
        tape
          ? `
    for (var k = 0u; k < 2u; k++) {
      for (var st = 0u; st < stages(); st++) {
        for (var e = 0u; e < DIM; e++) { tape[tape_at(n, k, st, e, b)] = s.inputs[k][st][e]; }
      }
    }`
          : ""
      }
    save(n + 1u, b, y, z);
  }
  for (var e = 0u; e < DIM; e++) {
    state[b * DIM + e] = y[e];
    state[ZOFF + b * DIM + e] = z[e];
  }`,
    ),
  });
  const slices = [params, stepSlice, y0, scheme.state, outputs.ys, g];
  if (snapshots) slices.push(snapshots.slots);
  if (tape) slices.push(tape);
  return [{ kernel, group: ctx.bind(kernel, slices), groups: linearGroups(mlp.batch, 64) }];
}

/** Σ over each chunk's rows of the per-row gradients, in row order. */
function chunkKernel(problem: GpuStateProblem, g: Slice): Op[] {
  const { ctx, mlp, partials } = problem;
  const P = mlp.paramCount, batch = mlp.batch;
  const R = mlp.chunks.rows;
  const kernel = ctx.kernel({
    name: "whole.chunks",
    bindings: [{ name: "g", access: "read" }, { name: "partials", access: "read_write" }],
    code: linearMain(
      mlp.chunks.chunks * P,
      `  let c = i / ${u32(P)};
  let q = i % ${u32(P)};
  let start = c * ${u32(R)};
  let end = min(start + ${u32(R)}, ${u32(batch)});
  var s = 0.0;
  for (var b = start; b < end; b++) { s += g[q * ${u32(batch)} + b]; }
  partials[i] = s;`,
    ),
  });
  return [{
    kernel,
    group: ctx.bind(kernel, [g, partials]),
    groups: linearGroups(mlp.chunks.chunks * P, 64),
  }];
}

/** {@link WholeBase.backwardHeader}: the shared header, the step's VJP and the output cotangents. */
function backwardHeaderCode(problem: GpuStateProblem, header: string): string {
  const { scheme, outputs } = problem;
  return `${header}
${STEP_VJP_CODE}
${outputs.cotangentCode("outputs")}
fn add_cotangent(slot: i32, b: u32, yb: array<f32, DIM>) -> array<f32, DIM> {
  var sum = yb;
  if (slot < 0) { return sum; }
  for (var e = 0u; e < DIM; e++) { sum[e] += cotangent(u32(slot), b * DIM + e); }
  return sum;
}
const BAR_Z = ${u32((scheme.zBar.offset - scheme.yBar.offset) / 4)};
// (ȳ_N, z̄_N): the last output's cotangent
fn cotangents_at_end(b: u32) -> Cotangents {
  var c: Cotangents;
  c.yb = add_cotangent(slot_at(N_STEPS), b, c.yb);
  return c;
}
// through step n, given both increments' stage inputs; then output n's cotangent (n > 0)
fn back_through(n: u32, inputs: array<array<array<f32, DIM>, S>, 2>, c: Cotangents, b: u32) -> Cotangents {
  var r = step_vjp(n, inputs, c.yb, c.zb, b);
  if (n > 0u) { r.yb = add_cotangent(slot_at(n), b, r.yb); }
  return r;
}
// output 0's cotangent, then (ȳ_0, z̄_0) into bar
fn write_bar(b: u32, c: Cotangents) {
  var yb = add_cotangent(slot_at(0u), b, c.yb);
  var zb = c.zb;
  for (var e = 0u; e < DIM; e++) {
    bar[b * DIM + e] = yb[e];
    bar[BAR_Z + b * DIM + e] = zb[e];
  }
}`;
}

/**
 * A whole-solve gradient method from its parts and its backward kernel's
 * dispatch: forward is the forward kernel; backward clears the per-row
 * gradients, runs the backward kernel, reduces the gradients and, when
 * asked, writes `∂L/∂y0 = ȳ_0 + z̄_0`.
 *
 * @param problem The solve.
 * @param base The shared parts.
 * @param name The method's name.
 * @param bytes Bytes the method holds.
 * @param backward The backward kernel's dispatch.
 * @returns The method.
 *
 * @example
 * ```ts
 * import { wholeBase, wholeRun } from "./whole_base.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 4 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 4, saveAt: { t0: true, steps: true }, solveKernel: "whole",
 *   });
 *   const p = solver.problem, ctx = solver.ctx, rec = new Recorder(ctx);
 *   // A method with no backward kernel: the forward solve, and a zero gradient.
 *   const run = wholeRun(p, wholeBase(p, solver.times), "forward only", 0, []);
 *   assert.equal(run.name, "forward only");
 *   assert.equal(run.bytes, 0);
 *   ctx.write(p.paramsBar, Float64Array.of(5, 5));
 *   run.forward(rec);
 *   run.backward(rec);
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   ys.forEach((y, n) => assert.ok(Math.abs(y - Math.exp(-n / 4)) < 1e-4));
 *   assert.deepEqual([...await solver.readParamsBar()], [0, 0]); // g cleared, then reduced
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export function wholeRun(
  problem: GpuStateProblem,
  base: WholeBase,
  name: string,
  bytes: number,
  backward: Op[],
): GpuGradientRun {
  return {
    name,
    bytes,
    forward(rec) {
      rec.run(base.forward, null);
    },
    backward(rec, withY0 = false) {
      rec.clear(base.g);
      rec.run(backward, null);
      rec.run(base.finish, null);
      if (withY0) rec.run(problem.scheme.initVjpOps(problem.y0Bar), null);
    },
  };
}

/**
 * Storage bindings by name, the ones in `written` read-write, the others read-only.
 *
 * @param names The bindings, in order.
 * @param written Those the kernel writes.
 * @returns The specs.
 *
 * @example
 * ```ts
 * import { bindingsOf } from "./whole_base.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(bindingsOf(["a", "b"], ["b"]).map((s) => s.access), ["read", "read_write"]);
 * ```
 */
export function bindingsOf(names: string[], written: string[]): BindingSpec[] {
  return names.map((name) => ({ name, access: written.includes(name) ? "read_write" : "read" }));
}
