/**
 * Direct backpropagation ("store everything", numerics.md §3): the forward
 * solve tapes every state and every step's stage values; the backward pass
 * replays the step VJPs from the tape. Exact, with memory O(N).
 *
 * The tape goes back to tape_pool.ts after each backward pass, so the next
 * solve of the same size writes into pages already touched instead of
 * faulting in fresh ones; a later backward pass on the same solve takes it
 * back if nobody took it meanwhile, and otherwise solves forward again
 * (the same operations, so the same tape).
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
import { giveBack, reclaim, type Returned, takeBuffer } from "./tape_pool.ts";

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
  const statesLength = (steps + 1) * stateLength;
  // states and tape in one buffer: one pool entry, one page-touching pass
  meter.add((statesLength + steps * work) * 8);
  let store = takeBuffer(statesLength + steps * work);
  let returned: Returned | null = null;
  let outputsLength = 0;
  const views = (i: number): Float64Array[] => {
    const out: Float64Array[] = [];
    for (let k = 0; k < stateCount; k++) {
      const o = i * stateLength + k * size;
      out.push(store.subarray(o, o + size));
    }
    return out;
  };
  const bar: Float64Array[] = [];
  for (let k = 0; k < stateCount; k++) bar.push(meter.f64(size));
  const paramsBar = meter.f64(params.length);
  const tsBar = meter.f64(problem.outputs.plan.ts.length);
  const forward = (ys: Float64Array) => {
    let state = views(0);
    scheme.init(grid.time(0), problem.y0, params, state);
    record(problem, 0, state, ys);
    for (let i = 0; i < steps; i++) {
      const next = views(i + 1);
      for (let k = 0; k < stateCount; k++) next[k].set(state[k]);
      advance(problem, next, i, i + 1, ys);
      scheme.saveWorkspace(store, statesLength + i * work);
      state = next;
    }
  };
  /** The tape of this solve in `store`, taken back or written again. */
  const retake = () => {
    if (returned === null) return;
    if (!reclaim(returned)) {
      store = takeBuffer(store.length);
      forward(new Float64Array(outputsLength));
    }
    returned = null;
  };
  return {
    forward(ys) {
      outputsLength = ys.length;
      forward(ys);
    },
    backward(cotangents) {
      retake();
      for (const b of bar) b.fill(0);
      paramsBar.fill(0);
      tsBar.fill(0);
      addCotangent(problem, steps, bar[0], cotangents);
      for (let i = steps - 1; i >= 0; i--) {
        scheme.loadWorkspace(store, statesLength + i * work);
        const before = store.subarray(i * stateLength, i * stateLength + size);
        stepBackward(problem, i, before, views(i + 1), bar, paramsBar, tsBar, cotangents);
      }
      const y0Bar = finishAtStart(problem, bar, paramsBar, cotangents);
      returned = giveBack(store);
      return { y0: y0Bar, params: paramsBar.slice(), ts: tsBar.slice() };
    },
  };
}
