import assert from "node:assert/strict";
import { AdamW, clipGradNorm, constantSchedule, cosineSchedule } from "../training/adamw.ts";

function close(actual: number, expected: number, tol = 1e-14): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${actual} vs ${expected}`,
  );
}

Deno.test("adamw: first step equals the hand computation with decoupled weight decay", () => {
  const lr = 0.01, wd = 0.1, eps = 1e-8;
  const opt = new AdamW(3, { lr, weightDecay: wd, eps });
  const theta = Float64Array.of(1, -2, 0.5);
  opt.step(theta, Float64Array.of(0.1, -0.3, 0));
  // t = 1: m̂ = g, v̂ = g², so θ ← θ(1 − lr·wd) − lr·g/(|g| + ε).
  close(theta[0], 1 * (1 - lr * wd) - lr * 0.1 / (0.1 + eps));
  close(theta[0], 0.989000001, 1e-12);
  close(theta[1], -2 * (1 - lr * wd) + lr * 0.3 / (0.3 + eps));
  close(theta[2], 0.5 * (1 - lr * wd)); // zero gradient: decay only
  assert.equal(opt.stepCount, 1);
});

Deno.test("adamw: several steps match the textbook AdamW recursion", () => {
  const lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
  const n = 4;
  const opt = new AdamW(n, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd });
  const theta = Float64Array.of(0.3, -1.2, 2.5, 0);
  const ref = Array.from(theta);
  const m = new Array(n).fill(0), v = new Array(n).fill(0);
  for (let t = 1; t <= 6; t++) {
    const g = Float64Array.from(ref, (x, i) => Math.sin(3 * x + i + t));
    opt.step(theta, g);
    for (let i = 0; i < n; i++) {
      ref[i] -= lr * wd * ref[i];
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** t), vHat = v[i] / (1 - b2 ** t);
      ref[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
    }
    for (let i = 0; i < n; i++) close(theta[i], ref[i], 1e-13);
  }
});

Deno.test("adamw: a per-step learning rate overrides the base one", () => {
  const a = new AdamW(1, { lr: 0.1 }), b = new AdamW(1, { lr: 0.7 });
  const x = Float64Array.of(1), y = Float64Array.of(1);
  a.step(x, Float64Array.of(2), 0.7);
  b.step(y, Float64Array.of(2));
  assert.equal(x[0], y[0]);
});

Deno.test("adamw: state survives JSON and continues bit-identically", () => {
  const grad = (theta: Float64Array, t: number) =>
    Float64Array.from(theta, (x, i) => Math.cos(x * (i + 1)) + 0.1 * t);
  const straight = new AdamW(5, { lr: 0.02, weightDecay: 1e-5 });
  const interrupted = new AdamW(5, { lr: 0.02, weightDecay: 1e-5 });
  const a = Float64Array.of(0.1, 0.2, -0.3, 1e-7, 5);
  const b = a.slice();
  for (let t = 0; t < 7; t++) {
    straight.step(a, grad(a, t));
    interrupted.step(b, grad(b, t));
  }
  const saved = JSON.stringify({ params: Array.from(b), optimizer: interrupted.state() });
  const loaded = JSON.parse(saved);
  const resumed = AdamW.fromState(loaded.optimizer);
  const c = Float64Array.from(loaded.params as number[]);
  assert.deepEqual(c, b);
  assert.equal(resumed.stepCount, 7);
  for (let t = 7; t < 20; t++) {
    straight.step(a, grad(a, t));
    resumed.step(c, grad(c, t));
  }
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], c[i]), `param ${i}`);
  assert.deepEqual(resumed.state(), straight.state());

  // restore() into a fresh optimizer with the same hyperparameters works too.
  const other = new AdamW(5, { lr: 0.02, weightDecay: 1e-5 });
  other.restore(loaded.optimizer);
  assert.equal(other.stepCount, 7);
});

Deno.test("adamw: bad input is refused and leaves the state untouched", () => {
  const opt = new AdamW(2);
  const theta = Float64Array.of(1, 2);
  assert.throws(() => opt.step(theta, Float64Array.of(1, NaN)), /grads\[1\].*NaN.*finite/);
  assert.deepEqual(theta, Float64Array.of(1, 2));
  assert.equal(opt.stepCount, 0);
  assert.throws(() => opt.step(theta, new Float64Array(3)), /grads.*length 3.*length 2/);
  assert.throws(() => opt.step(new Float64Array(1), new Float64Array(2)), /params/);
  assert.throws(() => new AdamW(0), /size.*0/);
  assert.throws(() => new AdamW(2, { beta1: 1 }), /options\.beta1.*\[0, 1\)/);
  assert.throws(() => new AdamW(2, { lr: -1 }), /options\.lr.*-1/);
  const state = new AdamW(2, { weightDecay: 0.5 }).state();
  assert.throws(() => opt.restore(state), /state\.weightDecay.*0\.5/);
  assert.throws(() => opt.restore({ ...state, weightDecay: 0.01, v: [0] }), /state\.v/);
  // a negative second moment would turn the next step's √v̂ into NaN
  const negative = { ...state, weightDecay: 0.01, v: state.v.map((x, i) => i === 1 ? -1e-3 : x) };
  assert.throws(() => opt.restore(negative), /state\.v\[1\].*-0\.001.*>= 0/);
  assert.throws(
    () => AdamW.fromState({ ...state, m: [0, null as unknown as number] }),
    /state\.m\[1\]/,
  );
});

Deno.test("clipGradNorm: returns the pre-clip norm and clips only above maxNorm", () => {
  const g = Float64Array.of(3, 4, 0);
  assert.equal(clipGradNorm(g, 10), 5);
  assert.deepEqual(g, Float64Array.of(3, 4, 0));
  assert.equal(clipGradNorm(g, 2.5), 5);
  close(Math.hypot(...g), 2.5, 1e-6);
  close(g[0] / g[1], 0.75); // direction kept
  const bad = Float64Array.of(1, NaN);
  assert.ok(Number.isNaN(clipGradNorm(bad, 1)));
  assert.equal(bad[0], 1);
  assert.throws(() => clipGradNorm(g, 0), /maxNorm.*0/);
});

Deno.test("schedules: constant, and cosine endpoints with and without warm-up", () => {
  assert.equal(constantSchedule(1e-2)(0), 1e-2);
  assert.equal(constantSchedule(1e-2)(9999), 1e-2);

  const cos = cosineSchedule({ lr: 1e-2, iterations: 1000, minLr: 1e-5 });
  assert.equal(cos(0), 1e-2);
  assert.equal(cos(999), 1e-5);
  assert.equal(cos(5000), 1e-5);
  for (let i = 1; i < 1000; i++) assert.ok(cos(i) <= cos(i - 1));
  assert.equal(cosineSchedule({ lr: 0.1, iterations: 11 })(10), 0);

  const warm = cosineSchedule({ lr: 0.1, iterations: 100, warmup: 9 });
  close(warm(0), 0.01);
  for (let i = 1; i < 9; i++) assert.ok(warm(i) > warm(i - 1));
  assert.equal(warm(9), 0.1);
  assert.equal(warm(99), 0);
  for (let i = 10; i < 100; i++) assert.ok(warm(i) <= warm(i - 1));

  assert.equal(cosineSchedule({ lr: 0.3, iterations: 1 })(0), 0.3);
  assert.throws(
    () => cosineSchedule({ lr: 0.1, iterations: 10, warmup: 10 }),
    /options\.warmup.*10/,
  );
  assert.throws(() => cosineSchedule({ lr: 0.1, iterations: 10, minLr: 0.2 }), /options\.minLr/);
  assert.throws(() => cos(-1), /iteration.*-1/);
});
