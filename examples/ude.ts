/**
 * A universal differential equation: a known physics term plus an MLP
 * correction, trained as one vector field with `train()`.
 *
 *     deno run examples/ude.ts [--iterations 300]
 *
 * The data come from a damped pendulum, x = angle, v = angular velocity:
 *
 *     x' = v,   v' = −ω² sin x − c v            (ω² = 2, c = 0.3)
 *
 * The model knows the gravity term but neither its strength nor the
 * friction: with θ = (k, φ), k a trainable stand-in for ω² and φ the
 * weights of a small MLP g(y; φ),
 *
 *     f(y; θ) = (v, −k sin x) + g(y; φ)
 *
 * so the MLP has only to learn what the physics leaves out (here the
 * friction −c v). Its VJP, for the cotangent w = (w₁, w₂) of f, is the
 * MLP's plus the physics term's:
 *
 *     ȳ = J_g(y)ᵀ w + (−k cos x · w₂, w₁),   k̄ += −sin x · w₂,   φ̄ += J_φ g(y)ᵀ w.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  defaultConfig,
  Mlp,
  plain,
  rk4,
  solve,
  train,
  type TrainResult,
  type VectorField,
} from "../mod.ts";

/** The pendulum the data come from: ω² and the friction c. */
export const PENDULUM = { omega2: 2, friction: 0.3 };

/**
 * The hybrid field `(v, −k sin x) + g(y; φ)` with parameters `[k, φ…]`.
 *
 * @param mlp The correction g: an MLP of dimension 2.
 * @returns The field; `paramCount` is `1 + mlp.paramCount`.
 */
export function udeField(mlp: Mlp): VectorField {
  if (mlp.dim !== 2) throw new RangeError(`udeField: the MLP's dim is ${mlp.dim}; expected 2.`);
  // φ is a view of θ after k; kept between calls so that the hot path does not allocate
  let seen: Float64Array | null = null;
  let phi: Float64Array<ArrayBufferLike> = new Float64Array(0);
  let seenBar: Float64Array | null = null;
  let phiBar: Float64Array<ArrayBufferLike> = new Float64Array(0);
  const phiOf = (params: Float64Array) => {
    if (params !== seen) [seen, phi] = [params, params.subarray(1)];
    return phi;
  };
  return {
    dim: 2,
    paramCount: 1 + mlp.paramCount,
    timeDependent: false,
    // f = (v, −k sin x) + g(y; φ)
    evaluate(t, y, batch, params, out) {
      mlp.evaluate(t, y, batch, phiOf(params), out);
      const k = params[0];
      for (let b = 0; b < batch; b++) {
        out[2 * b] += y[2 * b + 1];
        out[2 * b + 1] -= k * Math.sin(y[2 * b]);
      }
    },
    // ȳ = J_gᵀ w + (−k cos x · w₂, w₁);  k̄ += Σ −sin x · w₂;  φ̄ += J_φ gᵀ w
    vjp(t, y, batch, params, w, yBar, paramsBar) {
      let bar: Float64Array | null = null;
      if (paramsBar !== null) {
        if (paramsBar !== seenBar) [seenBar, phiBar] = [paramsBar, paramsBar.subarray(1)];
        bar = phiBar;
      }
      mlp.vjp(t, y, batch, phiOf(params), w, yBar, bar);
      const k = params[0];
      for (let b = 0; b < batch; b++) {
        const x = y[2 * b], w1 = w[2 * b], w2 = w[2 * b + 1];
        yBar[2 * b] -= k * Math.cos(x) * w2;
        yBar[2 * b + 1] += w1;
        if (paramsBar !== null) paramsBar[0] -= Math.sin(x) * w2;
      }
    },
  };
}

/**
 * The damped pendulum's trajectory from (1, 0), sampled at `points` times
 * on [0, t1], solved finely with RK4.
 *
 * @param points Samples, the first the initial state.
 * @param t1 The end time.
 * @returns The data.
 */
export function pendulumData(points = 41, t1 = 8) {
  const truth: VectorField = {
    dim: 2,
    paramCount: 0,
    timeDependent: false,
    evaluate(_t, y, batch, _p, out) {
      for (let b = 0; b < batch; b++) {
        out[2 * b] = y[2 * b + 1];
        out[2 * b + 1] = -PENDULUM.omega2 * Math.sin(y[2 * b]) - PENDULUM.friction * y[2 * b + 1];
      }
    },
    vjp() {
      throw new Error("the data's field is not differentiated");
    },
  };
  const ts = Float64Array.from({ length: points }, (_, i) => (t1 * i) / (points - 1));
  const sol = solve({
    field: truth,
    y0: Float64Array.of(1, 0),
    params: new Float64Array(0),
    scheme: plain(rk4),
    t0: 0,
    t1,
    steps: (points - 1) * 20,
    saveAt: { t0: true, ts: ts.subarray(1) },
  });
  return { ts, ys: sol.ys, dim: 2, source: "damped pendulum (simulated)" };
}

/**
 * Trains the hybrid model on the pendulum's data: k starts at 1 (a wrong
 * guess of ω²), the MLP from its seeded initialisation scaled down, so that
 * at first the model is nearly the undamped physics.
 *
 * @param iterations AdamW steps.
 * @returns The run's result; `state.bestParams[0]` is the fitted k.
 */
export async function trainUde(iterations: number): Promise<TrainResult> {
  const mlp = new Mlp({ dim: 2, widths: [8], activation: "tanh", seed: 0 });
  const field = udeField(mlp);
  const init = new Float64Array(field.paramCount);
  init[0] = 1;
  init.set(mlp.init(0).map((p) => 0.1 * p), 1);
  const data = pendulumData();
  const config = defaultConfig({ steps: 80, lr: 0.02 });
  return await train({ config, data, field, init, iterations });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { iterations: { type: "string", default: "300" } },
  });
  const result = await trainUde(Number(values.iterations));
  const losses = result.state.losses;
  console.log(`loss: ${losses[0].toExponential(3)} → ${result.state.bestLoss!.toExponential(3)}`);
  console.log(`fitted k = ${result.state.bestParams[0].toFixed(4)} (ω² = ${PENDULUM.omega2})`);
}
