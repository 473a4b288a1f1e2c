/**
 * The training settings of `deno task train` that do not depend on a model
 * file: solver, scheme, gradient, steps and optimizer, read from the flags
 * over a base configuration (the experiment's, or the resumed model's).
 *
 * @module
 */

import { ArgumentError } from "../solvers/checks.ts";
import { type FlagValues, UsageError } from "./flags.ts";
import { numberFlag, oneOf, stringFlag } from "./flag_values.ts";
import {
  type FieldTrainConfig,
  GRADIENT_NAMES,
  schemeOf,
  SOLVER_NAMES,
  type TrainConfig,
} from "../training/config.ts";
import { alignSteps } from "../training/data.ts";
import type { GradientMethodName } from "../solvers/gradients/spec.ts";

/**
 * The configuration the flags ask for, over `base`: each setting given
 * replaces the base's, and the whole is checked as the trainer would check
 * it, refusals naming the flags.
 *
 * @param flags The parsed flags.
 * @param base The configuration the flags change.
 * @param points The data's points (fixed steps must line up with them).
 * @param duration The data window's length.
 * @param grid Whether the data share uniform times (else fixed steps need not line up with
 *   them: outputs are at the data times) and how many trajectories they hold (the most
 *   `--batch` allows); default one uniform trajectory.
 * @returns A new configuration.
 * @throws {UsageError} For a bad value or a combination that cannot run.
 *
 * @example
 * ```ts
 * import { applyTrainingFlags } from "./train_settings.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const base = experimentConfig("white-dwarf");
 * assert.equal(applyTrainingFlags({ dt: "0.25" }, base, 1001, 5).steps, 20);
 * assert.throws(() => applyTrainingFlags({ steps: "7" }, base, 1001, 5),
 *   /invalid --steps: 7 steps \(h = 0\.7142857142857143\) do not line up/);
 * ```
 */
export function applyTrainingFlags(
  flags: FlagValues,
  base: TrainConfig,
  points: number,
  duration: number,
  grid: { uniform: boolean; trajectories: number } = { uniform: true, trajectories: 1 },
): TrainConfig {
  const config: TrainConfig = { ...base };
  _applySolver(flags, config);
  _applySteps(flags, config, points, duration, grid.uniform);
  _applyOptimizer(flags, config, grid.trajectories);
  applyValidationFlags(flags, config);
  try {
    schemeOf(config);
  } catch (error) {
    if (error instanceof ArgumentError) {
      const { argument, got, expected } = error.data;
      throw new UsageError(`invalid value for --${argument}: ${got}; expected ${expected}.`);
    }
    // the one refusal of a combination: it names the scheme to choose
    throw new UsageError(
      (error as Error).message.replace(/scheme "reversible"/, "--scheme reversible"),
    );
  }
  return config;
}

/** `--solver`, `--scheme`, `--gradient`, `--checkpoints` and `--coupling`. */
function _applySolver(flags: FlagValues, config: TrainConfig): void {
  const solver = stringFlag(flags, "solver");
  if (solver !== undefined) config.solver = oneOf("solver", solver, SOLVER_NAMES);
  const scheme = stringFlag(flags, "scheme");
  if (scheme !== undefined) config.scheme = oneOf("scheme", scheme, ["reversible", "plain"]);
  const gradient = stringFlag(flags, "gradient");
  if (gradient !== undefined) {
    config.gradient = oneOf("gradient", gradient, GRADIENT_NAMES) as GradientMethodName;
    if (config.gradient !== "checkpointed") config.checkpoints = null;
  }
  const checkpoints = stringFlag(flags, "checkpoints");
  if (checkpoints !== undefined) {
    if (config.gradient !== "checkpointed") {
      throw new UsageError(
        `--checkpoints applies to --gradient checkpointed only (the gradient is ${config.gradient}).`,
      );
    }
    config.checkpoints = numberFlag("checkpoints", checkpoints, { integer: true, min: 1 });
  }
  const coupling = stringFlag(flags, "coupling");
  if (coupling !== undefined) {
    config.coupling = numberFlag("coupling", coupling, { above: 0, max: 1 });
    if (
      config.scheme !== "reversible" || config.solver === "reversible-heun" ||
      config.solver === "leapfrog"
    ) {
      throw new UsageError(
        `--coupling applies to the reversible scheme built on a tableau solver ` +
          `(here: --scheme ${config.scheme}, --solver ${config.solver}).`,
      );
    }
  }
}

/**
 * `--steps` or `--dt` (fixed steps that line up with the data), or `--rtol`,
 * `--atol` and `--max-steps` (adaptive steps).
 */
