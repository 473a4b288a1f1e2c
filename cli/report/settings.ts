/**
 * A run's settings and command line as its report and `summary.json` show
 * them: every setting the model was trained with, named by the flag of
 * `deno task train` that sets it, and the command that ran.
 *
 * @module
 */

import type { ModelConfig } from "../../training/model_format.ts";

/**
 * The run's settings, keyed by the flag that sets each (without `--`), in
 * the order of `deno task train --help`; a setting that does not apply (the
 * adaptive tolerances of fixed steps, the table reading of an experiment) is
 * left out.
 *
 * @param config The model's configuration.
 * @returns The settings, as text or numbers.
 *
 * @example
 * ```ts
 * import { runSettings } from "./settings.ts";
 * import { experimentConfig } from "../../training/experiments.ts";
 * import assert from "node:assert/strict";
 *
 * const config = {
 *   ...experimentConfig("oscillator"), example: "oscillator" as const, t0: 0, t1: 3, y0: [0, 0, 0, 0],
 *   data: { source: "s", path: null, simulated: true, points: 500 },
 * };
 * const s = runSettings(config);
 * assert.equal(s.example, "oscillator");
 * assert.equal(s.width, 10);
 * assert.equal(s.schedule, "constant");
 * assert.equal(s["solve window"], "[0, 3]");
 * ```
 */
export function runSettings(config: ModelConfig): Record<string, string | number> {
  const s: Record<string, string | number> = {};
  s.example = config.example ?? "none (a table)";
  s.data = config.data.path ?? config.data.source;
  s.solver = config.solver;
  s.scheme = config.scheme;
  s.coupling = config.coupling;
  s.gradient = config.gradient;
  if (config.checkpoints !== null) s.checkpoints = config.checkpoints;
  if (config.adaptive === null) {
    s.steps = config.steps;
  } else {
    s.steps = "adaptive";
    s.rtol = config.adaptive.rtol;
    s.atol = config.adaptive.atol;
    s["max-steps"] = config.adaptive.maxSteps;
  }
  s.lr = config.lr;
  s["weight-decay"] = config.weightDecay;
  const sched = config.schedule;
  s.schedule = sched.kind === "constant" ? "constant" : `cosine over ${sched.iterations}` +
    ` iterations${sched.warmup ? `, warmup ${sched.warmup}` : ""}` +
    (sched.minLr === undefined ? "" : `, down to ${sched.minLr}`);
  s.clip = config.clip ?? "none";
  s.width = config.mlp.widths[0] ?? 0;
  s.depth = config.mlp.widths.length;
  s.activation = config.mlp.activation;
  s.batch = config.batch;
  s.seed = config.seed;
  Object.assign(s, startSettings(config));
  s.validation = config.validation ?? "none";
  if (config.patience !== undefined && config.patience !== null) s.patience = config.patience;
  _tableSettings(config, s);
  s["solve window"] = `[${config.t0}, ${config.t1}]`;
  return s;
}

/**
 * The command line of a run, as the model records it (`config.command`), or
 * null for a model written before it did (or by the library).
 *
 * @param config The model's configuration.
 * @returns The line, or null.
 *
 * @example
 * ```ts
 * import { commandOf } from "./settings.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(commandOf({ command: "deno task train --lr 0.1" } as never), "deno task train --lr 0.1");
 * assert.equal(commandOf({} as never), null);
 * ```
 */
export function commandOf(config: ModelConfig): string | null {
  return config.command ?? null;
}

/**
 * How the initial parameters were chosen (`config.start`): the `--restarts`
 * probes with their best losses and the seed kept, or the `--init` file and
 * what of it was taken.
 *
 * @param config The model's configuration.
 * @returns The rows `restarts` and `init` that apply (none for a plain seeded start).
 *
 * @example
 * ```ts
 * import { startSettings } from "./settings.ts";
 * import assert from "node:assert/strict";
 *
 * const restarts = { probe: 200, baseSeed: 0, kept: 1, probes: [
 *   { seed: 0, bestLoss: 4.7e-3, status: "completed" },
 *   { seed: 1, bestLoss: 1.9e-3, status: "completed" }] };
 * assert.deepEqual(startSettings({ start: { restarts } } as never), {
 *   restarts: "2 (seeds 0–1 probed for 200 iterations each, best loss 0: 4.70e-3, " +
 *     "1: 1.90e-3); kept seed 1",
 * });
 * assert.deepEqual(startSettings({ start: { init: { file: "inits.json", form: "paper-inits", seed: 2 } } } as never),
 *   { init: "inits.json (paper-inits, seed 2)" });
 * assert.deepEqual(startSettings({} as never), {});
 * ```
 */
export function startSettings(config: ModelConfig): Record<string, string> {
  const s: Record<string, string> = {};
  const { restarts, init } = config.start ?? {};
  if (restarts !== undefined) {
    const seeds = restarts.probes.map((p) => p.seed);
    const losses = restarts.probes.map((p) =>
      `${p.seed}: ${
        p.status === "completed" && p.bestLoss !== null ? p.bestLoss.toExponential(2) : p.status
      }`
    );
    s.restarts = `${seeds.length} (seeds ${Math.min(...seeds)}–${Math.max(...seeds)} probed ` +
      `for ${restarts.probe} iterations each, best loss ${losses.join(", ")}); kept seed ` +
      `${restarts.kept}`;
  }
  if (init !== undefined) {
    const what = init.form === "paper-inits"
      ? `paper-inits, seed ${init.seed}`
      : init.form === "model"
      ? `model.json, its ${init.params ?? "best"} parameters, ${
        init.normalization === undefined
          ? "in the data's own units"
          : `normalised with shift [${init.normalization.shift.join(", ")}] and scale [${
            init.normalization.scale.join(", ")
          }]`
      }`
      : `${init.form === "array" ? "an array" : "an object"} of parameters`;
    s.init = `${init.file} (${what})`;
  }
  return s;
}

/** The table reading and normalisation of a run on a table. */
function _tableSettings(config: ModelConfig, s: Record<string, string | number>): void {
  const table = config.data.table;
  if (table === undefined) return;
  const o = table.options;
  if (o.columns) s.columns = o.columns.join(",");
  s["time-column"] = config.data.columns?.time ?? o.timeColumn ?? "";
  s["state-columns"] = (config.data.columns?.states ?? o.stateColumns ?? []).join(",");
  if (o.trajectoryColumn !== undefined) s["trajectory-column"] = o.trajectoryColumn;
  if (o.window !== undefined) s.window = o.window.join(":");
  s.normalize = config.normalization === undefined ? "none" : "standard";
}
