/**
 * What the whole-solve kernels share (whole.ts: the reversible gradient;
 * whole_checkpointed.ts: binomial checkpointing; whole_direct.ts: direct
 * backpropagation): the step table — grid
 * times, saved-output slots, the tableau and the layer sizes, read from
 * memory so that compilers neither unroll the loops nor inline the network
 * at every stage (see field_code.ts) — the per-row parameter gradients
 * `g[p·rows + row]` and their reduction in a fixed order, the WGSL of one
 * increment, of one step's VJP and of the output cotangents, and the
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
import type { GpuGradientRun, GpuProblem } from "./problem.ts";

/**
 * Per-row copies of the state `(y, z)` that the forward kernel writes at
 * chosen grid points: `slots[(k · rows + row) · 2·DIM + e]` for slot `k`.
 *
 * @example
 * ```ts
 * import type { WholeSnapshots } from "./whole_base.ts";
 * import assert from "node:assert/strict";
 * const none = (steps: number): number[] => new Array(steps + 1).fill(-1);
 * assert.deepEqual(none(2), [-1, -1, -1]);
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
 * import type { WholeKeep } from "./whole_base.ts";
 * import assert from "node:assert/strict";
 * const nothing: WholeKeep = {};
 * assert.equal(nothing.tape, undefined);
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
 * import type { WholeBase } from "./whole_base.ts";
 * import assert from "node:assert/strict";
 * const dispatches = (b: WholeBase) => b.forward.length + b.finish.length;
 * assert.equal(typeof dispatches, "function"); // see wholeReversibleGradient
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
 * import assert from "node:assert/strict";
 * assert.equal(wholeBase.length, 2); // (and what to keep) see wholeReversibleGradient for a run
 * ```
 */
