/**
 * Verification of an exported model: run it with onnxruntime-node on the CPU
 * provider and, where an adapter exists, the WebGPU provider, and compare
 * with revode's own float64 evaluation of the same inputs — `Mlp.evaluate`
 * for the vector field, `solve()` with the same scheme on the grid
 * `t_n = t0 + n · dt` for the integrators.
 *
 * Inputs are rounded to the model's element type before both evaluations,
 * so the comparison measures the model's arithmetic, not the rounding of
 * its inputs. The weights are not rounded for the reference: the float32
 * weights' rounding is part of what is measured.
 *
 * Errors are relative to the magnitude of the reference:
 *
 * - vector field: `max |onnx − ref| / max |ref|` over the batch, bound
 *   {@link VECTOR_FIELD_BOUNDS} (1e-5 in float32, the issue's bound);
 * - trajectories: at step `n`, `e_n = max |onnx_n − ref_n| / max_{m≤n} max |ref_m|`,
 *   bound {@link trajectoryBound}`(n) = 32 u (n + 1)` with `u` the unit
 *   round-off (2⁻²⁴ in float32). Why: one step rounds the new state
 *   (`y + Ψ`, and for the reversible scheme also `λ y + (1 − λ) z` and
 *   `z − Ψ_{−h}`), each `Ψ` carries the network's own float32 error scaled
 *   by `h`, and the float32 weights perturb `f` by a few `u`. That is a few
 *   `u` of the state's magnitude per step; 32 `u` leaves room for the
 *   stages and the transcendental functions of the WebGPU shaders. When the
 *   dynamics do not amplify perturbations (the norm of the flow's Jacobian
 *   stays near 1 over the horizon) such errors add up at most linearly in
 *   `n`. Expanding or chaotic dynamics amplify round-off exponentially, and
 *   no bound linear in `n` holds: the check then fails and says so, which
 *   is a property of the model, not of the export.
 *
 * @module
 */

import { Rng } from "../solvers/fields/random.ts";
import { solve } from "../solvers/solve.ts";
import {
  leapfrog,
  plain,
  reversible,
  reversibleHeun,
  type SchemeSpec,
} from "../solvers/schemes/spec.ts";
import { invalidArgument } from "../solvers/checks.ts";
import { modelMetadata } from "./onnx_model.ts";
import { type Scaling, scalingOfMetadata, toNetwork, toUser } from "./units.ts";
import type { ExportDtype, ExportForm } from "./metadata.ts";
import {
  type CheckedSource,
  checkSource,
  type ExportScheme,
  type ExportSource,
} from "./source_check.ts";
import { createSession, type Feed, type Placement, type Provider, webgpuStatus } from "./ort.ts";

/**
 * Bound on the vector field's relative error, per element type.
 *
 * @example
 * ```ts
 * import { VECTOR_FIELD_BOUNDS } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VECTOR_FIELD_BOUNDS.float32, 1e-5);
 * ```
 */
export const VECTOR_FIELD_BOUNDS: Readonly<Record<ExportDtype, number>> = Object.freeze({
  float32: 1e-5,
  float64: 1e-12,
});

/**
 * Unit round-off of each element type.
 *
 * @example
 * ```ts
 * import { UNIT_ROUNDOFF } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(1 + UNIT_ROUNDOFF.float64, 1); // rounds to even
 * assert.equal(Math.fround(1 + 2 * UNIT_ROUNDOFF.float32), 1 + 2 ** -23);
 * ```
 */
export const UNIT_ROUNDOFF: Readonly<Record<ExportDtype, number>> = Object.freeze({
  float32: 2 ** -24,
  float64: 2 ** -53,
});

/**
 * Per-step round-off allowance of {@link trajectoryBound}, in units of round-off.
 *
 * @example
 * ```ts
 * import { STEP_ROUNDOFF, trajectoryBound } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(trajectoryBound(0, "float32"), STEP_ROUNDOFF * 2 ** -24);
 * ```
 */
export const STEP_ROUNDOFF = 32;

