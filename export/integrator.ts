/**
 * The `integrator` forms: the whole fixed-step solve from `y0` to the
 * trajectory, in one ONNX model, for any tableau and scheme.
 *
 * Inputs (scalars have shape `[]`):
 *
 * - `y0` `[batch, dim]`: initial states.
 * - `t0` `[]`: the start time, `t_n = t0 + n · dt`.
 * - `dt` `[]`: the step size; a negative step integrates backwards in time.
 * - `steps` `[]` int64 (Loop only): the number of steps.
 *
 * The trained values of `t0`, `dt` and `steps` (and the trained initial
 * state) are in the metadata: `revode.t0`, `revode.dt`, `revode.steps`,
 * `revode.y0`. They are not graph defaults (initializers named like
 * inputs): ONNX Runtime warns about those and leaves them out of a
 * session's `inputNames`.
 *
 * Outputs: `ys` `[steps + 1, batch, dim]` (row 0 is `y0`) and `ts`
 * `[steps + 1]`.
 *
 * Two variants: `loop` — one ONNX `Loop` whose body is one step (compact;
 * any step count at run time); `unrolled` — every step spelled out, the
 * count fixed at export (ONNX Runtime's WebGPU provider has no `Loop`
 * kernel: a `Loop` runs on the CPU, calling the GPU for its body).
 *
 * @module
 */

import { invalidArgument } from "../solvers/checks.ts";
import { encodeModel } from "./onnx_model.ts";
import { GraphBuilder } from "./onnx_graph.ts";
import {
  type ExportDtype,
  exportMetadata,
  REVODE_VERSION,
  type SolverMetadata,
} from "./metadata.ts";
import { type CheckedSource, checkSource, type ExportScheme, type ExportSource } from "./source.ts";
import { _describeMlp, FieldGraph } from "./vector_field.ts";
import { emitStep, initialState, StepSize } from "./scheme_step.ts";

/**
 * The two integrator variants.
 *
 * @example
 * ```ts
 * import type { IntegratorVariant } from "./integrator.ts";
 * import { exportIntegrator } from "./integrator.ts";
 * import { decodeModel, modelMetadata } from "./onnx_model.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { plain } from "../solvers/schemes/spec.ts";
 * import { euler } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * const source = { field, params: [1, 0], scheme: plain(euler), dt: 0.1, steps: 3 };
 * const variant: IntegratorVariant = "unrolled";
 * const bytes = exportIntegrator(source, { variant });
 * // Every step spelled out: no Loop node.
 * assert.ok(!decodeModel(bytes).graph!.node!.some((n) => n.opType === "Loop"));
 * assert.equal(modelMetadata(bytes)["revode.form"], "unrolled");
 * ```
 */
export type IntegratorVariant = "loop" | "unrolled";

/**
 * Options of {@link exportIntegrator}.
 *
 * @example
 * ```ts
 * import type { IntegratorExportOptions } from "./integrator.ts";
 * import { exportIntegrator } from "./integrator.ts";
 * import { modelMetadata } from "./onnx_model.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { plain } from "../solvers/schemes/spec.ts";
 * import { euler } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * const source = { field, params: [1, 0], scheme: plain(euler), dt: 0.1, steps: 3 };
 * const options: IntegratorExportOptions = { variant: "loop", dtype: "float64" };
 * const meta = modelMetadata(exportIntegrator(source, options));
 * assert.equal(meta["revode.form"], "loop");
 * assert.equal(meta["revode.dtype"], "float64");
 * ```
 */
export interface IntegratorExportOptions {
  /** `loop` (default) or `unrolled`. */
  variant?: IntegratorVariant;
  /** Element type; default `float32`. */
  dtype?: ExportDtype;
}

/**
 * Largest node count of an unrolled graph. Beyond it the file grows past
 * tens of megabytes and runtimes take long to load it: use the Loop.
 *
 * @example
 * ```ts
 * import { MAX_UNROLLED_NODES } from "./integrator.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_UNROLLED_NODES, 1_000_000);
 * ```
 */
export const MAX_UNROLLED_NODES = 1_000_000;

/**
 * The solver part of the metadata for a checked scheme.
 *
 * @param s The checked model (integrator).
 * @returns Scheme, solver, λ, step, start and count.
 *
 * @example
 * ```ts
 * import { solverMetadata } from "./integrator.ts";
 * import { checkSource } from "./source.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { reversible } from "../solvers/schemes/spec.ts";
 * import { rk4 } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * const s = checkSource(
 *   { field, params: [1, 0], scheme: reversible(rk4), dt: 0.1, steps: 10 },
 *   true,
 *   "float32",
 * );
 * assert.deepEqual(solverMetadata(s), {
 *   scheme: "reversible", solver: "rk4", coupling: 0.999, dt: 0.1, t0: 0, steps: 10,
 * });
 * ```
 */
