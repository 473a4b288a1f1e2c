/**
 * What can be said about a training run before it starts: a coupling whose
 * reversible backward pass cannot rebuild the forward solve (numerics.md
 * §2.6), the bytes the run will hold against the memory the caller has,
 * the work of one gradient relative to a short probe of it (to turn a timed
 * probe into an estimate of the whole run), gaps in the data, and data far
 * from order one. Plain arithmetic on the configuration: no Deno APIs, so a
 * program passes in what it knows of its machine.
 *
 * @example
 * ```ts
 * import { couplingCheck, estimateMemory } from "./preflight.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 2, widths: [10], activation: "tanh" as const, finalActivation: "identity" as const, timeDependent: true };
 * const config = defaultConfig({ mlp, steps: 1000, coupling: 0.5 });
 * assert.equal(couplingCheck(config)!.refuse, true);
 * assert.ok(estimateMemory(config, { batch: 1, points: 1001 }).total > 0);
 * ```
 *
 * @module
 */

import type { TrainConfig } from "./config.ts";
import { configNames, type SettingNames } from "./divergence.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { defaultCheckpoints } from "../solvers/gradients/checkpointed.ts";

/**
 * The largest N·(1 − λ) with which the reversible gradient's rebuilt states
 * stay accurate in float64: ε·e^20 ≈ 1e-7 (numerics.md §2.6).
 */
export const DRIFT_LIMIT = 20;

/** The same limit in float32 (the WebGPU backend), whose ε is about 5·10⁸ times larger. */
export const DRIFT_LIMIT_FLOAT32 = 2;

/** A finding before training: a refusal (the run cannot work) or a warning. */
export interface PreflightFinding {
  /** True when the run should not start. */
  refuse: boolean;
  /** The finding, with its numbers and what would work instead. */
  message: string;
}

/** A setting as one would type it: 1e-5 rather than 0.00001. */
function _num(x: number): string {
  const plain = String(x);
  const exp = x.toExponential();
  return exp.length < plain.length ? exp : plain;
}

/** A coupling at least `x` and below 1, with as few digits as that takes: 0.98, 0.99999998. */
function _closerToOne(x: number): number {
  const gap = 1 - x;
  if (!(gap > 0)) return x;
  const digits = Math.ceil(-Math.log10(gap)) + 1;
  const scale = 10 ** digits;
  // a hair up: 1 − (1 − 2e-8) is 1.99999999e-8 in floating point
  return Number((1 - Math.floor(gap * scale * (1 + 1e-9)) / scale).toFixed(digits));
}

/** Whether the configuration's scheme has a coupling λ (a reversible scheme on a tableau). */
function _coupled(config: TrainConfig): boolean {
  return config.scheme === "reversible" && config.solver !== "reversible-heun" &&
    config.solver !== "leapfrog";
}

/**
 * Checks the coupling λ of the reversible gradient against the steps of a
 * solve: its backward pass rebuilds each state through the inverse step,
 * whose determinant is 1/λ, so round-off grows like e^(N·(1 − λ)) over N
 * steps (numerics.md §2.6). Fixed steps past the limit are refused (the
 * first iteration's gradient would be refused by the drift guard, after a
 * whole forward solve); adaptive steps, whose N is at most the step budget,
 * get a warning.
 *
 * @param config The configuration.
 * @param options `float32` for the WebGPU backend (limit 2 instead of 20);
 * `name`, how to name a setting (default: the configuration's keys).
 * @returns A finding, or null when the coupling is within the limit or not used.
 *
 * @example
 * ```ts
 * import { couplingCheck } from "./preflight.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 2, widths: [10], activation: "tanh" as const, finalActivation: "identity" as const, timeDependent: true };
 * const bad = couplingCheck(defaultConfig({ mlp, steps: 1000, coupling: 0.5 }))!;
 * assert.equal(bad.refuse, true);
 * assert.match(bad.message, /N·\(1 − λ\) = 500/);
 * assert.match(bad.message, /coupling 0\.98 or closer to 1/);
 * assert.equal(couplingCheck(defaultConfig({ mlp, steps: 1000, coupling: 0.98 })), null);
 * assert.equal(couplingCheck(defaultConfig({ mlp, steps: 1000, coupling: 0.5, gradient: "direct" })), null);
 * ```
 */
