/**
 * The adaptive section's vector field: an MLP whose weights are tied so that
 * it is the Hamiltonian field of a chaotic two-degree-of-freedom system, and
 * the measurement of that chaos (the growth of a small perturbation of y0).
 *
 * @module
 */

import { dopri5, pid, plain, solve } from "../../mod.ts";
import { Mlp } from "../../solvers/fields/mlp.ts";
import { Rng } from "../../solvers/fields/random.ts";
import type { ChaosRow } from "./result.ts";
import { ADAPTIVE_MAX_STEPS, CHAOTIC_GAIN, CHAOTIC_SEED, PERTURBATION } from "./setting.ts";

/**
 * The chaotic field and its parameters: an autonomous `Mlp` 4 → 32 tanh → 4
 * (identity output) with the state `y = (q1, q2, p1, p2)`, whose weights make
 * it the Hamiltonian field `q' = ∂H/∂p`, `p' = −∂H/∂q` of
 *
 *     H(q, p) = Σ_{i<16} a_i log cosh(w_i·p + b_i) + Σ_{i≥16} c_i log cosh(u_i·q + d_i),
 *
 * i.e. hidden units 0–15 read only p, units 16–31 only q, and the output
 * weights are the input weights scaled by `a_i` (for q') or `−c_i` (for p').
 * Weights and biases are drawn from `U(−gain, gain)`, `a_i` from `U(0.5, 1.5)`
 * and `c_i` from `U(0, 1)`, with seed {@link CHAOTIC_SEED}. Since a, c > 0, H
 * grows like |q| + |p|: energy surfaces are bounded, so trajectories stay
 * bounded without damping; with seed 5 and gain 2 the motion from
 * `CHAOTIC_Y0` (setting.ts) is chaotic (finite-time Lyapunov exponent ≈ 0.3, as
 * measured by the benchmark). Gradients are taken with respect to all 292
 * MLP parameters, as for any MLP field.
 *
 * @param seed Seed of the weights.
 * @param gain Scale of weights and biases.
 * @returns The field and its parameters.
 *
 * @example
 * ```ts
 * import { chaoticField } from "./field.ts";
 * import assert from "node:assert/strict";
 * const { field, params } = chaoticField();
 * assert.equal(params.length, 292);
 * // q' = ∂H/∂p reads only p: moving q leaves it unchanged.
 * const f0 = new Float64Array(4), f1 = new Float64Array(4);
 * field.evaluate(0, Float64Array.of(0.3, -0.7, 0.2, 0.9), 1, params, f0);
 * field.evaluate(0, Float64Array.of(0.4, -0.7, 0.2, 0.9), 1, params, f1);
 * assert.deepEqual([f1[0], f1[1]], [f0[0], f0[1]]);
 * ```
 */
export function chaoticField(
  seed = CHAOTIC_SEED,
  gain = CHAOTIC_GAIN,
): { field: Mlp; params: Float64Array } {
  const hidden = 32, half = hidden / 2;
  const field = new Mlp({ dim: 4, widths: [hidden], activation: "tanh" });
  const [first, last] = field.layerShapes;
  const params = new Float64Array(field.paramCount);
  const rng = new Rng(seed);
  for (let i = 0; i < hidden; i++) {
    const kinetic = i < half; // reads p = y[2..3], drives q'
    const column = kinetic ? 2 : 0;
    for (let k = 0; k < 2; k++) {
      params[first.weightOffset + i * 4 + column + k] = rng.uniform(-gain, gain);
    }
    params[first.biasOffset + i] = rng.uniform(-gain, gain);
    const coefficient = kinetic ? rng.uniform(0.5, 1.5) : rng.uniform(0, 1);
    for (let k = 0; k < 2; k++) {
      const w = params[first.weightOffset + i * 4 + column + k];
      const output = kinetic ? k : 2 + k;
      params[last.weightOffset + output * hidden + i] = (kinetic ? 1 : -1) * coefficient * w;
    }
  }
  return { field, params };
}

/**
 * Growth of a perturbation `δ e_1` of y0 at time T, integrated with plain
 * Dopri5 at rtol = atol = 1e-12 (far below δ = 1e-8, so the growth is the
 * field's, not the solver's).
 *
 * @param field The vector field.
 * @param params Its parameters.
 * @param y0 The initial state.
 * @param span The end of the span [0, T].
 * @returns The growth and `ln(growth) / T`.
 *
 * @example
 * ```ts
 * import { chaoticField, perturbationGrowth } from "./field.ts";
 * import assert from "node:assert/strict";
 * const { field, params } = chaoticField();
 * const c = perturbationGrowth(field, params, Float64Array.of(1, 0, 0, 1), 0.5);
 * assert.equal(c.span, 0.5);
 * assert.ok(c.growth > 0 && Number.isFinite(c.lyapunov));
 * ```
 */
export function perturbationGrowth(
  field: Mlp,
  params: Float64Array,
  y0: Float64Array,
  span: number,
): ChaosRow {
  const c = pid({ rtol: 1e-12, atol: 1e-12, maxSteps: 10 * ADAPTIVE_MAX_STEPS });
  const base = solve({ field, y0, params, scheme: plain(dopri5), t1: span, controller: c });
  const moved = y0.slice();
  moved[0] += PERTURBATION;
  const other = solve({ field, y0: moved, params, scheme: plain(dopri5), t1: span, controller: c });
  let d = 0;
  for (let i = 0; i < y0.length; i++) d = Math.max(d, Math.abs(base.ys[i] - other.ys[i]));
  const growth = d / PERTURBATION;
  return { span, growth, lyapunov: Math.log(growth) / span };
}
