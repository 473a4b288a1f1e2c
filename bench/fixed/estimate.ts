/**
 * What a configuration would cost at a size not yet run, predicted from its
 * time at the previous size and a model of its work (evaluations and VJPs):
 * the fixed-step section skips, with this estimate as its reason, a
 * configuration too slow to run within the limit.
 *
 * @module
 */

import { type BenchConfig, checkpointsOf } from "./configs.ts";
import type { BenchRow } from "./result.ts";
import { binomialSchedule, SCHEDULE } from "../../solvers/gradients/checkpointed.ts";

/** A configuration's time and work at one size, the base of the estimate at the next. */
export interface Measured {
  /** Median milliseconds per gradient. */
  ms: number;
  /** Evaluations plus VJPs. */
  work: number;
  /** Vector-field evaluations (forward and backward). */
  evaluations: number;
  /** Vector-field VJPs. */
  vjps: number;
  /** Number of steps N. */
  n: number;
}

/**
 * Number of `scheme.step` calls a checkpointed gradient makes (forward solve
 * and backward pass), counted on the schedule of
 * `solvers/gradients/checkpointed.ts` (`binomialSchedule`) without running it.
 * Used to estimate the time of configurations too slow to run, and checked
 * against the measured evaluation counts.
 *
 * @param steps Number of steps N.
 * @param checkpoints Number of checkpoints c.
 * @returns Step calls.
 *
 * @example
 * ```ts
 * import { checkpointedStepCount } from "./estimate.ts";
 * import assert from "node:assert/strict";
 * // Enough checkpoints for every state: the forward solve, then one step back per step.
 * assert.equal(checkpointedStepCount(10, 11), 20);
 * // Fewer checkpoints: steps recomputed.
 * assert.ok(checkpointedStepCount(10, 2) > 20);
 * ```
 */
export function checkpointedStepCount(steps: number, checkpoints: number): number {
  const { program } = binomialSchedule(steps, Math.min(checkpoints, steps + 1));
  let count = steps; // the forward solve
  for (const [op, a, b] of program) {
    if (op === SCHEDULE.advance) count += b - a;
    else if (op === SCHEDULE.reverse) count += 1;
  }
  return count;
}

/**
 * A measured row's time and work, the base of its configuration's estimate at
 * the next size.
 *
 * @param row A row with a median time, evaluations and VJPs per step.
 * @returns Its time and work.
 *
 * @example
 * ```ts
 * import { measuredOf } from "./estimate.ts";
 * import type { BenchRow } from "./result.ts";
 * import assert from "node:assert/strict";
 * const row = { n: 100, ms: 2, evaluationsPerStep: 8, vjpsPerStep: 4 } as BenchRow;
 * assert.deepEqual(measuredOf(row), { ms: 2, work: 1200, evaluations: 800, vjps: 400, n: 100 });
 * ```
 */
export function measuredOf(row: BenchRow): Measured {
  const n = row.n;
  return {
    ms: row.ms!,
    work: (row.evaluationsPerStep! + row.vjpsPerStep!) * n,
    evaluations: row.evaluationsPerStep! * n,
    vjps: row.vjpsPerStep! * n,
    n,
  };
}

/**
 * Why a configuration is skipped at N: its estimated time per gradient,
 * scaled from the previous size by the predicted work (checkpointed: the
 * schedule model; the others: linear in N), when a warm-up and one repetition
 * would exceed the limit.
 *
 * @param config The configuration.
 * @param n Number of steps N.
 * @param previous Its time and work at the previous size, if it ran there.
 * @param limitMs The skip limit per configuration.
 * @returns The reason, or null when it runs.
 *
 * @example
 * ```ts
 * import { skipReason } from "./estimate.ts";
 * import assert from "node:assert/strict";
 * const direct = { label: "direct", method: "direct" } as const;
 * const previous = { ms: 400, work: 1200, evaluations: 800, vjps: 400, n: 100 };
 * assert.equal(skipReason(direct, 1000, previous, 60_000), null);
 * assert.match(skipReason(direct, 100_000, previous, 60_000)!, /^estimated 400\.0 s per gradient/);
 * assert.equal(skipReason(direct, 100_000, undefined, 60_000), null);
 * ```
 */
export function skipReason(
  config: BenchConfig,
  n: number,
  previous: Measured | undefined,
  limitMs: number,
): string | null {
  if (previous === undefined) return null;
  const c = checkpointsOf(config, n);
  let predicted: number;
  if (c !== null) {
    const perCall = previous.evaluations /
      checkpointedStepCount(previous.n, checkpointsOf(config, previous.n)!);
    predicted = perCall * checkpointedStepCount(n, c) + (previous.vjps * n) / previous.n;
  } else predicted = (previous.work * n) / previous.n;
  const estimate = (previous.ms * predicted) / previous.work;
  if (2 * estimate > limitMs) {
    return `estimated ${(estimate / 1000).toFixed(1)} s per gradient ` +
      `(${previous.ms.toFixed(1)} ms at N = ${previous.n} × predicted work ` +
      `${(predicted / previous.work).toFixed(0)}×, evaluations + VJPs); ` +
      `warm-up + 1 repetition would exceed the ${limitMs / 1000} s limit`;
  }
  return null;
}
