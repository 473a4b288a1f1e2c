/**
 * The files a training run leaves next to its `model.json`: `history.csv`,
 * `loss.svg`, `fit.svg` (data against the model's trajectory, axes
 * labelled), `summary.json` and `report.html`, which shows them together.
 *
 * @module
 */

import { writeTextFileAtomic } from "../training/atomic_write.ts";
import { htmlReport, lineChart, PALETTE, type Series } from "./report/svg.ts";
import type { ModelFile } from "../training/model_format.ts";
import type { SeriesData } from "../training/config.ts";
import type { TrainResult } from "../training/state.ts";
import { predictData } from "../training/model.ts";
import { splitValidation } from "../training/validation.ts";
import { residualChart, residuals, residualSummary } from "./report/residuals.ts";
import { commandOf, runSettings } from "./report/settings.ts";

/** What {@link writeRunFiles} needs. */
export interface RunFilesOptions {
  /** A title for the plots and the report. */
  title: string;
  /** The model as saved. */
  model: ModelFile;
  /** The run's result. */
  result: TrainResult;
  /** The data trained on. */
  data: SeriesData;
  /** Names of the state components, for the legend (default y1, y2, …). */
  stateNames?: readonly string[];
  /** Label of the fit plot's vertical axis (default "state"). */
  stateLabel?: string;
  /** Remarks to show in the summary and the report. */
  notes?: string[];
  /**
   * What the run trained on, in words (e.g. `"WebGPU (float32) on llvmpipe …"`);
   * default `"CPU (float64)"`, or the WebGPU backend unnamed when the model says so.
   */
  device?: string;
}

/** The names of the files {@link writeRunFiles} writes. */
export const RUN_FILES: readonly string[] = Object.freeze([
  "history.csv",
  "loss.svg",
  "fit.svg",
  "residuals.svg",
  "summary.json",
  "report.html",
]);

/**
 * The loss history as CSV: `iteration,loss,best_loss,seconds`, every float
 * written so that it reads back exactly.
 *
 * @param result The run's result.
 * @returns The CSV text.
 *
 * @example
 * ```ts
 * import { historyCsv } from "./run_files.ts";
 * import assert from "node:assert/strict";
 *
 * const csv = historyCsv({
 *   history: [{ iteration: 1, loss: 0.5, bestLoss: 0.5, seconds: 0.01 }],
 * } as never);
 * assert.equal(csv, "iteration,loss,best_loss,seconds\n1,0.5,0.5,0.01\n");
 * ```
 */
export function historyCsv(result: Pick<TrainResult, "history">): string {
  // a run with validation adds its loss as a last column
  const validation = result.history.length > 0 && result.history[0].validationLoss !== undefined;
  const rows = ["iteration,loss,best_loss,seconds" + (validation ? ",validation_loss" : "")];
  for (const h of result.history) {
    rows.push(
      `${h.iteration},${h.loss},${h.bestLoss},${Number(h.seconds.toFixed(6))}` +
        (validation ? `,${h.validationLoss}` : ""),
    );
  }
  return rows.join("\n") + "\n";
}

/**
 * What a run held out for validation, in words and numbers (the `validation`
 * entry of `summary.json`), or null for a run without validation.
 *
 * @param options The run.
 * @returns Fraction, what was held out (the extrapolation case: from which
 *   time), patience, the validation losses and whether the run stopped early.
 *
 * @example
 * ```ts
 * import { validationSummary } from "./run_files.ts";
 * import assert from "node:assert/strict";
 *
 * const ts = Float64Array.of(0, 1, 2, 3, 4);
 * const v = validationSummary({
 *   model: { config: { validation: 0.25, patience: null, seed: 0, steps: 4, adaptive: null, data: {} } },
 *   result: { stoppedEarly: undefined, state: { validationLosses: [0.3, 0.2] } },
 *   data: { ts, ys: new Float64Array(5), dim: 1, source: "" },
 * } as never)!;
 * assert.equal(v.heldOut, "the last 0.25 of the time: t > 3");
 * assert.deepEqual([v.bestValidationLoss, v.finalValidationLoss], [0.2, 0.2]);
 * ```
 */
export function validationSummary(
  options: Pick<RunFilesOptions, "model" | "result" | "data">,
): Record<string, unknown> | null {
  const config = options.model.config;
  if (!config.validation) return null;
  const losses = options.result.state.validationLosses ?? [];
  const n = config.data.trajectories ?? 1;
  const cut = n === 1 ? splitValidation(options.data, config).cut : null;
  return {
    fraction: config.validation,
    heldOut: cut === null
      ? `${Math.max(1, Math.round(config.validation * n))} of the ${n} trajectories (chosen ` +
        `from seed ${config.seed})`
      : `the last ${config.validation} of the time: t > ${cut}`,
    heldOutFrom: cut,
    patience: config.patience ?? null,
    stoppedEarly: options.result.stoppedEarly === true,
    bestValidationLoss: losses.length > 0 ? Math.min(...losses) : null,
    finalValidationLoss: losses.length > 0 ? losses[losses.length - 1] : null,
  };
}