/**
 * The bound on the relative error of a trajectory at step `n`:
 * `STEP_ROUNDOFF · u · (n + 1)` (see the module documentation for why).
 *
 * @param n The step, 0 for `y0`.
 * @param dtype The element type.
 * @returns The bound.
 *
 * @example
 * ```ts
 * import { trajectoryBound } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Math.abs(trajectoryBound(999, "float32") - 32 * 1000 * 2 ** -24) < 1e-15);
 * assert.ok(trajectoryBound(0, "float64") < 1e-14);
 * ```
 */
export function trajectoryBound(n: number, dtype: ExportDtype): number {
  return STEP_ROUNDOFF * UNIT_ROUNDOFF[dtype] * (n + 1);
}

/**
 * Options of {@link verifyExport}.
 *
 * @example
 * ```ts
 * import type { VerifyOptions } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * const options: VerifyOptions = { providers: ["cpu"], batch: 16, seed: 1 };
 * assert.equal(options.batch, 16);
 * ```
 */
export interface VerifyOptions {
  /** Providers to try; default both. An unavailable WebGPU adapter is reported, not an error. */
  providers?: readonly Provider[];
  /** Rows of the batch; default 8 (vector field) or 4 (integrators). */
  batch?: number;
  /** Seed of the random inputs; default 0. */
  seed?: number;
}

/**
 * The verification on one provider.
 *
 * @example
 * ```ts
 * import type { ProviderCheck } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * const check: ProviderCheck = {
 *   provider: "webgpu", status: "unavailable", note: "no adapter", maxRelativeError: null,
 *   bound: null, worstRatio: null, placement: null, seconds: 0,
 * };
 * assert.notEqual(check.status, "failed"); // unavailable is not a failure
 * ```
 */
export interface ProviderCheck {
  /** The provider. */
  provider: Provider;
  /** `passed`, `failed` (over the bound, or nothing ran on the provider), or `unavailable`. */
  status: "passed" | "failed" | "unavailable";
  /** A sentence: where the nodes ran, why it failed, or why it is unavailable. */
  note: string;
  /** Largest relative error (see the module documentation), or null when not run. */
  maxRelativeError: number | null;
  /** The bound at the last step (the fixed bound for the vector field), or null. */
  bound: number | null;
  /** Largest ratio error / bound over the steps (passed when ≤ 1), or null. */
  worstRatio: number | null;
  /** Nodes per provider, from ONNX Runtime's profile. */
  placement: Placement | null;
  /** Seconds taken (session creation included). */
  seconds: number;
}

/**
 * The result of {@link verifyExport}.
 *
 * @example
 * ```ts
 * import type { VerifyReport } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * const report: VerifyReport = {
 *   form: "loop", dtype: "float32", batch: 4, steps: 1000, checks: [], ok: false,
 * };
 * // nothing ran: not verified
 * assert.equal(report.ok, report.checks.some((c) => c.status === "passed"));
 * ```
 */
export interface VerifyReport {
  /** The form, from the model's metadata. */
  form: ExportForm;
  /** The element type, from the model's metadata. */
  dtype: ExportDtype;
  /** Rows of the batch. */
  batch: number;
  /** Steps run (0 for the vector field). */
  steps: number;
  /** One check per provider tried. */
  checks: ProviderCheck[];
  /**
   * True when at least one check passed and none failed (an unavailable
   * provider is not a failure, but a verification that ran nowhere is).
   */
  ok: boolean;
}

/** Inputs and the float64 reference outputs of one verification. */
interface _Case {
  feeds: Record<string, Feed>;
  output: string;
  reference: Float64Array;
  /** Rows per slice the error is measured on (whole output for the field). */
  sliceSize: number;
  /** Expected `ts`, for integrators. */
  ts: Float64Array | null;
}

