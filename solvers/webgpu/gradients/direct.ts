/**
 * Direct backpropagation ("store everything", numerics.md §3) on the GPU;
 * the mirror of solvers/gradients/direct.ts. The forward solve tapes every
 * step's stage values (stage inputs, layer outputs, kept pre-activations
 * and stage derivatives of both increments); the backward pass restores
 * them step by step (buffer copies, no re-evaluation of `f`) and replays the
 * step VJPs. Exact, with memory O(N).
 *
 * @module
 */

import type { Slice } from "../runtime/context.ts";
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
 * The direct gradient method.
 *
 * @param problem The solve.
 * @returns The method's forward and backward passes.
 * @throws {RangeError} When the tape would not fit in one GPU buffer.
 *
 * @example
 * ```ts
 * import { directGradient } from "./direct.ts";
 * import assert from "node:assert/strict";
 * assert.equal(directGradient.length, 1); // see solve.ts's gpuGradient for a run
 * ```
 */
export function directGradient(problem: GpuProblem): GpuGradientRun {
  const { ctx, calls, scheme } = problem;
  const steps = calls.steps;
  const fwd = scheme.forward.tape, bwd = scheme.backward.tape;
  const perStep = fwd.length + bwd.length;
  const bytes = steps * perStep * 4;
  const limit = ctx.device.limits.maxBufferSize;
  if (bytes > limit) {
    throw new RangeError(
      `Invalid gradient: "direct" needs a tape of ${bytes} bytes for ${steps} steps, over this ` +
        `device's largest buffer (${limit} bytes); use "reversible" or "checkpointed".`,
    );
  }
  const [tape] = ctx.arena("direct.tape", [steps * perStep], 0, false);
  const at = (n: number, which: 0 | 1): Slice => ({
    buffer: tape.buffer,
    offset: tape.offset + 4 * (n * perStep + (which === 0 ? 0 : fwd.length)),
    length: which === 0 ? fwd.length : bwd.length,
  });
  return {
    name: "direct",
    bytes: tape.length * 4,
    forward(rec) {
      rec.run(scheme.initOps(problem.y0), null);
      record(problem, rec, 0);
      for (let n = 0; n < steps; n++) {
        advance(problem, rec, n, n + 1, true);
        rec.copy(fwd, at(n, 0));
        rec.copy(bwd, at(n, 1));
      }
    },
    backward(rec, withY0 = false) {
      startBackward(problem, rec);
      for (let i = steps - 1; i >= 0; i--) {
        rec.copy(at(i, 0), fwd);
        rec.copy(at(i, 1), bwd);
        stepBackward(problem, rec, i);
      }
      finishAtStart(problem, rec, withY0);
    },
  };
}
