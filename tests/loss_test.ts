import assert from "node:assert/strict";
import { mseLoss, mseLossVjp, type MseOptions } from "../training/loss.ts";

/** A deterministic pseudo-random array in [-1, 1). */
function fill(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** Checks the cotangent against central finite differences of mseLoss. */
function checkCotangent(p: Float64Array, y: Float64Array, options: MseOptions = {}): void {
  const bar = new Float64Array(p.length);
  const loss = mseLossVjp(p, y, bar, options);
  assert.equal(loss, mseLoss(p, y, options));
  const h = 1e-6;
  for (let i = 0; i < p.length; i++) {
    const keep = p[i];
    p[i] = keep + h;
    const up = mseLoss(p, y, options);
    p[i] = keep - h;
    const down = mseLoss(p, y, options);
    p[i] = keep;
    const fd = (up - down) / (2 * h);
    assert.ok(
      Math.abs(fd - bar[i]) <= 1e-8 * (1 + Math.abs(fd)),
      `element ${i}: ${bar[i]} vs ${fd}`,
    );
  }
}

// Shape [saved, batch, dim] = [5, 3, 2].
const saved = 5, batch = 3, dim = 2, n = saved * batch * dim;

Deno.test("mse: plain mean and its cotangent match finite differences", () => {
  const p = fill(n, 1), y = fill(n, 2);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (p[i] - y[i]) ** 2;
  assert.ok(Math.abs(mseLoss(p, y) - sum / n) < 1e-15);
  checkCotangent(p, y);
});

Deno.test("mse: per-element weights, cotangent matches finite differences", () => {
  const p = fill(n, 3), y = fill(n, 4);
  const w = fill(n, 5).map(Math.abs);
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    num += w[i] * (p[i] - y[i]) ** 2;
    den += w[i];
  }
  assert.ok(Math.abs(mseLoss(p, y, { weights: w }) - num / den) < 1e-15);
  checkCotangent(p, y, { weights: w });
});

Deno.test("mse: per-row weights equal the same weights expanded per element", () => {
  const p = fill(n, 6), y = fill(n, 7);
  const rows = Float64Array.of(0, 1, 2, 0.5, 3);
  const expanded = new Float64Array(n);
  for (let i = 0; i < n; i++) expanded[i] = rows[Math.floor(i / (batch * dim))];
  const perRow = { saved, weights: rows };
  assert.ok(
    Math.abs(mseLoss(p, y, perRow) - mseLoss(p, y, { weights: expanded })) < 1e-15,
  );
  checkCotangent(p, y, perRow);
  // A zero-weight row gets a zero cotangent and does not move the loss.
  const bar = new Float64Array(n);
  mseLossVjp(p, y, bar, perRow);
  for (let i = 0; i < batch * dim; i++) assert.ok(bar[i] === 0);
  const q = p.slice();
  q[0] += 100;
  assert.equal(mseLoss(q, y, perRow), mseLoss(p, y, perRow));
});

Deno.test("mse: unit weights give the plain mean", () => {
  const p = fill(n, 8), y = fill(n, 9);
  const ones = new Float64Array(saved).fill(1);
  assert.ok(Math.abs(mseLoss(p, y, { saved, weights: ones }) - mseLoss(p, y)) < 1e-15);
});

Deno.test("mse: bad arguments are refused with the argument's name", () => {
  const p = fill(n, 10), y = fill(n, 11);
  assert.throws(() => mseLoss(p, y.subarray(1)), /target.*length 29.*length 30/);
  assert.throws(() => mseLossVjp(p, y, new Float64Array(3)), /cotangent.*length 3/);
  assert.throws(
    () => mseLoss(p, y, { weights: new Float64Array(5) }),
    /options\.weights.*options\.saved/,
  );
  assert.throws(() => mseLoss(p, y, { saved: 7 }), /options\.saved.*7.*dividing/);
  assert.throws(
    () => mseLoss(p, y, { saved, weights: Float64Array.of(1, -1, 1, 1, 1) }),
    /options\.weights\[1\].*-1.*>= 0/,
  );
  assert.throws(
    () => mseLoss(p, y, { saved, weights: new Float64Array(saved) }),
    /at least one weight > 0/,
  );
  assert.throws(() => mseLoss(new Float64Array(0), new Float64Array(0)), /prediction.*non-empty/);
});