export function couplingCheck(
  config: TrainConfig,
  options: { float32?: boolean; name?: SettingNames } = {},
): PreflightFinding | null {
  if (config.gradient !== "reversible" || !_coupled(config) || config.coupling >= 1) return null;
  const name = options.name ?? configNames;
  const limit = options.float32 ? DRIFT_LIMIT_FLOAT32 : DRIFT_LIMIT;
  const n = config.adaptive ? config.adaptive.maxSteps : config.steps;
  const gap = 1 - config.coupling;
  const product = n * gap;
  // 1000·(1 − 0.98) is 20.000000000000018: the limit itself is within it
  if (product <= limit * (1 + 1e-9)) return null;
  // the least λ and the most steps that keep N·(1 − λ) within the limit
  const least = _closerToOne(1 - limit / n);
  const most = Math.floor(limit / gap + 1e-9);
  const steps = config.adaptive
    ? `up to ${n} steps (${name("maxSteps")})`
    : `${n} steps (${name("steps")})`;
  const head = `coupling λ = ${config.coupling} with ${steps}: N·(1 − λ) = ` +
    `${Number(product.toPrecision(4))}, above the reversible gradient's limit of about ` +
    `${limit}${options.float32 ? " in float32" : ""}. Its backward pass rebuilds each state ` +
    `through the inverse step, dividing by λ, so round-off grows like e^(N·(1 − λ)) ≈ ` +
    `1e${Math.round(product / Math.LN10)} and the gradient would be refused as wrong ` +
    `(numerics.md §2.6).`;
  const fixes = [
    least > 0 ? `${name("coupling")} ${least} or closer to 1` : null,
    config.adaptive ? null : most >= 1 ? `at most ${most} steps (${name("steps")})` : null,
    `${name("gradient", "checkpointed")} or ${
      name("gradient", "direct")
    }, which store states instead of rebuilding them`,
  ].filter((f) => f !== null);
  return {
    refuse: config.adaptive === null,
    message: `${head} What would work: ${fixes.join("; ")}.` +
      (config.adaptive ? " (An adaptive solve may take fewer steps than its budget.)" : ""),
  };
}

/** The shape of what a run solves at once. */
export interface RunShape {
  /** Trajectories solved together (the batch). */
  batch: number;
  /** Data points of a trajectory. */
  points: number;
  /** Trajectories in the data (default `batch`). */
  trajectories?: number;
}

/** One part of a memory estimate: what holds it, the bytes, and the settings that size it. */
export interface MemoryPart {
  /** What holds it, in words. */
  what: string;
  /** Bytes. */
  bytes: number;
  /** The configuration's settings that size it (`mlp.widths`, `steps`, `batch`, `gradient`). */
  settings: string[];
}

/** A run's estimated memory: the total and its parts, largest first. */
export interface MemoryEstimate {
  /** Bytes in all. */
  total: number;
  /** The parts, largest first. */
  parts: MemoryPart[];
}

/** Evaluations of the vector field per step, and states the scheme carries. */
function _stepShape(config: TrainConfig): { stages: number; states: number } {
  if (config.solver === "reversible-heun" || config.solver === "leapfrog") {
    return { stages: 1, states: 2 };
  }
  const stages = tableaux[config.solver]?.a.length ?? 4;
  return { stages, states: config.scheme === "reversible" ? 2 : 1 };
}

/** Layer sizes of the MLP: inputs, the hidden widths, outputs. */
function _sizes(config: TrainConfig): number[] {
  const { dim, widths, timeDependent } = config.mlp;
  return [dim + (timeDependent === false ? 0 : 1), ...widths, dim];
}

/**
 * Estimates the bytes a training run holds at its peak, from the
 * architecture, the steps, the batch and the gradient method: the
 * parameters and their optimiser copies; the MLP's WebAssembly kernel
 * workspace (it keeps a `maxWidth × maxWidth` block, wasm_affine.ts); the
 * solver's outputs and targets (one row per step on the aligned grid, so
 * O(N) for every method); and what the gradient method keeps: `direct`
 * every state and step workspace (O(N)), `checkpointed` C states (O(√N) by
 * default), `reversible` and `backsolve` a few (O(1) in N).
 *
 * @param config The configuration.
 * @param shape The batch and the data's points.
 * @returns The total and its parts, largest first.
 *
 * @example
 * ```ts
 * import { estimateMemory } from "./preflight.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 2, widths: [10], activation: "tanh" as const, finalActivation: "identity" as const, timeDependent: true };
 * const shape = { batch: 1, points: 1001 };
 * const reversible = estimateMemory(defaultConfig({ mlp, steps: 1000 }), shape).total;
 * const direct = estimateMemory(defaultConfig({ mlp, steps: 1000, gradient: "direct" }), shape).total;
 * assert.ok(direct > 5 * reversible);
 * const wide = estimateMemory(defaultConfig({ mlp: { ...mlp, widths: [1e6] }, steps: 1000 }), shape);
 * assert.ok(wide.total > 1e12);
 * assert.ok(wide.parts[0].settings.includes("mlp.widths"));
 * ```
 */
