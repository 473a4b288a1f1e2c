/**
 * The training loop of a neural ODE: an {@link Mlp} vector field, solved over
 * the data grid with a chosen scheme, fitted by the mean squared error over
 * every saved step, with gradients from the chosen gradient method and AdamW
 * steps (numerics.md §5).
 *
 * Deterministic on the CPU: the same configuration, data and seed give
 * bit-identical losses, and a run resumed from its saved state continues
 * exactly as an uninterrupted one would. A non-finite loss or gradient, a
 * failed adaptive solve, or a reversible backward pass that cannot rebuild
 * the forward solve stops the run with a readable reason, keeps the last good
 * parameters and suggests remedies.
 *
 * @example Ten iterations on the white-dwarf data (on a coarse grid)
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { train } from "./train.ts";
 * import { whiteDwarfData } from "./datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 101 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [10], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 100,
 * });
 * const result = await train({ config, data, iterations: 10 });
 * assert.equal(result.status, "completed");
 * assert.ok(result.history[9].loss < result.history[0].loss);
 * ```
 *
 * @module
 */

import { Mlp } from "../solvers/fields/mlp.ts";
import { mseLossVjp } from "./loss.ts";
import { AdamW, clipGradNorm } from "./adamw.ts";
import { alignSteps, checkData, isUniform, TrainingData } from "./data.ts";
import { driftReason, driftRemedies, gradientReason, lossReason } from "./divergence.ts";
import { TrainLog } from "./log.ts";
import { solve } from "../solvers/solve.ts";
import type { VectorField } from "../solvers/vector_field.ts";
import { splitValidation, validationLoss } from "./validation.ts";
import type { SolveOptions } from "../solvers/options.ts";
import { failureMessage, ReconstructionDriftError, trajectoryFailure } from "../solvers/results.ts";

import { pid } from "../solvers/controller.ts";

import { invalidArgument, requireInteger } from "../solvers/checks.ts";
import {
  checkConfig,
  type FieldTrainConfig,
  gradientSpecOf,
  scheduleOf,
  schemeOf,
  type SeriesData,
  type TrainConfig,
} from "./config.ts";
import {
  copyState,
  type GradientRecord,
  type Progress,
  startState,
  type TrainResult,
  type TrainState,
  type TrainStatus,
} from "./state.ts";

/** Options of {@link train}. */
export interface TrainOptions {
  /**
   * The configuration: with `mlp`, the MLP field it describes trains; without,
   * `field` does ({@link FieldTrainConfig}).
   */
  config: TrainConfig | FieldTrainConfig;
  /**
   * One trajectory, or several (minibatches of `config.batch`); any spacing,
   * and trajectories with different times when `config.batch` is 1. With
   * `config.validation`, part of them is held out (validation.ts).
   */
  data: SeriesData | readonly SeriesData[];
  /** Iterations to run now (on top of `resume.iteration`). */
  iterations: number;
  /** A state to continue from (from {@link train} or a model file); default a fresh start. */
  resume?: TrainState;
  /**
   * A vector field of the caller's own, with its VJP (e.g. a known physics
   * term plus an MLP correction), used instead of `config.mlp`, which must
   * then be absent; its parameter vector is what AdamW trains.
   */
  field?: VectorField;
  /**
   * The initial parameters: required with `field` (unless resuming); for the
   * MLP, instead of its seeded initialisation.
   */
  init?: Float64Array;
  /** Called after every iteration. */
  onProgress?: (progress: Progress) => void;
  /** Checked between iterations; returning true ends the run as "interrupted". */
  shouldStop?: () => boolean;
  /**
   * Aborting it ends the run as "interrupted" at the next iteration boundary,
   * with the state of the iterations done (as `shouldStop`).
   */
  signal?: AbortSignal;
  /**
   * Milliseconds of computing between two yields to the event loop (so that
   * signal handlers and timers run); default 50. Does not change results.
   */
  yieldMs?: number;
}

/**
 * The time-grid part of `solve()`'s options: fixed steps saving every step
 * (the `"aligned"` grid), or outputs at the data times (the `"times"` grid:
 * adaptive steps, or fixed steps with `saveAt.ts` between them).
 */
function _gridOptions(
  config: FieldTrainConfig,
  ts: Float64Array,
  grid: "aligned" | "times",
): Pick<SolveOptions, "t0" | "t1" | "steps" | "controller" | "saveAt"> {
  const t0 = ts[0], t1 = ts[ts.length - 1];
  if (config.adaptive === null) {
    return grid === "aligned"
      ? { t0, t1, steps: config.steps, saveAt: { steps: true } }
      : { t0, t1, steps: config.steps, saveAt: { ts: ts.subarray(1) } };
  }
  const { rtol, atol, maxSteps } = config.adaptive;
  return { t0, t1, controller: pid({ rtol, atol, maxSteps }), saveAt: { ts: ts.subarray(1) } };
}

