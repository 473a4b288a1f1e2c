/**
 * One step of each scheme as ONNX nodes, mirroring `solvers/schemes/`: the
 * initial state built from `y0`, then `t_n → t_{n+1} = t_n + h`. States are
 * lists of `[batch, dim]` values; entry 0 is the solution `y`.
 *
 * - plain: `y_{n+1} = y_n + Ψ_h(t_n, y_n)`.
 * - reversible (numerics.md §2), state `(y, z)`, `z_0 = y_0`:
 *   `y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)`,
 *   `z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})`.
 * - reversible Heun (numerics.md §3), state `(y, ŷ, f̂)`, `ŷ_0 = y_0`,
 *   `f̂_0 = f(t_0, y_0)`: `ŷ_{n+1} = 2 y_n − ŷ_n + h f̂_n`,
 *   `f̂_{n+1} = f(t_{n+1}, ŷ_{n+1})`, `y_{n+1} = y_n + (h/2)(f̂_n + f̂_{n+1})`.
 * - leapfrog (numerics.md §3), state `(y, v)`, `v_0 = f(t_0, y_0)`:
 *   `y_½ = y_n + (h/2) v_n`, `u = f(t_n + h/2, y_½)`, `v_{n+1} = 2u − v_n`,
 *   `y_{n+1} = y_½ + (h/2) v_{n+1}`.
 *
 * Only the forward step is exported: inference needs no inverse.
 *
 * @module
 */

import type { GraphBuilder } from "./onnx_graph.ts";
import type { FieldGraph } from "./vector_field.ts";
import type { ExportScheme } from "./source_check.ts";
import { emitIncrement } from "./increment.ts";

/**
 * The step size and the values derived from it, created once in the
 * outermost graph (a `Loop` body reads them from there).
 *
 * @example
 * ```ts
 * import { StepSize } from "./scheme_step.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * const step = new StepSize(g, g.input("dt", "float32", []), "float32");
 * assert.equal(step.negative(), step.negative()); // made once
 * assert.equal(g.build().node!.length, 1);
 * ```
 */
export class StepSize {
  /** `h`. */
  readonly h: string;
  readonly #g: GraphBuilder;
  readonly #type: "float32" | "float64";
  #negative: string | null = null;
  #half: string | null = null;

  /**
   * @param g The outermost graph.
   * @param h The scalar step size.
   * @param type Its element type.
   */
  constructor(g: GraphBuilder, h: string, type: "float32" | "float64") {
    this.#g = g;
    this.h = h;
    this.#type = type;
  }

  /**
   * `−h`.
   *
   * @returns Its name.
   */
  negative(): string {
    this.#negative ??= this.#g.scoped("step_size", () => this.#g.node("Neg", [this.h]));
    return this.#negative;
  }

  /**
   * `h / 2`.
   *
   * @returns Its name.
   */
  half(): string {
    this.#half ??= this.#g.scoped(
      "step_size",
      () => this.#g.node("Mul", [this.h, this.#g.constant(0.5, this.#type)]),
    );
    return this.#half;
  }
}

/**
 * Where a step is built: the graph, the field, the step size.
 *
 * @example
 * ```ts
 * import type { StepContext } from "./scheme_step.ts";
 * import { StepSize } from "./scheme_step.ts";
 * import { FieldGraph } from "./vector_field.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const g = new GraphBuilder("g");
 * const ctx: StepContext = {
 *   g,
 *   field: new FieldGraph(g, new Mlp({ dim: 1, widths: [] }), Float64Array.of(1, 0), "float32"),
 *   step: new StepSize(g, g.input("dt", "float32", []), "float32"),
 * };
 * assert.equal(ctx.step.h, "dt");
 * ```
 */
export interface StepContext {
  /** The graph or Loop body receiving the nodes. */
  g: GraphBuilder;
  /** The vector field. */
  field: FieldGraph;
  /** The step size. */
  step: StepSize;
}

/**
 * Adds the nodes of the initial state.
 *
 * @param scheme The scheme.
 * @param ctx Where to build.
 * @param y0 The initial value `[batch, dim]`.
 * @param t0 The start time (used by schemes that evaluate `f` at `t0`).
 * @returns The state's values, `y` first.
 *
 * @example
 * ```ts
 * import { initialState, StepSize } from "./scheme_step.ts";
 * import { FieldGraph } from "./vector_field.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = new Mlp({ dim: 1, widths: [] });
 * const g = new GraphBuilder("g");
 * const ctx = {
 *   g, field: new FieldGraph(g, mlp, Float64Array.of(1, 0), "float32"),
 *   step: new StepSize(g, g.input("dt", "float32", []), "float32"),
 * };
 * const y0 = g.input("y0", "float32", ["batch", 1]);
 * assert.deepEqual(initialState({ kind: "leapfrog" }, ctx, y0, () => "t0").length, 2);
 * ```
 */
