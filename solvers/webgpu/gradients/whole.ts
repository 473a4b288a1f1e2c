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
 * With `checkpointEvery`, the forward kernel also stores the exact state
 * every K steps and the backward kernel restores it, as the per-step form
 * does. The network must fit one invocation ({@link GpuMlp.fused});
 * adaptive steps keep the per-step form. Binomial checkpointing
 * and direct backpropagation have whole-solve forms too
 * (whole_checkpointed.ts, whole_direct.ts); this file also decides which solves take the whole-solve kernels
 * ({@link chooseSolveKernel}).
 *
 * @module
 */

import { ArgumentError, invalidArgument } from "../../checks.ts";
import type { Op } from "../runtime/recorder.ts";
import { linearGroups, linearMain } from "../runtime/wgsl.ts";
import type { GpuGradientRun, GpuStateProblem } from "./problem.ts";
import { bindingsOf, snapshotBytes, wholeBase, wholeRun } from "./whole_base.ts";

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
 * import { chooseSolveKernel, type WholeSolveFacts } from "./whole.ts";
 * import assert from "node:assert/strict";
 * const facts: WholeSolveFacts = {
 *   adaptive: false, method: "reversible", fused: true, bytes: 1024, limit: 1 << 27,
 * };
 * assert.equal(chooseSolveKernel("auto", facts), "whole");
 * assert.equal(chooseSolveKernel("auto", { ...facts, fused: false }), "steps");
 * assert.equal(chooseSolveKernel("auto", { ...facts, bytes: 2 << 27 }), "steps"); // over the binding size
 * assert.equal(chooseSolveKernel("auto", { ...facts, adaptive: true }), "steps");
 * assert.throws(() => chooseSolveKernel("whole", { ...facts, adaptive: true }), /adaptive steps/);
 * ```
 */
export interface WholeSolveFacts {
  /** Whether the steps are adaptive. */
  readonly adaptive: boolean;
  /** The gradient method (`"reversible"`, `"direct"`, `"checkpointed"`). */
  readonly method: string;
  /** Whether the network runs fused (one invocation per row). */
  readonly fused: boolean;
  /** Bytes of the largest per-row buffer: the gradients ({@link wholeSolveBytes}), checkpoints or tape. */
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
 *   adaptive: false, method: "reversible", fused: true, bytes: 1024, limit: 1 << 27,
 * };
 * assert.equal(chooseSolveKernel(undefined, facts), "whole");
 * assert.equal(chooseSolveKernel(undefined, { ...facts, method: "checkpointed" }), "whole");
 * assert.equal(chooseSolveKernel(undefined, { ...facts, adaptive: true }), "steps");
 * assert.equal(chooseSolveKernel("auto", { ...facts, fused: false }), "steps");
 * assert.throws(() => chooseSolveKernel("whole", { ...facts, fused: false }), /one invocation/);
 * ```
 */
export function chooseSolveKernel(
  requested: string | undefined,
  facts: WholeSolveFacts,
): "whole" | "steps" {
  const choice = requested ?? "auto";
  if (choice !== "auto" && choice !== "whole" && choice !== "steps") {
    invalidArgument("solveKernel", requested, '"auto", "whole" or "steps"');
  }
  if (choice === "steps") return "steps";
  if (facts.adaptive || !["reversible", "direct", "checkpointed"].includes(facts.method)) {
    if (choice === "auto") return "steps";
    throw new ArgumentError({
      argument: "solveKernel",
      got: `"whole" with ${facts.adaptive ? "adaptive steps" : `the ${facts.method} gradient`}`,
      expected: '"auto" or "steps" (the whole-solve kernels take fixed steps and the ' +
        "reversible, direct or checkpointed gradient)",
    });
  }
  const why = !facts.fused
    ? 'the network does not fit one invocation (kernels "fused", widths up to 32)'
    : facts.bytes > facts.limit
    ? `the per-row gradients, checkpoints or tape (${facts.bytes} bytes) exceed the device's ` +
      `binding size (${facts.limit})`
    : null;
  if (why === null) return "whole";
  if (choice === "auto") return "steps";
  throw new ArgumentError({
    argument: "solveKernel",
    got: `"whole", but ${why}`,
    expected: '"auto" or "steps"',
  });
}

/**
 * How many exact states the reversible gradient with `checkpointEvery: K`
 * stores: those at `K, 2K, …` before `N`.
 *
 * @param steps Steps `N`.
 * @param checkpointEvery `K` (0: never).
 * @returns The number.
 *
 * @example
 * ```ts
 * import { restoredStates } from "./whole.ts";
 * import assert from "node:assert/strict";
 * assert.equal(restoredStates(23, 7), 3); // 7, 14, 21
 * assert.equal(restoredStates(21, 7), 2); // 7, 14
 * assert.equal(restoredStates(21, 0), 0);
 * ```
 */
