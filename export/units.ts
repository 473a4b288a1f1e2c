/**
 * The conversion between the user's units and the network's: network =
 * (user − shift) ÷ scale, per state component, with a scalar `scale` (the
 * paper's experiments: one divisor for every component) or one per
 * component and an optional per-component `shift` (a model trained on a
 * normalised table, `config.normalization`). The graph nodes that apply it
 * and the plain-number versions that the metadata and verification use.
 *
 * @module
 */

import type { ElementType, GraphBuilder } from "./onnx_graph.ts";

/**
 * The scaling part of metadata.ts's `StateInfo`: network = (user − shift) ÷ scale.
 *
 * @example
 * ```ts
 * import type { Scaling } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * const s: Scaling = { scale: [2, 4], shift: [1, 0] };
 * assert.equal(s.shift![0], 1);
 * ```
 */
export interface Scaling {
  /** One divisor for every component, or one per component. */
  scale: number | readonly number[];
  /** Per-component shift (absent: none). */
  shift?: readonly number[];
}

/**
 * Whether a scaling changes anything (a scale other than 1 or a non-zero shift).
 *
 * @param s The scaling.
 * @returns True when the graph must convert.
 *
 * @example
 * ```ts
 * import { isScaled } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isScaled({ scale: 1 }), false);
 * assert.equal(isScaled({ scale: [1, 1], shift: [0, 0] }), false);
 * assert.equal(isScaled({ scale: 10 }), true);
 * assert.equal(isScaled({ scale: [1, 1], shift: [0, 2] }), true);
 * ```
 */
export function isScaled(s: Scaling): boolean {
  return _hasScale(s) || _hasShift(s);
}

function _hasScale(s: Scaling): boolean {
  return typeof s.scale === "number" ? s.scale !== 1 : s.scale.some((v) => v !== 1);
}

function _hasShift(s: Scaling): boolean {
  return s.shift !== undefined && s.shift.some((v) => v !== 0);
}

/**
 * The scale of component `d`.
 *
 * @param s The scaling.
 * @param d The component.
 * @returns Its divisor.
 *
 * @example
 * ```ts
 * import { scaleAt } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(scaleAt({ scale: 100 }, 3), 100);
 * assert.equal(scaleAt({ scale: [2, 5] }, 1), 5);
 * ```
 */
export function scaleAt(s: Scaling, d: number): number {
  return typeof s.scale === "number" ? s.scale : s.scale[d];
}

/**
 * The shift of component `d` (0 without a shift).
 *
 * @param s The scaling.
 * @param d The component.
 * @returns Its shift.
 *
 * @example
 * ```ts
 * import { shiftAt } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(shiftAt({ scale: 100 }, 0), 0);
 * assert.equal(shiftAt({ scale: [2, 5], shift: [1, -3] }, 1), -3);
 * ```
 */
export function shiftAt(s: Scaling, d: number): number {
  return s.shift === undefined ? 0 : s.shift[d];
}

/**
 * Network values (flat, `dim` per row) in user units: `shift + scale · z`.
 *
 * @param zs The values in the network's units.
 * @param dim The state dimension.
 * @param s The scaling.
 * @returns The values in user units (a scalar scale without shift: `z · scale`, as before).
 *
 * @example
 * ```ts
 * import { toUser } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(Array.from(toUser([1, 2, 3, 4], 2, { scale: [2, 10], shift: [1, 0] })), [3, 20, 7, 40]);
 * assert.deepEqual(Array.from(toUser([0.5], 1, { scale: 10 })), [5]);
 * ```
 */
export function toUser(zs: ArrayLike<number>, dim: number, s: Scaling): Float64Array {
  return Float64Array.from(zs, (z, i) => {
    const v = z * scaleAt(s, i % dim);
    return s.shift === undefined ? v : s.shift[i % dim] + v;
  });
}

/**
 * User values (flat, `dim` per row) in the network's units: `(y − shift) ÷ scale`.
 *
 * @param ys The values in user units.
 * @param dim The state dimension.
 * @param s The scaling.
 * @returns The values in the network's units.
 *
 * @example
 * ```ts
 * import { toNetwork } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(Array.from(toNetwork([3, 20], 2, { scale: [2, 10], shift: [1, 0] })), [1, 2]);
 * ```
 */