export function initialState(
  scheme: ExportScheme,
  ctx: StepContext,
  y0: string,
  t0: () => string,
): string[] {
  const { g, field } = ctx;
  const time = () => (field.mlp.timeDependent ? t0() : null);
  switch (scheme.kind) {
    case "plain":
      return [y0];
    case "reversible":
      return [y0, y0];
    case "reversibleHeun":
      return [y0, y0, g.scoped("f0", () => field.evaluate(g, y0, time()))];
    case "leapfrog":
      return [y0, g.scoped("f0", () => field.evaluate(g, y0, time()))];
  }
}

/**
 * Adds the nodes of one step `t_n → t_{n+1}`.
 *
 * @param scheme The scheme.
 * @param ctx Where to build.
 * @param state The state at `t_n`.
 * @param tn The time `t_n` (created on demand: autonomous fields never ask).
 * @param tn1 The time `t_{n+1}`.
 * @returns The state at `t_{n+1}`.
 *
 * @example A plain Euler step is one Gemm, one Mul, one Add
 * ```ts
 * import { emitStep, StepSize } from "./scheme_step.ts";
 * import { FieldGraph } from "./vector_field.ts";
 * import { GraphBuilder } from "./onnx_graph.ts";
 * import { checkTableau } from "../solvers/tableau.ts";
 * import { euler } from "../solvers/tableaux.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = new Mlp({ dim: 1, widths: [] });
 * const g = new GraphBuilder("g");
 * const ctx = {
 *   g, field: new FieldGraph(g, mlp, Float64Array.of(1, 0), "float32"),
 *   step: new StepSize(g, g.input("dt", "float32", []), "float32"),
 * };
 * const y = g.input("y", "float32", ["batch", 1]);
 * const scheme = { kind: "plain", tableau: checkTableau(euler) } as const;
 * emitStep(scheme, ctx, [y], () => "t", () => "t1");
 * assert.deepEqual(g.build().node!.map((n) => n.opType), ["Gemm", "Mul", "Add"]);
 * ```
 */
export function emitStep(
  scheme: ExportScheme,
  ctx: StepContext,
  state: readonly string[],
  tn: () => string,
  tn1: () => string,
): string[] {
  const { g, field, step } = ctx;
  const type = field.type;
  const td = field.mlp.timeDependent;
  switch (scheme.kind) {
    case "plain": {
      const [y] = state;
      const psi = g.scoped(
        "fwd",
        () => emitIncrement(g, field, scheme.tableau, y, td ? tn() : null, step.h),
      );
      return [g.node("Add", [y, psi])];
    }
    case "reversible": {
      const [y, z] = state;
      const lambda = scheme.coupling;
      const psi = g.scoped(
        "fwd",
        () => emitIncrement(g, field, scheme.tableau, z, td ? tn() : null, step.h),
      );
      // λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)
      const mixed = lambda === 1 ? y : g.node("Add", [
        g.node("Mul", [y, g.constant(lambda, type)]),
        g.node("Mul", [z, g.constant(1 - lambda, type)]),
      ]);
      const yNext = g.node("Add", [mixed, psi]);
      const back = g.scoped(
        "bwd",
        () => emitIncrement(g, field, scheme.tableau, yNext, td ? tn1() : null, step.negative()),
      );
      return [yNext, g.node("Sub", [z, back])];
    }
    case "reversibleHeun": {
      const [y, yHat, fHat] = state;
      const twoY = g.node("Mul", [y, g.constant(2, type)]);
      const hatNext = g.node("Add", [
        g.node("Sub", [twoY, yHat]),
        g.node("Mul", [fHat, step.h]),
      ]);
      const fNext = g.scoped("f", () => field.evaluate(g, hatNext, td ? tn1() : null));
      const yNext = g.node("Add", [
        y,
        g.node("Mul", [g.node("Add", [fHat, fNext]), step.half()]),
      ]);
      return [yNext, hatNext, fNext];
    }
    case "leapfrog": {
      const [y, v] = state;
      const yHalf = g.node("Add", [y, g.node("Mul", [v, step.half()])]);
      const tHalf = td ? g.node("Add", [tn(), step.half()]) : null;
      const u = g.scoped("f", () => field.evaluate(g, yHalf, tHalf));
      const vNext = g.node("Sub", [g.node("Mul", [u, g.constant(2, type)]), v]);
      const yNext = g.node("Add", [yHalf, g.node("Mul", [vNext, step.half()])]);
      return [yNext, vNext];
    }
  }
}
