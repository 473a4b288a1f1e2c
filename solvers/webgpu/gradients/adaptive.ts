/**
 * The reversible gradient of an adaptive solve on the GPU (numerics.md §2
 * and §4); the mirror of solvers/gradients/reversible.ts with adaptive steps.
 * The forward pass records `adaptive.trials` trial steps (`maxSteps` unless
 * lowered; adaptive.ts closes them once the solve is done) and writes the outputs at `ts` by interpolation;
 * the backward pass walks the accepted steps back from the last one, each
 * step rebuilt by the scheme's exact inverse from the stored step times,
 * with the interpolated outputs' cotangents entering at both ends of each
 * interval (interpolation.ts). Memory: the scheme's `(y, z)`, cotangents,
 * one step's stage values, and the accepted times (one `f32` per step).
 *
 * @module
 */

import type { GpuAdaptive } from "../adaptive.ts";
import { CONTROL } from "../adaptive_layout.ts";
import type { Slice } from "../runtime/context.ts";
import type { Op } from "../runtime/recorder.ts";
import { CallTable } from "../runtime/calls.ts";
import { linearGroups, linearMain, u32 } from "../runtime/wgsl.ts";
import type { GpuIncrement } from "../increment.ts";
import type { GpuInterpolation } from "../interpolation.ts";
import type { GpuGradientRun, GpuProblem } from "./problem.ts";
import { Recorder } from "../runtime/recorder.ts";

/**
 * The adaptive steps' parts of a problem.
 *
 * @example
 * ```ts
 * import { adaptiveReversibleGradient, type AdaptiveParts } from "./adaptive.ts";
 * import { GpuInterpolation } from "../interpolation.ts";
 * import { GpuSolver } from "../solve.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { pid } from "../../controller.ts";
 * import { bosh3 } from "../../tableaux.ts";
 * import { reversible } from "../../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1; outputs at 0.3 and 1
 *   const solver = GpuSolver.create(device, {
 *     field: new Mlp({ dim: 1, widths: [] }), params: Float64Array.of(-1, 0), y0: Float64Array.of(1),
 *     scheme: reversible(bosh3), t1: 1, controller: pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 64 }),
 *     saveAt: { t0: true, ts: [0.3, 1] },
 *   });
 *   const p = solver.steppedProblem!, a = solver.adaptive!;
 *   // The parts as GpuSolver assembles them; the outputs after y(t0) start at slot 1
 *   const parts: AdaptiveParts = {
 *     adaptive: a, fieldA: a.setup.fieldA, fieldB: a.setup.fieldB, saveT0: solver.saveT0,
 *     interpolation: new GpuInterpolation(solver.ctx, a, p.outputs, 1),
 *   };
 *   const run = adaptiveReversibleGradient(p, parts);
 *   solver.setData(Float64Array.of(0, 0, 1)); // L = y(1)
 *   const rec = new Recorder(solver.ctx);
 *   run.forward(rec);
 *   run.backward(rec, true);
 *   rec.submit();
 *   const ys = await solver.readYs();
 *   [0, 0.3, 1].forEach((t, k) => assert.ok(Math.abs(ys[k] - Math.exp(-t)) < 1e-4));
 *   // y(1) = y0 e^w + b (e^w − 1) / w
 *   const [dw, db] = await solver.readParamsBar();
 *   assert.ok(Math.abs(dw - Math.exp(-1)) < 1e-3);
 *   assert.ok(Math.abs(db - (1 - Math.exp(-1))) < 1e-3);
 *   solver.destroy();
 *   device.destroy();
 * }
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
 * import { gpuGradient } from "../one_shot.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { pid } from "../../controller.ts";
 * import { bosh3 } from "../../tableaux.ts";
 * import { reversible, solve } from "../../../mod.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const mlp = new Mlp({ dim: 1, widths: [] });
 *   const params = Float64Array.of(-1, 0.5);
 *   const g = await gpuGradient(device, {
 *     field: mlp, params, scheme: reversible(bosh3), t1: 1, y0: Float64Array.of(1),
 *     controller: pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 100 }), saveAt: { t0: true, ts: [0.3, 1] },
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
  const { scheme } = problem;
  const { adaptive, interpolation } = parts;
  return adaptiveRun(problem, parts, {
    name: "reversible",
    bytes: 4 * (adaptive.times.length + adaptive.backup.length + interpolation.fBar.length),
    // y_{m+1} is in the scheme's state: the inverse rebuilds y_m with the stage values
    stepBack: (rec) => {
      scheme.inverse(rec, adaptive.calls, 0);
      scheme.stepVjp(rec, adaptive.calls, 0);
    },
  });
}

/**
 * The direct gradient of an adaptive solve: every accepted step's stage
 * values and end state are taped during the forward pass (at the step's
 * index, which only the GPU knows: kernels write and read the tape), and
 * the backward pass replays them instead of inverting the scheme. Memory:
 * `maxSteps` steps' tape, allocated up front.
 *
 * @param problem The solve's buffers and kernels (`calls` from the controller).
 * @param parts The controller, the interpolation and the two field evaluators.
 * @returns The method.
 * @throws {RangeError} When the tape exceeds the device's binding limit.
 *
 * @example Same gradient as the reversible method's on the same steps
 * ```ts
 * import { gpuGradient } from "../one_shot.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { pid } from "../../controller.ts";
 * import { bosh3 } from "../../tableaux.ts";
 * import { reversible } from "../../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const options = {
 *     field: new Mlp({ dim: 1, widths: [] }), params: Float64Array.of(-1, 0.5),
 *     scheme: reversible(bosh3), t1: 1, y0: Float64Array.of(1), cotangents: Float64Array.of(0, 1, 1),
 *     controller: pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 100 }), saveAt: { t0: true, ts: [0.3, 1] },
 *   };
 *   const direct = await gpuGradient(device, { ...options, gradient: "direct" });
 *   const rev = await gpuGradient(device, options);
 *   assert.deepEqual(direct.adaptive!.times, rev.adaptive!.times);
 *   assert.ok(Math.abs(direct.params[0] - rev.params[0]) < 1e-5 * Math.abs(rev.params[0]));
 *   device.destroy();
 * }
 * ```
 */
