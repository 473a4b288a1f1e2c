/**
 * Exact reconstruction (numerics.md §2–3): the reversible schemes rebuild
 * every earlier state from the final one with their algebraic inverse, up to
 * round-off. Checked through `solve()`'s gradient statistics and directly by
 * stepping a scheme forward and back.
 *
 * Round-off in the inverse of the reversible scheme is amplified by about
 * λ^{−N} (the inverse divides by λ every step): e^{10} ≈ 2·10⁴ for λ = 0.999
 * and N = 10 000, which is why a long run is the hard case.
 */

import assert from "node:assert/strict";
import {
  type GradientSpec,
  leapfrog,
  Mlp,
  reversible,
  reversibleHeun,
  rk4,
  type SchemeSpec,
  solve,
} from "../mod.ts";
import { buildScheme } from "../solvers/schemes/spec.ts";
import { MemoryMeter } from "../solvers/memory.ts";

const field = new Mlp({ dim: 2, widths: [16], activation: "tanh", seed: 0 });
const params = field.init();
/** Two trajectories. */
const y0 = Float64Array.of(0.7, -0.4, 1, 0.5);

/** Norm-wise relative error ‖a − b‖₂ / ‖b‖₂. */
function relativeError(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / s);
}

/** Deterministic cotangents for `n` outputs. */
function cotangents(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + 0.1));
}

/**
 * Steps `spec` forward `steps` times over [0, t1] keeping every state, then
 * inverts step by step; returns the worst relative ∞-norm distance between a
 * rebuilt state and the forward one, and how far the forward states moved.
 */
function stepAndInvert(
  spec: SchemeSpec,
  t1: number,
  steps: number,
): { worst: number; travelled: number } {
  const batch = y0.length / field.dim;
  const meter = new MemoryMeter();
  const { scheme } = buildScheme(spec, field, batch, meter);
  assert.ok(scheme.reversible);
  const state = Array.from({ length: scheme.stateCount }, () => new Float64Array(y0.length));
  scheme.init(0, y0, params, state);
  assert.deepEqual(state[0], y0);
  const h = t1 / steps;
  const history: Float64Array[][] = [state.map((s) => s.slice())];
  for (let i = 0; i < steps; i++) {
    scheme.step(i * h, h, params, state);
    history.push(state.map((s) => s.slice()));
  }
  let travelled = 0;
  for (let e = 0; e < y0.length; e++) {
    travelled = Math.max(travelled, Math.abs(history[steps][0][e] - y0[e]));
  }
  let worst = 0;
  for (let i = steps - 1; i >= 0; i--) {
    scheme.inverse(i * h, h, params, state);
    let diff = 0, scale = 0;
    for (let k = 0; k < state.length; k++) {
      for (let e = 0; e < y0.length; e++) {
        diff = Math.max(diff, Math.abs(state[k][e] - history[i][k][e]));
        scale = Math.max(scale, Math.abs(history[i][k][e]));
      }
    }
    worst = Math.max(worst, diff / scale);
  }
  assert.ok(meter.peak > 0, "the scheme's buffers are counted");
  return { worst, travelled };
}

Deno.test("10 000 reversible RK4 steps of an MLP field: y0 rebuilt to 1e-10", () => {
  const sol = solve({
    field,
    y0,
    params,
    scheme: reversible(rk4),
    t0: 0,
    t1: 10,
    steps: 10_000,
    gradient: "reversible",
  });
  // the flow moves the state far from y0
  let moved = 0;
  for (let e = 0; e < y0.length; e++) moved = Math.max(moved, Math.abs(sol.ys[e] - y0[e]));
  assert.ok(moved > 1, `the solution moved by ${moved} only`);
  const g = sol.backward(cotangents(sol.ys.length));
  const error = g.stats.reconstructionError;
  assert.ok(error !== undefined && Number.isFinite(error) && error >= 0, `${error}`);
  assert.ok(error < 1e-10, `reconstruction error ${error}`);
  assert.equal(g.stats.steps, 10_000);
  // and the gradient built on the rebuilt states is the direct one
  const direct = solve({
    field,
    y0,
    params,
    scheme: reversible(rk4),
    t0: 0,
    t1: 10,
    steps: 10_000,
    gradient: "direct",
  }).backward(cotangents(sol.ys.length));
  assert.equal(direct.stats.reconstructionError, undefined);
  assert.ok(relativeError(g.params, direct.params) < 1e-10);
  assert.ok(relativeError(g.y0, direct.y0) < 1e-10);
});