/**
 * The summary of a run as plain JSON data (what `summary.json` holds).
 *
 * @param options The run.
 * @returns The summary.
 *
 * @example
 * ```ts
 * import { runSummary } from "./run_files.ts";
 * import { experimentConfig } from "../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const config = {
 *   ...experimentConfig("white-dwarf"), example: "white-dwarf", t0: 0, t1: 5, y0: [1, 0],
 *   data: { source: "s", path: null, simulated: false, points: 1001 },
 *   command: "deno task train --iterations 3",
 * };
 * const summary = runSummary({
 *   title: "t",
 *   model: {
 *     config,
 *     best: { loss: 0.1, iteration: 3 },
 *     training: { iterations: 3, seconds: 1 },
 *   },
 *   result: { status: "completed", reason: null, remedies: [], gradient: null, iterationsRun: 3, seconds: 1, state: { losses: [0.3, 0.2, 0.1] } },
 *   data: { source: "s" },
 * } as never);
 * assert.equal(summary.bestLoss, 0.1);
 * assert.equal(summary.status, "completed");
 * assert.equal(summary.command, "deno task train --iterations 3");
 * assert.equal(summary.settings.solver, config.solver);
 * ```
 */
export function runSummary(
  options: RunFilesOptions,
): Record<string, unknown> & { command: string | null; settings: Record<string, string | number> } {
  const { model, result } = options;
  const losses = result.state.losses;
  return {
    title: options.title,
    command: commandOf(model.config),
    example: model.config.example,
    status: result.status,
    reason: result.reason,
    remedies: result.remedies,
    data: model.config.data,
    simulatedData: model.config.data.simulated,
    settings: runSettings(model.config),
    config: model.config,
    iterations: model.training.iterations,
    iterationsThisRun: result.iterationsRun,
    bestLoss: model.best.loss,
    bestIteration: model.best.iteration,
    finalLoss: losses.length > 0 ? losses[losses.length - 1] : null,
    // with validation, bestLoss and bestIteration are the validation loss's
    bestBy: model.config.validation ? "validation loss" : "training loss",
    validation: validationSummary(options),
    secondsThisRun: result.seconds,
    secondsTotal: model.training.seconds,
    iterationsPerSecond: result.iterationsRun > 0 ? result.iterationsRun / result.seconds : null,
    gradient: result.gradient,
    backend: model.training.backend,
    device: _device(options),
    notes: options.notes ?? [],
    machine: {
      os: Deno.build.os,
      arch: Deno.build.arch,
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
    },
    createdAt: model.createdAt,
  };
}

function _device(options: RunFilesOptions): string {
  return options.device ??
    (options.model.training?.backend === "webgpu" ? "WebGPU (float32)" : "CPU (float64)");
}