export function adaptiveDirectGradient(problem: GpuProblem, parts: AdaptiveParts): GpuGradientRun {
  const { ctx, scheme, y0 } = problem;
  const { adaptive } = parts;
  const C = CONTROL;
  const fwd = scheme.forward.tape, bwd = scheme.backward.tape, y = scheme.y;
  const F = fwd.length, B = bwd.length, N = y.length;
  const per = F + B + N;
  const [tape] = ctx.arena("adaptive.direct.tape", [adaptive.setup.controller.maxSteps * per]);
  const kernel = (name: string, body: string, size: number, slices: Slice[]): Op[] => {
    const k = ctx.kernel({
      name: `adaptive.direct.${name}`,
      bindings: ["ctl", "fwd", "bwd", "y", "y0", "tape"].map((n) => ({
        name: n,
        access: "read_write" as const,
      })),
      code: linearMain(size, body),
    });
    return [{ kernel: k, group: ctx.bind(k, slices), groups: linearGroups(size, 64) }];
  };
  const slices = [adaptive.control, fwd, bwd, y, y0, tape];
  const P = u32(per), FF = u32(F), FB = u32(F + B);
  const ops = {
    // after an accepted trial: step m = accepted − 1 → [Ψ_h's stages, Ψ_{−h}'s, y_{m+1}]
    store: kernel(
      "store",
      `  if (ctl[${C.active}] != 1.0) { return; }
  let at = (u32(ctl[${C.accepted}]) - 1u) * ${P} + i;
  if (i < ${FF}) { tape[at] = fwd[i]; } else if (i < ${FB}) { tape[at] = bwd[i - ${FF}]; } else { tape[at] = y[i - ${FB}]; }`,
      per,
      slices,
    ),
    // step m's stage values and y_{m+1}, for its VJP and the outputs at its end
    load: kernel(
      "load",
      `  let at = u32(ctl[${C.cursor}]) * ${P} + i;
  if (i < ${FF}) { fwd[i] = tape[at]; } else if (i < ${FB}) { bwd[i - ${FF}] = tape[at]; } else { y[i - ${FB}] = tape[at]; }`,
      per,
      slices,
    ),
    // y_m (y_0 for the first step), for the outputs at the interval's start
    start: kernel(
      "start",
      `  let m = u32(ctl[${C.cursor}]);
  if (m == 0u) { y[i] = y0[i]; } else { y[i] = tape[(m - 1u) * ${P} + ${FB} + i]; }`,
      N,
      slices,
    ),
  };
  return adaptiveRun(problem, parts, {
    name: "direct",
    bytes: 4 * (tape.length + adaptive.times.length + adaptive.backup.length),
    afterTrial: (rec) => rec.run(ops.store, null),
    // step m's stage values and y_{m+1} come from the tape (loadEnd)
    loadEnd: (rec) => rec.run(ops.load, null),
    stepBack: (rec) => scheme.stepVjp(rec, adaptive.calls, 0),
    beforeStart: (rec) => rec.run(ops.start, null),
  });
}

