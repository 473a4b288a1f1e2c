// A model trained on a normalised table (config.normalization: network = (user − shift) ÷ scale,
// per state) is exported in the user's units: every form's graph subtracts the shift and divides
// by the scale on the way in, and maps back (states: · scale + shift; the field's dy/dt: · scale
// only) on the way out; the metadata records both, y0 in user units and the table's column
// names. The paper's scalar-scaled experiments export to the same bytes as before the change.
//
// Needs: --allow-read --allow-write --allow-ffi --allow-env --allow-sys --allow-run.

import assert from "node:assert/strict";
import { experimentConfig } from "../training/experiments.ts";
import { initialState } from "../training/state.ts";
import { writeModelFile } from "../training/model_file.ts";
import { modelFromState } from "../training/model_state.ts";
import type { ModelConfig } from "../training/model_format.ts";
import { exportModelFile, exportOnnx } from "../export/files.ts";
import { decodeModel, modelMetadata } from "../export/onnx_model.ts";
import { createSession, type Feed } from "../export/ort.ts";
import { EXPORT_FORMS } from "../export/metadata.ts";
import { sourceFromModelFile } from "../export/source.ts";
import { exportVectorField } from "../export/vector_field.ts";
import { verifyExport } from "../export/verify.ts";
import { checkWithOnnx, findOnnxPython } from "../export/checker.ts";
import { scalingOfMetadata } from "../export/units.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { solve } from "../solvers/solve.ts";
import { withTempDir } from "./cli_harness.ts";

const SHIFT = [3.5, -2, 0.125, 100];
const SCALE = [2, 0.25, 7, 1e3];
const COLUMNS = ["angle", "height", "speed", "energy"];
const STEPS = 20;

