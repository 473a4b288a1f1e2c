/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter 2019), in the
 * arithmetic order of PyTorch's `torch.optim.AdamW`, plus gradient-norm
 * clipping and learning-rate schedules as functions of the iteration.
 *
 * One step t ≥ 1 with gradient g and learning rate η:
 *
 *     θ ← θ · (1 − η·λ)                        decoupled weight decay
 *     m ← m + (1 − β₁)(g − m)                  = β₁ m + (1 − β₁) g
 *     v ← β₂ v + (1 − β₂) g²
 *     θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * @module
 */

import { invalidArgument, requireInteger, requireKnownKeys } from "../solvers/checks.ts";

/** Hyperparameters of {@link AdamW}; defaults are PyTorch's. */
export interface AdamWOptions {
  /** Learning rate η (default 1e-3); a step may override it. */
  lr?: number;
  /** Decay of the first-moment average β₁ (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average β₂ (default 0.999). */
  beta2?: number;
  /** ε added to the denominator (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay λ (default 1e-2; the paper uses 1e-5). */
  weightDecay?: number;
}

/**
 * Everything needed to resume an {@link AdamW} bit-identically, as plain
 * JSON: `JSON.parse(JSON.stringify(state))` restores every float64 exactly.
 */
export interface AdamWState {
  /** Format tag, always `"adamw"`. */
  kind: "adamw";
  /** Number of steps taken so far. */
  step: number;
  /** Base learning rate η. */
  lr: number;
  /** β₁. */
  beta1: number;
  /** β₂. */
  beta2: number;
  /** ε. */
  eps: number;
  /** Decoupled weight decay λ. */
  weightDecay: number;
  /** First-moment averages, one per parameter. */
  m: number[];
  /** Second-moment averages, one per parameter. */
  v: number[];
}

/**
 * The AdamW optimizer over one flat Float64Array of parameters, updated in
 * place.
 *
 * @example Resume from saved state and continue identically
 * ```ts
 * import { AdamW } from "./adamw.ts";
 * import assert from "node:assert/strict";
 *
 * const opt = new AdamW(2, { lr: 0.1, weightDecay: 0 });
 * const theta = Float64Array.of(1, -1);
 * opt.step(theta, Float64Array.of(0.5, -2));
 * // The first Adam step moves each parameter by about lr against its gradient's sign.
 * assert.ok(Math.abs(theta[0] - 0.9) < 1e-6 && Math.abs(theta[1] + 0.9) < 1e-6);
 *
 * const copy = AdamW.fromState(JSON.parse(JSON.stringify(opt.state())));
 * const a = theta.slice(), b = theta.slice();
 * opt.step(a, Float64Array.of(1, 1));
 * copy.step(b, Float64Array.of(1, 1));
 * assert.deepEqual(a, b);
 * ```
 */
export class AdamW {
  /** Number of parameters. */
  readonly size: number;
  /** Base learning rate η, used when {@link AdamW.step} is given none. */
  lr: number;
  /** β₁. */
  readonly beta1: number;
  /** β₂. */
  readonly beta2: number;
  /** ε. */
  readonly eps: number;
  /** Decoupled weight decay λ. */
  readonly weightDecay: number;
  #m: Float64Array;
  #v: Float64Array;
  #step = 0;

  /**
   * Creates an optimizer with zero moments.
   *
   * @param size Number of parameters.
   * @param options Hyperparameters; PyTorch's defaults where absent.
   */
  constructor(size: number, options: AdamWOptions = {}) {
    this.size = requireInteger("size", size, 1);
    // PyTorch's weight_decay or betas would otherwise leave the defaults in place
    requireKnownKeys("options", options, ["lr", "beta1", "beta2", "eps", "weightDecay"]);
    this.lr = _requireRate("options.lr", options.lr ?? 1e-3);
    this.beta1 = _requireBeta("options.beta1", options.beta1 ?? 0.9);
    this.beta2 = _requireBeta("options.beta2", options.beta2 ?? 0.999);
    this.eps = _requireRate("options.eps", options.eps ?? 1e-8);
    this.weightDecay = _requireRate("options.weightDecay", options.weightDecay ?? 1e-2);
    this.#m = new Float64Array(size);
    this.#v = new Float64Array(size);
  }

