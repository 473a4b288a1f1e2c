/**
 * `solve()`: one entry point combining a scheme, a time grid (fixed, or
 * adaptive under a step-size controller), the saved outputs and a gradient
 * method, as Diffrax's `diffeqsolve` does; and the fixed-step solve, which
 * shares one backward pass across the batch (the adaptive one is
 * adaptive.ts).
 *
 * @module
 */

import { countingField, type WorkCounts } from "./vector_field.ts";
import { checkCotangents, invalidArgument } from "./checks.ts";
import { explicitGrid, type TimeGrid, uniformGrid } from "./grid.ts";
import { checkSaveAt, Outputs, slotTimes } from "./outputs.ts";
import { MemoryMeter } from "./memory.ts";
import { buildScheme } from "./schemes/spec.ts";
import { newProblem, type Problem } from "./gradients/problem.ts";
import { buildGradient, refuseIrreversible } from "./gradients/spec.ts";
import {
  isAllocationFailure,
  SolveFailure,
  SolveRefusal,
  type Status,
  trajectoryFailure,
} from "./results.ts";
import { type CheckedOptions, checkOptions, type SolveOptions } from "./options.ts";
import type { Gradient, GradientStats, Solution } from "./solution.ts";
import { solveAdaptive } from "./adaptive.ts";

/**
 * Solves `y' = f(t, y; θ)` from `y0` over a fixed or adaptive time grid with
 * a scheme, and returns the saved outputs with a `backward()` that computes
 * exact gradients with the chosen method.
 *
 * @param options The field, initial states, parameters, scheme, grid or controller, saved outputs and gradient method.
 * @returns The solution.
 *
 * @example A reversible gradient of y(1) for y' = θ y
 * ```ts
 * import { solve } from "./solve.ts";
 * import { reversible } from "./schemes/spec.ts";
 * import { rk4 } from "./tableaux.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const sol = solve({
 *   field: linearField(1),
 *   y0: Float64Array.of(1),
 *   params: Float64Array.of(-0.5),
 *   scheme: reversible(rk4),
 *   t0: 0, t1: 1, steps: 100,
 *   gradient: "reversible",
 * });
 * assert.ok(Math.abs(sol.ys[0] - Math.exp(-0.5)) < 1e-8);
 * const g = sol.backward(Float64Array.of(1));
 * assert.ok(Math.abs(g.params[0] - Math.exp(-0.5)) < 1e-8); // d/dθ e^θ
 * assert.ok(g.stats.reconstructionError! < 1e-12);
 * ```
 *
 * @example Adaptive steps with outputs at chosen times
 * ```ts
 * import { solve } from "./solve.ts";
 * import { reversible } from "./schemes/spec.ts";
 * import { bosh3 } from "./tableaux.ts";
 * import { pid } from "./controller.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const sol = solve({
 *   field: linearField(1),
 *   y0: Float64Array.of(1),
 *   params: Float64Array.of(-1),
 *   scheme: reversible(bosh3),
 *   t0: 0, t1: 2,
 *   controller: pid({ rtol: 1e-8, atol: 1e-8 }),
 *   saveAt: { ts: [0.5, 1.5] },
 *   gradient: "reversible",
 * });
 * assert.equal(sol.status[0], "success");
 * assert.ok(Math.abs(sol.ys[1] - Math.exp(-1.5)) < 1e-6);
 * const g = sol.backward(Float64Array.of(0, 1));
 * assert.ok(Math.abs(g.ts[1] + Math.exp(-1.5)) < 1e-5); // d y(τ)/dτ = −y(τ)
 * ```
 */
export function solve(options: SolveOptions): Solution {
  const checked = checkOptions(options);
  try {
    return options.controller === undefined
      ? solveFixed(options, checked)
      : solveAdaptive(options, checked);
  } catch (e) {
    if (!isAllocationFailure(e)) throw e;
    // a typed array too large for memory: say which buffers, and what to change
    throw new SolveRefusal({
      kind: "out_of_memory",
      data: {
        steps: options.controller !== undefined
          ? null
          : options.steps ?? (options.grid?.length ?? 1) - 1,
        saveAt: JSON.stringify(options.saveAt ?? { t1: true }),
        gradient: checked.gradient?.method ?? "none",
        cause: e.message,
      },
    });
  }
}

/** The fixed grid of the options: an explicit `grid`, or `steps` uniform steps from `t0` to `t1`. */
function buildGrid(options: SolveOptions): TimeGrid {
  if (options.dt0 !== undefined) {
    invalidArgument("dt0", options.dt0, "undefined unless a controller is given");
  }
  if (options.grid !== undefined) {
    for (const key of ["t0", "t1", "steps"] as const) {
      if (options[key] !== undefined) {
        invalidArgument(key, options[key], "undefined when an explicit grid is given");
      }
    }
    return explicitGrid(options.grid);
  }
  return uniformGrid(options.t0 ?? 0, options.t1 as number, options.steps as number);
}

/**
 * Each row's status after a fixed-step solve, which fails only by
 * overflowing: the first non-finite output or state (a state can overflow
 * after the last saved output, or between outputs). Throws the first
 * failure unless the solve was asked not to.
 */
