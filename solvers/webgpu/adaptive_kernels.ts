/**
 * GPU-only: the kernels of the adaptive controller (adaptive.ts), one
 * function per kernel, and what they share — the WGSL that writes an
 * interval's call records and opens the gates, and the scaled norms of
 * solvers/adaptive.ts's `initialStep` and of the error estimate
 * (numerics.md §4). Every kernel but the per-row ones runs in one
 * invocation: the step size is decided on the GPU. The state array they
 * write is laid out in adaptive_layout.ts.
 *
 * @module
 */

import type { CheckedTableau } from "../tableau.ts";
import {
  type AdaptiveKernelParts,
  type AdaptiveOps,
  CONTROL,
  type GpuAdaptiveSetup,
} from "./adaptive_layout.ts";
import type { Slice } from "./runtime/context.ts";
import type { Op } from "./runtime/recorder.ts";
import { reductionOps } from "./runtime/reduce.ts";
import { f32, isFinite, linearGroups, linearMain, u32 } from "./runtime/wgsl.ts";

/** A scaled error standing for "not finite" (the reductions take maxima of finite values). */
const BIG = 3.0e38;
/** Largest finite f32, standing for an infinite `dtmax`. */
const F32_MAX = 3.4028234663852886e38;

/**
 * Compiles the controller's kernels and binds them to its buffers.
 *
 * @param k The buffers and the solve.
 * @returns The dispatches.
 *
 * @example The start of a solve with a given first step
 * ```ts
 * import { adaptiveKernels } from "./adaptive_kernels.ts";
 * import { CONTROL, CONTROL_LENGTH, type GpuAdaptiveSetup } from "./adaptive_layout.ts";
 * import { GpuIncrement } from "./increment.ts";
 * import { GpuMlp } from "./fields/mlp.ts";
 * import { GpuReversibleScheme } from "./schemes/reversible.ts";
 * import { CallTable } from "./runtime/calls.ts";
 * import { GpuContext } from "./runtime/context.ts";
 * import { Gate } from "./runtime/gate.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { pid } from "../controller.ts";
 * import { checkTableau } from "../tableau.ts";
 * import { bosh3, euler } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new GpuMlp(ctx, new Mlp({ dim: 1, widths: [] }), 1); // f(y) = w y + b
 *   const params = ctx.upload("theta", Float64Array.of(-1, 0));
 *   const partials = ctx.buffer("partials", mlp.partialsLength);
 *   const tableau = checkTableau(bosh3);
 *   const field = () => new GpuIncrement(ctx, mlp, checkTableau(euler), params, partials);
 *   const options = { errorEstimate: true };
 *   const scheme = new GpuReversibleScheme(ctx, mlp, tableau, 0.999, params, partials, options);
 *   const setup: GpuAdaptiveSetup = {
 *     controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 8 }), tableau, t0: 0, t1: 1,
 *     dt0: 0.125, ts: Float64Array.of(1), batch: 1, dim: 1, scheme, fieldA: field(),
 *     fieldB: field(), y0: ctx.upload("y0", Float64Array.of(1)),
 *   };
 *   const stride = new CallTable(ctx, [{ t: 0 }]).stride / 4;
 *   const lengths = [CONTROL_LENGTH, 9, 1, 1, 4 * stride, scheme.state.length];
 *   const [control, times, ts, rows, records, backup] = ctx.arena("adaptive", lengths);
 *   const yA = { ...backup, length: 1 };
 *   const stepGate = new Gate(ctx, "step"), outputGate = new Gate(ctx, "output");
 *   const ops = adaptiveKernels({
 *     ctx, setup, control, times, ts, rows, records, stride, backup, yA, stepGate, outputGate,
 *   });
 *   const rec = new Recorder(ctx);
 *   rec.run(ops.start, null);
 *   rec.submit();
 *   const ctl = await ctx.read(control);
 *   assert.deepEqual([ctl[CONTROL.t], ctl[CONTROL.h], ctl[CONTROL.status]], [0, 0.125, 0]);
 *   ctx.destroy();
 * }
 * ```
 */
export function adaptiveKernels(k: AdaptiveKernelParts): AdaptiveOps {
  return {
    start: startKernel(k),
    initialH0: initialH0Kernel(k),
    initialY1: initialY1Kernel(k),
    initialH1: initialH1Kernel(k),
    prepare: prepareKernel(k),
    save: saveKernel(k),
    error: errorKernel(k),
    decide: decideKernel(k),
    commit: commitKernel(k),
    backStart: backStartKernel(k),
    backPrepare: backPrepareKernel(k),
    indexForward: indexKernel(k, false),
    indexBack: indexKernel(k, true),
  };
}

