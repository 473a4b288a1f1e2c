// Command-line front ends outside training: `deno task export` refusing an --out it must not
// write (the model file, a folder, a missing folder), writing atomically and wrapping its help;
// and `deno task bench`'s help text and flag errors (run as a subprocess: its main is not a
// function).
//
// Needs: --allow-read --allow-write --allow-run --allow-env (the bench subprocess also gets
// --allow-sys --allow-ffi).

import assert from "node:assert/strict";
import { defaultConfig } from "../training/config.ts";
import { initialState } from "../training/state.ts";
import { writeModelFile } from "../training/model_file.ts";
import { modelFromState } from "../training/model_state.ts";
import { modelMetadata } from "../export/onnx_model.ts";
import { exportHelpText, main } from "../cli/export.ts";
import { exportModelFile } from "../export/files.ts";
import { captureIo, withTempDir } from "./cli_harness.ts";

/** A small model.json (2-d state, 20 midpoint steps), written to `dir`. */
async function writeModel(dir: string): Promise<string> {
  const train = defaultConfig({
    mlp: {
      dim: 2,
      widths: [5],
      activation: "tanh",
      finalActivation: "identity",
      timeDependent: false,
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
  await writeModelFile(
    `${dir}/model.json`,
    modelFromState(config, initialState(train), {
      plannedIterations: 0,
      status: "completed",
      reason: null,
      gradient: null,
    }),
  );
  return `${dir}/model.json`;
}

Deno.test("export --out: the model file itself is refused (exit 2) and the model is left as it was", async () => {
  await withTempDir(async (dir) => {
    const model = await writeModel(dir);
    const before = await Deno.readFile(model);
    await Deno.mkdir(`${dir}/sub`);
    await Deno.symlink(model, `${dir}/link.json`);
    await Deno.link(model, `${dir}/hard.json`);
    // The same file by its own name, through `..`, through a symbolic and a hard link.
    const cases: [string, string][] = [
      [model, model],
      [model, `${dir}/sub/../model.json`],
      [`${dir}/link.json`, model],
      [model, `${dir}/link.json`],
      [model, `${dir}/hard.json`],
    ];
    for (const [m, out] of cases) {
      for (const form of ["loop", "vector-field"]) {
        const io = captureIo();
        assert.equal(await main(["--model", m, "--out", out, "--form", form], io), 2, out);
        assert.match(
          io.err,
          /^error: --out ".*": it is the --model file itself, which would be overwritten\. Allowed: another path, e\.g\. --out .*model(\.vector-field)?\.onnx \(the default\)\.\n/,
        );
        assert.equal(io.out, "");
      }
    }
    assert.deepEqual(await Deno.readFile(model), before);
    // A model file named model.onnx would be the default --out: refused too.
    await Deno.mkdir(`${dir}/odd`);
    await Deno.copyFile(model, `${dir}/odd/model.onnx`);
    let io = captureIo();
    assert.equal(await main(["--model", `${dir}/odd/model.onnx`], io), 2);
    assert.match(
      io.err,
      /^error: the default --out ".*\/odd\/model\.onnx": it is the --model file itself, which would be overwritten\. Allowed: another path, given with --out FILE\.\n/,
    );
    assert.deepEqual(await Deno.readFile(`${dir}/odd/model.onnx`), before);
    await Deno.remove(`${dir}/odd`, { recursive: true });
    // A missing model is reported as such, not as a problem of the default --out next to it.
    io = captureIo();
    assert.equal(await main(["--model", `${dir}/none/model.json`], io), 1);
    assert.match(io.err, /^error: --model .*none\/model\.json: no such file/);
    assert.doesNotMatch(io.err, /--out/);
    // The library function refuses it too.
    await assert.rejects(
      exportModelFile(model, `${dir}/sub/../model.json`, "loop"),
      RangeError,
    );
    assert.deepEqual(await Deno.readFile(model), before);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["hard.json", "link.json", "model.json", "sub"],
    );
  });
});

Deno.test("export --out: a folder, a missing folder or a file used as a folder is refused by name", async () => {
  await withTempDir(async (dir) => {
    const model = await writeModel(dir);
    await Deno.mkdir(`${dir}/sub`);
    const cases: [string, RegExp][] = [
      [
        `${dir}/sub`,
        /^error: --out ".*\/sub": it is a folder\. Allowed: a file path, e\.g\. --out .*\/sub\/model\.onnx\.\n/,
      ],
      [
        `${dir}/none/m.onnx`,
        /^error: --out ".*\/none\/m\.onnx": its folder ".*\/none" does not exist\./,
      ],
      [`${dir}/model.json/m.onnx`, /^error: --out ".*": ".*\/model\.json" is not a folder\./],
    ];
    for (const [out, message] of cases) {
      const io = captureIo();
      assert.equal(await main(["--model", model, "--out", out], io), 2, out);
      assert.match(io.err, message);
      assert.doesNotMatch(io.err, /os error|rename/);
    }
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)], []);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["model.json", "sub"]);
  });
});

