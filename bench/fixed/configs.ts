/**
 * The gradient methods the fixed-step section measures, in table order, and
 * what each becomes at a size N: its scheme, its gradient spec, its number of
 * checkpoints, and which rows it compares with.
 *
 * @module
 */

import type { GradientMethodName, GradientSpec } from "../../mod.ts";
import {
  COUPLING,
  RECONSTRUCTION_CHECKPOINT_EVERY,
  SAFE_COUPLING,
  SAFE_COUPLING_FROM,
} from "./setting.ts";
import { defaultCheckpoints } from "../../solvers/gradients/checkpointed.ts";

/** One gradient method with its settings. */
export interface BenchConfig {
  /** Label shown in the table. */
  readonly label: string;
  /** The gradient method. */
  readonly method: GradientMethodName;
  /** Checkpointed: number of checkpoints, or "default" for `defaultCheckpoints(N)`. */
  readonly checkpoints?: number | "default";
  /** Reversible: store the state every this many steps (the row runs only for N > it). */
  readonly checkpointEvery?: number;
  /** The scheme: reversible RK4 with λ = {@link COUPLING} (default) or plain RK4 (reference rows). */
  readonly scheme?: "reversible" | "plain";
  /** Coupling λ of the reversible scheme (default {@link COUPLING}). */
  readonly coupling?: number;
  /** The row runs only for N ≥ this. */
  readonly minSteps?: number;
}

/** The configurations measured, in table order. */
export const CONFIGS: readonly BenchConfig[] = [
  { label: "reversible", method: "reversible" },
  { label: "direct", method: "direct" },
  { label: "checkpointed", method: "checkpointed", checkpoints: "default" },
  { label: "checkpointed", method: "checkpointed", checkpoints: 8 },
  { label: "checkpointed", method: "checkpointed", checkpoints: 2 },
  { label: "backsolve", method: "backsolve" },
  {
    label: `reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}`,
    method: "reversible",
    checkpointEvery: RECONSTRUCTION_CHECKPOINT_EVERY,
  },
  {
    label: `reversible λ=${SAFE_COUPLING}`,
    method: "reversible",
    coupling: SAFE_COUPLING,
    minSteps: SAFE_COUPLING_FROM,
  },
  {
    label: `direct λ=${SAFE_COUPLING}`,
    method: "direct",
    coupling: SAFE_COUPLING,
    minSteps: SAFE_COUPLING_FROM,
  },
  { label: "direct, plain RK4", method: "direct", scheme: "plain" },
  {
    label: "checkpointed, plain RK4",
    method: "checkpointed",
    checkpoints: "default",
    scheme: "plain",
  },
];

/**
 * Labels the ratios may divide by, in order of preference: reversible, then
 * its two remedies (a closer coupling, stored states) where it failed.
 */
export const RATIO_BASES: readonly string[] = [
  "reversible",
  `reversible λ=${SAFE_COUPLING}`,
  `reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}`,
];

/**
 * Checkpoints a checkpointed configuration uses at N (never more than the
 * N + 1 states there are).
 *
 * @param config A configuration.
 * @param n Number of steps N.
 * @returns The checkpoints, or null for other methods.
 *
 * @example
 * ```ts
 * import { checkpointsOf } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(checkpointsOf({ label: "c", method: "checkpointed", checkpoints: 8 }, 5), 6);
 * assert.equal(checkpointsOf({ label: "d", method: "direct" }, 5), null);
 * ```
 */
export function checkpointsOf(config: BenchConfig, n: number): number | null {
  if (config.method !== "checkpointed") return null;
  const c = config.checkpoints === undefined || config.checkpoints === "default"
    ? defaultCheckpoints(n)
    : config.checkpoints;
  return Math.min(c, n + 1);
}

/**
 * The gradient spec `solve()` gets for a configuration at N.
 *
 * @param config A configuration.
 * @param n Number of steps N.
 * @param unchecked Reversible: switch the reconstruction check off (the diagnostic rerun).
 * @returns The spec.
 *
 * @example
 * ```ts
 * import { gradientSpec } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(gradientSpec({ label: "r", method: "reversible" }, 100, true), {
 *   method: "reversible",
 *   reconstructionTolerance: Infinity,
 * });
 * assert.equal(gradientSpec({ label: "d", method: "direct" }, 100), "direct");
 * ```
 */
export function gradientSpec(config: BenchConfig, n: number, unchecked = false): GradientSpec {
  if (config.method === "checkpointed") {
    return { method: "checkpointed", checkpoints: checkpointsOf(config, n)! };
  }
  if (config.method === "reversible") {
    return {
      method: "reversible",
      ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
      ...(unchecked ? { reconstructionTolerance: Infinity } : {}),
    };
  }
  return config.method;
}

/**
 * Coupling λ a configuration integrates with.
 *
 * @param config A configuration.
 * @returns λ, or null on plain RK4.
 *
 * @example
 * ```ts
 * import { couplingOf } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(couplingOf({ label: "r", method: "reversible" }), 0.999);
 * assert.equal(couplingOf({ label: "p", method: "direct", scheme: "plain" }), null);
 * ```
 */
export function couplingOf(config: BenchConfig): number | null {
  return config.scheme === "plain" ? null : config.coupling ?? COUPLING;
}

/**
 * Rows with the same key compare with the same direct gradient.
 *
 * @param row A row's scheme and coupling.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { schemeKey } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(schemeKey({ scheme: "reversible", coupling: 0.999 }), "reversible λ=0.999");
 * assert.equal(schemeKey({ scheme: "plain", coupling: null }), "plain");
 * ```
 */
export function schemeKey(row: { scheme: string; coupling: number | null }): string {
  return row.scheme === "plain" ? "plain" : `reversible λ=${row.coupling}`;
}

/**
 * Configurations with the same key do the same work per step, so the time
 * of one at a smaller N predicts its time at a larger one.
 *
 * @param config A configuration.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { configKey } from "./configs.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   configKey({ label: "c", method: "checkpointed", checkpoints: 2 }),
 *   "reversible|0.999|checkpointed|2|",
 * );
 * ```
 */
export function configKey(config: BenchConfig): string {
  return `${config.scheme ?? "reversible"}|${couplingOf(config)}|${config.method}|${
    config.checkpoints ?? ""
  }|${config.checkpointEvery ?? ""}`;
}
