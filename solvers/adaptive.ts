/**
 * The adaptive forward solve of one trajectory (numerics.md §4): trial steps
 * with the scheme's embedded error estimate, accepted or rejected by a PID
 * controller. A rejected step leaves no trace; the accepted step times are
 * all a gradient method needs to replay the solve exactly.
 *
 * @module
 */

import type { Scheme } from "./schemes/scheme.ts";
import type { VectorField } from "./vector_field.ts";
import type { MemoryMeter } from "./memory.ts";
import type { Outputs } from "./outputs.ts";
import { nextStep, type PidController, scaledErrorNorm } from "./controller.ts";
import { timeResolution } from "./grid.ts";

/** How a trajectory's solve ended. */
export type Status = "success" | "max_steps_reached" | "dt_min_reached" | "non_finite";

/** The outcome of an adaptive forward solve of one trajectory. */
export interface AdaptiveRun {
  /** Accepted grid `t_0 < … < t_N` (`t_N = t1` on success). */
  times: Float64Array;
  /** How it ended. */
  status: Status;
  /** Accepted steps. */
  accepted: number;
  /** Rejected steps. */
  rejected: number;
  /** The solution after each accepted step, when asked to collect them. */
  collected: Float64Array[];
}

/**
 * Hairer, Nørsett & Wanner's initial step (II.4), as Diffrax selects it.
 *
 * @param field The field.
 * @param params Parameters.
 * @param t0 Start time.
 * @param y0 Initial state of one trajectory.
 * @param c The controller (tolerances, norm).
 * @param errorOrder Order of the embedded solution.
 * @param meter Where scratch bytes are counted.
 * @returns A first step size.
 *
 * @example
 * ```ts
 * import { initialStep } from "./adaptive.ts";
 * import { pid } from "./controller.ts";
 * import { linearField } from "./fields/linear.ts";
 * import { MemoryMeter } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const h = initialStep(linearField(1), Float64Array.of(-1), 0, Float64Array.of(1),
 *   pid({ rtol: 1e-6, atol: 1e-6 }), 2, new MemoryMeter());
 * assert.ok(h > 1e-4 && h < 0.1);
 * ```
 */
export function initialStep(
  field: VectorField,
  params: Float64Array,
  t0: number,
  y0: Float64Array,
  c: PidController,
  errorOrder: number,
  meter: MemoryMeter,
): number {
  const n = y0.length;
  const f0 = meter.f64(n), y1 = meter.f64(n), f1 = meter.f64(n), scratch = meter.f64(n);
  const batch = n / field.dim;
  const norm = (v: Float64Array): number => {
    let acc = 0;
    for (let e = 0; e < n; e++) {
      const r = v[e] / (c.atol + Math.abs(y0[e]) * c.rtol);
      acc = c.norm === "rms" ? acc + r * r : Math.max(acc, Math.abs(r));
    }
    return c.norm === "rms" ? Math.sqrt(acc / n) : acc;
  };
  field.evaluate(t0, y0, batch, params, f0);
  const d0 = norm(y0), d1 = norm(f0);
  const h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
  for (let e = 0; e < n; e++) y1[e] = y0[e] + h0 * f0[e];
  field.evaluate(t0 + h0, y1, batch, params, f1);
  for (let e = 0; e < n; e++) scratch[e] = f1[e] - f0[e];
  const d2 = norm(scratch) / h0;
  const maxD = Math.max(d1, d2);
  const h1 = maxD <= 1e-15
    ? Math.max(1e-6, h0 * 1e-3)
    : Math.pow(0.01 / maxD, 1 / (errorOrder + 1));
  for (const a of [f0, y1, f1, scratch]) meter.release(a);
  const h = Math.min(100 * h0, h1);
  return Number.isFinite(h) && h > 0 ? h : 1e-6;
}

/** Everything {@link adaptiveSolve} needs for one trajectory. */
export interface AdaptiveProblem {
  /** The scheme (batch 1), with an error estimate. */
  scheme: Scheme;
  /** The field (counted). */
  field: VectorField;
  /** Parameters. */
  params: Float64Array;
  /** Initial state of the trajectory. */
  y0: Float64Array;
  /** Start time. */
  t0: number;
  /** End time. */
  t1: number;
  /** First step size, or undefined for the heuristic. */
  dt0: number | undefined;
  /** The controller. */
  controller: PidController;
  /** Outputs at t0, t1 and `ts` (not `steps`), written into `ys`. */
  outputs: Outputs;
  /** The caller's outputs. */
  ys: Float64Array;
  /** Keep a copy of `y` after every accepted step. */
  collect: boolean;
  /** Where buffer bytes are counted. */
  meter: MemoryMeter;
  /** The state, advanced in place to the last accepted point. */
  state: Float64Array[];
}

