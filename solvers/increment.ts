/**
 * The increment `Ψ_h(t, y) = h Σ_i b_i k_i` of an explicit Runge–Kutta
 * method and its vector–Jacobian product (numerics.md §1).
 *
 * @module
 */

import { type CheckedTableau, liveStages } from "./tableau.ts";
import { isTaped, type VectorField } from "./vector_field.ts";
import type { MemoryMeter } from "./memory.ts";

/**
 * Evaluates `Ψ_h(t, y)` for a batch and keeps the stage inputs
 * `Y_i = y + h Σ_{j<i} a_ij k_j` of that evaluation — and, for fields that
 * offer it, each stage's tape of activations — which is all its VJP needs.
 * Buffers are allocated once, at construction.
 *
 * @example Ψ_h of Euler on y' = A y is h A y
 * ```ts
 * import { Increment } from "./increment.ts";
 * import { checkTableau } from "./tableau.ts";
 * import { euler } from "./tableaux.ts";
 * import { linearField } from "./fields/linear.ts";
 * import { MemoryMeter } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const inc = new Increment(linearField(1), checkTableau(euler), 1, new MemoryMeter());
 * const out = new Float64Array(1);
 * inc.evaluate(0, 0.1, Float64Array.of(2), Float64Array.of(-1), out);
 * assert.ok(Math.abs(out[0] + 0.2) < 1e-15);
 * ```
 */
export class Increment {
  /** Stage inputs `Y_i` of the latest evaluation, each `[batch, dim]`. */
  readonly stageInputs: Float64Array[];
  /** Stage derivatives `k_i` of the latest evaluation. */
  private readonly k: Float64Array[];
  /** Cotangents `Ȳ_i` of the stage inputs, used during a VJP. */
  private readonly stageBars: Float64Array[];
  /** Scratch cotangent `k̄_i`. */
  private readonly kBar: Float64Array;
  /** Per stage, the field's tape of its evaluation (empty when the field keeps none). */
  private readonly tapes: Float64Array[];
  private readonly taped: boolean;
  /** Whether stage `i` influences the solution (`b_i ≠ 0` or a live later stage reads it). */
  private readonly live: boolean[];
  private readonly size: number;

  /**
   * Allocates the buffers of one increment for a field, tableau and batch.
   *
   * @param field The vector field.
   * @param tableau A validated tableau.
   * @param batch Number of trajectories.
   * @param meter Where buffer bytes are counted.
   */
  constructor(
    readonly field: VectorField,
    readonly tableau: CheckedTableau,
    readonly batch: number,
    meter: MemoryMeter,
  ) {
    const s = tableau.stages;
    this.size = batch * field.dim;
    this.stageInputs = [];
    this.k = [];
    this.stageBars = [];
    for (let i = 0; i < s; i++) {
      this.stageInputs.push(meter.f64(this.size));
      this.k.push(meter.f64(this.size));
      this.stageBars.push(meter.f64(this.size));
    }
    this.kBar = meter.f64(this.size);
    this.taped = isTaped(field);
    const tapeLength = isTaped(field) ? field.tapeLength(batch) : 0;
    this.tapes = [];
    for (let i = 0; i < s; i++) this.tapes.push(meter.f64(tapeLength));
    this.live = liveStages(tableau);
  }

  /** Entries of what a VJP needs, stage inputs and field tapes (see {@link Increment.save}). */
  get workspaceLength(): number {
    return this.tableau.stages * (this.size + this.tapes[0].length);
  }

