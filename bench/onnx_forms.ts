/**
 * ONNX forms benchmark (issue 17): for each exported integrator form —
 * `loop` (one step per Loop iteration), `chunked` (a Loop of K unrolled
 * steps per iteration) and `unrolled` (every step spelled out) — the file
 * size, node count, export time, ONNX Runtime session creation time and
 * inference time (best of a few runs after a warm-up), on the CPU provider
 * and on the WebGPU provider where a hardware adapter exists. Every form's
 * `ys` is compared with the loop form's, so a fast wrong form cannot pass.
 *
 * Setting: the white-dwarf model (numerics.md §5.1), time-dependent MLP
 * [t, y] (3) → 10 tanh → 2 with random weights, reversible RK4 λ = 0.999,
 * h = 0.005, float32, `steps` (default 1 000). The unrolled graph is
 * measured at `unrolledSteps` (default 200): at 1 000 steps its session takes
 * minutes (`--unrolled-steps 1000` measures it all the same).
 *
 * A software WebGPU adapter (Mesa's llvmpipe) is used for a correctness run
 * only: its times are never reported.
 *
 * @module
 */

import { Mlp } from "../solvers/fields/mlp.ts";
import { reversible } from "../solvers/schemes/spec.ts";
import { rk4 } from "../solvers/tableaux.ts";
import { exportIntegrator, type IntegratorVariant } from "../export/integrator.ts";
import { decodeModel } from "../export/onnx_model.ts";
import { createSession, type Feed, type Provider, webgpuStatus } from "../export/ort.ts";

/** Options of {@link runOnnxFormsBench}. */
export interface OnnxFormsOptions {
  /** Steps of the loop and chunked forms (default 1000). */
  steps?: number;
  /** Steps of the unrolled form (default 200). */
  unrolledSteps?: number;
  /** Steps per iteration of the chunked form (default 50). */
  chunk?: number;
  /** Batches (default 1 and 256). */
  batches?: readonly number[];
  /** Timed runs per cell after the warm-up (default 5). */
  runs?: number;
  /** Progress lines. */
  onProgress?: (line: string) => void;
}

/** One form on one provider. */
export interface OnnxFormRow {
  /** The form. */
  form: IntegratorVariant;
  /** Its steps. */
  steps: number;
  /** The provider. */
  provider: Provider;
  /** File size in bytes. */
  bytes: number;
  /** Nodes, Loop bodies included. */
  nodes: number;
  /** Export milliseconds. */
  exportMs: number;
  /** Session creation milliseconds (null: not quoted, software adapter). */
  sessionMs: number | null;
  /** Best inference milliseconds per batch (null: not quoted). */
  runMs: Record<number, number | null>;
  /** Largest |ys − ys of the loop form| over the common steps. */
  maxDiff: number;
}

/** The result. */
export interface OnnxFormsResult {
  /** Settings used. */
  settings: Required<Omit<OnnxFormsOptions, "onProgress">>;
  /** WebGPU: the adapter, or why not measured. */
  webgpu: string;
  /** The rows. */
  rows: OnnxFormRow[];
}

function _nodes(bytes: Uint8Array): number {
  const count = (g: { node?: { attribute?: { g?: unknown }[] | null }[] | null }): number =>
    (g.node ?? []).reduce(
      (n, node) =>
        n + 1 +
        (node.attribute ?? []).reduce((m, a) => m + (a.g ? count(a.g as typeof g) : 0), 0),
      0,
    );
  return count(decodeModel(bytes).graph as Parameters<typeof count>[0]);
}

/**
 * Runs the benchmark.
 *
 * @param options Steps, chunk, batches, runs.
 * @returns The rows.
 *
 * @example
 * ```ts
 * import { runOnnxFormsBench } from "./onnx_forms.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "ffi" })).state === "granted") {
 *   const r = await runOnnxFormsBench({ steps: 6, unrolledSteps: 6, chunk: 3, batches: [2], runs: 1 });
 *   assert.ok(r.rows.every((row) => row.maxDiff < 1e-5));
 * }
 * ```
 */
