/**
 * What `deno task experiments` will run, decided before anything trains:
 * the comparisons and the backend of each, and a `--data-dir` that holds
 * the files they read.
 *
 * @module
 */

import { UsageError } from "./flags.ts";
import { type CompareOptions, comparisonConfigs } from "./experiments_compare.ts";
import type { ExperimentBackend } from "./experiments_flags.ts";
import { type ExampleName, EXPERIMENTS, loadExperimentData } from "../training/experiments.ts";
import { schemeOf, type SolverName } from "../training/config.ts";
import { configGpuSupport } from "../training/webgpu/train.ts";

/** One comparison to run: an experiment, a solver, and whether on the GPU. */
export interface ComparisonPair {
  /** The experiment. */
  example: ExampleName;
  /** The base solver. */
  solver: SolverName;
  /** True to train both methods on the GPU. */
  gpu: boolean;
}

/**
 * Which comparisons run where. On `webgpu` a comparison the GPU cannot run
 * is refused (a usage error), except the pendulum's adaptive steps when
 * every experiment was asked for: it is skipped, saying how to run it; on
 * `auto` such a comparison runs on the CPU, saying why.
 *
 * @param examples The experiments.
 * @param solvers The solvers, or null for each experiment's paper solvers.
 * @param backend `--backend`.
 * @param all True when every experiment was asked for.
 * @param options The settings every comparison shares.
 * @returns The comparisons in order, and notes on what moved or was skipped.
 * @throws {UsageError} For a comparison that cannot run, before any runs.
 *
 * @example
 * ```ts
 * import { planComparisons } from "./experiments_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const { pairs } = planComparisons(["white-dwarf"], null, "cpu", false, {});
 * assert.deepEqual(pairs.map((p) => p.solver), ["euler", "midpoint", "ralston3", "rk4"]);
 * assert.throws(() => planComparisons(["pendulum"], ["rk4"], "cpu", false, {}),
 *   /pendulum \/ rk4: Invalid solver/);
 * ```
 */
export function planComparisons(
  examples: readonly ExampleName[],
  solvers: readonly SolverName[] | null,
  backend: ExperimentBackend,
  all: boolean,
  options: Omit<CompareOptions, "example" | "solver">,
): { pairs: ComparisonPair[]; notes: string[] } {
  const pairs: ComparisonPair[] = [];
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

/**
 * Checks `--data-dir` before any training starts: the folder exists, is a
 * folder, and holds a readable data file for each chosen experiment that
 * reads one (the white dwarf reads none), so that a wrong folder fails at
 * once instead of after the comparisons before it.
 *
 * @param dir `--data-dir`.
 * @param examples The experiments that will run.
 * @throws {UsageError} Saying what the folder lacks.
 *
 * @example
 * ```ts
 * import { checkDataDir } from "./experiments_plan.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(checkDataDir("no/such/dir", ["oscillator"]), /no such folder/);
 * }
 * ```
 */
export async function checkDataDir(dir: string, examples: readonly ExampleName[]): Promise<void> {
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
