/**
 * What `solve()` returns: the saved outputs with their times and statuses,
 * the forward work, and `backward()`, which gives the {@link Gradient} of a
 * scalar loss with its {@link GradientStats}.
 *
 * @module
 */

import type { GradientMethodName } from "./gradients/spec.ts";
import type { Status } from "./results.ts";

/** What a gradient computation did. */
export interface GradientStats {
  /** The gradient method used. */
  method: GradientMethodName;
  /** Steps of the solve (summed over trajectories when adaptive). */
  steps: number;
  /** Vector-field evaluations, forward solve and backward pass together (rejected steps included). */
  evaluations: number;
  /** Vector-field VJPs made by the backward pass. */
  vjps: number;
  /**
   * Peak bytes held by the method, forward and backward: states,
   * checkpoints, tapes, stage buffers, cotangents, accepted step times. The
   * saved outputs and the returned gradients are the caller's and are not
   * counted.
   */
  peakBytes: number;
  /**
   * Reversible methods: ∞-norm distance of the rebuilt `y0` (and of every
   * state restored by `checkpointEvery`) from the true one, relative to the
   * larger of `|y(t0)|∞` and `|y(t1)|∞` (so a solve from `y0 = 0` is
   * measured on the solution's size).
   */
  reconstructionError?: number;
}

/** Gradients of a scalar loss with respect to `y0`, `θ` and the output times. */
export interface Gradient {
  /** `∂L/∂y0`, `[batch, dim]`. */
  y0: Float64Array;
  /** `∂L/∂θ`. */
  params: Float64Array;
  /** `∂L/∂saveAt.ts` (empty without interpolated outputs). */
  ts: Float64Array;
  /** Work and memory. */
  stats: GradientStats;
  /** Adaptive solves: each trajectory's own `∂L/∂θ` share and statistics. */
  trajectories?: { params: Float64Array; stats: GradientStats }[];
}

/** Per-trajectory statistics of an adaptive solve. */
export interface TrajectoryStats {
  /** How it ended. */
  status: Status;
  /** Accepted steps. */
  accepted: number;
  /** Rejected steps. */
  rejected: number;
  /** Vector-field evaluations of the forward solve. */
  evaluations: number;
  /** Time reached. */
  tEnd: number;
}

/** The result of `solve()`. */
export interface Solution {
  /**
   * Times of the saved outputs, `[saved]`; for an adaptive solve saving
   * `steps`, `[batch, saved]` (see `tsPerTrajectory`).
   */
  ts: Float64Array;
  /** Whether `ts` is `[batch, saved]`. */
  tsPerTrajectory: boolean;
  /**
   * Saved states `[saved, batch, dim]`. An adaptive solve saving `steps`
   * pads a trajectory with fewer steps by repeating its final state (whose
   * cotangents then flow to that state, so gradients stay exact).
   */
  ys: Float64Array;
  /** Number of trajectories. */
  batch: number;
  /** State dimension. */
  dim: number;
  /** Each trajectory's status (`"success"` unless a solve failed without throwing). */
  status: Status[];
  /** Forward work: steps (summed over trajectories) and evaluations. */
  stats: { steps: number; evaluations: number };
  /** Adaptive solves: each trajectory's steps and status. */
  trajectories?: TrajectoryStats[];
  /**
   * Back-propagates cotangents of the saved outputs (`∂L/∂ys`, same shape as
   * `ys`) with the gradient method chosen in `solve()`. May be called again
   * with other cotangents.
   */
  backward(cotangents: Float64Array): Gradient;
}
