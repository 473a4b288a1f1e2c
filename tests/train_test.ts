import assert from "node:assert/strict";
import { whiteDwarfData } from "../training/datasets/white_dwarf.ts";
import { simulateOscillator } from "../training/datasets/simulated.ts";
import {
  EXAMPLE_NAMES,
  experimentConfig,
  EXPERIMENTS,
  loadExperimentData,
} from "../training/experiments.ts";
import { defaultConfig, type SeriesData, type TrainConfig } from "../training/config.ts";
import { initialState, type TrainState } from "../training/state.ts";
import { predict, train } from "../training/train.ts";
import { alignSteps } from "../training/data.ts";
import { divergenceRemedies, remediesOf } from "../training/divergence.ts";
import { flagNames } from "../cli/train_flags.ts";
import { readModelFile, writeModelFile } from "../training/model_file.ts";
import { type ModelConfig, ModelFileError } from "../training/model_format.ts";
import { parseModelFile } from "../training/model_parse.ts";
import { serializeModel } from "../training/model_serialize.ts";
import { modelFromState, stateFromModel } from "../training/model_state.ts";
import { mseLoss } from "../training/loss.ts";

/** A small white-dwarf problem: 50 steps of 0.1 and a 3 → 8 → 2 network. */
function smallWhiteDwarf(overrides: Partial<TrainConfig> = {}) {
  const data = whiteDwarfData({ points: 51 });
  const config = defaultConfig({
    mlp: {
      dim: 2,
      widths: [8],
      activation: "tanh",
      finalActivation: "identity",
      timeDependent: true,
    },
    steps: 50,
    ...overrides,
  });
  return { data, config };
}

function modelConfig(config: TrainConfig, data: SeriesData): ModelConfig {
  return {
    ...config,
    example: null,
    t0: data.ts[0],
    t1: data.ts[data.ts.length - 1],
    y0: Array.from(data.ys.subarray(0, data.dim)),
    data: { source: data.source, path: null, simulated: false, points: data.ts.length },
  };
}

Deno.test("white dwarf data: the paper's grid, y0 = [1, 0], converged samples", () => {
  const data = whiteDwarfData();
  assert.equal(data.dim, 2);
  assert.equal(data.ts.length, 1001);
  assert.equal(data.ys.length, 2002);
  assert.equal(data.ts[0], 0);
  assert.equal(data.ts[1000], 5);
  assert.ok(Math.abs(data.ts[1] - 0.005) < 1e-15);
  assert.deepEqual([...data.ys.subarray(0, 2)], [1, 0]);
  // Four times the substeps: the RK4 error falls by 256, so the difference
  // bounds the error of the default samples.
  const fine = whiteDwarfData({ substeps: 80 });
  let worst = 0;
  for (let i = 0; i < data.ys.length; i++) {
    worst = Math.max(worst, Math.abs(fine.ys[i] - data.ys[i]));
  }
  assert.ok(worst < 1e-10, `samples move by ${worst}`);
  // y1 decreases towards 0 and stays above √C (the equation's domain).
  assert.ok(data.ys[2000] > Math.sqrt(0.001) && data.ys[2000] < 0.1);
  assert.throws(() => whiteDwarfData({ points: 1 }), /points.*1.*>= 2/);
  assert.throws(() => whiteDwarfData({ duration: 50 }), /leaves the domain/);
});

Deno.test("experiments: the paper's settings", async () => {
  assert.deepEqual(EXAMPLE_NAMES, ["white-dwarf", "oscillator", "pendulum"]);
  const wd = experimentConfig("white-dwarf");
  assert.equal(wd.solver, "rk4");
  assert.equal(wd.steps, 1000);
  assert.equal(wd.coupling, 0.999);
  assert.equal(wd.lr, 1e-2);
  assert.equal(wd.weightDecay, 1e-5);
  assert.deepEqual(wd.mlp.widths, [10]);
  assert.equal(wd.mlp.timeDependent, true);
  assert.equal(EXPERIMENTS["white-dwarf"].iterations, 1000);
  const osc = EXPERIMENTS.oscillator;
  assert.equal(osc.duration / osc.steps, 3 / 499);
  assert.equal(osc.iterations, 10000);
  assert.equal(osc.mlp.dim, 4);
  assert.deepEqual(EXPERIMENTS.pendulum.adaptive, { rtol: 1e-6, atol: 1e-6, maxSteps: 1000 });
  for (const name of EXAMPLE_NAMES) {
    const { data } = await loadExperimentData(name);
    assert.equal(data.ts.length, EXPERIMENTS[name].points);
    assert.equal(data.ts[data.ts.length - 1], EXPERIMENTS[name].duration);
  }
});