/** A model file as `deno task train --data table.csv` writes one, normalisation and columns. */
async function writeNormalizedModel(dir: string): Promise<{ path: string; config: ModelConfig }> {
  // the pendulum's network and adaptive Bosh3: the adaptive gap is measured too
  const train = experimentConfig("pendulum", { steps: STEPS });
  const config: ModelConfig = {
    ...train,
    example: null,
    t0: 0,
    t1: 2,
    y0: [0.5, -1.25, 0.75, 0.25],
    data: {
      source: "table.csv",
      path: null,
      simulated: false,
      points: 40,
      columns: { time: "t", states: COLUMNS },
    },
    normalization: { shift: SHIFT, scale: SCALE },
  };
  const state = initialState(train);
  // larger weights than the initialisation's, so that every component moves visibly
  state.params = state.params.map((p, i) => p * 3 + 0.01 * Math.sin(i));
  state.bestLoss = 0.5;
  state.bestParams = Float64Array.from(state.params);
  const path = `${dir}/model.json`;
  await writeModelFile(
    path,
    modelFromState(config, state, {
      plannedIterations: 0,
      status: "completed",
      reason: null,
      gradient: null,
      createdAt: new Date(0),
    }),
  );
  return { path, config };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

Deno.test("normalised model: every integrator form runs in user units, shift + scale · revode's normalised solve", async () => {
  await withTempDir(async (dir) => {
    const { path, config } = await writeNormalizedModel(dir);
    const source = await sourceFromModelFile(path);
    const field = new Mlp(config.mlp);
    const params = Float64Array.from(source.params);
    const dt = (config.t1 - config.t0) / STEPS;
    const grid = Array.from({ length: STEPS + 1 }, (_, n) => config.t0 + n * dt);
    // two trajectories: the trained initial state and another, in user units
    const user0 = [...config.y0.map((z, d) => SHIFT[d] + SCALE[d] * z), 1, 2, 3, 4];
    const reference: number[] = [];
    for (let b = 0; b < 2; b++) {
      const z0 = user0.slice(4 * b, 4 * b + 4).map((y, d) => (y - SHIFT[d]) / SCALE[d]);
      const zs = solve({
        field,
        y0: Float64Array.from(z0),
        params,
        scheme: source.scheme!,
        grid,
        saveAt: { t0: true, steps: true },
      }).ys;
      reference.push(...Array.from(zs, (z, i) => SHIFT[i % 4] + SCALE[i % 4] * z));
    }
    for (const form of ["loop", "chunked", "unrolled"] as const) {
      const { onnx } = await exportModelFile(path, `${dir}/${form}.onnx`, form, {
        dtype: "float64",
        chunk: 8, // two Loop iterations of 8 steps and 4 unrolled steps
      });
      const meta = modelMetadata(onnx);
      assert.deepEqual(JSON.parse(meta["revode.y0"]), user0.slice(0, 4));
      const session = await createSession(onnx, "cpu");
      let ys: Float64Array;
      try {
        const feeds: Record<string, Feed> = {
          y0: { type: "float64", data: user0, dims: [2, 4] },
          t0: { type: "float64", data: [config.t0], dims: [] },
          dt: { type: "float64", data: [dt], dims: [] },
        };
        if (form === "loop") feeds.steps = { type: "int64", data: [STEPS], dims: [] };
        const out = await session.run(feeds);
        assert.deepEqual(out.ys.dims, [STEPS + 1, 2, 4]);
        ys = out.ys.data;
      } finally {
        await session.release();
      }
      for (let n = 0; n <= STEPS; n++) {
        for (let b = 0; b < 2; b++) {
          for (let d = 0; d < 4; d++) {
            const got = ys[(n * 2 + b) * 4 + d];
            const want = reference[b * (STEPS + 1) * 4 + n * 4 + d];
            assert.ok(close(got, want), `${form} ys[${n}, ${b}, ${d}] = ${got}, expected ${want}`);
          }
        }
      }
      assert.deepEqual(Array.from(ys.slice(0, 8)), user0, `${form}: ys[0] is y0, in user units`);
      const report = await verifyExport(onnx, source, { providers: ["cpu"] });
      assert.ok(report.ok, `${form}: ${JSON.stringify(report.checks)}`);
    }
  });
});

Deno.test("normalised model: the vector field is scale · f((y − shift) ÷ scale), no shift on dy/dt", async () => {
  await withTempDir(async (dir) => {
    const { path, config } = await writeNormalizedModel(dir);
    const { onnx, source } = await exportModelFile(path, `${dir}/f.onnx`, "vector-field", {
      dtype: "float64",
    });
    const ops = decodeModel(onnx).graph!.node!.map((n) => n.opType);
    // in: Sub, Div; out: Mul, no Add (the output is named by an Identity)
    assert.deepEqual([...ops.slice(0, 2), ...ops.slice(-2)], ["Sub", "Div", "Mul", "Identity"]);
    const field = new Mlp(config.mlp);
    const params = Float64Array.from(source.params);
    const batch = 5;
    const y = Float64Array.from({ length: batch * 4 }, (_, i) => SHIFT[i % 4] + 10 * Math.sin(i));
    const t = Float64Array.from({ length: batch }, (_, b) => 0.1 * b);
    const session = await createSession(onnx, "cpu");
    let dydt: Float64Array;
    try {
      const feeds: Record<string, Feed> = { y: { type: "float64", data: y, dims: [batch, 4] } };
      if (config.mlp.timeDependent) feeds.t = { type: "float64", data: t, dims: [batch, 1] };
      dydt = (await session.run(feeds)).dydt.data;
    } finally {
      await session.release();
    }
    const out = new Float64Array(4);
    for (let b = 0; b < batch; b++) {
      const z = Float64Array.from(
        y.subarray(4 * b, 4 * b + 4),
        (v, d) => (v - SHIFT[d]) / SCALE[d],
      );
      field.evaluate(t[b], z, 1, params, out);
      for (let d = 0; d < 4; d++) {
        assert.ok(close(dydt[4 * b + d], SCALE[d] * out[d]), `dydt[${b}, ${d}]`);
      }
    }
    const report = await verifyExport(onnx, source, { providers: ["cpu"] });
    assert.ok(report.ok, JSON.stringify(report.checks));
  });
});

Deno.test("normalised model: metadata round trip (scale and shift arrays, y0 in user units, column names)", async () => {
  await withTempDir(async (dir) => {
    const { path, config } = await writeNormalizedModel(dir);
    for (const form of EXPORT_FORMS) {
      const { onnx } = await exportModelFile(path, `${dir}/${form}.onnx`, form);
      const meta = modelMetadata(onnx);
      assert.deepEqual(JSON.parse(meta["revode.scale"]), SCALE);
      assert.deepEqual(JSON.parse(meta["revode.shift"]), SHIFT);
      assert.deepEqual(scalingOfMetadata(meta), { scale: SCALE, shift: SHIFT });
      const state = JSON.parse(meta["revode.state"]);
      assert.deepEqual(state.names, COLUMNS);
      assert.deepEqual([state.scale, state.shift], [SCALE, SHIFT]);
      assert.match(state.note, /\(input − shift\) ÷ scale/);
      assert.deepEqual(
        JSON.parse(meta["revode.y0"]),
        config.y0.map((z, d) => SHIFT[d] + SCALE[d] * z),
      );
      assert.match(meta["revode.io"], /angle, height, speed, energy/);
      assert.match(meta["revode.io"], /\(y − shift \[3\.5,-2,0\.125,100\]\) ÷ scale/);
      assert.match(meta["revode.loss"], /\(user units − shift\) ÷ scale/);
      if (form !== "vector-field") {
        const gap = JSON.parse(meta["revode.adaptive_gap"]);
        assert.ok(Number.isFinite(gap.maxAbs) && gap.points === STEPS, meta["revode.adaptive_gap"]);
      }
    }
  });
});

Deno.test("scaling that changes nothing adds no node; a bad scale or shift is refused by name", () => {
  const field = new Mlp({ dim: 2, widths: [3] });
  const params = field.init(1);
  const plain = decodeModel(exportVectorField({ field, params })).graph!.node!;
  const identity = decodeModel(
    exportVectorField({
      field,
      params,
      state: { names: null, units: null, scale: [1, 1], shift: [0, 0] },
    }),
  ).graph!.node!;
  assert.deepEqual(identity.map((n) => n.opType), plain.map((n) => n.opType));
  const state = (scale: number | number[], shift?: number[]) => ({
    names: null,
    units: null,
    scale,
    ...(shift ? { shift } : {}),
  });
  assert.throws(
    () => exportVectorField({ field, params, state: state([1, 2, 3]) }),
    /state\.scale/,
  );
  assert.throws(
    () => exportVectorField({ field, params, state: state([1, 0]) }),
    /state\.scale\[1\]/,
  );
  assert.throws(() => exportVectorField({ field, params, state: state(-2) }), /state\.scale/);
  assert.throws(
    () => exportVectorField({ field, params, state: state([1, 2], [0]) }),
    /state\.shift/,
  );
  assert.throws(
    () => exportVectorField({ field, params, state: state([1, 2], [0, NaN]) }),
    /state\.shift\[1\]/,
  );
});

const python = await findOnnxPython();

Deno.test({
  name: "normalised model: onnx.checker accepts every form in float32 and float64",
  ignore: python === null,
  async fn() {
    await withTempDir(async (dir) => {
      const { path } = await writeNormalizedModel(dir);
      const source = await sourceFromModelFile(path);
      const paths: string[] = [];
      for (const form of EXPORT_FORMS) {
        for (const dtype of ["float32", "float64"] as const) {
          const file = `${dir}/${form}-${dtype}.onnx`;
          await Deno.writeFile(file, exportOnnx(source, form, dtype, 8));
          paths.push(file);
        }
      }
      const results = await checkWithOnnx(paths);
      assert.ok(results !== null);
      const failures = results.filter((r) => !r.ok);
      assert.deepEqual(failures, [], failures.map((f) => `${f.path}: ${f.error}`).join("\n"));
    });
  },
});

// SHA-256 of the paper experiments' exports (model files from their configurations, simulated
// data, 20 steps over [0, 2], createdAt 0, chunk 8), taken before per-state normalisation
// existed: its scalar case must stay byte-identical. A change of revode's version
// (producer_version) changes them all; regenerate then, and only then.
const PAPER_SHA256: Record<string, string> = {
  "oscillator-vector-field": "2a684455ae523008e9464a8896b5a9de6375c3caf68f8e3f2eae272350624abb",
  "oscillator-loop": "f923d8019ed8dca28d24bc50b08a2982a1833ec3d648f8731d87261d964bf062",
  "oscillator-chunked": "a90df3eece6e27a6c9c634c5e8f07b6944f671a7503807fb748a926ae742236d",
  "oscillator-unrolled": "077814678723d1f22e3aefc9fac4b3415660191e9bf54ccba3d7fe995fbc2438",
  "pendulum-vector-field": "1a6a49896de2cccb99f759a25528b539d4951710ae5f1e9cc97c25070ebfcbc7",
  "pendulum-loop": "dab3be32d0ab8d3373130ef8d7cea775c4e41fe66d9842135971859df8dcd065",
  "pendulum-chunked": "949a5d0ed9b00c8f71b57da86f4675a424451da9644983c78bfc11b684d1e5ef",
  "pendulum-unrolled": "6982bffcf90753827f42004cba2d4d5da21b6ec0dc51ff047d6acacbc873fd6f",
};

Deno.test("the paper's oscillator (÷ 100) and pendulum (÷ 10) export to the same bytes as before", async () => {
  await withTempDir(async (dir) => {
    for (const example of ["oscillator", "pendulum"] as const) {
      const train = experimentConfig(example, { steps: 20 });
      const config: ModelConfig = {
        ...train,
        example,
        t0: 0,
        t1: 2,
        y0: [1.5, -1.25, 0.25, 0.5],
        data: { source: "simulated", path: null, simulated: true, points: 500 },
      };
      const path = `${dir}/${example}.json`;
      await writeModelFile(
        path,
        modelFromState(config, initialState(train), {
          plannedIterations: 0,
          status: "completed",
          reason: null,
          gradient: null,
          createdAt: new Date(0),
        }),
      );
      const source = await sourceFromModelFile(path);
      for (const form of EXPORT_FORMS) {
        const bytes = exportOnnx(source, form, "float64", 8);
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
        );
        const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
        assert.equal(hex, PAPER_SHA256[`${example}-${form}`], `${example} ${form}`);
      }
    }
  });
});
