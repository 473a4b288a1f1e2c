// `deno task train --restarts K`: K seeds probed, the one with the lowest loss after the
// probe continued; the kept run is the run of that seed, as if it had never stopped (issue 15).
//
// Needs: --allow-read --allow-write.

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { assertNoStack, runCli, withTempDir } from "./cli_harness.ts";
import { experimentConfig, loadExperimentData } from "../training/experiments.ts";
import { train } from "../training/train.ts";

Deno.test("train --restarts 3 --probe 4: keeps the seed with the lowest probe loss and trains it to --iterations", () =>
  withTempDir(async (dir) => {
    const { code, out, err } = await runCli(main, [
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
      "--out",
      dir,
    ]);
    assert.equal(code, 0, err);
    // the library's own probes of the three seeds
    const { data } = await loadExperimentData("white-dwarf");
    const best = new Map<number, number>();
    for (const seed of [5, 6, 7]) {
      const config = experimentConfig("white-dwarf", { steps: 20, seed });
      best.set(seed, (await train({ config, data, iterations: 4 })).state.bestLoss!);
    }
    const lowest = [...best].sort((a, b) => a[1] - b[1])[0][0];
    assert.match(
      out,
      new RegExp(
        `restarts: seeds 5–7 probed for 4 iterations each \\(best loss .*\\); kept ` +
          `seed ${lowest}, the lowest, and continued it from iteration 4\\n`,
      ),
    );
    assert.match(out, /iterations: 6 \(to 10\)/);
    const model = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
    assert.equal(model.config.seed, lowest);
    // the kept run is that seed's run of 10 iterations, probe included
    const config = experimentConfig("white-dwarf", { steps: 20, seed: lowest });
    const plain = await train({ config, data, iterations: 10 });
    assert.deepEqual(model.training.history.loss, plain.state.losses);
    assert.deepEqual(model.params, [...plain.state.params]);
  }));

Deno.test("train --restarts: bad values and combinations are refused before anything trains", () =>
  withTempDir(async (dir) => {
    const file = `${dir}/init.json`;
    await Deno.writeTextFile(file, JSON.stringify(Array(62).fill(0.1)));
    const cases: [string[], RegExp][] = [
      [
        ["--restarts", "0"],
        /invalid value for --restarts: "0"\. Allowed: an integer in \[1, 1000\]\./,
      ],
      [
        ["--probe", "5", "--example", "oscillator"],
        /--probe sets the iterations of each --restarts probe; give --restarts K\./,
      ],
      [
        ["--probe", "5", "--restarts", "1"],
        /--probe sets the iterations of each --restarts probe; --restarts 1 probes none\./,
      ],
      [
        ["--restarts", "2", "--probe", "10", "--iterations", "10"],
        /invalid value for --probe: 10 leaves no iteration of the 10 to continue\./,
      ],
      [["--restarts", "2", "--init", file], /--restarts probes initialisations from seeds; --init/],
    ];
    for (const [flags, message] of cases) {
      const { code, out, err } = await runCli(main, [...flags, "--out", `${dir}/x`]);
      assert.equal(code, 2, err);
      assert.equal(out, "");
      assert.match(err, message);
      assertNoStack(err);
    }
    await assert.rejects(Deno.stat(`${dir}/x`), Deno.errors.NotFound);
  }));
