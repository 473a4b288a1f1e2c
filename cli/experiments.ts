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
 *     deno task experiments --backend webgpu --example oscillator --iterations 200
 *
 * Timing excludes a few warm-up iterations (`--warmup`) run before each
 * timed training.
 *
 * With `--backend webgpu` both trainings run on the GPU in float32. The GPU
 * runs the reversible scheme only, so the checkpointed baseline runs on the
 * reversible scheme there (`--baseline-scheme reversible`, its default on the
 * GPU; for the pendulum's adaptive steps it is two-level checkpointing,
 * solvers/webgpu/gradients/adaptive.ts). Both trainings run in the same
 * kernel layout (`solveKernel`: the one the reversible run took, whole-solve
 * kernels for narrow networks on fixed steps), so that the ratios compare
 * the methods and not the layouts. `--backend auto` runs on the GPU
 * what the GPU can run, the rest on the CPU, and says which.
 *
 * @module
 */

import { flagHelp, type FlagTable, parseFlags, UsageError } from "./flags.ts";
import {
  EXAMPLE_NAMES,
  type ExampleName,
  experimentConfig,
  EXPERIMENTS,
  loadExperimentData,
} from "../training/experiments.ts";
import { schemeOf, SOLVER_NAMES, type SolverName, type TrainConfig } from "../training/config.ts";
import type { TrainResult } from "../training/state.ts";
import { train } from "../training/train.ts";
import { alignSteps } from "../training/data.ts";
import { configGpuSupport, trainGpu } from "../training/webgpu/train.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";
import { type CliIo, consoleIo } from "./io.ts";
import { type BackendChoice, chooseBackend } from "../solvers/webgpu/runtime/device.ts";
import type { GpuLike, SolveKernel } from "../solvers/webgpu/solve.ts";

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
  /** The backend it trained on (absent: the CPU). */
  backend?: "cpu" | "webgpu";
  /** On the GPU: how the solve was laid out in kernels (the same for both methods of a pair). */
  solveKernel?: "whole" | "steps";
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
  /** Checkpoints of the checkpointed method (default `⌊−1.5 + √(2N + ¼)⌋ + 1`, about √(2N)). */
  checkpoints?: number;
  /** Scheme under the checkpointed method (default `"plain"`, the paper's baseline). */
  baselineScheme?: "plain" | "reversible";
  /** Seed of both runs (default 0). */
  seed?: number;
  /** Untimed iterations before each timed run (default 3). */
  warmup?: number;
  /**
   * Fixed solver steps over the data window instead of the experiment's
   * (replacing adaptive steps too); a multiple or divisor of its data intervals.
   */
  steps?: number;
  /**
   * Train on this WebGPU device (float32) instead of the CPU (default null).
   * The checkpointed baseline's scheme then defaults to `"reversible"`.
   */
  gpu?: GpuLike | null;
}

/**
 * The two configurations {@link compare} trains: the reversible scheme and
 * gradient, then checkpointing on the baseline scheme.
 *
 * @param options The comparison.
 * @returns `[reversible, checkpointed]`.
 *
 * @example
 * ```ts
 * import { comparisonConfigs } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const [rev, ckpt] = comparisonConfigs({ example: "pendulum", solver: "bosh3", steps: 499 });
 * assert.equal(rev.adaptive, null);
 * assert.equal(ckpt.checkpoints, 31);
 * assert.equal(ckpt.scheme, "plain");
 * ```
 */
