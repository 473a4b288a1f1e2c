/**
 * What `deno task train` prints: the run's settings before it starts, a
 * progress line as it trains, and the summary at the end (how it ended, the
 * gradient's work and memory, the files written, and what to run next,
 * with the remedies of a run that diverged).
 *
 * @module
 */

import type { CliIo } from "./io.ts";
import type { TrainPlan } from "./train_plan.ts";
import type { SavedRun } from "./train_files.ts";
import { RUN_FILES } from "./run_files.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";
import type { BackendChoice } from "../solvers/webgpu/runtime/device.ts";
import type { TrainConfig } from "../training/config.ts";
import type { Progress, TrainResult } from "../training/state.ts";

/** Largest relative error of the rebuilt y0 before the summary warns that gradients are inexact. */
const RECONSTRUCTION_TOLERANCE = 1e-6;

/**
 * The lines printed before training: experiment, data, model, solver,
 * gradient and optimizer, backend and iterations.
 *
 * @param plan The run's plan.
 * @param choice The backend chosen.
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { headerText } from "./train_print.ts";
 * import { planRun } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = await planRun({ steps: "20", iterations: "3" });
 * const text = headerText(plan, { backend: "cpu", gpu: null, message: "backend: CPU (float64)" });
 * assert.match(text, /^revode train: Chandrasekhar white dwarf equation\n/);
 * assert.match(text, /  solver: reversible rk4 \(λ = 0\.999\), 20 steps of 0\.2500 over \[0, 5\]\n/);
 * ```
 */
export function headerText(plan: TrainPlan, choice: BackendChoice): string {
  const { example, config } = plan;
  const first = plan.resume?.iteration ?? 0;
  const total = first + plan.iterations;
  const paramCount = Mlp.fromJSON(config.mlp).paramCount;
  const lines = [
    `revode train: ${example.title}`,
    plan.resumedFrom
      ? `  resuming ${plan.resumedFrom} at iteration ${first}` +
        (plan.overrides.length > 0 ? ` (changed: ${plan.overrides.join(", ")})` : "")
      : null,
    `  ${plan.dataNote}`,
    `  model: MLP ${config.mlp.dim + (config.mlp.timeDependent ? 1 : 0)} → ${
      config.mlp.widths.map((w) => `${w} ${config.mlp.activation}`).join(" → ") || "(affine)"
    } → ${config.mlp.dim}, ${paramCount} parameters`,
    config.adaptive
      ? `  solver: ${_solverText(config)}, adaptive steps (rtol ${_num(config.adaptive.rtol)}, ` +
        `atol ${_num(config.adaptive.atol)}, at most ${config.adaptive.maxSteps}) over ` +
        `[${config.t0}, ${config.t1}], outputs interpolated at the data times`
      : `  solver: ${_solverText(config)}, ${config.steps} steps of ${
        _fmt((config.t1 - config.t0) / config.steps)
      } over [${config.t0}, ${config.t1}]`,
    `  gradient: ${config.gradient}${
      config.gradient === "checkpointed"
        ? config.checkpoints !== null && config.checkpoints !== undefined
          ? ` (${config.checkpoints} checkpoints)`
          : config.adaptive
          ? " (default checkpoints for each solve's number of steps)"
          : ` (${defaultCheckpoints(config.steps)} checkpoints)`
        : ""
    }; AdamW lr ${_num(config.lr)}, weight decay ${_num(config.weightDecay)}${
      config.schedule.kind === "cosine" ? ", cosine schedule" : ""
    }${config.clip !== null ? `, clip ${config.clip}` : ""}; seed ${config.seed}`,
    example.deviation && config.adaptive ? `  note: ${example.deviation}` : null,
    `  ${choice.message}`,
    `  iterations: ${plan.iterations}${first > 0 ? ` (to ${total})` : ""}`,
  ].filter((l) => l !== null);
  return lines.join("\n") + "\n";
}