/**
 * The checkpointed gradient of an adaptive solve, by two-level
 * checkpointing: the forward pass stores the state at the start of every
 * segment of `K` accepted steps (`c` checkpoints, `K = ⌈maxSteps / c⌉`);
 * the walk back recomputes each segment from its checkpoint, storing its
 * `K` states, then takes each step's VJP after evaluating it once more from
 * its stored state. Memory: `c + K` states; work: about three forward
 * sweeps. (The CPU's checkpointed method knows N and places its
 * checkpoints by the binomial schedule; the GPU's step count is known to
 * the GPU only, so the segments are laid out for `maxSteps`.)
 *
 * @param problem The solve's buffers and kernels (`calls` from the controller).
 * @param parts The controller, the interpolation and the two field evaluators.
 * @param checkpoints `c` (default `⌊−1.5 + √(2·maxSteps + ¼)⌋ + 1`, as the CPU's for N = maxSteps).
 * @returns The method.
 *
 * @example Same gradient as the reversible method's on the same steps
 * ```ts
 * import { gpuGradient } from "../one_shot.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { pid } from "../../controller.ts";
 * import { bosh3 } from "../../tableaux.ts";
 * import { reversible } from "../../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   const options = {
 *     field: new Mlp({ dim: 1, widths: [] }), params: Float64Array.of(-1, 0.5),
 *     scheme: reversible(bosh3), t1: 1, y0: Float64Array.of(1), cotangents: Float64Array.of(0, 1, 1),
 *     controller: pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 40 }), saveAt: { t0: true, ts: [0.3, 1] },
 *   };
 *   const ckpt = await gpuGradient(device, { ...options, gradient: { method: "checkpointed", checkpoints: 4 } });
 *   const rev = await gpuGradient(device, options);
 *   assert.ok(Math.abs(ckpt.params[0] - rev.params[0]) < 1e-5 * Math.abs(rev.params[0]));
 *   device.destroy();
 * }
 * ```
 */
