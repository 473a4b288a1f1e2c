import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { runCli, withTempDir } from "./cli_harness.ts";
import { parseModelFile } from "../training/model_parse.ts";
import { serializeModel } from "../training/model_serialize.ts";
import { ModelFileError } from "../training/model_format.ts";
import { predictData } from "../training/model.ts";
import { predict } from "../training/train.ts";
import { readTable } from "../training/table.ts";
import { denormalize, normalize, standardization } from "../training/normalize.ts";

Deno.test("normalisation: standard per state, and back exactly", () => {
  const table = readTable("t,a,b\n0,1000,0.001\n1,3000,0.003\n2,2000,0.002\n");
  const n = standardization(table.trajectories);
  assert.deepEqual(n.shift, [2000, 0.002]);
  const z = normalize(table.trajectories[0].ys, n);
  const back = denormalize(z, n);
  table.trajectories[0].ys.forEach((y, i) =>
    assert.ok(Math.abs(back[i] - y) <= 1e-15 * Math.abs(y))
  );
});

Deno.test("normalisation round trip: a model trained on normalised data predicts in the data's units", async () => {
  await withTempDir(async (dir) => {
    // y = 500 + 100·e^{−t}, z = −0.01 + 0.002·e^{−t}: states far from 0 and of very different sizes
    const ts = Array.from({ length: 21 }, (_, i) => i * 0.1);
    const rows = ts.map((t) => `${t},${500 + 100 * Math.exp(-t)},${-0.01 + 0.002 * Math.exp(-t)}`);
    await Deno.writeTextFile(`${dir}/d.csv`, ["t,y,z", ...rows].join("\n"));
    const args = ["--data", `${dir}/d.csv`, "--iterations", "400", "--lr", "0.02"];
    const { code, out, err } = await runCli(main, [...args, "--out", `${dir}/run`]);
    assert.equal(code, 0, err);
    assert.match(out, /normalised per state \(y: mean 5\d\d\.?\d*, std \d+\.?\d*; z: mean -0\.00/);
    const text = await Deno.readTextFile(`${dir}/run/model.json`);
    const model = parseModelFile(text, "model.json");
    const n = model.config.normalization!;
    assert.equal(n.shift.length, 2);
    // y0 is stored in the model's units
    assert.ok(Math.abs(model.config.y0[0] - (600 - n.shift[0]) / n.scale[0]) < 1e-12);
    // the model file round-trips, normalisation included
    assert.deepEqual(JSON.parse(serializeModel(parseModelFile(text, "m"))), JSON.parse(text));
    const data = (await import("../training/table_file.ts")).readTableFile(`${dir}/d.csv`);
    const first = (await data).trajectories[0];
    const fit = predictData(model.config, Float64Array.from(model.best.params), first);
    // the first output is the data's own y0, in its units
    assert.ok(Math.abs(fit.ys[0] - 600) < 1e-12 * 600 && Math.abs(fit.ys[1] + 0.008) < 1e-15);
    // every output is shift + scale · (the model's output in its units)
    const z = predict(model.config, Float64Array.from(model.best.params), {
      ...first,
      ys: normalize(first.ys, n),
    });
    fit.ys.forEach((y, i) => assert.equal(y, n.shift[i % 2] + n.scale[i % 2] * z.ys[i]));
    // and near the data in their units, at the data's times (the solve saves every step)
    first.ts.forEach((t, row) => {
      const k = fit.ts.findIndex((u) => Math.abs(u - t) < 1e-9);
      for (let j = 0; j < 2; j++) {
        const err = Math.abs(fit.ys[k * 2 + j] - first.ys[row * 2 + j]);
        assert.ok(err < 0.1 * n.scale[j], `t = ${t}: ${fit.ys[k * 2 + j]}`);
      }
    });
    // --normalize none: no field; old files without it still load
    const plain = await runCli(main, [
      ...args,
      "--iterations",
      "1",
      "--normalize",
      "none",
      "--out",
      `${dir}/p`,
    ]);
    assert.equal(plain.code, 0, plain.err);
    const p = parseModelFile(await Deno.readTextFile(`${dir}/p/model.json`), "p");
    assert.equal(p.config.normalization, undefined);
    assert.ok(!(await Deno.readTextFile(`${dir}/p/model.json`)).includes("normalization"));
    // a bad normalisation is refused by name
    const bad = text.replace(/"scale": \[[^\]]*\]/, '"scale": [1, 0]');
    assert.throws(
      () => parseModelFile(bad, "bad.json"),
      (e) =>
        e instanceof ModelFileError &&
        /config\.normalization\.scale\[1\] is 0; expected a number > 0/.test(e.message),
    );
    const refused = await runCli(main, [...args, "--normalize", "minmax"]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--normalize/);
  });
});
