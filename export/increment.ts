/**
 * The increment of an explicit Runge–Kutta method as ONNX nodes
 * (numerics.md §1), built from one vector-field subgraph per stage:
 *
 *     k_i = f(t + c_i h, x + h Σ_{j<i} a_ij k_j),   Ψ_h(t, x) = h Σ_i b_i k_i
 *
 * `h` is a tensor (a graph input, or its negation for `Ψ_{−h}`), so the
 * same nodes serve any step size. Stages that do not reach the result (`b_i
 * = 0` and no live later stage reads them) are left out, as in
 * `solvers/increment.ts`.
 *
 * @module
 */

import { type CheckedTableau, liveStages } from "../solvers/tableau.ts";
import type { GraphBuilder } from "./onnx_graph.ts";
import type { FieldGraph } from "./vector_field.ts";

/** Σ_j w_j v_j over the non-zero weights, as nodes (null when every weight is zero). */
function _combination(
  g: GraphBuilder,
  field: FieldGraph,
  terms: ReadonlyArray<readonly [number, string]>,
): string | null {
  let sum: string | null = null;
  for (const [w, v] of terms) {
    if (w === 0) continue;
    const term = w === 1 ? v : g.node("Mul", [v, g.constant(w, field.type)]);
    sum = sum === null ? term : g.node("Add", [sum, term]);
  }
  return sum;
}

/**
 * Adds the nodes of `Ψ_h(t, x)`.
 *
 * @param g The graph (or Loop body) to add them to.
 * @param field The vector field, weights already in the model.
 * @param tableau A checked tableau.
 * @param x The state `[batch, dim]`.
 * @param t The scalar time, or null for an autonomous field.
 * @param h The scalar step size (negative for `Ψ_{−h}`).
 * @returns The name of `Ψ_h(t, x)`, `[batch, dim]`.
 *
 * @example Euler's increment is one field evaluation times h
 * ```ts
 * import { emitIncrement } from "./increment.ts";
 * import { FieldGraph } from "./vector_field.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import { checkTableau } from "../solvers/tableau.ts";
 * import { euler } from "../solvers/tableaux.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = new Mlp({ dim: 1, widths: [] });
 * const g = new GraphBuilder("g");
 * const field = new FieldGraph(g, mlp, Float64Array.of(-1, 0), "float32");
 * const x = g.input("x", "float32", ["batch", 1]);
 * const h = g.input("h", "float32", []);
 * emitIncrement(g, field, checkTableau(euler), x, null, h);
 * assert.deepEqual(g.build().node!.map((n) => n.opType), ["Gemm", "Mul"]);
 * ```
 */
export function emitIncrement(
  g: GraphBuilder,
  field: FieldGraph,
  tableau: CheckedTableau,
  x: string,
  t: string | null,
  h: string,
): string {
  const { aDense, b, c, stages: s } = tableau;
  const live = liveStages(tableau);
  const k: string[] = [];
  for (let i = 0; i < s; i++) {
    if (!live[i]) {
      k.push("");
      continue;
    }
    k.push(g.scoped(`k${i}`, () => {
      const terms: [number, string][] = [];
      for (let j = 0; j < i; j++) terms.push([aDense[i * s + j], k[j]]);
      const sum = _combination(g, field, terms);
      const stageInput = sum === null ? x : g.node("Add", [x, g.node("Mul", [sum, h])]);
      let stageTime: string | null = null;
      if (t !== null && field.mlp.timeDependent) {
        stageTime = c[i] === 0
          ? t
          : g.node("Add", [t, c[i] === 1 ? h : g.node("Mul", [h, g.constant(c[i], field.type)])]);
      }
      return field.evaluate(g, stageInput, stageTime);
    }));
  }
  const weighted = _combination(g, field, b.map((w, i) => [w, k[i]] as const));
  if (weighted === null) throw new Error(`Tableau ${tableau.name} has all weights b zero.`);
  return g.node("Mul", [weighted, h]);
}
