/**
 * The whole-solve kernels (solvers/webgpu/gradients/whole.ts): one kernel
 * for a trajectory's forward solve and one for its backward pass, against
 * the per-step kernels and the CPU on the same weights; dispatches that do
 * not grow with the number of steps; which solves take them; refusals.
 *
 * Run serially with the other GPU tests; with REVODE_REQUIRE_GPU=1 they
 * fail, rather than skip, when no adapter is found.
 */

import assert from "node:assert/strict";
import { assertSameAcrossPipelines, gpuTests, randoms, relative } from "./gpu_harness.ts";
import type { GpuSolverOptions } from "../solvers/webgpu/options.ts";
import { gpuGradient } from "../solvers/webgpu/one_shot.ts";
import { GpuReversibleScheme } from "../solvers/webgpu/schemes/reversible.ts";
import { GpuSolver } from "../solvers/webgpu/solve.ts";
import { GpuTrainer } from "../training/webgpu/trainer.ts";
import { Recorder } from "../solvers/webgpu/runtime/recorder.ts";
import { chooseSolveKernel } from "../solvers/webgpu/gradients/whole.ts";
import { Mlp, type MlpOptions } from "../solvers/fields/mlp.ts";
import { Rng } from "../solvers/fields/random.ts";
import {
  bosh3,
  dopri5,
  type GradientSpec,
  pid,
  reversible,
  rk4,
  type SaveAt,
  solve,
  type Tableau,
} from "../mod.ts";
import { midpoint } from "../solvers/tableaux.ts";

const gpuTest = gpuTests("webgpu whole");

/** Fixed steps' outputs with `y(t0)`: every step and the start. */
const EVERY_STEP: SaveAt = { t0: true, steps: true };

/** The CPU's float64 reversible solve over `[0, t1]` (every step saved) and its gradient. */
function cpuGradient(o: {
  mlp: Mlp;
  params: Float64Array;
  tableau: Tableau;
  t1: number;
  steps: number;
  y0: Float64Array;
  cotangents: Float64Array;
}) {
  const sol = solve({
    field: o.mlp,
    y0: o.y0,
    params: o.params,
    scheme: reversible(o.tableau),
    t0: 0,
    t1: o.t1,
    steps: o.steps,
    saveAt: { t0: true, steps: true },
    gradient: "reversible",
  });
  return { sol, cpu: sol.backward(o.cotangents) };
}

const CASES: [string, MlpOptions, Tableau][] = [
  ["white dwarf, rk4", { dim: 2, widths: [10], timeDependent: true }, rk4],
  [
    "two layers, silu/relu, bosh3 (a stage that is not live)",
    { dim: 3, widths: [8, 6], activation: "silu", finalActivation: "relu" },
    bosh3,
  ],
  ["softplus, time-dependent, dopri5", {
    dim: 2,
    widths: [5],
    activation: "softplus",
    timeDependent: true,
  }, dopri5],
  ["linear field, midpoint", { dim: 1, widths: [] }, midpoint],
];

