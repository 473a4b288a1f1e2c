/**
 * What a solve returns: the state at `t0`, at `t1`, at the end of every step,
 * or at any increasing list of times `ts`, the last by Hermite cubic
 * interpolation inside the step that covers each time. Each output's forward
 * rule sits next to its VJP, so every gradient method back-propagates through
 * the outputs exactly.
 *
 * Slots are laid out `[t0] [ts…] [steps…] [t1]`, each slot `[batch, dim]`.
 *
 * @module
 */

import { invalidArgument, requireKnownKeys } from "./checks.ts";
import type { MemoryMeter } from "./memory.ts";
import type { VectorField } from "./vector_field.ts";
import type { TimeGrid } from "./grid.ts";

/**
 * Which points a solve returns, as in Diffrax's `SaveAt`. The default is
 * `{ t1: true }`.
 */
export interface SaveAt {
  /** Save `y(t0)`. */
  t0?: boolean;
  /** Save `y(t1)` (implied by `steps`). */
  t1?: boolean;
  /** Save the end of every (accepted) step. */
  steps?: boolean;
  /** Save at these strictly increasing times inside `[t0, t1]`, by Hermite cubic interpolation. */
  ts?: ArrayLike<number>;
}

/** A checked {@link SaveAt}. */
export interface SavePlan {
  /** Save `y(t0)`. */
  readonly t0: boolean;
  /** Save `y(t1)` in its own slot (false when `steps` covers it). */
  readonly t1: boolean;
  /** Save every step. */
  readonly steps: boolean;
  /** Interpolated output times, or an empty array. */
  readonly ts: Float64Array;
}

/**
 * Checks a {@link SaveAt} against the interval `[t0, t1]`.
 *
 * @param saveAt What to save (undefined: `{ t1: true }`).
 * @param t0 Start of the solve.
 * @param t1 End of the solve.
 * @returns The checked plan.
 *
 * @example
 * ```ts
 * import { checkSaveAt } from "./outputs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkSaveAt({ ts: [0.5, 1] }, 0, 1).ts.length, 2);
 * assert.throws(() => checkSaveAt({ ts: [0.5, 2] }, 0, 1), /saveAt\.ts\[1\].*2.*\[0, 1\]/);
 * ```
 */
export function checkSaveAt(saveAt: SaveAt | undefined, t0: number, t1: number): SavePlan {
  const s = saveAt ?? { t1: true };
  if (s === null || typeof s !== "object") {
    invalidArgument("saveAt", s, "an object { t0?, t1?, steps?, ts? }");
  }
  requireKnownKeys("saveAt", s, ["t0", "t1", "steps", "ts"]);
  let ts = new Float64Array(0);
  if (s.ts !== undefined) {
    const given = s.ts;
    if (given === null || typeof given !== "object" || typeof given.length !== "number") {
      invalidArgument("saveAt.ts", given, "an array of increasing times");
    }
    ts = Float64Array.from(given);
    for (let k = 0; k < ts.length; k++) {
      if (!Number.isFinite(ts[k]) || ts[k] < t0 || ts[k] > t1) {
        invalidArgument(`saveAt.ts[${k}]`, ts[k], `a time inside [${t0}, ${t1}]`);
      }
      if (k > 0 && !(ts[k] > ts[k - 1])) {
        invalidArgument(
          `saveAt.ts[${k}]`,
          ts[k],
          `a time strictly greater than saveAt.ts[${k - 1}] = ${ts[k - 1]}`,
        );
      }
    }
  }
  for (const key of ["t0", "t1", "steps"] as const) {
    if (s[key] !== undefined && typeof s[key] !== "boolean") {
      invalidArgument(`saveAt.${key}`, s[key], "true, false or undefined");
    }
  }
  const steps = s.steps === true;
  if (steps && ts.length > 0) {
    invalidArgument("saveAt", "{ steps: true, ts: […] }", "either steps or ts, not both");
  }
  const plan = { t0: s.t0 === true, t1: !steps && s.t1 === true, steps, ts };
  if (!plan.t0 && !plan.t1 && !plan.steps && ts.length === 0) {
    invalidArgument("saveAt", s, "at least one of t0, t1, steps set to true, or a non-empty ts");
  }
  return plan;
}

