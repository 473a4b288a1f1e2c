/**
 * The algebraically reversible scheme of McCallum & Foster (2024),
 * numerics.md §2. State `(y, z)` with `z_0 = y_0` and coupling `λ ∈ (0, 1]`:
 *
 *     y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)
 *     z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})
 *
 * @module
 */

import type { Scheme } from "./scheme.ts";
import type { CheckedTableau } from "../tableau.ts";
import type { VectorField } from "../vector_field.ts";
import type { MemoryMeter } from "../memory.ts";
import { Increment } from "../increment.ts";

/**
 * Builds the reversible scheme of a tableau.
 *
 * @param field The vector field.
 * @param tableau A validated tableau.
 * @param coupling The coupling λ in (0, 1] (checked by the caller).
 * @param batch Number of trajectories.
 * @param meter Where buffer bytes are counted.
 * @returns The scheme, state `[y, z]`.
 *
 * @example A step and its inverse
 * ```ts
 * import { reversibleScheme } from "./reversible.ts";
 * import { checkTableau } from "../tableau.ts";
 * import { rk4 } from "../tableaux.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 *
 * const s = reversibleScheme(linearField(1), checkTableau(rk4), 0.999, 1, new MemoryMeter());
 * const theta = Float64Array.of(-1);
 * const state = [Float64Array.of(1), Float64Array.of(1)];
 * s.step(0, 0.1, theta, state);
 * assert.ok(Math.abs(state[0][0] - Math.exp(-0.1)) < 1e-6);
 * s.inverse(0, 0.1, theta, state);
 * assert.ok(Math.abs(state[0][0] - 1) < 1e-14);
 * ```
 */
export function reversibleScheme(
  field: VectorField,
  tableau: CheckedTableau,
  coupling: number,
  batch: number,
  meter: MemoryMeter,
): Scheme {
  const n = batch * field.dim;
  const lambda = coupling;
  // forward: Ψ_h(t_n, z_n); backward: Ψ_{−h}(t_{n+1}, y_{n+1})
  const forward = new Increment(field, tableau, batch, meter);
  const backward = new Increment(field, tableau, batch, meter);
  const psi = meter.f64(n);
  const bar = meter.f64(n);
  const negZBar = meter.f64(n);
  const half = forward.workspaceLength;
  return {
    name: `reversible ${tableau.name} (λ = ${lambda})`,
    stateCount: 2,
    reversible: true,
    coupled: true,
    errorOrder: tableau.bError ? (tableau.errorOrder ?? tableau.order - 1) : null,
    workspaceLength: 2 * half,
    init(_t0, y0, _params, state) {
      state[0].set(y0);
      state[1].set(y0);
    },
    // z_0 = y_0, so ∂L/∂y_0 = ȳ_0 + z̄_0
    initVjp(_t0, _y0, _params, stateBar, y0Bar) {
      const [yBar, zBar] = stateBar;
      for (let e = 0; e < n; e++) y0Bar[e] += yBar[e] + zBar[e];
    },
    // With `error`: the embedded estimate of the second sub-step (numerics.md §4).
    step(t, h, params, state, error) {
      const [y, z] = state;
      forward.evaluate(t, h, z, params, psi);
      for (let e = 0; e < n; e++) y[e] = lambda * y[e] + (1 - lambda) * z[e] + psi[e];
      backward.evaluate(t + h, -h, y, params, psi, error);
      for (let e = 0; e < n; e++) z[e] -= psi[e];
    },
    inverse(t, h, params, state) {
      const [y, z] = state;
      backward.evaluate(t + h, -h, y, params, psi);
      for (let e = 0; e < n; e++) z[e] += psi[e];
      forward.evaluate(t, h, z, params, psi);
      for (let e = 0; e < n; e++) y[e] = (y[e] - (1 - lambda) * z[e] - psi[e]) / lambda;
    },
    // numerics.md §2, backward pass steps 3 and 4.
    stepVjp(t, h, params, _after, stateBar, paramsBar) {
      const [yBar, zBar] = stateBar;
      // 3. through z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})
      for (let e = 0; e < n; e++) negZBar[e] = -zBar[e];
      backward.vjp(t + h, -h, params, negZBar, bar, paramsBar);
      for (let e = 0; e < n; e++) yBar[e] += bar[e];
      // 4. through y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)
      forward.vjp(t, h, params, yBar, bar, paramsBar);
      for (let e = 0; e < n; e++) {
        zBar[e] += (1 - lambda) * yBar[e] + bar[e];
        yBar[e] *= lambda;
      }
    },
    saveWorkspace(dst, offset) {
      forward.save(dst, offset);
      backward.save(dst, offset + half);
    },
    loadWorkspace(src, offset) {
      forward.load(src, offset);
      backward.load(src, offset + half);
    },
  };
}
