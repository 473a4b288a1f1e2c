// How a run's initial parameters were chosen, recorded and checked (issue 15): the
// --restarts probes (by flag and by default) and the --init file in model.json's
// config.start, summary.json and report.html; a resumed run keeps the record; old files
// without it still load; and --init refuses parameters of other units than the run's.
//
// Needs: --allow-read --allow-write.

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { planRun, probePlan } from "../cli/train_plan.ts";
import { TRAIN_DEFAULTS } from "../cli/train_defaults.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";
import { experimentConfig, loadExperimentData } from "../training/experiments.ts";
import { parseModelFile } from "../training/model_parse.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { train } from "../training/train.ts";

/** A run's model.json, summary.json and report.html. */
async function runFiles(dir: string) {
  const text = await Deno.readTextFile(`${dir}/model.json`);
  return {
    model: parseModelFile(text, "model.json"),
    summary: JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)),
    report: await Deno.readTextFile(`${dir}/report.html`),
  };
}

/** `deno task train ARGS --out DIR`, which must succeed. */
async function trainOk(out: string, ...args: string[]): Promise<string> {
  const run = await runCli(main, [...args, "--out", out]);
  assert.equal(run.code, 0, run.err);
  return run.out;
}

Deno.test("train --restarts: the probes, their losses and the seed kept in model.json, summary.json and report.html", () =>
  withTempDir(async (dir) => {
    await trainOk(
      dir,
      "--restarts",
      "3",
      "--probe",
      "4",
      "--seed",
      "5",
      "--steps",
      "20",
      "--iterations",
      "10",
    );
    const { data } = await loadExperimentData("white-dwarf");
    const probes = [];
    for (const seed of [5, 6, 7]) {
      const config = experimentConfig("white-dwarf", { steps: 20, seed });
      const { state, status } = await train({ config, data, iterations: 4 });
      probes.push({ seed, bestLoss: state.bestLoss, status });
    }
    const kept = [...probes].sort((a, b) => a.bestLoss! - b.bestLoss!)[0].seed;
    const { model, summary, report } = await runFiles(dir);
    const record = { probe: 4, baseSeed: 5, probes, kept };
    assert.deepEqual(model.config.start, { restarts: record });
    assert.equal(model.config.seed, kept);
    assert.deepEqual(summary.config.start, { restarts: record });
    const row = `3 (seeds 5–7 probed for 4 iterations each, best loss ${
      probes.map((p) => `${p.seed}: ${p.bestLoss!.toExponential(2)}`).join(", ")
    }); kept seed ${kept}`;
    assert.equal(summary.settings.restarts, row);
    assert.ok(report.includes(row), "report.html's settings show the probes");
    // a resumed run keeps the record of how the run began
    await trainOk(`${dir}/r`, "--resume", `${dir}/model.json`, "--iterations", "2");
    assert.deepEqual((await runFiles(`${dir}/r`)).model.config.start, { restarts: record });
  }));

Deno.test("train defaults: the white dwarf probes two seeds for a tenth of 2 000 iterations (at most 200); --restarts 1, trials and the other examples probe none", async () => {
  const defaults = TRAIN_DEFAULTS["white-dwarf"];
  const plan = await planRun({ steps: "20" });
  assert.equal(plan.iterations, defaults.iterations);
  await probePlan(plan);
  const restarts = plan.config.start?.restarts;
  assert.ok(restarts !== undefined);
  assert.equal(restarts.probe, defaults.iterations / 10);
  assert.deepEqual(restarts.probes.map((p) => p.seed), [0, 1]);
  assert.equal(plan.iterations + restarts.probe, defaults.iterations);
  assert.equal(plan.resume?.iteration, restarts.probe);
  assert.equal(plan.config.schedule.kind, defaults.schedule);
  // --seed stays the base seed
  const based = await planRun({ steps: "20", seed: "4", iterations: "200" });
  await probePlan(based);
  assert.deepEqual(based.config.start?.restarts?.probes.map((p) => p.seed), [4, 5]);
  assert.equal(based.config.start?.restarts?.probe, 20);
  // a long run probes at most 200 iterations before its first line
  const long = await planRun({ steps: "20", iterations: "100000" });
  assert.equal(long.restarts?.probe, 200);
  // no probes: --restarts 1, a trial of under 200 iterations, the oscillator
  const cases = [
    { restarts: "1" },
    { iterations: "199" },
    { example: "oscillator", steps: "499" },
  ];
  for (const flags of cases) {
    const quiet = await planRun({ steps: "20", iterations: "2", ...flags });
    assert.equal(quiet.restarts, null);
    await probePlan(quiet);
    assert.equal(quiet.config.start, undefined, JSON.stringify(flags));
    assert.equal(quiet.resume, null);
  }
});