/**
 * The times of a plan's slots on one trajectory's grid, in slot order.
 *
 * @param plan The saved outputs.
 * @param grid The trajectory's grid.
 * @param stepSlots Slots for `steps` (more than the grid's steps pads with its last time).
 * @param tEnd The time of the `t1` slot.
 * @param out Where the times go.
 *
 * @example
 * ```ts
 * import { checkSaveAt, slotTimes } from "./outputs.ts";
 * import { uniformGrid } from "./grid.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = checkSaveAt({ t0: true, steps: true }, 0, 1);
 * const ts = new Float64Array(4);
 * slotTimes(plan, uniformGrid(0, 1, 2), 3, 1, ts);
 * assert.deepEqual([...ts], [0, 0.5, 1, 1]);
 * ```
 */
export function slotTimes(
  plan: SavePlan,
  grid: TimeGrid,
  stepSlots: number,
  tEnd: number,
  out: Float64Array,
): void {
  let k = 0;
  if (plan.t0) out[k++] = grid.time(0);
  for (const t of plan.ts) out[k++] = t;
  if (plan.steps) {
    for (let i = 1; i <= stepSlots; i++) out[k++] = grid.time(Math.min(i, grid.steps));
  }
  if (plan.t1) out[k++] = tEnd;
}

// Hermite cubic basis on s ∈ [0, 1] and its derivatives.
const h00 = (s: number) => (2 * s - 3) * s * s + 1;
const h10 = (s: number) => ((s - 2) * s + 1) * s;
const h01 = (s: number) => (3 - 2 * s) * s * s;
const h11 = (s: number) => (s - 1) * s * s;
const d00 = (s: number) => 6 * s * s - 6 * s;
const d10 = (s: number) => (3 * s - 4) * s + 1;
const d01 = (s: number) => 6 * s - 6 * s * s;
const d11 = (s: number) => (3 * s - 2) * s;

/** Where one problem's outputs go inside the caller's `ys`. */
export interface OutputPlacement {
  /** Rows `[batch, dim]` this problem writes per slot. */
  readonly size: number;
  /** Entries between consecutive slots in `ys`. */
  readonly slotStride: number;
  /** Offset of this problem's rows inside a slot. */
  readonly rowOffset: number;
  /** Slots reserved for `steps` (the grid's step count, or more with padding). */
  readonly stepSlots: number;
  /** The end time `t1` requested. */
  readonly tEnd: number;
}

/**
 * Writes the saved outputs of one problem and back-propagates their
 * cotangents. Internal to the solvers.
 *
 * @example
 * ```ts
 * import { checkSaveAt, Outputs } from "./outputs.ts";
 * import { linearField } from "./fields/linear.ts";
 * import { MemoryMeter } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = checkSaveAt({ t0: true, t1: true }, 0, 1);
 * const out = new Outputs(plan, linearField(1), 1, {
 *   size: 1, slotStride: 1, rowOffset: 0, stepSlots: 10, tEnd: 1,
 * }, new MemoryMeter());
 * assert.equal(out.count, 2);
 * ```
 */
export class Outputs {
  /** Number of slots. */
  readonly count: number;
  private readonly tsBase: number;
  private readonly stepBase: number;
  private readonly t1Slot: number;
  private readonly fScratch: Float64Array;
  private readonly yCot: Float64Array;
  private readonly fCot: Float64Array;
  private readonly bar: Float64Array;

