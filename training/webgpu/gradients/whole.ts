/**
 * The reversible gradient of a fixed-step solve in two kernels: one
 * invocation per trajectory runs the whole forward solve, and one the whole
 * backward pass (numerics.md §2), the state, the stage values and the
 * cotangents in the invocation's own memory. The per-step form
 * (reversible.ts) needs about 10 dispatches per step forward and 28 back
 * for RK4; this one needs 2 for the solve, whatever the number of steps,
 * which is what a narrow network (the paper's, width 10) on a small batch
 * spends its time on. The numbers are those of the per-step form: the same
 * call times, the same sums in the same order — except the parameter
 * gradient, summed per trajectory over the whole backward pass and then
 * over the trajectories (per-row columns `g`, reduced chunk by chunk in a
 * fixed order: still deterministic, rounded differently).
 *
 * The network must fit one invocation ({@link GpuMlp.fused}); adaptive
 * steps, `checkpointEvery` and the direct and checkpointed gradients keep
 * the per-step form.
 *
 * @module
 */

import { ACTIVATION_HELPERS } from "../activations.ts";
import type { BindingSpec } from "../context.ts";
import { fieldCode, layerSizes } from "../field_code.ts";
import type { Op } from "../recorder.ts";
import { f32, linearGroups, linearMain, u32 } from "../wgsl.ts";
import type { GpuGradientRun, GpuProblem } from "./problem.ts";

/**
 * Bytes of the per-row parameter gradients the whole-solve form holds for
 * a problem: `rows × P` values.
 *
 * @param rows Trajectories.
 * @param paramCount Parameters `P`.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { wholeSolveBytes } from "./whole.ts";
 * import assert from "node:assert/strict";
 * assert.equal(wholeSolveBytes(4096, 62), 4096 * 62 * 4);
 * ```
 */
export function wholeSolveBytes(rows: number, paramCount: number): number {
  return rows * paramCount * 4;
}

/**
 * What decides whether a solve runs in whole-solve kernels.
 *
 * @example
 * ```ts
 * import type { WholeSolveFacts } from "./whole.ts";
 * import assert from "node:assert/strict";
 * const facts: WholeSolveFacts = {
 *   adaptive: false, method: "reversible", fused: true, every: 0, bytes: 1024, limit: 1 << 27,
 * };
 * assert.ok(facts.bytes <= facts.limit);
 * ```
 */
export interface WholeSolveFacts {
  /** Whether the steps are adaptive. */
  readonly adaptive: boolean;
  /** The gradient method (`"reversible"`, `"direct"`, `"checkpointed"`). */
  readonly method: string;
  /** Whether the network runs fused (one invocation per row). */
  readonly fused: boolean;
  /** The reversible gradient's `checkpointEvery` (0: none). */
  readonly every: number;
  /** Bytes of the per-row gradients ({@link wholeSolveBytes}). */
  readonly bytes: number;
  /** The device's `maxStorageBufferBindingSize`. */
  readonly limit: number;
}

/**
 * Resolves `solveKernel` for a solve: `"steps"` as asked; `"whole"` where
 * it applies (fixed steps, the reversible gradient, a fused network…),
 * else a RangeError saying why; `"auto"` whole where it applies, else steps.
 *
 * @param requested `"auto"` (default), `"whole"` or `"steps"`.
 * @param facts The network, the gradient and the sizes.
 * @returns The layout.
 * @throws {RangeError} For another value, or `"whole"` where it does not apply.
 *
 * @example
 * ```ts
 * import { chooseSolveKernel } from "./whole.ts";
 * import assert from "node:assert/strict";
 * const facts = {
 *   adaptive: false, method: "reversible", fused: true, every: 0, bytes: 1024, limit: 1 << 27,
 * };
 * assert.equal(chooseSolveKernel(undefined, facts), "whole");
 * assert.equal(chooseSolveKernel(undefined, { ...facts, method: "direct" }), "steps");
 * assert.equal(chooseSolveKernel("auto", { ...facts, fused: false }), "steps");
 * assert.throws(() => chooseSolveKernel("whole", { ...facts, every: 10 }), /checkpointEvery/);
 * ```
 */