function _applySteps(
  flags: FlagValues,
  config: TrainConfig,
  points: number,
  duration: number,
  uniform: boolean,
): void {
  const steps = stringFlag(flags, "steps");
  const dt = stringFlag(flags, "dt");
  if (steps !== undefined && dt !== undefined) {
    throw new UsageError("give --steps or --dt, not both.");
  }
  const tolerances = ["rtol", "atol", "max-steps"].filter((f) =>
    stringFlag(flags, f) !== undefined
  );
  if ((steps !== undefined || dt !== undefined) && tolerances.length > 0) {
    throw new UsageError(
      `--${steps !== undefined ? "steps" : "dt"} asks for fixed steps and --${tolerances[0]} ` +
        `for adaptive ones; give one or the other.`,
    );
  }
  if (steps !== undefined || dt !== undefined) config.adaptive = null;
  if (tolerances.length > 0) {
    const a = { ...(config.adaptive ?? { rtol: 1e-6, atol: 1e-6, maxSteps: 1000 }) };
    const rtol = stringFlag(flags, "rtol");
    const atol = stringFlag(flags, "atol");
    const max = stringFlag(flags, "max-steps");
    if (rtol !== undefined) a.rtol = numberFlag("rtol", rtol, { above: 0 });
    if (atol !== undefined) a.atol = numberFlag("atol", atol, { above: 0 });
    if (max !== undefined) a.maxSteps = numberFlag("max-steps", max, { integer: true, min: 1 });
    config.adaptive = a;
  }
  if (steps !== undefined) config.steps = numberFlag("steps", steps, { integer: true, min: 1 });
  if (dt !== undefined && !uniform) {
    // outputs at the data times: the steps need only fill the window
    const h = numberFlag("dt", dt, { above: 0, max: duration, fraction: true });
    config.steps = Math.max(1, Math.round(duration / h));
  } else if (dt !== undefined) config.steps = _stepsOfDt(dt, points, duration);
  if (!uniform) return;
  try {
    if (config.adaptive === null) alignSteps(points, config.steps);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    throw new UsageError(
      `invalid ${dt !== undefined ? "--dt" : "--steps"}: ${config.steps} steps ` +
        `(h = ${duration / config.steps}) do not line up with the ${points} data points. ` +
        `Allowed: ${(error as ArgumentError).data.expected}.`,
    );
  }
}

/**
 * The steps of `--dt`: the step must fill the window a whole number of
 * times and line up with the data, else the nearest steps that do are named.
 */
function _stepsOfDt(dt: string, points: number, duration: number): number {
  const h = numberFlag("dt", dt, { above: 0, max: duration, fraction: true });
  const n = Math.round(duration / h);
  let ok = Math.abs(n * h - duration) <= 1e-9 * duration;
  try {
    if (ok) alignSteps(points, n);
  } catch {
    ok = false;
  }
  if (!ok) {
    const intervals = points - 1;
    const candidates = new Set<number>();
    for (let k = 1; k <= 8; k *= 2) candidates.add(intervals * k);
    // every divisor: the nearest may be a large step (0.5 for --dt 0.3 on [0, 5])
    for (let d = 2; d <= intervals; d++) {
      if (intervals % d === 0) candidates.add(intervals / d);
    }
    const near = [...candidates]
      .sort((a, b) => Math.abs(Math.log(duration / a / h)) - Math.abs(Math.log(duration / b / h)))
      .slice(0, 5)
      .sort((a, b) => b - a)
      .map((steps) => `${Number((duration / steps).toPrecision(12))} (${steps} steps)`);
    throw new UsageError(
      `invalid value for --dt: ${JSON.stringify(dt)}. The steps must fill the data window ` +
        `[0, ${duration}] and line up with its ${points} points; allowed near it: ` +
        `${near.join(", ")}.`,
    );
  }
  return n;
}

/**
 * `--validation F` and `--patience K` over the configuration's own: a fraction
 * in (0, 1), and a patience only with validation (given now or by the base).
 * Whether the data can spare the fraction is checked with the data
 * (`splitValidation()`).
 *
 * @param flags The parsed flags.
 * @param config The configuration to change in place.
 * @throws {UsageError} For a value out of range or a patience without validation.
 *
 * @example
 * ```ts
 * import { applyValidationFlags } from "./train_settings.ts";
 * import { defaultConfig } from "../training/config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({ steps: 10 });
 * applyValidationFlags({ validation: "0.2", patience: "50" }, config);
 * assert.deepEqual([config.validation, config.patience], [0.2, 50]);
 * assert.throws(() => applyValidationFlags({ validation: "1" }, config),
 *   /invalid value for --validation: "1"\. Allowed: a fraction in \(0, 1\)/);
 * assert.throws(() => applyValidationFlags({ patience: "5" }, defaultConfig({ steps: 1 })),
 *   /--patience 5 needs --validation F/);
 * ```
 */
export function applyValidationFlags(flags: FlagValues, config: FieldTrainConfig): void {
  const fraction = stringFlag(flags, "validation");
  if (fraction !== undefined) {
    const v = Number(fraction);
    if (fraction.trim() === "" || !(v > 0 && v < 1)) {
      throw new UsageError(
        `invalid value for --validation: ${JSON.stringify(fraction)}. Allowed: a fraction ` +
          `in (0, 1) of the data to hold out, such as 0.2.`,
      );
    }
    config.validation = v;
  }
  const patience = stringFlag(flags, "patience");
  if (patience === undefined) return;
  const k = numberFlag("patience", patience, { integer: true, min: 1 });
  if (!config.validation) {
    throw new UsageError(
      `--patience ${patience} needs --validation F: early stopping watches the loss on ` +
        `held-out data, and none is held out.`,
    );
  }
  config.patience = k;
}

/** `--lr`, `--weight-decay`, `--clip` and `--batch`. */
function _applyOptimizer(flags: FlagValues, config: TrainConfig, trajectories: number): void {
  const lr = stringFlag(flags, "lr");
  if (lr !== undefined) config.lr = numberFlag("lr", lr, { above: 0 });
  const wd = stringFlag(flags, "weight-decay");
  if (wd !== undefined) config.weightDecay = numberFlag("weight-decay", wd, { min: 0 });
  const clip = stringFlag(flags, "clip");
  if (clip !== undefined) config.clip = numberFlag("clip", clip, { above: 0 });
  const batch = stringFlag(flags, "batch");
  if (batch !== undefined) {
    config.batch = numberFlag("batch", batch, { integer: true, min: 1 });
    if (config.batch > trajectories) {
      throw new UsageError(
        `invalid value for --batch: ${batch}. The data hold ${trajectories} ` +
          `${
            trajectories === 1
              ? "trajectory; allowed: 1."
              : `trajectories; allowed: 1 to ${trajectories}.`
          }`,
      );
    }
  }
}
