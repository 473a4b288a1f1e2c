/**
 * The reversible gradient of an adaptive solve on the GPU (numerics.md §2
 * and §4); the mirror of solvers/gradients/reversible.ts with adaptive steps.
 * The forward pass records `maxSteps` trial steps (adaptive.ts closes them
 * once the solve is done) and writes the outputs at `ts` by interpolation;
 * the backward pass walks the accepted steps back from the last one, each
 * step rebuilt by the scheme's exact inverse from the stored step times,
 * with the interpolated outputs' cotangents entering at both ends of each
 * interval (interpolation.ts). Memory: the scheme's `(y, z)`, cotangents,
 * one step's stage values, and the accepted times (one `f32` per step).
 *
 * @module
 */

import type { GpuAdaptive } from "../adaptive.ts";
import type { GpuIncrement } from "../increment.ts";
import type { GpuInterpolation } from "../interpolation.ts";
import type { GpuGradientRun, GpuProblem } from "./problem.ts";
import { Recorder } from "../recorder.ts";

/**
 * The adaptive steps' parts of a problem.
 *
 * @example
 * ```ts
 * import type { AdaptiveParts } from "./adaptive.ts";
 * import assert from "node:assert/strict";
 *
 * const steps = (p: AdaptiveParts) => p.adaptive.setup.controller.maxSteps;
 * assert.equal(typeof steps, "function"); // see GpuSolver with `adaptive`
 * ```
 */
export interface AdaptiveParts {
  /** The controller. */
  readonly adaptive: GpuAdaptive;
  /** The interpolation kernels. */
  readonly interpolation: GpuInterpolation;
  /** Euler increment evaluating `f(t_A, ·)`. */
  readonly fieldA: GpuIncrement;
  /** Euler increment evaluating `f(t_B, ·)`. */
  readonly fieldB: GpuIncrement;
  /** Whether slot 0 holds `y(t0)`. */
  readonly saveT0: boolean;
}

/**
 * The reversible gradient method of an adaptive solve.
 *
 * @param problem The solve's buffers and kernels (`calls` from the controller).
 * @param parts The controller, the interpolation and the two field evaluators.
 * @returns The method.
 *
 * @example A gradient with adaptive steps, as the CPU's on the same accepted grid
 * ```ts
 * import { gpuGradient } from "../solve.ts";
 * import { findGpuAdapter } from "../device.ts";
 * import { Mlp } from "../../mlp.ts";
 * import { pid } from "../../../solvers/controller.ts";
 * import { bosh3 } from "../../../solvers/tableaux.ts";
 * import { reversible, solve } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const mlp = new Mlp({ dim: 1, widths: [] });
 *   const params = Float64Array.of(-1, 0.5);
 *   const g = await gpuGradient(device, {
 *     mlp, params, tableau: bosh3, t1: 1, y0: Float64Array.of(1),
 *     adaptive: { controller: pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 100 }), ts: [0.3, 1] },
 *     cotangents: Float64Array.of(0, 1, 1), // y(0), y(0.3), y(1)
 *   });
 *   const cpu = solve({
 *     field: mlp, params, y0: Float64Array.of(1), scheme: reversible(bosh3),
 *     grid: g.adaptive!.times, saveAt: { t0: true, ts: [0.3, 1] },
 *     gradient: "direct",
 *   }).backward(Float64Array.of(0, 1, 1));
 *   assert.ok(Math.abs(g.params[0] - cpu.params[0]) < 1e-4 * Math.abs(cpu.params[0]));
 *   device.destroy();
 * }
 * ```
 */
export function adaptiveReversibleGradient(
  problem: GpuProblem,
  parts: AdaptiveParts,
): GpuGradientRun {
  const { scheme, outputs, y0, mlp, partials, paramsBar, y0Bar } = problem;
  const { adaptive, interpolation, fieldA, fieldB, saveT0 } = parts;
  const maxSteps = adaptive.setup.controller.maxSteps;
  const calls = adaptive.calls;
  const fBar = interpolation.fBar;
  // f(t_{n+1}, y_{n+1}) is the first stage of the step's Ψ_{−h}(t_{n+1}, y_{n+1})
  // when c_1 = 0 (every explicit method shipped): the forward pass reuses it
  const reuse = adaptive.setup.tableau.c[0] === 0 && scheme.backward.evaluated[0];
  const endField = reuse ? scheme.backward : fieldB;
  const ops = {
    write: interpolation.forwardOps(adaptive.yA, fieldA, scheme.y, endField),
    sideB: interpolation.sideVjpOps("B", scheme.yBar),
    fieldB: interpolation.addFieldVjpOps(fieldB, scheme.yBar),
    sideA: interpolation.sideVjpOps("A", scheme.yBar),
    fieldA: interpolation.addFieldVjpOps(fieldA, scheme.yBar),
  };
  /** One trial step, forward. */
  const trial = (rec: Recorder) =>
    adaptive.recordTrial(rec, () => {
      rec.run(fieldA.evaluateOps(adaptive.yA), adaptive.pointA);
      if (!reuse) rec.run(fieldB.evaluateOps(scheme.y), adaptive.pointB);
      rec.run(ops.write, null);
    });
  /** One step of the walk back. */
  const stepBack = (rec: Recorder) => {
    adaptive.recordBackStep(rec);
    // outputs of [t_m, t_{m+1}] through y_{m+1} and f(t_{m+1}, y_{m+1})
    rec.gated(adaptive.outputGate, () => {
      rec.run(fieldB.evaluateOps(scheme.y), adaptive.pointB);
      rec.run(ops.sideB, null);
      rec.run(fieldB.vjpOps(fBar, 1), adaptive.pointB);
      rec.run(ops.fieldB, null);
    });
    rec.gated(adaptive.stepGate, () => {
      scheme.inverse(rec, calls, 0);
      scheme.stepVjp(rec, calls, 0);
    });
    // and through y_m and f(t_m, y_m)
    rec.gated(adaptive.outputGate, () => {
      rec.run(fieldA.evaluateOps(scheme.y), adaptive.pointA);
      rec.run(ops.sideA, null);
      rec.run(fieldA.vjpOps(fBar, 1), adaptive.pointA);
      rec.run(ops.fieldA, null);
    });
  };
  // Register every gated grid now, before anything is submitted (gate.ts).
  const dry = new Recorder(problem.ctx, { dry: true });
  trial(dry);
  stepBack(dry);
  adaptive.stepGate.seal();
  adaptive.outputGate.seal();
  return {
    name: "reversible",
    bytes: 4 * (adaptive.times.length + adaptive.backup.length + interpolation.fBar.length),
    forward(rec) {
      rec.run(scheme.initOps(y0), null);
      if (saveT0) rec.run(outputs.recordOps(scheme.y), adaptive.start);
      adaptive.recordStart(rec);
      for (let a = 0; a < maxSteps; a++) trial(rec);
    },
    backward(rec, withY0 = false) {
      rec.clear(scheme.bar);
      rec.clear(partials);
      adaptive.recordBackStart(rec);
      for (let m = 0; m < maxSteps; m++) stepBack(rec);
      if (saveT0) rec.run(outputs.addCotangentOps(scheme.yBar), adaptive.start);
      rec.run(mlp.reduceOps(partials, paramsBar), null);
      if (withY0) rec.run(scheme.initVjpOps(y0Bar), null);
    },
    failureOps: (out, index) => adaptive.failureOps(out, index),
  };
}
