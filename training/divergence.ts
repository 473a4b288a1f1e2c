/**
 * What a diverged training run says, on either backend: why it stopped (a
 * non-finite loss, a non-finite gradient, a failed adaptive solve), as a
 * sentence fragment naming the iteration, and the usual remedies, naming
 * the settings to change with their current values.
 *
 * @example
 * ```ts
 * import { lossReason, gradientReason } from "./divergence.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(lossReason(NaN, 3), "the loss is NaN at iteration 3: the solution blew up");
 * assert.match(gradientReason(4, 0.5, { index: 2, value: Infinity }), /∂L\/∂θ\[2\] = Infinity/);
 * ```
 *
 * @module
 */

import type { TrainConfig } from "./train.ts";

/**
 * Why a run stopped when an iteration's loss is not finite.
 *
 * @param loss The loss (NaN or ±Infinity).
 * @param iteration 1-based iteration.
 * @returns The reason, without a final period.
 *
 * @example
 * ```ts
 * import { lossReason } from "./divergence.ts";
 * import assert from "node:assert/strict";
 * assert.match(lossReason(Infinity, 1), /loss is Infinity at iteration 1/);
 * ```
 */
export function lossReason(loss: number, iteration: number): string {
  return `the loss is ${loss} at iteration ${iteration}: the solution blew up`;
}

/**
 * Why a run stopped when an iteration's gradient is not finite.
 *
 * @param iteration 1-based iteration.
 * @param loss Its (finite) loss.
 * @param bad The first non-finite gradient entry, when known.
 * @returns The reason, without a final period.
 *
 * @example
 * ```ts
 * import { gradientReason } from "./divergence.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   gradientReason(2, 0.25, null),
 *   "the gradient is not finite at iteration 2 (loss 0.25)",
 * );
 * ```
 */
export function gradientReason(
  iteration: number,
  loss: number,
  bad: { index: number; value: number } | null,
): string {
  return `the gradient is not finite at iteration ${iteration} ` +
    (bad === null ? `(loss ${loss})` : `(∂L/∂θ[${bad.index}] = ${bad.value}, loss ${loss})`);
}

/**
 * The remedies for a diverged run, as sentences naming the settings to change.
 *
 * @param config The configuration that diverged.
 * @returns Suggestions, most likely to help first.
 *
 * @example
 * ```ts
 * import { divergenceRemedies } from "./divergence.ts";
 * import { defaultConfig } from "./train.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 1000,
 * });
 * const remedies = divergenceRemedies(config);
 * assert.ok(remedies.some((r) => r.includes("coupling")));
 * assert.ok(remedies.some((r) => r.includes("weight decay")));
 * ```
 */
export function divergenceRemedies(config: TrainConfig): string[] {
  const remedies = config.adaptive
    ? [
      `tighter tolerances or more steps (now rtol ${config.adaptive.rtol}, atol ` +
      `${config.adaptive.atol}, at most ${config.adaptive.maxSteps} steps), or fixed steps`,
    ]
    : [`a smaller step: more solver steps (now ${config.steps}; e.g. ${2 * config.steps})`];
  if (
    config.scheme === "reversible" && config.solver !== "reversible-heun" &&
    config.solver !== "leapfrog"
  ) {
    remedies.push(
      `a smaller coupling λ (now ${config.coupling}; e.g. 0.9 or 0.5): the reversible scheme ` +
        `is more stable forward for smaller λ (numerics.md §2)`,
    );
  }
  remedies.push(
    `more weight decay on the vector field (now ${config.weightDecay}; e.g. ${
      Math.max(1e-4, config.weightDecay * 10)
    })`,
    `a smaller learning rate (now ${config.lr}) or gradient clipping (now ${
      config.clip === null ? "off" : config.clip
    }; e.g. 1)`,
  );
  return remedies;
}
