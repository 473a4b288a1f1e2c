/**
 * Training on a chosen backend: `train()`'s options, the same result, and one
 * more option, `backend`. So a program moves from the CPU to the GPU by
 * changing one option and nothing else. The WebGPU entry exports this
 * function as `train`.
 *
 * `"webgpu"` refuses a configuration the GPU cannot run before it touches a
 * device, with `configGpuSupport()`'s sentence. `"auto"` trains on WebGPU
 * when the configuration runs there and a hardware adapter exists, and
 * otherwise on the CPU. It says why in `backendReason`.
 *
 * @module
 */

import { train as trainCpu, type TrainOptions } from "../train.ts";
import type { TrainResult } from "../state.ts";
import { checkConfig, type TrainConfig } from "../config.ts";
import { configGpuSupport, trainGpu } from "./train.ts";
import { chooseBackend } from "../../solvers/webgpu/runtime/device.ts";
import type { GpuLike, SolveKernel } from "../../solvers/webgpu/options.ts";

/** The backends `train` runs on. */
const BACKENDS = ["cpu", "webgpu", "auto"] as const;

/**
 * Options of {@link train}: `train()`'s, and where to run.
 *
 * @example
 * ```ts
 * import type { BackendTrainOptions } from "./backend.ts";
 * import { defaultConfig } from "../config.ts";
 * import { whiteDwarfData } from "../datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const options: BackendTrainOptions = {
 *   config: defaultConfig({
 *     mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *     steps: 10,
 *   }),
 *   data: whiteDwarfData({ points: 11 }),
 *   iterations: 10,
 *   backend: "auto",
 * };
 * assert.equal(options.backend, "auto");
 * ```
 */
export interface BackendTrainOptions extends TrainOptions {
  /**
   * Where to train:
   * - `"cpu"` (default): float64.
   * - `"webgpu"`: float32. It needs an adapter and a configuration the GPU runs.
   * - `"auto"`: WebGPU where both hold and the adapter is not a software one; otherwise the CPU.
   */
  backend?: "cpu" | "webgpu" | "auto";
  /** A device to train on instead of requesting one (WebGPU only; the caller destroys it). */
  gpu?: GpuLike;
  /** WebGPU: milliseconds between two read-backs of the losses (default 250; results do not depend on it). */
  readEveryMs?: number;
  /** WebGPU: how the solve is laid out in kernels (default `"auto"`). */
  solveKernel?: SolveKernel;
}

/**
 * What {@link train} returns: `train()`'s result, where it ran and why.
 *
 * @example
 * ```ts
 * import type { BackendTrainResult } from "./backend.ts";
 * import assert from "node:assert/strict";
 *
 * const where = (r: BackendTrainResult) => `${r.backend}: ${r.backendReason}`;
 * assert.equal(
 *   where({ backend: "cpu", backendReason: "backend: CPU (float64)" } as BackendTrainResult),
 *   "cpu: backend: CPU (float64)",
 * );
 * ```
 */
export interface BackendTrainResult extends TrainResult {
  /** The backend the run trained on. */
  backend: "cpu" | "webgpu";
  /** A sentence for the user: which adapter, or why the CPU was chosen. */
  backendReason: string;
}

/**
 * Trains on the chosen backend: `train()` on the CPU, `trainGpu()` on
 * WebGPU, with the same options and result.
 *
 * @param options `train()`'s options, `backend`, and optionally a device.
 * @returns The result, the backend it ran on and why.
 * @throws {RangeError} For an unknown backend, or `"webgpu"` with a configuration the GPU cannot run.
 *
 * @example The same run on the CPU and on "auto": one option apart
 * ```ts
 * import { train } from "./backend.ts";
 * import { defaultConfig } from "../config.ts";
 * import { whiteDwarfData } from "../datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 11 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 10,
 * });
 * const cpu = await train({ config, data, iterations: 3 });
 * assert.equal(cpu.backend, "cpu");
 * assert.equal(cpu.state.losses.length, 3);
 * const auto = await train({ config, data, iterations: 3, backend: "auto" });
 * assert.equal(auto.state.losses.length, 3);
 * // float32 on a GPU, float64 on the CPU: the first loss agrees to about 1e-6
 * assert.ok(Math.abs(auto.state.losses[0] - cpu.state.losses[0]) <= 1e-4 * cpu.state.losses[0]);
 * await assert.rejects(
 *   train({ config: { ...config, scheme: "plain", gradient: "direct" }, data, iterations: 1, backend: "webgpu" }),
 *   /plain scheme runs on the CPU backend only/,
 * );
 * ```
 */
export async function train(options: BackendTrainOptions): Promise<BackendTrainResult> {
  const { backend = "cpu", gpu, readEveryMs, solveKernel, ...trainOptions } = options;
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw new RangeError(
      `Invalid backend: got ${JSON.stringify(backend)}; expected "cpu", "webgpu" or "auto".`,
    );
  }
  checkConfig(options.config);
  const unsupported = backend === "cpu"
    ? null
    : options.field !== undefined || options.init !== undefined
    ? "a field of your own, or given initial parameters, train on the CPU backend only."
    : configGpuSupport(options.config);
  if (unsupported !== null && backend === "webgpu") {
    throw new RangeError(`This configuration does not run on the WebGPU backend: ${unsupported}`);
  }
  if (backend === "cpu" || unsupported !== null) {
    const backendReason = unsupported === null
      ? "backend: CPU (float64)"
      : `backend: CPU (float64), as this configuration does not run on the GPU: ${unsupported}`;
    return { ...(await trainCpu(trainOptions)), backend: "cpu", backendReason };
  }
  if (gpu !== undefined) {
    const config = trainOptions.config as TrainConfig; // an MLP's: no field was given
    const result = await trainGpu({ ...trainOptions, config, gpu, readEveryMs, solveKernel });
    return {
      ...result,
      backend: "webgpu",
      backendReason: "backend: WebGPU (float32), the given device",
    };
  }
  const choice = await chooseBackend(backend);
  if (choice.gpu === null) {
    return { ...(await trainCpu(trainOptions)), backend: "cpu", backendReason: choice.message };
  }
  try {
    const config = trainOptions.config as TrainConfig;
    const result = await trainGpu({
      ...trainOptions,
      config,
      gpu: choice.gpu,
      readEveryMs,
      solveKernel,
    });
    return { ...result, backend: "webgpu", backendReason: choice.message };
  } finally {
    choice.gpu.device.destroy();
  }
}
