/**
 * Inference benchmark: trajectories per second of the exported integrator on
 * onnxruntime-node (CPU and WebGPU providers, Loop and unrolled graphs)
 * against revode's own CPU solver (`solve()`, forward only), for batches of
 * 1 to 65 536 trajectories, with each ONNX figure also given as a ratio to
 * revode's.
 *
 *     deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys bench/inference.ts \
 *       [--steps N] [--max-batch B] [--seconds S] [--threads T] [--providers cpu,webgpu] [--json]
 *
 * Setting (the white-dwarf model of numerics.md §5.1): time-dependent MLP
 * [t, y] (3) → 10 tanh → 2 with random weights, reversible RK4 with λ = 0.999,
 * h = 0.005, N steps (default 100), every step returned (`ys` [N + 1, batch,
 * 2]); y0 = [1, 0] shifted by 1e-3 per row. ONNX models are float32,
 * revode's solver float64. Each cell runs the solve repeatedly (after one
 * warm-up run) for about `--seconds` and reports the best run; a cell whose
 * single run is predicted (from the previous batch) to exceed the per-run
 * cap is skipped and marked so. ONNX Runtime's CPU provider uses `--threads`
 * threads (default 1, like revode's solver).
 *
 * On a machine without a GPU the WebGPU provider runs on Mesa's llvmpipe, a
 * software rasterizer: its numbers prove only that the path runs, never
 * anything about GPU speed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Mlp } from "../solvers/fields/mlp.ts";
import { reversible } from "../solvers/schemes/spec.ts";
import { rk4 } from "../solvers/tableaux.ts";
import { solve } from "../solvers/solve.ts";
import { exportIntegrator, type IntegratorVariant } from "../export/integrator.ts";
import {
  createSession,
  type OnnxSession,
  type Provider,
  PROVIDERS,
  webgpuStatus,
} from "../export/ort.ts";

/**
 * Batch sizes measured: powers of 4 from 1 to 65 536.
 *
 * @example
 * ```ts
 * import { INFERENCE_BATCHES } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(INFERENCE_BATCHES.at(-1), 65_536);
 * ```
 */
export const INFERENCE_BATCHES: readonly number[] = Object.freeze(
  Array.from({ length: 9 }, (_, k) => 4 ** k),
);

/**
 * Options of {@link runInferenceBench}.
 *
 * @example
 * ```ts
 * import { type InferenceBenchOptions, runInferenceBench } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * // revode's column alone (no ONNX provider), batches up to 4.
 * const quick: InferenceBenchOptions = { steps: 5, maxBatch: 4, seconds: 0.01, providers: [] };
 * const r = await runInferenceBench(quick);
 * assert.deepEqual(r.batches, [1, 4]);
 * assert.deepEqual(r.columns.map((c) => c.name), ["revode"]);
 * assert.ok(r.columns[0].cells.every((c) => c.trajectoriesPerSecond! > 0));
 * ```
 */
export interface InferenceBenchOptions {
  /** Solver steps (default 100). */
  steps?: number;
  /** Largest batch (default 65 536). */
  maxBatch?: number;
  /** Seconds of repeated runs per cell (default 0.3). */
  seconds?: number;
  /** Longest predicted single run before a cell is skipped, in seconds (default 4). */
  runCap?: number;
  /** Threads of ONNX Runtime's CPU provider (default 1). */
  threads?: number;
  /** Providers (default both). */
  providers?: readonly Provider[];
  /** Called with a line of progress, e.g. to print it. */
  onProgress?: (line: string) => void;
}

/**
 * One measurement.
 *
 * @example
 * ```ts
 * import { formatInferenceReport, type InferenceCell } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * // A cell with no rate shows the first word of its note, and the note as a footnote.
 * const cell: InferenceCell = { trajectoriesPerSecond: null, seconds: null, note: "failed: OOM" };
 * const text = formatInferenceReport({
 *   steps: 10, batches: [1], threads: 1, webgpu: "not measured", softwareAdapter: false,
 *   columns: [{ name: "revode", setupSeconds: null, cells: [cell] }],
 * });
 * assert.match(text, /^\s*1\s+failed$/m);
 * assert.match(text, /revode: failed: OOM/);
 * ```
 */
export interface InferenceCell {
  /** Trajectories per second (batch / best run time), or null when skipped or failed. */
  trajectoriesPerSecond: number | null;
  /** Best single-run seconds, or null. */
  seconds: number | null;
  /** Why there is no figure. */
  note: string | null;
}

