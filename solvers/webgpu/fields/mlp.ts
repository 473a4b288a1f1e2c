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
 * (one dispatch per layer and product — matmul.ts, tiled in workgroup
 * memory where both sides are wide — for wide networks) and `fused` (one
 * invocation runs the whole network for its row, and one dispatch computes
 * every layer's weight gradient — three dispatches per stage and VJP
 * instead of `3L + 1`, for narrow networks such as the paper's, where
 * dispatch overhead dominates).
 *
 * @module
 */

import { Mlp, type MlpConfig } from "../../fields/mlp.ts";
import { ACTIVATION_HELPERS, WGSL_ACTIVATIONS } from "./activations.ts";
import type { BindingSpec, GpuContext, Slice } from "../runtime/context.ts";
import {
  type Chunking,
  chunking,
  forwardCode,
  forwardGroups,
  type LayerProduct,
  tilingPays,
  transposedCode,
  transposedGroups,
  weightCode,
  weightGroups,
} from "./matmul.ts";
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
 * import type { Tiling } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const tiling: Tiling = "never";
 * assert.equal(tiling, "never");
 * ```
 */
export type Tiling = "auto" | "always" | "never";

/**
 * Buffers of one evaluation of the field (one stage).
 *
 * @example
 * ```ts
 * import type { StageBuffers } from "./mlp.ts";
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
 * How the network's kernels are cut: `layered` runs one kernel per layer
 * and product (tiled where wide), `fused` runs the whole network for one
 * row in one invocation (fewer dispatches; for narrow networks), `auto`
 * fuses networks at most {@link FUSED_MAX_WIDTH} wide.
 *
 * @example
 * ```ts
 * import type { MlpKernels } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const kernels: MlpKernels = "layered";
 * assert.notEqual(kernels, "fused");
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
 * import type { GpuMlpOptions } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuMlpOptions = { kernels: "layered", tiling: "always" };
 * assert.equal(options.kernels, "layered");
 * ```
 */
export interface GpuMlpOptions {
  /** When to use tiled products (default `"auto"`; see {@link Tiling}). */
  tiling?: Tiling;
  /** Fused or per-layer kernels (default `"auto"`). */
  kernels?: MlpKernels;
}

