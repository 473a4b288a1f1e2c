import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";
import { parseModelFile } from "../training/model_parse.ts";

const run = (args: string[]) => runCli(main, args);

/** A damped oscillator x'' = −x − 0.2 x', sampled at `ts`. */
function oscillator(ts: number[], x0 = 1, v0 = 0): number[][] {
  // closed form: ω = √0.99, x = e^{−0.1t}(x0 cos ωt + (v0 + 0.1 x0)/ω sin ωt)
  const w = Math.sqrt(0.99);
  return ts.map((t) => {
    const e = Math.exp(-0.1 * t), c = Math.cos(w * t), s = Math.sin(w * t);
    const b = (v0 + 0.1 * x0) / w;
    const x = e * (x0 * c + b * s);
    const v = -0.1 * x + e * (-x0 * w * s + b * w * c);
    return [t, x, v];
  });
}

Deno.test("cli: --data FILE trains on a user's CSV with its own column names", async () => {
  await withTempDir(async (dir) => {
    const ts = Array.from({ length: 41 }, (_, i) => i * 0.25);
    const rows = oscillator(ts).map((r) => r.join(","));
    await Deno.writeTextFile(`${dir}/osc.csv`, ["time,x,v", ...rows].join("\n"));
    const { code, out, err } = await run([
      "--data",
      `${dir}/osc.csv`,
      "--iterations",
      "3",
      "--window",
      "0:5",
      "--out",
      `${dir}/run`,
    ]);
    assert.equal(code, 0, err);
    assert.match(out, /revode train: osc\.csv \(x, v against time\)/);
    assert.match(out, /data: .*osc\.csv: 1 trajectory of x, v\n/);
    assert.match(out, /osc\.csv:23: 20 row\(s\) of the table outside the window \[0, 5\] dropped/);
    const model = parseModelFile(await Deno.readTextFile(`${dir}/run/model.json`), "m");
    assert.equal(model.config.example, null);
    assert.equal(model.config.mlp.dim, 2);
    assert.deepEqual([model.config.t0, model.config.t1], [0, 5]);
    assert.equal(model.config.data.points, 21);
    assert.ok(
      !/Coupled oscillator|px \/ 100/.test(await Deno.readTextFile(`${dir}/run/report.html`)),
    );
  });
});

Deno.test("cli: a trajectory column with unequal, irregular sampling trains, batch 1", async () => {
  await withTempDir(async (dir) => {
    const a = oscillator([0, 0.3, 1.1, 1.2, 2.9, 4]).map((r) => ["a", ...r].join(" "));
    const b = oscillator([0, 0.5, 2, 3.7], 0, 1).map((r) => ["b", ...r].join(" "));
    await Deno.writeTextFile(`${dir}/runs.txt`, [...a, ...b].join("\n"));
    const args = [
      "--data",
      `${dir}/runs.txt`,
      "--columns",
      "run,t,x,v",
      "--trajectory-column",
      "run",
      "--iterations",
      "2",
      "--out",
      `${dir}/r`,
    ];
    const { code, out, err } = await run(args);
    assert.equal(code, 0, err);
    assert.match(out, /2 trajectories of x, v \(irregular times: outputs at the data times\)/);
    const refused = await run([...args, "--batch", "2", "--out", `${dir}/r2`]);
    assert.equal(refused.code, 2, refused.err);
    assert.match(refused.err, /--batch: 2\. The trajectories of .* have different times/);
  });
});

Deno.test("cli: bad tables and table flags are refused with the flag, file, line, column and value", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.csv`, "t,x\n0,1\n1,oops\n");
    await Deno.writeTextFile(`${dir}/ok.csv`, "t,x\n0,1\n1,2\n");
    const cases: Array<[string[], RegExp]> = [
      [
        ["--data", `${dir}/bad.csv`],
        /^error: --data .*bad\.csv:3: column "x": "oops" is not a finite number\./,
      ],
      [
        ["--data", `${dir}/ok.csv`, "--time-column", "s"],
        /invalid value for --time-column: "s"\. Allowed: one of the columns of .*ok\.csv: t, x\./,
      ],
      [
        ["--data", `${dir}/ok.csv`, "--window", "2"],
        /invalid value for --window: "2"\. Allowed: A:B/,
      ],
      [
        ["--data", `${dir}/ok.csv`, "--state-columns", "x,,y"],
        /--state-columns: "x,,y"\. Allowed: column names/,
      ],
      [
        ["--time-column", "t"],
        /--time-column reads a table given by --data FILE without --example; no --data was given/,
      ],
      [["--data", `${dir}/none.csv`], /--data ".*none\.csv": no such file\. Expected a table: CSV/],
    ];
    for (const [args, pattern] of cases) {
      const { code, out, err } = await run([...args, "--iterations", "1", "--out", `${dir}/o`]);
      assert.notEqual(code, 0, args.join(" "));
      assert.match(err, pattern);
      assert.equal(out, "");
      assertNoStack(err);
    }
  });
});