/**
 * Runs the adaptive forward solve of one trajectory.
 *
 * @param p The trajectory's problem.
 * @returns Accepted times, status and counts; `p.state` holds the final state.
 */
export function adaptiveSolve(p: AdaptiveProblem): AdaptiveRun {
  const { scheme, params, controller: c, outputs, ys, meter, state, t0, t1 } = p;
  const errorOrder = scheme.errorOrder as number;
  const n = p.y0.length;
  const trial: Float64Array[] = state.map(() => meter.f64(n));
  const error = meter.f64(n);
  scheme.init(t0, p.y0, params, state);
  outputs.point(0, false, t0, state[0], ys);
  const times: number[] = [t0];
  const collected: Float64Array[] = [];
  const tiny = timeResolution(t0, t1);
  let h = p.dt0 ?? initialStep(p.field, params, t0, p.y0, c, errorOrder, meter);
  let history: [number, number] = [1, 1];
  let accepted = 0, rejected = 0;
  let status: Status = "success";
  let t = t0;
  while (t < t1) {
    if (accepted + rejected >= c.maxSteps) {
      status = "max_steps_reached";
      break;
    }
    // never shorter than `tiny`: a step below the resolution of t would not move it (t + h
    // rounds to t), be accepted with zero error and keep its size, until maxSteps
    h = Math.max(Math.min(Math.max(h, c.dtmin), c.dtmax), tiny);
    const tNext = t + h >= t1 ? t1 : t + h;
    const hUsed = tNext - t;
    for (let k = 0; k < state.length; k++) trial[k].set(state[k]);
    scheme.step(t, hUsed, params, trial, error);
    const err = scaledErrorNorm(c, error, state[0], trial[0]);
    if (err <= 1) {
      const i = times.length - 1;
      if (outputs.hasInterval(i, t, tNext)) {
        outputs.interpolate(i, t, tNext, params, state[0], trial[0], ys);
      }
      for (let k = 0; k < state.length; k++) state[k].set(trial[k]);
      times.push(tNext);
      accepted++;
      outputs.point(i + 1, tNext === t1, tNext, state[0], ys);
      if (p.collect) collected.push(state[0].slice());
      h = nextStep(c, hUsed, err, history, errorOrder);
      history = [err, history[0]];
      t = tNext;
    } else {
      rejected++;
      const next = nextStep(c, hUsed, err, history, errorOrder);
      if (hUsed <= c.dtmin || next < tiny) {
        status = Number.isFinite(err) ? "dt_min_reached" : "non_finite";
        break;
      }
      h = next;
    }
  }
  for (const a of trial) meter.release(a);
  meter.release(error);
  meter.add(8 * times.length);
  return { times: Float64Array.from(times), status, accepted, rejected, collected };
}

/**
 * A sentence saying why a trajectory's solve stopped and what to change.
 *
 * @param status How it ended.
 * @param t The time it reached.
 * @param trajectory Its index in the batch.
 * @param c The controller, or null for fixed steps (whose `t` is the first grid point or saved output found non-finite).
 * @returns The message.
 *
 * @example
 * ```ts
 * import { failureMessage } from "./adaptive.ts";
 * import { pid } from "./controller.ts";
 * import assert from "node:assert/strict";
 *
 * const m = failureMessage("max_steps_reached", 1.73, 3, pid({ rtol: 1e-6, atol: 1e-6 }));
 * assert.match(m, /maximum number of steps \(4096\) was reached at t = 1\.73 for trajectory 3/);
 * ```
 */
export function failureMessage(
  status: Status,
  t: number,
  trajectory: number,
  c: PidController | null,
): string {
  // fixed steps are checked at their grid points and saved outputs: t is the first not finite
  const where = c === null
    ? `by t = ${t} (the first grid point or saved output where it is not finite) for trajectory ${trajectory}`
    : `at t = ${t} for trajectory ${trajectory}`;
  switch (status) {
    case "max_steps_reached":
      return `The maximum number of steps (${c?.maxSteps}) was reached ${where}; raise maxSteps or loosen rtol/atol.`;
    case "dt_min_reached":
      return `The step size fell to its minimum (dtmin = ${c?.dtmin}) ${where}; lower dtmin or loosen rtol/atol, or look for a singularity of the vector field there.`;
    case "non_finite":
      return `The solution became non-finite (NaN or ±Infinity) ${where}; check the vector field and its parameters, or take smaller steps (smaller dt, dtmax or tolerances, or a smaller coupling λ).`;
    default:
      return "The solve succeeded.";
  }
}
