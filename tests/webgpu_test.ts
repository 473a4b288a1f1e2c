/**
 * The WebGPU backend against the CPU backend (float64) on the same weights.
 * Runs on whatever adapter `navigator.gpu` gives — in CI, Mesa's software
 * `llvmpipe`. Without an adapter the tests are skipped with the reason
 * printed, unless `REVODE_REQUIRE_GPU=1`, in which case they fail. All GPU
 * tests live in this one file so that they run serially.
 */

import assert from "node:assert/strict";
import { assertSameAcrossPipelines, gpuTests, randoms, relative } from "./gpu_harness.ts";
import { GpuContext } from "../solvers/webgpu/runtime/context.ts";
import { CallTable } from "../solvers/webgpu/runtime/calls.ts";
import { GpuMlp, type MlpKernels, type Tiling } from "../solvers/webgpu/fields/mlp.ts";
import { Recorder } from "../solvers/webgpu/runtime/recorder.ts";
import type { SolveKernel } from "../solvers/webgpu/options.ts";
import { gpuGradient, gpuReconstruction, gpuSolve } from "../solvers/webgpu/one_shot.ts";
import { GpuSolver } from "../solvers/webgpu/solve.ts";
import { GpuTrainer } from "../training/webgpu/trainer.ts";
import { gpuMse } from "../training/webgpu/loss.ts";
import { Mlp, type MlpOptions } from "../solvers/fields/mlp.ts";
import { mseLossVjp } from "../training/loss.ts";
import { AdamW, clipGradNorm } from "../training/adamw.ts";
import { Rng } from "../solvers/fields/random.ts";
import {
  bosh3,
  euler,
  type GradientSpec,
  pid,
  reversible,
  rk4,
  type SaveAt,
  solve,
  type Tableau,
} from "../mod.ts";
import { midpoint, ralston3 } from "../solvers/tableaux.ts";

const gpuTest = gpuTests("webgpu");

/** Fixed steps' outputs with `y(t0)`: every step and the start. */
const EVERY_STEP: SaveAt = { t0: true, steps: true };

/** The CPU's outputs `{ t0, steps }`, MSE loss and reversible-scheme gradient. */
function cpuGradient(
  mlp: Mlp,
  params: Float64Array,
  tableau: Tableau,
  y0: Float64Array,
  targets: Float64Array,
  steps: number,
  t1: number,
  gradient: GradientSpec = "reversible",
) {
  const sol = solve({
    field: mlp,
    y0,
    params,
    scheme: reversible(tableau),
    t0: 0,
    t1,
    steps,
    saveAt: { t0: true, steps: true },
    gradient,
  });
  const cotangent = new Float64Array(sol.ys.length);
  const loss = mseLossVjp(sol.ys, targets, cotangent);
  const g = sol.backward(cotangent);
  return { ys: sol.ys, loss, params: g.params, y0: g.y0 };
}

const WHITE_DWARF: MlpOptions = { dim: 2, widths: [10], timeDependent: true };