Deno.test("train --init: the file and what was taken in model.json, summary.json and report.html; old files load without it", () =>
  withTempDir(async (dir) => {
    const file = `${dir}/inits.json`;
    const keys = { "1": { params0: Array.from({ length: 62 }, (_, i) => Math.cos(i) / 3) } };
    await Deno.writeTextFile(file, JSON.stringify({ keys }));
    const out = await trainOk(
      `${dir}/a`,
      "--init",
      file,
      "--seed",
      "1",
      "--steps",
      "20",
      "--iterations",
      "2",
    );
    // an --init run probes no seeds, default or not
    assert.doesNotMatch(out, /restarts:/);
    const { model, summary, report } = await runFiles(`${dir}/a`);
    const record = { file, form: "paper-inits", seed: 1 };
    assert.deepEqual(model.config.start, { init: record });
    assert.deepEqual(summary.config.start, { init: record });
    assert.equal(summary.settings.init, `${file} (paper-inits, seed 1)`);
    assert.ok(report.includes("(paper-inits, seed 1)"));
    // a model.json as --init: its best parameters, recorded as such
    await trainOk(
      `${dir}/b`,
      "--init",
      `${dir}/a/model.json`,
      "--steps",
      "20",
      "--iterations",
      "1",
    );
    const b = (await runFiles(`${dir}/b`)).model.config.start;
    assert.deepEqual(b, { init: { file: `${dir}/a/model.json`, form: "model", params: "best" } });
    // a file written before config.start existed still loads, without it
    const old = JSON.parse(await Deno.readTextFile(`${dir}/a/model.json`));
    delete old.config.start;
    assert.equal(parseModelFile(JSON.stringify(old), "old.json").config.start, undefined);
    old.config.start = { init: { file: "x", form: "csv" } };
    assert.throws(
      () => parseModelFile(JSON.stringify(old), "bad.json"),
      /bad\.json: config\.start\.init\.form is "csv"/,
    );
  }));

Deno.test("train --init: parameters of another normalisation than the run's are refused, naming both and the remedy", () =>
  withTempDir(async (dir) => {
    const ts = Array.from({ length: 21 }, (_, i) => i * 0.1);
    const rows = ts.map((t) => `${t},${500 + 100 * Math.exp(-t)},${-0.01 + 0.002 * Math.exp(-t)}`);
    await Deno.writeTextFile(`${dir}/d.csv`, ["t,y,z", ...rows].join("\n"));
    await trainOk(`${dir}/a`, "--data", `${dir}/d.csv`, "--iterations", "2");
    const model = `${dir}/a/model.json`;
    const trained = (await runFiles(`${dir}/a`)).model;
    const n = trained.config.normalization!;
    // the same data: the same normalisation, accepted and recorded
    await trainOk(`${dir}/b`, "--data", `${dir}/d.csv`, "--init", model, "--iterations", "1");
    const b = (await runFiles(`${dir}/b`)).model;
    assert.deepEqual(b.config.start?.init?.normalization, n);
    assert.equal(b.training.history.loss[0], trained.best.loss);
    const shown = (xs: number[]) => `\\[${xs.map((x) => Number(x.toPrecision(6))).join(", ")}\\]`;
    const modelUnits = `shift ${shown(n.shift)} and scale ${shown(n.scale)}`;
    const cases: [string[], RegExp][] = [
      [
        ["--window", "0:1"],
        new RegExp(
          `--init ${model}: the model's parameters act on states normalised with ` +
            `${modelUnits.replaceAll(".", "\\.")}; this run normalises with shift \\[.*\\] ` +
            `and scale \\[.*\\] \\(--normalize standard.*Remedy: train on the data, --window`,
        ),
      ],
      [
        ["--normalize", "none"],
        /the model's parameters act on states normalised with .*; this run trains in the data's own units .* Remedy: train with --normalize standard/,
      ],
    ];
    for (const [flags, message] of cases) {
      const run = await runCli(main, [
        "--data",
        `${dir}/d.csv`,
        "--init",
        model,
        ...flags,
        "--out",
        `${dir}/x`,
      ]);
      assert.equal(run.code, 2, run.err);
      assert.match(run.err, message);
      assertNoStack(run.err);
    }
    // a model of the data's own units into a run that normalises
    await trainOk(`${dir}/c`, "--data", `${dir}/d.csv`, "--normalize", "none", "--iterations", "1");
    const raw = await runCli(main, ["--data", `${dir}/d.csv`, "--init", `${dir}/c/model.json`]);
    assert.equal(raw.code, 2);
    assert.match(
      raw.err,
      /the model's parameters act on the data's own units \(no normalisation\); this run normalises with shift \[.*Remedy: give --normalize none\./,
    );
    // the paper-inits form is in the data's own units: refused where the run normalises
    const count = Mlp.fromJSON(trained.config.mlp).paramCount;
    const inits = `${dir}/inits.json`;
    await Deno.writeTextFile(
      inits,
      JSON.stringify({ keys: { "0": { params0: Array(count).fill(0.1) } } }),
    );
    const paper = await runCli(main, ["--data", `${dir}/d.csv`, "--init", inits]);
    assert.equal(paper.code, 2);
    assert.match(
      paper.err,
      /the paper-inits form .* data's own units .* Remedy: give --normalize none/,
    );
    // an array carries no units: taken in the run's, and said so
    await Deno.writeTextFile(inits, JSON.stringify(Array(count).fill(0.1)));
    const array = await trainOk(
      `${dir}/e`,
      "--data",
      `${dir}/d.csv`,
      "--init",
      inits,
      "--iterations",
      "1",
    );
    assert.match(
      array,
      /carries no normalisation, so it is taken in this run's units \(normalised with shift/,
    );
    await assert.rejects(Deno.stat(`${dir}/x`), Deno.errors.NotFound);
  }));
