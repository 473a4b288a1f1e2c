/**
 * The call table: what changes from one kernel call to the next inside a
 * solve (the time, the step, the stage times, the saved-output slot) laid
 * out once per run in a uniform buffer, one record per step and direction
 * and one per grid point. Each dispatch selects its record with a dynamic
 * offset, so a whole solve is recorded without writing anything between
 * steps. Times are computed in float64 on the CPU, as the CPU backend's
 * grid does, then rounded to f32.
 *
 * @module
 */

import { CALL_BYTES, type GpuContext, MAX_STAGES } from "./context.ts";
import type { CallRef } from "./recorder.ts";
import type { CheckedTableau } from "../../tableau.ts";

/**
 * One call record.
 *
 * @example
 * ```ts
 * import { CallTable, type CallRecord } from "./calls.ts";
 * import { GpuContext } from "./context.ts";
 * import { Recorder } from "./recorder.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const t = 0.5, h = 0.25;
 *   const record: CallRecord = { t, h, stageTimes: [0, 0.5, 1].map((c) => t + c * h) };
 *   // A kernel reads the record as `call`: t, h, the slot (−1 by default), the stage times.
 *   const k = ctx.kernel({
 *     name: "read_call",
 *     call: true,
 *     bindings: [{ name: "out", access: "read_write" }],
 *     code: `@compute @workgroup_size(1) fn main() {
 *       out[0] = call.t; out[1] = call.h; out[2] = select(0.0, 1.0, call.slot == 0xffffffffu);
 *       out[3] = call.st[0][1];
 *     }`,
 *   });
 *   const out = ctx.buffer("out", 4);
 *   const table = new CallTable(ctx, [{ t: 0 }, record]);
 *   const rec = new Recorder(ctx);
 *   rec.dispatch(k, ctx.bind(k, [out]), table.ref(1), [1, 1, 1]);
 *   rec.submit();
 *   assert.deepEqual([...(await ctx.read(out))], [0.5, 0.25, 1, 0.625]);
 *   ctx.destroy();
 * }
 * ```
 */
export interface CallRecord {
  /** Start time of the call (an increment's `t`, or a grid point's time). */
  readonly t: number;
  /** Step of the call (negative for `Ψ_{−h}`); default 0. */
  readonly h?: number;
  /** Saved-output slot, or −1 for none; default −1. */
  readonly slot?: number;
  /** Stage times `t + c_i h`; default none. */
  readonly stageTimes?: readonly number[];
}

/**
 * Call records in a uniform buffer, bound with dynamic offsets.
 *
 * @example
 * ```ts
 * import { CallTable } from "./calls.ts";
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const table = new CallTable(ctx, [{ t: 0 }, { t: 0.5, h: 0.1 }]);
 *   assert.equal(table.ref(1).offset, ctx.uniformAlign);
 *   ctx.destroy();
 * }
 * ```
 */
export class CallTable {
  /** Number of records. */
  readonly count: number;
  /** Bytes between records. */
  readonly stride: number;
  /** Group-1 bind group of the table. */
  readonly group: GPUBindGroup;
  /** The uniform buffer holding the records (kernels may fill it by copies: see adaptive.ts). */
  readonly buffer: GPUBuffer;

  /**
   * Uploads the records.
   *
   * @param ctx The context.
   * @param records The records, in index order.
   */
  constructor(ctx: GpuContext, records: readonly CallRecord[]) {
    this.count = Math.max(1, records.length);
    this.stride = Math.ceil(CALL_BYTES / ctx.uniformAlign) * ctx.uniformAlign;
    const data = new ArrayBuffer(this.count * this.stride);
    records.forEach((r, k) => {
      const f = new Float32Array(data, k * this.stride, CALL_BYTES / 4);
      const u = new Uint32Array(data, k * this.stride, CALL_BYTES / 4);
      f[0] = r.t;
      f[1] = r.h ?? 0;
      u[2] = (r.slot ?? -1) < 0 ? 0xffffffff : r.slot!;
      const st = r.stageTimes ?? [];
      if (st.length > MAX_STAGES) {
        throw new RangeError(`Invalid call record: ${st.length} stages; at most ${MAX_STAGES}.`);
      }
      for (let i = 0; i < st.length; i++) f[4 + i] = st[i];
    });
    const buffer = ctx.uniform("calls", data.byteLength);
    this.buffer = buffer;
    ctx.device.queue.writeBuffer(buffer, 0, data);
    this.group = ctx.device.createBindGroup({
      label: "calls",
      layout: ctx.callLayout,
      entries: [{ binding: 0, resource: { buffer, offset: 0, size: CALL_BYTES } }],
    });
  }