gpuTest("MLP forward and VJP kernels match the CPU's Mlp", async (device) => {
  const ctx = new GpuContext(device);
  // Every activation, fused and layered, plain and tiled products.
  const cases: [MlpOptions, MlpKernels, Tiling][] = [
    [WHITE_DWARF, "fused", "auto"],
    [WHITE_DWARF, "layered", "never"],
    [
      {
        dim: 3,
        widths: [20, 33],
        activation: "softplus",
        finalActivation: "tanh",
        timeDependent: true,
      },
      "layered",
      "always",
    ],
    [{ dim: 4, widths: [40, 17], activation: "silu", finalActivation: "relu" }, "layered", "auto"],
    [{ dim: 2, widths: [17], activation: "relu", finalActivation: "silu" }, "fused", "auto"],
  ];
  const measured: string[] = [];
  try {
    for (const [options, kernels, tiling] of cases) {
      const mlp = new Mlp(options);
      const batch = 37; // not a multiple of a tile or of a workgroup
      const rng = new Rng(5);
      const theta = mlp.init(2);
      const y = randoms(rng, batch * mlp.dim);
      const v = randoms(rng, batch * mlp.dim);
      const g = new GpuMlp(ctx, mlp, batch, { kernels, tiling });
      const st = g.stageBuffers(
        ctx.arena("stage", g.stageLengths()),
        ctx.buffer("f", batch * mlp.dim),
      );
      ctx.write(st.y, y);
      const calls = new CallTable(ctx, [{ t: 0.3, stageTimes: [0.3] }]);
      const params = ctx.upload("theta", theta);
      const yBar = ctx.buffer("ybar", batch * mlp.dim);
      const partials = ctx.buffer("partials", g.partialsLength);
      const paramsBar = ctx.buffer("pbar", mlp.paramCount);
      const rec = new Recorder(ctx);
      rec.run(g.forwardOps(st, params, 0), calls.ref(0));
      rec.run(g.vjpOps(st, params, ctx.upload("v", v), yBar, partials, 0), calls.ref(0));
      rec.run(g.reduceOps(partials, paramsBar), null);
      rec.submit();
      const [f, yb, pb] = await ctx.readMany([{ slice: st.out }, { slice: yBar }, {
        slice: paramsBar,
      }]);
      const wantF = new Float64Array(batch * mlp.dim);
      mlp.evaluate(0.3, y, batch, theta, wantF);
      const wantY = new Float64Array(batch * mlp.dim);
      const wantP = new Float64Array(mlp.paramCount);
      mlp.vjp(0.3, y, batch, theta, v, wantY, wantP);
      const label = `${JSON.stringify(options)} ${kernels} ${tiling}`;
      measured.push(
        `${label}: f ${relative(f, wantF).toExponential(1)}, ȳ ${
          relative(yb, wantY).toExponential(1)
        }, θ̄ ${relative(pb, wantP).toExponential(1)}`,
      );
      assert.ok(relative(f, wantF) < 1e-5, `${label}: f ${relative(f, wantF)}`);
      assert.ok(relative(yb, wantY) < 1e-5, `${label}: ȳ ${relative(yb, wantY)}`);
      assert.ok(relative(pb, wantP) < 1e-5, `${label}: θ̄ ${relative(pb, wantP)}`);
    }
    console.log(`  MLP kernels vs CPU (batch 37):\n    ${measured.join("\n    ")}`);
  } finally {
    ctx.destroy();
  }
});

gpuTest("trajectories match the CPU within 1e-5 relative", async (device) => {
  const mlp = new Mlp(WHITE_DWARF);
  const params = mlp.init(0);
  const rng = new Rng(1);
  const y0 = randoms(rng, 3 * 2);
  const measured: string[] = [];
  for (const tableau of [euler, midpoint, ralston3, rk4, bosh3]) {
    const { ys } = await gpuSolve(device, {
      field: mlp,
      params,
      scheme: reversible(tableau),
      t1: 1,
      steps: 50,
      saveAt: EVERY_STEP,
      y0,
    });
    const cpu = solve({
      field: mlp,
      y0,
      params,
      scheme: reversible(tableau),
      t0: 0,
      t1: 1,
      steps: 50,
      saveAt: { t0: true, steps: true },
    });
    const err = relative(ys, cpu.ys);
    measured.push(`${tableau.name} ${err.toExponential(1)}`);
    assert.ok(err < 1e-5, `${tableau.name}: ${err}`);
  }
  console.log(`  trajectory parity (50 steps, batch 3): ${measured.join(", ")}`);
});