  /**
   * Lays out the slots of a plan for one problem.
   *
   * @param plan The checked save plan.
   * @param field The vector field (for the interpolant's derivatives).
   * @param batch Rows of this problem.
   * @param place Where this problem's outputs go.
   * @param meter Where scratch bytes are counted.
   */
  constructor(
    readonly plan: SavePlan,
    readonly field: VectorField,
    readonly batch: number,
    readonly place: OutputPlacement,
    meter: MemoryMeter,
  ) {
    this.tsBase = plan.t0 ? 1 : 0;
    this.stepBase = this.tsBase + plan.ts.length;
    this.t1Slot = this.stepBase + (plan.steps ? place.stepSlots : 0);
    this.count = this.t1Slot + (plan.t1 ? 1 : 0);
    const n = place.size;
    const any = plan.ts.length > 0;
    this.fScratch = meter.f64(any ? n : 0);
    this.yCot = meter.f64(any ? n : 0);
    this.fCot = meter.f64(any ? n : 0);
    this.bar = meter.f64(any ? n : 0);
  }

  private write(slot: number, y: Float64Array, ys: Float64Array): void {
    ys.set(y, slot * this.place.slotStride + this.place.rowOffset);
  }

  private add(slot: number, yBar: Float64Array, cot: Float64Array): void {
    const o = slot * this.place.slotStride + this.place.rowOffset;
    for (let e = 0; e < yBar.length; e++) yBar[e] += cot[o + e];
  }

  /** Calls `visit(slot)` for every slot that holds grid point `i`. */
  /**
   * Visits every slot that holds grid point `i`: writes `y` into `ys`
   * (`forward`), or adds the slots' cotangents from `ys` to `y` (backward).
   */
  private points(
    i: number,
    last: boolean,
    t: number,
    forward: boolean,
    y: Float64Array,
    ys: Float64Array,
  ): void {
    const plan = this.plan;
    if (i === 0 && plan.t0) this.visit(0, forward, y, ys);
    if (plan.steps && i > 0) {
      this.visit(this.stepBase + i - 1, forward, y, ys);
      // padding: a trajectory with fewer steps than the slots repeats y(t1)
      if (last) {
        for (let k = i; k < this.place.stepSlots; k++) {
          this.visit(this.stepBase + k, forward, y, ys);
        }
      }
    }
    if (plan.t1 && last && t === this.place.tEnd) this.visit(this.t1Slot, forward, y, ys);
  }

  private visit(slot: number, forward: boolean, y: Float64Array, ys: Float64Array): void {
    if (forward) this.write(slot, y, ys);
    else this.add(slot, y, ys);
  }

  /**
   * Writes grid point `i` (time `t`, `last` when it ends the solve).
   *
   * @param i Grid index.
   * @param last Whether it is the final point.
   * @param t Its time.
   * @param y The solution there.
   * @param ys The outputs.
   */
  point(i: number, last: boolean, t: number, y: Float64Array, ys: Float64Array): void {
    this.points(i, last, t, true, y, ys);
  }

  /**
   * Adds the cotangents of grid point `i`'s slots to `yBar`.
   *
   * @param i Grid index.
   * @param last Whether it is the final point.
   * @param t Its time.
   * @param yBar Cotangent of `y_i`, accumulated.
   * @param cot Cotangents of all outputs.
   */
  pointCotangent(
    i: number,
    last: boolean,
    t: number,
    yBar: Float64Array,
    cot: Float64Array,
  ): void {
    this.points(i, last, t, false, yBar, cot);
  }

  /** First `ts` index inside the interval `(tA, tB]` (`[tA, tB]` for the first interval). */
  private first(i: number, tA: number): number {
    const ts = this.plan.ts;
    let lo = 0, hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] > tA || (i === 0 && ts[mid] === tA)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Whether interval `i`, `(tA, tB]`, holds interpolated outputs.
   *
   * @param i Interval index (the step from grid point `i`).
   * @param tA Its start.
   * @param tB Its end.
   * @returns True when some `ts` falls inside.
   */
  hasInterval(i: number, tA: number, tB: number): boolean {
    const ts = this.plan.ts;
    if (ts.length === 0) return false;
    const k = this.first(i, tA);
    return k < ts.length && ts[k] <= tB;
  }

