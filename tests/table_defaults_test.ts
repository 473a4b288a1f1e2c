// The defaults of a new run on a user's table (`deno task train --data FILE`), chosen on
// evidence over base seeds 0–9 (bench/defaults.ts --section tables, README "Choosing the
// defaults"; issue 15): the numbers themselves, in the plan and in the model file; explicit
// flags win; `--restarts 1`, `--init` and `--resume` probe nothing.
//
// Needs: --allow-read --allow-write.

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { planRun } from "../cli/train_plan.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";
import { readModelFile } from "../training/model_file.ts";
import { TABLE_DEFAULTS } from "../training/table_run.ts";

/** A small clean table: x = cos t, v = −sin t, 21 rows over [0, 2]. */
async function writeTable(path: string): Promise<void> {
  const rows = Array.from({ length: 21 }, (_, i) => {
    const t = i / 10;
    return `${t},${Math.cos(t)},${-Math.sin(t)}`;
  });
  await Deno.writeTextFile(path, ["t,x,v", ...rows].join("\n") + "\n");
}

Deno.test("table defaults: a run with no flags plans 5000 iterations, 3 seeds probed 1000 each, lr 0.03, constant", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/d.csv`;
    await writeTable(path);
    const plan = await planRun({ data: path });
    assert.equal(plan.config.example, null);
    assert.equal(plan.iterations, 5000);
    assert.deepEqual(plan.restarts, { count: 3, probe: 1000 });
    assert.equal(plan.config.lr, 0.03);
    assert.deepEqual(plan.config.schedule, { kind: "constant" });
    assert.equal(plan.config.seed, 0);
    // the numbers are TABLE_DEFAULTS', the one record of them
    assert.deepEqual(TABLE_DEFAULTS, {
      iterations: plan.iterations,
      schedule: plan.config.schedule.kind,
      restarts: plan.restarts!.count,
      probe: plan.restarts!.probe,
      probeFraction: 0.2,
      lr: plan.config.lr,
    });
  }));

Deno.test("table defaults: explicit flags win; --restarts 1 probes none; a short run probes a fifth", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/d.csv`;
    await writeTable(path);
    const given = await planRun({
      data: path,
      iterations: "3000",
      lr: "0.005",
      schedule: "cosine",
      restarts: "2",
    });
    assert.equal(given.iterations, 3000);
    assert.equal(given.config.lr, 0.005);
    assert.deepEqual(given.config.schedule, { kind: "cosine", iterations: 3000, minLr: 0.00005 });
    // an explicit --restarts probes a tenth of the iterations, as for the experiments
    assert.deepEqual(given.restarts, { count: 2, probe: 300 });
    assert.deepEqual((await planRun({ data: path, probe: "40" })).restarts, {
      count: 3,
      probe: 40,
    });
    const none = await planRun({ data: path, restarts: "1" });
    assert.equal(none.restarts, null);
    assert.equal(none.iterations, 5000);
    // the default probes: a fifth of a shorter run, none for a trial under 200 iterations
    assert.deepEqual((await planRun({ data: path, iterations: "300" })).restarts, {
      count: 3,
      probe: 60,
    });
    assert.equal((await planRun({ data: path, iterations: "199" })).restarts, null);
    // an experiment keeps its own defaults
    const wd = await planRun({ steps: "20" });
    assert.deepEqual([wd.iterations, wd.restarts, wd.config.lr], [2000, {
      count: 2,
      probe: 200,
    }, 0.01]);
  }));

Deno.test("table defaults: --init and --resume probe nothing by default", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/d.csv`;
    await writeTable(path);
    const first = await runCli(main, [
      "--data",
      path,
      "--iterations",
      "2",
      "--restarts",
      "1",
      "--out",
      `${dir}/a`,
    ]);
    assert.equal(first.code, 0, first.err);
    const model = `${dir}/a/model.json`;
    const init = await planRun({ data: path, init: model });
    assert.equal(init.restarts, null);
    assert.equal(init.iterations, 5000);
    const resumed = await planRun({ resume: model, iterations: "300" });
    assert.equal(resumed.restarts, null);
    const refused = await runCli(main, [
      "--resume",
      model,
      "--iterations",
      "300",
      "--restarts",
      "2",
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--restarts probes initialisations from seeds; --resume gives/);
    assertNoStack(refused.err);
  }));

Deno.test("table defaults: deno task train --data FILE alone trains them and the model file records them", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/d.csv`;
    await writeTable(path);
    const { code, out, err } = await runCli(main, ["--data", path, "--out", `${dir}/run`]);
    assert.equal(code, 0, err);
    assert.match(out, /restarts: seeds 0–2 probed for 1000 iterations each/);
    const model = await readModelFile(`${dir}/run/model.json`);
    assert.equal(model.training.iterations, 5000);
    assert.equal(model.training.history.loss.length, 5000);
    assert.equal(model.config.lr, 0.03);
    assert.deepEqual(model.config.schedule, { kind: "constant" });
    const probes = model.config.start?.restarts?.probes ?? [];
    assert.deepEqual(probes.map((p) => p.seed), [0, 1, 2]);
    assert.equal(model.config.start?.restarts?.probe, 1000);
    assert.equal(model.config.seed, model.config.start?.restarts?.kept);
  }));
