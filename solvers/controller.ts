/**
 * Step-size control (numerics.md §4): a PID controller with Diffrax's
 * parameters and defaults, its error norm, and the initial-step heuristic of
 * Hairer, Nørsett & Wanner (II.4).
 *
 * @module
 */

import { invalidArgument, requireInteger, requireKnownKeys } from "./checks.ts";

/** Options of {@link pid}; defaults are Diffrax's `PIDController`. */
export interface PidOptions {
  /** Relative tolerance, > 0. */
  rtol: number;
  /** Absolute tolerance, > 0. */
  atol: number;
  /** Proportional coefficient (default 0). */
  pcoeff?: number;
  /** Integral coefficient (default 1). */
  icoeff?: number;
  /** Derivative coefficient (default 0). */
  dcoeff?: number;
  /** Safety factor (default 0.9). */
  safety?: number;
  /** Smallest factor a step may shrink by (default 0.2). */
  factormin?: number;
  /** Largest factor a step may grow by (default 10). */
  factormax?: number;
  /** Smallest step (default 0). A rejected step at dtmin ends the solve with `dt_min_reached`. */
  dtmin?: number;
  /** Largest step (default ∞). */
  dtmax?: number;
  /** Most steps, accepted and rejected together (default 4096). */
  maxSteps?: number;
  /** Error norm of the scaled error: root mean square (default) or maximum. */
  norm?: "rms" | "max";
}

/** A checked PID controller. */
export interface PidController {
  /** Marks the object as a controller. */
  readonly kind: "pid";
  /** Relative tolerance. */
  readonly rtol: number;
  /** Absolute tolerance. */
  readonly atol: number;
  /** Proportional coefficient. */
  readonly pcoeff: number;
  /** Integral coefficient. */
  readonly icoeff: number;
  /** Derivative coefficient. */
  readonly dcoeff: number;
  /** Safety factor. */
  readonly safety: number;
  /** Smallest shrink factor. */
  readonly factormin: number;
  /** Largest growth factor. */
  readonly factormax: number;
  /** Smallest step. */
  readonly dtmin: number;
  /** Largest step. */
  readonly dtmax: number;
  /** Most steps, accepted and rejected. */
  readonly maxSteps: number;
  /** Error norm. */
  readonly norm: "rms" | "max";
}

function positive(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    invalidArgument(name, value, "a finite number > 0");
  }
  return value;
}

function finite(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    invalidArgument(name, value, "a finite number");
  }
  return value;
}

/**
 * A PID step-size controller (Diffrax's parameters and defaults).
 *
 * @param options Tolerances and controller settings.
 * @returns The checked controller.
 *
 * @example
 * ```ts
 * import { pid } from "./controller.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(pid({ rtol: 1e-6, atol: 1e-6 }).maxSteps, 4096);
 * assert.throws(() => pid({ rtol: 0, atol: 1e-6 }), /rtol.*0.*> 0/);
 * assert.throws(() => pid({ rtol: 1, atol: 1, dtmin: 1, dtmax: 0.5 }), /dtmin.*1.*dtmax = 0\.5/);
 * ```
 */
export function pid(options: PidOptions): PidController {
  if (options === null || typeof options !== "object") {
    invalidArgument("controller", options, "an object { rtol, atol, … }");
  }
  const allowed = [
    "rtol",
    "atol",
    "pcoeff",
    "icoeff",
    "dcoeff",
    "safety",
    "factormin",
    "factormax",
    "dtmin",
    "dtmax",
    "maxSteps",
    "norm",
  ];
  requireKnownKeys("controller", options, allowed);
  const dtmin = options.dtmin ?? 0;
  const dtmax = options.dtmax ?? Infinity;
  if (typeof dtmin !== "number" || !(dtmin >= 0) || !Number.isFinite(dtmin)) {
    invalidArgument("dtmin", dtmin, "a finite number >= 0");
  }
  if (typeof dtmax !== "number" || !(dtmax > 0)) invalidArgument("dtmax", dtmax, "a number > 0");
  if (dtmin > dtmax) invalidArgument("dtmin", dtmin, `a step no larger than dtmax = ${dtmax}`);
  const factormin = positive("factormin", options.factormin ?? 0.2);
  const factormax = positive("factormax", options.factormax ?? 10);
  if (factormin > 1) invalidArgument("factormin", factormin, "a number in (0, 1]");
  if (factormax < 1) invalidArgument("factormax", factormax, "a number >= 1");
  const safety = positive("safety", options.safety ?? 0.9);
  if (safety > 1) invalidArgument("safety", safety, "a number in (0, 1]");
  const norm = options.norm ?? "rms";
  if (norm !== "rms" && norm !== "max") invalidArgument("norm", norm, '"rms" or "max"');
  return {
    kind: "pid",
    rtol: positive("rtol", options.rtol),
    atol: positive("atol", options.atol),
    pcoeff: finite("pcoeff", options.pcoeff ?? 0),
    icoeff: finite("icoeff", options.icoeff ?? 1),
    dcoeff: finite("dcoeff", options.dcoeff ?? 0),
    safety,
    factormin,
    factormax,
    dtmin,
    dtmax,
    maxSteps: requireInteger("maxSteps", options.maxSteps ?? 4096, 1),
    norm,
  };
}

