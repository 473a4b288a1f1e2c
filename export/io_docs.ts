/**
 * The `doc_string` of every graph input and output, and the one-line
 * contract recorded as `revode.io`: shapes, units, broadcasting, the
 * trained defaults and the edge cases.
 *
 * @module
 */

import type { ExportDtype, StateInfo } from "./metadata.ts";
import type { CheckedSource } from "./source_check.ts";
import { isScaled } from "./units.ts";

/**
 * The state's components and units in words.
 *
 * @param state Names, units and scaling.
 * @param dim The state dimension.
 * @returns E.g. `(x1 [px], x2 [px], v1 [px/s], v2 [px/s])`.
 *
 * @example
 * ```ts
 * import { stateText } from "./io_docs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stateText({ names: ["a", "b"], units: ["m", "m/s"], scale: 1 }, 2), "(a [m], b [m/s])");
 * assert.equal(stateText({ names: null, units: null, scale: 1 }, 2), "(2 components, the data's units)");
 * ```
 */
export function stateText(state: StateInfo, dim: number): string {
  if (state.names === null) return `(${dim} components, the data's units)`;
  return `(${
    state.names.map((n, i) => state.units === null ? n : `${n} [${state.units[i]}]`).join(", ")
  })`;
}

/** The scaling sentence, empty without scaling. */
function _scaleText(state: StateInfo): string {
  if (!isScaled(state)) return "";
  if (typeof state.scale === "number" && state.shift === undefined) {
    return `; user units: the graph divides by ${state.scale} for the network (as the data ` +
      `were) and multiplies its output back`;
  }
  const shift = state.shift === undefined ? "" : ` − shift ${JSON.stringify(state.shift)}`;
  return `; user units: the graph computes (y${shift}) ÷ scale ${JSON.stringify(state.scale)} ` +
    "per component for the network (revode.shift, revode.scale) and maps its output back";
}

/** A per-component scaling or a shift (the paper's scalar divisors keep their old texts). */
function _perComponent(state: StateInfo): boolean {
  return isScaled(state) && (typeof state.scale !== "number" || state.shift !== undefined);
}

/**
 * The documentation of an integrator's inputs and outputs.
 *
 * @param s The checked model.
 * @param variant The form.
 * @param dtype The element type.
 * @returns One text per input and output, and the summary for `revode.io`.
 *
 * @example
 * ```ts
 * import { integratorDocs } from "./io_docs.ts";
 * import { checkSource } from "./source_check.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { plain } from "../solvers/schemes/spec.ts";
 * import { euler } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const s = checkSource(
 *   { field: new Mlp({ dim: 1, widths: [] }), params: [1, 0], scheme: plain(euler), dt: 0.1, steps: 3 },
 *   true,
 *   "float32",
 * );
 * const docs = integratorDocs(s, "loop", "float32");
 * assert.match(docs.steps, /negative count acts as 0/);
 * assert.match(docs.t0, /\[\] or \[1\]/);
 *
 * const n = checkSource(
 *   {
 *     field: new Mlp({ dim: 1, widths: [] }), params: [1, 0], scheme: plain(euler), dt: 0.1, steps: 3,
 *     state: { names: ["x"], units: null, scale: [2], shift: [5] },
 *   },
 *   true,
 *   "float64",
 * );
 * assert.match(integratorDocs(n, "loop", "float64").y0, /\(y − shift \[5\]\) ÷ scale \[2\]/);
 * assert.match(integratorDocs(n, "loop", "float64").ys, /· scale \+ shift/);
 * ```
 */
