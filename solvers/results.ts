/**
 * How a solve ends when it does not succeed, as data: a small set of
 * failure kinds, each with the numbers that explain it (the trajectory, the
 * time reached, the limit hit, the drift measured), one function that turns
 * a failure into its message, and the errors that carry a failure when
 * `solve()` or `backward()` throws. Messages name the library's options
 * (`maxSteps`, `checkpointEvery`, `coupling`), never a program's flags: a
 * program reads the kind and the data and gives its own advice.
 *
 * @module
 */

/** How a trajectory's solve ended. */
export type Status = "success" | "max_steps_reached" | "dt_min_reached" | "non_finite";

/**
 * The numbers of each kind of failure. `trajectory` is the failed row's
 * index, or `"batch"` where the batch is solved as one (the GPU's adaptive
 * steps: one step size for every row).
 */
export interface FailureData {
  /** The controller took `maxSteps` steps (accepted and rejected) before `t1`. */
  max_steps_reached: { trajectory: number | "batch"; t: number; maxSteps: number };
  /** A rejected step was already at the controller's `dtmin`. */
  dt_min_reached: { trajectory: number | "batch"; t: number; dtmin: number };
  /**
   * The solution became NaN or ±Infinity; `t` is where an adaptive solve
   * stopped, or, with fixed steps, the first grid point or saved output
   * where it was found not finite.
   */
  non_finite: { trajectory: number | "batch"; t: number; adaptive: boolean };
  /**
   * A reversible backward pass rebuilt a state `drift` (relative) away from
   * the true one, above `tolerance`; `trajectory` is null for a batch that
   * shares one backward pass.
   */
  reconstruction_drift: {
    drift: number;
    tolerance: number;
    steps: number;
    scheme: string;
    coupled: boolean;
    trajectory: number | null;
    trajectories: number;
  };
  /**
   * The solve's buffers could not be allocated; `steps` is null for an
   * adaptive solve, `saveAt` the saved outputs as JSON, `cause` the
   * engine's message.
   */
  out_of_memory: { steps: number | null; saveAt: string; gradient: string; cause: string };
  /** `backward()` was called on a solve made without a gradient method. */
  no_gradient: Record<never, never>;
  /** A fixed-step trajectory that failed was given a non-zero cotangent. */
  failed_cotangent: { trajectory: number; status: Status; slot: number; value: number };
  /** The reversible gradient was asked of a scheme with no algebraic inverse. */
  irreversible_scheme: { scheme: string };
  /** A controller was given with a scheme that has no embedded error estimate. */
  no_error_estimate: { scheme: string };
}

/** The kinds of failure. */
export type FailureKind = keyof FailureData;

/** A failure: its kind and its numbers. */
export type Failure = { [K in FailureKind]: { kind: K; data: FailureData[K] } }[FailureKind];

/**
 * The failure of a trajectory that ended with `status`, or null on success.
 *
 * @param status How it ended.
 * @param t The time it reached (fixed steps: the first grid point or saved output found not finite).
 * @param trajectory Its index in the batch, or `"batch"` for a batch solved as one.
 * @param controller The controller's limits, or null for fixed steps.
 * @returns The failure.
 *
 * @example
 * ```ts
 * import { trajectoryFailure } from "./results.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(trajectoryFailure("max_steps_reached", 1.5, 2, { maxSteps: 64, dtmin: 0 }), {
 *   kind: "max_steps_reached",
 *   data: { trajectory: 2, t: 1.5, maxSteps: 64 },
 * });
 * assert.equal(trajectoryFailure("success", 1, 0, null), null);
 * ```
 */
export function trajectoryFailure(
  status: Status,
  t: number,
  trajectory: number | "batch",
  controller: { readonly maxSteps: number; readonly dtmin: number } | null,
): Failure | null {
  switch (status) {
    case "max_steps_reached":
      return { kind: status, data: { trajectory, t, maxSteps: controller?.maxSteps as number } };
    case "dt_min_reached":
      return { kind: status, data: { trajectory, t, dtmin: controller?.dtmin as number } };
    case "non_finite":
      return { kind: status, data: { trajectory, t, adaptive: controller !== null } };
    default:
      return null;
  }
}

/** Where a trajectory failed, as the messages say it. */
function _where(trajectory: number | "batch", t: number, adaptive: boolean): string {
  const which = trajectory === "batch" ? "the batch" : `trajectory ${trajectory}`;
  // fixed steps are checked at their grid points and saved outputs: t is the first not finite
  return adaptive
    ? `at t = ${t} for ${which}`
    : `by t = ${t} (the first grid point or saved output where it is not finite) for ${which}`;
}

