/**
 * `deno task train --restarts K`: K initialisations (seeds `seed` …
 * `seed + K − 1`) each trained for a short probe, and the one with the
 * lowest loss after it continued to the full `--iterations`. The white
 * dwarf's best loss over seeds 0–9 spans more than two decades, and which
 * seed ends lowest shows early: this spends a little of the budget to avoid
 * the worst starts, choosing by the loss, never by hand.
 *
 * The probes run on the CPU in float64 before the run's header is printed;
 * the kept state (parameters, optimizer, history) goes on on the backend
 * chosen, exactly as if its probe had been the start of the run.
 *
 * @module
 */

import { type FlagValues, UsageError } from "./flags.ts";
import { numberFlag, stringFlag } from "./flag_values.ts";
import type { SeriesData, TrainConfig } from "../training/config.ts";
import type { StartRecord } from "../training/model_format.ts";
import type { TrainState } from "../training/state.ts";
import { train } from "../training/train.ts";

/** What `--restarts` and `--probe` ask for. */
export interface RestartSettings {
  /** Initialisations to probe (at least 2). */
  count: number;
  /** Iterations of each probe. */
  probe: number;
}

/**
 * Reads `--restarts K` and `--probe N` (default: a tenth of the iterations,
 * at least 1). Without `--restarts`, `fallback` probes are the default, of
 * `defaultProbe.fraction` of the iterations (a tenth) but at most
 * `defaultProbe.max` ({@link DEFAULT_PROBE_MAX}), and only
 * for a run of at least {@link DEFAULT_PROBE_FROM} iterations: a shorter
 * run is a trial, and probes of a few iterations still sit in the initial
 * transient, which ranks seeds poorly.
 *
 * @param flags The parsed flags.
 * @param iterations The run's iterations (the probe is part of them).
 * @param fallback The count without `--restarts` (1: no probes).
 * @param defaultProbe The probe without `--restarts`: a fraction of the iterations, at most `max`.
 * @returns The settings, or null for no probes (a count of 1).
 * @throws {UsageError} For a bad value, `--probe` with no probes to set, or a
 * probe that leaves no iteration to continue.
 *
 * @example
 * ```ts
 * import { restartFlags } from "./train_restarts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(restartFlags({ restarts: "5" }, 1000), { count: 5, probe: 100 });
 * assert.equal(restartFlags({}, 1000), null);
 * // the default: a tenth, at most 200, from 200 iterations on
 * assert.deepEqual(restartFlags({}, 2000, 2), { count: 2, probe: 200 });
 * assert.deepEqual(restartFlags({}, 50000, 2), { count: 2, probe: 200 });
 * assert.deepEqual(restartFlags({ probe: "30" }, 50000, 2), { count: 2, probe: 30 });
 * // a table run's default: a fifth, at most 1 000
 * assert.deepEqual(restartFlags({}, 5000, 3, { fraction: 0.2, max: 1000 }), { count: 3, probe: 1000 });
 * assert.deepEqual(restartFlags({}, 300, 3, { fraction: 0.2, max: 1000 }), { count: 3, probe: 60 });
 * assert.equal(restartFlags({}, 199, 2), null);
 * assert.equal(restartFlags({ restarts: "1" }, 2000, 2), null);
 * assert.throws(() => restartFlags({ restarts: "3", probe: "50" }, 50),
 *   /--probe: 50 leaves no iteration of the 50 to continue/);
 * assert.throws(() => restartFlags({ restarts: "1", probe: "5" }, 50),
 *   /--probe sets the iterations of each --restarts probe; --restarts 1 probes none\./);
 * ```
 */
export function restartFlags(
  flags: FlagValues,
  iterations: number,
  fallback = 1,
  defaultProbe: { fraction: number; max: number } = { fraction: 0.1, max: DEFAULT_PROBE_MAX },
): RestartSettings | null {
  const restarts = stringFlag(flags, "restarts");
  const probeText = stringFlag(flags, "probe");
  const byDefault = restarts === undefined;
  const count = byDefault
    ? (iterations >= DEFAULT_PROBE_FROM ? fallback : 1)
    : numberFlag("restarts", restarts, { integer: true, min: 1, max: 1000 });
  if (count === 1) {
    if (probeText !== undefined) {
      throw new UsageError(
        "--probe sets the iterations of each --restarts probe; " +
          (byDefault ? "give --restarts K." : "--restarts 1 probes none."),
      );
    }
    return null;
  }
  const tenth = Math.max(1, Math.ceil(iterations / 10));
  const probe = probeText !== undefined
    ? numberFlag("probe", probeText, { integer: true, min: 1 })
    : byDefault
    ? Math.min(Math.max(1, Math.ceil(iterations * defaultProbe.fraction)), defaultProbe.max)
    : tenth;
  if (probe >= iterations) {
    throw new UsageError(
      `invalid value for --probe: ${probe} leaves no iteration of the ${iterations} to ` +
        `continue. Allowed: an integer in [1, ${iterations - 1}] (or more --iterations).`,
    );
  }
  return { count, probe };
}