export function integratorDocs(
  s: CheckedSource,
  variant: "loop" | "chunked" | "unrolled",
  dtype: ExportDtype,
): Record<"y0" | "t0" | "dt" | "steps" | "ys" | "ts" | "summary", string> {
  const dim = s.mlp.dim;
  const adaptive = s.training?.adaptive;
  const trained = adaptive ? "default" : "trained";
  const scalar = "a scalar: shape [] or [1] (both reshaped to [])";
  const rows = variant === "loop" ? "max(steps, 0) + 1" : `${s.steps + 1}`;
  const state = stateText(s.state, dim);
  const docs = {
    y0: `initial states [batch, ${dim}] ${dtype}, one row per trajectory ${state}` +
      _scaleText(s.state),
    t0: `start time, ${scalar}; ${trained}: ${s.t0}`,
    dt: `step size, ${scalar}; negative integrates backwards; ${trained}: ${s.dt}`,
    steps: `number of steps, int64, ${scalar}; a negative count acts as 0 ` +
      `(ys = [y0], ts = [t0]); ${trained}: ${s.steps}`,
    ys: `trajectory [${rows}, batch, ${dim}] ${dtype}: ys[n] is the state at ts[n], ` +
      `ys[0] = y0, in the units of y0` +
      (_perComponent(s.state) ? " (the network's states · scale + shift)" : ""),
    ts: `times [${rows}] ${dtype}: ts[n] = t0 + n dt`,
  };
  const summary = `inputs: y0 [batch, ${dim}] ${dtype} ${state}; t0 [] ${dtype} ` +
    `(${trained}: ${s.t0}); dt [] ${dtype} (${trained}: ${s.dt})` +
    (variant === "loop"
      ? `; steps [] int64 (${trained}: ${s.steps}; negative acts as 0)`
      : ` (steps fixed at ${s.steps})`) +
    "; scalars may be given as [] or [1]" + _scaleText(s.state) +
    (adaptive
      ? `; trained with adaptive steps (rtol ${adaptive.rtol}, atol ${adaptive.atol}): this ` +
        "integrator takes fixed steps instead (revode.adaptive_gap: the measured difference)"
      : "") +
    `; outputs: ys [steps + 1, batch, ${dim}] (ys[0] = y0), ts [steps + 1] (t0 + n dt)`;
  return { ...docs, summary };
}

/**
 * The documentation of the vector field's inputs and output.
 *
 * @param s The checked model.
 * @param dtype The element type.
 * @returns One text per input and output, and the summary for `revode.io`.
 *
 * @example
 * ```ts
 * import { fieldDocs } from "./io_docs.ts";
 * import { checkSource } from "./source_check.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const s = checkSource({ field: new Mlp({ dim: 1, widths: [], timeDependent: true }), params: [1, 1, 0] }, false, "float32");
 * assert.match(fieldDocs(s, "float32").t, /\[batch, 1\].*or \[1, 1\]/);
 *
 * const n = checkSource(
 *   { field: new Mlp({ dim: 1, widths: [] }), params: [1, 0], state: { names: null, units: null, scale: [2], shift: [5] } },
 *   false,
 *   "float64",
 * );
 * assert.match(fieldDocs(n, "float64").dydt, /derivative · scale, no shift/);
 * ```
 */
export function fieldDocs(
  s: CheckedSource,
  dtype: ExportDtype,
): Record<"y" | "t" | "dydt" | "summary", string> {
  const dim = s.mlp.dim;
  const state = stateText(s.state, dim);
  const docs = {
    y: `states [batch, ${dim}] ${dtype} ${state}` + _scaleText(s.state),
    t: `times [batch, 1] ${dtype}, one per row of y, or [1, 1]: one time for every row ` +
      "(broadcast by an Add after the first layer's Gemm); other shapes are refused",
    dydt: `f(t, y) [batch, ${dim}] ${dtype}: the time derivative of y, in the units of y per ` +
      "unit time" + (_perComponent(s.state) ? " (the network's derivative · scale, no shift)" : ""),
  };
  const summary = `inputs: y [batch, ${dim}] ${dtype} ${state}` +
    (s.mlp.timeDependent
      ? `, t [batch, 1] or [1, 1] ${dtype} (one time per row, or one for all)`
      : "") +
    _scaleText(s.state) + `; output: dydt [batch, ${dim}] = f(t, y)`;
  return { ...docs, summary };
}
