/// <reference lib="dom" />
/**
 * The playground page: reads the choices (or the query string), trains on
 * WebGPU in the page where an adapter is found and the configuration runs
 * there, else on the CPU in a Web Worker, and draws the loss and the fit
 * after every chunk, and offers the trained model as model.json (the CLI's
 * format) and model.onnx (the export library's loop form, float32).
 * Everything it computes is the library's (problem.ts, session.ts, export/);
 * this module only wires it to the page.
 *
 * Query string, for automation: `?example=white-dwarf&iterations=50&autostart`,
 * and `solver`, `gradient`, `coupling`, `width`, `backend=cpu` (never WebGPU).
 * When a run ends, `window.revodeResult` holds `{ backend, firstLoss,
 * bestLoss, iterations, … }` and the element `#status` reads "done".
 *
 * @module
 */

import { GpuUnavailableError, requestGpuDevice } from "../../solvers/webgpu/runtime/device.ts";
import type { GpuDevice } from "../../solvers/webgpu/runtime/device.ts";
import { GRADIENT_NAMES, SOLVER_NAMES } from "../../training/config.ts";
import { EXAMPLE_NAMES, type ExampleName } from "../../training/experiments.ts";
import type { TrainState } from "../../training/state.ts";
import { parseModelFile } from "../../training/model_parse.ts";
import { sourceFromModel } from "../../export/source_model.ts";
import { exportOnnx } from "../../export/forms.ts";
import { type Problem, problemOf, type Setup } from "./problem.ts";
import {
  type Backend,
  backendFor,
  type GpuFound,
  modelText,
  prediction,
  type RunEnd,
  trainInChunks,
} from "./session.ts";
import { drawFit, drawLoss } from "./plots.ts";
import type { WorkerReport, WorkerRequest } from "./worker.ts";

