import assert from "node:assert/strict";
import { isAbsolute, relative, resolve } from "node:path";
import { main } from "../cli/train.ts";
import { helpText } from "../cli/train_flags.ts";
import { readModelFile } from "../training/model_file.ts";
import { modelMetadata } from "../export/onnx_model.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";

/** Runs the training CLI in-process. */
const run = (args: string[]) => runCli(main, args);

const REAL_OSCILLATOR = new URL(
  "../../shared/data/schmidt-lipson-2009/real_double_linear_h_1.txt",
  import.meta.url,
).pathname;

/** The real measurements live beside the repository, in ../shared; a plain clone has none. */
const HAVE_SHARED = (() => {
  try {
    return Deno.statSync(REAL_OSCILLATOR).isFile;
  } catch {
    console.log(`skipping the tests that read ${REAL_OSCILLATOR}: ../shared is absent`);
    return false;
  }
})();

const FAST = ["--steps", "100", "--iterations", "3"];

Deno.test("cli: an --out that cannot be used is refused before training, exit 2", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/afile`;
    await Deno.writeTextFile(file, "keep me");
    const cases: Array<[string, RegExp]> = [
      [file, /it is a file, not a folder/],
      [`${file}/sub`, /cannot be created \(Not a directory/],
      ["", /it is empty/],
    ];
    for (const [out, why] of cases) {
      const { code, out: text, err } = await run([...FAST, "--out", out]);
      assert.equal(code, 2, `${out}: ${err}`);
      assert.ok(err.startsWith(`error: invalid value for --out: ${JSON.stringify(out)}: `), err);
      assert.match(err, why);
      assert.match(err, /Allowed: a folder to write the run's files to, existing or to be created/);
      // nothing was trained (and so nothing lost)
      assert.ok(!text.includes("iteration 1/"), text);
      assertNoStack(err);
    }
    assert.equal(await Deno.readTextFile(file), "keep me");
    // A new folder, nested, is created.
    const { code } = await run([...FAST, "--out", `${dir}/new/nested`]);
    assert.equal(code, 0);
    assert.equal((await readModelFile(`${dir}/new/nested/model.json`)).training.iterations, 3);
  });
});

Deno.test("cli: a drifting reversible backward pass ends the run readably and saves it", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/drift`;
    const args = ["--coupling", "0.98", "--lr", "0.2", "--iterations", "20", "--out", out];
    const { code, out: text, err } = await run(args);
    assert.equal(code, 1, err);
    assert.equal(err, "");
    assert.match(
      text,
      /Stopped: the reversible gradient could not be computed \(a reconstruction drift, not a divergence of training: the loss is finite\): the reversible backward pass could not rebuild the forward solve at iteration \d+/,
    );
    const model = await readModelFile(`${out}/model.json`);
    assert.equal(model.training.status, "diverged");
    assert.ok(model.training.iterations >= 1 && model.training.iterations < 20);
    assert.match(
      text,
      new RegExp(`kept the last good parameters \\(iteration ${model.training.iterations}\\)`),
    );
    // Remedies in the command's terms, not the library's option names.
    assert.match(text, /--coupling; now 0\.98; e\.g\. 0\.995/);
    assert.match(text, /N·\(1 − λ\) below about 20/);
    assert.match(text, /--gradient checkpointed/);
    assert.match(text, /--gradient direct/);
    assert.ok(!/checkpointEvery|reconstructionTolerance/.test(text), text);
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.equal(summary.status, "diverged");
    assert.ok(summary.remedies.some((r: string) => r.includes("--coupling")));

    // The kept state continues with a gradient that stores states.
    const resumed = await run([
      "--resume",
      `${out}/model.json`,
      "--gradient",
      "checkpointed",
      "--iterations",
      "2",
      "--out",
      `${dir}/resumed`,
    ]);
    assert.equal(resumed.code, 0, resumed.err + resumed.out);
  });
});

Deno.test("cli: adaptive solves that run out of steps suggest --max-steps and looser tolerances", async () => {
  await withTempDir(async (dir) => {
    const { code, out } = await run([
      "--example",
      "pendulum",
      "--rtol",
      "1e-10",
      "--max-steps",
      "5",
      "--iterations",
      "2",
      "--out",
      `${dir}/p`,
    ]);
    assert.equal(code, 1);
    assert.match(out, /The maximum number of steps \(5\) was reached/);
    assert.match(out, /more steps per solve \(--max-steps; now 5; e\.g\. 10\)/);
    assert.match(out, /looser tolerances \(a larger --rtol or --atol; now 1e-10 and 1e-6\)/);
    assert.ok(!/tighter|maxSteps/.test(out), out);
  });
});

