/**
 * GPU-only: the MLP's `layered` kernels (mlp.ts), one dispatch per layer
 * and product, the products tiled in workgroup memory where both sides are
 * wide (matmul.ts). One function per kernel: a layer's forward pass, the
 * cotangent through the output activation, a layer's weight gradient and
 * a layer's input cotangent; the VJP sweeps back as the CPU's `Mlp.vjp`.
 *
 * @module
 */

import { ACTIVATION_HELPERS, WGSL_ACTIVATIONS } from "./activations.ts";
import type { BindingSpec, Slice } from "../runtime/context.ts";
import {
  forwardCode,
  forwardGroups,
  transposedCode,
  transposedGroups,
  weightCode,
  weightGroups,
} from "./matmul.ts";
import type { MlpPlan, StageBuffers } from "./mlp_stage.ts";
import type { Op } from "../runtime/recorder.ts";
import { linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";

/**
 * The dispatches of one evaluation `out = f(t, y)`, layer by layer.
 *
 * @param plan The network.
 * @param st The stage's buffers.
 * @param params The parameters θ.
 * @param stage Index of the stage time in the call record.
 * @returns The dispatches.
 *
 * @example
 * ```ts
 * import { layeredForwardOps } from "./mlp_layered.ts";
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
 *   const gpu = new GpuMlp(ctx, mlp, 1, { kernels: "layered" });
 *   const st = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 2));
 *   ctx.write(st.y, y);
 *   const params = ctx.upload("theta", theta);
 *   const ops = layeredForwardOps(gpu.plan, st, params, 0);
 *   assert.equal(ops.length, 3); // one dispatch per layer
 *   const rec = new Recorder(ctx);
 *   rec.run(ops, null);
 *   rec.submit();
 *   const f = await ctx.read(st.out);
 *   const want = new Float64Array(2);
 *   mlp.evaluate(0, y, 1, theta, want);
 *   for (let e = 0; e < 2; e++) assert.ok(Math.abs(f[e] - want[e]) < 1e-5);
 *   ctx.destroy();
 * }
 * ```
 */
export function layeredForwardOps(
  plan: MlpPlan,
  st: StageBuffers,
  params: Slice,
  stage: number,
): Op[] {
  return plan.layers.map((_, l) => forwardKernel(plan, l, st, params, stage));
}

/**
 * The dispatches of one VJP at a stage evaluated by
 * {@link layeredForwardOps}: `δ_L = v ⊙ σ_L'(z_L)`, then per layer from
 * the last `W̄_l += δ_l x_lᵀ`, `b̄_l += δ_l` (per chunk) and
 * `δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1})`, or `ȳ = W_0ᵀ δ_0` without the t column.
 *
 * @param plan The network.
 * @param st The stage's buffers (as left by its forward pass).
 * @param params The parameters θ.
 * @param cotangent The cotangent `v` of `f`, `[batch, dim]`.
 * @param yBar Receives `J_yᵀ v`, `[batch, dim]`.
 * @param partials Partial parameter sums, `[chunks, P]`.
 * @param stage Index of the stage time in the call record.
 * @returns The dispatches.
 *
 * @example
 * ```ts
 * import { layeredForwardOps, layeredVjpOps } from "./mlp_layered.ts";
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
 *   const gpu = new GpuMlp(ctx, mlp, 1, { kernels: "layered" });
 *   const st = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 2));
 *   ctx.write(st.y, y);
 *   const params = ctx.upload("theta", theta);
 *   const v = Float64Array.of(1, -2);
 *   const yBar = ctx.buffer("ybar", 2);
 *   const partials = ctx.buffer("partials", gpu.partialsLength);
 *   const ops = layeredVjpOps(gpu.plan, st, params, ctx.upload("v", v), yBar, partials, 0);
 *   assert.equal(ops.length, 6); // per layer W̄ and δ (a linear output needs no δ_L kernel)
 *   const rec = new Recorder(ctx);
 *   rec.run(layeredForwardOps(gpu.plan, st, params, 0), null);
 *   rec.run(ops, null);
 *   rec.submit();
 *   const got = await ctx.read(yBar);
 *   const want = new Float64Array(2);
 *   mlp.vjp(0, y, 1, theta, v, want, new Float64Array(mlp.paramCount));
 *   for (let e = 0; e < 2; e++) assert.ok(Math.abs(got[e] - want[e]) < 1e-5);
 *   ctx.destroy();
 * }
 * ```
 */
export function layeredVjpOps(
  plan: MlpPlan,
  st: StageBuffers,
  params: Slice,
  cotangent: Slice,
  yBar: Slice,
  partials: Slice,
  stage: number,
): Op[] {
  const ops: Op[] = [];
  const L = plan.layers.length;
  let delta = cotangent;
  if (plan.mlp.layerShapes[L - 1].activation !== "identity") {
    delta = plan.deltas[L - 1];
    ops.push(outputDeltaKernel(plan, st, cotangent, delta));
  }
  for (let l = L - 1; l >= 0; l--) {
    ops.push(weightKernel(plan, l, st, delta, partials, stage));
    ops.push(inputKernel(plan, l, st, params, delta, yBar));
    if (l > 0) delta = plan.deltas[l - 1];
  }
  return ops;
}

/** Layer `l`'s output (and its pre-activation where the derivative needs it). */
function forwardKernel(
  plan: MlpPlan,
  l: number,
  st: StageBuffers,
  params: Slice,
  stage: number,
): Op {
  const layer = plan.layers[l];
  const last = l === plan.layers.length - 1;
  const act = WGSL_ACTIVATIONS[plan.mlp.layerShapes[l].activation];
  const tiled = plan.tiled(layer.outputs, layer.inputs);
  const bindings: BindingSpec[] = [
    { name: l === 0 ? "y" : "x", access: "read" },
    { name: "p", access: "read" },
    { name: "a", access: "read_write" },
  ];
  const slices = [l === 0 ? st.y : st.hidden[l - 1], params, last ? st.out : st.hidden[l]];
  const pre = st.pre[l];
  if (pre) {
    bindings.push({ name: "z", access: "read_write" });
    slices.push(pre);
  }
  const O = layer.outputs;
  const store = `fn store(b: u32, j: u32, s: f32) {
  a[b * ${u32(O)} + j] = ${act.forward("s")};${pre ? `\n  z[b * ${u32(O)} + j] = s;` : ""}
}`;
  const { code, call } = loadX(plan, l, stage);
  const kernel = plan.ctx.kernel({
    name: `mlp.forward.l${l}`,
    bindings,
    call,
    header: ACTIVATION_HELPERS,
    code: `${code}\n${store}\n${forwardCode(layer, tiled)}`,
  });
  return {
    kernel,
    group: plan.ctx.bind(kernel, slices),
    groups: forwardGroups(layer, tiled),
  };
}

/** δ_L = v ⊙ σ_L'(z_L). */
function outputDeltaKernel(
  plan: MlpPlan,
  st: StageBuffers,
  cotangent: Slice,
  delta: Slice,
): Op {
  const { ctx, mlp } = plan;
  const L = plan.layers.length;
  const finalAct = WGSL_ACTIVATIONS[mlp.layerShapes[L - 1].activation];
  const pre = st.pre[L - 1];
  const n = plan.batch * mlp.dim;
  const kernel = ctx.kernel({
    name: "mlp.vjp.output",
    // without a pre-activation the kernel binds no `z` (binding one range
    // twice as writable storage is invalid WebGPU, though wgpu accepts it)
    bindings: [
      { name: "v", access: "read" },
      { name: "f", access: "read" },
      ...(pre ? [{ name: "z", access: "read" as const }] : []),
      { name: "d", access: "read_write" },
    ],
    header: ACTIVATION_HELPERS,
    code: linearMain(
      n,
      `  d[i] = v[i] * ${finalAct.derivative(pre ? "z[i]" : "0.0", "f[i]")};`,
    ),
  });
  return {
    kernel,
    group: ctx.bind(kernel, pre ? [cotangent, st.out, pre, delta] : [cotangent, st.out, delta]),
    groups: linearGroups(n, 64),
  };
}

/** `load_d(b, j)`: layer l's cotangent `δ_l`, bound as `d`. */
function loadD(plan: MlpPlan, l: number): string {
  return `fn load_d(b: u32, j: u32) -> f32 { return d[b * ${u32(plan.layers[l].outputs)} + j]; }`;
}

/** W̄_l += δ_l x_lᵀ, b̄_l += δ_l, per chunk. */
function weightKernel(
  plan: MlpPlan,
  l: number,
  st: StageBuffers,
  delta: Slice,
  partials: Slice,
  stage: number,
): Op {
  const { ctx } = plan;
  const layer = plan.layers[l];
  const tiled = plan.tiled(layer.outputs, layer.inputs + 1);
  const { code, call } = loadX(plan, l, stage);
  const kernel = ctx.kernel({
    name: `mlp.vjp.weights.l${l}`,
    bindings: [
      { name: "d", access: "read" },
      { name: l === 0 ? "y" : "x", access: "read" },
      { name: "partials", access: "read_write" },
    ],
    call,
    code: `${loadD(plan, l)}\n${code}\n${
      weightCode(layer, plan.chunks, plan.mlp.paramCount, tiled)
    }`,
  });
  return {
    kernel,
    group: ctx.bind(kernel, [delta, l === 0 ? st.y : st.hidden[l - 1], partials]),
    groups: weightGroups(layer, plan.chunks, tiled),
  };
}

/** δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}), or ȳ = W_0ᵀ δ_0 without the t column. */
function inputKernel(
  plan: MlpPlan,
  l: number,
  st: StageBuffers,
  params: Slice,
  delta: Slice,
  yBar: Slice,
): Op {
  const { ctx, mlp } = plan;
  const layer = plan.layers[l];
  const I = layer.inputs;
  const tiled = plan.tiled(I, layer.outputs);
  const skip = l === 0 && mlp.timeDependent ? 1 : 0;
  let store: string;
  const bindings: BindingSpec[] = [
    { name: "d", access: "read" },
    { name: "p", access: "read" },
  ];
  const slices: Slice[] = [delta, params];
  if (l === 0) {
    bindings.push({ name: "ybar", access: "read_write" });
    slices.push(yBar);
    store = `fn store(b: u32, k: u32, s: f32) { ybar[b * ${u32(mlp.dim)} + k - ${
      u32(skip)
    }] = s; }`;
  } else {
    const act = WGSL_ACTIVATIONS[mlp.layerShapes[l - 1].activation];
    const pre = st.pre[l - 1];
    bindings.push({ name: "a", access: "read" });
    slices.push(st.hidden[l - 1]);
    if (pre) {
      bindings.push({ name: "z", access: "read" });
      slices.push(pre);
    }
    bindings.push({ name: "dprev", access: "read_write" });
    slices.push(plan.deltas[l - 1]);
    const at = `b * ${u32(I)} + k`;
    store = `fn store(b: u32, k: u32, s: f32) {
  dprev[${at}] = s * ${act.derivative(pre ? `z[${at}]` : "0.0", `a[${at}]`)};
}`;
  }
  const kernel = ctx.kernel({
    name: `mlp.vjp.input.l${l}`,
    bindings,
    header: ACTIVATION_HELPERS,
    code: `${loadD(plan, l)}\n${store}\n${transposedCode(layer, tiled, skip)}`,
  });
  return {
    kernel,
    group: ctx.bind(kernel, slices),
    groups: transposedGroups(layer, tiled, skip),
  };
}

/** `load_x(b, k)`: layer l's input (with t read from the call record at layer 0). */
function loadX(plan: MlpPlan, l: number, stage: number): { code: string; call: boolean } {
  const dim = plan.mlp.dim;
  if (l > 0) {
    const I = plan.layers[l].inputs;
    return {
      code: `fn load_x(b: u32, k: u32) -> f32 { return x[b * ${u32(I)} + k]; }`,
      call: false,
    };
  }
  if (!plan.mlp.timeDependent) {
    return {
      code: `fn load_x(b: u32, k: u32) -> f32 { return y[b * ${u32(dim)} + k]; }`,
      call: false,
    };
  }
  const st = `call.st[${stage >> 2}u][${stage & 3}u]`;
  return {
    code: `fn load_x(b: u32, k: u32) -> f32 {
  if (k == 0u) { return ${st}; }
  return y[b * ${u32(dim)} + k - 1u];
}`,
    call: true,
  };
}