/** What a finished run leaves on `window.revodeResult`. */
export interface RevodeResult {
  backend: Backend;
  backendReason: string;
  status: string;
  firstLoss: number | null;
  bestLoss: number | null;
  iterations: number;
  /** Milliseconds from the page's navigation to the first training step of the first run. */
  firstStepMs: number | null;
  /** What the page plotted: the model (best parameters) at the data's times. */
  prediction: { ts: number[]; ys: number[] };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The page's state: the table dropped, the run and the device. */
const page = {
  table: null as { table: string; file: string } | null,
  problem: null as Problem | null,
  setup: null as Setup | null,
  backend: "cpu" as Backend,
  reason: "",
  end: null as RunEnd | null,
  /** The last run's model.json text, made once so that both downloads are of one file. */
  modelJson: null as string | null,
  stop: false,
  running: false,
  worker: null as Worker | null,
  gpu: null as Promise<{ device: GpuDevice | null; found: GpuFound }> | null,
  firstStepMs: null as number | null,
};

/** Shows a status line; `error` also goes to `#error`. */
function _status(text: string, error = false): void {
  $("status").textContent = text;
  $("error").textContent = error ? text : "";
}

/** The adapter, found once per page. */
function _gpu(): Promise<{ device: GpuDevice | null; found: GpuFound }> {
  page.gpu ??= requestGpuDevice().then(
    (device) => ({
      device,
      found: { description: device.description, isFallback: device.isFallback },
    }),
    (error) => ({ device: null, found: { missing: _whyNoGpu(error) } }),
  );
  return page.gpu;
}

/** Why the page has no WebGPU device, in a browser's terms (the library's words are Deno's). */
function _whyNoGpu(error: unknown): string {
  if (!("gpu" in navigator) || !navigator.gpu) {
    return "this browser has no WebGPU (navigator.gpu is undefined)";
  }
  if (error instanceof GpuUnavailableError && /no WebGPU adapter/.test(error.message)) {
    return "the browser's WebGPU found no adapter (navigator.gpu.requestAdapter() returned " +
      "null): WebGPU is disabled or has no driver here (Chromium on Linux: start it with " +
      "--enable-unsafe-webgpu --enable-features=Vulkan)";
  }
  return error instanceof Error ? error.message : String(error);
}

/** The choices on the page. */
function _setup(): Setup {
  const value = (id: string) => ($(id) as HTMLInputElement).value;
  const example = value("example");
  return {
    source: example === "table" && page.table !== null
      ? page.table
      : { example: (example === "table" ? "white-dwarf" : example) as ExampleName },
    solver: value("solver") as Setup["solver"],
    gradient: value("gradient") as Setup["gradient"],
    coupling: Number(value("coupling")),
    width: Number(value("width")),
  };
}

/** Redraws both plots for a state (or the data alone). */
function _draw(state: TrainState | null): void {
  const problem = page.problem;
  if (problem === null) return;
  drawLoss($("loss"), state?.losses ?? []);
  const model = state === null || state.iteration === 0 ? null : prediction(problem, state);
  drawFit($("fit"), problem.shown, model, problem.stateNames);
}

/** Reads the choices into a problem, or shows why they cannot be one. */
function _prepare(): boolean {
  try {
    page.setup = _setup();
    page.problem = problemOf(page.setup);
  } catch (error) {
    page.problem = null;
    _status(error instanceof Error ? error.message : String(error), true);
    return false;
  }
  $("notes").textContent = page.problem.notes.join("\n");
  $("title").textContent = page.problem.title;
  _draw(null);
  return true;
}

/** Starts a run (or continues the last one). */
async function _train(resume: boolean): Promise<void> {
  if (page.running) return;
  if (!resume && !_prepare()) return;
  const problem = page.problem!;
  const more = Number(($("iterations") as HTMLInputElement).value);
  const from = resume ? page.end!.state : undefined;
  const target = !resume
    ? more
    : page.end!.status === "interrupted"
    ? page.end!.target
    : page.end!.state.iteration + more;
  if (!resume) {
    const forced = new URLSearchParams(location.search).get("backend") === "cpu";
    const { found } = await _gpu();
    const choice = backendFor(
      problem,
      forced ? { missing: "the page was asked for the CPU (?backend=cpu)" } : found,
    );
    page.backend = choice.backend;
    page.reason = choice.reason;
    $("backend").textContent = `backend: ${choice.reason}`;
  }
  page.running = true;
  page.stop = false;
  _buttons();
  _status(`training on ${page.backend === "webgpu" ? "WebGPU" : "the CPU"}…`);
  try {
    page.end = page.backend === "webgpu"
      ? await _trainGpu(problem, target, from)
      : await _trainWorker(target, from);
    _finish();
  } catch (error) {
    _status(error instanceof Error ? error.message : String(error), true);
  } finally {
    page.running = false;
    _buttons();
  }
}

/** Notes the first training step's time (from navigation), once per page. */
function _firstStep(): void {
  page.firstStepMs ??= performance.now();
}

/** Trains on WebGPU in the page. */
async function _trainGpu(problem: Problem, target: number, resume?: TrainState): Promise<RunEnd> {
  const { device } = await _gpu();
  const start = resume?.iteration ?? 0;
  return await trainInChunks({
    problem,
    backend: "webgpu",
    gpu: device!,
    target,
    ...(resume === undefined ? {} : { resume }),
    onLoss: (iteration) => iteration === start + 1 && _firstStep(),
    onChunk: (state) => _draw(state),
    shouldStop: () => page.stop,
  });
}

/** Trains on the CPU in the worker (made once, from this same script). */
function _trainWorker(target: number, resume?: TrainState): Promise<RunEnd> {
  page.worker ??= new Worker(new URL(import.meta.url), { type: "module" });
  const worker = page.worker;
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      const report = event.data;
      if (report.type === "first") _firstStep();
      else if (report.type === "chunk") _draw(report.state);
      else if (report.type === "end") resolve(report.end);
      else reject(new Error(report.message));
    };
    const request: WorkerRequest = {
      type: "start",
      setup: page.setup!,
      target,
      ...(resume === undefined ? {} : { resume }),
    };
    worker.postMessage(request);
  });
}

/** Shows how a run ended and publishes `window.revodeResult`. */
function _finish(): void {
  const end = page.end!;
  const state = end.state;
  _draw(state);
  const fit = prediction(page.problem!, state);
  page.modelJson = modelText(page.problem!, end, page.backend);
  const result: RevodeResult = {
    backend: page.backend,
    backendReason: page.reason,
    status: end.status,
    firstLoss: state.losses[0] ?? null,
    bestLoss: state.bestLoss,
    iterations: state.iteration,
    firstStepMs: page.firstStepMs,
    prediction: { ts: Array.from(fit.ts), ys: Array.from(fit.ys) },
  };
  (globalThis as { revodeResult?: RevodeResult }).revodeResult = result;
  const best = state.bestLoss === null ? "" : `, best loss ${state.bestLoss.toPrecision(4)}`;
  $("summary").textContent = `${state.iteration} iterations on ${page.backend}${best}` +
    (end.reason === null ? "" : ` (${end.reason})`);
  if (end.status === "diverged") _status(`diverged: ${end.reason}`, true);
  else _status(end.status === "completed" ? "done" : `stopped at iteration ${state.iteration}`);
}