Deno.test("10 000 reversible RK4 steps, inverted step by step, rebuild every state to 1e-10", () => {
  const { worst, travelled } = stepAndInvert(reversible(rk4), 10, 10_000);
  assert.ok(travelled > 1);
  assert.ok(worst < 1e-10, `worst relative distance ${worst}`);
});

for (
  const [name, spec] of [["reversible heun", reversibleHeun()], ["leapfrog", leapfrog()]] as const
) {
  Deno.test(`${name}: 2000 steps rebuild every state to 1e-10`, () => {
    const { worst, travelled } = stepAndInvert(spec, 2, 2000);
    assert.ok(travelled > 0.1);
    assert.ok(worst < 1e-10, `worst relative distance ${worst}`);
    const sol = solve({
      field,
      y0,
      params,
      scheme: spec,
      t0: 0,
      t1: 2,
      steps: 2000,
      gradient: "reversible",
    });
    const error = sol.backward(cotangents(sol.ys.length)).stats.reconstructionError;
    assert.ok(error !== undefined && error >= 0 && error < 1e-10, `${error}`);
  });
}

Deno.test("checkpointEvery gives the same gradient and no larger reconstruction error", () => {
  const steps = 10_000;
  const run = (gradient: GradientSpec) => {
    const sol = solve({
      field,
      y0,
      params,
      scheme: reversible(rk4),
      t0: 0,
      t1: 10,
      steps,
      gradient,
      saveAt: { t0: true, steps: true },
    });
    return sol.backward(cotangents(sol.ys.length));
  };
  const plain = run("reversible");
  const direct = run("direct");
  const byEvery = new Map<number, ReturnType<typeof run>>();
  for (const every of [1, 7, 1000, steps - 1, steps + 5]) {
    const kept = run({ method: "reversible", checkpointEvery: every });
    byEvery.set(every, kept);
    assert.ok(relativeError(kept.params, plain.params) < 1e-12, `K = ${every}: params`);
    assert.ok(relativeError(kept.y0, plain.y0) < 1e-12, `K = ${every}: y0`);
    assert.ok(
      kept.stats.reconstructionError! <= plain.stats.reconstructionError!,
      `K = ${every}: ${kept.stats.reconstructionError} > ${plain.stats.reconstructionError}`,
    );
    assert.ok(relativeError(kept.params, direct.params) < 1e-12);
  }
  // K ≥ N stores nothing: the same run exactly
  const none = byEvery.get(steps + 5)!;
  assert.deepEqual(none.params, plain.params);
  assert.deepEqual(none.y0, plain.y0);
  assert.equal(none.stats.peakBytes, plain.stats.peakBytes);
  // K = 1 restores a stored state after every step: only one inverse step's round-off is left
  assert.ok(byEvery.get(1)!.stats.reconstructionError! < 1e-14);
  // storing states costs memory, more of it for smaller K
  const peak = (k: number) => byEvery.get(k)!.stats.peakBytes;
  assert.ok(peak(1) > peak(7) && peak(7) > peak(1000) && peak(1000) > peak(steps - 1));
  assert.ok(peak(steps - 1) > plain.stats.peakBytes);
});

Deno.test("a small coupling amplifies drift; checkpointEvery bounds it", () => {
  // λ = 0.9 over 200 steps: round-off grows by up to 0.9^{−200} ≈ 10⁹ on the way back.
  const run = (gradient: GradientSpec) => {
    const sol = solve({
      field,
      y0,
      params,
      scheme: reversible(rk4, { coupling: 0.9 }),
      t0: 0,
      t1: 2,
      steps: 200,
      gradient,
      saveAt: { t0: true, steps: true },
    });
    return sol.backward(cotangents(sol.ys.length));
  };
  const direct = run("direct");
  const drifting = run("reversible");
  const bounded = run({ method: "reversible", checkpointEvery: 10 });
  // the statistic measures real drift ...
  assert.ok(drifting.stats.reconstructionError! > 1e-9, `${drifting.stats.reconstructionError}`);
  // ... which checkpoints remove, along with its effect on the gradient
  assert.ok(bounded.stats.reconstructionError! < 1e-12, `${bounded.stats.reconstructionError}`);
  assert.ok(relativeError(bounded.params, direct.params) < 1e-12);
  assert.ok(relativeError(bounded.y0, direct.y0) < 1e-12);
  assert.ok(
    relativeError(bounded.params, direct.params) < relativeError(drifting.params, direct.params),
  );
});
