/**
 * The linear field `y' = A y`, with the entries of `A` as parameters: a
 * closed-form test problem whose solution is `exp(tA) y0`.
 *
 * @module
 */

import type { VectorField } from "../vector_field.ts";
import { requireInteger } from "../checks.ts";

/**
 * `f(t, y; A) = A y` for a `dim × dim` matrix `A` stored row-major in the
 * parameters.
 *
 * @param dim State dimension.
 * @returns The field; its parameters are the `dim²` entries of `A`.
 *
 * @example
 * ```ts
 * import { linearField } from "./linear.ts";
 * import assert from "node:assert/strict";
 *
 * const f = linearField(2);
 * const out = new Float64Array(2);
 * f.evaluate(0, Float64Array.of(1, 2), 1, Float64Array.of(0, 1, -1, 0), out);
 * assert.deepEqual([...out], [2, -1]);
 * ```
 */
export function linearField(dim: number): VectorField {
  requireInteger("dim", dim, 1);
  return {
    dim,
    paramCount: dim * dim,
    timeDependent: false,
    evaluate(_t, y, batch, a, out) {
      for (let b = 0; b < batch; b++) {
        const o = b * dim;
        for (let i = 0; i < dim; i++) {
          let s = 0;
          for (let j = 0; j < dim; j++) s += a[i * dim + j] * y[o + j];
          out[o + i] = s;
        }
      }
    },
    // ȳ = Aᵀ v,  Ā += v yᵀ
    vjp(_t, y, batch, a, v, yBar, aBar) {
      for (let b = 0; b < batch; b++) {
        const o = b * dim;
        for (let j = 0; j < dim; j++) {
          let s = 0;
          for (let i = 0; i < dim; i++) s += a[i * dim + j] * v[o + i];
          yBar[o + j] = s;
        }
        if (aBar) {
          for (let i = 0; i < dim; i++) {
            for (let j = 0; j < dim; j++) aBar[i * dim + j] += v[o + i] * y[o + j];
          }
        }
      }
    },
  };
}