export function wholeBase(
  problem: GpuProblem,
  times: ArrayLike<number>,
  keep: WholeKeep = {},
): WholeBase {
  const { ctx, mlp, scheme, outputs, calls, y0, params, partials, paramsBar } = problem;
  if (!mlp.fused) {
    throw new RangeError(
      "Invalid solveKernel: the whole-solve kernels need a network that fits one invocation " +
        '(kernels "fused", widths up to 32).',
    );
  }
  const { tableau, live } = scheme;
  const steps = times.length - 1;
  const batch = mlp.batch, dim = mlp.mlp.dim, P = mlp.paramCount;
  const S = tableau.stages;
  const R = 2 * (2 + S) + 1;
  // [slot_0]; per step: t, h, its stage times, t_{n+1}, −h, its stage times, slot_{n+1};
  // then the constants the loops run to — stages, halves (2), a_ij, b_i, live_i,
  // the layer sizes — and, with snapshots, the slot of every grid point
  const constants = [
    S,
    2,
    ...tableau.aDense,
    ...tableau.b,
    ...live.map((l) => (l ? 1 : 0)),
    ...layerSizes(mlp.mlp),
  ];
  const K = 1 + steps * R;
  const { snapshots, tape } = keep;
  const snaps = snapshots?.at ?? [];
  if (snapshots !== undefined && snaps.length !== steps + 1) {
    throw new RangeError(
      `Invalid snapshots: got ${snaps.length} grid points; expected ${steps + 1}.`,
    );
  }
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
  const [stepTable] = ctx.arena("whole.steps", [table.length]);
  ctx.write(stepTable, table);
  const [g] = ctx.arena("whole.grads", [batch * P]);
  const at = (k: number) => `steps[${u32(K + k)}]`;
  const stored = snapshots !== undefined;
  const header = `${ACTIVATION_HELPERS}
${fieldCode(mlp.mlp, batch)}
const S = ${u32(S)};
const LAM = ${f32(scheme.coupling)};
const OML = ${f32(1 - scheme.coupling)};
const R = ${u32(R)};
const N_STEPS = ${u32(steps)};
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
    stored
      ? `fn snap_at(n: u32) -> i32 { return i32(steps[${u32(K + constants.length)} + n]); }
// the first value of checkpoint k's copy of row b's (y, z)
fn checkpoint_at(k: u32, b: u32) -> u32 { return (k * ROWS + b) * 2u * DIM; }\n`
      : ""
  }${
    tape
      ? `fn tape_at(n: u32, k: u32, i: u32, e: u32, b: u32) -> u32 { return (((n * 2u + k) * S + i) * DIM + e) * ROWS + b; }\n`
      : ""
  }fn slot_at(n: u32) -> i32 {
  if (n == 0u) { return i32(steps[0]); }
  return i32(steps[1u + (n - 1u) * R + R - 1u]);
}
${INCREMENT_CODE}
${STEP_CODE}`;
  const forwardKernel = ctx.kernel({
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
      batch,
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
  // Σ over each chunk's rows of the per-row gradients, in row order
  const R_ = mlp.chunks.rows;
  const chunkKernel = ctx.kernel({
    name: "whole.chunks",
    bindings: [{ name: "g", access: "read" }, { name: "partials", access: "read_write" }],
    code: linearMain(
      mlp.chunks.chunks * P,
      `  let c = i / ${u32(P)};
  let q = i % ${u32(P)};
  let start = c * ${u32(R_)};
  let end = min(start + ${u32(R_)}, ${u32(batch)});
  var s = 0.0;
  for (var b = start; b < end; b++) { s += g[q * ${u32(batch)} + b]; }
  partials[i] = s;`,
    ),
  });
  const forwardSlices = [params, stepTable, y0, scheme.state, outputs.ys, g];
  if (snapshots) forwardSlices.push(snapshots.slots);
  if (tape) forwardSlices.push(tape);
  return {
    backwardHeader: `${header}
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
}`,
    stepTable,
    g,
    forward: [{
      kernel: forwardKernel,
      group: ctx.bind(forwardKernel, forwardSlices),
      groups: linearGroups(batch, 64),
    }],
    finish: [
      {
        kernel: chunkKernel,
        group: ctx.bind(chunkKernel, [g, partials]),
        groups: linearGroups(mlp.chunks.chunks * P, 64),
      },
      ...mlp.reduceOps(partials, paramsBar),
    ],
  };
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
 * import { wholeRun } from "./whole_base.ts";
 * import assert from "node:assert/strict";
 * assert.equal(wholeRun.length, 5); // see wholeReversibleGradient
 * ```
 */
export function wholeRun(
  problem: GpuProblem,
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

/**
 * WGSL of step `n` of the reversible scheme from `(y_n, z_n)`, keeping both
 * increments' stage inputs as `step_vjp` takes them (`inputs[0]`: those of
 * `Ψ_{−h}(t_{n+1}, y_{n+1})`, `inputs[1]`: those of `Ψ_h(t_n, z_n)`):
 * half 0 is `y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)`, half 1
 * `z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})`.
 */
const STEP_CODE =
  `struct Kept { y: array<f32, DIM>, z: array<f32, DIM>, inputs: array<array<array<f32, DIM>, S>, 2> }