/**
 * A column of the table: revode's solver, or one provider × variant.
 *
 * @example
 * ```ts
 * import { formatInferenceReport, type InferenceColumn } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * // The name heads the column; a session's setup time is reported below the table.
 * const cell = { trajectoriesPerSecond: 100, seconds: 0.01, note: null };
 * const column: InferenceColumn = { name: "cpu loop", setupSeconds: 0.02, cells: [cell] };
 * const text = formatInferenceReport({
 *   steps: 10, batches: [1], threads: 1, webgpu: "not measured", softwareAdapter: false,
 *   columns: [{ name: "revode", setupSeconds: null, cells: [cell] }, column],
 * });
 * assert.match(text, /batch\s+revode\s+cpu loop/);
 * assert.match(text, /Session creation: cpu loop 0\.02 s\./);
 * ```
 */
export interface InferenceColumn {
  /** `revode` or e.g. `cpu loop`. */
  name: string;
  /** Session creation seconds (ONNX columns), or null. */
  setupSeconds: number | null;
  /** One cell per batch. */
  cells: InferenceCell[];
}

/**
 * The result of {@link runInferenceBench}.
 *
 * @example
 * ```ts
 * import { formatInferenceReport, type InferenceBenchResult } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * // One row per batch; a software adapter is flagged.
 * const cell = { trajectoriesPerSecond: 100, seconds: 0.01, note: null };
 * const r: InferenceBenchResult = {
 *   steps: 100, batches: [1, 4], threads: 1, webgpu: "llvmpipe", softwareAdapter: true,
 *   columns: [{ name: "revode", setupSeconds: null, cells: [cell, cell] }],
 * };
 * const text = formatInferenceReport(r);
 * assert.match(text, /100 steps/);
 * assert.match(text, /^\s*4\s+100\.0$/m);
 * assert.match(text, /software one/);
 * ```
 */
export interface InferenceBenchResult {
  /** Solver steps. */
  steps: number;
  /** Batches measured. */
  batches: number[];
  /** revode first, then each provider × variant. */
  columns: InferenceColumn[];
  /** ONNX Runtime CPU threads. */
  threads: number;
  /** The WebGPU adapter, or why there is none. */
  webgpu: string;
  /** True when the WebGPU adapter is a software one (its figures mean nothing). */
  softwareAdapter: boolean;
}

function _y0(batch: number): Float64Array {
  const y0 = new Float64Array(2 * batch);
  for (let b = 0; b < batch; b++) {
    y0[2 * b] = 1 + 1e-3 * b;
    y0[2 * b + 1] = 0;
  }
  return y0;
}

/** Runs `run` after a warm-up until `seconds` have passed; returns the best time. */
async function _time(run: () => unknown, seconds: number): Promise<number> {
  await run();
  let best = Infinity;
  const end = performance.now() + 1000 * seconds;
  let runs = 0;
  while (runs < 3 || performance.now() < end) {
    const start = performance.now();
    await run();
    best = Math.min(best, (performance.now() - start) / 1000);
    runs++;
    if (runs >= 3 && performance.now() >= end) break;
    if (runs >= 200) break;
  }
  return best;
}

/**
 * Measures the table (see the module documentation).
 *
 * @param options Steps, batches, time per cell, threads, providers.
 * @returns Every column and cell.
 *
 * @example Needs --allow-ffi, so not run by `deno test --doc`
 * ```ts ignore
 * import { runInferenceBench } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * const r = await runInferenceBench({ steps: 5, maxBatch: 4, seconds: 0.05, providers: ["cpu"] });
 * assert.equal(r.columns[0].name, "revode");
 * assert.ok(r.columns[1].cells[0].trajectoriesPerSecond! > 0);
 * ```
 */
