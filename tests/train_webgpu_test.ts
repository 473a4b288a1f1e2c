/**
 * `deno task train --backend webgpu|auto` and `deno task experiments
 * --backend webgpu`: training on the WebGPU backend through the commands,
 * against the CPU backend. Runs on whatever adapter `navigator.gpu` gives —
 * in CI, Mesa's software `llvmpipe` — with few solver steps so that the file
 * stays fast there. Without an adapter the GPU tests are skipped with the
 * reason printed, unless `REVODE_REQUIRE_GPU=1`, in which case they fail.
 * The refusals and the CPU fallback need no adapter and always run.
 */

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { main as experimentsMain } from "../cli/experiments.ts";
import { gpuTests, relative } from "./gpu_harness.ts";
import { chooseBackend } from "../solvers/webgpu/runtime/device.ts";
import { gpuSolve } from "../solvers/webgpu/one_shot.ts";
import { configGpuSupport, createGpuTrainer, trainGpu } from "../training/webgpu/train.ts";
import { defaultConfig, schemeOf, type TrainConfig } from "../training/config.ts";
import { predict, train } from "../training/train.ts";
import { divergenceRemedies } from "../training/divergence.ts";
import { TrainingData } from "../training/data.ts";
import { readModelFile } from "../training/model_file.ts";
import type { ModelConfig } from "../training/model_format.ts";
import { parseModelFile } from "../training/model_parse.ts";
import { serializeModel } from "../training/model_serialize.ts";
import { modelFromState, stateFromModel } from "../training/model_state.ts";
import { loadExperimentData } from "../training/experiments.ts";
import { whiteDwarfData } from "../training/datasets/white_dwarf.ts";
import { simulateOscillator } from "../training/datasets/simulated.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { solve } from "../solvers/solve.ts";
import { reversible } from "../solvers/schemes/spec.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";
import { mseLoss } from "../training/loss.ts";
import {
  assertNoStack,
  type CliMain,
  interruptAfter,
  resumeAgainstWhole,
  runCli,
  runTask,
  taskCommand,
  withTempDir,
} from "./cli_harness.ts";

/** Runs a CLI (the training one by default) in-process. */
const run = (args: string[], m: CliMain = main) => runCli(m, args);

const gpuTest = gpuTests("train webgpu");

/** The white dwarf with 20 steps of 0.25 (every 50th data point): fast on a software adapter. */
const FAST = ["--steps", "20"];

/** A small white-dwarf problem for the library: 20 steps over 21 points, 3 → 8 → 2. */
function smallWhiteDwarf(overrides: Partial<TrainConfig> = {}) {
  const data = whiteDwarfData({ points: 21 });
  const config = defaultConfig({
    mlp: {
      dim: 2,
      widths: [8],
      activation: "tanh",
      finalActivation: "identity",
      timeDependent: true,
    },
    steps: 20,
    ...overrides,
  });
  return { data, config };
}

// --- No adapter needed -------------------------------------------------------------------

Deno.test("train webgpu: --backend nonsense is refused with the allowed list", async () => {
  for (const command of [main, experimentsMain]) {
    const { code, out, err } = await run(["--backend", "nonsense"], command);
    assert.equal(code, 2);
    assert.match(
      err,
      /^error: invalid value for --backend: "nonsense"\. Allowed: cpu, webgpu, auto\./,
    );
    assert.equal(out, "");
    assertNoStack(err);
  }
});

