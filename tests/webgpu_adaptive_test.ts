/**
 * Adaptive steps on the WebGPU backend against the CPU backend: the same
 * accepted grid and outputs for one trajectory, gradients equal to the CPU's
 * on the GPU's grid, a batch whose shared steps satisfy every trajectory's
 * tolerance, failures reported as the CPU reports them, gated dispatches,
 * and training the pendulum experiment's configuration on the GPU.
 *
 * Run serially with the other GPU tests; with REVODE_REQUIRE_GPU=1 they
 * fail, rather than skip, when no adapter is found.
 */

import assert from "node:assert/strict";
import { gpuTests, relative } from "./gpu_harness.ts";
import { GpuContext } from "../solvers/webgpu/runtime/context.ts";
import { Gate } from "../solvers/webgpu/runtime/gate.ts";
import { Recorder } from "../solvers/webgpu/runtime/recorder.ts";
import { GpuMlp } from "../solvers/webgpu/fields/mlp.ts";
import { GpuReversibleScheme } from "../solvers/webgpu/schemes/reversible.ts";
import { solveCalls } from "../solvers/webgpu/runtime/calls.ts";
import { checkTableau } from "../solvers/tableau.ts";
import { gpuGradient, gpuSolve } from "../solvers/webgpu/one_shot.ts";
import { GpuSolver } from "../solvers/webgpu/solve.ts";
import { GpuTrainer } from "../training/webgpu/trainer.ts";
import { linearMain } from "../solvers/webgpu/runtime/wgsl.ts";
import { configGpuSupport, createGpuTrainer, trainGpu } from "../training/webgpu/train.ts";
import { TrainingData } from "../training/data.ts";
import { main } from "../cli/train.ts";
import { readModelFile } from "../training/model_file.ts";
import { stateFromModel } from "../training/model_state.ts";
import { simulatePendulum } from "../training/datasets/simulated.ts";
import { defaultConfig } from "../training/config.ts";
import { initialState } from "../training/state.ts";
import { predict, train } from "../training/train.ts";
import { Mlp, type MlpOptions } from "../solvers/fields/mlp.ts";
import { buildScheme } from "../solvers/schemes/spec.ts";
import { MemoryMeter } from "../solvers/memory.ts";
import { scaledErrorNorm } from "../solvers/controller.ts";
import {
  bosh3,
  dopri5,
  type GradientSpec,
  pid,
  reversible,
  rk4,
  type SaveAt,
  solve,
  tsit5,
} from "../mod.ts";

const gpuTest = gpuTests("webgpu adaptive");

const FIELD: MlpOptions = { dim: 2, widths: [12], activation: "tanh", seed: 3 };
const TS = [0.1, 0.35, 0.8, 1.3, 2];