export async function runOnnxFormsBench(options: OnnxFormsOptions = {}): Promise<OnnxFormsResult> {
  const settings = {
    steps: options.steps ?? 1000,
    unrolledSteps: options.unrolledSteps ?? 200,
    chunk: options.chunk ?? 50,
    batches: options.batches ?? [1, 256],
    runs: options.runs ?? 5,
  };
  const log = options.onProgress ?? (() => {});
  const field = new Mlp({ dim: 2, widths: [10], timeDependent: true });
  const params = field.init(0);
  const gpu = await webgpuStatus();
  const providers: Provider[] = gpu.available ? ["cpu", "webgpu"] : ["cpu"];
  const reference = new Map<number, Float64Array>();
  const rows: OnnxFormRow[] = [];
  const forms: [IntegratorVariant, number][] = [
    ["loop", settings.steps],
    ["chunked", settings.steps],
    ["unrolled", settings.unrolledSteps],
  ];
  for (const [form, steps] of forms) {
    const start = performance.now();
    const bytes = exportIntegrator(
      { field, params, scheme: reversible(rk4), dt: 0.005, steps },
      { variant: form, chunk: settings.chunk },
    );
    const exportMs = performance.now() - start;
    for (const provider of providers) {
      const quote = provider === "cpu" || !gpu.fallback;
      log(`${form} ${steps} steps, ${provider}: creating the session …`);
      const t = performance.now();
      const session = await createSession(bytes, provider);
      const sessionMs = performance.now() - t;
      const runMs: Record<number, number | null> = {};
      let maxDiff = 0;
      try {
        for (const batch of settings.batches) {
          const y0 = Float32Array.from({ length: 2 * batch }, (_, i) => (i % 2 ? 0 : 1) + 1e-3 * i);
          const feeds: Record<string, Feed> = {
            y0: { type: "float32", data: y0, dims: [batch, 2] },
            t0: { type: "float32", data: [0], dims: [] },
            dt: { type: "float32", data: [0.005], dims: [] },
          };
          if (form === "loop") feeds.steps = { type: "int64", data: [steps], dims: [] };
          const ys = (await session.run(feeds)).ys.data;
          if (form === "loop" && provider === "cpu") reference.set(batch, ys);
          const ref = reference.get(batch)!;
          for (let i = 0; i < Math.min(ys.length, ref.length); i++) {
            maxDiff = Math.max(maxDiff, Math.abs(ys[i] - ref[i]));
          }
          let best = Infinity;
          // a software adapter: the one run above checks the values; its speed means nothing
          for (let r = 0; quote && r < settings.runs; r++) {
            const a = performance.now();
            await session.run(feeds);
            best = Math.min(best, performance.now() - a);
          }
          runMs[batch] = quote ? best : null;
        }
      } finally {
        await session.release();
      }
      rows.push({
        form,
        steps,
        provider,
        bytes: bytes.length,
        nodes: _nodes(bytes),
        exportMs,
        sessionMs: quote ? sessionMs : null,
        runMs,
        maxDiff,
      });
    }
  }
  const webgpu = !gpu.available
    ? `not measured: ${gpu.reason}`
    : gpu.fallback
    ? `${gpu.adapter} is a software adapter: run for correctness, times not quoted`
    : `${gpu.adapter}`;
  return { settings, webgpu, rows };
}

/**
 * The report as a table.
 *
 * @param r The result.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatOnnxFormsReport } from "./onnx_forms.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatOnnxFormsReport({
 *   settings: { steps: 1000, unrolledSteps: 200, chunk: 50, batches: [1], runs: 5 },
 *   webgpu: "not measured: no adapter",
 *   rows: [{ form: "chunked", steps: 1000, provider: "cpu", bytes: 443423, nodes: 3600,
 *     exportMs: 40, sessionMs: 689, runMs: { 1: 20 }, maxDiff: 0 }],
 * });
 * assert.match(text, /chunked/);
 * assert.match(text, /689/);
 * ```
 */
export function formatOnnxFormsReport(r: OnnxFormsResult): string {
  const ms = (v: number | null | undefined) => v == null ? "—" : v.toFixed(v < 10 ? 2 : 0);
  const head = ["form", "steps", "provider", "bytes", "nodes", "export ms", "session ms"]
    .concat(r.settings.batches.map((b) => `run ms b=${b}`), ["max |Δys| vs loop"]);
  const lines = r.rows.map((row) => [
    row.form === "chunked" ? `chunked K=${r.settings.chunk}` : row.form,
    String(row.steps),
    row.provider,
    String(row.bytes),
    String(row.nodes),
    ms(row.exportMs),
    ms(row.sessionMs),
    ...r.settings.batches.map((b) => ms(row.runMs[b])),
    row.maxDiff.toExponential(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((c, i) => c.padStart(widths[i])).join("  ");
  return [
    "ONNX forms (issue 17): white-dwarf reversible RK4, float32, onnxruntime-node; best of " +
    `${r.settings.runs} runs after a warm-up`,
    `WebGPU: ${r.webgpu}`,
    fmt(head),
    ...lines.map(fmt),
  ].join("\n");
}
