/**
 * The residuals, command line and settings of a run's report.html and
 * summary.json: residuals in the data's units with the data's names, their
 * RMS per state, the command as given and every setting.
 */

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { writeRunFiles } from "../cli/run_files.ts";
import { experimentConfig } from "../training/experiments.ts";
import { readModelFile } from "../training/model_file.ts";
import { modelFromState } from "../training/model_state.ts";
import { predictData } from "../training/model.ts";
import { initialState } from "../training/state.ts";
import type { TrainResult } from "../training/state.ts";
import { runCli, withTempDir } from "./cli_harness.ts";

Deno.test("writeRunFiles: residuals of a constant model are data − y0 in the data's units", async () => {
  await withTempDir(async (dir) => {
    // a linear field with zero parameters: the model stays at y0 (model units), which the
    // normalisation maps back to shift + scale · y0 = (10, -4) in the data's units
    const base = experimentConfig("oscillator", { steps: 4, solver: "rk4", adaptive: null });
    const config = {
      ...base,
      mlp: { ...base.mlp, dim: 2, widths: [], timeDependent: false },
      example: null,
      t0: 0,
      t1: 2,
      y0: [0, 0],
      data: { source: "d.csv", path: null, simulated: false, points: 3 },
      normalization: { shift: [10, -4], scale: [2, 3] },
      command: "deno task train --data 'd.csv' --lr 0.01",
    };
    const data = {
      ts: Float64Array.of(0, 1, 2),
      ys: Float64Array.of(10, -4, 13, -4, 6, 2),
      dim: 2,
      source: "d.csv",
    };
    const state = initialState(config);
    state.params.fill(0);
    state.bestParams.fill(0);
    const model = modelFromState(config, state, {
      plannedIterations: 0,
      status: "completed",
      reason: null,
      gradient: null,
    });
    const result = {
      status: "completed",
      reason: null,
      remedies: [],
      gradient: null,
      iterationsRun: 0,
      seconds: 0,
      history: [],
      state,
    } as unknown as TrainResult;
    await writeRunFiles(dir, {
      title: "t",
      model,
      result,
      data,
      stateNames: ["pos", "vel"],
      stateLabel: "m",
    });
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    // pos residuals 0, 3, -4; vel 0, 0, 6
    assert.equal(summary.residuals.states.pos.rms, Math.sqrt((0 + 9 + 16) / 3));
    assert.equal(summary.residuals.states.pos.maxAbs, 4);
    assert.equal(summary.residuals.states.vel.rms, Math.sqrt(36 / 3));
    assert.equal(summary.residuals.units, "m");
    assert.equal(summary.command, config.command);
    assert.equal(summary.settings.lr, base.lr);
    assert.equal(summary.settings.depth, 0);
    const svg = await Deno.readTextFile(`${dir}/residuals.svg`);
    assert.ok(svg.includes("pos: data − model") && svg.includes("vel: data − model"));
    assert.ok(svg.includes("residual (m)"));
    const html = await Deno.readTextFile(`${dir}/report.html`);
    assert.ok(
      html.includes("<pre><code>deno task train --data &#39;d.csv&#39; --lr 0.01</code></pre>"),
    );
    assert.ok(html.includes('<img src="residuals.svg"'));
    assert.ok(html.includes("<h2>Settings</h2>"));
    assert.match(html, /<th>residual RMS of pos<\/th><td>2\.88675/);
    assert.match(html, /<th>weight-decay<\/th>/);
  });
});

Deno.test("train: summary.json and report.html hold the command line, the settings and the residuals", async () => {
  await withTempDir(async (dir) => {
    const rows = Array.from({ length: 21 }, (_, i) => {
      const t = i / 4;
      return `${t},${Math.cos(t)},${-50 * Math.sin(t)}`;
    });
    await Deno.writeTextFile(`${dir}/osc.csv`, ["t,pos,vel", ...rows].join("\n"));
    const args = ["--data", `${dir}/osc.csv`, "--width", "3", "--iterations", "2", "--lr", "0.02"];
    const a = await runCli(main, [...args, "--validation", "0.25", "--out", `${dir}/a`]);
    assert.equal(a.code, 0, a.err);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/a/summary.json`));
    const command = `deno task train ${args.join(" ")} --validation 0.25 --out ${dir}/a`;
    assert.equal(summary.command, command);
    assert.equal(summary.settings.lr, 0.02);
    assert.equal(summary.settings.width, 3);
    assert.equal(summary.settings["state-columns"], "pos,vel");
    assert.equal(summary.settings.normalize, "standard");
    // the residuals, recomputed from the saved model in the data's units
    const model = await readModelFile(`${dir}/a/model.json`);
    assert.equal(model.config.command, command);
    const ts = Float64Array.from(rows, (r) => Number(r.split(",")[0]));
    const ys = Float64Array.from(rows.flatMap((r) => r.split(",").slice(1).map(Number)));
    const data = { ts, ys, dim: 2, source: "" };
    const fit = predictData(model.config, Float64Array.from(model.best.params), data);
    for (const [k, name] of ["pos", "vel"].entries()) {
      let sum = 0, held = 0, n = 0;
      for (let i = 0; i < ts.length; i++) {
        const at = fit.ts.findIndex((t) => Math.abs(t - ts[i]) < 1e-9);
        const r = ys[i * 2 + k] - fit.ys[at * 2 + k];
        sum += r * r;
        if (ts[i] > 3.75) (held += r * r, n++);
      }
      const stats = summary.residuals.states[name];
      assert.ok(Math.abs(stats.rms - Math.sqrt(sum / ts.length)) <= 1e-12 * stats.rms, name);
      assert.ok(Math.abs(stats.rmsHeldOut - Math.sqrt(held / n)) <= 1e-12 * stats.rmsHeldOut);
    }
    const html = await Deno.readTextFile(`${dir}/a/report.html`);
    assert.ok(html.includes(`<pre><code>deno task train --data ${dir}/osc.csv`));
    assert.match(html, /<th>residual RMS of vel, held out<\/th>/);
    const svg = await Deno.readTextFile(`${dir}/a/residuals.svg`);
    assert.ok(svg.includes('class="band"') && svg.includes("vel: data − model"));
    // a resumed run records its own command
    const b = await runCli(main, [
      "--resume",
      `${dir}/a/model.json`,
      "--out",
      `${dir}/b`,
      "--iterations",
      "1",
    ]);
    assert.equal(b.code, 0, b.err);
    const resumed = JSON.parse(await Deno.readTextFile(`${dir}/b/summary.json`));
    assert.equal(
      resumed.command,
      `deno task train --resume ${dir}/a/model.json --out ${dir}/b --iterations 1`,
    );
  });
});