gpuTest(
  "one trajectory: the CPU's steps and outputs (bosh3 exactly on llvmpipe; dopri5, tsit5 up to f32 round-off)",
  async (device, gpu) => {
    for (
      const [tableau, kernels, tol] of [
        [bosh3, "fused", 1e-5],
        [dopri5, "layered", 1e-5],
        [tsit5, "fused", 1e-5],
      ] as const
    ) {
      const mlp = new Mlp(FIELD);
      const TS3 = TS.map((t) => 3 * t);
      const params = mlp.init(1);
      const y0 = Float64Array.of(0.8, -0.4);
      const controller = pid({ rtol: tol, atol: tol, maxSteps: 300 });
      const onCpu = (saveAt: SaveAt) =>
        solve({
          field: mlp,
          params,
          y0,
          scheme: reversible(tableau),
          t0: 0,
          t1: 6,
          controller,
          saveAt,
        });
      const cpu = onCpu({ t0: true, ts: TS3 });
      const solver = GpuSolver.create(device, {
        field: mlp,
        params,
        scheme: reversible(tableau),
        t1: 6,
        y0,
        kernels,
        controller,
        saveAt: { t0: true, ts: TS3 },
      });
      try {
        const rec = new Recorder(solver.ctx);
        solver.run.forward(rec);
        rec.submit();
        const run = (await solver.readAdaptive())!;
        const ys = await solver.readYs();
        const trajectory = cpu.trajectories![0];
        assert.equal(run.status, "success", tableau.name);
        assert.ok(run.accepted >= 4, `${tableau.name}: ${run.accepted} steps`);
        assert.equal(run.times[run.accepted], Math.fround(6));
        const err = relative(ys, cpu.ys);
        assert.equal(ys.length, (TS3.length + 1) * 2);
        // The f32 error estimate h Σ bError_i k_i cancels most of its digits
        // (it is ~rtol of the solution), so the GPU's step sizes differ from
        // the CPU's by ~1e-3 relative, and a decision near the end can flip.
        // Bosh3 (the pendulum's method) takes exactly the CPU's steps here on llvmpipe; a GPU
        // compiler may fuse multiply-adds in the estimate, which can flip one decision.
        const steps =
          `${run.accepted} + ${run.rejected} vs ${trajectory.accepted} + ${trajectory.rejected}`;
        const flips = gpu.isFallback ? 0 : 1;
        if (tableau === bosh3) {
          const off = (a: number, b: number) => Math.abs(a - b) <= flips;
          assert.ok(off(run.accepted, trajectory.accepted), `${tableau.name}: ${steps}`);
          assert.ok(off(run.rejected, trajectory.rejected), `${tableau.name}: ${steps}`);
          if (run.accepted === trajectory.accepted) {
            const cpuTimes = onCpu({ steps: true, t0: true }).ts;
            const dt = relative(run.times, cpuTimes);
            assert.ok(dt < 1e-2, `${tableau.name}: step times off by ${dt}`);
            assert.ok(err < 1e-5, `${tableau.name}: outputs off by ${err}`);
          } else assert.ok(err < 10 * tol, `${tableau.name}: outputs off by ${err}`);
        } else {
          assert.ok(Math.abs(run.accepted - trajectory.accepted) <= 1, `${tableau.name}: ${steps}`);
          // two grids, each within the tolerance of the solution
          assert.ok(err < 10 * tol, `${tableau.name}: outputs off by ${err}`);
        }
      } finally {
        solver.destroy();
      }
    }
  },
);

