// What an exported file tells a user of another runtime, read from the file alone: the data's
// scaling (applied inside the graph, so inputs and outputs are in the user's units), the
// state's names and units, the data file's name, hash, window and range, what bestLoss
// measures, the adaptive-versus-fixed gap; and that no absolute path is in any exported file.
// Also the vector field's contract for `t`: [batch, 1] or [1, 1], nothing else.
//
// Needs: --allow-read --allow-write --allow-ffi --allow-env --allow-sys.

import assert from "node:assert/strict";
import { experimentConfig } from "../training/experiments.ts";
import { initialState } from "../training/state.ts";
import { writeModelFile } from "../training/model_file.ts";
import { modelFromState } from "../training/model_state.ts";
import type { ModelConfig } from "../training/model_format.ts";
import { exportModelFile } from "../export/files.ts";
import { modelMetadata } from "../export/onnx_model.ts";
import { createSession, type Feed } from "../export/ort.ts";
import { exportVectorField } from "../export/vector_field.ts";
import { EXPORT_FORMS } from "../export/metadata.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { reversible } from "../solvers/schemes/spec.ts";
import { rk4 } from "../solvers/tableaux.ts";
import { solve } from "../solvers/solve.ts";
import { withTempDir } from "./cli_harness.ts";

// A tiny Schmidt–Lipson oscillator file: t from 1 s to 4 s, shifted to [0, 3] s.
const OSCILLATOR_TEXT = "% trial t x1 x2 v1 v2\n0 1 100 -100 0 0\n0 4 400 -400 30 60\n";

async function writeModel(
  dir: string,
  example: "oscillator" | "pendulum",
  dataPath: string | null,
): Promise<string> {
  // the pendulum keeps the paper's adaptive steps; 20 steps is the exported fixed grid
  const train = experimentConfig(example, { steps: 20 });
  const config: ModelConfig = {
    ...train,
    example,
    t0: 0,
    t1: example === "oscillator" ? 3 : 2,
    y0: [1.5, -1.25, 0.25, 0.5],
    data: {
      source: dataPath ?? "simulated",
      path: dataPath,
      simulated: dataPath === null,
      points: 500,
    },
  };
  const path = `${dir}/model.json`;
  await writeModelFile(
    path,
    modelFromState(config, initialState(train), {
      plannedIterations: 0,
      status: "completed",
      reason: null,
      gradient: null,
    }),
  );
  return path;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("metadata round trip: scaling, names, units, window and range from the file alone; predictions in the data's units", async () => {
  await withTempDir(async (dir) => {
    const dataPath = `${dir}/osc.txt`;
    await Deno.writeTextFile(dataPath, OSCILLATOR_TEXT);
    const model = await writeModel(dir, "oscillator", dataPath);
    const written = await exportModelFile(model, `${dir}/m.onnx`, "chunked", {
      dtype: "float64",
      chunk: 8,
    });
    // — what a user knows: the file, nothing else —
    const bytes = await Deno.readFile(`${dir}/m.onnx`);
    const meta = modelMetadata(bytes);
    assert.equal(meta["revode.scale"], "100");
    const state = JSON.parse(meta["revode.state"]);
    assert.deepEqual(state.names, ["x1", "x2", "v1", "v2"]);
    assert.deepEqual(state.units, ["px", "px", "px/s", "px/s"]);
    const data = JSON.parse(meta["revode.data"]);
    assert.equal(data.file, "osc.txt");
    assert.equal(data.sha256, await sha256(await Deno.readFile(dataPath)));
    assert.deepEqual(data.window, [0, 3]);
    assert.deepEqual(JSON.parse(meta["revode.window"]), [0, 3]);
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-9);
    assert.ok(close(data.range.min, [100, -400, 0, 0]), JSON.stringify(data.range));
    assert.ok(close(data.range.max, [400, -100, 30, 60]), JSON.stringify(data.range));
    assert.match(meta["revode.loss"], /mean squared error .* ÷ revode\.scale/);
    const y0 = JSON.parse(meta["revode.y0"]) as number[];
    assert.deepEqual(y0, [150, -125, 25, 50]); // the trained y0 in px and px/s
    const session = await createSession(bytes, "cpu");
    let ys: Float64Array;
    try {
      const feeds: Record<string, Feed> = {
        y0: { type: "float64", data: y0, dims: [1, 4] },
        t0: { type: "float64", data: [Number(meta["revode.t0"])], dims: [] },
        dt: { type: "float64", data: [Number(meta["revode.dt"])], dims: [] },
      };
      ys = (await session.run(feeds)).ys.data;
    } finally {
      await session.release();
    }
    // — revode's own solve, in the network's units (÷ 100), scaled back —
    const source = written.source;
    const field = new Mlp(source.field as ConstructorParameters<typeof Mlp>[0]);
    const ref = solve({
      field,
      y0: Float64Array.of(1.5, -1.25, 0.25, 0.5),
      params: Float64Array.from(source.params),
      scheme: source.scheme!,
      grid: Array.from({ length: 21 }, (_, n) => n * (3 / 20)),
      saveAt: { t0: true, steps: true },
    }).ys;
    assert.equal(ys.length, ref.length);
    for (let i = 0; i < ref.length; i++) {
      assert.ok(
        Math.abs(ys[i] - 100 * ref[i]) <= 1e-14 * Math.max(1, 100 * Math.abs(ref[i])),
        `ys[${i}]`,
      );
    }
  });
});

