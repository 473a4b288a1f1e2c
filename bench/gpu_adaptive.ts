/**
 * GPU benchmark, adaptive part: one training step of the pendulum
 * experiment's setting (autonomous MLP 4 → 10 tanh → 4, reversible Bosh3
 * with λ = 0.999, PID steps, outputs interpolated at 50 times of [0, 2],
 * MSE, reversible gradient, AdamW) on the WebGPU backend against the CPU
 * backend, for a few batch sizes, with the steps taken, the trial steps
 * recorded, the dispatches and the read-backs of a step. The GPU step is
 * timed twice: recording `maxSteps` trial steps, and recording as many as
 * `trainGpu` does once it has seen a solve (training/webgpu/trial_budget.ts).
 *
 *     deno run --allow-read --allow-env bench/gpu_adaptive.ts [--quick] [--json]
 *
 * The GPU's batch shares one step size (the worst trajectory decides); the
 * CPU gives every trajectory its own. On a software adapter (Mesa's
 * llvmpipe) the figures prove only that the path runs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { bosh3, pid, reversible, solve } from "../mod.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { mseLossVjp } from "../training/loss.ts";
import { AdamW } from "../training/adamw.ts";
import { type GpuDevice, requestGpuDevice } from "../solvers/webgpu/runtime/device.ts";
import { GpuTrainer } from "../training/webgpu/trainer.ts";
import { TrialBudget } from "../training/webgpu/trial_budget.ts";

/**
 * Options of {@link runGpuAdaptiveBenchmark}.
 *
 * @example
 * ```ts
 * import { type GpuAdaptiveBenchOptions, runGpuAdaptiveBenchmark } from "./gpu_adaptive.ts";
 * import { findGpuAdapter } from "../solvers/webgpu/runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const quick: GpuAdaptiveBenchOptions = { batches: [1], tolerance: 1e-4, maxSteps: 40, reps: 1 };
 *   const r = await runGpuAdaptiveBenchmark(quick);
 *   assert.equal(r.tolerance, 1e-4);
 *   assert.equal(r.maxSteps, 40);
 *   assert.deepEqual(r.rows.map((row) => row.batch), [1]);
 * }
 * ```
 */
export interface GpuAdaptiveBenchOptions {
  /** Batch sizes (default 1, 256, 4 096). */
  batches?: readonly number[];
  /** rtol = atol (default 1e-6, the paper's). */
  tolerance?: number;
  /** Most trial steps per solve, all recorded on the GPU (default 1 000, the paper's). */
  maxSteps?: number;
  /** Timed GPU steps after the warm-up (default 2). */
  reps?: number;
  /** A device (default: request one). */
  gpu?: GpuDevice;
}

/**
 * One batch size's figures.
 *
 * @example
 * ```ts
 * import { formatGpuAdaptiveReport, type GpuAdaptiveBenchRow } from "./gpu_adaptive.ts";
 * import assert from "node:assert/strict";
 *
 * // A row of the report: the speed-up is CPU time over GPU time.
 * const row: GpuAdaptiveBenchRow = {
 *   batch: 256, gpuMs: 20, gpuMsAllTrials: 90, trials: 70, cpuMs: 50, gpuSteps: 40, cpuSteps: 38.5,
 *   dispatches: 3700, dispatchesAllTrials: 52000, readbacks: 0, loss: 0.1,
 * };
 * const text = formatGpuAdaptiveReport({
 *   adapter: "gpu", software: false, tolerance: 1e-6, maxSteps: 1000, rows: [row],
 * });
 * assert.match(text, /256 +20\.0 ms +50\.0 ms +2\.50× +40 +38\.5 +70 +3700 +90\.0 ms +52000 +0/);
 * ```
 */
export interface GpuAdaptiveBenchRow {
  /** Trajectories. */
  batch: number;
  /** GPU ms per training step, recording the trials `trainGpu` records. */
  gpuMs: number;
  /** GPU ms per training step, recording `maxSteps` trials. */
  gpuMsAllTrials: number;
  /** Trial steps `trainGpu` records once it has seen a solve. */
  trials: number;
  /** CPU ms per training step. */
  cpuMs: number;
  /** Accepted steps of the GPU's shared grid. */
  gpuSteps: number;
  /** Mean accepted steps of the CPU's per-trajectory grids. */
  cpuSteps: number;
  /** Dispatches recorded per step, recording `trials`. */
  dispatches: number;
  /** Dispatches recorded per step, recording `maxSteps` trials. */
  dispatchesAllTrials: number;
  /** Read-backs inside a step. */
  readbacks: number;
  /** The loss after the timed steps. */
  loss: number;
}