gpuTest(
  "gradients of every GPU method match the CPU within 1e-4 relative; checkpointed is direct's bit for bit",
  async (device, gpu) => {
    const mlp = new Mlp(WHITE_DWARF);
    const params = mlp.init(0);
    const rng = new Rng(3);
    const y0 = randoms(rng, 3 * 2);
    const steps = 30;
    const measured: string[] = [];
    for (const tableau of [rk4, midpoint]) {
      const target = solve({
        field: mlp,
        y0,
        params: mlp.init(7),
        scheme: reversible(tableau),
        t0: 0,
        t1: 1,
        steps,
        saveAt: { t0: true, steps: true },
      }).ys;
      const cpu = cpuGradient(mlp, params, tableau, y0, target, steps, 1);
      const direct = new Map<SolveKernel, Float64Array>();
      const methods: [GradientSpec, SolveKernel][] = [
        ["reversible", "whole"],
        ["reversible", "steps"],
        ["direct", "whole"],
        ["direct", "steps"],
        ["checkpointed", "whole"],
        ["checkpointed", "steps"],
        [{ method: "checkpointed", checkpoints: 3 }, "whole"],
        [{ method: "checkpointed", checkpoints: 3 }, "steps"],
        [{ method: "reversible", checkpointEvery: 7 }, "whole"],
        [{ method: "reversible", checkpointEvery: 7 }, "steps"],
      ];
      for (const [gradient, solveKernel] of methods) {
        const g = await gpuGradient(device, {
          field: mlp,
          params,
          scheme: reversible(tableau),
          t1: 1,
          steps,
          saveAt: EVERY_STEP,
          y0,
          loss: gpuMse,
          targets: target,
          gradient,
          solveKernel,
        });
        const label = `${tableau.name} ${JSON.stringify(gradient)} ${solveKernel}`;
        const errs = {
          ys: relative(g.ys, cpu.ys),
          loss: Math.abs(g.loss - cpu.loss) / cpu.loss,
          params: relative(g.params, cpu.params),
          y0: relative(g.y0, cpu.y0),
        };
        measured.push(`${label} θ̄ ${errs.params.toExponential(1)} ȳ0 ${errs.y0.toExponential(1)}`);
        assert.ok(errs.ys < 1e-5, `${label}: ys ${errs.ys}`);
        assert.ok(errs.loss < 1e-4, `${label}: loss ${errs.loss}`);
        assert.ok(errs.params < 1e-4, `${label}: θ̄ ${errs.params}`);
        assert.ok(errs.y0 < 1e-4, `${label}: ȳ0 ${errs.y0}`);
        // checkpointing recomputes the states direct backpropagation stored, exactly, and walks
        // the steps back in the same order: the same gradient bit for bit (per step, in the same
        // kernels; whole, the recomputation runs in another pipeline than the taping)
        const name = typeof gradient === "string" ? gradient : gradient.method;
        if (name === "direct") direct.set(solveKernel, g.params);
        if (name === "checkpointed" && solveKernel === "steps") {
          assert.deepEqual(g.params, direct.get(solveKernel), label);
        }
        if (name === "checkpointed" && solveKernel === "whole") {
          assertSameAcrossPipelines(gpu, g.params, direct.get(solveKernel)!, label, 2e-6);
        }
      }
    }
    console.log(`  gradient parity (${steps} steps, batch 3):\n    ${measured.join("\n    ")}`);
  },
);

/** A wide network (layered, tiled products) over 300 rows: 5 chunks of partial gradients. */
const WIDE = {
  mlp: new Mlp({ dim: 3, widths: [48, 48], activation: "tanh" }),
  rows: 300,
  steps: 6,
  t1: 0.6,
  tableau: ralston3,
};

