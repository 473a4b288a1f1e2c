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
 *   const run = directGradient(solver.steppedProblem!);
 *   assert.equal(run.name, "direct");
 *   assert.ok(run.bytes > 0); // the tape of every step's stage values
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