Deno.test("cli: --data that cannot be read names --data, the value and what is expected", async () => {
  await withTempDir(async (dir) => {
    const cases: Array<[string, RegExp]> = [
      [`${dir}/none.txt`, /: no such file\. Expected a data file in Schmidt & Lipson's format/],
      [dir, /: it is a folder, not a file\. Expected a data file/],
    ];
    for (const [path, pattern] of cases) {
      const { code, out, err } = await run(["--example", "oscillator", "--data", path]);
      assert.equal(code, 1, err);
      assert.ok(err.startsWith(`error: --data ${JSON.stringify(path)}: `), err);
      assert.match(err, pattern);
      assert.match(err, /real_double_linear_h_1\.txt/);
      assert.equal(out, "");
      assertNoStack(err);
    }
  });
});

Deno.test({
  name: "cli: resuming on other data adopts their y0 and restarts the best loss",
  ignore: !HAVE_SHARED,
}, async () => {
  await withTempDir(async (dir) => {
    const simulated = ["--example", "oscillator", "--iterations", "3"];
    const first = await run([...simulated, "--out", `${dir}/sim`]);
    assert.equal(first.code, 0, first.err);
    const sim = await readModelFile(`${dir}/sim/model.json`);
    const onRealData = ["--data", REAL_OSCILLATOR, "--iterations", "2", "--out", `${dir}/real`];
    const { code, out, err } = await run(["--resume", `${dir}/sim/model.json`, ...onRealData]);
    assert.equal(code, 0, err);
    assert.match(out, /changed: data \(.*real_double_linear_h_1\.txt; its y0 and window replace/);
    const real = await readModelFile(`${dir}/real/model.json`);
    assert.notDeepEqual(real.config.y0, sim.config.y0);
    assert.equal(real.config.data.simulated, false);
    // The best is one of the two iterations on the real data, not the simulated one's.
    assert.ok(real.best.iteration === 4 || real.best.iteration === 5, `${real.best.iteration}`);
    assert.equal(real.best.loss, real.training.history.loss[real.best.iteration - 1]);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/real/summary.json`));
    assert.ok(
      summary.notes.some((n: string) => /resumed on other data at iteration 3/.test(n)),
      JSON.stringify(summary.notes),
    );
  });
});

Deno.test({
  name: "cli: a resumed model's moved data file is named, with --data as the way out",
  ignore: !HAVE_SHARED,
}, async () => {
  await withTempDir(async (dir) => {
    const copy = `${dir}/osc.txt`;
    await Deno.copyFile(REAL_OSCILLATOR, copy);
    const args = ["--example", "oscillator", "--data", copy, "--iterations", "2"];
    assert.equal((await run([...args, "--out", `${dir}/a`])).code, 0);
    await Deno.rename(copy, `${dir}/moved.txt`);
    const lost = await run(["--resume", `${dir}/a/model.json`, "--iterations", "1"]);
    assert.equal(lost.code, 1);
    assert.match(
      lost.err,
      /the data file recorded in .*a\/model\.json \(config\.data\.path\), ".*osc\.txt", cannot be read: no such file\. If it has moved, pass --data NEW/,
    );
    assertNoStack(lost.err);
    // Found again: the same data, so nothing is reset.
    const movedData = ["--data", `${dir}/moved.txt`, "--iterations", "1", "--out", `${dir}/b`];
    const found = await run(["--resume", `${dir}/a/model.json`, ...movedData]);
    assert.equal(found.code, 0, found.err);
    assert.ok(!/best loss starts again/.test(found.out), found.out);
    const a = await readModelFile(`${dir}/a/model.json`);
    const b = await readModelFile(`${dir}/b/model.json`);
    assert.deepEqual(b.config.y0, a.config.y0);
    assert.equal(b.config.data.path, `${dir}/moved.txt`);
    assert.ok(b.best.loss! <= a.best.loss!);
  });
});

Deno.test({
  name: "cli: a --data path typed relative to the working folder is recorded absolute",
  ignore: !HAVE_SHARED,
}, async () => {
  await withTempDir(async (dir) => {
    const copy = `${dir}/osc.txt`;
    await Deno.copyFile(REAL_OSCILLATOR, copy);
    const typed = relative(Deno.cwd(), copy);
    assert.ok(!isAbsolute(typed), typed);
    const args = ["--example", "oscillator", "--data", typed, "--iterations", "1"];
    assert.equal((await run([...args, "--out", `${dir}/a`])).code, 0);
    const a = await readModelFile(`${dir}/a/model.json`);
    // a resume, the summary and the ONNX metadata are read from other folders
    assert.equal(a.config.data.path, resolve(copy));
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/a/summary.json`));
    assert.ok(JSON.stringify(summary).includes(JSON.stringify(resolve(copy))));
  });
});

