/**
 * The `config` section of a model file: the problem (experiment, window,
 * initial state, data) and every training setting, each checked against
 * what the trainer accepts.
 *
 * @module
 */

import { Mlp } from "../solvers/fields/mlp.ts";
import {
  type AdaptiveConfig,
  GRADIENT_NAMES,
  type ScheduleConfig,
  SOLVER_NAMES,
} from "./config.ts";
import { EXAMPLE_NAMES } from "./experiments.ts";
import { parseStartSection } from "./model_parse_start.ts";
import type { FieldChecker } from "./model_check.ts";
import {
  type DataInfo,
  type ModelConfig,
  ModelFileError,
  type TableReading,
} from "./model_format.ts";

/**
 * Parses and validates a model file's `config` section.
 *
 * @param c The checker of the file being read.
 * @param value The section as read from JSON.
 * @returns The configuration, and the parameter count its MLP has (the
 * length the parameter arrays must have).
 * @throws {ModelFileError} Naming the first field that is missing or invalid.
 *
 * @example
 * ```ts
 * import { FieldChecker } from "./model_check.ts";
 * import { parseConfigSection } from "./model_parse_config.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseConfigSection(new FieldChecker("m.json"), { example: "moon" }),
 *   /m\.json: config\.example is "moon"; expected one of "white-dwarf"/);
 * ```
 */
export function parseConfigSection(
  c: FieldChecker,
  value: unknown,
): { config: ModelConfig; paramCount: number } {
  const cfg = c.object("config", value);
  const example = cfg.example === null
    ? null
    : c.oneOf("config.example", cfg.example, EXAMPLE_NAMES);
  let mlp: Mlp;
  try {
    mlp = Mlp.fromJSON(cfg.mlp);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ModelFileError(c.path, `config.mlp is invalid: ${detail}`);
  }
  const solver = _solverSettings(c, cfg);
  const optimizer = _optimizerSettings(c, cfg);
  const batch = c.number("config.batch", cfg.batch, { integer: true, min: 1 });
  const seed = c.number("config.seed", cfg.seed, { integer: true });
  const problem = _problem(c, cfg, mlp.dim);
  const config: ModelConfig = {
    example,
    mlp: mlp.toJSON(),
    ...solver,
    ...optimizer,
    batch,
    seed,
    ..._validationSettings(c, cfg),
    ...problem,
    ...(cfg.command === undefined ? {} : { command: c.string("config.command", cfg.command) }),
  };
  const start = parseStartSection(c, cfg.start, mlp.dim);
  if (start !== undefined) config.start = start;
  return { config, paramCount: mlp.paramCount };
}

/** The solver, scheme, gradient and steps. */
function _solverSettings(
  c: FieldChecker,
  cfg: Record<string, unknown>,
): Pick<
  ModelConfig,
  "solver" | "scheme" | "coupling" | "gradient" | "checkpoints" | "steps" | "adaptive"
> {
  const solver = c.oneOf("config.solver", cfg.solver, SOLVER_NAMES);
  const scheme = c.oneOf("config.scheme", cfg.scheme, ["reversible", "plain"] as const);
  const coupling = c.number("config.coupling", cfg.coupling, { above: 0, max: 1 });
  const gradient = c.oneOf("config.gradient", cfg.gradient, GRADIENT_NAMES);
  const checkpoints = cfg.checkpoints === null
    ? null
    : c.number("config.checkpoints", cfg.checkpoints, { integer: true, min: 1 });
  const steps = c.number("config.steps", cfg.steps, { integer: true, min: 1 });
  let adaptive: AdaptiveConfig | null = null;
  if (cfg.adaptive !== null && cfg.adaptive !== undefined) {
    const a = c.object("config.adaptive", cfg.adaptive);
    adaptive = {
      rtol: c.number("config.adaptive.rtol", a.rtol, { above: 0 }),
      atol: c.number("config.adaptive.atol", a.atol, { above: 0 }),
      maxSteps: c.number("config.adaptive.maxSteps", a.maxSteps, { integer: true, min: 1 }),
    };
  }
  return { solver, scheme, coupling, gradient, checkpoints, steps, adaptive };
}

/** Validation and early stopping, absent in files without them. */
function _validationSettings(
  c: FieldChecker,
  cfg: Record<string, unknown>,
): Pick<ModelConfig, "validation" | "patience"> {
  const out: Pick<ModelConfig, "validation" | "patience"> = {};
  if (cfg.validation !== undefined && cfg.validation !== null) {
    out.validation = c.number("config.validation", cfg.validation, { above: 0 });
    if (out.validation >= 1) c.fail("config.validation", cfg.validation, "a fraction in (0, 1)");
  }
  if (cfg.patience !== undefined && cfg.patience !== null) {
    if (out.validation === undefined) {
      c.fail("config.patience", cfg.patience, "null without config.validation");
    }
    out.patience = c.number("config.patience", cfg.patience, { integer: true, min: 1 });
  }
  return out;
}

