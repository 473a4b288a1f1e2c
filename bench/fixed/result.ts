/**
 * What the fixed-step section produces: a row per configuration and size,
 * the target and sanity checks, and the whole result that `--json` prints.
 *
 * @module
 */

import type { GradientMethodName } from "../../mod.ts";
import type { Diagnostic } from "../failure.ts";
import type { MachineInfo } from "../machine.ts";

/** One row of the table: a configuration at one N. */
export interface BenchRow {
  /** Table label. */
  label: string;
  /** Gradient method. */
  method: GradientMethodName;
  /** Scheme integrated: reversible RK4 or plain RK4. */
  scheme: "reversible" | "plain";
  /** Coupling λ of the reversible scheme; null for plain RK4. */
  coupling: number | null;
  /** Number of steps. */
  n: number;
  /** Checkpoints used (checkpointed only), else null. */
  c: number | null;
  /** Reconstruction checkpoint interval (reversible with K only), else null. */
  checkpointEvery: number | null;
  /** Why the configuration was not measured, or null. */
  skipped: string | null;
  /** The first sentence of the error `backward()` threw, or null when it returned a gradient. */
  failed: string | null;
  /** The whole error message of a failed row. */
  failedMessage: string | null;
  /** Failed reversible rows: the same solve with `reconstructionTolerance: Infinity`. */
  diagnostic: Diagnostic | null;
  /** Median milliseconds per gradient (solve + loss cotangent + backward), null if skipped or failed. */
  ms: number | null;
  /** Fastest repetition. */
  msMin: number | null;
  /** Warm-up time (not in the median); for a failed row, the time until `backward()` threw. */
  msWarmup: number | null;
  /** Timed repetitions (warm-up excluded). */
  repetitions: number;
  /** `stats.peakBytes`. */
  peakBytes: number | null;
  /** `ms / ms(ratio base)` at the same N (see {@link BenchRow.ratioBase}). */
  timeRatio: number | null;
  /** `peakBytes / peakBytes(ratio base)` at the same N. */
  memoryRatio: number | null;
  /**
   * Label of the row the ratios divide by: "reversible", or, when it failed
   * or was not measured at this N, the first measured of the λ and K rows.
   */
  ratioBase: string | null;
  /** `stats.evaluations / N` (forward and backward). */
  evaluationsPerStep: number | null;
  /** `stats.vjps / N`. */
  vjpsPerStep: number | null;
  /** `stats.reconstructionError` (reversible methods). */
  reconstructionError: number | null;
  /** `max |∂L/∂θ − ∂L/∂θ(direct)| / max |∂L/∂θ(direct)|`, direct on the same scheme, λ and N. */
  gradientError: number | null;
  /** The loss of the warm-up run. */
  loss: number | null;
  /** Whether the saved trajectory and the gradient were all finite. */
  finite: boolean | null;
  /** Checkpointed: evaluations predicted by the schedule model (see estimate.ts). */
  predictedEvaluations: number | null;
}

/** A target check. */
export interface BenchCheck {
  /** What is checked. */
  name: string;
  /** PASS, FAIL, or SKIP when the numbers it needs were not measured. */
  status: "PASS" | "FAIL" | "SKIP";
  /** The measured numbers. */
  detail: string;
  /** Whether the check is one of the targets (false: a sanity check added here). */
  target: boolean;
  /** Whether the check compares wall times (and so depends on the machine and its load). */
  timing: boolean;
}

/** Everything a run produced. */
export interface BenchResult {
  /** Settings of the run. */
  settings: {
    sizes: number[];
    step: number;
    coupling: number;
    field: string;
    scheme: string;
    y0: number[];
    saveAt: string;
    loss: string;
    timing: string;
    configLimitMs: number;
  };
  /** Notes printed in the header. */
  notes: string[];
  /** Runtime and machine. */
  machine: MachineInfo;
  /** One row per configuration and N. */
  rows: BenchRow[];
  /** Target checks and sanity checks. */
  checks: BenchCheck[];
  /** What the numbers mean, in a sentence or two. */
  summary: string[];
  /** Bytes of one reversible RK4 state `[y, z]` (one stored checkpoint of the K row). */
  stateBytes: number;
  /** Wall time of the whole run, seconds. */
  totalSeconds: number;
}