/**
 * The longest default probe: the one of the evidence behind the defaults
 * (a tenth of 2 000 iterations; bench/defaults.ts), so that a long run does
 * not spend minutes probing before its first line.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROBE_MAX } from "./train_restarts.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_PROBE_MAX, 200);
 * ```
 */
export const DEFAULT_PROBE_MAX = 200;

/**
 * The fewest iterations a run needs for the default probes.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROBE_FROM } from "./train_restarts.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_PROBE_FROM, 200);
 * ```
 */
export const DEFAULT_PROBE_FROM = 200;

/**
 * The `--restarts` probes were stopped (by a signal) before they chose a
 * seed: nothing of the run is trained yet, so there is nothing to save.
 *
 * @example
 * ```ts
 * import { ProbesInterrupted } from "./train_restarts.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(new ProbesInterrupted(1, 37).message, /seed 1's probe, at iteration 37/);
 * ```
 */
export class ProbesInterrupted extends Error {
  /**
   * @param seed The seed being probed.
   * @param iteration The iteration its probe reached.
   */
  constructor(readonly seed: number, readonly iteration: number) {
    super(
      `interrupted during the --restarts probes (seed ${seed}'s probe, at iteration ${iteration})`,
    );
    this.name = "ProbesInterrupted";
  }
}

/** What a model file records of the probes (`config.start.restarts`). */
export type RestartRecord = NonNullable<StartRecord["restarts"]>;

/** How one probe ended. */
export interface Probe {
  /** Its seed. */
  seed: number;
  /** Its lowest loss, or null when it had none. */
  bestLoss: number | null;
  /** `completed`, `diverged` or `interrupted`. */
  status: string;
}

/**
 * Trains each initialisation for the probe and keeps the one with the
 * lowest best loss among the probes that completed.
 *
 * @param config The run's configuration; its seed is the first probed.
 * @param data The training data.
 * @param settings `--restarts` and `--probe`.
 * @returns The kept seed and its state after the probe, every probe, a
 * line for the run's header saying what was kept and why, and the record
 * the model file keeps of it.
 * @throws {Error} When every probe diverged, naming their seeds.
 *
 * @example
 * ```ts
 * import { probeRestarts } from "./train_restarts.ts";
 * import { experimentConfig, loadExperimentData } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const config = experimentConfig("white-dwarf", { steps: 20 });
 * const { data } = await loadExperimentData("white-dwarf");
 * const kept = await probeRestarts(config, data, { count: 3, probe: 4 });
 * assert.deepEqual(kept.probes.map((p) => p.seed), [0, 1, 2]);
 * const lowest = Math.min(...kept.probes.map((p) => p.bestLoss!));
 * assert.equal(kept.state.bestLoss, lowest);
 * assert.equal(kept.state.iteration, 4);
 * assert.match(kept.note, /^restarts: seeds 0–2 probed for 4 iterations each/);
 * assert.deepEqual(kept.record, { probe: 4, baseSeed: 0, probes: kept.probes, kept: kept.seed });
 * ```
 */
export async function probeRestarts(
  config: TrainConfig,
  data: SeriesData | readonly SeriesData[],
  settings: RestartSettings,
  shouldStop?: () => boolean,
): Promise<
  { seed: number; state: TrainState; probes: Probe[]; note: string; record: RestartRecord }
> {
  const probes: Probe[] = [];
  let kept: { seed: number; state: TrainState } | null = null;
  for (let k = 0; k < settings.count; k++) {
    const seed = config.seed + k;
    const result = await train({
      config: { ...config, seed },
      data,
      iterations: settings.probe,
      ...(shouldStop === undefined ? {} : { shouldStop }),
    });
    if (shouldStop?.()) throw new ProbesInterrupted(seed, result.state.iteration);
    const { bestLoss } = result.state;
    probes.push({ seed, bestLoss, status: result.status });
    if (
      result.status === "completed" && bestLoss !== null &&
      (kept === null || bestLoss < kept.state.bestLoss!)
    ) {
      kept = { seed, state: result.state };
    }
  }
  const first = config.seed, last = config.seed + settings.count - 1;
  if (kept === null) {
    throw new Error(
      `every --restarts probe diverged (seeds ${first} to ${last}, ${settings.probe} ` +
        `iterations each); lower --lr or try other seeds.`,
    );
  }
  const losses = probes.map((p) =>
    `${p.seed}: ${
      p.status === "completed" && p.bestLoss !== null ? p.bestLoss.toExponential(2) : p.status
    }`
  );
  return {
    ...kept,
    probes,
    record: { probe: settings.probe, baseSeed: first, probes, kept: kept.seed },
    note: `restarts: seeds ${first}–${last} probed for ${settings.probe} iterations each ` +
      `(best loss ${losses.join(", ")}); kept seed ${kept.seed}, the lowest, and continued ` +
      `it from iteration ${settings.probe}`,
  };
}
