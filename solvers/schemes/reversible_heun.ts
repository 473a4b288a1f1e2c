/**
 * Reversible Heun (Kidger et al. 2021), numerics.md §3. State `(y, ŷ, f̂)`
 * with `ŷ_0 = y_0`, `f̂_0 = f(t_0, y_0)`:
 *
 *     ŷ_{n+1} = 2 y_n − ŷ_n + h f̂_n
 *     f̂_{n+1} = f(t_{n+1}, ŷ_{n+1})
 *     y_{n+1} = y_n + (h/2)(f̂_n + f̂_{n+1})
 *
 * Order 2, one evaluation of f per step.
 *
 * @module
 */

import type { Scheme } from "./scheme.ts";
import type { VectorField } from "../vector_field.ts";
import type { MemoryMeter } from "../memory.ts";

/**
 * Builds the Reversible Heun scheme.
 *
 * @param field The vector field.
 * @param batch Number of trajectories.
 * @param meter Where buffer bytes are counted.
 * @returns The scheme, state `[y, ŷ, f̂]`.
 *
 * @example
 * ```ts
 * import { reversibleHeunScheme } from "./reversible_heun.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 *
 * const s = reversibleHeunScheme(linearField(1), 1, new MemoryMeter());
 * const theta = Float64Array.of(-1);
 * const state = [new Float64Array(1), new Float64Array(1), new Float64Array(1)];
 * s.init(0, Float64Array.of(1), theta, state);
 * s.step(0, 0.1, theta, state);
 * s.inverse(0, 0.1, theta, state);
 * assert.ok(Math.abs(state[0][0] - 1) < 1e-15);
 * ```
 */
export function reversibleHeunScheme(
  field: VectorField,
  batch: number,
  meter: MemoryMeter,
): Scheme {
  const n = batch * field.dim;
  const yHatOld = meter.f64(n);
  const fHatOld = meter.f64(n);
  const bar = meter.f64(n);
  return {
    name: "reversible heun",
    stateCount: 3,
    reversible: true,
    coupled: false,
    errorOrder: 1,
    workspaceLength: 0,
    init(t0, y0, params, state) {
      state[0].set(y0);
      state[1].set(y0);
      field.evaluate(t0, y0, batch, params, state[2]);
    },
    // ŷ_0 = y_0 and f̂_0 = f(t_0, y_0)
    initVjp(t0, y0, params, stateBar, y0Bar, paramsBar) {
      const [yBar, yHatBar, fHatBar] = stateBar;
      field.vjp(t0, y0, batch, params, fHatBar, bar, paramsBar);
      for (let e = 0; e < n; e++) y0Bar[e] += yBar[e] + yHatBar[e] + bar[e];
    },
    // With `error`: (h/2)(f̂_{n+1} − f̂_n), trapezoid against Euler.
    step(t, h, params, state, error) {
      const [y, yHat, fHat] = state;
      fHatOld.set(fHat);
      for (let e = 0; e < n; e++) yHat[e] = 2 * y[e] - yHat[e] + h * fHat[e];
      field.evaluate(t + h, yHat, batch, params, fHat);
      for (let e = 0; e < n; e++) y[e] += 0.5 * h * (fHatOld[e] + fHat[e]);
      if (error) { for (let e = 0; e < n; e++) error[e] = 0.5 * h * (fHat[e] - fHatOld[e]); }
    },
    inverse(t, h, params, state) {
      const [y, yHat, fHat] = state;
      for (let e = 0; e < n; e++) yHatOld[e] = 2 * y[e] - yHat[e] - h * fHat[e];
      field.evaluate(t, yHatOld, batch, params, fHatOld);
      for (let e = 0; e < n; e++) y[e] -= 0.5 * h * (fHatOld[e] + fHat[e]);
      yHat.set(yHatOld);
      fHat.set(fHatOld);
    },
    stepVjp(t, h, params, after, stateBar, paramsBar) {
      const [yBar, yHatBar, fHatBar] = stateBar;
      // through y_{n+1} and f̂_{n+1} = f(t_{n+1}, ŷ_{n+1})
      for (let e = 0; e < n; e++) fHatBar[e] += 0.5 * h * yBar[e];
      field.vjp(t + h, after[1], batch, params, fHatBar, bar, paramsBar);
      // through ŷ_{n+1} = 2 y_n − ŷ_n + h f̂_n and y_{n+1} = y_n + (h/2) f̂_n + …
      for (let e = 0; e < n; e++) {
        const hatBar = yHatBar[e] + bar[e];
        fHatBar[e] = 0.5 * h * yBar[e] + h * hatBar;
        yBar[e] += 2 * hatBar;
        yHatBar[e] = -hatBar;
      }
    },
    saveWorkspace() {},
    loadWorkspace() {},
  };
}
