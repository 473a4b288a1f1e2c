/**
 * The kernels section (issue 20): the MLP field's speed against the
 * machine and other libraries, every ratio measured side by side in one run.
 *
 * - batch 256, width 64: revode's direct backprop through plain RK4 and its
 *   reversible gradient against PyTorch's direct backprop (torch.ts);
 * - the white dwarf: today's reversible gradient against a baseline
 *   checkout's (`--baseline DIR`, its mod.ts imported into this process and
 *   timed alternately with today's);
 * - the vector field alone, batch 4 096, float64, against ONNX Runtime's CPU
 *   provider on the exported model (onnx.ts);
 * - the profile: the share of each gradient's time inside the MLP, its flops
 *   and the rate they ran at (profile.ts).
 *
 * @module
 */

import * as today from "../../mod.ts";
import { Mlp } from "../../solvers/fields/mlp.ts";
import { type FieldTiming, timeFieldAgainstOnnx } from "./onnx.ts";
import {
  type GradientProblem,
  initialStates,
  multiplyAdds,
  prepareGradient,
  type RevodeApi,
  whiteDwarfProblem,
  wideProblem,
} from "./problems.ts";
import {
  type CallRecord,
  type FieldProfile,
  profileFlops,
  replayMs,
  timedField,
  timerCostMs,
} from "./profile.ts";
import { runTorch, type TorchResult } from "./torch.ts";

/**
 * Options of {@link runKernelsBenchmark}.
 *
 * @example
 * ```ts
 * import type { KernelsOptions } from "./run.ts";
 * import assert from "node:assert/strict";
 *
 * const options: KernelsOptions = { quick: true, baseline: null };
 * assert.equal(options.quick, true);
 * ```
 */