/**
 * The norm of the error scaled by `atol + rtol · max(|y0|, |y1|)`, entry by
 * entry; NaN when anything is not finite.
 *
 * @param c The controller.
 * @param error Local error estimate.
 * @param y0 Solution before the step.
 * @param y1 Solution after it.
 * @returns The scaled error norm; a step is accepted when it is ≤ 1.
 *
 * @example
 * ```ts
 * import { pid, scaledErrorNorm } from "./controller.ts";
 * import assert from "node:assert/strict";
 *
 * const c = pid({ rtol: 1e-3, atol: 1e-3 });
 * // scale = 1e-3 + 1e-3 · 1 = 2e-3, so an error of 1e-3 is half the tolerance
 * const err = scaledErrorNorm(c, Float64Array.of(1e-3), Float64Array.of(1), Float64Array.of(0.5));
 * assert.ok(Math.abs(err - 0.5) < 1e-12);
 * ```
 */
export function scaledErrorNorm(
  c: PidController,
  error: Float64Array,
  y0: Float64Array,
  y1: Float64Array,
): number {
  let acc = 0;
  for (let e = 0; e < error.length; e++) {
    const scale = c.atol + c.rtol * Math.max(Math.abs(y0[e]), Math.abs(y1[e]));
    const r = error[e] / scale;
    if (!Number.isFinite(r) || !Number.isFinite(y1[e])) return NaN;
    acc = c.norm === "rms" ? acc + r * r : Math.max(acc, Math.abs(r));
  }
  return c.norm === "rms" ? Math.sqrt(acc / error.length) : acc;
}

/**
 * The PID update: the next step size from the current one and the latest
 * inverse scaled errors `ε_n = 1 / err_n` (history kept by the caller).
 *
 *     factor = safety · ε_n^{β1} · ε_{n−1}^{β2} · ε_{n−2}^{β3},
 *     β1 = (p + i + d)/k,  β2 = −(p + 2d)/k,  β3 = d/k,  k = errorOrder + 1,
 *
 * clipped to `[1, factormax]` after an accepted step and to
 * `[factormin, factormax]` after a rejected one (which uses the integral
 * term alone), as Diffrax does.
 *
 * @param c The controller.
 * @param h The step just tried.
 * @param err Its scaled error norm.
 * @param history `[err_{n−1}, err_{n−2}]` of earlier accepted steps (1 when none).
 * @param errorOrder Order of the scheme's embedded solution.
 * @returns The next step size (before the dtmin/dtmax bounds).
 *
 * @example
 * ```ts
 * import { nextStep, pid } from "./controller.ts";
 * import assert from "node:assert/strict";
 *
 * const c = pid({ rtol: 1e-6, atol: 1e-6 });
 * // integral control with k = 3: an error of 8 shrinks the step by 0.9 / 2
 * assert.ok(Math.abs(nextStep(c, 1, 8, [1, 1], 2) - 0.45) < 1e-12);
 * ```
 */
export function nextStep(
  c: PidController,
  h: number,
  err: number,
  history: readonly [number, number],
  errorOrder: number,
): number {
  const k = errorOrder + 1;
  const accepted = err <= 1;
  if (!Number.isFinite(err)) return h * c.factormin;
  const inv = (x: number) => 1 / Math.max(x, 1e-300);
  const beta1 = (c.pcoeff + c.icoeff + c.dcoeff) / k;
  const beta2 = -(c.pcoeff + 2 * c.dcoeff) / k;
  const beta3 = c.dcoeff / k;
  let factor = c.safety * Math.pow(inv(err), accepted ? beta1 : c.icoeff / k);
  if (accepted) factor *= Math.pow(inv(history[0]), beta2) * Math.pow(inv(history[1]), beta3);
  const lo = accepted ? 1 : c.factormin;
  return h * Math.min(c.factormax, Math.max(lo, factor));
}
