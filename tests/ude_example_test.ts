/**
 * examples/ude.ts: the hybrid field's VJP against finite differences, and
 * training with train() lowers the loss.
 */

import assert from "node:assert/strict";
import { Mlp } from "../solvers/fields/mlp.ts";
import { pendulumData, trainUde, udeField } from "../examples/ude.ts";

Deno.test("ude example: the hybrid field's VJP matches central differences in y and θ", () => {
  const mlp = new Mlp({ dim: 2, widths: [5], activation: "tanh", seed: 3 });
  const field = udeField(mlp);
  const params = new Float64Array(field.paramCount);
  params[0] = 1.7;
  params.set(mlp.init(3), 1);
  const batch = 2;
  const y = Float64Array.of(0.7, -0.3, -1.2, 0.4);
  const w = Float64Array.of(0.5, -1.1, 0.9, 0.2);
  const yBar = new Float64Array(4);
  const pBar = new Float64Array(field.paramCount);
  field.vjp(0, y, batch, params, w, yBar, pBar);
  // ⟨w, f(y, θ)⟩, whose gradients the VJP gives
  const dot = (yy: Float64Array, p: Float64Array) => {
    const out = new Float64Array(4);
    field.evaluate(0, yy, batch, p, out);
    return out.reduce((s, v, i) => s + v * w[i], 0);
  };
  const h = 1e-6;
  for (let i = 0; i < 4; i++) {
    const a = y.slice(), b = y.slice();
    a[i] += h;
    b[i] -= h;
    const fd = (dot(a, params) - dot(b, params)) / (2 * h);
    assert.ok(Math.abs(yBar[i] - fd) < 1e-8, `ȳ[${i}]: ${yBar[i]} vs ${fd}`);
  }
  for (let k = 0; k < field.paramCount; k++) {
    const a = params.slice(), b = params.slice();
    a[k] += h;
    b[k] -= h;
    const fd = (dot(y, a) - dot(y, b)) / (2 * h);
    assert.ok(Math.abs(pBar[k] - fd) < 1e-8, `θ̄[${k}]: ${pBar[k]} vs ${fd}`);
  }
  // the physics term is there: with the MLP's parameters zero, f = (v, −k sin x)
  const out = new Float64Array(4);
  const physics = new Float64Array(field.paramCount);
  physics[0] = 2;
  field.evaluate(0, y, batch, physics, out);
  assert.deepEqual([...out], [-0.3, -2 * Math.sin(0.7), 0.4, -2 * Math.sin(-1.2)]);
  // yBar is overwritten, paramsBar accumulated, as the VectorField contract says
  const first = yBar.slice();
  const again = new Float64Array(field.paramCount);
  field.vjp(0, y, batch, params, w, yBar.fill(99), again);
  field.vjp(0, y, batch, params, w, yBar, again);
  assert.deepEqual(yBar, first);
  again.forEach((v, k) => assert.ok(Math.abs(v - 2 * pBar[k]) < 1e-12, `θ̄[${k}] twice`));
});

Deno.test("ude example: train() on the pendulum's data lowers the loss", async () => {
  const data = pendulumData();
  assert.equal(data.ts.length, 41);
  const result = await trainUde(60);
  assert.equal(result.status, "completed");
  const losses = result.state.losses;
  assert.ok(losses[59] < losses[0] / 5, `loss ${losses[0]} → ${losses[59]}`);
  assert.ok(result.state.params[0] !== 1, "the physics parameter k trains too");
});