export function comparisonConfigs(options: CompareOptions): [TrainConfig, TrainConfig] {
  const base = experimentConfig(options.example, {
    solver: options.solver,
    seed: options.seed ?? 0,
    ...(options.steps === undefined ? {} : { steps: options.steps, adaptive: null }),
  });
  // Adaptive solves pick the default from each solve's own step count.
  const checkpoints = options.checkpoints ??
    (base.adaptive ? null : defaultCheckpoints(base.steps));
  const gpu = options.gpu !== undefined && options.gpu !== null;
  // Reversible Heun and leapfrog are reversible schemes of their own, with no plain form
  const ownScheme = options.solver === "reversible-heun" || options.solver === "leapfrog";
  return [base, {
    ...base,
    scheme: options.baselineScheme ?? (gpu || ownScheme ? "reversible" : "plain"),
    gradient: "checkpointed",
    checkpoints,
  }];
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
 * import { compare } from "./experiments.ts";
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
  const gpu = options.gpu ?? null;
  const [base, baseline] = comparisonConfigs(options);
  const configs: Array<[ComparisonRun["method"], TrainConfig]> = [
    ["reversible", base],
    ["checkpointed", baseline],
  ];
  // On the GPU both methods run in the kernel layout the first (reversible) took, so that
  // the ratios compare methods, not layouts: whole-solve kernels for narrow networks on
  // fixed steps, else kernels per stage and step.
  let solveKernel: SolveKernel = "auto";
  const fit = (config: TrainConfig, iterations: number): Promise<TrainResult> =>
    gpu === null
      ? train({ config, data, iterations })
      : trainGpu({ gpu, config, data, iterations, solveKernel });
  const runs: ComparisonRun[] = [];
  for (const [method, config] of configs) {
    // On the GPU the warm-up also compiles the kernels (cached per device).
    if (warmup > 0) await fit(config, warmup);
    const result = await fit(config, iterations);
    if (result.solveKernel) solveKernel = result.solveKernel;
    runs.push({
      example: options.example,
      solver: options.solver,
      method,
      scheme: config.scheme,
      checkpoints: method === "checkpointed" ? config.checkpoints : null,
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
      backend: gpu === null ? "cpu" : "webgpu",
      ...(result.solveKernel ? { solveKernel: result.solveKernel } : {}),
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
 * import { formatTable } from "./experiments.ts";
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
  // A backend column when any run was on the GPU.
  const gpu = runs.some((r) => r.backend === "webgpu");
  const header = [
    "experiment",
    "solver",
    "method",
    ...(gpu ? ["backend"] : []),
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
      ...(gpu ? [r.backend === "webgpu" ? "webgpu f32" : "cpu f64"] : []),
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
      row.map((cell, c) => c >= (gpu ? 4 : 3) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
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
  if (gpu) {
    lines.push(
      "grad bytes on the GPU: float32 buffers of the method and its working state " +
        "(binding-aligned slices)",
      "on the GPU both methods of a pair run in the same kernel layout (whole-solve kernels " +
        "for networks up to 32 wide on fixed steps, else kernels per stage and step), so the " +
        "ratios compare methods, not layouts",
    );
  }
  return lines.join("\n") + "\n";
}

const _FLAGS: FlagTable = [
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
  ["help", "", "print this help"],
];

function _help(): string {
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
  lines.push(...flagHelp(_FLAGS, 26, 100));
  return lines.join("\n") + "\n";
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

/**
 * Checks `--data-dir` before any training starts: the folder exists, is a
 * folder, and holds a readable data file for each chosen experiment that
 * reads one (the white dwarf reads none), so that a wrong folder fails at
 * once instead of after the comparisons before it.
 */
async function _checkDataDir(dir: string, examples: readonly ExampleName[]): Promise<void> {
  const flag = `--data-dir ${JSON.stringify(dir)}`;
  const needed = [...new Set(examples)].filter((e) => EXPERIMENTS[e].dataFile !== null);
  const files = needed.map((e) => `${EXPERIMENTS[e].dataFile} (${e})`).join(" and ");
  const expected = needed.length === 0
    ? "Expected: a folder of the Schmidt-Lipson files."
    : `Expected: a folder holding ${files}.`;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`${flag}: no such folder. ${expected}`);
    }
    throw error;
  }
  if (!info.isDirectory) throw new UsageError(`${flag}: not a folder. ${expected}`);
  const missing = needed.filter((e) => {
    try {
      return !Deno.statSync(`${dir.replace(/[\\/]+$/, "")}/${EXPERIMENTS[e].dataFile}`).isFile;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return true;
      throw error;
    }
  });
  if (missing.length > 0) {
    throw new UsageError(
      `${flag}: has no ${
        missing.map((e) => `${EXPERIMENTS[e].dataFile} (${e})`).join(" or ")
      }. ${expected}`,
    );
  }
  // Read each file once now, so that a malformed one is reported before training too.
  for (const example of needed) {
    try {
      await loadExperimentData(example, { dir });
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new UsageError(
        `${flag}: cannot use the ${example} data: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
  }
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
 * import { main } from "./experiments.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(await main(["--example", "moon"], io), 2);
 * assert.match(err, /Allowed: all, white-dwarf, oscillator, pendulum/);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo()): Promise<number> {
  let pairs: _Pair[];
  let notes: string[];
  let backend: _Backend;
  let options: Omit<CompareOptions, "example" | "solver">;
  let json = false;
  try {
    const parsed = parseFlags(args, _FLAGS, { dashValues: true });
    if (parsed.help) {
      io.write(_help());
      return 0;
    }
    json = parsed.json === true;
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
            `invalid solver in --solver: ${JSON.stringify(s)}. Allowed: ${
              SOLVER_NAMES.join(", ")
            }.`,
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
    backend = ((parsed.backend as string | undefined) ?? "cpu") as _Backend;
    if (!BACKENDS.includes(backend)) {
      throw new UsageError(
        `invalid value for --backend: ${JSON.stringify(backend)}. Allowed: ${BACKENDS.join(", ")}.`,
      );
    }
    const steps = typeof parsed.steps === "string" ? _int("steps", parsed.steps, 1) : undefined;
    if (steps !== undefined) {
      for (const name of examples) {
        try {
          alignSteps(EXPERIMENTS[name].points, steps);
        } catch (error) {
          throw new UsageError(
            `invalid value for --steps: ${steps} does not line up with the ${name} data ` +
              `(${EXPERIMENTS[name].points} points). Allowed: ${
                (error as Error).message.replace(/^.*expected /, "").replace(/\.$/, "")
              }.`,
          );
        }
      }
    }
    options = {
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
    ({ pairs, notes } = _plan(examples, solvers, backend, example === "all", options));
    if (options.dataDir !== undefined) {
      await _checkDataDir(options.dataDir, pairs.map((p) => p.example));
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(`error: ${error.message}\nRun with --help for every flag.\n`);
      return 2;
    }
    if (error instanceof Deno.errors.NotCapable) {
      io.error(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  const log = json ? io.error : io.write;
  let choice: BackendChoice | null = null;
  if (pairs.some((p) => p.gpu)) {
    try {
      choice = await chooseBackend(backend);
    } catch (error) {
      io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    if (choice.gpu === null) {
      // --backend auto without an adapter: everything on the CPU.
      pairs = pairs.map((p) => ({ ...p, gpu: false }));
      notes = [choice.message.replace(/^backend: /, "")];
    }
  }
  const gpu = choice?.gpu ?? null;
  log(
    `revode experiments — ${new Date().toISOString().slice(0, 10)}, ` +
      `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, ` +
      `Deno ${Deno.version.deno}, ` +
      (gpu === null
        ? "float64 CPU"
        : `float32 WebGPU on ${gpu.description}${gpu.isFallback ? " (software adapter)" : ""}`) +
      "\n",
  );
  for (const note of notes) log(`note: ${note}\n`);
  const runs: ComparisonRun[] = [];
  try {
    let last: ExampleName | null = null;
    for (const pair of pairs) {
      const experiment = EXPERIMENTS[pair.example];
      if (pair.example !== last && experiment.deviation && options.steps === undefined) {
        log(`note (${pair.example}): ${experiment.deviation}\n`);
      }
      last = pair.example;
      log(`running ${pair.example} / ${pair.solver}${pair.gpu ? " on the GPU" : ""} …\n`);
      const result = await compare({
        ...options,
        example: pair.example,
        solver: pair.solver,
        gpu: pair.gpu ? gpu : null,
      });
      runs.push(...result);
      log(formatTable(result).split("\n").slice(2).join("\n"));
    }
  } catch (error) {
    // Keep the comparisons that finished before the failure.
    if (runs.length > 0) {
      if (json) io.write(JSON.stringify(runs, null, 2) + "\n");
      else io.write("\n" + formatTable(runs));
      io.error(`the ${runs.length} runs above finished before the failure below.\n`);
    }
    io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    gpu?.device.destroy();
  }
  if (json) io.write(JSON.stringify(runs, null, 2) + "\n");
  else io.write("\n" + formatTable(runs));
  return 0;
}

const BACKENDS = ["cpu", "webgpu", "auto"] as const;
type _Backend = typeof BACKENDS[number];

/** One comparison to run: an experiment, a solver, and whether on the GPU. */
interface _Pair {
  example: ExampleName;
  solver: SolverName;
  gpu: boolean;
}

/**
 * Which comparisons run where. On `webgpu` a comparison the GPU cannot run
 * is refused (a usage error), except the pendulum's adaptive steps when
 * every experiment was asked for: it is skipped, saying how to run it; on
 * `auto` such a comparison runs on the CPU, saying why.
 */
function _plan(
  examples: readonly ExampleName[],
  solvers: readonly SolverName[] | null,
  backend: _Backend,
  all: boolean,
  options: Omit<CompareOptions, "example" | "solver">,
): { pairs: _Pair[]; notes: string[] } {
  const pairs: _Pair[] = [];
  const notes: string[] = [];
  for (const example of examples) {
    for (const solver of solvers ?? EXPERIMENTS[example].paperSolvers) {
      const configs = comparisonConfigs({
        ...options,
        example,
        solver,
        baselineScheme: options.baselineScheme ?? (backend === "cpu" ? undefined : "reversible"),
      });
      const adaptive = configs[0].adaptive !== null;
      const hint = adaptive
        ? ` Give --steps N for fixed steps (e.g. --steps ${EXPERIMENTS[example].points - 1}).`
        : "";
      // Refused before any run starts (rk4 cannot step the pendulum adaptively, say): the
      // other pairs would otherwise train for minutes first.
      for (const config of configs) {
        try {
          schemeOf(config);
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          throw new UsageError(`${example} / ${solver}: ${error.message}${hint}`);
        }
      }
      if (backend === "cpu") {
        pairs.push({ example, solver, gpu: false });
        continue;
      }
      const why = configs.map(configGpuSupport).find((w) => w !== null) ?? null;
      if (why === null) {
        pairs.push({ example, solver, gpu: true });
        continue;
      }
      if (backend === "auto") {
        notes.push(`${example} / ${solver} runs on the CPU: ${why}${hint}`);
        pairs.push({ example, solver, gpu: false });
      } else if (all && adaptive) {
        notes.push(`${example} skipped: ${why}${hint}`);
        break;
      } else {
        throw new UsageError(`--backend webgpu: ${example} / ${solver}: ${why}${hint}`);
      }
    }
  }
  return { pairs, notes };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
