/**
 * Recursive binomial checkpointing (Griewank's treeverse / Revolve,
 * numerics.md §3) on the GPU; the mirror of
 * solvers/gradients/checkpointed.ts, walking the same schedule
 * ({@link binomialWalk}) with the same default number of checkpoints
 * ({@link defaultCheckpoints}). The schedule is walked on the CPU while
 * recording; states are copied between the checkpoint slots and the
 * scheme's working state on the GPU.
 *
 * @module
 */

import {
  binomialPositions,
  binomialWalk,
  defaultCheckpoints,
  SCHEDULE,
} from "../../gradients/checkpointed.ts";
import type { Slice } from "../runtime/context.ts";
import type { Recorder } from "../runtime/recorder.ts";
import {
  advance,
  finishAtStart,
  type GpuGradientRun,
  type GpuProblem,
  record,
  startBackward,
  stepBackward,
} from "./problem.ts";

/**
 * Checkpoints a GPU checkpointed gradient of fixed steps holds:
 * `min(requested, steps + 1)`, the requested number defaulting to
 * {@link defaultCheckpoints}.
 *
 * @param steps Steps.
 * @param requested Checkpoints asked for (default `defaultCheckpoints(steps)`).
 * @returns The number.
 * @throws {RangeError} When `requested` is not an integer ≥ 1.
 *
 * @example
 * ```ts
 * import { checkpointCount } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkpointCount(1000), 44);
 * assert.equal(checkpointCount(3, 10), 4);
 * ```
 */
export function checkpointCount(steps: number, requested?: number): number {
  const c = requested ?? defaultCheckpoints(steps);
  if (!Number.isInteger(c) || c < 1) {
    throw new RangeError(`Invalid checkpoints: got ${c}; expected an integer >= 1.`);
  }
  return Math.min(c, steps + 1);
}

/**
 * The checkpointed gradient method.
 *
 * @param problem The solve.
 * @param checkpoints Number of stored states `c ≥ 1`, the initial one included
 *   (default {@link defaultCheckpoints}).
 * @returns The method's forward and backward passes.
 *
 * @example
 * ```ts
 * import { checkpointedGradient } from "./checkpointed.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { reversible, rk4 } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1 to t = 1 in 10 steps
 *   const solver = GpuSolver.create(device, {
 *     field: { dim: 1, widths: [], activation: "tanh", finalActivation: "identity", timeDependent: false },
 *     params: Float64Array.of(-1, 0), y0: Float64Array.of(1), scheme: reversible(rk4),
 *     t1: 1, steps: 10, saveAt: { t0: true, steps: true }, solveKernel: "steps",
 *   });
 *   const rec = new Recorder(solver.ctx);
 *   // L = y(1): a cotangent of 1 on the final output
 *   solver.setData(Float64Array.from({ length: 11 }, (_, n) => (n === 10 ? 1 : 0)));
 *   // 3 stored states [y, z], the initial one included
 *   const run = checkpointedGradient(solver.steppedProblem!, 3);
 *   assert.equal(run.name, "checkpointed (c = 3)");
 *   assert.equal(run.bytes, 3 * solver.steppedProblem!.scheme.state.length * 4);
 *   assert.throws(() => run.backward(rec), /needs its forward\(\) recorded first/);
 *   run.forward(rec);
 *   run.backward(rec, true);
 *   rec.submit();
 *   // y(1) = y0 e^w + b (e^w − 1) / w
 *   const [dw, db] = await solver.readParamsBar();
 *   assert.ok(Math.abs(dw - Math.exp(-1)) < 1e-4);
 *   assert.ok(Math.abs(db - (1 - Math.exp(-1))) < 1e-4);
 *   const [dy0] = await solver.ctx.read(solver.steppedProblem!.y0Bar);
 *   assert.ok(Math.abs(dy0 - Math.exp(-1)) < 1e-4);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export function checkpointedGradient(problem: GpuProblem, checkpoints?: number): GpuGradientRun {
  const { ctx, calls, scheme } = problem;
  const steps = calls.steps;
  const c = checkpointCount(steps, checkpoints);
  const work = scheme.state;
  const stateSlice = (label: string): Slice => {
    const [y, z] = ctx.arena(label, scheme.stateLengths);
    return { buffer: y.buffer, offset: y.offset, length: (z.offset - y.offset) / 4 + z.length };
  };
  const slots: Slice[] = [];
  for (let k = 0; k < c; k++) slots.push(stateSlice(`checkpoint${k}`));
  const positions = binomialPositions(steps, c);
  let stored = false;

  /** The forward sweep: the checkpoints at `positions`, then the rest of the solve. */
  function storeChain(rec: Recorder): void {
    rec.run(scheme.initOps(problem.y0), null);
    record(problem, rec, 0);
    for (let k = 0; k < positions.length; k++) {
      if (k > 0) advance(problem, rec, positions[k - 1], positions[k], true);
      rec.copy(work, slots[k]);
    }
    advance(problem, rec, positions[positions.length - 1], steps, true);
  }

  /** Records one instruction of the walk back, on the scheme's working state. */
  function run(rec: Recorder, op: number, a: number, b: number): void {
    if (op === SCHEDULE.load) rec.copy(slots[a], work);
    else if (op === SCHEDULE.store) rec.copy(work, slots[a]);
    else if (op === SCHEDULE.advance) advance(problem, rec, a, b, false);
    else {
      scheme.step(rec, calls, a);
      stepBackward(problem, rec, a);
    }
  }

  return {
    name: `checkpointed (c = ${c})`,
    bytes: c * work.length * 4,
    forward(rec) {
      storeChain(rec);
      stored = true;
    },
    backward(rec, withY0 = false) {
      if (!stored) {
        throw new Error("checkpointed backward() needs its forward() recorded first.");
      }
      startBackward(problem, rec);
      binomialWalk(steps, c, (op, a, b) => run(rec, op, a, b));
      finishAtStart(problem, rec, withY0);
    },
  };
}
