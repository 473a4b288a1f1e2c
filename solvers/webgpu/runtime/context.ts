/**
 * What every GPU module shares: the device, the buffers it allocated (with a
 * byte count, as the CPU's `MemoryMeter` keeps), a cache of compiled
 * kernels, uploads of float64 data as float32, and counted read-backs.
 *
 * Buffers are `f32` slices of GPU buffers; several slices may share one
 * buffer (an arena), each starting at an offset aligned for binding.
 *
 * @module
 */

import type { GpuDevice } from "./device.ts";

/**
 * A range of `f32` values inside a GPU buffer.
 *
 * @example
 * ```ts
 * import type { Slice } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = (s: Slice) => s.length * 4;
 * assert.equal(bytes({ buffer: {} as GPUBuffer, offset: 256, length: 10 }), 40);
 * ```
 */
export interface Slice {
  /** The buffer. */
  readonly buffer: GPUBuffer;
  /** Byte offset of the first value (aligned for storage bindings). */
  readonly offset: number;
  /** Number of `f32` values. */
  readonly length: number;
}

/**
 * How a kernel binds one of its group-0 resources.
 *
 * @example
 * ```ts
 * import type { BindingSpec } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * const spec: BindingSpec = { name: "x", access: "read" };
 * assert.equal(spec.type ?? "array<f32>", "array<f32>");
 * ```
 */
export interface BindingSpec {
  /** The WGSL variable name. */
  readonly name: string;
  /**
   * `read` / `read_write` storage (both bound writable: see
   * {@link GpuContext.kernel}), or a uniform.
   */
  readonly access: "read" | "read_write" | "uniform";
  /** WGSL type (default `array<f32>`). */
  readonly type?: string;
}

/**
 * A compute kernel before compilation.
 *
 * @example
 * ```ts
 * import type { KernelSpec } from "./context.ts";
 * import { GpuContext } from "./context.ts";
 * import { Recorder } from "./recorder.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   // y = 2 x over 4 values: the bindings are declared for the code, in order
 *   const spec: KernelSpec = {
 *     name: "double",
 *     bindings: [{ name: "x", access: "read" }, { name: "y", access: "read_write" }],
 *     code: "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) i: u32) { y[i] = 2.0 * x[i]; }",
 *   };
 *   const k = ctx.kernel(spec);
 *   const x = ctx.upload("x", Float64Array.of(1, 2, 3, 4)), y = ctx.buffer("y", 4);
 *   const rec = new Recorder(ctx);
 *   rec.dispatch(k, ctx.bind(k, [x, y]), null, [1, 1, 1]);
 *   rec.submit();
 *   assert.deepEqual([...(await ctx.read(y))], [2, 4, 6, 8]);
 *   ctx.destroy();
 * }
 * ```
 */
export interface KernelSpec {
  /** Name used in counts and timings, e.g. `"mlp.forward.l1"`. */
  readonly name: string;
  /** Group-0 bindings, declared in this order (bindings 0, 1, …). */
  readonly bindings: readonly BindingSpec[];
  /** Whether the kernel reads the per-call record `call` (group 1, dynamic offset). */
  readonly call?: boolean;
  /** WGSL declarations (structs, constants, helpers) placed before the bindings. */
  readonly header?: string;
  /** The WGSL entry point `main` and anything after the bindings. */
  readonly code: string;
}

/**
 * A compiled kernel.
 *
 * @example
 * ```ts
 * import { GpuContext, type Kernel } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const code = "@compute @workgroup_size(1) fn main() { x[0] = 0.0; }";
 *   const spec = { name: "zero", bindings: [{ name: "x", access: "read_write" as const }], code };
 *   const k: Kernel = ctx.kernel(spec);
 *   assert.deepEqual([k.name, k.call, k.bindings.map((b) => b.name)], ["zero", false, ["x"]]);
 *   assert.equal(ctx.kernel(spec), k); // compiled once, then cached
 *   ctx.destroy();
 * }
 * ```
 */
