import assert from "node:assert/strict";
import { defaultConfig, type SeriesData } from "../training/config.ts";
import { TrainingData } from "../training/data.ts";
import { predict, train } from "../training/train.ts";
import { initialState } from "../training/state.ts";
import { readTable } from "../training/table.ts";
import { Mlp, type MlpConfig } from "../solvers/fields/mlp.ts";
import { solve } from "../solvers/solve.ts";
import { schemeOf } from "../training/config.ts";

// y' = −y sampled at irregular times: two trajectories with different times and y0
const text = "run,t,y\n" +
  [[0, 0, 1], [0, 0.3, 0], [0, 1.1, 0], [0, 2, 0], [1, 0, 2], [1, 0.7, 0], [1, 1.5, 0]]
    .map(([r, t, y0]) => {
      const start = r === 0 ? 1 : 2;
      return `${r},${t},${y0 === 0 ? start * Math.exp(-t) : y0}`;
    }).join("\n");
const table = readTable(text, { trajectoryColumn: "run" });
const mlp: MlpConfig = {
  dim: 1,
  widths: [],
  activation: "tanh",
  finalActivation: "identity",
  timeDependent: false,
};

Deno.test("TrainingData: irregular, unequal times give outputs at the data times", () => {
  const config = defaultConfig({ mlp, steps: 40 });
  const data = new TrainingData(config, table.trajectories);
  assert.equal(data.grid, "times");
  assert.equal(data.sharedTimes, false);
  const b = data.batch(0);
  assert.equal(b.targets.length, (b.ts.length - 1) * 1);
  assert.deepEqual([...b.targets], [...table.trajectories[b.members[0]].ys.subarray(1)]);
  assert.throws(
    () => new TrainingData({ ...config, batch: 2 }, table.trajectories),
    /Invalid batch: got 2; expected 1: the trajectories have different times/,
  );
  // a uniform shared grid keeps the aligned path of the paper's experiments
  const uniform: SeriesData = {
    ts: Float64Array.of(0, 1, 2),
    ys: Float64Array.of(1, 2, 3),
    dim: 1,
    source: "",
  };
  assert.equal(new TrainingData({ ...config, steps: 4 }, uniform).grid, "aligned");
});

Deno.test("train: the loss compares the model with the observations at the observed times", async () => {
  const config = defaultConfig({ mlp, steps: 40, lr: 0.1 });
  const params = initialState(config).params;
  const result = await train({ config, data: table.trajectories, iterations: 1 });
  const first = result.history[0].loss;
  // the same loss by hand: a solve saving at trajectory 0's or 1's times
  const member = new TrainingData(config, table.trajectories).batch(0).members[0];
  const tr = table.trajectories[member];
  const sol = solve({
    field: Mlp.fromJSON(mlp),
    y0: tr.ys.slice(0, 1),
    params,
    scheme: schemeOf({ ...config, gradient: "direct" }),
    t0: tr.ts[0],
    t1: tr.ts[tr.ts.length - 1],
    steps: 40,
    saveAt: { ts: tr.ts.subarray(1) },
  });
  let mse = 0;
  for (let i = 0; i < sol.ys.length; i++) mse += (sol.ys[i] - tr.ys[i + 1]) ** 2;
  mse /= sol.ys.length;
  assert.ok(Math.abs(first - mse) <= 1e-12 * Math.max(1, mse), `${first} vs ${mse}`);
  // and training fits y' = −y
  const long = await train({ config, data: table.trajectories, iterations: 1500 });
  assert.equal(long.status, "completed");
  const fit = predict(config, long.state.bestParams, table.trajectories[0]);
  assert.deepEqual([...fit.ts], [...table.trajectories[0].ts]);
  for (let i = 0; i < fit.ys.length; i++) {
    assert.ok(Math.abs(fit.ys[i] - table.trajectories[0].ys[i]) < 0.02, `${i}: ${fit.ys[i]}`);
  }
});