/**
 * The field a run trains: `options.field`, checked, or the MLP of
 * `config.mlp`; the one given, never both.
 */
function _fieldOf(options: TrainOptions): VectorField {
  const { config, field } = options;
  const mlp = (config as Partial<TrainConfig>).mlp;
  if (field === undefined) {
    if (mlp === undefined) {
      invalidArgument("config.mlp", mlp, "an MLP architecture, or a field of your own in field");
    }
    return Mlp.fromJSON(mlp);
  }
  if (mlp !== undefined) {
    invalidArgument(
      "config.mlp",
      mlp,
      "absent when field is given: the field trains, not an MLP (give one or the other)",
    );
  }
  if (field === null || typeof field !== "object") {
    invalidArgument("field", field, "a VectorField { dim, paramCount, evaluate, vjp }");
  }
  requireInteger("field.dim", field.dim, 1);
  requireInteger("field.paramCount", field.paramCount, 1);
  if (typeof field.evaluate !== "function" || typeof field.vjp !== "function") {
    invalidArgument("field", field, "a VectorField with evaluate() and vjp() methods");
  }
  const list = (Array.isArray(options.data) ? options.data : [options.data]) as SeriesData[];
  const other = list.findIndex((d) => d?.dim !== field.dim);
  if (other >= 0) {
    invalidArgument(
      "field.dim",
      field.dim,
      `${list[other]?.dim}, the data's state dimension (data[${other}].dim): the field ` +
        `and the data must describe states of the same size`,
    );
  }
  return field;
}

/** Everything a run sets up before its first iteration. */
function _setup(options: TrainOptions) {
  const { config } = options;
  checkConfig(config);
  const field = _fieldOf(options);
  if (options.init !== undefined && options.resume !== undefined) {
    invalidArgument("init", options.init, "absent when resuming: the resumed state has its own");
  }
  const split = config.validation
    ? splitValidation(checkData(options.data, field.dim), config)
    : null;
  // a cut trajectory keeps the whole window's step size: fewer steps over it
  const trainConfig = split === null ? config : { ...config, steps: split.steps };
  const data = new TrainingData(trainConfig, split?.train ?? options.data, field.dim);
  const start = options.field !== undefined || options.init !== undefined
    ? { paramCount: field.paramCount, init: options.init }
    : undefined;
  const state = startState(config, options.resume, start);
  return {
    config,
    field,
    split,
    data,
    scheme: schemeOf(config),
    gradient: gradientSpecOf(config),
    schedule: scheduleOf(config),
    state,
    optimizer: AdamW.fromState({ ...state.optimizer, weightDecay: config.weightDecay }),
    shared: _gridOptions(trainConfig, data.list[0].ts, data.grid),
    trainConfig,
    patience: config.patience ?? null,
  };
}

/** Why the run stops before its next iteration (a request, an abort, patience run out), or null. */
function _stopBefore(
  options: TrainOptions,
  log: TrainLog,
  patience: number | null,
): { status: TrainStatus; reason: string } | null {
  const done = log.state.iteration;
  if (options.shouldStop?.()) {
    return { status: "interrupted", reason: `stopped on request after iteration ${done}` };
  }
  if (options.signal?.aborted) {
    return { status: "interrupted", reason: `aborted (signal) after iteration ${done}` };
  }
  if (patience !== null && log.sinceBest >= patience) {
    const { bestIteration, bestLoss } = log.state;
    return {
      status: "completed",
      reason: `stopped early after iteration ${done}: the validation loss has not improved ` +
        `for ${patience} iterations (patience) since its lowest, ${bestLoss} at iteration ` +
        `${bestIteration}; the best parameters are those`,
    };
  }
  return null;
}

/** The gradient record after one more iteration's statistics. */
function _nextRecord(
  record: GradientRecord | null,
  sums: { steps: number; evaluations: number; vjps: number; count: number },
  stats: { method: GradientRecord["method"]; peakBytes: number; reconstructionError?: number },
): GradientRecord {
  const rec = stats.reconstructionError;
  return {
    method: stats.method,
    peakBytes: Math.max(record?.peakBytes ?? 0, stats.peakBytes),
    stepsPerIteration: Math.round(sums.steps / sums.count),
    evaluationsPerIteration: Math.round(sums.evaluations / sums.count),
    vjpsPerIteration: Math.round(sums.vjps / sums.count),
    maxReconstructionError: rec === undefined
      ? null
      : Math.max(record?.maxReconstructionError ?? 0, rec),
  };
}