/** A one-invocation kernel over storage bindings; the call records and gate tables are raw u32 words. */
function single(
  k: AdaptiveKernelParts,
  name: string,
  bindings: [string, Slice][],
  body: string,
  header = "",
  call = false,
): Op[] {
  const ctx = k.ctx;
  // the call records are raw u32 words: floats by bitcast, and the slot 0xffffffff
  const typeOf = (b: string) => (["recs", "gstep", "gout"].includes(b) ? "array<u32>" : undefined);
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
  }];
}

/** A kernel with one invocation per trajectory `b`. */
function perRow(
  k: AdaptiveKernelParts,
  name: string,
  bindings: [string, Slice][],
  body: string,
  call = false,
): Op[] {
  const { ctx, setup: { batch } } = k;
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
  }];
}

/** A kernel with one invocation per value of `n`, over read-write storage bindings. */
function perValue(
  k: AdaptiveKernelParts,
  name: string,
  bindings: [string, Slice][],
  n: number,
  body: string,
  types: Record<string, string> = {},
): Op[] {
  const ctx = k.ctx;
  const kernel = ctx.kernel({
    name: `adaptive.${name}`,
    bindings: bindings.map(([b]) => ({
      name: b,
      access: "read_write" as const,
      type: types[b],
    })),
    code: linearMain(n, body),
  });
  return [{
    kernel,
    group: ctx.bind(kernel, bindings.map(([, s]) => s)),
    groups: linearGroups(n, 64),
  }];
}

/** The maximum of the per-row values into `ctl[index]`. */
function maxOf(k: AdaptiveKernelParts, name: string, index: number): Op[] {
  return reductionOps(k.ctx, {
    name: `adaptive.${name}`,
    n: k.setup.batch,
    inputs: [{ binding: { name: "rows", access: "read" }, slice: k.rows }],
    term: "fn term(e: u32) -> f32 { return rows[e]; }",
    combine: "max",
    out: k.control,
    index,
  });
}

/** Scaled norms as the CPU's initialStep takes them (scale from y0). */
function normCode(setup: GpuAdaptiveSetup, out: string, expr: string): string {
  const { controller: c, dim } = setup;
  const rms = c.norm === "rms";
  return `
  var ${out} = 0.0;
  for (var e = 0u; e < ${u32(dim)}; e++) {
    let at = b * ${u32(dim)} + e;
    let r = (${expr}) / (${f32(c.atol)} + abs(y0[at]) * ${f32(c.rtol)});
    ${out} = ${rms ? `${out} + r * r` : `max(${out}, abs(r))`};
  }
  ${rms ? `${out} = sqrt(${out} / ${f32(dim)});` : ""}`;
}

/** The order the error estimate's step-size exponent divides by, `errorOrder + 1`. */
function exponentOf(tableau: CheckedTableau): number {
  return (tableau.errorOrder ?? tableau.order - 1) + 1;
}

/** The smallest step: below it, `t + h` rounds to `t` in f32. */
function tinyOf(setup: GpuAdaptiveSetup): number {
  return 64 * 1.1920928955078125e-7 * Math.max(Math.abs(setup.t0), Math.abs(setup.t1));
}

/**
 * WGSL that writes the four call records of the interval `[tA, tB]`, as
 * calls.ts lays them out (`Ψ_h(t_A, ·)`, `Ψ_{−h}(t_B, ·)`, `f(t_A, ·)`,
 * `f(t_B, ·)`), and finds the interval's outputs.
 */
