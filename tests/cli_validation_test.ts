/**
 * `deno task train --validation F --patience K`: refusals, the files that
 * record the validation loss, and a resumed run that continues identically.
 */

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { readModelFile } from "../training/model_file.ts";
import { assertNoStack, resumeAgainstWhole, runCli, withTempDir } from "./cli_harness.ts";

const run = (args: string[]) => runCli(main, args);

/** A damped oscillator x' = v, v' = −x − 0.2 v, from (x0, v0), as table rows `t x v`. */
function rows(times: number[], x0: number, v0: number): string[] {
  return times.map((t) => {
    // the exact solution of the underdamped oscillator, ω = √(1 − 0.01)
    const w = Math.sqrt(0.99), e = Math.exp(-0.1 * t);
    const c = x0, s = (v0 + 0.1 * x0) / w;
    const x = e * (c * Math.cos(w * t) + s * Math.sin(w * t));
    const v = -0.1 * x + e * (-c * w * Math.sin(w * t) + s * w * Math.cos(w * t));
    return `${t} ${x} ${v}`;
  });
}

const grid = Array.from({ length: 21 }, (_, i) => i / 4);

Deno.test("cli: --validation and --patience are refused clearly when they cannot apply", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/one.txt`, ["t x v", ...rows(grid, 1, 0)].join("\n"));
    const runs = [0, 1].flatMap((k) => rows(grid, 1, k).map((r) => `${k} ${r}`));
    await Deno.writeTextFile(`${dir}/two.txt`, ["run t x v", ...runs].join("\n"));
    const cases: [string[], RegExp][] = [
      [
        ["--validation", "0"],
        /invalid value for --validation: "0"\. Allowed: a fraction in \(0, 1\)/,
      ],
      [["--validation", "1.5"], /--validation: "1\.5"\. Allowed: a fraction in \(0, 1\)/],
      [["--validation", "x"], /--validation: "x"\. Allowed: a fraction/],
      [["--patience", "5"], /--patience 5 needs --validation F/],
      [["--validation", "0.2", "--patience", "0"], /--patience: "0"/],
      [
        ["--data", `${dir}/one.txt`, "--validation", "0.99"],
        /--validation: 0\.99; expected .*21 points on \[0, 5\] \(none would train\)/,
      ],
      [
        ["--data", `${dir}/two.txt`, "--trajectory-column", "run", "--validation", "0.9"],
        /--validation: 0\.9; expected .*holds out 2 of the 2 trajectories/,
      ],
      [
        [
          "--data",
          `${dir}/two.txt`,
          "--trajectory-column",
          "run",
          "--validation",
          "0.5",
          "--batch",
          "2",
        ],
        /--batch: 2\. With --validation 0\.5, 1 of the 2 trajectories train; allowed: 1 to 1/,
      ],
      [
        ["--validation", "0.2", "--backend", "webgpu"],
        /validation \(a held-out part of the data\) runs on the CPU backend only/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const { code, err } = await run([...args, "--out", `${dir}/never`]);
      assert.ok(code === 2 || code === 1, `${args.join(" ")}: exit ${code}`);
      assert.match(err, pattern, args.join(" "));
      assertNoStack(err);
    }
  });
});

Deno.test("cli: one trajectory with --validation: files record the held-out loss and shade the held-out region", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/osc.txt`, ["t x v", ...rows(grid, 1, 0)].join("\n"));
    const base = ["--data", `${dir}/osc.txt`, "--validation", "0.25", "--width", "4"];
    const a = await run([...base, "--iterations", "3", "--out", `${dir}/a`]);
    assert.equal(a.code, 0, a.err);
    const model = await readModelFile(`${dir}/a/model.json`);
    assert.equal(model.config.validation, 0.25);
    const v = model.training.history.validationLoss!;
    assert.equal(v.length, 3);
    assert.equal(model.best.loss, Math.min(...v));
    const csv = (await Deno.readTextFile(`${dir}/a/history.csv`)).trim().split("\n");
    assert.equal(csv[0], "iteration,loss,best_loss,seconds,validation_loss");
    assert.equal(Number(csv[2].split(",")[4]), v[1]);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/a/summary.json`));
    assert.equal(summary.bestBy, "validation loss");
    assert.equal(summary.validation.fraction, 0.25);
    assert.equal(summary.validation.heldOutFrom, 3.75);
    assert.equal(summary.validation.finalValidationLoss, v[2]);
    const loss = await Deno.readTextFile(`${dir}/a/loss.svg`);
    assert.ok(loss.includes("validation loss"));
    const fit = await Deno.readTextFile(`${dir}/a/fit.svg`);
    assert.ok(fit.includes('class="band"') && fit.includes("held out (validation)"));
    const html = await Deno.readTextFile(`${dir}/a/report.html`);
    assert.match(html, /best validation loss/);
    assert.match(html, /the last 0\.25 of the time: t &gt; 3\.75/);
  });
});

Deno.test("cli: --patience stops early and --resume of an example with validation continues identically", async () => {
  await withTempDir(async (dir) => {
    const base = ["--example", "oscillator", "--width", "4", "--validation", "0.2"];
    const { split, whole } = await resumeAgainstWhole(main, dir, base, 2);
    assert.deepEqual(split.training.history.validationLoss, whole.training.history.validationLoss);
    assert.deepEqual(split.params, whole.params);
    assert.deepEqual(split.best, whole.best);
    const resume = ["--resume", `${dir}/a/model.json`, "--validation", "0.3"];
    const changed = await run([...resume, "--out", `${dir}/c`]);
    assert.equal(changed.code, 2);
    assert.match(
      changed.err,
      /--validation 0\.3 conflicts with the model being resumed \(validation 0\.2\)/,
    );
    // a large learning rate makes the held-out loss stop improving soon
    const impatient = [...base, "--patience", "2", "--lr", "0.5", "--iterations", "200"];
    const early = await run([...impatient, "--out", `${dir}/e`]);
    assert.equal(early.code, 0, early.err);
    const e = await readModelFile(`${dir}/e/model.json`);
    assert.ok(e.training.iterations < 200, `ran ${e.training.iterations}`);
    assert.equal(e.training.iterations - e.best.iteration, 2);
    assert.match(e.training.reason!, /stopped early after iteration \d+/);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/e/summary.json`));
    assert.equal(summary.validation.stoppedEarly, true);
  });
});
