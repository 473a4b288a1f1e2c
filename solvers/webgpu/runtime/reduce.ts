/**
 * Deterministic reductions to one number (sums for the loss and the
 * gradient norm, maxima for the reconstruction error), in two passes: each
 * workgroup of 256 invocations reduces a fixed block of elements (each
 * invocation a fixed strided subset, then a tree in workgroup memory) into
 * a partial; one workgroup then reduces the partials the same way. The
 * order of every operation depends only on the number of elements, so two
 * runs give bit-identical results (no atomics).
 *
 * @module
 */

import type { BindingSpec, GpuContext, Slice } from "./context.ts";
import type { Op } from "./recorder.ts";
import { isFinite, u32 } from "./wgsl.ts";

const WG = 256;
// WGSL's max() of a NaN is implementation-defined (NVIDIA returns the other
// operand): a maximum must not lose a non-finite term, so it counts as 3e38.
const FINITE_OR_BIG = `fn finite_or_big(v: f32) -> f32 {
  return select(3.0e38, v, ${isFinite("v")});
}`;
const MAX_PARTIALS = 1024;

/**
 * What to reduce.
 *
 * @example
 * ```ts
 * import { reductionOps, type ReductionSpec } from "./reduce.ts";
 * import { GpuContext } from "./context.ts";
 * import { Recorder } from "./recorder.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   // max |x_e| over 3 values, halved, into out[1]
 *   const x = ctx.upload("x", Float64Array.of(1, -4, 2));
 *   const out = ctx.buffer("out", 2);
 *   const spec: ReductionSpec = {
 *     name: "maxabs",
 *     n: 3,
 *     inputs: [{ binding: { name: "x", access: "read" }, slice: x }],
 *     term: "fn term(e: u32) -> f32 { return abs(x[e]); }",
 *     combine: "max",
 *     out,
 *     index: 1,
 *     scale: "0.5",
 *   };
 *   const rec = new Recorder(ctx);
 *   rec.run(reductionOps(ctx, spec), null);
 *   rec.submit();
 *   assert.deepEqual([...(await ctx.read(out))], [0, 2]);
 *   ctx.destroy();
 * }
 * ```
 */
export interface ReductionSpec {
  /** Kernel name prefix. */
  readonly name: string;
  /** Number of terms. */
  readonly n: number;
  /** Bindings the term reads (group 0, in order), and their slices. */
  readonly inputs: readonly { readonly binding: BindingSpec; readonly slice: Slice }[];
  /** WGSL `fn term(e: u32) -> f32` (plus any helpers it needs). */
  readonly term: string;
  /** `sum`, or `max` (of terms that are ≥ 0; a non-finite term counts as 3e38). */
  readonly combine: "sum" | "max";
  /** Where the result goes: `out[index] = scale · result`. */
  readonly out: Slice;
  /** Index in `out`. */
  readonly index: number;
  /** WGSL `f32` expression multiplied into the result (default `1.0`); may read the inputs. */
  readonly scale?: string;
}

/**
 * The two dispatches of a deterministic reduction (allocates its partials).
 *
 * @param ctx The context.
 * @param spec What to reduce, and where the result goes.
 * @returns The dispatches.
 *
 * @example Σ x² over 1000 values
 * ```ts
 * import { reductionOps } from "./reduce.ts";
 * import { GpuContext } from "./context.ts";
 * import { Recorder } from "./recorder.ts";
 * import { findGpuAdapter } from "./device.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const x = ctx.upload("x", new Float64Array(1000).fill(0.5));
 *   const out = ctx.buffer("out", 1);
 *   const rec = new Recorder(ctx);
 *   rec.run(reductionOps(ctx, {
 *     name: "sq",
 *     n: 1000,
 *     inputs: [{ binding: { name: "x", access: "read" }, slice: x }],
 *     term: "fn term(e: u32) -> f32 { return x[e] * x[e]; }",
 *     combine: "sum",
 *     out,
 *     index: 0,
 *   }), null);
 *   rec.submit();
 *   assert.equal((await ctx.read(out))[0], 250);
 *   ctx.destroy();
 * }
 * ```
 */
export function reductionOps(ctx: GpuContext, spec: ReductionSpec): Op[] {
  const n = Math.max(1, spec.n);
  const groups = Math.min(MAX_PARTIALS, Math.ceil(n / WG));
  const items = Math.ceil(n / (WG * groups));
  const partial = ctx.buffer(`${spec.name}.partials`, groups);
  const op = spec.combine === "sum"
    ? (a: string, b: string) => `${a} + ${b}`
    : (a: string, b: string) => `max(${a}, ${b})`;
  const inputs = spec.inputs.map((i) => i.binding);
  const slices = spec.inputs.map((i) => i.slice);
  const tree = `  scratch[lid] = s;
  workgroupBarrier();
  for (var w = ${WG / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) { scratch[lid] = ${op("scratch[lid]", "scratch[lid + w]")}; }
    workgroupBarrier();
  }`;
  const first = ctx.kernel({
    name: `${spec.name}.reduce1`,
    bindings: [...inputs, { name: "partial", access: "read_write" }],
    header: `var<workgroup> scratch: array<f32, ${WG}>;\n${spec.term}\n${FINITE_OR_BIG}`,
    code: `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var q = 0u; q < ${u32(items)}; q++) {
    let e = (wid.x * ${u32(items)} + q) * ${WG}u + lid;
    if (e < ${u32(n)}) { s = ${
      op("s", spec.combine === "max" ? "finite_or_big(term(e))" : "term(e)")
    }; }
  }
${tree}
  if (lid == 0u) { partial[wid.x] = scratch[0]; }
}`,
  });
  const perThread = Math.ceil(groups / WG);
  const second = ctx.kernel({
    name: `${spec.name}.reduce2`,
    bindings: [...inputs, { name: "partial", access: "read" }, {
      name: "out",
      access: "read_write",
    }],
    header: `var<workgroup> scratch: array<f32, ${WG}>;`,
    code: `@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var q = 0u; q < ${u32(perThread)}; q++) {
    let g = q * ${WG}u + lid;
    if (g < ${u32(groups)}) { s = ${op("s", "partial[g]")}; }
  }
${tree}
  if (lid == 0u) { out[${u32(spec.index)}] = scratch[0] * (${spec.scale ?? "1.0"}); }
}`,
  });
  return [
    { kernel: first, group: ctx.bind(first, [...slices, partial]), groups: [groups, 1, 1] },
    { kernel: second, group: ctx.bind(second, [...slices, partial, spec.out]), groups: [1, 1, 1] },
  ];
}
