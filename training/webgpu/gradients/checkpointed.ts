/**
 * Recursive binomial checkpointing (Griewank's treeverse / Revolve,
 * numerics.md §3) on the GPU; the mirror of
 * solvers/gradients/checkpointed.ts, with the same schedule
 * ({@link binomialSplit}) and the same default number of checkpoints
 * ({@link defaultCheckpoints}). The schedule is walked on the CPU while
 * recording; states are copied between the checkpoint slots and the
 * scheme's working state on the GPU.
 *
 * @module
 */

import { binomialSplit, defaultCheckpoints } from "../../../solvers/gradients/checkpointed.ts";
import type { Slice } from "../context.ts";
import type { Recorder } from "../recorder.ts";
import {
  advance,
  finishAtStart,
  type GpuGradientRun,
  type GpuProblem,
  record,
  startBackward,
  stepBackward,
} from "./problem.ts";

export { binomialSplit, defaultCheckpoints };

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
 * import assert from "node:assert/strict";
 * assert.equal(checkpointedGradient.length, 2); // see solve.ts's gpuGradient for a run
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
  const cursor = stateSlice("checkpoint.cursor");
  const positions: number[] = [];

  /** Advances a stored state from grid index `from` to `to` through the working state. */
  function advanceSlot(rec: Recorder, slot: Slice, from: number, to: number, save: boolean) {
    rec.copy(slot, work);
    advance(problem, rec, from, to, save);
    rec.copy(work, slot);
  }

  function storeChain(rec: Recorder): void {
    positions.length = 0;
    rec.run(scheme.initOps(problem.y0), null);
    record(problem, rec, 0);
    rec.copy(work, slots[0]);
    let at = 0, k = 0;
    positions.push(0);
    while (c - k >= 2 && steps - at >= 2) {
      const next = at + binomialSplit(steps - at, c - k);
      rec.copy(slots[k], slots[k + 1]);
      advanceSlot(rec, slots[k + 1], at, next, true);
      at = next;
      k++;
      positions.push(at);
    }
    rec.copy(slots[k], work);
    advance(problem, rec, at, steps, true);
  }

  /** Back-propagates through step `i`, whose start state is in `from`. */
  function reverseStep(rec: Recorder, i: number, from: Slice): void {
    rec.copy(from, work);
    scheme.step(rec, calls, i);
    stepBackward(problem, rec, i);
  }

  /** Reverses steps `[a, b)`; the state at `a` is in `slots[k]`, `free` slots from `k` on. */
  function reverse(rec: Recorder, a: number, b: number, k: number, free: number): void {
    if (b - a === 1) return reverseStep(rec, a, slots[k]);
    if (free === 1) {
      for (let i = b - 1; i >= a; i--) {
        rec.copy(slots[k], cursor);
        advanceSlot(rec, cursor, a, i, false);
        reverseStep(rec, i, cursor);
      }
      return;
    }
    const m = a + binomialSplit(b - a, free);
    rec.copy(slots[k], slots[k + 1]);
    advanceSlot(rec, slots[k + 1], a, m, false);
    reverse(rec, m, b, k + 1, free - 1);
    reverse(rec, a, m, k, free);
  }

  return {
    name: `checkpointed (c = ${c})`,
    bytes: (c + 1) * work.length * 4,
    forward(rec) {
      storeChain(rec);
    },
    backward(rec, withY0 = false) {
      if (positions.length === 0) {
        throw new Error("checkpointed backward() needs its forward() recorded first.");
      }
      startBackward(problem, rec);
      for (let k = positions.length - 1; k >= 0; k--) {
        const end = k === positions.length - 1 ? steps : positions[k + 1];
        reverse(rec, positions[k], end, k, c - k);
      }
      finishAtStart(problem, rec, withY0);
    },
  };
}
