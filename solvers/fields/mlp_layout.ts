/**
 * An MLP's architecture as numbers: its options checked and defaulted,
 * where each layer's weight and bias lie in the flat parameters, where one
 * row's layer inputs, outputs and pre-activations lie in a workspace or a
 * tape, and the initial parameters.
 *
 * @module
 */

import { invalidArgument } from "../checks.ts";
import {
  type Activation,
  type ActivationName,
  activationNames,
  ACTIVATIONS,
  isActivationName,
} from "./activations.ts";
import { Rng } from "./random.ts";

/**
 * Where one affine layer `x ↦ σ(W x + b)` lives in the flat parameter vector.
 * Its views are named `layer{index}.weight` (shape `[outputs, inputs]`,
 * row-major) and `layer{index}.bias` (shape `[outputs]`).
 *
 * @example
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const [first, last] = new Mlp({ dim: 2, widths: [10], timeDependent: true }).layerShapes;
 * assert.deepEqual(first, {
 *   index: 0, inputs: 3, outputs: 10, weightOffset: 0, biasOffset: 30, activation: "tanh",
 * });
 * assert.equal(last.activation, "identity");
 * ```
 */
export interface LayerShape {
  /** Position of the layer, 0 at the input. */
  readonly index: number;
  /** Input size of the layer (`W` has this many columns). */
  readonly inputs: number;
  /** Output size of the layer (`W` has this many rows). */
  readonly outputs: number;
  /** Offset of `W` in the flat parameters. */
  readonly weightOffset: number;
  /** Offset of `b` in the flat parameters (`weightOffset + outputs·inputs`). */
  readonly biasOffset: number;
  /** The activation applied to `W x + b`. */
  readonly activation: ActivationName;
}

/** The keys of an MLP's plain-JSON description (`MlpConfig`). */
export const MLP_CONFIG_KEYS: readonly string[] = Object.freeze([
  "dim",
  "widths",
  "activation",
  "finalActivation",
  "timeDependent",
]);

/** An MLP's options, checked and defaulted. */
export interface ResolvedMlp {
  /** Dimension of the state. */
  dim: number;
  /** Hidden layer widths (a copy). */
  widths: number[];
  /** Activation of the hidden layers. */
  activation: ActivationName;
  /** Activation of the output layer. */
  finalActivation: ActivationName;
  /** Whether the input is `[t, y]`. */
  timeDependent: boolean;
  /** Default seed of the initial parameters. */
  seed: number;
}

/**
 * Checks an MLP's options (from the constructor or from a model file) and
 * fills in the defaults.
 *
 * @param options The options, as received.
 * @param prefix Put in front of every argument name in messages (`"config."` for a model file).
 * @returns The checked options.
 *
 * @example
 * ```ts
 * import { resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveMlpOptions({ dim: 2, widths: [4] }, "").activation, "tanh");
 * assert.throws(() => resolveMlpOptions({ dim: 2, widths: [0] }, "config."), /config\.widths\[0\]/);
 * ```
 */
export function resolveMlpOptions(options: unknown, prefix: string): ResolvedMlp {
  const where = prefix === "" ? "options" : prefix.slice(0, -1);
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    invalidArgument(where, options, "an object with at least `dim` and `widths`");
  }
  const o = options as Record<string, unknown>;
  const dim = o.dim;
  if (typeof dim !== "number" || !Number.isInteger(dim) || dim < 1) {
    invalidArgument(`${prefix}dim`, dim, "an integer >= 1");
  }
  const widths = o.widths;
  if (!Array.isArray(widths)) {
    invalidArgument(
      `${prefix}widths`,
      widths,
      "an array of positive integers (hidden layer widths; [] for a single affine layer)",
    );
  }
  for (let i = 0; i < widths.length; i++) {
    const w = widths[i];
    if (typeof w !== "number" || !Number.isInteger(w) || w < 1) {
      invalidArgument(`${prefix}widths[${i}]`, w, "a positive integer");
    }
  }
  const activation = o.activation === undefined ? "tanh" : o.activation;
  if (!isActivationName(activation)) {
    invalidArgument(`${prefix}activation`, activation, `one of ${activationNames.join(", ")}`);
  }
  const finalActivation = o.finalActivation === undefined ? "identity" : o.finalActivation;
  if (!isActivationName(finalActivation)) {
    invalidArgument(
      `${prefix}finalActivation`,
      finalActivation,
      `one of ${activationNames.join(", ")}`,
    );
  }
  const timeDependent = o.timeDependent === undefined ? false : o.timeDependent;
  if (typeof timeDependent !== "boolean") {
    invalidArgument(`${prefix}timeDependent`, timeDependent, "true or false");
  }
  const seed = o.seed === undefined ? 0 : o.seed;
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
    invalidArgument(`${prefix}seed`, seed, "a safe integer");
  }
  return { dim, widths: widths.slice(), activation, finalActivation, timeDependent, seed };
}

/**
 * Where everything of one network lies: the layers in the flat parameters,
 * and one row's activations (`acts`: every layer's input, then the output)
 * and pre-activations (`pre`) in a workspace of `actsLength + preLength`
 * entries. The layer maths (mlp_layers.ts) reads only this.
 */