export function solverMetadata(s: CheckedSource): SolverMetadata {
  const scheme = s.scheme as ExportScheme;
  const base = { dt: s.dt, t0: s.t0, steps: s.steps };
  switch (scheme.kind) {
    case "plain":
      return { scheme: "plain", solver: scheme.tableau.name, coupling: null, ...base };
    case "reversible":
      return {
        scheme: "reversible",
        solver: scheme.tableau.name,
        coupling: scheme.coupling,
        ...base,
      };
    case "reversibleHeun":
      return { scheme: "reversibleHeun", solver: "reversible-heun", coupling: null, ...base };
    case "leapfrog":
      return { scheme: "leapfrog", solver: "leapfrog", coupling: null, ...base };
  }
}

/**
 * Exports the whole solve as one model (see the module documentation for
 * inputs and outputs).
 *
 * @param source The field, parameters, scheme, `t0`, `dt` and `steps`.
 * @param options The variant and element type.
 * @returns The `.onnx` file's bytes.
 * @throws {RangeError} For a field or scheme that cannot be exported, a
 *   missing grid, or an unrolled graph beyond {@link MAX_UNROLLED_NODES}.
 *
 * @example
 * ```ts
 * import { exportIntegrator } from "./integrator.ts";
 * import { decodeModel, modelMetadata } from "./onnx_model.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { reversible } from "../solvers/schemes/spec.ts";
 * import { rk4 } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 2, widths: [8] });
 * const source = { field, params: field.init(0), scheme: reversible(rk4), dt: 0.01, steps: 50 };
 * const loop = exportIntegrator(source, { variant: "loop" });
 * const graph = decodeModel(loop).graph!;
 * assert.deepEqual(graph.input!.map((i) => i.name), ["y0", "t0", "dt", "steps"]);
 * assert.deepEqual(graph.output!.map((o) => o.name), ["ys", "ts"]);
 * assert.ok(graph.node!.some((n) => n.opType === "Loop"));
 * assert.equal(modelMetadata(loop)["revode.coupling"], "0.999");
 *
 * const unrolled = decodeModel(exportIntegrator(source, { variant: "unrolled" })).graph!;
 * assert.deepEqual(unrolled.input!.map((i) => i.name), ["y0", "t0", "dt"]);
 * ```
 */
