/**
 * The reversible gradient on the GPU (numerics.md §2, backward pass); the
 * mirror of solvers/gradients/reversible.ts. The forward solve keeps only
 * its final state (the scheme's working state); the backward pass rebuilds
 * each earlier state with the scheme's exact inverse, which also leaves the
 * stage values the step's VJP needs, and back-propagates through the step
 * just rebuilt. Memory does not depend on the number of steps.
 *
 * In f32 the rebuilt states drift from the true ones faster than in
 * float64 (measurements in training/webgpu/mod.ts); optionally, the
 * state every `checkpointEvery` steps is stored during the forward solve
 * and restored during the backward pass, as on the CPU.
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
 * The reversible gradient method.
 *
 * @param problem The solve.
 * @param checkpointEvery Store the state every this many steps (0: never),
 *   to bound the f32 drift of the reconstruction at O(N / K) memory.
 * @returns The method's forward and backward passes.
 *
 * @example `GpuSolver` builds it for `gradient: "reversible"`
 * ```ts
 * import { reversibleGradient } from "./reversible.ts";
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
 *   // The state [y, z] stored at step 5 bounds the f32 drift of the rebuild.
 *   const run = reversibleGradient(solver.steppedProblem!, 5);
 *   assert.equal(run.name, "reversible");
 *   assert.equal(run.bytes, solver.steppedProblem!.scheme.state.length * 4); // one state
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
export function reversibleGradient(problem: GpuProblem, checkpointEvery = 0): GpuGradientRun {
  const { ctx, calls, scheme, y0 } = problem;
  const steps = calls.steps;
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) {
    throw new RangeError(
      `Invalid checkpointEvery: got ${checkpointEvery}; expected an integer >= 0 (0: never).`,
    );
  }
  const stored: Slice[] = [];
  if (checkpointEvery > 0) {
    for (let i = checkpointEvery; i < steps; i += checkpointEvery) {
      const [y, z] = ctx.arena(`reversible.checkpoint${i}`, scheme.stateLengths);
      stored.push({
        buffer: y.buffer,
        offset: y.offset,
        length: (z.offset - y.offset) / 4 + z.length,
      });
    }
  }
  return {
    name: "reversible",
    bytes: stored.reduce((sum, s) => sum + s.length * 4, 0),
    forward(rec) {
      rec.run(scheme.initOps(y0), null);
      record(problem, rec, 0);
      let from = 0;
      stored.forEach((slot, k) => {
        const to = (k + 1) * checkpointEvery;
        advance(problem, rec, from, to, true);
        rec.copy(scheme.state, slot);
        from = to;
      });
      advance(problem, rec, from, steps, true);
    },
    backward(rec, withY0 = false) {
      startBackward(problem, rec);
      for (let i = steps - 1; i >= 0; i--) {
        scheme.inverse(rec, calls, i);
        stepBackward(problem, rec, i);
        if (checkpointEvery > 0 && i > 0 && i % checkpointEvery === 0) {
          rec.copy(stored[i / checkpointEvery - 1], scheme.state);
        }
      }
      finishAtStart(problem, rec, withY0);
    },
  };
}