/**
 * Runs an exported model on each provider and compares it with revode.
 *
 * @param bytes The `.onnx` file's bytes (form, element type, `t0`, `dt`,
 *   `steps` are read from its metadata).
 * @param source The model it was exported from.
 * @param options Providers, batch, seed.
 * @returns One check per provider.
 *
 * @example Needs --allow-ffi, so not run by `deno test --doc`
 * ```ts ignore
 * import { verifyExport } from "./verify.ts";
 * import { exportVectorField } from "./vector_field.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 2, widths: [8] });
 * const source = { field, params: field.init(0) };
 * const report = await verifyExport(exportVectorField(source), source, { providers: ["cpu"] });
 * assert.ok(report.ok && report.checks[0].maxRelativeError! < 1e-5);
 * ```
 */
export async function verifyExport(
  bytes: Uint8Array,
  source: ExportSource,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const meta = modelMetadata(bytes);
  const form = meta["revode.form"] as ExportForm;
  const dtype = meta["revode.dtype"] as ExportDtype;
  if (!["vector-field", "loop", "chunked", "unrolled"].includes(form)) {
    invalidArgument("model", form ?? "no revode.form metadata", "a model exported by revode");
  }
  if (dtype !== "float32" && dtype !== "float64") {
    invalidArgument("model", dtype ?? "no revode.dtype metadata", "a model exported by revode");
  }
  const integrator = form !== "vector-field";
  const checked = checkSource(
    integrator
      ? {
        ...source,
        t0: Number(meta["revode.t0"]),
        dt: Number(meta["revode.dt"]),
        steps: Number(meta["revode.steps"]),
      }
      : source,
    integrator,
    dtype,
  );
  const batch = options.batch ?? (integrator ? 4 : 8);
  if (!Number.isInteger(batch) || batch < 1) invalidArgument("batch", batch, "an integer >= 1");
  const rng = new Rng(options.seed ?? 0);
  // inputs and outputs in user units: the graph takes (y − shift) ÷ scale and maps back
  const scale = scalingOfMetadata(meta);
  const c = integrator
    ? _integratorCase(checked, dtype, batch, rng, form === "loop", scale)
    : _fieldCase(checked, dtype, batch, rng, scale);
  const providers = options.providers ?? ["cpu", "webgpu"];
  const checks: ProviderCheck[] = [];
  for (const provider of providers) {
    checks.push(await _check(bytes, provider, c, form, dtype));
  }
  return {
    form,
    dtype,
    batch,
    steps: checked.steps,
    checks,
    ok: checks.some((k) => k.status === "passed") && checks.every((k) => k.status !== "failed"),
  };
}

function _round(dtype: ExportDtype): (x: number) => number {
  return dtype === "float32" ? Math.fround : (x) => x;
}

function _fieldCase(
  s: CheckedSource,
  dtype: ExportDtype,
  batch: number,
  rng: Rng,
  scale: Scaling,
): _Case {
  const { mlp, params } = s;
  const r = _round(dtype);
  const dim = mlp.dim;
  const y = new Float64Array(batch * dim);
  const t = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) y[b * dim + d] = r((s.y0?.[d] ?? 0) + rng.uniform(-2, 2));
    t[b] = r(s.t0 + rng.uniform(0, 1));
  }
  const raw = new Float64Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    const out = raw.subarray(b * dim, (b + 1) * dim);
    mlp.evaluate(t[b], toNetwork(y.slice(b * dim, (b + 1) * dim), dim, scale), 1, params, out);
  }
  // a derivative is scaled, never shifted
  const reference = toUser(raw, dim, { scale: scale.scale });
  const feeds: Record<string, Feed> = { y: { type: dtype, data: y, dims: [batch, dim] } };
  if (mlp.timeDependent) feeds.t = { type: dtype, data: t, dims: [batch, 1] };
  return { feeds, output: "dydt", reference, sliceSize: batch * dim, ts: null };
}

/**
 * The scheme choice `solve()` takes for a checked export scheme.
 *
 * @param scheme The checked scheme.
 * @returns The same scheme as data for `solve()`.
 *
 * @example
 * ```ts
 * import { schemeSpecOf } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(schemeSpecOf({ kind: "leapfrog" }), { kind: "leapfrog" });
 * ```
 */
