/**
 * The gradient methods against each other (numerics.md §2–3): `reversible`,
 * `direct` and `checkpointed` all compute the exact gradient of the discrete
 * solve and agree to round-off; finite differences confirm it; `backsolve`
 * (the continuous adjoint) converges to it as h shrinks. Also: repeated
 * `backward()` calls, and the memory each method holds.
 */

import assert from "node:assert/strict";
import {
  dopri5,
  type Gradient,
  type GradientSpec,
  leapfrog,
  Mlp,
  plain,
  reversible,
  reversibleHeun,
  rk4,
  type SchemeSpec,
  solve,
  type VectorField,
} from "../mod.ts";
import { Rng } from "../solvers/fields/random.ts";
import { midpoint } from "../solvers/tableaux.ts";

const BATCH = 3;
const STEPS = 16;
const AGREEMENT = 1e-10;
const FINITE_DIFFERENCES = 1e-6;

interface SchemeCase {
  name: string;
  spec: SchemeSpec;
  /** Order of the base method (the continuous adjoint's accuracy). */
  order: number;
  reversible: boolean;
  /** Step count N of the backsolve check (N against 4N). */
  backsolveSteps: number;
}

const SCHEMES: SchemeCase[] = [
  { name: "reversible rk4", spec: reversible(rk4), order: 4, reversible: true, backsolveSteps: 8 },
  {
    name: "reversible dopri5",
    spec: reversible(dopri5),
    order: 5,
    reversible: true,
    backsolveSteps: 4,
  },
  {
    name: "reversible midpoint (λ = 0.5)",
    spec: reversible(midpoint, { coupling: 0.5 }),
    order: 2,
    reversible: true,
    backsolveSteps: 32,
  },
  {
    name: "reversible heun",
    spec: reversibleHeun(),
    order: 2,
    reversible: true,
    backsolveSteps: 32,
  },
  { name: "leapfrog", spec: leapfrog(), order: 2, reversible: true, backsolveSteps: 32 },
  { name: "plain rk4", spec: plain(rk4), order: 4, reversible: false, backsolveSteps: 8 },
];

const FIELDS: { name: string; field: Mlp }[] = [
  { name: "time-dependent", field: new Mlp({ dim: 2, widths: [8], timeDependent: true, seed: 1 }) },
  { name: "autonomous", field: new Mlp({ dim: 2, widths: [8], seed: 2 }) },
];

function normals(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.normal());
}

/** Norm-wise relative error ‖a − b‖₂ / ‖b‖₂. */
function relativeError(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  assert.ok(s > 0, "reference is zero");
  return Math.sqrt(d / s);
}

interface Setup {
  field: VectorField;
  params: Float64Array;
  y0: Float64Array;
  cotangents: Float64Array;
}

function setup(field: Mlp, seed: number, steps = STEPS): Setup {
  const rng = new Rng(seed);
  const params = field.init(seed);
  const y0 = normals(rng, BATCH * field.dim);
  // outputs: t0 and every step
  const cotangents = normals(rng, (steps + 1) * BATCH * field.dim);
  return { field, params, y0, cotangents };
}

function solveWith(
  s: Setup,
  scheme: SchemeSpec,
  gradient: GradientSpec | undefined,
  steps = STEPS,
  params = s.params,
  y0 = s.y0,
) {
  return solve({
    field: s.field,
    y0,
    params,
    scheme,
    t0: 0,
    t1: 1,
    steps,
    saveAt: { t0: true, steps: true },
    gradient,
  });
}

function gradientOf(s: Setup, scheme: SchemeSpec, method: GradientSpec, steps = STEPS): Gradient {
  const cot = steps === STEPS ? s.cotangents : normals(new Rng(77), (steps + 1) * s.y0.length);
  return solveWith(s, scheme, method, steps).backward(cot);
}

/** The exact-gradient methods available for a scheme. */
function exactMethods(c: SchemeCase): GradientSpec[] {
  const methods: GradientSpec[] = [
    "direct",
    "checkpointed",
    { method: "checkpointed", checkpoints: 2 },
    { method: "checkpointed", checkpoints: 1 },
    { method: "checkpointed", checkpoints: STEPS + 1 },
  ];
  if (c.reversible) methods.unshift("reversible", { method: "reversible", checkpointEvery: 5 });
  return methods;
}

