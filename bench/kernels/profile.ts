/**
 * The profile: a field wrapper that times every call into the MLP
 * (`evaluate`, `vjp` and their taped forms) and counts the rows each
 * handled, so a gradient's time splits into the MLP's share and the rest
 * (the solver: stage sums, couplings, copies, bookkeeping), and its flops can
 * be counted from what actually ran.
 *
 * @module
 */

/** Each field method called: how often, and its last arguments. */
// deno-lint-ignore no-explicit-any
export type CallRecord = Map<string, { args: any[]; count: number }>;

/** Time and rows spent in the field. */
export interface FieldProfile {
  /** ms inside evaluate / evaluateTaped. */
  forwardMs: number;
  /** ms inside vjp / vjpTaped. */
  vjpMs: number;
  /** Rows evaluated (evaluate and evaluateTaped). */
  forwardRows: number;
  /** Rows through a VJP that recomputes the forward pass. */
  vjpRows: number;
  /** Rows through a VJP from a tape. */
  tapedVjpRows: number;
  /** Calls timed (each costs the timer's own time once, inside the interval). */
  calls: number;
}

/**
 * Wraps `field` so that its calls land in `profile`.
 *
 * @param field A revode vector field.
 * @param profile Accumulates times and rows.
 * @param record Each method's number of calls and its last arguments, for {@link replayMs}.
 * @returns The timed field.
 *
 * @example
 * ```ts
 * import { timedField } from "./profile.ts";
 * import { Mlp } from "../../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const profile = {
 *   forwardMs: 0, vjpMs: 0, forwardRows: 0, vjpRows: 0, tapedVjpRows: 0, calls: 0,
 * };
 * const f = timedField(new Mlp({ dim: 1, widths: [2] }), profile);
 * f.evaluate(0, Float64Array.of(1, 2), 2, new Float64Array(7), new Float64Array(2));
 * assert.equal(profile.forwardRows, 2);
 * ```
 */
export function timedField(
  // deno-lint-ignore no-explicit-any
  field: any,
  profile: FieldProfile,
  record: CallRecord = new Map(),
  // deno-lint-ignore no-explicit-any
): any {
  const now = () => performance.now();
  // deno-lint-ignore no-explicit-any
  const note = (method: string, args: any[]) => {
    const entry = record.get(method);
    if (entry === undefined) record.set(method, { args, count: 1 });
    else {
      entry.args = args;
      entry.count++;
    }
  };
  // deno-lint-ignore no-explicit-any
  const timed: any = {
    dim: field.dim,
    paramCount: field.paramCount,
    // deno-lint-ignore no-explicit-any
    evaluate(...args: any[]) {
      const start = now();
      field.evaluate(...args);
      note("evaluate", args);
      profile.forwardMs += now() - start;
      profile.forwardRows += args[2];
      profile.calls++;
    },
    // deno-lint-ignore no-explicit-any
    vjp(...args: any[]) {
      const start = now();
      field.vjp(...args);
      note("vjp", args);
      profile.vjpMs += now() - start;
      profile.vjpRows += args[2];
      profile.calls++;
    },
  };
  if (typeof field.tapeLength === "function") {
    timed.tapeLength = (batch: number) => field.tapeLength(batch);
    // deno-lint-ignore no-explicit-any
    timed.evaluateTaped = (...args: any[]) => {
      const start = now();
      field.evaluateTaped(...args);
      note("evaluateTaped", args);
      profile.forwardMs += now() - start;
      profile.forwardRows += args[2];
      profile.calls++;
    };
    // deno-lint-ignore no-explicit-any
    timed.vjpTaped = (...args: any[]) => {
      const start = now();
      field.vjpTaped(...args);
      note("vjpTaped", args);
      profile.vjpMs += now() - start;
      profile.tapedVjpRows += args[2];
      profile.calls++;
    };
  }
  return timed;
}

/**
 * Flops of what a profile counted, for a network of `multiplyAdds`
 * multiply–adds per row: 2 per multiply–add for a forward row; a VJP from a
 * tape does two products (`W̄ += δ xᵀ`, `Wᵀ δ`), 4 per multiply–add; one that
 * recomputes its forward pass adds that pass. Activations are not counted.
 *
 * @param profile What ran.
 * @param multiplyAdds Multiply–adds of one forward row.
 * @returns The flops.
 *
 * @example
 * ```ts
 * import { profileFlops } from "./profile.ts";
 * import assert from "node:assert/strict";
 *
 * const p = { forwardMs: 0, vjpMs: 0, forwardRows: 1, vjpRows: 1, tapedVjpRows: 0, calls: 2 };
 * assert.equal(profileFlops(p, 10), 2 * 10 + 6 * 10);
 * ```
 */
export function profileFlops(profile: FieldProfile, multiplyAdds: number): number {
  return multiplyAdds *
    (2 * profile.forwardRows + 6 * profile.vjpRows + 4 * profile.tapedVjpRows);
}

/**
 * The cost of one `performance.now()` in ms, averaged over many calls: what
 * each timed call adds to the field's time.
 *
 * @returns The cost.
 *
 * @example
 * ```ts
 * import { timerCostMs } from "./profile.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(timerCostMs() >= 0);
 * ```
 */
export function timerCostMs(): number {
  const count = 100_000;
  let sink = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) sink += performance.now();
  const ms = (performance.now() - start) / count;
  return sink === 0 ? 0 : ms;
}

/**
 * The field's time without timers: every recorded method called as often
 * as in the gradient, back to back, with its last arguments (the cost of a
 * call does not depend on the values). For small networks, where reading
 * the clock around each call costs as much as the call.
 *
 * @param field The untimed field.
 * @param record What {@link timedField} recorded.
 * @returns The ms those calls take.
 *
 * @example
 * ```ts
 * import { type CallRecord, replayMs } from "./profile.ts";
 * import { Mlp } from "../../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const f = new Mlp({ dim: 1, widths: [2] });
 * const record: CallRecord = new Map([
 *   ["evaluate", { args: [0, Float64Array.of(1), 1, f.init(), new Float64Array(1)], count: 3 }],
 * ]);
 * assert.ok(replayMs(f, record) >= 0);
 * ```
 */
// deno-lint-ignore no-explicit-any
export function replayMs(field: any, record: CallRecord): number {
  const start = performance.now();
  for (const [method, { args, count }] of record) {
    const run = field[method].bind(field);
    for (let i = 0; i < count; i++) run(...args);
  }
  return performance.now() - start;
}
