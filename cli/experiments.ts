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
 *     deno task experiments --example white-dwarf --seeds 0-9
 *
 * With `--seeds` every comparison runs on each seed, and a second table gives
 * per method the median and range of the best loss and of the wall time over
 * the seeds (experiments_summary.ts): one seed is not a result.
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
 * The parts sit beside it: the flags (experiments_flags.ts), the plan of
 * comparisons (experiments_plan.ts), one comparison (experiments_compare.ts)
 * and the table (experiments_table.ts).
 *
 * @module
 */

import { type CliIo, consoleIo } from "./io.ts";
import { versionText } from "./version.ts";
import { UsageError } from "./flags.ts";
import { compare, type ComparisonRun } from "./experiments_compare.ts";
import {
  type ExperimentSettings,
  experimentsHelp,
  parseExperimentFlags,
} from "./experiments_flags.ts";
import { checkDataDir, type ComparisonPair, planComparisons } from "./experiments_plan.ts";
import { formatTable } from "./experiments_table.ts";
import { formatSummary, summarize } from "./experiments_summary.ts";
import { backendFlag } from "./train_backend.ts";
import { type ExampleName, EXPERIMENTS } from "../training/experiments.ts";
import {
  type BackendChoice,
  chooseBackend,
  type GpuDevice,
} from "../solvers/webgpu/runtime/device.ts";

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
  let settings: ExperimentSettings;
  let pairs: ComparisonPair[];
  let notes: string[];
  try {
    const parsed = parseExperimentFlags(args);
    if (parsed === "help" || parsed === "version") {
      io.write(parsed === "help" ? experimentsHelp() : versionText("deno task experiments"));
      return 0;
    }
    settings = parsed;
    ({ pairs, notes } = planComparisons(
      settings.examples,
      settings.solvers,
      settings.backend,
      settings.all,
      settings.options,
    ));
    if (settings.options.dataDir !== undefined) {
      await checkDataDir(settings.options.dataDir, pairs.map((p) => p.example));
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

  const { json } = settings;
  const log = json ? io.error : io.write;
  let choice: BackendChoice | null = null;
  if (pairs.some((p) => p.gpu)) {
    try {
      choice = await chooseBackend(settings.backend, { name: backendFlag });
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
  log(_banner(gpu));
  for (const note of notes) log(`note: ${note}\n`);
  const runs: ComparisonRun[] = [];
  try {
    await _runComparisons(log, pairs, settings, gpu, runs);
  } catch (error) {
    // Keep the comparisons that finished before the failure.
    if (runs.length > 0) {
      io.write(_results(runs, settings));
      io.error(`the ${runs.length} runs above finished before the failure below.\n`);
    }
    io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    gpu?.device.destroy();
  }
  io.write(_results(runs, settings));
  return 0;
}

/**
 * What is printed at the end: the runs as a table or JSON (an array of runs);
 * with `--seeds`, the medians table too, or JSON `{ seeds, runs, summary }`.
 */
function _results(runs: ComparisonRun[], settings: ExperimentSettings): string {
  if (settings.seeds === null) {
    return settings.json ? JSON.stringify(runs, null, 2) + "\n" : "\n" + formatTable(runs);
  }
  // They ran seed by seed; they read best comparison by comparison.
  const order = [...new Set(runs.map((r) => `${r.example}/${r.solver}`))];
  const sorted = runs.map((r, i) => ({ r, i, k: order.indexOf(`${r.example}/${r.solver}`) }))
    .sort((a, b) => a.k - b.k || a.i - b.i).map(({ r }) => r);
  const summary = summarize(sorted);
  return settings.json
    ? JSON.stringify({ seeds: settings.seeds, runs: sorted, summary }, null, 2) + "\n"
    : "\n" + formatTable(sorted) + "\n" + formatSummary(summary);
}

/** The first line: the date, the machine, Deno, and the arithmetic the runs use. */
function _banner(gpu: GpuDevice | null): string {
  return `revode experiments — ${new Date().toISOString().slice(0, 10)}, ` +
    `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, ` +
    `Deno ${Deno.version.deno}, ` +
    (gpu === null
      ? "float64 CPU"
      : `float32 WebGPU on ${gpu.description}${gpu.isFallback ? " (software adapter)" : ""}`) +
    "\n";
}

/**
 * Runs the comparisons in order, logging each one's rows as it finishes and
 * appending its runs to `runs` (which keeps them should a later one fail).
 */
async function _runComparisons(
  log: (text: string) => void,
  pairs: readonly ComparisonPair[],
  settings: ExperimentSettings,
  gpu: GpuDevice | null,
  runs: ComparisonRun[],
): Promise<void> {
  const noted = new Set<ExampleName>();
  // Seeds outermost: runs cut short still cover every method, and a machine's load that
  // changes over the hours falls on all the methods alike.
  const seeds = settings.seeds ?? [settings.options.seed ?? 0];
  for (const seed of seeds) {
    for (const pair of pairs) {
      const experiment = EXPERIMENTS[pair.example];
      if (
        !noted.has(pair.example) && experiment.deviation && settings.options.steps === undefined
      ) {
        log(`note (${pair.example}): ${experiment.deviation}\n`);
      }
      noted.add(pair.example);
      log(
        `running ${pair.example} / ${pair.solver}${pair.gpu ? " on the GPU" : ""}` +
          `${settings.seeds === null ? "" : `, seed ${seed}`} …\n`,
      );
      const result = await compare({
        ...settings.options,
        seed,
        example: pair.example,
        solver: pair.solver,
        gpu: pair.gpu ? gpu : null,
      });
      runs.push(...result);
      log(formatTable(result).split("\n").slice(2).join("\n"));
    }
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