export interface MlpLayout {
  /** Dimension of the state `y`. */
  readonly dim: number;
  /** Whether the input is `[t, y]`. */
  readonly timeDependent: boolean;
  /** Network input size: `dim + 1` when time-dependent, else `dim`. */
  readonly inputDim: number;
  /** Number of affine layers. */
  readonly layerCount: number;
  /** Layer sizes `[inputDim, ...widths, dim]`. */
  readonly sizes: Int32Array;
  /** Offset of layer l's weight in the flat parameters (its bias follows it). */
  readonly weightOffsets: Int32Array;
  /** Offset of layer l's input in `acts` (its output starts at `actOffsets[l + 1]`). */
  readonly actOffsets: Int32Array;
  /** Offset of layer l's pre-activation in `pre`. */
  readonly preOffsets: Int32Array;
  /** Entries of one row's `acts`: `inputDim + Σ widths + dim`. */
  readonly actsLength: number;
  /** Entries of one row's `pre`: `Σ widths + dim`. */
  readonly preLength: number;
  /** The widest layer's input or output size. */
  readonly maxWidth: number;
  /** Length of the flat parameter vector. */
  readonly paramCount: number;
  /** Each layer's shape and place in the parameters. */
  readonly layerShapes: readonly LayerShape[];
  /** Activation of the hidden layers. */
  readonly hidden: Activation;
  /** Activation of the output layer. */
  readonly final: Activation;
  /** Whether the output layer is linear (its derivative is skipped). */
  readonly finalIsIdentity: boolean;
}

/**
 * The layout of a network with checked options: parameters layer by layer,
 * the weight `[out, in]` row-major then the bias `[out]`.
 *
 * @param o The checked options.
 * @returns The layout.
 *
 * @example
 * ```ts
 * import { mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const layout = mlpLayout(resolveMlpOptions({ dim: 2, widths: [10], timeDependent: true }, ""));
 * assert.deepEqual([...layout.sizes], [3, 10, 2]);
 * assert.equal(layout.paramCount, 10 * 3 + 10 + 2 * 10 + 2);
 * assert.equal(layout.layerShapes[1].weightOffset, 40);
 * ```
 */
export function mlpLayout(o: ResolvedMlp): MlpLayout {
  const inputDim = o.dim + (o.timeDependent ? 1 : 0);
  const sizes = [inputDim, ...o.widths, o.dim];
  const layerCount = sizes.length - 1;
  const weightOffsets = new Int32Array(layerCount);
  const actOffsets = new Int32Array(layerCount + 1);
  const preOffsets = new Int32Array(layerCount);
  const shapes: LayerShape[] = [];
  let offset = 0;
  let act = 0;
  let maxWidth = 0;
  for (let l = 0; l < layerCount; l++) {
    const inputs = sizes[l];
    const outputs = sizes[l + 1];
    weightOffsets[l] = offset;
    actOffsets[l] = act;
    preOffsets[l] = act + inputs - inputDim;
    act += inputs;
    maxWidth = Math.max(maxWidth, inputs, outputs);
    shapes.push(Object.freeze({
      index: l,
      inputs,
      outputs,
      weightOffset: offset,
      biasOffset: offset + outputs * inputs,
      activation: l === layerCount - 1 ? o.finalActivation : o.activation,
    }));
    offset += outputs * inputs + outputs;
  }
  actOffsets[layerCount] = act;
  return {
    dim: o.dim,
    timeDependent: o.timeDependent,
    inputDim,
    layerCount,
    sizes: Int32Array.from(sizes),
    weightOffsets,
    actOffsets,
    preOffsets,
    actsLength: act + o.dim,
    preLength: act + o.dim - inputDim,
    maxWidth,
    paramCount: offset,
    layerShapes: Object.freeze(shapes),
    hidden: ACTIVATIONS[o.activation],
    final: ACTIVATIONS[o.finalActivation],
    finalIsIdentity: o.finalActivation === "identity",
  };
}

/**
 * Initial parameters, deterministic in `seed`: every weight and bias of a
 * layer with `fan_in` inputs is drawn from `U(−1/√fan_in, 1/√fan_in)` (the
 * PyTorch / Equinox default), in flat-array order.
 *
 * @param layout The network's layout.
 * @param seed A safe integer.
 * @returns A new Float64Array of `layout.paramCount` entries.
 *
 * @example
 * ```ts
 * import { initParams, mlpLayout, resolveMlpOptions } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const layout = mlpLayout(resolveMlpOptions({ dim: 1, widths: [4] }, ""));
 * const params = initParams(layout, 3);
 * assert.deepEqual(params, initParams(layout, 3));
 * assert.ok(params.subarray(0, 8).every((w) => Math.abs(w) <= 1));
 * ```
 */
export function initParams(layout: MlpLayout, seed: number): Float64Array {
  const rng = new Rng(seed);
  const params = new Float64Array(layout.paramCount);
  for (const shape of layout.layerShapes) {
    const bound = 1 / Math.sqrt(shape.inputs);
    const end = shape.biasOffset + shape.outputs;
    for (let i = shape.weightOffset; i < end; i++) params[i] = rng.uniform(-bound, bound);
  }
  return params;
}

/**
 * Where a block of rows keeps its values: row `r`'s layer inputs and outputs
 * at `acts[a + r·actsStride + actOffsets[l]]`, its pre-activations at
 * `pre[p + r·preStride + preOffsets[l]]`.
 *
 * @example One row after the other in two workspaces
 * ```ts
 * import type { RowStore } from "./mlp_layout.ts";
 * import assert from "node:assert/strict";
 *
 * const store: RowStore = {
 *   acts: new Float64Array(8), a: 0, actsStride: 4,
 *   pre: new Float64Array(6), p: 0, preStride: 3,
 * };
 * assert.equal(store.acts.length, 2 * store.actsStride);
 * ```
 */
export interface RowStore {
  /** The layer inputs and outputs. */
  acts: Float64Array;
  /** Offset of row 0's in `acts`. */
  a: number;
  /** Entries from one row's to the next in `acts`. */
  actsStride: number;
  /** The pre-activations. */
  pre: Float64Array;
  /** Offset of row 0's in `pre`. */
  p: number;
  /** Entries from one row's to the next in `pre`. */
  preStride: number;
}
