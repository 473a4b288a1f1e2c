/**
 * Saved outputs of a fixed-step solve on the GPU (the mirror of
 * solvers/outputs.ts for `saveAt: { t0?, steps: true }`): the solution
 * `y_n` of every saved grid point goes to its slot of `ys`
 * `[saved, batch, dim]`, and the backward pass adds each slot's cotangent to
 * `ȳ_n` when it reaches that point.
 *
 * The cotangents are either given (no loss: `data` holds `∂L/∂ys`) or those
 * of a {@link GpuLoss} against `data` (training/webgpu/loss.ts's weighted
 * mean squared error, whose `data` are targets). The solver knows no loss of
 * its own: the loss is the caller's, and its cotangent is formed where the
 * backward pass uses it, so no cotangent buffer is stored. A loss reads the
 * saved states, the data, `w_s` (a weight per saved row, then `1 / Σ w m`)
 * and `m_b ∈ {0, 1}` (a mask per trajectory: rows padding a short minibatch).
 *
 * @module
 */

import type { BindingSpec, GpuContext, Slice } from "./runtime/context.ts";
import type { Op } from "./runtime/recorder.ts";
import { linearGroups, linearMain, u32 } from "./runtime/wgsl.ts";

/**
 * WGSL expressions reading the outputs' buffers at an index, for a
 * {@link GpuLoss}'s cotangent: through their own bindings or one shared one.
 *
 * @example
 * ```ts
 * import type { OutputReaders } from "./outputs.ts";
 * import assert from "node:assert/strict";
 *
 * const read: OutputReaders = {
 *   ys: (i) => `ys[${i}]`, data: (i) => `data[${i}]`,
 *   weights: (i) => `weights[${i}]`, mask: (i) => `mask[${i}]`,
 * };
 * assert.equal(read.data("7u"), "data[7u]");
 * ```
 */
export interface OutputReaders {
  /** Saved states `[saved, batch, dim]`. */
  readonly ys: (index: string) => string;
  /** The loss's data (e.g. targets), same layout. */
  readonly data: (index: string) => string;
  /** `w_s` per saved row, then `1 / Σ w m` at index `saved`. */
  readonly weights: (index: string) => string;
  /** `m_b` per trajectory. */
  readonly mask: (index: string) => string;
}

/**
 * A loss of the saved outputs whose cotangent the backward pass forms where
 * it needs it. The solver defines the shape, training the losses
 * (training/webgpu/loss.ts): the solver never computes a loss itself.
 * A loss is written against the backend's runtime, so the type is
 * internal: users pass training's losses (`gpuMse`).
 *
 * @internal
 *
 * @example A loss that is the sum of the saved values, `∂L/∂ys = 1`
 * ```ts
 * import type { GpuLoss } from "./outputs.ts";
 * import assert from "node:assert/strict";
 *
 * const sum: GpuLoss = {
 *   name: "sum",
 *   cotangentBody: () => "  return 1.0;",
 *   lossOps: () => [],
 * };
 * assert.equal(sum.cotangentBody({} as never, { batch: 1, dim: 1, saved: 1 }), "  return 1.0;");
 * ```
 */
export interface GpuLoss {
  /** Name, in kernel labels. */
  readonly name: string;
  /**
   * The body of WGSL `fn cotangent(slot: u32, i: u32) -> f32`, the loss's
   * `∂L/∂ys[slot, i]` (`i` indexes the `[batch, dim]` values of a slot).
   */
  cotangentBody(read: OutputReaders, sizes: { batch: number; dim: number; saved: number }): string;
  /** The dispatches that write the loss's value into `out[index]`. */
  lossOps(ctx: GpuContext, outputs: GpuOutputs, out: Slice, index: number): Op[];
}

/**
 * Options of {@link GpuOutputs}.
 *
 * @example
 * ```ts
 * import { GpuOutputs, type GpuOutputsOptions } from "./outputs.ts";
 * import { GpuContext } from "./runtime/context.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const steps = 100;
 *   const options: GpuOutputsOptions = { batch: 8, dim: 2, saved: steps + 1, loss: null };
 *   const outputs = new GpuOutputs(ctx, options);
 *   // [saved, batch, dim] outputs and, with no loss, their cotangents
 *   assert.equal(outputs.ys.length, 101 * 8 * 2);
 *   assert.equal(outputs.data.length, 101 * 8 * 2);
 *   ctx.destroy();
 * }
 * ```
 */
export interface GpuOutputsOptions {
  /** Trajectories. */
  readonly batch: number;
  /** State dimension. */
  readonly dim: number;
  /** Saved slots. */
  readonly saved: number;
  /** The loss whose cotangents the backward pass takes, or null when `data` are the cotangents `∂L/∂ys`. */
  readonly loss: GpuLoss | null;
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
 *   const out = new GpuOutputs(ctx, { batch: 3, dim: 2, saved: 4, loss: null });
 *   const total = out.setWeights(Float64Array.of(0, 1, 1, 1), 2);
 *   assert.equal(total, 3 * 2 * 2);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuOutputs {
  /** Saved states `[saved, batch, dim]`. */
  readonly ys: Slice;
  /** The loss's data (e.g. targets), or the cotangents without a loss, `[saved, batch, dim]`. */
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
   * @param options Sizes and loss.
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
   * given cotangent, or the loss's.
   *
   * @param binding Read everything from this one binding, bound to
   *   {@link GpuOutputs.region} (default: the four bindings of
   *   {@link GpuOutputs.cotangentBindings}).
   * @returns The function.
   */
  cotangentCode(binding?: string): string {
    const { batch, dim, saved, loss } = this.options;
    const names = ["ys", "data", "weights", "mask"] as const;
    const region = this.region();
    const [ys, data, weights, mask] = names.map((name, k) => (index: string) =>
      binding === undefined
        ? `${name}[${index}]`
        : `${binding}[${u32(region.offsets[k])} + ${index}]`
    );
    const body = loss === null
      ? `  return ${data(`slot * ${u32(batch * dim)} + i`)};`
      : loss.cotangentBody({ ys, data, weights, mask }, { batch, dim, saved });
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
    const { batch, dim, loss } = this.options;
    const n = batch * dim;
    const kernel = this.#ctx.kernel({
      name: `outputs.cotangent.${loss?.name ?? "cotangents"}`,
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