gpuTest(
  "every gradient method equals the CPU's on the GPU's accepted grid within 1e-4 (params, y0)",
  async (device, gpu) => {
    const mlp = new Mlp({ ...FIELD, timeDependent: true });
    const params = mlp.init(2);
    const y0 = Float64Array.of(0.5, 0.9);
    const controller = pid({ rtol: 1e-6, atol: 1e-6, maxSteps: 200 });
    const cot = Float64Array.from({ length: (TS.length + 1) * 2 }, (_, i) => Math.sin(i + 1));
    for (const dt0 of [undefined, 0.01]) {
      const gradient = (spec: GradientSpec) =>
        gpuGradient(device, {
          field: mlp,
          params,
          scheme: reversible(bosh3, { coupling: 0.99 }),
          t1: 2,
          y0,
          controller,
          ...(dt0 === undefined ? {} : { dt0 }),
          saveAt: { t0: true, ts: TS },
          cotangents: cot,
          gradient: spec,
        });
      const g = await gradient("reversible");
      const run = g.adaptive!;
      assert.equal(run.status, "success");
      const cpu = solve({
        field: mlp,
        params,
        y0,
        scheme: reversible(bosh3, { coupling: 0.99 }),
        grid: run.times,
        saveAt: { t0: true, ts: TS },
        gradient: "direct",
      });
      const cg = cpu.backward(cot);
      assert.ok(relative(g.ys, cpu.ys) < 1e-5, "outputs");
      const ep = relative(g.params, cg.params), ey = relative(g.y0, cg.y0);
      assert.ok(ep < 1e-4, `dt0 ${dt0}: params gradient off by ${ep}`);
      assert.ok(ey < 1e-4, `dt0 ${dt0}: y0 gradient off by ${ey}`);
      assert.ok(g.reconstructionError! < 1e-5, `reconstruction ${g.reconstructionError}`);
      // and the CPU's own adaptive reversible gradient (its grid agrees up to f32 round-off)
      const own = solve({
        field: mlp,
        params,
        y0,
        scheme: reversible(bosh3, { coupling: 0.99 }),
        t0: 0,
        t1: 2,
        controller,
        dt0,
        saveAt: { t0: true, ts: TS },
        gradient: "reversible",
      });
      // the same number of steps (on hardware, fused multiply-adds may flip one decision)
      const flips = Math.abs(own.trajectories![0].accepted - run.accepted);
      assert.ok(flips <= (gpu.isFallback ? 0 : 1), `${own.trajectories![0].accepted} steps`);
      const eo = relative(g.params, own.backward(cot).params);
      assert.ok(eo < 1e-4, `dt0 ${dt0}: against the CPU's adaptive gradient: ${eo}`);
      // the direct method tapes the same steps and gives the same gradient
      const direct = await gradient("direct");
      assert.deepEqual(direct.adaptive!.times, run.times);
      assert.deepEqual(direct.ys, g.ys);
      const dp = relative(direct.params, cg.params), dy = relative(direct.y0, cg.y0);
      assert.ok(dp < 1e-4 && dy < 1e-4, `dt0 ${dt0}: direct off by ${dp}, ${dy}`);
      assert.ok(relative(direct.params, g.params) < 1e-5, "direct against reversible");
      assert.equal(direct.reconstructionError, undefined);
      // and so does checkpointing, with one checkpoint, a few, or one per step
      for (const checkpoints of [1, 3, 200]) {
        const ckpt = await gradient({ method: "checkpointed", checkpoints });
        assert.deepEqual(ckpt.ys, g.ys);
        const cp = relative(ckpt.params, direct.params), cy = relative(ckpt.y0, direct.y0);
        assert.ok(cp < 1e-6 && cy < 1e-6, `c = ${checkpoints}: ${cp}, ${cy} from direct`);
      }
    }
  },
);

gpuTest(
  "a batch shares its steps: every trajectory meets its tolerance on every accepted step",
  async (device) => {
    const mlp = new Mlp(FIELD);
    const params = mlp.init(4);
    const y0 = Float64Array.of(0.8, -0.4, -1.5, 2, 0.1, 0.1);
    const controller = pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 400 });
    const g = await gpuGradient(device, {
      field: mlp,
      params,
      scheme: reversible(bosh3),
      t1: 2,
      y0,
      controller,
      saveAt: { t0: true, ts: TS },
      cotangents: new Float64Array((TS.length + 1) * 6).fill(1),
    });
    const times = g.adaptive!.times;
    assert.equal(g.adaptive!.status, "success");
    // replay the GPU's grid on the CPU, one trajectory at a time, with the error estimate
    let worstPerStep = 0;
    for (let b = 0; b < 3; b++) {
      const meter = new MemoryMeter();
      const { scheme } = buildScheme(reversible(bosh3), mlp, 1, meter);
      const state = [new Float64Array(2), new Float64Array(2)];
      scheme.init(0, y0.slice(2 * b, 2 * b + 2), params, state);
      const error = new Float64Array(2);
      let worst = 0;
      for (let n = 0; n + 1 < times.length; n++) {
        const before = state[0].slice();
        scheme.step(times[n], times[n + 1] - times[n], params, state, error);
        const e = scaledErrorNorm(controller, error, before, state[0]);
        assert.ok(e <= 1 + 1e-3, `trajectory ${b}, step ${n}: scaled error ${e}`);
        worst = Math.max(worst, e);
      }
      worstPerStep = Math.max(worstPerStep, worst);
      // each trajectory's outputs are the CPU's on that grid
      const cpu = solve({
        field: mlp,
        params,
        y0: y0.slice(2 * b, 2 * b + 2),
        scheme: reversible(bosh3),
        grid: times,
        saveAt: { t0: true, ts: TS },
      });
      const gpuRows = Float64Array.from(
        { length: cpu.ys.length },
        (_, i) => g.ys[Math.floor(i / 2) * 6 + 2 * b + (i % 2)],
      );
      assert.ok(relative(gpuRows, cpu.ys) < 1e-5, `trajectory ${b}: outputs`);
    }
    // the worst trajectory drives the steps: its errors come close to the tolerance
    assert.ok(worstPerStep > 0.1, `worst scaled error ${worstPerStep}`);
  },
);

