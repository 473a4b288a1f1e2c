/**
 * Simulated stand-ins for the Schmidt–Lipson measurements, for when the data
 * files are absent: the same physical systems, integrated with a fine
 * fixed-step RK4, sampled on the paper's grids (numerics.md §5) and scaled
 * like the real data, with seeded Gaussian measurement noise.
 *
 * - Coupled oscillator: two unit masses, each tied to a wall by a spring `k`
 *   and to each other by a spring `kc`,
 *
 *       x1'' = −k x1 + kc (x2 − x1),    x2'' = −k x2 − kc (x2 − x1),
 *
 *   simulated directly in the scaled units of the real data (pixels / 100).
 *   The defaults give an in-phase period 2π/√k ≈ 2.9 s and an anti-phase one
 *   2π/√(k + 2kc) ≈ 2.4 s, like the measured masses (≈ 2.9 s), with
 *   amplitudes of order 1.
 * - Double pendulum: equal masses, equal massless rods, angles from the
 *   vertical; with Δ = θ1 − θ2 and g/L,
 *
 *       θ1'' = [−3 (g/L) sin θ1 − (g/L) sin(θ1 − 2θ2) − 2 sin Δ (ω2² + ω1² cos Δ)] / (3 − cos 2Δ)
 *       θ2'' = [2 sin Δ (2 ω1² + 2 (g/L) cos θ1 + ω2² cos Δ)] / (3 − cos 2Δ)
 *
 *   simulated in radians and rad/s from the first measured state, then
 *   divided by 10 like the real data.
 *
 * @module
 */

import { invalidArgument, requireInteger, requireKnownKeys } from "../../solvers/checks.ts";
import type { Trajectory } from "./schmidt_lipson.ts";

/** Options shared by both simulations. */
export interface SimulateOptions {
  /** Number of grid points, ≥ 2 (default 500, like the real preprocessing). */
  points?: number;
  /** Window [0, duration] in seconds (3 s oscillator, 2 s pendulum). */
  duration?: number;
  /** Standard deviation of the Gaussian noise added after scaling (default 0.01; 0 for none). */
  noise?: number;
  /** Seed of the noise, any safe integer (default 0). */
  seed?: number;
  /** RK4 steps per grid interval (default 20). */
  substeps?: number;
  /** Initial state (x1, x2, v1, v2) or (θ1, θ2, ω1, ω2), in the simulation's units. */
  y0?: ArrayLike<number>;
}

/** The keys of {@link SimulateOptions}. */
const _SIMULATE_KEYS = ["points", "duration", "noise", "seed", "substeps", "y0"];

/** Options of {@link simulateOscillator}. */
export interface OscillatorOptions extends SimulateOptions {
  /** Wall spring constant per unit mass, s⁻² (default 4.6). */
  k?: number;
  /** Coupling spring constant per unit mass, s⁻² (default 0.8). */
  kc?: number;
}

/** Options of {@link simulatePendulum}. */
export interface PendulumOptions extends SimulateOptions {
  /** Gravity over rod length g/L, s⁻² (default 60). */
  gOverL?: number;
}

/**
 * Simulated coupled-oscillator data, shaped like `parseOscillator`'s (schmidt_lipson.ts).
 *
 * @param options Grid, noise, seed, spring constants, initial state.
 * @returns `{ ts, ys: [points, 4], dim: 4, source }` with (x1, x2, v1, v2).
 *
 * @example
 * ```ts
 * import { simulateOscillator } from "./simulated.ts";
 * import assert from "node:assert/strict";
 *
 * const data = simulateOscillator({ seed: 1 });
 * assert.equal(data.ts.length, 500);
 * assert.equal(data.ts[499], 3);
 * assert.deepEqual(simulateOscillator({ seed: 1 }).ys, data.ys);
 * assert.notDeepEqual(simulateOscillator({ seed: 2 }).ys, data.ys);
 * ```
 */
export function simulateOscillator(options: OscillatorOptions = {}): Trajectory {
  requireKnownKeys("options", options, [..._SIMULATE_KEYS, "k", "kc"]);
  const k = _requirePositive("options.k", options.k ?? 4.6);
  const kc = _requireNonNegative("options.kc", options.kc ?? 0.8);
  const rhs = (y: Float64Array, dy: Float64Array): void => {
    const x1 = y[0], x2 = y[1];
    dy[0] = y[2];
    dy[1] = y[3];
    dy[2] = -k * x1 + kc * (x2 - x1);
    dy[3] = -k * x2 - kc * (x2 - x1);
  };
  return _simulate(
    rhs,
    options,
    { duration: 3, scale: 1, y0: [-0.75, -0.7, -0.2, 0.3] },
    `simulated coupled oscillator (k=${k}, kc=${kc})`,
  );
}

/**
 * Simulated double-pendulum data, shaped like `parsePendulum`'s (schmidt_lipson.ts).
 *
 * @param options Grid, noise, seed, g/L, initial state (radians, rad/s).
 * @returns `{ ts, ys: [points, 4], dim: 4, source }` with (θ1, θ2, ω1, ω2) / 10.
 *
 * @example
 * ```ts
 * import { simulatePendulum } from "./simulated.ts";
 * import assert from "node:assert/strict";
 *
 * const data = simulatePendulum({ noise: 0 });
 * assert.equal(data.ys.length, 500 * 4);
 * assert.equal(data.ts[499], 2);
 * assert.ok(Math.abs(data.ys[0] + 0.11336) < 1e-5); // θ1(0) / 10
 * ```
 */
