/**
 * What the adaptive section produces: a row per configuration and span, the
 * growth of a perturbation per span, the checks, and the whole result that
 * `--json` prints under `adaptive`.
 *
 * @module
 */

import type { GradientMethodName } from "../../mod.ts";
import type { Diagnostic } from "../failure.ts";
import type { MachineInfo } from "../machine.ts";

/** One row: a configuration at one time span. */
export interface AdaptiveRow {
  /** Table label. */
  label: string;
  /** Gradient method. */
  method: GradientMethodName;
  /** Coupling λ of the reversible Bosh3 scheme. */
  coupling: number;
  /** Reconstruction checkpoint interval K (reversible with K only), else null. */
  checkpointEvery: number | null;
  /** States stored by the K row: `⌊(N − 1) / K⌋`; 0 for other reversible rows, null otherwise. */
  storedStates: number | null;
  /** Checkpoints (checkpointed only: `defaultCheckpoints(N)`), else null. */
  c: number | null;
  /** End of the time span [0, T]. */
  span: number;
  /** Accepted steps N. */
  accepted: number | null;
  /** Rejected steps. */
  rejected: number | null;
  /** The first sentence of the error `backward()` threw, or null when it returned a gradient. */
  failed: string | null;
  /** The whole error message of a failed row. */
  failedMessage: string | null;
  /** Median milliseconds per gradient (solve + cotangent + backward); null when failed. */
  ms: number | null;
  /** Fastest repetition. */
  msMin: number | null;
  /** Warm-up time; for a failed row, the time until `backward()` threw. */
  msWarmup: number | null;
  /** Timed repetitions (warm-up excluded). */
  repetitions: number;
  /** `ms / ms(direct)` at the same span and λ. */
  timeRatio: number | null;
  /** `stats.peakBytes`. */
  peakBytes: number | null;
  /** `peakBytes / N`. */
  bytesPerStep: number | null;
  /** `stats.evaluations / N` (forward, rejected tries, replay and backward). */
  evaluationsPerStep: number | null;
  /** `stats.vjps / N`. */
  vjpsPerStep: number | null;
  /** `stats.reconstructionError` (reversible). */
  reconstructionError: number | null;
  /** `max |∂L/∂θ − ∂L/∂θ(direct)| / max |∂L/∂θ(direct)|`, direct with the same λ and span. */
  gradientError: number | null;
  /** `max |∂L/∂θ|` (grows with the span: the chaos). */
  gradientMax: number | null;
  /** The loss. */
  loss: number | null;
  /** Whether the outputs and the gradient were finite. */
  finite: boolean | null;
  /** Failed reversible rows: the same solve with `reconstructionTolerance: Infinity`. */
  diagnostic: Diagnostic | null;
}

/** Growth of a small perturbation of y0 over one span. */
export interface ChaosRow {
  /** End of the span. */
  span: number;
  /** `max |y(T; y0 + δ e_1) − y(T; y0)| / δ`. */
  growth: number;
  /** `ln(growth) / T`. */
  lyapunov: number;
}

/** A check. */
export interface AdaptiveCheck {
  /** What is checked. */
  name: string;
  /** PASS, FAIL, or SKIP when the numbers it needs were not measured. */
  status: "PASS" | "FAIL" | "SKIP";
  /** The measured numbers. */
  detail: string;
}

/** Everything an adaptive run produced. */
export interface AdaptiveResult {
  /** Settings. */
  settings: {
    spans: number[];
    field: string;
    y0: number[];
    scheme: string;
    controller: string;
    saveAt: string;
    loss: string;
    timing: string;
    chaos: string;
  };
  /** Notes printed in the header. */
  notes: string[];
  /** Machine, when the caller supplied it. */
  machine: MachineInfo | null;
  /** Perturbation growth per span (empty when not measured). */
  chaos: ChaosRow[];
  /** One row per configuration and span. */
  rows: AdaptiveRow[];
  /** Checks. */
  checks: AdaptiveCheck[];
  /** What the numbers mean, in a sentence or two. */
  summary: string[];
  /** Bytes of one reversible Bosh3 state `[y, z]` of this field (one stored checkpoint). */
  stateBytes: number;
  /** Wall time of the section, seconds. */
  totalSeconds: number;
}
