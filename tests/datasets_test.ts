import assert from "node:assert/strict";
import { join } from "node:path";
import {
  OSCILLATOR_FILE,
  parsePendulum,
  PENDULUM_FILE,
  readOscillator,
  readPendulum,
  type Trajectory,
} from "../training/datasets/schmidt_lipson.ts";
import { simulateOscillator, simulatePendulum } from "../training/datasets/simulated.ts";

// The shared data sit next to the repository, never inside it.
const dataDir = new URL("../../shared/data/schmidt-lipson-2009", import.meta.url).pathname;
const oscillatorPath = join(dataDir, OSCILLATOR_FILE);
const pendulumPath = join(dataDir, PENDULUM_FILE);
const haveData = (() => {
  try {
    Deno.statSync(oscillatorPath);
    Deno.statSync(pendulumPath);
    return true;
  } catch {
    console.log(`skipping the tests of the real measurements: no ${dataDir} (../shared is absent)`);
    return false;
  }
})();

/** The data rows of a file as numbers (header and blank lines dropped). */
function rows(path: string): number[][] {
  return Deno.readTextFileSync(path).split(/\r?\n/)
    .filter((line) => line.trim() !== "" && !line.startsWith("%"))
    .map((line) => line.trim().split(/\s+/).map(Number));
}

function checkShape(data: Trajectory, duration: number): void {
  assert.equal(data.dim, 4);
  assert.equal(data.ts.length, 500);
  assert.equal(data.ys.length, 500 * 4);
  assert.equal(data.ts[0], 0);
  assert.equal(data.ts[499], duration);
  for (let i = 1; i < 500; i++) assert.ok(data.ts[i] > data.ts[i - 1]);
  for (let i = 0; i < 500; i++) {
    assert.ok(Math.abs(data.ts[i] - (duration * i) / 499) < 1e-14);
  }
  for (const v of data.ys) assert.ok(Number.isFinite(v));
}

/** Linear interpolation of column `c` of `table` at shifted time `tau`, as the paper does. */
function interpolate(table: number[][], c: number, tau: number): number {
  const t0 = table[0][1];
  let j = 0;
  while (table[j + 1][1] - t0 < tau) j++;
  const a = table[j][1] - t0, b = table[j + 1][1] - t0;
  return table[j][c] + ((tau - a) / (b - a)) * (table[j + 1][c] - table[j][c]);
}

Deno.test({
  name: "oscillator file: 500×4 on [0, 3] s, first point is the first row / 100",
  ignore: !haveData,
  async fn() {
    const data = await readOscillator(oscillatorPath);
    checkShape(data, 3);
    assert.equal(data.source, oscillatorPath);
    const table = rows(oscillatorPath);
    assert.equal(table.length, 495);
    for (let c = 0; c < 4; c++) assert.equal(data.ys[c], table[0][2 + c] / 100);
    for (const i of [1, 17, 250, 498, 499]) {
      for (let c = 0; c < 4; c++) {
        const expected = interpolate(table, 2 + c, data.ts[i]) / 100;
        assert.ok(Math.abs(data.ys[4 * i + c] - expected) < 1e-12, `point ${i}, component ${c}`);
      }
    }
    // Pixels / 100: order-1 values.
    for (const v of data.ys) assert.ok(Math.abs(v) < 5);
  },
});

Deno.test({
  name: "pendulum file: trial 0 only, 500×4 on [0, 2] s, first point is the first row / 10",
  ignore: !haveData,
  async fn() {
    const data = await readPendulum(pendulumPath);
    checkShape(data, 2);
    const table = rows(pendulumPath).filter((row) => row[0] === 0);
    assert.equal(table.length, 819);
    for (let c = 0; c < 4; c++) assert.equal(data.ys[c], table[0][2 + c] / 10);
    for (const i of [1, 123, 499]) {
      for (let c = 0; c < 4; c++) {
        const expected = interpolate(table, 2 + c, data.ts[i]) / 10;
        assert.ok(Math.abs(data.ys[4 * i + c] - expected) < 1e-12, `point ${i}, component ${c}`);
      }
    }
    // Trial 1 reaches angles of −46 rad; trial 0 within the window stays small.
    for (const v of data.ys) assert.ok(Math.abs(v) < 3);
    // Another trial can be asked for, with its own time shift.
    const trial1 = await readPendulum(pendulumPath, { trial: 1 });
    assert.equal(trial1.ts[0], 0);
    const first1 = rows(pendulumPath).find((row) => row[0] === 1)!;
    assert.equal(trial1.ys[0], first1[2] / 10);
  },
});

