/**
 * The GPU section's text report: per width and batch, the GPU and CPU times
 * of one training step, the speed-up, the dispatches and read-backs, the
 * per-step kernels beside the whole-solve ones, and the target line.
 *
 * @module
 */

import { type GpuBenchResult, gpuTargetCheck } from "./gpu_result.ts";

function fmt(ms: number | null, digits = 1): string {
  if (ms === null) return "—";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(digits)} ms`;
}

/**
 * The benchmark as a text report.
 *
 * @param result What {@link runGpuBenchmark} returned.
 * @returns The report.
 *
 * @example
 * ```ts
 * import { formatGpuReport } from "./gpu_report.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatGpuReport({
 *   adapter: "llvmpipe", software: true, totalMs: 1,
 *   settings: { batches: [1], widths: [10], depth: 2, steps: 4, reps: 1, limitMs: 1, tableau: "rk4" },
 *   rows: [{
 *     width: 10, batch: 1, params: 264, gpuMs: 50, cpuMs: 1, cpuMeasuredBatch: 1, speedup: 0.02,
 *     dispatches: 4, readbacks: 0, submits: 1, kernels: [], kernelMs: 20, loss: 0.1, skipped: null,
 *     solveKernel: "whole", perStepMs: 60, perStepDispatches: 200,
 *   }],
 * });
 * assert.match(text, /prove only that the path runs/);
 * assert.match(text, /CPU\/GPU/);
 * assert.match(text, /whole +60\.0 ms, 200/);
 * ```
 */
export function formatGpuReport(result: GpuBenchResult): string {
  const { settings: s } = result;
  const lines: string[] = [];
  lines.push(`GPU training step: WebGPU (f32) on ${result.adapter} vs CPU backend (float64)`);
  if (result.software) {
    lines.push(
      "!! SOFTWARE ADAPTER: these figures prove only that the path runs; they say nothing about",
      "!! GPU speed. Record real-GPU figures on a machine with a GPU.",
    );
  }
  lines.push(
    `MLP 4 → [${s.depth} × width, tanh] → 4, reversible ${s.tableau} (λ = 0.999), ${s.steps} steps, ` +
      `saveAt {t0, steps}, MSE, reversible gradient, AdamW; ${s.reps} timed steps after a warm-up.`,
    "",
  );
  const header = [
    "width",
    "batch",
    "params",
    "GPU/step",
    "CPU/step",
    "speed-up CPU/GPU",
    "dispatches",
    "read-backs",
    "solve",
    "per-step kernels",
    "kernels (sum)",
    "top kernels",
  ];
  const table: string[][] = [header];
  for (const r of result.rows) {
    if (r.skipped !== null) {
      table.push([
        String(r.width),
        String(r.batch),
        String(r.params),
        "skipped",
        r.cpuMs === null ? "—" : `${r.cpuMeasuredBatch !== r.batch ? "≈" : ""}${fmt(r.cpuMs)}`,
        "—",
        "—",
        "—",
        "—",
        "—",
        "—",
        "",
      ]);
      continue;
    }
    table.push([
      String(r.width),
      String(r.batch),
      String(r.params),
      fmt(r.gpuMs),
      r.cpuMs === null ? "—" : `${r.cpuMeasuredBatch !== r.batch ? "≈" : ""}${fmt(r.cpuMs)}`,
      r.speedup === null ? "—" : `${r.speedup.toFixed(r.speedup < 10 ? 2 : 0)}×`,
      String(r.dispatches),
      String(r.readbacks),
      r.solveKernel ?? "—",
      r.perStepMs === null ? "—" : `${fmt(r.perStepMs)}, ${r.perStepDispatches}`,
      fmt(r.kernelMs),
      r.kernels.map((k) => `${k.name} ${fmt(k.ns / 1e6)}`).join(", "),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) {
    lines.push(
      row.map((cell, c) => (c < header.length - 1 ? cell.padStart(widths[c]) : cell)).join("  ")
        .trimEnd(),
    );
  }
  const skipped = result.rows.filter((r) => r.skipped !== null);
  if (skipped.length > 0) {
    lines.push("", "Skipped:");
    for (const r of skipped) lines.push(`  width ${r.width}, batch ${r.batch}: ${r.skipped}`);
  }
  lines.push(
    "",
    "≈: CPU time measured on a smaller batch and scaled linearly. speed-up = CPU time / GPU time",
    "(above 1: the GPU step is faster).",
    "read-backs: buffer maps while a step runs (the loss is read once after the timed steps, not counted).",
    'solve: the layout "auto" chose — whole-solve kernels (widths up to 32) or kernels per stage and',
    "step; per-step kernels: where it chose whole, the same step per stage and step (time, dispatches).",
    "",
    (() => {
      const check = gpuTargetCheck(result);
      return `${check.status}  target: ${check.detail}`;
    })(),
    `Total ${fmt(result.totalMs)}.`,
  );
  return lines.join("\n");
}
