/**
 * Direct backpropagation in whole-solve kernels: the forward kernel
 * (whole_base.ts) tapes, for every step, both increments' stage inputs
 * (`Y_i` of `Ψ_h(t_n, z_n)` and of `Ψ_{−h}(t_{n+1}, y_{n+1})`), and one
 * backward kernel runs each trajectory's steps back from the tape — no
 * state is rebuilt or recomputed, as in the per-step form (direct.ts) and
 * the CPU's. The tape is `N × 2 × S × dim` values per trajectory, laid out
 * so that neighbouring trajectories write neighbouring values.
 *
 * @module
 */

import { linearGroups, linearMain } from "../runtime/wgsl.ts";
import type { GpuGradientRun, GpuStateProblem } from "./problem.ts";
import { bindingsOf, wholeBase, wholeRun } from "./whole_base.ts";

/**
 * Bytes of the tape of a whole-solve direct gradient: `steps × rows × 2 × S × dim` values.
 *
 * @param steps Steps `N`.
 * @param rows Trajectories.
 * @param stages Stages `S` of the tableau.
 * @param dim State dimension.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { wholeTapeBytes } from "./whole_direct.ts";
 * import assert from "node:assert/strict";
 * assert.equal(wholeTapeBytes(1000, 1, 4, 2), 64_000);
 * ```
 */
export function wholeTapeBytes(steps: number, rows: number, stages: number, dim: number): number {
  return 4 * steps * rows * 2 * stages * dim;
}

/**
 * The direct gradient method in whole-solve kernels.
 *
 * @param problem The solve (fixed steps; a fused network).
 * @param times The grid `t_0 … t_N` (float64).
 * @returns The method's forward and backward passes.
 * @throws {RangeError} When the network is not fused.
 *
 * @example `GpuSolver` builds it for the direct gradient of a narrow network
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
 *   const mlp = new Mlp({ dim: 2, widths: [8] });
 *   const solver = GpuSolver.create(device, {
 *     field: mlp, params: mlp.init(0), scheme: reversible(rk4), t1: 1, steps: 100,
 *     y0: Float64Array.of(1, 0), saveAt: { t0: true, steps: true },
 *     gradient: "direct",
 *   });
 *   assert.equal(solver.solveKernel, "whole");
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
export function wholeDirectGradient(
  problem: GpuStateProblem,
  times: ArrayLike<number>,
): GpuGradientRun {
  const { ctx, mlp, scheme, outputs } = problem;
  const steps = times.length - 1;
  const batch = mlp.batch, dim = mlp.mlp.dim;
  const [tape] = ctx.arena("whole.tape", [
    wholeTapeBytes(steps, batch, scheme.tableau.stages, dim) / 4,
  ]);
  const base = wholeBase(problem, times, { tape });
  const kernel = ctx.kernel({
    name: "whole.direct.backward",
    bindings: bindingsOf(["p", "steps", "tape", "bar", "g", "outputs"], ["bar", "g"]),
    header: base.backwardHeader,
    code: linearMain(
      batch,
      `  let b = i;
  var c = cotangents_at_end(b);
  for (var m = 0u; m < N_STEPS; m++) {
    let n = N_STEPS - 1u - m;
    var inputs: array<array<array<f32, DIM>, S>, 2>;
    for (var k = 0u; k < 2u; k++) {
      for (var st = 0u; st < stages(); st++) {
        for (var e = 0u; e < DIM; e++) { inputs[k][st][e] = tape[tape_at(n, k, st, e, b)]; }
      }
    }
    c = back_through(n, inputs, c, b);
  }
  write_bar(b, c);`,
    ),
  });
  // the tape and the per-row gradients
  return wholeRun(problem, base, "direct", 4 * (tape.length + base.g.length), [{
    kernel,
    group: ctx.bind(kernel, [
      problem.params,
      base.stepTable,
      tape,
      scheme.bar,
      base.g,
      outputs.region().slice,
    ]),
    groups: linearGroups(batch, 64),
  }]);
}
