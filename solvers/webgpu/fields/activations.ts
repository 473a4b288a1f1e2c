/**
 * The activations of solvers/fields/activations.ts in WGSL: each entry holds the
 * forward map `σ(x)` and, right beside it, its derivative `σ'(x)` given
 * `x` and `y = σ(x)`, as the CPU's `derivative(x, y)` does.
 *
 * f32 has no `log1p`, and some drivers return NaN from `tanh` of large
 * arguments, so `tanh` clamps its argument to ±15 (where f32's tanh is
 * already ±1) and `softplus` uses its own `log1p`.
 *
 * @module
 */

import type { ActivationName } from "../../fields/activations.ts";

/**
 * An activation in WGSL.
 *
 * @example
 * ```ts
 * import type { WgslActivation } from "./activations.ts";
 * import { WGSL_ACTIVATIONS } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * const relu: WgslActivation = WGSL_ACTIVATIONS.relu;
 * assert.equal(relu.forward("x"), "act_relu(x)"); // max(x, 0), NaN kept
 * ```
 */
export interface WgslActivation {
  /** The activation's name. */
  readonly name: ActivationName;
  /** WGSL expression of `σ(x)` in terms of the `f32` expression `x` (evaluated once). */
  readonly forward: (x: string) => string;
  /** WGSL expression of `σ'(x)` from the pre-activation `x` and the output `y`. */
  readonly derivative: (x: string, y: string) => string;
  /** Whether {@link WgslActivation.derivative} reads `x` (else `y` is enough). */
  readonly derivativeNeedsInput: boolean;
}

/**
 * WGSL helper functions the activations call; include once per shader.
 *
 * @example
 * ```ts
 * import { ACTIVATION_HELPERS } from "./activations.ts";
 * import assert from "node:assert/strict";
 * assert.match(ACTIVATION_HELPERS, /fn act_log1p/);
 * ```
 */
export const ACTIVATION_HELPERS: string = `
// clamp() and max() of a NaN are implementation-defined (NVIDIA returns the
// other operand): a NaN must come out as NaN, as on the CPU.
fn act_is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn act_tanh(x: f32) -> f32 { return select(tanh(clamp(x, -15.0, 15.0)), x, act_is_nan(x)); }
fn act_relu(x: f32) -> f32 { return select(max(x, 0.0), x, act_is_nan(x)); }
fn act_sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
// log(1 + u) for u in [0, 1]: a series below 0.1 (error < 2e-9), log above.
fn act_log1p(u: f32) -> f32 {
  if (u < 0.1) {
    return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * (0.25 - u * (0.2 - u * (1.0 / 6.0
      - u * (1.0 / 7.0 - u * 0.125)))))));
  }
  return log(1.0 + u);
}
fn act_softplus(x: f32) -> f32 { return act_log1p(exp(-abs(x))) + max(x, 0.0); }
fn act_silu(x: f32) -> f32 { return x * act_sigmoid(x); }
fn act_dsilu(x: f32) -> f32 { let s = act_sigmoid(x); return s * (1.0 + x * (1.0 - s)); }
`;

/**
 * Every activation by name, in WGSL.
 *
 * @example
 * ```ts
 * import { WGSL_ACTIVATIONS } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(WGSL_ACTIVATIONS.tanh.forward("z"), "act_tanh(z)");
 * assert.equal(WGSL_ACTIVATIONS.tanh.derivative("z", "a"), "(1.0 - (a) * (a))");
 * assert.equal(WGSL_ACTIVATIONS.silu.derivativeNeedsInput, true);
 * ```
 */
export const WGSL_ACTIVATIONS: Readonly<Record<ActivationName, WgslActivation>> = Object.freeze(
  {
    tanh: {
      name: "tanh",
      forward: (x: string) => `act_tanh(${x})`,
      derivative: (_x: string, y: string) => `(1.0 - (${y}) * (${y}))`,
      derivativeNeedsInput: false,
    },
    softplus: {
      name: "softplus",
      forward: (x: string) => `act_softplus(${x})`,
      derivative: (x: string, _y: string) => `act_sigmoid(${x})`,
      derivativeNeedsInput: true,
    },
    relu: {
      name: "relu",
      forward: (x: string) => `act_relu(${x})`,
      // σ(x) > 0 exactly when x > 0; the kink gets 0, as on the CPU.
      derivative: (_x: string, y: string) => `select(0.0, 1.0, (${y}) > 0.0)`,
      derivativeNeedsInput: false,
    },
    silu: {
      name: "silu",
      forward: (x: string) => `act_silu(${x})`,
      derivative: (x: string, _y: string) => `act_dsilu(${x})`,
      derivativeNeedsInput: true,
    },
    identity: {
      name: "identity",
      forward: (x: string) => `(${x})`,
      derivative: (_x: string, _y: string) => "1.0",
      derivativeNeedsInput: false,
    },
  } as const,
);
