/**
 * A small ONNX graph builder on top of `onnx-proto`: unique value and node
 * names, typed inputs and outputs, initializers stored as raw little-endian
 * bytes, and scalar constants shared by every subgraph. onnx_model.ts wraps
 * a graph into a model and encodes it.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";

const { onnx } = onnxProto;

/**
 * Element types used by the exported graphs.
 *
 * @example
 * ```ts
 * import type { ElementType } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const type: ElementType = "int64";
 * assert.equal(type, "int64");
 * ```
 */
export type ElementType = "float32" | "float64" | "int64" | "bool";

/**
 * The ONNX `TensorProto.DataType` code of each {@link ElementType}.
 *
 * @example
 * ```ts
 * import { ELEMENT_CODES } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ELEMENT_CODES.float64, 11);
 * ```
 */
export const ELEMENT_CODES: Readonly<Record<ElementType, number>> = Object.freeze({
  float32: 1,
  float64: 11,
  int64: 7,
  bool: 9,
});

/**
 * One dimension of a shape: a fixed size, or a symbolic name such as `"batch"`.
 *
 * @example
 * ```ts
 * import type { Dim } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const shape: Dim[] = ["batch", 2];
 * assert.equal(shape.length, 2);
 * ```
 */
export type Dim = number | string;

/**
 * An attribute value: an integer (`INT`), a list of integers (`INTS`) or a graph (`GRAPH`).
 *
 * @example
 * ```ts
 * import type { AttributeValue } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const transB: AttributeValue = 1;
 * assert.equal(transB, 1);
 * ```
 */
export type AttributeValue = number | readonly number[] | { readonly graph: Onnx.IGraphProto };

/** What the names of one model have in common: every value and node name is unique in it. */
class _NameScope {
  readonly used = new Set<string>();
  readonly counts = new Map<string, number>();

  fresh(base: string): string {
    let n = this.counts.get(base) ?? 0;
    let name = n === 0 ? base : `${base}_${n}`;
    while (this.used.has(name)) name = `${base}_${++n}`;
    this.counts.set(base, n + 1);
    this.used.add(name);
    return name;
  }

