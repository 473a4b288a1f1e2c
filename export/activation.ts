/**
 * The activations of `solvers/fields/activations.ts` as ONNX nodes, with the same
 * formulas:
 *
 * - `tanh`: `Tanh`.
 * - `softplus`: `Relu(x) + Log(1 + Exp(−|x|))`, the overflow-free form revode
 *   uses. ONNX's own `Softplus` is specified as `log(exp(x) + 1)`, which a
 *   runtime may evaluate literally and overflow in float32 for x > 88; ONNX
 *   Runtime's CPU provider also has no float64 kernel for it.
 * - `relu`: `Relu`.
 * - `silu`: `x · Sigmoid(x)` (opset 17 has no SiLU/Swish operator). In
 *   float64 it is written `x / (1 + Exp(−x))` instead (equal, and still
 *   overflow-free: `x / ∞ = 0`): ONNX Runtime 1.30 fuses `x · Sigmoid(x)`
 *   into its `QuickGelu` kernel, which exists for float32 only, and then
 *   refuses the float64 model.
 * - `identity`: no node.
 *
 * @module
 */

import type { ActivationName } from "../solvers/fields/activations.ts";
import { invalidArgument } from "../solvers/checks.ts";
import type { ElementType, GraphBuilder } from "./onnx_graph.ts";
import { EXPORTABLE_ACTIVATIONS } from "./source_check.ts";

/**
 * Adds the nodes of an activation applied elementwise to `x`.
 *
 * @param g The graph.
 * @param name The activation.
 * @param x The input's name.
 * @param type The element type (for constants).
 * @returns The output's name (`x` itself for `identity`).
 * @throws {RangeError} For an activation the export does not know.
 *
 * @example
 * ```ts
 * import { emitActivation } from "./activation.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * const x = g.input("x", "float32", [2]);
 * emitActivation(g, "silu", x, "float32");
 * assert.deepEqual(g.build().node!.map((n) => n.opType), ["Sigmoid", "Mul"]);
 * assert.equal(emitActivation(g, "identity", x, "float32"), x);
 * assert.throws(() => emitActivation(g, "gelu" as "tanh", x, "float32"), /activation.*"gelu"/);
 * ```
 */
export function emitActivation(
  g: GraphBuilder,
  name: ActivationName,
  x: string,
  type: ElementType,
): string {
  switch (name) {
    case "tanh":
      return g.node("Tanh", [x]);
    case "relu":
      return g.node("Relu", [x]);
    case "silu":
      if (type === "float64") {
        const denominator = g.node("Add", [
          g.node("Exp", [g.node("Neg", [x])]),
          g.constant(1, type),
        ]);
        return g.node("Div", [x, denominator]);
      }
      return g.node("Mul", [x, g.node("Sigmoid", [x])]);
    case "softplus": {
      // log1p(e^{−|x|}) + max(x, 0)
      const e = g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])]);
      const log = g.node("Log", [g.node("Add", [e, g.constant(1, type)])]);
      return g.node("Add", [g.node("Relu", [x]), log]);
    }
    case "identity":
      return x;
    default:
      return invalidArgument(
        "activation",
        name,
        `one of ${EXPORTABLE_ACTIVATIONS.join(", ")} (the activations the ONNX export supports)`,
      );
  }
}
