/**
 * AdamW (training/adamw.ts) on the GPU, in the arithmetic order of
 * PyTorch's `torch.optim.AdamW`, with optional gradient-norm clipping, in
 * f32. Step-dependent scalars (`1 − η·λ`, `η / (1 − β₁ᵗ)`, `√(1 − β₂ᵗ)`)
 * are computed in float64 on the CPU and written to a uniform before each
 * step (a write, never a read-back):
 *
 *     θ ← θ · (1 − η·λ)
 *     m ← m + (1 − β₁)(g − m)
 *     v ← β₂ v + (1 − β₂) g²
 *     θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * The update runs only when the gate `status[okIndex]` is 1 (the trainer
 * clears it when the loss or the gradient is not finite); with clipping,
 * `g` is scaled by `c / (‖g‖ + 10⁻⁶)` when that is below 1, `‖g‖²` being
 * read from `status[normIndex]`.
 *
 * @module
 */

import type { AdamWOptions, AdamWState } from "../adamw.ts";
import type { GpuContext, Slice } from "../../solvers/webgpu/runtime/context.ts";
import type { Op } from "../../solvers/webgpu/runtime/recorder.ts";
import { f32, linearGroups, linearMain, u32 } from "../../solvers/webgpu/runtime/wgsl.ts";

/**
 * Options of {@link GpuAdamW}.
 *
 * @example
 * ```ts
 * import { GpuAdamW, type GpuAdamWOptions } from "./adamw.ts";
 * import { GpuContext } from "../../solvers/webgpu/runtime/context.ts";
 * import { Recorder } from "../../solvers/webgpu/runtime/recorder.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { AdamW } from "../adamw.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const theta = Float64Array.of(1, -1), g = Float64Array.of(0.5, -2);
 *   const params = ctx.upload("theta", theta);
 *   const grads = ctx.upload("g", g);
 *   // status = [1 (update), ‖g‖²]: with clip 1, the step takes g / ‖g‖
 *   const normSq = 0.5 ** 2 + 2 ** 2;
 *   const status = ctx.upload("status", Float64Array.of(1, normSq));
 *   const options: GpuAdamWOptions = { lr: 0.1, weightDecay: 0.01, clip: 1 };
 *   const opt = new GpuAdamW(ctx, 2, options, params, grads, { status, okIndex: 0, normIndex: 1 });
 *   opt.prepare();
 *   const rec = new Recorder(ctx);
 *   rec.run(opt.ops, null);
 *   rec.submit();
 *   const cpu = new AdamW(2, { lr: 0.1, weightDecay: 0.01 });
 *   cpu.step(theta, g.map((x) => x / Math.sqrt(normSq)));
 *   const gpu = await ctx.read(params);
 *   for (let i = 0; i < 2; i++) assert.ok(Math.abs(gpu[i] - theta[i]) < 1e-6);
 *   ctx.destroy();
 * }
 * ```
 */
export interface GpuAdamWOptions extends AdamWOptions {
  /** Largest gradient norm (clipping), or null (default) for none. */
  clip?: number | null;
}

/**
 * Where {@link GpuAdamW} reads its gate and the squared gradient norm.
 *
 * @example
 * ```ts
 * import { type AdamWGate, GpuAdamW } from "./adamw.ts";
 * import { GpuContext } from "../../solvers/webgpu/runtime/context.ts";
 * import { Recorder } from "../../solvers/webgpu/runtime/recorder.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { AdamW } from "../adamw.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const theta = Float64Array.of(1, -1), g = Float64Array.of(0.5, -2);
 *   const params = ctx.upload("theta", theta);
 *   const grads = ctx.upload("g", g);
 *   // The gate at index 2 reads 0: the update is skipped.
 *   const status = ctx.upload("status", Float64Array.of(0, 4.25, 0));
 *   const gate: AdamWGate = { status, okIndex: 2, normIndex: 1 };
 *   const opt = new GpuAdamW(ctx, 2, { lr: 0.1, weightDecay: 0.01 }, params, grads, gate);
 *   opt.prepare();
 *   const rec = new Recorder(ctx);
 *   rec.run(opt.ops, null);
 *   rec.submit();
 *   assert.deepEqual([...await ctx.read(params)], [...theta]);
 *   // Open (1), the same dispatches update θ as the CPU's AdamW.
 *   ctx.write(status, Float64Array.of(0, 4.25, 1));
 *   rec.run(opt.ops, null);
 *   rec.submit();
 *   new AdamW(2, { lr: 0.1, weightDecay: 0.01 }).step(theta, g);
 *   const gpu = await ctx.read(params);
 *   for (let i = 0; i < 2; i++) assert.ok(Math.abs(gpu[i] - theta[i]) < 1e-6);
 *   ctx.destroy();
 * }
 * ```
 */
