import assert from "node:assert/strict";
import { firstSentence } from "../bench/stats.ts";
import { chaoticField } from "../bench/adaptive/field.ts";
import { formatAdaptiveReport } from "../bench/adaptive/report.ts";
import { runAdaptiveBenchmark } from "../bench/adaptive/run.ts";

Deno.test("bench adaptive: tiny spans give positive times and exact memory accounting", () => {
  const result = runAdaptiveBenchmark({
    spans: [0.5, 0.25],
    repetitions: () => 2,
    configs: [
      { label: "reversible", method: "reversible" },
      { label: "checkpointed", method: "checkpointed" },
      { label: "direct", method: "direct" },
      { label: "reversible K=20", method: "reversible", checkpointEvery: 20 },
    ],
  });
  assert.deepEqual(result.settings.spans, [0.25, 0.5]);
  assert.equal(result.rows.length, 8);
  for (const row of result.rows) {
    const name = `${row.label} T=${row.span}`;
    assert.equal(row.failed, null, name);
    assert.ok(row.ms !== null && row.ms > 0, `${name}: time ${row.ms}`);
    assert.equal(row.repetitions, 2, name);
    assert.ok(row.accepted! > 20 && row.rejected! >= 0, `${name}: ${row.accepted} accepted`);
    assert.ok(row.peakBytes! > 0 && row.finite === true, name);
    assert.ok(row.gradientError! < 1e-10, `${name}: ${row.gradientError}`);
  }
  // Same field, same controller: every method takes the same accepted steps.
  for (const span of [0.25, 0.5]) {
    const counts = result.rows.filter((r) => r.span === span).map((r) => r.accepted);
    assert.equal(new Set(counts).size, 1, `T=${span}: ${counts}`);
  }
  const [lo, hi] = ["reversible", "reversible"].map((label, i) =>
    result.rows.find((r) => r.label === label && r.span === [0.25, 0.5][i])!
  );
  assert.equal(hi.peakBytes! - lo.peakBytes!, 8 * (hi.accepted! - lo.accepted!));
  const k = result.rows.find((r) => r.label === "reversible K=20" && r.span === 0.5)!;
  assert.equal(
    k.peakBytes! - lo.peakBytes!,
    8 * (k.accepted! - lo.accepted!) + result.stateBytes * Math.floor((k.accepted! - 1) / 20),
  );
  const accounting = result.checks.find((c) =>
    c.name.startsWith("reversible held bytes − bytes at the smallest span")
  )!;
  assert.equal(accounting.status, "PASS", accounting.detail);
  assert.deepEqual(result.checks.filter((c) => c.status !== "PASS"), []);
  // The perturbation growth is measured per span (chaos shows over longer spans than these).
  assert.equal(result.chaos.length, 2);
  assert.ok(result.chaos.every((c) => c.growth > 0 && Number.isFinite(c.lyapunov)));
  const text = formatAdaptiveReport(result);
  assert.match(text, /8 bytes each/);
  assert.match(text, /PASS reversible held bytes − bytes at the smallest span/);
  assert.doesNotThrow(() => JSON.stringify(result));
});

Deno.test("bench adaptive: a reversible backward pass that drifts is recorded as failed", () => {
  // λ = 0.5 amplifies round-off by 2 per inverse step: ~50 accepted steps are too many.
  const result = runAdaptiveBenchmark({
    spans: [0.25],
    repetitions: () => 1,
    measureChaos: false,
    configs: [
      { label: "reversible", method: "reversible", coupling: 0.5 },
      { label: "direct", method: "direct", coupling: 0.5 },
    ],
  });
  const row = result.rows.find((r) => r.label === "reversible")!;
  assert.equal(row.ms, null);
  assert.match(row.failed!, /^The reversible backward pass drifted/);
  assert.ok(row.diagnostic!.reconstructionError! > 1e-6);
  assert.equal(row.diagnostic!.peakBytes > 0, true);
  const check = result.checks.find((c) => c.name.startsWith("T=0.25: reversible gradient"))!;
  assert.equal(check.status, "FAIL");
  assert.match(formatAdaptiveReport(result), /failed: reversible T=0\.25/);
});

Deno.test("bench adaptive: the chaotic field is Hamiltonian (divergence-free) and first sentences", () => {
  const { field, params } = chaoticField();
  // q' depends only on p and p' only on q, so ∂q'/∂q = ∂p'/∂p = 0: the Jacobian's diagonal blocks vanish.
  const y = Float64Array.of(0.3, -0.7, 0.2, 0.9),
    f0 = new Float64Array(4),
    f1 = new Float64Array(4);
  field.evaluate(0, y, 1, params, f0);
  for (let j = 0; j < 4; j++) {
    const moved = y.slice();
    moved[j] += 1e-6;
    field.evaluate(0, moved, 1, params, f1);
    for (let i = 0; i < 4; i++) {
      const sameBlock = (i < 2) === (j < 2);
      if (sameBlock) assert.equal(f1[i], f0[i], `∂f${i}/∂y${j}`);
    }
  }
  assert.equal(
    firstSentence("A rebuilt state is 9.02e+29 away, above 0.000001. Round-off grows."),
    "A rebuilt state is 9.02e+29 away, above 0.000001.",
  );
  assert.equal(firstSentence("no full stop"), "no full stop");
});
