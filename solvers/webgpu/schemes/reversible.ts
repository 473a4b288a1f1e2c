/**
 * The algebraically reversible scheme of McCallum & Foster (2024) on the
 * GPU, numerics.md §2; the mirror of solvers/schemes/reversible.ts. State
 * `(y, z)` with `z_0 = y_0` and coupling `λ ∈ (0, 1]`:
 *
 *     y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)
 *     z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})
 *
 * The scheme owns one working state `(y, z)` and its cotangent `(ȳ, z̄)`;
 * gradient methods copy other states in and out of it. `λ` and the tableau
 * are baked into the kernels; each step reads its times from the call table.
 * Two classes, so that no method exists that cannot run:
 * {@link GpuReversibleState} holds only the state, its cotangent and the
 * constants — what the whole-solve kernels (gradients/whole.ts) need, as
 * they keep the stage values in each invocation's own memory — and
 * {@link GpuReversibleScheme} adds the two increments and the kernels that
 * record one step, its inverse and its VJP at a time.
 *
 * @module
 */

import { type CheckedTableau, liveStages } from "../../tableau.ts";
import type { SolveCalls } from "../runtime/calls.ts";
import type { GpuContext, Slice } from "../runtime/context.ts";
import { GpuIncrement } from "../increment.ts";
import type { GpuMlp } from "../fields/mlp.ts";
import type { Op, Recorder } from "../runtime/recorder.ts";
import { f32, linearGroups, linearMain } from "../runtime/wgsl.ts";
import { requireCoupling } from "../../checks.ts";

/**
 * The reversible scheme's working state `(y, z)`, its cotangent `(ȳ, z̄)` and
 * constants, for one tableau and one batch: what the whole-solve kernels
 * run on. {@link GpuReversibleScheme} adds the per-step kernels.
 *
 * @example The state of a batch of 3 two-dimensional trajectories
 * ```ts
 * import { GpuReversibleState } from "./reversible.ts";
 * import { GpuMlp } from "../fields/mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { checkTableau } from "../../tableau.ts";
 * import { rk4 } from "../../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new GpuMlp(ctx, new Mlp({ dim: 2, widths: [] }), 3);
 *   const state = new GpuReversibleState(ctx, mlp, checkTableau(rk4), 0.9);
 *   assert.deepEqual(state.stateLengths, [6, 6]);
 *   const rec = new Recorder(ctx);
 *   rec.run(state.initOps(ctx.upload("y0", Float64Array.of(1, 2, 3, 4, 5, 6))), null);
 *   rec.submit();
 *   assert.deepEqual([...await ctx.read(state.z)], [1, 2, 3, 4, 5, 6]); // z_0 = y_0
 *   assert.throws(() => new GpuReversibleState(ctx, mlp, checkTableau(rk4), 1.5), /coupling/);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuReversibleState {
  /** The coupling λ. */
  readonly coupling: number;
  /** The working state `[y, z]` as one slice (for copies). */
  readonly state: Slice;
  /** `y`, `[batch, dim]`. */
  readonly y: Slice;
  /** `z`, `[batch, dim]`. */
  readonly z: Slice;
  /** The cotangent `[ȳ, z̄]` as one slice. */
  readonly bar: Slice;
  /** `ȳ`. */
  readonly yBar: Slice;
  /** `z̄`. */
  readonly zBar: Slice;
  /** The base method. */
  readonly tableau: CheckedTableau;
  /** Whether stage `i` influences the solution (see `liveStages`). */
  readonly live: readonly boolean[];
  /** Length of a state slice, for allocating copies of the state. */
  readonly stateLengths: readonly number[];
  /** The context. */
  protected readonly ctx: GpuContext;
  /** Values in `y` (and in `z`): `batch × dim`. */
  protected readonly n: number;

  /**
   * Allocates the state and its cotangent.
   *
   * @param ctx The context.
   * @param mlp The field's kernels (their batch and dimension size the state).
   * @param tableau The base method.
   * @param coupling λ in (0, 1].
   */
  constructor(ctx: GpuContext, mlp: GpuMlp, tableau: CheckedTableau, coupling: number) {
    requireCoupling(coupling);
    this.ctx = ctx;
    this.coupling = coupling;
    this.tableau = tableau;
    this.live = liveStages(tableau);
    const n = mlp.batch * mlp.mlp.dim;
    this.n = n;
    this.stateLengths = [n, n];
    [this.y, this.z] = ctx.arena("reversible.state", this.stateLengths);
    this.state = span(this.y, this.z);
    [this.yBar, this.zBar] = ctx.arena("reversible.bar", this.stateLengths);
    this.bar = span(this.yBar, this.zBar);
  }

  /**
   * `(y, z) = (y0, y0)`.
   *
   * @param y0 Initial state `[batch, dim]`.
   * @returns The dispatch.
   */
  initOps(y0: Slice): Op[] {
    return this.elementwise(
      "reversible.init",
      ["y0", "y", "z"],
      [y0, this.y, this.z],
      "  y[i] = y0[i];\n  z[i] = y0[i];",
    );
  }

  /**
   * `∂L/∂y0 = ȳ_0 + z̄_0` (because `z_0 = y_0`).
   *
   * @param y0Bar Receives `∂L/∂y0`.
   * @returns The dispatch.
   */
  initVjpOps(y0Bar: Slice): Op[] {
    return this.elementwise("reversible.init.vjp", ["yb", "zb", "out"], [
      this.yBar,
      this.zBar,
      y0Bar,
    ], "  out[i] = yb[i] + zb[i];");
  }

  /**
   * One elementwise kernel over the state's values, bound to `slices`.
   *
   * @param name Kernel label.
   * @param names Binding names, in order.
   * @param slices The slices bound to them.
   * @param body WGSL for element `i`.
   * @returns The dispatch.
   */
  protected elementwise(name: string, names: string[], slices: Slice[], body: string): Op[] {
    const kernel = this.ctx.kernel({
      name,
      bindings: names.map((n) => ({ name: n, access: "read_write" as const })),
      call: body.includes("call."),
      code: linearMain(this.n, body),
    });
    return [{ kernel, group: this.ctx.bind(kernel, slices), groups: linearGroups(this.n, 64) }];
  }
}