export function estimateMemory(config: TrainConfig, shape: RunShape): MemoryEstimate {
  const sizes = _sizes(config);
  const dim = config.mlp.dim;
  const batch = shape.batch;
  let params = 0;
  for (let l = 0; l + 1 < sizes.length; l++) params += sizes[l] * sizes[l + 1] + sizes[l + 1];
  const maxWidth = Math.max(...sizes);
  // a row's activations and pre-activations (mlp_layout.ts: actsLength + preLength)
  const hidden = sizes.slice(1, -1).reduce((a, b) => a + b, 0);
  const tapeRow = sizes[0] + 2 * hidden + 2 * dim;
  const n = batch * dim;
  const { stages, states } = _stepShape(config);
  // one step's workspace: stage inputs, increments, cotangents and field tapes
  const work = states * stages * (3 * n + batch * tapeRow);
  const steps = config.adaptive ? config.adaptive.maxSteps : config.steps;
  const outputs = config.adaptive ? shape.points : Math.max(steps, shape.points);
  const trajectories = shape.trajectories ?? batch;
  let kept: number;
  let method: string;
  if (config.gradient === "direct") {
    kept = (steps + 1) * states * n + steps * work;
    method = `every state and step workspace of ${steps} steps`;
  } else if (config.gradient === "checkpointed") {
    const c = config.checkpoints ?? defaultCheckpoints(steps);
    kept = (c + 1) * states * n + 2 * work;
    method = `${c} checkpoints`;
  } else {
    kept = 4 * states * n + 2 * work;
    method = "a few states (O(1) in the steps)";
  }
  const parts: MemoryPart[] = [
    {
      // params, gradient, AdamW's two moments, the best and the last good copies, scratch
      what: `the ${params} parameters and their optimiser copies`,
      bytes: 8 * 12 * params,
      settings: ["mlp.widths"],
    },
    {
      what: `the MLP's kernel workspace (a ${maxWidth} × ${maxWidth} block)`,
      bytes: 8 * ((8 + maxWidth) * (maxWidth + 1) + 16 * maxWidth + params + 131),
      settings: ["mlp.widths"],
    },
    {
      what: `the solve's outputs, targets and cotangents (${outputs} rows)`,
      bytes: 8 * 3 * (outputs + 1) * n + 8 * 2 * shape.points * dim * trajectories,
      settings: ["steps", "batch"],
    },
    {
      what: `the ${config.gradient} gradient's states: ${method}`,
      bytes: 8 * kept,
      settings: ["gradient", "steps", "batch", "mlp.widths"],
    },
  ];
  parts.sort((a, b) => b.bytes - a.bytes);
  return { total: parts.reduce((s, p) => s + p.bytes, 0), parts };
}

/** The smallest r with C(c + r, c) ≥ n: how often binomial checkpointing repeats a step. */
function _repetitions(c: number, n: number): number {
  let r = 0;
  let beta = 1; // C(c + r, c)
  while (beta < n && r < n) {
    r++;
    beta = (beta * (c + r)) / r;
  }
  return r;
}

/**
 * The work of one gradient (its forward solve and backward pass) in units
 * of one vector-field evaluation per step, for `steps` steps: what scales a
 * timed probe of a few steps up to the run's steps. Linear in the steps for
 * every method but `checkpointed`, which repeats forward steps about r
 * times, r the smallest with C(C + r, C) ≥ N.
 *
 * @param config The configuration (gradient method, checkpoints).
 * @param steps The steps of the solve.
 * @returns The relative work.
 *
 * @example
 * ```ts
 * import { gradientWork } from "./preflight.ts";
 * import { defaultConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const mlp = { dim: 2, widths: [10], activation: "tanh" as const, finalActivation: "identity" as const, timeDependent: true };
 * const config = defaultConfig({ mlp, steps: 1000 });
 * assert.equal(gradientWork(config, 1000) / gradientWork(config, 10), 100);
 * const checkpointed = { ...config, gradient: "checkpointed" as const };
 * assert.ok(gradientWork(checkpointed, 1000) / gradientWork(checkpointed, 10) >= 100);
 * ```
 */
export function gradientWork(config: TrainConfig, steps: number): number {
  if (config.gradient !== "checkpointed") return 4 * steps; // forward, rebuild or tape, VJP
  const c = config.checkpoints ?? defaultCheckpoints(steps);
  return (3 + _repetitions(c, steps)) * steps;
}

