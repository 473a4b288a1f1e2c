/**
 * The checks of a `deno task train` run between its plan and its training,
 * so that what cannot work is refused before any work (and nothing is
 * written), and what will take long or fit badly is said first: a coupling
 * past the reversible gradient's drift limit, a run larger than the
 * machine's memory, a vector field that cannot be built, a run that would
 * take hours (a timed probe of one short gradient, scaled up), and data far
 * from order one.
 *
 * @module
 */

import type { CliIo } from "./io.ts";
import { UsageError } from "./flags.ts";
import { flagNames } from "./train_flags.ts";
import type { TrainPlan } from "./train_plan.ts";
import {
  bytesText,
  couplingCheck,
  dataScale,
  durationText,
  estimateMemory,
  gradientWork,
  type MemoryPart,
} from "../training/preflight.ts";
import { gradientSpecOf, schemeOf, type TrainConfig } from "../training/config.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { solve } from "../solvers/solve.ts";

/** Runs estimated to take longer than this (seconds) get a warning before they start. */
const LONG_RUN_SECONDS = 600;

/**
 * Iterations estimated to take longer than this (seconds) get a warning: a
 * signal is answered, and a checkpoint written, only between iterations.
 */
const LONG_ITERATION_SECONDS = 30;

/** Steps of the probe gradient that is timed and scaled up to the run's steps. */
const PROBE_STEPS = 32;

/** What the checks know of the machine; read from the system when not given (tests pass it). */
export interface Machine {
  /** Bytes of memory available, or null when unknown. */
  availableBytes?: number | null;
}

/**
 * Checks a planned run before it trains: refuses (a {@link UsageError},
 * naming the flags to change and with numbers) a coupling past the
 * reversible gradient's drift limit, a run whose estimated memory exceeds
 * what the machine has available, and a vector field that cannot be built;
 * writes a warning to standard error for a run that would take longer than
 * ten minutes (one gradient of a few steps timed, scaled to the run's steps
 * and iterations) and for data far from order one without normalisation.
 * Machine memory is read with `Deno.systemMemoryInfo()` where `--allow-sys`
 * permits it, else not checked (the build of the field still is).
 *
 * @param plan The run's plan.
 * @param io Where warnings go (`io.error`).
 * @param machine The machine's memory; default read from the system.
 * @throws {UsageError} For a run that cannot work.
 *
 * @example
 * ```ts
 * import { preflightRun } from "./train_preflight.ts";
 * import { planRun } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * preflightRun(await planRun({ steps: "20", iterations: "3" }), io);
 * assert.equal(err, "");
 * const plan = await planRun({ coupling: "0.5", steps: "1000", iterations: "3" });
 * assert.throws(() => preflightRun(plan, io), /--coupling 0\.98 or closer to 1/);
 * const wide = await planRun({ width: "1000000", iterations: "1" });
 * assert.throws(() => preflightRun(wide, io, { availableBytes: 2 ** 34 }), /--width 1000000/);
 * ```
 */
export function preflightRun(plan: TrainPlan, io: CliIo, machine: Machine = {}): void {
  const { config } = plan;
  const coupling = couplingCheck(config, {
    float32: plan.backend === "webgpu",
    name: flagNames,
  });
  if (coupling?.refuse) throw new UsageError(coupling.message);
  if (coupling !== null) io.error(`warning: ${coupling.message}\n`);
  const available = machine.availableBytes === undefined
    ? _availableMemory()
    : machine.availableBytes;
  _checkMemory(plan, available);
  const mlp = _buildField(config);
  if (plan.backend === "cpu") _warnLongRun(plan, mlp, io);
  _warnScale(plan, io);
}

/** The machine's available memory in bytes, or null where not permitted or not known. */
function _availableMemory(): number | null {
  try {
    // querying first: asking without the permission would prompt on a terminal
    if (Deno.permissions.querySync({ name: "sys", kind: "systemMemoryInfo" }).state !== "granted") {
      return null;
    }
    const info = Deno.systemMemoryInfo();
    return info.available > 0 ? info.available : info.total;
  } catch {
    return null;
  }
}

/** The flags that set a memory part's settings, with their values now. */
function _partFlags(part: MemoryPart, plan: TrainPlan): string {
  const { config } = plan;
  const flags = part.settings.map((s) =>
    s === "mlp.widths"
      ? `--width ${config.mlp.widths[0] ?? 0} --depth ${config.mlp.widths.length}`
      : s === "steps"
      ? config.adaptive ? `--max-steps ${config.adaptive.maxSteps}` : `--steps ${config.steps}`
      : s === "batch"
      ? `--batch ${config.batch}`
      : `--gradient ${config.gradient}`
  );
  return flags.join(", ");
}

/** Refuses a run whose estimated memory exceeds what is available, naming the flags. */
function _checkMemory(plan: TrainPlan, available: number | null): void {
  if (available === null) return;
  const { config } = plan;
  const estimate = estimateMemory(config, {
    batch: config.batch,
    points: plan.data.data.ts.length,
    trajectories: plan.data.trajectories?.length ?? 1,
  });
  if (estimate.total <= available) return;
  const big = estimate.parts.filter((p) => p.bytes >= 0.1 * estimate.total);
  const direct = config.gradient === "direct" &&
    big.some((p) => p.settings.includes("gradient"));
  throw new UsageError(
    `this run would hold about ${bytesText(estimate.total)} of memory, more than the ` +
      `${bytesText(available)} this machine has available: ` +
      big.map((p) => `${p.what}, ${bytesText(p.bytes)} (${_partFlags(p, plan)})`).join("; ") +
      `. Lower ${_lower(big, plan)}` +
      (direct ? ", or take --gradient reversible or checkpointed (O(1) or O(√N) states)" : "") +
      ".",
  );
}