/**
 * The reversible scheme of one tableau for one batch, step by step: the
 * state of {@link GpuReversibleState} and the kernels that record one step,
 * its exact inverse and its VJP.
 *
 * @example A step and its inverse
 * ```ts
 * import { GpuReversibleScheme } from "./reversible.ts";
 * import { GpuMlp } from "../fields/mlp.ts";
 * import { GpuContext } from "../runtime/context.ts";
 * import { solveCalls } from "../runtime/calls.ts";
 * import { Recorder } from "../runtime/recorder.ts";
 * import { findGpuAdapter } from "../runtime/device.ts";
 * import { Mlp } from "../../fields/mlp.ts";
 * import { checkTableau } from "../../tableau.ts";
 * import { rk4 } from "../../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const ctx = new GpuContext(await adapter.requestDevice());
 *   const mlp = new GpuMlp(ctx, new Mlp({ dim: 1, widths: [] }), 1); // f(y) = w y + b
 *   const params = ctx.upload("theta", Float64Array.of(-1, 0));
 *   const partials = ctx.buffer("partials", mlp.partialsLength);
 *   const tableau = checkTableau(rk4);
 *   const scheme = new GpuReversibleScheme(ctx, mlp, tableau, 0.999, params, partials);
 *   const calls = solveCalls(ctx, [0, 0.1], tableau, () => -1);
 *   const rec = new Recorder(ctx);
 *   rec.run(scheme.initOps(ctx.upload("y0", Float64Array.of(1))), null);
 *   scheme.step(rec, calls, 0);
 *   rec.submit();
 *   assert.ok(Math.abs((await ctx.read(scheme.y))[0] - Math.exp(-0.1)) < 1e-6);
 *   scheme.inverse(rec, calls, 0);
 *   rec.submit();
 *   assert.ok(Math.abs((await ctx.read(scheme.y))[0] - 1) < 1e-6);
 *   ctx.destroy();
 * }
 * ```
 */
export class GpuReversibleScheme extends GpuReversibleState {
  /** `Ψ_h(t_n, z_n)`: the forward increment and its stage values. */
  readonly forward: GpuIncrement;
  /** `Ψ_{−h}(t_{n+1}, y_{n+1})`: the backward increment (all stages with an error estimate). */
  readonly backward: GpuIncrement;
  readonly #ops: StepOps;

