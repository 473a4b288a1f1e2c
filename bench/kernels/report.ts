/**
 * The kernels section's report: the figures, the targets as PASS /
 * FAIL lines, the profile, and the physical limit.
 *
 * @module
 */

import type { KernelsResult } from "./run.ts";

/**
 * The peak assumed for one core: an AMD EPYC (Zen 4) at its nominal
 * 2.1 GHz, two 256-bit FMA pipes, so 2 × 4 × 2 = 16 float64 flops a cycle.
 * V8 emits neither SIMD nor FMA for plain JS loops: its scalar ceiling is
 * two multiplies and two adds a cycle, 4 flops.
 */
export const PEAK_GFLOPS = { vector: 2.1 * 16, scalar: 2.1 * 4 } as const;

/** The targets of issue 20, as ratios. */
export const TARGETS = {
  /** revode direct / PyTorch direct speed, at least. */
  directVsTorch: 1,
  /** revode reversible / PyTorch direct speed, at least. */
  reversibleVsTorch: 0.5,
  /** White dwarf: speed-up over the baseline, at least. */
  whiteDwarf: 2,
  /** Vector field: revode time / ONNX Runtime time, at most. */
  fieldVsOnnx: 2,
} as const;

function _line(pass: boolean | null, text: string): string {
  return `${pass === null ? "SKIP" : pass ? "PASS" : "FAIL"}  ${text}`;
}

/**
 * The report as text.
 *
 * @param r The measurements.
 * @returns The lines.
 *
 * @example
 * ```ts ignore
 * import { formatKernelsReport } from "./report.ts";
 * import { runKernelsBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(formatKernelsReport(await runKernelsBenchmark({ quick: true })), /PASS|FAIL|SKIP/);
 * ```
 */
export function formatKernelsReport(r: KernelsResult): string {
  const s = r.settings;
  const out: string[] = [
    "Kernels (issue 20): the MLP field, float64, one thread; best of " +
    `${s.reps} alternating repetition(s)`,
    "",
    `Batch 256, 4 → 64 tanh → 64 tanh → 4, RK4 h = 0.01, N = ${s.wideSteps}, loss ½‖y_N‖²:`,
    `  revode direct (plain RK4)     ${r.wide.directMs.toFixed(1).padStart(9)} ms`,
    `  revode reversible (λ = 0.999) ${r.wide.reversibleMs.toFixed(1).padStart(9)} ms`,
  ];
  const t = r.wide.torch;
  const targets: string[] = [];
  if ("seconds" in t) {
    const torchMs = 1000 * t.seconds;
    const agree = Math.abs(t.loss - r.wide.directLoss) / Math.abs(t.loss);
    const gradAgree = Math.abs(t.gradNorm - r.wide.directGradNorm) / t.gradNorm;
    out.push(
      `  PyTorch ${t.version} direct     ${torchMs.toFixed(1).padStart(9)} ms  (${t.python}; ` +
        `loss agrees to ${agree.toExponential(1)}, ‖∇θ‖ to ${gradAgree.toExponential(1)})`,
    );
    const direct = torchMs / r.wide.directMs, rev = torchMs / r.wide.reversibleMs;
    targets.push(
      _line(
        direct >= TARGETS.directVsTorch,
        `batch 256 direct: revode at ${direct.toFixed(2)}× PyTorch's speed ` +
          `(target ≥ ${TARGETS.directVsTorch}×)`,
      ),
      _line(
        rev >= TARGETS.reversibleVsTorch,
        `batch 256 reversible: revode at ${rev.toFixed(2)}× PyTorch direct's speed ` +
          `(target ≥ ${TARGETS.reversibleVsTorch}×)`,
      ),
    );
  } else {
    out.push(`  PyTorch: ${t.skipped}`);
    targets.push(_line(null, `batch 256 against PyTorch: ${t.skipped}`));
  }
  const wd = r.whiteDwarf;
  out.push(
    "",
    `White dwarf, batch 1, [t, y] (3) → 10 tanh → 2, reversible RK4, N = ${s.whiteDwarfSteps} ` +
      `(best of ${wd.rounds} alternating rounds):`,
    `  today    ${wd.ms.toFixed(2).padStart(8)} ms`,
  );
  if (wd.baselineMs !== null) {
    out.push(`  baseline ${wd.baselineMs.toFixed(2).padStart(8)} ms`);
    const speedup = wd.baselineMs / wd.ms;
    targets.push(
      _line(
        speedup >= TARGETS.whiteDwarf,
        `white dwarf: ${speedup.toFixed(2)}× faster than the baseline ` +
          `(target ≥ ${TARGETS.whiteDwarf}×)`,
      ),
    );
  } else targets.push(_line(null, `white dwarf against the baseline: ${wd.note}`));
  if (wd.note !== null) out.push(`  (${wd.note})`);
  out.push("", "Vector field alone, float64, one thread, revode vs ONNX Runtime CPU:");
  for (const [i, f] of r.fields.entries()) {
    if (f.onnxMicros === null) {
      out.push(
        `  ${f.label}, batch ${f.batch}: revode ${f.revodeMicros.toFixed(0)} µs; ${f.skipped}`,
      );
      if (i === 0) targets.push(_line(null, `vector field: ${f.skipped}`));
      continue;
    }
    const ratio = f.revodeMicros / f.onnxMicros;
    out.push(
      `  ${f.label}, batch ${f.batch}: revode ${f.revodeMicros.toFixed(0)} µs, ONNX ` +
        `${f.onnxMicros.toFixed(0)} µs: revode takes ${ratio.toFixed(2)}× ` +
        `(outputs agree to ${f.difference!.toExponential(1)})`,
    );
    if (i === 0) {
      targets.push(
        _line(
          ratio <= TARGETS.fieldVsOnnx,
          `vector field (${f.label}), batch ${f.batch}: ${ratio.toFixed(2)}× ONNX Runtime's time ` +
            `(target ≤ ${TARGETS.fieldVsOnnx}×)`,
        ),
      );
    }
  }
  out.push(
    "",
    `Profile (one gradient, every field call timed; peak assumed ${
      PEAK_GFLOPS.vector.toFixed(1)
    } ` +
      `GFLOP/s vector FMA, ${PEAK_GFLOPS.scalar.toFixed(1)} scalar):`,
  );
  for (const p of r.profiles) {
    // The field's time: its calls replayed back to back, without the timers
    // (which cost as much as a call of a small network); shares of the untimed gradient.
    const fieldMs = p.replayMs;
    const share = Math.min(1, fieldMs / p.untimedMs);
    const gflops = p.flops / (fieldMs * 1e6);
    out.push(
      `  ${p.label}: ${p.untimedMs.toFixed(1)} ms, MLP ${(100 * share).toFixed(0)}% ` +
        `(${fieldMs.toFixed(1)} ms replayed; timed in place: forward ` +
        `${p.field.forwardMs.toFixed(1)} ms, VJP ${p.field.vjpMs.toFixed(1)} ms, of which timers ` +
        `${p.timerMs.toFixed(1)} ms), solver ${(100 * (1 - share)).toFixed(0)}%; ` +
        `${(p.flops / 1e6).toFixed(2)} MFLOP in the MLP at ${gflops.toFixed(2)} GFLOP/s = ` +
        `${(100 * gflops / PEAK_GFLOPS.vector).toFixed(0)}% of vector peak, ` +
        `${(100 * gflops / PEAK_GFLOPS.scalar).toFixed(0)}% of scalar`,
    );
  }
  out.push("", "Targets:", ...targets.map((line) => `  ${line}`));
  return out.join("\n");
}