/**
 * Draws progress: a live `\r` line on a terminal, else about ten plain lines.
 *
 * @param io Where to write.
 * @param run The iterations of this run.
 * @param first The iteration the run starts after (0, or the resumed one).
 * @returns The callback for `train()`'s `onProgress`.
 *
 * @example
 * ```ts
 * import { progressPrinter } from "./train_print.ts";
 * import assert from "node:assert/strict";
 *
 * let out = "";
 * const io = { write: (t: string) => out += t, error: () => {}, isTerminal: false };
 * const progress = { total: 2, loss: 0.5, bestLoss: 0.5, iterationsPerSecond: 10, seconds: 0.1 };
 * progressPrinter(io, 2, 0)({ ...progress, iteration: 1 } as never);
 * assert.equal(out, "iteration 1/2  loss 0.5000  best 0.5000  10.0 it/s  ETA 0.1 s\n");
 * ```
 */
export function progressPrinter(io: CliIo, run: number, first: number): (p: Progress) => void {
  let lastDraw = -Infinity;
  let width = 0;
  const every = Math.max(1, Math.round(run / 10));
  return (p) => {
    const doneNow = p.iteration - first;
    const eta = (p.total - p.iteration) / p.iterationsPerSecond;
    const line = `iteration ${p.iteration}/${p.total}  loss ${_fmt(p.loss)}  best ${
      _fmt(p.bestLoss)
    }  ${p.iterationsPerSecond.toFixed(1)} it/s  ETA ${_duration(eta)}`;
    if (io.isTerminal) {
      // Paced by training time: the GPU reports several iterations at each read-back.
      const now = p.seconds * 1000;
      if (now - lastDraw < 100 && p.iteration < p.total) return;
      lastDraw = now;
      io.write(`\r${line.padEnd(width)}`);
      width = line.length;
      if (p.iteration === p.total) io.write("\n");
    } else if (doneNow % every === 0 || p.iteration === p.total || doneNow === 1) {
      io.write(line + "\n");
    }
  };
}

/**
 * The summary printed after training: how it ended, the best and last
 * loss, the gradient's record (with a warning when the reversible backward
 * pass drifted), the files written, and what to run next.
 *
 * @param plan The run's plan.
 * @param choice The backend it trained on.
 * @param result The run's result.
 * @param dir The output folder.
 * @param saved What saving wrote.
 * @returns The text, starting with an empty line and ending in a newline.
 *
 * @example
 * ```ts
 * import { summaryText } from "./train_print.ts";
 * import { planRun } from "./train_plan.ts";
 * import assert from "node:assert/strict";
 *
 * const plan = await planRun({ steps: "20", iterations: "3" });
 * const choice = { backend: "cpu" as const, gpu: null, message: "" };
 * const result = {
 *   status: "interrupted", reason: null, remedies: [], gradient: null, iterationsRun: 1,
 *   seconds: 1, state: { iteration: 1, bestLoss: 0.5, bestIteration: 1, losses: [0.5] },
 * };
 * const text = summaryText(plan, choice, result as never, "out", { onnxError: null });
 * assert.match(text, /^\nInterrupted \(Ctrl-C\) after iteration 1; the state is saved\.\n/);
 * assert.match(text, /  continue with: deno task train --resume out\/model\.json\n$/);
 * ```
 */
export function summaryText(
  plan: TrainPlan,
  choice: BackendChoice,
  result: TrainResult,
  dir: string,
  saved: SavedRun,
): string {
  const { example, config } = plan;
  const total = (plan.resume?.iteration ?? 0) + plan.iterations;
  const state = result.state;
  const onnxWritten = saved.onnxError === null;
  const onnxNote = saved.onnxError !== null
    ? `  model.onnx not written: ${saved.onnxError}`
    : config.adaptive
    ? `  note: model.onnx integrates with fixed steps (by default ${config.steps} ` +
      `of ${_fmt((config.t1 - config.t0) / config.steps)}, its steps and dt inputs), not ` +
      "the adaptive steps of training"
    : null;
  const summary = [
    "",
    ..._outcomeLines(result, choice),
    `  wrote ${dir}/: model.json, ${onnxWritten ? "model.onnx, " : ""}${RUN_FILES.join(", ")}`,
    onnxNote,
  ];
  if (result.status === "diverged") {
    summary.push(
      `  kept the last good parameters (iteration ${state.iteration}). ` +
        (result.remedyKind === "drift"
          ? "The backward pass rebuilds each state through the inverse step, which divides " +
            "by λ: raise λ toward 1, take fewer steps, or store states instead. Try:"
          : "Try:"),
      ...result.remedies.map((r) => `    - ${r}`),
      `  and continue with: deno task train --resume ${dir}/model.json [changed flags]`,
    );
  } else if (result.status === "interrupted") {
    summary.push(`  continue with: deno task train --resume ${dir}/model.json`);
  } else if (total < example.iterations && example.paperSolvers.length > 0) {
    summary.push(
      `  The paper trains for ${example.iterations} iterations: deno task train --example ` +
        `${example.name} --iterations ${example.iterations}`,
    );
  }
  return summary.filter((l) => l !== null).join("\n") + "\n";
}