Deno.test(
  "train webgpu: --backend webgpu refuses what the GPU cannot run, with configGpuSupport's sentence",
  async () => {
    const cases: Array<[string[], Parameters<typeof configGpuSupport>[0]]> = [
      [["--example", "pendulum", "--gradient", "backsolve"], {
        solver: "bosh3",
        scheme: "reversible",
        gradient: "backsolve",
        adaptive: {},
      }],
      [[...FAST, "--gradient", "backsolve"], {
        solver: "rk4",
        scheme: "reversible",
        gradient: "backsolve",
      }],
      [[...FAST, "--scheme", "plain", "--gradient", "direct"], {
        solver: "rk4",
        scheme: "plain",
        gradient: "direct",
      }],
      [[...FAST, "--solver", "leapfrog"], {
        solver: "leapfrog",
        scheme: "reversible",
        gradient: "reversible",
      }],
    ];
    for (const [args, query] of cases) {
      const sentence = configGpuSupport(query)!;
      assert.ok(sentence !== null);
      const { code, out, err } = await run(["--backend", "webgpu", ...args]);
      assert.equal(code, 2, `${args.join(" ")}: ${err}`);
      assert.ok(
        err.includes(
          `--backend webgpu: ${sentence} Or train on the CPU: --backend cpu (or --backend auto).`,
        ),
        `${args.join(" ")}: ${err}`,
      );
      assert.equal(out, "");
      assertNoStack(err);
    }
    // The comparison refuses a baseline scheme the GPU lacks, and says why.
    const exp = await run(
      ["--backend", "webgpu", "--example", "pendulum", "--baseline-scheme", "plain"],
      experimentsMain,
    );
    assert.equal(exp.code, 2);
    assert.match(exp.err, /pendulum \/ bosh3: .*plain scheme runs on the CPU backend only/);
    assertNoStack(exp.err);
  },
);

