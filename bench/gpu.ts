/**
 * GPU benchmark: the time of one training step of the WebGPU backend (f32)
 * against the CPU backend (float64), for batches of 1 to 65 536
 * trajectories and networks 10, 64, 128 and 256 wide, with the kernel times
 * from timestamp queries and the dispatches and read-backs of a step, and
 * the target (batch 4 096, width 128: at least 20× the CPU backend
 * with no read-back inside a step) checked on a hardware adapter.
 *
 *     deno run --allow-read --allow-env bench/gpu.ts [--quick] [--json]
 *       [--batches 1,16,256,4096,65536] [--widths 10,64,128,256] [--depth 2] [--steps 20]
 *       [--reps 3] [--limit-s 120]
 *
 * Setting: autonomous MLP 4 → [w × depth, tanh] → 4 (the oscillator
 * experiment's shape, widened), reversible RK4 with λ = 0.999, `steps`
 * steps over [0, 1], every step saved ({ t0, steps }), MSE against fixed
 * targets, reversible gradient, AdamW (lr 1e-2, weight decay 1e-5). A
 * training step is the forward solve, the loss, the backward pass and the
 * optimizer update; the GPU time is the wall time of `reps` steps and one
 * read of the loss, divided by `reps`, after one warm-up step (which
 * compiles the kernels). Where `solveKernel: "auto"` runs the solve in
 * whole-solve kernels (widths up to 32), the same step is timed in the
 * per-step kernels as well, so that a GPU run shows which layout pays at
 * which batch. The CPU time is that of the same step in float64
 * (`solve()` + `mseLossVjp` + `backward()` + `AdamW.step`); where it would
 * take too long it is measured on a smaller batch and scaled linearly
 * (marked `≈`).
 *
 * On a software adapter (Mesa's llvmpipe) these figures prove only that the
 * path runs; they say nothing about GPU speed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { reversible, rk4, solve, type Tableau } from "../mod.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { mseLossVjp } from "../training/loss.ts";
import { AdamW } from "../training/adamw.ts";
import { type GpuDevice, requestGpuDevice } from "../solvers/webgpu/runtime/device.ts";

import { GpuTrainer, type GpuTrainerOptions } from "../training/webgpu/trainer.ts";
import type { SolveKernel } from "../solvers/webgpu/options.ts";
import { FUSED_MAX_WIDTH } from "../solvers/webgpu/fields/mlp.ts";
import type { GpuBenchResult, GpuBenchRow } from "./gpu_result.ts";
import { formatGpuReport } from "./gpu_report.ts";

/**
 * Batch sizes of the full benchmark.
 *
 * @example
 * ```ts
 * import { GPU_BATCHES } from "./gpu.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GPU_BATCHES[GPU_BATCHES.length - 1], 65536);
 * ```
 */
export const GPU_BATCHES: readonly number[] = [1, 16, 256, 4096, 65536];
/**
 * Hidden widths of the full benchmark.
 *
 * @example
 * ```ts
 * import { GPU_WIDTHS } from "./gpu.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(GPU_WIDTHS, [10, 64, 128, 256]);
 * ```
 */
export const GPU_WIDTHS: readonly number[] = [10, 64, 128, 256];

/**
 * Options of {@link runGpuBenchmark}.
 *
 * @example
 * ```ts
 * import { type GpuBenchOptions, runGpuBenchmark } from "./gpu.ts";
 * import { findGpuAdapter } from "../solvers/webgpu/runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const quick: GpuBenchOptions = { batches: [1, 4], widths: [10], steps: 4, reps: 1 };
 *   const r = await runGpuBenchmark(quick);
 *   assert.equal(r.settings.depth, 2); // the default
 *   assert.deepEqual(r.rows.map((row) => [row.width, row.batch]), [[10, 1], [10, 4]]);
 * }
 * ```
 */
export interface GpuBenchOptions {
  /** Batch sizes, ascending (default {@link GPU_BATCHES}). */
  batches?: readonly number[];
  /** Hidden widths (default {@link GPU_WIDTHS}). */
  widths?: readonly number[];
  /** Hidden layers (default 2). */
  depth?: number;
  /** Solver steps (default 20). */
  steps?: number;
  /** Timed GPU steps per configuration after the warm-up (default 3). */
  reps?: number;
  /**
   * Wall-clock budget of the whole GPU part in ms (default 120 000 on a
   * software adapter, 600 000 on a hardware one); configurations predicted
   * past it are skipped.
   */
  limitMs?: number;
  /** Largest CPU measurement in ms; larger batches are scaled from a smaller one (default 10 000). */
  cpuLimitMs?: number;
  /** Profile one extra step per configuration with timestamp queries (default true when available). */
  profile?: boolean;
  /** A device to use (default: request one). */
  gpu?: GpuDevice;
  /** The base method (default RK4). */
  tableau?: Tableau;
}