/**
 * Trains the vector field for `iterations` iterations: each one solves from
 * the data's initial state(s) over the data window, takes the mean squared
 * error against every data point after the first, back-propagates it with
 * the configured gradient method, optionally clips the gradient's norm, and
 * takes an AdamW step at the scheduled learning rate. Yields to the event
 * loop now and then, so that `shouldStop` can be set by a signal handler.
 *
 * With `config.validation`, every iteration also solves the held-out data
 * (validation.ts) at the same parameters as its training loss; the best
 * parameters are then those of the lowest validation loss, and with
 * `config.patience` K the run ends (status "completed", the reason saying
 * so) once K iterations have passed without a lower one.
 *
 * @param options Configuration, data, iteration count, optional field, resume state and callbacks.
 * @returns Status, the resumable state, the loss history and gradient statistics.
 *
 * @example Resuming gives the same losses as an uninterrupted run
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { train } from "./train.ts";
 * import { whiteDwarfData } from "./datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 51 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [4], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 50,
 * });
 * const whole = await train({ config, data, iterations: 6 });
 * const first = await train({ config, data, iterations: 3 });
 * const rest = await train({ config, data, iterations: 3, resume: first.state });
 * assert.deepEqual(rest.state.losses, whole.state.losses);
 * assert.deepEqual(rest.state.params, whole.state.params);
 * assert.ok(whole.gradient!.peakBytes > 0);
 * ```
 *
 * @example A field of your own: y' = a y, fitted to e^{−t}
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { train } from "./train.ts";
 * import { linearField } from "../solvers/fields/linear.ts";
 * import assert from "node:assert/strict";
 *
 * const ts = Float64Array.from({ length: 21 }, (_, i) => i / 10);
 * const data = { ts, ys: ts.map((t) => Math.exp(-t)), dim: 1, source: "e^-t" };
 * const config = defaultConfig({ steps: 20, lr: 0.05 });
 * const result = await train({ config, data, field: linearField(1), init: Float64Array.of(0), iterations: 60 });
 * assert.ok(Math.abs(result.state.bestParams[0] + 1) < 0.2);
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const s = _setup(options);
  const { config, field, data, state, optimizer, split } = s;
  const params = state.params;
  const iterations = requireInteger("iterations", options.iterations, 0);
  const log = new TrainLog(state, iterations, options);

  let record = null as GradientRecord | null;
  const sums = { steps: 0, evaluations: 0, vjps: 0, count: 0 };
  // The state before the previous iteration's update: the last good one
  // should the current iteration diverge (its loss histories are prefixes of
  // the state's, cut on use).
  const lastGood = copyState({ ...state, losses: [], seconds: [], validationLosses: undefined });
  let status: TrainStatus = "completed";
  let reason: string | null = null;
  let drifted = false;
  for (let run = 0; run < iterations; run++) {
    const stop = _stopBefore(options, log, s.patience);
    if (stop !== null) {
      ({ status, reason } = stop);
      break;
    }
    const iteration = state.iteration; // 0-based index of this iteration
    const { members, ts, y0, targets } = data.batch(iteration);
    const grid = data.sharedTimes ? s.shared : _gridOptions(s.trainConfig, ts, data.grid);
    const sol = solve({
      field,
      y0,
      params,
      scheme: s.scheme,
      ...grid,
      gradient: s.gradient,
      throwOnFailure: false,
    });
    const failed = sol.status.findIndex((st) => st !== "success");
    if (failed >= 0 && config.adaptive) {
      status = "diverged";
      const failure = trajectoryFailure(
        sol.status[failed],
        sol.trajectories?.[failed]?.tEnd ?? NaN,
        members[failed],
        grid.controller ?? null,
      )!;
      // what happened, without the solver's advice: the remedies name the settings to change
      reason = `the solve failed at iteration ${iteration + 1}: ` +
        failureMessage(failure, { advice: false });
      break;
    }
    const cotangent = new Float64Array(sol.ys.length);
    const loss = mseLossVjp(
      sol.ys,
      targets,
      cotangent,
      data.weights ? { weights: data.weights, saved: data.saved } : {},
    );
    if (!Number.isFinite(loss)) {
      status = "diverged";
      reason = lossReason(loss, iteration + 1);
      break;
    }
    // at the parameters of this iteration's loss, before its update
    const vLoss = split === null ? undefined : validationLoss(field, params, split, config);
    if (vLoss !== undefined && !Number.isFinite(vLoss)) {
      status = "diverged";
      reason = `the validation loss is ${vLoss} at iteration ${iteration + 1} (training ` +
        `loss ${loss}): the model's solve over the held-out data failed or overflowed`;
      break;
    }
    let g: ReturnType<typeof sol.backward>;
    try {
      g = sol.backward(cotangent);
    } catch (error) {
      const drift = _driftOf(error);
      if (drift === undefined) throw error;
      // This iteration's parameters solved fine: the state after the previous
      // iteration is good, and kept as it is.
      status = "diverged";
      reason = driftReason(iteration + 1, loss, drift);
      drifted = true;
      break;
    }
    const bad = g.params.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      status = "diverged";
      reason = gradientReason(iteration + 1, loss, { index: bad, value: g.params[bad] });
      break;
    }
    sums.steps += g.stats.steps;
    sums.evaluations += g.stats.evaluations;
    sums.vjps += g.stats.vjps;
    sums.count++;
    record = _nextRecord(record, sums, g.stats);
    if (config.clip !== null) clipGradNorm(g.params, config.clip);

    lastGood.iteration = state.iteration;
    lastGood.params.set(params);
    lastGood.optimizer = optimizer.state();
    lastGood.bestLoss = state.bestLoss;
    lastGood.bestIteration = state.bestIteration;
    lastGood.bestParams.set(state.bestParams);
    if (log.improves(vLoss ?? loss)) state.bestParams.set(params);
    optimizer.step(params, g.params, s.schedule(iteration));
    log.record(loss, undefined, vLoss);
    await log.pause();
  }
  let result = state;
  if (status === "diverged" && !drifted) {
    result = lastGood;
    result.losses = state.losses.slice(0, lastGood.iteration);
    result.seconds = state.seconds.slice(0, lastGood.iteration);
    if (state.validationLosses) {
      result.validationLosses = state.validationLosses.slice(0, lastGood.iteration);
    }
  } else {
    result.optimizer = optimizer.state();
  }
  // The optimizer's own rate is the base one; each step passes the scheduled rate.
  result.optimizer = { ...result.optimizer, lr: config.lr };
  const out = log.result(config, { status, reason, gradient: record }, result);
  if (status === "completed" && reason !== null) out.stoppedEarly = true;
  // the remedies read the solver and optimiser settings only, never the MLP
  return drifted
    ? { ...out, remedies: driftRemedies(config as TrainConfig), remedyKind: "drift" }
    : out;
}

/**
 * The relative drift of the reversible backward pass's refusal to return a
 * gradient ({@link ReconstructionDriftError}): the number, null when it is
 * not finite, undefined for any other error.
 */