export interface AdamWGate {
  /** A buffer of scalars. */
  readonly status: Slice;
  /** Index of the gate (1: update, anything else: skip). */
  readonly okIndex: number;
  /** Index of `‖g‖²` (read only with clipping). */
  readonly normIndex: number;
}

/**
 * The AdamW update of a flat parameter buffer.
 *
 * @example One step matches the CPU's AdamW
 * ```ts
 * import { GpuAdamW } from "./adamw.ts";
 * import { GpuContext } from "../../solvers/webgpu/runtime/context.ts";
 * import { Recorder } from "../../solvers/webgpu/runtime/recorder.ts";
 * import { findGpuAdapter } from "../../solvers/webgpu/runtime/device.ts";
 * import { AdamW } from "../adamw.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const theta = Float64Array.of(1, -1), g = Float64Array.of(0.5, -2);
 *   const params = ctx.upload("theta", theta);
 *   const grads = ctx.upload("g", g);
 *   const status = ctx.upload("status", Float64Array.of(1, 0));
 *   const opt = new GpuAdamW(ctx, 2, { lr: 0.1, weightDecay: 0.01 }, params, grads, {
 *     status, okIndex: 0, normIndex: 1,
 *   });
 *   opt.prepare();
 *   const rec = new Recorder(ctx);
 *   rec.run(opt.ops, null);
 *   rec.submit();
 *   const cpu = new AdamW(2, { lr: 0.1, weightDecay: 0.01 });
 *   cpu.step(theta, g);
 *   const gpu = await ctx.read(params);
 *   for (let i = 0; i < 2; i++) assert.ok(Math.abs(gpu[i] - theta[i]) < 1e-6);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuAdamW {
  /** Number of parameters. */
  readonly size: number;
  /** Base learning rate η. */
  readonly lr: number;
  /** β₁. */
  readonly beta1: number;
  /** β₂. */
  readonly beta2: number;
  /** ε. */
  readonly eps: number;
  /** Decoupled weight decay λ. */
  readonly weightDecay: number;
  /** Clipping norm, or null. */
  readonly clip: number | null;
  /** First moments. */
  readonly m: Slice;
  /** Second moments. */
  readonly v: Slice;
  /** The update's dispatch (run after {@link GpuAdamW.prepare}). */
  readonly ops: Op[];
  #step = 0;
  readonly #ctx: GpuContext;
  readonly #uniform: GPUBuffer;

  /**
   * Allocates the buffers and prepares the kernels.
   *
   * @param ctx The context.
   * @param size Number of parameters.
   * @param options Hyperparameters (PyTorch's defaults where absent) and clipping.
   * @param params The parameters θ, updated in place.
   * @param grads The gradient.
   * @param gate Where the gate and `‖g‖²` are read.
   */
  constructor(
    ctx: GpuContext,
    size: number,
    options: GpuAdamWOptions,
    params: Slice,
    grads: Slice,
    gate: AdamWGate,
  ) {
    this.#ctx = ctx;
    this.size = size;
    this.lr = rate("lr", options.lr ?? 1e-3);
    this.beta1 = beta("beta1", options.beta1 ?? 0.9);
    this.beta2 = beta("beta2", options.beta2 ?? 0.999);
    this.eps = rate("eps", options.eps ?? 1e-8);
    this.weightDecay = rate("weightDecay", options.weightDecay ?? 1e-2);
    this.clip = options.clip ?? null;
    if (this.clip !== null && !(this.clip > 0 && this.clip < Infinity)) {
      throw new RangeError(`Invalid clip: got ${this.clip}; expected null or a finite number > 0.`);
    }
    [this.m, this.v] = ctx.arena("adamw.moments", [size, size]);
    this.#uniform = ctx.uniform("adamw.step", 16);
    const clip = this.clip === null ? "" : `  let norm = sqrt(status[${u32(gate.normIndex)}]);
  let coef = ${f32(this.clip)} / (norm + 1e-6);
  if (coef < 1.0) { g = g * coef; }
`;
    const kernel = ctx.kernel({
      name: "adamw.step",
      header: "struct Step { decay: f32, step_size: f32, bias2_sqrt: f32, pad: f32 }",
      bindings: [
        { name: "theta", access: "read_write" },
        { name: "grads", access: "read" },
        { name: "m", access: "read_write" },
        { name: "v", access: "read_write" },
        { name: "status", access: "read" },
        { name: "step", access: "uniform", type: "Step" },
      ],
      code: linearMain(
        size,
        `  if (status[${u32(gate.okIndex)}] != 1.0) { return; }
  var g = grads[i];
${clip}  let mi = m[i] + ${f32(1 - this.beta1)} * (g - m[i]);
  let vi = ${f32(this.beta2)} * v[i] + ${f32(1 - this.beta2)} * g * g;
  m[i] = mi;
  v[i] = vi;
  theta[i] = theta[i] * step.decay - (step.step_size * mi) / (sqrt(vi) / step.bias2_sqrt + ${
          f32(this.eps)
        });`,
      ),
    });
    const group = ctx.device.createBindGroup({
      label: "adamw.step",
      layout: kernel.layout,
      entries: [params, grads, this.m, this.v, gate.status].map((s, k) => ({
        binding: k,
        resource: { buffer: s.buffer, offset: s.offset, size: s.length * 4 },
      })).concat([{ binding: 5, resource: { buffer: this.#uniform, offset: 0, size: 16 } }]),
    });
    this.ops = [{ kernel, group, groups: linearGroups(size, 64) }];
  }

  /** Steps taken (including one prepared but not yet run). */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * Writes the next step's scalars (step `t + 1`, learning rate `lr`);
   * call once before recording {@link GpuAdamW.ops}.
   *
   * @param lr This step's learning rate (default the base one).
   */
  prepare(lr: number = this.lr): void {
    rate("lr", lr);
    const t = ++this.#step;
    const data = Float32Array.of(
      1 - lr * this.weightDecay,
      lr / (1 - this.beta1 ** t),
      Math.sqrt(1 - this.beta2 ** t),
      0,
    );
    this.#ctx.device.queue.writeBuffer(this.#uniform, 0, data);
  }

  /**
   * Takes back the latest `steps` prepared steps, whose updates the gate
   * skipped (a training loop redoing them): the next step is step
   * `stepCount − steps + 1` again. The moments are untouched.
   *
   * @param steps How many, at most {@link GpuAdamW.stepCount}.
   * @throws {RangeError} When `steps` is not an integer in `[0, stepCount]`.
   */
  rewind(steps: number): void {
    if (!Number.isInteger(steps) || steps < 0 || steps > this.#step) {
      throw new RangeError(
        `Invalid steps: got ${steps}; expected an integer in [0, ${this.#step}] (steps taken).`,
      );
    }
    this.#step -= steps;
  }

  /**
   * The optimizer's state in the CPU's format (one read-back), so a model
   * trained on the GPU resumes on the CPU and back.
   *
   * @param steps The step count to report (default the steps prepared).
   * @returns The state.
   */
  async state(steps: number = this.#step): Promise<AdamWState> {
    const [m, v] = await this.#ctx.readMany([{ slice: this.m }, { slice: this.v }]);
    return {
      kind: "adamw",
      step: steps,
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      m: Array.from(m),
      v: Array.from(v),
    };
  }

  /**
   * Restores the step count and moments of a saved state (its
   * hyperparameters must match).
   *
   * @param state A state of an optimizer of the same size.
   */
  restore(state: AdamWState): void {
    if (state?.kind !== "adamw" || state.m.length !== this.size || state.v.length !== this.size) {
      throw new RangeError(
        `Invalid optimizer state: expected an AdamW state with ${this.size} moments.`,
      );
    }
    for (const key of ["beta1", "beta2", "eps", "weightDecay"] as const) {
      if (state[key] !== this[key]) {
        throw new RangeError(
          `Invalid optimizer state.${key}: got ${state[key]}; expected ${
            this[key]
          }, as this optimizer's.`,
        );
      }
    }
    this.#ctx.write(this.m, Float64Array.from(state.m));
    this.#ctx.write(this.v, Float64Array.from(state.v));
    this.#step = state.step;
  }
}

function rate(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0 && value < Infinity)) {
    throw new RangeError(`Invalid ${name}: got ${value}; expected a finite number >= 0.`);
  }
  return value;
}

function beta(name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new RangeError(`Invalid ${name}: got ${value}; expected a number in [0, 1).`);
  }
  return value;
}
