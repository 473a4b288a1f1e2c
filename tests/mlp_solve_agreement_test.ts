// Whole solves and gradients with the kernels (and their faster tanh) against
// the same with the one-row reference field (mlp_layers.ts, Math.tanh), as Mlp
// computed them before issue 20: within 1e-14 relative.
import assert from "node:assert/strict";
import { plain, reversible, rk4, solve } from "../mod.ts";
import { Mlp, type MlpOptions } from "../solvers/fields/mlp.ts";
import { backwardRow, forwardRow } from "../solvers/fields/mlp_layers.ts";
import { mlpLayout, resolveMlpOptions } from "../solvers/fields/mlp_layout.ts";
import type { VectorField } from "../solvers/vector_field.ts";

/** The field as it was: row by row through mlp_layers.ts, no tape. */
function referenceField(options: MlpOptions): VectorField {
  const net = mlpLayout(resolveMlpOptions(options, ""));
  const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
  const work = [new Float64Array(net.maxWidth), new Float64Array(net.maxWidth)] as const;
  return {
    dim: net.dim,
    paramCount: net.paramCount,
    timeDependent: net.timeDependent,
    evaluate(t, y, batch, params, out) {
      for (let b = 0; b < batch; b++) forwardRow(net, t, y, b, params, acts, 0, pre, 0, out);
    },
    vjp(t, y, batch, params, cotangent, yBar, paramsBar) {
      for (let b = 0; b < batch; b++) {
        forwardRow(net, t, y, b, params, acts, 0, pre, 0, null);
        backwardRow(net, b, params, acts, 0, pre, 0, cotangent, yBar, paramsBar, work);
      }
    },
  };
}

function relative(a: Float64Array, b: Float64Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / s);
}

const CASES = [
  {
    name: "white dwarf, reversible RK4, N = 1000",
    options: { dim: 2, widths: [10], timeDependent: true },
    batch: 1,
    steps: 1000,
    h: 0.005,
    scheme: reversible(rk4, { coupling: 0.999 }),
    gradient: "reversible" as const,
  },
  {
    name: "batch 70, width 64, plain RK4, direct, N = 40",
    options: { dim: 4, widths: [64, 64] },
    batch: 70,
    steps: 40,
    h: 0.01,
    scheme: plain(rk4),
    gradient: "direct" as const,
  },
  {
    name: "batch 9, width 32, reversible RK4, N = 100",
    options: { dim: 3, widths: [32, 32], timeDependent: true },
    batch: 9,
    steps: 100,
    h: 0.01,
    scheme: reversible(rk4),
    gradient: "reversible" as const,
  },
];

for (const c of CASES) {
  Deno.test(`kernels agree with the reference field: ${c.name}`, () => {
    const mlp = new Mlp(c.options);
    const params = mlp.init(3);
    const y0 = Float64Array.from({ length: c.batch * c.options.dim }, (_, i) => Math.cos(i));
    const run = (field: VectorField) => {
      const sol = solve({
        field,
        y0,
        params,
        scheme: c.scheme,
        t0: 0,
        t1: c.h * c.steps,
        steps: c.steps,
        saveAt: { steps: true },
        gradient: c.gradient,
      });
      const grad = sol.backward(sol.ys.map((v) => v * 0.5));
      return { ys: sol.ys.slice(), params: grad.params.slice(), y0: grad.y0.slice() };
    };
    const fast = run(mlp), ref = run(referenceField(c.options));
    for (const key of ["ys", "params", "y0"] as const) {
      const r = relative(fast[key], ref[key]);
      assert.ok(r <= 1e-14, `${key}: ${r} relative`);
    }
  });
}