/** What stopped a run: the signal train_run.ts names in its reason, Ctrl-C being SIGINT. */
function _stopCause(reason: string | null): string {
  const signal = /^stopped by (SIG[A-Z]+)/.exec(reason ?? "")?.[1];
  return signal === undefined || signal === "SIGINT" ? "Ctrl-C" : signal;
}

/** How the run ended, its losses, the gradient's record and warning, kernels and notes. */
function _outcomeLines(result: TrainResult, choice: BackendChoice): (string | null)[] {
  const state = result.state;
  return [
    result.status === "completed"
      ? `Done: ${result.iterationsRun} iterations in ${_duration(result.seconds)} ` +
        `(${(result.iterationsRun / Math.max(result.seconds, 1e-9)).toFixed(1)} it/s).`
      : result.status === "interrupted"
      ? `Interrupted (${_stopCause(result.reason)}) after iteration ${state.iteration}; ` +
        `the state is saved.`
      : result.remedyKind === "drift"
      ? `Stopped: the reversible gradient could not be computed (a reconstruction drift, ` +
        `not a divergence of training: the loss is finite): ${result.reason}.`
      : `Training diverged: ${result.reason}.`,
    `  best loss ${
      state.bestLoss === null ? "-" : _fmt(state.bestLoss)
    } at iteration ${state.bestIteration}; last loss ${
      state.losses.length > 0 ? _fmt(state.losses[state.losses.length - 1]) : "-"
    }`,
    result.gradient
      ? `  gradient (${result.gradient.method}): peak ${result.gradient.peakBytes} bytes held, ` +
        `${result.gradient.stepsPerIteration} steps, ` +
        `${result.gradient.evaluationsPerIteration} evaluations and ` +
        `${result.gradient.vjpsPerIteration} VJPs per iteration` +
        (result.gradient.maxReconstructionError !== null
          ? `, reconstruction error ≤ ${_fmt(result.gradient.maxReconstructionError)}`
          : "")
      : null,
    (result.gradient?.maxReconstructionError ?? 0) > RECONSTRUCTION_TOLERANCE
      ? `  warning: the reversible backward pass rebuilt y0 only to within ` +
        `${_fmt(result.gradient!.maxReconstructionError!)} (relative), so the gradients are ` +
        (choice.backend === "webgpu"
          ? `inexact; in float32 the error grows like λ^(−N) with the N steps of a solve: ` +
            `take fewer steps, a coupling λ closer to 1, --gradient checkpointed or direct, ` +
            `or --backend cpu (training/webgpu/mod.ts)`
          : `inexact; the error grows like λ^(−N) with the N steps of a solve: take fewer ` +
            `steps, a coupling λ closer to 1 (--coupling), or --gradient checkpointed or ` +
            `direct (numerics.md §2)`)
      : null,
    result.solveKernel
      ? `  kernels: ${
        result.solveKernel === "whole"
          ? "whole-solve (one kernel per pass of the whole solve)"
          : "per stage and step"
      }`
      : null,
    ...(result.notes ?? []).map((n) => `  note: ${n}`),
  ];
}

/** The solver in words: its name, with the scheme and coupling it runs in. */
function _solverText(config: TrainConfig): string {
  if (config.solver === "reversible-heun" || config.solver === "leapfrog") return config.solver;
  return config.scheme === "reversible"
    ? `reversible ${config.solver} (λ = ${config.coupling})`
    : `plain ${config.solver}`;
}

/** A setting as the user would type it: 1e-5 rather than 0.00001. */
function _num(x: number): string {
  const plain = String(x);
  const exp = x.toExponential();
  return exp.length < plain.length ? exp : plain;
}

/** A loss or a step for reading: four significant digits. */
function _fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x === 0
    ? "0"
    : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4
    ? x.toPrecision(4)
    : x.toExponential(3);
}

/** Seconds for reading: `8.5 s`, `42 s`, `3 min 5 s`. */
function _duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}