/** Enables the buttons that apply now. */
function _buttons(): void {
  ($("train") as HTMLButtonElement).disabled = page.running;
  ($("stop") as HTMLButtonElement).disabled = !page.running;
  ($("continue") as HTMLButtonElement).disabled = page.running || page.end === null;
  for (const id of ["download-json", "download-onnx"]) {
    ($(id) as HTMLButtonElement).disabled = page.running || page.end === null;
  }
}

/** Offers a file to save. */
function _offer(name: string, blob: Blob): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Offers model.json, as `deno task train` writes it. */
function _downloadJson(): void {
  _offer("model.json", new Blob([page.modelJson!], { type: "application/json" }));
}

/**
 * model.onnx of the last run's model.json, as `deno task train` writes it
 * next to model.json: the best parameters, the loop form, float32 weights
 * (which every ONNX Runtime provider runs), the data summarised from what
 * the page has (no file is read).
 */
function _onnxBytes(): Uint8Array {
  const model = parseModelFile(page.modelJson!, "model.json");
  return exportOnnx(sourceFromModel(model, "best"), "loop", "float32");
}

/** Offers model.onnx, or shows why the model cannot be exported. */
function _downloadOnnx(): void {
  let bytes: Uint8Array;
  try {
    bytes = _onnxBytes();
  } catch (error) {
    _status(error instanceof Error ? error.message : String(error), true);
    return;
  }
  _offer(
    "model.onnx",
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }),
  );
}

/** Reads a dropped or chosen table; its problems show as the reader words them. */
async function _loadTable(file: File): Promise<void> {
  page.table = { table: await file.text(), file: file.name };
  const option = $("example").querySelector('option[value="table"]') as HTMLOptionElement;
  option.textContent = `table: ${file.name}`;
  option.disabled = false;
  ($("example") as HTMLSelectElement).value = "table";
  page.end = null;
  page.modelJson = null;
  _buttons();
  if (_prepare()) _status(`read ${file.name}: press Train`);
}

/** Fills a select with names. */
function _options(id: string, names: readonly string[], chosen: string): void {
  const select = $(id) as HTMLSelectElement;
  for (const name of names) select.add(new Option(name, name, false, name === chosen));
}

/** Wires the page and applies the query string. */
export function startPage(): void {
  const query = new URLSearchParams(location.search);
  _options("example", EXAMPLE_NAMES, query.get("example") ?? "white-dwarf");
  const table = new Option("table: drop a CSV", "table");
  table.disabled = true;
  ($("example") as HTMLSelectElement).add(table);
  _options("solver", SOLVER_NAMES, query.get("solver") ?? "rk4");
  _options("gradient", GRADIENT_NAMES, query.get("gradient") ?? "reversible");
  for (const id of ["coupling", "width", "iterations"]) {
    const given = query.get(id);
    if (given !== null) ($(id) as HTMLInputElement).value = given;
  }
  $("train").onclick = () => void _train(false);
  $("continue").onclick = () => void _train(true);
  $("stop").onclick = () => {
    page.stop = true;
    page.worker?.postMessage({ type: "stop" } satisfies WorkerRequest);
  };
  $("download-json").onclick = _downloadJson;
  $("download-onnx").onclick = _downloadOnnx;
  $("example").onchange = () => _prepare();
  ($("file") as HTMLInputElement).onchange = (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void _loadTable(file);
  };
  document.body.ondragover = (e) => e.preventDefault();
  document.body.ondrop = (e) => {
    e.preventDefault();
    const file = e.dataTransfer?.files[0];
    if (file) void _loadTable(file);
  };
  _buttons();
  if (_prepare()) _status(query.has("autostart") ? "starting…" : "ready");
  if (query.has("autostart")) void _train(false);
}
