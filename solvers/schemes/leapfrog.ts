/**
 * The asynchronous leapfrog integrator (MALI, Zhuang et al. 2021),
 * numerics.md §3. State `(y, v)` with `v_0 = f(t_0, y_0)`:
 *
 *     y_½ = y_n + (h/2) v_n,   u = f(t_n + h/2, y_½)
 *     v_{n+1} = 2u − v_n,      y_{n+1} = y_½ + (h/2) v_{n+1}
 *
 * @module
 */

import type { Scheme } from "./scheme.ts";
import type { VectorField } from "../vector_field.ts";
import type { MemoryMeter } from "../memory.ts";

/**
 * Builds the asynchronous leapfrog scheme.
 *
 * @param field The vector field.
 * @param batch Number of trajectories.
 * @param meter Where buffer bytes are counted.
 * @returns The scheme, state `[y, v]`.
 *
 * @example
 * ```ts
 * import { leapfrogScheme } from "./leapfrog.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 *
 * const s = leapfrogScheme(linearField(1), 1, new MemoryMeter());
 * const theta = Float64Array.of(-1);
 * const state = [new Float64Array(1), new Float64Array(1)];
 * s.init(0, Float64Array.of(1), theta, state);
 * s.step(0, 0.1, theta, state);
 * s.inverse(0, 0.1, theta, state);
 * assert.ok(Math.abs(state[0][0] - 1) < 1e-15);
 * ```
 */
export function leapfrogScheme(field: VectorField, batch: number, meter: MemoryMeter): Scheme {
  const n = batch * field.dim;
  const yHalf = meter.f64(n);
  const u = meter.f64(n);
  const bar = meter.f64(n);
  return {
    name: "asynchronous leapfrog",
    stateCount: 2,
    reversible: true,
    coupled: false,
    errorOrder: 1,
    workspaceLength: 0,
    init(t0, y0, params, state) {
      state[0].set(y0);
      field.evaluate(t0, y0, batch, params, state[1]);
    },
    // v_0 = f(t_0, y_0)
    initVjp(t0, y0, params, stateBar, y0Bar, paramsBar) {
      field.vjp(t0, y0, batch, params, stateBar[1], bar, paramsBar);
      for (let e = 0; e < n; e++) y0Bar[e] += stateBar[0][e] + bar[e];
    },
    // With `error`: (h/2)(v_{n+1} − v_n), the leapfrog step against Euler.
    step(t, h, params, state, error) {
      const [y, v] = state;
      for (let e = 0; e < n; e++) yHalf[e] = y[e] + 0.5 * h * v[e];
      field.evaluate(t + 0.5 * h, yHalf, batch, params, u);
      for (let e = 0; e < n; e++) {
        const vNext = 2 * u[e] - v[e];
        if (error) error[e] = 0.5 * h * (vNext - v[e]);
        v[e] = vNext;
        y[e] = yHalf[e] + 0.5 * h * vNext;
      }
    },
    inverse(t, h, params, state) {
      const [y, v] = state;
      for (let e = 0; e < n; e++) yHalf[e] = y[e] - 0.5 * h * v[e];
      field.evaluate(t + 0.5 * h, yHalf, batch, params, u);
      for (let e = 0; e < n; e++) {
        v[e] = 2 * u[e] - v[e];
        y[e] = yHalf[e] - 0.5 * h * v[e];
      }
    },
    stepVjp(t, h, params, after, stateBar, paramsBar) {
      const [yBar, vBar] = stateBar;
      const [y1, v1] = after;
      for (let e = 0; e < n; e++) {
        yHalf[e] = y1[e] - 0.5 * h * v1[e];
        // v̄_{n+1} including y_{n+1} = y_½ + (h/2) v_{n+1}; ū = 2 v̄_{n+1}
        vBar[e] += 0.5 * h * yBar[e];
        u[e] = 2 * vBar[e];
      }
      field.vjp(t + 0.5 * h, yHalf, batch, params, u, bar, paramsBar);
      for (let e = 0; e < n; e++) {
        const halfBar = yBar[e] + bar[e];
        yBar[e] = halfBar;
        vBar[e] = -vBar[e] + 0.5 * h * halfBar;
      }
    },
    saveWorkspace() {},
    loadWorkspace() {},
  };
}
