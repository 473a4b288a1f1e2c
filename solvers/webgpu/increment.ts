/**
 * The increment `Ψ_h(t, y) = h Σ_i b_i k_i` of an explicit Runge–Kutta
 * method on the GPU, and its vector–Jacobian product (numerics.md §1); the
 * mirror of solvers/increment.ts. The tableau's coefficients are baked into
 * the kernels as constants; `t`, `h` and the stage times come from the call
 * record of each dispatch.
 *
 *     Y_i = y + h Σ_{j<i} a_ij k_j,   k_i = f(t + c_i h, Y_i)
 *     k̄_i = h b_i ū + h Σ_{l>i} a_li Ȳ_l,   Ȳ_i = J_f(Y_i)ᵀ k̄_i,   ȳ = Σ_i Ȳ_i
 *
 * `Ψ` itself is never stored: the scheme's update kernels read the stage
 * derivatives `k_i` and form `h Σ_i b_i k_i` inline ({@link GpuIncrement.psi}),
 * and read the `Ȳ_i` to form `ȳ` inline ({@link GpuIncrement.yBarSum}).
 *
 * @module
 */

import { type CheckedTableau, liveStages } from "../tableau.ts";
import type { GpuContext, Slice } from "./runtime/context.ts";
import type { GpuMlp } from "./fields/mlp.ts";
import type { StageBuffers } from "./fields/mlp_stage.ts";
import type { Op } from "./runtime/recorder.ts";
import { f32, linearGroups, linearMain, u32 } from "./runtime/wgsl.ts";
import { MAX_STAGES } from "./runtime/context.ts";

