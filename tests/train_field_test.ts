/**
 * train() with a vector field of the caller's own, an AbortSignal, and
 * validation with early stopping.
 */

import assert from "node:assert/strict";
import { defaultConfig, type FieldTrainConfig, type SeriesData } from "../training/config.ts";
import { train } from "../training/train.ts";
import { splitValidation, validationLoss } from "../training/validation.ts";
import { linearField } from "../solvers/fields/linear.ts";
import { solve } from "../solvers/solve.ts";
import { plain, reversible } from "../solvers/schemes/spec.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { mseLoss, mseLossVjp } from "../training/loss.ts";
import type { VectorField } from "../solvers/vector_field.ts";

/** A damped oscillator x' = v, v' = −k x − c v sampled at `points` times on [0, t1]. */
function oscillator(points: number, t1: number, x0 = 1, v0 = 0): SeriesData {
  const ts = Float64Array.from({ length: points }, (_, i) => (t1 * i) / (points - 1));
  const field = linearField(2);
  const sol = solve({
    field,
    y0: Float64Array.of(x0, v0),
    params: Float64Array.of(0, 1, -1, -0.2),
    scheme: plain(tableaux.rk4),
    t0: 0,
    t1,
    steps: (points - 1) * 8,
    saveAt: { t0: true, ts: ts.subarray(1) },
  });
  return { ts, ys: sol.ys, dim: 2, source: `oscillator from (${x0}, ${v0})` };
}

/**
 * y' = θ₀ tanh(θ₁ y): a tiny non-linear, non-MLP field with its VJP.
 * Forward: f = a·tanh(b y). Backward: ȳ = a b (1 − tanh²) w; ā += tanh·w; b̄ += a y (1 − tanh²) w.
 */
const tanhField: VectorField = {
  dim: 1,
  paramCount: 2,
  timeDependent: false,
  evaluate(_t, y, batch, [a, b], out) {
    for (let i = 0; i < batch; i++) out[i] = a * Math.tanh(b * y[i]);
  },
  vjp(_t, y, batch, [a, b], w, yBar, pBar) {
    for (let i = 0; i < batch; i++) {
      const th = Math.tanh(b * y[i]), d = 1 - th * th;
      yBar[i] = a * b * d * w[i];
      if (pBar) {
        pBar[0] += th * w[i];
        pBar[1] += a * y[i] * d * w[i];
      }
    }
  },
};

Deno.test("train() with a custom field: the loss falls and the gradient matches finite differences", async () => {
  const ts = Float64Array.from({ length: 21 }, (_, i) => i / 10);
  // data from a = −0.8, b = 1.5
  const exact = solve({
    field: tanhField,
    y0: Float64Array.of(1),
    params: Float64Array.of(-0.8, 1.5),
    scheme: plain(tableaux.rk4),
    t0: 0,
    t1: 2,
    steps: 200,
    saveAt: { t0: true, ts: ts.subarray(1) },
  });
  const data = { ts, ys: exact.ys, dim: 1, source: "tanh field" };
  const config = defaultConfig({ steps: 20, lr: 0.05 });
  const init = Float64Array.of(-0.2, 0.5);
  const result = await train({ config, data, field: tanhField, init, iterations: 40 });
  assert.equal(result.status, "completed");
  const losses = result.state.losses;
  assert.ok(losses[39] < losses[0] / 10, `loss ${losses[0]} → ${losses[39]}`);
  assert.equal(result.state.params.length, 2);
  assert.deepEqual([...init], [-0.2, 0.5], "init is not modified");

  // The gradient train() steps with (the reversible scheme's exact one) against
  // central differences of the same loss.
  const scheme = reversible(tableaux.rk4, { coupling: 0.999 });
  const lossAt = (p: Float64Array) => {
    const s = solve({
      field: tanhField,
      y0: Float64Array.of(1),
      params: p,
      scheme,
      t0: 0,
      t1: 2,
      steps: 20,
      saveAt: { steps: true },
    });
    return mseLoss(s.ys, ts.slice(1).map((_, i) => data.ys[i + 1]));
  };
  const sol = solve({
    field: tanhField,
    y0: Float64Array.of(1),
    params: init,
    scheme,
    t0: 0,
    t1: 2,
    steps: 20,
    saveAt: { steps: true },
    gradient: "reversible",
  });
  const bar = new Float64Array(sol.ys.length);
  const loss = mseLossVjp(sol.ys, data.ys.slice(1), bar);
  assert.equal(loss, losses[0], "the first recorded loss is the loss at init");
  const g = sol.backward(bar).params;
  for (let k = 0; k < 2; k++) {
    const h = 1e-6;
    const plus = init.slice(), minus = init.slice();
    plus[k] += h;
    minus[k] -= h;
    const fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
    assert.ok(Math.abs(g[k] - fd) < 1e-6 * Math.max(1, Math.abs(fd)), `θ${k}: ${g[k]} vs ${fd}`);
  }
});

