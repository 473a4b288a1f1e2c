/**
 * The weighted mean squared error of training/loss.ts on the GPU, as a
 * {@link GpuLoss} of the solver's saved outputs against targets:
 *
 *     L = Σ w_s m_b (ys − target)² / Σ w_s m_b
 *
 * reduced deterministically (solvers/webgpu/runtime/reduce.ts). Its
 * cotangent is formed where the backward pass needs it:
 *
 *     ∂L/∂ys[s, b, e] = 2 w_s m_b (ys[s, b, e] − target[s, b, e]) / Σ w m
 *
 * with `w_s` a weight per saved row (training/loss.ts's per-row weights) and
 * `m_b ∈ {0, 1}` a mask per trajectory (rows padding a short minibatch).
 *
 * @module
 */

import type { GpuContext, Slice } from "../../solvers/webgpu/runtime/context.ts";
import type { GpuLoss, GpuOutputs, OutputReaders } from "../../solvers/webgpu/outputs.ts";
import type { Op } from "../../solvers/webgpu/runtime/recorder.ts";
import { reductionOps } from "../../solvers/webgpu/runtime/reduce.ts";
import { u32 } from "../../solvers/webgpu/runtime/wgsl.ts";

/**
 * The dispatches that write the loss into `out[index]`.
 *
 * @param ctx The context.
 * @param outputs The saved outputs and their targets (loss {@link gpuMse}).
 * @param out Destination buffer.
 * @param index Index in it.
 * @returns The dispatches (a two-pass reduction).
 *
 * @example
 * ```ts
 * import { gpuMse, mseLossOps } from "./loss.ts";
 * import { GpuOutputs } from "../../solvers/webgpu/outputs.ts";
 * import { GpuContext } from "../../solvers/webgpu/runtime/context.ts";
 * import { Recorder } from "../../solvers/webgpu/runtime/recorder.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { mseLoss } from "../loss.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const outputs = new GpuOutputs(ctx, { batch: 1, dim: 2, saved: 2, loss: gpuMse });
 *   const p = Float64Array.of(1, 2, 3, 4), y = Float64Array.of(1, 2, 3, 6);
 *   ctx.write(outputs.ys, p);
 *   ctx.write(outputs.data, y);
 *   const out = ctx.buffer("loss", 1);
 *   const rec = new Recorder(ctx);
 *   rec.run(mseLossOps(ctx, outputs, out, 0), null);
 *   rec.submit();
 *   assert.equal((await ctx.read(out))[0], mseLoss(p, y)); // 1
 *   ctx.destroy();
 * }
 * ```
 */
export function mseLossOps(ctx: GpuContext, outputs: GpuOutputs, out: Slice, index: number): Op[] {
  const { batch, dim, saved, loss } = outputs.options;
  if (loss !== gpuMse) {
    throw new RangeError("Invalid outputs: the MSE loss needs outputs whose loss is gpuMse.");
  }
  const size = batch * dim;
  return reductionOps(ctx, {
    name: "loss.mse",
    n: saved * size,
    inputs: [
      { binding: { name: "ys", access: "read" }, slice: outputs.ys },
      { binding: { name: "data", access: "read" }, slice: outputs.data },
      { binding: { name: "weights", access: "read" }, slice: outputs.weights },
      { binding: { name: "mask", access: "read" }, slice: outputs.mask },
    ],
    term: `fn term(e: u32) -> f32 {
  let w = weights[e / ${u32(size)}] * mask[(e % ${u32(size)}) / ${u32(dim)}];
  let d = ys[e] - data[e];
  return select(0.0, w * d * d, w > 0.0);
}`,
    combine: "sum",
    out,
    index,
    scale: `weights[${u32(saved)}]`,
  });
}

/** The cotangent of the weighted MSE: `2 w_s m_b (ys − target) / Σ w m`. */
function mseCotangent(
  read: OutputReaders,
  { batch, dim, saved }: { batch: number; dim: number; saved: number },
): string {
  return `  let at = slot * ${u32(batch * dim)} + i;
  let w = ${read.weights("slot")} * ${read.mask(`i / ${u32(dim)}`)};
  if (w > 0.0) { return (2.0 * w * ${read.weights(u32(saved))}) * (${read.ys("at")} - ${
    read.data("at")
  }); }
  return 0.0;`;
}

/**
 * The weighted mean squared error against targets (the outputs' `data`),
 * the loss train.ts minimises, for a GPU solve's outputs.
 *
 * @example The cotangent reads the targets through the outputs' buffers
 * ```ts
 * import { gpuMse } from "./loss.ts";
 * import assert from "node:assert/strict";
 *
 * const read = { ys: (i: string) => `ys[${i}]`, data: (i: string) => `data[${i}]`,
 *   weights: (i: string) => `weights[${i}]`, mask: (i: string) => `mask[${i}]` };
 * const body = gpuMse.cotangentBody(read, { batch: 4, dim: 2, saved: 3 });
 * assert.match(body, /ys\[at\] - data\[at\]/);
 * assert.match(body, /weights\[3u\]/); // 1 / Σ w m, after the three row weights
 * ```
 */
export const gpuMse: GpuLoss = {
  name: "mse",
  cotangentBody: mseCotangent,
  lossOps: mseLossOps,
};
