/**
 * What a diverged training run says, on either backend: why it stopped (a
 * non-finite loss, a non-finite gradient, a failed adaptive solve, a
 * reversible backward pass that drifted from the forward solve), as a
 * sentence fragment naming the iteration, and the usual remedies, naming
 * the settings to change with their current values — by the
 * configuration's keys, or by whatever names a program gives them
 * ({@link SettingNames}: the CLI's flags).
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

import type { TrainConfig } from "./config.ts";

/** The settings a remedy names. */
export type RemedySetting =
  | "steps"
  | "maxSteps"
  | "rtol"
  | "atol"
  | "coupling"
  | "gradient"
  | "weightDecay"
  | "lr"
  | "clip";

/**
 * How a remedy names a setting, and a value of it: the library names the
 * configuration's keys ({@link configNames}); a program names what its
 * user types (the CLI names its flags), so no library text names a flag.
 *
 * @example
 * ```ts
 * import type { SettingNames } from "./divergence.ts";
 * import assert from "node:assert/strict";
 *
 * const upper: SettingNames = (setting, value) => value ? `${setting}=${value}` : setting.toUpperCase();
 * assert.equal(upper("lr"), "LR");
 * assert.equal(upper("gradient", "direct"), "gradient=direct");
 * ```
 */
export type SettingNames = (setting: RemedySetting, value?: string) => string;

/** Where each setting sits in a {@link TrainConfig}. */
const CONFIG_KEYS: Record<RemedySetting, string> = {
  steps: "steps",
  maxSteps: "adaptive.maxSteps",
  rtol: "adaptive.rtol",
  atol: "adaptive.atol",
  coupling: "coupling",
  gradient: "gradient",
  weightDecay: "weightDecay",
  lr: "lr",
  clip: "clip",
};

/**
 * The library's names of the settings: the keys of a {@link TrainConfig}.
 *
 * @param setting The setting.
 * @param value A value of it, when the remedy suggests one.
 * @returns The key, or the key and the value.
 *
 * @example
 * ```ts
 * import { configNames } from "./divergence.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(configNames("maxSteps"), "adaptive.maxSteps");
 * assert.equal(configNames("gradient", "checkpointed"), 'gradient "checkpointed"');
 * ```
 */
export function configNames(setting: RemedySetting, value?: string): string {
  const key = CONFIG_KEYS[setting];
  return value === undefined ? key : `${key} ${JSON.stringify(value)}`;
}

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
 * Why a run stopped when the reversible backward pass could not rebuild the
 * forward solve (its reconstruction drifted past the tolerance).
 *
 * @param iteration 1-based iteration.
 * @param loss Its (finite) loss.
 * @param drift The relative reconstruction error, when known.
 * @returns The reason, without a final period.
 *
 * @example
 * ```ts
 * import { driftReason } from "./divergence.ts";
 * import assert from "node:assert/strict";
 * assert.match(driftReason(7, 0.5, 4e-6), /iteration 7 .*4\.00e-6/);
 * ```
 */
export function driftReason(iteration: number, loss: number, drift: number | null): string {
  return `the reversible backward pass could not rebuild the forward solve at iteration ` +
    `${iteration} (loss ${loss}): ` +
    (drift === null
      ? "its reconstruction drifted"
      : `a rebuilt state is ${drift.toExponential(2)} (relative) off`) +
    `, so the gradient would be wrong`;
}

/** Whether the configuration's scheme has a coupling λ (a reversible scheme on a tableau). */
function _coupled(config: TrainConfig): boolean {
  return config.scheme === "reversible" && config.solver !== "reversible-heun" &&
    config.solver !== "leapfrog";
}

/** The limit on N·(1 − λ) in words, with the N steps of a solve. */
function _limitText(config: TrainConfig): string {
  return `N·(1 − λ) below about 20 (N = ${
    config.adaptive ? `up to ${config.adaptive.maxSteps}` : config.steps
  } steps)`;
}

/**
 * The least coupling with which the reversible gradient's reconstruction
 * stays accurate over the steps of a solve: N·(1 − λ) ≲ 20, so
 * λ ≥ 1 − 20/N (numerics.md §2). For adaptive steps, N is the step budget.
 */
function _leastCoupling(config: TrainConfig): number {
  const n = config.adaptive ? config.adaptive.maxSteps : config.steps;
  return Math.max(0, 1 - 20 / n);
}