export async function runInferenceBench(
  options: InferenceBenchOptions = {},
): Promise<InferenceBenchResult> {
  const steps = options.steps ?? 100;
  const maxBatch = options.maxBatch ?? 65_536;
  const seconds = options.seconds ?? 0.3;
  const runCap = options.runCap ?? 4;
  const threads = options.threads ?? 1;
  const providers = options.providers ?? PROVIDERS;
  const progress = options.onProgress ?? (() => {});
  const batches = INFERENCE_BATCHES.filter((b) => b <= maxBatch);
  const dt = 0.005;

  const field = new Mlp({ dim: 2, widths: [10], timeDependent: true });
  const params = field.init(0);
  const scheme = reversible(rk4, { coupling: 0.999 });
  const source = { field, params, scheme, t0: 0, dt, steps, y0: [1, 0] };

  const columns: InferenceColumn[] = [];
  const measureColumn = async (
    name: string,
    setupSeconds: number | null,
    runAt: (batch: number) => () => unknown,
  ) => {
    const cells: InferenceCell[] = [];
    let last: { batch: number; seconds: number } | null = null;
    for (const batch of batches) {
      const predicted = last === null ? 0 : (last.seconds * batch) / last.batch;
      if (predicted > runCap) {
        cells.push({
          trajectoriesPerSecond: null,
          seconds: null,
          note: `skipped: one run predicted ${predicted.toFixed(0)} s > ${runCap} s`,
        });
        continue;
      }
      try {
        const best = await _time(runAt(batch), seconds);
        cells.push({ trajectoriesPerSecond: batch / best, seconds: best, note: null });
        last = { batch, seconds: best };
        progress(`${name} batch ${batch}: ${(batch / best).toFixed(0)} trajectories/s`);
      } catch (error) {
        const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
        cells.push({ trajectoriesPerSecond: null, seconds: null, note: `failed: ${message}` });
        break;
      }
    }
    while (cells.length < batches.length) {
      cells.push({ trajectoriesPerSecond: null, seconds: null, note: "not run after a failure" });
    }
    columns.push({ name, setupSeconds, cells });
  };

  await measureColumn("revode", null, (batch) => {
    const y0 = _y0(batch);
    return () =>
      solve({
        field,
        y0,
        params,
        scheme,
        t0: 0,
        t1: dt * steps,
        steps,
        saveAt: { t0: true, steps: true },
      });
  });

  const status = providers.includes("webgpu")
    ? await webgpuStatus()
    : { available: false, reason: "not measured", adapter: null, fallback: false };
  for (const provider of providers) {
    for (const variant of ["loop", "unrolled"] as IntegratorVariant[]) {
      const name = `${provider} ${variant}`;
      if (provider === "webgpu" && !status.available) {
        columns.push({
          name,
          setupSeconds: null,
          cells: batches.map(() => ({
            trajectoriesPerSecond: null,
            seconds: null,
            note: `unavailable: ${status.reason}`,
          })),
        });
        continue;
      }
      const bytes = exportIntegrator(source, { variant });
      const start = performance.now();
      let session: OnnxSession;
      try {
        session = await createSession(bytes, provider, { threads });
      } catch (error) {
        const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
        columns.push({
          name,
          setupSeconds: null,
          cells: batches.map(() => ({
            trajectoriesPerSecond: null,
            seconds: null,
            note: `failed: ${message}`,
          })),
        });
        continue;
      }
      const setup = (performance.now() - start) / 1000;
      progress(`${name}: session created in ${setup.toFixed(2)} s`);
      try {
        await measureColumn(name, setup, (batch) => {
          const feeds = {
            y0: { type: "float32" as const, data: _y0(batch), dims: [batch, 2] },
            t0: { type: "float32" as const, data: [0], dims: [] },
            dt: { type: "float32" as const, data: [dt], dims: [] },
            ...(variant === "loop"
              ? { steps: { type: "int64" as const, data: [steps], dims: [] } }
              : {}),
          };
          return () => session.run(feeds);
        });
      } finally {
        await session.release();
      }
    }
  }
  return {
    steps,
    batches,
    columns,
    threads,
    webgpu: status.available ? status.reason : `unavailable: ${status.reason}`,
    softwareAdapter: status.available && status.fallback,
  };
}

function _rate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(1);
}

/**
 * The result as a text table: trajectories per second, and for each ONNX
 * column its ratio to revode's solver.
 *
 * @param result The measurements.
 * @returns The report, ending in a newline.
 *
 * @example
 * ```ts
 * import { formatInferenceReport } from "./inference.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatInferenceReport({
 *   steps: 10, batches: [1], threads: 1, webgpu: "unavailable: none", softwareAdapter: false,
 *   columns: [
 *     { name: "revode", setupSeconds: null, cells: [{ trajectoriesPerSecond: 100, seconds: 0.01, note: null }] },
 *     { name: "cpu loop", setupSeconds: 0.1, cells: [{ trajectoriesPerSecond: 250, seconds: 0.004, note: null }] },
 *   ],
 * });
 * assert.match(text, /250\.0 \(2\.50×\)/);
 * ```
 */
