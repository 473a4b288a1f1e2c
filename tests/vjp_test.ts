// Unit VJPs against central finite differences: the increment Ψ_h of every
// shipped tableau, and one step (and the initialisation) of every scheme.
import assert from "node:assert/strict";
import {
  dopri5,
  leapfrog,
  Mlp,
  plain,
  reversible,
  reversibleHeun,
  rk4,
  type SchemeSpec,
} from "../mod.ts";
import { buildScheme } from "../solvers/schemes/spec.ts";
import { checkTableau } from "../solvers/tableau.ts";
import { Increment } from "../solvers/increment.ts";
import { MemoryMeter } from "../solvers/memory.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { Rng } from "../solvers/fields/random.ts";

const field = new Mlp({
  dim: 3,
  widths: [7],
  activation: "softplus",
  timeDependent: true,
  seed: 5,
});
const theta = field.init(5);
const batch = 2;
const n = batch * field.dim;
const rng = new Rng(11);
const random = (length: number) => Float64Array.from({ length }, () => rng.uniform(-1, 1));
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const EPS = 1e-6;

/** Checks `grad` against central differences of `loss` at `x`, entry by entry. */
function checkAgainstFd(
  label: string,
  x: Float64Array,
  grad: Float64Array,
  loss: (x: Float64Array) => number,
): void {
  let scale = 0;
  for (const g of grad) scale = Math.max(scale, Math.abs(g));
  for (let i = 0; i < x.length; i++) {
    const plus = x.slice(), minus = x.slice();
    plus[i] += EPS;
    minus[i] -= EPS;
    const fd = (loss(plus) - loss(minus)) / (2 * EPS);
    assert.ok(
      Math.abs(fd - grad[i]) <= 1e-7 * Math.max(1, scale),
      `${label}[${i}]: vjp ${grad[i]} vs finite difference ${fd}`,
    );
  }
}

for (const [name, tableau] of Object.entries(tableaux)) {
  Deno.test(`increment VJP of ${name} matches finite differences in y and θ`, () => {
    const inc = new Increment(field, checkTableau(tableau), batch, new MemoryMeter());
    const y = random(n), uBar = random(n), out = new Float64Array(n);
    const t = 0.3, h = -0.17; // a backwards step exercises the sign handling too
    const loss = (yy: Float64Array, p: Float64Array) => {
      inc.evaluate(t, h, yy, p, out);
      return dot(out, uBar);
    };
    loss(y, theta);
    const yBar = new Float64Array(n), pBar = new Float64Array(theta.length);
    inc.vjp(t, h, theta, uBar, yBar, pBar);
    checkAgainstFd("ȳ", y, yBar, (yy) => loss(yy, theta));
    checkAgainstFd("θ̄", theta, pBar, (p) => loss(y, p));
  });
}

const schemes: [string, SchemeSpec][] = [
  ["plain rk4", plain(rk4)],
  ["reversible dopri5 λ=0.7", reversible(dopri5, { coupling: 0.7 })],
  ["reversible rk4 λ=1", reversible(rk4, { coupling: 1 })],
  ["reversible heun", reversibleHeun()],
  ["leapfrog", leapfrog()],
];

for (const [label, spec] of schemes) {
  Deno.test(`${label}: step VJP and init VJP match finite differences`, () => {
    const meter = new MemoryMeter();
    const { scheme } = buildScheme(spec, field, batch, meter);
    const k = scheme.stateCount;
    const t = 0.2, h = 0.13;
    const cot = Array.from({ length: k }, () => random(n));
    const pack = (state: Float64Array[]) => {
      const flat = new Float64Array(k * n);
      state.forEach((s, i) => flat.set(s, i * n));
      return flat;
    };
    const unpack = (flat: Float64Array) =>
      Array.from({ length: k }, (_, i) => flat.slice(i * n, (i + 1) * n));
    // a generic state: initialise from y0, then take one step so auxiliaries differ from y
    const start: Float64Array[] = Array.from({ length: k }, () => new Float64Array(n));
    scheme.init(0, random(n), theta, start);
    scheme.step(0, 0.1, theta, start);
    const x = pack(start);
    const stepLoss = (flat: Float64Array, p: Float64Array) => {
      const state = unpack(flat);
      scheme.step(t, h, p, state);
      return state.reduce((s, v, i) => s + dot(v, cot[i]), 0);
    };
    const state = unpack(x);
    scheme.step(t, h, theta, state);
    const bar = cot.map((c) => c.slice());
    const pBar = new Float64Array(theta.length);
    scheme.stepVjp(t, h, theta, state, bar, pBar);
    checkAgainstFd("statē", x, pack(bar), (flat) => stepLoss(flat, theta));
    checkAgainstFd("θ̄", theta, pBar, (p) => stepLoss(x, p));

    // init: state_0 = init(y0)
    const y0 = random(n);
    const initLoss = (yy: Float64Array, p: Float64Array) => {
      const s: Float64Array[] = Array.from({ length: k }, () => new Float64Array(n));
      scheme.init(0.05, yy, p, s);
      return s.reduce((acc, v, i) => acc + dot(v, cot[i]), 0);
    };
    const y0Bar = new Float64Array(n), p0Bar = new Float64Array(theta.length);
    scheme.initVjp(0.05, y0, theta, cot.map((c) => c.slice()), y0Bar, p0Bar);
    checkAgainstFd("ȳ0", y0, y0Bar, (yy) => initLoss(yy, theta));
    checkAgainstFd("θ̄ (init)", theta, p0Bar, (p) => initLoss(y0, p));
  });
}
