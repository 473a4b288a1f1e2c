/**
 * The flags of `deno task experiments`, their help, and their values read
 * and checked into the settings of a comparison.
 *
 * @module
 */

import { ArgumentError } from "../solvers/checks.ts";
import { flagHelp, type FlagTable, parseFlags, UsageError } from "./flags.ts";
import type { CompareOptions } from "./experiments_compare.ts";
import { EXAMPLE_NAMES, type ExampleName, EXPERIMENTS } from "../training/experiments.ts";
import { SOLVER_NAMES, type SolverName } from "../training/config.ts";
import { alignSteps } from "../training/data.ts";
import { parseSeeds } from "./experiments_seeds.ts";

/**
 * The values of `--backend`.
 *
 * @example
 * ```ts
 * import { EXPERIMENT_BACKENDS } from "./experiments_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(EXPERIMENT_BACKENDS, ["cpu", "webgpu", "auto"]);
 * ```
 */
export const EXPERIMENT_BACKENDS = ["cpu", "webgpu", "auto"] as const;
/** A value of `--backend`. */
export type ExperimentBackend = typeof EXPERIMENT_BACKENDS[number];

/** What the flags of `deno task experiments` ask for. */
export interface ExperimentSettings {
  /** `--json`: results as JSON, progress to stderr. */
  json: boolean;
  /** The experiments to compare. */
  examples: ExampleName[];
  /** True when every experiment was asked for (`--example all`, the default). */
  all: boolean;
  /** `--solver`, or null for each experiment's paper solvers. */
  solvers: SolverName[] | null;
  /** `--backend`. */
  backend: ExperimentBackend;
  /**
   * `--seeds`: every comparison on each of these seeds, summarised by medians;
   * null for one seed (`--seed`, in `options.seed`).
   */
  seeds: number[] | null;
  /** The settings every comparison shares. */
  options: Omit<CompareOptions, "example" | "solver">;
}

/**
 * The flags of `deno task experiments`, in help order.
 *
 * @example
 * ```ts
 * import { EXPERIMENTS_FLAGS } from "./experiments_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EXPERIMENTS_FLAGS.some(([name, value]) => name === "json" && value === ""));
 * ```
 */
export const EXPERIMENTS_FLAGS: FlagTable = [
  ["example", "NAME", `all (default), ${EXAMPLE_NAMES.join(", ")}`],
  ["iterations", "N", "iterations of every training (default: the paper's, 1000 / 10000 / 10000)"],
  [
    "solver",
    "LIST",
    "comma-separated solvers (default: the paper's: euler,midpoint,ralston3,rk4 for the " +
    "white dwarf, rk4 oscillator, bosh3 pendulum)",
  ],
  [
    "data-dir",
    "DIR",
    "folder of the Schmidt-Lipson files, under their original names: " +
    `${EXPERIMENTS.oscillator.dataFile} (oscillator), ${EXPERIMENTS.pendulum.dataFile} ` +
    "(pendulum); checked before anything runs (default: simulated data)",
  ],
  [
    "checkpoints",
    "C",
    "checkpoints of the checkpointed method (default ⌊−1.5 + √(2N + ¼)⌋ + 1 for N steps, " +
    "as in diffrax: 44 for the white dwarf's 1000 steps, 31 for the oscillator's 499; " +
    "adaptive solves take it from each solve's own step count)",
  ],
  [
    "baseline-scheme",
    "NAME",
    "scheme under checkpointing: plain (the paper's baseline; default on the CPU) or " +
    "reversible (default on the GPU, and for reversible-heun and leapfrog, which have no " +
    "plain form)",
  ],
  ["seed", "N", "seed of every run, any integer, negative too (default 0)"],
  [
    "seeds",
    "LIST",
    "run every comparison on each seed of LIST (0-9, 0,3,5 or 7) and add per method the " +
    "median and range (min – max) of the best loss and of the wall time over the seeds",
  ],
  ["warmup", "N", "untimed iterations before each timed run (default 3)"],
  [
    "steps",
    "N",
    "fixed solver steps instead of each experiment's (and of the pendulum's adaptive ones)",
  ],
  [
    "backend",
    "NAME",
    "cpu (default, float64), webgpu (float32) or auto",
  ],
  ["json", "", "print the results as JSON instead of a table"],
  ["version", "", "print revode's and Deno's versions"],
  ["help", "", "print this help"],
];

/**
 * The help text of `deno task experiments`.
 *
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { experimentsHelp } from "./experiments_flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(experimentsHelp(), /^Usage: deno task experiments \[flags\]\n/);
 * ```
 */
export function experimentsHelp(): string {
  const lines = [
    "Usage: deno task experiments [flags]",
    "",
    "Reproduces the comparison of McCallum & Foster (2024): trains each experiment with",
    "the reversible gradient and with recursive checkpointing on identical seeds, solver",
    "and step, and prints wall time, best loss, bytes held by the gradient method and",
    "the ratios. With --backend webgpu both trainings run on the GPU in float32, and",
    "checkpointing runs on the reversible scheme (the only one the GPU has).",
    "",
    "Flags:",
  ];
  lines.push(...flagHelp(EXPERIMENTS_FLAGS, 26, 100));
  return lines.join("\n") + "\n";
}