Deno.test("train() refuses bad field combinations, naming them", async () => {
  const data = oscillator(11, 2);
  const config = defaultConfig({ steps: 10 });
  await assert.rejects(
    train({ config, data, field: linearField(3), init: new Float64Array(9), iterations: 1 }),
    /field\.dim: got 3; expected 2, the data's state dimension \(data\[0\]\.dim\)/,
  );
  await assert.rejects(
    train({ config, data, field: linearField(2), iterations: 1 }),
    /init.*the field's 4 initial parameters/,
  );
  await assert.rejects(
    train({ config, data, field: linearField(2), init: new Float64Array(3), iterations: 1 }),
    /init.*4 parameters, the field's/,
  );
  const mlp = {
    dim: 2,
    widths: [3],
    activation: "tanh" as const,
    finalActivation: "identity" as const,
    timeDependent: false,
  };
  await assert.rejects(
    train({
      config: defaultConfig({ mlp, steps: 10 }),
      data,
      field: linearField(2),
      init: new Float64Array(4),
      iterations: 1,
    }),
    /config\.mlp.*absent when field is given/,
  );
  await assert.rejects(train({ config, data, iterations: 1 }), /config\.mlp.*or a field/);
});

Deno.test("an aborted signal ends the run as interrupted at an iteration boundary, state kept", async () => {
  const data = oscillator(21, 4);
  const config: FieldTrainConfig = defaultConfig({ steps: 20, lr: 0.02 });
  const controller = new AbortController();
  const result = await train({
    config,
    data,
    field: linearField(2),
    init: new Float64Array(4),
    iterations: 50,
    onProgress: (p) => {
      if (p.iteration === 7) controller.abort();
    },
    signal: controller.signal,
  });
  assert.equal(result.status, "interrupted");
  assert.match(result.reason!, /aborted \(signal\) after iteration 7/);
  assert.equal(result.state.iteration, 7);
  assert.equal(result.state.losses.length, 7);
  // it resumes as if it had not stopped
  const rest = await train({
    config,
    data,
    field: linearField(2),
    iterations: 3,
    resume: result.state,
  });
  const whole = await train({
    config,
    data,
    field: linearField(2),
    init: new Float64Array(4),
    iterations: 10,
  });
  assert.deepEqual(rest.state.params, whole.state.params);
  assert.deepEqual(rest.state.losses, whole.state.losses);
  // an already aborted signal runs no iteration
  const none = await train({
    config,
    data,
    field: linearField(2),
    init: new Float64Array(4),
    iterations: 5,
    signal: AbortSignal.abort(),
  });
  assert.equal(none.status, "interrupted");
  assert.equal(none.state.iteration, 0);
});

