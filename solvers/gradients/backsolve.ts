/**
 * The continuous adjoint ("backsolve", numerics.md §3): solve backwards in
 * time, with the base Runge–Kutta method on the same grid, the augmented ODE
 *
 *     y' = f(t, y),   a' = −aᵀ ∂f/∂y,   θ̄' = −aᵀ ∂f/∂θ
 *
 * from `(y_N, ∂L/∂y_N, 0)`, adding each saved output's cotangent to `a` at
 * its time. O(1) memory, but the gradient of the ODE rather than of the
 * discrete solve: it only approaches the exact gradients as `h → 0`.
 *
 * @module
 */

import {
  addCotangent,
  advance,
  type GradientRun,
  newState,
  type Problem,
  record,
} from "./problem.ts";

/**
 * The backsolve gradient method.
 *
 * @param problem The solve.
 * @returns The method's forward and backward passes.
 */
export function backsolveGradient(problem: Problem): GradientRun {
  const { grid, params, meter, field, batch, baseTableau: tableau } = problem;
  const steps = grid.steps;
  const n = batch * field.dim;
  const p = params.length;
  const s = tableau.stages;
  const { aDense, b, c } = tableau;
  const state = newState(problem);
  const y = meter.f64(n);
  const a = meter.f64(n);
  const paramsBar = meter.f64(p);
  const tsBar = meter.f64(problem.outputs.plan.ts.length);
  const { outputs } = problem;
  const stageY = meter.f64(n), stageA = meter.f64(n), scratch = meter.f64(p);
  const ky: Float64Array[] = [], ka: Float64Array[] = [];
  for (let i = 0; i < s; i++) {
    ky.push(meter.f64(n));
    ka.push(meter.f64(n));
  }
  return {
    forward(ys) {
      problem.scheme.init(grid.time(0), problem.y0, params, state);
      record(problem, 0, state, ys);
      advance(problem, state, 0, steps, ys);
    },
    adopt(finalState) {
      state[0].set(finalState[0]);
    },
    backward(cotangents) {
      y.set(state[0]);
      a.fill(0);
      paramsBar.fill(0);
      tsBar.fill(0);
      addCotangent(problem, steps, a, cotangents);
      for (let i = steps; i > 0; i--) {
        const t = grid.time(i);
        const tPrev = grid.time(i - 1);
        const h = tPrev - t; // negative
        const inside = outputs.hasInterval(i - 1, tPrev, t);
        if (inside) {
          outputs.intervalVjp(i - 1, tPrev, t, 1, y, params, cotangents, a, paramsBar, tsBar);
        }
        for (let st = 0; st < s; st++) {
          stageY.set(y);
          stageA.set(a);
          for (let j = 0; j < st; j++) {
            const w = h * aDense[st * s + j];
            if (w === 0) continue;
            for (let e = 0; e < n; e++) {
              stageY[e] += w * ky[j][e];
              stageA[e] += w * ka[j][e];
            }
          }
          const ts = t + c[st] * h;
          field.evaluate(ts, stageY, batch, params, ky[st]);
          scratch.fill(0);
          field.vjp(ts, stageY, batch, params, stageA, ka[st], scratch);
          for (let e = 0; e < n; e++) ka[st][e] = -ka[st][e];
          const w = -h * b[st];
          for (let q = 0; q < p; q++) paramsBar[q] += w * scratch[q];
        }
        for (let st = 0; st < s; st++) {
          const w = h * b[st];
          if (w === 0) continue;
          for (let e = 0; e < n; e++) {
            y[e] += w * ky[st][e];
            a[e] += w * ka[st][e];
          }
        }
        if (inside) {
          outputs.intervalVjp(i - 1, tPrev, t, 0, y, params, cotangents, a, paramsBar, tsBar);
        }
        if (i > 1) addCotangent(problem, i - 1, a, cotangents);
      }
      // The adjoint is taken with respect to y(t_0) itself, not through the
      // scheme's auxiliary initial state.
      addCotangent(problem, 0, a, cotangents);
      return { y0: a.slice(), params: paramsBar.slice(), ts: tsBar.slice() };
    },
  };
}
