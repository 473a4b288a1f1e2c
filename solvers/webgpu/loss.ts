/**
 * The weighted mean squared error of training/loss.ts on the GPU, over the
 * saved outputs and targets of a {@link GpuOutputs} in `mse` mode:
 *
 *     L = Σ w_s m_b (ys − target)² / Σ w_s m_b
 *
 * reduced deterministically (reduce.ts). Its cotangent is formed where the
 * backward pass needs it, by {@link GpuOutputs.addCotangentOps}.
 *
 * @module
 */

import type { GpuContext, Slice } from "./runtime/context.ts";
import type { GpuOutputs } from "./outputs.ts";
import type { Op } from "./runtime/recorder.ts";
import { reductionOps } from "./runtime/reduce.ts";
import { u32 } from "./runtime/wgsl.ts";

/**
 * The dispatches that write the loss into `out[index]`.
 *
 * @param ctx The context.
 * @param outputs The saved outputs and targets (`mse` mode).
 * @param out Destination buffer.
 * @param index Index in it.
 * @returns The dispatches (a two-pass reduction).
 *
 * @example
 * ```ts
 * import { mseLossOps } from "./loss.ts";
 * import { GpuOutputs } from "./outputs.ts";
 * import { GpuContext } from "./runtime/context.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { mseLoss } from "../../training/loss.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const outputs = new GpuOutputs(ctx, { batch: 1, dim: 2, saved: 2, mode: "mse" });
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
  const { batch, dim, saved, mode } = outputs.options;
  if (mode !== "mse") {
    throw new RangeError("Invalid outputs: the MSE loss needs outputs in mse mode.");
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