  /**
   * Writes `Ψ_h(t, y)` into `out`, keeping the stage inputs. With `errorOut`,
   * also evaluates every stage and writes the embedded error estimate
   * `h Σ_i bError_i k_i` there (the tableau must have `bError`).
   *
   * @param t Start time.
   * @param h Step size (negative for a step backwards in time).
   * @param y State `[batch, dim]`; not modified, may alias nothing of this object.
   * @param params Parameters `θ`.
   * @param out Receives `Ψ_h(t, y)`.
   * @param errorOut Receives the error estimate, when given.
   */
  evaluate(
    t: number,
    h: number,
    y: Float64Array,
    params: Float64Array,
    out: Float64Array,
    errorOut?: Float64Array,
  ): void {
    const { aDense, b, c, stages: s } = this.tableau;
    const n = this.size;
    const all = errorOut !== undefined;
    for (let i = 0; i < s; i++) {
      if (!all && !this.live[i]) continue;
      const yi = this.stageInputs[i];
      // element loops, not set()/fill(): at batch 1 a builtin call costs more than its copy
      for (let e = 0; e < n; e++) yi[e] = y[e];
      for (let j = 0; j < i; j++) {
        const w = h * aDense[i * s + j];
        if (w === 0) continue;
        const kj = this.k[j];
        for (let e = 0; e < n; e++) yi[e] += w * kj[e];
      }
      const ti = t + c[i] * h;
      if (this.taped) {
        this.field.evaluateTaped!(ti, yi, this.batch, params, this.k[i], this.tapes[i]);
      } else this.field.evaluate(ti, yi, this.batch, params, this.k[i]);
    }
    for (let e = 0; e < n; e++) out[e] = 0;
    for (let i = 0; i < s; i++) {
      const w = h * b[i];
      if (w === 0) continue;
      const ki = this.k[i];
      for (let e = 0; e < n; e++) out[e] += w * ki[e];
    }
    if (errorOut) {
      const be = this.tableau.bError!;
      errorOut.fill(0);
      for (let i = 0; i < s; i++) {
        const w = h * be[i];
        if (w === 0) continue;
        const ki = this.k[i];
        for (let e = 0; e < n; e++) errorOut[e] += w * ki[e];
      }
    }
  }

  /**
   * VJP of the latest evaluation (same `t`, `h`): for the cotangent `ū` of
   * `Ψ_h(t, y)`, runs the stages backwards,
   *
   *     k̄_i = h b_i ū + h Σ_{l>i} a_li Ȳ_l,   Ȳ_i = J_f(Y_i)ᵀ k̄_i,   ȳ = Σ_i Ȳ_i,
   *
   * overwriting `yBar` with `ȳ` and adding `Σ_i J_θ(Y_i)ᵀ k̄_i` to `paramsBar`.
   *
   * @param t Start time of the evaluation.
   * @param h Its step size.
   * @param params Parameters `θ`.
   * @param uBar Cotangent `ū` of the increment.
   * @param yBar Receives `ȳ`; must not alias `uBar`.
   * @param paramsBar Accumulates `θ̄`, or null.
   */
  vjp(
    t: number,
    h: number,
    params: Float64Array,
    uBar: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void {
    const { aDense, b, c, stages: s } = this.tableau;
    const n = this.size;
    const kBar = this.kBar;
    for (let e = 0; e < n; e++) yBar[e] = 0;
    for (let i = s - 1; i >= 0; i--) {
      if (!this.live[i]) continue;
      const wb = h * b[i];
      let any = wb !== 0;
      if (wb !== 0) {
        for (let e = 0; e < n; e++) kBar[e] = wb * uBar[e];
      } else {
        for (let e = 0; e < n; e++) kBar[e] = 0;
      }
      for (let l = i + 1; l < s; l++) {
        const w = h * aDense[l * s + i];
        if (w === 0 || !this.live[l]) continue;
        any = true;
        const yl = this.stageBars[l];
        for (let e = 0; e < n; e++) kBar[e] += w * yl[e];
      }
      const yiBar = this.stageBars[i];
      if (!any) {
        for (let e = 0; e < n; e++) yiBar[e] = 0;
        continue;
      }
      const ti = t + c[i] * h;
      if (this.taped) {
        this.field.vjpTaped!(
          ti,
          this.stageInputs[i],
          this.batch,
          params,
          this.tapes[i],
          kBar,
          yiBar,
          paramsBar,
        );
      } else this.field.vjp(ti, this.stageInputs[i], this.batch, params, kBar, yiBar, paramsBar);
      for (let e = 0; e < n; e++) yBar[e] += yiBar[e];
    }
  }

  /**
   * Copies the stage inputs into `dst` at `offset` (for methods that tape them).
   *
   * @param dst Destination.
   * @param offset First index written.
   */
  save(dst: Float64Array, offset: number): void {
    let o = offset;
    for (let i = 0; i < this.stageInputs.length; i++) {
      dst.set(this.stageInputs[i], o);
      o += this.size;
      dst.set(this.tapes[i], o);
      o += this.tapes[i].length;
    }
  }

  /**
   * Restores stage inputs saved by {@link Increment.save}.
   *
   * @param src Source.
   * @param offset First index read.
   */
  load(src: Float64Array, offset: number): void {
    let o = offset;
    for (let i = 0; i < this.stageInputs.length; i++) {
      this.stageInputs[i].set(src.subarray(o, o + this.size));
      o += this.size;
      const tape = this.tapes[i];
      tape.set(src.subarray(o, o + tape.length));
      o += tape.length;
    }
  }
}
