/**
 * What an exported model says about itself: ONNX `producer_name` "revode",
 * `producer_version` (revode's version, from deno.json), and
 * `metadata_props` with the form, the element type, the architecture, the
 * solver, λ, the step and a training summary — so that a runtime user knows
 * what the file integrates without revode.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };
import type { MlpConfig } from "../solvers/fields/mlp.ts";
import { isScaled, toUser } from "./units.ts";

/**
 * revode's version, as written to every model's `producer_version`.
 *
 * @example
 * ```ts
 * import { REVODE_VERSION } from "./metadata.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(REVODE_VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const REVODE_VERSION: string = denoConfig.version;

/**
 * The three exported forms.
 *
 * @example
 * ```ts
 * import type { ExportForm } from "./metadata.ts";
 * import { exportMetadata } from "./metadata.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const form: ExportForm = "vector-field";
 * const mlp = new Mlp({ dim: 1, widths: [] }).toJSON();
 * const meta = exportMetadata(form, "float32", mlp, null, null, "inputs y [batch, 1]");
 * assert.equal(meta["revode.form"], "vector-field");
 * assert.equal(meta["revode.steps"], undefined); // a field alone has no solver
 * ```
 */
export type ExportForm = "vector-field" | "loop" | "chunked" | "unrolled";

/**
 * The forms, in help order.
 *
 * @example
 * ```ts
 * import { EXPORT_FORMS } from "./metadata.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(EXPORT_FORMS, ["vector-field", "loop", "chunked", "unrolled"]);
 * ```
 */
export const EXPORT_FORMS: readonly ExportForm[] = Object.freeze([
  "vector-field",
  "loop",
  "chunked",
  "unrolled",
]);

/**
 * Element type of the exported weights, inputs and outputs. `float32` runs
 * everywhere (ONNX Runtime's WebGPU provider is f32 only); `float64` matches
 * revode's CPU solver bit for bit in structure and suits CPU runtimes.
 *
 * @example
 * ```ts
 * import type { ExportDtype } from "./metadata.ts";
 * import { exportMetadata } from "./metadata.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const dtype: ExportDtype = "float64";
 * const mlp = new Mlp({ dim: 1, widths: [] }).toJSON();
 * const meta = exportMetadata("vector-field", dtype, mlp, null, null, "inputs y [batch, 1]");
 * assert.match(meta["revode.dtype_reason"], /^float64: .*CPU runtimes/);
 * ```
 */
export type ExportDtype = "float32" | "float64";

/**
 * The element types, default first.
 *
 * @example
 * ```ts
 * import { EXPORT_DTYPES } from "./metadata.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(EXPORT_DTYPES[0], "float32");
 * ```
 */
export const EXPORT_DTYPES: readonly ExportDtype[] = Object.freeze(["float32", "float64"]);

/**
 * A short summary of how the exported parameters were trained.
 *
 * @example
 * ```ts
 * import type { TrainingSummary } from "./metadata.ts";
 * import { exportMetadata } from "./metadata.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const summary: TrainingSummary = { iterations: 1000, bestLoss: 2e-4, params: "best" };
 * const mlp = new Mlp({ dim: 1, widths: [] }).toJSON();
 * const meta = exportMetadata("vector-field", "float32", mlp, null, summary, "inputs y [batch, 1]");
 * assert.deepEqual(JSON.parse(meta["revode.training"]), summary); // stored as JSON, exactly
 * ```
 */
export interface TrainingSummary {
  /** The experiment, if any. */
  example?: string | null;
  /** Iterations done. */
  iterations?: number;
  /** How the training ended. */
  status?: string;
  /** Lowest loss, and the iteration it was reached at. */
  bestLoss?: number | null;
  /** The iteration of `bestLoss`. */
  bestIteration?: number;
  /** Which parameters were exported: `best` or `current`. */
  params?: string;
  /** Training seconds. */
  seconds?: number;
  /** Gradient method used in training. */
  gradient?: string;
  /** The data file's base name (never its path), or a description of generated data. */
  data?: string;
  /**
   * Training with adaptive steps: the tolerances. The exported integrator
   * takes fixed steps (`steps` of `dt`, its inputs), not the PID controller's.
   */
  adaptive?: { rtol: number; atol: number; maxSteps: number };
  /** When the model file was written. */
  createdAt?: string;
}

/**
 * The solver part of the metadata (absent for the vector-field form).
 *
 * @example
 * ```ts
 * import type { SolverMetadata } from "./metadata.ts";
 * import { exportMetadata } from "./metadata.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const solver: SolverMetadata = {
 *   scheme: "reversible", solver: "rk4", coupling: 0.999, dt: 0.005, t0: 0, steps: 1000,
 * };
 * const mlp = new Mlp({ dim: 1, widths: [] }).toJSON();
 * const meta = exportMetadata("loop", "float32", mlp, solver, null, "inputs y0 [batch, 1]");
 * assert.equal(meta["revode.scheme"], "reversible");
 * assert.equal(Number(meta["revode.dt"]), solver.dt); // numbers read back exactly
 * ```
 */
