/**
 * Recursive binomial checkpointing (Griewank's treeverse / Revolve,
 * numerics.md §3): `c` stored states, the first of them the initial state;
 * reversing `l` steps with `r` recomputation sweeps is possible while
 * `β(c, r) = C(c + r, c) ≥ l`. Exact; memory O(c); work grows as `c` falls.
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

/**
 * Diffrax's default number of checkpoints for `steps` steps:
 * `floor(−1.5 + √(2N + 0.25)) + 1` (44 for N = 1000).
 *
 * @param steps Number of steps `N`.
 * @returns The default `c`.
 *
 * @example
 * ```ts
 * import { defaultCheckpoints } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultCheckpoints(1000), 44);
 * ```
 */
export function defaultCheckpoints(steps: number): number {
  return Math.floor(-1.5 + Math.sqrt(2 * steps + 0.25)) + 1;
}

/** `β(c, r) = C(c + r, c)`, computed over the smaller of `c` and `r`. */
function beta(c: number, r: number): number {
  const k = Math.min(c, r), n = c + r;
  let value = 1;
  for (let i = 1; i <= k; i++) value = (value * (n - k + i)) / i;
  return Math.round(value);
}

/**
 * Where to place the next checkpoint when reversing `l ≥ 2` steps with
 * `c ≥ 2` stored states: the right part gets the most steps `c − 1` states can
 * reverse in the minimal number of sweeps `r`, the left part the rest.
 *
 * @param l Number of steps of the segment.
 * @param c Stored states available, including the segment's start.
 * @returns Offset of the new checkpoint from the segment's start, in `[1, l − 1]`.
 *
 * @example
 * ```ts
 * import { binomialSplit } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * assert.equal(binomialSplit(2, 2), 1);
 * ```
 */
export function binomialSplit(l: number, c: number): number {
  let r = 0;
  while (beta(c, r) < l) r++;
  return Math.min(l - 1, Math.max(1, l - beta(c - 1, r)));
}

/**
 * The checkpointed gradient method.
 *
 * @param problem The solve.
 * @param checkpoints Number of stored states `c ≥ 1`, the initial one included.
 * @returns The method's forward and backward passes.
 */
export function checkpointedGradient(problem: Problem, checkpoints: number): GradientRun {
  const { grid, scheme, params, meter } = problem;
  const steps = grid.steps;
  const c = Math.min(checkpoints, steps + 1);
  const slots: Float64Array[][] = [];
  for (let k = 0; k < c; k++) slots.push(newState(problem));
  const work = newState(problem);
  const cursor = newState(problem);
  const bar = newState(problem);
  const paramsBar = meter.f64(params.length);
  const tsBar = meter.f64(problem.outputs.plan.ts.length);
  // The forward sweep places the first chain of checkpoints, as the recursion
  // would: positions[k] is held in slots[k] with c − k states available.
  const positions: number[] = [];
  let chainStored = false;
  let cotangents: Float64Array = new Float64Array(0);

  function storeChain(ys?: Float64Array): void {
    positions.length = 0;
    scheme.init(grid.time(0), problem.y0, params, slots[0]);
    if (ys) record(problem, 0, slots[0], ys);
    let at = 0, k = 0;
    positions.push(0);
    while (c - k >= 2 && steps - at >= 2) {
      const next = at + binomialSplit(steps - at, c - k);
      copyState(slots[k], slots[k + 1]);
      advance(problem, slots[k + 1], at, next, ys);
      at = next;
      k++;
      positions.push(at);
    }
    if (ys) {
      copyState(slots[k], work);
      advance(problem, work, at, steps, ys);
    }
    chainStored = true;
  }

  /** Back-propagates through step `i`, whose start state is in `from`. */
  function reverseStep(i: number, from: Float64Array[]): void {
    copyState(from, work);
    const t = grid.time(i);
    scheme.step(t, grid.time(i + 1) - t, params, work);
    stepBackward(problem, i, from[0], work, bar, paramsBar, tsBar, cotangents);
  }

  /** Reverses steps `[a, b)`; the state at `a` is in `slots[k]`, `slots[k + 1 … k + free − 1]` are free. */
  function reverse(a: number, b: number, k: number, free: number): void {
    if (b - a === 1) return reverseStep(a, slots[k]);
    if (free === 1) {
      for (let i = b - 1; i >= a; i--) {
        copyState(slots[k], cursor);
        advance(problem, cursor, a, i);
        reverseStep(i, cursor);
      }
      return;
    }
    const m = a + binomialSplit(b - a, free);
    copyState(slots[k], slots[k + 1]);
    advance(problem, slots[k + 1], a, m);
    reverse(m, b, k + 1, free - 1);
    reverse(a, m, k, free);
  }

  return {
    forward(ys) {
      storeChain(ys);
    },
    backward(cots) {
      if (!chainStored) storeChain();
      cotangents = cots;
      for (const b of bar) b.fill(0);
      paramsBar.fill(0);
      tsBar.fill(0);
      addCotangent(problem, steps, bar[0], cotangents);
      for (let k = positions.length - 1; k >= 0; k--) {
        const end = k === positions.length - 1 ? steps : positions[k + 1];
        reverse(positions[k], end, k, c - k);
      }
      chainStored = false;
      const y0Bar = finishAtStart(problem, bar, paramsBar, cotangents);
      return { y0: y0Bar, params: paramsBar.slice(), ts: tsBar.slice() };
    },
  };
}
