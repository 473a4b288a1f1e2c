/**
 * Direct backpropagation ("store everything", numerics.md §3): the forward
 * solve tapes every state and every step's stage values; the backward pass
 * replays the step VJPs from the tape. Exact, with memory O(N).
 *
 * @module
 */

import {
  addCotangent,
  advance,
  finishAtStart,
  type GradientRun,
  type Problem,
  record,
  stepBackward,
} from "./problem.ts";

/**
 * The direct gradient method.
 *
 * @param problem The solve.
 * @returns The method's forward and backward passes.
 */
export function directGradient(problem: Problem): GradientRun {
  const { grid, scheme, params, meter } = problem;
  const steps = grid.steps;
  const size = problem.batch * problem.field.dim;
  const stateCount = scheme.stateCount;
  const stateLength = stateCount * size;
  const work = scheme.workspaceLength;
  const states = meter.f64((steps + 1) * stateLength);
  const tape = meter.f64(steps * work);
  const views = (i: number): Float64Array[] => {
    const out: Float64Array[] = [];
    for (let k = 0; k < stateCount; k++) {
      const o = i * stateLength + k * size;
      out.push(states.subarray(o, o + size));
    }
    return out;
  };
  const bar: Float64Array[] = [];
  for (let k = 0; k < stateCount; k++) bar.push(meter.f64(size));
  const paramsBar = meter.f64(params.length);
  const tsBar = meter.f64(problem.outputs.plan.ts.length);
  return {
    forward(ys) {
      let state = views(0);
      scheme.init(grid.time(0), problem.y0, params, state);
      record(problem, 0, state, ys);
      for (let i = 0; i < steps; i++) {
        const next = views(i + 1);
        for (let k = 0; k < stateCount; k++) next[k].set(state[k]);
        advance(problem, next, i, i + 1, ys);
        scheme.saveWorkspace(tape, i * work);
        state = next;
      }
    },
    backward(cotangents) {
      for (const b of bar) b.fill(0);
      paramsBar.fill(0);
      tsBar.fill(0);
      addCotangent(problem, steps, bar[0], cotangents);
      for (let i = steps - 1; i >= 0; i--) {
        scheme.loadWorkspace(tape, i * work);
        const before = states.subarray(i * stateLength, i * stateLength + size);
        stepBackward(problem, i, before, views(i + 1), bar, paramsBar, tsBar, cotangents);
      }
      const y0Bar = finishAtStart(problem, bar, paramsBar, cotangents);
      return { y0: y0Bar, params: paramsBar.slice(), ts: tsBar.slice() };
    },
  };
}