export interface Kernel {
  /** Its name. */
  readonly name: string;
  /** The pipeline. */
  readonly pipeline: GPUComputePipeline;
  /** Layout of group 0. */
  readonly layout: GPUBindGroupLayout;
  /** Whether group 1 (the call record) must be bound. */
  readonly call: boolean;
  /** The group-0 bindings. */
  readonly bindings: readonly BindingSpec[];
}

/**
 * Stage times a call record holds (tableaux of up to this many stages).
 *
 * @example
 * ```ts
 * import { MAX_STAGES } from "./context.ts";
 * import { dopri5 } from "../../tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.ok(dopri5.b.length <= MAX_STAGES);
 * ```
 */
export const MAX_STAGES = 16;

/**
 * The per-call record every solver kernel may read (group 1, binding 0):
 * start time `t`, step `h`, a saved-output slot and the stage times
 * `st[i / 4][i % 4] = t + c_i h` computed in float64 on the CPU.
 *
 * @example
 * ```ts
 * import { CALL_STRUCT } from "./context.ts";
 * import assert from "node:assert/strict";
 * assert.match(CALL_STRUCT, /struct Call/);
 * ```
 */
export const CALL_STRUCT: string = `struct Call {
  t: f32,
  h: f32,
  slot: u32,
  flag: u32,
  st: array<vec4<f32>, ${MAX_STAGES / 4}>,
}`;

/**
 * Bytes of one {@link CALL_STRUCT}.
 *
 * @example
 * ```ts
 * import { CALL_BYTES, MAX_STAGES } from "./context.ts";
 * import assert from "node:assert/strict";
 * assert.equal(CALL_BYTES, 16 + 4 * MAX_STAGES);
 * ```
 */
export const CALL_BYTES = 16 + 4 * MAX_STAGES;

/**
 * Compiled kernels and the call layout, per device: every context on a
 * device shares them, so a kernel compiles once per device.
 */
const DEVICE_CACHES = new WeakMap<
  GPUDevice,
  { kernels: Map<string, Kernel>; callLayout: GPUBindGroupLayout }
>();

