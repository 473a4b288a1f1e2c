/**
 * `deno task experiments`: the paper's comparison (numerics.md §5). For each
 * experiment and solver it trains twice from the same seed, solver and step —
 * once with the reversible scheme and its O(1)-memory reversible gradient,
 * once with binomial checkpointing (the default `c ≈ √(2N)` checkpoints) on
 * the plain Runge–Kutta scheme — and prints wall time, best loss, bytes held
 * by the gradient method, and the checkpointed/reversible ratios.
 *
 *     deno task experiments --example white-dwarf
 *     deno task experiments --iterations 200 --data-dir ../shared/data/schmidt-lipson-2009
 *
 * Timing excludes a few warm-up iterations (`--warmup`) run before each
 * timed training.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  EXAMPLE_NAMES,
  type ExampleName,
  experimentConfig,
  EXPERIMENTS,
  loadExperimentData,
} from "./experiments.ts";
import { SOLVER_NAMES, type SolverName, train, type TrainConfig } from "./train.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";
import { type CliIo, consoleIo } from "./cli.ts";

/** One timed training run of the comparison. */
export interface ComparisonRun {
  /** The experiment. */
  example: ExampleName;
  /** The base solver. */
  solver: SolverName;
  /** `reversible` or `checkpointed`. */
  method: "reversible" | "checkpointed";
  /** The scheme the method ran on. */
  scheme: "reversible" | "plain";
  /** Checkpoints held (checkpointed only; null for the default of adaptive solves), else null. */
  checkpoints: number | null;
  /** Solver steps per iteration (a mean when adaptive). */
  steps: number;
  /** True for adaptive steps. */
  adaptive: boolean;
  /** Iterations trained. */
  iterations: number;
  /** How the run ended. */
  status: string;
  /** Wall seconds of the timed iterations. */
  seconds: number;
  /** Lowest loss. */
  bestLoss: number | null;
  /** Peak bytes held by the gradient method. */
  peakBytes: number;
  /** Vector-field evaluations per iteration. */
  evaluationsPerIteration: number;
  /** Vector-field VJPs per iteration. */
  vjpsPerIteration: number;
  /** True when the data were simulated. */
  simulatedData: boolean;
}

/** Options of {@link compare}. */
export interface CompareOptions {
  /** The experiment. */
  example: ExampleName;
  /** The base solver. */
  solver: SolverName;
  /** Iterations of each training (default: the paper's). */
  iterations?: number;
  /** Folder of the Schmidt–Lipson files (default: simulated data). */
  dataDir?: string;
  /** Checkpoints of the checkpointed method (default `≈ √(2N)`). */
  checkpoints?: number;
  /** Scheme under the checkpointed method (default `"plain"`, the paper's baseline). */
  baselineScheme?: "plain" | "reversible";
  /** Seed of both runs (default 0). */
  seed?: number;
  /** Untimed iterations before each timed run (default 3). */
  warmup?: number;
}

/**
 * Trains one experiment with the reversible gradient and with checkpointing,
 * on identical seeds, solver and step.
 *
 * @param options Experiment, solver, iterations, data folder, settings.
 * @returns The two runs, reversible first.
 *
 * @example
 * ```ts
 * import { compare } from "./experiments_cli.ts";
 * import assert from "node:assert/strict";
 *
 * const [rev, ckpt] = await compare({ example: "white-dwarf", solver: "euler", iterations: 2, warmup: 0 });
 * assert.equal(rev.method, "reversible");
 * assert.equal(ckpt.checkpoints, 44);
 * assert.ok(rev.peakBytes < ckpt.peakBytes);
 * ```
 */
export async function compare(options: CompareOptions): Promise<ComparisonRun[]> {
  const experiment = EXPERIMENTS[options.example];
  const { data, simulated } = await loadExperimentData(options.example, { dir: options.dataDir });
  const iterations = options.iterations ?? experiment.iterations;
  const warmup = options.warmup ?? 3;
  const base = experimentConfig(options.example, {
    solver: options.solver,
    seed: options.seed ?? 0,
  });
  // Adaptive solves pick the default from each solve's own step count.
  const checkpoints = options.checkpoints ??
    (base.adaptive ? null : defaultCheckpoints(experiment.steps));
  const configs: Array<[ComparisonRun["method"], TrainConfig]> = [
    ["reversible", base],
    ["checkpointed", {
      ...base,
      scheme: options.baselineScheme ?? "plain",
      gradient: "checkpointed",
      checkpoints,
    }],
  ];
  const runs: ComparisonRun[] = [];
  for (const [method, config] of configs) {
    if (warmup > 0) await train({ config, data, iterations: warmup });
    const result = await train({ config, data, iterations });
    runs.push({
      example: options.example,
      solver: options.solver,
      method,
      scheme: config.scheme,
      checkpoints: method === "checkpointed" ? checkpoints : null,
      steps: result.gradient?.stepsPerIteration ?? 0,
      adaptive: config.adaptive !== null,
      iterations: result.iterationsRun,
      status: result.status,
      seconds: result.seconds,
      bestLoss: result.state.bestLoss,
      peakBytes: result.gradient?.peakBytes ?? 0,
      evaluationsPerIteration: result.gradient?.evaluationsPerIteration ?? 0,
      vjpsPerIteration: result.gradient?.vjpsPerIteration ?? 0,
      simulatedData: simulated,
    });
  }
  return runs;
}

