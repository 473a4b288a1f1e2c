/**
 * An ONNX model around a graph (onnx_graph.ts builds the graph): the IR
 * version and opset every model revode writes targets — IR 8 and opset 17,
 * what widely deployed runtimes and Debian's `python3-onnx` (1.12) accept —
 * the producer and metadata, and the encoding to and from protobuf bytes.
 *
 * @module
 */

import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";

const { onnx } = onnxProto;

/**
 * The ONNX IR version of every exported model.
 *
 * @example
 * ```ts
 * import { IR_VERSION } from "./onnx_model.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(IR_VERSION, 8);
 * ```
 */
export const IR_VERSION = 8;

/**
 * The opset (default domain) of every exported model.
 *
 * @example
 * ```ts
 * import { OPSET } from "./onnx_model.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OPSET, 17);
 * ```
 */
export const OPSET = 17;

/**
 * What goes around a graph to make a model.
 *
 * @example
 * ```ts
 * import type { ModelInfo } from "./onnx_model.ts";
 * import assert from "node:assert/strict";
 *
 * const info: ModelInfo = { producerVersion: "0.1.0", docString: "", metadata: { form: "loop" } };
 * assert.equal(info.metadata.form, "loop");
 * ```
 */
export interface ModelInfo {
  /** `producer_version`: revode's version. */
  producerVersion: string;
  /** A description of the model. */
  docString: string;
  /** `metadata_props`, as key–value strings. */
  metadata: Readonly<Record<string, string>>;
}

/**
 * Wraps a graph into a model (IR {@link IR_VERSION}, opset {@link OPSET},
 * producer `revode`) and encodes it as ONNX protobuf bytes.
 *
 * @param graph The main graph.
 * @param info Producer version, description and metadata.
 * @returns The `.onnx` file's bytes.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "./onnx_model.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * g.output(g.input("x", "float32", [1]), "y", "float32", [1]);
 * const bytes = encodeModel(g.build(), {
 *   producerVersion: "0.1.0",
 *   docString: "identity",
 *   metadata: { form: "test" },
 * });
 * const model = decodeModel(bytes);
 * assert.equal(Number(model.irVersion), 8);
 * assert.equal(model.producerName, "revode");
 * assert.deepEqual(model.metadataProps!.map((p) => [p.key, p.value]), [["form", "test"]]);
 * ```
 */
export function encodeModel(graph: Onnx.IGraphProto, info: ModelInfo): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "revode",
    producerVersion: info.producerVersion,
    docString: info.docString,
    graph,
    metadataProps: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Decodes ONNX protobuf bytes (for inspection and tests).
 *
 * @param bytes The `.onnx` file's bytes.
 * @returns The model.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "./onnx_model.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * g.output(g.input("x", "float32", [1]), "y", "float32", [1]);
 * const bytes = encodeModel(g.build(), { producerVersion: "0", docString: "", metadata: {} });
 * assert.equal(decodeModel(bytes).graph?.name, "g");
 * ```
 */
export function decodeModel(bytes: Uint8Array): Onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/**
 * The `metadata_props` of an encoded model, as a plain object.
 *
 * @param bytes The `.onnx` file's bytes.
 * @returns Every key and its value.
 *
 * @example
 * ```ts
 * import { encodeModel, modelMetadata } from "./onnx_model.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * g.output(g.input("x", "float32", [1]), "y", "float32", [1]);
 * const bytes = encodeModel(g.build(), { producerVersion: "0", docString: "", metadata: { a: "1" } });
 * assert.deepEqual(modelMetadata(bytes), { a: "1" });
 * ```
 */
export function modelMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of decodeModel(bytes).metadataProps ?? []) out[p.key ?? ""] = p.value ?? "";
  return out;
}