Deno.test("no absolute path in any exported file: the data file's base name and SHA-256 instead", async () => {
  await withTempDir(async (dir) => {
    const dataPath = `${dir}/osc.txt`;
    await Deno.writeTextFile(dataPath, OSCILLATOR_TEXT);
    const model = await writeModel(dir, "oscillator", dataPath);
    const absolute = /(^|[^\w.~-])\/(tmp|home|work|root|Users|var|private|mnt|opt|srv)\//;
    for (const form of EXPORT_FORMS) {
      for (const dtype of ["float32", "float64"] as const) {
        const { onnx } = await exportModelFile(model, `${dir}/${form}.onnx`, form, { dtype });
        const text = new TextDecoder("latin1").decode(onnx);
        assert.ok(!text.includes(dir), `${form} ${dtype} holds ${dir}`);
        assert.doesNotMatch(text, absolute, `${form} ${dtype}`);
        const meta = modelMetadata(onnx);
        assert.equal(JSON.parse(meta["revode.training"]).data, "osc.txt");
        assert.equal(JSON.parse(meta["revode.data"]).file, "osc.txt");
      }
    }
    // a data file that has moved since training: its name is kept, no hash and no range
    await Deno.remove(dataPath);
    const { onnx } = await exportModelFile(model, `${dir}/moved.onnx`, "loop");
    const data = JSON.parse(modelMetadata(onnx)["revode.data"]);
    assert.deepEqual([data.file, data.sha256, data.range], ["osc.txt", null, null]);
  });
});

Deno.test("adaptive-trained models: the fixed-step gap is measured at export and recorded", async () => {
  await withTempDir(async (dir) => {
    const model = await writeModel(dir, "pendulum", null);
    const { onnx } = await exportModelFile(model, `${dir}/p.onnx`, "loop");
    const meta = modelMetadata(onnx);
    assert.equal(meta["revode.scale"], "10");
    const gap = JSON.parse(meta["revode.adaptive_gap"]);
    assert.equal(gap.points, 20);
    assert.ok(gap.adaptiveSteps >= 1);
    assert.ok(
      Number.isFinite(gap.maxAbs) && gap.maxAbs >= 0 && gap.relative < 1e-2,
      meta["revode.adaptive_gap"],
    );
    assert.equal(JSON.parse(meta["revode.data"]).description, "simulated");
    assert.match(meta["revode.io"], /revode\.adaptive_gap/);
  });
});

