/**
 * The integrator forms: the whole fixed-step solve from `y0` to the
 * trajectory, in one ONNX model, for any tableau and scheme.
 *
 * Inputs (each has a `doc_string` with its meaning and units):
 *
 * - `y0` `[batch, dim]`: initial states, in the user's units (the data's
 *   scaling, `(y0 − revode.shift) ÷ revode.scale`, is applied inside the
 *   graph; the outputs map back with `· scale + shift`).
 * - `t0` `[]`: the start time, `t_n = t0 + n · dt`.
 * - `dt` `[]`: the step size; a negative step integrates backwards in time.
 * - `steps` `[]` int64 (loop form only): the number of steps; a negative
 *   count acts as 0 (`ys = [y0]`, `ts = [t0]`).
 *
 * A scalar may be given with shape `[]` or `[1]`: the graph reshapes it to
 * `[]` first, so both mean the same; any other shape is refused by that
 * `Reshape`. The trained values of `t0`, `dt` and `steps` (and the trained
 * initial state) are in the metadata: `revode.t0`, `revode.dt`,
 * `revode.steps`, `revode.y0`. They are not graph defaults (initializers
 * named like inputs): ONNX Runtime warns about those and leaves them out of
 * a session's `inputNames`.
 *
 * Outputs: `ys` `[steps + 1, batch, dim]` (row 0 is `y0`), in the user's
 * units, and `ts` `[steps + 1]`.
 *
 * Three variants: `loop` — one ONNX `Loop` whose body is one step (compact;
 * any step count at run time; see loop_form.ts for why its meaning is the
 * same in every runtime); `chunked` — a `Loop` whose body is `chunk`
 * unrolled steps, the count fixed at export: a few thousand nodes at any
 * step count, so runtimes create a session in seconds, and few loop
 * iterations (ONNX Runtime's WebGPU provider has no `Loop` kernel: a
 * `Loop` runs on the CPU, calling the GPU for its body); `unrolled` —
 * every step spelled out, the count fixed at export (no control flow at
 * all, but a session takes minutes at 1 000 steps).
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
import {
  type CheckedSource,
  checkSource,
  type ExportScheme,
  type ExportSource,
} from "./source_check.ts";
import { _describeMlp, FieldGraph } from "./vector_field.ts";
import { emitStep, initialState, type StepContext, StepSize } from "./scheme_step.ts";
import { emitLoopTrajectory } from "./loop_form.ts";
import { integratorDocs } from "./io_docs.ts";
import { graphToNetwork, graphToUser } from "./units.ts";

/**
 * The three integrator variants.
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
export type IntegratorVariant = "loop" | "chunked" | "unrolled";

/**
 * The integrator variants, in help order.
 *
 * @example
 * ```ts
 * import { INTEGRATOR_VARIANTS } from "./integrator.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(INTEGRATOR_VARIANTS, ["loop", "chunked", "unrolled"]);
 * ```
 */
export const INTEGRATOR_VARIANTS: readonly IntegratorVariant[] = Object.freeze([
  "loop",
  "chunked",
  "unrolled",
]);

/**
 * Steps per `Loop` iteration of the `chunked` form by default: about 3 500
 * nodes in the body for the white dwarf's reversible RK4, whose session
 * ONNX Runtime creates in about a second.
 *
 * @example
 * ```ts
 * import { DEFAULT_CHUNK } from "./integrator.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_CHUNK, 50);
 * ```
 */