/** A setting as one would type it: 1e-5 rather than 0.00001. */
function _num(x: number): string {
  const plain = String(x);
  const exp = x.toExponential();
  return exp.length < plain.length ? exp : plain;
}

/** A coupling for a suggestion, rounded to a few digits. */
function _couplingText(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/**
 * The remedy of states far from order one, as the configuration records
 * them (a model file's `y0`, in the units the model learns: normalised ones
 * when it has a `normalization`), or null: a network of tanh units with
 * weights of order one fits states of order one, and states of 1e200
 * overflow the squared error whatever the step or the learning rate.
 */
function _rescaleRemedy(config: TrainConfig): string | null {
  const { y0, normalization } = config as TrainConfig & { y0?: number[]; normalization?: unknown };
  if (y0 === undefined || normalization !== undefined) return null;
  const largest = y0.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (!(largest >= 1e4 || (largest > 0 && largest <= 1e-4))) return null;
  return `rescale the data to values of order one first (the initial state reaches |y| = ` +
    `${_num(Number(largest.toPrecision(3)))}): standardise each state as (y − mean) / std, or ` +
    `divide the states by a common scale; no step or learning rate makes up for the scale`;
}

/**
 * The remedies for a diverged run, as sentences naming the settings to
 * change, with their values now and a suggestion; data far from order one
 * (a model configuration's `y0`) get "rescale the data" first.
 *
 * @param config The configuration that diverged.
 * @param name How to name a setting (default: the configuration's keys; the CLI passes its flags).
 * @returns Suggestions, most likely to help first.
 *
 * @example
 * ```ts
 * import { divergenceRemedies } from "./divergence.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 1000,
 * });
 * const remedies = divergenceRemedies(config);
 * // With the reversible gradient, a smaller λ must keep N·(1 − λ) below about 20.
 * assert.ok(remedies.some((r) => r.includes("(coupling; now 0.999; e.g. 0.99")));
 * assert.ok(remedies.every((r) => !r.includes("--")));
 * // a program names what its user types
 * const flags = divergenceRemedies(config, (s, v) => `--${s}${v ? ` ${v}` : ""}`);
 * assert.ok(flags.some((r) => r.includes("(--coupling; now 0.999")));
 * assert.ok(remedies.some((r) => r.includes("weight decay")));
 * // states of 1e200 (a model configuration's y0): rescale first
 * const huge = divergenceRemedies({ ...config, y0: [1e200, 0] } as typeof config);
 * assert.match(huge[0], /^rescale the data to values of order one first \(.*1e\+200\)/);
 * assert.ok(!remedies[0].startsWith("rescale"));
 * ```
 */
export function divergenceRemedies(
  config: TrainConfig,
  name: SettingNames = configNames,
): string[] {
  const rescale = _rescaleRemedy(config);
  const remedies = rescale === null ? [] : [rescale];
  remedies.push(
    ...(config.adaptive
      ? [
        `more steps per solve (${name("maxSteps")}; now ${config.adaptive.maxSteps}; e.g. ${
          2 * config.adaptive.maxSteps
        }) or looser tolerances (a larger ${name("rtol")} or ${name("atol")}; now ${
          _num(config.adaptive.rtol)
        } and ` +
        `${_num(config.adaptive.atol)}), or fixed steps (${name("steps")})`,
      ]
      : [
        `a smaller step: more solver steps (${name("steps")}; now ${config.steps}; e.g. ${
          2 * config.steps
        })`,
      ]),
  );
  if (_coupled(config)) {
    if (config.gradient !== "reversible") {
      remedies.push(
        `a smaller coupling λ (${
          name("coupling")
        }; now ${config.coupling}; e.g. 0.9 or 0.5): the ` +
          `reversible scheme is more stable forward for smaller λ (numerics.md §2)`,
      );
    } else {
      // Smaller λ steadies the forward solve but amplifies the backward pass's round-off.
      const least = _leastCoupling(config);
      const suggested = Math.max(least, 1 - 10 / (config.adaptive?.maxSteps ?? config.steps));
      remedies.push(
        least <= 0.5
          ? `a smaller coupling λ (${
            name("coupling")
          }; now ${config.coupling}; e.g. 0.9 or 0.5): the ` +
            `reversible scheme is more stable forward for smaller λ, and with so few steps ` +
            `the reversible gradient allows it (numerics.md §2)`
          : suggested < config.coupling
          ? `a smaller coupling λ (${name("coupling")}; now ${config.coupling}; e.g. ${
            _couplingText(suggested)
          }): the reversible scheme is more stable forward for smaller λ, but the reversible ` +
            `gradient needs ${_limitText(config)}, so λ ≥ ` +
            `${_couplingText(least)} here (numerics.md §2)`
          : `a smaller coupling λ (${name("coupling")}; now ${config.coupling}) together with ` +
            `${name("gradient", "direct")} or checkpointed: the reversible gradient needs ` +
            `${_limitText(config)}, so λ ≥ ${_couplingText(least)} here ` +
            `(numerics.md §2)`,
      );
    }
  }
  remedies.push(
    `more weight decay on the vector field (${name("weightDecay")}; now ${
      _num(config.weightDecay)
    }; e.g. ${_num(Math.max(1e-4, config.weightDecay * 10))})`,
    `a smaller learning rate (${name("lr")}; now ${_num(config.lr)}) or gradient clipping (${
      name("clip")
    }; now ${config.clip === null ? "off" : config.clip}; e.g. 1)`,
  );
  return remedies;
}

/**
 * The remedies when the reversible backward pass drifted from the forward
 * solve: round-off in its inverse steps grows like λ^(−N), about
 * e^(N·(1 − λ)), over the N steps of a solve (numerics.md §2).
 *
 * @param config The configuration whose backward pass drifted.
 * @param name How to name a setting (default: the configuration's keys; the CLI passes its flags).
 * @returns Suggestions naming the settings, most likely to help first.
 *
 * @example
 * ```ts
 * import { driftRemedies } from "./divergence.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 1000,
 *   coupling: 0.98,
 * });
 * const remedies = driftRemedies(config);
 * assert.match(remedies[0], /\(coupling; now 0\.98; e\.g\. 0\.995/);
 * assert.ok(remedies.some((r) => r.includes('gradient "checkpointed"')));
 * ```
 */
export function driftRemedies(
  config: TrainConfig,
  name: SettingNames = configNames,
): string[] {
  const remedies: string[] = [];
  const n = config.adaptive ? config.adaptive.maxSteps : config.steps;
  if (_coupled(config) && config.coupling < 1) {
    // Aim well inside the limit: N·(1 − λ) ≈ 5, or a tenth of 1 − λ when already inside.
    const gap = 1 - config.coupling;
    const suggested = 1 - (n * gap > 5 ? 5 / n : gap / 10);
    remedies.push(
      `a coupling λ closer to 1 (${name("coupling")}; now ${config.coupling}; e.g. ${
        _couplingText(suggested)
      }): keep ${_limitText(config)}` +
        (_leastCoupling(config) > 0
          ? `, so λ ≥ ${_couplingText(_leastCoupling(config))} here`
          : ""),
    );
  }
  remedies.push(
    config.adaptive
      ? `fewer steps per solve: looser tolerances (a larger ${name("rtol")} or ${
        name("atol")
      }; now ` +
        `${_num(config.adaptive.rtol)} and ${_num(config.adaptive.atol)})`
      : `fewer solver steps (${
        name("steps")
      }, a divisor of the data intervals; now ${config.steps})`,
    `a gradient that stores states instead of rebuilding them: ${
      name("gradient", "checkpointed")
    } ` +
      `(memory ~√N states) or ${name("gradient", "direct")} (memory ~N states)`,
  );
  return remedies;
}

/**
 * The remedies of a run's result, in the given names: how a program shows
 * `TrainResult.remedies` in its own vocabulary.
 *
 * @param kind The result's `remedyKind`.
 * @param config The configuration the run trained.
 * @param name How to name a setting (default: the configuration's keys).
 * @returns The suggestions; none when no remedies apply.
 *
 * @example
 * ```ts
 * import { remediesOf } from "./divergence.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 1000,
 *   coupling: 0.98,
 * });
 * const flags = (s: string, v?: string) => `--${s}${v ? ` ${v}` : ""}`;
 * assert.match(remediesOf("drift", config, flags)[0], /\(--coupling; now 0\.98/);
 * assert.ok(remediesOf("divergence", config).some((r) => r.includes("weightDecay")));
 * assert.deepEqual(remediesOf(null, config), []);
 * ```
 */
export function remediesOf(
  kind: "divergence" | "drift" | null,
  config: TrainConfig,
  name: SettingNames = configNames,
): string[] {
  return kind === "divergence"
    ? divergenceRemedies(config, name)
    : kind === "drift"
    ? driftRemedies(config, name)
    : [];
}