export function exportIntegrator(
  source: ExportSource,
  options: IntegratorExportOptions = {},
): Uint8Array {
  const variant = options.variant ?? "loop";
  if (variant !== "loop" && variant !== "unrolled") {
    invalidArgument("variant", variant, '"loop" or "unrolled"');
  }
  const dtype = options.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    invalidArgument("dtype", dtype, '"float32" or "float64"');
  }
  const s = checkSource(source, true, dtype);
  const scheme = s.scheme as ExportScheme;
  const { mlp } = s;
  const dim = mlp.dim;
  const g = new GraphBuilder(`revode_integrator_${variant}`);
  const y0 = g.input("y0", dtype, ["batch", dim]);
  const t0 = g.input("t0", dtype, []);
  const dt = g.input("dt", dtype, []);
  const field = new FieldGraph(g, mlp, s.params, dtype);
  const step = new StepSize(g, dt, dtype);
  const init = g.scoped("init", () => initialState(scheme, { g, field, step }, y0, () => t0));
  const axis0 = g.vector([0], "int64");
  let ys: string;
  let ts: string;
  if (variant === "loop") {
    const steps = g.input("steps", "int64", []);
    const body = g.subgraph("revode_step");
    const n = body.input("n", "int64", []);
    const cond = body.input("cond", "bool", []);
    const stateIn = init.map((_, i) => body.input(`state${i}`, dtype, ["batch", dim]));
    const timeAt = (k: string) =>
      body.node("Add", [t0, body.node("Mul", [body.node("Cast", [k], { to: _code(dtype) }), dt])]);
    let tn: string | null = null;
    let tn1: string | null = null;
    const stateOut = body.scoped("step", () =>
      emitStep(
        scheme,
        { g: body, field, step },
        stateIn,
        () => (tn ??= timeAt(n)),
        () => (tn1 ??= timeAt(body.node("Add", [n, body.constant(1, "int64")]))),
      ));
    body.output(cond, "cond_out", "bool", []);
    stateOut.forEach((v, i) => body.output(v, `state${i}_out`, dtype, ["batch", dim]));
    body.output(stateOut[0], "y_out", dtype, ["batch", dim]);
    const outs = g.nodeOutputs("Loop", [steps, "", ...init], init.length + 1, {
      body: { graph: body.build("one step t_n → t_{n+1}; scan output: y_{n+1}") },
    });
    ys = g.node("Concat", [g.node("Unsqueeze", [y0, axis0]), outs[init.length]], { axis: 0 });
    const index = g.node("Range", [
      g.constant(0, "int64"),
      g.node("Add", [steps, g.constant(1, "int64")]),
      g.constant(1, "int64"),
    ]);
    ts = g.node("Add", [t0, g.node("Mul", [g.node("Cast", [index], { to: _code(dtype) }), dt])]);
  } else {
    const times = new Map<number, string>([[0, t0]]);
    const timeAt = (k: number) => {
      let t = times.get(k);
      if (t === undefined) {
        t = g.scoped(`t${k}`, () => g.node("Add", [t0, g.node("Mul", [dt, g.constant(k, dtype)])]));
        times.set(k, t);
      }
      return t;
    };
    const slices = [g.node("Unsqueeze", [y0, axis0])];
    let state = init;
    for (let k = 0; k < s.steps; k++) {
      const before = g.nodeCount;
      state = g.scoped(
        `step${k}`,
        () => emitStep(scheme, { g, field, step }, state, () => timeAt(k), () => timeAt(k + 1)),
      );
      slices.push(g.node("Unsqueeze", [state[0], axis0]));
      if (k === 0) {
        const estimate = (g.nodeCount - before) * s.steps;
        if (estimate > MAX_UNROLLED_NODES) {
          invalidArgument(
            "steps",
            s.steps,
            `at most ${Math.floor(MAX_UNROLLED_NODES / (g.nodeCount - before))} for the ` +
              `unrolled form of this model (≈${estimate} nodes, limit ${MAX_UNROLLED_NODES}); ` +
              "use the loop form, which takes any step count",
          );
        }
      }
    }
    ys = g.node("Concat", slices, { axis: 0 });
    const index = g.vector(Array.from({ length: s.steps + 1 }, (_, k) => k), dtype);
    ts = g.node("Add", [t0, g.node("Mul", [index, dt])]);
  }
  const points = variant === "loop" ? "points" : s.steps + 1;
  g.output(ys, "ys", dtype, [points, "batch", dim]);
  g.output(ts, "ts", dtype, [points]);

  const solver = solverMetadata(s);
  // a model trained with adaptive steps has no trained dt: the defaults are a fixed grid
  const adaptive = s.training?.adaptive;
  const trained = adaptive ? "default" : "trained";
  const io = `inputs: y0 [batch, ${dim}] ${dtype}; t0 [] ${dtype} (trained: ${s.t0}); ` +
    `dt [] ${dtype} (${trained}: ${s.dt})` +
    (variant === "loop"
      ? `; steps [] int64 (${trained}: ${s.steps})`
      : ` (steps fixed at ${s.steps})`) +
    (adaptive
      ? `; trained with adaptive steps (rtol ${adaptive.rtol}, atol ${adaptive.atol}): this ` +
        "integrator takes fixed steps instead"
      : "") +
    `; outputs: ys [steps + 1, batch, ${dim}] (ys[0] = y0), ts [steps + 1] (t0 + n dt)`;
  const doc = `revode ${_schemeText(scheme)} solve of the MLP vector field ` +
    `${_describeMlp(mlp)}, ${variant === "loop" ? "as an ONNX Loop" : "unrolled"}. ${io}.`;
  return encodeModel(g.build(doc), {
    producerVersion: REVODE_VERSION,
    docString: doc,
    metadata: exportMetadata(variant, dtype, mlp.toJSON(), solver, s.training, io, s.y0),
  });
}

function _code(dtype: ExportDtype): number {
  return dtype === "float32" ? 1 : 11;
}

function _schemeText(scheme: ExportScheme): string {
  switch (scheme.kind) {
    case "plain":
      return `plain ${scheme.tableau.name}`;
    case "reversible":
      return `reversible ${scheme.tableau.name} (λ = ${scheme.coupling})`;
    case "reversibleHeun":
      return "reversible Heun";
    case "leapfrog":
      return "asynchronous leapfrog";
  }
}