export function simulatePendulum(options: PendulumOptions = {}): Trajectory {
  requireKnownKeys("options", options, [..._SIMULATE_KEYS, "gOverL"]);
  const g = _requirePositive("options.gOverL", options.gOverL ?? 60);
  const rhs = (y: Float64Array, dy: Float64Array): void => {
    const th1 = y[0], th2 = y[1], w1 = y[2], w2 = y[3];
    const delta = th1 - th2;
    const sd = Math.sin(delta), cd = Math.cos(delta);
    const den = 3 - Math.cos(2 * delta);
    dy[0] = w1;
    dy[1] = w2;
    dy[2] = (-3 * g * Math.sin(th1) - g * Math.sin(th1 - 2 * th2) -
      2 * sd * (w2 * w2 + w1 * w1 * cd)) / den;
    dy[3] = (2 * sd * (2 * w1 * w1 + 2 * g * Math.cos(th1) + w2 * w2 * cd)) / den;
  };
  return _simulate(
    rhs,
    options,
    // The first row of trial 0 of real_double_pend_h_1.txt, rounded.
    { duration: 2, scale: 10, y0: [-1.1336, -1.3008, -0.5385, -6.1551] },
    `simulated double pendulum (g/L=${g})`,
  );
}

interface _Defaults {
  duration: number;
  scale: number;
  y0: number[];
}

/** Integrates `rhs` with RK4 onto the grid, scales, and adds noise. */
function _simulate(
  rhs: (y: Float64Array, dy: Float64Array) => void,
  options: SimulateOptions,
  defaults: _Defaults,
  name: string,
): Trajectory {
  const points = requireInteger("options.points", options.points ?? 500, 2);
  const duration = _requirePositive("options.duration", options.duration ?? defaults.duration);
  const noise = _requireNonNegative("options.noise", options.noise ?? 0.01);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) invalidArgument("options.seed", seed, "a safe integer");
  const substeps = requireInteger("options.substeps", options.substeps ?? 20, 1);
  const y0 = options.y0 ?? defaults.y0;
  if (y0.length !== 4) invalidArgument("options.y0", y0, "4 numbers");
  const y = new Float64Array(4);
  for (let c = 0; c < 4; c++) {
    if (!Number.isFinite(y0[c])) invalidArgument(`options.y0[${c}]`, y0[c], "a finite number");
    y[c] = y0[c];
  }

  const ts = new Float64Array(points);
  const ys = new Float64Array(points * 4);
  const k1 = new Float64Array(4), k2 = new Float64Array(4);
  const k3 = new Float64Array(4), k4 = new Float64Array(4);
  const tmp = new Float64Array(4);
  const scale = defaults.scale;
  for (let i = 0; i < points; i++) {
    if (i > 0) {
      // Substeps of the interval [ts[i−1], ts[i]]; the field is autonomous.
      const h = (duration / (points - 1)) / substeps;
      for (let s = 0; s < substeps; s++) {
        rhs(y, k1);
        for (let c = 0; c < 4; c++) tmp[c] = y[c] + 0.5 * h * k1[c];
        rhs(tmp, k2);
        for (let c = 0; c < 4; c++) tmp[c] = y[c] + 0.5 * h * k2[c];
        rhs(tmp, k3);
        for (let c = 0; c < 4; c++) tmp[c] = y[c] + h * k3[c];
        rhs(tmp, k4);
        for (let c = 0; c < 4; c++) {
          y[c] += (h / 6) * (k1[c] + 2 * k2[c] + 2 * k3[c] + k4[c]);
        }
      }
    }
    ts[i] = i === points - 1 ? duration : (duration * i) / (points - 1);
    for (let c = 0; c < 4; c++) ys[4 * i + c] = y[c] / scale;
  }

  if (noise > 0) {
    const normal = _normals(seed);
    for (let i = 0; i < ys.length; i++) ys[i] += noise * normal();
  }
  const y0Text = Array.from(y0, (v) => String(v)).join(", ");
  return {
    ts,
    ys,
    dim: 4,
    source: `${name}, y0=[${y0Text}]` + (scale === 1 ? "" : `, divided by ${scale}`) +
      `, noise=${noise}, seed=${seed}, RK4 with ${substeps} steps per sample`,
  };
}

/**
 * Standard normal draws from a seeded mulberry32 stream (Box–Muller, both
 * values of each pair used).
 */
function _normals(seed: number): () => number {
  // Fold the seed into 32 bits so that negative and large seeds differ.
  let state = (seed | 0) ^ Math.floor(seed / 4294967296) ^ 0x6d2b79f5;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    z = (z ^ (z >>> 14)) >>> 0;
    return (z + 0.5) / 4294967296; // in (0, 1), never 0
  };
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = r * Math.sin(angle);
    hasSpare = true;
    return r * Math.cos(angle);
  };
}

function _requirePositive(name: string, value: number): number {
  if (!(value > 0 && value < Infinity)) invalidArgument(name, value, "a finite number > 0");
  return value;
}

function _requireNonNegative(name: string, value: number): number {
  if (!(value >= 0 && value < Infinity)) invalidArgument(name, value, "a finite number >= 0");
  return value;
}