/**
 * Gaps in sampled times: intervals longer than `factor` times the median
 * interval, as where they start, how long they are and how many median
 * intervals they span.
 *
 * @param ts Increasing times.
 * @param factor How many median intervals make a gap (default 3).
 * @returns The gaps, in order, and the median interval.
 *
 * @example
 * ```ts
 * import { samplingGaps } from "./preflight.ts";
 * import assert from "node:assert/strict";
 *
 * const ts = Float64Array.from([0, 0.1, 0.2, 0.3, 2.7, 2.8, 2.9]);
 * const { gaps, median } = samplingGaps(ts);
 * assert.ok(Math.abs(median - 0.1) < 1e-12);
 * assert.equal(gaps.length, 1);
 * assert.equal(gaps[0].index, 3);
 * assert.ok(Math.abs(gaps[0].length - 2.4) < 1e-12);
 * ```
 */
export function samplingGaps(
  ts: ArrayLike<number>,
  factor = 3,
): { median: number; gaps: { index: number; from: number; to: number; length: number }[] } {
  const steps: number[] = [];
  for (let i = 1; i < ts.length; i++) steps.push(ts[i] - ts[i - 1]);
  if (steps.length === 0) return { median: NaN, gaps: [] };
  const sorted = [...steps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const gaps = [];
  for (let i = 0; i < steps.length; i++) {
    if (steps[i] > factor * median) {
      gaps.push({ index: i, from: ts[i], to: ts[i + 1], length: steps[i] });
    }
  }
  return { median, gaps };
}

/**
 * The largest magnitude of the data's states, and whether it is far from
 * order one (at least 1e4, or nonzero and at most 1e-4): a network with
 * tanh units and initial weights of order one fits states of order one;
 * much larger ones overflow the loss, much smaller ones vanish in it.
 *
 * @param data The trajectories' states.
 * @returns The largest |y|, and a sentence when it is far from order one (else null).
 *
 * @example
 * ```ts
 * import { dataScale } from "./preflight.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dataScale([{ ys: Float64Array.from([0.5, -2]) }]).far, null);
 * assert.match(dataScale([{ ys: Float64Array.from([1e200, 3]) }]).far!, /1e\+200/);
 * assert.match(dataScale([{ ys: Float64Array.from([1e-8, 0]) }]).far!, /1e-8/);
 * ```
 */
export function dataScale(
  data: readonly { ys: ArrayLike<number> }[],
): { largest: number; far: string | null } {
  let largest = 0;
  for (const d of data) {
    for (let i = 0; i < d.ys.length; i++) largest = Math.max(largest, Math.abs(d.ys[i]));
  }
  const far = largest >= 1e4 || (largest > 0 && largest <= 1e-4);
  return {
    largest,
    far: far
      ? `the data's values reach |y| = ${
        largest.toExponential(2).replace(/\.?0+e/, "e")
      }, far from order one: ${
        largest >= 1e4 ? "the loss and the solve can overflow" : "the loss is lost in round-off"
      } and the network's units saturate or idle`
      : null,
  };
}

/**
 * Bytes for reading: `512 B`, `3.2 MiB`, `7.3 TiB`.
 *
 * @param bytes A number of bytes.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { bytesText } from "./preflight.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bytesText(512), "512 B");
 * assert.equal(bytesText(3 * 2 ** 30), "3.0 GiB");
 * ```
 */
export function bytesText(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let k = 0;
  let x = bytes;
  while (x >= 1024 && k < units.length - 1) {
    x /= 1024;
    k++;
  }
  return k === 0 ? `${Math.round(x)} B` : `${x.toFixed(1)} ${units[k]}`;
}

/**
 * Seconds for reading: `0.85 s`, `42 s`, `3 min`, `2.5 h`, `4.1 days`, `3e+4 years`.
 *
 * @param seconds A duration.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { durationText } from "./preflight.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(durationText(0.854), "0.85 s");
 * assert.equal(durationText(42), "42 s");
 * assert.equal(durationText(9000), "2.5 h");
 * ```
 */
export function durationText(seconds: number): string {
  if (seconds < 10) return `${Number(seconds.toPrecision(2))} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400 * 2) return `${Number((seconds / 3600).toPrecision(2))} h`;
  const days = seconds / 86400;
  return days < 730
    ? `${Number(days.toPrecision(2))} days`
    : `${_num(Number((days / 365).toPrecision(2)))} years`;
}
