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
 * `floor(−1.5 + √(2N + 0.25)) + 1` (44 for N = 1000), and at least 1: the
 * initial state is always stored, even for a solve that failed before its
 * first step (N = 0, where the formula gives 0).
 *
 * @param steps Number of steps `N`.
 * @returns The default `c`.
 *
 * @example
 * ```ts
 * import { defaultCheckpoints } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultCheckpoints(1000), 44);
 * assert.equal(defaultCheckpoints(0), 1);
 * ```
 */
export function defaultCheckpoints(steps: number): number {
  return Math.max(1, Math.floor(-1.5 + Math.sqrt(2 * steps + 0.25)) + 1);
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
 * One instruction of a binomial schedule, `[op, a, b]` ({@link SCHEDULE}).
 *
 * @example
 * ```ts
 * import { binomialSchedule, SCHEDULE, type ScheduleInstruction } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 *
 * // Replaying a schedule on step indices: every step is reversed once, from the last,
 * // each from its own state.
 * const { positions, program } = binomialSchedule(5, 2);
 * const slots = positions.slice(); // checkpoint k holds the state at positions[k]
 * let state = 5;
 * const reversed: number[] = [];
 * for (const [op, a, b] of program as ScheduleInstruction[]) {
 *   if (op === SCHEDULE.load) state = slots[a];
 *   else if (op === SCHEDULE.store) slots[a] = state;
 *   else if (op === SCHEDULE.advance) {
 *     assert.equal(state, a);
 *     state = b;
 *   } else {
 *     assert.equal(state, a);
 *     reversed.push(a);
 *     state = a + 1;
 *   }
 * }
 * assert.deepEqual(reversed, [4, 3, 2, 1, 0]);
 * ```
 */
export type ScheduleInstruction = [op: number, a: number, b: number];

/**
 * The grid points the forward sweep of a binomial schedule stores:
 * checkpoint `k` holds the state at `positions[k]`, the first chain of
 * splits the recursion would make.
 *
 * @param steps Steps `N ≥ 1`.
 * @param c Checkpoints, `1 ≤ c ≤ N + 1`.
 * @returns The positions, starting at 0.
 *
 * @example
 * ```ts
 * import { binomialPositions } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(binomialPositions(3, 2), [0, 1]);
 * assert.deepEqual(binomialPositions(10, 1), [0]);
 * ```
 */
export function binomialPositions(steps: number, c: number): number[] {
  const positions = [0];
  let at = 0, k = 0;
  while (c - k >= 2 && steps - at >= 2) {
    at += binomialSplit(steps - at, c - k);
    k++;
    positions.push(at);
  }
  return positions;
}

/**
 * Walks the backward pass of a binomial schedule, calling `visit` with each
 * instruction in order; the checkpoints start as {@link binomialPositions}
 * places them. The recursion is O(c) deep and nothing is collected, so the
 * walk holds O(c) memory however long the program; every checkpointed
 * gradient (CPU, GPU per-step, GPU whole-solve) runs this one walk.
 *
 * @param steps Steps `N ≥ 1`.
 * @param c Checkpoints, `1 ≤ c ≤ N + 1`.
 * @param visit Receives `op, a, b` ({@link SCHEDULE}).
 *
 * @example
 * ```ts
 * import { binomialWalk, SCHEDULE } from "./checkpointed.ts";
 * import assert from "node:assert/strict";
 * const reversed: number[] = [];
 * binomialWalk(4, 2, (op, a) => {
 *   if (op === SCHEDULE.reverse) reversed.push(a);
 * });
 * assert.deepEqual(reversed, [3, 2, 1, 0]);
 * ```
 */
export function binomialWalk(
  steps: number,
  c: number,
  visit: (op: number, a: number, b: number) => void,
): void {
  const positions = binomialPositions(steps, c);
  /** Reverses steps `[a, b)`; the state at `a` is in checkpoint `k`, `free` of them from `k` on. */
  const reverse = (a: number, b: number, k: number, free: number): void => {
    if (b - a === 1) {
      visit(LOAD, k, 0);
      visit(REVERSE, a, 0);
      return;
    }
    if (free === 1) {
      for (let i = b - 1; i >= a; i--) {
        visit(LOAD, k, 0);
        if (i > a) visit(ADVANCE, a, i);
        visit(REVERSE, i, 0);
      }
      return;
    }
    const m = a + binomialSplit(b - a, free);
    visit(LOAD, k, 0);
    visit(ADVANCE, a, m);
    visit(STORE, k + 1, 0);
    reverse(m, b, k + 1, free - 1);
    reverse(a, m, k, free);
  };
  for (let j = positions.length - 1; j >= 0; j--) {
    const end = j === positions.length - 1 ? steps : positions[j + 1];
    reverse(positions[j], end, j, c - j);
  }
}

/**
 * The binomial schedule of `steps` steps with `c` checkpoints collected:
 * {@link binomialPositions} and the {@link binomialWalk} as a program of
 * `[op, a, b]` triples, for an implementation that runs it as data (the
 * GPU's whole-solve kernels) or counts steps. O(N) long; the walkers that
 * can call back use {@link binomialWalk} instead.
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
): { positions: number[]; program: ScheduleInstruction[] } {
  const program: ScheduleInstruction[] = [];
  binomialWalk(steps, c, (op, a, b) => program.push([op, a, b]));
  return { positions: binomialPositions(steps, c), program };
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
  const positions = binomialPositions(steps, c);
  const slots: Float64Array[][] = [];
  for (let k = 0; k < c; k++) slots.push(newState(problem));
  const work = newState(problem);
  const after = newState(problem);
  const bar = newState(problem);
  const paramsBar = meter.f64(params.length);
  const tsBar = meter.f64(problem.outputs.plan.ts.length);
  let chainStored = false;
  let cotangents: Float64Array = new Float64Array(0);

  /** The forward sweep: the checkpoints at `positions`, and with `ys` the rest of the solve. */
  function storeChain(ys?: Float64Array): void {
    scheme.init(grid.time(0), problem.y0, params, slots[0]);
    if (ys) record(problem, 0, slots[0], ys);
    for (let k = 1; k < positions.length; k++) {
      copyState(slots[k - 1], slots[k]);
      advance(problem, slots[k], positions[k - 1], positions[k], ys);
    }
    if (ys) {
      copyState(slots[positions.length - 1], work);
      advance(problem, work, positions[positions.length - 1], steps, ys);
    }
    chainStored = true;
  }

  /** One instruction of the walk back, on the working state. */
  function run(op: number, a: number, b: number): void {
    if (op === LOAD) copyState(slots[a], work);
    else if (op === STORE) copyState(work, slots[a]);
    else if (op === ADVANCE) advance(problem, work, a, b);
    else {
      copyState(work, after);
      const t = grid.time(a);
      scheme.step(t, grid.time(a + 1) - t, params, after);
      stepBackward(problem, a, work[0], after, bar, paramsBar, tsBar, cotangents);
    }
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
      binomialWalk(steps, c, run);
      chainStored = false;
      const y0Bar = finishAtStart(problem, bar, paramsBar, cotangents);
      return { y0: y0Bar, params: paramsBar.slice(), ts: tsBar.slice() };
    },
  };
}
