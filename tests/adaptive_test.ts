import assert from "node:assert/strict";
import {
  bosh3,
  dopri5,
  leapfrog,
  linearField,
  Mlp,
  pid,
  plain,
  reversible,
  reversibleHeun,
  rk4,
  solve,
  tsit5,
  type VectorField,
} from "../mod.ts";
import { heun } from "../solvers/tableaux.ts";

/** y' = −50 (y − cos t): stiff-ish, exact solution known. */
const relaxation: VectorField = {
  dim: 1,
  paramCount: 0,
  timeDependent: true,
  evaluate(t, y, batch, _p, out) {
    for (let b = 0; b < batch; b++) out[b] = -50 * (y[b] - Math.cos(t));
  },
  vjp(_t, _y, batch, _p, v, yBar) {
    for (let b = 0; b < batch; b++) yBar[b] = -50 * v[b];
  },
};
const relaxationExact = (t: number, y0: number) => {
  const particular = (s: number) => (2500 * Math.cos(s) + 50 * Math.sin(s)) / 2501;
  return particular(t) + (y0 - particular(0)) * Math.exp(-50 * t);
};

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / Math.max(s, 1e-300));
}

Deno.test("adaptive solutions meet their tolerance on problems with known solutions", () => {
  const cases = [
    // decay y' = −y
    {
      name: "decay",
      field: linearField(1),
      params: Float64Array.of(-1),
      y0: Float64Array.of(1),
      t1: 5,
      exact: [Math.exp(-5)],
    },
    // oscillator: rotation y1' = 4 y2, y2' = −4 y1
    {
      name: "oscillator",
      field: linearField(2),
      params: Float64Array.of(0, 4, -4, 0),
      y0: Float64Array.of(1, 0),
      t1: 10,
      exact: [Math.cos(40), -Math.sin(40)],
    },
    {
      name: "stiff-ish relaxation",
      field: relaxation,
      params: new Float64Array(0),
      y0: Float64Array.of(2),
      t1: 3,
      exact: [relaxationExact(3, 2)],
    },
  ];
  for (const c of cases) {
    for (const tableau of [bosh3, dopri5, tsit5]) {
      for (const tol of [1e-5, 1e-8]) {
        const sol = solve({
          field: c.field,
          y0: c.y0,
          params: c.params,
          scheme: plain(tableau),
          t0: 0,
          t1: c.t1,
          controller: pid({ rtol: tol, atol: tol, maxSteps: 100_000 }),
        });
        assert.equal(sol.status[0], "success");
        let err = 0;
        for (let e = 0; e < c.exact.length; e++) {
          err = Math.max(err, Math.abs(sol.ys[e] - c.exact[e]));
        }
        // global error within a modest multiple of the local tolerance
        assert.ok(err < 100 * tol, `${c.name} ${tableau.name} tol ${tol}: error ${err}`);
      }
    }
  }
  // the reversible scheme meets tolerance too (λ = 0.999, decaying and oscillating)
  for (const c of cases.slice(0, 2)) {
    const sol = solve({
      field: c.field,
      y0: c.y0,
      params: c.params,
      scheme: reversible(dopri5),
      t0: 0,
      t1: c.t1,
      controller: pid({ rtol: 1e-7, atol: 1e-7 }),
    });
    let err = 0;
    for (let e = 0; e < c.exact.length; e++) err = Math.max(err, Math.abs(sol.ys[e] - c.exact[e]));
    assert.ok(err < 1e-5, `reversible ${c.name}: error ${err}`);
  }
});

Deno.test("the number of steps scales with rtol as the error order predicts", () => {
  const field = linearField(2);
  const params = Float64Array.of(0, 4, -4, 0);
  const steps = (tableau: typeof dopri5, tol: number) =>
    solve({
      field,
      params,
      y0: Float64Array.of(1, 0),
      scheme: plain(tableau),
      t0: 0,
      t1: 10,
      controller: pid({ rtol: tol, atol: tol, maxSteps: 100_000 }),
    }).trajectories![0].accepted;
  // local error ~ h^(p̂+1): N ∝ tol^(−1/(p̂+1)); a 10^4 drop in tol
  const dopri = steps(dopri5, 1e-9) / steps(dopri5, 1e-5); // ≈ 10^(4/5) ≈ 6.3
  assert.ok(dopri > 4 && dopri < 10, `dopri5 ratio ${dopri}`);
  const bs = steps(bosh3, 1e-9) / steps(bosh3, 1e-5); // ≈ 10^(4/3) ≈ 21.5
  assert.ok(bs > 13 && bs < 35, `bosh3 ratio ${bs}`);
});