gpuTest(
  "given cotangents, a wide layered network and a 300-row batch match the CPU",
  async (device) => {
    const { mlp, rows, steps, t1, tableau } = WIDE;
    const params = mlp.init(1);
    const rng = new Rng(11);
    const y0 = randoms(rng, rows * 3, 0.5);
    const cotangents = randoms(rng, (steps + 1) * rows * 3, 1e-2);
    const solve1 = {
      field: mlp,
      params,
      scheme: reversible(tableau),
      t1,
      steps,
      saveAt: EVERY_STEP,
      y0,
      cotangents,
    };
    const g = await gpuGradient(device, solve1);
    const sol = solve({
      field: mlp,
      y0,
      params,
      scheme: reversible(tableau),
      t0: 0,
      t1,
      steps,
      saveAt: { t0: true, steps: true },
      gradient: "reversible",
    });
    const cpu = sol.backward(cotangents);
    assert.ok(relative(g.ys, sol.ys) < 1e-5, `ys ${relative(g.ys, sol.ys)}`);
    assert.ok(relative(g.params, cpu.params) < 1e-4, `θ̄ ${relative(g.params, cpu.params)}`);
    assert.ok(relative(g.y0, cpu.y0) < 1e-4, `ȳ0 ${relative(g.y0, cpu.y0)}`);
    assert.ok(Number.isNaN(g.loss));
    // Bit-identical when run again: partial sums per chunk, reduced in a fixed order.
    const again = await gpuGradient(device, solve1);
    assert.deepEqual(again.params, g.params);
    assert.deepEqual(again.y0, g.y0);
  },
);

gpuTest(
  "one training step's update matches the CPU AdamW step on the CPU gradient",
  async (device) => {
    const mlp = new Mlp(WHITE_DWARF);
    const params = mlp.init(3);
    const rng = new Rng(2);
    const y0 = randoms(rng, 3 * 2);
    const steps = 20;
    const targets = solve({
      field: mlp,
      y0,
      params: mlp.init(4),
      scheme: reversible(rk4),
      t0: 0,
      t1: 1,
      steps,
      saveAt: { t0: true, steps: true },
    }).ys;
    for (const clip of [null, 0.05]) {
      const trainer = GpuTrainer.create(device, {
        field: mlp,
        params,
        scheme: reversible(rk4),
        t1: 1,
        steps,
        saveAt: EVERY_STEP,
        y0,
        targets,
        lr: 1e-2,
        weightDecay: 1e-5,
        clip,
      });
      try {
        trainer.step();
        assert.equal(trainer.lastStep.readbacks, 0);
        const after = await trainer.readParams();
        const cpu = cpuGradient(mlp, params, rk4, y0, targets, steps, 1);
        const g = cpu.params.slice();
        if (clip !== null) clipGradNorm(g, clip);
        const theta = params.slice();
        new AdamW(mlp.paramCount, { lr: 1e-2, weightDecay: 1e-5 }).step(theta, g);
        // The first Adam step moves each parameter by about lr: compare updates to lr.
        let worst = 0;
        for (let i = 0; i < theta.length; i++) {
          worst = Math.max(worst, Math.abs((after[i] - params[i]) - (theta[i] - params[i])));
        }
        console.log(
          `  clip ${clip}: AdamW update differs from the CPU's by at most ${
            worst.toExponential(1)
          } (lr 1e-2)`,
        );
        assert.ok(worst < 1e-3 * 1e-2, `clip ${clip}: update differs by ${worst}`);
        const status = await trainer.readStatus();
        assert.ok(
          Math.abs(status.loss - cpu.loss) < 1e-5 * cpu.loss,
          `loss ${status.loss} vs ${cpu.loss}`,
        );
        assert.equal(status.diverged, false);
        assert.equal(status.bestIteration, 1);
        assert.deepEqual(
          await trainer.readBestParams(),
          Float64Array.from(Float32Array.from(params)),
        );
        const state = await trainer.readOptimizerState();
        assert.equal(state.step, 1);
      } finally {
        trainer.destroy();
      }
    }
  },
);

