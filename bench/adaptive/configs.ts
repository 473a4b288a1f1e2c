/**
 * The gradient methods the adaptive section measures, in table order, and
 * what each gives `solve()`: its coupling, its gradient spec, and the
 * controller every row shares.
 *
 * @module
 */

import { type GradientMethodName, type GradientSpec, pid, type PidController } from "../../mod.ts";
import {
  ADAPTIVE_CHECKPOINT_EVERY,
  ADAPTIVE_COUPLING,
  ADAPTIVE_MAX_STEPS,
  ADAPTIVE_TOLERANCE,
  CLOSER_COUPLING,
} from "./setting.ts";

/** One gradient method with its settings. */
export interface AdaptiveConfig {
  /** Label shown in the table. */
  readonly label: string;
  /** The gradient method. */
  readonly method: GradientMethodName;
  /** Coupling λ of the reversible scheme (default {@link ADAPTIVE_COUPLING}). */
  readonly coupling?: number;
  /** Reversible: store the state every this many steps (the row runs only when N > it). */
  readonly checkpointEvery?: number;
}

/** The configurations measured, in table order. Every method integrates reversible Bosh3. */
export const ADAPTIVE_CONFIGS: readonly AdaptiveConfig[] = [
  { label: "reversible", method: "reversible" },
  { label: "checkpointed", method: "checkpointed" },
  { label: "direct", method: "direct" },
  {
    label: `reversible K=${ADAPTIVE_CHECKPOINT_EVERY}`,
    method: "reversible",
    checkpointEvery: ADAPTIVE_CHECKPOINT_EVERY,
  },
  { label: `reversible λ=${CLOSER_COUPLING}`, method: "reversible", coupling: CLOSER_COUPLING },
  { label: `direct λ=${CLOSER_COUPLING}`, method: "direct", coupling: CLOSER_COUPLING },
];

/**
 * Coupling λ a configuration integrates with.
 *
 * @param config A configuration.
 * @returns λ.
 *
 * @example
 * ```ts
 * import { couplingOf } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(couplingOf({ label: "r", method: "reversible" }), 0.999);
 * assert.equal(couplingOf({ label: "r", method: "reversible", coupling: 0.5 }), 0.5);
 * ```
 */
export function couplingOf(config: AdaptiveConfig): number {
  return config.coupling ?? ADAPTIVE_COUPLING;
}

/**
 * The controller of every row: a fresh one per solve.
 *
 * @returns PID at rtol = atol = {@link ADAPTIVE_TOLERANCE}.
 *
 * @example
 * ```ts
 * import { controller } from "./configs.ts";
 * import assert from "node:assert/strict";
 * const c = controller();
 * assert.equal(c.rtol, 1e-6);
 * assert.equal(c.maxSteps, 1_000_000);
 * ```
 */
export function controller(): PidController {
  return pid({ rtol: ADAPTIVE_TOLERANCE, atol: ADAPTIVE_TOLERANCE, maxSteps: ADAPTIVE_MAX_STEPS });
}

/**
 * The gradient spec `solve()` gets for a configuration.
 *
 * @param config A configuration.
 * @param unchecked Reversible: switch the reconstruction check off (the diagnostic rerun).
 * @returns The spec.
 *
 * @example
 * ```ts
 * import { specOf } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(specOf({ label: "K", method: "reversible", checkpointEvery: 20 }), {
 *   method: "reversible",
 *   checkpointEvery: 20,
 * });
 * assert.equal(specOf({ label: "d", method: "direct" }, true), "direct");
 * ```
 */
export function specOf(config: AdaptiveConfig, unchecked = false): GradientSpec {
  if (config.method !== "reversible") return config.method;
  return {
    method: "reversible",
    ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
    ...(unchecked ? { reconstructionTolerance: Infinity } : {}),
  };
}