fn step_kept(n: u32, yIn: array<f32, DIM>, zIn: array<f32, DIM>) -> Kept {
  var out: Kept;
  out.y = yIn;
  out.z = zIn;
  for (var half = 0u; half < halves(); half++) {
    let q = 1u + n * R + half * (2u + S);
    var x = out.z;
    if (half == 1u) { x = out.y; }
    var f = increment(steps[q + 1u], q + 2u, x);
    out.inputs[1u - half] = f.y;
    if (half == 0u) {
      for (var e = 0u; e < DIM; e++) { out.y[e] = LAM * out.y[e] + OML * out.z[e] + f.psi[e]; }
    } else {
      for (var e = 0u; e < DIM; e++) { out.z[e] = out.z[e] - f.psi[e]; }
    }
  }
  return out;
}`;

/**
 * WGSL of the VJP of step `n` of the reversible scheme (numerics.md §2,
 * backward pass steps 3 and 4), given both increments' stage inputs
 * (`inputs[0]`: those of `Ψ_{−h}(t_{n+1}, y_{n+1})`, `inputs[1]`: those of
 * `Ψ_h(t_n, z_n)`): `(ȳ_{n+1}, z̄_{n+1}) → (ȳ_n, z̄_n)`, the parameter
 * gradients added to row `b`'s column of `g`.
 */
const STEP_VJP_CODE = `struct Cotangents { yb: array<f32, DIM>, zb: array<f32, DIM> }
fn step_vjp(n: u32, inputs: array<array<array<f32, DIM>, S>, 2>, ybIn: array<f32, DIM>, zbIn: array<f32, DIM>, b: u32) -> Cotangents {
  var yb = ybIn;
  var zb = zbIn;
  var kept = inputs;
  // half 0: through z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1}); half 1: through y_{n+1}
  for (var half = 0u; half < halves(); half++) {
    let q = 1u + n * R + (1u - half) * (2u + S);
    var u = yb;
    if (half == 0u) {
      for (var e = 0u; e < DIM; e++) { u[e] = -zb[e]; }
    }
    var a = increment_vjp(steps[q + 1u], q + 2u, kept[half], u, b);
    if (half == 0u) {
      for (var e = 0u; e < DIM; e++) { yb[e] += a[e]; }
    } else {
      for (var e = 0u; e < DIM; e++) {
        zb[e] += OML * yb[e] + a[e];
        yb[e] *= LAM;
      }
    }
  }
  return Cotangents(yb, zb);
}`;

/**
 * WGSL of one increment `Ψ_h(t, y)` and its VJP, for one trajectory, the
 * tableau read from memory (`stages()`, `coef_a`, `coef_b`, `is_live`):
 * `struct Stages { y: array<array<f32, DIM>, S>, psi: array<f32, DIM> }`
 * (the stage inputs `Y_i` and `Ψ`), `fn increment(h, st, y) -> Stages`
 * with the stage times at `steps[st + i]`, and
 * `fn increment_vjp(h, st, ys, u, row) -> array<f32, DIM>` (`Σ_i Ȳ_i` for
 * the cotangent `ū`, the parameter gradients added by `field_vjp`). Only
 * the live stages are evaluated; zero coefficients are skipped, so the sums
 * run as increment.ts's, term for term.
 */
const INCREMENT_CODE = `struct Stages { y: array<array<f32, DIM>, S>, psi: array<f32, DIM> }
fn increment(h: f32, st: u32, y: array<f32, DIM>) -> Stages {
  var yv = y;
  var out: Stages;
  var k: array<array<f32, DIM>, S>;
  for (var i = 0u; i < stages(); i++) {
    if (!is_live(i)) { continue; }
    var yi: array<f32, DIM>;
    for (var e = 0u; e < DIM; e++) {
      var v = yv[e];
      for (var j = 0u; j < i; j++) {
        let a = coef_a(i, j);
        if (a != 0.0) { v += (h * a) * k[j][e]; }
      }
      yi[e] = v;
    }
    out.y[i] = yi;
    k[i] = field(steps[st + i], yi);
  }
  for (var e = 0u; e < DIM; e++) {
    var sum = 0.0;
    for (var j = 0u; j < stages(); j++) {
      let bj = coef_b(j);
      if (bj != 0.0) { sum = sum + (h * bj) * k[j][e]; }
    }
    out.psi[e] = sum;
  }
  return out;
}
fn increment_vjp(h: f32, st: u32, ys: array<array<f32, DIM>, S>, u: array<f32, DIM>, row: u32) -> array<f32, DIM> {
  var yv = ys;
  var uv = u;
  var bars: array<array<f32, DIM>, S>;
  for (var m = 0u; m < stages(); m++) {
    let i = stages() - 1u - m;
    if (!is_live(i)) { continue; }
    var kb: array<f32, DIM>;
    for (var e = 0u; e < DIM; e++) {
      var v = 0.0;
      let bi = coef_b(i);
      if (bi != 0.0) { v = (h * bi) * uv[e]; }
      for (var l = i + 1u; l < stages(); l++) {
        let a = coef_a(l, i);
        if (a != 0.0 && is_live(l)) { v += (h * a) * bars[l][e]; }
      }
      kb[e] = v;
    }
    bars[i] = field_vjp(steps[st + i], yv[i], kb, row);
  }
  var out: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) {
    var sum = 0.0;
    for (var j = 0u; j < stages(); j++) {
      if (is_live(j)) { sum = sum + bars[j][e]; }
    }
    out[e] = sum;
  }
  return out;
}`;
