/**
 * WebGPU device set-up for the GPU backend: finds an adapter, asks for the
 * limits and features the kernels need, and says clearly what to do when
 * there is no adapter (install one, or fall back to the CPU backend).
 *
 * Deno exposes WebGPU as `navigator.gpu` without any flag. On a machine
 * without a GPU, Mesa's software Vulkan driver (`llvmpipe`) provides a
 * fallback adapter: on Debian 12 add the `bookworm-backports` suite to apt's
 * sources, then `apt-get install -t bookworm-backports libvulkan1
 * mesa-vulkan-drivers`. The software adapter is slow: use it for correctness,
 * never for speed claims.
 *
 * @module
 */

/**
 * How to get an adapter, appended to every "no adapter" message.
 *
 * @example
 * ```ts
 * import { HOW_TO_GET_AN_ADAPTER } from "./device.ts";
 * import assert from "node:assert/strict";
 * assert.match(HOW_TO_GET_AN_ADAPTER, /bookworm-backports/);
 * ```
 */
export const HOW_TO_GET_AN_ADAPTER: string =
  "On a machine without a GPU, install Mesa's software Vulkan driver " +
  "(Debian 12: add the bookworm-backports suite to apt's sources, then " +
  "`apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers`); on a GPU " +
  "machine, install the vendor's Vulkan driver and the Vulkan loader (libvulkan1).";

/**
 * Thrown when WebGPU is missing or no adapter can be found; the message says
 * how to get one.
 *
 * @example
 * ```ts
 * import { GpuUnavailableError } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new GpuUnavailableError("no adapter");
 * assert.ok(e instanceof Error);
 * assert.match(e.message, /mesa-vulkan-drivers/);
 * assert.match(e.message, /backend "auto"/); // the option; the CLI names its flag
 * ```
 */
export class GpuUnavailableError extends Error {
  /** What went wrong, without the advice. */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param reason What went wrong, as a sentence fragment.
   */
  constructor(reason: string) {
    super(
      `WebGPU backend unavailable: ${reason}. ${HOW_TO_GET_AN_ADAPTER} ` +
        'Or choose backend "auto" to fall back to the CPU backend (float64).',
    );
    this.name = "GpuUnavailableError";
    this.reason = reason;
  }
}

/**
 * Options of {@link requestGpuDevice}.
 *
 * @example
 * ```ts
 * import type { GpuDeviceOptions } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const options: GpuDeviceOptions = { powerPreference: "high-performance", timestamps: false };
 * assert.equal(options.timestamps, false);
 * ```
 */
export interface GpuDeviceOptions {
  /** Adapter preference passed to `requestAdapter` (default: none). */
  powerPreference?: GPUPowerPreference;
  /**
   * Ask for the `timestamp-query` feature when the adapter has it (default
   * true); kernel timings need it.
   */
  timestamps?: boolean;
}

/**
 * A device with what the backend learned while creating it.
 *
 * @example
 * ```ts
 * import type { GpuDevice } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const label = (g: GpuDevice) => `${g.description}${g.isFallback ? " (software)" : ""}`;
 * assert.equal(typeof label, "function"); // see requestGpuDevice
 * ```
 */
export interface GpuDevice {
  /** The WebGPU device. */
  readonly device: GPUDevice;
  /** The adapter's description (e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`), or `"unknown"`. */
  readonly description: string;
  /** Whether the adapter is a software (fallback) one, such as Mesa's llvmpipe. */
  readonly isFallback: boolean;
  /** Whether timestamp queries are enabled on the device. */
  readonly timestamps: boolean;
}

/**
 * Whether this runtime exposes WebGPU at all (`navigator.gpu`). An adapter
 * may still be missing: see {@link findGpuAdapter}.
 *
 * @returns True when `navigator.gpu` exists.
 *
 * @example
 * ```ts
 * import { hasWebGpu } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(typeof hasWebGpu(), "boolean");
 * ```
 */