export function chooseSolveKernel(
  requested: string | undefined,
  facts: WholeSolveFacts,
): "whole" | "steps" {
  const choice = requested ?? "auto";
  if (choice !== "auto" && choice !== "whole" && choice !== "steps") {
    throw new RangeError(
      `Invalid solveKernel: got ${JSON.stringify(requested)}; expected "auto", "whole" or "steps".`,
    );
  }
  if (choice === "steps") return "steps";
  if (facts.adaptive || facts.method !== "reversible") {
    if (choice === "auto") return "steps";
    throw new RangeError(
      `Invalid solveKernel: got "whole" with ${
        facts.adaptive ? "adaptive steps" : `the ${facts.method} gradient`
      }; the whole-solve kernels take fixed steps and the reversible gradient ` +
        '(use "auto" or "steps").',
    );
  }
  const why = !facts.fused
    ? 'the network does not fit one invocation (kernels "fused", widths up to 32)'
    : facts.every > 0
    ? `checkpointEvery (${facts.every}) needs the per-step kernels`
    : facts.bytes > facts.limit
    ? `the per-row gradients (${facts.bytes} bytes) exceed the device's binding size (${facts.limit})`
    : null;
  if (why === null) return "whole";
  if (choice === "auto") return "steps";
  throw new RangeError(`Invalid solveKernel: got "whole", but ${why}; use "auto" or "steps".`);
}