gpuTest(
  "the per-step kernels' trajectories (bit for bit on llvmpipe); gradients within 2e-6 of theirs and 1e-4 of the CPU's",
  async (device, gpu) => {
    const measured: string[] = [];
    for (const [label, options, tableau] of CASES) {
      const mlp = new Mlp(options);
      const params = mlp.init(1);
      const rng = new Rng(4);
      const batch = 5;
      const steps = 40;
      const y0 = randoms(rng, batch * mlp.dim, 0.5);
      const cotangents = randoms(rng, (steps + 1) * batch * mlp.dim);
      const base = {
        field: mlp,
        params,
        scheme: reversible(tableau),
        t1: 1.5,
        steps,
        saveAt: EVERY_STEP,
        y0,
        cotangents,
      };
      const whole = await gpuGradient(device, { ...base, solveKernel: "whole" });
      const perStep = await gpuGradient(device, { ...base, solveKernel: "steps" });
      const { sol, cpu } = cpuGradient({ mlp, params, tableau, t1: 1.5, steps, y0, cotangents });
      assertSameAcrossPipelines(gpu, whole.ys, perStep.ys, label);
      const errs = {
        steps: relative(whole.params, perStep.params),
        params: relative(whole.params, cpu.params),
        y0: relative(whole.y0, cpu.y0),
        ys: relative(whole.ys, sol.ys),
      };
      measured.push(
        `${label}: θ̄ vs steps ${errs.steps.toExponential(1)}, vs CPU ${
          errs.params.toExponential(1)
        }; ȳ0 vs CPU ${errs.y0.toExponential(1)}`,
      );
      assert.ok(errs.steps < 2e-6, `${label}: θ̄ vs steps ${errs.steps}`);
      assert.ok(relative(whole.y0, perStep.y0) < 2e-6, `${label}: ȳ0 vs steps`);
      assert.ok(errs.params < 1e-4, `${label}: θ̄ vs CPU ${errs.params}`);
      assert.ok(errs.y0 < 1e-4, `${label}: ȳ0 vs CPU ${errs.y0}`);
      assert.ok(errs.ys < 1e-5, `${label}: ys vs CPU ${errs.ys}`);
      // the backward pass rebuilt y0 as the per-step kernels do
      assert.ok(whole.reconstructionError! < 1e-5, `${label}: ${whole.reconstructionError}`);
      assert.ok(Math.abs(whole.reconstructionError! - perStep.reconstructionError!) < 1e-7);
    }
    console.log(`  whole-solve kernels (40 steps, batch 5):\n    ${measured.join("\n    ")}`);
  },
);

gpuTest(
  "a training step is the same 15 dispatches for 10 or 400 steps, with the per-step kernels' losses",
  async (device, gpu) => {
    const mlp = new Mlp({ dim: 2, widths: [10], timeDependent: true });
    const rng = new Rng(8);
    const rows = 3, batch = 4;
    const y0 = randoms(rng, rows * 2, 0.5);
    const counts: number[] = [];
    for (const steps of [10, 400]) {
      const targets = randoms(rng, steps * rows * 2, 0.3);
      const options = {
        field: mlp,
        params: mlp.init(2),
        scheme: reversible(rk4),
        t1: 2,
        steps,
        y0,
        batch,
        saveAt: { steps: true },
        targets,
        lr: 1e-2,
        weightDecay: 1e-4,
      };
      const whole = GpuTrainer.create(device, { ...options, solveKernel: "whole" });
      const perStep = GpuTrainer.create(device, { ...options, solveKernel: "steps" });
      try {
        assert.equal(whole.solver.solveKernel, "whole");
        assert.equal(perStep.solver.solveKernel, "steps");
        // memory beyond the problem's: the per-row gradients, whatever the number of steps
        assert.equal(whole.solver.run.bytes, 4 * batch * mlp.paramCount);
        for (let k = 0; k < 3; k++) {
          whole.step();
          perStep.step();
        }
        assert.equal(whole.lastStep.readbacks, 0);
        assert.equal(whole.lastStep.submits, 1);
        counts.push(whole.lastStep.dispatches);
        assert.ok(perStep.lastStep.dispatches > 38 * steps);
        const a = (await whole.readLosses()).losses.map((l) => l.loss);
        const b = (await perStep.readLosses()).losses.map((l) => l.loss);
        // the first loss comes from the same forward solve; later ones after updates
        // from gradients rounded differently
        assertSameAcrossPipelines(gpu, a.slice(0, 1), b.slice(0, 1), "first loss");
        assert.ok(relative(a, b) < 1e-5, `${a} vs ${b}`);
        assert.ok(relative(await whole.readParams(), await perStep.readParams()) < 1e-5);
        const status = await whole.readStatus();
        assert.ok(status.reconstructionError !== null && status.reconstructionError < 1e-5);
      } finally {
        whole.destroy();
        perStep.destroy();
      }
    }
    assert.equal(counts[0], counts[1]);
    assert.ok(counts[0] <= 16, `${counts}`);
  },
);

