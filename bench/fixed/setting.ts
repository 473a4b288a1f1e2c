/**
 * The fixed-step section's setting (issue 2): step size, coupling, sizes,
 * limits and tolerances, and the words the report's header gives them.
 *
 * Setting (numerics.md §5.1, with the horizon stretched): time-dependent MLP
 * [t, y] (3) → 10 tanh → 2 with random init, reversible RK4 with coupling
 * λ = 0.999, h = 0.005, y0 = [1, 0], N steps over [0, 0.005·N], every step
 * saved ({ t0, steps }) and an MSE loss (target 0) whose cotangent is passed to
 * `backward()`. Every method integrates the same reversible scheme; two extra
 * reference rows (not in the target checks) run direct and checkpointed
 * gradients on plain RK4, the usual non-reversible baseline.
 *
 * The reversible backward pass refuses (throws) when the rebuilt y0 drifts
 * beyond `reconstructionTolerance` (1e-6): round-off grows like λ^(−N), so at
 * N = 100 000 with λ = 0.999 (N(1 − λ) = 100) it does. A configuration that
 * throws is a failed row with its reason, never a crash; extra rows with
 * λ = 0.9999 (N(1 − λ) = 10 at N = 100 000) and with a stored state every
 * 10 000 steps show the two remedies, and the memory targets are evaluated on
 * rows whose gradient is correct.
 *
 * @module
 */

import type { BenchResult } from "./result.ts";

/** Step size of the white-dwarf experiment. */
export const STEP = 0.005;
/** Coupling λ of the reversible scheme. */
export const COUPLING = 0.999;
/** The sizes of the full benchmark. */
export const FULL_SIZES: readonly number[] = [100, 1_000, 10_000, 100_000];
/** The sizes of `--quick`. */
export const QUICK_SIZES: readonly number[] = [100, 1_000];
/** A configuration whose warm-up plus one repetition would exceed this is skipped. */
export const DEFAULT_CONFIG_LIMIT_MS = 60_000;
/** Reconstruction checkpoint interval of the extra "reversible, K" row (runs only for N > K). */
export const RECONSTRUCTION_CHECKPOINT_EVERY = 10_000;
/** Coupling of the extra "reversible λ" rows: N(1 − λ) = 10 at N = 100 000. */
export const SAFE_COUPLING = 0.9999;
/** The extra λ rows run only for N ≥ this. */
export const SAFE_COUPLING_FROM = 10_000;
/** Relative gradient error vs direct above which a gradient counts as wrong. */
export const GRADIENT_TOLERANCE = 1e-6;
/** Largest `bytes(N = largest) / bytes(N = smallest)` of reversible's held bytes (issue 2). */
export const FLAT_MEMORY_RATIO = 1.05;

/**
 * The settings a run records, in the words of the report's header.
 *
 * @param sizes The sizes run, ascending.
 * @param configLimitMs The skip limit per configuration.
 * @returns The settings.
 *
 * @example
 * ```ts
 * import { fixedSettings } from "./setting.ts";
 * import assert from "node:assert/strict";
 * const s = fixedSettings([100, 1000], 60_000);
 * assert.deepEqual(s.sizes, [100, 1000]);
 * assert.equal(s.step, 0.005);
 * assert.match(s.scheme, /^reversible\(rk4, \{ coupling: 0\.999 \}\)/);
 * ```
 */
export function fixedSettings(sizes: number[], configLimitMs: number): BenchResult["settings"] {
  return {
    sizes,
    step: STEP,
    coupling: COUPLING,
    field: "Mlp { dim: 2, widths: [10], activation: tanh, timeDependent: true }, init(seed 0)",
    scheme: `reversible(rk4, { coupling: ${COUPLING} }) for every method ` +
      `(λ = ${SAFE_COUPLING} on the λ rows; plus reference rows on plain(rk4))`,
    y0: [1, 0],
    saveAt: "{ t0: true, steps: true } (every step)",
    loss: "MSE against a zero target over every saved point (training/loss.ts mseLossVjp)",
    timing: "solve() + loss cotangent + sol.backward(); one warm-up per configuration and N, " +
      "then the median of the repetitions, round robin over the configurations",
    configLimitMs,
  };
}

/** The notes of the report's header: what the columns count and what the extra rows are. */
export const FIXED_NOTES: readonly string[] = [
  "peakBytes is stats.peakBytes: bytes the gradient method holds (states, checkpoints, " +
  "tapes, stage buffers, cotangents). The saved outputs ys (every step, (N+1)·2·8 bytes) " +
  "and the returned gradients are the caller's and are NOT counted, by design.",
  "t1 = 0.005·N: the white-dwarf equation itself lives on [0, 5]; only the MLP " +
  "vector field (random init, bounded by tanh) is integrated here.",
  "evals/step and VJPs/step count the forward solve and the backward pass together.",
  "grad err = max|∂L/∂θ − ∂L/∂θ(direct)| / max|∂L/∂θ(direct)| at the same N " +
  "(direct is the exact gradient of the discrete scheme; rows are compared with direct on " +
  `the same scheme and λ: the λ=${SAFE_COUPLING} rows with "direct λ=${SAFE_COUPLING}", ` +
  "plain-RK4 rows with direct on plain RK4).",
  "The two plain-RK4 rows are references (the usual non-reversible baseline, half the " +
  "evaluations per step); they are not used in the target checks.",
  "The reversible backward pass throws when the rebuilt y0 drifts beyond " +
  "reconstructionTolerance (1e-6, relative): round-off grows like λ^(−N) ≈ e^{N(1−λ)}. " +
  "A configuration that throws is a FAILED row with its reason; † marks values from the " +
  "same solve rerun with reconstructionTolerance: Infinity (what the refused gradient " +
  "would have been).",
  `Extra rows: "reversible K=${RECONSTRUCTION_CHECKPOINT_EVERY}" stores the state every ` +
  `${RECONSTRUCTION_CHECKPOINT_EVERY} steps to bound the drift (runs only for ` +
  `N > ${RECONSTRUCTION_CHECKPOINT_EVERY}); "reversible λ=${SAFE_COUPLING}" and ` +
  `"direct λ=${SAFE_COUPLING}" integrate with λ = ${SAFE_COUPLING} (N(1−λ) = 10 at ` +
  `N = 100 000; run only for N ≥ ${SAFE_COUPLING_FROM}).`,
];
