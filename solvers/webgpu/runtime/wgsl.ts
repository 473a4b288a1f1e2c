/**
 * Small WGSL-generation helpers shared by the kernels: float literals,
 * the linear-index prologue of elementwise kernels, and the workgroup grid
 * that covers `n` invocations within WebGPU's 65 535-per-dimension limit.
 *
 * Kernels are generated per problem with every size and coefficient baked in
 * as a constant (tableau weights, coupling λ, widths, batch), so a kernel is
 * straight-line code the compiler can unroll.
 *
 * @module
 */

/**
 * WebGPU's smallest guaranteed `maxComputeWorkgroupsPerDimension`.
 *
 * @example
 * ```ts
 * import { linearGroups, MAX_GROUPS_PER_DIMENSION } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 * assert.ok(linearGroups(1e8, 64)[0] <= MAX_GROUPS_PER_DIMENSION);
 * ```
 */
export const MAX_GROUPS_PER_DIMENSION = 65535;

/**
 * A WGSL `f32` literal holding `Math.fround(x)` exactly.
 *
 * @param x A finite number.
 * @returns The literal, parenthesised when negative.
 *
 * @example
 * ```ts
 * import { f32 } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(f32(1), "1.0");
 * assert.equal(f32(-0.5), "(-0.5)");
 * assert.equal(f32(1 / 3), String(Math.fround(1 / 3)));
 * assert.throws(() => f32(NaN), /finite/);
 * ```
 */
export function f32(x: number): string {
  if (!Number.isFinite(x)) {
    throw new RangeError(`Invalid WGSL literal: got ${x}; expected a finite number.`);
  }
  let s = String(Math.fround(x));
  if (!/[.eE]/.test(s)) s += ".0";
  return s.startsWith("-") ? `(${s})` : s;
}

/**
 * A WGSL `u32` literal.
 *
 * @param n A non-negative integer below 2³².
 * @returns The literal with its `u` suffix.
 *
 * @example
 * ```ts
 * import { u32 } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 * assert.equal(u32(7), "7u");
 * ```
 */
export function u32(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`Invalid WGSL u32: got ${n}; expected an integer in [0, 2^32).`);
  }
  return `${n}u`;
}

/**
 * The workgroup grid `[x, y, 1]` that launches at least `n` invocations of
 * a linear kernel with `workgroupSize` invocations per workgroup, folding
 * into `y` past 65 535 workgroups. Pair with {@link linearMain}.
 *
 * @param n Invocations needed.
 * @param workgroupSize Invocations per workgroup.
 * @returns The dispatch size.
 *
 * @example
 * ```ts
 * import { linearGroups } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(linearGroups(100, 64), [2, 1, 1]);
 * assert.deepEqual(linearGroups(65536 * 256, 64), [65535, 5, 1]);
 * ```
 */
export function linearGroups(n: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / workgroupSize));
  if (groups <= MAX_GROUPS_PER_DIMENSION) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIMENSION);
  return [MAX_GROUPS_PER_DIMENSION, y, 1];
}

/**
 * The entry point of a linear (elementwise) kernel: `i` is the invocation's
 * index in `[0, n)`, and invocations past `n` return at once.
 *
 * @param n Number of elements.
 * @param body WGSL statements using `i: u32`.
 * @param workgroupSize Invocations per workgroup (default 64).
 * @returns The WGSL function `main`.
 *
 * @example
 * ```ts
 * import { linearMain } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 *
 * const code = linearMain(10, "out[i] = 0.0;");
 * assert.match(code, /if \(i >= 10u\) \{ return; \}/);
 * ```
 */
export function linearMain(n: number, body: string, workgroupSize = 64): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${workgroupSize}u + lid;
  if (i >= ${u32(n)}) { return; }
${body}
}
`;
}

/**
 * A WGSL expression that is true when the `f32` expression `x` is finite.
 * It tests the exponent bits, which survives compilers that assume no
 * infinities or NaNs in float comparisons.
 *
 * @param x A WGSL `f32` expression.
 * @returns A `bool` expression.
 *
 * @example
 * ```ts
 * import { isFinite } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 * assert.match(isFinite("loss"), /bitcast<u32>\(loss\)/);
 * ```
 */
export function isFinite(x: string): string {
  return `((bitcast<u32>(${x}) & 0x7f800000u) != 0x7f800000u)`;
}

/**
 * Sum of `terms` as a WGSL expression (`"0.0"` when empty).
 *
 * @param terms WGSL `f32` expressions.
 * @returns The expression.
 *
 * @example
 * ```ts
 * import { sum } from "./wgsl.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sum(["a", "b"]), "(a + b)");
 * assert.equal(sum([]), "0.0");
 * ```
 */
export function sum(terms: readonly string[]): string {
  if (terms.length === 0) return "0.0";
  if (terms.length === 1) return terms[0];
  return `(${terms.join(" + ")})`;
}