/** The optimizer's settings: learning rate, weight decay, schedule, clipping. */
function _optimizerSettings(
  c: FieldChecker,
  cfg: Record<string, unknown>,
): Pick<ModelConfig, "lr" | "weightDecay" | "schedule" | "clip"> {
  const lr = c.number("config.lr", cfg.lr, { above: 0 });
  const weightDecay = c.number("config.weightDecay", cfg.weightDecay, { min: 0 });
  const schedule = _schedule(c, cfg.schedule, lr);
  const clip = cfg.clip === null ? null : c.number("config.clip", cfg.clip, { above: 0 });
  return { lr, weightDecay, schedule, clip };
}

/** The learning-rate schedule; a cosine one ends at or below `lr`. */
function _schedule(c: FieldChecker, value: unknown, lr: number): ScheduleConfig {
  const sched = c.object("config.schedule", value);
  if (c.oneOf("config.schedule.kind", sched.kind, ["constant", "cosine"] as const) !== "cosine") {
    return { kind: "constant" };
  }
  const iterations = c.number("config.schedule.iterations", sched.iterations, {
    integer: true,
    min: 1,
  });
  const schedule: ScheduleConfig = { kind: "cosine", iterations };
  if (sched.warmup !== undefined) {
    schedule.warmup = c.number("config.schedule.warmup", sched.warmup, {
      integer: true,
      min: 0,
      max: iterations - 1,
    });
  }
  if (sched.minLr !== undefined) {
    schedule.minLr = c.number("config.schedule.minLr", sched.minLr, { min: 0, max: lr });
  }
  return schedule;
}

/** The problem: the solve window, the initial state (of the MLP's `dim`) and the data. */
function _problem(
  c: FieldChecker,
  cfg: Record<string, unknown>,
  dim: number,
): Pick<ModelConfig, "t0" | "t1" | "y0" | "data" | "normalization"> {
  const t0 = c.number("config.t0", cfg.t0);
  const t1 = c.number("config.t1", cfg.t1, { above: t0 });
  const y0 = c.numbers("config.y0", cfg.y0, dim);
  const dataObject = c.object("config.data", cfg.data);
  const data: DataInfo = {
    source: c.string("config.data.source", dataObject.source),
    path: dataObject.path === null ? null : c.string("config.data.path", dataObject.path),
    simulated: c.boolean("config.data.simulated", dataObject.simulated),
    points: c.number("config.data.points", dataObject.points, { integer: true, min: 2 }),
  };
  if (dataObject.trajectories !== undefined) {
    data.trajectories = c.number("config.data.trajectories", dataObject.trajectories, {
      integer: true,
      min: 1,
    });
  }
  if (dataObject.columns !== undefined) {
    const cols = c.object("config.data.columns", dataObject.columns);
    const states = cols.states;
    if (!Array.isArray(states) || states.length !== dim) {
      c.fail("config.data.columns.states", states, `an array of ${dim} names`);
    }
    data.columns = {
      time: c.string("config.data.columns.time", cols.time),
      states: (states as unknown[]).map((s, i) => c.string(`config.data.columns.states[${i}]`, s)),
    };
  }
  if (dataObject.table !== undefined) data.table = _tableReading(c, dataObject.table);
  if (cfg.normalization === undefined || cfg.normalization === null) return { t0, t1, y0, data };
  const n = c.object("config.normalization", cfg.normalization);
  const shift = c.numbers("config.normalization.shift", n.shift, dim);
  const scale = c.numbers("config.normalization.scale", n.scale, dim);
  const bad = scale.findIndex((x) => !(x > 0));
  if (bad >= 0) {
    throw new ModelFileError(
      c.path,
      `config.normalization.scale[${bad}] is ${scale[bad]}; expected a number > 0.`,
    );
  }
  return { t0, t1, y0, data, normalization: { shift, scale } };
}

/** How a table was read (`config.data.table`): its options, rows and digest. */
function _tableReading(c: FieldChecker, value: unknown): TableReading {
  const t = c.object("config.data.table", value);
  const o = c.object("config.data.table.options", t.options);
  const names = (key: "columns" | "stateColumns") => {
    const list = o[key];
    if (!Array.isArray(list) || list.length === 0) {
      c.fail(`config.data.table.options.${key}`, list, "an array of column names");
    }
    return (list as unknown[]).map((n, i) => c.string(`config.data.table.options.${key}[${i}]`, n));
  };
  const options: TableReading["options"] = {};
  if (o.columns !== undefined) options.columns = names("columns");
  if (o.timeColumn !== undefined) {
    options.timeColumn = c.string("config.data.table.options.timeColumn", o.timeColumn);
  }
  if (o.stateColumns !== undefined) options.stateColumns = names("stateColumns");
  if (o.trajectoryColumn !== undefined) {
    options.trajectoryColumn = c.string(
      "config.data.table.options.trajectoryColumn",
      o.trajectoryColumn,
    );
  }
  if (o.window !== undefined) {
    const [a, b] = c.numbers("config.data.table.options.window", o.window, 2);
    if (!(a < b)) c.fail("config.data.table.options.window", o.window, "[a, b] with a < b");
    options.window = [a, b];
  }
  return {
    options,
    rows: c.number("config.data.table.rows", t.rows, { integer: true, min: 2 }),
    digest: c.string("config.data.table.digest", t.digest),
  };
}