/**
 * What {@link runGpuAdaptiveBenchmark} returns.
 *
 * @example
 * ```ts
 * import { formatGpuAdaptiveReport, type GpuAdaptiveBenchResult } from "./gpu_adaptive.ts";
 * import assert from "node:assert/strict";
 *
 * // The settings head the report; a hardware adapter gets no caveat.
 * const result: GpuAdaptiveBenchResult = {
 *   adapter: "NVIDIA H100", software: false, tolerance: 1e-6, maxSteps: 1000, rows: [],
 * };
 * const text = formatGpuAdaptiveReport(result);
 * assert.match(text, /on NVIDIA H100/);
 * assert.match(text, /rtol = atol = 0\.000001, at most 1000 trial steps/);
 * assert.doesNotMatch(text, /SOFTWARE ADAPTER/);
 * ```
 */
export interface GpuAdaptiveBenchResult {
  /** The adapter. */
  adapter: string;
  /** Whether it is a software adapter. */
  software: boolean;
  /** rtol = atol. */
  tolerance: number;
  /** Trial steps recorded per solve. */
  maxSteps: number;
  /** One row per batch size. */
  rows: GpuAdaptiveBenchRow[];
}

const DIM = 4;
const TS = Float64Array.from({ length: 50 }, (_, i) => (2 * (i + 1)) / 50);

/**
 * Runs the adaptive part of the GPU benchmark.
 *
 * @param options Sizes and device.
 * @returns The figures.
 *
 * @example A quick run (skipped without a GPU adapter)
 * ```ts ignore
 * import { runGpuAdaptiveBenchmark } from "./gpu_adaptive.ts";
 * import assert from "node:assert/strict";
 * const r = await runGpuAdaptiveBenchmark({ batches: [1], tolerance: 1e-4, maxSteps: 40, reps: 1 });
 * assert.equal(r.rows[0].readbacks, 0);
 * ```
 */
export async function runGpuAdaptiveBenchmark(
  options: GpuAdaptiveBenchOptions = {},
): Promise<GpuAdaptiveBenchResult> {
  const gpu = options.gpu ?? await requestGpuDevice();
  const tolerance = options.tolerance ?? 1e-6;
  const maxSteps = options.maxSteps ?? 1000;
  const reps = options.reps ?? 2;
  const controller = pid({ rtol: tolerance, atol: tolerance, maxSteps });
  const mlp = new Mlp({ dim: DIM, widths: [10], activation: "tanh" });
  const params0 = mlp.init(0);
  const rows: GpuAdaptiveBenchRow[] = [];
  for (const batch of options.batches ?? [1, 256, 4096]) {
    const y0 = Float64Array.from({ length: batch * DIM }, (_, i) => 0.3 * Math.sin(1.3 * i + 0.2));
    const targets = Float64Array.from(
      { length: TS.length * batch * DIM },
      (_, i) => 0.2 * Math.cos(0.41 * i),
    );
    const trainer = GpuTrainer.create(gpu, {
      field: mlp,
      params: params0,
      scheme: reversible(bosh3),
      t1: 2,
      y0,
      controller,
      saveAt: { ts: TS },
      targets,
      lr: 1e-2,
      weightDecay: 1e-5,
    });
    const adaptive = trainer.solver.adaptive!;
    let loss = NaN, gpuSteps = 0, trials = maxSteps;
    const timed: { ms: number; dispatches: number }[] = [];
    try {
      trainer.step(); // warm-up: compiles the kernels
      await trainer.readLoss();
      for (const pass of ["all", "learned"]) {
        if (pass === "learned") {
          trials = new TrialBudget(maxSteps).learn(
            (await trainer.solver.readAdaptive())!.mostTrials,
          );
          adaptive.trials = trials;
        }
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) trainer.step();
        loss = await trainer.readLoss();
        timed.push({
          ms: (performance.now() - t0) / reps,
          dispatches: trainer.lastStep.dispatches,
        });
        const run = (await trainer.solver.readAdaptive())!;
        if (run.status !== "success") {
          throw new Error(`adaptive bench: the solve ended ${run.status}`);
        }
        gpuSteps = run.accepted;
      }
    } finally {
      trainer.destroy();
    }
    const params = params0.slice();
    const optimizer = new AdamW(mlp.paramCount, { lr: 1e-2, weightDecay: 1e-5 });
    let cpuMs = 0, cpuSteps = 0;
    for (let r = 0; r < 2; r++) {
      const t0 = performance.now();
      const sol = solve({
        field: mlp,
        y0,
        params,
        scheme: reversible(bosh3),
        t0: 0,
        t1: 2,
        controller,
        saveAt: { ts: TS },
        gradient: "reversible",
      });
      const cotangent = new Float64Array(sol.ys.length);
      mseLossVjp(sol.ys, targets, cotangent);
      optimizer.step(params, sol.backward(cotangent).params);
      cpuMs = performance.now() - t0; // the second one: after a warm-up
      cpuSteps = sol.trajectories!.reduce((s, t) => s + t.accepted, 0) / batch;
    }
    rows.push({
      batch,
      gpuMs: timed[1].ms,
      gpuMsAllTrials: timed[0].ms,
      trials,
      cpuMs,
      gpuSteps,
      cpuSteps,
      dispatches: timed[1].dispatches,
      dispatchesAllTrials: timed[0].dispatches,
      readbacks: trainer.lastStep.readbacks,
      loss,
    });
  }
  const result = {
    adapter: gpu.description,
    software: gpu.isFallback,
    tolerance,
    maxSteps,
    rows,
  };
  if (!options.gpu) gpu.device.destroy();
  return result;
}

