import assert from "node:assert/strict";
import { formatKernelsReport } from "../bench/kernels/report.ts";
import { runKernelsBenchmark } from "../bench/kernels/run.ts";

Deno.test("bench kernels: a quick run reports every target and the profile", async () => {
  const result = await runKernelsBenchmark({ quick: true, baseline: null });
  assert.equal(result.settings.wideSteps, 10);
  assert.ok(result.wide.directMs > 0 && result.wide.reversibleMs > 0);
  const t = result.wide.torch;
  if ("seconds" in t) {
    // the same problem on both sides
    assert.ok(Math.abs(t.loss - result.wide.directLoss) <= 1e-12 * t.loss);
  }
  for (const f of result.fields) {
    if (f.difference !== null) assert.ok(f.difference < 1e-13, `${f.label}: ${f.difference}`);
  }
  assert.equal(result.profiles.length, 3);
  for (const p of result.profiles) assert.ok(p.flops > 0 && p.field.forwardRows > 0);
  const text = formatKernelsReport(result);
  const targets = text.split("Targets:")[1].trim().split("\n");
  assert.equal(targets.length, 4);
  for (const line of targets) assert.match(line.trim(), /^(PASS|FAIL|SKIP) /);
  assert.match(text, /white dwarf against the baseline: no --baseline given/);
  assert.match(text, /MLP \d+% .* solver \d+%/);
});