/** What to lower, from the settings of the largest parts. */
function _lower(big: MemoryPart[], plan: TrainPlan): string {
  const first = big[0].settings;
  return first.includes("mlp.widths") && !first.includes("steps")
    ? "--width or --depth"
    : plan.config.adaptive
    ? "--max-steps or --batch"
    : "--steps (or --dt larger) or --batch";
}

/** Builds the vector field, refusing in the flags' words a size the kernels cannot take. */
function _buildField(config: TrainConfig): Mlp {
  try {
    return Mlp.fromJSON(config.mlp);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UsageError(
      `invalid value for --width: ${config.mlp.widths[0] ?? 0} (with --depth ` +
        `${config.mlp.widths.length}): the MLP cannot be built here (${error.message}). ` +
        `Allowed: a smaller --width.`,
    );
  }
}

/**
 * Times one gradient of a few steps on the run's field, scheme and batch,
 * scales it to the run's steps and iterations, and warns when the run would
 * take longer than {@link LONG_RUN_SECONDS}.
 */
function _warnLongRun(plan: TrainPlan, mlp: Mlp, io: CliIo): void {
  const { config } = plan;
  const steps = config.adaptive ? config.adaptive.maxSteps : config.steps;
  const probeSteps = Math.min(steps, PROBE_STEPS);
  const probe = { ...config, steps: probeSteps, adaptive: null, checkpoints: null };
  const batch = config.batch;
  const y0 = new Float64Array(batch * mlp.dim);
  for (let b = 0; b < batch; b++) y0.set(plan.config.y0, b * mlp.dim);
  const params = mlp.init(config.seed);
  const gradient = (n: number) => {
    const sol = solve({
      field: mlp,
      y0,
      params,
      scheme: schemeOf(probe),
      t0: plan.config.t0,
      t1: plan.config.t1,
      steps: n,
      saveAt: { steps: true },
      gradient: gradientSpecOf(probe),
      throwOnFailure: false,
    });
    try {
      sol.backward(new Float64Array(sol.ys.length));
    } catch {
      // a probe that drifts or fails still took its time
    }
  };
  // a short one first: the first solve compiles the kernels, which the run does once
  gradient(Math.min(steps, 2));
  let best = Infinity, spent = 0;
  for (let k = 0; k < 4 && spent < 0.2; k++) {
    const start = performance.now();
    gradient(probeSteps);
    const seconds = (performance.now() - start) / 1000;
    best = Math.min(best, seconds);
    spent += seconds;
  }
  const perIteration = best * gradientWork(config, steps) / gradientWork(probe, probeSteps);
  const slowIteration = longIterationWarning(perIteration);
  if (slowIteration !== null) io.error(slowIteration);
  // the --restarts probes of the seeds not kept come on top of the run's iterations
  const probed = plan.restarts ? (plan.restarts.count - 1) * plan.restarts.probe : 0;
  const total = perIteration * (plan.iterations + probed);
  if (!(total > LONG_RUN_SECONDS)) return;
  io.error(
    `warning: this run would take about ${durationText(total)}${
      config.adaptive ? " at most" : ""
    }: ${plan.iterations} iterations (--iterations)${
      probed > 0 ? ` and ${probed} more in the --restarts probes` : ""
    } of about ${durationText(perIteration)} each (a gradient of ${probeSteps} steps took ${
      (best * 1000).toPrecision(2)
    } ms here; ` +
      `this run's take ${steps}${config.adaptive ? " at most" : ""}). Fewer --iterations, ` +
      `fewer ${config.adaptive ? "--max-steps" : "--steps"}, or a smaller --width, --depth ` +
      `or --batch shorten it; Ctrl-C stops it and saves the state.\n`,
  );
}

/**
 * The warning for an iteration estimated to take longer than
 * {@link LONG_ITERATION_SECONDS}, or null. An iteration is one synchronous
 * gradient: Ctrl-C, TERM and HUP are answered, and checkpoints written, when
 * the iteration in progress ends, so a stop can wait that long and a
 * SIGKILL can lose that much more than `--save-every`.
 *
 * @param perIteration The estimated seconds of one iteration.
 * @returns The warning (a line ending in a newline), or null.
 *
 * @example
 * ```ts
 * import { longIterationWarning } from "./train_preflight.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(longIterationWarning(2), null);
 * assert.match(longIterationWarning(300)!, /one iteration would take about 5 min/);
 * assert.match(longIterationWarning(300)!, /between iterations/);
 * ```
 */
export function longIterationWarning(perIteration: number): string | null {
  if (!(perIteration > LONG_ITERATION_SECONDS)) return null;
  return `warning: one iteration would take about ${durationText(perIteration)}. Ctrl-C, ` +
    `TERM and HUP are answered, and checkpoints written, between iterations: a stop waits ` +
    `for the iteration in progress, and SIGKILL loses up to that much more than --save-every. ` +
    `Fewer --steps, or a smaller --width, --depth or --batch, shorten it.\n`;
}

/** Warns when the data the model sees are far from order one. */
function _warnScale(plan: TrainPlan, io: CliIo): void {
  if (plan.config.normalization !== undefined) return;
  const { far } = dataScale(plan.data.trajectories ?? [plan.data.data]);
  if (far === null) return;
  const table = plan.data.table !== undefined;
  io.error(
    `warning: ${far}. Rescale the data to values of order one first` +
      (table
        ? ": --normalize standard (the default for --data tables) learns each state as " +
          "(y − mean) / std and reports in the data's units"
        : ": divide the file's states by a common scale") +
      ".\n",
  );
}
