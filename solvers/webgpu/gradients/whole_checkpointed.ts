/**
 * Recursive binomial checkpointing (numerics.md §3) in whole-solve
 * kernels: the forward kernel (whole_base.ts) stores each trajectory's
 * state at the checkpoints of the first sweep, and one backward kernel
 * walks the rest of the schedule — the same schedule, step for step, as
 * the per-step form (checkpointed.ts) and the CPU's. The schedule is
 * walked once on the CPU into a small program (`binomialSchedule`) that
 * every invocation runs: load or store a checkpoint, advance the state over
 * steps, reverse a step (its stage inputs recomputed, then its VJP and the
 * cotangent of its output).
 *
 * Checkpoints live per row in one buffer (`c × rows × 2·dim` values); the
 * working state, its cotangent and the stage values in each invocation's
 * own memory.
 *
 * @module
 */

import { binomialSchedule, SCHEDULE } from "../../gradients/checkpointed.ts";
import { checkpointCount } from "./checkpointed.ts";
import { linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";
import type { GpuGradientRun, GpuStateProblem } from "./problem.ts";
import { bindingsOf, snapshotBytes, wholeBase, wholeRun } from "./whole_base.ts";

/**
 * The checkpointed gradient method in whole-solve kernels.
 *
 * @param problem The solve (fixed steps; a fused network).
 * @param times The grid `t_0 … t_N` (float64).
 * @param checkpoints Stored states `c ≥ 1`, the initial one included
 *   (default: `defaultCheckpoints(N)`).
 * @returns The method's forward and backward passes.
 * @throws {RangeError} When the network is not fused, or for a bad `checkpoints`.
 *
 * @example `GpuSolver` builds it for the checkpointed gradient of a narrow network
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
 *     gradient: "checkpointed",
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
export function wholeCheckpointedGradient(
  problem: GpuStateProblem,
  times: ArrayLike<number>,
  checkpoints?: number,
): GpuGradientRun {
  const { ctx, mlp, scheme, outputs } = problem;
  const steps = times.length - 1;
  const c = checkpointCount(steps, checkpoints);
  if (steps >= 1 << 24) {
    throw new RangeError(
      `Invalid steps: got ${steps}; the whole-solve checkpointed gradient takes fewer than 2^24.`,
    );
  }
  const batch = mlp.batch, dim = mlp.mlp.dim;
  const { positions, program } = binomialSchedule(steps, c);
  const at = new Array(steps + 1).fill(-1);
  positions.forEach((n, k) => (at[n] = k));
  const [slots] = ctx.arena("whole.checkpoints", [snapshotBytes(c, batch, dim) / 4]);
  const base = wholeBase(problem, times, { snapshots: { slots, at } });
  const code = new Float64Array(1 + 3 * program.length);
  code[0] = program.length;
  program.forEach((op, p) => code.set(op, 1 + 3 * p));
  const [prog] = ctx.arena("whole.program", [code.length]);
  ctx.write(prog, code);
  const kernel = ctx.kernel({
    name: "whole.checkpointed.backward",
    bindings: bindingsOf(["p", "steps", "prog", "slots", "bar", "g", "outputs"], ["bar", "g"]),
    header: base.backwardHeader,
    code: linearMain(
      batch,
      `  let b = i;
  var y: array<f32, DIM>;
  var z: array<f32, DIM>;
  var c = cotangents_at_end(b);
  let count = u32(prog[0]);
  for (var pc = 0u; pc < count; pc++) {
    let op = u32(prog[1u + 3u * pc]);
    let a = u32(prog[2u + 3u * pc]);
    let to = u32(prog[3u + 3u * pc]);
    let at = checkpoint_at(a, b);
    if (op == ${u32(SCHEDULE.load)}) {
      for (var e = 0u; e < DIM; e++) { y[e] = slots[at + e]; z[e] = slots[at + DIM + e]; }
    } else if (op == ${u32(SCHEDULE.store)}) {
      for (var e = 0u; e < DIM; e++) { slots[at + e] = y[e]; slots[at + DIM + e] = z[e]; }
    } else if (op == ${u32(SCHEDULE.advance)}) {
      for (var n = a; n < to; n++) {
        let s = step_kept(n, y, z);
        y = s.y;
        z = s.z;
      }
    } else {
      c = back_through(a, step_kept(a, y, z).inputs, c, b);
    }
  }
  write_bar(b, c);`,
    ),
  });
  // the checkpoints and the per-row gradients
  return wholeRun(problem, base, `checkpointed (c = ${c})`, 4 * (slots.length + base.g.length), [{
    kernel,
    group: ctx.bind(kernel, [
      problem.params,
      base.stepTable,
      prog,
      slots,
      scheme.bar,
      base.g,
      outputs.region().slice,
    ]),
    groups: linearGroups(batch, 64),
  }]);
}