function cpuStep(
  mlp: Mlp,
  params: Float64Array,
  y0: Float64Array,
  targets: Float64Array,
  steps: number,
  tableau: Tableau,
  optimizer: AdamW,
): void {
  const sol = solve({
    field: mlp,
    y0,
    params,
    scheme: reversible(tableau),
    t0: 0,
    t1: 1,
    steps,
    saveAt: { t0: true, steps: true },
    gradient: "reversible",
  });
  const cotangent = new Float64Array(sol.ys.length);
  mseLossVjp(sol.ys, targets, cotangent);
  optimizer.step(params, sol.backward(cotangent).params);
}

/**
 * Predicted ms of one GPU step at `batch` from the steps measured at smaller
 * batches: a fixed cost plus a cost per row fitted through the last two, or
 * growth as √batch from a single one (small batches are dispatch-bound).
 */
function predictStep(measured: readonly { batch: number; ms: number }[], batch: number): number {
  if (measured.length === 0) return 0;
  const b = measured[measured.length - 1];
  if (measured.length === 1) return b.ms * Math.sqrt(Math.max(1, batch / b.batch));
  const a = measured[measured.length - 2];
  const perRow = Math.max(0, (b.ms - a.ms) / (b.batch - a.batch));
  return b.ms + perRow * (batch - b.batch);
}

function data(
  batch: number,
  dim: number,
  steps: number,
): { y0: Float64Array; targets: Float64Array } {
  const y0 = new Float64Array(batch * dim);
  for (let i = 0; i < y0.length; i++) y0[i] = 0.5 * Math.sin(1.7 * i + 0.3);
  const targets = new Float64Array((steps + 1) * batch * dim);
  for (let i = 0; i < targets.length; i++) targets[i] = 0.3 * Math.cos(0.37 * i);
  return { y0, targets };
}

/**
 * Runs the GPU benchmark.
 *
 * @param options Sizes, budget and device.
 * @returns The figures, one row per configuration.
 *
 * @example A quick run (skipped without a GPU adapter)
 * ```ts ignore
 * import { formatGpuReport } from "./gpu_report.ts";
 * import { runGpuBenchmark } from "./gpu.ts";
 * import assert from "node:assert/strict";
 *
 * const result = await runGpuBenchmark({ batches: [1, 4], widths: [10], steps: 4, reps: 1 });
 * assert.equal(result.rows.length, 2);
 * assert.ok(result.rows.every((r) => r.skipped !== null || r.readbacks === 0));
 * assert.match(formatGpuReport(result), /CPU\/GPU/);
 * ```
 */
