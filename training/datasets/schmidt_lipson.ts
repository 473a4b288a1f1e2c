/**
 * Readers for the two measured trajectories of Schmidt & Lipson (2009), with
 * the preprocessing of McCallum & Foster (2024) (numerics.md §5):
 *
 * - coupled oscillator (`real_double_linear_h_1.txt`, columns
 *   `trial t x1 x2 v1 v2`): shift time to 0, interpolate x1, x2, v1, v2
 *   linearly onto 500 points of [0, 3] s, divide by 100;
 * - double pendulum (`real_double_pend_h_1.txt`, columns
 *   `trial t θ1 θ2 ω1 ω2` and four derived ones): trial 0 only, the same with
 *   500 points of [0, 2] s, divided by 10.
 *
 * Files are whitespace-separated numbers after a `%` header line (CRLF line
 * ends are fine). A malformed file is refused with an Error whose message
 * reads `FILE:LINE: reason`.
 *
 * @module
 */

import { invalidArgument, requireInteger, requireKnownKeys } from "../../solvers/checks.ts";

/** A trajectory sampled on a time grid, ready for training. */
export interface Trajectory {
  /** Sample times, strictly increasing, starting at 0. */
  ts: Float64Array;
  /** States `[points, dim]` row-major: row `i` is the state at `ts[i]`. */
  ys: Float64Array;
  /** State dimension: (x1, x2, v1, v2) or (θ1, θ2, ω1, ω2). */
  dim: 4;
  /** Where the data came from: a file path or a description of a simulation. */
  source: string;
}

/** How a file is resampled; the defaults are the paper's for each system. */
export interface PreprocessOptions {
  /** Number of grid points, ≥ 2 (default 500). */
  points?: number;
  /** Length of the window [0, duration] in seconds after the shift (3 s oscillator, 2 s pendulum). */
  duration?: number;
  /** Divisor applied to every state component (100 oscillator, 10 pendulum). */
  scale?: number;
  /** Which trial (first column) to keep (default 0). */
  trial?: number;
}

/** File name of the coupled-oscillator data in `shared/data/schmidt-lipson-2009/`. */
export const OSCILLATOR_FILE = "real_double_linear_h_1.txt";
/** File name of the double-pendulum data in `shared/data/schmidt-lipson-2009/`. */
export const PENDULUM_FILE = "real_double_pend_h_1.txt";

interface _Format {
  columns: number;
  names: string;
  duration: number;
  scale: number;
}

const _OSCILLATOR: _Format = {
  columns: 6,
  names: "trial t x1 x2 v1 v2",
  duration: 3,
  scale: 100,
};
const _PENDULUM: _Format = {
  columns: 10,
  names: "trial t θ1 θ2 ω1 ω2 and 4 derived columns",
  duration: 2,
  scale: 10,
};

/**
 * Parses and preprocesses coupled-oscillator data given as text.
 *
 * @param text The file's content.
 * @param source The file name to report in errors and in the result.
 * @param options Resampling; the paper's by default (500 points, [0, 3] s, ÷100).
 * @returns The trajectory `{ ts, ys: [points, 4], dim: 4, source }`.
 *
 * @example
 * ```ts
 * import { parseOscillator } from "./schmidt_lipson.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "% x1 x2 v1 v2\r\n" +
 *   "0 1 100 -100 0 0\r\n" +
 *   "0 4 400 -400 30 60\r\n";
 * const data = parseOscillator(text, "tiny.txt", { points: 4 });
 * assert.deepEqual([...data.ts], [0, 1, 2, 3]);
 * assert.deepEqual([...data.ys.subarray(4, 8)], [2, -2, 0.1, 0.2]); // t = 1 s, ÷100
 * assert.throws(() => parseOscillator("0 1 2\n", "bad.txt"), /bad\.txt:1: .*6 columns/);
 * ```
 */
export function parseOscillator(
  text: string,
  source: string,
  options: PreprocessOptions = {},
): Trajectory {
  return _parse(text, source, _OSCILLATOR, options);
}

/**
 * Parses and preprocesses double-pendulum data given as text (one trial).
 *
 * @param text The file's content.
 * @param source The file name to report in errors and in the result.
 * @param options Resampling; the paper's by default (trial 0, 500 points, [0, 2] s, ÷10).
 * @returns The trajectory `{ ts, ys: [points, 4], dim: 4, source }`.
 *
 * @example
 * ```ts
 * import { parsePendulum } from "./schmidt_lipson.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "% o1 o2 w1 w2\n" +
 *   "0 0 1 2 3 4 0 0 0 0\n" +
 *   "0 2 3 4 5 6 0 0 0 0\n" +
 *   "1 9 9 9 9 9 0 0 0 0\n"; // trial 1 is ignored
 * const data = parsePendulum(text, "tiny.txt", { points: 3 });
 * assert.deepEqual([...data.ys.subarray(4, 8)], [0.2, 0.3, 0.4, 0.5]); // t = 1 s, ÷10
 * ```
 */
export function parsePendulum(
  text: string,
  source: string,
  options: PreprocessOptions = {},
): Trajectory {
  return _parse(text, source, _PENDULUM, options);
}

