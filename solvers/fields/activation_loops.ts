/**
 * The activations of activations.ts as loops over a layer of a block of
 * rows, one loop per activation, so that V8 inlines each formula instead of
 * calling through a shared closure for every element; `tanh` is tanh.ts's.
 *
 * @module
 */

import type { ActivationName } from "./activations.ts";
import { tanh } from "./tanh.ts";

/** The softplus of activations.ts, written out so that the loop inlines it. */
function _softplus(x: number): number {
  return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
}

/** The sigmoid of activations.ts, written out so that the loops inline it. */
function _sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * `x = σ(z)` for `n` rows of `width` entries: one loop per activation, each
 * the formula of activations.ts, so no call goes through a shared closure.
 * @example
 * ```ts
 * import { activate } from "./activation_loops.ts";
 * import assert from "node:assert/strict";
 *
 * const pre = Float64Array.of(-1, 2), acts = new Float64Array(2);
 * activate("relu", pre, 0, 2, acts, 0, 2, 2, 1);
 * assert.deepEqual(acts, Float64Array.of(0, 2));
 * ```
 */
export function activate(
  name: ActivationName,
  pre: Float64Array,
  preAt: number,
  ps: number,
  acts: Float64Array,
  outAt: number,
  as: number,
  width: number,
  n: number,
): void {
  for (let r = 0; r < n; r++) {
    const z = preAt + r * ps, x = outAt + r * as;
    switch (name) {
      case "tanh":
        for (let j = 0; j < width; j++) acts[x + j] = tanh(pre[z + j]);
        break;
      case "identity":
        for (let j = 0; j < width; j++) acts[x + j] = pre[z + j];
        break;
      case "relu":
        for (let j = 0; j < width; j++) {
          const v = pre[z + j];
          acts[x + j] = v > 0 ? v : 0;
        }
        break;
      case "softplus":
        for (let j = 0; j < width; j++) acts[x + j] = _softplus(pre[z + j]);
        break;
      case "silu":
        for (let j = 0; j < width; j++) {
          const v = pre[z + j];
          acts[x + j] = v * _sigmoid(v);
        }
        break;
    }
  }
}

/**
 * From `z` transposed (`[j][row]`, row stride `rows`): the pre-activations
 * into the rows of `pre`, `σ(z)` into the rows of `acts` and, transposed,
 * into `next` (the next layer's input). One loop per activation.
 * @example
 * ```ts
 * import { activateColumns } from "./activation_loops.ts";
 * import assert from "node:assert/strict";
 *
 * // one column of two rows: z = [-1, 2]
 * const pre = new Float64Array(2), acts = new Float64Array(2), next = new Float64Array(2);
 * activateColumns("relu", Float64Array.of(-1, 2), 2, pre, 0, 1, acts, 0, 1, 1, 2, next);
 * assert.deepEqual([pre, acts, next], [Float64Array.of(-1, 2), Float64Array.of(0, 2), Float64Array.of(0, 2)]);
 * ```
 */
export function activateColumns(
  name: ActivationName,
  z: Float64Array,
  rows: number,
  pre: Float64Array,
  preAt: number,
  ps: number,
  acts: Float64Array,
  outAt: number,
  as: number,
  width: number,
  n: number,
  next: Float64Array,
): void {
  for (let j = 0; j < width; j++) {
    const c = j * rows, zj = preAt + j, xj = outAt + j;
    switch (name) {
      case "tanh":
        for (let r = 0; r < n; r++) {
          const v = z[c + r];
          pre[zj + r * ps] = v;
          acts[xj + r * as] = next[c + r] = tanh(v);
        }
        break;
      case "identity":
        for (let r = 0; r < n; r++) {
          const v = z[c + r];
          pre[zj + r * ps] = v;
          acts[xj + r * as] = next[c + r] = v;
        }
        break;
      case "relu":
        for (let r = 0; r < n; r++) {
          const v = z[c + r];
          pre[zj + r * ps] = v;
          acts[xj + r * as] = next[c + r] = v > 0 ? v : 0;
        }
        break;
      case "softplus":
        for (let r = 0; r < n; r++) {
          const v = z[c + r];
          pre[zj + r * ps] = v;
          acts[xj + r * as] = next[c + r] = _softplus(v);
        }
        break;
      case "silu":
        for (let r = 0; r < n; r++) {
          const v = z[c + r];
          pre[zj + r * ps] = v;
          acts[xj + r * as] = next[c + r] = v * _sigmoid(v);
        }
        break;
    }
  }
}

/**
 * `g ← g ⊙ σ'(z)` for `n` rows of `width` entries (`x = σ(z)` as kept by the
 * forward pass), one loop per activation: the derivatives of activations.ts.
 * Entry (r, j) of `g` is at `r·rs + j·cs`: rows (`cs = 1`) or columns.
 * @example
 * ```ts
 * import { scaleByDerivative } from "./activation_loops.ts";
 * import assert from "node:assert/strict";
 *
 * const g = Float64Array.of(3, 3);
 * scaleByDerivative("tanh", g, 2, 1, new Float64Array(2), 0, 2, Float64Array.of(0.5, 0), 0, 2, 2, 1);
 * assert.deepEqual(g, Float64Array.of(3 * 0.75, 3));
 * ```
 */
export function scaleByDerivative(
  name: ActivationName,
  g: Float64Array,
  rs: number,
  cs: number,
  pre: Float64Array,
  preAt: number,
  ps: number,
  acts: Float64Array,
  xAt: number,
  as: number,
  width: number,
  n: number,
): void {
  for (let r = 0; r < n; r++) {
    const d = r * rs, z = preAt + r * ps, x = xAt + r * as;
    switch (name) {
      case "tanh":
        for (let j = 0; j < width; j++) {
          const v = acts[x + j];
          g[d + j * cs] = g[d + j * cs] * (1 - v * v);
        }
        break;
      case "identity":
        break;
      case "relu":
        for (let j = 0; j < width; j++) g[d + j * cs] = g[d + j * cs] * (pre[z + j] > 0 ? 1 : 0);
        break;
      case "softplus":
        for (let j = 0; j < width; j++) g[d + j * cs] = g[d + j * cs] * _sigmoid(pre[z + j]);
        break;
      case "silu":
        for (let j = 0; j < width; j++) {
          const v = pre[z + j];
          const s = _sigmoid(v);
          g[d + j * cs] = g[d + j * cs] * (s * (1 + v * (1 - s)));
        }
        break;
    }
  }
}