gpuTest(
  "training as train.ts does: {steps} outputs, row weights, padded minibatch",
  async (device) => {
    const mlp = new Mlp(WHITE_DWARF);
    const params = mlp.init(5);
    const rng = new Rng(9);
    const rows = 2, batch = 3, steps = 12;
    const y0 = randoms(rng, rows * 2);
    const targets = randoms(rng, steps * rows * 2, 0.5);
    // two solver steps per data interval: only every other saved row is a data point
    const weights = new Float64Array(steps).map((_, s) => (s % 2 === 1 ? 1 : 0));
    const trainer = GpuTrainer.create(device, {
      field: mlp,
      params,
      scheme: reversible(midpoint),
      t1: 1,
      steps,
      y0,
      batch,
      saveAt: { steps: true },
      targets,
      weights,
      lr: 1e-2,
      weightDecay: 1e-5,
    });
    try {
      trainer.step();
      const sol = solve({
        field: mlp,
        y0,
        params,
        scheme: reversible(midpoint),
        t0: 0,
        t1: 1,
        steps,
        saveAt: { steps: true },
        gradient: "reversible",
      });
      const cot = new Float64Array(sol.ys.length);
      const loss = mseLossVjp(sol.ys, targets, cot, { weights, saved: steps });
      const g = sol.backward(cot);
      assert.ok(Math.abs((await trainer.readLoss()) - loss) < 1e-5 * loss);
      assert.ok(relative(await trainer.readGradient(), g.params) < 1e-4);
      assert.ok(relative(await trainer.readOutputs(), sol.ys) < 1e-5);
      for (let k = 0; k < 4; k++) trainer.step();
      const { losses, dropped } = await trainer.readLosses();
      assert.equal(dropped, 0);
      assert.deepEqual(losses.map((l) => l.iteration), [1, 2, 3, 4, 5]);
      assert.ok(losses[4].loss < losses[0].loss, JSON.stringify(losses));
    } finally {
      trainer.destroy();
    }
  },
);

gpuTest(
  "training runs are bit-identical (deterministic reductions, no atomics)",
  async (device) => {
    const { mlp, rows, steps, t1, tableau } = WIDE;
    const params = mlp.init(8);
    const rng = new Rng(4);
    const y0 = randoms(rng, rows * 3, 0.5);
    const targets = randoms(rng, (steps + 1) * rows * 3, 0.5);
    const run = async () => {
      const trainer = GpuTrainer.create(device, {
        field: mlp,
        params,
        scheme: reversible(tableau),
        t1,
        steps,
        saveAt: EVERY_STEP,
        y0,
        targets,
        lr: 1e-2,
      });
      try {
        trainer.step();
        trainer.step();
        return {
          loss: await trainer.readLoss(),
          gradient: await trainer.readGradient(),
          params: await trainer.readParams(),
        };
      } finally {
        trainer.destroy();
      }
    };
    const a = await run();
    const b = await run();
    assert.equal(a.loss, b.loss);
    assert.deepEqual(a.gradient, b.gradient);
    assert.deepEqual(a.params, b.params);
    assert.notDeepEqual(a.params, params);
  },
);

gpuTest(
  "f32 reconstruction drift over long solves stays within the documented bound",
  async (device) => {
    // White-dwarf setting: [t, y] → 10 tanh → 2, reversible RK4, λ = 0.999, h = 0.005.
    const mlp = new Mlp(WHITE_DWARF);
    const params = mlp.init(0);
    const y0 = Float64Array.of(1, 0, 0.5, -0.5, -0.5, 0.25);
    const rows: string[] = [];
    for (const steps of [100, 1000, 2000]) {
      const r = await gpuReconstruction(device, {
        field: mlp,
        params,
        scheme: reversible(rk4),
        t1: 0 + steps * 0.005, // t0 + steps · h
        steps,
        saveAt: EVERY_STEP,
        y0,
      });
      const cpu = solve({
        field: mlp,
        y0,
        params,
        scheme: reversible(rk4),
        t0: 0,
        t1: 0.005 * steps,
        steps,
        gradient: "reversible",
      }).backward(new Float64Array(y0.length)).stats.reconstructionError!;
      rows.push(`N = ${steps}: f32 ${r.error.toExponential(2)}, float64 ${cpu.toExponential(2)}`);
      // Documented bound (training/webgpu/mod.ts): below 1e-5 up to 1000 steps, 1e-4 up to 2000.
      assert.ok(r.error < (steps <= 1000 ? 1e-5 : 1e-4), `N = ${steps}: ${r.error}`);
    }
    console.log(`  reconstruction drift of y0 (relative ∞-norm):\n    ${rows.join("\n    ")}`);
  },
);