const mlp = new Mlp({ dim: 2, widths: [8], timeDependent: true, seed: 3 });
const theta = mlp.init(3);

function adaptiveSolve(
  method: "reversible" | "direct" | "checkpointed" | "backsolve",
  extra: Record<string, unknown> = {},
) {
  return solve({
    field: mlp,
    y0: Float64Array.of(0.5, -0.3),
    params: theta,
    scheme: reversible(bosh3),
    t0: 0,
    t1: 3,
    controller: pid({ rtol: 1e-6, atol: 1e-6 }),
    saveAt: { steps: true, t0: true },
    gradient: method,
    ...extra,
  });
}

Deno.test("adaptive reversible gradients equal direct backpropagation through the same accepted steps", () => {
  const rev = adaptiveSolve("reversible");
  const cot = rev.ys.map((_, i) => Math.sin(1 + i));
  const g = rev.backward(cot);
  for (const method of ["direct", "checkpointed"] as const) {
    const other = adaptiveSolve(method);
    assert.deepEqual(other.ys, rev.ys);
    const h = other.backward(cot);
    assert.ok(relErr(g.params, h.params) < 1e-10, `${method} params`);
    assert.ok(relErr(g.y0, h.y0) < 1e-10, `${method} y0`);
  }
  // and equal to a fixed-grid solve on the accepted times (an independent path)
  assert.ok(rev.tsPerTrajectory);
  const grid = [...rev.ts];
  const fixed = solve({
    field: mlp,
    y0: Float64Array.of(0.5, -0.3),
    params: theta,
    scheme: reversible(bosh3),
    grid,
    saveAt: { steps: true, t0: true },
    gradient: "direct",
  });
  assert.deepEqual(fixed.ys, rev.ys);
  const f = fixed.backward(cot);
  assert.ok(relErr(g.params, f.params) < 1e-10);
  assert.ok(relErr(g.y0, f.y0) < 1e-10);
  assert.ok(g.stats.reconstructionError! < 1e-12);
  // finite differences on the accepted grid
  const loss = (p: Float64Array, y0: Float64Array) => {
    const s = solve({
      field: mlp,
      y0,
      params: p,
      scheme: reversible(bosh3),
      grid,
      saveAt: { steps: true, t0: true },
    });
    return s.ys.reduce((a, v, i) => a + v * cot[i], 0);
  };
  const eps = 1e-6;
  for (const q of [0, 5, theta.length - 1]) {
    const plus = theta.slice(), minus = theta.slice();
    plus[q] += eps;
    minus[q] -= eps;
    const fd = (loss(plus, Float64Array.of(0.5, -0.3)) - loss(minus, Float64Array.of(0.5, -0.3))) /
      (2 * eps);
    assert.ok(Math.abs(fd - g.params[q]) < 1e-6 * Math.max(1, Math.abs(fd)), `param ${q}`);
  }
});

Deno.test("gradients with respect to interpolated output times match finite differences", () => {
  const ts = [0.1, 0.55, 1.3, 2.9];
  const y0 = Float64Array.of(0.5, -0.3, 1, 0.2);
  const run = (times: number[], method?: "reversible" | "direct" | "checkpointed" | "backsolve") =>
    solve({
      field: mlp,
      y0,
      params: theta,
      scheme: reversible(bosh3),
      t0: 0,
      t1: 3,
      controller: pid({ rtol: 1e-6, atol: 1e-6 }),
      saveAt: { t0: true, ts: times },
      gradient: method,
    });
  const base = run(ts, "reversible");
  const cot = base.ys.map((_, i) => Math.cos(i));
  const loss = (times: number[]) => run(times).ys.reduce((a, v, i) => a + v * cot[i], 0);
  const eps = 1e-6;
  const fd = ts.map((_, k) => {
    const p = [...ts], m = [...ts];
    p[k] += eps;
    m[k] -= eps;
    return (loss(p) - loss(m)) / (2 * eps);
  });
  for (const method of ["reversible", "direct", "checkpointed"] as const) {
    const g = run(ts, method).backward(cot);
    for (let k = 0; k < ts.length; k++) {
      assert.ok(
        Math.abs(g.ts[k] - fd[k]) < 1e-6 * Math.max(1, Math.abs(fd[k])),
        `${method} ts[${k}]`,
      );
    }
  }
  // reversible, direct and checkpointed agree on θ and y0 through the interpolation
  const r = run(ts, "reversible").backward(cot);
  const d = run(ts, "direct").backward(cot);
  assert.ok(relErr(r.params, d.params) < 1e-10);
  assert.ok(relErr(r.y0, d.y0) < 1e-10);
  // backsolve approximates them
  const b = run(ts, "backsolve").backward(cot);
  assert.ok(relErr(b.params, d.params) < 1e-3);
});

