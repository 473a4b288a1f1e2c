/**
 * How both CPU sections time their gradients once every configuration at one
 * size is warmed up: repetitions taken round robin over the configurations,
 * so that a drift of the machine's speed (load, clock) spreads over them all
 * instead of landing on the one measured last.
 *
 * @module
 */

/** A configuration being timed: how many repetitions it gets and the times taken so far. */
export interface Timed {
  /** Repetitions it gets. */
  reps: number;
  /** Milliseconds of the repetitions taken so far. */
  samples: number[];
}

/**
 * Takes the timed repetitions, round robin: round r times every configuration
 * that gets more than r repetitions.
 *
 * @param active The configurations, each with its repetition count.
 * @param once Runs one repetition of a configuration and returns its milliseconds.
 *
 * @example
 * ```ts
 * import { roundRobin } from "./timing.ts";
 * import assert from "node:assert/strict";
 * const order: string[] = [];
 * const a = { name: "a", reps: 2, samples: [] as number[] };
 * const b = { name: "b", reps: 1, samples: [] as number[] };
 * roundRobin([a, b], (x) => (order.push(x.name), 1));
 * assert.deepEqual(order, ["a", "b", "a"]);
 * assert.deepEqual(a.samples, [1, 1]);
 * ```
 */
export function roundRobin<T extends Timed>(active: readonly T[], once: (a: T) => number): void {
  const rounds = Math.max(0, ...active.map((a) => a.reps));
  for (let r = 0; r < rounds; r++) {
    for (const a of active) {
      if (r < a.reps) a.samples.push(once(a));
    }
  }
}