export interface SolverMetadata {
  /** `plain`, `reversible`, `reversibleHeun` or `leapfrog`. */
  scheme: string;
  /** The base tableau's name (`heun` / `midpoint` for the two special schemes). */
  solver: string;
  /** λ of the reversible scheme, or null. */
  coupling: number | null;
  /** Default step size. */
  dt: number;
  /** Default start time. */
  t0: number;
  /** Default (Loop) or fixed (unrolled) number of steps. */
  steps: number;
}

/**
 * The state's names and units, and the data's scaling. The graph's inputs
 * and outputs are in the user's units; the network works in the data's
 * units, `(user − shift) ÷ scale` (the oscillator's data are pixels ÷ 100,
 * the pendulum's radians ÷ 10; a model trained on a normalised table has
 * one shift and one scale per component), and the graph converts.
 *
 * @example
 * ```ts
 * import type { StateInfo } from "./metadata.ts";
 * import assert from "node:assert/strict";
 *
 * const state: StateInfo = { names: ["θ1", "θ2", "ω1", "ω2"], units: ["rad", "rad", "rad/s", "rad/s"], scale: 10 };
 * assert.equal(state.scale, 10);
 * const table: StateInfo = { names: ["x", "v"], units: null, scale: [2, 0.5], shift: [10, 0] };
 * assert.deepEqual(table.shift, [10, 0]);
 * ```
 */
export interface StateInfo {
  /** Names of the state components, or null when unknown. */
  names: readonly string[] | null;
  /** Units of the state components (user units), or null when unknown. */
  units: readonly string[] | null;
  /**
   * The data's divisor, one for every component or one per component:
   * network units = (user units − shift) ÷ scale (1: no scaling).
   */
  scale: number | readonly number[];
  /** Per-component shift (absent: none). */
  shift?: readonly number[];
}

/**
 * What the model was trained on, without a path: the file's base name and
 * SHA-256, the time window, and the range of the data in the user's units.
 *
 * @example
 * ```ts
 * import type { DataSummary } from "./metadata.ts";
 * import assert from "node:assert/strict";
 *
 * const data: DataSummary = {
 *   file: "real_double_pend_h_1.txt", sha256: "ab12…", description: "measured",
 *   window: [0, 2], points: 500, range: { min: [-1, -2, -3, -4], max: [1, 2, 3, 4] },
 * };
 * assert.deepEqual(data.window, [0, 2]);
 * ```
 */
export interface DataSummary {
  /** The data file's base name, or null for generated data. */
  file: string | null;
  /** The file's SHA-256 (hex), or null when it was not readable at export. */
  sha256: string | null;
  /** How the data came about (measured, simulated, generated from the equation). */
  description: string;
  /** The time window `[t0, t1]` of the data. */
  window: readonly [number, number];
  /** Number of data points. */
  points: number;
  /** Per-component minimum and maximum in the user's units, or null when unknown. */
  range: { min: readonly number[]; max: readonly number[] } | null;
}

/**
 * For a model trained with adaptive steps: how far the exported fixed-step
 * solve is from the training solve (the PID-controlled one), measured at
 * export from the trained initial state on the exported grid.
 *
 * @example
 * ```ts
 * import type { AdaptiveGap } from "./metadata.ts";
 * import assert from "node:assert/strict";
 *
 * const gap: AdaptiveGap = { maxAbs: 3e-7, relative: 2e-6, points: 500, adaptiveSteps: 212 };
 * assert.ok(gap.relative < 1e-5);
 * ```
 */
export interface AdaptiveGap {
  /** The largest absolute difference over every saved point and component (user units). */
  maxAbs: number;
  /** `maxAbs` ÷ the largest absolute value of the training solve. */
  relative: number;
  /** Points compared (the exported grid, `t0` excluded). */
  points: number;
  /** Steps the adaptive solve took. */
  adaptiveSteps: number;
}

/** What `revode.training.bestLoss` measures (the `revode.loss` key). */
const _LOSS_TEXT = "revode.training.bestLoss: the lowest training loss, the mean squared error " +
  "over every component of every data point after the first (t > t0) between the solve " +
  "from the data's initial state and the data, in the network's units (user units ÷ " +
  "revode.scale, so squared units ÷ scale²); bestIteration is the iteration it was reached at";

/** Optional parts of the metadata. */
export interface MetadataExtras {
  /** Names, units, scaling. */
  state?: StateInfo;
  /** The training data. */
  data?: DataSummary | null;
  /** The adaptive-versus-fixed gap, for adaptive-trained models. */
  adaptiveGap?: AdaptiveGap | null;
}