gpuTest("failures: max_steps_reached and non_finite, as the CPU reports them", async (device) => {
  const mlp = new Mlp(FIELD);
  const params = mlp.init(1);
  const y0 = Float64Array.of(0.8, -0.4);
  const few = await gpuGradient(device, {
    field: mlp,
    params,
    scheme: reversible(bosh3),
    t1: 2,
    y0,
    controller: pid({ rtol: 1e-8, atol: 1e-8, maxSteps: 6 }),
    saveAt: { t0: true, ts: TS },
    cotangents: new Float64Array((TS.length + 1) * 2),
  });
  assert.equal(few.adaptive!.status, "max_steps_reached");
  assert.equal(few.adaptive!.accepted + few.adaptive!.rejected, 6);
  assert.ok(few.adaptive!.tEnd < 2);
  // y' = 1e30 y overflows float32 at once: every trial is non-finite, the step shrinks to nothing
  const line = new Mlp({ dim: 1, widths: [] });
  const blow = await gpuGradient(device, {
    field: line,
    params: Float64Array.of(1e30, 0),
    scheme: reversible(bosh3),
    t1: 1,
    y0: Float64Array.of(1),
    controller: pid({ rtol: 1e-3, atol: 1e-3, maxSteps: 400 }),
    dt0: 0.1,
    saveAt: { t0: true, ts: [1] },
    cotangents: Float64Array.of(0, 1),
  });
  assert.equal(blow.adaptive!.status, "non_finite");
  assert.equal(blow.adaptive!.accepted, 0);
});

gpuTest("a first step below the f32 resolution of t still moves t", async (device) => {
  // at t = 100 a float32 step of 1e-9 rounds away (t + h = t): such steps were accepted with
  // zero error and kept, until maxSteps
  const mlp = new Mlp(FIELD);
  const run = await gpuGradient(device, {
    field: mlp,
    params: mlp.init(1),
    scheme: reversible(bosh3),
    t0: 100,
    t1: 101,
    y0: Float64Array.of(0.8, -0.4),
    controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 300 }),
    dt0: 1e-9,
    saveAt: { t0: true, ts: [101] },
    cotangents: Float64Array.of(0, 0, 1, 1),
  });
  const { status, accepted, times } = run.adaptive!;
  assert.equal(status, "success", `${accepted} accepted`);
  assert.ok(accepted < 100, `${accepted} accepted`);
  for (let i = 1; i <= accepted; i++) assert.ok(times[i] > times[i - 1], `step ${i}`);
});

gpuTest("a closed gate's dispatches do nothing; an open one's run", async (device) => {
  const ctx = new GpuContext(device);
  const flag = ctx.upload("flag", Float64Array.of(0));
  const out = ctx.buffer("out", 100);
  const gate = new Gate(ctx, "test");
  const kernel = ctx.kernel({
    name: "test.fill",
    bindings: [{ name: "out", access: "read_write" }],
    code: linearMain(100, "  out[i] += 1.0;"),
  });
  const fill = [{
    kernel,
    group: ctx.bind(kernel, [out]),
    groups: [2, 1, 1] as [number, number, number],
  }];
  const open = gate.setOps([{ name: "flag", slice: flag }], "flag[0] == 1.0", "test");
  const rec = new Recorder(ctx);
  rec.run(open, null);
  rec.gated(gate, () => rec.run(fill, null));
  rec.submit();
  assert.deepEqual([...(await ctx.read(out))].slice(0, 3), [0, 0, 0]);
  ctx.write(flag, Float64Array.of(1));
  rec.run(open, null);
  rec.gated(gate, () => rec.run(fill, null));
  rec.submit();
  const after = await ctx.read(out);
  assert.ok(after.every((v) => v === 1));
  assert.throws(() => rec.gated(gate, () => rec.clear(out)), /cannot be gated/);
  ctx.destroy();
});