Deno.test("interpolated outputs on a fixed grid are Hermite accurate and their gradients exact", () => {
  const sol = solve({
    field: linearField(1),
    y0: Float64Array.of(1),
    params: Float64Array.of(-1),
    scheme: reversible(rk4),
    t0: 0,
    t1: 1,
    steps: 20,
    saveAt: { ts: [0.333, 0.5, 0.91] },
    gradient: "reversible",
  });
  for (const [k, t] of [0.333, 0.5, 0.91].entries()) {
    assert.ok(Math.abs(sol.ys[k] - Math.exp(-t)) < 1e-6, `y(${t})`);
  }
  const g = sol.backward(Float64Array.of(1, 1, 1));
  // d/dθ Σ e^{θ t} = Σ t e^{θ t}, d/dt_k = θ e^{θ t_k}
  const expected = [0.333, 0.5, 0.91].reduce((a, t) => a + t * Math.exp(-t), 0);
  assert.ok(Math.abs(g.params[0] - expected) < 1e-5);
  assert.ok(Math.abs(g.ts[2] + Math.exp(-0.91)) < 1e-5);
});

Deno.test("a trajectory batched with a much harder one is bit-identical to solving it alone", () => {
  const easy = Float64Array.of(0.2, 0.1);
  const hard = Float64Array.of(40, -35);
  const opts = (y0: Float64Array) => ({
    field: mlp,
    y0,
    params: theta,
    scheme: reversible(tsit5),
    t0: 0,
    t1: 3,
    controller: pid({ rtol: 1e-7, atol: 1e-7 }),
    saveAt: { t0: true, ts: [1, 2], t1: true },
    gradient: "reversible" as const,
  });
  const alone = solve(opts(easy));
  const both = solve(opts(Float64Array.of(...hard, ...easy)));
  assert.notEqual(both.trajectories![0].accepted, both.trajectories![1].accepted);
  assert.deepEqual(both.trajectories![1], alone.trajectories![0]);
  for (let slot = 0; slot < 4; slot++) {
    assert.deepEqual(
      both.ys.subarray(slot * 4 + 2, slot * 4 + 4),
      alone.ys.subarray(slot * 2, slot * 2 + 2),
    );
  }
  const cotAlone = alone.ys.map((_, i) => Math.sin(i));
  const cotBoth = new Float64Array(both.ys.length);
  for (let slot = 0; slot < 4; slot++) {
    cotBoth.set(cotAlone.subarray(slot * 2, slot * 2 + 2), slot * 4 + 2);
    cotBoth.set([0.3, -0.7], slot * 4);
  }
  const ga = alone.backward(cotAlone);
  const gb = both.backward(cotBoth);
  assert.deepEqual(gb.y0.subarray(2, 4), ga.y0);
  assert.deepEqual(gb.trajectories![1].params, ga.params);
  assert.deepEqual(gb.trajectories![1].stats, ga.stats);
});