/**
 * The state a fused forward kernel reads, and where its value goes, when
 * they are not the stage's own buffers (the increment computes the stage
 * input `Y_i = y + h Σ a_ij k_j` inside the network's kernel).
 *
 * @example
 * ```ts
 * import type { FusedIo } from "./mlp.ts";
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
  readonly #tiling: Tiling;
  readonly #layers: LayerProduct[];
  readonly #needsPre: boolean[];
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
    this.#tiling = options.tiling ?? "auto";
    if (!["auto", "always", "never"].includes(this.#tiling)) {
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
    const ops: Op[] = [];
    const L = this.#layers.length;
    for (let l = 0; l < L; l++) {
      const layer = this.#layers[l];
      const last = l === L - 1;
      const shape = this.mlp.layerShapes[l];
      const act = WGSL_ACTIVATIONS[shape.activation];
      const tiled = this.#tiled(layer.outputs, layer.inputs);
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
      const { code, call } = this.#loadX(l, stage);
      const kernel = this.#ctx.kernel({
        name: `mlp.forward.l${l}`,
        bindings,
        call,
        header: ACTIVATION_HELPERS,
        code: `${code}\n${store}\n${forwardCode(layer, tiled)}`,
      });
      ops.push({
        kernel,
        group: this.#ctx.bind(kernel, slices),
        groups: forwardGroups(layer, tiled),
      });
    }
    return ops;
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
    const ops: Op[] = [];
    const ctx = this.#ctx;
    const L = this.#layers.length;
    const B = this.batch;
    const finalShape = this.mlp.layerShapes[L - 1];
    const finalAct = WGSL_ACTIVATIONS[finalShape.activation];
    let delta = cotangent;
    if (finalShape.activation !== "identity") {
      // δ_L = v ⊙ σ_L'(z_L)
      const pre = st.pre[L - 1];
      const n = B * this.mlp.dim;
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
      delta = this.deltas[L - 1];
      ops.push({
        kernel,
        group: ctx.bind(kernel, pre ? [cotangent, st.out, pre, delta] : [cotangent, st.out, delta]),
        groups: linearGroups(n, 64),
      });
    }
    for (let l = L - 1; l >= 0; l--) {
      const layer = this.#layers[l];
      const O = layer.outputs, I = layer.inputs;
      const loadD = `fn load_d(b: u32, j: u32) -> f32 { return d[b * ${u32(O)} + j]; }`;
      // W̄_l += δ_l x_lᵀ, b̄_l += δ_l, per chunk
      {
        const tiled = this.#tiled(O, I + 1);
        const { code, call } = this.#loadX(l, stage);
        const kernel = ctx.kernel({
          name: `mlp.vjp.weights.l${l}`,
          bindings: [
            { name: "d", access: "read" },
            { name: l === 0 ? "y" : "x", access: "read" },
            { name: "partials", access: "read_write" },
          ],
          call,
          code: `${loadD}\n${code}\n${weightCode(layer, this.chunks, this.paramCount, tiled)}`,
        });
        ops.push({
          kernel,
          group: ctx.bind(kernel, [delta, l === 0 ? st.y : st.hidden[l - 1], partials]),
          groups: weightGroups(layer, this.chunks, tiled),
        });
      }
      // δ_{l−1} = (W_lᵀ δ_l) ⊙ σ'(z_{l−1}), or ȳ = W_0ᵀ δ_0 without the t column
      {
        const tiled = this.#tiled(I, O);
        const skip = l === 0 && this.mlp.timeDependent ? 1 : 0;
        let store: string;
        const bindings: BindingSpec[] = [
          { name: "d", access: "read" },
          { name: "p", access: "read" },
        ];
        const slices: Slice[] = [delta, params];
        if (l === 0) {
          bindings.push({ name: "ybar", access: "read_write" });
          slices.push(yBar);
          store = `fn store(b: u32, k: u32, s: f32) { ybar[b * ${u32(this.mlp.dim)} + k - ${
            u32(skip)
          }] = s; }`;
        } else {
          const act = WGSL_ACTIVATIONS[this.mlp.layerShapes[l - 1].activation];
          const pre = st.pre[l - 1];
          bindings.push({ name: "a", access: "read" });
          slices.push(st.hidden[l - 1]);
          if (pre) {
            bindings.push({ name: "z", access: "read" });
            slices.push(pre);
          }
          bindings.push({ name: "dprev", access: "read_write" });
          slices.push(this.deltas[l - 1]);
          const at = `b * ${u32(I)} + k`;
          store = `fn store(b: u32, k: u32, s: f32) {
  dprev[${at}] = s * ${act.derivative(pre ? `z[${at}]` : "0.0", `a[${at}]`)};
}`;
        }
        const kernel = ctx.kernel({
          name: `mlp.vjp.input.l${l}`,
          bindings,
          header: ACTIVATION_HELPERS,
          code: `${loadD}\n${store}\n${transposedCode(layer, tiled, skip)}`,
        });
        ops.push({
          kernel,
          group: ctx.bind(kernel, slices),
          groups: transposedGroups(layer, tiled, skip),
        });
        if (l > 0) delta = this.deltas[l - 1];
      }
    }
    return ops;
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
    const ctx = this.#ctx;
    const region = this.#stageRegion(st);
    const dim = this.mlp.dim;
    const skip = this.mlp.timeDependent ? 1 : 0;
    const L = this.#layers.length;
    const at = (offset: number, width: number, index: string) =>
      `s_[${u32(offset)} + b * ${u32(width)} + ${index}]`;
    const lines: string[] = [`  let b = i;`, `  var x0: array<f32, ${this.mlp.inputDim}>;`];
    if (skip) lines.push(`  x0[0] = ${this.#stageTime(stage)};`);
    lines.push(
      `  for (var e = 0u; e < ${u32(dim)}; e++) {`,
      `    let v = load_y(b, e);`,
      `    ${at(region.y, dim, "e")} = v;`,
      `    x0[e + ${u32(skip)}] = v;`,
      `  }`,
    );
    for (let l = 0; l < L; l++) {
      const { inputs: I, outputs: O, weightOffset: W, biasOffset: BIAS } = this.#layers[l];
      const act = WGSL_ACTIVATIONS[this.mlp.layerShapes[l].activation];
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
      code: `${load}\n${linearMain(this.batch, lines.join("\n"))}`,
    });
    return [{ kernel, group: ctx.bind(kernel, slices), groups: linearGroups(this.batch, 64) }];
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
    const ctx = this.#ctx;
    const region = this.#stageRegion(st);
    const deltas = this.#deltaRegion();
    const dim = this.mlp.dim;
    const skip = this.mlp.timeDependent ? 1 : 0;
    const L = this.#layers.length;
    const st_ = (offset: number, width: number, index: string) =>
      `s_[${u32(offset)} + b * ${u32(width)} + ${index}]`;
    const del = (l: number, index: string) =>
      `del[${u32(deltas.offsets[l])} + b * ${u32(this.#layers[l].outputs)} + ${index}]`;
    const finalAct = WGSL_ACTIVATIONS[this.mlp.layerShapes[L - 1].activation];
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
      const { inputs: I, outputs: O, weightOffset: W } = this.#layers[l];
      if (l > 0) {
        const act = WGSL_ACTIVATIONS[this.mlp.layerShapes[l - 1].activation];
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
      code: `${io.load}\n${linearMain(this.batch, lines.join("\n"))}`,
    });
    return [{
      kernel,
      group: ctx.bind(kernel, [region.slice, st.out, params, deltas.slice, ...io.slices]),
      groups: linearGroups(this.batch, 64),
    }];
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
    const ctx = this.#ctx;
    const region = this.#stageRegion(st);
    const deltas = this.#deltaRegion();
    const dim = this.mlp.dim;
    const td = this.mlp.timeDependent;
    const P = this.paramCount;
    const R = this.chunks.rows;
    const branches: string[] = [];
    this.#layers.forEach((layer, l) => {
      const { inputs: I, outputs: O, weightOffset: W, biasOffset: BIAS } = layer;
      const d = `del[${u32(deltas.offsets[l])} + b * ${u32(O)} + j]`;
      const sumX = (x: string) => `for (var b = start; b < end; b++) { s += ${d} * ${x}; }`;
      let weights: string;
      if (l > 0) weights = sumX(`s_[${u32(region.hidden[l - 1])} + b * ${u32(I)} + k]`);
      else if (!td) weights = sumX(`s_[${u32(region.y)} + b * ${u32(dim)} + k]`);
      else {
        weights = `if (k == 0u) {
        let t = ${this.#stageTime(stage)};
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
        this.chunks.chunks * P,
        `  let c = i / ${u32(P)};
  let p = i % ${u32(P)};
  let start = c * ${u32(R)};
  let end = min(start + ${u32(R)}, ${u32(this.batch)});
  var s = 0.0;
  ${branches.join(" else ")}
  partials[i] += s;`,
      ),
    });
    return [{
      kernel,
      group: ctx.bind(kernel, [region.slice, deltas.slice, partials]),
      groups: linearGroups(this.chunks.chunks * P, 64),
    }];
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

  /** A stage's consecutive buffers as one slice, with their offsets in it (in values). */
  #stageRegion(st: StageBuffers): {
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
  #deltaRegion(): { slice: Slice; offsets: number[] } {
    const first = this.deltas[0], last = this.deltas[this.deltas.length - 1];
    return {
      slice: {
        buffer: first.buffer,
        offset: first.offset,
        length: (last.offset - first.offset) / 4 + last.length,
      },
      offsets: this.deltas.map((d) => (d.offset - first.offset) / 4),
    };
  }

  /** WGSL of stage `stage`'s time in the call record. */
  #stageTime(stage: number): string {
    return `call.st[${stage >> 2}u][${stage & 3}u]`;
  }

  #tiled(m: number, n: number): boolean {
    if (this.#tiling === "always") return true;
    if (this.#tiling === "never") return false;
    return !this.#ctx.isFallback && tilingPays(m, n);
  }

  /** `load_x(b, k)`: layer l's input (with t read from the call record at layer 0). */
  #loadX(l: number, stage: number): { code: string; call: boolean } {
    const dim = this.mlp.dim;
    if (l > 0) {
      const I = this.#layers[l].inputs;
      return {
        code: `fn load_x(b: u32, k: u32) -> f32 { return x[b * ${u32(I)} + k]; }`,
        call: false,
      };
    }
    if (!this.mlp.timeDependent) {
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
}