export function adaptiveCheckpointedGradient(
  problem: GpuProblem,
  parts: AdaptiveParts,
  checkpoints?: number,
): GpuGradientRun {
  const { ctx, scheme } = problem;
  const { adaptive } = parts;
  const C = CONTROL;
  const maxSteps = adaptive.setup.controller.maxSteps;
  const c = checkpoints ?? Math.floor(-1.5 + Math.sqrt(2 * maxSteps + 0.25)) + 1;
  if (!Number.isInteger(c) || c < 1) {
    throw new RangeError(`Invalid checkpoints: got ${checkpoints}; expected an integer >= 1.`);
  }
  const K = Math.ceil(maxSteps / c);
  const span = scheme.state.length;
  const [stored, segment] = ctx.arena("adaptive.checkpointed", [c * span, K * span]);
  const index = new CallTable(
    ctx,
    Array.from({ length: maxSteps }, (_, m) => ({ t: 0, slot: m })),
  );
  const slices = [adaptive.control, adaptive.backup, scheme.state, stored, segment];
  const kernel = (name: string, body: string): Op[] => {
    const k = ctx.kernel({
      name: `adaptive.checkpointed.${name}`,
      bindings: ["ctl", "backup", "state", "stored", "segment"].map((n) => ({
        name: n,
        access: "read_write" as const,
      })),
      code: linearMain(span, body),
    });
    return [{ kernel: k, group: ctx.bind(k, slices), groups: linearGroups(span, 64) }];
  };
  const S = u32(span), KK = u32(K);
  const ops = {
    // after an accepted trial: the state before step m = accepted − 1 starts segment m / K
    store: kernel(
      "store",
      `  if (ctl[${C.active}] != 1.0) { return; }
  let m = u32(ctl[${C.accepted}]) - 1u;
  if (m % ${KK} == 0u) { stored[(m / ${KK}) * ${S} + i] = backup[i]; }`,
    ),
    // the segment's first state, from its checkpoint
    restore: kernel(
      "restore",
      `  state[i] = stored[(u32(ctl[${C.cursor}]) / ${KK}) * ${S} + i];`,
    ),
    // the state before step m, kept for the walk back
    keep: kernel("keep", `  segment[(u32(ctl[${C.cursor}]) % ${KK}) * ${S} + i] = state[i];`),
    // the state before step m, back
    recall: kernel("recall", `  state[i] = segment[(u32(ctl[${C.cursor}]) % ${KK}) * ${S} + i];`),
  };
  const calls = adaptive.calls;
  return adaptiveRun(problem, parts, {
    name: "checkpointed",
    bytes: 4 * (stored.length + segment.length + adaptive.times.length + adaptive.backup.length),
    afterTrial: (rec) => rec.run(ops.store, null),
    // at the last step of a segment: recompute the segment's states from its checkpoint
    beforeSelect: (rec, m, top) => {
      if (m % K !== K - 1 && m !== top) return;
      const first = m - (m % K);
      for (let j = first; j <= m; j++) {
        adaptive.recordIndexStep(rec, index.ref(j), false);
        rec.gated(adaptive.stepGate, () => {
          if (j === first) rec.run(ops.restore, null);
          rec.run(ops.keep, null);
          scheme.step(rec, calls, 0);
        });
      }
    },
    select: (rec, m) => adaptive.recordIndexStep(rec, index.ref(m), true),
    // step m once more from its state: its stage values, and y_{m+1}
    loadEnd: (rec) => {
      rec.run(ops.recall, null);
      scheme.step(rec, calls, 0);
    },
    stepBack: (rec) => scheme.stepVjp(rec, calls, 0),
    beforeStart: (rec) => rec.run(ops.recall, null),
  });
}

/** What distinguishes the adaptive methods; {@link adaptiveRun} does the rest. */
interface AdaptiveMethod {
  readonly name: string;
  readonly bytes: number;
  /** After every trial while the solve runs (gated). */
  readonly afterTrial?: (rec: Recorder) => void;
  /** Step m's VJP, leaving `y_m`'s cotangent in the scheme's (gated). */
  readonly stepBack: (rec: Recorder) => void;
  /** Puts y_{m+1} in the scheme's `y` before the end's outputs (gated by the outputs). */
  readonly loadEnd?: (rec: Recorder) => void;
  /** Puts y_m in the scheme's `y` before the start's outputs (gated by the outputs). */
  readonly beforeStart?: (rec: Recorder) => void;
  /** Records work before step m's turn in the walk back, which starts at `top` (default none). */
  readonly beforeSelect?: (rec: Recorder, m: number, top: number) => void;
  /** Selects step m (default: the controller's cursor walks back by one). */
  readonly select?: (rec: Recorder, m: number) => void;
}