gpuTest(
  "a solve from y0 = 0: the reconstruction error is measured on the solution's size, as the CPU's",
  async (device) => {
    const mlp = new Mlp(WHITE_DWARF);
    const params = mlp.init(0);
    const y0 = new Float64Array(2 * 2);
    const steps = 40;
    const cpu = solve({
      field: mlp,
      y0,
      params,
      scheme: reversible(rk4),
      t0: 0,
      t1: 1,
      steps,
      saveAt: { t0: true, steps: true },
      gradient: "reversible",
    });
    const cotangents = new Float64Array(cpu.ys.length).fill(1);
    assert.ok(cpu.backward(cotangents).stats.reconstructionError! < 1e-14);
    const measured: string[] = [];
    for (const solveKernel of ["whole", "steps"] as const) {
      const g = await gpuGradient(device, {
        field: mlp,
        params,
        scheme: reversible(rk4),
        t1: 1,
        steps,
        saveAt: EVERY_STEP,
        y0,
        cotangents,
        solveKernel,
      });
      // relative to |y0| = 0, f32 round-off of 1e-8 would read as 1e+37
      assert.ok(g.reconstructionError! < 1e-5, `${solveKernel}: ${g.reconstructionError}`);
      measured.push(`${solveKernel} ${g.reconstructionError!.toExponential(1)}`);
    }
    const r = await gpuReconstruction(device, {
      field: mlp,
      params,
      scheme: reversible(rk4),
      t1: 1,
      steps,
      saveAt: EVERY_STEP,
      y0,
    });
    assert.ok(r.error < 1e-5, `gpuReconstruction: ${r.error}`);
    const trainer = GpuTrainer.create(device, {
      field: mlp,
      params,
      scheme: reversible(rk4),
      t1: 1,
      steps,
      saveAt: EVERY_STEP,
      y0,
      targets: new Float64Array(cpu.ys.length).fill(0.5),
      lr: 1e-3,
    });
    try {
      trainer.step();
      const status = await trainer.readStatus();
      assert.ok(status.reconstructionError! < 1e-5, `trainer: ${status.reconstructionError}`);
      measured.push(`trainer ${status.reconstructionError!.toExponential(1)}`);
    } finally {
      trainer.destroy();
    }
    console.log(`  reconstruction error from y0 = 0: ${measured.join(", ")}`);
  },
);

gpuTest(
  "a non-finite loss stops the updates and keeps the last good parameters",
  async (device) => {
    const mlp = new Mlp({ dim: 1, widths: [] });
    const params = Float64Array.of(60, 0); // y' = 60 y: e^60 overflows f32 by t = 1.5
    const steps = 30;
    const trainer = GpuTrainer.create(device, {
      field: mlp,
      params,
      scheme: reversible(euler),
      t1: 3,
      steps,
      saveAt: EVERY_STEP,
      y0: Float64Array.of(1),
      targets: new Float64Array(steps + 1),
    });
    try {
      trainer.step();
      trainer.step();
      const status = await trainer.readStatus();
      assert.equal(status.diverged, true);
      assert.equal(status.divergedIteration, 1);
      assert.equal(status.bestLoss, null);
      assert.deepEqual(await trainer.readParams(), params);
      assert.equal((await trainer.readOptimizerState()).step, 0);
    } finally {
      trainer.destroy();
    }
  },
);