/**
 * The adaptive part as a text report.
 *
 * @param result What {@link runGpuAdaptiveBenchmark} returned.
 * @returns The report.
 *
 * @example
 * ```ts
 * import { formatGpuAdaptiveReport } from "./gpu_adaptive.ts";
 * import assert from "node:assert/strict";
 * const text = formatGpuAdaptiveReport({
 *   adapter: "llvmpipe", software: true, tolerance: 1e-6, maxSteps: 1000,
 *   rows: [{
 *     batch: 1, gpuMs: 60, gpuMsAllTrials: 900, trials: 70, cpuMs: 3, gpuSteps: 40, cpuSteps: 38,
 *     dispatches: 3700, dispatchesAllTrials: 52000, readbacks: 0, loss: 0.1,
 *   }],
 * });
 * assert.match(text, /prove only that the path runs/);
 * assert.match(text, /52000/);
 * ```
 */
export function formatGpuAdaptiveReport(result: GpuAdaptiveBenchResult): string {
  const lines = [
    `GPU training step with adaptive steps: WebGPU (f32) on ${result.adapter} vs CPU (float64)`,
  ];
  if (result.software) {
    lines.push(
      "!! SOFTWARE ADAPTER: these figures prove only that the path runs; they say nothing about",
      "!! GPU speed.",
    );
  }
  lines.push(
    `MLP 4 → 10 tanh → 4, reversible bosh3 (λ = 0.999), rtol = atol = ${result.tolerance}, ` +
      `at most ${result.maxSteps} trial steps, outputs at ${TS.length} times of [0, 2], MSE, ` +
      "reversible gradient, AdamW. GPU: one step size for the batch; CPU: one per trajectory.",
    "",
  );
  const table = [[
    "batch",
    "GPU/step",
    "CPU/step",
    "speed-up CPU/GPU",
    "steps GPU",
    "steps CPU (mean)",
    "trials recorded",
    "dispatches",
    `GPU/step, ${result.maxSteps} trials`,
    "dispatches",
    "read-backs",
  ]];
  for (const r of result.rows) {
    table.push([
      String(r.batch),
      `${r.gpuMs.toFixed(1)} ms`,
      `${r.cpuMs.toFixed(1)} ms`,
      `${(r.cpuMs / r.gpuMs).toFixed(2)}×`,
      String(r.gpuSteps),
      r.cpuSteps.toFixed(1),
      String(r.trials),
      String(r.dispatches),
      `${r.gpuMsAllTrials.toFixed(1)} ms`,
      String(r.dispatchesAllTrials),
      String(r.readbacks),
    ]);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) lines.push(row.map((cell, c) => cell.padStart(widths[c])).join("  "));
  lines.push(
    "",
    "dispatches: every recorded trial step, forward and back; those past the end of the solve",
    "are gated to zero workgroups on the GPU but still cost the CPU their commands. Training",
    "records `trials recorded` (1.5× the most a solve has taken, + 4) once it has seen a solve;",
    `the last two columns record all ${result.maxSteps} (--max-steps).`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const result = await runGpuAdaptiveBenchmark(
    values.quick ? { batches: [1, 16], tolerance: 1e-4, maxSteps: 60, reps: 1 } : {},
  );
  console.log(values.json ? JSON.stringify(result, null, 2) : formatGpuAdaptiveReport(result));
}