export function schemeSpecOf(scheme: ExportScheme): SchemeSpec {
  switch (scheme.kind) {
    case "plain":
      return plain(scheme.tableau);
    case "reversible":
      return reversible(scheme.tableau, { coupling: scheme.coupling });
    case "reversibleHeun":
      return reversibleHeun();
    case "leapfrog":
      return leapfrog();
  }
}

function _integratorCase(
  s: CheckedSource,
  dtype: ExportDtype,
  batch: number,
  rng: Rng,
  loop: boolean,
  scale: Scaling,
): _Case {
  const { mlp, params } = s;
  const r = _round(dtype);
  const dim = mlp.dim;
  const t0 = r(s.t0);
  const dt = r(s.dt);
  if (!(dt > 0)) {
    invalidArgument("dt", s.dt, "a positive step for verification (revode's grids increase)");
  }
  const y0 = new Float64Array(batch * dim);
  const base = s.y0 ?? new Float64Array(dim);
  const size = Math.max(1, ...Array.from(base, Math.abs));
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dim; d++) {
      const noise = s.y0 === null
        ? rng.uniform(-1, 1)
        : b === 0
        ? 0
        : 0.1 * size * rng.uniform(-1, 1);
      y0[b * dim + d] = r(toUser([base[d] + noise], 1, _component(scale, d))[0]);
    }
  }
  const grid = Array.from({ length: s.steps + 1 }, (_, n) => t0 + n * dt);
  const sol = solve({
    field: mlp,
    y0: toNetwork(y0, dim, scale),
    params,
    scheme: schemeSpecOf(s.scheme as ExportScheme),
    grid,
    saveAt: { t0: true, steps: true },
  });
  const feeds: Record<string, Feed> = {
    y0: { type: dtype, data: y0, dims: [batch, dim] },
    t0: { type: dtype, data: [t0], dims: [] },
    dt: { type: dtype, data: [dt], dims: [] },
  };
  if (loop) feeds.steps = { type: "int64", data: [s.steps], dims: [] };
  return {
    feeds,
    output: "ys",
    reference: toUser(sol.ys, dim, scale),
    sliceSize: batch * dim,
    ts: Float64Array.from(grid),
  };
}

/** Component `d` of a scaling, as a scaling of one component. */
function _component(s: Scaling, d: number): Scaling {
  const scale = typeof s.scale === "number" ? s.scale : [s.scale[d]];
  return s.shift === undefined ? { scale } : { scale, shift: [s.shift[d]] };
}

