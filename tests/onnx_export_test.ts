// ONNX export: round trips on onnxruntime-node's CPU provider against
// revode's float64 evaluation (every activation, autonomous and time-dependent
// fields, every shipped tableau in both integrator variants, plain and
// reversible), metadata, refusals, the CLI and the plain Node.js example.
//
// Needs: --allow-read --allow-write --allow-env --allow-run --allow-ffi --allow-sys.

import assert from "node:assert/strict";
import { Mlp } from "../solvers/fields/mlp.ts";
import { activationNames } from "../solvers/fields/activations.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { linearField } from "../solvers/fields/linear.ts";
import {
  leapfrog,
  plain,
  reversible,
  reversibleHeun,
  type SchemeSpec,
} from "../solvers/schemes/spec.ts";
import { defaultConfig } from "../training/config.ts";
import { initialState } from "../training/state.ts";
import { writeModelFile } from "../training/model_file.ts";
import { modelFromState } from "../training/model_state.ts";
import { decodeModel, IR_VERSION, modelMetadata, OPSET } from "../export/onnx_model.ts";
import { exportVectorField } from "../export/vector_field.ts";
import { profileEvents } from "../export/ort.ts";
import { exportIntegrator, type IntegratorVariant } from "../export/integrator.ts";
import { type ProviderCheck, verifyExport, type VerifyReport } from "../export/verify.ts";
import { createSession } from "../export/ort.ts";
import type { ExportDtype } from "../export/metadata.ts";
import type { ExportSource } from "../export/source.ts";
import { main } from "../cli/export.ts";
import { exportModelFile } from "../export/files.ts";
import { captureIo } from "./cli_harness.ts";

/** Measured errors, printed at the end (one line per case). */
const measured: string[] = [];

function record(name: string, report: VerifyReport): ProviderCheck {
  const cpu = report.checks[0];
  measured.push(
    `${name.padEnd(44)} ${cpu.maxRelativeError!.toExponential(2)}  ` +
      `(bound ${cpu.bound!.toExponential(2)}, ratio ${cpu.worstRatio!.toFixed(3)})`,
  );
  return cpu;
}

async function roundTrip(
  name: string,
  bytes: Uint8Array,
  source: ExportSource,
): Promise<void> {
  const report = await verifyExport(bytes, source, { providers: ["cpu"], batch: 3 });
  const cpu = record(name, report);
  assert.equal(cpu.status, "passed", `${name}: ${cpu.note}`);
  assert.ok(cpu.placement!.byProvider.CPUExecutionProvider > 0);
  assert.ok(cpu.maxRelativeError! <= cpu.bound!);
}

Deno.test("vector field: every activation, autonomous and time-dependent, float32 and float64", async () => {
  for (const activation of activationNames) {
    for (const timeDependent of [false, true]) {
      for (const dtype of ["float32", "float64"] as ExportDtype[]) {
        const field = new Mlp({
          dim: 3,
          widths: [8, 8],
          activation,
          finalActivation: activation === "tanh" ? "tanh" : "identity",
          timeDependent,
        });
        const source = { field, params: field.init(7) };
        const name = `field ${activation} ${timeDependent ? "t-dep" : "auton"} ${dtype}`;
        await roundTrip(name, exportVectorField(source, { dtype }), source);
      }
    }
  }
});

Deno.test("vector field: large pre-activations stay finite (softplus, silu, tanh)", async () => {
  for (const activation of ["softplus", "silu", "tanh"] as const) {
    const field = new Mlp({ dim: 2, widths: [4], activation });
    const params = field.init(1).map((w) => 60 * w); // pre-activations up to ~±100
    const source = { field, params };
    await roundTrip(`field ${activation} large inputs`, exportVectorField(source), source);
  }
});

const SCHEMES: [string, SchemeSpec][] = [
  ...Object.values(tableaux).flatMap((t): [string, SchemeSpec][] => [
    [`plain ${t.name}`, plain(t)],
    [`reversible ${t.name}`, reversible(t, { coupling: 0.9 })],
  ]),
  ["reversible-heun", reversibleHeun()],
  ["leapfrog", leapfrog()],
];

