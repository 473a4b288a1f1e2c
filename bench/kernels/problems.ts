/**
 * The kernels section's problems, written against the public API only
 * (`Mlp`, `solve`, `plain`, `reversible`, `rk4` from mod.ts), so that the
 * same code runs a baseline checkout's mod.ts beside today's in one process.
 *
 * - batch 256, width 64: `y' = f(y)`, f the 4 → 64 tanh → 64 tanh → 4 MLP,
 *   RK4 steps of h = 0.01 from fixed pseudo-random y0, loss ½‖y_N‖²;
 * - the white dwarf: batch 1, `[t, y]` (3) → 10 tanh → 2, reversible RK4 with
 *   λ = 0.999, h = 0.005 from y0 = [1, 0], loss ½‖y_N‖².
 *
 * @module
 */

/** The part of revode's public API the problems use (any checkout's mod.ts). */
export interface RevodeApi {
  // deno-lint-ignore no-explicit-any
  Mlp: new (options: any) => any;
  // deno-lint-ignore no-explicit-any
  solve: (options: any) => any;
  // deno-lint-ignore no-explicit-any
  plain: (tableau: any) => unknown;
  // deno-lint-ignore no-explicit-any
  reversible: (tableau: any, options?: { coupling?: number }) => unknown;
  rk4: unknown;
}

/** One gradient problem. */
export interface GradientProblem {
  /** State dimension. */
  dim: number;
  /** Hidden widths (tanh). */
  widths: number[];
  /** Whether the field reads t. */
  timeDependent: boolean;
  /** Rows. */
  batch: number;
  /** Step size. */
  h: number;
  /** Steps N. */
  steps: number;
  /** `plain` RK4 (direct backprop) or `reversible` RK4 (its reversible gradient). */
  method: "direct" | "reversible";
}

/** The batch-256 width-64 problem with `steps` steps. */
export function wideProblem(steps: number, method: GradientProblem["method"]): GradientProblem {
  return { dim: 4, widths: [64, 64], timeDependent: false, batch: 256, h: 0.01, steps, method };
}

/** The white-dwarf problem with `steps` steps (reversible gradient). */
export function whiteDwarfProblem(steps: number): GradientProblem {
  return {
    dim: 2,
    widths: [10],
    timeDependent: true,
    batch: 1,
    h: 0.005,
    steps,
    method: "reversible",
  };
}

/** Fixed pseudo-random initial states in [−1, 1] (white dwarf: [1, 0]). */
export function initialStates(p: GradientProblem): Float64Array {
  if (p.timeDependent) return Float64Array.of(1, 0);
  const y0 = new Float64Array(p.batch * p.dim);
  for (let i = 0; i < y0.length; i++) y0[i] = Math.sin(12.9898 * (i + 1)) % 1;
  return y0;
}

/** A prepared gradient: call `run` for one forward solve and backward pass. */
export interface PreparedGradient {
  /** The field (a revode Mlp of the API given). */
  // deno-lint-ignore no-explicit-any
  field: any;
  /** Its parameters (seed 0). */
  params: Float64Array;
  /** One gradient: the loss and the parameter gradient. */
  run: () => { loss: number; params: Float64Array };
}

/**
 * Builds `p` with `api`; `wrap` may replace the field (the profile's timer).
 *
 * @param api The API of one checkout.
 * @param p The problem.
 * @param wrap Replaces the field handed to `solve()`.
 * @returns The prepared gradient.
 *
 * @example
 * ```ts
 * import * as api from "../../mod.ts";
 * import { prepareGradient, whiteDwarfProblem } from "./problems.ts";
 * import assert from "node:assert/strict";
 *
 * const g = prepareGradient(api, whiteDwarfProblem(10));
 * const { loss, params } = g.run();
 * assert.ok(loss > 0 && params.length === g.field.paramCount);
 * ```
 */
export function prepareGradient(
  api: RevodeApi,
  p: GradientProblem,
  // deno-lint-ignore no-explicit-any
  wrap: (field: any) => unknown = (field) => field,
): PreparedGradient {
  const field = new api.Mlp({
    dim: p.dim,
    widths: p.widths,
    activation: "tanh",
    timeDependent: p.timeDependent,
  });
  const params: Float64Array = field.init(0);
  const y0 = initialStates(p);
  const scheme = p.method === "direct" ? api.plain(api.rk4) : api.reversible(api.rk4, {
    coupling: 0.999,
  });
  const solved = wrap(field);
  const run = () => {
    const sol = api.solve({
      field: solved,
      y0,
      params,
      scheme,
      t0: 0,
      t1: p.h * p.steps,
      steps: p.steps,
      gradient: p.method,
    });
    const ys: Float64Array = sol.ys;
    let loss = 0;
    for (let i = 0; i < ys.length; i++) loss += 0.5 * ys[i] * ys[i];
    // ∂L/∂y_N = y_N
    return { loss, params: sol.backward(ys.slice()).params as Float64Array };
  };
  return { field, params, run };
}

/**
 * Multiply–adds of one forward pass of one row: `Σ_l inputs_l · outputs_l`.
 *
 * @param p The problem.
 * @returns The count.
 *
 * @example
 * ```ts
 * import { multiplyAdds, whiteDwarfProblem } from "./problems.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(multiplyAdds(whiteDwarfProblem(1)), 3 * 10 + 10 * 2);
 * ```
 */
export function multiplyAdds(p: GradientProblem): number {
  const sizes = [p.dim + (p.timeDependent ? 1 : 0), ...p.widths, p.dim];
  let sum = 0;
  for (let l = 0; l + 1 < sizes.length; l++) sum += sizes[l] * sizes[l + 1];
  return sum;
}
