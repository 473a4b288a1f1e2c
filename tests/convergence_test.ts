/**
 * Orders of convergence (numerics.md §1–3) and the Butcher order conditions
 * of every shipped tableau.
 *
 * The observed order is the least-squares slope of log(error at t1) against
 * log(h) over five step sizes spaced by √2 (a factor 4 in h). Each method
 * has its own window: inside the asymptotic range, with errors well above
 * round-off. The reversible scheme with λ = 0.999 reaches its asymptotic
 * range later than the plain one on some problems (its error mixes the base
 * method's and the coupling's, whose balance shifts with h), so its windows
 * differ.
 */

import assert from "node:assert/strict";
import {
  dopri5,
  euler,
  leapfrog,
  linearField,
  plain,
  reversible,
  reversibleHeun,
  rk4,
  type SchemeSpec,
  solve,
  type Tableau,
} from "../mod.ts";
import { checkTableau } from "../solvers/tableau.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { whiteDwarfField } from "../solvers/fields/white_dwarf.ts";
import { midpoint, ralston3 } from "../solvers/tableaux.ts";

const ORDER_TOLERANCE = 0.15;
/** No window may reach errors this small: round-off would start to matter. */
const ERROR_FLOOR = 1e-13;

/** Five step counts N0·√2^k, k = 0…4. */
function window(n0: number): number[] {
  return [0, 1, 2, 3, 4].map((k) => Math.round(n0 * Math.SQRT2 ** k));
}

