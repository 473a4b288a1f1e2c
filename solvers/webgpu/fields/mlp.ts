/**
 * The MLP vector field of solvers/fields/mlp.ts on the GPU, forward beside VJP:
 * same parameter layout (per layer the weight `[out, in]` row-major, then
 * the bias `[out]`), same time-dependent input `[t, y]`, same activations,
 * batched over trajectories, in f32.
 *
 * The forward pass keeps, for one evaluation (one Runge–Kutta stage), the
 * stage input, every hidden layer's output and — where the activation's
 * derivative needs it — its pre-activation, so the VJP re-uses them instead
 * of evaluating `f` again (numerics.md §2: "reuse them"). The VJP sweeps
 * back as the CPU's `Mlp.vjp` does:
 *
 *     δ_L = v ⊙ σ_L'(z_L)
 *     b̄_l += δ_l,   W̄_l += δ_l x_lᵀ          (per chunk of rows, reduced later)
 *     δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}),   ȳ = (W_0ᵀ δ_0) without the t entry
 *
 * Parameter gradients accumulate in per-chunk partial sums `[chunks, P]`
 * across every VJP of a backward pass; {@link GpuMlp.reduceOps} then adds
 * the chunks in a fixed order. No atomics, so runs are bit-identical.
 *
 * Two forms of kernels compute the same sums in the same order: `layered`
 * (mlp_layered.ts: one dispatch per layer and product — matmul.ts, tiled
 * in workgroup memory where both sides are wide — for wide networks) and
 * `fused` (mlp_fused.ts: one invocation runs the whole network for its
 * row, and one dispatch computes every layer's weight gradient — three
 * dispatches per stage and VJP instead of `3L + 1`, for narrow networks
 * such as the paper's, where dispatch overhead dominates). What the two
 * share, the stage's buffers among it, is in mlp_stage.ts.
 *
 * @module
 */