export function formatInferenceReport(result: InferenceBenchResult): string {
  const lines = [
    `Inference: trajectories per second, reversible RK4 (λ = 0.999), ${result.steps} steps, ` +
    "MLP [t, y] (3) → 10 tanh → 2;",
    "revode = solve() forward only (float64, 1 thread); ONNX columns: onnxruntime-node, " +
    `float32, CPU provider with ${result.threads} thread(s); (×) = ratio to revode.`,
    `WebGPU: ${result.webgpu}.`,
  ];
  if (result.softwareAdapter) {
    lines.push(
      "The WebGPU adapter is a software one (Mesa llvmpipe): its figures prove only that " +
        "the path runs, never anything about GPU speed.",
    );
  }
  const header = ["batch", ...result.columns.map((c) => c.name)];
  const rows: string[][] = [header];
  let lastBase: number | null = null;
  let estimated = false;
  for (let i = 0; i < result.batches.length; i++) {
    const measured = result.columns[0].cells[i].trajectoriesPerSecond;
    if (measured !== null) lastBase = measured;
    const base = measured ?? lastBase;
    const mark = measured === null ? "≈" : "";
    const row = [String(result.batches[i])];
    for (const [k, c] of result.columns.entries()) {
      const cell = c.cells[i];
      if (cell.trajectoriesPerSecond === null) {
        row.push(cell.note?.startsWith("skipped") ? "skipped" : cell.note?.split(":")[0] ?? "-");
      } else if (k === 0 || base === null) {
        row.push(_rate(cell.trajectoriesPerSecond));
      } else {
        if (mark) estimated = true;
        row.push(
          `${_rate(cell.trajectoriesPerSecond)} (${mark}${
            (cell.trajectoriesPerSecond / base).toFixed(2)
          }×)`,
        );
      }
    }
    rows.push(row);
  }
  const widths = header.map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows) lines.push(r.map((v, j) => v.padStart(widths[j])).join("  "));
  const setups = result.columns.filter((c) => c.setupSeconds !== null)
    .map((c) => `${c.name} ${c.setupSeconds!.toFixed(2)} s`);
  if (setups.length > 0) lines.push(`Session creation: ${setups.join(", ")}.`);
  const notes = new Set<string>();
  for (const c of result.columns) {
    for (const cell of c.cells) {
      if (cell.note && !cell.note.startsWith("skipped")) notes.add(`${c.name}: ${cell.note}`);
    }
  }
  if (result.columns.some((c) => c.cells.some((x) => x.note?.startsWith("skipped")))) {
    notes.add("skipped: a single run was predicted to take longer than the per-run cap");
  }
  if (estimated) {
    notes.add(
      "(≈…×): revode was skipped at that batch; the ratio is to its rate at the largest " +
        "batch measured, which hardly changes with the batch (revode solves row by row)",
    );
  }
  for (const n of notes) lines.push(`  ${n}`);
  return lines.join("\n") + "\n";
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      steps: { type: "string" },
      "max-batch": { type: "string" },
      seconds: { type: "string" },
      threads: { type: "string" },
      providers: { type: "string" },
      json: { type: "boolean" },
      quick: { type: "boolean" },
    },
    strict: true,
  });
  const number = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!(x > 0) || !Number.isFinite(x)) {
      console.error(`error: --${flag}: ${JSON.stringify(v)}; expected a positive number.`);
      Deno.exit(2);
    }
    return x;
  };
  const providers = values.providers?.split(",").map((p) => p.trim()) as Provider[] | undefined;
  if (providers?.some((p) => !PROVIDERS.includes(p))) {
    console.error(`error: --providers: ${values.providers}. Allowed: ${PROVIDERS.join(", ")}.`);
    Deno.exit(2);
  }
  const result = await runInferenceBench({
    steps: number("steps", values.steps) ?? (values.quick ? 20 : undefined),
    maxBatch: number("max-batch", values["max-batch"]) ?? (values.quick ? 256 : undefined),
    seconds: number("seconds", values.seconds) ?? (values.quick ? 0.05 : undefined),
    threads: number("threads", values.threads),
    providers,
    onProgress: values.json ? undefined : (line) => console.error(line),
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatInferenceReport(result));
}
