/**
 * What is exported, in memory: a vector field with its parameters and, for
 * the integrator forms, the scheme and the time grid ({@link ExportSource}),
 * checked here, once, with messages that name the argument, the value and
 * what is allowed. No Deno API and no Node built-in: the browser bundles it
 * (source.ts reads model files).
 *
 * @module
 */

import { Mlp, type MlpConfig } from "../solvers/fields/mlp.ts";
import type { ActivationName } from "../solvers/fields/activations.ts";
import type { VectorField } from "../solvers/vector_field.ts";
import type { SchemeSpec } from "../solvers/schemes/spec.ts";
import { type CheckedTableau, checkTableau } from "../solvers/tableau.ts";
import { invalidArgument } from "../solvers/checks.ts";
import type {
  AdaptiveGap,
  DataSummary,
  ExportDtype,
  StateInfo,
  TrainingSummary,
} from "./metadata.ts";

/**
 * A model to export, in memory.
 *
 * @example
 * ```ts
 * import type { ExportSource } from "./source_check.ts";
 * import { exportIntegrator } from "./integrator.ts";
 * import { modelMetadata } from "./onnx_model.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { reversible } from "../solvers/schemes/spec.ts";
 * import { rk4 } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 2, widths: [8] });
 * const source: ExportSource = {
 *   field, params: field.init(0), scheme: reversible(rk4), t0: 0, dt: 0.01, steps: 100,
 * };
 * // The grid becomes the integrator's default inputs, recorded in its metadata.
 * const meta = modelMetadata(exportIntegrator(source));
 * assert.equal(meta["revode.steps"], "100");
 * assert.equal(meta["revode.dt"], "0.01");
 * ```
 */
export interface ExportSource {
  /** The vector field: an {@link Mlp}, or its {@link MlpConfig}. Other fields are refused. */
  field: VectorField | MlpConfig;
  /** The flat parameters θ, in {@link Mlp}'s layout. */
  params: ArrayLike<number>;
  /** The scheme (integrator forms): `plain(t)`, `reversible(t, { coupling })`, `reversibleHeun()`, `leapfrog()`. */
  scheme?: SchemeSpec;
  /** Start time (default 0); the integrator's default `t0` input. */
  t0?: number;
  /** Step size; the integrator's default `dt` input (integrator forms). */
  dt?: number;
  /** Number of steps: the Loop's default, the unrolled graph's fixed count (integrator forms). */
  steps?: number;
  /** An initial state `[dim]` the model was trained from (used by verification). */
  y0?: ArrayLike<number>;
  /** How the parameters were trained, for the metadata. */
  training?: TrainingSummary;
  /**
   * State names, units and the data's scaling (default: no names, scale 1).
   * With a scale, the graph's inputs and outputs are in user units and the
   * network sees `user ÷ scale`.
   */
  state?: StateInfo;
  /** The training data, for the metadata. */
  data?: DataSummary;
  /** For adaptive-trained models, the measured fixed-step gap, for the metadata. */
  adaptiveGap?: AdaptiveGap;
}

/**
 * A scheme as the exporter builds it: the tableau checked, λ explicit.
 *
 * @example
 * ```ts
 * import type { ExportScheme } from "./source_check.ts";
 * import { checkTableau } from "../solvers/tableau.ts";
 * import { rk4 } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const scheme: ExportScheme = { kind: "reversible", tableau: checkTableau(rk4), coupling: 0.999 };
 * assert.equal(scheme.tableau.stages, 4);
 * ```
 */
export type ExportScheme =
  | { readonly kind: "plain"; readonly tableau: CheckedTableau }
  | { readonly kind: "reversible"; readonly tableau: CheckedTableau; readonly coupling: number }
  | { readonly kind: "reversibleHeun" }
  | { readonly kind: "leapfrog" };

/**
 * An {@link ExportSource} after {@link checkSource}.
 *
 * @example
 * ```ts
 * import { checkSource } from "./source_check.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const checked = checkSource({ field: new Mlp({ dim: 1, widths: [] }), params: [1, 0] }, false, "float32");
 * assert.equal(checked.scheme, null);
 * assert.equal(checked.params.length, 2);
 * ```
 */
export interface CheckedSource {
  /** The network. */
  mlp: Mlp;
  /** θ as float64. */
  params: Float64Array;
  /** The scheme, or null for the vector-field form. */
  scheme: ExportScheme | null;
  /** Start time. */
  t0: number;
  /** Step size (NaN for the vector-field form). */
  dt: number;
  /** Steps (0 for the vector-field form). */
  steps: number;
  /** The initial state, when given. */
  y0: Float64Array | null;
  /** The training summary, when given. */
  training: TrainingSummary | null;
  /** Names, units and scaling (scale 1 when not given). */
  state: StateInfo;
  /** The training data, when given. */
  data: DataSummary | null;
  /** The adaptive gap, when given. */
  adaptiveGap: AdaptiveGap | null;
}