/** What happened, what to change, and (when not "; ") what joins them. */
function _parts(failure: Failure): [string, string, string?] {
  switch (failure.kind) {
    case "max_steps_reached": {
      const d = failure.data;
      return [
        `The maximum number of steps (${d.maxSteps}) was reached ${
          _where(d.trajectory, d.t, true)
        }`,
        "raise maxSteps or loosen rtol/atol",
      ];
    }
    case "dt_min_reached": {
      const d = failure.data;
      return [
        `The step size fell to its minimum (dtmin = ${d.dtmin}) ${_where(d.trajectory, d.t, true)}`,
        "lower dtmin or loosen rtol/atol, or look for a singularity of the vector field there",
      ];
    }
    case "non_finite": {
      const d = failure.data;
      return [
        `The solution became non-finite (NaN or ±Infinity) ${
          _where(d.trajectory, d.t, d.adaptive)
        }`,
        "check the vector field and its parameters, or take smaller steps (smaller dt, dtmax or tolerances, or a smaller coupling λ)",
      ];
    }
    case "reconstruction_drift":
      return _drift(failure.data);
    case "out_of_memory": {
      const d = failure.data;
      const what = d.steps === null ? "an adaptive solve" : `a solve of ${d.steps} steps`;
      return [
        `Out of memory: the buffers of ${what} (saveAt ${d.saveAt}, gradient ${d.gradient}) ` +
        `do not fit (${d.cause})`,
        "take fewer steps, save fewer outputs, or use a gradient method whose memory does not " +
        'grow with the steps ("reversible", or "checkpointed")',
      ];
    }
    case "no_gradient":
      return [
        "backward() needs a gradient method",
        'pass gradient: "reversible" (or "direct", "checkpointed", "backsolve") to solve()',
        ": ",
      ];
    case "failed_cotangent": {
      const d = failure.data;
      return [
        `Invalid cotangents: trajectory ${d.trajectory} failed (${d.status}) and its cotangent ` +
        `at output ${d.slot} is ${d.value}`,
        "a fixed-step trajectory that overflowed has no gradient, so its cotangents must be " +
        "zero (adaptive steps give each trajectory a gradient up to its failure)",
      ];
    }
    case "irreversible_scheme":
      return [
        'Invalid gradient: got "reversible"',
        `expected a method other than "reversible" for the ${failure.data.scheme} scheme, ` +
        "which has no algebraic inverse; or the scheme reversible(tableau)",
      ];
    case "no_error_estimate":
      return [
        'Invalid controller: got "pid(…)"',
        `expected a scheme with an embedded error estimate; ${failure.data.scheme} has none ` +
        "(use bosh3, dopri5, tsit5, heun, reversibleHeun(), leapfrog() or a tableau with bError)",
      ];
  }
}

/** The parts of a drift's message: the remedies depend on whether λ is to blame. */
function _drift(d: FailureData["reconstruction_drift"]): [string, string, string] {
  const who = d.trajectory === null || d.trajectories === 1
    ? ""
    : `Trajectory ${d.trajectory} of ${d.trajectories}: `;
  const store = 'store states with gradient: { method: "reversible", checkpointEvery: K }';
  return [
    `${who}The reversible backward pass drifted from the forward solve: a rebuilt state is ${
      d.drift.toExponential(2)
    } (relative) away from the true one, above reconstructionTolerance = ${d.tolerance}. ` +
    (d.coupled
      ? `Round-off in the inverse step grows like λ^(−N) over the N = ${d.steps} steps of the ${d.scheme} scheme`
      : `Round-off in the inverse steps of the ${d.scheme} scheme grew over N = ${d.steps} steps`),
    (d.coupled
      ? `use a coupling λ closer to 1 (keep N·(1 − λ) below about 20), ${store} (K·(1 − λ) below about 20), `
      : `${store}, `) + `take fewer steps, or use the "direct" or "checkpointed" gradient`,
    ": ",
  ];
}

/**
 * A failure's message: what happened, then, unless `advice` is false, what
 * to change, in the library's own option names.
 *
 * @param failure The failure.
 * @param options `advice`: include what to change (default true).
 * @returns The message (without advice: no final period).
 *
 * @example
 * ```ts
 * import { failureMessage, trajectoryFailure } from "./results.ts";
 * import { pid } from "./controller.ts";
 * import assert from "node:assert/strict";
 *
 * const failure = {
 *   kind: "max_steps_reached",
 *   data: { trajectory: 3, t: 1.73, maxSteps: 4096 },
 * } as const;
 * assert.equal(
 *   failureMessage(failure),
 *   "The maximum number of steps (4096) was reached at t = 1.73 for trajectory 3; " +
 *     "raise maxSteps or loosen rtol/atol.",
 * );
 * assert.equal(
 *   failureMessage(failure, { advice: false }),
 *   "The maximum number of steps (4096) was reached at t = 1.73 for trajectory 3",
 * );
 * const batch = trajectoryFailure("max_steps_reached", 1.73, "batch", pid({ rtol: 1e-6, atol: 1e-6 }))!;
 * assert.match(failureMessage(batch, { advice: false }), /reached at t = 1\.73 for the batch$/);
 * ```
 */
