/**
 * How many trial steps a GPU training step records for its adaptive solve
 * (`GpuAdaptive.trials`). The CPU cannot know how many steps a solve on the
 * GPU will take, and every recorded trial costs it its commands (about 50
 * dispatches for Bosh3 and a narrow network), even once the solve is done
 * and the trial's gate is closed. So the training loop records `maxSteps`
 * until it has read back how many trials the solves take, then about half
 * as many again; a solve that needs more than were recorded ends
 * `incomplete`, the trainer rewinds to before it, and it runs again with
 * twice as many (at most `maxSteps`, where an unfinished solve is a real
 * failure). Which steps a solve takes does not depend on how many were
 * recorded, so the results are those of recording `maxSteps` every time.
 *
 * @module
 */

/**
 * The policy: `learn` after each read-back, `raise` after a solve ran out.
 *
 * @example
 * ```ts
 * import { TrialBudget } from "./trial_budget.ts";
 * import assert from "node:assert/strict";
 *
 * const budget = new TrialBudget(1000);
 * assert.equal(budget.learn(0), 1000); // nothing known yet
 * assert.equal(budget.learn(20), 34); // 1.5 × 20 + 4
 * assert.equal(budget.raise(34), 68);
 * assert.equal(budget.raise(800), 1000);
 * ```
 */
export class TrialBudget {
  /** The controller's `maxSteps`: the most ever recorded. */
  readonly maxSteps: number;

  /**
   * A policy for a controller's `maxSteps`.
   *
   * @param maxSteps The controller's `maxSteps` (an integer ≥ 1).
   * @throws {RangeError} When `maxSteps` is not an integer ≥ 1.
   */
  constructor(maxSteps: number) {
    if (!Number.isInteger(maxSteps) || maxSteps < 1) {
      throw new RangeError(`Invalid maxSteps: got ${maxSteps}; expected an integer >= 1.`);
    }
    this.maxSteps = maxSteps;
  }

  /**
   * Trials to record once the solves so far took at most `most` trials
   * (accepted and rejected): `⌈1.5 most⌉ + 4`, at most `maxSteps`;
   * `maxSteps` while nothing is known (`most` = 0).
   *
   * @param most The most trials any solve took.
   * @returns Trials to record.
   */
  learn(most: number): number {
    if (!(most > 0)) return this.maxSteps;
    return Math.min(this.maxSteps, Math.ceil(1.5 * most) + 4);
  }

  /**
   * Trials to record after a solve ran out of `current`: twice as many, at
   * most `maxSteps`.
   *
   * @param current Trials that were recorded.
   * @returns Trials to record.
   */
  raise(current: number): number {
    return Math.min(this.maxSteps, 2 * current);
  }
}