async function _check(
  bytes: Uint8Array,
  provider: Provider,
  c: _Case,
  form: ExportForm,
  dtype: ExportDtype,
): Promise<ProviderCheck> {
  const start = performance.now();
  const empty = {
    maxRelativeError: null,
    bound: null,
    worstRatio: null,
    placement: null,
  };
  if (provider === "webgpu") {
    if (dtype === "float64") {
      return {
        provider,
        status: "unavailable",
        note: "WebGPU has no float64: export with dtype float32 to run there",
        ...empty,
        seconds: 0,
      };
    }
    const status = await webgpuStatus();
    if (!status.available) {
      return { provider, status: "unavailable", note: status.reason, ...empty, seconds: 0 };
    }
  }
  let session;
  try {
    session = await createSession(bytes, provider, { profile: true });
  } catch (error) {
    return {
      provider,
      status: "failed",
      note: `ONNX Runtime refused the model: ${error instanceof Error ? error.message : error}`,
      ...empty,
      seconds: (performance.now() - start) / 1000,
    };
  }
  try {
    const out = await session.run(c.feeds);
    const placement = await session.placement();
    const x = out[c.output].data;
    const ref = c.reference;
    if (x.length !== ref.length) {
      return {
        provider,
        status: "failed",
        note: `output ${c.output} has ${x.length} entries, expected ${ref.length}`,
        ...empty,
        placement,
        seconds: (performance.now() - start) / 1000,
      };
    }
    let maxError = 0;
    let worstRatio = 0;
    let bound = VECTOR_FIELD_BOUNDS[dtype];
    let scale = 0;
    const slices = ref.length / c.sliceSize;
    for (let n = 0; n < slices; n++) {
      let diff = 0;
      for (let i = n * c.sliceSize; i < (n + 1) * c.sliceSize; i++) {
        scale = Math.max(scale, Math.abs(ref[i]));
        const d = Math.abs(x[i] - ref[i]);
        diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
      }
      const e = diff / Math.max(scale, Number.MIN_VALUE);
      if (form !== "vector-field") bound = trajectoryBound(n, dtype);
      maxError = Math.max(maxError, e);
      worstRatio = Math.max(worstRatio, e / bound);
    }
    const notes: string[] = [];
    if (c.ts !== null) {
      const ts = out.ts.data;
      for (let n = 0; n < c.ts.length; n++) {
        const tol = 4 * UNIT_ROUNDOFF[dtype] * (Math.abs(c.ts[0]) + 2 * Math.abs(c.ts[n]));
        if (!(Math.abs(ts[n] - c.ts[n]) <= tol)) {
          notes.push(`ts[${n}] = ${ts[n]}, expected ${c.ts[n]}`);
          worstRatio = Infinity;
          break;
        }
      }
    }
    const onProvider = placement?.byProvider[
      provider === "cpu" ? "CPUExecutionProvider" : "WebGpuExecutionProvider"
    ] ?? 0;
    const where = placement === null
      ? "placement unknown"
      : `${onProvider} of ${placement.nodes} nodes ran on ${
        provider === "cpu" ? "the CPU" : "WebGPU"
      }` +
        (provider === "webgpu" && onProvider < placement.nodes
          ? ` (the rest on the CPU${
            form === "loop" || form === "chunked" ? ": Loop has no WebGPU kernel" : ""
          })`
          : "");
    let status: ProviderCheck["status"] = worstRatio <= 1 ? "passed" : "failed";
    if (status === "failed" && notes.length === 0) {
      notes.push(
        form === "vector-field"
          ? `relative error ${maxError.toExponential(2)} exceeds ${bound}`
          : `relative error exceeds ${STEP_ROUNDOFF} u (n + 1) by a factor ${
            worstRatio.toFixed(1)
          }: ` +
            "beyond float round-off growth, or dynamics that amplify round-off",
      );
    }
    if (provider === "webgpu" && onProvider === 0) {
      status = "failed";
      notes.push("no node ran on the WebGPU provider");
    }
    return {
      provider,
      status,
      note: [where, ...notes].join("; "),
      maxRelativeError: maxError,
      bound,
      worstRatio,
      placement,
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    await session.release();
  }
}

/**
 * The report as lines of text, one per provider.
 *
 * @param report The verification.
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { formatVerifyReport } from "./verify.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatVerifyReport({
 *   form: "vector-field", dtype: "float32", batch: 8, steps: 0, ok: true,
 *   checks: [{
 *     provider: "cpu", status: "passed", note: "5 of 5 nodes ran on the CPU",
 *     maxRelativeError: 1.2e-7, bound: 1e-5, worstRatio: 0.012, placement: null, seconds: 0.1,
 *   }],
 * });
 * assert.match(text, /cpu\s+passed\s+max relative error 1\.20e-7 \(bound 1\.00e-5\)/);
 * ```
 */
export function formatVerifyReport(report: VerifyReport): string {
  const head = `verify ${report.form} (${report.dtype}, batch ${report.batch}` +
    (report.steps > 0 ? `, ${report.steps} steps` : "") + ") against revode's float64 evaluation";
  const lines = [head];
  for (const c of report.checks) {
    const err = c.maxRelativeError === null
      ? ""
      : `max relative error ${c.maxRelativeError.toExponential(2)} (bound ${
        c.bound!.toExponential(2)
      }${report.form === "vector-field" ? "" : " at the last step"})  `;
    lines.push(`  ${c.provider.padEnd(7)}${c.status.padEnd(12)}${err}${c.note}`);
  }
  if (report.checks.every((c) => c.status === "unavailable")) {
    lines.push("  nothing was verified: no provider asked for is available here");
  }
  return lines.join("\n") + "\n";
}