/**
 * An adaptive gradient method: `adaptive.trials` trials forward with the outputs
 * interpolated, then the walk back over the accepted steps, the outputs'
 * cotangents entering at both ends of each interval.
 */
function adaptiveRun(
  problem: GpuProblem,
  parts: AdaptiveParts,
  method: AdaptiveMethod,
): GpuGradientRun {
  const { scheme, outputs, y0, mlp, partials, paramsBar, y0Bar } = problem;
  const { adaptive, interpolation, fieldA, fieldB, saveT0 } = parts;
  const maxSteps = adaptive.setup.controller.maxSteps;
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
    adaptive.recordTrial(
      rec,
      () => {
        rec.run(fieldA.evaluateOps(adaptive.yA), adaptive.pointA);
        if (!reuse) rec.run(fieldB.evaluateOps(scheme.y), adaptive.pointB);
        rec.run(ops.write, null);
      },
      method.afterTrial && (() => method.afterTrial!(rec)),
    );
  /** One step of the walk back. */
  const stepBack = (rec: Recorder, m: number, top: number) => {
    method.beforeSelect?.(rec, m, top);
    if (method.select) method.select(rec, m);
    else adaptive.recordBackStep(rec);
    if (method.loadEnd) rec.gated(adaptive.stepGate, () => method.loadEnd!(rec));
    // outputs of [t_m, t_{m+1}] through y_{m+1} and f(t_{m+1}, y_{m+1})
    rec.gated(adaptive.outputGate, () => {
      rec.run(fieldB.evaluateOps(scheme.y), adaptive.pointB);
      rec.run(ops.sideB, null);
      rec.run(fieldB.vjpOps(fBar, 1), adaptive.pointB);
      rec.run(ops.fieldB, null);
    });
    rec.gated(adaptive.stepGate, () => method.stepBack(rec));
    // and through y_m and f(t_m, y_m)
    rec.gated(adaptive.outputGate, () => {
      method.beforeStart?.(rec);
      rec.run(fieldA.evaluateOps(scheme.y), adaptive.pointA);
      rec.run(ops.sideA, null);
      rec.run(fieldA.vjpOps(fBar, 1), adaptive.pointA);
      rec.run(ops.fieldA, null);
    });
  };
  // Register every gated grid now, before anything is submitted (gate.ts).
  const dry = new Recorder(problem.ctx, { dry: true });
  trial(dry);
  stepBack(dry, maxSteps - 1, maxSteps - 1);
  adaptive.stepGate.seal();
  adaptive.outputGate.seal();
  return {
    name: method.name,
    bytes: method.bytes,
    forward(rec) {
      rec.run(scheme.initOps(y0), null);
      if (saveT0) rec.run(outputs.recordOps(scheme.y), adaptive.start);
      adaptive.recordStart(rec);
      for (let a = 0; a < adaptive.trials; a++) trial(rec);
    },
    backward(rec, withY0 = false) {
      rec.clear(scheme.bar);
      rec.clear(partials);
      adaptive.recordBackStart(rec);
      // as many steps back as trials forward (the walk back skips the rejected ones)
      const top = adaptive.trials - 1;
      for (let m = top; m >= 0; m--) stepBack(rec, m, top);
      if (saveT0) rec.run(outputs.addCotangentOps(scheme.yBar), adaptive.start);
      rec.run(mlp.reduceOps(partials, paramsBar), null);
      if (withY0) rec.run(scheme.initVjpOps(y0Bar), null);
    },
    failureOps: (out, index) => adaptive.failureOps(out, index),
  };
}