gpuTest("bad input: adaptive options refused with clear messages", async (device) => {
  const mlp = new Mlp(FIELD);
  const controller = pid({ rtol: 1e-6, atol: 1e-6 });
  const base = {
    field: mlp,
    params: mlp.init(0),
    t1: 1,
    y0: Float64Array.of(1, 0),
    controller,
    saveAt: { t0: true, ts: [1] },
  };
  assert.throws(
    () => GpuSolver.create(device, { ...base, scheme: reversible(rk4) }),
    /rk4 has no embedded error estimate.*bosh3/,
  );
  assert.throws(
    () =>
      GpuSolver.create(device, {
        ...base,
        scheme: reversible(bosh3),
        gradient: { method: "reversible", checkpointEvery: 4 },
      }),
    /with a controller, the GPU's reversible gradient takes no checkpointEvery/,
  );
  assert.throws(
    () =>
      GpuSolver.create(device, {
        ...base,
        scheme: reversible(bosh3),
        saveAt: { t0: true, ts: [2] },
      }),
    /saveAt\.ts\[0\].*2.*inside \[0, 1\]/,
  );
  assert.throws(
    () => GpuSolver.create(device, { ...base, scheme: reversible(bosh3), steps: 10 }),
    /Invalid steps: got 10; expected no steps with a controller/,
  );
  assert.throws(
    () => GpuSolver.create(device, { ...base, scheme: reversible(bosh3), dt0: -1 }),
    /Invalid dt0: got -1/,
  );
  await Promise.resolve();
});

/** A smooth 2-d series on 41 points of [0, 2] (a damped rotation), as training data. */
function spiral() {
  const ts = Float64Array.from({ length: 41 }, (_, i) => (2 * i) / 40);
  const ys = new Float64Array(41 * 2);
  ts.forEach((t, i) => {
    ys[2 * i] = Math.exp(-0.3 * t) * Math.cos(2 * t);
    ys[2 * i + 1] = Math.exp(-0.3 * t) * Math.sin(2 * t);
  });
  return { ts, ys, dim: 2, source: "spiral" };
}

/** The pendulum experiment's configuration (autonomous 10-wide tanh MLP, Bosh3, adaptive), in 2-d. */
function pendulumLike(adaptive: { rtol: number; atol: number; maxSteps: number }) {
  return defaultConfig({
    mlp: {
      dim: 2,
      widths: [10],
      activation: "tanh",
      finalActivation: "identity",
      timeDependent: false,
    },
    steps: 40,
    solver: "bosh3",
    adaptive,
  });
}

gpuTest(
  "training with adaptive steps on the GPU follows the CPU's losses (the pendulum's configuration)",
  async (device) => {
    const config = pendulumLike({ rtol: 1e-5, atol: 1e-5, maxSteps: 120 });
    assert.equal(configGpuSupport(config), null);
    const data = spiral();
    const cpu = await train({ config, data, iterations: 6 });
    const onGpu = await trainGpu({ config, data, iterations: 6, gpu: device });
    assert.equal(onGpu.status, "completed");
    const a = onGpu.state.losses, b = cpu.state.losses;
    assert.equal(a.length, 6);
    const err = relative(a, b);
    assert.ok(err < 1e-4, `losses ${a} vs ${b}: ${err}`);
    assert.ok(a[5] < a[0], "the loss decreases");
    assert.ok(onGpu.gradient!.stepsPerIteration >= 5);
  },
);

