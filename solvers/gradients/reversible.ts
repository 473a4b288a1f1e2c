/**
 * The reversible gradient (numerics.md §2, backward pass): the forward solve
 * keeps only its final state; the backward pass rebuilds each earlier state
 * with the scheme's exact inverse and back-propagates through the step just
 * rebuilt. Memory does not depend on the number of steps.
 *
 * Optionally, the state every `checkpointEvery` steps is stored during the
 * forward solve and restored during the backward pass, which bounds the
 * round-off drift of the reconstruction at O(N / K) memory.
 *
 * Round-off in the inverse step is amplified by up to `1/λ` per step (the
 * step map has determinant λ), so over `N` steps the rebuilt states drift by
 * about `ε · e^{N(1 − λ)}`: harmless for `N(1 − λ) ≲ 20`, fatal far beyond.
 * The drift is measured at `t_0` (and at every stored state), relative to
 * the larger of `|y(t_0)|` and `|y(t_1)|`, and the pass refuses to return a gradient whose reconstruction exceeds its tolerance.
 *
 * @module
 */

import {
  addCotangent,
  advance,
  copyState,
  finishAtStart,
  type GradientRun,
  newState,
  type Problem,
  record,
  stepBackward,
} from "./problem.ts";
import { ReconstructionDriftError } from "../results.ts";

/** `max |v|` over a state's values, with `floor` as the least result. */
function maxAbs(v: Float64Array, floor = 0): number {
  let m = floor;
  for (let e = 0; e < v.length; e++) m = Math.max(m, Math.abs(v[e]));
  return m;
}

/**
 * ∞-norm distance between a rebuilt state and the true one, relative to the
 * solution's size: `scale` is the largest `|y|` of `y(t_0)` and `y(t_1)`,
 * and the true state's own if larger. Relative to `y(t_0)` alone, a solve
 * from `y0 = 0` (an augmented or latent state) would turn round-off into an
 * astronomical "error".
 *
 * @param rebuilt Reconstructed values.
 * @param truth True values.
 * @param scale Size of the solution.
 * @returns `max |rebuilt − truth| / max(scale, max |truth|, tiny)`.
 */
function relativeDistance(rebuilt: Float64Array, truth: Float64Array, scale: number): number {
  let diff = 0;
  for (let e = 0; e < truth.length; e++) diff = Math.max(diff, Math.abs(rebuilt[e] - truth[e]));
  return diff / maxAbs(truth, Math.max(scale, Number.MIN_VALUE));
}

/**
 * The reversible gradient method.
 *
 * @param problem The solve; its scheme must be reversible.
 * @param checkpointEvery Store the state every this many steps (0: never).
 * @param tolerance Largest relative reconstruction drift accepted before throwing.
 * @returns The method's forward and backward passes.
 */
export function reversibleGradient(
  problem: Problem,
  checkpointEvery: number,
  tolerance = Infinity,
): GradientRun {
  const { grid, scheme, params, meter } = problem;
  const steps = grid.steps;
  const state = newState(problem);
  const final = newState(problem);
  const after = newState(problem);
  const bar = newState(problem);
  const paramsBar = meter.f64(params.length);
  const tsBar = meter.f64(problem.outputs.plan.ts.length);
  const stored: Float64Array[][] = [];
  if (checkpointEvery > 0) {
    for (let i = checkpointEvery; i < steps; i += checkpointEvery) stored.push(newState(problem));
  }
  return {
    forward(ys) {
      scheme.init(grid.time(0), problem.y0, params, state);
      record(problem, 0, state, ys);
      if (checkpointEvery > 0) {
        let from = 0;
        for (let k = 0; k < stored.length; k++) {
          const to = (k + 1) * checkpointEvery;
          advance(problem, state, from, to, ys);
          copyState(state, stored[k]);
          from = to;
        }
        advance(problem, state, from, steps, ys);
      } else advance(problem, state, 0, steps, ys);
      copyState(state, final);
    },
    adopt: checkpointEvery > 0 ? undefined : (finalState) => copyState(finalState, final),
    backward(cotangents) {
      copyState(final, state);
      for (const b of bar) b.fill(0);
      paramsBar.fill(0);
      tsBar.fill(0);
      addCotangent(problem, steps, bar[0], cotangents);
      const scale = maxAbs(final[0], maxAbs(problem.y0));
      let drift = 0;
      for (let i = steps - 1; i >= 0; i--) {
        const t = grid.time(i);
        const h = grid.time(i + 1) - t;
        copyState(state, after);
        scheme.inverse(t, h, params, state);
        stepBackward(problem, i, state[0], after, bar, paramsBar, tsBar, cotangents);
        if (checkpointEvery > 0 && i > 0 && i % checkpointEvery === 0) {
          const kept = stored[i / checkpointEvery - 1];
          drift = Math.max(drift, relativeDistance(state[0], kept[0], scale));
          copyState(kept, state);
        }
      }
      drift = Math.max(drift, relativeDistance(state[0], problem.y0, scale));
      if (!(drift <= tolerance)) {
        throw new ReconstructionDriftError({
          drift,
          tolerance,
          steps,
          scheme: scheme.name,
          coupled: scheme.coupled,
          trajectory: null,
          trajectories: problem.batch,
        });
      }
      const y0Bar = finishAtStart(problem, bar, paramsBar, cotangents);
      return {
        y0: y0Bar,
        params: paramsBar.slice(),
        ts: tsBar.slice(),
        reconstructionError: drift,
      };
    },
  };
}
