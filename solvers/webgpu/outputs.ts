/**
 * Saved outputs of a fixed-step solve on the GPU (the mirror of
 * solvers/outputs.ts for `saveAt: { t0?, steps: true }`): the solution
 * `y_n` of every saved grid point goes to its slot of `ys`
 * `[saved, batch, dim]`, and the backward pass adds each slot's cotangent to
 * `ȳ_n` when it reaches that point.
 *
 * The cotangents are either given (`cotangents` mode: `data` holds `∂L/∂ys`)
 * or those of the weighted mean squared error against targets (`mse` mode:
 * `data` holds the targets), computed where they are used, so no cotangent
 * buffer is stored:
 *
 *     ∂L/∂ys[s, b, e] = 2 w_s m_b (ys[s, b, e] − target[s, b, e]) / Σ w m
 *
 * with `w_s` a weight per saved row (training/loss.ts's per-row weights) and
 * `m_b ∈ {0, 1}` a mask per trajectory (rows padding a short minibatch).
 *
 * @module
 */

import type { BindingSpec, GpuContext, Slice } from "./runtime/context.ts";
import type { Op } from "./runtime/recorder.ts";
import { linearGroups, linearMain, u32 } from "./runtime/wgsl.ts";

/**
 * Options of {@link GpuOutputs}.
 *
 * @example
 * ```ts
 * import type { GpuOutputsOptions } from "./outputs.ts";
 * import assert from "node:assert/strict";
 *
 * const steps = 100;
 * const options: GpuOutputsOptions = { batch: 8, dim: 2, saved: steps + 1, mode: "mse" };
 * assert.equal(options.saved * options.batch * options.dim, 1616);
 * ```
 */
export interface GpuOutputsOptions {
  /** Trajectories. */
  readonly batch: number;
  /** State dimension. */
  readonly dim: number;
  /** Saved slots. */
  readonly saved: number;
  /** `mse` (data are targets) or `cotangents` (data are `∂L/∂ys`). */
  readonly mode: "mse" | "cotangents";
}