  claim(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX name "${name}" is used twice.`);
    this.used.add(name);
    return name;
  }
}

/**
 * The ONNX `ValueInfoProto` of a tensor.
 *
 * @param name The value's name.
 * @param type Its element type.
 * @param shape Its dimensions (numbers, or names for symbolic sizes).
 * @returns The value info.
 *
 * @example
 * ```ts
 * import { valueInfo } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const info = valueInfo("y", "float32", ["batch", 2]);
 * assert.equal(info.type?.tensorType?.elemType, 1);
 * assert.deepEqual(info.type?.tensorType?.shape?.dim, [{ dimParam: "batch" }, { dimValue: 2 }]);
 * ```
 */
export function valueInfo(
  name: string,
  type: ElementType,
  shape: readonly Dim[],
): Onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_CODES[type],
        shape: {
          dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/**
 * An ONNX `TensorProto` holding `values` as raw little-endian bytes.
 *
 * @param name The tensor's name.
 * @param type Its element type (`bool` is stored as one byte per entry).
 * @param dims Its shape (`[]` for a scalar).
 * @param values Its entries, row-major; converted to the element type.
 * @returns The tensor.
 *
 * @example
 * ```ts
 * import { tensor } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const t = tensor("w", "float32", [2], [1.5, -2]);
 * assert.deepEqual(new Float32Array(t.rawData!.slice().buffer), Float32Array.of(1.5, -2));
 * ```
 */
export function tensor(
  name: string,
  type: ElementType,
  dims: readonly number[],
  values: ArrayLike<number>,
): Onnx.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new RangeError(
      `Invalid values of tensor "${name}": got ${values.length} entries; expected ${count} ` +
        `(shape [${dims.join(", ")}]).`,
    );
  }
  const size = type === "float64" || type === "int64" ? 8 : type === "float32" ? 4 : 1;
  const bytes = new Uint8Array(count * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (type === "float32") view.setFloat32(4 * i, v, true);
    else if (type === "float64") view.setFloat64(8 * i, v, true);
    else if (type === "int64") view.setBigInt64(8 * i, BigInt(v), true);
    else view.setUint8(i, v ? 1 : 0);
  }
  return { name, dataType: ELEMENT_CODES[type], dims: dims.slice(), rawData: bytes };
}

/** Everything one model's graphs share: names and scalar constants. */
interface _Root {
  scope: _NameScope;
  constants: Map<string, string>;
  builder: GraphBuilder;
}

/**
 * Builds one ONNX graph (or a subgraph, such as a `Loop` body) node by node.
 * Names are unique across the model and its subgraphs, so a subgraph never
 * shadows a value of its outer scope; {@link GraphBuilder.constant} puts
 * scalar constants in the outermost graph, where every subgraph can read them.
 *
 * @example Build y = tanh(x) + 1
 * ```ts
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("example");
 * const x = g.input("x", "float32", ["batch", 3]);
 * const y = g.node("Add", [g.node("Tanh", [x]), g.constant(1, "float32")]);
 * g.output(y, "y", "float32", ["batch", 3]);
 * const graph = g.build();
 * assert.deepEqual(graph.node!.map((n) => n.opType), ["Tanh", "Add", "Identity"]);
 * assert.equal(graph.initializer!.length, 1);
 * ```
 */
export class GraphBuilder {
  /** The graph's name. */
  readonly name: string;
  #root: _Root;
  readonly #nodes: Onnx.INodeProto[] = [];
  readonly #inputs: Onnx.IValueInfoProto[] = [];
  readonly #outputs: Onnx.IValueInfoProto[] = [];
  readonly #initializers: Onnx.ITensorProto[] = [];
  #prefix = "";

  /**
   * Starts an empty graph; use {@link GraphBuilder.subgraph} for a subgraph.
   *
   * @param name The graph's name.
   */
  constructor(name: string) {
    this.name = name;
    this.#root = { scope: new _NameScope(), constants: new Map(), builder: this };
  }

  /**
   * Starts a subgraph (an attribute of a node of this graph) that shares this
   * model's names and constants.
   *
   * @param name The subgraph's name.
   * @returns An empty builder for it.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("outer");
   * const body = g.subgraph("body");
   * const one = body.constant(1, "float32");
   * assert.equal(body.build().initializer!.length, 0); // the constant lives in the outer graph
   * assert.equal(g.build().initializer![0].name, one);
   * ```
   */
  subgraph(name: string): GraphBuilder {
    const sub = new GraphBuilder(name);
    sub.#root = this.#root;
    sub.#prefix = this.#prefix;
    return sub;
  }

  /**
   * Runs `build` with `prefix/` in front of every node and value name it
   * creates (names then read like `step3/fwd/k2/Tanh`).
   *
   * @param prefix The name prefix.
   * @param build The code that adds nodes.
   * @returns What `build` returns.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * const x = g.input("x", "float32", [1]);
   * const y = g.scoped("layer0", () => g.node("Tanh", [x]));
   * assert.equal(y, "layer0/Tanh");
   * ```
   */
  scoped<T>(prefix: string, build: () => T): T {
    const saved = this.#prefix;
    this.#prefix = `${saved}${prefix}/`;
    try {
      return build();
    } finally {
      this.#prefix = saved;
    }
  }

  /**
   * Declares a graph input.
   *
   * @param name Its name (must be unused).
   * @param type Its element type.
   * @param shape Its shape.
   * @param doc Its `doc_string`: meaning, units, accepted shapes.
   * @returns The name.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * assert.equal(g.input("y0", "float32", ["batch", 2], "initial states"), "y0");
   * assert.equal(g.build().input![0].docString, "initial states");
   * assert.throws(() => g.input("y0", "float32", [1]), /used twice/);
   * ```
   */
  input(name: string, type: ElementType, shape: readonly Dim[], doc = ""): string {
    this.#root.scope.claim(name);
    this.#inputs.push({ ...valueInfo(name, type, shape), ...(doc ? { docString: doc } : {}) });
    return name;
  }

  /**
   * Declares a graph output named `name` with the value of `value` (through
   * an `Identity` node, so that any value can become an output).
   *
   * @param value The value to output.
   * @param name The output's name (must be unused).
   * @param type Its element type.
   * @param shape Its shape.
   * @param doc Its `doc_string`.
   * @returns The output's name.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * const x = g.input("x", "float32", [2]);
   * g.output(x, "y", "float32", [2]);
   * assert.equal(g.build().output![0].name, "y");
   * ```
   */
  output(
    value: string,
    name: string,
    type: ElementType,
    shape: readonly Dim[],
    doc = "",
  ): string {
    this.#root.scope.claim(name);
    this.#nodes.push({
      opType: "Identity",
      input: [value],
      output: [name],
      name: this.#root.scope.fresh(`${this.#prefix}${name}/Identity`),
    });
    this.#outputs.push({ ...valueInfo(name, type, shape), ...(doc ? { docString: doc } : {}) });
    return name;
  }

  /**
   * Adds an initializer (a constant tensor, such as a weight matrix) to this graph.
   *
   * @param name Its name (made unique if taken).
   * @param type Its element type.
   * @param dims Its shape.
   * @param values Its entries, row-major.
   * @returns The name given.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * assert.equal(g.initializer("w", "float32", [2, 2], [1, 0, 0, 1]), "w");
   * assert.deepEqual(g.build().initializer![0].dims, [2, 2]);
   * ```
   */
  initializer(
    name: string,
    type: ElementType,
    dims: readonly number[],
    values: ArrayLike<number>,
  ): string {
    const unique = this.#root.scope.fresh(name);
    this.#initializers.push(tensor(unique, type, dims, values));
    return unique;
  }

  /**
   * A scalar constant, created once per model (in its outermost graph) and
   * shared by every graph that asks for the same value and type.
   *
   * @param value The value.
   * @param type Its element type.
   * @returns The constant's name.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * assert.equal(g.constant(0.5, "float32"), g.constant(0.5, "float32"));
   * assert.notEqual(g.constant(0.5, "float32"), g.constant(0.5, "float64"));
   * ```
   */
  constant(value: number, type: ElementType): string {
    const key = `${type}:${Object.is(value, -0) ? "-0" : String(value)}`;
    const root = this.#root;
    let name = root.constants.get(key);
    if (name === undefined) {
      name = root.builder.initializer(`const/${type}/${value}`, type, [], [value]);
      root.constants.set(key, name);
    }
    return name;
  }

  /**
   * A constant 1-D tensor, created once per model like {@link GraphBuilder.constant}.
   *
   * @param values The entries.
   * @param type Their element type.
   * @returns The constant's name.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * assert.equal(g.vector([0], "int64"), g.vector([0], "int64"));
   * ```
   */
  vector(values: readonly number[], type: ElementType): string {
    const key = `${type}[]:${values.join(",")}`;
    const root = this.#root;
    let name = root.constants.get(key);
    if (name === undefined) {
      name = root.builder.initializer(
        `const/${type}/[${values.length > 4 ? values.length : values.join(",")}]`,
        type,
        [values.length],
        values,
      );
      root.constants.set(key, name);
    }
    return name;
  }

  /**
   * Adds a node with one output.
   *
   * @param opType The ONNX operator (default domain, opset 17: onnx_model.ts's `OPSET`).
   * @param inputs Its inputs, by name (`""` for an omitted optional input).
   * @param attributes Its attributes.
   * @returns The name of its output.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * const x = g.input("x", "float32", [2, 3]);
   * const w = g.initializer("w", "float32", [4, 3], new Array(12).fill(0));
   * const y = g.node("Gemm", [x, w], { transB: 1 });
   * assert.equal(g.build().node![0].attribute![0].name, "transB");
   * assert.equal(y, "Gemm");
   * ```
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string {
    return this.nodeOutputs(opType, inputs, 1, attributes)[0];
  }

  /**
   * Adds a node with several outputs.
   *
   * @param opType The ONNX operator.
   * @param inputs Its inputs, by name.
   * @param outputs How many outputs, or their names.
   * @param attributes Its attributes.
   * @returns The names of its outputs.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * const g = new GraphBuilder("g");
   * const x = g.input("x", "float32", [4]);
   * const parts = g.nodeOutputs("Split", [x], 2, { axis: 0 });
   * assert.equal(parts.length, 2);
   * ```
   */
  nodeOutputs(
    opType: string,
    inputs: readonly string[],
    outputs: number | readonly string[],
    attributes: Readonly<Record<string, AttributeValue>> = {},
  ): string[] {
    const scope = this.#root.scope;
    const name = scope.fresh(`${this.#prefix}${opType}`);
    const names = typeof outputs === "number"
      ? Array.from({ length: outputs }, (_, i) => (i === 0 ? name : `${name}:${i}`))
      : outputs.map((o) => scope.claim(o));
    if (typeof outputs === "number") { for (const o of names.slice(1)) scope.claim(o); }
    this.#nodes.push({
      opType,
      input: inputs.slice(),
      output: names,
      name,
      attribute: Object.entries(attributes).map(([key, v]) => _attribute(key, v)),
    });
    return names;
  }

  /**
   * The graph as an ONNX `GraphProto`.
   *
   * @param docString A description stored in the graph.
   * @returns The graph.
   *
   * @example
   * ```ts
   * import { GraphBuilder } from "./onnx_graph.ts";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new GraphBuilder("g").build("empty").docString, "empty");
   * ```
   */
  build(docString = ""): Onnx.IGraphProto {
    return {
      name: this.name,
      node: this.#nodes.slice(),
      input: this.#inputs.slice(),
      output: this.#outputs.slice(),
      initializer: this.#initializers.slice(),
      docString,
    };
  }

  /** Number of nodes added so far (in this graph only, not its subgraphs). */
  get nodeCount(): number {
    return this.#nodes.length;
  }
}

function _attribute(name: string, value: AttributeValue): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new RangeError(`Invalid attribute ${name}: got ${value}; expected an integer.`);
    }
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value.slice() };
  return { name, type: T.GRAPH, g: (value as { graph: Onnx.IGraphProto }).graph };
}
