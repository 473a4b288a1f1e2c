/**
 * The GPU section of `deno task bench` runs end to end on whatever adapter
 * exists (in CI, Mesa's software one): no read-back inside a training step,
 * fixed or adaptive; finite losses; the target check refuses to judge a
 * software adapter's timings.
 */

import assert from "node:assert/strict";
import { formatGpuReport } from "../bench/gpu_report.ts";
import { GPU_TARGET, gpuTargetCheck } from "../bench/gpu_result.ts";
import { runGpuBenchmark } from "../bench/gpu.ts";
import { formatGpuAdaptiveReport, runGpuAdaptiveBenchmark } from "../bench/gpu_adaptive.ts";
import { gpuTests } from "./gpu_harness.ts";

const gpuTest = gpuTests("bench gpu");

gpuTest("fixed and adaptive training steps run with zero read-backs", async (_device, gpu) => {
  const fixed = await runGpuBenchmark({
    gpu,
    batches: [1, 8],
    widths: [10, 20],
    steps: 4,
    reps: 1,
  });
  assert.equal(fixed.rows.length, 4);
  for (const r of fixed.rows) {
    assert.equal(r.skipped, null, `width ${r.width}, batch ${r.batch}: ${r.skipped}`);
    assert.equal(r.readbacks, 0);
    assert.ok(Number.isFinite(r.loss!) && r.dispatches! > 0 && r.cpuMs! > 0);
    // narrow networks run whole, and are timed per stage and step as well, with more dispatches
    assert.equal(r.solveKernel, "whole");
    assert.ok(r.perStepMs! > 0, `width ${r.width}, batch ${r.batch}: ${r.perStepMs}`);
    assert.ok(r.perStepDispatches! > r.dispatches!, `${r.perStepDispatches} vs ${r.dispatches}`);
  }
  const check = gpuTargetCheck(fixed);
  if (gpu.isFallback) assert.equal(check.status, "NOT EVALUATED");
  // the target's configuration was not run here: never PASS
  assert.notEqual(check.status, "PASS");
  assert.match(formatGpuReport(fixed), new RegExp(`batch ${GPU_TARGET.batch}, width 128`));
  const adaptive = await runGpuAdaptiveBenchmark({
    gpu,
    batches: [1, 4],
    tolerance: 1e-4,
    maxSteps: 30,
    reps: 1,
  });
  for (const r of adaptive.rows) {
    assert.equal(r.readbacks, 0);
    assert.ok(Number.isFinite(r.loss), `batch ${r.batch}: loss ${r.loss}`);
    assert.ok(r.gpuSteps >= 2 && r.gpuSteps < 30, `batch ${r.batch}: ${r.gpuSteps} steps`);
    // the batch's shared step follows its worst trajectory: at least the CPU's mean
    assert.ok(r.gpuSteps >= Math.floor(r.cpuSteps), `${r.gpuSteps} vs ${r.cpuSteps}`);
    // training's recording: fewer trials than maxSteps, and fewer dispatches for them
    assert.ok(r.trials > r.gpuSteps && r.trials < 30, `batch ${r.batch}: ${r.trials} trials`);
    assert.ok(r.dispatches < r.dispatchesAllTrials, `${r.dispatches} vs ${r.dispatchesAllTrials}`);
  }
  assert.match(formatGpuAdaptiveReport(adaptive), /read-backs/);
});