Deno.test("training lowers the loss on each experiment (short runs)", async (t) => {
  const runs: Record<string, { iterations: number; factor: number }> = {
    "white-dwarf": { iterations: 25, factor: 0.05 },
    oscillator: { iterations: 40, factor: 0.7 },
    pendulum: { iterations: 40, factor: 0.95 },
  };
  for (const name of EXAMPLE_NAMES) {
    await t.step(name, async () => {
      const { data } = await loadExperimentData(name);
      const config = experimentConfig(name);
      const { iterations, factor } = runs[name];
      const result = await train({ config, data, iterations });
      assert.equal(result.status, "completed");
      assert.equal(result.history.length, iterations);
      const first = result.history[0].loss;
      const best = result.state.bestLoss!;
      assert.ok(best < factor * first, `${name}: best ${best} vs first ${first}`);
      assert.ok(result.gradient!.peakBytes > 0);
      assert.ok(result.gradient!.maxReconstructionError! < 1e-9);
    });
  }
});

Deno.test("the loss is the MSE of the model at the data points after the first", async () => {
  const data = whiteDwarfData({ points: 11 });
  for (const steps of [10, 20, 5]) {
    const { config } = smallWhiteDwarf({ steps });
    const state = initialState(config);
    const result = await train({ config, data, iterations: 1 });
    const { ys } = predict(config, state.params, data);
    const align = alignSteps(11, steps);
    const model: number[] = [], target: number[] = [];
    for (let row = align.pointStride; row < 11; row += align.pointStride) {
      const k = (row / align.pointStride) * align.stepsPerPoint;
      model.push(ys[2 * k], ys[2 * k + 1]);
      target.push(data.ys[2 * row], data.ys[2 * row + 1]);
    }
    const expected = mseLoss(Float64Array.from(model), Float64Array.from(target));
    assert.ok(
      Math.abs(result.history[0].loss - expected) < 1e-12 * expected,
      `steps ${steps}: ${result.history[0].loss} vs ${expected}`,
    );
  }
});

Deno.test("determinism: the same seed gives bit-identical losses and parameters", async () => {
  const { data, config } = smallWhiteDwarf();
  const a = await train({ config, data, iterations: 8 });
  const b = await train({ config, data, iterations: 8 });
  assert.deepEqual(a.state.losses, b.state.losses);
  assert.ok(a.state.losses.every((x, i) => Object.is(x, b.state.losses[i])));
  assert.deepEqual(a.state.params, b.state.params);
  const c = await train({ config: { ...config, seed: 1 }, data, iterations: 8 });
  assert.notDeepEqual(c.state.losses, a.state.losses);
});

Deno.test("resume: k iterations, save, k more equals 2k uninterrupted (via model.json)", async () => {
  const { data, config } = smallWhiteDwarf({
    schedule: { kind: "cosine", iterations: 10, warmup: 2, minLr: 1e-4 },
    clip: 1,
  });
  const whole = await train({ config, data, iterations: 10 });
  const first = await train({ config, data, iterations: 5 });
  const model = modelFromState(modelConfig(config, data), first.state, {
    plannedIterations: 5,
    status: first.status,
    reason: null,
    gradient: first.gradient,
  });
  const reread = parseModelFile(serializeModel(model), "model.json");
  const rest = await train({
    config: reread.config,
    data,
    iterations: 5,
    resume: stateFromModel(reread),
  });
  assert.deepEqual(rest.state.losses, whole.state.losses);
  assert.deepEqual(rest.state.params, whole.state.params);
  assert.deepEqual(rest.state.optimizer, whole.state.optimizer);
  assert.deepEqual(rest.state.bestParams, whole.state.bestParams);
  assert.equal(rest.state.bestLoss, whole.state.bestLoss);
  assert.equal(rest.history.length, 10);
  assert.equal(rest.iterationsRun, 5);
});