/**
 * The reversible gradient method in whole-solve kernels.
 *
 * @param problem The solve (fixed steps; a fused network).
 * @param times The grid `t_0 … t_N` (float64), as the per-step form's call records take it.
 * @returns The method's forward and backward passes.
 * @throws {RangeError} When the network is not fused.
 *
 * @example `GpuSolver` builds it for `solveKernel: "whole"`
 * ```ts
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../device.ts";
 * import { Recorder } from "../recorder.ts";
 * import { Mlp } from "../../mlp.ts";
 * import { rk4 } from "../../../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const mlp = new Mlp({ dim: 2, widths: [8], timeDependent: true });
 *   const solver = GpuSolver.create(device, {
 *     mlp, params: mlp.init(0), tableau: rk4, t1: 1, steps: 100, y0: Float64Array.of(1, 0),
 *     solveKernel: "whole",
 *   });
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   solver.run.backward(rec);
 *   assert.equal(rec.counts.dispatches, 4); // forward, backward, two reductions
 *   rec.submit();
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export function wholeReversibleGradient(
  problem: GpuProblem,
  times: ArrayLike<number>,
): GpuGradientRun {
  const { ctx, mlp, scheme, outputs, calls, y0, params, partials, paramsBar } = problem;
  if (!mlp.fused) {
    throw new RangeError(
      "Invalid solveKernel: the whole-solve kernels need a network that fits one invocation " +
        '(kernels "fused", widths up to 32).',
    );
  }
  const { tableau, live } = scheme;
  const steps = times.length - 1;
  const batch = mlp.batch, dim = mlp.mlp.dim, P = mlp.paramCount;
  const S = tableau.stages;
  const R = 2 * (2 + S) + 1;
  // [slot_0]; per step: t, h, its stage times, t_{n+1}, −h, its stage times, slot_{n+1};
  // then the constants the loops run to — stages, halves (2), a_ij, b_i, live_i,
  // the layer sizes — read from memory so that the compiler does not unroll the
  // loops and inline the network at every stage (see field_code.ts)
  const sizes = layerSizes(mlp.mlp);
  const constants = [
    S,
    2,
    ...tableau.aDense,
    ...tableau.b,
    ...live.map((l) => (l ? 1 : 0)),
    ...sizes,
  ];
  const K = 1 + steps * R;
  const table = new Float64Array(K + constants.length);
  table[0] = calls.slot(0);
  for (let n = 0; n < steps; n++) {
    const t = times[n], tNext = times[n + 1], h = tNext - t;
    const o = 1 + n * R;
    table[o] = t;
    table[o + 1] = h;
    tableau.c.forEach((c, i) => (table[o + 2 + i] = t + c * h));
    table[o + 2 + S] = tNext;
    table[o + 3 + S] = -h;
    tableau.c.forEach((c, i) => (table[o + 4 + S + i] = tNext + c * -h));
    table[o + R - 1] = calls.slot(n + 1);
  }
  table.set(constants, K);
  const [stepTable] = ctx.arena("whole.steps", [table.length]);
  ctx.write(stepTable, table);
  const [g] = ctx.arena("whole.grads", [batch * P]);
  const at = (k: number) => `steps[${u32(K + k)}]`;
  const header = `${ACTIVATION_HELPERS}
${fieldCode(mlp.mlp, batch)}
const S = ${u32(S)};
const LAM = ${f32(scheme.coupling)};
const OML = ${f32(1 - scheme.coupling)};
const R = ${u32(R)};
const N_STEPS = ${u32(steps)};
const ZOFF = ${u32((scheme.z.offset - scheme.y.offset) / 4)};
const ROW = ${u32(batch * dim)};
fn stages() -> u32 { return u32(${at(0)}); }
fn halves() -> u32 { return u32(${at(1)}); }
fn coef_a(i: u32, j: u32) -> f32 { return steps[${u32(K + 2)} + i * S + j]; }
fn coef_b(i: u32) -> f32 { return steps[${u32(K + 2 + S * S)} + i]; }
fn is_live(i: u32) -> bool { return steps[${u32(K + 2 + S * S + S)} + i] != 0.0; }
fn width(k: u32) -> u32 { return u32(steps[${u32(K + 2 + S * S + 2 * S)} + k]); }
fn slot_at(n: u32) -> i32 {
  if (n == 0u) { return i32(steps[0]); }
  return i32(steps[1u + (n - 1u) * R + R - 1u]);
}
${INCREMENT_CODE}`;
  const region = outputs.region();
  const forwardKernel = ctx.kernel({
    name: "whole.forward",
    // g: field_vjp's gradients, bound but never written by this kernel
    bindings: bindingsOf(["p", "steps", "y0", "state", "ys", "g"], ["state", "ys", "g"]),
    header: `${header}
fn save(slot: i32, b: u32, y: array<f32, DIM>) {
  var yv = y;
  if (slot < 0) { return; }
  for (var e = 0u; e < DIM; e++) { ys[u32(slot) * ROW + b * DIM + e] = yv[e]; }
}`,
    code: linearMain(
      batch,
      `  let b = i;
  var y: array<f32, DIM>;
  var z: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) { y[e] = y0[b * DIM + e]; z[e] = y[e]; }
  save(slot_at(0u), b, y);
  for (var n = 0u; n < N_STEPS; n++) {
    // half 0: y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n); half 1: z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})
    for (var half = 0u; half < halves(); half++) {
      let q = 1u + n * R + half * (2u + S);
      var x = z;
      if (half == 1u) { x = y; }
      var f = increment(steps[q + 1u], q + 2u, x);
      if (half == 0u) {
        for (var e = 0u; e < DIM; e++) { y[e] = LAM * y[e] + OML * z[e] + f.psi[e]; }
      } else {
        for (var e = 0u; e < DIM; e++) { z[e] = z[e] - f.psi[e]; }
      }
    }
    save(slot_at(n + 1u), b, y);
  }
  for (var e = 0u; e < DIM; e++) {
    state[b * DIM + e] = y[e];
    state[ZOFF + b * DIM + e] = z[e];
  }`,
    ),
  });
  const barZ = (scheme.zBar.offset - scheme.yBar.offset) / 4;
  const backwardKernel = ctx.kernel({
    name: "whole.backward",
    bindings: bindingsOf(["p", "steps", "state", "bar", "g", "outputs"], ["state", "bar", "g"]),
    header: `${header}
${outputs.cotangentCode("outputs")}
fn add_cotangent(slot: i32, b: u32, yb: array<f32, DIM>) -> array<f32, DIM> {
  var sum = yb;
  if (slot < 0) { return sum; }
  for (var e = 0u; e < DIM; e++) { sum[e] += cotangent(u32(slot), b * DIM + e); }
  return sum;
}`,
    code: linearMain(
      batch,
      `  let b = i;
  var y: array<f32, DIM>;
  var z: array<f32, DIM>;
  var yb: array<f32, DIM>;
  var zb: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) {
    y[e] = state[b * DIM + e];
    z[e] = state[ZOFF + b * DIM + e];
    zb[e] = 0.0;
  }
  yb = add_cotangent(slot_at(N_STEPS), b, yb);
  for (var m = 0u; m < N_STEPS; m++) {
    let n = N_STEPS - 1u - m;
    let o = 1u + n * R;
    // the inverse, keeping each increment's stage inputs:
    // half 0: z_n = z_{n+1} + Ψ_{−h}(t_{n+1}, y_{n+1}); half 1: y_n = (y_{n+1} − (1 − λ) z_n − Ψ_h(t_n, z_n)) / λ
    var inputs: array<array<array<f32, DIM>, S>, 2>;
    for (var half = 0u; half < halves(); half++) {
      let q = o + (1u - half) * (2u + S);
      var x = y;
      if (half == 1u) { x = z; }
      var f = increment(steps[q + 1u], q + 2u, x);
      inputs[half] = f.y;
      if (half == 0u) {
        for (var e = 0u; e < DIM; e++) { z[e] = z[e] + f.psi[e]; }
      } else {
        for (var e = 0u; e < DIM; e++) { y[e] = (y[e] - OML * z[e] - f.psi[e]) / LAM; }
      }
    }
    // half 0: through z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1}); half 1: through y_{n+1}
    for (var half = 0u; half < halves(); half++) {
      let q = o + (1u - half) * (2u + S);
      var u = yb;
      if (half == 0u) {
        for (var e = 0u; e < DIM; e++) { u[e] = -zb[e]; }
      }
      var a = increment_vjp(steps[q + 1u], q + 2u, inputs[half], u, b);
      if (half == 0u) {
        for (var e = 0u; e < DIM; e++) { yb[e] += a[e]; }
      } else {
        for (var e = 0u; e < DIM; e++) {
          zb[e] += OML * yb[e] + a[e];
          yb[e] *= LAM;
        }
      }
    }
    if (n > 0u) { yb = add_cotangent(slot_at(n), b, yb); }
  }
  yb = add_cotangent(slot_at(0u), b, yb);
  for (var e = 0u; e < DIM; e++) {
    state[b * DIM + e] = y[e];
    state[ZOFF + b * DIM + e] = z[e];
    bar[b * DIM + e] = yb[e];
    bar[${u32(barZ)} + b * DIM + e] = zb[e];
  }`,
    ),
  });
  // Σ over each chunk's rows of the per-row gradients, in row order
  const R_ = mlp.chunks.rows;
  const chunkKernel = ctx.kernel({
    name: "whole.chunks",
    bindings: [{ name: "g", access: "read" }, { name: "partials", access: "read_write" }],
    code: linearMain(
      mlp.chunks.chunks * P,
      `  let c = i / ${u32(P)};
  let q = i % ${u32(P)};
  let start = c * ${u32(R_)};
  let end = min(start + ${u32(R_)}, ${u32(batch)});
  var s = 0.0;
  for (var b = start; b < end; b++) { s += g[q * ${u32(batch)} + b]; }
  partials[i] = s;`,
    ),
  });
  const ops = {
    forward: [{
      kernel: forwardKernel,
      group: ctx.bind(forwardKernel, [params, stepTable, y0, scheme.state, outputs.ys, g]),
      groups: linearGroups(batch, 64),
    }] as Op[],
    backward: [{
      kernel: backwardKernel,
      group: ctx.bind(backwardKernel, [
        params,
        stepTable,
        scheme.state,
        scheme.bar,
        g,
        region.slice,
      ]),
      groups: linearGroups(batch, 64),
    }] as Op[],
    chunks: [{
      kernel: chunkKernel,
      group: ctx.bind(chunkKernel, [g, partials]),
      groups: linearGroups(mlp.chunks.chunks * P, 64),
    }] as Op[],
    reduce: mlp.reduceOps(partials, paramsBar),
  };
  return {
    name: "reversible",
    // the per-row gradients; the step table holds the grid's times, as the
    // per-step form's call table does, and is not counted (neither is that)
    bytes: 4 * g.length,
    forward(rec) {
      rec.run(ops.forward, null);
    },
    backward(rec, withY0 = false) {
      rec.clear(g);
      rec.run(ops.backward, null);
      rec.run(ops.chunks, null);
      rec.run(ops.reduce, null);
      if (withY0) rec.run(scheme.initVjpOps(problem.y0Bar), null);
    },
  };
}

/** Storage bindings by name, the ones in `written` read-write, the others read-only. */
function bindingsOf(names: string[], written: string[]): BindingSpec[] {
  return names.map((name) => ({ name, access: written.includes(name) ? "read_write" : "read" }));
}