export function hasWebGpu(): boolean {
  return typeof navigator !== "undefined" && "gpu" in navigator &&
    navigator.gpu !== undefined && navigator.gpu !== null;
}

/**
 * The WebGPU adapter, or null when WebGPU is missing or no adapter is found
 * (Deno's `requestAdapter()` also returns null when the Vulkan loader is
 * missing). Never throws.
 *
 * @param options Adapter preference.
 * @returns The adapter, or null.
 *
 * @example
 * ```ts
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * assert.ok(adapter === null || typeof adapter.requestDevice === "function");
 * ```
 */
export async function findGpuAdapter(options: GpuDeviceOptions = {}): Promise<GPUAdapter | null> {
  if (!hasWebGpu()) return null;
  try {
    return await navigator.gpu.requestAdapter(
      options.powerPreference ? { powerPreference: options.powerPreference } : undefined,
    );
  } catch {
    return null;
  }
}

/**
 * Requests a device with the limits the kernels need: the adapter's largest
 * storage-buffer binding and buffer sizes (batches of 65 536 trajectories of
 * wide networks need more than WebGPU's 128 MiB default), and the
 * `timestamp-query` feature when available, and the adapter's most storage
 * buffers per shader. Other limits stay at WebGPU's defaults, which the
 * kernels are written for (256 invocations and 16 KiB of workgroup memory
 * per workgroup; no kernel binds more than 8 storage buffers).
 *
 * @param options Adapter preference; whether to ask for timestamps.
 * @returns The device and what is known about its adapter.
 * @throws {GpuUnavailableError} When WebGPU or an adapter is missing, or the device request fails.
 *
 * @example Fails with a helpful message, or gives a device
 * ```ts
 * import { GpuUnavailableError, requestGpuDevice } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * try {
 *   const gpu = await requestGpuDevice();
 *   assert.ok(gpu.description.length > 0);
 *   gpu.device.destroy();
 * } catch (e) {
 *   assert.ok(e instanceof GpuUnavailableError);
 *   assert.match(e.message, /--backend auto/);
 * }
 * ```
 */