Deno.test("minibatches of trajectories: deterministic and resumable", async () => {
  const trajectories = [1, 2, 3].map((seed) => simulateOscillator({ seed, points: 51 }));
  const config = defaultConfig({
    mlp: {
      dim: 4,
      widths: [6],
      activation: "tanh",
      finalActivation: "identity",
      timeDependent: false,
    },
    steps: 50,
    batch: 2,
  });
  const whole = await train({ config, data: trajectories, iterations: 6 });
  const again = await train({ config, data: trajectories, iterations: 6 });
  assert.deepEqual(whole.state.losses, again.state.losses);
  const first = await train({ config, data: trajectories, iterations: 3 });
  const rest = await train({ config, data: trajectories, iterations: 3, resume: first.state });
  assert.deepEqual(rest.state.losses, whole.state.losses);
  assert.deepEqual(rest.state.params, whole.state.params);
  // Full batch differs from minibatches.
  const full = await train({ config: { ...config, batch: 3 }, data: trajectories, iterations: 6 });
  assert.notDeepEqual(full.state.losses, whole.state.losses);
  await assert.rejects(
    train({ config: { ...config, batch: 4 }, data: trajectories, iterations: 1 }),
    /batch.*4.*at most 3/,
  );
});

Deno.test("stopping between iterations keeps a resumable state", async () => {
  const { data, config } = smallWhiteDwarf();
  const whole = await train({ config, data, iterations: 6 });
  let calls = 0;
  const stopped = await train({
    config,
    data,
    iterations: 6,
    shouldStop: () => ++calls > 2,
  });
  assert.equal(stopped.status, "interrupted");
  assert.equal(stopped.state.iteration, 2);
  const rest = await train({ config, data, iterations: 4, resume: stopped.state });
  assert.deepEqual(rest.state.params, whole.state.params);
});

Deno.test("divergence stops with a reason, keeps the last good parameters, suggests remedies", async () => {
  // A linear field y' = A y with a huge learning rate: the second iteration's
  // parameters make RK4 overflow.
  const data = whiteDwarfData({ points: 101 });
  const config = defaultConfig({
    mlp: {
      dim: 2,
      widths: [],
      activation: "identity",
      finalActivation: "identity",
      timeDependent: false,
    },
    steps: 100,
    lr: 1e4,
  });
  const start = initialState(config);
  const result = await train({ config, data, iterations: 5 });
  assert.equal(result.status, "diverged");
  assert.match(result.reason!, /loss is (NaN|Infinity) at iteration 2/);
  // The last iteration with a finite loss and gradient was the first: its
  // parameters (the initial ones) are kept, before its update.
  assert.equal(result.state.iteration, 0);
  assert.deepEqual(result.state.params, start.params);
  assert.equal(result.state.losses.length, 0);
  assert.ok(result.remedies.some((r) => /smaller step/.test(r)));
  assert.ok(result.remedies.some((r) => /coupling/.test(r)));
  assert.ok(result.remedies.some((r) => /weight decay/.test(r)));
  assert.ok(result.state.params.every(Number.isFinite));

  // Diverging from the start: nothing done, initial parameters kept.
  const huge: TrainState = { ...start, params: start.params.map((p) => p * 1e5) };
  const early = await train({ config: { ...config, lr: 1e-3 }, data, iterations: 3, resume: huge });
  assert.equal(early.status, "diverged");
  assert.match(early.reason!, /iteration 1/);
  assert.deepEqual(early.state.params, huge.params);
});

Deno.test("the gradient methods train alike; the reversible one holds the least memory", async () => {
  const { data, config } = smallWhiteDwarf();
  const plain = { ...config, scheme: "plain" as const };
  const direct = await train({ config: { ...plain, gradient: "direct" }, data, iterations: 4 });
  const ckpt = await train({ config: { ...plain, gradient: "checkpointed" }, data, iterations: 4 });
  for (let i = 0; i < 4; i++) {
    const a = direct.state.losses[i], b = ckpt.state.losses[i];
    assert.ok(Math.abs(a - b) <= 1e-12 * a, `iteration ${i + 1}: ${a} vs ${b}`);
  }
  const rev = await train({ config, data, iterations: 4 });
  const revDirect = await train({ config: { ...config, gradient: "direct" }, data, iterations: 4 });
  for (let i = 0; i < 4; i++) {
    const a = rev.state.losses[i], b = revDirect.state.losses[i];
    assert.ok(Math.abs(a - b) <= 1e-10 * a, `iteration ${i + 1}: ${a} vs ${b}`);
  }
  assert.ok(rev.gradient!.peakBytes < revDirect.gradient!.peakBytes);
  assert.equal(ckpt.gradient!.method, "checkpointed");
  await assert.rejects(
    train({ config: { ...plain, gradient: "reversible" }, data, iterations: 1 }),
    /reversible gradient needs a reversible scheme/,
  );
});