Deno.test("vector field: t [1, 1] is one time for every row, [batch, 1] one per row, other shapes refused", async () => {
  const field = new Mlp({ dim: 2, widths: [5], timeDependent: true });
  const bytes = exportVectorField({ field, params: field.init(2) }, { dtype: "float64" });
  const batch = 64;
  const y = Float64Array.from({ length: batch * 2 }, (_, i) => Math.sin(i));
  const session = await createSession(bytes, "cpu");
  try {
    const run = (t: ArrayLike<number>, dims: number[]) =>
      session.run({
        y: { type: "float64", data: y, dims: [batch, 2] },
        t: { type: "float64", data: t, dims },
      });
    const one = await run([0.75], [1, 1]);
    const rows = await run(new Array(batch).fill(0.75), [batch, 1]);
    assert.deepEqual(one.dydt.dims, [batch, 2]);
    assert.deepEqual(one.dydt, rows.dydt);
    const out = new Float64Array(2);
    field.evaluate(0.75, y.subarray(10, 12), 1, field.init(2), out);
    assert.ok(
      Math.abs(one.dydt.data[10] - out[0]) < 1e-15 && Math.abs(one.dydt.data[11] - out[1]) < 1e-15,
    );
    await assert.rejects(run(new Array(5).fill(0.75), [5, 1]), /./);
    await assert.rejects(run(new Array(batch).fill(0.75), [batch]), /./);
  } finally {
    await session.release();
  }
});

Deno.test("vector field of a scaled model: y and dydt in the user's units", async () => {
  const field = new Mlp({ dim: 2, widths: [3] });
  const params = field.init(5);
  const state = { names: ["a", "b"], units: ["px", "px"], scale: 100 };
  const bytes = exportVectorField({ field, params, state }, { dtype: "float64" });
  const session = await createSession(bytes, "cpu");
  try {
    const { dydt } = await session.run({ y: { type: "float64", data: [50, -20], dims: [1, 2] } });
    const out = new Float64Array(2);
    field.evaluate(0, Float64Array.of(0.5, -0.2), 1, params, out);
    assert.ok(
      Math.abs(dydt.data[0] - 100 * out[0]) < 1e-13 &&
        Math.abs(dydt.data[1] - 100 * out[1]) < 1e-13,
    );
  } finally {
    await session.release();
  }
  assert.throws(
    () => exportVectorField({ field, params, state: { ...state, scale: 0 } }),
    /Invalid state\.scale: got 0/,
  );
});

// the integrator of a scaled in-memory model keeps the exactness bound
Deno.test("integrator of a scaled model: ys is 10 × revode's solve of y0 ÷ 10", async () => {
  const field = new Mlp({ dim: 2, widths: [4] });
  const params = field.init(1);
  const state = { names: null, units: null, scale: 10 };
  const { exportIntegrator } = await import("../export/integrator.ts");
  const bytes = exportIntegrator(
    { field, params, scheme: reversible(rk4), dt: 0.1, steps: 5, state },
    { variant: "loop", dtype: "float64" },
  );
  const session = await createSession(bytes, "cpu");
  try {
    const { ys } = await session.run({
      y0: { type: "float64", data: [3, -4], dims: [1, 2] },
      t0: { type: "float64", data: [0], dims: [] },
      dt: { type: "float64", data: [0.1], dims: [] },
      steps: { type: "int64", data: [5], dims: [] },
    });
    const ref = solve({
      field,
      y0: Float64Array.of(0.3, -0.4),
      params,
      scheme: reversible(rk4),
      grid: Array.from({ length: 6 }, (_, n) => n * 0.1),
      saveAt: { t0: true, steps: true },
    }).ys;
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(ys.data[i] - 10 * ref[i]) < 1e-14 * 10);
  } finally {
    await session.release();
  }
});
