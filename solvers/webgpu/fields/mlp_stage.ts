/**
 * GPU-only: what the MLP's two kernel forms (mlp_layered.ts, mlp_fused.ts)
 * and `GpuMlp` (mlp.ts) share — the buffers of one evaluation of the
 * field, where a fused kernel reads its input and writes its value when
 * they are not the stage's own, and the network laid out for one batch.
 *
 * @module
 */

import type { Mlp } from "../../fields/mlp.ts";
import type { BindingSpec, GpuContext, Slice } from "../runtime/context.ts";
import type { Chunking, LayerProduct } from "./matmul.ts";

/**
 * Buffers of one evaluation of the field (one stage).
 *
 * @example
 * ```ts
 * import type { StageBuffers } from "./mlp_stage.ts";
 * import { GpuMlp } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   // 2 → 8 tanh → 5 tanh → 2, for 3 rows
 *   const gpu = new GpuMlp(ctx, new Mlp({ dim: 2, widths: [8, 5] }), 3, { kernels: "layered" });
 *   const st: StageBuffers = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 6));
 *   assert.equal(st.y.length, 3 * 2);
 *   assert.deepEqual(st.hidden.map((h) => h.length), [3 * 8, 3 * 5]);
 *   assert.equal(st.out.length, 3 * 2);
 *   assert.equal(st.pre.length, 3); // one per layer (null where the derivative needs none)
 *   ctx.destroy();
 * }
 * ```
 */
export interface StageBuffers {
  /** The state the field is evaluated at, `[batch, dim]`. */
  readonly y: Slice;
  /** Outputs of the hidden layers, `[batch, width_l]`. */
  readonly hidden: readonly Slice[];
  /** Pre-activations of layer `l` where the derivative needs them, else null. */
  readonly pre: readonly (Slice | null)[];
  /** The field's value `f(t, y)`, `[batch, dim]`. */
  readonly out: Slice;
}

/**
 * The state a fused forward kernel reads, and where its value goes, when
 * they are not the stage's own buffers (the increment computes the stage
 * input `Y_i = y + h Σ a_ij k_j` inside the network's kernel).
 *
 * @example
 * ```ts
 * import type { FusedIo } from "./mlp_stage.ts";
 * import assert from "node:assert/strict";
 *
 * const io: FusedIo = {
 *   bindings: [{ name: "v", access: "read" }, { name: "ybar", access: "read_write" }],
 *   slices: [],
 *   load: "fn load_v(b: u32, e: u32) -> f32 { return v[b * DIM + e]; }",
 *   out: { name: "ybar", offset: 0 },
 * };
 * assert.equal(io.out.name, "ybar");
 * ```
 */
export interface FusedIo {
  /** Extra bindings and their slices. */
  readonly bindings: readonly BindingSpec[];
  /** Slices of the extra bindings. */
  readonly slices: readonly Slice[];
  /**
   * WGSL defining `fn load_y(b: u32, e: u32) -> f32` (forward: the state)
   * or `fn load_v(b: u32, e: u32) -> f32` (VJP: the cotangent of `f`).
   */
  readonly load: string;
  /** The binding (among the extra ones) and offset where `f` (forward) or `ȳ` (VJP) goes. */
  readonly out: { readonly name: string; readonly offset: number };
}

/**
 * The network laid out for one batch: what every kernel generator of the
 * MLP reads.
 *
 * @example
 * ```ts
 * import type { MlpPlan } from "./mlp_stage.ts";
 * import { GpuMlp } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   // 2 → 8 tanh → 5 tanh → 2, for 3 rows
 *   const gpu = new GpuMlp(ctx, new Mlp({ dim: 2, widths: [8, 5] }), 3, { kernels: "layered" });
 *   const plan: MlpPlan = gpu.plan;
 *   assert.equal(plan.batch, 3);
 *   assert.deepEqual(plan.layers.map((l) => [l.rows, l.inputs, l.outputs]), [[3, 2, 8], [3, 8, 5], [3, 5, 2]]);
 *   assert.deepEqual(plan.deltas.map((d) => d.length), [3 * 8, 3 * 5, 3 * 2]);
 *   // "auto" tiling: products at least 16 × 16, on a hardware adapter only
 *   assert.equal(plan.tiled(3, 8), false);
 *   assert.equal(plan.tiled(64, 64), !ctx.isFallback);
 *   ctx.destroy();
 * }
 * ```
 */
export interface MlpPlan {
  /** The context. */
  readonly ctx: GpuContext;
  /** The CPU description of the network. */
  readonly mlp: Mlp;
  /** Rows of the batch. */
  readonly batch: number;
  /** Every layer's product, `rows = batch`. */
  readonly layers: readonly LayerProduct[];
  /** How the batch is chunked for parameter gradients. */
  readonly chunks: Chunking;
  /** Scratch cotangents `δ_l` of every layer. */
  readonly deltas: readonly Slice[];
  /** Whether a product whose free sizes are `m` and `n` runs tiled. */
  tiled(m: number, n: number): boolean;
}