export function failureMessage(failure: Failure, options?: { advice?: boolean }): string {
  const [what, advice, join = "; "] = _parts(failure);
  if (options?.advice === false) return what;
  return `${what}${join}${advice}.`;
}

/**
 * A solve, or a backward pass, that failed: `kind` and `data` say how, and
 * the message says it in words ({@link failureMessage}).
 *
 * @example
 * ```ts
 * import { SolveFailure } from "./results.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new SolveFailure({ kind: "non_finite", data: { trajectory: 0, t: 2, adaptive: true } });
 * assert.ok(e instanceof Error);
 * assert.equal(e.kind, "non_finite");
 * assert.match(e.message, /^The solution became non-finite .* at t = 2 for trajectory 0; /);
 * ```
 */
export class SolveFailure<K extends FailureKind = FailureKind> extends Error {
  /** The kind of failure. */
  readonly kind: K;
  /** Its numbers. */
  readonly data: FailureData[K];

  /**
   * Makes the error.
   *
   * @param failure The failure.
   */
  constructor(failure: { kind: K; data: FailureData[K] }) {
    super(failureMessage(failure as Failure));
    this.name = "SolveFailure";
    this.kind = failure.kind;
    this.data = failure.data;
  }
}

/**
 * A combination, an argument or a size that `solve()` refuses: a
 * `RangeError`, as every invalid argument is, with the failure's `kind` and
 * `data`.
 *
 * @example
 * ```ts
 * import { SolveRefusal } from "./results.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new SolveRefusal({ kind: "irreversible_scheme", data: { scheme: "plain rk4" } });
 * assert.ok(e instanceof RangeError);
 * assert.deepEqual(e.data, { scheme: "plain rk4" });
 * assert.match(e.message, /^Invalid gradient: got "reversible"; expected .* plain rk4 scheme/);
 * ```
 */
export class SolveRefusal<K extends FailureKind = FailureKind> extends RangeError {
  /** The kind of refusal. */
  readonly kind: K;
  /** Its numbers. */
  readonly data: FailureData[K];

  /**
   * Makes the error.
   *
   * @param failure The refusal.
   */
  constructor(failure: { kind: K; data: FailureData[K] }) {
    super(failureMessage(failure as Failure));
    this.name = "SolveRefusal";
    this.kind = failure.kind;
    this.data = failure.data;
  }
}

/**
 * The refusal of a reversible backward pass whose rebuilt states drifted
 * from the forward solve beyond `reconstructionTolerance`: the gradient
 * would be wrong. `drift` is the relative distance measured.
 *
 * @example
 * ```ts
 * import { ReconstructionDriftError } from "./results.ts";
 * import assert from "node:assert/strict";
 *
 * const e = new ReconstructionDriftError({
 *   drift: 3.7e30, tolerance: 1e-6, steps: 2000, scheme: "reversible rk4 (λ = 0.9)",
 *   coupled: true, trajectory: null, trajectories: 1,
 * });
 * assert.ok(e instanceof Error);
 * assert.equal(e.kind, "reconstruction_drift");
 * assert.equal(e.drift, 3.7e30);
 * assert.match(e.message, /3\.70e\+30 .* use a coupling λ closer to 1/);
 * ```
 */
export class ReconstructionDriftError extends SolveFailure<"reconstruction_drift"> {
  /**
   * Makes the error.
   *
   * @param data The drift measured, the limit and the solve's steps and scheme.
   */
  constructor(data: FailureData["reconstruction_drift"]) {
    super({ kind: "reconstruction_drift", data });
    this.name = "ReconstructionDriftError";
  }

  /** The relative distance of a rebuilt state from the true one (NaN when not finite). */
  get drift(): number {
    return this.data.drift;
  }
}

/**
 * Whether an error is the engine's failure to allocate a typed array (too
 * large for memory), which only its message tells apart.
 *
 * @param e The error caught.
 * @returns True for a failed allocation.
 *
 * @example
 * ```ts
 * import { isAllocationFailure } from "./results.ts";
 * import assert from "node:assert/strict";
 *
 * let caught: unknown;
 * try {
 *   new Float64Array(2 ** 40);
 * } catch (e) {
 *   caught = e;
 * }
 * assert.ok(isAllocationFailure(caught));
 * assert.ok(!isAllocationFailure(new RangeError("Invalid steps")));
 * ```
 */
export function isAllocationFailure(e: unknown): e is RangeError {
  return e instanceof RangeError &&
    /allocation failed|Invalid typed array length|Array buffer allocation/i.test(e.message);
}
