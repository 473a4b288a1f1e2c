/**
 * `--seeds` of `deno task experiments`: which seeds to run every comparison
 * on. One seed is not a result (the white dwarf's best loss over seeds 0–9
 * spans more than two decades), so the comparison is summarised per method
 * by medians over the seeds (experiments_summary.ts).
 *
 * @module
 */

import { UsageError } from "./flags.ts";

/** The forms `--seeds` takes, as the refusals name them. */
const _ALLOWED = "a seed (7), a range A-B with A ≤ B (0-9), or a comma-separated list of " +
  "these (0,3,5 or 0-4,10); seeds are integers, negative ones too (-3--1)";

/**
 * Reads `--seeds`: a seed, a range `A-B`, or a comma-separated list of
 * seeds and ranges, in the order given.
 *
 * @param text The flag's value.
 * @returns The seeds, each once.
 * @throws {UsageError} Naming the flag, the value and the allowed forms, for an
 * empty item, a non-integer, a range that runs backwards or a seed given twice.
 *
 * @example
 * ```ts
 * import { parseSeeds } from "./experiments_seeds.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseSeeds("0-3"), [0, 1, 2, 3]);
 * assert.deepEqual(parseSeeds("0,3,5"), [0, 3, 5]);
 * assert.deepEqual(parseSeeds("-2--1,7"), [-2, -1, 7]);
 * assert.throws(() => parseSeeds("5-1"), /--seeds: "5-1"\. The range 5-1 runs backwards/);
 * assert.throws(() => parseSeeds("1,1"), /seed 1 is given twice/);
 * ```
 */
export function parseSeeds(text: string): number[] {
  const refuse = (why: string): never => {
    throw new UsageError(
      `invalid value for --seeds: ${JSON.stringify(text)}. ${why} Allowed: ${_ALLOWED}.`,
    );
  };
  const seeds: number[] = [];
  for (const item of text.split(",")) {
    const match = /^\s*(-?\d+)(?:-(-?\d+))?\s*$/.exec(item);
    if (match === null) {
      refuse(
        item.trim() === "" ? "It has an empty item." : `${JSON.stringify(item)} is not a seed.`,
      );
    }
    const [from, to] = [Number(match![1]), Number(match![2] ?? match![1])];
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
      refuse(`${JSON.stringify(item)} is beyond 2^53 − 1 in absolute value.`);
    }
    if (to < from) refuse(`The range ${item.trim()} runs backwards.`);
    // a typo such as 0-99999999 would queue years of training
    if (to - from >= 10_000) refuse(`The range ${item.trim()} holds more than 10 000 seeds.`);
    for (let seed = from; seed <= to; seed++) {
      if (seeds.includes(seed)) refuse(`The seed ${seed} is given twice.`);
      seeds.push(seed);
    }
  }
  return seeds;
}