Deno.test("saving every accepted step pads shorter trajectories with their final state", () => {
  const sol = solve({
    field: mlp,
    y0: Float64Array.of(0.2, 0.1, 40, -35),
    params: theta,
    scheme: reversible(bosh3),
    t0: 0,
    t1: 1,
    controller: pid({ rtol: 1e-6, atol: 1e-6 }),
    saveAt: { steps: true },
    gradient: "reversible",
  });
  const [a, b] = sol.trajectories!;
  const slots = Math.max(a.accepted, b.accepted);
  assert.equal(sol.ys.length, slots * 4);
  assert.equal(sol.ts.length, 2 * slots);
  const shorter = a.accepted < b.accepted ? 0 : 1;
  const n = sol.trajectories![shorter].accepted;
  const last = sol.ys.subarray((n - 1) * 4 + 2 * shorter, (n - 1) * 4 + 2 * shorter + 2);
  assert.deepEqual(
    sol.ys.subarray((slots - 1) * 4 + 2 * shorter, (slots - 1) * 4 + 2 * shorter + 2),
    last,
  );
  assert.equal(sol.ts[shorter * slots + slots - 1], 1);
  // gradient through padded slots is that of the final state: compare with direct
  const cot = sol.ys.map((_, i) => Math.cos(i));
  const direct = solve({
    field: mlp,
    y0: Float64Array.of(0.2, 0.1, 40, -35),
    params: theta,
    scheme: reversible(bosh3),
    t0: 0,
    t1: 1,
    controller: pid({ rtol: 1e-6, atol: 1e-6 }),
    saveAt: { steps: true },
    gradient: "direct",
  }).backward(cot);
  assert.ok(relErr(sol.backward(cot).params, direct.params) < 1e-10);
});

Deno.test("failures are reported per trajectory with a message that says what to change", () => {
  const base = {
    field: mlp,
    y0: Float64Array.of(0.2, 0.1, 0.3, 0.1),
    params: theta,
    scheme: reversible(bosh3),
    t0: 0,
    t1: 3,
    saveAt: { t0: true, t1: true },
  };
  assert.throws(
    () => solve({ ...base, controller: pid({ rtol: 1e-8, atol: 1e-8, maxSteps: 5 }) }),
    /maximum number of steps \(5\) was reached at t = [0-9.e-]+ for trajectory 0; raise maxSteps or loosen rtol\/atol/,
  );
  const partial = solve({
    ...base,
    controller: pid({ rtol: 1e-8, atol: 1e-8, maxSteps: 5 }),
    throwOnFailure: false,
    gradient: "reversible",
  });
  assert.deepEqual(partial.status, ["max_steps_reached", "max_steps_reached"]);
  assert.ok(partial.trajectories![0].tEnd < 3);
  assert.ok(Number.isNaN(partial.ys[4]) && Number.isFinite(partial.ys[0]));
  const g = partial.backward(Float64Array.of(1, 1, 1, 1, 0, 0, 0, 0));
  assert.ok(g.params.every(Number.isFinite));

  assert.throws(
    () => solve({ ...base, controller: pid({ rtol: 1e-10, atol: 1e-10, dtmin: 0.1 }) }),
    /step size fell to its minimum \(dtmin = 0\.1\) at t = 0 for trajectory 0/,
  );
  const poisoned: VectorField = {
    ...relaxation,
    evaluate(t, y, batch, p, out) {
      relaxation.evaluate(t, y, batch, p, out);
      if (t > 1) out.fill(NaN);
    },
  };
  const r = solve({
    field: poisoned,
    y0: Float64Array.of(1),
    scheme: plain(heun),
    t0: 0,
    t1: 2,
    controller: pid({ rtol: 1e-4, atol: 1e-4 }),
    throwOnFailure: false,
  });
  assert.deepEqual(r.status, ["non_finite"]);
  assert.ok(Math.abs(r.trajectories![0].tEnd - 1) < 0.1);
  // fixed steps report divergence the same way
  assert.throws(
    () =>
      solve({
        field: linearField(1),
        y0: Float64Array.of(1),
        params: Float64Array.of(1e5),
        scheme: plain(rk4),
        t0: 0,
        t1: 40,
        steps: 40,
        saveAt: { steps: true },
      }),
    /non-finite .* by t = \d+ \(the first grid point or saved output where it is not finite\) for trajectory 0/,
  );
});