  /** Number of steps taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * Takes one AdamW step, updating `params` in place.
   *
   * @param params The parameters θ, length {@link AdamW.size}; updated.
   * @param grads The gradient ∂L/∂θ, same length; must be finite. Not modified.
   * @param lr This step's learning rate, e.g. from a schedule; default {@link AdamW.lr}.
   *
   * @example
   * ```ts
   * import { AdamW } from "./adamw.ts";
   * import assert from "node:assert/strict";
   *
   * // With a zero gradient only the weight decay acts: θ ← θ (1 − lr·λ).
   * const opt = new AdamW(1, { lr: 0.5, weightDecay: 0.1 });
   * const theta = Float64Array.of(2);
   * opt.step(theta, Float64Array.of(0));
   * assert.equal(theta[0], 2 * (1 - 0.05));
   * assert.equal(opt.stepCount, 1);
   * ```
   */
  step(params: Float64Array, grads: Float64Array, lr: number = this.lr): void {
    const n = this.size;
    if (params.length !== n) invalidArgument("params", params, `a Float64Array of length ${n}`);
    if (grads.length !== n) invalidArgument("grads", grads, `a Float64Array of length ${n}`);
    if (lr !== this.lr) _requireRate("lr", lr);
    // A non-finite gradient would poison m and v for good (and JSON state);
    // refuse it before touching anything.
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(grads[i])) {
        invalidArgument(`grads[${i}]`, grads[i], "finite numbers only");
      }
    }
    const t = ++this.#step;
    const { beta1, beta2, eps } = this;
    const decay = 1 - lr * this.weightDecay;
    const oneMinusBeta1 = 1 - beta1;
    const oneMinusBeta2 = 1 - beta2;
    const stepSize = lr / (1 - beta1 ** t);
    const bias2Sqrt = Math.sqrt(1 - beta2 ** t);
    const m = this.#m, v = this.#v;
    for (let i = 0; i < n; i++) {
      const g = grads[i];
      const mi = m[i] + oneMinusBeta1 * (g - m[i]);
      const vi = beta2 * v[i] + oneMinusBeta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bias2Sqrt + eps);
    }
  }

  /**
   * The optimizer's state as plain JSON-safe data (a copy).
   *
   * @returns The step count, hyperparameters and both moment vectors.
   *
   * @example
   * ```ts
   * import { AdamW } from "./adamw.ts";
   * import assert from "node:assert/strict";
   *
   * const s = new AdamW(3).state();
   * assert.equal(s.step, 0);
   * assert.deepEqual(s.m, [0, 0, 0]);
   * ```
   */
  state(): AdamWState {
    return {
      kind: "adamw",
      step: this.#step,
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      m: Array.from(this.#m),
      v: Array.from(this.#v),
    };
  }

  /**
   * Restores the step count, learning rate and moments from {@link AdamW.state}
   * output. The other hyperparameters must match this optimizer's; use
   * {@link AdamW.fromState} to take them from the state instead.
   *
   * @param state A state of an optimizer of the same size.
   *
   * @example
   * ```ts
   * import { AdamW } from "./adamw.ts";
   * import assert from "node:assert/strict";
   *
   * const a = new AdamW(1);
   * a.step(Float64Array.of(1), Float64Array.of(1));
   * const b = new AdamW(1);
   * b.restore(a.state());
   * assert.equal(b.stepCount, 1);
   * assert.throws(() => new AdamW(2).restore(a.state()), /state\.m/);
   * ```
   */
  restore(state: AdamWState): void {
    _checkState(state);
    for (const key of ["beta1", "beta2", "eps", "weightDecay"] as const) {
      if (state[key] !== this[key]) {
        invalidArgument(`state.${key}`, state[key], `${this[key]}, as this optimizer's`);
      }
    }
    if (state.m.length !== this.size) {
      invalidArgument("state.m", state.m, `an array of length ${this.size}`);
    }
    this.#m.set(state.m);
    this.#v.set(state.v);
    this.#step = state.step;
    this.lr = state.lr;
  }

  /**
   * Creates an optimizer from {@link AdamW.state} output, hyperparameters
   * included.
   *
   * @param state A saved state.
   * @returns An optimizer that continues exactly where the saved one stopped.
   *
   * @example
   * ```ts
   * import { AdamW } from "./adamw.ts";
   * import assert from "node:assert/strict";
   *
   * const opt = AdamW.fromState(new AdamW(4, { lr: 0.01, weightDecay: 1e-5 }).state());
   * assert.equal(opt.size, 4);
   * assert.equal(opt.weightDecay, 1e-5);
   * ```
   */
  static fromState(state: AdamWState): AdamW {
    _checkState(state);
    const { lr, beta1, beta2, eps, weightDecay } = state;
    const opt = new AdamW(state.m.length, { lr, beta1, beta2, eps, weightDecay });
    opt.restore(state);
    return opt;
  }
}

/**
 * Scales `grads` in place so that their Euclidean norm is at most `maxNorm`,
 * as PyTorch's `clip_grad_norm_` does (factor `maxNorm / (norm + 1e-6)` when
 * below 1). A non-finite norm leaves `grads` untouched, for the caller to act on.
 *
 * @param grads The flat gradient; scaled in place.
 * @param maxNorm The largest norm allowed, > 0.
 * @returns The norm before clipping.
 *
 * @example
 * ```ts
 * import { clipGradNorm } from "./adamw.ts";
 * import assert from "node:assert/strict";
 *
 * const g = Float64Array.of(3, 4);
 * assert.equal(clipGradNorm(g, 1), 5);
 * assert.ok(Math.abs(Math.hypot(g[0], g[1]) - 1) < 1e-6);
 * // huge but finite: clipped too (the squares alone would overflow)
 * const huge = Float64Array.of(3e200, 4e200);
 * assert.ok(Math.abs(clipGradNorm(huge, 1) / 5e200 - 1) < 1e-15);
 * assert.ok(Math.abs(Math.hypot(huge[0], huge[1]) - 1) < 1e-6);
 * ```
 */
export function clipGradNorm(grads: Float64Array, maxNorm: number): number {
  if (!(maxNorm > 0)) invalidArgument("maxNorm", maxNorm, "a number > 0");
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i] * grads[i];
  let norm = Math.sqrt(sum);
  if (norm === Infinity) {
    // the squares overflowed (|g| above ~1e154): measure again in units of the largest |g|,
    // so that a huge but finite gradient is clipped rather than reported as non-finite
    let big = 0;
    for (let i = 0; i < grads.length; i++) big = Math.max(big, Math.abs(grads[i]));
    if (big < Infinity) {
      let scaled = 0;
      for (let i = 0; i < grads.length; i++) scaled += (grads[i] / big) ** 2;
      norm = big * Math.sqrt(scaled);
    }
  }
  const coef = maxNorm / (norm + 1e-6);
  if (Number.isFinite(norm) && coef < 1) {
    for (let i = 0; i < grads.length; i++) grads[i] *= coef;
  }
  return norm;
}

