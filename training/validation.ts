/**
 * Validation: part of the data held out of training and the loss of the
 * model on it, evaluated at every iteration (at the parameters of that
 * iteration's training loss, before its update).
 *
 * - Several trajectories: `round(F · n)` of them (at least one, and at least
 *   one left to train on) are held out, chosen by a shuffle seeded from the
 *   run's seed, so a run and its resumption hold out the same ones. Each is
 *   solved from its own first state, and compared at its other points.
 * - One trajectory: its last fraction `F` of time is held out, an
 *   extrapolation test. Training sees the points up to `t0 + (1 − F)(t1 − t0)`
 *   (with fixed steps on a uniform grid, the cut moves down to the nearest
 *   point the steps line up with, so the step size stays that of the whole
 *   window); validation solves from `t0` through the held-out part and
 *   compares the held-out points only.
 *
 * The validation loss is the mean squared error over every compared state
 * component, each point weighted alike, in the model's units (the
 * normalised ones when the data were normalised).
 *
 * @example One trajectory: the last quarter of its time is held out
 * ```ts
 * import { splitValidation } from "./validation.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const ts = Float64Array.of(0, 1, 2, 3, 4);
 * const data = { ts, ys: Float64Array.of(1, 2, 3, 4, 5), dim: 1, source: "by hand" };
 * const split = splitValidation(data, defaultConfig({ steps: 8, validation: 0.25 }));
 * assert.equal(split.kind, "extrapolation");
 * assert.deepEqual([...split.train[0].ts], [0, 1, 2, 3]);
 * assert.equal(split.cut, 3);
 * assert.equal(split.steps, 6); // the whole window's step size, 0.5, kept
 * assert.deepEqual(split.heldOut.map((h) => h.first), [4]); // point 4 is compared
 * ```
 *
 * @module
 */

import { invalidArgument } from "../solvers/checks.ts";
import { pid } from "../solvers/controller.ts";
import { Rng } from "../solvers/fields/random.ts";
import { solve } from "../solvers/solve.ts";
import type { VectorField } from "../solvers/vector_field.ts";
import { type FieldTrainConfig, schemeOf, type SeriesData } from "./config.ts";
import { checkData, isUniform } from "./data.ts";

/** One held-out item: a trajectory solved from its first state, compared from point `first` on. */
export interface HeldOut {
  /** The trajectory (the whole of it, in the extrapolation case). */
  data: SeriesData;
  /** Index of the first compared point (≥ 1). */
  first: number;
}

/** The data split into training and validation parts ({@link splitValidation}). */
export interface ValidationSplit {
  /** Held-out trajectories, or one trajectory's held-out end. */
  kind: "trajectories" | "extrapolation";
  /** The data that train. */
  train: SeriesData[];
  /** Indices (in the data) of the trajectories that train. */
  trainIndices: number[];
  /** What validation compares. */
  heldOut: HeldOut[];
  /** Indices (in the data) of the held-out trajectories. */
  heldOutIndices: number[];
  /** The extrapolation case: the last time trained on (later times are held out); else null. */
  cut: number | null;
  /** Fixed solver steps over a training trajectory's window (`config.steps`, less for a cut one). */
  steps: number;
}

/**
 * Splits the data for validation as `config.validation` asks (see the module).
 *
 * @param data One trajectory or several.
 * @param config The configuration: `validation`, `seed`, `steps`, `adaptive`.
 * @returns The split.
 * @throws {RangeError} When the fraction is not in (0, 1) or leaves nothing to train on or
 *   nothing to validate, naming the counts.
 *
 * @example Several trajectories: the choice depends on the seed only
 * ```ts
 * import { splitValidation } from "./validation.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const list = [0, 1, 2, 3, 4].map((k) => ({
 *   ts: Float64Array.of(0, 1), ys: Float64Array.of(k, k), dim: 1, source: `${k}`,
 * }));
 * const config = defaultConfig({ steps: 1, validation: 0.4, seed: 3 });
 * const split = splitValidation(list, config);
 * assert.equal(split.heldOutIndices.length, 2);
 * assert.deepEqual(splitValidation(list, config).heldOutIndices, split.heldOutIndices);
 * assert.throws(() => splitValidation(list.slice(0, 1), { ...config, validation: 0.01 }),
 *   /validation/);
 * ```
 */
export function splitValidation(
  data: SeriesData | readonly SeriesData[],
  config: FieldTrainConfig,
): ValidationSplit {
  const fraction = config.validation ?? null;
  if (fraction === null || !(fraction > 0 && fraction < 1)) {
    invalidArgument("validation", fraction, "a fraction in (0, 1) of the data to hold out");
  }
  const list = checkData(data, (Array.isArray(data) ? data[0] : data as SeriesData)?.dim);
  return list.length === 1
    ? _extrapolation(list[0], fraction, config)
    : _trajectories(list, fraction, config);
}

