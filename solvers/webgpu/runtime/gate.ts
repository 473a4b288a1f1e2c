/**
 * Gated dispatches: kernels whose workgroup counts a GPU kernel decides.
 * An adaptive solve records a fixed number of trial steps (at most the
 * controller's `maxSteps`), because the CPU must not wait for the GPU to learn how many
 * are needed; each trial's dispatches then read their grid from a gate's
 * indirect-argument table, which a one-invocation kernel fills with the
 * real grids while the solve runs and with zero workgroups once it is done.
 * A closed gate costs the GPU almost nothing and the CPU one command each.
 *
 * Layout of the gate's buffer (`u32`): the indirect arguments `[x, y, z]`
 * of every grid registered, then the same grids kept open (written by the
 * CPU when a grid is first registered). Every grid must be registered
 * before the first recording that opens the gate is submitted: record the
 * gated dispatches once with a dry Recorder, then {@link Gate.seal} it.
 *
 * @module
 */

import type { GpuContext, Slice } from "./context.ts";
import type { Op } from "./recorder.ts";
import { u32 } from "./wgsl.ts";

/**
 * Distinct grids a gate holds.
 *
 * @example
 * ```ts
 * import { GATE_CAPACITY } from "./gate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GATE_CAPACITY, 64);
 * ```
 */
export const GATE_CAPACITY = 64;

/**
 * A gate: an indirect-argument table for the grids of the dispatches it
 * gates, opened or closed by {@link Gate.setOps}.
 *
 * @example
 * ```ts
 * import { Gate, GATE_CAPACITY } from "./gate.ts";
 * import { GpuContext } from "./context.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const gate = new Gate(ctx, "trial");
 *   assert.equal(gate.offsetOf([4, 1, 1]), 0);
 *   assert.equal(gate.offsetOf([2, 3, 1]), 12);
 *   assert.equal(gate.offsetOf([4, 1, 1]), 0); // registered once
 *   assert.equal(gate.grids, 2);
 *   assert.ok(GATE_CAPACITY >= 2);
 *   ctx.destroy();
 * }
 * ```
 */
export class Gate {
  /** The label. */
  readonly label: string;
  /** The table: open-or-closed arguments, then the open grids. */
  readonly table: Slice;
  readonly #ctx: GpuContext;
  readonly #index = new Map<string, number>();
  #sealed = false;

  /**
   * Allocates the table (closed: every grid has zero workgroups).
   *
   * @param ctx The context.
   * @param label Debug label.
   */
  constructor(ctx: GpuContext, label: string) {
    this.#ctx = ctx;
    this.label = label;
    this.table = ctx.buffer(`gate.${label}`, 6 * GATE_CAPACITY, GPUBufferUsage.INDIRECT);
  }

  /** Grids registered so far. */
  get grids(): number {
    return this.#index.size;
  }

  /**
   * Byte offset of the indirect arguments of `groups` in {@link Gate.table}'s
   * buffer, registering the grid (and writing its open form) on first use.
   *
   * @param groups Workgroups `[x, y, z]` of the dispatch when open.
   * @returns The offset, relative to the table's start.
   * @throws {RangeError} Past {@link GATE_CAPACITY} distinct grids.
   */
  offsetOf(groups: readonly [number, number, number]): number {
    const key = groups.join(",");
    let k = this.#index.get(key);
    if (k === undefined) {
      if (this.#sealed) {
        // A template written now could reach the GPU after the kernel that
        // opens the gate was submitted (queue writes are ordered before later
        // submissions only): the dispatch would silently do nothing.
        throw new Error(
          `Gate "${this.label}": grid [${key}] was not registered before recording; ` +
            "record every gated dispatch once with a dry Recorder, then seal the gate.",
        );
      }
      k = this.#index.size;
      if (k >= GATE_CAPACITY) {
        throw new RangeError(
          `Gate "${this.label}" holds at most ${GATE_CAPACITY} distinct grids.`,
        );
      }
      this.#index.set(key, k);
      const open = Uint32Array.from(groups);
      const t = this.table;
      this.#ctx.device.queue.writeBuffer(
        t.buffer,
        t.offset + 4 * (3 * GATE_CAPACITY + 3 * k),
        open,
      );
    }
    return 12 * k;
  }

  /**
   * Refuses grids not registered so far (see {@link Gate.offsetOf}): call
   * once every gated dispatch has been recorded with a dry Recorder.
   */
  seal(): void {
    this.#sealed = true;
  }

  /**
   * WGSL `fn <name>(open: bool)` that opens or closes the gate from inside a
   * one-invocation kernel binding {@link Gate.table} as `array<u32>` under
   * `binding` (saves the dispatch of {@link Gate.setOps}).
   *
   * @param name The function's name.
   * @param binding The name the kernel binds the table under.
   * @returns The function.
   */
  setterCode(name: string, binding: string): string {
    const n = 3 * GATE_CAPACITY;
    return `fn ${name}(open: bool) {
  for (var k = 0u; k < ${u32(n)}; k++) { ${binding}[k] = select(0u, ${binding}[${
      u32(n)
    } + k], open); }
}`;
  }

  /**
   * The one-invocation kernel that opens the gate when the WGSL condition
   * `open` holds and closes it otherwise, reading the storage arrays given.
   *
   * @param inputs Bindings the condition reads (`array<f32>`), and their slices.
   * @param open A WGSL `bool` expression.
   * @param name Kernel name suffix.
   * @returns The dispatch.
   */
  setOps(inputs: readonly { name: string; slice: Slice }[], open: string, name: string): Op[] {
    const ctx = this.#ctx;
    const n = 3 * GATE_CAPACITY;
    const kernel = ctx.kernel({
      name: `gate.${name}`,
      bindings: [
        ...inputs.map((i) => ({ name: i.name, access: "read" as const })),
        { name: "gate", access: "read_write", type: "array<u32>" },
      ],
      code: `@compute @workgroup_size(1)
fn main() {
  let open = ${open};
  for (var k = 0u; k < ${u32(n)}; k++) { gate[k] = select(0u, gate[${u32(n)} + k], open); }
}`,
    });
    return [{
      kernel,
      group: ctx.bind(kernel, [...inputs.map((i) => i.slice), this.table]),
      groups: [1, 1, 1],
    }];
  }
}