Deno.test("validation split: deterministic from the seed, disjoint, and refused when too small", () => {
  const list = Array.from({ length: 10 }, (_, k) => oscillator(6, 1, 1, k / 10));
  const config = defaultConfig({ steps: 5, validation: 0.3, seed: 4 });
  const a = splitValidation(list, config);
  assert.deepEqual(splitValidation(list, config), a);
  assert.equal(a.heldOutIndices.length, 3);
  assert.equal(a.trainIndices.length, 7);
  assert.deepEqual([...a.heldOutIndices, ...a.trainIndices].sort((x, y) => x - y), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
  ]);
  const seeds = new Set(
    Array.from(
      { length: 8 },
      (_, seed) => splitValidation(list, { ...config, seed }).heldOutIndices.join(","),
    ),
  );
  assert.ok(seeds.size > 1, "other seeds choose other trajectories");
  assert.throws(
    () => splitValidation(list.slice(0, 2), { ...config, validation: 0.9 }),
    (e) =>
      e instanceof RangeError &&
      /validation: got 0\.9; .*holds out 2 of the 2 trajectories/.test(e.message),
  );
  // one trajectory: the last 30 % of its time; 3 points leave none to train on at 0.9
  const one = splitValidation(oscillator(11, 2), { ...config, steps: 10 });
  assert.equal(one.kind, "extrapolation");
  assert.equal(one.cut, 1.4);
  assert.deepEqual(one.heldOut.map((h) => h.first), [8]);
  assert.throws(
    () => splitValidation(oscillator(3, 2), { ...config, steps: 2, validation: 0.9 }),
    /validation: got 0\.9; .*the trajectory has 3 points on \[0, 2\] \(none would train\)/,
  );
  // fixed steps over every other point: the cut moves down to an even point
  const coarse = splitValidation(oscillator(11, 2), { ...config, steps: 5 });
  assert.equal(coarse.cut, 1.2);
  assert.equal(coarse.steps, 3);
});

Deno.test("validation: the held-out loss is recorded at every iteration, and patience keeps the best-validation parameters", async () => {
  const data = oscillator(41, 8);
  // fitted on [0, 5.6], judged on (5.6, 8]: an extrapolation test
  const config = defaultConfig({ steps: 40, lr: 0.2, validation: 0.3, patience: 3 });
  const result = await train({
    config,
    data,
    field: linearField(2),
    init: new Float64Array(4),
    iterations: 300,
  });
  const v = result.state.validationLosses!;
  assert.equal(v.length, result.state.iteration);
  assert.deepEqual(result.history.map((h) => h.validationLoss), v);
  const best = Math.min(...v);
  assert.equal(result.state.bestLoss, best);
  assert.equal(v[result.state.bestIteration - 1], best);
  assert.ok(result.stoppedEarly, `ran all ${result.state.iteration} iterations`);
  assert.ok(result.state.bestIteration > 1, "validation improved before it stopped improving");
  assert.equal(result.status, "completed");
  assert.equal(result.state.iteration - result.state.bestIteration, 3);
  assert.match(result.reason!, /stopped early after iteration \d+: the validation loss has not/);
  // the kept parameters give the best validation loss when evaluated afresh
  const split = splitValidation(data, config);
  assert.equal(validationLoss(linearField(2), result.state.bestParams, split, config), best);
  // and training saw only the points up to the cut: the training loss differs from a run on all
  const all = await train({
    config: { ...config, validation: null, patience: null },
    data,
    field: linearField(2),
    init: new Float64Array(4),
    iterations: 1,
  });
  assert.notEqual(all.state.losses[0], result.state.losses[0]);
});

Deno.test("validation with several trajectories: resuming continues identically", async () => {
  const list = Array.from({ length: 6 }, (_, k) => oscillator(11, 2, 1 - k / 6, k / 6));
  const mlp = {
    dim: 2,
    widths: [4],
    activation: "tanh" as const,
    finalActivation: "identity" as const,
    timeDependent: false,
  };
  const config = defaultConfig({ mlp, steps: 10, validation: 0.34, batch: 2, seed: 1 });
  const whole = await train({ config, data: list, iterations: 8 });
  const first = await train({ config, data: list, iterations: 5 });
  const rest = await train({ config, data: list, iterations: 3, resume: first.state });
  assert.deepEqual(rest.state.validationLosses, whole.state.validationLosses);
  assert.deepEqual(rest.state.losses, whole.state.losses);
  assert.deepEqual(rest.state.bestParams, whole.state.bestParams);
  assert.equal(whole.state.validationLosses!.length, 8);
  // a state without a validation history cannot resume a validated run
  const plain = await train({ config: { ...config, validation: null }, data: list, iterations: 2 });
  await assert.rejects(
    train({ config, data: list, iterations: 1, resume: plain.state }),
    /resume\.validationLosses/,
  );
  // batch counts the training trajectories: 4 of 6 remain
  await assert.rejects(
    train({ config: { ...config, batch: 5 }, data: list, iterations: 1 }),
    /batch: got 5; expected at most 4/,
  );
});