/**
 * One increment's buffers and kernels for a batch. Buffers are allocated
 * once, at construction.
 *
 * @example Ψ_h of Euler is h f(t, y)
 * ```ts
 * import { GpuIncrement } from "./increment.ts";
 * import { GpuMlp } from "./fields/mlp.ts";
 * import { GpuContext } from "./runtime/context.ts";
 * import { CallTable } from "./runtime/calls.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { checkTableau } from "../tableau.ts";
 * import { euler } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new Mlp({ dim: 1, widths: [] }); // f(y) = w y + b
 *   const gpuMlp = new GpuMlp(ctx, mlp, 1);
 *   const params = ctx.upload("theta", Float64Array.of(2, 0.5));
 *   const partials = ctx.buffer("partials", gpuMlp.partialsLength);
 *   const inc = new GpuIncrement(ctx, gpuMlp, checkTableau(euler), params, partials);
 *   const y = ctx.upload("y", Float64Array.of(1));
 *   const calls = new CallTable(ctx, [{ t: 0, h: 0.1, stageTimes: [0] }]);
 *   const rec = new Recorder(ctx);
 *   rec.run(inc.evaluateOps(y), calls.ref(0));
 *   rec.submit();
 *   const k0 = (await ctx.read(inc.stages[0].out))[0];
 *   assert.ok(Math.abs(0.1 * k0 - 0.25) < 1e-7); // h (2·1 + 0.5)
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuIncrement {
  /** The tableau. */
  readonly tableau: CheckedTableau;
  /** Whether stage `i` influences the solution (as the CPU's `Increment`). */
  readonly live: readonly boolean[];
  /** Whether stage `i` is evaluated: the live ones, or every stage when an error estimate needs them. */
  readonly evaluated: readonly boolean[];
  /** Each stage's buffers: input `Y_i`, layer outputs, and `k_i` (`out`). */
  readonly stages: readonly StageBuffers[];
  /** Everything a later VJP needs from an evaluation, in one slice (taped by direct backpropagation). */
  readonly tape: Slice;
  /** The `k_i` of all stages in one slice; `k_i` starts at `kOffsets[i]` values in. */
  readonly kRegion: Slice;
  /** Offsets of the `k_i` in {@link GpuIncrement.kRegion}. */
  readonly kOffsets: readonly number[];
  /** The `Ȳ_i` of all stages in one slice. */
  readonly barRegion: Slice;
  /** Offsets of the `Ȳ_i` in {@link GpuIncrement.barRegion}. */
  readonly barOffsets: readonly number[];
  readonly #ctx: GpuContext;
  readonly #mlp: GpuMlp;
  readonly #params: Slice;
  readonly #partials: Slice;
  readonly #bars: readonly Slice[];
  readonly #kBar: Slice;
  readonly #size: number;
  readonly #stageInputs = new Map<Slice, Op[]>();
  readonly #liveInputs = new Map<Slice, Op[]>();
  readonly #vjpPositive = new Map<Slice, Op[]>();
  readonly #vjpNegative = new Map<Slice, Op[]>();

  /**
   * Allocates the buffers and prepares the kernels.
   *
   * @param ctx The context.
   * @param mlp The field's kernels (shared with the other increment of a scheme).
   * @param tableau A validated tableau of at most 16 stages.
   * @param params The parameters θ.
   * @param partials Where VJPs accumulate partial parameter gradients.
   * @param errorEstimate Evaluate every stage, for the embedded error
   *   estimate `h Σ_i bError_i k_i` (default false: only the live ones).
   */
  constructor(
    ctx: GpuContext,
    mlp: GpuMlp,
    tableau: CheckedTableau,
    params: Slice,
    partials: Slice,
    errorEstimate = false,
  ) {
    const s = tableau.stages;
    if (s > MAX_STAGES) {
      throw new RangeError(
        `Invalid tableau: ${s} stages; the GPU backend takes at most ${MAX_STAGES}.`,
      );
    }
    this.#ctx = ctx;
    this.#mlp = mlp;
    this.tableau = tableau;
    this.#params = params;
    this.#partials = partials;
    const n = mlp.batch * mlp.mlp.dim;
    this.#size = n;
    const stageLengths = mlp.stageLengths();
    const lengths: number[] = [];
    for (let i = 0; i < s; i++) lengths.push(...stageLengths);
    for (let i = 0; i < s; i++) lengths.push(n);
    const slices = ctx.arena(`increment.${tableau.name}`, lengths);
    const m = stageLengths.length;
    const ks = slices.slice(s * m);
    const stages: StageBuffers[] = [];
    for (let i = 0; i < s; i++) {
      stages.push(mlp.stageBuffers(slices.slice(i * m, (i + 1) * m), ks[i]));
    }
    this.stages = stages;
    const first = slices[0], last = slices[slices.length - 1];
    this.tape = {
      buffer: first.buffer,
      offset: 0,
      length: (last.offset - first.offset) / 4 + last.length,
    };
    this.kRegion = region(ks);
    this.kOffsets = ks.map((k) => (k.offset - ks[0].offset) / 4);
    const bars = ctx.arena(`increment.${tableau.name}.bars`, new Array(s + 1).fill(n));
    this.#bars = bars.slice(0, s);
    this.#kBar = bars[s];
    this.barRegion = region(this.#bars);
    this.barOffsets = this.#bars.map((b) => (b.offset - bars[0].offset) / 4);
    const live = liveStages(tableau);
    this.live = live;
    this.evaluated = errorEstimate ? live.map(() => true) : live;
  }

  /**
   * The dispatches that evaluate the stages at the state `y` (the stage
   * inputs, then `f`), to run with the call record of `(t, h)`: every
   * {@link GpuIncrement.evaluated} stage, or only the live ones where the
   * error estimate is not wanted (the reversible inverse). Prepared once per
   * input slice and choice.
   *
   * @param y The state `[batch, dim]`; not modified.
   * @param stages `"evaluated"` (default) or `"live"`.
   * @returns The dispatches.
   */
  evaluateOps(y: Slice, stages: "evaluated" | "live" = "evaluated"): Op[] {
    const which = stages === "live" ? this.live : this.evaluated;
    const cache = which === this.live ? this.#liveInputs : this.#stageInputs;
    const cached = cache.get(y);
    if (cached) return cached;
    const { aDense, stages: s } = this.tableau;
    const ctx = this.#ctx;
    const n = this.#size;
    const ops: Op[] = [];
    for (let i = 0; i < s; i++) {
      if (!which[i]) continue;
      if (this.#mlp.fused) {
        // Y_i formed row by row inside the network's kernel
        const terms: string[] = [];
        for (let j = 0; j < i; j++) {
          const a = aDense[i * s + j];
          if (a !== 0) {
            terms.push(`  v += (call.h * ${f32(a)}) * k[${u32(this.kOffsets[j])} + at];`);
          }
        }
        ops.push(...this.#mlp.fusedForwardOps(this.stages[i], this.#params, i, {
          bindings: [{ name: "y", access: "read" }, { name: "k", access: "read_write" }],
          slices: [y, this.kRegion],
          load: `fn load_y(b: u32, e: u32) -> f32 {
  let at = b * DIM + e;
  var v = y[at];
${terms.join("\n")}
  return v;
}`,
          out: { name: "k", offset: this.kOffsets[i] },
        }));
        continue;
      }
      // Y_i = y + h Σ_{j<i} a_ij k_j, summed in j order as on the CPU
      const terms: string[] = [];
      for (let j = 0; j < i; j++) {
        const a = aDense[i * s + j];
        if (a !== 0) terms.push(`  v += (call.h * ${f32(a)}) * k[${u32(this.kOffsets[j])} + i];`);
      }
      const kernel = ctx.kernel({
        name: `increment.stage${i}`,
        bindings: [
          { name: "y", access: "read" },
          { name: "k", access: "read" },
          { name: "out", access: "read_write" },
        ],
        call: true,
        code: linearMain(n, `  var v = y[i];\n${terms.join("\n")}\n  out[i] = v;`),
      });
      ops.push({
        kernel,
        group: ctx.bind(kernel, [y, this.kRegion, this.stages[i].y]),
        groups: linearGroups(n, 64),
      });
      ops.push(...this.#mlp.forwardOps(this.stages[i], this.#params, i));
    }
    cache.set(y, ops);
    return ops;
  }

  /**
   * The dispatches of the VJP of the latest evaluation for the cotangent
   * `sign · ū`, leaving `Ȳ_i` in {@link GpuIncrement.barRegion} (read with
   * {@link GpuIncrement.yBarSum}) and adding `Σ_i J_θ(Y_i)ᵀ k̄_i` to the
   * partial parameter sums. Run with the evaluation's call record.
   * Prepared once per cotangent slice and sign.
   *
   * @param uBar The cotangent `ū` of the increment, `[batch, dim]`.
   * @param sign +1, or −1 to use `−ū` (the reversible scheme's `z` update subtracts `Ψ_{−h}`).
   * @returns The dispatches.
   */
  vjpOps(uBar: Slice, sign: 1 | -1): Op[] {
    const key = sign < 0 ? this.#vjpNegative : this.#vjpPositive;
    const cached = key.get(uBar);
    if (cached) return cached;
    const ops = this.#vjpOps(uBar, sign);
    key.set(uBar, ops);
    return ops;
  }

  #vjpOps(uBar: Slice, sign: 1 | -1): Op[] {
    const { aDense, b, stages: s } = this.tableau;
    const ctx = this.#ctx;
    const n = this.#size;
    const ops: Op[] = [];
    const u = sign < 0 ? "-u[i]" : "u[i]";
    for (let i = s - 1; i >= 0; i--) {
      if (!this.live[i]) continue;
      if (this.#mlp.fused) {
        // k̄_i formed row by row inside the network's kernel
        const lines = [
          b[i] === 0
            ? "  var v = 0.0;"
            : `  var v = (call.h * ${f32(b[i])}) * (${u.replace("[i]", "[at]")});`,
        ];
        for (let l = i + 1; l < s; l++) {
          const a = aDense[l * s + i];
          if (a === 0 || !this.live[l]) continue;
          lines.push(`  v += (call.h * ${f32(a)}) * bars[${u32(this.barOffsets[l])} + at];`);
        }
        ops.push(
          ...this.#mlp.fusedVjpOps(this.stages[i], this.#params, i, {
            bindings: [{ name: "u", access: "read" }, { name: "bars", access: "read_write" }],
            slices: [uBar, this.barRegion],
            load: `fn load_v(b: u32, e: u32) -> f32 {
  let at = b * DIM + e;
${lines.join("\n")}
  return v;
}`,
            out: { name: "bars", offset: this.barOffsets[i] },
          }),
          ...this.#mlp.fusedWeightOps(this.stages[i], this.#partials, i),
        );
        continue;
      }
      const lines = [`  var v = (call.h * ${f32(b[i])}) * (${u});`];
      if (b[i] === 0) lines[0] = "  var v = 0.0;";
      for (let l = i + 1; l < s; l++) {
        const a = aDense[l * s + i];
        if (a === 0 || !this.live[l]) continue;
        lines.push(`  v += (call.h * ${f32(a)}) * bars[${u32(this.barOffsets[l])} + i];`);
      }
      const kernel = ctx.kernel({
        name: `increment.vjp.stage${i}`,
        bindings: [
          { name: "u", access: "read" },
          { name: "bars", access: "read" },
          { name: "kbar", access: "read_write" },
        ],
        call: true,
        code: linearMain(n, `${lines.join("\n")}\n  kbar[i] = v;`),
      });
      ops.push({
        kernel,
        group: ctx.bind(kernel, [uBar, this.barRegion, this.#kBar]),
        groups: linearGroups(n, 64),
      });
      ops.push(
        ...this.#mlp.vjpOps(
          this.stages[i],
          this.#params,
          this.#kBar,
          this.#bars[i],
          this.#partials,
          i,
        ),
      );
    }
    return ops;
  }

  /**
   * WGSL expression of `Ψ[i] = h Σ_j b_j k_j[i]` (summed in stage order,
   * as the CPU does), reading the stage derivatives from the storage array
   * named `k` bound to {@link GpuIncrement.kRegion} and `h` from the call record.
   *
   * @param k Name of the binding.
   * @returns The expression (uses the element index `i`).
   */
  psi(k: string): string {
    let e = "0.0";
    this.tableau.b.forEach((bi, j) => {
      if (bi !== 0) e = `(${e} + (call.h * ${f32(bi)}) * ${k}[${u32(this.kOffsets[j])} + i])`;
    });
    return e;
  }

  /**
   * WGSL expression of `ȳ[i] = Σ_i Ȳ_i[i]` over the live stages, reading the
   * storage array named `bars` bound to {@link GpuIncrement.barRegion}.
   *
   * @param bars Name of the binding.
   * @returns The expression (uses the element index `i`).
   */
  yBarSum(bars: string): string {
    let e = "0.0";
    this.live.forEach((isLive, j) => {
      if (isLive) e = `(${e} + ${bars}[${u32(this.barOffsets[j])} + i])`;
    });
    return e;
  }
}

/** One slice spanning consecutive slices of the same buffer. */
function region(slices: readonly Slice[]): Slice {
  const first = slices[0], last = slices[slices.length - 1];
  return {
    buffer: first.buffer,
    offset: first.offset,
    length: (last.offset - first.offset) / 4 + last.length,
  };
}