/**
 * The activations every exported form supports (revode's full list).
 *
 * @example
 * ```ts
 * import { EXPORTABLE_ACTIVATIONS } from "./source_check.ts";
 * import { activationNames } from "../solvers/fields/activations.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...EXPORTABLE_ACTIVATIONS].sort(), [...activationNames].sort());
 * ```
 */
export const EXPORTABLE_ACTIVATIONS: readonly ActivationName[] = Object.freeze([
  "tanh",
  "softplus",
  "relu",
  "silu",
  "identity",
]);

const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Checks a model to export and fills in defaults.
 *
 * @param source The model.
 * @param integrator Whether an integrator form is asked for (scheme, `dt`, `steps` required).
 * @param dtype The element type (float32 refuses weights beyond its range).
 * @returns The checked model.
 * @throws {RangeError} With the argument, the value and what is allowed.
 *
 * @example Refusals
 * ```ts
 * import { checkSource } from "./source_check.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { linearField } from "../solvers/fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * assert.equal(checkSource({ field, params: [2, 0.5] }, false, "float32").params[0], 2);
 * assert.throws(
 *   () => checkSource({ field: linearField(1), params: [1] }, false, "float32"),
 *   /Invalid field: .*not an Mlp.*expected an Mlp/,
 * );
 * assert.throws(
 *   () => checkSource({ field, params: [NaN, 0] }, false, "float32"),
 *   /Invalid params\[0\]: got NaN; expected a finite number/,
 * );
 * assert.throws(
 *   () => checkSource({ field, params: [1, 0] }, true, "float32"),
 *   /Invalid scheme: got undefined/,
 * );
 * const state = { names: null, units: null, scale: [2, 3], shift: [0, 1] };
 * assert.throws(
 *   () => checkSource({ field, params: [1, 0], state }, false, "float32"),
 *   /Invalid state.scale: .*1 of them/,
 * );
 * assert.throws(
 *   () => checkSource({ field, params: [1, 0], state: { ...state, scale: [-1] } }, false, "float32"),
 *   /Invalid state.scale\[0\]: got -1; expected a finite number > 0/,
 * );
 * assert.throws(
 *   () => checkSource({ field, params: [1, 0], state: { ...state, scale: [1] } }, false, "float32"),
 *   /Invalid state.shift: /,
 * );
 * ```
 */
export function checkSource(
  source: ExportSource,
  integrator: boolean,
  dtype: ExportDtype,
): CheckedSource {
  if (source === null || typeof source !== "object") {
    invalidArgument("source", source, "an object { field, params, scheme?, t0?, dt?, steps? }");
  }
  const mlp = _mlpOf(source.field);
  for (
    const [name, act] of [
      ["activation", mlp.activation],
      ["finalActivation", mlp.finalActivation],
    ] as const
  ) {
    if (!EXPORTABLE_ACTIVATIONS.includes(act)) {
      invalidArgument(
        `field.${name}`,
        act,
        `one of ${EXPORTABLE_ACTIVATIONS.join(", ")} (the activations the ONNX export supports)`,
      );
    }
  }
  const p = source.params;
  if (p === null || typeof p !== "object" || typeof p.length !== "number") {
    invalidArgument("params", p, `an array of ${mlp.paramCount} numbers`);
  }
  if (p.length !== mlp.paramCount) {
    invalidArgument("params", p, `${mlp.paramCount} numbers (the field's paramCount)`);
  }
  const params = Float64Array.from(p);
  for (let i = 0; i < params.length; i++) {
    if (!Number.isFinite(params[i])) {
      invalidArgument(
        `params[${i}]`,
        params[i],
        "a finite number: an exported model with a non-finite weight outputs NaN; " +
          "export the best parameters or train again",
      );
    }
    if (dtype === "float32" && Math.abs(params[i]) > FLOAT32_MAX) {
      invalidArgument(
        `params[${i}]`,
        params[i],
        `a weight within float32's range (±${FLOAT32_MAX}); export with dtype float64`,
      );
    }
  }
  const t0 = source.t0 ?? 0;
  if (typeof t0 !== "number" || !Number.isFinite(t0)) {
    invalidArgument("t0", t0, "a finite number");
  }
  let y0: Float64Array | null = null;
  if (source.y0 !== undefined) {
    const v = source.y0;
    if (v === null || typeof v !== "object" || v.length !== mlp.dim) {
      invalidArgument("y0", v, `an array of ${mlp.dim} numbers (the field's dim)`);
    }
    y0 = Float64Array.from(v);
    for (let i = 0; i < y0.length; i++) {
      if (!Number.isFinite(y0[i])) invalidArgument(`y0[${i}]`, y0[i], "a finite number");
    }
  }
  const training = source.training ?? null;
  const state = _stateOf(source.state, mlp.dim);
  const extra = {
    training,
    state,
    data: source.data ?? null,
    adaptiveGap: source.adaptiveGap ?? null,
  };
  if (!integrator) {
    return { mlp, params, scheme: null, t0, dt: NaN, steps: 0, y0, ...extra };
  }
  const scheme = _schemeOf(source.scheme);
  const dt = source.dt;
  if (typeof dt !== "number" || !Number.isFinite(dt) || dt === 0) {
    invalidArgument("dt", dt, "a finite, non-zero step size");
  }
  if (dtype === "float32" && Math.fround(dt) === 0) {
    invalidArgument("dt", dt, "a step size that float32 can represent (|dt| > 1.4e-45)");
  }
  const steps = source.steps;
  if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 1) {
    invalidArgument("steps", steps, "an integer >= 1");
  }
  return { mlp, params, scheme, t0, dt, steps, y0, ...extra };
}

