/**
 * `deno task predict`: a trained model's prediction as a CSV with the data's
 * own column names, in the data's units.
 *
 *     deno task predict --model runs/<run>/model.json [--y0 A,B,…]
 *                       (--ts T0,T1,… | --t1 T --points N) [--out pred.csv]
 *
 * Exit codes: 0 written (or `--help`), 1 the model could not be used or
 * solved, 2 a bad flag or value.
 *
 * @example Bad flags are refused with what is allowed
 * ```ts
 * import { main } from "./predict.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write() {}, error: (t: string) => void (err += t), isTerminal: false };
 * assert.equal(await main(["--ts", "0,1"], io), 2);
 * assert.match(err, /--model FILE is required/);
 * ```
 *
 * @module
 */

import { type CliIo, consoleIo } from "./io.ts";
import { versionText } from "./version.ts";
import { flagHelp, type FlagTable, type FlagValues, parseFlags, UsageError } from "./flags.ts";
import { numberFlag, stringFlag } from "./flag_values.ts";
import { ModelFileError } from "../training/model_format.ts";
import { loadModel, type Model } from "../training/model.ts";
import { writeTextFileAtomic } from "../training/atomic_write.ts";
import { ArgumentError } from "../solvers/checks.ts";
import { SolveFailure } from "../solvers/results.ts";

/** The flags, in help order: name, value placeholder, description. */
const _FLAGS: FlagTable = [
  ["model", "FILE", "the model.json written by deno task train (required)"],
  [
    "y0",
    "A,B,…",
    "the initial state in the data's units, one number per state (default: the first " +
    "training trajectory's)",
  ],
  ["ts", "T0,T1,…", "the times to predict at, increasing; the first is the initial time"],
  ["t1", "T", "predict from the model's t0 to T (with --points)"],
  ["points", "N", "points from t0 to --t1, evenly spaced, both ends included (≥ 2)"],
  ["out", "FILE", "write the CSV here (atomically) instead of to standard output"],
  ["version", "", "print revode's and Deno's versions"],
  ["help", "", "print this help"],
];

/**
 * The help text of `deno task predict`.
 *
 * @returns The text.
 *
 * @example
 * ```ts
 * import { predictHelpText } from "./predict.ts";
 * import assert from "node:assert/strict";
 * assert.match(predictHelpText(), /--points N/);
 * ```
 */
export function predictHelpText(): string {
  const width = Math.max(..._FLAGS.map(([n, v]) => n.length + v.length + 3));
  return [
    "deno task predict: a trained model's prediction as CSV, in the data's units.",
    "",
    "  deno task predict --model runs/<run>/model.json [--y0 A,B,…]",
    "                    (--ts T0,T1,… | --t1 T --points N) [--out pred.csv]",
    "",
    ...flagHelp(_FLAGS, width + 4, 100),
    "",
  ].join("\n");
}

/** A comma-separated list of numbers. */
function _numbers(flag: string, value: string): number[] {
  return value.split(",").map((v) => numberFlag(flag, v.trim(), {}));
}

/** The times of the flags: `--ts`, or `--t1` and `--points` from the model's t0. */
function _times(flags: FlagValues, model: Model): number[] {
  const ts = stringFlag(flags, "ts");
  const t1 = stringFlag(flags, "t1");
  const points = stringFlag(flags, "points");
  if (ts !== undefined && (t1 !== undefined || points !== undefined)) {
    throw new UsageError("give --ts, or --t1 with --points, not both.");
  }
  if (ts !== undefined) return _numbers("ts", ts);
  if (t1 === undefined || points === undefined) {
    throw new UsageError(
      "the times are required: --ts T0,T1,… or --t1 T --points N (from the model's t0, " +
        `${model.config.t0}; it was trained on [${model.config.t0}, ${model.config.t1}]).`,
    );
  }
  const t0 = model.config.t0;
  const end = numberFlag("t1", t1, { above: t0 });
  const n = numberFlag("points", points, { integer: true, min: 2 });
  return Array.from({ length: n }, (_, i) => i === n - 1 ? end : t0 + ((end - t0) * i) / (n - 1));
}

/**
 * The CSV of a prediction: a header of the data's column names, then one row per time.
 *
 * @param model The model (its column names).
 * @param ts Times.
 * @param ys States `[ts.length, dim]`.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { predictionCsv } from "./predict.ts";
 * import assert from "node:assert/strict";
 *
 * const model = { timeName: "time", stateNames: ["x", "v"] };
 * const csv = predictionCsv(model as never, Float64Array.of(0, 1), Float64Array.of(1, 2, 3, 4));
 * assert.equal(csv, "time,x,v\n0,1,2\n1,3,4\n");
 * ```
 */
export function predictionCsv(model: Model, ts: Float64Array, ys: Float64Array): string {
  const names = [model.timeName, ...model.stateNames];
  const quote = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  const dim = names.length - 1;
  const rows = Array.from(ts, (t, i) => [t, ...ys.subarray(i * dim, i * dim + dim)].join(","));
  return [names.map(quote).join(","), ...rows].join("\n") + "\n";
}

/**
 * Runs `deno task predict`.
 *
 * @param args The command-line arguments.
 * @param io Where output and errors go.
 * @returns The exit code: 0 written, 1 model or solve failed, 2 bad flags.
 */
export async function main(args: string[], io: CliIo = consoleIo()): Promise<number> {
  try {
    const flags = parseFlags(args, _FLAGS, { dashValues: true });
    if (flags.help === true) {
      io.write(predictHelpText());
      return 0;
    }
    if (flags.version === true) {
      io.write(versionText("deno task predict"));
      return 0;
    }
    const path = stringFlag(flags, "model");
    if (path === undefined) {
      throw new UsageError("--model FILE is required: the model.json written by deno task train.");
    }
    const model = await loadModel(path);
    const ts = _times(flags, model);
    const y0Flag = stringFlag(flags, "y0");
    const y0 = y0Flag === undefined ? undefined : _numbers("y0", y0Flag);
    if (y0 !== undefined && y0.length !== model.field.dim) {
      throw new UsageError(
        `invalid value for --y0: ${JSON.stringify(y0Flag)}. Allowed: ${model.field.dim} ` +
          `numbers, one per state (${model.stateNames.join(", ")}).`,
      );
    }
    let prediction: { ts: Float64Array; ys: Float64Array };
    try {
      prediction = model.predict({ y0, ts });
    } catch (error) {
      if (error instanceof ArgumentError && error.data.argument.startsWith("ts")) {
        throw new UsageError(
          `invalid value for --ts: ${error.data.got} at ${error.data.argument}. Allowed: ` +
            `${error.data.expected}.`,
        );
      }
      throw error;
    }
    const csv = predictionCsv(model, prediction.ts, prediction.ys);
    const out = stringFlag(flags, "out");
    if (out === undefined) io.write(csv);
    else {
      await writeTextFileAtomic(out, csv);
      io.error(`wrote ${out} (${prediction.ts.length} rows)\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(`error: ${error.message}\n`);
      return 2;
    }
    // the model file, named with its flag
    if (error instanceof ModelFileError) {
      io.error(`error: --model ${error.message}\n`);
      return 1;
    }
    // a solve that failed: one readable line
    if (error instanceof RangeError || error instanceof SolveFailure) {
      io.error(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