gpuTest(
  "counts: per-step kernels' dispatches per step are fixed, nothing is read back inside a step",
  async (device) => {
    const mlp = new Mlp(WHITE_DWARF);
    const steps = 10;
    const trainer = GpuTrainer.create(device, {
      field: mlp,
      params: mlp.init(0),
      scheme: reversible(rk4),
      t1: 1,
      steps,
      saveAt: EVERY_STEP,
      y0: Float64Array.of(1, 0, 0.5, -0.5, -0.5, 0.25),
      targets: new Float64Array((steps + 1) * 3 * 2),
      profile: device.features.has("timestamp-query"),
      solveKernel: "steps",
    });
    try {
      trainer.step();
      const first = trainer.lastStep;
      trainer.step();
      assert.deepEqual(trainer.lastStep, first);
      assert.equal(first.readbacks, 0);
      assert.equal(first.submits, 1);
      // Fused white-dwarf network, RK4: per solver step 10 dispatches forward, 10 to rebuild
      // and 18 for the VJPs, plus outputs, cotangents, loss and optimizer.
      assert.ok(
        first.dispatches > 38 * steps && first.dispatches < 45 * steps,
        `${first.dispatches}`,
      );
      if (device.features.has("timestamp-query")) {
        const timings = await trainer.timings();
        assert.ok(timings.length > 0 && timings.every((t) => t.ns >= 0 && t.count > 0));
        assert.equal(timings.reduce((n, t) => n + t.count, 0), 2 * first.dispatches);
      }
    } finally {
      trainer.destroy();
    }
  },
);

gpuTest(
  "a NaN weight gives NaN trajectories (tanh, relu; fused and layered); NaN params are refused",
  async (device) => {
    // clamp() and max() of a NaN may return the other operand on GPUs (and
    // did on llvmpipe): the activations must not turn a NaN into numbers.
    for (const activation of ["tanh", "relu"] as const) {
      for (const kernels of ["fused", "layered"] as const) {
        const mlp = new Mlp({ dim: 2, widths: [8], activation, seed: 1 });
        const params = mlp.init(0);
        const options = {
          field: mlp,
          params,
          scheme: reversible(rk4),
          t1: 1,
          steps: 2,
          y0: Float64Array.of(1, 0),
          saveAt: { steps: true },
          kernels,
        };
        const bad = params.slice();
        bad[0] = NaN;
        // like the CPU's solve(), the GPU refuses NaN parameters up front …
        assert.throws(() => GpuSolver.create(device, { ...options, params: bad }), /params\[0\]/);
        // … but one reached inside a run (an overflow) must stay NaN
        const solver = GpuSolver.create(device, options);
        try {
          solver.ctx.write(solver.problem.params, bad);
          const rec = new Recorder(solver.ctx);
          solver.run.forward(rec);
          rec.submit();
          const ys = await solver.readYs();
          assert.ok(ys.every(Number.isNaN), `${activation}, ${kernels}: ${ys}`);
        } finally {
          solver.destroy();
        }
      }
    }
  },
);

gpuTest("a misspelt or foreign option is refused, not ignored", async (device) => {
  const mlp = new Mlp({ dim: 1, widths: [] });
  const base = {
    field: mlp,
    params: mlp.init(0),
    scheme: reversible(rk4),
    t1: 1,
    steps: 4,
    saveAt: EVERY_STEP,
    y0: Float64Array.of(1),
  };
  assert.throws(
    () => GpuSolver.create(device, { ...base, lambda: 0.5 } as never),
    /Invalid options\.lambda: got 0\.5; expected one of the keys .*scheme/,
  );
  assert.throws(
    () =>
      GpuTrainer.create(
        device,
        { ...base, targets: new Float64Array(5), learningRate: 1 } as never,
      ),
    /Invalid options\.learningRate.*lr/,
  );
  await assert.rejects(
    gpuGradient(device, { ...base, cotangents: new Float64Array(5), checkpoints: 2 } as never),
    /Invalid options\.checkpoints.*gradient/,
  );
  // a tolerance beside the controller, rather than in pid()'s options
  await assert.rejects(
    gpuGradient(device, {
      ...base,
      scheme: reversible(bosh3),
      steps: undefined,
      controller: pid({ rtol: 1e-4, atol: 1e-4 }),
      saveAt: { t0: true, ts: [1] },
      rtol: 1e-6,
      cotangents: new Float64Array(2),
    } as never),
    /Invalid options\.rtol.*controller, dt0, saveAt/,
  );
  // the right keys still work, and a trainer's own keys do not reach its solver as foreign ones
  const trainer = GpuTrainer.create(device, { ...base, targets: new Float64Array(5), lr: 1e-3 });
  trainer.destroy();
});
