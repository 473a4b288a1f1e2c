/**
 * The plain Runge–Kutta scheme `y_{n+1} = y_n + Ψ_h(t_n, y_n)`. It has no
 * algebraic inverse: gradients come from `direct`, `checkpointed` or
 * `backsolve`.
 *
 * @module
 */

import type { Scheme } from "./scheme.ts";
import type { CheckedTableau } from "../tableau.ts";
import type { VectorField } from "../vector_field.ts";
import type { MemoryMeter } from "../memory.ts";
import { Increment } from "../increment.ts";

/**
 * Builds the plain scheme of a tableau.
 *
 * @param field The vector field.
 * @param tableau A validated tableau.
 * @param batch Number of trajectories.
 * @param meter Where buffer bytes are counted.
 * @returns The scheme, state `[y]`.
 *
 * @example
 * ```ts
 * import { plainScheme } from "./plain.ts";
 * import { checkTableau } from "../tableau.ts";
 * import { euler } from "../tableaux.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 *
 * const s = plainScheme(linearField(1), checkTableau(euler), 1, new MemoryMeter());
 * const state = [Float64Array.of(1)];
 * s.step(0, 0.5, Float64Array.of(-1), state);
 * assert.equal(state[0][0], 0.5);
 * ```
 */
export function plainScheme(
  field: VectorField,
  tableau: CheckedTableau,
  batch: number,
  meter: MemoryMeter,
): Scheme {
  const n = batch * field.dim;
  const increment = new Increment(field, tableau, batch, meter);
  const psi = meter.f64(n);
  const bar = meter.f64(n);
  return {
    name: `plain ${tableau.name}`,
    stateCount: 1,
    reversible: false,
    coupled: false,
    errorOrder: tableau.bError ? (tableau.errorOrder ?? tableau.order - 1) : null,
    workspaceLength: increment.workspaceLength,
    init(_t0, y0, _params, state) {
      state[0].set(y0);
    },
    initVjp(_t0, _y0, _params, stateBar, y0Bar) {
      for (let e = 0; e < n; e++) y0Bar[e] += stateBar[0][e];
    },
    step(t, h, params, state, error) {
      const y = state[0];
      increment.evaluate(t, h, y, params, psi, error);
      for (let e = 0; e < n; e++) y[e] += psi[e];
    },
    inverse() {
      throw new Error(
        `The plain ${tableau.name} scheme has no algebraic inverse; use reversible(${tableau.name}) for reversible gradients, or the direct, checkpointed or backsolve gradient.`,
      );
    },
    // ȳ_n = ȳ_{n+1} + vjp_y Ψ_h[ȳ_{n+1}]
    stepVjp(t, h, params, _after, stateBar, paramsBar) {
      const yBar = stateBar[0];
      increment.vjp(t, h, params, yBar, bar, paramsBar);
      for (let e = 0; e < n; e++) yBar[e] += bar[e];
    },
    saveWorkspace(dst, offset) {
      increment.save(dst, offset);
    },
    loadWorkspace(src, offset) {
      increment.load(src, offset);
    },
  };
}
