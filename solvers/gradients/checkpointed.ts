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
 * The instructions of a {@link binomialSchedule} program, each with two
 * operands `[op, a, b]`: `load k` (the working state from checkpoint `k`),
 * `store k` (checkpoint `k` from the working state), `advance a b` (steps
 * `a … b − 1` forward), `reverse i` (step `i` forward from the working
 * state, keeping what its VJP needs, then the VJP and output `i`'s
 * cotangent).
 *
 * @example
 * ```ts
 * import { SCHEDULE } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(Object.values(SCHEDULE), [0, 1, 2, 3]);
 * ```
 */
export const SCHEDULE: {
  readonly load: 0;
  readonly store: 1;
  readonly advance: 2;
  readonly reverse: 3;
} = Object.freeze({ load: 0, store: 1, advance: 2, reverse: 3 });
const { load: LOAD, store: STORE, advance: ADVANCE, reverse: REVERSE } = SCHEDULE;

/**
 * The binomial schedule of `steps` steps with `c` checkpoints, as
 * {@link checkpointedGradient} walks it: the grid points the forward sweep
 * stores (checkpoint `k` at `positions[k]`) and the backward pass as a
 * program of `[op, a, b]` triples ({@link SCHEDULE}), for an implementation
 * that cannot recurse (the GPU's whole-solve kernels) or that counts steps.
 *
 * @param steps Steps `N ≥ 1`.
 * @param c Checkpoints, `1 ≤ c ≤ N + 1`.
 * @returns Positions and program.
 *
 * @example Three steps, two checkpoints
 * ```ts
 * import { binomialSchedule } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 *
 * const { positions, program } = binomialSchedule(3, 2);
 * assert.deepEqual(positions, [0, 1]);
 * // steps 2 and 1 from checkpoint 1 (at 1), then step 0 from checkpoint 0
 * assert.deepEqual(program, [
 *   [0, 1, 0], [2, 1, 2], [3, 2, 0], [0, 1, 0], [3, 1, 0], [0, 0, 0], [3, 0, 0],
 * ]);
 * ```
 */
export function binomialSchedule(
  steps: number,
  c: number,
): { positions: number[]; program: [number, number, number][] } {
  const positions = [0];
  let at = 0, k = 0;
  while (c - k >= 2 && steps - at >= 2) {
    at += binomialSplit(steps - at, c - k);
    k++;
    positions.push(at);
  }
  const program: [number, number, number][] = [];
  /** Reverses steps `[a, b)`; the state at `a` is in checkpoint `k`, `free` of them from `k` on. */
  const reverse = (a: number, b: number, k: number, free: number): void => {
    if (b - a === 1) {
      program.push([LOAD, k, 0], [REVERSE, a, 0]);
      return;
    }
    if (free === 1) {
      for (let i = b - 1; i >= a; i--) {
        program.push([LOAD, k, 0]);
        if (i > a) program.push([ADVANCE, a, i]);
        program.push([REVERSE, i, 0]);
      }
      return;
    }
    const m = a + binomialSplit(b - a, free);
    program.push([LOAD, k, 0], [ADVANCE, a, m], [STORE, k + 1, 0]);
    reverse(m, b, k + 1, free - 1);
    reverse(a, m, k, free);
  };
  for (let j = positions.length - 1; j >= 0; j--) {
    const end = j === positions.length - 1 ? steps : positions[j + 1];
    reverse(positions[j], end, j, c - j);
  }
  return { positions, program };
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