Deno.test("cli: --dt takes a fraction a/b; --seed names the safe-integer range", async () => {
  await withTempDir(async (dir) => {
    const { code, out, err } = await run([
      "--example",
      "oscillator",
      "--dt",
      "3/499",
      "--iterations",
      "1",
      "--out",
      `${dir}/dt`,
    ]);
    assert.equal(code, 0, err);
    assert.match(out, /499 steps of 0\.006012/);
    assert.equal((await readModelFile(`${dir}/dt/model.json`)).config.steps, 499);
  });
  const cases: Array<[string[], RegExp]> = [
    [["--dt", "3/0"], /--dt: "3\/0"\. Allowed: a number or a fraction a\/b in \(0, 5\]/],
    [["--dt", "1/2/3"], /--dt: "1\/2\/3"\. Allowed: a number or a fraction/],
    [
      ["--seed", "9007199254740993"],
      /--seed: "9007199254740993"\. Allowed: a safe integer \(\|n\| <= 2\^53 − 1\)/,
    ],
    [["--iterations", "1e20"], /--iterations: "1e20"\. Allowed: an integer >= 1 and <= 2\^53 − 1/],
    [
      ["--iterations", "--out", "/tmp/x"],
      /--iterations needs a value, but is followed by the flag --out/,
    ],
    [["--help=yes"], /--help takes no value/],
  ];
  for (const [args, pattern] of cases) {
    const { code, out, err } = await run(args);
    assert.equal(code, 2, `${args.join(" ")}: ${err}`);
    assert.match(err, pattern, args.join(" "));
    assert.equal(out, "");
  }
});

Deno.test("cli: help gives the checkpoints' real default, --iterations on resume, λ's limit", () => {
  const help = helpText().replace(/\s+/g, " ");
  assert.ok(!help.includes("floor(√(2N))"));
  assert.match(help, /--checkpoints C .*⌊√\(2N \+ ¼\) − 1\.5⌋ \+ 1 .*44 for 1000/);
  assert.match(help, /--iterations N .*with --resume, iterations more \(default: the rest of/);
  assert.match(help, /--coupling λ .*N·\(1 − λ\) below about 20/);
  assert.match(help, /--dt H .*a fraction a\/b/);
});

Deno.test("cli: an adaptive model's model.onnx says it takes fixed steps, and so does the run", async () => {
  await withTempDir(async (dir) => {
    const r = await run([
      "--example",
      "pendulum",
      "--iterations",
      "2",
      "--gradient",
      "checkpointed",
      "--out",
      dir,
    ]);
    assert.equal(r.code, 0, r.err);
    // the default checkpoints follow each adaptive solve, not the unused fixed grid's 499 steps
    assert.match(r.out, /checkpointed \(default checkpoints for each solve's number of steps\)/);
    assert.match(r.out, /model\.json, model\.onnx, history\.csv/);
    assert.match(r.out, /note: model\.onnx integrates with fixed steps \(by default 499 of/);
    const meta = modelMetadata(await Deno.readFile(`${dir}/model.onnx`));
    assert.match(meta["revode.io"], /dt \[\] float32 \(default: /);
    assert.match(
      meta["revode.io"],
      /trained with adaptive steps \(rtol 0\.000001, atol 0\.000001\)/,
    );
    assert.deepEqual(JSON.parse(meta["revode.training"]).adaptive, {
      rtol: 1e-6,
      atol: 1e-6,
      maxSteps: 1000,
    });
  });
});