/**
 * Reads and preprocesses a coupled-oscillator file.
 *
 * @param path Path to `real_double_linear_h_1.txt` or a file of the same format.
 * @param options Resampling; the paper's by default.
 * @returns The trajectory, with `source` set to `path`.
 *
 * @example Real data when the file is there, simulated data of the same system otherwise
 * ```ts
 * import { OSCILLATOR_FILE, readOscillator } from "./schmidt_lipson.ts";
 * import { simulateOscillator } from "./simulated.ts";
 * import assert from "node:assert/strict";
 *
 * const data = await readOscillator(`data/${OSCILLATOR_FILE}`).catch((error) => {
 *   // Absent or unreadable: fall back. A malformed file is still an error.
 *   if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
 *     return simulateOscillator({ seed: 1 });
 *   }
 *   throw error;
 * });
 * assert.equal(data.ys.length, 500 * 4);
 * assert.equal(data.ts[499], 3);
 * ```
 */
export async function readOscillator(
  path: string,
  options: PreprocessOptions = {},
): Promise<Trajectory> {
  return _parse(await Deno.readTextFile(path), path, _OSCILLATOR, options);
}

/**
 * Reads and preprocesses a double-pendulum file.
 *
 * @param path Path to `real_double_pend_h_1.txt` or a file of the same format.
 * @param options Resampling; the paper's by default.
 * @returns The trajectory, with `source` set to `path`.
 *
 * @example
 * ```ts
 * import { PENDULUM_FILE, readPendulum } from "./schmidt_lipson.ts";
 * import { simulatePendulum } from "./simulated.ts";
 * import assert from "node:assert/strict";
 *
 * const data = await readPendulum(`data/${PENDULUM_FILE}`).catch((error) => {
 *   if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
 *     return simulatePendulum();
 *   }
 *   throw error;
 * });
 * assert.equal(data.dim, 4);
 * assert.equal(data.ts[499], 2);
 * ```
 */
export async function readPendulum(
  path: string,
  options: PreprocessOptions = {},
): Promise<Trajectory> {
  return _parse(await Deno.readTextFile(path), path, _PENDULUM, options);
}

const _NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function _parse(
  text: string,
  source: string,
  format: _Format,
  options: PreprocessOptions,
): Trajectory {
  requireKnownKeys("options", options, ["points", "duration", "scale", "trial"]);
  const points = requireInteger("options.points", options.points ?? 500, 2);
  const duration = options.duration ?? format.duration;
  if (!(duration > 0 && duration < Infinity)) {
    invalidArgument("options.duration", duration, "a finite number of seconds > 0");
  }
  const scale = options.scale ?? format.scale;
  if (!(scale !== 0 && Number.isFinite(scale))) {
    invalidArgument("options.scale", scale, "a finite non-zero number");
  }
  const trial = options.trial ?? 0;
  if (!Number.isFinite(trial)) invalidArgument("options.trial", trial, "a finite number");

  const fail = (line: number, reason: string): never => {
    throw new Error(`${source}:${line}: ${reason}`);
  };

  // Rows of the chosen trial: time and the four state columns (2..5).
  const times: number[] = [];
  const states: number[] = [];
  let lastRowLine = 0;
  const lines = text.split(/\r\n|\r|\n/);
  const values = new Float64Array(format.columns);
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (line === "" || line.startsWith("%")) continue;
    const lineNo = k + 1;
    const fields = line.split(/\s+/);
    if (fields.length !== format.columns) {
      fail(
        lineNo,
        `expected ${format.columns} columns (${format.names}), found ${fields.length}`,
      );
    }
    for (let c = 0; c < fields.length; c++) {
      const value = Number(fields[c]);
      if (!_NUMBER.test(fields[c]) || !Number.isFinite(value)) {
        fail(lineNo, `column ${c + 1} is ${JSON.stringify(fields[c])}, not a finite number`);
      }
      values[c] = value;
    }
    if (values[0] !== trial) continue;
    const t = values[1];
    if (times.length > 0 && !(t > times[times.length - 1])) {
      fail(
        lineNo,
        `time ${t} does not increase (previous row of trial ${trial}, line ${lastRowLine}, ` +
          `has ${times[times.length - 1]})`,
      );
    }
    times.push(t);
    for (let c = 2; c < 6; c++) states.push(values[c]);
    lastRowLine = lineNo;
  }

  if (times.length === 0) {
    const lastLine = lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
    fail(Math.max(1, lastLine), `no rows of trial ${trial}`);
  }
  const span = times[times.length - 1] - times[0];
  if (times.length < 2 || span < duration) {
    fail(
      lastRowLine,
      `too few rows: trial ${trial} has ${times.length} row(s) and spans ${span} s, ` +
        `but the window [0, ${duration}] s needs at least 2 rows spanning ${duration} s`,
    );
  }

  const ts = new Float64Array(points);
  const ys = new Float64Array(points * 4);
  const t0 = times[0];
  let j = 0; // times[j] − t0 ≤ τ < times[j + 1] − t0, advanced monotonically
  for (let i = 0; i < points; i++) {
    const tau = i === points - 1 ? duration : (duration * i) / (points - 1);
    ts[i] = tau;
    while (j < times.length - 2 && times[j + 1] - t0 <= tau) j++;
    const a = times[j] - t0;
    const w = (tau - a) / (times[j + 1] - t0 - a);
    for (let c = 0; c < 4; c++) {
      const lo = states[4 * j + c];
      const hi = states[4 * j + 4 + c];
      ys[4 * i + c] = (lo + w * (hi - lo)) / scale;
    }
  }
  return { ts, ys, dim: 4, source };
}