Deno.test("fixed steps without throwing: a row that overflows does not poison the others' gradients", () => {
  // y' = θ y²: from y0 = 1 it blows up at t = 1; from 0.1 it is smooth on [0, 2]
  const squared: VectorField = {
    dim: 1,
    paramCount: 1,
    timeDependent: false,
    evaluate(_t, y, batch, p, out) {
      for (let b = 0; b < batch; b++) out[b] = p[0] * y[b] * y[b];
    },
    vjp(_t, y, batch, p, v, yBar, pBar) {
      for (let b = 0; b < batch; b++) {
        yBar[b] = 2 * p[0] * y[b] * v[b];
        if (pBar) pBar[0] += y[b] * y[b] * v[b];
      }
    },
  };
  const options = {
    field: squared,
    params: Float64Array.of(1),
    scheme: reversible(rk4),
    t0: 0,
    t1: 2,
    steps: 40,
    saveAt: { t0: true, t1: true },
    throwOnFailure: false,
  };
  for (const gradient of ["reversible", "direct", "checkpointed", "backsolve"] as const) {
    const batch = solve({ ...options, y0: Float64Array.of(0.1, 1, 0.2), gradient });
    assert.deepEqual(batch.status, ["success", "non_finite", "success"]);
    const g = batch.backward(Float64Array.of(1, 0, 2, 3, 0, 4));
    const alone = solve({ ...options, y0: Float64Array.of(0.1, 0.2), gradient })
      .backward(Float64Array.of(1, 2, 3, 4));
    assert.deepEqual(g.params, alone.params, gradient);
    assert.deepEqual(g.y0, Float64Array.of(alone.y0[0], 0, alone.y0[1]), gradient);
    assert.ok(Number.isFinite(g.params[0]) && g.params[0] !== 0);
    // the failed row has no gradient: a cotangent on it is refused, naming the row
    assert.throws(
      () => batch.backward(Float64Array.of(1, 0, 2, 3, 1, 4)),
      /Invalid cotangents: trajectory 1 failed \(non_finite\).*must be zero/,
    );
  }
  // An overflow after the last saved output leaves every output finite, but the state is
  // not: the row is still reported, and the others' gradient stays exact (it was NaN).
  const early = { ...options, saveAt: { ts: [0.5] } };
  for (const gradient of ["reversible", "direct", "checkpointed", "backsolve"] as const) {
    const batch = solve({ ...early, y0: Float64Array.of(0.1, 1, 0.2), gradient });
    assert.ok(batch.ys.every(Number.isFinite), gradient);
    assert.deepEqual(batch.status, ["success", "non_finite", "success"], gradient);
    const g = batch.backward(Float64Array.of(1, 0, 2));
    const alone = solve({ ...early, y0: Float64Array.of(0.1, 0.2), gradient })
      .backward(Float64Array.of(1, 2));
    assert.deepEqual(g.params, alone.params, gradient);
    assert.ok(Number.isFinite(g.params[0]) && g.params[0] !== 0, gradient);
    // throwing, it names the grid point where the state overflowed (y(t) = 1/(1 − t))
    assert.throws(
      () => solve({ ...early, y0: Float64Array.of(1), throwOnFailure: true, gradient }),
      /non-finite .* by t = 1(\.0\d*)? \(the first grid point or saved output where it is not finite\) for trajectory 0/,
      gradient,
    );
  }
});

for (
  const [name, scheme] of [["Reversible Heun", reversibleHeun()], ["leapfrog", leapfrog()]] as const
) {
  Deno.test(`${name} adapts with its own error estimate and gives exact gradients`, () => {
    const opts = (gradient: "reversible" | "direct", tol = 1e-4) => ({
      field: mlp,
      y0: Float64Array.of(0.5, -0.3),
      params: theta,
      scheme,
      t0: 0,
      t1: 1,
      controller: pid({ rtol: tol, atol: tol }),
      saveAt: { ts: [0.25, 0.75], t1: true },
      gradient,
    });
    const a = solve(opts("reversible")), b = solve(opts("direct"));
    const cot = a.ys.map((_, i) => 1 + i);
    assert.ok(relErr(a.backward(cot).params, b.backward(cot).params) < 1e-10);
    // a tighter tolerance takes more steps (the estimate is first order: N ∝ tol^(−1/2))
    const tight = solve(opts("reversible", 1e-6));
    const ratio = tight.trajectories![0].accepted / a.trajectories![0].accepted;
    assert.ok(ratio > 5 && ratio < 20, `step ratio ${ratio}`);
  });
}

Deno.test("a first step below the resolution of t still moves t: no zero-length steps", () => {
  // t + 1e-20 rounds to t at t = 1: such a step was accepted with zero error, kept its size,
  // and the solve ended at maxSteps with thousands of zero-length steps.
  for (const [t0, dt0] of [[1, 1e-20], [1, 1e-17], [100, 1e-14], [0, 1e-20]]) {
    const sol = solve({
      field: mlp,
      y0: Float64Array.of(0.5, -0.3),
      params: theta,
      scheme: reversible(bosh3),
      t0,
      t1: t0 + 1,
      dt0,
      controller: pid({ rtol: 1e-6, atol: 1e-6 }),
      saveAt: { t0: true, steps: true },
    });
    assert.deepEqual(sol.status, ["success"], `t0 = ${t0}, dt0 = ${dt0}`);
    const accepted = sol.trajectories![0].accepted;
    assert.ok(accepted < 200, `t0 = ${t0}, dt0 = ${dt0}: ${accepted} steps`);
    for (let i = 1; i <= accepted; i++) assert.ok(sol.ts[i] > sol.ts[i - 1], `step ${i}`);
  }
});

