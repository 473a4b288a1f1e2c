// `deno task experiments --seeds`: every method on every seed, then per method the median
// and range of the best loss and of the wall time (issue 15: one seed is not a result).
//
// Needs: --allow-read.

import assert from "node:assert/strict";
import type { CliIo } from "../cli/io.ts";
import { main } from "../cli/experiments.ts";
import type { ComparisonRun } from "../cli/experiments_compare.ts";
import type { MethodSummary } from "../cli/experiments_summary.ts";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const io: CliIo = { write: (t) => out += t, error: (t) => err += t, isTerminal: false };
  const code = await main(args, io);
  return { code, out, err };
}

/** Two short trainings per seed on a coarse grid, so that the test takes seconds. */
const SMALL = [
  "--example",
  "white-dwarf",
  "--solver",
  "euler,midpoint",
  "--steps",
  "50",
  "--iterations",
  "4",
  "--warmup",
  "0",
];

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

Deno.test("experiments --seeds 0-3 --json: every method on every seed, and medians of the runs", async () => {
  const { code, out, err } = await run([...SMALL, "--seeds", "0-3", "--json"]);
  assert.equal(code, 0, err);
  const result: { seeds: number[]; runs: ComparisonRun[]; summary: MethodSummary[] } = JSON
    .parse(out);
  assert.deepEqual(result.seeds, [0, 1, 2, 3]);
  // 2 solvers × 2 methods × 4 seeds
  assert.equal(result.runs.length, 16);
  assert.equal(result.summary.length, 4);
  for (const s of result.summary) {
    const group = result.runs.filter((r) => r.solver === s.solver && r.method === s.method);
    assert.deepEqual(group.map((r) => r.seed).sort(), [0, 1, 2, 3]);
    assert.deepEqual(s.seeds.slice().sort(), [0, 1, 2, 3]);
    const losses = group.map((r) => r.bestLoss!);
    // the seeds were used: four different initialisations, four different losses
    assert.equal(new Set(losses).size, 4, `${s.solver} ${s.method}: ${losses}`);
    assert.equal(s.bestLoss!.median, median(losses));
    assert.equal(s.bestLoss!.min, Math.min(...losses));
    assert.equal(s.bestLoss!.max, Math.max(...losses));
    assert.equal(s.seconds.median, median(group.map((r) => r.seconds)));
    if (s.method === "checkpointed") {
      const ratios = group.map((r) =>
        r.seconds /
        result.runs.find((p) =>
          p.method === "reversible" && p.solver === r.solver && p.seed === r.seed
        )!.seconds
      );
      assert.equal(s.timeRatio!.median, median(ratios));
    } else assert.equal(s.timeRatio, null);
  }
  // each seed's run is the run --seed gives on its own
  const one = await run([...SMALL, "--seed", "2", "--json"]);
  assert.equal(one.code, 0, one.err);
  const single: ComparisonRun[] = JSON.parse(one.out);
  for (const r of single) {
    const same = result.runs.find((p) =>
      p.seed === 2 && p.solver === r.solver && p.method === r.method
    );
    assert.equal(same?.bestLoss, r.bestLoss);
  }
});

Deno.test("experiments --seeds 0,3: the per-seed table with a seed column, then the medians table", async () => {
  const { code, out, err } = await run([...SMALL, "--seeds", "0,3"]);
  assert.equal(code, 0, err);
  assert.match(err, /^$/);
  assert.match(out, /running white-dwarf \/ euler, seed 3 …/);
  const [runs, medians] = out.split(/\n\n(?=experiment)/).slice(-2);
  assert.match(runs, /^experiment\s+solver\s+method\s+seed\s+steps/);
  assert.equal(runs.split("\n").filter((l) => /^white-dwarf/.test(l)).length, 8);
  assert.match(medians, /^experiment\s+solver\s+method\s+seeds\s+median best loss\s+range/);
  assert.equal(medians.split("\n").filter((l) => /^white-dwarf/.test(l)).length, 4);
  assert.match(medians, /median and range \(min – max\) over the seeds 0, 3\n/);
  // a single seed is a list of one
  const single = await run([...SMALL, "--seeds", "5", "--json"]);
  assert.equal(single.code, 0, single.err);
  assert.deepEqual(JSON.parse(single.out).seeds, [5]);
});

Deno.test("experiments --seeds: bad lists are refused naming the flag, the value and the forms allowed, before anything runs", async () => {
  const cases: [string, RegExp][] = [
    ["5-1", /The range 5-1 runs backwards\./],
    ["a", /"a" is not a seed\./],
    ["1,,2", /It has an empty item\./],
    ["0-", /"0-" is not a seed\./],
    ["1.5", /"1\.5" is not a seed\./],
    ["0,1,0-2", /The seed 0 is given twice\./],
    ["0-99999", /holds more than 10 000 seeds/],
  ];
  for (const [value, why] of cases) {
    const { code, out, err } = await run([...SMALL, "--seeds", value]);
    assert.equal(code, 2, value);
    assert.equal(out, "");
    assert.match(err, new RegExp(`^error: invalid value for --seeds: ${JSON.stringify(value)}\\.`));
    assert.match(err, why);
    assert.match(
      err,
      /Allowed: a seed \(7\), a range A-B with A ≤ B \(0-9\), or a comma-separated/,
    );
  }
  const both = await run([...SMALL, "--seed", "1", "--seeds", "0-2"]);
  assert.equal(both.code, 2);
  assert.match(both.err, /give --seed N or --seeds LIST, not both\./);
});
