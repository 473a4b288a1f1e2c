/**
 * The backend of a `deno task train` run: `--backend` resolved against what
 * the GPU can run and what adapter exists, a refusal reported with what to
 * pass instead, and the backend in words for the run's files.
 *
 * @module
 */

import type { CliIo } from "./io.ts";
import { UsageError } from "./flags.ts";
import type { BackendFlag } from "./train_flags.ts";
import type { TrainPlan } from "./train_plan.ts";
import { EXIT, reportError } from "./train_exit.ts";
import type { TrainConfig } from "../training/config.ts";
import { configGpuSupport } from "../training/webgpu/train.ts";
import {
  type BackendChoice,
  chooseBackend,
  GpuUnavailableError,
  HOW_TO_GET_AN_ADAPTER,
} from "../solvers/webgpu/runtime/device.ts";

/**
 * How the programs name a backend choice in what they print: by the flag.
 *
 * @param backend The choice.
 * @returns The flag and value, as typed.
 *
 * @example
 * ```ts
 * import { backendFlag } from "./train_backend.ts";
 * import assert from "node:assert/strict";
 * assert.equal(backendFlag("auto"), "--backend auto");
 * ```
 */
export function backendFlag(backend: "cpu" | "webgpu" | "auto"): string {
  return `--backend ${backend}`;
}

/** What the CLI adds to the library's sentence when a configuration does not run on the GPU. */
const CPU_BACKEND_ADVICE = "Or train on the CPU: --backend cpu (or --backend auto).";

/**
 * Resolves `--backend`: a configuration the GPU cannot run is refused for
 * `webgpu` (a usage error, with `configGpuSupport()`'s sentence and the flags that train on the CPU) and sent to the
 * CPU for `auto`, saying why, without touching WebGPU; otherwise
 * `chooseBackend()` decides (and throws `GpuUnavailableError` for `webgpu`
 * without an adapter).
 *
 * @param requested The backend asked for.
 * @param config The configuration to train.
 * @returns The backend, its device, and a sentence saying which and why.
 *
 * @example
 * ```ts
 * import { chooseTrainBackend } from "./train_backend.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const plain = { ...experimentConfig("white-dwarf"), scheme: "plain" as const, gradient: "direct" as const };
 * const choice = await chooseTrainBackend("auto", plain);
 * assert.equal(choice.backend, "cpu");
 * assert.match(choice.message, /--backend auto falls back to the CPU/);
 * await assert.rejects(chooseTrainBackend("webgpu", plain), /--backend webgpu: the plain scheme/);
 * ```
 */
export async function chooseTrainBackend(
  requested: BackendFlag,
  config: TrainConfig,
): Promise<BackendChoice> {
  if (requested !== "cpu") {
    const support = configGpuSupport(config);
    if (support !== null) {
      if (requested === "webgpu") {
        throw new UsageError(`--backend webgpu: ${support} ${CPU_BACKEND_ADVICE}`);
      }
      return {
        backend: "cpu",
        gpu: null,
        message: "backend: CPU (float64): --backend auto falls back to the CPU, as this " +
          `configuration does not run on the GPU: ${support.replace(/\.$/, "")}`,
      };
    }
  }
  return await chooseBackend(requested, { name: backendFlag });
}

/**
 * Reports a backend that could not be had; a model trained on WebGPU and
 * resumed where there is none is told how to resume it on the CPU.
 *
 * @param io Where to write.
 * @param plan The run's plan.
 * @param error What {@link chooseTrainBackend} threw.
 * @returns The exit code.
 *
 * @example
 * ```ts
 * import { reportBackendError } from "./train_backend.ts";
 * import { planRun } from "./train_plan.ts";
 * import { GpuUnavailableError } from "../solvers/webgpu/runtime/device.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * const plan = await planRun({ steps: "20" });
 * assert.equal(reportBackendError(io, plan, new GpuUnavailableError("no adapter")), 1);
 * assert.match(err, /^error: /);
 * ```
 */
export function reportBackendError(io: CliIo, plan: TrainPlan, error: unknown): number {
  if (!(error instanceof GpuUnavailableError)) return reportError(io, error);
  // the library's advice names its option; the user typed a flag
  io.error(
    `error: WebGPU backend unavailable: ${error.reason}. ${HOW_TO_GET_AN_ADAPTER} ` +
      "Or run with `--backend auto` to fall back to the CPU backend (float64).\n",
  );
  const code = EXIT.failed;
  if (plan.backendFromModel) {
    io.error(
      `${plan.resumedFrom} was trained on WebGPU; pass --backend cpu to resume it on the CPU.\n`,
    );
  }
  return code;
}

/**
 * The backend in words, for summary.json and the report.
 *
 * @param choice The backend chosen.
 * @returns `CPU (float64)`, or the WebGPU adapter's description.
 *
 * @example
 * ```ts
 * import { deviceText } from "./train_backend.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(deviceText({ backend: "cpu", gpu: null, message: "" }), "CPU (float64)");
 * ```
 */
export function deviceText(choice: BackendChoice): string {
  if (choice.gpu === null) return "CPU (float64)";
  return `WebGPU (float32) on ${choice.gpu.description}` +
    (choice.gpu.isFallback ? " (software adapter)" : "");
}
