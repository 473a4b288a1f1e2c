/**
 * # revode/export: neural ODEs as ONNX models
 *
 * A trained revode model runs in any ONNX runtime — ONNX Runtime in Node,
 * Python or C++, on CPU or GPU — with no revode code. Three forms:
 *
 * - `vector-field`: `f(t, y; θ)` alone. Input `y` `[batch, dim]` (and `t`
 *   `[batch, 1]`, one time per row, or `[1, 1]`, one time for all rows, for
 *   a time-dependent field); output `dydt` `[batch, dim]`.
 * - `loop`: the whole fixed-step solve as one ONNX `Loop` whose trajectory
 *   is loop-carried state (no scan outputs, whose shape runtimes read
 *   differently) and whose `cond` is explicit. Inputs `y0` `[batch, dim]`
 *   and scalars (`[]` or `[1]`) `t0`, `dt` and `steps` (int64; negative acts
 *   as 0), whose trained values are in the metadata (`revode.t0`,
 *   `revode.dt`, `revode.steps`, and the trained initial state
 *   `revode.y0`); outputs `ys` `[steps + 1, batch, dim]` and `ts`
 *   `[steps + 1]`.
 * - `chunked`: the same solve as a `Loop` of `chunk` unrolled steps per
 *   iteration, the step count fixed: few nodes and few iterations, for GPU
 *   runtimes (ONNX Runtime's WebGPU provider has no `Loop` kernel).
 * - `unrolled`: every step spelled out and the step count fixed (no control
 *   flow at all; slow to load beyond a few hundred steps).
 *
 * Inputs and outputs are in the user's units: the data's scaling
 * (`revode.scale`, e.g. the oscillator's ÷ 100; for a model trained on a
 * normalised table, a JSON array of per-state scales and `revode.shift`:
 * network = (user − shift) ÷ scale) is inside the graph. Every
 * graph input and output has a `doc_string`; `revode.state` names the
 * components and units, `revode.data` the data file's base name, SHA-256,
 * window and range (never a path).
 *
 * Any tableau, the plain and the reversible scheme (numerics.md §2: state
 * `(y, z)`, `z_0 = y_0`, coupling λ), reversible Heun and leapfrog. Files
 * use ONNX IR 8 and opset 17; weights are float32 by default (runs on every
 * provider, WebGPU included) or float64 (CPU runtimes); `metadata_props`
 * record the producer, revode's version, the form, the solver, λ, the step
 * and a training summary.
 *
 * Building models needs no permission; running them with onnxruntime-node
 * ({@link verifyExport}, {@link createSession}) needs `--allow-ffi
 * --allow-read --allow-env --allow-sys --allow-write`.
 *
 * @example Export a reversible RK4 solve and look inside
 * ```ts
 * import { exportIntegrator, modelMetadata } from "./mod.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import { reversible } from "../solvers/schemes/spec.ts";
 * import { rk4 } from "../solvers/tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 2, widths: [10], timeDependent: true });
 * const bytes = exportIntegrator(
 *   { field, params: field.init(0), scheme: reversible(rk4), t0: 0, dt: 0.005, steps: 1000 },
 *   { variant: "loop" },
 * );
 * const meta = modelMetadata(bytes);
 * assert.equal(meta["revode.solver"], "rk4");
 * assert.equal(meta["revode.steps"], "1000");
 * ```
 *
 * @module
 */

export {
  type AdaptiveGap,
  type DataSummary,
  EXPORT_DTYPES,
  EXPORT_FORMS,
  type ExportDtype,
  type ExportForm,
  type MetadataExtras,
  REVODE_VERSION,
  type SolverMetadata,
  type StateInfo,
  type TrainingSummary,
} from "./metadata.ts";
export {
  EXPORTABLE_ACTIVATIONS,
  type ExportScheme,
  type ExportSource,
  type ParamsChoice,
  sourceFromModel,
  sourceFromModelFile,
} from "./source.ts";
export { IR_VERSION, modelMetadata, OPSET } from "./onnx_model.ts";
export { type Scaling, scalingOfMetadata } from "./units.ts";
export { exportVectorField, type VectorFieldExportOptions } from "./vector_field.ts";
export {
  DEFAULT_CHUNK,
  exportIntegrator,
  INTEGRATOR_VARIANTS,
  type IntegratorExportOptions,
  type IntegratorVariant,
  MAX_UNROLLED_NODES,
} from "./integrator.ts";
export {
  createSession,
  type Feed,
  type Fetched,
  type OnnxSession,
  type Placement,
  type Provider,
  PROVIDERS,
  type SessionOptions,
  type WebgpuStatus,
  webgpuStatus,
} from "./ort.ts";
export {
  formatVerifyReport,
  type ProviderCheck,
  verifyExport,
  type VerifyOptions,
  type VerifyReport,
} from "./verify.ts";
export { type CheckResult, checkWithOnnx } from "./checker.ts";
export {
  defaultOnnxPath,
  type ExportedFile,
  type ExportFileOptions,
  exportModelFile,
} from "./files.ts";
export { exportOnnx } from "./forms.ts";

// The core types the export API mentions, so that this entry module documents itself.
export type { Mlp, MlpConfig, MlpOptions } from "../solvers/fields/mlp.ts";
export type { LayerShape } from "../solvers/fields/mlp_layout.ts";
export type { ActivationName } from "../solvers/fields/activations.ts";
export type { VectorField } from "../solvers/vector_field.ts";
export type { SchemeSpec } from "../solvers/schemes/spec.ts";
export type { CheckedTableau, Tableau } from "../solvers/tableau.ts";