Deno.test("integrator: every tableau, plain and reversible, Loop and unrolled (time-dependent)", async () => {
  const field = new Mlp({ dim: 2, widths: [6], timeDependent: true });
  const params = field.init(3);
  for (const [name, scheme] of SCHEMES) {
    for (const variant of ["loop", "unrolled"] as IntegratorVariant[]) {
      const source = { field, params, scheme, t0: 0.5, dt: 0.05, steps: 8, y0: [1, -0.5] };
      await roundTrip(`${variant} ${name}`, exportIntegrator(source, { variant }), source);
    }
  }
});

Deno.test("integrator: autonomous fields and float64", async () => {
  const field = new Mlp({ dim: 3, widths: [8], activation: "silu" });
  const params = field.init(4);
  for (const t of [tableaux.euler, tableaux.rk4, tableaux.dopri5]) {
    for (const [kind, scheme] of [["plain", plain(t)], ["reversible", reversible(t)]] as const) {
      for (const variant of ["loop", "unrolled"] as IntegratorVariant[]) {
        for (const dtype of ["float32", "float64"] as ExportDtype[]) {
          const source = { field, params, scheme, dt: 0.1, steps: 6 };
          await roundTrip(
            `${variant} ${kind} ${t.name} auton ${dtype}`,
            exportIntegrator(source, { variant, dtype }),
            source,
          );
        }
      }
    }
  }
});

Deno.test("integrator: the Loop takes any step count and step size at run time", async () => {
  const field = new Mlp({ dim: 2, widths: [5], timeDependent: true });
  const params = field.init(2);
  const bytes = exportIntegrator(
    { field, params, scheme: reversible(tableaux.rk4), dt: 0.1, steps: 10 },
    { variant: "loop", dtype: "float64" },
  );
  const session = await createSession(bytes, "cpu");
  try {
    const run = (steps: number, dt: number) =>
      session.run({
        y0: { type: "float64", data: [1, 0], dims: [1, 2] },
        t0: { type: "float64", data: [0.25], dims: [] },
        dt: { type: "float64", data: [dt], dims: [] },
        steps: { type: "int64", data: [steps], dims: [] },
      });
    const a = await run(3, 0.2);
    assert.deepEqual(a.ys.dims, [4, 1, 2]);
    assert.deepEqual([...a.ts.data].map((t) => Math.round(t * 1e12) / 1e12), [
      0.25,
      0.45,
      0.65,
      0.85,
    ]);
    const b = await run(6, 0.1);
    assert.deepEqual(b.ys.dims, [7, 1, 2]);
    // Row 0 is y0 whatever the grid.
    assert.deepEqual([...b.ys.data.subarray(0, 2)], [1, 0]);
  } finally {
    await session.release();
  }
});

Deno.test("metadata: IR 8, opset 17, producer revode, solver, λ, step, training summary", () => {
  const field = new Mlp({ dim: 2, widths: [4], timeDependent: true });
  const bytes = exportIntegrator({
    field,
    params: field.init(0),
    scheme: reversible(tableaux.ralston3, { coupling: 0.75 }),
    t0: 0,
    dt: 0.005,
    steps: 1000,
    y0: [1, 0],
    training: { iterations: 12, bestLoss: 0.5 },
  });
  const model = decodeModel(bytes);
  assert.equal(Number(model.irVersion), IR_VERSION);
  assert.equal(IR_VERSION, 8);
  assert.deepEqual(model.opsetImport!.map((o) => [o.domain, Number(o.version)]), [["", OPSET]]);
  assert.equal(OPSET, 17);
  assert.equal(model.producerName, "revode");
  const meta = modelMetadata(bytes);
  assert.equal(model.producerVersion, meta["revode.version"]);
  assert.match(meta["revode.version"], /^\d+\.\d+\.\d+/);
  assert.equal(meta["revode.form"], "loop");
  assert.equal(meta["revode.dtype"], "float32");
  assert.equal(meta["revode.scheme"], "reversible");
  assert.equal(meta["revode.solver"], "ralston3");
  assert.equal(meta["revode.coupling"], "0.75");
  assert.equal(meta["revode.dt"], "0.005");
  assert.equal(meta["revode.steps"], "1000");
  assert.deepEqual(JSON.parse(meta["revode.y0"]), [1, 0]);
  assert.deepEqual(JSON.parse(meta["revode.mlp"]), field.toJSON());
  assert.equal(JSON.parse(meta["revode.training"]).iterations, 12);
  // float32 weights
  const weight = model.graph!.initializer!.find((t) => t.name === "layer0.weight_y")!;
  assert.equal(weight.dataType, 1);
  assert.deepEqual(weight.dims!.map(Number), [4, 2]);
});