/** Least-squares slope of log(error) against log(h), with h ∝ 1/N. */
function observedOrder(steps: number[], errors: number[]): number {
  const x = steps.map((n) => -Math.log(n));
  const y = errors.map((e) => Math.log(e));
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** y' = 0.5 y over [0, 5] from y0 = 1: absolute error at t = 5 against e^{2.5}. */
function linearError(scheme: SchemeSpec, steps: number): number {
  const sol = solve({
    field: linearField(1),
    y0: Float64Array.of(1),
    params: Float64Array.of(0.5),
    scheme,
    t0: 0,
    t1: 5,
    steps,
  });
  return Math.abs(sol.ys[0] - Math.exp(2.5));
}

/** The white dwarf equation, C = 0.001, y0 = [1, 0], over [0, 1]: y(1). */
function whiteDwarf(scheme: SchemeSpec, steps: number): Float64Array {
  return solve({
    field: whiteDwarfField(),
    y0: Float64Array.of(1, 0),
    params: Float64Array.of(0.001),
    scheme,
    t0: 0,
    t1: 1,
    steps,
  }).ys;
}

// Dopri5 with h = 1/4000 (error ~1e-18 in theory; round-off ~1e-15).
const whiteDwarfReference = whiteDwarf(plain(dopri5), 4000);

function whiteDwarfError(scheme: SchemeSpec, steps: number): number {
  const y = whiteDwarf(scheme, steps);
  return Math.hypot(y[0] - whiteDwarfReference[0], y[1] - whiteDwarfReference[1]);
}

interface Case {
  name: string;
  scheme: SchemeSpec;
  order: number;
  /** First step count of the window on y' = 0.5 y. */
  linear: number;
  /** First step count of the window on the white dwarf equation. */
  whiteDwarf: number;
}

const CASES: Case[] = [
  { name: "plain euler", scheme: plain(euler), order: 1, linear: 64, whiteDwarf: 64 },
  { name: "reversible euler", scheme: reversible(euler), order: 1, linear: 16, whiteDwarf: 16 },
  { name: "plain midpoint", scheme: plain(midpoint), order: 2, linear: 32, whiteDwarf: 32 },
  {
    name: "reversible midpoint",
    scheme: reversible(midpoint),
    order: 2,
    linear: 128,
    whiteDwarf: 128,
  },
  { name: "plain ralston3", scheme: plain(ralston3), order: 3, linear: 32, whiteDwarf: 32 },
  {
    name: "reversible ralston3",
    scheme: reversible(ralston3),
    order: 3,
    linear: 16,
    whiteDwarf: 16,
  },
  { name: "plain rk4", scheme: plain(rk4), order: 4, linear: 24, whiteDwarf: 24 },
  { name: "reversible rk4", scheme: reversible(rk4), order: 4, linear: 24, whiteDwarf: 96 },
  { name: "plain dopri5", scheme: plain(dopri5), order: 5, linear: 32, whiteDwarf: 12 },
  { name: "reversible dopri5", scheme: reversible(dopri5), order: 5, linear: 48, whiteDwarf: 24 },
  { name: "reversible heun", scheme: reversibleHeun(), order: 2, linear: 32, whiteDwarf: 32 },
  { name: "leapfrog", scheme: leapfrog(), order: 2, linear: 32, whiteDwarf: 32 },
];

Deno.test("the white dwarf reference solution is converged", () => {
  const coarser = whiteDwarf(plain(dopri5), 2000);
  assert.ok(Math.abs(coarser[0] - whiteDwarfReference[0]) < 1e-13);
  assert.ok(Math.abs(coarser[1] - whiteDwarfReference[1]) < 1e-13);
  // and it is the solution of the right problem: plain RK4 agrees
  const rk = whiteDwarf(plain(rk4), 1000);
  assert.ok(Math.abs(rk[0] - whiteDwarfReference[0]) < 1e-11);
});

for (const c of CASES) {
  for (
    const [problem, n0, error] of [
      ["y' = 0.5 y", c.linear, linearError],
      ["white dwarf", c.whiteDwarf, whiteDwarfError],
    ] as const
  ) {
    Deno.test(`${c.name} converges at order ${c.order} on ${problem}`, () => {
      const steps = window(n0);
      const errors = steps.map((n) => error(c.scheme, n));
      for (const e of errors) {
        assert.ok(Number.isFinite(e) && e > ERROR_FLOOR, `error ${e} is not above round-off`);
      }
      const order = observedOrder(steps, errors);
      assert.ok(
        Math.abs(order - c.order) <= ORDER_TOLERANCE,
        `observed order ${order.toFixed(3)} for N = ${steps.join(", ")} ` +
          `(errors ${errors.map((e) => e.toExponential(2)).join(", ")}), expected ${c.order}`,
      );
    });
  }
}

// ---------------------------------------------------------------------------
// Butcher order conditions

/** Residuals of the order conditions of orders 1…5 for weights `w`, by order. */
function orderResiduals(t: Tableau, w: readonly number[]): Map<number, number[]> {
  const s = w.length;
  const c = [...t.c];
  const a = (i: number, j: number): number => t.a[i][j] ?? 0;
  const times = (u: number[], v: number[]): number[] => u.map((x, i) => x * v[i]);
  const applyA = (v: number[]): number[] =>
    Array.from({ length: s }, (_, i) => {
      let x = 0;
      for (let j = 0; j < i; j++) x += a(i, j) * v[j];
      return x;
    });
  const sumW = (v: number[]): number => v.reduce((acc, x, i) => acc + w[i] * x, 0);
  const one = new Array(s).fill(1);
  const c2 = times(c, c), c3 = times(c2, c);
  const ac = applyA(c), ac2 = applyA(c2), aac = applyA(ac);
  return new Map([
    [1, [sumW(one) - 1]],
    [2, [sumW(c) - 1 / 2]],
    [3, [sumW(c2) - 1 / 3, sumW(ac) - 1 / 6]],
    [4, [
      sumW(c3) - 1 / 4,
      sumW(times(c, ac)) - 1 / 8,
      sumW(ac2) - 1 / 12,
      sumW(aac) - 1 / 24,
    ]],
    [5, [
      sumW(times(c3, c)) - 1 / 5,
      sumW(times(c2, ac)) - 1 / 10,
      sumW(times(c, ac2)) - 1 / 15,
      sumW(times(c, aac)) - 1 / 30,
      sumW(times(ac, ac)) - 1 / 20,
      sumW(applyA(c3)) - 1 / 20,
      sumW(applyA(times(c, ac))) - 1 / 40,
      sumW(applyA(ac2)) - 1 / 60,
      sumW(applyA(aac)) - 1 / 120,
    ]],
  ]);
}

const SATISFIED = 1e-13;
const VIOLATED = 1e-5;

Deno.test("every shipped tableau satisfies the order conditions of its order", () => {
  const names = Object.keys(tableaux);
  assert.deepEqual(names.sort(), [
    "bosh3",
    "dopri5",
    "euler",
    "heun",
    "kutta3",
    "midpoint",
    "ralston",
    "ralston3",
    "rk38",
    "rk4",
    "tsit5",
  ]);
  for (const t of Object.values(tableaux)) {
    const residuals = orderResiduals(t, t.b);
    for (let order = 1; order <= Math.min(t.order, 5); order++) {
      for (const r of residuals.get(order)!) {
        assert.ok(Math.abs(r) < SATISFIED, `${t.name}: order-${order} condition off by ${r}`);
      }
    }
    // The stated order is not an understatement: some condition of the next order fails.
    if (t.order < 5) {
      const next = residuals.get(t.order + 1)!;
      assert.ok(
        next.some((r) => Math.abs(r) > VIOLATED),
        `${t.name} also satisfies the order-${t.order + 1} conditions`,
      );
    }
  }
});

Deno.test("embedded error weights: b − bError has order errorOrder exactly", () => {
  const embedded = Object.values(tableaux).filter((t) => t.bError !== undefined);
  assert.deepEqual(embedded.map((t) => t.name).sort(), ["bosh3", "dopri5", "heun", "tsit5"]);
  for (const t of embedded) {
    assert.ok(Number.isInteger(t.errorOrder) && t.errorOrder! < t.order, t.name);
    const bHat = t.b.map((x, i) => x - t.bError![i]);
    const residuals = orderResiduals(t, bHat);
    for (let order = 1; order <= t.errorOrder!; order++) {
      for (const r of residuals.get(order)!) {
        assert.ok(Math.abs(r) < SATISFIED, `${t.name} embedded: order ${order} off by ${r}`);
      }
    }
    assert.ok(
      residuals.get(t.errorOrder! + 1)!.some((r) => Math.abs(r) > VIOLATED),
      `${t.name}: the error estimate vanishes to order ${t.errorOrder! + 1}`,
    );
  }
});

Deno.test("the quoted coefficients: Ralston3 c = 0, 1/2, 3/4 and b = 2/9, 1/3, 4/9", () => {
  assert.deepEqual(ralston3.c, [0, 1 / 2, 3 / 4]);
  assert.deepEqual(ralston3.b, [2 / 9, 1 / 3, 4 / 9]);
});

Deno.test("checkTableau accepts every shipped tableau and densifies A", () => {
  for (const t of Object.values(tableaux)) {
    const checked = checkTableau(t);
    const s = t.b.length;
    assert.equal(checked.stages, s, t.name);
    assert.equal(checked.aDense.length, s * s, t.name);
    for (let i = 0; i < s; i++) {
      let rowSum = 0;
      for (let j = 0; j < s; j++) {
        const v = checked.aDense[i * s + j];
        assert.equal(v, j < i ? (t.a[i][j] ?? 0) : 0, `${t.name} a[${i}][${j}]`);
        rowSum += v;
      }
      assert.ok(Math.abs(rowSum - t.c[i]) < 1e-12, `${t.name} row ${i}`);
    }
  }
});
