/**
 * The adaptive section's setting (issue 3): the controller's tolerance, the
 * time spans, the couplings, the chaotic field's seed and initial state, and
 * the words the report's header gives them.
 *
 *     deno run --allow-read --allow-env --allow-sys bench/bench.ts --section adaptive
 *
 * A chaotic, double-pendulum-like MLP vector field (field.ts: 4 → 32 tanh → 4,
 * weights tied so that it is the Hamiltonian field of a two-degree-of-freedom
 * system) is integrated by reversible Bosh3 under a PID controller
 * (rtol = atol = 1e-6) over growing time spans; one gradient per method and
 * span, with its time, held bytes, accepted and rejected steps, and how far
 * the reversible backward pass drifted. The chaos is measured, not assumed:
 * the report gives the growth of a 1e-8 perturbation of y0 at each span.
 *
 * The reversible gradient holds a constant state plus the accepted step times
 * (8 bytes each); the benchmark checks that accounting exactly from the
 * library's MemoryMeter (`stats.peakBytes`).
 *
 * @module
 */

import type { AdaptiveResult } from "./result.ts";

/** Relative and absolute tolerance of the controller (the paper's double-pendulum setting). */
export const ADAPTIVE_TOLERANCE = 1e-6;
/** `maxSteps` of the controller: far above what the longest span needs (~12 300 tries). */
export const ADAPTIVE_MAX_STEPS = 1_000_000;
/** Time spans of the full benchmark (T = 64 takes about half a second per gradient). */
export const ADAPTIVE_SPANS: readonly number[] = [1, 4, 16, 64];
/** Time spans of `--quick`. */
export const QUICK_ADAPTIVE_SPANS: readonly number[] = [1, 4];
/** Coupling λ of the reversible scheme for the main rows (the library default). */
export const ADAPTIVE_COUPLING = 0.999;
/** A coupling closer to 1, for the extra rows that show what it buys over long spans. */
export const CLOSER_COUPLING = 0.99999;
/** Reconstruction checkpoint interval of the "reversible K" row (runs only when N > K). */
export const ADAPTIVE_CHECKPOINT_EVERY = 1_000;
/** Size of the perturbation of y0 whose growth measures the chaos. */
export const PERTURBATION = 1e-8;
/** Initial state `(q1, q2, p1, p2)`. */
export const CHAOTIC_Y0: readonly number[] = [1, 0, 0, 1];
/** Seed of the chaotic field's weights (field.ts). */
export const CHAOTIC_SEED = 5;
/** Scale of the chaotic field's weights and biases, `U(−gain, gain)`. */
export const CHAOTIC_GAIN = 2;
/** Relative gradient error vs direct above which a gradient counts as wrong. */
export const GRADIENT_TOLERANCE = 1e-6;

/**
 * The settings a run records, in the words of the report's header.
 *
 * @param spans The spans run, ascending.
 * @returns The settings.
 *
 * @example
 * ```ts
 * import { adaptiveSettings } from "./setting.ts";
 * import assert from "node:assert/strict";
 * const s = adaptiveSettings([1, 4]);
 * assert.deepEqual(s.y0, [1, 0, 0, 1]);
 * assert.match(s.controller, /^pid\(\{ rtol: 1e-6, atol: 1e-6, maxSteps: 1000000 \}\)/);
 * ```
 */
export function adaptiveSettings(spans: number[]): AdaptiveResult["settings"] {
  return {
    spans,
    field: "Mlp { dim: 4, widths: [32], activation: tanh } (autonomous), weights tied to a " +
      `Hamiltonian H(q, p) (chaoticField(seed ${CHAOTIC_SEED}, gain ${CHAOTIC_GAIN}))`,
    y0: [...CHAOTIC_Y0],
    scheme: `reversible(bosh3, { coupling: ${ADAPTIVE_COUPLING} }) for every method ` +
      `(λ = ${CLOSER_COUPLING} on the λ rows)`,
    controller:
      `pid({ rtol: ${ADAPTIVE_TOLERANCE.toExponential(0)}, atol: ${
        ADAPTIVE_TOLERANCE.toExponential(0)
      }, maxSteps: ` +
      `${ADAPTIVE_MAX_STEPS} }) (Diffrax defaults otherwise)`,
    saveAt: "{ t0: true, steps: true } (every accepted step)",
    loss: "MSE against a zero target over every saved point",
    timing: "solve() + loss cotangent + sol.backward(); one warm-up per configuration and " +
      "span, then the median of the repetitions, round robin over the configurations",
    chaos: `growth of a ${PERTURBATION} perturbation of y0[0], plain(dopri5) at ` +
      "rtol = atol = 1e-12",
  };
}

/** The notes of the report's header: what is held, what the extra rows are, what † means. */
export const ADAPTIVE_NOTES: readonly string[] = [
  "The reversible method holds only the N accepted step times (8 bytes each) beyond its " +
  "constant state (states, stage buffers, cotangents); checked exactly below from " +
  "stats.peakBytes (the library's MemoryMeter). Every method holds the step times; " +
  "checkpointed adds c stored states, direct every state and stage.",
  `"reversible K=${ADAPTIVE_CHECKPOINT_EVERY}" stores the state every ` +
  `${ADAPTIVE_CHECKPOINT_EVERY} accepted steps (runs only when N > K); the λ=${CLOSER_COUPLING} ` +
  "rows take their own accepted steps (the coupling changes the solution slightly), so " +
  `they are compared with direct at λ = ${CLOSER_COUPLING}.`,
  "grad err = max|∂L/∂θ − ∂L/∂θ(direct)| / max|∂L/∂θ(direct)|, direct with the same λ " +
  "and span (the exact gradient of the same accepted-step sequence). max|∂L/∂θ| grows " +
  "with the span: that is the chaos.",
  "A configuration whose backward() throws is a failed row (its reason below); for a " +
  "failed reversible row, † marks values from the same solve rerun with " +
  "reconstructionTolerance: Infinity, to show what the refused gradient would have been.",
];