Deno.test("refusals name the argument, the value and what is allowed", () => {
  const field = new Mlp({ dim: 2, widths: [3] });
  const params = field.init(0);
  assert.throws(
    () => exportVectorField({ field: linearField(2), params: [1, 2, 3, 4] }),
    /Invalid field: got "a VectorField that is not an Mlp \(dim 2\)"; expected an Mlp or its MlpConfig: only MLP vector fields/,
  );
  const nan = params.slice();
  nan[4] = NaN;
  assert.throws(
    () => exportVectorField({ field, params: nan }),
    /Invalid params\[4\]: got NaN; expected a finite number/,
  );
  const inf = params.slice();
  inf[0] = Infinity;
  assert.throws(
    () => exportIntegrator({ field, params: inf, scheme: plain(tableaux.rk4), dt: 0.1, steps: 2 }),
    /Invalid params\[0\]: got Infinity/,
  );
  const huge = params.slice();
  huge[1] = 1e39;
  assert.throws(
    () => exportVectorField({ field, params: huge }),
    /params\[1\].*float32's range.*float64/,
  );
  assert.ok(exportVectorField({ field, params: huge }, { dtype: "float64" }).length > 0);
  assert.throws(
    () =>
      exportVectorField({
        field: { dim: 2, widths: [3], activation: "gelu" } as never,
        params,
      }),
    /config\.activation.*"gelu".*tanh, softplus, relu, silu, identity/,
  );
  assert.throws(
    () => exportVectorField({ field, params: params.subarray(1) }),
    /Invalid params: .*expected 17 numbers/,
  );
  assert.throws(
    () => exportIntegrator({ field, params, dt: 0.1, steps: 3 }),
    /Invalid scheme: got undefined; expected plain\(tableau\), reversible/,
  );
  assert.throws(
    () => exportIntegrator({ field, params, scheme: plain(tableaux.rk4), dt: 0, steps: 3 }),
    /Invalid dt: got 0; expected a finite, non-zero step size/,
  );
  assert.throws(
    () => exportIntegrator({ field, params, scheme: plain(tableaux.rk4), dt: 0.1, steps: 2.5 }),
    /Invalid steps: got 2.5; expected an integer >= 1/,
  );
  assert.throws(
    () =>
      exportIntegrator({
        field,
        params,
        scheme: { kind: "reversible", tableau: tableaux.rk4, coupling: 0 },
        dt: 0.1,
        steps: 2,
      }),
    /Invalid coupling: got 0; expected a number λ in \(0, 1\]/,
  );
  assert.throws(
    () =>
      exportIntegrator(
        { field, params, scheme: reversible(tableaux.tsit5), dt: 1e-6, steps: 1_000_000 },
        { variant: "unrolled" },
      ),
    /Invalid steps: got 1000000; expected at most \d+ for the unrolled form.*use the loop form/,
  );
  assert.throws(
    () =>
      exportIntegrator({ field, params, scheme: plain(tableaux.rk4), dt: 0.1, steps: 2 }, {
        variant: "scan" as never,
      }),
    /Invalid variant: got "scan"; expected "loop", "chunked", "unrolled"/,
  );
});

