import assert from "node:assert/strict";
import { Mlp, reversible, rk4, solve } from "../mod.ts";

const field = new Mlp({ dim: 2, widths: [10], timeDependent: true, seed: 0 });
const params = field.init(0);
const options = (coupling: number, gradient: Parameters<typeof solve>[0]["gradient"]) => ({
  field,
  y0: Float64Array.of(1, 0),
  params,
  scheme: reversible(rk4, { coupling }),
  t0: 0,
  t1: 10,
  steps: 2000,
  saveAt: { t1: true },
  gradient,
});

Deno.test("a reversible backward pass that drifts throws instead of returning a wrong gradient", () => {
  // N(1 − λ) = 200: round-off grows like e^200 on the way back
  const sol = solve(options(0.9, "reversible"));
  assert.throws(
    () => sol.backward(Float64Array.of(1, 1)),
    /drifted.*above reconstructionTolerance = 0\.000001.*N = 2000 steps.*λ closer to 1.*checkpointEvery/,
  );
  const unchecked = solve(options(0.9, { method: "reversible", reconstructionTolerance: Infinity }))
    .backward(Float64Array.of(1, 1));
  assert.ok(unchecked.stats.reconstructionError! > 1e-6);
});

Deno.test("checkpointEvery within N(1 − λ) ≲ 20 restores the exact gradient", () => {
  const direct = solve(options(0.9, "direct")).backward(Float64Array.of(1, 1));
  const g = solve(options(0.9, { method: "reversible", checkpointEvery: 100 }))
    .backward(Float64Array.of(1, 1));
  assert.ok(g.stats.reconstructionError! < 1e-8);
  let diff = 0, scale = 0;
  for (let q = 0; q < params.length; q++) {
    diff = Math.max(diff, Math.abs(g.params[q] - direct.params[q]));
    scale = Math.max(scale, Math.abs(direct.params[q]));
  }
  assert.ok(diff / scale < 1e-8, `relative difference ${diff / scale}`);
});

Deno.test("reconstructionTolerance must be positive", () => {
  assert.throws(
    () => solve(options(0.9, { method: "reversible", reconstructionTolerance: 0 })),
    /gradient\.reconstructionTolerance.*0.*> 0/,
  );
});
