/**
 * Records the GPU work of one solve, gradient or training step into a single
 * command buffer: kernel dispatches (all in one compute pass where possible),
 * buffer copies and clears, with counts of each, and, when profiling, one
 * timestamped pass per dispatch so that every kernel's time is measured.
 *
 * Nothing here reads back to the CPU; {@link Recorder.timings} does, after
 * the work was submitted, and only when profiling.
 *
 * @module
 */

import type { GpuContext, Kernel, Slice } from "./context.ts";

/**
 * What a recorder needs of a gate (gate.ts's `Gate`): its table of indirect
 * dispatch arguments and where a grid's arguments sit in it. Declared here,
 * so that the recorder does not import the gate that records into it.
 */
export interface DispatchGate {
  /** The gate's name, for messages. */
  readonly label: string;
  /** The table of indirect dispatch arguments. */
  readonly table: Slice;
  /** Byte offset of `groups`' arguments in the table (registered on first use). */
  offsetOf(groups: readonly [number, number, number]): number;
}

/**
 * Counts of recorded commands.
 *
 * @example
 * ```ts
 * import { type CommandCounts, Recorder } from "./recorder.ts";
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const a = ctx.upload("a", Float64Array.of(1, 2)), b = ctx.buffer("b", 2);
 *   const rec = new Recorder(ctx);
 *   rec.copy(a, b);
 *   rec.clear(a);
 *   rec.clear(b);
 *   rec.submit();
 *   const counts: CommandCounts = rec.counts;
 *   assert.deepEqual(counts, { dispatches: 0, copies: 1, clears: 2, submits: 1 });
 *   ctx.destroy();
 * }
 * ```
 */
export interface CommandCounts {
  /** Kernel dispatches. */
  dispatches: number;
  /** Buffer-to-buffer copies. */
  copies: number;
  /** Buffer clears. */
  clears: number;
  /** Command-buffer submissions. */
  submits: number;
}

/**
 * Time spent in one kernel, summed over its dispatches.
 *
 * @example
 * ```ts
 * import { type KernelTiming, Recorder } from "./recorder.ts";
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null && adapter.features.has("timestamp-query")) {
 *   const device = await adapter.requestDevice({ requiredFeatures: ["timestamp-query"] });
 *   const ctx = new GpuContext(device);
 *   const x = ctx.buffer("x", 4);
 *   const k = ctx.kernel({
 *     name: "inc",
 *     bindings: [{ name: "x", access: "read_write" }],
 *     code: "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) i: u32) { x[i] += 1.0; }",
 *   });
 *   const rec = new Recorder(ctx, { profile: true });
 *   rec.dispatch(k, ctx.bind(k, [x]), null, [1, 1, 1]);
 *   rec.dispatch(k, ctx.bind(k, [x]), null, [1, 1, 1]);
 *   rec.submit();
 *   // per kernel: its dispatches and their summed time
 *   const timings: KernelTiming[] = await rec.timings();
 *   assert.deepEqual(timings.map((t) => [t.name, t.count]), [["inc", 2]]);
 *   assert.ok(timings[0].ns >= 0);
 *   ctx.destroy();
 *   device.destroy();
 * }
 * ```
 */
export interface KernelTiming {
  /** Kernel name. */
  name: string;
  /** Dispatches timed. */
  count: number;
  /** Total nanoseconds between the start and the end of its passes. */
  ns: number;
}

/**
 * A call record bound for a dispatch: the call table's bind group and the record's byte offset.
 *
 * @example
 * ```ts
 * import type { CallRef } from "./recorder.ts";
 * import assert from "node:assert/strict";
 *
 * const at = (group: GPUBindGroup, stride: number, k: number): CallRef => ({ group, offset: k * stride });
 * assert.equal(at({} as GPUBindGroup, 256, 3).offset, 768);
 * ```
 */
export interface CallRef {
  /** The call table's bind group (group 1). */
  readonly group: GPUBindGroup;
  /** Byte offset of the record (dynamic offset). */
  readonly offset: number;
}