export const DEFAULT_CHUNK = 50;

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
  /** `loop` (default), `chunked` or `unrolled`. */
  variant?: IntegratorVariant;
  /** Steps per Loop iteration of the `chunked` form (default {@link DEFAULT_CHUNK}). */
  chunk?: number;
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
 * import { checkSource } from "./source_check.ts";
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
  if (!INTEGRATOR_VARIANTS.includes(variant)) {
    invalidArgument("variant", variant, INTEGRATOR_VARIANTS.map((v) => `"${v}"`).join(", "));
  }
  const dtype = options.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    invalidArgument("dtype", dtype, '"float32" or "float64"');
  }
  const chunkOption = options.chunk ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunkOption) || chunkOption < 1) {
    invalidArgument("chunk", chunkOption, "an integer >= 1 (steps per Loop iteration)");
  }
  const s = checkSource(source, true, dtype);
  const scheme = s.scheme as ExportScheme;
  const { mlp } = s;
  const dim = mlp.dim;
  const state = s.state;
  const g = new GraphBuilder(`revode_integrator_${variant}`);
  const io = integratorDocs(s, variant, dtype);
  const y0In = g.input("y0", dtype, ["batch", dim], io.y0);
  const t0 = g.node("Reshape", [g.input("t0", dtype, [], io.t0), g.vector([], "int64")]);
  const dt = g.node("Reshape", [g.input("dt", dtype, [], io.dt), g.vector([], "int64")]);
  // the network works in the data's units ((user units − shift) ÷ scale), as it was trained
  const y0 = graphToNetwork(g, y0In, state, dtype);
  const field = new FieldGraph(g, mlp, s.params, dtype);
  const step = new StepSize(g, dt, dtype);
  const ctx = { g, field, step };
  const init = g.scoped("init", () => initialState(scheme, ctx, y0, () => t0));
  let ys: string;
  let ts: string;
  if (variant === "loop") {
    const steps = g.node("Reshape", [
      g.input("steps", "int64", [], io.steps),
      g.vector([], "int64"),
    ]);
    // a negative count acts as 0, for ys and ts alike: [y0] and [t0]
    const iterations = g.node("Max", [steps, g.constant(0, "int64")]);
    const one = g.constant(1, "int64");
    const plan = { scheme, ctx, init, y0, t0, dt, iterations, chunk: 1, floatCode: _code(dtype) };
    ys = emitLoopTrajectory(plan).trajectory;
    const index = g.node("Range", [g.constant(0, "int64"), g.node("Add", [iterations, one]), one]);
    ts = g.node("Add", [t0, g.node("Mul", [g.node("Cast", [index], { to: _code(dtype) }), dt])]);
  } else {
    let state0 = init;
    let done = 0;
    const parts: string[] = [];
    if (variant === "chunked") {
      const chunk = Math.min(chunkOption, s.steps);
      const iterations = Math.floor(s.steps / chunk);
      const plan = {
        scheme,
        ctx,
        init,
        y0,
        t0,
        dt,
        iterations: g.constant(iterations, "int64"),
        chunk,
        floatCode: _code(dtype),
      };
      const loop = emitLoopTrajectory(plan);
      parts.push(loop.trajectory);
      state0 = loop.final;
      done = iterations * chunk;
    } else {
      parts.push(g.node("Unsqueeze", [y0, g.vector([0], "int64")]));
    }
    parts.push(..._unrolledSteps(scheme, ctx, state0, t0, dt, done, s.steps));
    ys = parts.length === 1 ? parts[0] : g.node("Concat", parts, { axis: 0 });
    const index = g.vector(Array.from({ length: s.steps + 1 }, (_, k) => k), dtype);
    ts = g.node("Add", [t0, g.node("Mul", [index, dt])]);
  }
  ys = graphToUser(g, ys, state, dtype);
  const points = variant === "loop" ? "points" : s.steps + 1;
  g.output(ys, "ys", dtype, [points, "batch", dim], io.ys);
  g.output(ts, "ts", dtype, [points], io.ts);
  const doc = `revode ${_schemeText(scheme)} solve of the MLP vector field ` +
    `${_describeMlp(mlp)}, ${_formText(variant, chunkOption)}. ${io.summary}.`;
  return encodeModel(g.build(doc), {
    producerVersion: REVODE_VERSION,
    docString: doc,
    metadata: exportMetadata(
      variant,
      dtype,
      mlp.toJSON(),
      solverMetadata(s),
      s.training,
      io.summary,
      s.y0,
      {
        state,
        data: s.data,
        adaptiveGap: s.adaptiveGap,
      },
    ),
  });
}

/**
 * Steps `from` … `to` − 1 spelled out, each row unsqueezed to `[1, batch, dim]`.
 * Refuses more nodes than {@link MAX_UNROLLED_NODES}.
 */
function _unrolledSteps(
  scheme: ExportScheme,
  ctx: StepContext,
  state0: readonly string[],
  t0: string,
  dt: string,
  from: number,
  to: number,
): string[] {
  const g = ctx.g;
  const times = new Map<number, string>([[0, t0]]);
  const timeAt = (k: number) => {
    let t = times.get(k);
    if (t === undefined) {
      t = g.scoped(
        `t${k}`,
        () => g.node("Add", [t0, g.node("Mul", [dt, g.constant(k, ctx.field.type)])]),
      );
      times.set(k, t);
    }
    return t;
  };
  const axis0 = g.vector([0], "int64");
  const slices: string[] = [];
  let state = state0;
  for (let k = from; k < to; k++) {
    const before = g.nodeCount;
    state = g.scoped(
      `step${k}`,
      () => emitStep(scheme, ctx, state, () => timeAt(k), () => timeAt(k + 1)),
    );
    slices.push(g.node("Unsqueeze", [state[0], axis0]));
    const estimate = (g.nodeCount - before) * (to - from);
    if (k === from && estimate > MAX_UNROLLED_NODES) {
      invalidArgument(
        "steps",
        to - from,
        `at most ${Math.floor(MAX_UNROLLED_NODES / (g.nodeCount - before))} for the ` +
          `unrolled form of this model (≈${estimate} nodes, limit ${MAX_UNROLLED_NODES}); ` +
          "use the loop form or the chunked form, which take any step count",
      );
    }
  }
  return slices;
}

function _formText(variant: IntegratorVariant, chunk: number): string {
  switch (variant) {
    case "loop":
      return "as an ONNX Loop of one step per iteration, the trajectory carried as loop state";
    case "chunked":
      return `as an ONNX Loop of ${chunk} unrolled steps per iteration, the trajectory ` +
        "carried as loop state";
    case "unrolled":
      return "unrolled";
  }
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