/** Several trajectories: `round(F · n)` held out by a seeded shuffle. */
function _trajectories(
  list: SeriesData[],
  fraction: number,
  config: FieldTrainConfig,
): ValidationSplit {
  const n = list.length;
  const count = Math.max(1, Math.round(fraction * n));
  if (count >= n) {
    invalidArgument(
      "validation",
      fraction,
      `a fraction that leaves a trajectory to train on: it holds out ${count} of the ` +
        `${n} trajectories (at most ${n - 1} can be held out, a fraction below ${(n - 0.5) / n})`,
    );
  }
  // its own stream, apart from the minibatch shuffles (data.ts) of the same seed
  const rng = new Rng((config.seed * 1000003 + 424242) % Number.MAX_SAFE_INTEGER);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.next() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const heldOutIndices = order.slice(0, count).sort((a, b) => a - b);
  const trainIndices = order.slice(count).sort((a, b) => a - b);
  return {
    kind: "trajectories",
    train: trainIndices.map((i) => list[i]),
    trainIndices,
    heldOut: heldOutIndices.map((i) => ({ data: list[i], first: 1 })),
    heldOutIndices,
    cut: null,
    steps: config.steps,
  };
}

/** The greatest common divisor of two whole numbers. */
function _gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** One trajectory: its points after `t0 + (1 − F)(t1 − t0)` held out. */
function _extrapolation(
  d: SeriesData,
  fraction: number,
  config: FieldTrainConfig,
): ValidationSplit {
  const ts = d.ts, n = ts.length;
  const t0 = ts[0], t1 = ts[n - 1];
  const limit = t0 + (1 - fraction) * (t1 - t0);
  let m = 0; // training intervals: the last point trained on is ts[m]
  while (m + 1 < n && ts[m + 1] <= limit + 1e-12 * Math.max(1, Math.abs(t1 - t0))) m++;
  const aligned = config.adaptive === null && isUniform(ts);
  // fixed steps on a uniform grid: the cut moves down until the steps line up with it
  const every = aligned ? (n - 1) / _gcd(config.steps, n - 1) : 1;
  m = Math.floor(m / every) * every;
  if (m < 1 || m > n - 2) {
    invalidArgument(
      "validation",
      fraction,
      `a fraction that leaves at least 2 points to train on and 1 to hold out: the ` +
        `trajectory has ${n} points on [${t0}, ${t1}]` +
        (every > 1 ? `, and ${config.steps} fixed steps line up with every ${every}th point` : "") +
        ` (${m < 1 ? "none would train" : "none would be held out"})`,
    );
  }
  const dim = d.dim;
  const train: SeriesData = {
    ts: ts.slice(0, m + 1),
    ys: d.ys.slice(0, (m + 1) * dim),
    dim,
    source: d.source,
  };
  const steps = aligned
    ? (config.steps * m) / (n - 1)
    : Math.max(1, Math.round((config.steps * (ts[m] - t0)) / (t1 - t0)));
  return {
    kind: "extrapolation",
    train: [train],
    trainIndices: [0],
    heldOut: [{ data: d, first: m + 1 }],
    heldOutIndices: [],
    cut: ts[m],
    steps,
  };
}

/**
 * The validation loss of parameters: each held-out item solved from its
 * first state (no gradient), the mean squared error over its compared
 * points, all points weighted alike. Fixed steps keep `config.steps` over a
 * trajectory's window, as training does; adaptive steps keep the tolerances.
 *
 * @param field The vector field.
 * @param params The parameters θ.
 * @param split The split's held-out items.
 * @param config The configuration (scheme, steps or tolerances).
 * @returns The loss; NaN when a solve fails.
 *
 * @example A perfect model has validation loss 0
 * ```ts
 * import { splitValidation, validationLoss } from "./validation.ts";
 * import { defaultConfig } from "./config.ts";
 * import { linearField } from "../solvers/fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * // y = e^{−t}, sampled; the field y' = a y with a = −1 fits it to the solver's error
 * const ts = Float64Array.from({ length: 11 }, (_, i) => i / 5);
 * const data = { ts, ys: ts.map((t) => Math.exp(-t)), dim: 1, source: "" };
 * const config = defaultConfig({ steps: 40, validation: 0.3 });
 * const split = splitValidation(data, config);
 * assert.ok(validationLoss(linearField(1), Float64Array.of(-1), split, config) < 1e-14);
 * assert.ok(validationLoss(linearField(1), Float64Array.of(0), split, config) > 0.1);
 * ```
 */
export function validationLoss(
  field: VectorField,
  params: Float64Array,
  split: Pick<ValidationSplit, "heldOut">,
  config: FieldTrainConfig,
): number {
  const scheme = schemeOf({ ...config, gradient: "direct" });
  const dim = field.dim;
  let sum = 0, count = 0;
  for (const { data, first } of split.heldOut) {
    const ts = data.ts;
    const sol = solve({
      field,
      y0: data.ys.slice(0, dim),
      params,
      scheme,
      t0: ts[0],
      t1: ts[ts.length - 1],
      ...(config.adaptive === null
        ? { steps: config.steps }
        : { controller: pid(config.adaptive) }),
      saveAt: { ts: ts.subarray(first) },
      throwOnFailure: false,
    });
    if (sol.status.some((s) => s !== "success")) return NaN;
    const ys = sol.ys;
    for (let i = 0; i < ys.length; i++) {
      const e = ys[i] - data.ys[first * dim + i];
      sum += e * e;
    }
    count += ys.length;
  }
  return sum / count;
}