gpuTest(
  "training stops with the CPU's reason when the adaptive solve fails, keeping the last good state",
  async (device) => {
    const config = pendulumLike({ rtol: 1e-9, atol: 1e-9, maxSteps: 8 });
    const data = spiral();
    const cpu = await train({ config, data, iterations: 3 });
    const onGpu = await trainGpu({ config, data, iterations: 3, gpu: device });
    assert.equal(cpu.status, "diverged");
    assert.equal(onGpu.status, "diverged");
    assert.match(
      onGpu.reason!,
      /the solve failed at iteration 1: The maximum number of steps \(8\)/,
    );
    assert.match(cpu.reason!, /the solve failed at iteration 1: The maximum number of steps \(8\)/);
    assert.equal(onGpu.state.losses.length, 0);
    assert.deepEqual(
      [...onGpu.state.params].map(Math.fround),
      [...cpu.state.params].map(Math.fround),
    );
  },
);

gpuTest("gpuSolve returns the output times of an adaptive solve", async (device) => {
  const mlp = new Mlp(FIELD);
  const out = await gpuSolve(device, {
    field: mlp,
    params: mlp.init(0),
    scheme: reversible(bosh3),
    t1: 2,
    y0: Float64Array.of(1, 0),
    controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 100 }),
    saveAt: { ts: TS },
  });
  assert.deepEqual([...out.ts], TS);
  assert.equal(out.ys.length, TS.length * 2);
  // the trainer builds on the same solver
  assert.equal(typeof GpuTrainer.create, "function");
});

gpuTest(
  "a solve recorded over several command buffers gives the gradient of a short recording",
  async (device) => {
    // 1 560 trial steps are recorded past the recorder's 32 768 dispatches per
    // submission: every gated grid must be known before the first one goes
    // (a grid registered later made its dispatches do nothing).
    const mlp = new Mlp({ dim: 2, widths: [30], timeDependent: true });
    const params = mlp.init(3);
    const y0 = Float64Array.from({ length: 140 }, (_, i) => Math.cos(i));
    const cotangents = Float64Array.from({ length: 3 * 140 }, (_, i) => Math.sin(i));
    const grad = (maxSteps: number) =>
      gpuGradient(device, {
        field: mlp,
        params,
        scheme: reversible(bosh3),
        t1: 1,
        y0,
        controller: pid({ rtol: 1e-3, atol: 1e-3, maxSteps }),
        dt0: 0.1,
        saveAt: { t0: true, ts: [0.5, 0.97] },
        cotangents,
      });
    const short = await grad(64), long = await grad(1560);
    assert.equal(short.adaptive!.status, "success");
    assert.ok(long.backward.submits + long.forward.submits >= 2, "several command buffers");
    assert.deepEqual([...long.params], [...short.params]);
    assert.deepEqual([...long.y0], [...short.y0]);
  },
);

gpuTest("a sealed gate refuses a grid it has not seen", async (device) => {
  const ctx = new GpuContext(device);
  const gate = new Gate(ctx, "sealed");
  gate.offsetOf([1, 1, 1]);
  gate.seal();
  assert.equal(gate.offsetOf([1, 1, 1]), 0);
  assert.throws(
    () => gate.offsetOf([2, 1, 1]),
    /grid \[2,1,1\] was not registered before recording/,
  );
  ctx.destroy();
  await Promise.resolve();
});

gpuTest(
  "training with adaptive steps and the direct or checkpointed gradient follows the CPU's",
  async (device) => {
    for (const gradient of ["direct", "checkpointed"] as const) {
      const config = { ...pendulumLike({ rtol: 1e-5, atol: 1e-5, maxSteps: 60 }), gradient };
      assert.equal(configGpuSupport(config), null);
      const data = spiral();
      const cpu = await train({ config, data, iterations: 4 });
      const onGpu = await trainGpu({ config, data, iterations: 4, gpu: device });
      const err = relative(onGpu.state.losses, cpu.state.losses);
      assert.ok(err < 1e-4, `${gradient}: ${onGpu.state.losses} vs ${cpu.state.losses}: ${err}`);
      assert.equal(onGpu.gradient!.method, gradient);
      assert.equal(onGpu.gradient!.maxReconstructionError, null);
    }
  },
);