Deno.test("adaptive steps: outputs at the data times, fixed-step solvers refused", async () => {
  const { data } = await loadExperimentData("pendulum");
  const config = experimentConfig("pendulum");
  const result = await train({ config, data, iterations: 2 });
  assert.equal(result.status, "completed");
  assert.ok(result.gradient!.stepsPerIteration > 0);
  const fit = predict(config, result.state.params, data);
  assert.deepEqual(fit.ts, data.ts);
  await assert.rejects(
    train({ config: { ...config, solver: "rk4" }, data, iterations: 1 }),
    /embedded error estimate/,
  );
  const tight = { ...config, adaptive: { rtol: 1e-12, atol: 1e-12, maxSteps: 5 } };
  const failed = await train({ config: tight, data, iterations: 2 });
  assert.equal(failed.status, "diverged");
  assert.match(failed.reason!, /maximum number of steps \(5\)/);
  assert.ok(failed.remedies.some((r) => /tolerances/.test(r)));
});

Deno.test("model.json: round trip through a file", async () => {
  const { data, config } = smallWhiteDwarf();
  const result = await train({ config, data, iterations: 3 });
  const model = modelFromState(modelConfig(config, data), result.state, {
    plannedIterations: 3,
    status: result.status,
    reason: null,
    gradient: result.gradient,
  });
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.json`;
    await writeModelFile(path, model);
    const back = await readModelFile(path);
    assert.deepEqual(back, model);
    assert.deepEqual(stateFromModel(back).params, result.state.params);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model.json: bad files are refused with the file and the problem named", async () => {
  const { data, config } = smallWhiteDwarf();
  const result = await train({ config, data, iterations: 2 });
  const model = modelFromState(modelConfig(config, data), result.state, {
    plannedIterations: 2,
    status: "completed",
    reason: null,
    gradient: result.gradient,
  });
  const text = serializeModel(model);
  const edit = (change: (m: Record<string, unknown>) => void): string => {
    const m = JSON.parse(text);
    change(m);
    return JSON.stringify(m);
  };
  const cases: Array<[string, string, RegExp]> = [
    ["truncated", text.slice(0, text.length / 2), /not valid JSON.*truncated or damaged/],
    ["empty", "", /not valid JSON \(the file is empty\)/],
    ["not a model", '{"hello": 1}', /not a revode model file: "format" is missing/],
    ["array", "[1, 2, 3]", /not a revode model file/],
    ["newer version", edit((m) => m.version = 2), /version 2 is not supported.*newer revode/],
    ["version as text", edit((m) => m.version = "1"), /version "1" is not supported/],
    [
      "param as text",
      edit((m) => (m.params as unknown[])[3] = "x"),
      /params\[3\] is "x"; expected a finite number/,
    ],
    [
      "params cut",
      edit((m) => (m.params as unknown[]).pop()),
      /params is an array of length 49; expected an array of 50 numbers/,
    ],
    ["infinite", text.replace(/"lr": 0\.01/, '"lr": 1e999'), /config\.lr is Infinity/],
    ["solver", edit((m) => (m.config as Record<string, unknown>).solver = "rk5"), /solver.*"rk5"/],
    [
      "coupling",
      edit((m) => (m.config as Record<string, unknown>).coupling = 1.5),
      /config\.coupling is 1\.5; expected a finite number in \(0, 1\]/,
    ],
    [
      "widths",
      edit((m) => (m.config as Record<string, Record<string, unknown>>).mlp.widths = [-3]),
      /config\.mlp is invalid: .*widths\[0\].*-3/,
    ],
    [
      "step count",
      edit((m) => (m.optimizer as Record<string, unknown>).step = 7),
      /optimizer\.step is 7; expected 2, the iterations done/,
    ],
    [
      "negative v",
      edit((m) => (m.optimizer as Record<string, number[]>).v[0] = -1),
      /optimizer\.v\[0\] is -1/,
    ],
    [
      "history",
      edit((m) => (m.training as Record<string, Record<string, unknown>>).history.loss = [1]),
      /training\.history\.loss is an array of length 1; expected an array of 2 numbers/,
    ],
    ["missing best", edit((m) => delete m.best), /best is missing; expected an object/],
  ];
  for (const [name, bad, pattern] of cases) {
    assert.throws(
      () => parseModelFile(bad, "runs/x/model.json"),
      (error) => {
        assert.ok(error instanceof ModelFileError, name);
        assert.ok(error.message.startsWith("runs/x/model.json: "), `${name}: ${error.message}`);
        assert.match(error.message, pattern, name);
        return true;
      },
    );
  }
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readModelFile(`${dir}/absent.json`), /absent\.json: no such file/);
    await assert.rejects(readModelFile(dir), /is a directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a drifting reversible backward pass stops the run and keeps the state before it", async () => {
  // λ = 0.98 over 1000 steps is at the edge of N·(1 − λ) ≈ 20; a large
  // learning rate soon gives parameters whose reconstruction drifts past 1e-6.
  const { data } = await loadExperimentData("white-dwarf");
  const config = experimentConfig("white-dwarf", { coupling: 0.98, lr: 0.2 });
  const result = await train({ config, data, iterations: 20 });
  assert.equal(result.status, "diverged");
  assert.match(
    result.reason!,
    /^the reversible backward pass could not rebuild the forward solve at iteration (\d+) \(loss [\d.e-]+\): a rebuilt state is [\d.]+e-\d+ \(relative\) off/,
  );
  const at = Number(/iteration (\d+)/.exec(result.reason!)![1]);
  // The iterations before the drifting one completed, and are all kept.
  assert.equal(result.state.iteration, at - 1);
  assert.equal(result.state.losses.length, at - 1);
  assert.equal(result.state.optimizer.step, at - 1);
  assert.ok(result.state.params.every(Number.isFinite));
  // The library names the configuration's keys; the CLI renders the same remedies with its flags.
  assert.equal(result.remedyKind, "drift");
  assert.match(result.remedies[0], /\(coupling; now 0\.98; e\.g\. 0\.995/);
  assert.ok(!result.remedies.some((r) => r.includes("--")));
  const flagged = remediesOf(result.remedyKind, config, flagNames);
  assert.match(flagged[0], /--coupling; now 0\.98; e\.g\. 0\.995/);
  assert.ok(flagged.some((r) => /--gradient checkpointed/.test(r)));
  assert.ok(!flagged.some((r) => /weight decay|checkpointEvery/.test(r)));
  // The kept state goes on, with a gradient that stores states, exactly as
  // an uninterrupted run with that gradient from there would.
  const direct = { ...config, gradient: "direct" as const };
  const more = await train({ config: direct, data, iterations: 1, resume: result.state });
  assert.equal(more.status, "completed");
  assert.equal(more.state.iteration, at);
});

Deno.test("divergence remedies keep a suggested coupling within the reversible gradient's N·(1 − λ) limit", () => {
  const { config: small } = smallWhiteDwarf();
  const mlp = small.mlp;
  const coupling = (config: TrainConfig) =>
    divergenceRemedies(config, flagNames).find((r) => r.includes("--coupling"))!;
  // 1000 steps: λ = 0.9 would make N·(1 − λ) = 100; the suggestion stays at or above 0.98.
  const reversible = coupling(defaultConfig({ mlp, steps: 1000 }));
  assert.match(reversible, /e\.g\. 0\.99\)/);
  assert.match(reversible, /λ ≥ 0\.98 here/);
  assert.ok(!/0\.9 or 0\.5/.test(reversible), reversible);
  // Already at the limit: only with a gradient that stores states.
  const edge = coupling(defaultConfig({ mlp, steps: 1000, coupling: 0.98 }));
  assert.match(edge, /together with --gradient direct or checkpointed/);
  // Other gradients are not limited by the reconstruction.
  assert.match(coupling(defaultConfig({ mlp, steps: 1000, gradient: "direct" })), /0\.9 or 0\.5/);
});
