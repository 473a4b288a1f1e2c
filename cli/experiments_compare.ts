/**
 * The paper's comparison for one experiment and solver (numerics.md §5):
 * two trainings from the same seed, solver and step, one with the
 * reversible scheme and its O(1)-memory reversible gradient, one with
 * binomial checkpointing on the baseline scheme, each timed after a few
 * warm-up iterations, on the CPU or the GPU.
 *
 * @module
 */

import {
  type ExampleName,
  experimentConfig,
  EXPERIMENTS,
  loadExperimentData,
} from "../training/experiments.ts";
import type { SolverName, TrainConfig } from "../training/config.ts";
import type { TrainResult } from "../training/state.ts";
import { train } from "../training/train.ts";
import { trainGpu } from "../training/webgpu/train.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";
import type { GpuLike, SolveKernel } from "../solvers/webgpu/options.ts";

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
  /** The seed of the initial parameters. */
  seed: number;
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
 * import { comparisonConfigs } from "./experiments_compare.ts";
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
 * import { compare } from "./experiments_compare.ts";
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
      seed: config.seed,
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