function _stateOf(state: StateInfo | undefined, dim: number): StateInfo {
  if (state === undefined) return { names: null, units: null, scale: 1 };
  if (state === null || typeof state !== "object") {
    invalidArgument("state", state, "an object { names, units, scale, shift? }");
  }
  const { names, units, scale, shift } = state;
  const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
  if (Array.isArray(scale)) {
    if (scale.length !== dim) {
      invalidArgument("state.scale", scale, `a number > 0 or ${dim} of them (the field's dim)`);
    }
    scale.forEach((v, i) => {
      if (!positive(v)) invalidArgument(`state.scale[${i}]`, v, "a finite number > 0");
    });
  } else if (!positive(scale)) {
    invalidArgument("state.scale", scale, "a finite number > 0 (the data's divisor)");
  }
  if (shift !== undefined) {
    if (!Array.isArray(shift) || shift.length !== dim) {
      invalidArgument("state.shift", shift, `${dim} numbers (the field's dim), or absent`);
    }
    shift.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v)) {
        invalidArgument(`state.shift[${i}]`, v, "a finite number");
      }
    });
  }
  for (const [key, list] of [["names", names], ["units", units]] as const) {
    if (list !== null && (!Array.isArray(list) || list.length !== dim)) {
      invalidArgument(`state.${key}`, list, `null or ${dim} strings (the field's dim)`);
    }
  }
  return shift === undefined
    ? { names, units, scale: _frozen(scale) }
    : { names, units, scale: _frozen(scale), shift: Object.freeze([...shift]) };
}

function _frozen(scale: number | readonly number[]): number | readonly number[] {
  return typeof scale === "number" ? scale : Object.freeze([...scale]);
}

function _mlpOf(field: VectorField | MlpConfig): Mlp {
  if (field instanceof Mlp) return field;
  if (field !== null && typeof field === "object" && "evaluate" in field) {
    invalidArgument(
      "field",
      `a VectorField that is not an Mlp (dim ${(field as VectorField).dim})`,
      "an Mlp or its MlpConfig: only MLP vector fields can be exported to ONNX, " +
        "a hand-written field's code cannot be translated",
    );
  }
  if (field === null || typeof field !== "object") {
    invalidArgument("field", field, "an Mlp or its MlpConfig { dim, widths, activation, … }");
  }
  return Mlp.fromJSON(field);
}

function _schemeOf(spec: SchemeSpec | undefined): ExportScheme {
  const allowed = "plain(tableau), reversible(tableau, { coupling }), reversibleHeun() or " +
    "leapfrog(), for the integrator forms";
  if (spec === null || typeof spec !== "object") invalidArgument("scheme", spec, allowed);
  switch (spec.kind) {
    case "plain":
      return { kind: "plain", tableau: checkTableau(spec.tableau, "scheme.tableau") };
    case "reversible": {
      const coupling = spec.coupling;
      if (typeof coupling !== "number" || !(coupling > 0 && coupling <= 1)) {
        invalidArgument("coupling", coupling, "a number λ in (0, 1]");
      }
      return {
        kind: "reversible",
        tableau: checkTableau(spec.tableau, "scheme.tableau"),
        coupling,
      };
    }
    case "reversibleHeun":
    case "leapfrog":
      return { kind: spec.kind };
    default:
      return invalidArgument("scheme.kind", (spec as { kind: unknown }).kind, allowed);
  }
}
