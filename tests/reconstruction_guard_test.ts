import assert from "node:assert/strict";
import {
  bosh3,
  linearField,
  Mlp,
  pid,
  ReconstructionDriftError,
  reversible,
  rk4,
  solve,
} from "../mod.ts";

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
    (e: unknown) =>
      e instanceof ReconstructionDriftError && e.drift > 1e-6 &&
      /drifted.*above reconstructionTolerance = 0\.000001.*N = 2000 steps.*λ closer to 1.*checkpointEvery/
        .test(e.message),
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

Deno.test("a solve from y0 = 0 is measured on the solution's size, not refused", async (t) => {
  const relative = (a: Float64Array, b: Float64Array) => {
    let diff = 0, scale = 0;
    for (let q = 0; q < b.length; q++) {
      diff = Math.max(diff, Math.abs(a[q] - b[q]));
      scale = Math.max(scale, Math.abs(b[q]));
    }
    return diff / scale;
  };
  const zero = { ...options(0.999, "reversible"), t1: 1, steps: 200, y0: new Float64Array(2) };
  for (
    const [label, gradient] of [
      ["reversible", "reversible"],
      ["checkpointEvery", { method: "reversible", checkpointEvery: 50 }],
    ] as const
  ) {
    await t.step(label, () => {
      const direct = solve({ ...zero, gradient: "direct" }).backward(Float64Array.of(1, 1));
      // y0 = 0: relative to |y0| alone, an absolute round-off of 1e-17 read as 1e+306
      const g = solve({ ...zero, gradient }).backward(Float64Array.of(1, 1));
      assert.ok(g.stats.reconstructionError! < 1e-14, `${g.stats.reconstructionError}`);
      assert.ok(relative(g.params, direct.params) < 1e-12);
    });
  }
  await t.step("an adaptive batch with a zero row", () => {
    const batch = {
      ...zero,
      y0: Float64Array.of(0, 0, 0.5, -0.5),
      scheme: reversible(bosh3),
      steps: undefined,
      controller: pid({ rtol: 1e-8, atol: 1e-8 }),
    };
    const cot = Float64Array.of(1, 1, 1, 1);
    const direct = solve({ ...batch, gradient: "direct" }).backward(cot);
    const g = solve({ ...batch, gradient: "reversible" }).backward(cot);
    assert.ok(g.stats.reconstructionError! < 1e-12, `${g.stats.reconstructionError}`);
    assert.ok(relative(g.params, direct.params) < 1e-12);
  });
  // still a relative measure: a drift as large as the solution is refused
  const drifting = { ...options(0.9, "reversible"), y0: new Float64Array(2) };
  assert.throws(() => solve(drifting).backward(Float64Array.of(1, 1)), /drifted/);
});

Deno.test("an adaptive batch says which trajectory drifted", () => {
  // y' = −y with λ = 0.5: a row from 1 drifts like 2^N on the way back; a row from 0 stays
  // exactly 0 (no round-off at all), so only the second row of the batch drifts
  const adaptive = {
    field: linearField(1),
    params: Float64Array.of(-1),
    scheme: reversible(bosh3, { coupling: 0.5 }),
    t0: 0,
    t1: 10,
    controller: pid({ rtol: 1e-7, atol: 1e-7 }),
    saveAt: { t1: true },
    gradient: "reversible" as const,
  };
  const alone = solve({ ...adaptive, y0: Float64Array.of(1) });
  assert.throws(
    () => alone.backward(Float64Array.of(1)),
    (e: unknown) =>
      e instanceof ReconstructionDriftError &&
      /^The reversible backward pass drifted/.test(e.message),
  );
  const batch = solve({ ...adaptive, y0: Float64Array.of(0, 1) });
  assert.throws(
    () => batch.backward(Float64Array.of(1, 1)),
    (e: unknown) =>
      e instanceof ReconstructionDriftError && e.drift > 1e-6 &&
      /^Trajectory 1 of 2: The reversible backward pass drifted/.test(e.message),
  );
});
