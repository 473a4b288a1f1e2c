/**
 * The integrator as one ONNX `Loop` whose result every runtime that follows
 * the spec computes alike.
 *
 * The trajectory is the Loop's scan output, whose shape runtimes read
 * differently: the Loop spec (opset 16, as onnx 1.12 prints it) says
 * "Scan_output variables are used to implicitly concatenate values computed
 * across all the iterations" — per-iteration `[chunk, batch, dim]` blocks
 * concatenated along axis 0 give `[iterations · chunk, batch, dim]` (and
 * `[batch, dim]` rows would give `[steps · batch, dim]`, what
 * `onnx.reference` in onnx ≥ 1.13 was reported to do), while ONNX Runtime stacks them into
 * `[iterations, chunk, batch, dim]`. (Scan's text is no firmer: "The values
 * of the scan_output_element tensors are concatenated over all the
 * iterations", accumulated in its pseudo-code with `Concat<axis=0>`.) Both
 * readings lay the same numbers out in the same order — iteration by
 * iteration, each block row-major — and differ only in the shape they give
 * that buffer. So the graph fixes the shape itself: `Reshape(scan, [-1,
 * batch, dim])` gives `[iterations · chunk, batch, dim]` under either
 * reading, and the trajectory is `y0` concatenated in front. (Carrying the
 * whole trajectory as loop state and writing rows with `ScatterND` would
 * also be unambiguous, but ONNX Runtime then copies the whole trajectory on
 * every iteration, O(steps²): several times slower at 1 000 steps in our
 * measurement.)
 *
 * The termination condition is explicit. The spec's table reads
 *
 *     input (trip_count, cond)
 *         for (int i=0; i < trip_count && cond; ++i) { cond = ...; }
 *
 * and the body "must yield a value for the condition variable, whether this
 * input is provided or not". We pass a constant `true` and the body returns
 * it unchanged, so the loop runs exactly `trip_count` times in a runtime
 * that reads an omitted `cond` as false (`onnx.reference` did) as in one
 * that reads it as absent.
 *
 * One iteration takes `chunk` steps, unrolled in the body: `chunk = 1` is
 * the `loop` form (any step count at run time), `chunk > 1` the `chunked`
 * form (the step count fixed at export; a few thousand nodes however many
 * steps, so that a session is created in seconds where the unrolled graph
 * takes minutes).
 *
 * @module
 */

import type { ExportScheme } from "./source_check.ts";
import { emitStep, type StepContext } from "./scheme_step.ts";

/** What {@link emitLoopTrajectory} builds from. */
export interface LoopPlan {
  /** The scheme. */
  scheme: ExportScheme;
  /** The outer graph, its field and step size. */
  ctx: StepContext;
  /** The scheme's initial state (names in the outer graph). */
  init: readonly string[];
  /** The initial state `y0` `[batch, dim]` (model units). */
  y0: string;
  /** `t0` and `dt` as scalars `[]`. */
  t0: string;
  /** The step size, scalar. */
  dt: string;
  /** Iterations, an int64 scalar `[]` (already ≥ 0). */
  iterations: string;
  /** Steps per iteration (≥ 1). */
  chunk: number;
  /** Element type code of the floats (1 float32, 11 float64). */
  floatCode: number;
}

/**
 * Emits the loop: `iterations · chunk` steps from `init`, the trajectory
 * `[iterations · chunk + 1, batch, dim]` (row 0 is `y0`) and the final state.
 *
 * @param p The plan.
 * @returns The trajectory and the final state of the scheme.
 *
 * @example
 * ```ts
 * import { emitLoopTrajectory } from "./loop_form.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import { FieldGraph } from "./vector_field.ts";
 * import { StepSize } from "./scheme_step.ts";
 * import { checkTableau } from "../solvers/tableau.ts";
 * import { euler } from "../solvers/tableaux.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * const mlp = new Mlp({ dim: 1, widths: [] });
 * const y0 = g.input("y0", "float64", ["batch", 1]);
 * const t0 = g.input("t0", "float64", []);
 * const dt = g.input("dt", "float64", []);
 * const ctx = { g, field: new FieldGraph(g, mlp, Float64Array.of(1, 0), "float64"), step: new StepSize(g, dt, "float64") };
 * const { trajectory } = emitLoopTrajectory({
 *   scheme: { kind: "plain", tableau: checkTableau(euler) }, ctx, init: [y0], y0, t0, dt,
 *   iterations: g.constant(3, "int64"), chunk: 2, floatCode: 11,
 * });
 * const loop = g.build().node!.find((n) => n.opType === "Loop")!;
 * assert.equal(loop.input!.length, 3); // trip count, cond, y: cond is given
 * assert.notEqual(loop.input![1], "");
 * assert.ok(trajectory.length > 0);
 * ```
 */
export function emitLoopTrajectory(p: LoopPlan): { trajectory: string; final: string[] } {
  const { scheme, ctx, init, y0, t0, dt, iterations, chunk, floatCode } = p;
  const g = ctx.g;
  const dim = ctx.field.mlp.dim;
  const type = ctx.field.type;
  const axis0 = g.vector([0], "int64");
  const body = g.subgraph("revode_chunk");
  const n = body.input("n", "int64", []);
  const cond = body.input("cond", "bool", []);
  let state = init.map((_, i) => body.input(`state${i}`, type, ["batch", dim]));
  const first = chunk === 1 ? n : body.node("Mul", [n, body.constant(chunk, "int64")]);
  const times = new Map<number, string>();
  const timeAt = (j: number) => {
    let t = times.get(j);
    if (t === undefined) {
      const k = j === 0 ? first : body.node("Add", [first, body.constant(j, "int64")]);
      t = body.node("Add", [t0, body.node("Mul", [body.node("Cast", [k], { to: floatCode }), dt])]);
      times.set(j, t);
    }
    return t;
  };
  const rowsOut: string[] = [];
  for (let j = 0; j < chunk; j++) {
    state = body.scoped(
      chunk === 1 ? "step" : `step${j}`,
      () => emitStep(scheme, { ...ctx, g: body }, state, () => timeAt(j), () => timeAt(j + 1)),
    );
    rowsOut.push(body.node("Unsqueeze", [state[0], axis0]));
  }
  const block = chunk === 1 ? rowsOut[0] : body.node("Concat", rowsOut, { axis: 0 });
  body.output(cond, "cond_out", "bool", []);
  state.forEach((v, i) => body.output(v, `state${i}_out`, type, ["batch", dim]));
  body.output(block, "block_out", type, [chunk, "batch", dim]);
  const outs = g.nodeOutputs(
    "Loop",
    [iterations, g.constant(1, "bool"), ...init],
    init.length + 1,
    {
      body: {
        graph: body.build(
          `${chunk} step(s) t_n → t_{n+${chunk}}; scan output: y_{n+1} … y_{n+${chunk}}`,
        ),
      },
    },
  );
  // [-1, batch, dim]: the same tensor whether the runtime concatenates or stacks the blocks
  const shape = g.node("Concat", [g.vector([-1], "int64"), g.node("Shape", [y0])], { axis: 0 });
  const steps = g.node("Reshape", [outs[init.length], shape]);
  const trajectory = g.node("Concat", [g.node("Unsqueeze", [y0, axis0]), steps], { axis: 0 });
  return { trajectory, final: outs.slice(0, init.length) };
}
