/**
 * The MLP vector field `f(t, y; θ)` as ONNX nodes, and the `vector-field`
 * form: a model with input `y` `[batch, dim]` (and `t` `[batch, 1]` for a
 * time-dependent field, one time per row) and output `dydt` `[batch, dim]`.
 *
 * Each layer is one `Gemm` with `transB = 1`, so the weights keep revode's
 * `[outputs, inputs]` row-major layout. A time-dependent first layer reads
 * `x = [t, y]`; instead of concatenating, its weight is split into the column
 * `w_t` that multiplies `t` and the rest `W_y`, and
 * `W [t, y] + b = W_y y + (t w_t + b)`: the bracket is the `Gemm`'s bias,
 * `[hidden]` for a scalar `t` (inside an integrator) or `[batch, hidden]`
 * for `t` `[batch, 1]`.
 *
 * @module
 */

import type { Mlp } from "../solvers/fields/mlp.ts";
import { emitActivation } from "./activation.ts";
import { encodeModel } from "./onnx_model.ts";
import { type ElementType, GraphBuilder } from "./onnx_graph.ts";
import { type ExportDtype, exportMetadata, REVODE_VERSION } from "./metadata.ts";
import { checkSource, type ExportSource } from "./source_check.ts";
import { fieldDocs } from "./io_docs.ts";
import { graphToNetwork, graphToUser } from "./units.ts";

/** The initializers of one layer. */
interface _LayerWeights {
  /** `W` `[outputs, inputs]`, or `W_y` for a time-dependent first layer. */
  weight: string;
  /** `w_t` `[outputs]` of a time-dependent first layer, else null. */
  timeWeight: string | null;
  /** `b` `[outputs]`. */
  bias: string;
}

/**
 * A network whose weights are initializers of a graph: call
 * {@link FieldGraph.evaluate} once per evaluation of `f` (every stage of
 * every step in an integrator), all sharing the same weights.
 *
 * @example
 * ```ts
 * import { FieldGraph } from "./vector_field.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = new Mlp({ dim: 2, widths: [4], timeDependent: true });
 * const g = new GraphBuilder("g");
 * const field = new FieldGraph(g, mlp, mlp.init(0), "float32");
 * const y = g.input("y", "float32", ["batch", 2]);
 * const t = g.input("t", "float32", []);
 * field.evaluate(g, y, t);
 * field.evaluate(g, y, t);
 * const graph = g.build();
 * assert.equal(graph.initializer!.length, 5); // W_y, w_t, b0, W1, b1: shared
 * assert.equal(graph.node!.filter((n) => n.opType === "Gemm").length, 4);
 * ```
 */
export class FieldGraph {
  /** The network. */
  readonly mlp: Mlp;
  /** The element type of the weights and values. */
  readonly type: ElementType;
  readonly #layers: _LayerWeights[] = [];

  /**
   * Adds the weights to `g` as initializers.
   *
   * @param g The (outermost) graph that holds the weights.
   * @param mlp The network.
   * @param params Its flat parameters (checked by the caller).
   * @param type `float32` or `float64`.
   */
  constructor(g: GraphBuilder, mlp: Mlp, params: Float64Array, type: ElementType) {
    this.mlp = mlp;
    this.type = type;
    for (const s of mlp.layerShapes) {
      const w = params.subarray(s.weightOffset, s.biasOffset);
      const b = params.subarray(s.biasOffset, s.biasOffset + s.outputs);
      const name = `layer${s.index}`;
      if (s.index === 0 && mlp.timeDependent) {
        const wy = new Float64Array(s.outputs * mlp.dim);
        const wt = new Float64Array(s.outputs);
        for (let j = 0; j < s.outputs; j++) {
          wt[j] = w[j * s.inputs];
          wy.set(w.subarray(j * s.inputs + 1, (j + 1) * s.inputs), j * mlp.dim);
        }
        this.#layers.push({
          weight: g.initializer(`${name}.weight_y`, type, [s.outputs, mlp.dim], wy),
          timeWeight: g.initializer(`${name}.weight_t`, type, [s.outputs], wt),
          bias: g.initializer(`${name}.bias`, type, [s.outputs], b),
        });
      } else {
        this.#layers.push({
          weight: g.initializer(`${name}.weight`, type, [s.outputs, s.inputs], w),
          timeWeight: null,
          bias: g.initializer(`${name}.bias`, type, [s.outputs], b),
        });
      }
    }
  }

  /**
   * Adds the nodes of one evaluation `f(t, y)`.
   *
   * @param g The graph (or subgraph) to add them to.
   * @param y The state `[batch, dim]`.
   * @param t The time, scalar or `[batch, 1]`; ignored (may be null) for an autonomous field.
   * @param perRow True when `t` is `[rows, 1]` with `rows` 1 or `batch`: the time term is
   *   then added after the `Gemm` with `Add`'s (bidirectional) broadcasting instead of being
   *   the `Gemm`'s bias, whose broadcast from `[1, hidden]` ONNX Runtime failed on with an
   *   internal buffer message; rows other than 1 or `batch` are refused by that `Add`.
   * @returns The name of `f(t, y)`, `[batch, dim]`.
   */
  evaluate(g: GraphBuilder, y: string, t: string | null, perRow = false): string {
    const shapes = this.mlp.layerShapes;
    let x = y;
    for (let l = 0; l < shapes.length; l++) {
      const layer = this.#layers[l];
      x = g.scoped(`layer${l}`, () => {
        let bias = layer.bias;
        if (layer.timeWeight !== null) {
          if (t === null) throw new Error("A time-dependent field needs a time input.");
          bias = g.node("Add", [g.node("Mul", [t, layer.timeWeight]), layer.bias]);
        }
        const z = layer.timeWeight !== null && perRow
          ? g.node("Add", [g.node("Gemm", [x, layer.weight], { transB: 1 }), bias])
          : g.node("Gemm", [x, layer.weight, bias], { transB: 1 });
        return emitActivation(g, shapes[l].activation, z, this.type);
      });
    }
    return x;
  }
}

