/**
 * The comparison as `deno task experiments` prints it: a text table, one
 * row per run and the checkpointed/reversible ratios under each pair.
 *
 * @module
 */

import type { ComparisonRun } from "./experiments_compare.ts";

/**
 * The comparison as a text table, one row per run and one ratio row per pair.
 *
 * @param runs Runs from `compare()`, in pairs.
 * @returns The table.
 *
 * @example
 * ```ts
 * import { formatTable } from "./experiments_table.ts";
 * import assert from "node:assert/strict";
 *
 * const run = {
 *   example: "white-dwarf", solver: "rk4", method: "reversible", scheme: "reversible",
 *   checkpoints: null, steps: 1000, adaptive: false, seed: 0, iterations: 10, status: "completed", seconds: 2,
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
  // A seed column when the runs are on several seeds (--seeds).
  const seeds = new Set(runs.map((r) => r.seed)).size > 1;
  const leftColumns = gpu ? 4 : 3;
  const header = [
    "experiment",
    "solver",
    "method",
    ...(gpu ? ["backend"] : []),
    ...(seeds ? ["seed"] : []),
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
      ...(seeds ? [String(r.seed)] : []),
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
      prev.example === r.example && prev.seed === r.seed
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
      row.map((cell, c) => c >= leftColumns ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
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
