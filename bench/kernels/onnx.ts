/**
 * The vector field alone against ONNX Runtime: revode's `Mlp.evaluate` and
 * ONNX Runtime's CPU provider (one thread) running revode's own exported
 * `vector-field` model in float64, the same weights and rows, timed
 * alternately in one run. Tensors are made once, so the ONNX figure is the
 * session's run and nothing of revode's wrapper.
 *
 * @module
 */

import { loadOrt } from "../../export/ort.ts";
import { exportVectorField } from "../../export/vector_field.ts";
import type { Mlp } from "../../solvers/fields/mlp.ts";

/** One field's two timings, or why ONNX Runtime did not run. */
export interface FieldTiming {
  /** The network, e.g. `[t, y] (3) → 10 tanh → 2`. */
  label: string;
  /** Rows. */
  batch: number;
  /** revode's best time per evaluation, µs. */
  revodeMicros: number;
  /** ONNX Runtime's best time per run, µs, or null when skipped. */
  onnxMicros: number | null;
  /** The largest difference of the two outputs, relative to the largest |f|. */
  difference: number | null;
  /** Why ONNX Runtime was skipped, else null. */
  skipped: string | null;
}

/** The fastest of `calls` single calls, in µs: the least disturbed by other work on the machine. */
async function _best(run: () => unknown, calls: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await run();
    best = Math.min(best, performance.now() - start);
  }
  return 1000 * best;
}

/**
 * Times `field` at `batch` rows against its exported model.
 *
 * @param label The network, as printed.
 * @param field The field.
 * @param params Its parameters.
 * @param batch Rows.
 * @param rounds Alternating timed rounds; the fastest single call of each side is kept.
 * @returns The timings.
 *
 * @example Needs --allow-ffi, so not run by `deno test --doc`
 * ```ts ignore
 * import { timeFieldAgainstOnnx } from "./onnx.ts";
 * import { Mlp } from "../../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 2, widths: [10], timeDependent: true });
 * const r = await timeFieldAgainstOnnx("wd", field, field.init(0), 64, 2);
 * assert.ok(r.difference! < 1e-14);
 * ```
 */
export async function timeFieldAgainstOnnx(
  label: string,
  field: Mlp,
  params: Float64Array,
  batch: number,
  rounds: number,
): Promise<FieldTiming> {
  const dim = field.dim;
  const y = new Float64Array(batch * dim);
  for (let i = 0; i < y.length; i++) y[i] = Math.sin(0.37 * i + 0.1);
  const t = 0.25;
  const out = new Float64Array(batch * dim);
  const revode = () => field.evaluate(t, y, batch, params, out);
  const calls = Math.max(10, Math.round(2e6 / (batch * field.paramCount)));
  const result: FieldTiming = {
    label,
    batch,
    revodeMicros: Infinity,
    onnxMicros: null,
    difference: null,
    skipped: null,
  };
  let session;
  let ort;
  try {
    ort = await loadOrt();
    const bytes = exportVectorField({ field, params }, { dtype: "float64" });
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
  } catch (error) {
    result.skipped = `ONNX Runtime skipped: ${
      error instanceof Error ? error.message.split("\n")[0] : String(error)
    }`;
    for (let r = 0; r < rounds; r++) {
      result.revodeMicros = Math.min(result.revodeMicros, await _best(revode, calls));
    }
    return result;
  }
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    y: new ort.Tensor("float64", y, [batch, dim]),
  };
  if (field.timeDependent) {
    feeds.t = new ort.Tensor("float64", new Float64Array(batch).fill(t), [batch, 1]);
  }
  const onnx = async () => {
    const results = await session.run(feeds);
    for (const v of Object.values(results)) v.dispose();
  };
  revode();
  const check = await session.run(feeds);
  const theirs = check.dydt.data as Float64Array;
  let scale = 0, diff = 0;
  for (let i = 0; i < out.length; i++) {
    scale = Math.max(scale, Math.abs(out[i]));
    diff = Math.max(diff, Math.abs(out[i] - theirs[i]));
  }
  result.difference = diff / scale;
  await onnx();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    result.revodeMicros = Math.min(result.revodeMicros, await _best(revode, calls));
    best = Math.min(best, await _best(onnx, calls));
  }
  result.onnxMicros = best;
  await session.release();
  return result;
}