/**
 * The device, its buffers and kernels. Everything allocated through a
 * context is released by {@link GpuContext.destroy}; compiled kernels are
 * shared by every context on the same device.
 *
 * Internal to the backend: a caller that passes a context (`GpuLike`) to a
 * solve manages its buffers; the public API needs only a device.
 *
 * @internal
 * @example Upload, read back
 * ```ts
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const x = ctx.upload("x", Float64Array.of(1, 2.5, -3));
 *   assert.deepEqual([...(await ctx.read(x))], [1, 2.5, -3]);
 *   assert.equal(ctx.readbacks, 1);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuContext {
  /** The device. */
  readonly device: GPUDevice;
  /** Whether timestamp queries are enabled. */
  readonly timestamps: boolean;
  /** Whether the adapter is a software one (Mesa's llvmpipe): correct, slow, no use for tiling. */
  readonly isFallback: boolean;
  /** Alignment of storage-binding offsets, in bytes. */
  readonly storageAlign: number;
  /** Alignment of dynamic uniform offsets, in bytes. */
  readonly uniformAlign: number;
  /** Layout of group 1, the dynamic call record. */
  readonly callLayout: GPUBindGroupLayout;
  /** Bytes of every buffer allocated so far (staging buffers for reads not counted). */
  bytes = 0;
  /** Read-backs (buffer maps) so far. */
  readbacks = 0;
  /** Kernels this context compiled (misses of the device's kernel cache). */
  compiled = 0;
  #buffers: GPUBuffer[] = [];
  /** Idle staging buffers by size; one in use is taken out while mapped. */
  #staging = new Map<number, GPUBuffer[]>();
  #kernels: Map<string, Kernel>;
  #destroyOwnDevice: boolean;

  /**
   * Wraps a device.
   *
   * @param gpu A device, or a {@link GpuDevice} from `requestGpuDevice()`.
   * @param options `ownsDevice`: destroy the device with the context (default false).
   */
  constructor(gpu: GPUDevice | GpuDevice, options: { ownsDevice?: boolean } = {}) {
    const device = "device" in gpu ? gpu.device : gpu;
    this.device = device;
    this.timestamps = device.features.has("timestamp-query");
    // deno-lint-ignore no-explicit-any
    const info = (device as any).adapterInfo as { isFallbackAdapter?: boolean } | undefined;
    this.isFallback = "device" in gpu ? gpu.isFallback : info?.isFallbackAdapter ?? false;
    this.storageAlign = device.limits.minStorageBufferOffsetAlignment;
    this.uniformAlign = device.limits.minUniformBufferOffsetAlignment;
    this.#destroyOwnDevice = options.ownsDevice ?? false;
    let shared = DEVICE_CACHES.get(device);
    if (shared === undefined) {
      shared = {
        kernels: new Map(),
        callLayout: device.createBindGroupLayout({
          label: "call",
          entries: [{
            binding: 0,
            visibility: GPUShaderStage.COMPUTE,
            buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: CALL_BYTES },
          }],
        }),
      };
      DEVICE_CACHES.set(device, shared);
    }
    this.#kernels = shared.kernels;
    this.callLayout = shared.callLayout;
  }

  /**
   * Allocates one zeroed buffer holding several slices, each aligned for
   * binding (a length-0 slice still gets one value).
   *
   * @param label Debug label.
   * @param lengths `f32` lengths of the slices.
   * @param usage Extra usage flags (storage, copy source and destination are always set).
   * @param bindable Whether its slices will be bound to kernels (each is then
   *   limited by `maxStorageBufferBindingSize`; the buffer always by `maxBufferSize`).
   * @returns The slices, in order.
   * @throws {RangeError} When the buffer exceeds the device's limits.
   */
  arena(label: string, lengths: readonly number[], usage = 0, bindable = true): Slice[] {
    const offsets: number[] = [];
    let bytes = 0;
    for (const n of lengths) {
      offsets.push(bytes);
      bytes += this.#alignUp(Math.max(1, n) * 4, this.storageAlign);
    }
    // WebGPU reports an oversized buffer or binding only asynchronously;
    // refuse them here: the buffer against maxBufferSize, and each slice
    // that kernels bind against maxStorageBufferBindingSize.
    const { maxBufferSize, maxStorageBufferBindingSize } = this.device.limits;
    const advice = "use a smaller batch or network";
    if (bytes > maxBufferSize) {
      throw new RangeError(
        `GPU buffer "${label}" would need ${bytes} bytes, over this device's limit of ` +
          `${maxBufferSize} bytes per buffer: ${advice}.`,
      );
    }
    const widest = Math.max(0, ...lengths) * 4;
    if (bindable && widest > maxStorageBufferBindingSize) {
      throw new RangeError(
        `GPU buffer "${label}" would bind ${widest} bytes, over this device's limit of ` +
          `${maxStorageBufferBindingSize} bytes per buffer binding: ${advice}.`,
      );
    }
    const buffer = this.#create(label, Math.max(bytes, 4), usage);
    return lengths.map((n, k) => ({ buffer, offset: offsets[k], length: Math.max(1, n) }));
  }

  /**
   * Allocates one zeroed `f32` buffer.
   *
   * @param label Debug label.
   * @param length Number of values (at least 1 is allocated).
   * @param usage Extra usage flags.
   * @returns The slice covering it.
   */
  buffer(label: string, length: number, usage = 0): Slice {
    return this.arena(label, [length], usage)[0];
  }

  /**
   * Allocates a buffer holding `values` converted to `f32`.
   *
   * @param label Debug label.
   * @param values The values.
   * @returns The slice.
   */
  upload(label: string, values: Float64Array | Float32Array): Slice {
    const slice = this.buffer(label, values.length);
    this.write(slice, values);
    return slice;
  }

  /**
   * Writes `values` (converted to `f32`) at the start of `slice`, through
   * the queue (ordered before later submissions).
   *
   * @param slice Destination.
   * @param values At most `slice.length` values.
   * @param at First value written, in values (default 0).
   */
  write(slice: Slice, values: Float64Array | Float32Array, at = 0): void {
    if (at + values.length > slice.length) {
      throw new RangeError(
        `Invalid write: ${values.length} values at ${at} into a slice of ${slice.length}.`,
      );
    }
    const data = Float32Array.from(values);
    this.device.queue.writeBuffer(slice.buffer, slice.offset + 4 * at, data);
  }

  /**
   * Reads a slice back to the CPU (one read-back): copies it to a staging
   * buffer, submits, maps.
   *
   * @param slice The values to read.
   * @param length How many values (default all).
   * @returns A copy of them.
   */
  async read(slice: Slice, length = slice.length): Promise<Float32Array> {
    const [out] = await this.readMany([{ slice, length }]);
    return out;
  }

  /**
   * Reads several slices in one read-back.
   *
   * @param parts The slices and how many values of each.
   * @returns Copies, in order.
   */
  async readMany(parts: readonly { slice: Slice; length?: number }[]): Promise<Float32Array[]> {
    const lengths = parts.map((p) => p.length ?? p.slice.length);
    const offsets: number[] = [];
    let bytes = 0;
    for (const n of lengths) {
      offsets.push(bytes);
      bytes += this.#alignUp(n * 4, 8);
    }
    const size = this.#alignUp(Math.max(bytes, 8), 256);
    const idle = this.#staging.get(size) ?? [];
    this.#staging.set(size, idle);
    const staging = idle.pop() ?? this.device.createBuffer({
      label: "staging",
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: "read" });
    parts.forEach((p, k) => {
      if (lengths[k] > 0) {
        encoder.copyBufferToBuffer(
          p.slice.buffer,
          p.slice.offset,
          staging,
          offsets[k],
          lengths[k] * 4,
        );
      }
    });
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, size);
    const range = staging.getMappedRange(0, size);
    const out = lengths.map((n, k) =>
      new Float32Array(range.slice(offsets[k], offsets[k] + n * 4))
    );
    staging.unmap();
    idle.push(staging);
    this.readbacks++;
    return out;
  }

  /**
   * Compiles a kernel, or returns the cached one with the same code and bindings.
   *
   * @param spec Name, bindings and WGSL.
   * @returns The kernel.
   */
  kernel(spec: KernelSpec): Kernel {
    // Checked first: a device may allow billions (NVIDIA's Vulkan driver reports 2³² − 1).
    const storage = spec.bindings.filter((b) => b.access !== "uniform").length;
    const most = this.device.limits.maxStorageBuffersPerShaderStage;
    if (storage > most) {
      throw new RangeError(
        `Kernel ${spec.name} binds ${storage} storage buffers; this device allows ${most} ` +
          "(request the adapter's maxStorageBuffersPerShaderStage, as requestGpuDevice does).",
      );
    }
    // Every storage binding is read_write, whatever the spec says: WebGPU
    // forbids one buffer bound both read-only and writable in a dispatch, and
    // the kernels read and write different slices of one arena buffer.
    const decls = spec.bindings.map((b, k) => {
      const type = b.type ?? "array<f32>";
      const space = b.access === "uniform" ? "uniform" : "storage, read_write";
      return `@group(0) @binding(${k}) var<${space}> ${b.name}: ${type};`;
    });
    const parts = [spec.header ?? ""];
    if (spec.call) parts.push(CALL_STRUCT, "@group(1) @binding(0) var<uniform> call: Call;");
    parts.push(...decls, spec.code);
    const code = parts.join("\n");
    const key = `${spec.name}\n${code}`;
    const cached = this.#kernels.get(key);
    if (cached) return cached;
    const module = this.device.createShaderModule({ label: spec.name, code });
    const layout = this.device.createBindGroupLayout({
      label: spec.name,
      entries: spec.bindings.map((b, k) => ({
        binding: k,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.access === "uniform" ? "uniform" : "storage" },
      })),
    });
    const layouts = spec.call ? [layout, this.callLayout] : [layout];
    const pipeline = this.device.createComputePipeline({
      label: spec.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: layouts }),
      compute: { module, entryPoint: "main" },
    });
    const kernel = {
      name: spec.name,
      pipeline,
      layout,
      call: spec.call ?? false,
      bindings: spec.bindings,
    };
    this.#kernels.set(key, kernel);
    this.compiled++;
    return kernel;
  }

  /**
   * The group-0 bind group of a kernel over the given slices.
   *
   * @param kernel The kernel.
   * @param slices One slice per binding, in order.
   * @returns The bind group.
   */
  bind(kernel: Kernel, slices: readonly Slice[]): GPUBindGroup {
    if (slices.length !== kernel.bindings.length) {
      throw new RangeError(
        `Kernel ${kernel.name} takes ${kernel.bindings.length} bindings; got ${slices.length}.`,
      );
    }
    const most = this.device.limits.maxStorageBufferBindingSize;
    slices.forEach((slice, k) => {
      if (slice.length * 4 > most) {
        throw new RangeError(
          `Kernel ${kernel.name} would bind ${slice.length * 4} bytes as ` +
            `${kernel.bindings[k].name}, over this device's limit of ${most} bytes per buffer ` +
            "binding: use a smaller batch or network.",
        );
      }
    });
    return this.device.createBindGroup({
      label: kernel.name,
      layout: kernel.layout,
      entries: slices.map((s, k) => ({
        binding: k,
        resource: { buffer: s.buffer, offset: s.offset, size: s.length * 4 },
      })),
    });
  }

  /**
   * Allocates a uniform buffer for `bytes` bytes (counted).
   *
   * @param label Debug label.
   * @param bytes Size.
   * @returns The buffer.
   */
  uniform(label: string, bytes: number): GPUBuffer {
    return this.#create(label, this.#alignUp(bytes, 16), GPUBufferUsage.UNIFORM, false);
  }

  /** Destroys every buffer allocated (and the device, when the context owns it). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    for (const list of this.#staging.values()) for (const b of list) b.destroy();
    this.#buffers = [];
    this.#staging.clear();
    if (this.#destroyOwnDevice) this.device.destroy();
  }

  #create(label: string, bytes: number, usage: number, storage = true): GPUBuffer {
    const size = this.#alignUp(bytes, 16);
    const base = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: base | usage | (storage ? GPUBufferUsage.STORAGE : 0),
    });
    this.#buffers.push(buffer);
    this.bytes += size;
    return buffer;
  }

  #alignUp(n: number, a: number): number {
    return Math.ceil(n / a) * a;
  }
}

/**
 * Runs `create`, which allocates GPU buffers, inside an out-of-memory error
 * scope: WebGPU reports a failed allocation only asynchronously, and a run
 * on buffers that do not exist would compute garbage. Throws a clear error
 * instead, after releasing what `create` made.
 *
 * @param gpu The device the buffers are allocated on (or anything holding it as `device`).
 * @param what What is allocated, for the message (e.g. "the training buffers").
 * @param create Allocates and returns something with `destroy()`.
 * @returns What `create` returned.
 * @throws {RangeError} When an allocation ran out of GPU memory.
 *
 * @example
 * ```ts
 * import { allocating } from "./context.ts";
 * import assert from "node:assert/strict";
 *
 * // a device whose error scope reports an out-of-memory error
 * const device = {
 *   pushErrorScope() {},
 *   popErrorScope: () => Promise.resolve({ message: "no room" }),
 * } as unknown as GPUDevice;
 * let released = false;
 * await assert.rejects(
 *   allocating(device, "the tape", () => ({ destroy: () => { released = true; } })),
 *   /GPU ran out of memory allocating the tape \(no room\)/,
 * );
 * assert.ok(released);
 * ```
 */
export async function allocating<T extends { destroy(): void }>(
  gpu: GPUDevice | { readonly device: GPUDevice },
  what: string,
  create: () => T,
): Promise<T> {
  const device = "device" in gpu ? gpu.device : gpu;
  device.pushErrorScope("out-of-memory");
  let made: T;
  try {
    made = create();
  } catch (e) {
    await device.popErrorScope();
    throw e;
  }
  const error = await device.popErrorScope();
  if (error !== null) {
    made.destroy();
    throw new RangeError(
      `The GPU ran out of memory allocating ${what} (${error.message}): use a smaller batch ` +
        "or network, or a gradient method that holds less (reversible).",
    );
  }
  return made;
}