/**
 * A dispatch prepared once (kernel, bind group, grid), recorded many times.
 *
 * @example
 * ```ts
 * import type { Op } from "./recorder.ts";
 * import assert from "node:assert/strict";
 *
 * const workgroups = (ops: Op[]) => ops.reduce((n, op) => n + op.groups[0] * op.groups[1] * op.groups[2], 0);
 * assert.equal(workgroups([]), 0);
 * ```
 */
export interface Op {
  /** The kernel. */
  readonly kernel: Kernel;
  /** Its group-0 bind group. */
  readonly group: GPUBindGroup;
  /** Workgroups `[x, y, z]`. */
  readonly groups: readonly [number, number, number];
}

/**
 * Dispatches recorded before the recorder submits on its own.
 *
 * @example
 * ```ts
 * import { MAX_DISPATCHES_PER_SUBMIT } from "./recorder.ts";
 * import assert from "node:assert/strict";
 * assert.ok(MAX_DISPATCHES_PER_SUBMIT >= 10000);
 * ```
 */
export const MAX_DISPATCHES_PER_SUBMIT = 32768;

/** Dispatches one timestamp query set can time (two queries each). */
const QUERIES_PER_SET = 4096;

/**
 * Records commands; {@link Recorder.submit} sends them to the queue.
 *
 * @example Two dispatches, counted
 * ```ts
 * import { GpuContext } from "./context.ts";
 * import { Recorder } from "./recorder.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const x = ctx.buffer("x", 4);
 *   const k = ctx.kernel({
 *     name: "inc",
 *     bindings: [{ name: "x", access: "read_write" }],
 *     code: "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) i: u32) { x[i] += 1.0; }",
 *   });
 *   const group = ctx.bind(k, [x]);
 *   const rec = new Recorder(ctx);
 *   rec.dispatch(k, group, null, [1, 1, 1]);
 *   rec.dispatch(k, group, null, [1, 1, 1]);
 *   rec.submit();
 *   assert.equal(rec.counts.dispatches, 2);
 *   assert.deepEqual([...(await ctx.read(x))], [2, 2, 2, 2]);
 *   ctx.destroy();
 * }
 * ```
 */
export class Recorder {
  /** What was recorded since construction (or {@link Recorder.resetCounts}). */
  counts: CommandCounts = { dispatches: 0, copies: 0, clears: 0, submits: 0 };
  /** Whether every dispatch is timed. */
  readonly profile: boolean;
  /**
   * A dry recorder records nothing: it only registers the grids of gated
   * dispatches with their gates (see gate.ts), so that they are known
   * before any real recording is submitted.
   */
  readonly dry: boolean;
  readonly #ctx: GpuContext;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #pipeline: GPUComputePipeline | null = null;
  #labels: string[] = [];
  #querySets: GPUQuerySet[] = [];
  #resolve: Slice | null = null;
  #pending: Promise<KernelTiming[]> | null = null;
  #sinceSubmit = 0;
  #gate: DispatchGate | null = null;
  #call: CallRef | null = null;

  /**
   * Starts recording.
   *
   * @param ctx The context.
   * @param options `profile`: time every dispatch with timestamp queries
   *   (needs the `timestamp-query` feature; slower, for measurements only).
   */
  constructor(ctx: GpuContext, options: { profile?: boolean; dry?: boolean } = {}) {
    this.#ctx = ctx;
    this.profile = options.profile ?? false;
    this.dry = options.dry ?? false;
    if (this.profile && !ctx.timestamps) {
      throw new RangeError(
        "Invalid profile: true needs the timestamp-query feature, which this device lacks.",
      );
    }
  }

