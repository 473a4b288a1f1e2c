/**
 * Direct backprop hands its tape back to the pool after each backward pass
 * (solvers/gradients/tape_pool.ts): a later backward pass on the same solve
 * must give the same gradient whether it takes its tape back untouched or
 * another solve took it meanwhile and the tape had to be written again.
 */

import assert from "node:assert/strict";
import { Mlp, plain, reversible, rk4, solve } from "../mod.ts";

const field = new Mlp({ dim: 2, widths: [8], activation: "tanh", seed: 3 });
const params = field.init(3);
const y0 = Float64Array.of(0.4, -0.7, 1.1, 0.2);

function directSolve(start: Float64Array) {
  return solve({
    field,
    y0: start,
    params,
    scheme: plain(rk4),
    t0: 0,
    t1: 1,
    steps: 40,
    gradient: "direct",
  });
}

for (const scheme of [plain(rk4), reversible(rk4)]) {
  Deno.test(`direct ${scheme.kind} rk4: a tape taken by another solve is written again`, () => {
    const run = (start: Float64Array) =>
      solve({ field, y0: start, params, scheme, t0: 0, t1: 1, steps: 40, gradient: "direct" });
    const sol = run(y0);
    const first = sol.backward(sol.ys);
    const again = sol.backward(sol.ys);
    assert.deepEqual(again.params, first.params);
    assert.equal(again.stats.evaluations, first.stats.evaluations);
    // a solve of the same size takes the pooled tape and overwrites it
    const other = run(Float64Array.of(-1, 2, 0.5, 0.5));
    const otherGrad = other.backward(other.ys);
    assert.ok(otherGrad.params.some((v, i) => v !== first.params[i]));
    const late = sol.backward(sol.ys);
    assert.deepEqual(late.params, first.params);
    assert.deepEqual(late.y0, first.y0);
    // written again: the forward solve's evaluations are counted once more
    assert.ok(late.stats.evaluations > first.stats.evaluations);
    assert.equal(late.stats.peakBytes, first.stats.peakBytes);
  });
}

Deno.test("direct: solves that reuse a pooled tape give the same gradient, bit for bit", () => {
  const fresh = directSolve(y0).backward(Float64Array.of(1, 0, 0, 1));
  for (let k = 0; k < 3; k++) {
    const reused = directSolve(y0).backward(Float64Array.of(1, 0, 0, 1));
    assert.deepEqual(reused.params, fresh.params);
    assert.deepEqual(reused.y0, fresh.y0);
  }
});