/**
 * WGSL of one increment `Ψ_h(t, y)` and its VJP, for one trajectory, the
 * tableau read from memory (`stages()`, `coef_a`, `coef_b`, `is_live`):
 * `struct Stages { y: array<array<f32, DIM>, S>, psi: array<f32, DIM> }`
 * (the stage inputs `Y_i` and `Ψ`), `fn increment(h, st, y) -> Stages`
 * with the stage times at `steps[st + i]`, and
 * `fn increment_vjp(h, st, ys, u, row) -> array<f32, DIM>` (`Σ_i Ȳ_i` for
 * the cotangent `ū`, the parameter gradients added by `field_vjp`). Only
 * the live stages are evaluated; zero coefficients are skipped, so the sums
 * run as increment.ts's, term for term.
 */
const INCREMENT_CODE = `struct Stages { y: array<array<f32, DIM>, S>, psi: array<f32, DIM> }
fn increment(h: f32, st: u32, y: array<f32, DIM>) -> Stages {
  var yv = y;
  var out: Stages;
  var k: array<array<f32, DIM>, S>;
  for (var i = 0u; i < stages(); i++) {
    if (!is_live(i)) { continue; }
    var yi: array<f32, DIM>;
    for (var e = 0u; e < DIM; e++) {
      var v = yv[e];
      for (var j = 0u; j < i; j++) {
        let a = coef_a(i, j);
        if (a != 0.0) { v += (h * a) * k[j][e]; }
      }
      yi[e] = v;
    }
    out.y[i] = yi;
    k[i] = field(steps[st + i], yi);
  }
  for (var e = 0u; e < DIM; e++) {
    var sum = 0.0;
    for (var j = 0u; j < stages(); j++) {
      let bj = coef_b(j);
      if (bj != 0.0) { sum = sum + (h * bj) * k[j][e]; }
    }
    out.psi[e] = sum;
  }
  return out;
}
fn increment_vjp(h: f32, st: u32, ys: array<array<f32, DIM>, S>, u: array<f32, DIM>, row: u32) -> array<f32, DIM> {
  var yv = ys;
  var uv = u;
  var bars: array<array<f32, DIM>, S>;
  for (var m = 0u; m < stages(); m++) {
    let i = stages() - 1u - m;
    if (!is_live(i)) { continue; }
    var kb: array<f32, DIM>;
    for (var e = 0u; e < DIM; e++) {
      var v = 0.0;
      let bi = coef_b(i);
      if (bi != 0.0) { v = (h * bi) * uv[e]; }
      for (var l = i + 1u; l < stages(); l++) {
        let a = coef_a(l, i);
        if (a != 0.0 && is_live(l)) { v += (h * a) * bars[l][e]; }
      }
      kb[e] = v;
    }
    bars[i] = field_vjp(steps[st + i], yv[i], kb, row);
  }
  var out: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) {
    var sum = 0.0;
    for (var j = 0u; j < stages(); j++) {
      if (is_live(j)) { sum = sum + bars[j][e]; }
    }
    out[e] = sum;
  }
  return out;
}`;
