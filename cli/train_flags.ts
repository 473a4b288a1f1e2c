/**
 * The flags of `deno task train` and its help text.
 *
 * @module
 */

import { flagHelp, type FlagTable } from "./flags.ts";
import { activationNames } from "../solvers/fields/activations.ts";
import { EXAMPLE_NAMES } from "../training/experiments.ts";
import { GRADIENT_NAMES, SOLVER_NAMES } from "../training/config.ts";
import type { RemedySetting } from "../training/divergence.ts";

/** The values of `--backend`. */
export const BACKEND_FLAGS = ["cpu", "webgpu", "auto"] as const;
/** A value of `--backend`: a backend, or `auto` to pick one. */
export type BackendFlag = typeof BACKEND_FLAGS[number];

/**
 * The flags of `deno task train`, in help order: name, value placeholder,
 * description.
 *
 * @example
 * ```ts
 * import { TRAIN_FLAGS } from "./train_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(TRAIN_FLAGS.some(([name, value]) => name === "resume" && value === "FILE"));
 * ```
 */
export const TRAIN_FLAGS: FlagTable = [
  ["example", "NAME", `experiment: ${EXAMPLE_NAMES.join(", ")} (default white-dwarf)`],
  [
    "solver",
    "NAME",
    `base solver: ${SOLVER_NAMES.join(", ")} (default: the experiment's, rk4 or bosh3)`,
  ],
  [
    "scheme",
    "NAME",
    "reversible (McCallum & Foster; default) or plain (ordinary Runge-Kutta, " +
    "not with --gradient reversible)",
  ],
  ["gradient", "NAME", `gradient method: ${GRADIENT_NAMES.join(", ")} (default reversible)`],
  [
    "checkpoints",
    "C",
    "checkpoints of --gradient checkpointed (default ⌊√(2N + ¼) − 1.5⌋ + 1 for N steps: " +
    "44 for 1000, 31 for 499)",
  ],
  [
    "coupling",
    "λ",
    "coupling of the reversible scheme, in (0, 1] (default 0.999); with --gradient " +
    "reversible keep N·(1 − λ) below about 20 for the N steps of a solve (λ ≥ 0.98 for " +
    "1000 steps), or its backward pass drifts from the forward solve",
  ],
  [
    "steps",
    "N",
    "fixed solver steps over the data window: a multiple or divisor of the data " +
    "intervals (default 1000 white dwarf, 499 oscillator; the pendulum steps adaptively)",
  ],
  [
    "dt",
    "H",
    "fixed step size instead of --steps, a number or a fraction a/b (0.005 white dwarf, " +
    "3/499 oscillator)",
  ],
  [
    "rtol",
    "R",
    "adaptive steps with this relative tolerance (default 1e-6; the pendulum's default; " +
    "needs bosh3, dopri5, tsit5, heun, reversible-heun or leapfrog)",
  ],
  ["atol", "A", "absolute tolerance of adaptive steps (default 1e-6)"],
  ["max-steps", "N", "most steps of an adaptive solve, rejected ones included (default 1000)"],
  [
    "iterations",
    "N",
    "iterations to train (default 2000 for the white dwarf, else the paper's); with " +
    "--resume, iterations more (default: " +
    "the rest of the resumed run's planned iterations)",
  ],
  ["lr", "RATE", "AdamW learning rate (default 0.01)"],
  ["weight-decay", "W", "AdamW decoupled weight decay (default 1e-5)"],
  [
    "schedule",
    "NAME",
    "learning-rate schedule: constant (default) or cosine (from --lr down to lr/100 " +
    "over --iterations)",
  ],
  ["clip", "NORM", "clip the gradient norm to NORM (default: no clipping)"],
  ["width", "N", "hidden layer width (default 10)"],
  ["depth", "N", "number of hidden layers (default 1)"],
  ["activation", "NAME", `hidden activation: ${activationNames.join(", ")} (default tanh)`],
  ["batch", "N", "trajectories per iteration, for data with several (default 1)"],
  ["seed", "N", "seed of the initial parameters (default 0)"],
  [
    "backend",
    "NAME",
    "cpu (float64; the default, or the resumed model's), webgpu (float32 on the GPU: " +
    "the reversible scheme of a Runge-Kutta solver; fixed steps with the reversible, direct " +
    "or checkpointed gradient, adaptive steps with any of the three, the batch " +
    "sharing one step size), or auto (webgpu when a hardware adapter exists and the " +
    "configuration runs there, else cpu, saying why; a software adapter such as llvmpipe " +
    "is used only when asked for by webgpu)",
  ],
  [
    "solve-kernel",
    "NAME",
    "WebGPU only: auto (default: whole where it applies — widths up to 32, fixed steps), " +
    "whole (one kernel runs each trajectory's whole solve, " +
    "another its whole backward pass) or steps (kernels per stage and step)",
  ],
  [
    "data",
    "FILE",
    "your own time series: a CSV (comma or semicolon) or whitespace table with a header " +
    "row or --columns; with --example oscillator or pendulum, a Schmidt-Lipson data file " +
    "(default: simulated data)",
  ],
  ["columns", "A,B,…", "the table's column names, when it has no header row"],
  ["time-column", "NAME", "the time column (default: t or time, else the first)"],
  ["state-columns", "A,B,…", "the state columns (default: the other numeric columns)"],
  [
    "trajectory-column",
    "NAME",
    "a column naming each row's trajectory (several trajectories in one file, each with its " +
    "own times and initial state)",
  ],
  ["window", "A:B", "train on the rows with A ≤ t ≤ B only (default: all)"],
  [
    "normalize",
    "HOW",
    "none or standard: the model learns each state as (y − mean) / std of the training " +
    "data (default standard for --data tables); every output is in the data's units",
  ],
  [
    "validation",
    "F",
    "hold out a fraction F in (0, 1) of the data: of several trajectories, that fraction " +
    "of them (chosen from --seed); of one, the last fraction of its time (an extrapolation " +
    "test); the validation loss is evaluated at every iteration, and the best parameters " +
    "are those of the lowest one (default: none)",
  ],
  [
    "patience",
    "K",
    "with --validation: stop early once the validation loss has not improved for K " +
    "iterations (default: never)",
  ],
  [
    "out",
    "DIR",
    "output folder (default runs/<example>-<timestamp>/); one holding a run is refused " +
    "unless --resume continues that run or --force replaces it",
  ],
  [
    "resume",
    "FILE",
    "continue training from a model.json (optimizer state included), a finished run or a " +
    "checkpoint; the losses are bit-identical to a run never stopped",
  ],
  [
    "save-every",
    "SECONDS",
    "write model.json, resumable with --resume, every SECONDS of training (default 60), " +
    "so that a killed run loses at most that; SIGINT, SIGTERM and SIGHUP save and exit " +
    "(130, 143, 129)",
  ],
  ["force", "", "replace the run in --out (its model.json, model.onnx and report files)"],
  ["version", "", "print revode's and Deno's versions"],
  [
    "init",
    "FILE",
    "start a new run from given parameters instead of --seed's: a model.json (its best " +
    "ones), a JSON array of numbers in the MLP's order, an object with params or params0, " +
    "or the paper-inits form (the initialisation of --seed); the count must be the MLP's",
  ],
  [
    "restarts",
    "K",
    "train K initialisations (seeds --seed … --seed + K − 1) for a short probe each and " +
    "continue the one with the lowest loss to --iterations (default 2 for a new " +
    "white-dwarf run of 200 iterations or more, else 1: no probes)",
  ],
  [
    "probe",
    "N",
    "iterations of each --restarts probe, part of --iterations (default a tenth; at most " +
    "200 for the default --restarts)",
  ],
  ["help", "", "print this help"],
];