/**
 * The comparison as a text table, one row per run and one ratio row per pair.
 *
 * @param runs Runs from {@link compare}, in pairs.
 * @returns The table.
 *
 * @example
 * ```ts
 * import { formatTable } from "./experiments_cli.ts";
 * import assert from "node:assert/strict";
 *
 * const run = {
 *   example: "white-dwarf", solver: "rk4", method: "reversible", scheme: "reversible",
 *   checkpoints: null, steps: 1000, adaptive: false, iterations: 10, status: "completed", seconds: 2,
 *   bestLoss: 0.01, peakBytes: 1000, evaluationsPerIteration: 16000, vjpsPerIteration: 8000,
 *   simulatedData: false,
 * } as const;
 * const table = formatTable([run, { ...run, method: "checkpointed", seconds: 1, peakBytes: 1500 }]);
 * assert.match(table, /time 0\.50×, memory 1\.50×/);
 * ```
 */
export function formatTable(runs: readonly ComparisonRun[]): string {
  const header = [
    "experiment",
    "solver",
    "method",
    "steps",
    "iters",
    "wall s",
    "best loss",
    "grad bytes",
    "evals/it",
    "vjps/it",
  ];
  const rows: string[][] = [header];
  const ratios = new Map<number, string>();
  runs.forEach((r, i) => {
    const method = r.method === "checkpointed"
      ? `checkpointed c=${r.checkpoints ?? "√(2N)"} (${r.scheme})`
      : "reversible";
    rows.push([
      r.example + (r.simulatedData ? "*" : ""),
      r.solver,
      method + (r.status === "completed" ? "" : ` [${r.status}]`),
      (r.adaptive ? "~" : "") + String(r.steps),
      String(r.iterations),
      r.seconds.toFixed(2),
      r.bestLoss === null ? "-" : r.bestLoss.toExponential(4),
      String(r.peakBytes),
      String(r.evaluationsPerIteration),
      String(r.vjpsPerIteration),
    ]);
    const prev = runs[i - 1];
    if (
      r.method === "checkpointed" && prev?.method === "reversible" && prev.solver === r.solver &&
      prev.example === r.example
    ) {
      ratios.set(
        rows.length - 1,
        `  checkpointed/reversible: time ${(r.seconds / prev.seconds).toFixed(2)}×, ` +
          `memory ${(r.peakBytes / prev.peakBytes).toFixed(2)}×`,
      );
    }
  });
  const widths = header.map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines: string[] = [];
  rows.forEach((row, i) => {
    lines.push(
      row.map((cell, c) => c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
        .join("  ").trimEnd(),
    );
    if (i === 0) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
    const ratio = ratios.get(i);
    if (ratio) lines.push(ratio);
  });
  if (runs.some((r) => r.adaptive)) {
    lines.push("~ adaptive steps: mean accepted steps per solve");
  }
  if (runs.some((r) => r.simulatedData)) {
    lines.push("* simulated data (no --data-dir given)");
  }
  return lines.join("\n") + "\n";
}

const _FLAGS: ReadonlyArray<readonly [string, string, string]> = [
  ["example", "NAME", `all (default), ${EXAMPLE_NAMES.join(", ")}`],
  ["iterations", "N", "iterations of every training (default: the paper's, 1000 / 10000 / 10000)"],
  [
    "solver",
    "LIST",
    "comma-separated solvers (default: the paper's: euler,midpoint,ralston3,rk4 for the " +
    "white dwarf, rk4 oscillator, bosh3 pendulum)",
  ],
  ["data-dir", "DIR", "folder of the Schmidt-Lipson files (default: simulated data)"],
  ["checkpoints", "C", "checkpoints of the checkpointed method (default floor(√(2N)) ≈ 44 or 31)"],
  [
    "baseline-scheme",
    "NAME",
    "scheme under checkpointing: plain (default, the paper's baseline) or reversible",
  ],
  ["seed", "N", "seed of every run (default 0)"],
  ["warmup", "N", "untimed iterations before each timed run (default 3)"],
  ["json", "", "print the results as JSON instead of a table"],
  ["help", "", "print this help"],
];

function _help(): string {
  const lines = [
    "Usage: deno task experiments [flags]",
    "",
    "Reproduces the comparison of McCallum & Foster (2024): trains each experiment with",
    "the reversible gradient and with recursive checkpointing on identical seeds, solver",
    "and step, and prints wall time, best loss, bytes held by the gradient method and",
    "the ratios.",
    "",
    "Flags:",
  ];
  for (const [name, value, text] of _FLAGS) {
    const flag = `  --${name}${value ? " " + value : ""}`;
    lines.push(flag.length < 26 ? flag.padEnd(26) + text : `${flag}\n${"".padEnd(26)}${text}`);
  }
  return lines.join("\n") + "\n";
}

class _UsageError extends Error {}

function _int(flag: string, text: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new _UsageError(
      `invalid value for --${flag}: ${JSON.stringify(text)}. Allowed: an integer >= ${min}.`,
    );
  }
  return value;
}