gpuTest(
  "auto takes the whole-solve kernels only where they apply; 'whole' elsewhere is refused",
  async (device) => {
    const mlp = new Mlp({ dim: 2, widths: [10] });
    const base: GpuSolverOptions = {
      field: mlp,
      params: mlp.init(0),
      scheme: reversible(rk4),
      t1: 1,
      steps: 4,
      saveAt: EVERY_STEP,
      y0: Float64Array.of(1, 0),
    };
    const kernelOf = (options: Partial<GpuSolverOptions>) => {
      const solver = GpuSolver.create(device, { ...base, ...options });
      const kind = solver.solveKernel;
      solver.destroy();
      return kind;
    };
    assert.equal(kernelOf({}), "whole");
    assert.equal(kernelOf({ kernels: "layered" }), "steps");
    assert.equal(kernelOf({ gradient: { method: "reversible", checkpointEvery: 2 } }), "whole");
    assert.equal(kernelOf({ gradient: "direct" }), "whole");
    assert.equal(kernelOf({ gradient: "direct", kernels: "layered" }), "steps");
    assert.equal(kernelOf({ gradient: "checkpointed" }), "whole");
    assert.equal(kernelOf({ gradient: "checkpointed", kernels: "layered" }), "steps");
    assert.equal(kernelOf({ solveKernel: "steps" }), "steps");
    const adaptive: Partial<GpuSolverOptions> = {
      steps: undefined,
      controller: pid({ rtol: 1e-4, atol: 1e-4, maxSteps: 20 }),
      saveAt: { t0: true, ts: [1] },
      scheme: reversible(bosh3),
    };
    assert.equal(kernelOf(adaptive), "steps");
    const refused: [Partial<GpuSolverOptions>, RegExp][] = [
      [{ kernels: "layered" }, /got "whole", but the network does not fit one invocation/],
      [
        { gradient: "backsolve" as never },
        /This solve does not run on the WebGPU backend: the backsolve gradient runs on the CPU backend only/,
      ],
      [adaptive, /got "whole" with adaptive steps/],
    ];
    for (const [options, message] of refused) {
      assert.throws(() => kernelOf({ ...options, solveKernel: "whole" }), message);
    }
    // a tape (or gradients, or checkpoints) over the binding size: per-step kernels, or refused
    const facts = { adaptive: false, method: "direct", fused: true, limit: 1 << 20 };
    assert.equal(chooseSolveKernel("auto", { ...facts, bytes: (1 << 20) + 4 }), "steps");
    assert.throws(
      () => chooseSolveKernel("whole", { ...facts, bytes: (1 << 20) + 4 }),
      /tape \(1048580 bytes\) exceed the device's binding size \(1048576\)/,
    );
    assert.throws(
      () => kernelOf({ solveKernel: "fast" as never }),
      /Invalid solveKernel: got "fast"; expected "auto", "whole" or "steps"/,
    );
    await Promise.resolve();
  },
);

gpuTest(
  "the whole form allocates no per-step buffers: the increments' stages are missing, its own gradients added",
  async (device, gpu) => {
    const mlp = new Mlp({ dim: 2, widths: [16, 16], timeDependent: true });
    const options: GpuSolverOptions = {
      field: mlp,
      params: mlp.init(1),
      scheme: reversible(rk4),
      t1: 1,
      steps: 50,
      saveAt: EVERY_STEP,
      y0: randoms(new Rng(4), 64 * 2, 1),
    };
    const whole = GpuSolver.create(device, { ...options, solveKernel: "whole" });
    const perStep = GpuSolver.create(device, { ...options, solveKernel: "steps" });
    try {
      // the whole form's scheme is the state alone: it has no step to call, and no increments
      assert.equal(whole.steppedProblem, null);
      assert.ok(!(whole.problem.scheme instanceof GpuReversibleScheme));
      assert.ok(!("forward" in whole.problem.scheme) && !("step" in whole.problem.scheme));
      const { forward, backward } = perStep.steppedProblem!.scheme;
      const stageBytes = 4 * (forward.tape.length + backward.tape.length);
      // everything else the two hold is the same, but for the whole form's
      // per-row gradients (run.bytes) and its step table (a few kB)
      const saved = perStep.ctx.bytes - (whole.ctx.bytes - whole.run.bytes);
      assert.ok(saved >= stageBytes, `saved ${saved} bytes; the stages hold ${stageBytes}`);
      // and the whole form still computes: against the per-step form
      for (const solver of [whole, perStep]) {
        const rec = new Recorder(solver.ctx);
        solver.run.forward(rec);
        rec.submit();
      }
      const [a, b] = [await whole.readYs(), await perStep.readYs()];
      assertSameAcrossPipelines(gpu, a, b, "ys");
    } finally {
      whole.destroy();
      perStep.destroy();
    }
  },
);