/** A learning rate as a function of the 0-based iteration. */
export type Schedule = (iteration: number) => number;

/**
 * A constant learning rate.
 *
 * @param lr The learning rate, > 0.
 * @returns A schedule that always returns `lr`.
 *
 * @example
 * ```ts
 * import { constantSchedule } from "./adamw.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(constantSchedule(0.01)(12345), 0.01);
 * ```
 */
export function constantSchedule(lr: number): Schedule {
  _requireRate("lr", lr);
  return (iteration) => {
    _requireIteration(iteration);
    return lr;
  };
}

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of the warm-up, > 0. */
  lr: number;
  /** Total number of iterations; the rate reaches `minLr` at `iterations − 1`. */
  iterations: number;
  /** Iterations of linear warm-up before the peak (default 0). */
  warmup?: number;
  /** Final learning rate, in `[0, lr]` (default 0). */
  minLr?: number;
}

/**
 * Cosine decay from `lr` to `minLr`, after an optional linear warm-up.
 *
 * Iteration `i < warmup` gets `lr·(i + 1)/(warmup + 1)`; from `i = warmup` to
 * `i = iterations − 1` the rate follows `minLr + (lr − minLr)(1 + cos πs)/2`
 * with `s` going linearly from 0 to 1; later iterations stay at `minLr`.
 *
 * @param options Peak and final rates, length and warm-up.
 * @returns The schedule.
 *
 * @example
 * ```ts
 * import { cosineSchedule } from "./adamw.ts";
 * import assert from "node:assert/strict";
 *
 * const lr = cosineSchedule({ lr: 1e-2, iterations: 101, minLr: 1e-4 });
 * assert.equal(lr(0), 1e-2);
 * assert.ok(Math.abs(lr(50) - (1e-2 + 1e-4) / 2) < 1e-15);
 * assert.equal(lr(100), 1e-4);
 * ```
 */
