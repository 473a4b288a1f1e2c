import assert from "node:assert/strict";
import { checkpointedStepCount } from "../bench/fixed/estimate.ts";
import { formatReport } from "../bench/fixed/report.ts";
import { runBenchmark } from "../bench/fixed/run.ts";

Deno.test("bench: quick in-process run gives positive times and flat reversible memory", () => {
  const sizes = [20, 60];
  const result = runBenchmark({ sizes, repetitions: () => 2 });
  assert.deepEqual(result.settings.sizes, sizes);
  const measured = result.rows.filter((r) => r.skipped === null);
  // reversible, direct, checkpointed (default, 8, 2), backsolve, and the two plain-RK4 references
  assert.equal(measured.length, 8 * sizes.length);
  for (const row of measured) {
    assert.ok(row.ms !== null && row.ms > 0, `${row.label} N=${row.n}: time ${row.ms}`);
    assert.ok(row.peakBytes !== null && row.peakBytes > 0);
    assert.equal(row.repetitions, 2);
    assert.equal(row.finite, true);
    assert.ok(row.timeRatio !== null && row.memoryRatio !== null);
  }
  const reversibleBytes = sizes.map((n) =>
    measured.find((r) => r.n === n && r.label === "reversible")!.peakBytes
  );
  assert.equal(new Set(reversibleBytes).size, 1, `reversible peakBytes ${reversibleBytes}`);
  const directBytes = sizes.map((n) =>
    measured.find((r) => r.n === n && r.label === "direct")!.peakBytes!
  );
  assert.ok(directBytes[1] > directBytes[0]);
  // Exact methods reproduce direct's gradient at these small N.
  for (const row of measured) {
    if (row.method === "reversible" || row.method === "checkpointed") {
      assert.ok(row.gradientError! < 1e-10, `${row.label} c=${row.c}: ${row.gradientError}`);
    }
  }
  const memoryCheck = result.checks.find((c) => c.name.startsWith("reversible held bytes"))!;
  assert.equal(memoryCheck.status, "PASS");
  assert.match(memoryCheck.detail, /row used: "reversible"/);
  assert.ok(result.rows.every((r) => r.failed === null));
  // Sanity checks (gradients equal direct's, schedule model) hold; timing checks
  // and the linear-growth target are not meaningful at this size.
  const failed = result.checks.filter((c) => !c.target && !c.timing && c.status !== "PASS");
  assert.deepEqual(failed, []);
  const text = formatReport(result);
  assert.match(text, /not counted/i);
  assert.match(text, /PASS reversible held bytes do not grow with N/);
  // the summary quotes the bytes the reversible rows really held
  const held = result.rows.find((r) => r.label === "reversible")!.peakBytes!;
  const quoted = text.match(/Summary: Reversible held ([\d ]+) bytes/);
  assert.ok(quoted, "summary line present");
  assert.equal(Number(quoted[1].replaceAll(" ", "")), held);
  assert.doesNotThrow(() => JSON.stringify(result));
});

Deno.test("bench: a configuration whose backward() throws is a failed row, not a crash", () => {
  // λ = 0.5 amplifies round-off by 2 per inverse step: fine at N = 20 (2^20 ε), not at N = 60.
  const result = runBenchmark({
    sizes: [20, 60],
    repetitions: () => 1,
    configs: [
      { label: "reversible", method: "reversible", coupling: 0.5 },
      { label: "direct", method: "direct", coupling: 0.5 },
    ],
  });
  const ok = result.rows.find((r) => r.n === 20 && r.label === "reversible")!;
  assert.equal(ok.failed, null);
  assert.ok(ok.gradientError! < 1e-6);
  const bad = result.rows.find((r) => r.n === 60 && r.label === "reversible")!;
  assert.equal(bad.ms, null);
  assert.match(bad.failed!, /^The reversible backward pass drifted from the forward solve: .*\.$/);
  assert.doesNotMatch(bad.failed!, /Round-off/); // the first sentence only
  assert.match(bad.failedMessage!, /λ\^\(−N\)/);
  // The same solve without the check: the drift and the wrong gradient it would have returned.
  assert.ok(bad.diagnostic!.reconstructionError! > 1e-6);
  assert.ok(bad.diagnostic!.gradientError! > 1e-6);
  const status = (prefix: string) => result.checks.find((c) => c.name.startsWith(prefix))?.status;
  assert.equal(status("N=60: reversible (λ = 0.5) gradient correct"), "FAIL");
  assert.equal(status("reversible held bytes do not grow with N"), "FAIL");
  assert.equal(status("N=60: reversible time ≤ 3 × direct"), "FAIL");
  const text = formatReport(result);
  assert.match(text, /FAILED/);
  assert.match(text, /failed: reversible N=60 \(threw after/);
  assert.match(text, /FAIL N=60: reversible \(λ = 0.5\) gradient correct .*drifted/);
});

Deno.test("bench: the λ and K rows run from their sizes on, compared with direct on their scheme", () => {
  const result = runBenchmark({
    sizes: [20, 60],
    repetitions: () => 1,
    configs: [
      { label: "reversible", method: "reversible" },
      { label: "direct", method: "direct" },
      { label: "reversible K=25", method: "reversible", checkpointEvery: 25 },
      { label: "reversible λ=0.9999", method: "reversible", coupling: 0.9999, minSteps: 60 },
      { label: "direct λ=0.9999", method: "direct", coupling: 0.9999, minSteps: 60 },
    ],
  });
  assert.deepEqual(
    result.rows.filter((r) => r.n === 20).map((r) => r.label),
    ["reversible", "direct"],
  );
  const safe = result.rows.find((r) => r.label === "reversible λ=0.9999")!;
  assert.equal(safe.coupling, 0.9999);
  assert.ok(safe.gradientError! < 1e-10, `${safe.gradientError}`);
  const k = result.rows.find((r) => r.label === "reversible K=25")!;
  const base = result.rows.find((r) => r.n === 20 && r.label === "reversible")!;
  // Two stored states (steps 25 and 50) of [y, z], 2 × 2 × 8 bytes each.
  assert.equal(result.stateBytes, 32);
  assert.equal(k.peakBytes, base.peakBytes! + 2 * 32);
  const accounting = result.checks.find((c) => c.name.startsWith("N=60: reversible K=25 held"))!;
  assert.equal(accounting.status, "PASS");
});

Deno.test("bench: a configuration estimated over the limit is skipped with its reason", () => {
  const result = runBenchmark({
    sizes: [10, 400],
    repetitions: () => 1,
    configLimitMs: 1e-6,
    configs: [
      { label: "reversible", method: "reversible" },
      { label: "checkpointed", method: "checkpointed", checkpoints: 2 },
    ],
  });
  const skipped = result.rows.find((r) => r.n === 400 && r.c === 2)!;
  assert.ok(skipped.skipped !== null && skipped.ms === null);
  assert.match(skipped.skipped!, /estimated .* s per gradient/);
});

Deno.test("bench: checkpointing schedule model counts steps", () => {
  // c ≥ N + 1 stores everything: forward N steps, then one step per reversed step.
  assert.equal(checkpointedStepCount(5, 10), 10);
  // one checkpoint: reversing step i recomputes i steps, then takes it.
  assert.equal(checkpointedStepCount(4, 1), 4 + (0 + 1 + 2 + 3) + 4);
});
