/**
 * `deno task train --resume` of a model trained on a user's table: it reads
 * the table again as recorded, continues bit-identically (with and without
 * validation), and refuses a table that changed or flags that would read it
 * otherwise.
 */

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { readModelFile, writeModelFile } from "../training/model_file.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";

const run = (args: string[]) => runCli(main, args);

/** A damped oscillator x' = v, v' = −x − 0.2 v, from (x0, v0), as rows `t,x,v`. */
function rows(times: number[], x0: number, v0: number): string[] {
  const w = Math.sqrt(0.99);
  return times.map((t) => {
    const e = Math.exp(-0.1 * t), c = x0, s = (v0 + 0.1 * x0) / w;
    const x = e * (c * Math.cos(w * t) + s * Math.sin(w * t));
    const v = -0.1 * x + e * (-c * w * Math.sin(w * t) + s * w * Math.cos(w * t));
    // states of different sizes, so that the normalisation matters
    return `${t},${x},${100 * v}`;
  });
}

const grid = Array.from({ length: 25 }, (_, i) => i / 4);

/** Trains `args` 6 iterations in one run and 3 + 3 with --resume; the two must agree. */
async function assertResumeIdentical(dir: string, args: string[], name: string): Promise<void> {
  const whole = await run([...args, "--iterations", "6", "--out", `${dir}/${name}-whole`]);
  assert.equal(whole.code, 0, whole.err);
  const a = await run([...args, "--iterations", "3", "--out", `${dir}/${name}-a`]);
  assert.equal(a.code, 0, a.err);
  const b = await run([
    "--resume",
    `${dir}/${name}-a/model.json`,
    "--iterations",
    "3",
    "--out",
    `${dir}/${name}-b`,
  ]);
  assert.equal(b.code, 0, b.err);
  const w = await readModelFile(`${dir}/${name}-whole/model.json`);
  const r = await readModelFile(`${dir}/${name}-b/model.json`);
  const first = await readModelFile(`${dir}/${name}-a/model.json`);
  assert.equal(r.training.iterations, 6);
  assert.deepEqual(r.training.history.loss, w.training.history.loss);
  assert.deepEqual(r.training.history.validationLoss, w.training.history.validationLoss);
  assert.deepEqual(r.params, w.params);
  assert.deepEqual(r.best, w.best);
  assert.deepEqual(r.optimizer, w.optimizer);
  // the saved normalisation and the record of the table carry over unchanged
  assert.deepEqual(r.config.normalization, first.config.normalization);
  assert.deepEqual(r.config.data.table, first.config.data.table);
  assert.deepEqual(r.config.y0, w.config.y0);
}

Deno.test("train --resume of a table run: 3 + 3 iterations equal 6, with and without --validation", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/osc.csv`, ["t,x,v", ...rows(grid, 1, 0)].join("\n"));
    const table = ["--data", `${dir}/osc.csv`, "--width", "4", "--window", "0:5"];
    await assertResumeIdentical(dir, table, "plain");
    const model = await readModelFile(`${dir}/plain-a/model.json`);
    assert.deepEqual(model.config.data.table!.options, { window: [0, 5] });
    assert.equal(model.config.data.table!.rows, 21);
    assert.match(model.config.data.table!.digest, /^cyrb53:[0-9a-f]{14}$/);
    await assertResumeIdentical(dir, [...table, "--validation", "0.25"], "extrapolation");
    const runs = [0, 1, 2, 3].flatMap((k) => rows(grid, 1, k / 2).map((r) => `${k},${r}`));
    await Deno.writeTextFile(`${dir}/runs.csv`, ["run,t,x,v", ...runs].join("\n"));
    await assertResumeIdentical(dir, [
      "--data",
      `${dir}/runs.csv`,
      "--trajectory-column",
      "run",
      "--width",
      "4",
      "--validation",
      "0.25",
      "--seed",
      "3",
    ], "trajectories");
  });
});

Deno.test("train --resume of a table run: a changed table, changed reading flags and old files are refused", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/osc.csv`;
    const text = ["t,x,v", ...rows(grid, 1, 0)].join("\n");
    await Deno.writeTextFile(path, text);
    const a = await run(["--data", path, "--width", "4", "--iterations", "2", "--out", `${dir}/a`]);
    assert.equal(a.code, 0, a.err);
    const model = `${dir}/a/model.json`;
    const refused = async (args: string[], pattern: RegExp, code: number) => {
      const r = await run(["--resume", model, ...args, "--out", `${dir}/never`]);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, pattern, args.join(" "));
      assertNoStack(r.err);
    };
    await refused(
      ["--window", "0:3"],
      /--window 0:3 conflicts with the model being resumed \(window not given\)/,
      2,
    );
    await refused(
      ["--normalize", "none"],
      /--normalize none conflicts .*\(normalize standard\)/,
      2,
    );
    await refused(
      ["--state-columns", "x"],
      /--state-columns x conflicts .*\(state-columns x,v\)/,
      2,
    );
    await refused(
      ["--example", "oscillator"],
      /--example oscillator conflicts .*\(example none/,
      2,
    );
    // the same choice as the default is no change
    const same = await run([
      "--resume",
      model,
      "--time-column",
      "t",
      "--iterations",
      "1",
      "--out",
      `${dir}/same`,
    ]);
    assert.equal(same.code, 0, same.err);
    // one value changed in the file: refused, naming the file and the model
    await Deno.writeTextFile(path, text.replace(/\n0\.25,([^,]*),/, "\n0.25,0.5,"));
    await refused([], new RegExp(`${path}: the table has changed since ${model} was trained`), 1);
    // one row more: the rows are said
    await Deno.writeTextFile(path, text + "\n6.25,0,0");
    await refused([], /it now reads 26 rows .*the model's data were 25 rows/, 1);
    // moved: found again with --data, where it reads the same
    await Deno.writeTextFile(`${dir}/moved.csv`, text);
    await Deno.remove(path);
    await refused(
      [],
      /the table recorded in .*\(config\.data\.path\).*no such file.*--data NEW/,
      1,
    );
    const moved = await run([
      "--resume",
      model,
      "--data",
      `${dir}/moved.csv`,
      "--iterations",
      "1",
      "--out",
      `${dir}/moved`,
    ]);
    assert.equal(moved.code, 0, moved.err);
    assert.match((await readModelFile(`${dir}/moved/model.json`)).config.data.path!, /moved\.csv$/);
    // a file from before revode recorded how it read a table
    const old = await readModelFile(model);
    delete old.config.data.table;
    await writeModelFile(`${dir}/old.json`, old);
    const r = await run(["--resume", `${dir}/old.json`, "--out", `${dir}/never`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /old\.json: was trained on data that it does not record how to read again/);
  });
});