for (const c of SCHEMES) {
  for (const [k, f] of FIELDS.entries()) {
    const s = setup(f.field, 10 + k);
    const label = `${c.name}, ${f.name} MLP`;

    Deno.test(`${label}: reversible, direct and checkpointed gradients agree`, () => {
      const direct = gradientOf(s, c.spec, "direct");
      const ys = solveWith(s, c.spec, undefined).ys;
      for (const method of exactMethods(c)) {
        const sol = solveWith(s, c.spec, method);
        // every method runs the same forward solve
        assert.deepEqual(sol.ys, ys, `${JSON.stringify(method)}: forward solve differs`);
        const g = sol.backward(s.cotangents);
        const name = typeof method === "string" ? method : method.method;
        assert.equal(g.stats.method, name);
        assert.equal(g.stats.steps, STEPS);
        assert.equal(g.y0.length, s.y0.length);
        assert.equal(g.params.length, s.params.length);
        const ey = relativeError(g.y0, direct.y0), ep = relativeError(g.params, direct.params);
        assert.ok(ey < AGREEMENT, `${JSON.stringify(method)}: ∂L/∂y0 off by ${ey}`);
        assert.ok(ep < AGREEMENT, `${JSON.stringify(method)}: ∂L/∂θ off by ${ep}`);
        if (name === "reversible") assert.ok(g.stats.reconstructionError! < 1e-10);
      }
    });

    Deno.test(`${label}: gradients match central finite differences`, () => {
      const direct = gradientOf(s, c.spec, "direct");
      const loss = (params: Float64Array, y0: Float64Array): number => {
        const ys = solveWith(s, c.spec, undefined, STEPS, params, y0).ys;
        let l = 0;
        for (let i = 0; i < ys.length; i++) l += s.cotangents[i] * ys[i];
        return l;
      };
      const eps = 1e-6;
      const p = s.params.length;
      const paramIndices = [0, 7, Math.floor(p / 2), p - 3, p - 1];
      const y0Indices = [0, 3, s.y0.length - 1];
      const fd = (x: Float64Array, i: number, isParams: boolean): number => {
        const plus = x.slice(), minus = x.slice();
        plus[i] += eps;
        minus[i] -= eps;
        const lp = isParams ? loss(plus, s.y0) : loss(s.params, plus);
        const lm = isParams ? loss(minus, s.y0) : loss(s.params, minus);
        return (lp - lm) / (2 * eps);
      };
      const fdParams = Float64Array.from(paramIndices, (i) => fd(s.params, i, true));
      const fdY0 = Float64Array.from(y0Indices, (i) => fd(s.y0, i, false));
      const gParams = Float64Array.from(paramIndices, (i) => direct.params[i]);
      const gY0 = Float64Array.from(y0Indices, (i) => direct.y0[i]);
      const ep = relativeError(gParams, fdParams), ey = relativeError(gY0, fdY0);
      assert.ok(ep < FINITE_DIFFERENCES, `∂L/∂θ vs finite differences: ${ep}`);
      assert.ok(ey < FINITE_DIFFERENCES, `∂L/∂y0 vs finite differences: ${ey}`);
      if (c.reversible) {
        const rev = gradientOf(s, c.spec, "reversible");
        const rp = Float64Array.from(paramIndices, (i) => rev.params[i]);
        assert.ok(relativeError(rp, fdParams) < FINITE_DIFFERENCES);
      }
    });

    Deno.test(`${label}: backsolve converges to the exact gradient at the base order`, () => {
      const n = c.backsolveSteps;
      const error = (steps: number): number => {
        const direct = gradientOf(s, c.spec, "direct", steps);
        const back = gradientOf(s, c.spec, "backsolve", steps);
        assert.equal(back.stats.method, "backsolve");
        assert.equal(back.stats.reconstructionError, undefined);
        return Math.max(
          relativeError(back.y0, direct.y0),
          relativeError(back.params, direct.params),
        );
      };
      const coarse = error(n), fine = error(4 * n);
      assert.ok(
        coarse > 4 * fine,
        `not converging: ${coarse} at N = ${n}, ${fine} at N = ${4 * n}`,
      );
      const observed = Math.log(coarse / fine) / Math.log(4);
      assert.ok(
        observed > c.order - 1,
        `observed order ${observed.toFixed(2)} (${coarse} → ${fine}), base order ${c.order}`,
      );
      // approximate, not exact: it differs from the discrete gradient
      assert.ok(fine > 1e-15);
    });

    Deno.test(`${label}: repeated backward() calls give identical results`, () => {
      const other = normals(new Rng(99), s.cotangents.length);
      const sum = s.cotangents.map((x, i) => x + other[i]);
      for (const method of [...exactMethods(c), "backsolve" as const]) {
        const sol = solveWith(s, c.spec, method);
        const first = sol.backward(s.cotangents);
        const firstY0 = first.y0.slice(), firstParams = first.params.slice();
        first.params.fill(123); // the caller owns the returned arrays
        const second = sol.backward(other);
        const again = sol.backward(s.cotangents);
        const m = JSON.stringify(method);
        assert.deepEqual(again.y0, firstY0, `${m}: ∂L/∂y0 changed`);
        assert.deepEqual(again.params, firstParams, `${m}: ∂L/∂θ changed`);
        assert.equal(again.stats.reconstructionError, first.stats.reconstructionError, m);
        if (m.includes("checkpointed")) {
          // the first call reuses the checkpoints the forward solve placed; later calls place them again
          assert.ok(again.stats.evaluations >= first.stats.evaluations, m);
          assert.equal(again.stats.evaluations, second.stats.evaluations, m);
        } else {
          assert.equal(again.stats.evaluations, first.stats.evaluations, m);
        }
        assert.equal(again.stats.vjps, first.stats.vjps, m);
        assert.equal(again.stats.peakBytes, first.stats.peakBytes, m);
        assert.ok(relativeError(second.params, firstParams) > 1e-3, `${m}: cotangents ignored`);
        // linear in the cotangents
        const both = sol.backward(sum);
        const expected = firstParams.map((x, i) => x + second.params[i]);
        assert.ok(relativeError(both.params, expected) < 1e-12, `${m}: not linear`);
        // the solve owns copies of θ and y0: an in-place update by the caller (an optimizer
        // step) between solve() and backward() leaves the gradient of the solve made
        const theta = s.params.slice(), start = s.y0.slice();
        const own = solveWith(s, c.spec, method, STEPS, theta, start);
        theta.forEach((_, i) => (theta[i] += 0.05));
        start.fill(0.3);
        const late = own.backward(s.cotangents);
        assert.deepEqual(late.params, firstParams, `${m}: ∂L/∂θ followed the caller's θ`);
        assert.deepEqual(late.y0, firstY0, `${m}: ∂L/∂y0 followed the caller's y0`);
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Memory

function peakBytes(spec: SchemeSpec, method: GradientSpec, steps: number): number {
  const s = setup(FIELDS[1].field, 3, steps);
  return solveWith(s, spec, method, steps).backward(s.cotangents).stats.peakBytes;
}

const MEMORY_SCHEMES = SCHEMES.filter((c) =>
  ["reversible rk4", "reversible heun", "leapfrog", "plain rk4"].includes(c.name)
);

for (const c of MEMORY_SCHEMES) {
  Deno.test(`${c.name}: memory of each gradient method against the number of steps`, () => {
    const direct = [100, 1000, 2000].map((n) => peakBytes(c.spec, "direct", n));
    // direct backpropagation stores every step: exactly linear growth
    const perStepEarly = (direct[1] - direct[0]) / 900,
      perStepLate = (direct[2] - direct[1]) / 1000;
    assert.ok(perStepEarly > 0, `direct: ${direct.join(", ")}`);
    assert.ok(Math.abs(perStepLate / perStepEarly - 1) < 0.01, `direct: ${direct.join(", ")}`);
    assert.ok(direct[2] > 10 * direct[0], `direct: ${direct.join(", ")}`);
    // at least one state of `dim × batch` doubles per step
    assert.ok(perStepEarly >= BATCH * 2 * 8);

    if (c.reversible) {
      const rev100 = peakBytes(c.spec, "reversible", 100);
      const rev2000 = peakBytes(c.spec, "reversible", 2000);
      assert.equal(rev2000, rev100, "reversible memory grows with the steps");
      assert.ok(rev2000 < direct[2] / 100);
    }
    const back100 = peakBytes(c.spec, "backsolve", 100);
    assert.equal(peakBytes(c.spec, "backsolve", 2000), back100, "backsolve memory grows");

    const checkpointed = peakBytes(c.spec, "checkpointed", 2000);
    assert.ok(checkpointed < direct[2] / 10, `checkpointed ${checkpointed}, direct ${direct[2]}`);
    // fewer checkpoints, less memory; a fixed number does not grow with N
    const five = peakBytes(c.spec, { method: "checkpointed", checkpoints: 5 }, 2000);
    assert.ok(five < checkpointed);
    assert.equal(peakBytes(c.spec, { method: "checkpointed", checkpoints: 5 }, 100), five);
  });
}