gpuTest(
  "direct, checkpointed and checkpointEvery gradients in whole-solve kernels: the per-step kernels' trajectories (bit for bit on llvmpipe), their gradients within 2e-6, the CPU's within 1e-4",
  async (device, gpu) => {
    const steps = 23;
    // checkpointing with c = 1 (every step recomputed from y0), 2, 4, the default, every state
    const gradients: GradientSpec[] = [
      "direct",
      // exact states restored at 7, 14 and 21; none (every > N)
      { method: "reversible", checkpointEvery: 7 },
      { method: "reversible", checkpointEvery: 30 },
      ...[1, 2, 4, undefined, steps + 1].map((checkpoints) => ({
        method: "checkpointed" as const,
        checkpoints,
      })),
    ];
    for (const [label, options, tableau] of CASES) {
      const mlp = new Mlp(options);
      const params = mlp.init(2);
      const rng = new Rng(6);
      const batch = 3;
      const y0 = randoms(rng, batch * mlp.dim, 0.5);
      const cotangents = randoms(rng, (steps + 1) * batch * mlp.dim);
      const { cpu } = cpuGradient({ mlp, params, tableau, t1: 1.2, steps, y0, cotangents });
      for (const gradient of gradients) {
        const base = {
          field: mlp,
          params,
          scheme: reversible(tableau),
          t1: 1.2,
          steps,
          saveAt: EVERY_STEP,
          y0,
          cotangents,
          gradient,
        };
        const whole = await gpuGradient(device, { ...base, solveKernel: "whole" });
        const perStep = await gpuGradient(device, { ...base, solveKernel: "steps" });
        const what = `${label}, ${JSON.stringify(gradient)}`;
        assertSameAcrossPipelines(gpu, whole.ys, perStep.ys, what);
        assert.ok(relative(whole.params, perStep.params) < 2e-6, `${what}: θ̄ vs steps`);
        assert.ok(relative(whole.y0, perStep.y0) < 2e-6, `${what}: ȳ0 vs steps`);
        assert.ok(relative(whole.params, cpu.params) < 1e-4, `${what}: θ̄ vs CPU`);
        assert.ok(relative(whole.y0, cpu.y0) < 1e-4, `${what}: ȳ0 vs CPU`);
        // backward kernel, two reductions; for the reversible one, 4 measuring the rebuilt y0
        const measuring = whole.reconstructionError === undefined ? 0 : 4;
        assert.equal(whole.backward.dispatches, 4 + measuring, what);
        if (whole.reconstructionError !== undefined) {
          const [a, b] = [whole.reconstructionError, perStep.reconstructionError!];
          assert.ok(Math.abs(a - b) <= 1e-7 + 1e-3 * b, `${what}: rebuilt y0 ${a} vs ${b}`);
        }
      }
    }
  },
);

gpuTest(
  "checkpointEvery in whole-solve kernels bounds the drift of the rebuilt state, as per step",
  async (device) => {
    // λ = 0.5: the inverse halves by λ each step, so f32 round-off doubles every step
    const mlp = new Mlp({ dim: 2, widths: [6] });
    const steps = 40;
    const y0 = randoms(new Rng(9), 4 * 2, 0.5);
    const base = {
      field: mlp,
      params: mlp.init(3),
      scheme: reversible(rk4, { coupling: 0.5 }),
      t1: 1,
      steps,
      saveAt: EVERY_STEP,
      y0,
      cotangents: randoms(new Rng(10), (steps + 1) * 4 * 2),
    };
    const error = async (every: number, solveKernel: "whole" | "steps") =>
      (await gpuGradient(device, {
        ...base,
        gradient: { method: "reversible", checkpointEvery: every },
        solveKernel,
      })).reconstructionError!;
    const drifting = await error(0, "whole");
    const bounded = await error(5, "whole");
    assert.ok(drifting > 1e-2, `without checkpoints: ${drifting}`);
    assert.ok(bounded < 1e-4, `every 5 steps: ${bounded}`);
    assert.ok(Math.abs(bounded - await error(5, "steps")) <= 1e-3 * bounded + 1e-9);
  },
);