function overflowStatus(
  c: CheckedOptions,
  problem: Problem,
  ys: Float64Array,
  ts: Float64Array,
): Status[] {
  const { batch, dim } = c;
  const size = batch * dim;
  const status: Status[] = new Array(batch).fill("success");
  for (let b = 0; b < batch; b++) {
    let at = problem.overflowAt[b];
    for (let slot = 0; slot < ts.length && !(ts[slot] >= at); slot++) {
      for (let e = 0; e < dim; e++) {
        if (!Number.isFinite(ys[slot * size + b * dim + e])) {
          at = ts[slot];
          break;
        }
      }
    }
    if (Number.isNaN(at)) continue;
    status[b] = "non_finite";
    if (c.throwOnFailure) throw new SolveFailure(trajectoryFailure("non_finite", at, b, null)!);
  }
  return status;
}

/**
 * A fixed-step solve: the whole batch on one grid, with one gradient run
 * whose backward pass serves every row.
 */
function solveFixed(options: SolveOptions, c: CheckedOptions): Solution {
  const { field, params, dim, batch, gradient } = c;
  const grid = buildGrid(options);
  const tEnd = grid.time(grid.steps);
  const plan = checkSaveAt(options.saveAt, grid.time(0), tEnd);
  const counts: WorkCounts = { evaluations: 0, vjps: 0 };
  const meter = new MemoryMeter();
  const counted = countingField(field, counts);
  const { scheme, baseTableau } = buildScheme(options.scheme, counted, batch, meter);
  refuseIrreversible(scheme, gradient);
  const size = batch * dim;
  const place = { size, slotStride: size, rowOffset: 0, stepSlots: grid.steps, tEnd };
  const outputs = new Outputs(plan, counted, batch, place, meter);
  const problem = newProblem({
    field: counted,
    scheme,
    baseTableau,
    grid,
    outputs,
    params,
    y0: c.y0, // already solve()'s own copy
    batch,
    meter,
  });
  const run = buildGradient(problem, gradient);
  const ys = new Float64Array(outputs.count * size);
  run.forward(ys);
  const ts = new Float64Array(outputs.count);
  slotTimes(plan, grid, grid.steps, tEnd, ts);
  const status = overflowStatus(c, problem, ys, ts);
  const forwardEvaluations = counts.evaluations;
  return {
    ts,
    tsPerTrajectory: false,
    ys,
    batch,
    dim,
    status,
    stats: { steps: grid.steps, evaluations: forwardEvaluations },
    backward(cotangents) {
      if (gradient === null) throw new SolveFailure({ kind: "no_gradient", data: {} });
      checkCotangents(cotangents, ys.length);
      if (status.some((s) => s !== "success")) {
        return backwardWithoutFailed(options, c, status, cotangents, forwardEvaluations);
      }
      counts.evaluations = 0;
      counts.vjps = 0;
      const result = run.backward(cotangents);
      const stats: GradientStats = {
        method: gradient.method,
        steps: grid.steps,
        evaluations: forwardEvaluations + counts.evaluations,
        vjps: counts.vjps,
        peakBytes: meter.peak,
      };
      if (result.reconstructionError !== undefined) {
        stats.reconstructionError = result.reconstructionError;
      }
      return { y0: result.y0, params: result.params, ts: result.ts, stats };
    },
  };
}

/**
 * The gradient of a fixed-step batch in which some trajectories overflowed
 * (`throwOnFailure: false`). The rows of a fixed-step solve share one
 * backward pass, so an infinite row would turn the shared parameter
 * gradient into NaN even with a zero cotangent (∞ · 0). The failed rows'
 * cotangents must be zero (a fixed-step trajectory that overflowed has no
 * gradient); the others are solved again without them, whose gradient is
 * the batch's, and the failed rows' `∂L/∂y0` is zero.
 */
function backwardWithoutFailed(
  options: SolveOptions,
  c: CheckedOptions,
  status: Status[],
  cotangents: Float64Array,
  forwardEvaluations: number,
): Gradient {
  const { dim, batch, params, gradient } = c;
  const size = batch * dim;
  const saved = cotangents.length / size;
  const kept: number[] = [];
  for (let b = 0; b < batch; b++) {
    if (status[b] === "success") {
      kept.push(b);
      continue;
    }
    for (let slot = 0; slot < saved; slot++) {
      for (let e = 0; e < dim; e++) {
        if (cotangents[slot * size + b * dim + e] !== 0) {
          throw new SolveRefusal({
            kind: "failed_cotangent",
            data: {
              trajectory: b,
              status: status[b],
              slot,
              value: cotangents[slot * size + b * dim + e],
            },
          });
        }
      }
    }
  }
  const y0Bar = new Float64Array(size);
  const tsLength = options.saveAt?.ts?.length ?? 0;
  const stats: GradientStats = {
    method: gradient!.method,
    steps: 0,
    evaluations: forwardEvaluations,
    vjps: 0,
    peakBytes: 0,
  };
  if (kept.length === 0) {
    return {
      y0: y0Bar,
      params: new Float64Array(params.length),
      ts: new Float64Array(tsLength),
      stats,
    };
  }
  const y0 = new Float64Array(kept.length * dim);
  const bar = new Float64Array(saved * kept.length * dim);
  kept.forEach((b, r) => {
    y0.set(c.y0.subarray(b * dim, (b + 1) * dim), r * dim);
    for (let slot = 0; slot < saved; slot++) {
      bar.set(
        cotangents.subarray(slot * size + b * dim, slot * size + (b + 1) * dim),
        (slot * kept.length + r) * dim,
      );
    }
  });
  const again = solve({ ...options, y0 }).backward(bar);
  kept.forEach((b, r) => y0Bar.set(again.y0.subarray(r * dim, (r + 1) * dim), b * dim));
  return {
    y0: y0Bar,
    params: again.params,
    ts: again.ts,
    stats: { ...again.stats, evaluations: forwardEvaluations + again.stats.evaluations },
  };
}