export async function runGpuBenchmark(options: GpuBenchOptions = {}): Promise<GpuBenchResult> {
  const started = performance.now();
  const gpu = options.gpu ?? await requestGpuDevice();
  const batches = [...(options.batches ?? GPU_BATCHES)].sort((a, b) => a - b);
  const widths = [...(options.widths ?? GPU_WIDTHS)];
  const depth = options.depth ?? 2;
  const steps = options.steps ?? 20;
  const reps = options.reps ?? 3;
  const limitMs = options.limitMs ?? (gpu.isFallback ? 120_000 : 600_000);
  const cpuLimitMs = options.cpuLimitMs ?? 10_000;
  const tableau = options.tableau ?? rk4;
  const profile = (options.profile ?? true) && gpu.timestamps;
  const dim = 4;
  const rows: GpuBenchRow[] = [];
  for (const [index, width] of widths.entries()) {
    // Each width gets an equal share of the budget left.
    const widthStart = performance.now();
    const widthBudget = (limitMs - (widthStart - started)) / (widths.length - index);
    const measured: { batch: number; ms: number }[] = [];
    const mlp = new Mlp({ dim, widths: new Array(depth).fill(width), activation: "tanh" });
    const params0 = mlp.init(0);
    // CPU: measured while cheap, then scaled linearly in the batch.
    let cpuPerRow: { ms: number; batch: number } | null = null;
    for (const batch of batches) {
      const row: GpuBenchRow = {
        width,
        batch,
        params: mlp.paramCount,
        gpuMs: null,
        cpuMs: null,
        cpuMeasuredBatch: null,
        speedup: null,
        dispatches: null,
        solveKernel: null,
        perStepMs: null,
        perStepDispatches: null,
        readbacks: null,
        submits: null,
        kernels: [],
        kernelMs: null,
        loss: null,
        skipped: null,
      };
      rows.push(row);
      const { y0, targets } = data(batch, dim, steps);
      // GPU, unless predicted past this width's share of the budget.
      const spent = performance.now() - widthStart;
      const stepMs = predictStep(measured, batch);
      const timedReps = stepMs > 5000 ? 1 : reps;
      // narrow networks run whole, and are timed in the per-step kernels too
      const forms = width <= FUSED_MAX_WIDTH ? 2 : 1;
      const predicted = stepMs * (2 + timedReps + (profile ? 1 : 0)) * forms;
      if (spent + predicted > widthBudget) {
        row.skipped = `predicted ${(predicted / 1000).toFixed(0)} s on this adapter for warm-up, ` +
          `${timedReps} timed and ${
            profile ? 1 : 0
          } profiled steps, over this width's share of the ` +
          `budget (${(widthBudget / 1000).toFixed(0)} s, ${(spent / 1000).toFixed(0)} s spent)`;
      } else {
        const problem = {
          field: mlp,
          params: params0,
          scheme: reversible(tableau),
          t1: 1,
          steps,
          saveAt: { t0: true, steps: true },
          y0,
          targets,
        };
        try {
          const timed = await timeSteps(gpu, problem, "auto", timedReps);
          row.loss = timed.loss;
          row.gpuMs = timed.ms;
          row.dispatches = timed.dispatches;
          row.readbacks = timed.readbacks;
          row.submits = timed.submits;
          row.solveKernel = timed.solveKernel;
          measured.push({ batch, ms: row.gpuMs });
          if (timed.solveKernel === "whole") {
            const perStep = await timeSteps(gpu, problem, "steps", timedReps);
            row.perStepMs = perStep.ms;
            row.perStepDispatches = perStep.dispatches;
          }
        } catch (e) {
          row.skipped = e instanceof Error ? e.message : String(e);
        }
        if (profile && row.gpuMs !== null) {
          const profiled = GpuTrainer.create(gpu, { ...problem, profile: true });
          try {
            profiled.step();
            const timings = await profiled.timings();
            row.kernelMs = timings.reduce((s, t) => s + t.ns, 0) / 1e6;
            row.kernels = timings.slice(0, 3);
          } finally {
            profiled.destroy();
          }
        }
      }
      // CPU (float64): measured while predicted under cpuLimitMs, else scaled.
      const predictedCpu = cpuPerRow === null ? 0 : (cpuPerRow.ms / cpuPerRow.batch) * batch;
      if (predictedCpu <= cpuLimitMs) {
        const params = params0.slice();
        const optimizer = new AdamW(mlp.paramCount, { lr: 1e-2, weightDecay: 1e-5 });
        cpuStep(mlp, params, y0, targets, steps, tableau, optimizer); // warm-up
        const t0 = performance.now();
        cpuStep(mlp, params, y0, targets, steps, tableau, optimizer);
        const ms = performance.now() - t0;
        cpuPerRow = { ms, batch };
        row.cpuMs = ms;
        row.cpuMeasuredBatch = batch;
      } else if (cpuPerRow !== null) {
        row.cpuMs = predictedCpu;
        row.cpuMeasuredBatch = cpuPerRow.batch;
      }
      if (row.cpuMs !== null && row.gpuMs !== null) row.speedup = row.cpuMs / row.gpuMs;
    }
  }
  const result: GpuBenchResult = {
    adapter: gpu.description,
    software: gpu.isFallback,
    settings: {
      batches,
      widths,
      depth,
      steps,
      reps,
      limitMs,
      tableau: tableau.name,
    },
    rows,
    totalMs: performance.now() - started,
  };
  if (!options.gpu) gpu.device.destroy();
  return result;
}

/** What {@link timeSteps} measured. */
interface TimedSteps {
  ms: number;
  loss: number;
  dispatches: number;
  readbacks: number;
  submits: number;
  solveKernel: "whole" | "steps";
}

/**
 * Times `reps` training steps of a trainer made for `problem` with the given
 * solve layout, after a warm-up step (which compiles the kernels).
 */
async function timeSteps(
  gpu: GpuDevice,
  problem: Omit<GpuTrainerOptions, "lr" | "weightDecay" | "solveKernel">,
  solveKernel: SolveKernel,
  reps: number,
): Promise<TimedSteps> {
  const trainer = GpuTrainer.create(gpu, { ...problem, lr: 1e-2, weightDecay: 1e-5, solveKernel });
  try {
    trainer.step();
    await trainer.readLoss();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) trainer.step();
    const loss = await trainer.readLoss();
    const ms = (performance.now() - t0) / reps;
    const { dispatches, readbacks, submits } = trainer.lastStep;
    return { ms, loss, dispatches, readbacks, submits, solveKernel: trainer.solver.solveKernel };
  } finally {
    trainer.destroy();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      batches: { type: "string" },
      widths: { type: "string" },
      depth: { type: "string" },
      steps: { type: "string" },
      reps: { type: "string" },
      "limit-s": { type: "string" },
    },
  });
  const list = (s: string | undefined) => s?.split(",").map((x) => Number(x.trim()));
  let gpu: GpuDevice;
  try {
    gpu = await requestGpuDevice();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(2);
  }
  const result = await runGpuBenchmark({
    gpu,
    batches: list(values.batches) ?? (values.quick ? [1, 64, 1024] : undefined),
    widths: list(values.widths) ?? (values.quick ? [10, 64] : undefined),
    depth: values.depth ? Number(values.depth) : undefined,
    steps: values.steps ? Number(values.steps) : values.quick ? 8 : undefined,
    reps: values.reps ? Number(values.reps) : values.quick ? 1 : undefined,
    limitMs: values["limit-s"] ? 1000 * Number(values["limit-s"]) : undefined,
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatGpuReport(result));
  gpu.device.destroy();
}