/** A model.json as `deno task train` writes it. */
async function writeTrainedModel(dir: string, overrides: Record<string, unknown> = {}) {
  const train = defaultConfig({
    mlp: {
      dim: 2,
      widths: [5],
      activation: "tanh",
      finalActivation: "identity",
      timeDependent: true,
    },
    steps: 20,
    solver: "midpoint",
  });
  const config = {
    ...train,
    example: null,
    t0: 0,
    t1: 1,
    y0: [1, 0],
    data: { source: "by hand", path: null, simulated: true, points: 21 },
  };
  const model = modelFromState(config, initialState(train), {
    plannedIterations: 0,
    status: "completed",
    reason: null,
    gradient: null,
  });
  await writeModelFile(`${dir}/model.json`, model);
  if (Object.keys(overrides).length > 0) {
    const raw = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    await Deno.writeTextFile(`${dir}/model.json`, JSON.stringify({ ...raw, ...overrides }));
  }
  return `${dir}/model.json`;
}

Deno.test("CLI: exports a model.json in each form, verifies it, refuses bad flags with exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revode-onnx-cli-" });
  try {
    const model = await writeTrainedModel(dir);
    for (const form of ["loop", "chunked", "unrolled", "vector-field"]) {
      const io = captureIo();
      const chunk = form === "chunked" ? ["--chunk", "3"] : [];
      const code = await main(
        ["--model", model, "--form", form, ...chunk, "--verify", "--providers", "cpu"],
        io,
      );
      assert.equal(code, 0, io.err);
      assert.match(io.out, /wrote .*model(\.[a-z-]+)?\.onnx/);
      assert.match(io.out, /cpu\s+passed\s+max relative error/);
    }
    // a verification that ran on no provider is not a pass (WebGPU has no float64)
    const nowhere = captureIo();
    const none = await main(
      ["--model", model, "--dtype", "float64", "--verify", "--providers", "webgpu"],
      nowhere,
    );
    assert.equal(none, 1, nowhere.out);
    assert.match(nowhere.out, /webgpu\s+unavailable\s+WebGPU has no float64/);
    assert.match(nowhere.out, /nothing was verified: no provider asked for is available here/);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names.filter((n) => n.endsWith(".onnx")), [
      "model.chunked.onnx",
      "model.onnx",
      "model.unrolled.onnx",
      "model.vector-field.onnx",
    ]);
    const meta = modelMetadata(await Deno.readFile(`${dir}/model.onnx`));
    assert.equal(meta["revode.solver"], "midpoint");
    assert.equal(meta["revode.scheme"], "reversible");
    assert.equal(meta["revode.dt"], "0.05");
    assert.equal(JSON.parse(meta["revode.training"]).params, "best");

    // --out and float64
    const io = captureIo();
    assert.equal(
      await main(["--model", model, "--out", `${dir}/x.onnx`, "--dtype", "float64"], io),
      0,
    );
    assert.equal(modelMetadata(await Deno.readFile(`${dir}/x.onnx`))["revode.dtype"], "float64");

    const bad: [string[], RegExp][] = [
      [
        ["--model", model, "--form", "scan"],
        /--form: "scan". Allowed: vector-field, loop, chunked, unrolled/,
      ],
      [["--model", model, "--dtype", "float16"], /--dtype: "float16". Allowed: float32, float64/],
      [["--model", model, "--params", "last"], /--params: "last". Allowed: best, current/],
      [
        ["--model", model, "--verify", "--providers", "cuda"],
        /--providers: "cuda". Allowed: cpu, webgpu/,
      ],
      [["--model", model, "--providers", "cpu"], /--providers only applies with --verify/],
      [["--form", "loop"], /--model FILE is required/],
      [["--model", model, "--chunk", "5"], /--chunk only applies with --form chunked/],
      [
        ["--model", model, "--form", "chunked", "--chunk", "0"],
        /--chunk: "0". Allowed: an integer >= 1/,
      ],
      [["--model", model, "--form", "chunked", "--chunk", "2.5"], /--chunk: "2.5". Allowed/],
      [["--model", model, "--colour"], /unknown flag --colour. Allowed flags: --model, --form/],
      [["--model", model, "extra"], /unexpected argument "extra"/],
      [["--model"], /--model needs a value/],
    ];
    for (const [args, message] of bad) {
      const io = captureIo();
      assert.equal(await main(args, io), 2, args.join(" "));
      assert.match(io.err, message);
      assert.doesNotMatch(io.err, /\n\s+at /); // no stack trace
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI and exportModelFile: a model file of another version or a missing file is refused (exit 1)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revode-onnx-cli-" });
  try {
    const model = await writeTrainedModel(dir, { version: 2 });
    await assert.rejects(
      exportModelFile(model, `${dir}/m.onnx`, "loop"),
      /model format version 2 is not supported: this revode reads version 1/,
    );
    let io = captureIo();
    assert.equal(await main(["--model", model], io), 1);
    assert.match(io.err, /^error: .*model\.json: model format version 2 is not supported/);
    assert.doesNotMatch(io.err, /\n\s+at /);
    io = captureIo();
    assert.equal(await main(["--model", `${dir}/none.json`], io), 1);
    assert.match(io.err, /none\.json: no such file/);
    assert.equal([...Deno.readDirSync(dir)].some((e) => e.name.endsWith(".onnx")), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/node/run_integrator.mjs prints a trajectory with plain Node.js", async (t) => {
  let node: Deno.CommandOutput;
  try {
    node = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
  } catch {
    console.log("skipped: no `node` on the PATH");
    return;
  }
  assert.ok(node.success);
  const dir = await Deno.makeTempDir({ prefix: "revode-onnx-node-" });
  try {
    const model = await writeTrainedModel(dir);
    for (const form of ["loop", "unrolled"] as const) {
      await t.step(form, async () => {
        const out = `${dir}/${form}.onnx`;
        const { source } = await exportModelFile(model, out, form);
        const run = await new Deno.Command("node", {
          args: ["examples/node/run_integrator.mjs", out, "--rows", "3"],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(run.stdout);
        assert.ok(run.success, new TextDecoder().decode(run.stderr));
        assert.match(text, /reversible midpoint \(λ = 0\.999\), 20 steps, float32, provider cpu/);
        const rows = text.trim().split("\n").slice(2).map((l) => l.trim().split(/\s+/).map(Number));
        assert.deepEqual(rows.map((r) => r[0]), [0, 0.5, 1]);
        assert.deepEqual(rows[0].slice(1), [1, 0]); // y0 from the metadata
        // The last row agrees with revode's own solve (float32 round-off).
        const report = await verifyExport(await Deno.readFile(out), source, {
          providers: ["cpu"],
          batch: 1,
        });
        assert.ok(report.ok);
        assert.ok(rows[2].slice(1).every(Number.isFinite));
      });
    }
    await t.step("a float64 model on --provider webgpu says the CPU ran it", async () => {
      const out = `${dir}/loop64.onnx`;
      await exportModelFile(model, out, "loop", { dtype: "float64" });
      const run = await new Deno.Command("node", {
        args: ["examples/node/run_integrator.mjs", out, "--rows", "3", "--provider", "webgpu"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(run.stderr);
      if (!run.success && /could not load it on the webgpu provider/.test(err)) {
        console.log(`skipped: onnxruntime-node has no webgpu provider here (${err.trim()})`);
        return;
      }
      assert.ok(run.success, err);
      assert.match(err, /is float64 and the webgpu provider has no float64 kernels/);
      assert.match(err, /onnxruntime ran it on the CPU\. For the GPU, export float32/);
      assert.match(new TextDecoder().decode(run.stdout), /float64, provider webgpu/);
    });
    await t.step("bad input: a one-line message naming the argument, exit code 2", async () => {
      const loop = `${dir}/loop.onnx`;
      await exportModelFile(model, `${dir}/field.onnx`, "vector-field");
      const cases: [string[], RegExp][] = [
        [[`${dir}/none.onnx`], /^error: MODEL\.onnx ".*none\.onnx": no such file\.$/],
        [[dir], /^error: MODEL\.onnx ".*": a folder, not a file\.$/],
        [
          [model],
          /^error: MODEL\.onnx ".*model\.json": .*not an ONNX file\? \(this looks like a model\.json; export it first: deno task export --model .*model\.json\)$/,
        ],
        [[`${dir}/field.onnx`], /^error: MODEL\.onnx ".*field\.onnx": not a revode integrator/],
        [[loop, "--batch", "abc"], /^error: --batch: "abc"\. Allowed: an integer >= 1\.$/],
        [[loop, "--batch", "0"], /^error: --batch: "0"\. Allowed: an integer >= 1\.$/],
        [[loop, "--steps", "-5"], /^error: --steps: "-5"\. Allowed: an integer >= 1\.$/],
        [[loop, "--steps"], /^error: --steps needs a value\.$/],
        [[loop, "--rows", "x"], /^error: --rows: "x"\. Allowed: an integer >= 2\.$/],
        [[loop, "--dt", "fast"], /^error: --dt: "fast"\. Allowed: a number\.$/],
        [[loop, "--provider", "cuda"], /^error: --provider: "cuda"\. Allowed: cpu, webgpu\.$/],
        [[loop, "--y0", "1"], /^error: --y0: "1"\. Allowed: 2 numbers, e\.g\. --y0 1,1$/],
        [[loop, "--colour"], /^error: unknown flag --colour\. Allowed flags: --y0, --batch/],
        [
          [`${dir}/unrolled.onnx`, "--steps", "5"],
          /^error: --steps: .*unrolled\.onnx is unrolled; its step count is fixed at 20\.$/,
        ],
      ];
      for (const [args, message] of cases) {
        const run = await new Deno.Command("node", {
          args: ["examples/node/run_integrator.mjs", ...args],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(run.stderr).trimEnd();
        assert.equal(run.code, 2, `${args.join(" ")}: ${err}`);
        assert.match(err, message);
        assert.equal(err.split("\n").length, 1, err); // one line, no stack trace
        assert.equal(new TextDecoder().decode(run.stdout), "");
      }
      // A negative value is a value, not a flag.
      const run = await new Deno.Command("node", {
        args: [
          "examples/node/run_integrator.mjs",
          loop,
          "--t0",
          "-1",
          "--steps",
          "4",
          "--rows",
          "2",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr));
      assert.match(new TextDecoder().decode(run.stdout), /, 4 steps,[^\n]*\n.*\n\s+-1\.0000\s/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measured errors (CPU provider)", () => {
  console.log(
    "max relative error against revode's float64 evaluation, ORT CPU provider:\n" +
      measured.join("\n"),
  );
  assert.ok(measured.length >= 90, `${measured.length} cases`);
});

Deno.test("ONNX Runtime's profile is read event by event, whatever its size", async () => {
  // A Loop profiles every node in every iteration: at 8000 steps the file passed V8's
  // longest string and --verify crashed reading it whole. Streamed, each line is one event,
  // also where a line straddles the stream's chunks.
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const lines = ["["];
    const count = 60_000;
    for (let k = 0; k < count; k++) {
      const pad = "x".repeat(k % 97);
      const comma = k === count - 1 ? "" : ",";
      lines.push(
        `{"cat" : "Node","name" :"n${k}_kernel_time","args" : {"pad" : "${pad}","provider" : "P${
          k % 3
        }"}}${comma}`,
      );
    }
    lines.push("]");
    await Deno.writeTextFile(path, lines.join("\n"));
    let seen = 0;
    const providers = new Set<string>();
    for await (const e of profileEvents(path)) {
      assert.equal(e.name, `n${seen}_kernel_time`);
      providers.add(e.args!.provider!);
      seen++;
    }
    assert.equal(seen, count);
    assert.deepEqual([...providers].sort(), ["P0", "P1", "P2"]);
  } finally {
    await Deno.remove(path);
  }
});