export interface KernelsOptions {
  /** Short runs: N = 10 at batch 256, N = 100 for the white dwarf, one repetition. */
  quick?: boolean;
  /** A checkout of the baseline commit (its mod.ts is imported), or null. */
  baseline?: string | null;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One profiled gradient. */
export interface ProfileRow {
  /** Which problem. */
  label: string;
  /** ms of the whole gradient with the field timed. */
  totalMs: number;
  /** ms of the same gradient untimed. */
  untimedMs: number;
  /** The timers' own cost inside the field's time, ms (calls × one timer read). */
  timerMs: number;
  /** The field's calls replayed back to back without timers, ms. */
  replayMs: number;
  /** What the field did, and its time. */
  field: FieldProfile;
  /** Flops of the MLP per gradient (multiply–adds × 2; activations not counted). */
  flops: number;
}

/** Everything the section measured. */
export interface KernelsResult {
  /** Steps at batch 256 and for the white dwarf; timed repetitions. */
  settings: { wideSteps: number; whiteDwarfSteps: number; reps: number; baseline: string | null };
  /** Batch 256, width 64: best ms per gradient, losses and gradient norms. */
  wide: {
    directMs: number;
    reversibleMs: number;
    directLoss: number;
    directGradNorm: number;
    torch: TorchResult;
  };
  /** The white dwarf: best ms of today's and of the baseline's reversible gradient, over `rounds`. */
  whiteDwarf: { ms: number; baselineMs: number | null; note: string | null; rounds: number };
  /** The vector field alone against ONNX Runtime. */
  fields: FieldTiming[];
  /** The profiles. */
  profiles: ProfileRow[];
}

function _norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function _timeOnce(run: () => unknown): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

function _profile(label: string, p: GradientProblem): ProfileRow {
  const field: FieldProfile = {
    forwardMs: 0,
    vjpMs: 0,
    forwardRows: 0,
    vjpRows: 0,
    tapedVjpRows: 0,
    calls: 0,
  };
  const record: CallRecord = new Map();
  const g = prepareGradient(
    today as unknown as RevodeApi,
    p,
    (f) => timedField(f, field, record),
  );
  const plain = prepareGradient(today as unknown as RevodeApi, p);
  g.run();
  plain.run();
  for (const key of Object.keys(field) as (keyof FieldProfile)[]) field[key] = 0;
  record.clear();
  const totalMs = _timeOnce(g.run);
  replayMs(g.field, record);
  const replayed = Math.min(replayMs(g.field, record), replayMs(g.field, record));
  const untimedMs = Math.min(_timeOnce(plain.run), _timeOnce(plain.run));
  const timerMs = field.calls * timerCostMs();
  const flops = profileFlops(field, multiplyAdds(p));
  return { label, totalMs, untimedMs, timerMs, replayMs: replayed, field, flops };
}

/**
 * Today's and the baseline's white-dwarf gradients, alternately `rounds`
 * times; best of each. A gradient takes milliseconds, so many rounds cost
 * little, and on a shared machine the best of many is what the code does
 * when nothing else runs (the other agents' load swings a best of 20 by 10%).
 */
async function _whiteDwarf(
  steps: number,
  rounds: number,
  baseline: string | null,
): Promise<KernelsResult["whiteDwarf"]> {
  const p = whiteDwarfProblem(steps);
  const mine = prepareGradient(today as unknown as RevodeApi, p);
  let theirs: ReturnType<typeof prepareGradient> | null = null;
  let note: string | null = null;
  if (baseline === null) note = "no --baseline given: today's figure only";
  else {
    try {
      const api = await import(`${new URL(`file://${baseline}/`).href}mod.ts`);
      theirs = prepareGradient(api as RevodeApi, p);
      const a = mine.run(), b = theirs.run();
      const rel = Math.abs(a.loss - b.loss) / Math.abs(b.loss);
      note = `baseline ${baseline}: losses differ by ${rel.toExponential(1)} relative, ` +
        `gradients by ${
          (_norm(a.params.map((v, i) => v - b.params[i])) / _norm(b.params))
            .toExponential(1)
        }`;
    } catch (error) {
      note = `baseline ${baseline} not loaded: ${error instanceof Error ? error.message : error}`;
      theirs = null;
    }
  }
  let ms = Infinity, baselineMs = theirs === null ? null : Infinity;
  for (let r = 0; r < rounds; r++) {
    ms = Math.min(ms, _timeOnce(mine.run));
    if (theirs !== null) baselineMs = Math.min(baselineMs!, _timeOnce(theirs.run));
  }
  return { ms, baselineMs, note, rounds };
}

/**
 * Runs the section.
 *
 * @param options Quick or full, the baseline checkout, progress.
 * @returns The measurements (see {@link KernelsResult}).
 *
 * @example Quick, without a baseline
 * ```ts ignore
 * import { runKernelsBenchmark } from "./run.ts";
 * import assert from "node:assert/strict";
 *
 * const r = await runKernelsBenchmark({ quick: true });
 * assert.ok(r.wide.directMs > 0);
 * ```
 */
export async function runKernelsBenchmark(options: KernelsOptions = {}): Promise<KernelsResult> {
  const quick = options.quick ?? false;
  const log = options.log ?? (() => {});
  const wideSteps = quick ? 10 : 1000;
  const whiteDwarfSteps = quick ? 100 : 1000;
  const reps = quick ? 1 : 2;
  const baseline = options.baseline ?? null;

  log(`kernels: batch 256, width 64, N = ${wideSteps}`);
  const direct = prepareGradient(today as unknown as RevodeApi, wideProblem(wideSteps, "direct"));
  const reversible = prepareGradient(
    today as unknown as RevodeApi,
    wideProblem(wideSteps, "reversible"),
  );
  const first = direct.run();
  reversible.run();
  const p = wideProblem(wideSteps, "direct");
  const torchProblem = { ...p, params: direct.params, y0: initialStates(p), reps };
  let directMs = Infinity, reversibleMs = Infinity;
  let torch: TorchResult = { skipped: "not run" };
  for (let r = 0; r < reps; r++) {
    directMs = Math.min(directMs, _timeOnce(direct.run));
    reversibleMs = Math.min(reversibleMs, _timeOnce(reversible.run));
    const t = await runTorch(torchProblem);
    if ("skipped" in t || !("seconds" in torch) || t.seconds < torch.seconds) torch = t;
    log(
      `kernels: round ${r + 1}/${reps}: direct ${directMs.toFixed(0)} ms, reversible ` +
        `${reversibleMs.toFixed(0)} ms, torch ${
          "seconds" in t ? (1000 * t.seconds).toFixed(0) : t.skipped
        }`,
    );
  }

  log(`kernels: white dwarf, N = ${whiteDwarfSteps}`);
  const whiteDwarf = await _whiteDwarf(whiteDwarfSteps, quick ? 5 : 100, baseline);

  log("kernels: vector field against ONNX Runtime");
  const fields: FieldTiming[] = [];
  const wd = new Mlp({ dim: 2, widths: [10], timeDependent: true });
  fields.push(await timeFieldAgainstOnnx("[t, y] (3) → 10 tanh → 2", wd, wd.init(0), 4096, 5));
  const wide = new Mlp({ dim: 4, widths: [64, 64] });
  fields.push(await timeFieldAgainstOnnx("4 → 64 tanh → 64 tanh → 4", wide, wide.init(0), 4096, 3));

  log("kernels: profile");
  const profiles = [
    _profile("batch 256 direct (plain RK4)", wideProblem(quick ? 5 : 50, "direct")),
    _profile("batch 256 reversible", wideProblem(quick ? 5 : 50, "reversible")),
    _profile("white dwarf reversible", whiteDwarfProblem(whiteDwarfSteps)),
  ];
  return {
    settings: { wideSteps, whiteDwarfSteps, reps, baseline },
    wide: {
      directMs,
      reversibleMs,
      directLoss: first.loss,
      directGradNorm: _norm(first.params),
      torch,
    },
    whiteDwarf,
    fields,
    profiles,
  };
}
