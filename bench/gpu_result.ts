/**
 * What the GPU section produces (a row per width and batch, the whole result
 * that `--json` prints) and the issue's target it is checked against: batch
 * 4 096, width 128, at least 20× the CPU backend with no read-back inside a
 * step.
 *
 * @module
 */

import type { KernelTiming } from "../solvers/webgpu/runtime/recorder.ts";

/**
 * The issue's target: at this batch and width a training step on a real
 * GPU is at least `speedup` times as fast as the CPU backend's, with no
 * read-back inside the step.
 *
 * @example
 * ```ts
 * import { GPU_TARGET } from "./gpu_result.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(GPU_TARGET, { batch: 4096, width: 128, speedup: 20 });
 * ```
 */
export const GPU_TARGET = { batch: 4096, width: 128, speedup: 20 } as const;

/**
 * The target check of a run: PASS or FAIL on a hardware adapter, NOT
 * EVALUATED on a software one (its timings say nothing about GPU speed) or
 * when the target's configuration was not run.
 *
 * @param result What {@link runGpuBenchmark} returned.
 * @returns The status and a sentence.
 *
 * @example
 * ```ts
 * import { gpuTargetCheck } from "./gpu_result.ts";
 * import assert from "node:assert/strict";
 *
 * const none = gpuTargetCheck({
 *   adapter: "llvmpipe", software: true, totalMs: 0, rows: [],
 *   settings: { batches: [], widths: [], depth: 2, steps: 20, reps: 1, limitMs: 0, tableau: "rk4" },
 * });
 * assert.equal(none.status, "NOT EVALUATED");
 * ```
 */
export function gpuTargetCheck(
  result: GpuBenchResult,
): { status: "PASS" | "FAIL" | "NOT EVALUATED"; detail: string } {
  const { batch, width, speedup } = GPU_TARGET;
  const what = `batch ${batch}, width ${width}: GPU step ≥ ${speedup}× faster than the CPU ` +
    "backend, 0 read-backs inside a step";
  if (result.software) {
    return { status: "NOT EVALUATED", detail: `${what} (software adapter: timings say nothing)` };
  }
  const row = result.rows.find((r) => r.batch === batch && r.width === width);
  if (row === undefined || row.speedup === null || row.readbacks === null) {
    return {
      status: "NOT EVALUATED",
      detail: `${what} (not measured${row?.skipped ? `: ${row.skipped}` : ""})`,
    };
  }
  const ok = row.speedup >= speedup && row.readbacks === 0;
  return {
    status: ok ? "PASS" : "FAIL",
    detail: `${what}: ${row.speedup.toFixed(1)}×, ${row.readbacks} read-backs`,
  };
}

/**
 * One configuration's figures.
 *
 * @example
 * ```ts
 * import { type GpuBenchRow, gpuTargetCheck } from "./gpu_result.ts";
 * import assert from "node:assert/strict";
 *
 * // The target's row (batch 4096, width 128) on a hardware adapter decides the check.
 * const row: GpuBenchRow = {
 *   width: 128, batch: 4096, params: 18_180, gpuMs: 10, cpuMs: 300, cpuMeasuredBatch: 4096,
 *   speedup: 30, dispatches: 15, solveKernel: "steps", perStepMs: null, perStepDispatches: null,
 *   readbacks: 0, submits: 1, kernels: [], kernelMs: 9, loss: 0.1, skipped: null,
 * };
 * const settings = {
 *   batches: [4096], widths: [128], depth: 2, steps: 20, reps: 1, limitMs: 0, tableau: "rk4",
 * };
 * const check = (r: GpuBenchRow) =>
 *   gpuTargetCheck({ adapter: "gpu", software: false, totalMs: 1, settings, rows: [r] }).status;
 * assert.equal(check(row), "PASS");
 * assert.equal(check({ ...row, speedup: 5 }), "FAIL");
 * assert.equal(check({ ...row, readbacks: 1 }), "FAIL"); // a read-back inside a step fails it
 * assert.equal(check({ ...row, speedup: null, skipped: "over the limit" }), "NOT EVALUATED");
 * ```
 */
export interface GpuBenchRow {
  /** Hidden width. */
  width: number;
  /** Trajectories. */
  batch: number;
  /** Parameters of the network. */
  params: number;
  /** GPU ms per training step, or null when skipped. */
  gpuMs: number | null;
  /** CPU ms per training step (measured or scaled), or null. */
  cpuMs: number | null;
  /** The batch the CPU time was measured on (scaled linearly when smaller than `batch`). */
  cpuMeasuredBatch: number | null;
  /** CPU time over GPU time (above 1: the GPU is faster). */
  speedup: number | null;
  /** Kernel dispatches per step. */
  dispatches: number | null;
  /**
   * How the solve ran (`solveKernel: "auto"`): in whole-solve kernels (narrow
   * networks) or per stage and step; null when skipped.
   */
  solveKernel: "whole" | "steps" | null;
  /** Where the solve ran whole: the same step in the per-step kernels, ms (null otherwise). */
  perStepMs: number | null;
  /** Where the solve ran whole: the per-step kernels' dispatches per step (null otherwise). */
  perStepDispatches: number | null;
  /** Read-backs inside a step (0 expected). */
  readbacks: number | null;
  /** Command-buffer submissions per step. */
  submits: number | null;
  /** The kernels that took longest in a profiled step, with their summed time. */
  kernels: KernelTiming[];
  /** Sum of every kernel's time in the profiled step, ms. */
  kernelMs: number | null;
  /** The loss after the timed steps (finite when the step works). */
  loss: number | null;
  /** Why the configuration was skipped, or null. */
  skipped: string | null;
}

/**
 * What {@link runGpuBenchmark} returns.
 *
 * @example
 * ```ts
 * import { formatGpuReport } from "./gpu_report.ts";
 * import type { GpuBenchResult } from "./gpu_result.ts";
 * import assert from "node:assert/strict";
 *
 * // A software adapter's result is reported with a caveat, and its target is not evaluated.
 * const result: GpuBenchResult = {
 *   adapter: "llvmpipe", software: true, totalMs: 1, rows: [],
 *   settings: { batches: [], widths: [], depth: 2, steps: 4, reps: 1, limitMs: 1, tableau: "rk4" },
 * };
 * const text = formatGpuReport(result);
 * assert.match(text, /SOFTWARE ADAPTER/);
 * assert.match(text, /reversible rk4 .*4 steps/);
 * assert.match(text, /NOT EVALUATED/);
 * ```
 */
export interface GpuBenchResult {
  /** The adapter's description. */
  adapter: string;
  /** Whether it is a software adapter. */
  software: boolean;
  /** The settings used. */
  settings: {
    batches: number[];
    widths: number[];
    depth: number;
    steps: number;
    reps: number;
    limitMs: number;
    tableau: string;
  };
  /** One row per configuration, widths outer, batches inner. */
  rows: GpuBenchRow[];
  /** Total wall time of the run, ms. */
  totalMs: number;
}