Deno.test("malformed files are refused with file, line and reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revode_datasets_" });
  try {
    const header = "% x1 x2 v1 v2\r\n";
    const good = (t: number) => `0 ${t} 1 2 3 4\r\n`;
    const cases: [string, string, RegExp][] = [
      [
        "columns.txt",
        header + good(0) + "0 1 2 3 4\r\n" + good(5),
        /columns\.txt:3: expected 6 columns \(trial t x1 x2 v1 v2\), found 5/,
      ],
      [
        "numeric.txt",
        header + good(0) + "0 1 2 abc 4 5\r\n" + good(5),
        /numeric\.txt:3: column 4 is "abc", not a finite number/,
      ],
      [
        "nan.txt",
        header + good(0) + "0 1 NaN 3 4 5\r\n" + good(5),
        /nan\.txt:3: column 3 is "NaN", not a finite number/,
      ],
      [
        "time.txt",
        header + good(0) + good(1) + good(2) + good(2) + good(5),
        /time\.txt:5: time 2 does not increase .*line 4/,
      ],
      [
        "backwards.txt",
        header + good(0) + good(4) + good(3),
        /backwards\.txt:4: time 3 does not increase/,
      ],
      ["one_row.txt", header + good(0), /one_row\.txt:2: too few rows: .*1 row/],
      [
        "short_span.txt",
        header + good(0) + good(1) + good(2.5),
        /short_span\.txt:4: too few rows: .*spans 2\.5 s.*\[0, 3\] s/,
      ],
      ["empty.txt", header, /empty\.txt:1: no rows of trial 0/],
    ];
    for (const [name, text, pattern] of cases) {
      const path = join(dir, name);
      await Deno.writeTextFile(path, text);
      await assert.rejects(readOscillator(path), (error: Error) => {
        assert.match(error.message, pattern);
        assert.ok(error.message.startsWith(path + ":"), error.message);
        return true;
      });
    }
    // A pendulum file needs 10 columns.
    const path = join(dir, "pend.txt");
    await Deno.writeTextFile(path, header + good(0) + good(5));
    await assert.rejects(readPendulum(path), /pend\.txt:2: expected 10 columns/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("preprocessing options are checked", () => {
  const text = "0 0 1 2 3 4 0 0 0 0\n0 5 1 2 3 4 0 0 0 0\n";
  assert.throws(() => parsePendulum(text, "x", { points: 1 }), /options\.points.*1/);
  assert.throws(() => parsePendulum(text, "x", { duration: 0 }), /options\.duration.*0/);
  assert.throws(() => parsePendulum(text, "x", { scale: 0 }), /options\.scale.*0/);
  assert.equal(parsePendulum(text, "x", { points: 11, duration: 5 }).ts[10], 5);
});

Deno.test("simulated data: shape, grid of the real preprocessing, deterministic per seed", () => {
  for (const [simulate, duration] of [[simulateOscillator, 3], [simulatePendulum, 2]] as const) {
    const a = simulate({ seed: 42 });
    checkShape(a, duration);
    assert.deepEqual(simulate({ seed: 42 }), a);
    assert.notDeepEqual(simulate({ seed: 43 }).ys, a.ys);
    assert.match(a.source, /simulated .*seed=42/);
    // The noise has the requested standard deviation (about).
    const clean = simulate({ noise: 0 });
    let sum = 0;
    for (let i = 0; i < a.ys.length; i++) sum += (a.ys[i] - clean.ys[i]) ** 2;
    const std = Math.sqrt(sum / a.ys.length);
    assert.ok(std > 0.009 && std < 0.011, `noise std ${std}`);
    // Order-1 values after scaling, like the real data.
    let max = 0;
    for (const v of clean.ys) max = Math.max(max, Math.abs(v));
    assert.ok(max > 0.5 && max < 5, `max |y| ${max}`);
  }
  const small = simulateOscillator({ points: 7, duration: 1.5, noise: 0 });
  assert.equal(small.ts.length, 7);
  assert.equal(small.ys.length, 28);
  assert.throws(() => simulatePendulum({ y0: [1, 2] }), /options\.y0/);
  assert.throws(() => simulateOscillator({ noise: -1 }), /options\.noise.*-1/);
  assert.throws(() => simulateOscillator({ seed: 0.5 }), /options\.seed.*0\.5/);
});

Deno.test("simulated oscillator without noise matches the normal-mode solution", () => {
  const k = 4.6, kc = 0.8;
  const y0 = [-0.75, -0.7, -0.2, 0.3];
  const data = simulateOscillator({ noise: 0, k, kc, y0 });
  // s = (x1 + x2)/2 oscillates at √k, d = (x1 − x2)/2 at √(k + 2kc).
  const ws = Math.sqrt(k), wd = Math.sqrt(k + 2 * kc);
  const s0 = (y0[0] + y0[1]) / 2, d0 = (y0[0] - y0[1]) / 2;
  const sv = (y0[2] + y0[3]) / 2, dv = (y0[2] - y0[3]) / 2;
  for (let i = 0; i < 500; i++) {
    const t = data.ts[i];
    const s = s0 * Math.cos(ws * t) + (sv / ws) * Math.sin(ws * t);
    const d = d0 * Math.cos(wd * t) + (dv / wd) * Math.sin(wd * t);
    const ds = -s0 * ws * Math.sin(ws * t) + sv * Math.cos(ws * t);
    const dd = -d0 * wd * Math.sin(wd * t) + dv * Math.cos(wd * t);
    const exact = [s + d, s - d, ds + dd, ds - dd];
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(data.ys[4 * i + c] - exact[c]) < 1e-10);
  }
});

Deno.test("simulated pendulum without noise conserves energy", () => {
  const g = 60;
  const data = simulatePendulum({ noise: 0, gOverL: g });
  // E / (m L²) = ω1² + ω2²/2 + ω1 ω2 cos(θ1 − θ2) − (g/L)(2 cos θ1 + cos θ2), on unscaled states.
  const energy = (i: number) => {
    const [t1, t2, w1, w2] = Array.from(data.ys.subarray(4 * i, 4 * i + 4), (v) => 10 * v);
    return w1 * w1 + 0.5 * w2 * w2 + w1 * w2 * Math.cos(t1 - t2) -
      g * (2 * Math.cos(t1) + Math.cos(t2));
  };
  const e0 = energy(0);
  for (let i = 1; i < 500; i++) {
    assert.ok(Math.abs(energy(i) - e0) < 1e-7 * Math.abs(e0), `point ${i}`);
  }
});