export function restoredStates(steps: number, checkpointEvery: number): number {
  return checkpointEvery > 0 ? Math.max(0, Math.ceil(steps / checkpointEvery) - 1) : 0;
}

/**
 * The reversible gradient method in whole-solve kernels.
 *
 * @param problem The solve (fixed steps; a fused network).
 * @param times The grid `t_0 … t_N` (float64), as the per-step form's call records take it.
 * @param checkpointEvery Store the exact state every K steps and restore it
 *   on the way back, bounding the reconstruction drift (default 0: never).
 * @returns The method's forward and backward passes.
 * @throws {RangeError} When the network is not fused, or for a bad `checkpointEvery`.
 *
 * @example `GpuSolver` builds it for `solveKernel: "whole"`
 * ```ts
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { rk4 } from "../../tableaux.ts";
 * import { reversible } from "../../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const mlp = new Mlp({ dim: 2, widths: [8], timeDependent: true });
 *   const solver = GpuSolver.create(device, {
 *     field: mlp, params: mlp.init(0), scheme: reversible(rk4), t1: 1, steps: 100,
 *     y0: Float64Array.of(1, 0), saveAt: { t0: true, steps: true },
 *     solveKernel: "whole",
 *   });
 *   const rec = new Recorder(solver.ctx);
 *   solver.run.forward(rec);
 *   solver.run.backward(rec);
 *   assert.equal(rec.counts.dispatches, 4); // forward, backward, two reductions
 *   rec.submit();
 *   await device.queue.onSubmittedWorkDone(); // let the work finish before the device goes
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export function wholeReversibleGradient(
  problem: GpuStateProblem,
  times: ArrayLike<number>,
  checkpointEvery = 0,
): GpuGradientRun {
  const { ctx, mlp, scheme, outputs } = problem;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) {
    throw new RangeError(
      `Invalid checkpointEvery: got ${checkpointEvery}; expected an integer >= 0 (0: never).`,
    );
  }
  const steps = times.length - 1;
  const batch = mlp.batch;
  // checkpointEvery: the exact states at K, 2K, … (< N), stored by the forward kernel and
  // restored on the way back, as the per-step form does
  const at = new Array<number>(steps + 1).fill(-1);
  const stored = restoredStates(steps, checkpointEvery);
  for (let k = 0; k < stored; k++) at[(k + 1) * checkpointEvery] = k;
  const slots = stored > 0
    ? ctx.arena("whole.checkpoints", [snapshotBytes(stored, batch, mlp.mlp.dim) / 4])[0]
    : null;
  const base = wholeBase(problem, times, slots === null ? {} : { snapshots: { slots, at } });
  const { stepTable, g } = base;
  const backwardKernel = ctx.kernel({
    name: slots === null ? "whole.backward" : "whole.backward.restore",
    bindings: bindingsOf(
      ["p", "steps", "state", "bar", "g", "outputs", ...(slots === null ? [] : ["slots"])],
      ["state", "bar", "g"],
    ),
    header: base.backwardHeader,
    code: linearMain(
      batch,
      `  let b = i;
  var y: array<f32, DIM>;
  var z: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) {
    y[e] = state[b * DIM + e];
    z[e] = state[ZOFF + b * DIM + e];
  }
  var c = cotangents_at_end(b);
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
    c = back_through(n, inputs, c, b);${
        slots === null ? "" : `
    let k = snap_at(n);
    if (k >= 0) {
      let at = checkpoint_at(u32(k), b);
      for (var e = 0u; e < DIM; e++) { y[e] = slots[at + e]; z[e] = slots[at + DIM + e]; }
    }`
      }
  }
  write_bar(b, c);
  for (var e = 0u; e < DIM; e++) {
    state[b * DIM + e] = y[e];
    state[ZOFF + b * DIM + e] = z[e];
  }`,
    ),
  });
  const backward: Op[] = [{
    kernel: backwardKernel,
    group: ctx.bind(backwardKernel, [
      problem.params,
      stepTable,
      scheme.state,
      scheme.bar,
      g,
      outputs.region().slice,
      ...(slots === null ? [] : [slots]),
    ]),
    groups: linearGroups(batch, 64),
  }];
  // the per-row gradients; the step table holds the grid's times, as the
  // per-step form's call table does, and is not counted (neither is that)
  return wholeRun(
    problem,
    base,
    "reversible",
    4 * (g.length + (slots === null ? 0 : slots.length)),
    backward,
  );
}