function _driftOf(error: unknown): number | null | undefined {
  if (!(error instanceof ReconstructionDriftError)) return undefined;
  return Number.isFinite(error.drift) ? error.drift : null;
}

/**
 * The model's trajectory from the data's initial state: at every solver
 * step, or at the data times when the steps are adaptive. Points past a
 * failed solve are NaN.
 *
 * @param config The configuration (architecture, solver, steps).
 * @param params The parameters θ.
 * @param data The data whose window and initial state to use.
 * @returns Times `[n]` and states `[n, dim]`, row 0 the initial state.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * import { initialState } from "./state.ts";
 * import { predict } from "./train.ts";
 * import { whiteDwarfData } from "./datasets/white_dwarf.ts";
 * import assert from "node:assert/strict";
 *
 * const data = whiteDwarfData({ points: 11 });
 * const config = defaultConfig({
 *   mlp: { dim: 2, widths: [3], activation: "tanh", finalActivation: "identity", timeDependent: true },
 *   steps: 20,
 * });
 * const { ts, ys } = predict(config, initialState(config).params, data);
 * assert.equal(ts.length, 21);
 * assert.equal(ts[20], 5);
 * assert.deepEqual([...ys.subarray(0, 2)], [1, 0]);
 * ```
 */
export function predict(
  config: TrainConfig,
  params: Float64Array,
  data: SeriesData,
): { ts: Float64Array; ys: Float64Array } {
  const mlp = Mlp.fromJSON(config.mlp);
  const [d] = checkData(data, mlp.dim);
  // uniform times line up with the steps (or are refused when they cannot); others get
  // outputs at their times
  const uniform = isUniform(d.ts);
  if (config.adaptive === null && uniform) alignSteps(d.ts.length, config.steps);
  const grid = _gridOptions(config, d.ts, uniform ? "aligned" : "times");
  const sol = solve({
    field: mlp,
    y0: d.ys.slice(0, mlp.dim),
    params,
    scheme: schemeOf({ ...config, gradient: "direct" }),
    ...grid,
    saveAt: { ...grid.saveAt, t0: true },
    throwOnFailure: false,
  });
  return { ts: sol.ts, ys: sol.ys };
}
