/**
 * The MLP vector field as WGSL functions of one trajectory's state, for
 * kernels in which one invocation carries a whole trajectory (the
 * whole-solve kernels of gradients/whole.ts): `field(t, y)` and, next to it,
 * its vector–Jacobian product `field_vjp(t, y, v, row)`, which returns
 * `J_yᵀ v` and adds `J_θᵀ v` to that trajectory's column of the per-row
 * parameter gradients `g[p · rows + row]`. The sums run in the same order as
 * the per-layer and fused kernels of mlp.ts (bias first, then the inputs in
 * order; cotangents over the outputs in order).
 *
 * The functions read the parameters from a storage array named `p` and
 * write gradients to one named `g`; the caller declares both bindings,
 * includes {@link ACTIVATION_HELPERS}, and defines `fn width(k: u32) -> u32`
 * returning {@link layerSizes}`[k]` from memory. The loops over the
 * layers' widths run to those run-time bounds so that shader compilers do
 * not unroll them: fully unrolled, two 20-wide layers took llvmpipe minutes
 * to compile for RK4.
 *
 * @module
 */

import type { Mlp } from "../../fields/mlp.ts";
import { WGSL_ACTIVATIONS } from "./activations.ts";
import { u32 } from "../runtime/wgsl.ts";

/**
 * The sizes `width(k)` returns: the network's input (`[t, y]` or `y`), its
 * hidden widths, and its output.
 *
 * @param mlp The network.
 * @returns `[inputDim, ...widths, dim]`.
 *
 * @example
 * ```ts
 * import { layerSizes } from "./field_code.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(layerSizes(new Mlp({ dim: 2, widths: [10], timeDependent: true })), [3, 10, 2]);
 * ```
 */
export function layerSizes(mlp: Mlp): number[] {
  return [mlp.inputDim, ...mlp.layerShapes.map((l) => l.outputs)];
}

/**
 * WGSL of `fn field(t: f32, y: array<f32, DIM>) -> array<f32, DIM>` and
 * `fn field_vjp(t: f32, y: array<f32, DIM>, v: array<f32, DIM>, row: u32) -> array<f32, DIM>`
 * for the network, with `const DIM`. The VJP evaluates the network again to
 * get its activations (nothing is stored between the two), then sweeps back.
 *
 * @param mlp The network.
 * @param rows Rows of the gradient array `g` (`g[p · rows + row]`).
 * @returns The WGSL declarations.
 *
 * @example
 * ```ts
 * import { fieldCode } from "./field_code.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const code = fieldCode(new Mlp({ dim: 2, widths: [10], timeDependent: true }), 64);
 * assert.match(code, /fn field\(t: f32, y: array<f32, DIM>\) -> array<f32, DIM>/);
 * assert.match(code, /fn field_vjp\(/);
 * assert.match(code, /const DIM = 2u;/);
 * ```
 */
export function fieldCode(mlp: Mlp, rows: number): string {
  const dim = mlp.dim;
  const skip = mlp.timeDependent ? 1 : 0;
  const layers = mlp.layerShapes;
  const L = layers.length;
  /** Layer l's forward sweep: `x{l}` in, `pre{l}` and `x{l + 1}` (or `out`) out. */
  const forward = (l: number): string[] => {
    const { inputs: I, outputs: O, weightOffset: W, biasOffset: B, activation } = layers[l];
    const act = WGSL_ACTIVATIONS[activation];
    const last = l === L - 1;
    const next = last ? "out" : `x${l + 1}`;
    const size = last ? "DIM" : String(O);
    return [
      `  var pre${l}: array<f32, ${size}>;`,
      `  var ${next}: array<f32, ${size}>;`,
      `  for (var j = 0u; j < width(${u32(l + 1)}); j++) {`,
      `    var s = p[${u32(B)} + j];`,
      `    for (var q = 0u; q < width(${u32(l)}); q++) { s += p[${u32(W)} + j * ${
        u32(I)
      } + q] * x${l}[q]; }`,
      `    pre${l}[j] = s;`,
      `    ${next}[j] = ${act.forward("s")};`,
      `  }`,
    ];
  };
  const input = [
    `  var yv = y;`,
    `  var x0: array<f32, ${mlp.inputDim}>;`,
    ...(skip ? [`  x0[0] = t;`] : []),
    `  for (var e = 0u; e < DIM; e++) { x0[e + ${u32(skip)}] = yv[e]; }`,
  ];
  const sweep = layers.flatMap((_, l) => forward(l));
  const G = (index: string) => `g[(${index}) * ${u32(rows)} + row]`;
  const back: string[] = [
    `  var vv = v;`,
    `  var d${L - 1}: array<f32, DIM>;`,
    `  for (var e = 0u; e < DIM; e++) {`,
    `    d${L - 1}[e] = vv[e] * ${
      WGSL_ACTIVATIONS[layers[L - 1].activation].derivative(`pre${L - 1}[e]`, "out[e]")
    };`,
    `  }`,
    `  var yb: array<f32, DIM>;`,
  ];
  for (let l = L - 1; l >= 0; l--) {
    const { inputs: I, weightOffset: W, biasOffset: B } = layers[l];
    back.push(
      `  for (var j = 0u; j < width(${u32(l + 1)}); j++) {`,
      `    for (var q = 0u; q < width(${u32(l)}); q++) { ${
        G(`${u32(W)} + j * ${u32(I)} + q`)
      } += d${l}[j] * x${l}[q]; }`,
      `    ${G(`${u32(B)} + j`)} += d${l}[j];`,
      `  }`,
    );
    if (l > 0) {
      const act = WGSL_ACTIVATIONS[layers[l - 1].activation];
      back.push(
        `  var d${l - 1}: array<f32, ${I}>;`,
        `  for (var q = 0u; q < width(${u32(l)}); q++) {`,
        `    var s = 0.0;`,
        `    for (var j = 0u; j < width(${u32(l + 1)}); j++) { s += d${l}[j] * p[${u32(W)} + j * ${
          u32(I)
        } + q]; }`,
        `    d${l - 1}[q] = s * ${act.derivative(`pre${l - 1}[q]`, `x${l}[q]`)};`,
        `  }`,
      );
    } else {
      back.push(
        `  for (var e = 0u; e < DIM; e++) {`,
        `    var s = 0.0;`,
        `    for (var j = 0u; j < width(${u32(l + 1)}); j++) { s += d0[j] * p[${u32(W)} + j * ${
          u32(I)
        } + e + ${u32(skip)}]; }`,
        `    yb[e] = s;`,
        `  }`,
      );
    }
  }
  return `const DIM = ${u32(dim)};
fn field(t: f32, y: array<f32, DIM>) -> array<f32, DIM> {
${input.join("\n")}
${sweep.join("\n")}
  return out;
}
fn field_vjp(t: f32, y: array<f32, DIM>, v: array<f32, DIM>, row: u32) -> array<f32, DIM> {
${input.join("\n")}
${sweep.join("\n")}
${back.join("\n")}
  return yb;
}`;
}