export function cosineSchedule(options: CosineScheduleOptions): Schedule {
  const lr = _requireRate("options.lr", options.lr);
  const iterations = requireInteger("options.iterations", options.iterations, 1);
  const warmup = requireInteger("options.warmup", options.warmup ?? 0, 0);
  if (warmup >= iterations) {
    invalidArgument("options.warmup", warmup, `an integer < options.iterations = ${iterations}`);
  }
  const minLr = options.minLr ?? 0;
  if (!(minLr >= 0 && minLr <= lr)) {
    invalidArgument("options.minLr", minLr, `a number in [0, options.lr = ${lr}]`);
  }
  const decaySteps = iterations - 1 - warmup;
  return (iteration) => {
    _requireIteration(iteration);
    if (iteration < warmup) return (lr * (iteration + 1)) / (warmup + 1);
    if (decaySteps === 0) return lr;
    const s = Math.min(1, (iteration - warmup) / decaySteps);
    // Exact endpoints, free of cos rounding.
    if (s === 0) return lr;
    if (s === 1) return minLr;
    return minLr + ((lr - minLr) * (1 + Math.cos(Math.PI * s))) / 2;
  };
}

function _requireIteration(iteration: number): void {
  if (!Number.isInteger(iteration) || iteration < 0) {
    invalidArgument("iteration", iteration, "an integer >= 0");
  }
}

function _requireRate(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value < Infinity)) {
    invalidArgument(name, value, "a finite number >= 0");
  }
  return value;
}

function _requireBeta(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    invalidArgument(name, value, "a number in [0, 1)");
  }
  return value;
}

function _checkState(state: AdamWState): void {
  if (state === null || typeof state !== "object" || state.kind !== "adamw") {
    invalidArgument("state", state, 'an object from AdamW.state() with kind "adamw"');
  }
  requireInteger("state.step", state.step, 0);
  if (!Array.isArray(state.m) || state.m.length === 0) {
    invalidArgument("state.m", state.m, "a non-empty array of numbers");
  }
  if (!Array.isArray(state.v) || state.v.length !== state.m.length) {
    invalidArgument("state.v", state.v, `an array of length ${state.m.length} (as state.m)`);
  }
  for (const key of ["m", "v"] as const) {
    const values = state[key];
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== "number" || !Number.isFinite(values[i])) {
        invalidArgument(`state.${key}[${i}]`, values[i], "finite numbers only");
      }
      // v averages squares: a negative one would make the next step's √v̂ NaN
      if (key === "v" && values[i] < 0) {
        invalidArgument(`state.v[${i}]`, values[i], "numbers >= 0 (v averages squared gradients)");
      }
    }
  }
}
