// `deno task experiments`: flags checked before any training starts (--data-dir, --seed) and
// the help text.
//
// Needs: --allow-read --allow-write.

import assert from "node:assert/strict";
import type { CliIo } from "../cli/io.ts";
import { main } from "../cli/experiments.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";

const dataDir = new URL("../../shared/data/schmidt-lipson-2009", import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io: CliIo = { write: (t) => out += t, error: (t) => err += t, isTerminal: false };
  const code = await main(args, io);
  return { code, out, err };
}

/** One quick iteration per training, so that a check that failed to stop a run stays cheap. */
const QUICK = ["--iterations", "1", "--warmup", "0"];

Deno.test("experiments --data-dir: a missing folder, a file or a folder without the files is refused before anything runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revode-experiments-" });
  try {
    const file = `${dir}/notes.txt`;
    await Deno.writeTextFile(file, "not a folder");
    const cases: [string, RegExp][] = [
      [
        `${dir}/none`,
        /--data-dir ".*\/none": no such folder\. Expected: a folder holding real_double_linear_h_1\.txt \(oscillator\) and real_double_pend_h_1\.txt \(pendulum\)\./,
      ],
      [file, /--data-dir ".*notes\.txt": not a folder\. Expected: a folder holding/],
      [
        dir,
        /--data-dir ".*": has no real_double_linear_h_1\.txt \(oscillator\) or real_double_pend_h_1\.txt \(pendulum\)\./,
      ],
    ];
    for (const [value, message] of cases) {
      const { code, out, err } = await run([...QUICK, "--data-dir", value]);
      assert.equal(code, 2, err);
      assert.match(err, /^error: /);
      assert.match(err, message);
      assert.doesNotMatch(err, /os error/);
      // Nothing ran: no header, no white-dwarf comparison.
      assert.equal(out, "");
      assert.doesNotMatch(err, /running/);
    }
    // Only the files of the chosen experiments are needed; the white dwarf needs none.
    await Deno.writeTextFile(`${dir}/real_double_linear_h_1.txt`, "garbage\n");
    let result = await run([...QUICK, "--data-dir", dir]);
    assert.equal(result.code, 2);
    assert.match(result.err, /has no real_double_pend_h_1\.txt \(pendulum\)\./);
    assert.doesNotMatch(result.err, /has no real_double_linear/);
    // A file that is there but unreadable as data is reported before training too.
    result = await run([...QUICK, "--example", "oscillator", "--data-dir", dir]);
    assert.equal(result.code, 2);
    assert.match(
      result.err,
      /--data-dir ".*": cannot use the oscillator data: .*expected 6 columns/,
    );
    assert.equal(result.out, "");
    result = await run([...QUICK, "--example", "white-dwarf", "--data-dir", `${dir}/none`]);
    assert.equal(result.code, 2);
    assert.match(result.err, /no such folder\. Expected: a folder of the Schmidt-Lipson files\./);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("experiments --data-dir: a folder with the file runs on the real data", async () => {
  try {
    await Deno.stat(`${dataDir}/real_double_linear_h_1.txt`);
  } catch {
    console.log(`skipped: no Schmidt-Lipson data in ${dataDir}`);
    return;
  }
  // A trailing slash is fine.
  const { code, out, err } = await run([
    ...QUICK,
    "--example",
    "oscillator",
    "--data-dir",
    `${dataDir}/`,
    "--json",
  ]);
  assert.equal(code, 0, err);
  const runs = JSON.parse(out);
  assert.equal(runs.length, 2);
  assert.ok(runs.every((r: { simulatedData: boolean }) => r.simulatedData === false));
});

Deno.test("experiments --seed: negative seeds are accepted as in deno task train; non-integers are refused by name", async () => {
  const ok = await run([
    ...QUICK,
    "--example",
    "white-dwarf",
    "--solver",
    "euler",
    "--steps",
    "100",
    "--seed",
    "-1",
    "--json",
  ]);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).length, 2);
  for (const [value, allowed] of [["1.5", "an integer"], ["x", "an integer"]]) {
    const { code, err } = await run([...QUICK, "--seed", value]);
    assert.equal(code, 2);
    assert.match(err, new RegExp(`invalid value for --seed: "${value}"\\. Allowed: ${allowed}\\.`));
  }
  const big = await run([...QUICK, "--seed", "99999999999999999999"]);
  assert.equal(big.code, 2);
  assert.match(big.err, /Allowed: an integer, at most 2\^53 − 1 in absolute value\./);
  // Other counts keep their lower bounds.
  const iterations = await run(["--iterations", "-1"]);
  assert.equal(iterations.code, 2);
  assert.match(iterations.err, /invalid value for --iterations: "-1"\. Allowed: an integer >= 1\./);
});

Deno.test("experiments --solver: a solver an experiment cannot use is refused before anything runs", async () => {
  // rk4 has no error estimate for the pendulum's adaptive steps: the white dwarf and the
  // oscillator used to train first, and the run failed after them
  const { code, out, err } = await run([...QUICK, "--solver", "rk4"]);
  assert.equal(code, 2);
  assert.equal(out, "");
  assert.match(
    err,
    /pendulum \/ rk4: Invalid solver: got "rk4"; expected a solver with an embedded error estimate.* Give --steps N for fixed steps \(e\.g\. --steps 499\)\./,
  );
  const plain = await run([
    ...QUICK,
    "--example",
    "white-dwarf",
    "--solver",
    "leapfrog",
    "--baseline-scheme",
    "plain",
  ]);
  assert.equal(plain.code, 2);
  assert.match(plain.err, /white-dwarf \/ leapfrog: Invalid scheme: got "plain".*no plain form/);
  // without --baseline-scheme, leapfrog is compared on its own (reversible) scheme
  const own = await run([
    ...QUICK,
    "--example",
    "white-dwarf",
    "--solver",
    "leapfrog",
    "--steps",
    "100",
    "--json",
  ]);
  assert.equal(own.code, 0, own.err);
  assert.equal(JSON.parse(own.out).length, 2);
});

Deno.test("experiments --help: the default checkpoint count is the formula the code uses; lines fit 100 columns", async () => {
  const { code, out } = await run(["--help"]);
  assert.equal(code, 0);
  assert.match(out, /⌊−1\.5 \+ √\(2N \+ ¼\)⌋ \+ 1/);
  assert.doesNotMatch(out, /floor\(√\(2N\)\)/);
  // The numbers quoted are the ones the code picks.
  assert.equal(defaultCheckpoints(1000), 44);
  assert.equal(defaultCheckpoints(499), 31);
  assert.match(
    out.replace(/\s+/g, " "),
    /44 for the white dwarf's 1000 steps, 31 for the oscillator's 499/,
  );
  for (const line of out.split("\n")) assert.ok([...line].length <= 100, line);
  assert.match(out, /real_double_linear_h_1\.txt \(oscillator\)/);
});