  /**
   * Writes the outputs inside interval `i` by Hermite cubic interpolation,
   *
   *     p(τ) = h00(s) y_A + h10(s) h f_A + h01(s) y_B + h11(s) h f_B,   s = (τ − t_A)/h.
   *
   * @param i Interval index.
   * @param tA Start time.
   * @param tB End time.
   * @param params Parameters.
   * @param yA Solution at `tA`.
   * @param yB Solution at `tB`.
   * @param ys The outputs.
   */
  interpolate(
    i: number,
    tA: number,
    tB: number,
    params: Float64Array,
    yA: Float64Array,
    yB: Float64Array,
    ys: Float64Array,
  ): void {
    const ts = this.plan.ts;
    const h = tB - tA;
    const fA = this.yCot, fB = this.fCot, p = this.bar;
    this.field.evaluate(tA, yA, this.batch, params, fA);
    this.field.evaluate(tB, yB, this.batch, params, fB);
    for (let k = this.first(i, tA); k < ts.length && ts[k] <= tB; k++) {
      const s = (ts[k] - tA) / h;
      const a = h00(s), b = h * h10(s), c = h01(s), d = h * h11(s);
      for (let e = 0; e < p.length; e++) p[e] = a * yA[e] + b * fA[e] + c * yB[e] + d * fB[e];
      this.write(this.tsBase + k, p, ys);
    }
  }

  /**
   * VJP of the interpolated outputs of interval `i` with respect to one end:
   * `side` 0 is `(tA, y_A)`, 1 is `(tB, y_B)`. Adds to `yBar`, to `paramsBar`
   * and, when given, to the cotangents of the output times `tsBar`.
   *
   * @param i Interval index.
   * @param tA Start time.
   * @param tB End time.
   * @param side Which end `y` belongs to.
   * @param y The solution at that end.
   * @param params Parameters.
   * @param cot Cotangents of all outputs.
   * @param yBar Cotangent of `y`, accumulated.
   * @param paramsBar Cotangent of θ, accumulated.
   * @param tsBar Cotangents of `ts`, accumulated, or null.
   */
  intervalVjp(
    i: number,
    tA: number,
    tB: number,
    side: 0 | 1,
    y: Float64Array,
    params: Float64Array,
    cot: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array,
    tsBar: Float64Array | null,
  ): void {
    const ts = this.plan.ts;
    const h = tB - tA;
    const t = side === 0 ? tA : tB;
    const wy = side === 0 ? h00 : h01, wf = side === 0 ? h10 : h11;
    const dy = side === 0 ? d00 : d01, df = side === 0 ? d10 : d11;
    const n = yBar.length;
    const yCot = this.yCot.fill(0), fCot = this.fCot.fill(0), f = this.fScratch;
    if (tsBar) this.field.evaluate(t, y, this.batch, params, f);
    const stride = this.place.slotStride, row = this.place.rowOffset;
    for (let k = this.first(i, tA); k < ts.length && ts[k] <= tB; k++) {
      const s = (ts[k] - tA) / h;
      const a = wy(s), b = h * wf(s);
      const o = (this.tsBase + k) * stride + row;
      let dot = 0;
      for (let e = 0; e < n; e++) {
        const c = cot[o + e];
        yCot[e] += a * c;
        fCot[e] += b * c;
        if (tsBar) dot += c * (dy(s) / h * y[e] + df(s) * f[e]);
      }
      if (tsBar) tsBar[k] += dot;
    }
    this.field.vjp(t, y, this.batch, params, fCot, this.bar, paramsBar);
    for (let e = 0; e < n; e++) yBar[e] += yCot[e] + this.bar[e];
  }
}