function recordsCode(k: AdaptiveKernelParts): string {
  const { stride, setup: { tableau } } = k;
  const C = CONTROL;
  const stages = tableau.c.map((ci, i) => ({ ci, i }));
  return `fn record(r: u32, t: f32, h: f32) {
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
    stages.map(({ ci, i }) => `  recs[${stride + 4 + i}u] = bitcast<u32>(tB + ${f32(ci)} * (-h));`)
      .join("\n")
  }
  recs[${2 * stride + 4}u] = bitcast<u32>(tA);
  recs[${3 * stride + 4}u] = bitcast<u32>(tB);
}
// first output index with ts[k] > x (>= x when inclusive)
fn first_after(x: f32, inclusive: bool) -> u32 {
  var lo = 0u;
  var hi = ${u32(k.setup.ts.length)};
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
}

/** WGSL of `set_step_gate` and `set_output_gate` (bindings `gstep`, `gout`). */
function gatesCode(k: AdaptiveKernelParts): string {
  return `${k.stepGate.setterCode("set_step_gate", "gstep")}\n${
    k.outputGate.setterCode("set_output_gate", "gout")
  }`;
}

function startKernel(k: AdaptiveKernelParts): Op[] {
  const C = CONTROL;
  const { t0, dt0 } = k.setup;
  return single(
    k,
    "start",
    [["ctl", k.control], ["times", k.times]],
    `  ctl[${C.t}] = ${f32(t0)};
  ctl[${C.h}] = ${f32(dt0 ?? 0)};
  ctl[${C.err1}] = 1.0;
  ctl[${C.err2}] = 1.0;
  ctl[${C.accepted}] = 0.0;
  ctl[${C.rejected}] = 0.0;
  ctl[${C.status}] = 0.0;
  ctl[${C.active}] = 0.0;
  times[0] = ${f32(t0)};`,
  );
}

/** Hairer's h0 = 0.01 d0 / d1 per trajectory; the batch takes the smallest. */
function initialH0Kernel(k: AdaptiveKernelParts): Op[] {
  const { setup } = k;
  return [
    ...perRow(
      k,
      "initial.h0",
      [["y0", setup.y0], ["f", setup.fieldA.kRegion], ["rows", k.rows]],
      `${normCode(setup, "d0", "y0[at]")}
${normCode(setup, "d1", "f[at]")}
  var h0 = 1e-6;
  if (!(d0 < 1e-5 || d1 < 1e-5)) { h0 = 0.01 * d0 / d1; }
  rows[b] = 1.0 / h0;`,
    ),
    ...maxOf(k, "initial.h0.max", CONTROL.scratch),
  ];
}

/** y1 = y0 + h0 f(t0, y0), and the record of f(t0 + h0, ·). */
function initialY1Kernel(k: AdaptiveKernelParts): Op[] {
  const { setup, stride } = k;
  const { batch, dim, t0 } = setup;
  return perValue(
    k,
    "initial.y1",
    [["ctl", k.control], ["y0", setup.y0], ["f", setup.fieldA.kRegion], ["y1", k.yA], [
      "recs",
      k.records,
    ]],
    batch * dim,
    `  let h0 = 1.0 / ctl[${CONTROL.scratch}];
  y1[i] = y0[i] + h0 * f[i];
  if (i == 0u) {
    let o = ${u32(3 * stride)};
    recs[o] = bitcast<u32>(${f32(t0)} + h0);
    recs[o + 1u] = bitcast<u32>(1.0);
    recs[o + 2u] = 0xffffffffu;
    recs[o + 4u] = bitcast<u32>(${f32(t0)} + h0);
  }`,
    { recs: "array<u32>" },
  );
}

/** The heuristic's h1 from the difference of the field at t0 and t0 + h0; at most 100 h0. */
function initialH1Kernel(k: AdaptiveKernelParts): Op[] {
  const { setup } = k;
  const C = CONTROL;
  return [
    ...perRow(
      k,
      "initial.h1",
      [["ctl", k.control], ["y0", setup.y0], ["fa", setup.fieldA.kRegion], [
        "fb",
        setup.fieldB.kRegion,
      ], ["rows", k.rows]],
      `  let h0 = 1.0 / ctl[${C.scratch}];
${normCode(setup, "d1", "fa[at]")}
${normCode(setup, "d2h", "fb[at] - fa[at]")}
  let d2 = d2h / h0;
  let maxD = max(d1, d2);
  var h1 = pow(0.01 / maxD, ${f32(1 / exponentOf(setup.tableau))});
  if (maxD <= 1e-15) { h1 = max(1e-6, h0 * 1e-3); }
  rows[b] = 1.0 / min(100.0 * h0, h1);`,
    ),
    ...maxOf(k, "initial.h1.max", C.scratch),
    ...single(
      k,
      "initial.h",
      [["ctl", k.control]],
      `  let h = 1.0 / ctl[${C.scratch}];
  ctl[${C.h}] = select(1e-6, h, ${isFinite("h")} && h > 0.0);`,
    ),
  ];
}

/** The gates: the trial runs while the solve does; its outputs wait for `decide`. */
function prepareKernel(k: AdaptiveKernelParts): Op[] {
  const { setup } = k;
  const { controller: c, t1 } = setup;
  const C = CONTROL;
  const dtmax = Math.min(c.dtmax, F32_MAX);
  return single(
    k,
    "prepare",
    [["ctl", k.control], ["ts", k.ts], ["recs", k.records], ["gstep", k.stepGate.table], [
      "gout",
      k.outputGate.table,
    ]],
    `  ctl[${C.active}] = 0.0;
  set_output_gate(false);
  if (ctl[${C.status}] != 0.0) {
    set_step_gate(false);
    return;
  }
  set_step_gate(true);
  let t = ctl[${C.t}];
  // never below the resolution of t (as the CPU's adaptiveSolve), or t + h rounds to t
  let h = max(clamp(ctl[${C.h}], ${f32(c.dtmin)}, ${f32(dtmax)}), ${f32(tinyOf(setup))});
  var tB = t + h;
  if (t + h >= ${f32(t1)}) { tB = ${f32(t1)}; }
  ctl[${C.hUsed}] = tB - t;
  set_interval(t, tB, ctl[${C.accepted}] == 0.0);`,
    `${recordsCode(k)}\n${gatesCode(k)}`,
  );
}

function saveKernel(k: AdaptiveKernelParts): Op[] {
  const { scheme } = k.setup;
  const span = scheme.state.length;
  return perValue(
    k,
    "save",
    [["state", scheme.state], ["backup", k.backup]],
    span,
    "  backup[i] = state[i];",
  );
}

/**
 * The scaled error of every trajectory (numerics.md §4: the embedded
 * estimate of the second sub-step), then the worst of them.
 */
function errorKernel(k: AdaptiveKernelParts): Op[] {
  const { controller: c, tableau, dim, scheme } = k.setup;
  const rms = c.norm === "rms";
  const errTerms = tableau.bError!.map((w, j) =>
    w === 0 ? "" : ` + ${f32(w)} * k[${u32(scheme.backward.kOffsets[j])} + at]`
  ).join("");
  return [
    ...perRow(
      k,
      "error",
      [["k", scheme.backward.kRegion], ["old", k.yA], ["y", scheme.y], ["rows", k.rows]],
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
    ...maxOf(k, "error.max", CONTROL.err),
  ];
}

/** Accept or reject; the PID update of controller.ts's nextStep in f32. */
function decideKernel(k: AdaptiveKernelParts): Op[] {
  const { setup } = k;
  const { controller: c, t1 } = setup;
  const C = CONTROL;
  const q = exponentOf(setup.tableau);
  const beta1 = (c.pcoeff + c.icoeff + c.dcoeff) / q;
  const beta2 = -(c.pcoeff + 2 * c.dcoeff) / q;
  const beta3 = c.dcoeff / q;
  const tiny = tinyOf(setup);
  const inv = "fn inv(x: f32) -> f32 { return 1.0 / max(x, 1e-30); }";
  return single(
    k,
    "decide",
    [["ctl", k.control], ["times", k.times], ["gout", k.outputGate.table]],
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
      let factor = ${f32(c.safety)} * pow(inv(err), ${f32(c.icoeff / q)});
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
    `${inv}\n${k.outputGate.setterCode("set_output_gate", "gout")}`,
  );
}

function commitKernel(k: AdaptiveKernelParts): Op[] {
  const { scheme } = k.setup;
  return perValue(
    k,
    "commit",
    [["ctl", k.control], ["state", scheme.state], ["backup", k.backup]],
    scheme.state.length,
    `  if (ctl[${CONTROL.active}] != 1.0) { state[i] = backup[i]; }`,
  );
}

function backStartKernel(k: AdaptiveKernelParts): Op[] {
  return single(
    k,
    "back.start",
    [["ctl", k.control]],
    `  ctl[${CONTROL.cursor}] = ctl[${CONTROL.accepted}];`,
  );
}

/** What the kernels that select a step to walk (back) bind. */
function walkBindings(k: AdaptiveKernelParts): [string, Slice][] {
  return [
    ["ctl", k.control],
    ["ts", k.ts],
    ["recs", k.records],
    ["times", k.times],
    ["gstep", k.stepGate.table],
    ["gout", k.outputGate.table],
  ];
}

function backPrepareKernel(k: AdaptiveKernelParts): Op[] {
  const C = CONTROL;
  return single(
    k,
    "back.prepare",
    walkBindings(k),
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
    `${recordsCode(k)}\n${gatesCode(k)}`,
  );
}

/** Selects accepted step `m = call.slot`; walked back, its outputs' cotangents enter. */
function indexKernel(k: AdaptiveKernelParts, back: boolean): Op[] {
  const C = CONTROL;
  return single(
    k,
    back ? "index.back" : "index.forward",
    walkBindings(k),
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
    `${recordsCode(k)}\n${gatesCode(k)}`,
    true,
  );
}