  /**
   * Allocates the buffers and prepares the kernels.
   *
   * @param ctx The context.
   * @param mlp The field's kernels.
   * @param tableau The base method.
   * @param coupling λ in (0, 1].
   * @param params The parameters θ.
   * @param partials Partial parameter gradients.
   * @param options Whether to evaluate the error estimate: {@link GpuSchemeOptions}.
   */
  constructor(
    ctx: GpuContext,
    mlp: GpuMlp,
    tableau: CheckedTableau,
    coupling: number,
    params: Slice,
    partials: Slice,
    options: GpuSchemeOptions = {},
  ) {
    super(ctx, mlp, tableau, coupling);
    const fwd = new GpuIncrement(ctx, mlp, tableau, params, partials);
    const bwd = new GpuIncrement(ctx, mlp, tableau, params, partials, options.errorEstimate);
    const lam = f32(coupling), oml = f32(1 - coupling);
    this.forward = fwd;
    this.backward = bwd;
    this.#ops = {
      yUpdate: this.elementwise("reversible.step.y", ["y", "z", "k"], [
        this.y,
        this.z,
        fwd.kRegion,
      ], `  y[i] = ${lam} * y[i] + ${oml} * z[i] + ${fwd.psi("k")};`),
      zUpdate: this.elementwise(
        "reversible.step.z",
        ["z", "k"],
        [this.z, bwd.kRegion],
        `  z[i] = z[i] - ${bwd.psi("k")};`,
      ),
      zRestore: this.elementwise(
        "reversible.inverse.z",
        ["z", "k"],
        [this.z, bwd.kRegion],
        `  z[i] = z[i] + ${bwd.psi("k")};`,
      ),
      yRestore: this.elementwise("reversible.inverse.y", ["y", "z", "k"], [
        this.y,
        this.z,
        fwd.kRegion,
      ], `  y[i] = (y[i] - ${oml} * z[i] - ${fwd.psi("k")}) / ${lam};`),
      yBarAdd: this.elementwise(
        "reversible.vjp.y",
        ["yb", "bars"],
        [this.yBar, bwd.barRegion],
        `  yb[i] += ${bwd.yBarSum("bars")};`,
      ),
      zBarUpdate: this.elementwise("reversible.vjp.z", ["yb", "zb", "bars"], [
        this.yBar,
        this.zBar,
        fwd.barRegion,
      ], `  zb[i] += ${oml} * yb[i] + ${fwd.yBarSum("bars")};\n  yb[i] *= ${lam};`),
    };
  }

  /**
   * Records step `n`: `(y_n, z_n) → (y_{n+1}, z_{n+1})` in place.
   *
   * @param rec The recorder.
   * @param calls The solve's call records.
   * @param n Step index.
   */
  step(rec: Recorder, calls: SolveCalls, n: number): void {
    const f = calls.forward(n), b = calls.backward(n);
    const ops = this.#ops;
    rec.run(this.forward.evaluateOps(this.z), f);
    rec.run(ops.yUpdate, f);
    rec.run(this.backward.evaluateOps(this.y), b);
    rec.run(ops.zUpdate, b);
  }

  /**
   * Records the exact inverse of step `n`: `(y_{n+1}, z_{n+1}) → (y_n, z_n)`
   * in place, keeping both increments' stage values for {@link GpuReversibleScheme.stepVjp}.
   *
   * @param rec The recorder.
   * @param calls The solve's call records.
   * @param n Step index.
   */
  inverse(rec: Recorder, calls: SolveCalls, n: number): void {
    const f = calls.forward(n), b = calls.backward(n);
    // the inverse needs no error estimate: live stages only
    const ops = this.#ops;
    rec.run(this.backward.evaluateOps(this.y, "live"), b);
    rec.run(ops.zRestore, b);
    rec.run(this.forward.evaluateOps(this.z), f);
    rec.run(ops.yRestore, f);
  }

  /**
   * Records the VJP of step `n` (numerics.md §2, backward pass steps 3 and
   * 4), turning `(ȳ_{n+1}, z̄_{n+1})` into `(ȳ_n, z̄_n)` and adding to the
   * partial parameter gradients. Needs both increments' stage values of
   * step `n` (from {@link GpuReversibleScheme.step} or
   * {@link GpuReversibleScheme.inverse}).
   *
   * @param rec The recorder.
   * @param calls The solve's call records.
   * @param n Step index.
   */
  stepVjp(rec: Recorder, calls: SolveCalls, n: number): void {
    const f = calls.forward(n), b = calls.backward(n);
    // 3. through z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})
    const ops = this.#ops;
    rec.run(this.backward.vjpOps(this.zBar, -1), b);
    rec.run(ops.yBarAdd, null);
    // 4. through y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)
    rec.run(this.forward.vjpOps(this.yBar, 1), f);
    rec.run(ops.zBarUpdate, null);
  }
}

/**
 * Options of {@link GpuReversibleScheme}'s constructor.
 *
 * @example
 * ```ts
 * import type { GpuSchemeOptions } from "./reversible.ts";
 * import assert from "node:assert/strict";
 *
 * const adaptive: GpuSchemeOptions = { errorEstimate: true };
 * assert.equal(adaptive.errorEstimate, true);
 * ```
 */
export interface GpuSchemeOptions {
  /**
   * Evaluate every stage of `Ψ_{−h}`, whose embedded estimate adaptive steps
   * use (numerics.md §4); default false.
   */
  errorEstimate?: boolean;
}

/** The elementwise kernels that record one step, its inverse and its VJP. */
interface StepOps {
  yUpdate: Op[];
  zUpdate: Op[];
  zRestore: Op[];
  yRestore: Op[];
  yBarAdd: Op[];
  zBarUpdate: Op[];
}

/** One slice from the start of `a` to the end of `b` (same buffer). */
function span(a: Slice, b: Slice): Slice {
  return { buffer: a.buffer, offset: a.offset, length: (b.offset - a.offset) / 4 + b.length };
}
