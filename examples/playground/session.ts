/**
 * A playground run: where it trains and why, training in short chunks (each
 * one the library's `train()`, resumed from the last chunk's state, which
 * gives the losses of one uninterrupted run) so that the page can redraw the
 * model between them, the model's prediction, and model.json as the CLI
 * writes it. No DOM and no Deno API: the page runs it on WebGPU, its worker
 * on the CPU.
 *
 * @example Ten iterations of a small white dwarf, in chunks, and its model file
 * ```ts
 * import { problemOf } from "./problem.ts";
 * import { modelText, trainInChunks } from "./session.ts";
 * import { parseModelFile } from "../../training/model_parse.ts";
 * import assert from "node:assert/strict";
 *
 * const problem = problemOf({ source: { example: "white-dwarf" }, width: 4 });
 * const losses: number[] = [];
 * const end = await trainInChunks({
 *   problem, backend: "cpu", target: 10, chunkMs: 1,
 *   onLoss: (_, loss) => losses.push(loss),
 * });
 * assert.equal(end.state.iteration, 10);
 * assert.deepEqual(end.state.losses, losses);
 * const file = parseModelFile(modelText(problem, end, "cpu"), "model.json");
 * assert.equal(file.training.iterations, 10);
 * ```
 *
 * @module
 */

import { train } from "../../training/webgpu/backend.ts";
import { configGpuSupport } from "../../training/webgpu/train.ts";
import type { GpuLike } from "../../solvers/webgpu/options.ts";
import type { GradientRecord, TrainState, TrainStatus } from "../../training/state.ts";
import { predictData } from "../../training/predict_data.ts";
import { modelFromState } from "../../training/model_state.ts";
import { serializeModel } from "../../training/model_serialize.ts";
import type { Problem } from "./problem.ts";

/** Where a run trains. */
export type Backend = "cpu" | "webgpu";

/** What the page knows of its GPU: the adapter's description, or why there is none. */
export type GpuFound = { description: string; isFallback: boolean } | { missing: string };

/**
 * Where a problem trains and the sentence the page shows: WebGPU when an
 * adapter was found and the configuration and data run there, else the CPU.
 *
 * @param problem The problem.
 * @param gpu The adapter found, or why none was.
 * @returns The backend and why.
 *
 * @example
 * ```ts
 * import { problemOf } from "./problem.ts";
 * import { backendFor } from "./session.ts";
 * import assert from "node:assert/strict";
 *
 * const problem = problemOf({ source: { example: "white-dwarf" } });
 * assert.equal(backendFor(problem, { description: "llvmpipe", isFallback: true }).backend, "webgpu");
 * const none = backendFor(problem, { missing: "navigator.gpu is undefined" });
 * assert.match(none.reason, /CPU .* Web Worker: navigator\.gpu is undefined/);
 * const backsolve = problemOf({ source: { example: "white-dwarf" }, gradient: "backsolve" });
 * assert.match(backendFor(backsolve, { description: "x", isFallback: false }).reason, /backsolve/);
 * ```
 */
export function backendFor(problem: Problem, gpu: GpuFound): { backend: Backend; reason: string } {
  const cpu = (why: string) => ({
    backend: "cpu" as const,
    reason: `CPU (float64) in a Web Worker: ${why}`,
  });
  if ("missing" in gpu) return cpu(gpu.missing);
  const support = configGpuSupport(problem.config);
  if (support !== null) return cpu(support);
  if (!problem.uniform) {
    return cpu(
      "the table's trajectories do not share one set of uniformly spaced times, " +
        "which the WebGPU trainer needs",
    );
  }
  const soft = gpu.isFallback ? ", a software adapter: correct but slow" : "";
  return { backend: "webgpu", reason: `WebGPU (float32) on ${gpu.description}${soft}` };
}

/** How a run (or the latest chunk of it) ended. */
export interface RunEnd {
  /** The state to continue from, or to save. */
  state: TrainState;
  /** `completed`, `interrupted` (stopped) or `diverged`. */
  status: TrainStatus;
  /** Why it ended early, or null. */
  reason: string | null;
  /** The gradient method's work and memory, or null. */
  gradient: GradientRecord | null;
  /** Iterations the run was asked to reach. */
  target: number;
}

