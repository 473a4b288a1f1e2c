import assert from "node:assert/strict";
import { main as trainMain } from "../cli/train.ts";
import { main as predictMain } from "../cli/predict.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";
import { loadModel } from "../training/model.ts";
import { readTable } from "../training/table.ts";

/** Trains 30 iterations on a two-state table with named columns; returns the model path. */
async function trained(dir: string): Promise<string> {
  const ts = Array.from({ length: 21 }, (_, i) => i * 0.1);
  const rows = ts.map((t) => `${t};${100 + 10 * Math.cos(t)};${-10 * Math.sin(t)}`);
  await Deno.writeTextFile(`${dir}/d.csv`, ["seconds;pos;vel", ...rows].join("\n"));
  const { code, err } = await runCli(trainMain, [
    "--data",
    `${dir}/d.csv`,
    "--iterations",
    "30",
    "--out",
    `${dir}/run`,
  ]);
  assert.equal(code, 0, err);
  return `${dir}/run/model.json`;
}

Deno.test("loadModel round trip: save and load give the same model and predictions", async () => {
  await withTempDir(async (dir) => {
    const path = await trained(dir);
    const model = await loadModel(path);
    assert.deepEqual(model.stateNames, ["pos", "vel"]);
    assert.equal(model.timeName, "seconds");
    assert.equal(model.field.dim, 2);
    assert.equal(model.params.length, model.field.paramCount);
    assert.deepEqual([...model.params], model.file.best.params);
    await model.save(`${dir}/copy.json`);
    const copy = await loadModel(`${dir}/copy.json`);
    assert.deepEqual(copy.config, model.config);
    const request = { ts: [0, 0.35, 1, 3.5], y0: [105, 1] };
    assert.deepEqual(copy.predict(request), model.predict(request));
    // the default y0 is the first training trajectory's, in the data's units
    const first = model.predict({ ts: [0, 1] });
    assert.ok(Math.abs(first.ys[0] - 110) < 1e-12 && Math.abs(first.ys[1]) < 1e-12);
    const y0 = model.predict(request).ys.subarray(0, 2);
    assert.ok(Math.abs(y0[0] - 105) < 1e-12 && Math.abs(y0[1] - 1) < 1e-12);
    assert.throws(() => model.predict({ ts: [0] }), /Invalid ts: .*at least 2 times/);
    assert.throws(
      () => model.predict({ ts: [0, 1], y0: [1] }),
      /Invalid y0: .*2 numbers \(pos, vel\)/,
    );
    await assert.rejects(loadModel(`${dir}/none.json`), /none\.json: /);
  });
});

Deno.test("deno task predict: a CSV with the data's column names, in the data's units", async () => {
  await withTempDir(async (dir) => {
    const path = await trained(dir);
    const out = await runCli(predictMain, ["--model", path, "--t1", "2", "--points", "5"]);
    assert.equal(out.code, 0, out.err);
    const table = readTable(out.out);
    assert.deepEqual(table.columns, ["seconds", "pos", "vel"]);
    assert.deepEqual([...table.trajectories[0].ts], [0, 0.5, 1, 1.5, 2]);
    assert.equal(table.trajectories[0].ys[0], 110);
    // near the data (pos ≈ 100 + 10 cos t): in the data's units, not normalised ones
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(table.trajectories[0].ys[2 * i] - 100) < 15);
    const file = await runCli(predictMain, [
      "--model",
      path,
      "--ts",
      "0,0.25,3",
      "--y0",
      "100,-10",
      "--out",
      `${dir}/pred.csv`,
    ]);
    assert.equal(file.code, 0, file.err);
    assert.equal(file.out, "");
    const written = readTable(await Deno.readTextFile(`${dir}/pred.csv`));
    assert.deepEqual([...written.trajectories[0].ts], [0, 0.25, 3]);
    assert.deepEqual([...written.trajectories[0].ys.subarray(0, 2)], [100, -10]);
    const cases: Array<[string[], number, RegExp]> = [
      [["--ts", "0,1"], 2, /--model FILE is required/],
      [["--model", path], 2, /the times are required: --ts T0,T1,… or --t1 T --points N/],
      [["--model", path, "--ts", "0,1", "--t1", "2"], 2, /give --ts, or --t1 with --points/],
      [["--model", path, "--ts", "1,0"], 2, /invalid value for --ts: 0 at ts\[1\]/],
      [
        ["--model", path, "--ts", "0,1", "--y0", "1"],
        2,
        /--y0: "1"\. Allowed: 2 numbers, one per state \(pos, vel\)/,
      ],
      [["--model", path, "--t1", "2", "--points", "1"], 2, /--points/],
      [
        ["--model", `${dir}/none.json`, "--ts", "0,1"],
        1,
        /^error: --model .*none\.json: no such file\./,
      ],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await runCli(predictMain, args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, pattern);
      assertNoStack(r.err);
    }
  });
});