Deno.test("train webgpu: --backend auto falls back to the CPU and says why", async () => {
  await withTempDir(async (dir) => {
    const { code, out, err } = await run([
      ...FAST,
      "--backend",
      "auto",
      "--scheme",
      "plain",
      "--gradient",
      "direct",
      "--iterations",
      "2",
      "--out",
      `${dir}/a`,
    ]);
    assert.equal(code, 0, err);
    assert.match(
      out,
      /backend: CPU \(float64\): --backend auto falls back to the CPU, as this configuration does not run on the GPU: the plain scheme runs on the CPU backend only/,
    );
    assert.doesNotMatch(out, /use --backend cpu/);
    const model = await readModelFile(`${dir}/a/model.json`);
    assert.equal(model.training.backend, "cpu");
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/a/summary.json`));
    assert.equal(summary.backend, "cpu");
    assert.equal(summary.device, "CPU (float64)");
  });
});

gpuTest(
  "--backend auto takes a hardware adapter, and the CPU over a software one",
  async (_, gpu) => {
    await withTempDir(async (dir) => {
      const { code, out, err } = await run([
        ...FAST,
        "--backend",
        "auto",
        "--iterations",
        "1",
        "--out",
        `${dir}/a`,
      ]);
      assert.equal(code, 0, err);
      const model = await readModelFile(`${dir}/a/model.json`);
      if (gpu.isFallback) {
        assert.match(
          out,
          /backend: CPU \(float64\): the WebGPU adapter found is a software one \(.+\), no faster than the CPU backend, so --backend auto falls back to the CPU \(--backend webgpu uses it anyway\)/,
        );
        assert.equal(model.training.backend, "cpu");
      } else {
        assert.match(out, /backend: WebGPU \(float32\) on /);
        assert.equal(model.training.backend, "webgpu");
      }
    });
    const soft = await chooseBackend("auto", { allowSoftware: true });
    assert.equal(soft.backend, "webgpu");
    assert.equal(soft.gpu?.isFallback, gpu.isFallback);
    soft.gpu?.device.destroy();
  },
);

Deno.test("train webgpu: model files without a backend read as CPU-trained", async () => {
  await withTempDir(async (dir) => {
    assert.equal((await run([...FAST, "--iterations", "1", "--out", `${dir}/a`])).code, 0);
    const text = await Deno.readTextFile(`${dir}/a/model.json`);
    const model = JSON.parse(text);
    assert.equal(model.training.backend, "cpu");
    delete model.training.backend;
    assert.equal(parseModelFile(JSON.stringify(model), "old.json").training.backend, "cpu");
    model.training.backend = "tpu";
    assert.throws(
      () => parseModelFile(JSON.stringify(model), "bad.json"),
      /bad\.json: training\.backend is "tpu"; expected one of "cpu", "webgpu"/,
    );
  });
});

Deno.test("train webgpu: without WebGPU, --backend webgpu fails saying how to get it", async () => {
  // A process whose runtime lacks navigator.gpu, with the train task's permissions.
  await withTempDir(async (dir) => {
    const preload = `${dir}/no_webgpu.ts`;
    await Deno.writeTextFile(
      preload,
      'Object.defineProperty(navigator, "gpu", { value: undefined, configurable: true });\n',
    );
    const train = (backend: string) =>
      runTask(
        "train",
        ["--backend", backend, ...FAST, "--iterations", "1", "--out", `${dir}/${backend}`],
        { flags: ["--preload", preload] },
      );
    const gpu = await train("webgpu");
    assert.equal(gpu.code, 1, gpu.err);
    assert.match(gpu.err, /^error: WebGPU backend unavailable: .*navigator\.gpu/);
    assert.match(gpu.err, /mesa-vulkan-drivers.*--backend auto/);
    assertNoStack(gpu.err);
    const auto = await train("auto");
    assert.equal(auto.code, 0, auto.err);
    assert.match(auto.out, /no usable WebGPU adapter .*--backend auto falls back to the CPU/);
    assert.equal((await readModelFile(`${dir}/auto/model.json`)).training.backend, "cpu");
  });
});

// --- On the GPU ---------------------------------------------------------------------------

gpuTest(
  "--backend webgpu trains the white dwarf, writes every file; the model evaluates on the CPU",
  async (device) => {
    await withTempDir(async (dir) => {
      const out = `${dir}/run`;
      const r = await run(["--backend", "webgpu", ...FAST, "--iterations", "3", "--out", out]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /backend: WebGPU \(float32\) on /);
      assert.match(r.out, /Done: 3 iterations/);
      assert.match(r.out, /kernels: whole-solve/);
      const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      assert.deepEqual(names, [
        "fit.svg",
        "history.csv",
        "loss.svg",
        "model.json",
        "model.onnx",
        "report.html",
        "residuals.svg",
        "summary.json",
      ]);
      const model = await readModelFile(`${out}/model.json`);
      assert.equal(model.training.backend, "webgpu");
      assert.equal(model.training.iterations, 3);
      assert.equal(model.training.status, "completed");
      assert.equal(model.optimizer.step, 3);
      assert.equal(model.config.steps, 20);
      assert.ok(model.training.gradient!.peakBytes > 0);
      assert.ok(model.training.gradient!.maxReconstructionError! < 1e-5);
      const csv = (await Deno.readTextFile(`${out}/history.csv`)).trim().split("\n");
      assert.equal(csv.length, 4);
      assert.equal(Number(csv[3].split(",")[1]), model.training.history.loss[2]);
      const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
      assert.equal(summary.backend, "webgpu");
      assert.match(summary.device, /^WebGPU \(float32\) on /);
      assert.equal(summary.bestLoss, model.best.loss);
      const html = await Deno.readTextFile(`${out}/report.html`);
      assert.ok(html.includes("WebGPU (float32)"));
      const onnx = await Deno.readFile(`${out}/model.onnx`);
      assert.ok(new TextDecoder().decode(onnx).includes("revode"));

      // The trained model on the CPU (solve()) against the GPU's own outputs.
      const { data } = await loadExperimentData("white-dwarf");
      const config = model.config;
      const training = new TrainingData(config, data);
      const trainer = createGpuTrainer(device, config, training, stateFromModel(model));
      try {
        trainer.step(); // outputs of the forward solve at the saved parameters
        const gpuYs = await trainer.readOutputs();
        const cpu = solve({
          field: Mlp.fromJSON(config.mlp),
          y0: data.ys.slice(0, 2),
          params: Float64Array.from(model.params),
          scheme: schemeOf(config),
          t0: config.t0,
          t1: config.t1,
          steps: config.steps,
          saveAt: { steps: true },
        });
        const err = relative(gpuYs, cpu.ys);
        console.log(`  GPU-trained model: GPU outputs vs CPU solve(), ${err.toExponential(1)}`);
        assert.ok(err < 1e-5, `GPU outputs vs CPU: ${err}`);
        // The GPU's loss at the saved parameters is the CPU's MSE against the same targets.
        const cpuLoss = mseLoss(cpu.ys, training.batch(model.training.iterations).targets);
        const gpuLoss = await trainer.readLoss();
        assert.ok(Math.abs(gpuLoss - cpuLoss) < 1e-5 * cpuLoss, `loss ${gpuLoss} vs ${cpuLoss}`);
      } finally {
        trainer.destroy();
      }
    });
  },
);

gpuTest("a CPU-trained model evaluates on the GPU (gpuSolve) as on the CPU", async (device) => {
  await withTempDir(async (dir) => {
    const r = await run(["--backend", "cpu", ...FAST, "--iterations", "3", "--out", `${dir}/a`]);
    assert.equal(r.code, 0, r.err);
    const model = await readModelFile(`${dir}/a/model.json`);
    assert.equal(model.training.backend, "cpu");
    const config = model.config;
    const params = Float64Array.from(model.params);
    const { data } = await loadExperimentData("white-dwarf");
    const cpu = predict(config, params, data);
    const gpu = await gpuSolve(device, {
      field: config.mlp,
      params,
      scheme: reversible(tableaux[config.solver], { coupling: config.coupling }),
      t0: config.t0,
      t1: config.t1,
      steps: config.steps,
      saveAt: { t0: true, steps: true },
      y0: Float64Array.from(config.y0),
    });
    assert.deepEqual(gpu.ts, cpu.ts);
    const err = relative(gpu.ys, cpu.ys);
    console.log(`  CPU-trained model: gpuSolve vs predict(), ${err.toExponential(1)}`);
    assert.ok(err < 1e-5, `gpuSolve vs CPU: ${err}`);
  });
});

gpuTest("the loss decreases over 20 iterations on a small configuration", async (device) => {
  const { data, config } = smallWhiteDwarf();
  const result = await trainGpu({ gpu: device, config, data, iterations: 20 });
  assert.equal(result.status, "completed");
  assert.equal(result.history.length, 20);
  const first = result.history[0].loss;
  const best = result.state.bestLoss!;
  assert.ok(best < 0.1 * first, `best ${best} vs first ${first}`);
  assert.ok(result.history[19].loss < first);
  assert.equal(result.state.optimizer.step, 20);
  assert.equal(result.iterationsRun, 20);
});

gpuTest(
  "GPU training losses agree with CPU training losses on the same seed (f32 tolerance)",
  async (device) => {
    const { data, config } = smallWhiteDwarf({ clip: 1 });
    const iterations = 8;
    const gpu = await trainGpu({ gpu: device, config, data, iterations });
    const cpu = await train({ config, data, iterations });
    const errors = gpu.state.losses.map((l, i) =>
      Math.abs(l - cpu.state.losses[i]) / cpu.state.losses[i]
    );
    console.log(
      `  GPU vs CPU loss, relative, iterations 1-${iterations}: ${
        errors.map((e) => e.toExponential(1)).join(" ")
      }; parameters after ${iterations}: ${
        relative(gpu.state.params, cpu.state.params).toExponential(1)
      }`,
    );
    errors.forEach((e, i) => assert.ok(e < 1e-4, `iteration ${i + 1}: ${e}`));
    assert.ok(relative(gpu.state.params, cpu.state.params) < 1e-3);
    assert.equal(gpu.state.bestIteration, cpu.state.bestIteration);
    assert.equal(gpu.gradient!.stepsPerIteration, cpu.gradient!.stepsPerIteration);
    assert.equal(gpu.gradient!.evaluationsPerIteration, cpu.gradient!.evaluationsPerIteration);
    assert.equal(gpu.gradient!.vjpsPerIteration, cpu.gradient!.vjpsPerIteration);

    // Minibatches of trajectories: the GPU draws the CPU's, and a resumed run continues exactly.
    const trajectories = [1, 2, 3].map((seed) => simulateOscillator({ seed, points: 11 }));
    const osc = defaultConfig({
      mlp: {
        dim: 4,
        widths: [6],
        activation: "tanh",
        finalActivation: "identity",
        timeDependent: false,
      },
      steps: 10,
      batch: 2,
    });
    const whole = await trainGpu({ gpu: device, config: osc, data: trajectories, iterations: 4 });
    const cpuBatches = await train({ config: osc, data: trajectories, iterations: 4 });
    // a narrow network: the whole-solve kernels by default; the per-step ones when asked
    assert.equal(whole.solveKernel, "whole");
    const perStep = await trainGpu({
      gpu: device,
      config: osc,
      data: trajectories,
      iterations: 4,
      solveKernel: "steps",
    });
    assert.equal(perStep.solveKernel, "steps");
    assert.ok(relative(perStep.state.params, whole.state.params) < 1e-5);
    whole.state.losses.forEach((l, i) => {
      const e = Math.abs(l - cpuBatches.state.losses[i]) / cpuBatches.state.losses[i];
      assert.ok(e < 1e-4, `minibatch iteration ${i + 1}: ${e}`);
    });
    const part = await trainGpu({ gpu: device, config: osc, data: trajectories, iterations: 2 });
    const rest = await trainGpu({
      gpu: device,
      config: osc,
      data: trajectories,
      iterations: 2,
      resume: part.state,
    });
    assert.deepEqual(rest.state.losses, whole.state.losses);
    assert.deepEqual(rest.state.params, whole.state.params);
  },
);

gpuTest(
  "--solve-kernel: steps trains as whole does; whole where it does not apply is refused",
  async () => {
    await withTempDir(async (dir) => {
      const losses: number[][] = [];
      for (const kind of ["whole", "steps"]) {
        const out = `${dir}/${kind}`;
        const args = ["--backend", "webgpu", ...FAST, "--iterations", "3", "--solve-kernel", kind];
        const r = await run([...args, "--out", out]);
        assert.equal(r.code, 0, r.err);
        assert.match(
          r.out,
          kind === "whole" ? /kernels: whole-solve/ : /kernels: per stage and step/,
        );
        losses.push((await readModelFile(`${out}/model.json`)).training.history.loss);
      }
      losses[0].forEach((l, i) => assert.ok(Math.abs(l - losses[1][i]) <= 1e-5 * l, `${losses}`));
      const tooWide = ["--backend", "webgpu", ...FAST, "--width", "40", "--solve-kernel", "whole"];
      const wide = await run([...tooWide, "--out", `${dir}/wide`]);
      assert.equal(wide.code, 2, wide.err);
      assert.match(wide.err, /--solve-kernel whole, but the network does not fit one invocation/);
      assertNoStack(wide.err);
      assert.equal(await Deno.stat(`${dir}/wide`).then(() => true, () => false), false);
    });
  },
);

gpuTest("resume on the GPU gives the same losses as an uninterrupted GPU run", async () => {
  await withTempDir(async (dir) => {
    const base = ["--backend", "webgpu", ...FAST, "--lr", "0.02"];
    // The resumed half names no --backend: the model's own backend.
    const { resumed, split, whole } = await resumeAgainstWhole(main, dir, base, 3);
    assert.match(resumed.out, /resuming .*a\/model\.json at iteration 3/);
    assert.match(resumed.out, /backend: WebGPU \(float32\)/);
    assert.equal(split.training.backend, "webgpu");
    assert.deepEqual(split.training.history.loss, whole.training.history.loss);
    assert.deepEqual(split.params, whole.params);
    assert.deepEqual(split.optimizer, whole.optimizer);
    assert.deepEqual(split.best, whole.best);
  });
});

gpuTest(
  "divergence stops with the CPU's reason and remedies, keeping a good state",
  async (device) => {
    // A linear field with a huge learning rate: the second iteration's parameters overflow.
    const { data, config } = smallWhiteDwarf({
      mlp: {
        dim: 2,
        widths: [],
        activation: "identity",
        finalActivation: "identity",
        timeDependent: false,
      },
      lr: 1e4,
    });
    const result = await trainGpu({ gpu: device, config, data, iterations: 5 });
    assert.equal(result.status, "diverged");
    assert.match(
      result.reason!,
      /^the loss is (NaN|Infinity) at iteration 2: the solution blew up$/,
    );
    assert.deepEqual(result.remedies, divergenceRemedies(config));
    // The GPU skipped iteration 2's update: the state before it is kept.
    assert.equal(result.state.iteration, 1);
    assert.equal(result.state.losses.length, 1);
    assert.equal(result.state.optimizer.step, 1);
    assert.ok(result.state.params.every(Number.isFinite));
    const model = modelFromState(
      {
        ...config,
        example: null,
        t0: 0,
        t1: 5,
        y0: [1, 0],
        data: { source: data.source, path: null, simulated: false, points: 21 },
      } satisfies ModelConfig,
      result.state,
      {
        plannedIterations: 5,
        status: result.status,
        reason: result.reason,
        gradient: result.gradient,
        backend: "webgpu",
      },
    );
    assert.deepEqual(parseModelFile(serializeModel(model), "m.json"), model);
  },
);

gpuTest("as a process with the task's permissions; Ctrl-C saves the GPU state", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/interrupted`;
    const args = [
      "--backend",
      "webgpu",
      ...FAST,
      "--iterations",
      "100000",
      "--restarts",
      "1",
      "--out",
      out,
    ];
    const child = taskCommand("train", args).spawn();
    const { code, before, after, err } = await interruptAfter(child, "iteration 1/", "SIGINT");
    const seen = before + after;
    assert.equal(code, 130, seen + err);
    assert.match(seen, /Interrupted \(Ctrl-C\) after iteration \d+; the state is saved/);
    const model = await readModelFile(`${out}/model.json`);
    assert.equal(model.training.status, "interrupted");
    assert.equal(model.training.backend, "webgpu");
    assert.ok(model.training.iterations >= 1 && model.training.iterations < 100000);
    assert.equal(model.optimizer.step, model.training.iterations);
    assert.equal(model.training.history.loss.length, model.training.iterations);
  });
});