/**
 * Reads the flags of `deno task experiments`.
 *
 * @param args The command-line arguments.
 * @returns The settings, or `"help"` for `--help`, `"version"` for `--version`.
 * @throws {UsageError} For a bad flag or value.
 *
 * @example
 * ```ts
 * import { parseExperimentFlags } from "./experiments_flags.ts";
 * import assert from "node:assert/strict";
 *
 * const settings = parseExperimentFlags(["--example", "oscillator", "--seed", "-3"]);
 * assert.ok(typeof settings === "object");
 * assert.deepEqual(settings.examples, ["oscillator"]);
 * assert.equal(settings.options.seed, -3);
 * const many = parseExperimentFlags(["--seeds", "0-2"]);
 * assert.ok(typeof many === "object");
 * assert.deepEqual(many.seeds, [0, 1, 2]);
 * assert.throws(() => parseExperimentFlags(["--warmup", "x"]), /--warmup: "x"\. Allowed: an integer >= 0\./);
 * ```
 */
export function parseExperimentFlags(
  args: string[],
): ExperimentSettings | "help" | "version" {
  const parsed = parseFlags(args, EXPERIMENTS_FLAGS, { dashValues: true });
  if (parsed.help) return "help";
  if (parsed.version) return "version";
  const example = (parsed.example as string | undefined) ?? "all";
  const allowed = ["all", ...EXAMPLE_NAMES];
  if (!allowed.includes(example)) {
    throw new UsageError(
      `invalid value for --example: ${JSON.stringify(example)}. Allowed: ${allowed.join(", ")}.`,
    );
  }
  const examples = example === "all" ? [...EXAMPLE_NAMES] : [example as ExampleName];
  let solvers: SolverName[] | null = null;
  if (typeof parsed.solver === "string") {
    solvers = parsed.solver.split(",").map((s) => s.trim()) as SolverName[];
    for (const s of solvers) {
      if (!SOLVER_NAMES.includes(s)) {
        throw new UsageError(
          `invalid solver in --solver: ${JSON.stringify(s)}. Allowed: ${SOLVER_NAMES.join(", ")}.`,
        );
      }
    }
  }
  const baseline = parsed["baseline-scheme"] as string | undefined;
  if (baseline !== undefined && baseline !== "plain" && baseline !== "reversible") {
    throw new UsageError(
      `invalid value for --baseline-scheme: ${JSON.stringify(baseline)}. ` +
        `Allowed: plain, reversible.`,
    );
  }
  const backend = ((parsed.backend as string | undefined) ?? "cpu") as ExperimentBackend;
  if (!EXPERIMENT_BACKENDS.includes(backend)) {
    throw new UsageError(
      `invalid value for --backend: ${JSON.stringify(backend)}. Allowed: ${
        EXPERIMENT_BACKENDS.join(", ")
      }.`,
    );
  }
  const seedsText = parsed.seeds as string | undefined;
  if (seedsText !== undefined && parsed.seed !== undefined) {
    throw new UsageError("give --seed N or --seeds LIST, not both.");
  }
  const seeds = seedsText === undefined ? null : parseSeeds(seedsText);
  const steps = typeof parsed.steps === "string" ? _int("steps", parsed.steps, 1) : undefined;
  if (steps !== undefined) {
    for (const name of examples) {
      try {
        alignSteps(EXPERIMENTS[name].points, steps);
      } catch (error) {
        if (!(error instanceof ArgumentError)) throw error;
        throw new UsageError(
          `invalid value for --steps: ${steps} does not line up with the ${name} data ` +
            `(${EXPERIMENTS[name].points} points). Allowed: ${error.data.expected}.`,
        );
      }
    }
  }
  const options: ExperimentSettings["options"] = {
    iterations: typeof parsed.iterations === "string"
      ? _int("iterations", parsed.iterations, 1)
      : undefined,
    dataDir: parsed["data-dir"] as string | undefined,
    checkpoints: typeof parsed.checkpoints === "string"
      ? _int("checkpoints", parsed.checkpoints, 1)
      : undefined,
    baselineScheme: baseline as CompareOptions["baselineScheme"],
    seed: typeof parsed.seed === "string" ? _int("seed", parsed.seed, null) : 0,
    warmup: typeof parsed.warmup === "string" ? _int("warmup", parsed.warmup, 0) : 3,
    steps,
  };
  return {
    json: parsed.json === true,
    examples,
    all: example === "all",
    solvers,
    backend,
    seeds,
    options,
  };
}

/**
 * An integer flag value of at least `min`; `min` null allows negative
 * integers too.
 */
function _int(flag: string, text: string, min: number | null): number {
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(value) && (min === null || value >= min))) {
    const range = min === null ? "an integer" : `an integer >= ${min}`;
    throw new UsageError(
      `invalid value for --${flag}: ${JSON.stringify(text)}. Allowed: ${range}` +
        (Number.isInteger(value) && !Number.isSafeInteger(value)
          ? ", at most 2^53 − 1 in absolute value"
          : "") +
        ".",
    );
  }
  return value;
}