/** Options of {@link trainInChunks}. */
export interface ChunkOptions {
  /** The problem. */
  problem: Problem;
  /** Where to train. */
  backend: Backend;
  /** The device, for WebGPU. */
  gpu?: GpuLike;
  /** A state to continue from (a stopped run's). */
  resume?: TrainState;
  /** Iterations to reach, counted from the start. */
  target: number;
  /** Milliseconds a chunk aims at (default 400). */
  chunkMs?: number;
  /** Called with every iteration's 1-based index and loss. */
  onLoss?: (iteration: number, loss: number) => void;
  /** Called after every chunk with the state reached. */
  onChunk?: (state: TrainState) => void;
  /** Checked between iterations; true stops the run. */
  shouldStop?: () => boolean;
}

/**
 * Trains up to `target` iterations in chunks of about `chunkMs`.
 *
 * @param options The problem, backend, target and callbacks.
 * @returns How it ended and the state reached.
 */
export async function trainInChunks(options: ChunkOptions): Promise<RunEnd> {
  const { problem, backend, target } = options;
  const chunkMs = options.chunkMs ?? 400;
  let state = options.resume;
  let chunk = 1; // the first chunk measures an iteration's time
  let last: RunEnd | null = null;
  while ((state?.iteration ?? 0) < target) {
    const begin = performance.now();
    const result = await train({
      config: problem.config,
      data: problem.data,
      iterations: Math.min(chunk, target - (state?.iteration ?? 0)),
      ...(state === undefined ? {} : { resume: state }),
      backend,
      ...(options.gpu === undefined ? {} : { gpu: options.gpu }),
      onProgress: (p) => options.onLoss?.(p.iteration, p.loss),
      ...(options.shouldStop === undefined ? {} : { shouldStop: options.shouldStop }),
    });
    const ran = result.state.iteration - (state?.iteration ?? 0);
    state = result.state;
    last = {
      state,
      status: result.status,
      reason: result.reason,
      gradient: result.gradient,
      target,
    };
    options.onChunk?.(state);
    if (result.status !== "completed") return last;
    const ms = performance.now() - begin;
    chunk = Math.max(1, Math.min(1000, Math.round((ran * chunkMs) / Math.max(ms, 1))));
  }
  return last ?? {
    state: state!,
    status: "completed",
    reason: null,
    gradient: null,
    target,
  };
}

/**
 * The model's solution from the shown trajectory's first state at its
 * times, in the data's units, with the best parameters (those model.json's
 * `Model` predicts with).
 *
 * @param problem The problem.
 * @param state A training state.
 * @returns Times and states `[points, dim]`.
 *
 * @example
 * ```ts
 * import { problemOf } from "./problem.ts";
 * import { prediction } from "./session.ts";
 * import { initialState } from "../../training/state.ts";
 * import assert from "node:assert/strict";
 *
 * const problem = problemOf({ source: { example: "white-dwarf" }, width: 2 });
 * const { ts, ys } = prediction(problem, initialState(problem.config));
 * assert.equal(ts.length, 1001);
 * assert.deepEqual([...ys.subarray(0, 2)], [1, 0]);
 * ```
 */
export function prediction(
  problem: Problem,
  state: TrainState,
): { ts: Float64Array; ys: Float64Array } {
  return predictData(problem.config, state.bestParams, problem.shown);
}

/**
 * model.json's text for a run: `modelFromState` and `serializeModel`, what
 * `deno task train` writes.
 *
 * @param problem The problem.
 * @param end How the run ended.
 * @param backend Where it trained.
 * @returns The file's text.
 */
export function modelText(problem: Problem, end: RunEnd, backend: Backend): string {
  return serializeModel(
    modelFromState(problem.config, end.state, {
      plannedIterations: end.target,
      status: end.status,
      reason: end.reason,
      gradient: end.gradient,
      backend,
    }),
  );
}