/**
 * Writes `history.csv`, `loss.svg`, `fit.svg`, `summary.json` and
 * `report.html` into `dir` (which must exist), each atomically. The fit plot
 * shows the model with its best parameters.
 *
 * @param dir The output folder.
 * @param options The run.
 *
 * @example
 * ```ts
 * import { RUN_FILES, writeRunFiles } from "./run_files.ts";
 * import { modelFromState } from "../training/model_state.ts";
 * import { defaultConfig } from "../training/config.ts";
 * import { train } from "../training/train.ts";
 * import { whiteDwarfData } from "../training/datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const data = whiteDwarfData({ points: 21 });
 *   const config = defaultConfig({
 *     mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *     steps: 20,
 *   });
 *   const result = await train({ config, data, iterations: 2 });
 *   const model = modelFromState({
 *     ...config, example: "white-dwarf", t0: 0, t1: 5, y0: [1, 0],
 *     data: { source: data.source, path: null, simulated: false, points: 21 },
 *   }, result.state, { plannedIterations: 2, status: "completed", reason: null, gradient: result.gradient });
 *   const dir = await Deno.makeTempDir();
 *   await writeRunFiles(dir, { title: "White dwarf", model, result, data });
 *   for (const name of RUN_FILES) assert.ok((await Deno.stat(`${dir}/${name}`)).size > 0);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeRunFiles(dir: string, options: RunFilesOptions): Promise<void> {
  const { model, result, data, title } = options;
  const dim = data.dim;
  const names = options.stateNames ?? Array.from({ length: dim }, (_, k) => `y${k + 1}`);

  const validation = validationSummary(options);
  const iterations = result.history.map((h) => h.iteration);
  const lossSvg = lineChart({
    title: "Training loss",
    xLabel: "iteration",
    yLabel: "MSE loss (log scale)",
    logY: true,
    series: [
      { name: "loss", x: iterations, y: result.history.map((h) => h.loss) },
      { name: "best loss", x: iterations, y: result.history.map((h) => h.bestLoss), dashed: true },
      ...(model.config.validation
        ? [{
          name: "validation loss",
          x: iterations,
          y: result.history.map((h) => h.validationLoss ?? NaN),
          color: PALETTE[2],
        }]
        : []),
    ],
  });

  const bestParams = Float64Array.from(model.best.params);
  // in the data's units, as the data are plotted (a normalised model is mapped back)
  const fit = predictData(model.config, bestParams, data);
  const series: Series[] = [];
  for (let k = 0; k < dim; k++) {
    const color = PALETTE[k % PALETTE.length];
    series.push({
      name: `${names[k]} data`,
      x: data.ts,
      y: Array.from({ length: data.ts.length }, (_, i) => data.ys[i * dim + k]),
      color,
    });
    series.push({
      name: `${names[k]} model`,
      x: fit.ts,
      y: Array.from({ length: fit.ts.length }, (_, i) => fit.ys[i * dim + k]),
      color,
      dashed: true,
    });
  }
  const heldOutFrom = typeof validation?.heldOutFrom === "number" ? validation.heldOutFrom : null;
  const r = residuals(data, fit);
  // of the trajectory plotted (the first), in the data's units
  const summary = {
    ...runSummary(options),
    residuals: {
      of: data.source,
      units: options.stateLabel ?? "the data's units",
      states: residualSummary(names, data, r, heldOutFrom),
    },
  };
  const residualSvg = residualChart(names, data, r, options.stateLabel ?? "state", heldOutFrom);
  const fitSvg = lineChart({
    title: `Data (solid) and model (dashed), iteration ${model.best.iteration}`,
    xLabel: "time t",
    yLabel: options.stateLabel ?? "state",
    series,
    bands: heldOutFrom === null
      ? []
      : [{ from: heldOutFrom, to: data.ts[data.ts.length - 1], label: "held out (validation)" }],
  });

  const rows = _reportRows(options, validation);
  for (const [name, stats] of Object.entries(summary.residuals.states)) {
    rows[`residual RMS of ${name}`] = stats.rms ?? "-";
    if (stats.rmsHeldOut !== undefined) {
      rows[`residual RMS of ${name}, held out`] = stats.rmsHeldOut ?? "-";
    }
  }
  rows.created = model.createdAt;
  const html = htmlReport({
    title,
    command: summary.command ?? undefined,
    summary: rows,
    sections: [{ title: "Settings", rows: summary.settings }],
    images: ["loss.svg", "fit.svg", "residuals.svg"],
  });

  await writeTextFileAtomic(`${dir}/history.csv`, historyCsv(result));
  await writeTextFileAtomic(`${dir}/loss.svg`, lossSvg);
  await writeTextFileAtomic(`${dir}/fit.svg`, fitSvg);
  await writeTextFileAtomic(`${dir}/residuals.svg`, residualSvg);
  await writeTextFileAtomic(`${dir}/summary.json`, JSON.stringify(summary, null, 2) + "\n");
  await writeTextFileAtomic(`${dir}/report.html`, html);
}

/** The report's summary rows: outcome, losses, method, gradient work and notes. */
function _reportRows(
  options: RunFilesOptions,
  validation: Record<string, unknown> | null,
): Record<string, string | number> {
  const { model, result } = options;
  const gradient = result.gradient;
  const finalLoss = result.state.losses[result.state.losses.length - 1] ?? null;
  const rows: Record<string, string | number> = {
    status: result.reason ? `${result.status}: ${result.reason}` : result.status,
    data: `${model.config.data.source}${model.config.data.simulated ? " (simulated)" : ""}`,
    solver: model.config.solver === "reversible-heun" || model.config.solver === "leapfrog"
      ? model.config.solver
      : `${model.config.scheme} ${model.config.solver}` +
        (model.config.scheme === "reversible" ? ` (λ = ${model.config.coupling})` : ""),
    steps: model.config.adaptive
      ? `adaptive (rtol ${model.config.adaptive.rtol}, atol ${model.config.adaptive.atol}, ` +
        `at most ${model.config.adaptive.maxSteps})`
      : model.config.steps,
    gradient: model.config.gradient,
    backend: _device(options),
    "MLP widths": `[${model.config.mlp.widths.join(", ")}] ${model.config.mlp.activation}`,
    "iterations (total)": model.training.iterations,
    "best loss": model.best.loss ?? "-",
    "best iteration": model.best.iteration,
    "final loss": finalLoss ?? "-",
    ...(validation === null ? {} : {
      validation: `${validation.heldOut}` +
        (validation.patience === null ? "" : `; patience ${validation.patience}`) +
        (validation.stoppedEarly ? "; stopped early" : ""),
      "best validation loss": (validation.bestValidationLoss as number | null) ?? "-",
      "final validation loss": (validation.finalValidationLoss as number | null) ?? "-",
    }),
    "training seconds (this run)": Number(result.seconds.toFixed(3)),
  };
  if (gradient) {
    rows["gradient peak bytes"] = gradient.peakBytes;
    rows["steps / iteration"] = gradient.stepsPerIteration;
    rows["evaluations / iteration"] = gradient.evaluationsPerIteration;
    rows["VJPs / iteration"] = gradient.vjpsPerIteration;
    if (gradient.maxReconstructionError !== null) {
      rows["max reconstruction error"] = gradient.maxReconstructionError;
    }
  }
  (options.notes ?? []).forEach((note, i) => rows[`note ${i + 1}`] = note);
  return rows;
}