  /**
   * Records one dispatch.
   *
   * @param kernel The kernel.
   * @param group Its group-0 bind group.
   * @param call The call table's bind group and the record's byte offset, or null.
   * @param groups Workgroups `[x, y, z]`.
   */
  dispatch(
    kernel: Kernel,
    group: GPUBindGroup,
    call: CallRef | null,
    groups: readonly [number, number, number],
  ): void {
    if (this.dry) {
      this.#gate?.offsetOf(groups);
      return;
    }
    const pass = this.#computePass(kernel.name);
    if (this.#pipeline !== kernel.pipeline) {
      pass.setPipeline(kernel.pipeline);
      this.#pipeline = kernel.pipeline;
    }
    pass.setBindGroup(0, group);
    if (kernel.call) {
      if (call === null) throw new Error(`Kernel ${kernel.name} needs a call record.`);
      // the call record stays bound within a pass (every kernel shares its layout)
      const bound = this.#call;
      if (bound === null || bound.group !== call.group || bound.offset !== call.offset) {
        pass.setBindGroup(1, call.group, [call.offset]);
        this.#call = call;
      }
    }
    if (this.#gate === null) pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    else {
      const table = this.#gate.table;
      pass.dispatchWorkgroupsIndirect(table.buffer, table.offset + this.#gate.offsetOf(groups));
    }
    this.counts.dispatches++;
    if (this.profile) this.#endPass();
    // Very long solves are cut into several command buffers: Deno 2.9.6 on
    // Mesa's llvmpipe crashed past ~150 000 dispatches in one.
    if (++this.#sinceSubmit >= MAX_DISPATCHES_PER_SUBMIT) this.submit();
  }

  /**
   * Records prepared dispatches, in order, all with the same call record.
   *
   * @param ops The dispatches.
   * @param call The call record for the kernels that read one, or null.
   */
  run(ops: readonly Op[], call: CallRef | null): void {
    for (const op of ops) this.dispatch(op.kernel, op.group, call, op.groups);
  }

  /**
   * Records a copy of `src` into `dst` (same length).
   *
   * @param src Source slice.
   * @param dst Destination slice.
   */
  copy(src: Slice, dst: Slice): void {
    if (src.length !== dst.length) {
      throw new RangeError(`Invalid copy: ${src.length} values into ${dst.length}.`);
    }
    this.#ungated("copy");
    if (this.dry) return;
    this.#endPass();
    this.#commands().copyBufferToBuffer(
      src.buffer,
      src.offset,
      dst.buffer,
      dst.offset,
      src.length * 4,
    );
    this.counts.copies++;
  }

  /**
   * Records zeroing a slice.
   *
   * @param slice The slice.
   */
  clear(slice: Slice): void {
    this.#ungated("clear");
    if (this.dry) return;
    this.#endPass();
    this.#commands().clearBuffer(slice.buffer, slice.offset, slice.length * 4);
    this.counts.clears++;
  }

  /**
   * Records `body`'s dispatches gated by `gate`: each reads its workgroup
   * count from the gate's table, so that a kernel running earlier decides
   * whether they do any work (see gate.ts). Copies and clears cannot be
   * gated and are refused inside.
   *
   * @param gate The gate.
   * @param body Records the dispatches.
   */
  gated(gate: DispatchGate, body: () => void): void {
    if (this.#gate !== null) throw new Error("Gates do not nest.");
    this.#gate = gate;
    try {
      body();
    } finally {
      this.#gate = null;
    }
  }

  /**
   * Copies bytes between two buffers (for targets that are no slice, such
   * as a uniform call table).
   *
   * @param src Source buffer.
   * @param srcOffset Byte offset in it.
   * @param dst Destination buffer.
   * @param dstOffset Byte offset in it.
   * @param bytes Bytes to copy.
   */
  copyBytes(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number) {
    this.#ungated("copy");
    if (this.dry) return;
    this.#endPass();
    this.#commands().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.counts.copies++;
  }

  #ungated(what: string): void {
    if (this.#gate !== null) {
      throw new Error(`A ${what} cannot be gated (gate "${this.#gate.label}").`);
    }
  }

  /** Submits everything recorded so far (nothing is read back). */
  submit(): void {
    if (this.dry) return;
    this.#sinceSubmit = 0;
    this.#endPass();
    const encoder = this.#commands();
    const startRead = this.profile && this.#labels.length > 0
      ? this.#resolveTimings(encoder)
      : null;
    this.#ctx.device.queue.submit([encoder.finish()]);
    startRead?.();
    this.#encoder = null;
    this.counts.submits++;
  }

  /** Resets {@link Recorder.counts} to zero. */
  resetCounts(): void {
    this.counts = { dispatches: 0, copies: 0, clears: 0, submits: 0 };
  }

  /**
   * When profiling: the per-kernel times of the dispatches submitted since
   * the last call (one read-back), sorted by total time, largest first.
   *
   * @returns The timings (empty when not profiling).
   */
  async timings(): Promise<KernelTiming[]> {
    if (this.#pending === null) return [];
    const out = await this.#pending;
    this.#pending = null;
    return out;
  }

  #commands(): GPUCommandEncoder {
    if (this.#encoder === null) this.#encoder = this.#ctx.device.createCommandEncoder();
    return this.#encoder;
  }

  #computePass(label: string): GPUComputePassEncoder {
    if (this.#pass !== null) return this.#pass;
    const encoder = this.#commands();
    if (this.profile) {
      const k = this.#labels.length;
      const set = Math.floor((2 * k) / QUERIES_PER_SET);
      while (this.#querySets.length <= set) {
        this.#querySets.push(
          this.#ctx.device.createQuerySet({ type: "timestamp", count: QUERIES_PER_SET }),
        );
      }
      const index = (2 * k) % QUERIES_PER_SET;
      this.#labels.push(label);
      this.#pass = encoder.beginComputePass({
        timestampWrites: {
          querySet: this.#querySets[set],
          beginningOfPassWriteIndex: index,
          endOfPassWriteIndex: index + 1,
        },
      });
    } else {
      this.#pass = encoder.beginComputePass();
    }
    this.#pipeline = null;
    this.#call = null;
    return this.#pass;
  }

  #endPass(): void {
    if (this.#pass === null) return;
    this.#pass.end();
    this.#pass = null;
    this.#pipeline = null;
    this.#call = null;
  }

  /** Records the resolution of this submission's timestamps; returns what starts reading them. */
  #resolveTimings(encoder: GPUCommandEncoder): () => void {
    const labels = this.#labels;
    this.#labels = [];
    const queries = 2 * labels.length;
    const sets = Math.ceil(queries / QUERIES_PER_SET);
    const bytes = sets * QUERIES_PER_SET * 8;
    if (this.#resolve === null || this.#resolve.length * 4 < bytes) {
      this.#resolve = this.#ctx.buffer("timestamps", bytes / 4, GPUBufferUsage.QUERY_RESOLVE);
    }
    const resolve = this.#resolve;
    for (let s = 0; s < sets; s++) {
      const count = Math.min(QUERIES_PER_SET, queries - s * QUERIES_PER_SET);
      encoder.resolveQuerySet(
        this.#querySets[s],
        0,
        count,
        resolve.buffer,
        resolve.offset + s * QUERIES_PER_SET * 8,
      );
    }
    const ctx = this.#ctx;
    return () => {
      const previous = this.#pending;
      // Start the copy now, before a later submission reuses the resolve buffer.
      const read = ctx.read(resolve, queries * 2);
      this.#pending = this.#collect(labels, read, previous);
    };
  }

  async #collect(
    labels: string[],
    read: Promise<Float32Array>,
    previous: Promise<KernelTiming[]> | null,
  ): Promise<KernelTiming[]> {
    const earlier = previous ? await previous : [];
    const raw = await read;
    const stamps = new BigUint64Array(raw.buffer, raw.byteOffset, 2 * labels.length);
    const byName = new Map<string, KernelTiming>();
    for (const t of earlier) byName.set(t.name, { ...t });
    labels.forEach((name, k) => {
      const ns = Number(stamps[2 * k + 1] - stamps[2 * k]);
      const entry = byName.get(name) ?? { name, count: 0, ns: 0 };
      entry.count++;
      entry.ns += Math.max(0, ns);
      byName.set(name, entry);
    });
    return [...byName.values()].sort((a, b) => b.ns - a.ns);
  }
}
