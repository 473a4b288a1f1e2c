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
 * import assert from "node:assert/strict";
 *
 * const layers = (st: StageBuffers) => st.hidden.length + 1;
 * assert.equal(typeof layers, "function"); // see GpuMlp.stageBuffers
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
 * import assert from "node:assert/strict";
 *
 * const widest = (p: MlpPlan) => Math.max(...p.layers.map((l) => l.outputs));
 * assert.equal(typeof widest, "function"); // see GpuMlp
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