/**
 * Options of {@link exportVectorField}.
 *
 * @example
 * ```ts
 * import type { VectorFieldExportOptions } from "./vector_field.ts";
 * import { exportVectorField } from "./vector_field.ts";
 * import { modelMetadata } from "./onnx_model.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const options: VectorFieldExportOptions = { dtype: "float64" };
 * const bytes = exportVectorField({ field: new Mlp({ dim: 1, widths: [] }), params: [1, 0] }, options);
 * assert.equal(modelMetadata(bytes)["revode.dtype"], "float64");
 * ```
 */
export interface VectorFieldExportOptions {
  /** Element type; default `float32`. */
  dtype?: ExportDtype;
}

/**
 * Exports the vector field alone: inputs `y` `[batch, dim]` and, for a
 * time-dependent field, `t` `[batch, 1]` (one time per row); output `dydt`
 * `[batch, dim]`.
 *
 * @param source The field and its parameters (scheme and grid, if given, go to the metadata only).
 * @param options The element type.
 * @returns The `.onnx` file's bytes.
 * @throws {RangeError} For a field that is not an MLP, non-finite weights, an unknown activation.
 *
 * @example
 * ```ts
 * import { exportVectorField } from "./vector_field.ts";
 * import { decodeModel, modelMetadata } from "./onnx_model.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 2, widths: [10], timeDependent: true });
 * const bytes = exportVectorField({ field, params: field.init(0) });
 * const graph = decodeModel(bytes).graph!;
 * assert.deepEqual(graph.input!.map((i) => i.name), ["y", "t"]);
 * assert.deepEqual(graph.output!.map((o) => o.name), ["dydt"]);
 * assert.equal(modelMetadata(bytes)["revode.form"], "vector-field");
 * ```
 */
export function exportVectorField(
  source: ExportSource,
  options: VectorFieldExportOptions = {},
): Uint8Array {
  const dtype = options.dtype ?? "float32";
  const checked = checkSource(source, false, dtype);
  const { mlp, params } = checked;
  const g = new GraphBuilder("revode_vector_field");
  const io = fieldDocs(checked, dtype);
  const yIn = g.input("y", dtype, ["batch", mlp.dim], io.y);
  const y = graphToNetwork(g, yIn, checked.state, dtype);
  let t: string | null = null;
  if (mlp.timeDependent) {
    t = g.input("t", dtype, ["t_rows", 1], io.t);
  }
  const field = new FieldGraph(g, mlp, params, dtype);
  let dydt = g.scoped("f", () => field.evaluate(g, y, t, true));
  // a derivative scales with the state and ignores its shift
  dydt = graphToUser(g, dydt, checked.state, dtype, true);
  g.output(dydt, "dydt", dtype, ["batch", mlp.dim], io.dydt);
  const doc = `revode MLP vector field ${_describeMlp(mlp)}. ${io.summary}.`;
  return encodeModel(g.build(doc), {
    producerVersion: REVODE_VERSION,
    docString: doc,
    metadata: exportMetadata(
      "vector-field",
      dtype,
      mlp.toJSON(),
      null,
      checked.training,
      io.summary,
      checked.y0,
      { state: checked.state, data: checked.data, adaptiveGap: checked.adaptiveGap },
    ),
  });
}

/**
 * A one-line description of an architecture, e.g. `[t, y] (3) → 10 tanh → 2`.
 *
 * @param mlp The network.
 * @returns The description.
 *
 * @example
 * ```ts
 * import { _describeMlp } from "./vector_field.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = new Mlp({ dim: 2, widths: [10], timeDependent: true });
 * assert.equal(_describeMlp(mlp), "[t, y] (3) → 10 tanh → 2");
 * ```
 */
export function _describeMlp(mlp: Mlp): string {
  const parts = [mlp.timeDependent ? `[t, y] (${mlp.inputDim})` : `y (${mlp.dim})`];
  for (const w of mlp.widths) parts.push(`${w} ${mlp.activation}`);
  parts.push(
    mlp.finalActivation === "identity" ? `${mlp.dim}` : `${mlp.dim} ${mlp.finalActivation}`,
  );
  return parts.join(" → ");
}