/**
 * Runs `deno task experiments` with the given arguments.
 *
 * @param args The command-line arguments.
 * @param io Where to write (default the process's stdout and stderr).
 * @returns The exit code: 0 done, 1 a failure, 2 a bad flag.
 *
 * @example
 * ```ts
 * import { main } from "./experiments_cli.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(await main(["--example", "moon"], io), 2);
 * assert.match(err, /Allowed: all, white-dwarf, oscillator, pendulum/);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo()): Promise<number> {
  let examples: ExampleName[];
  let solvers: SolverName[] | null = null;
  let options: Omit<CompareOptions, "example" | "solver">;
  let json = false;
  try {
    const parsed = (() => {
      try {
        return parseArgs({
          args,
          strict: true,
          allowPositionals: false,
          options: Object.fromEntries(
            _FLAGS.map(([name, value]) => [name, { type: value ? "string" : "boolean" }]),
          ) as Record<string, { type: "string" | "boolean" }>,
        }).values as Record<string, string | boolean | undefined>;
      } catch (error) {
        const message = (error as Error).message;
        const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
        const names = _FLAGS.map(([n]) => `--${n}`).join(", ");
        throw new _UsageError(
          (error as { code?: string }).code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE"
            ? `${flag.split(" ")[0]} needs a value (see --help).`
            : `unknown flag or argument ${flag}. Allowed flags: ${names}.`,
        );
      }
    })();
    if (parsed.help) {
      io.write(_help());
      return 0;
    }
    json = parsed.json === true;
    const example = (parsed.example as string | undefined) ?? "all";
    const allowed = ["all", ...EXAMPLE_NAMES];
    if (!allowed.includes(example)) {
      throw new _UsageError(
        `invalid value for --example: ${JSON.stringify(example)}. Allowed: ${allowed.join(", ")}.`,
      );
    }
    examples = example === "all" ? [...EXAMPLE_NAMES] : [example as ExampleName];
    if (typeof parsed.solver === "string") {
      solvers = parsed.solver.split(",").map((s) => s.trim()) as SolverName[];
      for (const s of solvers) {
        if (!SOLVER_NAMES.includes(s)) {
          throw new _UsageError(
            `invalid solver in --solver: ${JSON.stringify(s)}. Allowed: ${
              SOLVER_NAMES.join(", ")
            }.`,
          );
        }
      }
    }
    const baseline = (parsed["baseline-scheme"] as string | undefined) ?? "plain";
    if (baseline !== "plain" && baseline !== "reversible") {
      throw new _UsageError(
        `invalid value for --baseline-scheme: ${JSON.stringify(baseline)}. ` +
          `Allowed: plain, reversible.`,
      );
    }
    options = {
      iterations: typeof parsed.iterations === "string"
        ? _int("iterations", parsed.iterations, 1)
        : undefined,
      dataDir: parsed["data-dir"] as string | undefined,
      checkpoints: typeof parsed.checkpoints === "string"
        ? _int("checkpoints", parsed.checkpoints, 1)
        : undefined,
      baselineScheme: baseline,
      seed: typeof parsed.seed === "string" ? _int("seed", parsed.seed, 0) : 0,
      warmup: typeof parsed.warmup === "string" ? _int("warmup", parsed.warmup, 0) : 3,
    };
  } catch (error) {
    if (error instanceof _UsageError) {
      io.error(`error: ${error.message}\nRun with --help for every flag.\n`);
      return 2;
    }
    throw error;
  }

  const log = json ? io.error : io.write;
  log(
    `revode experiments — ${new Date().toISOString().slice(0, 10)}, ` +
      `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, ` +
      `Deno ${Deno.version.deno}, float64 CPU\n`,
  );
  const runs: ComparisonRun[] = [];
  try {
    for (const example of examples) {
      const experiment = EXPERIMENTS[example];
      if (experiment.deviation) log(`note (${example}): ${experiment.deviation}\n`);
      for (const solver of solvers ?? experiment.paperSolvers) {
        log(`running ${example} / ${solver} …\n`);
        const pair = await compare({ ...options, example, solver });
        runs.push(...pair);
        log(formatTable(pair).split("\n").slice(2).join("\n"));
      }
    }
  } catch (error) {
    io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (json) io.write(JSON.stringify(runs, null, 2) + "\n");
  else io.write("\n" + formatTable(runs));
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