/**
 * The `metadata_props` of an exported model. Keys are prefixed `revode.`;
 * numbers are written so that they read back exactly; objects are JSON.
 *
 * @param form The exported form.
 * @param dtype The element type.
 * @param mlp The architecture.
 * @param solver The solver, for integrators.
 * @param training A training summary, when known.
 * @param io A description of the inputs and outputs.
 * @param y0 The initial state the model was trained from, when known (network units;
 *   recorded in user units, `shift + scale · y0`).
 * @param extras State names and units, scaling, data, adaptive gap.
 * @returns The key–value strings.
 *
 * @example
 * ```ts
 * import { exportMetadata } from "./metadata.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const meta = exportMetadata(
 *   "loop",
 *   "float32",
 *   { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   { scheme: "reversible", solver: "rk4", coupling: 0.999, dt: 0.005, t0: 0, steps: 1000 },
 *   { iterations: 1000, bestLoss: 1e-4 },
 *   "inputs y0 [batch, 2]",
 * );
 * assert.equal(meta["revode.coupling"], "0.999");
 * assert.equal(meta["revode.dt"], "0.005");
 * assert.equal(JSON.parse(meta["revode.training"]).iterations, 1000);
 * assert.equal(meta["revode.scale"], "1"); // no scaling unless given
 * assert.match(meta["revode.loss"], /mean squared error/);
 *
 * const state = { names: ["x", "v"], units: null, scale: [2, 4], shift: [1, 0] };
 * const mlp = new Mlp({ dim: 2, widths: [] }).toJSON();
 * const scaled = exportMetadata("vector-field", "float64", mlp, null, null, "", [1, 1], { state });
 * assert.deepEqual(JSON.parse(scaled["revode.scale"]), [2, 4]);
 * assert.deepEqual(JSON.parse(scaled["revode.shift"]), [1, 0]);
 * assert.deepEqual(JSON.parse(scaled["revode.y0"]), [3, 4]); // user units
 * ```
 */
export function exportMetadata(
  form: ExportForm,
  dtype: ExportDtype,
  mlp: MlpConfig,
  solver: SolverMetadata | null,
  training: TrainingSummary | null,
  io: string,
  y0: ArrayLike<number> | null = null,
  extras: MetadataExtras = {},
): Record<string, string> {
  const meta: Record<string, string> = {
    "revode.version": REVODE_VERSION,
    "revode.form": form,
    "revode.dtype": dtype,
    "revode.dtype_reason": dtype === "float32"
      ? "float32: runs on every ONNX Runtime provider, WebGPU included (f32 only); " +
        "revode trains in float64, so results differ by float32 round-off"
      : "float64: revode's own precision; for CPU runtimes (WebGPU has no f64)",
    "revode.mlp": JSON.stringify(mlp),
    "revode.io": io,
  };
  if (solver !== null) {
    meta["revode.scheme"] = solver.scheme;
    meta["revode.solver"] = solver.solver;
    if (solver.coupling !== null) meta["revode.coupling"] = String(solver.coupling);
    meta["revode.dt"] = String(solver.dt);
    meta["revode.t0"] = String(solver.t0);
    meta["revode.steps"] = String(solver.steps);
  }
  if (training !== null) {
    meta["revode.training"] = JSON.stringify(training);
    if (training.bestLoss !== undefined) {
      meta["revode.loss"] = extras.state?.shift === undefined
        ? _LOSS_TEXT
        : `${_LOSS_TEXT}; with revode.shift, per component: (user units − shift) ÷ scale`;
    }
  }
  const state = extras.state ?? { names: null, units: null, scale: 1 };
  // in the graph's units, the user's: what y0 expects
  if (y0 !== null) meta["revode.y0"] = JSON.stringify(Array.from(toUser(y0, y0.length, state)));
  meta["revode.scale"] = typeof state.scale === "number"
    ? String(state.scale)
    : JSON.stringify(state.scale);
  if (state.shift !== undefined) meta["revode.shift"] = JSON.stringify(state.shift);
  meta["revode.state"] = JSON.stringify({ ...state, note: _stateNote(state) });
  if (extras.data) {
    meta["revode.data"] = JSON.stringify(extras.data);
    meta["revode.window"] = JSON.stringify(extras.data.window);
  }
  if (extras.adaptiveGap) meta["revode.adaptive_gap"] = JSON.stringify(extras.adaptiveGap);
  return meta;
}

/** What the graph does with the units, in words. */
function _stateNote(state: StateInfo): string {
  if (!isScaled(state)) return "inputs and outputs are in the data's units";
  if (typeof state.scale === "number" && state.shift === undefined) {
    return `inputs and outputs are in the user's units; the graph divides inputs by ` +
      `${state.scale} for the network and multiplies its outputs back`;
  }
  return "inputs and outputs are in the user's units; per component, the graph computes " +
    "(input − shift) ÷ scale for the network and maps its states back with " +
    "state · scale + shift (a time derivative: dy/dt · scale, no shift)";
}