/**
 * The help text of `deno task train`.
 *
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { helpText } from "./train_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(helpText().includes("--gradient NAME"));
 * ```
 */
export function helpText(): string {
  const lines = [
    "Usage: deno task train [flags]",
    "",
    "Trains a neural ODE (an MLP vector field) on one of the three experiments of",
    "McCallum & Foster (2024) with exact gradients through an algebraically reversible",
    "solver, and writes model.json, history.csv, loss.svg, fit.svg, residuals.svg,",
    "summary.json and report.html to the output folder. With no flags: the white dwarf,",
    "RK4, reversible gradient, 2000 iterations, the better of seeds 0 and 1 after 200.",
    "",
    "Flags:",
  ];
  lines.push(...flagHelp(TRAIN_FLAGS, 24, 80));
  lines.push(
    "",
    "Examples:",
    "  deno task train --example oscillator --iterations 2000",
    "  deno task train --example pendulum --data ../shared/data/schmidt-lipson-2009/real_double_pend_h_1.txt",
    "  deno task train --gradient checkpointed --scheme plain --solver ralston3",
    "  deno task train --backend webgpu --example oscillator",
    "  deno task train --resume runs/<run>/model.json --iterations 500",
    "",
    "Ctrl-C saves the current state (model.json and the rest) before exiting;",
    "--resume continues it exactly as if it had not stopped.",
  );
  return lines.join("\n") + "\n";
}

/** The flag of each setting a remedy can name. */
const REMEDY_FLAGS: Record<RemedySetting, string> = {
  steps: "--steps",
  maxSteps: "--max-steps",
  rtol: "--rtol",
  atol: "--atol",
  coupling: "--coupling",
  gradient: "--gradient",
  weightDecay: "--weight-decay",
  lr: "--lr",
  clip: "--clip",
};

/**
 * How `deno task train` names the settings in a run's remedies: by the flags
 * that set them (the library names the configuration's keys).
 *
 * @param setting The setting.
 * @param value A value of it, when a remedy suggests one.
 * @returns The flag, or the flag and the value, as one would type them.
 *
 * @example
 * ```ts
 * import { flagNames } from "./train_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(flagNames("weightDecay"), "--weight-decay");
 * assert.equal(flagNames("gradient", "checkpointed"), "--gradient checkpointed");
 * ```
 */
export function flagNames(setting: RemedySetting, value?: string): string {
  const flag = REMEDY_FLAGS[setting];
  return value === undefined ? flag : `${flag} ${value}`;
}