  /**
   * The reference a dispatch binds to read record `index`.
   *
   * @param index Record index.
   * @returns Bind group and dynamic offset.
   */
  ref(index: number): CallRef {
    if (!(index >= 0 && index < this.count)) {
      throw new RangeError(`Invalid call record index: ${index}; the table has ${this.count}.`);
    }
    return { group: this.group, offset: index * this.stride };
  }
}

/**
 * Where the records of a fixed-step reversible solve live in its {@link CallTable}.
 *
 * @example
 * ```ts
 * import { solveCalls, type SolveCalls } from "./calls.ts";
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import { checkTableau } from "../../tableau.ts";
 * import { rk4 } from "../../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   // 2 steps, y(t0) not saved: grid points 1 and 2 in slots 0 and 1
 *   const calls: SolveCalls = solveCalls(ctx, [0, 0.5, 1], checkTableau(rk4), (n) => n - 1);
 *   const record = (ref: { offset: number }) => ref.offset / calls.table.stride;
 *   assert.equal(calls.steps, 2);
 *   assert.deepEqual([0, 1].map((n) => record(calls.forward(n))), [0, 2]);
 *   assert.deepEqual([0, 1].map((n) => record(calls.backward(n))), [1, 3]);
 *   assert.deepEqual([0, 1, 2].map((n) => record(calls.point(n))), [4, 5, 6]);
 *   assert.deepEqual([0, 1, 2].map(calls.slot), [-1, 0, 1]);
 *   assert.throws(() => calls.point(3), /Invalid call record index: 7/);
 *   ctx.destroy();
 * }
 * ```
 */
export interface SolveCalls {
  /** The table. */
  readonly table: CallTable;
  /** Steps `N`. */
  readonly steps: number;
  /** Record of `Ψ_h(t_n, ·)` for step `n` (stage times `t_n + c_i h_n`). */
  forward(n: number): CallRef;
  /** Record of `Ψ_{−h}(t_{n+1}, ·)` for step `n` (stage times `t_{n+1} − c_i h_n`). */
  backward(n: number): CallRef;
  /** Record of grid point `n` (time `t_n`, its saved-output slot). */
  point(n: number): CallRef;
  /** Slot of grid point `n`'s saved output, or −1. */
  slot(n: number): number;
}

/**
 * The call records of a fixed-step solve on the grid `times` (as the CPU's
 * `uniformGrid` builds it): records `2n` and `2n + 1` are step `n`'s two
 * increments, records `2N + n` the grid points.
 *
 * @param ctx The context.
 * @param times Grid times `t_0 … t_N` (float64).
 * @param tableau The base method.
 * @param slotOf Saved-output slot of grid point `n`, or −1.
 * @returns The records and accessors.
 *
 * @example
 * ```ts
 * import { solveCalls } from "./calls.ts";
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import { checkTableau } from "../../tableau.ts";
 * import { rk4 } from "../../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const calls = solveCalls(ctx, [0, 0.5, 1], checkTableau(rk4), (n) => n);
 *   assert.equal(calls.slot(2), 2);
 *   assert.equal(calls.point(0).offset, 4 * calls.table.stride);
 *   ctx.destroy();
 * }
 * ```
 */
export function solveCalls(
  ctx: GpuContext,
  times: ArrayLike<number>,
  tableau: CheckedTableau,
  slotOf: (n: number) => number,
): SolveCalls {
  const steps = times.length - 1;
  const records: CallRecord[] = [];
  for (let n = 0; n < steps; n++) {
    const t = times[n], tNext = times[n + 1], h = tNext - t;
    records.push({ t, h, stageTimes: tableau.c.map((c) => t + c * h) });
    records.push({ t: tNext, h: -h, stageTimes: tableau.c.map((c) => tNext + c * -h) });
  }
  for (let n = 0; n <= steps; n++) records.push({ t: times[n], slot: slotOf(n) });
  const table = new CallTable(ctx, records);
  return {
    table,
    steps,
    forward: (n) => table.ref(2 * n),
    backward: (n) => table.ref(2 * n + 1),
    point: (n) => table.ref(2 * steps + n),
    slot: slotOf,
  };
}
