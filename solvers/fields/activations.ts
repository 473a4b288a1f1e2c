/**
 * Elementwise activation functions as data: each entry holds the forward map
 * `σ(x)` and, right beside it, its derivative `σ'(x)`.
 *
 * @example
 * ```ts
 * import { ACTIVATIONS } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * const { forward, derivative } = ACTIVATIONS.tanh;
 * const y = forward(0.5);
 * assert.equal(derivative(0.5, y), 1 - y * y);
 * ```
 *
 * @module
 */

/**
 * The name of a supported activation.
 *
 * @example
 * ```ts
 * import type { ActivationName } from "./activations.ts";
 * import { ACTIVATIONS } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * const name: ActivationName = "softplus";
 * assert.equal(ACTIVATIONS[name].forward(0), Math.LN2); // log(1 + e⁰)
 * ```
 */
export type ActivationName = "tanh" | "softplus" | "relu" | "silu" | "identity";

/**
 * An elementwise activation `σ` and its derivative.
 *
 * @example
 * ```ts
 * import type { Activation } from "./activations.ts";
 * import { ACTIVATIONS } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * const relu: Activation = ACTIVATIONS.relu;
 * assert.equal(relu.forward(-2), 0);
 * assert.equal(relu.derivative(3, relu.forward(3)), 1);
 * ```
 */
export interface Activation {
  /** The activation's name, as used in options and model files. */
  readonly name: ActivationName;
  /** `σ(x)`. */
  readonly forward: (x: number) => number;
  /**
   * `σ'(x)`. The caller also passes `y = σ(x)`, which it has already
   * computed, so that derivatives such as tanh's `1 − y²` need no second
   * evaluation of `σ`.
   */
  readonly derivative: (x: number, y: number) => number;
}

/** The logistic sigmoid `1 / (1 + e^{−x})`, without overflow for any `x`. */
function _sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Every supported activation by name. The derivative at the kink of `relu`
 * (x = 0) is taken as 0.
 *
 * - `tanh`: σ = tanh x, σ' = 1 − σ².
 * - `softplus`: σ = log(1 + eˣ), computed as `log1p(e^{−|x|}) + max(x, 0)` so it
 *   neither overflows nor loses precision; σ' = sigmoid(x).
 * - `relu`: σ = max(x, 0), σ' = [x > 0].
 * - `silu` (swish): σ = x·sigmoid(x), σ' = s (1 + x (1 − s)) with s = sigmoid(x).
 * - `identity`: σ = x, σ' = 1.
 *
 * @example
 * ```ts
 * import { ACTIVATIONS } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ACTIVATIONS.softplus.forward(1000), 1000);
 * assert.equal(ACTIVATIONS.softplus.forward(-1000), 0);
 * assert.equal(ACTIVATIONS.identity.derivative(5, 5), 1);
 * ```
 */
export const ACTIVATIONS: Readonly<Record<ActivationName, Activation>> = Object.freeze(
  {
    tanh: Object.freeze({
      name: "tanh",
      forward: (x: number): number => Math.tanh(x),
      derivative: (_x: number, y: number): number => 1 - y * y,
    }),
    softplus: Object.freeze({
      name: "softplus",
      forward: (x: number): number => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0),
      derivative: (x: number, _y: number): number => _sigmoid(x),
    }),
    relu: Object.freeze({
      name: "relu",
      forward: (x: number): number => (x > 0 ? x : 0),
      derivative: (x: number, _y: number): number => (x > 0 ? 1 : 0),
    }),
    silu: Object.freeze({
      name: "silu",
      forward: (x: number): number => x * _sigmoid(x),
      derivative: (x: number, _y: number): number => {
        const s = _sigmoid(x);
        return s * (1 + x * (1 - s));
      },
    }),
    identity: Object.freeze({
      name: "identity",
      forward: (x: number): number => x,
      derivative: (_x: number, _y: number): number => 1,
    }),
  } as const,
);

/**
 * The names of every supported activation, in a fixed order.
 *
 * @example
 * ```ts
 * import { activationNames } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(activationNames, ["tanh", "softplus", "relu", "silu", "identity"]);
 * ```
 */
export const activationNames: readonly ActivationName[] = Object.freeze(
  Object.keys(ACTIVATIONS) as ActivationName[],
);

/**
 * Whether `value` names a supported activation.
 *
 * @param value Anything.
 * @returns True when `value` is one of {@link activationNames}.
 *
 * @example
 * ```ts
 * import { isActivationName } from "./activations.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isActivationName("silu"), true);
 * assert.equal(isActivationName("gelu"), false);
 * ```
 */
export function isActivationName(value: unknown): value is ActivationName {
  return typeof value === "string" && Object.hasOwn(ACTIVATIONS, value);
}
