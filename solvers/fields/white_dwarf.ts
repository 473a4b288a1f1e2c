/**
 * Chandrasekhar's white dwarf equation (numerics.md §5.1), time-dependent and
 * nonlinear: with η = t + 0.5,
 *
 *     y1' = y2,   y2' = −(y1² − C)^{3/2} − 2 y2 / η.
 *
 * The constant `C` is the single parameter.
 *
 * @module
 */

import type { VectorField } from "../vector_field.ts";

/**
 * The white dwarf field with parameter `[C]` (the paper uses C = 0.001).
 * Defined while `y1² > C`.
 *
 * @returns The field, `dim` 2, one parameter.
 *
 * @example
 * ```ts
 * import { whiteDwarfField } from "./white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const out = new Float64Array(2);
 * whiteDwarfField().evaluate(0, Float64Array.of(1, 0), 1, Float64Array.of(0.001), out);
 * assert.equal(out[0], 0);
 * assert.ok(Math.abs(out[1] + Math.pow(0.999, 1.5)) < 1e-15);
 * ```
 */
export function whiteDwarfField(): VectorField {
  return {
    dim: 2,
    paramCount: 1,
    timeDependent: true,
    evaluate(t, y, batch, params, out) {
      const c = params[0];
      const eta = t + 0.5;
      for (let b = 0; b < batch; b++) {
        const y1 = y[2 * b], y2 = y[2 * b + 1];
        out[2 * b] = y2;
        out[2 * b + 1] = -Math.pow(y1 * y1 - c, 1.5) - 2 * y2 / eta;
      }
    },
    // With w = y1² − C: ∂f2/∂y1 = −3 y1 √w, ∂f2/∂y2 = −2/η, ∂f2/∂C = 1.5 √w.
    vjp(t, y, batch, params, v, yBar, paramsBar) {
      const c = params[0];
      const eta = t + 0.5;
      for (let b = 0; b < batch; b++) {
        const y1 = y[2 * b];
        const root = Math.sqrt(y1 * y1 - c);
        const v1 = v[2 * b], v2 = v[2 * b + 1];
        yBar[2 * b] = -3 * y1 * root * v2;
        yBar[2 * b + 1] = v1 - 2 * v2 / eta;
        if (paramsBar) paramsBar[0] += 1.5 * root * v2;
      }
    },
  };
}