export function toNetwork(ys: ArrayLike<number>, dim: number, s: Scaling): Float64Array {
  return Float64Array.from(ys, (y, i) => {
    const v = s.shift === undefined ? y : y - s.shift[i % dim];
    return v / scaleAt(s, i % dim);
  });
}

function _scaleConst(g: GraphBuilder, s: Scaling, dtype: ElementType): string {
  return typeof s.scale === "number" ? g.constant(s.scale, dtype) : g.vector(s.scale, dtype);
}

/**
 * Graph nodes taking a state `[…, dim]` from user units to the network's:
 * `Sub` the shift (when non-zero), `Div` by the scale (when not 1); no
 * node at all for the identity. The constants have shape `[dim]` (or `[]`
 * for a scalar scale) and broadcast over the leading axes.
 *
 * @param g The graph.
 * @param x The state, in user units.
 * @param s The scaling.
 * @param dtype The element type.
 * @returns The state in the network's units.
 *
 * @example
 * ```ts
 * import { graphToNetwork } from "./units.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * const y = g.input("y", "float64", ["batch", 2]);
 * assert.equal(graphToNetwork(g, y, { scale: 1 }, "float64"), y); // no node
 * graphToNetwork(g, y, { scale: [2, 3], shift: [1, 0] }, "float64");
 * assert.deepEqual(g.build().node!.map((n) => n.opType), ["Sub", "Div"]);
 * ```
 */
export function graphToNetwork(
  g: GraphBuilder,
  x: string,
  s: Scaling,
  dtype: ElementType,
): string {
  let y = x;
  if (_hasShift(s)) y = g.node("Sub", [y, g.vector(s.shift as readonly number[], dtype)]);
  if (_hasScale(s)) y = g.node("Div", [y, _scaleConst(g, s, dtype)]);
  return y;
}

/**
 * Graph nodes taking a state (or, `derivative`, a time derivative) from
 * the network's units to the user's: `Mul` by the scale (when not 1), then
 * `Add` the shift (when non-zero, and not for a derivative).
 *
 * @param g The graph.
 * @param z The network's value.
 * @param s The scaling.
 * @param dtype The element type.
 * @param derivative True for dy/dt, which is scaled but never shifted.
 * @returns The value in user units.
 *
 * @example
 * ```ts
 * import { graphToUser } from "./units.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * const z = g.input("z", "float64", ["batch", 2]);
 * graphToUser(g, z, { scale: [2, 3], shift: [1, 0] }, "float64", true);
 * assert.deepEqual(g.build().node!.map((n) => n.opType), ["Mul"]);
 * ```
 */
export function graphToUser(
  g: GraphBuilder,
  z: string,
  s: Scaling,
  dtype: ElementType,
  derivative = false,
): string {
  let y = z;
  if (_hasScale(s)) y = g.node("Mul", [y, _scaleConst(g, s, dtype)]);
  if (!derivative && _hasShift(s)) {
    y = g.node("Add", [y, g.vector(s.shift as readonly number[], dtype)]);
  }
  return y;
}

/**
 * The scaling recorded in a model's metadata: `revode.scale` (a number, or
 * a JSON array per component) and `revode.shift` (a JSON array, when there
 * is a shift).
 *
 * @param meta The model's `metadata_props`.
 * @returns The scaling (scale 1 when none is recorded).
 *
 * @example
 * ```ts
 * import { scalingOfMetadata } from "./units.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(scalingOfMetadata({ "revode.scale": "100" }), { scale: 100 });
 * assert.deepEqual(
 *   scalingOfMetadata({ "revode.scale": "[2,0.5]", "revode.shift": "[1,-1]" }),
 *   { scale: [2, 0.5], shift: [1, -1] },
 * );
 * assert.deepEqual(scalingOfMetadata({}), { scale: 1 });
 * ```
 */
export function scalingOfMetadata(meta: Record<string, string>): Scaling {
  const text = meta["revode.scale"] ?? "1";
  const scale: number | number[] = text.trimStart().startsWith("[")
    ? JSON.parse(text)
    : Number(text);
  const shift = meta["revode.shift"];
  return shift === undefined ? { scale } : { scale, shift: JSON.parse(shift) };
}