gpuTest("adaptive training on the GPU resumes bit-identically", async (device) => {
  const config = pendulumLike({ rtol: 1e-5, atol: 1e-5, maxSteps: 60 });
  const data = spiral();
  const whole = await trainGpu({ config, data, iterations: 4, gpu: device });
  const part = await trainGpu({ config, data, iterations: 2, gpu: device });
  const rest = await trainGpu({ config, data, iterations: 2, gpu: device, resume: part.state });
  assert.deepEqual(rest.state.losses, whole.state.losses);
  assert.deepEqual(rest.state.params, whole.state.params);
  assert.deepEqual(rest.state.optimizer, whole.state.optimizer);
});

gpuTest(
  "deno task train --example pendulum --backend webgpu: a model the CPU evaluates",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "revode-pendulum-" });
    try {
      let out = "", err = "";
      const code = await main(
        [
          "--example",
          "pendulum",
          "--backend",
          "webgpu",
          "--iterations",
          "2",
          "--max-steps",
          "80",
          "--out",
          dir,
        ],
        { write: (t) => out += t, error: (t) => err += t, isTerminal: false },
      );
      assert.equal(code, 0, err);
      assert.match(out, /adaptive steps \(rtol 1e-6, atol 1e-6, at most 80\)/);
      assert.match(out, /backend: WebGPU \(float32\)/);
      const model = await readModelFile(`${dir}/model.json`);
      assert.equal(model.training.backend, "webgpu");
      assert.equal(model.training.history.loss.length, 2);
      // the CPU backend evaluates the GPU-trained model on the data's times
      const data = simulatePendulum();
      const { ys } = predict(model.config, stateFromModel(model).params, data);
      assert.equal(ys.length, 500 * 4);
      assert.ok(ys.every(Number.isFinite));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

gpuTest(
  "the inverse evaluates only Ψ_{−h}'s live stages: bosh3's error-estimate stage is skipped, the state restored",
  async (device) => {
    const ctx = new GpuContext(device);
    const mlp = new Mlp(FIELD);
    const gpuMlp = new GpuMlp(ctx, mlp, 3);
    const params = ctx.upload("theta", mlp.init(2));
    const partials = ctx.buffer("partials", gpuMlp.partialsLength);
    const tableau = checkTableau(bosh3);
    const scheme = new GpuReversibleScheme(ctx, gpuMlp, tableau, 0.999, params, partials, {
      errorEstimate: true,
    });
    assert.deepEqual(scheme.backward.live, [true, true, true, false]);
    assert.deepEqual(scheme.backward.evaluated, [true, true, true, true]);
    const calls = solveCalls(ctx, [0, 0.2], tableau, () => -1);
    const y0 = Float64Array.of(0.8, -0.4, 0.1, 0.3, -0.5, 0.6);
    const rec = new Recorder(ctx);
    rec.run(scheme.initOps(ctx.upload("y0", y0)), null);
    rec.resetCounts();
    scheme.step(rec, calls, 0);
    const stepDispatches = rec.counts.dispatches;
    rec.submit();
    rec.resetCounts();
    scheme.inverse(rec, calls, 0);
    // forward: 3 + 4 stage evaluations; inverse: 4 + 3 (one network evaluation fewer)
    const perStage = (stepDispatches - 2) / 7;
    assert.equal(rec.counts.dispatches, stepDispatches - perStage);
    rec.submit();
    assert.ok(relative(await ctx.read(scheme.y), y0) < 1e-6);
    assert.ok(relative(await ctx.read(scheme.z), y0) < 1e-6);
    ctx.destroy();
  },
);

gpuTest(
  "training records the trials its solves need; one that ran out runs again: bit-identical to recording maxSteps (every gradient)",
  async (device) => {
    for (const gradient of ["reversible", "direct", "checkpointed"] as const) {
      // a large learning rate: the solves take 10 trials at first, then more (24 by the 4th)
      const config = {
        ...pendulumLike({ rtol: 1e-5, atol: 1e-5, maxSteps: 120 }),
        lr: 0.05,
        gradient,
      };
      const data = spiral();
      const iterations = 6;
      const state = initialState(config);
      const full = createGpuTrainer(device, config, new TrainingData(config, data), state);
      const trials: number[] = [];
      for (let i = 0; i < iterations; i++) {
        full.step(config.lr);
        const run = (await full.solver.readAdaptive())!;
        assert.equal(run.status, "success");
        trials.push(run.accepted + run.rejected);
      }
      const losses = (await full.readLosses()).losses.map((l) => l.loss);
      const params = await full.readParams();
      const optimizer = await full.readOptimizerState();
      full.destroy();
      // read back only after the first and the last iteration: 1.5 × 10 + 4 = 19 trials
      // are recorded after the first, too few from the 4th on
      assert.ok(trials[0] * 1.5 + 4 < Math.max(...trials), `trials ${trials}`);
      const onGpu = await trainGpu({ config, data, iterations, gpu: device, readEveryMs: 1e9 });
      assert.equal(onGpu.status, "completed");
      assert.match(
        onGpu.notes![0],
        /an adaptive solve ran out of the trial steps the GPU recorded \d+ times?; the iterations from it on ran again with more \(\d+ at the end, at most adaptive\.maxSteps = 120\)/,
      );
      assert.deepEqual(onGpu.state.losses, losses, gradient);
      assert.deepEqual(onGpu.state.params, params, gradient);
      assert.deepEqual(onGpu.state.optimizer, { ...optimizer, lr: config.lr });
      assert.equal(onGpu.state.iteration, iterations);
    }
  },
);

gpuTest(
  "a trainer whose solve ran out of trials diverges by 'trials', rewinds, and runs the step again",
  async (device) => {
    const config = pendulumLike({ rtol: 1e-5, atol: 1e-5, maxSteps: 60 });
    const data = new TrainingData(config, spiral());
    const make = () => createGpuTrainer(device, config, data, initialState(config));
    const reference = make();
    reference.step();
    const counts = reference.lastStep;
    const params = await reference.readParams();
    reference.destroy();
    const trainer = make();
    const adaptive = trainer.solver.adaptive!;
    assert.equal(adaptive.trials, 60);
    adaptive.trials = 3;
    trainer.step();
    assert.ok(trainer.lastStep.dispatches < counts.dispatches / 10);
    assert.equal(trainer.lastStep.readbacks, 0);
    assert.equal((await trainer.solver.readAdaptive())!.status, "incomplete");
    const status = await trainer.readStatus();
    assert.deepEqual([status.diverged, status.divergedIteration, status.divergedBy], [
      true,
      1,
      "trials",
    ]);
    assert.deepEqual(
      await trainer.readParams(),
      Float64Array.from(initialState(config).params, Math.fround),
    );
    assert.equal(await trainer.rewind(), 0);
    assert.equal(trainer.iteration, 0);
    assert.equal(trainer.optimizer.stepCount, 0);
    await assert.rejects(() => trainer.rewind(), /Cannot rewind: the trainer has not diverged/);
    assert.throws(
      () => (adaptive.trials = 0),
      /Invalid trials: got 0; expected an integer in \[1, 60\]/,
    );
    assert.throws(() => (adaptive.trials = 61), /Invalid trials: got 61/);
    assert.throws(() => (adaptive.trials = 2.5), /Invalid trials: got 2.5/);
    assert.equal(adaptive.trials, 3);
    adaptive.trials = 60;
    trainer.step();
    const after = await trainer.readStatus();
    assert.equal(after.diverged, false);
    assert.equal(after.iteration, 1);
    assert.deepEqual(await trainer.readParams(), params);
    assert.throws(
      () => trainer.optimizer.rewind(2),
      /Invalid steps: got 2; expected an integer in \[0, 1\]/,
    );
    trainer.destroy();
  },
);