import { Mlp, type MlpConfig } from "../../fields/mlp.ts";
import { WGSL_ACTIVATIONS } from "./activations.ts";
import type { GpuContext, Slice } from "../runtime/context.ts";
import { type Chunking, chunking, type LayerProduct, tilingPays } from "./matmul.ts";
import { fusedForwardKernel, fusedVjpKernel, fusedWeightKernel } from "./mlp_fused.ts";
import { layeredForwardOps, layeredVjpOps } from "./mlp_layered.ts";
import type { FusedIo, MlpPlan, StageBuffers } from "./mlp_stage.ts";
import type { Op } from "../runtime/recorder.ts";
import { linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";

/**
 * When to use the tiled matrix products: `auto` tiles a product whose two
 * free sizes are both at least 16 on a hardware adapter, and never on a
 * software one (llvmpipe runs workgroup barriers slowly: tiled products
 * measured 2.4× slower than plain ones at width 64); or `always`, `never`.
 *
 * @example
 * ```ts
 * import { GpuMlp, type Tiling } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new Mlp({ dim: 2, widths: [64] });
 *   const tiled = (tiling: Tiling) => new GpuMlp(ctx, mlp, 64, { tiling }).plan.tiled(64, 64);
 *   assert.equal(tiled("always"), true);
 *   assert.equal(tiled("never"), false);
 *   assert.equal(tiled("auto"), !ctx.isFallback); // never on a software adapter
 *   assert.throws(() => tiled("sometimes" as Tiling), /Invalid tiling/);
 *   ctx.destroy();
 * }
 * ```
 */
export type Tiling = "auto" | "always" | "never";

/**
 * How the network's kernels are cut: `layered` runs one kernel per layer
 * and product (tiled where wide), `fused` runs the whole network for one
 * row in one invocation (fewer dispatches; for narrow networks), `auto`
 * fuses networks at most {@link FUSED_MAX_WIDTH} wide.
 *
 * @example
 * ```ts
 * import { FUSED_MAX_WIDTH, GpuMlp, type MlpKernels } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const fused = (width: number, kernels: MlpKernels) =>
 *     new GpuMlp(ctx, new Mlp({ dim: 2, widths: [width] }), 4, { kernels }).fused;
 *   assert.equal(fused(FUSED_MAX_WIDTH, "auto"), true);
 *   assert.equal(fused(FUSED_MAX_WIDTH + 1, "auto"), false);
 *   assert.equal(fused(8, "layered"), false);
 *   assert.equal(fused(64, "fused"), true);
 *   ctx.destroy();
 * }
 * ```
 */
export type MlpKernels = "auto" | "fused" | "layered";

/**
 * The widest layer `auto` still fuses.
 *
 * @example
 * ```ts
 * import { FUSED_MAX_WIDTH } from "./mlp.ts";
 * import assert from "node:assert/strict";
 * assert.ok(FUSED_MAX_WIDTH >= 10); // the paper's networks (width 10) run fused
 * ```
 */
export const FUSED_MAX_WIDTH = 32;

/**
 * Options of {@link GpuMlp}.
 *
 * @example
 * ```ts
 * import { GpuMlp, type GpuMlpOptions } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const options: GpuMlpOptions = { kernels: "layered", tiling: "always" };
 *   const gpu = new GpuMlp(ctx, new Mlp({ dim: 2, widths: [8] }), 4, options);
 *   assert.equal(gpu.fused, false); // one kernel per layer, though 8 wide
 *   assert.equal(gpu.plan.tiled(4, 8), true);
 *   assert.throws(() => new GpuMlp(ctx, gpu.mlp, 4, { kernels: "one" as "fused" }), /Invalid kernels/);
 *   ctx.destroy();
 * }
 * ```
 */
export interface GpuMlpOptions {
  /** When to use tiled products (default `"auto"`; see {@link Tiling}). */
  tiling?: Tiling;
  /** Fused or per-layer kernels (default `"auto"`). */
  kernels?: MlpKernels;
}

/**
 * An MLP's GPU kernels for one batch size. Holds its scratch cotangents, so
 * one instance serves one solve at a time (as the CPU's `Mlp` workspace).
 *
 * @example f on the GPU agrees with the CPU
 * ```ts
 * import { GpuMlp } from "./mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { CallTable } from "../runtime/calls.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new Mlp({ dim: 2, widths: [8], timeDependent: true });
 *   const theta = mlp.init(1);
 *   const y = Float64Array.of(0.5, -1, 2, 0.25);
 *   const gpu = new GpuMlp(ctx, mlp, 2);
 *   const stage = gpu.stageBuffers(ctx.arena("stage", gpu.stageLengths()), ctx.buffer("f", 4));
 *   ctx.write(stage.y, y);
 *   const calls = new CallTable(ctx, [{ t: 0.3, stageTimes: [0.3] }]);
 *   const rec = new Recorder(ctx);
 *   rec.run(gpu.forwardOps(stage, ctx.upload("theta", theta), 0), calls.ref(0));
 *   rec.submit();
 *   const f = await ctx.read(stage.out);
 *   const want = new Float64Array(4);
 *   mlp.evaluate(0.3, y, 2, theta, want);
 *   for (let e = 0; e < 4; e++) assert.ok(Math.abs(f[e] - want[e]) < 1e-5);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuMlp {
  /** The CPU description of the network. */
  readonly mlp: Mlp;
  /** Rows of the batch. */
  readonly batch: number;
  /** How the batch is chunked for parameter gradients. */
  readonly chunks: Chunking;
  /** Scratch cotangents `δ_l` of every layer (the last one unused by layered kernels with a linear output). */
  readonly deltas: readonly Slice[];
  readonly #ctx: GpuContext;
  readonly #layers: LayerProduct[];
  readonly #needsPre: boolean[];
  /** The network laid out for this batch, as the kernel generators read it. */
  readonly plan: MlpPlan;
  /** Whether the whole network runs per row in one kernel. */
  readonly fused: boolean;

  /**
   * Allocates the buffers and prepares the kernels.
   *
   * @param ctx The context.
   * @param mlp The network (a {@link Mlp} or its JSON description).
   * @param batch Rows of the batch (at most 1 048 560).
   * @param options Tiling and kernel form.
   */
  constructor(ctx: GpuContext, mlp: Mlp | MlpConfig, batch: number, options: GpuMlpOptions = {}) {
    this.mlp = mlp instanceof Mlp ? mlp : Mlp.fromJSON(mlp);
    if (!Number.isInteger(batch) || batch < 1 || batch > 65535 * 16) {
      throw new RangeError(`Invalid batch: got ${batch}; expected an integer in [1, 1048560].`);
    }
    this.batch = batch;
    this.#ctx = ctx;
    const tiling = options.tiling ?? "auto";
    if (!["auto", "always", "never"].includes(tiling)) {
      throw new RangeError(
        `Invalid tiling: got ${
          JSON.stringify(options.tiling)
        }; expected "auto", "always" or "never".`,
      );
    }
    this.chunks = chunking(batch);
    this.#layers = this.mlp.layerShapes.map((s) => ({
      rows: batch,
      inputs: s.inputs,
      outputs: s.outputs,
      weightOffset: s.weightOffset,
      biasOffset: s.biasOffset,
    }));
    this.#needsPre = this.mlp.layerShapes.map((s) =>
      WGSL_ACTIVATIONS[s.activation].derivativeNeedsInput
    );
    this.deltas = ctx.arena("mlp.deltas", this.#layers.map((l) => batch * l.outputs));
    const kernels = options.kernels ?? "auto";
    if (!["auto", "fused", "layered"].includes(kernels)) {
      throw new RangeError(
        `Invalid kernels: got ${JSON.stringify(kernels)}; expected "auto", "fused" or "layered".`,
      );
    }
    const widest = Math.max(...this.#layers.map((l) => Math.max(l.inputs, l.outputs)));
    this.fused = kernels === "fused" || (kernels === "auto" && widest <= FUSED_MAX_WIDTH);
    this.plan = {
      ctx,
      mlp: this.mlp,
      batch,
      layers: this.#layers,
      chunks: this.chunks,
      deltas: this.deltas,
      tiled: (m, n) =>
        tiling === "always" || (tiling !== "never" && !ctx.isFallback && tilingPays(m, n)),
    };
  }

  /** Length of the flat parameters. */
  get paramCount(): number {
    return this.mlp.paramCount;
  }

  /** Length of the partial parameter sums, `chunks × P`. */
  get partialsLength(): number {
    return this.chunks.chunks * this.mlp.paramCount;
  }

  /**
   * The `f32` lengths of one stage's buffers, in the order
   * {@link GpuMlp.stageBuffers} reads them: the state, the hidden outputs,
   * then the pre-activations that are kept (the field's value excluded).
   *
   * @returns The lengths.
   */
  stageLengths(): number[] {
    const B = this.batch;
    const lengths = [B * this.mlp.dim];
    for (let l = 0; l < this.#layers.length - 1; l++) lengths.push(B * this.#layers[l].outputs);
    this.#layers.forEach((l, k) => {
      if (this.#needsPre[k]) lengths.push(B * l.outputs);
    });
    return lengths;
  }

  /**
   * Names the slices of one stage.
   *
   * @param slices Slices of the lengths {@link GpuMlp.stageLengths} gave.
   * @param out Where `f` goes, `[batch, dim]`.
   * @returns The stage's buffers.
   */
  stageBuffers(slices: readonly Slice[], out: Slice): StageBuffers {
    const L = this.#layers.length;
    const hidden = slices.slice(1, L);
    let next = L;
    const pre = this.#needsPre.map((needs) => (needs ? slices[next++] : null));
    return { y: slices[0], hidden, pre, out };
  }

  /**
   * The dispatches of one evaluation `out = f(t, y)` (layer by layer). With
   * a time-dependent network, `t` is the call record's stage time `stage`.
   *
   * @param st The stage's buffers.
   * @param params The parameters θ.
   * @param stage Index of the stage time in the call record.
   * @returns The dispatches, to run with that call record.
   */
  forwardOps(st: StageBuffers, params: Slice, stage: number): Op[] {
    if (this.fused) return this.fusedForwardOps(st, params, stage, null);
    return layeredForwardOps(this.plan, st, params, stage);
  }

  /**
   * The dispatches of one VJP at a stage evaluated by
   * {@link GpuMlp.forwardOps}: overwrites `yBar` with `J_yᵀ v` and adds
   * `J_θᵀ v`, chunk by chunk, to `partials`.
   *
   * @param st The stage's buffers (as left by its forward pass).
   * @param params The parameters θ.
   * @param cotangent The cotangent `v` of `f`, `[batch, dim]`.
   * @param yBar Receives `J_yᵀ v`, `[batch, dim]`.
   * @param partials Partial parameter sums, `[chunks, P]`.
   * @param stage Index of the stage time in the call record.
   * @returns The dispatches, to run with the forward pass's call record.
   */
  vjpOps(
    st: StageBuffers,
    params: Slice,
    cotangent: Slice,
    yBar: Slice,
    partials: Slice,
    stage: number,
  ): Op[] {
    if (this.fused) {
      return [
        ...this.fusedVjpOps(st, params, stage, {
          bindings: [{ name: "v", access: "read" }, { name: "ybar", access: "read_write" }],
          slices: [cotangent, yBar],
          load: "fn load_v(b: u32, e: u32) -> f32 { return v[b * DIM + e]; }",
          out: { name: "ybar", offset: 0 },
        }),
        ...this.fusedWeightOps(st, partials, stage),
      ];
    }
    return layeredVjpOps(this.plan, st, params, cotangent, yBar, partials, stage);
  }

  /**
   * The fused forward pass: one invocation per row evaluates every layer,
   * keeping the stage's buffers as {@link GpuMlp.forwardOps} does (the
   * same sums in the same order). With `io`, the state comes from
   * `io.load` (and is stored as the stage input) and `f` goes to `io.out`.
   *
   * @param st The stage's buffers.
   * @param params The parameters θ.
   * @param stage Index of the stage time in the call record.
   * @param io Where the state comes from and `f` goes, or null for the stage's own buffers.
   * @returns The dispatch.
   */
  fusedForwardOps(st: StageBuffers, params: Slice, stage: number, io: FusedIo | null): Op[] {
    return fusedForwardKernel(this.plan, st, params, stage, io);
  }

  /**
   * The fused VJP through the layers: one invocation per row sweeps back
   * from the cotangent `io.load` gives, keeping every layer's `δ_l` (for
   * {@link GpuMlp.fusedWeightOps}) and writing `ȳ` to `io.out`.
   *
   * @param st The stage's buffers (as left by its forward pass).
   * @param params The parameters θ.
   * @param stage Index of the stage time in the call record.
   * @param io Where the cotangent of `f` comes from and `ȳ` goes.
   * @returns The dispatch.
   */
  fusedVjpOps(st: StageBuffers, params: Slice, _stage: number, io: FusedIo): Op[] {
    return fusedVjpKernel(this.plan, st, params, io);
  }

  /**
   * The fused weight gradient of every layer in one dispatch, from the
   * `δ_l` of {@link GpuMlp.fusedVjpOps}: one invocation per chunk and
   * parameter adds `Σ_{b ∈ chunk} δ_l[b, j] x_l[b, k]` (the same sums, in
   * the same order, as the per-layer kernels).
   *
   * @param st The stage's buffers.
   * @param partials Partial parameter sums `[chunks, P]`.
   * @param stage Index of the stage time in the call record.
   * @returns The dispatch.
   */
  fusedWeightOps(st: StageBuffers, partials: Slice, stage: number): Op[] {
    return fusedWeightKernel(this.plan, st, partials, stage);
  }

  /**
   * The dispatch that sums the partial parameter gradients over chunks, in
   * chunk order: `paramsBar[p] = Σ_c partials[c·P + p]`.
   *
   * @param partials Partial sums `[chunks, P]`.
   * @param paramsBar Receives `θ̄`.
   * @returns The dispatch.
   */
  reduceOps(partials: Slice, paramsBar: Slice): Op[] {
    const P = this.paramCount;
    const kernel = this.#ctx.kernel({
      name: "mlp.reduce",
      bindings: [{ name: "partials", access: "read" }, { name: "g", access: "read_write" }],
      code: linearMain(
        P,
        `  var s = 0.0;
  for (var c = 0u; c < ${u32(this.chunks.chunks)}; c++) { s += partials[c * ${u32(P)} + i]; }
  g[i] = s;`,
      ),
    });
    return [{
      kernel,
      group: this.#ctx.bind(kernel, [partials, paramsBar]),
      groups: linearGroups(P, 64),
    }];
  }
}
