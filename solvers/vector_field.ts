/**
 * The vector field `f(t, y; θ)` that every solver integrates, batched over
 * trajectories. States are row-major `[batch, dim]` Float64Arrays; the
 * parameters `θ` are one flat Float64Array shared by the whole batch.
 *
 * @module
 */

/**
 * A batched vector field `f(t, y; θ)` with its vector–Jacobian products.
 *
 * Implementations must not allocate inside {@link VectorField.evaluate} or
 * {@link VectorField.vjp} once they have seen the largest batch they will be
 * called with: both sit on the hot path of every solver step.
 *
 * @example A hand-written field y' = −θ₀ y
 * ```ts
 * import type { VectorField } from "./vector_field.ts";
 * import assert from "node:assert/strict";
 *
 * const decay: VectorField = {
 *   dim: 1,
 *   paramCount: 1,
 *   timeDependent: false,
 *   evaluate(_t, y, batch, params, out) {
 *     for (let i = 0; i < batch; i++) out[i] = -params[0] * y[i];
 *   },
 *   vjp(_t, y, batch, params, cotangent, yBar, paramsBar) {
 *     for (let i = 0; i < batch; i++) {
 *       yBar[i] = -params[0] * cotangent[i];
 *       if (paramsBar) paramsBar[0] -= y[i] * cotangent[i];
 *     }
 *   },
 * };
 * const out = new Float64Array(1);
 * decay.evaluate(0, Float64Array.of(2), 1, Float64Array.of(3), out);
 * assert.equal(out[0], -6);
 * ```
 */
export interface VectorField {
  /** Dimension of the state `y` of one trajectory. */
  readonly dim: number;
  /** Length of the flat parameter vector `θ`. */
  readonly paramCount: number;
  /** Whether `f` reads `t`; autonomous fields ignore it. */
  readonly timeDependent: boolean;
  /**
   * Writes `f(t, y_b; θ)` for every row `b < batch` of `y` into `out`
   * (both `[batch, dim]`).
   */
  evaluate(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    out: Float64Array,
  ): void;
  /**
   * Vector–Jacobian products at `(t, y)` for the cotangent `v` of `f(t, y)`:
   * overwrites `yBar` with `J_y(t, y)ᵀ v` row by row and, when `paramsBar` is
   * given, *adds* `Σ_b J_θ(t, y_b)ᵀ v_b` to it.
   */
  vjp(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    cotangent: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void;
  /**
   * Optional: entries of the tape {@link VectorField.evaluateTaped} keeps
   * for `batch` rows. Fields that provide the three taped methods let the
   * solvers skip the forward pass a VJP would otherwise repeat.
   */
  tapeLength?(batch: number): number;
  /** Optional: {@link VectorField.evaluate}, keeping in `tape` what {@link VectorField.vjpTaped} needs. */
  evaluateTaped?(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    out: Float64Array,
    tape: Float64Array,
  ): void;
  /** Optional: {@link VectorField.vjp} at the `(t, y)` of the evaluation that filled `tape`. */
  vjpTaped?(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    tape: Float64Array,
    cotangent: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void;
}

/**
 * Whether a field provides the taped evaluation and VJP.
 *
 * @param field The field.
 * @returns True when `tapeLength`, `evaluateTaped` and `vjpTaped` all exist.
 *
 * @example
 * ```ts
 * import { isTaped } from "./vector_field.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isTaped(linearField(1)), false);
 * ```
 */
export function isTaped(field: VectorField): field is VectorField & {
  tapeLength(batch: number): number;
  evaluateTaped: NonNullable<VectorField["evaluateTaped"]>;
  vjpTaped: NonNullable<VectorField["vjpTaped"]>;
} {
  return typeof field.tapeLength === "function" && typeof field.evaluateTaped === "function" &&
    typeof field.vjpTaped === "function";
}

/** Counts of the work a solve or a gradient did, in whole-batch calls. */
export interface WorkCounts {
  /** Calls of {@link VectorField.evaluate}. */
  evaluations: number;
  /** Calls of {@link VectorField.vjp}. */
  vjps: number;
}

/**
 * Wraps a field so that every evaluation and VJP is counted in `counts`.
 *
 * @param field The field to wrap.
 * @param counts Where the counts accumulate.
 * @returns A field with the same behaviour that counts its calls.
 *
 * @example
 * ```ts
 * import { countingField } from "./vector_field.ts";
 * import { linearField } from "./fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const counts = { evaluations: 0, vjps: 0 };
 * const f = countingField(linearField(1), counts);
 * f.evaluate(0, Float64Array.of(1), 1, Float64Array.of(0.5), new Float64Array(1));
 * assert.equal(counts.evaluations, 1);
 * ```
 */
export function countingField(field: VectorField, counts: WorkCounts): VectorField {
  const counted: VectorField = {
    dim: field.dim,
    paramCount: field.paramCount,
    timeDependent: field.timeDependent,
    evaluate(t, y, batch, params, out) {
      counts.evaluations++;
      field.evaluate(t, y, batch, params, out);
    },
    vjp(t, y, batch, params, cotangent, yBar, paramsBar) {
      counts.vjps++;
      field.vjp(t, y, batch, params, cotangent, yBar, paramsBar);
    },
  };
  if (isTaped(field)) {
    counted.tapeLength = (batch) => field.tapeLength(batch);
    counted.evaluateTaped = (t, y, batch, params, out, tape) => {
      counts.evaluations++;
      field.evaluateTaped(t, y, batch, params, out, tape);
    };
    counted.vjpTaped = (t, y, batch, params, tape, cotangent, yBar, paramsBar) => {
      counts.vjps++;
      field.vjpTaped(t, y, batch, params, tape, cotangent, yBar, paramsBar);
    };
  }
  return counted;
}