gpuTest("experiments --backend webgpu: the comparison on the GPU", async () => {
  const { code, out, err } = await run(
    [
      "--backend",
      "webgpu",
      "--example",
      "white-dwarf",
      "--solver",
      "euler",
      "--steps",
      "20",
      "--iterations",
      "2",
      "--warmup",
      "0",
      "--json",
    ],
    experimentsMain,
  );
  assert.equal(code, 0, err);
  assert.match(err, /float32 WebGPU on /);
  const runs = JSON.parse(out);
  assert.deepEqual(runs.map((r: { method: string }) => r.method), ["reversible", "checkpointed"]);
  for (const r of runs) {
    assert.equal(r.backend, "webgpu");
    assert.equal(r.iterations, 2);
    assert.equal(r.steps, 20);
    assert.equal(r.status, "completed");
    // both in the whole-solve kernels (a narrow network, fixed steps)
    assert.equal(r.solveKernel, "whole");
  }
  // Checkpointing runs on the reversible scheme on the GPU; the same losses, more memory.
  assert.equal(runs[1].scheme, "reversible");
  assert.equal(runs[1].checkpoints, defaultCheckpoints(20));
  assert.equal(runs[0].bestLoss, runs[1].bestLoss);
  assert.ok(runs[0].peakBytes < runs[1].peakBytes);
});

gpuTest("experiments --backend webgpu: the pendulum's adaptive comparison on the GPU", async () => {
  const { code, out, err } = await run(
    [
      "--backend",
      "webgpu",
      "--example",
      "pendulum",
      "--iterations",
      "1",
      "--warmup",
      "0",
      "--json",
    ],
    experimentsMain,
  );
  assert.equal(code, 0, err);
  const runs = JSON.parse(out);
  assert.deepEqual(runs.map((r: { method: string }) => r.method), ["reversible", "checkpointed"]);
  for (const r of runs) {
    assert.equal(r.backend, "webgpu");
    assert.equal(r.adaptive, true);
    assert.equal(r.status, "completed");
    assert.ok(r.steps > 5, `${r.steps} steps`);
    assert.equal(r.solveKernel, "steps"); // adaptive steps have no whole-solve form
  }
  // the same steps and loss (exact gradients of the same solve); checkpointing holds more
  assert.equal(runs[0].steps, runs[1].steps);
  assert.equal(runs[0].bestLoss, runs[1].bestLoss);
  assert.ok(runs[0].peakBytes < runs[1].peakBytes);
});