export async function requestGpuDevice(options: GpuDeviceOptions = {}): Promise<GpuDevice> {
  if (!hasWebGpu()) {
    throw new GpuUnavailableError("this runtime has no WebGPU (navigator.gpu is undefined)");
  }
  const adapter = await findGpuAdapter(options);
  if (adapter === null) {
    throw new GpuUnavailableError(
      "no WebGPU adapter found (navigator.gpu.requestAdapter() returned null; " +
        "in Deno this also happens when the Vulkan loader libvulkan1 is missing)",
    );
  }
  const wantTimestamps = (options.timestamps ?? true) && adapter.features.has("timestamp-query");
  const requiredFeatures: GPUFeatureName[] = wantTimestamps ? ["timestamp-query"] : [];
  // The adapter's own values, but never above 2⁵³ − 1: WebIDL refuses larger numbers for
  // requestDevice, and some drivers report a 64-bit maximum (u64::MAX) for maxBufferSize.
  const most = (limit: number) => Math.min(limit, Number.MAX_SAFE_INTEGER);
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: most(adapter.limits.maxStorageBufferBindingSize),
    maxBufferSize: most(adapter.limits.maxBufferSize),
    maxStorageBuffersPerShaderStage: most(adapter.limits.maxStorageBuffersPerShaderStage),
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    throw new GpuUnavailableError(
      `the adapter refused a device (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const info = (adapter as { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const description = info?.description || info?.device || info?.vendor || "unknown";
  const isFallback = Boolean(
    info?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  );
  return { device, description, isFallback, timestamps: wantTimestamps };
}

/**
 * Which backend a run uses, and why.
 *
 * @example
 * ```ts
 * import { type BackendChoice, chooseBackend } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const choice: BackendChoice = await chooseBackend("cpu");
 * assert.equal(choice.gpu, null);
 * ```
 */
export interface BackendChoice {
  /** The backend chosen. */
  readonly backend: "cpu" | "webgpu";
  /** The device, when the backend is WebGPU. */
  readonly gpu: GpuDevice | null;
  /** A sentence for the user: which adapter, or why the CPU was chosen. */
  readonly message: string;
}

/**
 * Options of {@link chooseBackend}: the device's, and whether `"auto"` may
 * settle for a software adapter.
 *
 * @example
 * ```ts
 * import type { BackendOptions } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const options: BackendOptions = { allowSoftware: true, timestamps: false };
 * assert.equal(options.allowSoftware, true);
 * ```
 */
export interface BackendOptions extends GpuDeviceOptions {
  /**
   * Whether `"auto"` uses a software (fallback) adapter such as Mesa's
   * llvmpipe (default false: it runs the kernels on the CPU's cores in
   * float32, roughly as fast as the CPU backend for large batches and far
   * slower for small ones, so `"auto"` picks the CPU backend instead).
   * `"webgpu"` always takes the adapter it finds.
   */
  allowSoftware?: boolean;
  /**
   * How the message names a backend choice: default `backend "auto"`, the
   * option's; a program names what its user types (the CLI: `--backend auto`).
   */
  name?: (backend: "cpu" | "webgpu" | "auto") => string;
}

/**
 * Resolves a backend choice: `"cpu"` never touches WebGPU; `"webgpu"`
 * requires an adapter (throws {@link GpuUnavailableError} otherwise), software
 * or not; `"auto"` uses WebGPU when a hardware adapter exists and falls back
 * to the CPU, saying so, when none does (or when the only adapter is a
 * software one, unless `allowSoftware`).
 *
 * @param choice `"cpu"`, `"webgpu"` or `"auto"`.
 * @param options Device options, and whether `"auto"` accepts a software adapter.
 * @returns The backend, its device and a message for the user.
 *
 * @example
 * ```ts
 * import { chooseBackend } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal((await chooseBackend("cpu")).backend, "cpu");
 * const auto = await chooseBackend("auto");
 * assert.ok(auto.backend === "webgpu" ? !auto.gpu!.isFallback : /CPU/.test(auto.message));
 * auto.gpu?.device.destroy();
 * ```
 */
export async function chooseBackend(
  choice: "cpu" | "webgpu" | "auto",
  options: BackendOptions = {},
): Promise<BackendChoice> {
  if (choice === "cpu") {
    return { backend: "cpu", gpu: null, message: "backend: CPU (float64)" };
  }
  if (choice !== "webgpu" && choice !== "auto") {
    throw new RangeError(
      `Invalid backend: got ${JSON.stringify(choice)}; expected "cpu", "webgpu" or "auto".`,
    );
  }
  const {
    allowSoftware = false,
    name = (b: string) => `backend ${JSON.stringify(b)}`,
    ...deviceOptions
  } = options;
  let gpu: GpuDevice;
  try {
    gpu = await requestGpuDevice(deviceOptions);
  } catch (e) {
    if (choice === "webgpu" || !(e instanceof GpuUnavailableError)) throw e;
    return {
      backend: "cpu",
      gpu: null,
      message: `backend: CPU (float64): no usable WebGPU adapter (${e.reason}), ` +
        `so ${name("auto")} falls back to the CPU`,
    };
  }
  if (gpu.isFallback && choice === "auto" && !allowSoftware) {
    gpu.device.destroy();
    return {
      backend: "cpu",
      gpu: null,
      message: `backend: CPU (float64): the WebGPU adapter found is a software one ` +
        `(${gpu.description}), no faster than the CPU backend, so ${name("auto")} falls back ` +
        `to the CPU (${name("webgpu")} uses it anyway)`,
    };
  }
  const soft = gpu.isFallback ? ", a software adapter: correct but slow" : "";
  return {
    backend: "webgpu",
    gpu,
    message: `backend: WebGPU (float32) on ${gpu.description}${soft}`,
  };
}
