/**
 * GPU-only: the MLP's `fused` kernels (mlp.ts), for narrow networks such
 * as the paper's, where dispatch overhead dominates: one invocation runs
 * the whole network for its row, forward or back, and one dispatch
 * computes every layer's weight gradient — three dispatches per stage and
 * VJP instead of `3L + 1`. The sums are those of the layered kernels, in
 * the same order. One function per kernel.
 *
 * @module
 */

import { ACTIVATION_HELPERS, WGSL_ACTIVATIONS } from "./activations.ts";
import type { BindingSpec, Slice } from "../runtime/context.ts";
import type { FusedIo, MlpPlan, StageBuffers } from "./mlp_stage.ts";
import type { Op } from "../runtime/recorder.ts";
import { linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";

/**
 * The fused forward pass: see `GpuMlp.fusedForwardOps`.
 *
 * @param plan The network.
 * @param st The stage's buffers.
 * @param params The parameters θ.
 * @param stage Index of the stage time in the call record.
 * @param io Where the state comes from and `f` goes, or null for the stage's own buffers.
 * @returns The dispatch.
 *
 * @example
 * ```ts
 * import { fusedForwardKernel } from "./mlp_fused.ts";
 * import { GpuMlp } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new Mlp({ dim: 2, widths: [8, 8], activation: "softplus" });
 *   const theta = mlp.init(1);
 *   const y = Float64Array.of(0.5, -1);
 *   const gpu = new GpuMlp(ctx, mlp, 1, { kernels: "fused" });
 *   const st = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 2));
 *   ctx.write(st.y, y);
 *   const params = ctx.upload("theta", theta);
 *   const rec = new Recorder(ctx);
 *   rec.run(fusedForwardKernel(gpu.plan, st, params, 0, null), null);
 *   rec.submit();
 *   const f = await ctx.read(st.out);
 *   const want = new Float64Array(2);
 *   mlp.evaluate(0, y, 1, theta, want);
 *   for (let e = 0; e < 2; e++) assert.ok(Math.abs(f[e] - want[e]) < 1e-5);
 *   ctx.destroy();
 * }
 * ```
 */
export function fusedForwardKernel(
  plan: MlpPlan,
  st: StageBuffers,
  params: Slice,
  stage: number,
  io: FusedIo | null,
): Op[] {
  const { ctx, mlp } = plan;
  const region = stageRegion(st);
  const dim = mlp.dim;
  const skip = mlp.timeDependent ? 1 : 0;
  const L = plan.layers.length;
  const at = (offset: number, width: number, index: string) =>
    `s_[${u32(offset)} + b * ${u32(width)} + ${index}]`;
  const lines: string[] = [`  let b = i;`, `  var x0: array<f32, ${mlp.inputDim}>;`];
  if (skip) lines.push(`  x0[0] = ${stageTime(stage)};`);
  lines.push(
    `  for (var e = 0u; e < ${u32(dim)}; e++) {`,
    `    let v = load_y(b, e);`,
    `    ${at(region.y, dim, "e")} = v;`,
    `    x0[e + ${u32(skip)}] = v;`,
    `  }`,
  );
  for (let l = 0; l < L; l++) {
    const { inputs: I, outputs: O, weightOffset: W, biasOffset: BIAS } = plan.layers[l];
    const act = WGSL_ACTIVATIONS[mlp.layerShapes[l].activation];
    const last = l === L - 1;
    const pre = region.pre[l];
    if (!last) lines.push(`  var x${l + 1}: array<f32, ${O}>;`);
    lines.push(
      `  for (var j = 0u; j < ${u32(O)}; j++) {`,
      `    var s = p[${u32(BIAS)} + j];`,
      // (q, not k: the increment binds its stage derivatives as `k`)
      `    for (var q = 0u; q < ${u32(I)}; q++) { s += p[${u32(W)} + j * ${
        u32(I)
      } + q] * x${l}[q]; }`,
    );
    if (pre !== null) lines.push(`    ${at(pre, O, "j")} = s;`);
    lines.push(`    let a = ${act.forward("s")};`);
    if (last) {
      lines.push(
        io
          ? `    ${io.out.name}[${u32(io.out.offset)} + b * ${u32(dim)} + j] = a;`
          : `    f[b * ${u32(dim)} + j] = a;`,
      );
    } else {
      lines.push(`    x${l + 1}[j] = a;`, `    ${at(region.hidden[l], O, "j")} = a;`);
    }
    lines.push(`  }`);
  }
  const bindings: BindingSpec[] = [
    { name: "s_", access: "read_write" },
    { name: "p", access: "read" },
    ...(io ? io.bindings : [{ name: "f", access: "read_write" as const }]),
  ];
  const slices = [region.slice, params, ...(io ? io.slices : [st.out])];
  const load = io
    ? io.load
    : `fn load_y(b: u32, e: u32) -> f32 { return ${at(region.y, dim, "e")}; }`;
  const kernel = ctx.kernel({
    name: "mlp.fused.forward",
    bindings,
    call: skip === 1 || load.includes("call."),
    header: `${ACTIVATION_HELPERS}\nconst DIM = ${u32(dim)};`,
    code: `${load}\n${linearMain(plan.batch, lines.join("\n"))}`,
  });
  return [{ kernel, group: ctx.bind(kernel, slices), groups: linearGroups(plan.batch, 64) }];
}

/**
 * The fused VJP through the layers: see `GpuMlp.fusedVjpOps`.
 *
 * @param plan The network.
 * @param st The stage's buffers (as left by its forward pass).
 * @param params The parameters θ.
 * @param io Where the cotangent of `f` comes from and `ȳ` goes.
 * @returns The dispatch.
 *
 * @example
 * ```ts
 * import { fusedForwardKernel, fusedVjpKernel } from "./mlp_fused.ts";
 * import { GpuMlp } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new Mlp({ dim: 2, widths: [8, 8], activation: "softplus" });
 *   const theta = mlp.init(1);
 *   const y = Float64Array.of(0.5, -1);
 *   const gpu = new GpuMlp(ctx, mlp, 1, { kernels: "fused" });
 *   const st = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 2));
 *   ctx.write(st.y, y);
 *   const params = ctx.upload("theta", theta);
 *   const v = Float64Array.of(1, -2);
 *   const yBar = ctx.buffer("ybar", 2);
 *   const io = {
 *     bindings: [{ name: "v", access: "read" }, { name: "ybar", access: "read_write" }] as const,
 *     slices: [ctx.upload("v", v), yBar],
 *     load: "fn load_v(b: u32, e: u32) -> f32 { return v[b * DIM + e]; }",
 *     out: { name: "ybar", offset: 0 },
 *   };
 *   const rec = new Recorder(ctx);
 *   rec.run(fusedForwardKernel(gpu.plan, st, params, 0, null), null);
 *   rec.run(fusedVjpKernel(gpu.plan, st, params, io), null);
 *   rec.submit();
 *   const got = await ctx.read(yBar);
 *   const want = new Float64Array(2);
 *   mlp.vjp(0, y, 1, theta, v, want, new Float64Array(mlp.paramCount));
 *   for (let e = 0; e < 2; e++) assert.ok(Math.abs(got[e] - want[e]) < 1e-5);
 *   ctx.destroy();
 * }
 * ```
 */
export function fusedVjpKernel(
  plan: MlpPlan,
  st: StageBuffers,
  params: Slice,
  io: FusedIo,
): Op[] {
  const { ctx, mlp } = plan;
  const region = stageRegion(st);
  const deltas = deltaRegion(plan);
  const dim = mlp.dim;
  const skip = mlp.timeDependent ? 1 : 0;
  const L = plan.layers.length;
  const st_ = (offset: number, width: number, index: string) =>
    `s_[${u32(offset)} + b * ${u32(width)} + ${index}]`;
  const del = (l: number, index: string) =>
    `del[${u32(deltas.offsets[l])} + b * ${u32(plan.layers[l].outputs)} + ${index}]`;
  const finalAct = WGSL_ACTIVATIONS[mlp.layerShapes[L - 1].activation];
  const preL = region.pre[L - 1];
  const lines: string[] = [
    `  let b = i;`,
    `  var d${L - 1}: array<f32, ${dim}>;`,
    `  for (var e = 0u; e < ${u32(dim)}; e++) {`,
    `    let v = load_v(b, e) * ${
      finalAct.derivative(preL !== null ? st_(preL, dim, "e") : "0.0", `f[b * ${u32(dim)} + e]`)
    };`,
    `    d${L - 1}[e] = v;`,
    `    ${del(L - 1, "e")} = v;`,
    `  }`,
  ];
  for (let l = L - 1; l >= 0; l--) {
    const { inputs: I, outputs: O, weightOffset: W } = plan.layers[l];
    if (l > 0) {
      const act = WGSL_ACTIVATIONS[mlp.layerShapes[l - 1].activation];
      const pre = region.pre[l - 1];
      lines.push(
        `  var d${l - 1}: array<f32, ${I}>;`,
        `  for (var k = 0u; k < ${u32(I)}; k++) {`,
        `    var s = 0.0;`,
        `    for (var j = 0u; j < ${u32(O)}; j++) { s += d${l}[j] * p[${u32(W)} + j * ${
          u32(I)
        } + k]; }`,
        `    let v = s * ${
          act.derivative(
            pre !== null ? st_(pre, I, "k") : "0.0",
            st_(region.hidden[l - 1], I, "k"),
          )
        };`,
        `    d${l - 1}[k] = v;`,
        `    ${del(l - 1, "k")} = v;`,
        `  }`,
      );
    } else {
      lines.push(
        `  for (var e = 0u; e < ${u32(dim)}; e++) {`,
        `    var s = 0.0;`,
        `    for (var j = 0u; j < ${u32(O)}; j++) { s += d0[j] * p[${u32(W)} + j * ${
          u32(I)
        } + e + ${u32(skip)}]; }`,
        `    ${io.out.name}[${u32(io.out.offset)} + b * ${u32(dim)} + e] = s;`,
        `  }`,
      );
    }
  }
  const kernel = ctx.kernel({
    name: "mlp.fused.vjp",
    bindings: [
      { name: "s_", access: "read" },
      { name: "f", access: "read" },
      { name: "p", access: "read" },
      { name: "del", access: "read_write" },
      ...io.bindings,
    ],
    call: io.load.includes("call."),
    header: `${ACTIVATION_HELPERS}\nconst DIM = ${u32(dim)};`,
    code: `${io.load}\n${linearMain(plan.batch, lines.join("\n"))}`,
  });
  return [{
    kernel,
    group: ctx.bind(kernel, [region.slice, st.out, params, deltas.slice, ...io.slices]),
    groups: linearGroups(plan.batch, 64),
  }];
}

/**
 * The fused weight gradient of every layer in one dispatch: see
 * `GpuMlp.fusedWeightOps`.
 *
 * @param plan The network.
 * @param st The stage's buffers.
 * @param partials Partial parameter sums `[chunks, P]`.
 * @param stage Index of the stage time in the call record.
 * @returns The dispatch.
 *
 * @example
 * ```ts
 * import { fusedForwardKernel, fusedVjpKernel, fusedWeightKernel } from "./mlp_fused.ts";
 * import { GpuMlp } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new Mlp({ dim: 2, widths: [8, 8], activation: "softplus" });
 *   const theta = mlp.init(1);
 *   const y = Float64Array.of(0.5, -1);
 *   const gpu = new GpuMlp(ctx, mlp, 1, { kernels: "fused" });
 *   const st = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 2));
 *   ctx.write(st.y, y);
 *   const params = ctx.upload("theta", theta);
 *   const v = Float64Array.of(1, -2);
 *   const yBar = ctx.buffer("ybar", 2);
 *   const io = {
 *     bindings: [{ name: "v", access: "read" }, { name: "ybar", access: "read_write" }] as const,
 *     slices: [ctx.upload("v", v), yBar],
 *     load: "fn load_v(b: u32, e: u32) -> f32 { return v[b * DIM + e]; }",
 *     out: { name: "ybar", offset: 0 },
 *   };
 *   const partials = ctx.buffer("partials", gpu.partialsLength);
 *   const thetaBar = ctx.buffer("thetabar", mlp.paramCount);
 *   const rec = new Recorder(ctx);
 *   rec.run(fusedForwardKernel(gpu.plan, st, params, 0, null), null);
 *   rec.run(fusedVjpKernel(gpu.plan, st, params, io), null);
 *   rec.run(fusedWeightKernel(gpu.plan, st, partials, 0), null);
 *   rec.run(gpu.reduceOps(partials, thetaBar), null);
 *   rec.submit();
 *   const got = await ctx.read(thetaBar);
 *   const want = new Float64Array(mlp.paramCount);
 *   mlp.vjp(0, y, 1, theta, v, new Float64Array(2), want);
 *   for (let p = 0; p < mlp.paramCount; p++) assert.ok(Math.abs(got[p] - want[p]) < 1e-5);
 *   ctx.destroy();
 * }
 * ```
 */
export function fusedWeightKernel(
  plan: MlpPlan,
  st: StageBuffers,
  partials: Slice,
  stage: number,
): Op[] {
  const { ctx, mlp } = plan;
  const region = stageRegion(st);
  const deltas = deltaRegion(plan);
  const dim = mlp.dim;
  const td = mlp.timeDependent;
  const P = mlp.paramCount;
  const R = plan.chunks.rows;
  const branches: string[] = [];
  plan.layers.forEach((layer, l) => {
    const { inputs: I, outputs: O, weightOffset: W, biasOffset: BIAS } = layer;
    const d = `del[${u32(deltas.offsets[l])} + b * ${u32(O)} + j]`;
    const sumX = (x: string) => `for (var b = start; b < end; b++) { s += ${d} * ${x}; }`;
    let weights: string;
    if (l > 0) weights = sumX(`s_[${u32(region.hidden[l - 1])} + b * ${u32(I)} + k]`);
    else if (!td) weights = sumX(`s_[${u32(region.y)} + b * ${u32(dim)} + k]`);
    else {
      weights = `if (k == 0u) {
        let t = ${stageTime(stage)};
        ${sumX("t")}
      } else {
        ${sumX(`s_[${u32(region.y)} + b * ${u32(dim)} + k - 1u]`)}
      }`;
    }
    branches.push(`if (p < ${u32(BIAS + O)}) {
    if (p < ${u32(BIAS)}) {
      let j = (p - ${u32(W)}) / ${u32(I)};
      let k = (p - ${u32(W)}) % ${u32(I)};
      ${weights}
    } else {
      let j = p - ${u32(BIAS)};
      for (var b = start; b < end; b++) { s += ${d} * 1.0; }
    }
  }`);
  });
  const kernel = ctx.kernel({
    name: "mlp.fused.weights",
    bindings: [
      { name: "s_", access: "read" },
      { name: "del", access: "read" },
      { name: "partials", access: "read_write" },
    ],
    call: td,
    code: linearMain(
      plan.chunks.chunks * P,
      `  let c = i / ${u32(P)};
  let p = i % ${u32(P)};
  let start = c * ${u32(R)};
  let end = min(start + ${u32(R)}, ${u32(plan.batch)});
  var s = 0.0;
  ${branches.join(" else ")}
  partials[i] += s;`,
    ),
  });
  return [{
    kernel,
    group: ctx.bind(kernel, [region.slice, deltas.slice, partials]),
    groups: linearGroups(plan.chunks.chunks * P, 64),
  }];
}

/** A stage's consecutive buffers as one slice, with their offsets in it (in values). */
function stageRegion(st: StageBuffers): {
  slice: Slice;
  y: number;
  hidden: number[];
  pre: (number | null)[];
} {
  const all = [st.y, ...st.hidden, ...st.pre.filter((p): p is Slice => p !== null)];
  const first = all[0], last = all[all.length - 1];
  for (const x of all) {
    if (x.buffer !== first.buffer) throw new Error("A stage's buffers must share one arena.");
  }
  const slice = {
    buffer: first.buffer,
    offset: first.offset,
    length: (last.offset - first.offset) / 4 + last.length,
  };
  const rel = (x: Slice) => (x.offset - first.offset) / 4;
  return {
    slice,
    y: rel(st.y),
    hidden: st.hidden.map(rel),
    pre: st.pre.map((p) => (p === null ? null : rel(p))),
  };
}

/** The scratch cotangents as one slice, with their offsets. */
function deltaRegion(plan: MlpPlan): { slice: Slice; offsets: number[] } {
  const first = plan.deltas[0], last = plan.deltas[plan.deltas.length - 1];
  return {
    slice: {
      buffer: first.buffer,
      offset: first.offset,
      length: (last.offset - first.offset) / 4 + last.length,
    },
    offsets: plan.deltas.map((d) => (d.offset - first.offset) / 4),
  };
}

/** WGSL of stage `stage`'s time in the call record. */
function stageTime(stage: number): string {
  return `call.st[${stage >> 2}u][${stage & 3}u]`;
}