Deno.test("exportModelFile: writes through a temporary file, leaves none behind, keeps the mode", async () => {
  await withTempDir(async (dir) => {
    const model = await writeModel(dir);
    const out = `${dir}/m.onnx`;
    const first = await exportModelFile(model, out, "loop");
    assert.deepEqual(await Deno.readFile(out), new Uint8Array(first.onnx));
    await Deno.chmod(out, 0o640);
    const second = await exportModelFile(model, out, "unrolled");
    assert.deepEqual(await Deno.readFile(out), new Uint8Array(second.onnx));
    assert.equal(modelMetadata(second.onnx)["revode.form"], "unrolled");
    assert.equal((await Deno.stat(out)).mode! & 0o777, 0o640);
    // A rename that fails (the target is a folder) removes the temporary file.
    await Deno.mkdir(`${dir}/folder.onnx`);
    await assert.rejects(exportModelFile(model, `${dir}/folder.onnx`, "loop"));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["folder.onnx", "m.onnx", "model.json"],
    );
  });
});

Deno.test("export --help: every line fits 100 columns, long descriptions continue under their column", () => {
  const help = exportHelpText();
  const lines = help.split("\n");
  for (const line of lines) assert.ok([...line].length <= 100, `${line.length}: ${line}`);
  const form = lines.findIndex((l) => l.startsWith("  --form NAME"));
  const column = lines[form].indexOf("vector-field");
  assert.ok(column > 0);
  // The --form text goes on over the next line, indented to the description column.
  assert.match(lines[form + 1], new RegExp(`^ {${column}}\\S`));
  assert.match(help.replace(/\s+/g, " "), /unrolled \(every step spelled out; minutes to load/);
  assert.match(help.replace(/\s+/g, " "), /chunked \(a Loop of --chunk unrolled steps/);
});

/** Runs bench/bench.ts with `args`; returns its exit code and output. */
async function bench(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      "bench/bench.ts",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: result.code, out: text.decode(result.stdout), err: text.decode(result.stderr) };
}

Deno.test("bench --help: lists every flag and section, --json's keys, --quick for each section", async () => {
  const { code, out } = await bench(["--help"]);
  assert.equal(code, 0);
  const flags = [...out.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]);
  assert.deepEqual(flags, ["--section", "--json", "--quick", "--baseline", "--help"]);
  const flat = out.replace(/\s+/g, " ");
  assert.match(flat, /\{ fixed\?, adaptive\?, inference\?, onnx\?, gpu\?, kernels\? \}/);
  for (const section of ["fixed N = 100", "adaptive spans", "inference 20 steps", "gpu batches"]) {
    assert.ok(flat.includes(section), section);
  }
  // --allow-sys is described as a Deno permission, not listed as a flag of the bench.
  assert.match(flat, /Deno permissions \(not bench flags[^)]*\): --allow-sys/);
  for (const line of out.split("\n")) assert.ok([...line].length <= 100, line);
});

Deno.test("bench: bad flags get an error: line naming the flag, exit 2, nothing run", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--section", "cpu"],
      /^error: invalid value for --section: "cpu"\. Allowed: all, fixed, adaptive, inference, onnx, gpu, kernels\.\n/,
    ],
    [["--sections", "fixed"], /^error: unknown flag --sections\. Allowed flags: --section, --json/],
    [["--section"], /^error: --section needs a value/],
    [["--quick=yes"], /^error: --quick takes no value\./],
    [["fixed"], /^error: unexpected argument "fixed"/],
  ];
  for (const [args, message] of cases) {
    const { code, out, err } = await bench(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(err, message);
    assert.match(err, /Run with --help for every flag\./);
    assert.doesNotMatch(err, /ERR_PARSE_ARGS|Option '/);
    assert.equal(out, "");
  }
});