Deno.test("checkpointed gradient of a batch in which one trajectory fails before its first step", () => {
  // y' = θ / y: singular at y = 0, so the second row fails at once (0 accepted steps),
  // and the default number of checkpoints for 0 steps must still hold the initial state.
  const inverse: VectorField = {
    dim: 1,
    paramCount: 1,
    timeDependent: false,
    evaluate(_t, y, batch, p, out) {
      for (let b = 0; b < batch; b++) out[b] = p[0] / y[b];
    },
    vjp(_t, y, batch, p, v, yBar, pBar) {
      for (let b = 0; b < batch; b++) {
        yBar[b] = (-p[0] / (y[b] * y[b])) * v[b];
        if (pBar) pBar[0] += v[b] / y[b];
      }
    },
  };
  const grads = (["checkpointed", "direct", "reversible"] as const).map((gradient) => {
    const sol = solve({
      field: inverse,
      y0: Float64Array.of(1, 0),
      params: Float64Array.of(1),
      scheme: reversible(bosh3),
      t0: 0,
      t1: 1,
      controller: pid({ rtol: 1e-8, atol: 1e-8 }),
      throwOnFailure: false,
      gradient,
    });
    assert.deepEqual(sol.status, ["success", "non_finite"], gradient);
    assert.equal(sol.trajectories![1].accepted, 0, gradient);
    return sol.backward(Float64Array.of(1, 0));
  });
  // y(1) = √(1 + 2θ) from y0 = 1: ∂y/∂y0 = ∂y/∂θ = 1/√3
  for (const g of grads) {
    assert.ok(Math.abs(g.y0[0] - 1 / Math.sqrt(3)) < 1e-6, `${g.y0[0]}`);
    assert.ok(Math.abs(g.params[0] - 1 / Math.sqrt(3)) < 1e-6, `${g.params[0]}`);
    assert.equal(g.y0[1], 0);
  }
  assert.ok(relErr(grads[0].params, grads[1].params) < 1e-12);
});

Deno.test("bad adaptive input is refused with the argument, the value and what is allowed", () => {
  const base = {
    field: linearField(1),
    y0: Float64Array.of(1),
    params: Float64Array.of(-1),
    scheme: plain(dopri5),
    t0: 0,
    t1: 1,
    controller: pid({ rtol: 1e-6, atol: 1e-6 }),
  };
  assert.throws(
    () => solve({ ...base, saveAt: { ts: [0.5, 0.2] } }),
    /saveAt\.ts\[1\].*0\.2.*strictly greater/,
  );
  assert.throws(
    () => solve({ ...base, saveAt: { ts: [-1] } }),
    /saveAt\.ts\[0\].*-1.*inside \[0, 1\]/,
  );
  assert.throws(() => pid({ rtol: 0, atol: 1e-6 }), /rtol.*0.*> 0/);
  assert.throws(() => pid({ rtol: 1e-6, atol: -1 }), /atol.*-1.*> 0/);
  assert.throws(
    () => pid({ rtol: 1e-6, atol: 1e-6, dtmin: 1, dtmax: 0.1 }),
    /dtmin.*1.*dtmax = 0\.1/,
  );
  assert.throws(() => pid({ rtol: 1e-6, atol: 1e-6, maxSteps: 0 }), /maxSteps.*0.*integer >= 1/);
  assert.throws(
    () => solve({ ...base, scheme: reversible(rk4) }),
    /controller.*embedded error estimate.*reversible rk4 .* has none/,
  );
  assert.throws(() => solve({ ...base, steps: 10 }), /steps.*10.*undefined when a controller/);
  assert.throws(() => solve({ ...base, dt0: 0 }), /dt0.*0.*> 0/);
  assert.throws(() => solve({ ...base, t1: 0 }), /t1.*0.*greater than t0/);
  assert.throws(
    () => solve({ ...base, saveAt: { steps: true, ts: [0.5] } }),
    /saveAt.*either steps or ts/,
  );
});