/**
 * The saved outputs, their targets or cotangents, and the kernels that write
 * and read them.
 *
 * @example Weights: row 0 dropped, two of three trajectories kept
 * ```ts
 * import { GpuOutputs } from "./outputs.ts";
 * import { GpuContext } from "./runtime/context.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const out = new GpuOutputs(ctx, { batch: 3, dim: 2, saved: 4, mode: "mse" });
 *   const total = out.setWeights(Float64Array.of(0, 1, 1, 1), 2);
 *   assert.equal(total, 3 * 2 * 2);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuOutputs {
  /** Saved states `[saved, batch, dim]`. */
  readonly ys: Slice;
  /** Targets (`mse`) or cotangents, `[saved, batch, dim]`. */
  readonly data: Slice;
  /** Per-row weights `w_s`, then `1 / Σ w m` at index `saved`. */
  readonly weights: Slice;
  /** Per-trajectory mask `m_b`. */
  readonly mask: Slice;
  /** The options. */
  readonly options: GpuOutputsOptions;
  readonly #ctx: GpuContext;
  readonly #record = new Map<Slice, Op[]>();
  readonly #cotangent = new Map<Slice, Op[]>();

  /**
   * Allocates the buffers; weights start at one, every trajectory kept.
   *
   * @param ctx The context.
   * @param options Sizes and mode.
   */
  constructor(ctx: GpuContext, options: GpuOutputsOptions) {
    this.#ctx = ctx;
    this.options = options;
    const size = options.batch * options.dim;
    [this.ys, this.data, this.weights, this.mask] = ctx.arena("outputs", [
      options.saved * size,
      options.saved * size,
      options.saved + 1,
      options.batch,
    ]);
    this.setWeights(undefined, options.batch);
  }

  /**
   * Sets the per-row weights and how many trajectories count (the first
   * `rows`; the others are masked out).
   *
   * @param weights One weight ≥ 0 per saved row, or undefined for all ones.
   * @param rows Trajectories that count, in `[1, batch]`.
   * @returns `Σ w m · dim`, the loss's denominator.
   */
  setWeights(weights: Float64Array | undefined, rows: number): number {
    const { saved, batch, dim } = this.options;
    if (!Number.isInteger(rows) || rows < 1 || rows > batch) {
      throw new RangeError(`Invalid rows: got ${rows}; expected an integer in [1, ${batch}].`);
    }
    const w = weights ?? new Float64Array(saved).fill(1);
    if (w.length !== saved) {
      throw new RangeError(
        `Invalid weights: got ${w.length}; expected one per saved row (${saved}).`,
      );
    }
    let sum = 0;
    for (let s = 0; s < saved; s++) {
      if (!(w[s] >= 0 && w[s] < Infinity)) {
        throw new RangeError(`Invalid weights[${s}]: got ${w[s]}; expected a finite number >= 0.`);
      }
      sum += w[s];
    }
    const total = sum * rows * dim;
    if (!(total > 0)) throw new RangeError("Invalid weights: expected at least one weight > 0.");
    const packed = new Float64Array(saved + 1);
    packed.set(w);
    packed[saved] = 1 / total;
    this.#ctx.write(this.weights, packed);
    const mask = new Float64Array(batch);
    mask.fill(1, 0, rows);
    this.#ctx.write(this.mask, mask);
    return total;
  }

  /**
   * The dispatch that copies `y` into the slot of the call record's grid
   * point (run with the point record; the caller skips unsaved points).
   *
   * @param y The solution `[batch, dim]`.
   * @returns The dispatch.
   */
  recordOps(y: Slice): Op[] {
    const cached = this.#record.get(y);
    if (cached) return cached;
    const n = this.options.batch * this.options.dim;
    const kernel = this.#ctx.kernel({
      name: "outputs.record",
      bindings: [{ name: "y", access: "read" }, { name: "ys", access: "read_write" }],
      call: true,
      code: linearMain(n, `  ys[call.slot * ${u32(n)} + i] = y[i];`),
    });
    const ops = [{
      kernel,
      group: this.#ctx.bind(kernel, [y, this.ys]),
      groups: linearGroups(n, 64),
    }];
    this.#record.set(y, ops);
    return ops;
  }

  /**
   * The bindings {@link GpuOutputs.cotangentCode} reads, in order; bind them
   * to {@link GpuOutputs.cotangentSlices}.
   *
   * @returns Bindings named `ys`, `data`, `weights`, `mask`.
   */
  cotangentBindings(): BindingSpec[] {
    return ["ys", "data", "weights", "mask"].map((name) => ({ name, access: "read" as const }));
  }

  /**
   * The slices of {@link GpuOutputs.cotangentBindings}.
   *
   * @returns `ys`, `data`, `weights`, `mask`.
   */
  cotangentSlices(): Slice[] {
    return [this.ys, this.data, this.weights, this.mask];
  }

  /**
   * WGSL `fn cotangent(slot: u32, i: u32) -> f32`: `∂L/∂ys[slot, i]`, the
   * given cotangent, or the weighted MSE's `2 w_s m_b (ys − data) / Σ w m`.
   *
   * @param binding Read everything from this one binding, bound to
   *   {@link GpuOutputs.region} (default: the four bindings of
   *   {@link GpuOutputs.cotangentBindings}).
   * @returns The function.
   */
  cotangentCode(binding?: string): string {
    const { batch, dim, saved, mode } = this.options;
    const n = batch * dim;
    const names = ["ys", "data", "weights", "mask"] as const;
    const region = this.region();
    const [ys, data, weights, mask] = names.map((name, k) => (index: string) =>
      binding === undefined
        ? `${name}[${index}]`
        : `${binding}[${u32(region.offsets[k])} + ${index}]`
    );
    const body = mode === "cotangents"
      ? `  return ${data(`slot * ${u32(n)} + i`)};`
      : `  let at = slot * ${u32(n)} + i;
  let w = ${weights("slot")} * ${mask(`i / ${u32(dim)}`)};
  if (w > 0.0) { return (2.0 * w * ${weights(u32(saved))}) * (${ys("at")} - ${data("at")}); }
  return 0.0;`;
    return `fn cotangent(slot: u32, i: u32) -> f32 {
${body}
}`;
  }

  /**
   * The outputs, data, weights and mask as one slice (one binding), with
   * the offset of each in it, in values.
   *
   * @returns The slice and the offsets of `ys`, `data`, `weights`, `mask`.
   */
  region(): { slice: Slice; offsets: readonly number[] } {
    const parts = [this.ys, this.data, this.weights, this.mask];
    const first = parts[0], last = parts[3];
    return {
      slice: {
        buffer: first.buffer,
        offset: first.offset,
        length: (last.offset - first.offset) / 4 + last.length,
      },
      offsets: parts.map((x) => (x.offset - first.offset) / 4),
    };
  }

  /**
   * The dispatch that adds the call record's slot's cotangent to `yBar`.
   *
   * @param yBar The cotangent of the solution at that grid point.
   * @returns The dispatch.
   */
  addCotangentOps(yBar: Slice): Op[] {
    const cached = this.#cotangent.get(yBar);
    if (cached) return cached;
    const { batch, dim, mode } = this.options;
    const n = batch * dim;
    const kernel = this.#ctx.kernel({
      name: `outputs.cotangent.${mode}`,
      bindings: [...this.cotangentBindings(), { name: "yb", access: "read_write" }],
      header: this.cotangentCode(),
      call: true,
      code: linearMain(n, "  yb[i] += cotangent(call.slot, i);"),
    });
    const ops = [{
      kernel,
      group: this.#ctx.bind(kernel, [this.ys, this.data, this.weights, this.mask, yBar]),
      groups: linearGroups(n, 64),
    }];
    this.#cotangent.set(yBar, ops);
    return ops;
  }
}
