/**
 * A multilayer perceptron as a {@link VectorField}: `f(t, y; θ)` is a stack of
 * affine layers with an elementwise activation between them, batched over
 * trajectories. The layer maths, each forward pass beside its hand-written
 * vector–Jacobian product, is mlp_kernels.ts (blocks of rows, what runs) and
 * mlp_layers.ts (one row, the reference it equals bit for bit, but for a
 * faster `tanh` within 2 ulp, tanh.ts); where the
 * parameters and activations lie, mlp_layout.ts.
 *
 * @example The 3 → 10 tanh → 2 field of the white-dwarf experiment
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const f = new Mlp({ dim: 2, widths: [10], timeDependent: true });
 * const params = f.init(0);
 * assert.equal(f.paramCount, 10 * 3 + 10 + 2 * 10 + 2);
 * const out = new Float64Array(2);
 * f.evaluate(0.5, Float64Array.of(1, 0), 1, params, out);
 * assert.ok(Number.isFinite(out[0]) && Number.isFinite(out[1]));
 * ```
 *
 * @module
 */

import type { VectorField } from "../vector_field.ts";
import { invalidArgument, requireKnownKeys } from "../checks.ts";
import type { ActivationName } from "./activations.ts";
import {
  initParams,
  type LayerShape,
  MLP_CONFIG_KEYS,
  type MlpLayout,
  mlpLayout,
  resolveMlpOptions,
} from "./mlp_layout.ts";
import { MlpKernels } from "./mlp_kernels.ts";

/**
 * Options of {@link Mlp}.
 *
 * @example
 * ```ts
 * import type { MlpOptions } from "./mlp.ts";
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const options: MlpOptions = { dim: 4, widths: [10], activation: "tanh" };
 * assert.equal(new Mlp(options).paramCount, 4 * 10 + 10 + 10 * 4 + 4);
 * ```
 */
export interface MlpOptions {
  /** Dimension of the state `y` (input and output size); an integer ≥ 1. */
  dim: number;
  /** Hidden layer widths, input side first; may be empty (one affine layer). */
  widths: readonly number[];
  /** Activation after every hidden layer; default `"tanh"`. */
  activation?: ActivationName;
  /** Activation after the output layer; default `"identity"` (a linear output). */
  finalActivation?: ActivationName;
  /** When true the network reads `[t, y]` (size `dim + 1`); default false. */
  timeDependent?: boolean;
  /** Default seed of {@link Mlp.init}; a safe integer, default 0. */
  seed?: number;
}

/**
 * The plain-JSON description of an {@link Mlp}'s architecture, as written to a
 * model file by {@link Mlp.toJSON} and read back by {@link Mlp.fromJSON}.
 *
 * @example
 * ```ts
 * import type { MlpConfig } from "./mlp.ts";
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const config: MlpConfig = {
 *   dim: 2,
 *   widths: [10],
 *   activation: "tanh",
 *   finalActivation: "identity",
 *   timeDependent: true,
 * };
 * assert.deepEqual(Mlp.fromJSON(config).toJSON(), config);
 * ```
 */
export interface MlpConfig {
  /** Dimension of the state. */
  dim: number;
  /** Hidden layer widths. */
  widths: number[];
  /** Activation of the hidden layers. */
  activation: ActivationName;
  /** Activation of the output layer. */
  finalActivation: ActivationName;
  /** Whether the input is `[t, y]`. */
  timeDependent: boolean;
}

/**
 * A multilayer perceptron vector field
 * `f(t, y) = σ_L(W_L ⋯ σ(W_1 σ(W_0 x + b_0) + b_1) ⋯ + b_L)` with input
 * `x = y`, or `x = [t, y]` when time-dependent.
 *
 * Parameters are one flat Float64Array, layer by layer: the weight `[out, in]`
 * row-major, then the bias `[out]` (see {@link Mlp.layerShapes} and
 * {@link Mlp.paramViews}). The object holds no parameters itself; pass them to
 * every call.
 *
 * Rows of the batch are processed in blocks through workspace buffers sized
 * at construction, so neither {@link Mlp.evaluate} nor {@link Mlp.vjp}
 * allocates, whatever the batch, and each row's result is independent of the
 * others bit for bit. `out` may be `y`, and `yBar` may be `y` or `cotangent`.
 * One instance is not re-entrant (its workspace is shared between calls).
 *
 * @example Gradient of ⟨v, f(y)⟩ with respect to y and θ
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const f = new Mlp({ dim: 2, widths: [8, 8], activation: "softplus" });
 * const params = f.init(1);
 * const y = Float64Array.of(0.3, -0.2);
 * const v = Float64Array.of(1, 0);
 * const yBar = new Float64Array(2);
 * const paramsBar = new Float64Array(f.paramCount);
 * f.vjp(0, y, 1, params, v, yBar, paramsBar);
 *
 * // Check ∂⟨v, f⟩/∂y₀ by a central difference.
 * const h = 1e-6;
 * const out = new Float64Array(2);
 * f.evaluate(0, Float64Array.of(0.3 + h, -0.2), 1, params, out);
 * const plus = out[0];
 * f.evaluate(0, Float64Array.of(0.3 - h, -0.2), 1, params, out);
 * const minus = out[0];
 * assert.ok(Math.abs((plus - minus) / (2 * h) - yBar[0]) < 1e-8);
 * ```
 */
export class Mlp implements VectorField {
  /** Dimension of the state `y`. */
  readonly dim: number;
  /** Length of the flat parameter vector. */
  readonly paramCount: number;
  /** Whether the network reads `t` (input `[t, y]`). */
  readonly timeDependent: boolean;
  /** Hidden layer widths, input side first. */
  readonly widths: readonly number[];
  /** Activation of the hidden layers. */
  readonly activation: ActivationName;
  /** Activation of the output layer. */
  readonly finalActivation: ActivationName;
  /** Default seed of {@link Mlp.init}. */
  readonly seed: number;
  /** Network input size: `dim + 1` when time-dependent, else `dim`. */
  readonly inputDim: number;
  /** Where each layer's weight and bias live in the flat parameters. */
  readonly layerShapes: readonly LayerShape[];

  /** Where the layers, activations and pre-activations lie. */
  readonly #net: MlpLayout;
  /** The batched kernels and their workspace. */
  readonly #kernels: MlpKernels;

  /**
   * Builds the architecture (no parameters; see {@link Mlp.init}).
   *
   * @param options Sizes, activations, time dependence and default seed.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => new Mlp({ dim: 0, widths: [] }), /dim.*0.*integer >= 1/);
   * assert.throws(
   *   () => new Mlp({ dim: 2, widths: [4], activation: "gelu" as "tanh" }),
   *   /activation.*"gelu".*tanh, softplus, relu, silu, identity/,
   * );
   * ```
   */
  constructor(options: MlpOptions) {
    if (typeof options === "object" && options !== null && !Array.isArray(options)) {
      requireKnownKeys("options", options, [...MLP_CONFIG_KEYS, "seed"]);
    }
    const o = resolveMlpOptions(options, "");
    this.dim = o.dim;
    this.timeDependent = o.timeDependent;
    this.widths = Object.freeze(o.widths);
    this.activation = o.activation;
    this.finalActivation = o.finalActivation;
    this.seed = o.seed;
    const net = mlpLayout(o);
    this.#net = net;
    this.inputDim = net.inputDim;
    this.paramCount = net.paramCount;
    this.layerShapes = net.layerShapes;
    this.#kernels = new MlpKernels(net);
  }

  /**
   * Rebuilds a network from its {@link MlpConfig} (as parsed from a model
   * file), checking every field.
   *
   * @param config The description; `activation`, `finalActivation` and
   *   `timeDependent` may be omitted (defaults as in {@link MlpOptions}).
   * @returns A network with that architecture.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = Mlp.fromJSON(JSON.parse('{"dim": 4, "widths": [10], "activation": "tanh"}'));
   * assert.equal(f.paramCount, 94);
   * assert.throws(() => Mlp.fromJSON({ dim: 4, widths: [-1] }), /config\.widths\[0\].*-1/);
   * ```
   */
  static fromJSON(config: unknown): Mlp {
    if (typeof config === "object" && config !== null && !Array.isArray(config)) {
      for (const key of Object.keys(config)) {
        if (!MLP_CONFIG_KEYS.includes(key)) {
          invalidArgument("config field name", key, `one of ${MLP_CONFIG_KEYS.join(", ")}`);
        }
      }
    }
    return new Mlp(resolveMlpOptions(config, "config."));
  }

  /**
   * The architecture as plain JSON (no parameters, no seed).
   *
   * @returns `{dim, widths, activation, finalActivation, timeDependent}`.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 4, widths: [10] });
   * assert.equal(
   *   JSON.stringify(f),
   *   '{"dim":4,"widths":[10],"activation":"tanh","finalActivation":"identity","timeDependent":false}',
   * );
   * ```
   */
  toJSON(): MlpConfig {
    return {
      dim: this.dim,
      widths: this.widths.slice(),
      activation: this.activation,
      finalActivation: this.finalActivation,
      timeDependent: this.timeDependent,
    };
  }

  /**
   * Fresh initial parameters, deterministic in `seed`: every weight and bias
   * of a layer with `fan_in` inputs is drawn from `U(−1/√fan_in, 1/√fan_in)`
   * (the PyTorch / Equinox default), in flat-array order.
   *
   * @param seed A safe integer; default {@link Mlp.seed}.
   * @returns A new Float64Array of length {@link Mlp.paramCount}.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 2, widths: [10], seed: 5 });
   * assert.deepEqual(f.init(), f.init(5));
   * assert.notDeepEqual(f.init(5), f.init(6));
   * const bound = 1 / Math.sqrt(2);
   * assert.ok(f.init().subarray(0, 30).every((w) => Math.abs(w) <= bound));
   * ```
   */
  init(seed: number = this.seed): Float64Array {
    return initParams(this.#net, seed);
  }

  /**
   * Named views into a flat parameter (or gradient) vector: writing to a view
   * writes to `params`.
   *
   * @param params A Float64Array of length {@link Mlp.paramCount}.
   * @returns `{"layer0.weight", "layer0.bias", "layer1.weight", …}`, weights
   *   row-major `[outputs, inputs]`.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 2, widths: [3] });
   * const params = f.init();
   * const views = f.paramViews(params);
   * assert.deepEqual(Object.keys(views), [
   *   "layer0.weight", "layer0.bias", "layer1.weight", "layer1.bias",
   * ]);
   * views["layer1.bias"][0] = 7;
   * assert.equal(params[f.layerShapes[1].biasOffset], 7);
   * ```
   */
  paramViews(params: Float64Array): Record<string, Float64Array> {
    this.#checkParams("params", params);
    const views: Record<string, Float64Array> = {};
    for (const s of this.layerShapes) {
      views[`layer${s.index}.weight`] = params.subarray(s.weightOffset, s.biasOffset);
      views[`layer${s.index}.bias`] = params.subarray(s.biasOffset, s.biasOffset + s.outputs);
    }
    return views;
  }

  /**
   * Writes `f(t, y_b; θ)` for every row `b < batch` into `out` (both
   * `[batch, dim]`).
   *
   * @param t The time (read only when time-dependent).
   * @param y The states, `[batch, dim]`.
   * @param batch The number of rows.
   * @param params The flat parameters.
   * @param out Where `f` goes, `[batch, dim]`; may be `y`.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 1, widths: [], finalActivation: "identity" });
   * const params = Float64Array.of(2, 0.5); // f(y) = 2y + 0.5
   * const out = new Float64Array(2);
   * f.evaluate(0, Float64Array.of(1, 3), 2, params, out);
   * assert.deepEqual(out, Float64Array.of(2.5, 6.5));
   * ```
   */
  evaluate(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    out: Float64Array,
  ): void {
    this.#checkCall(y, batch, params, "out", out);
    this.#kernels.evaluate(t, y, batch, params, out);
  }

  /**
   * Vector–Jacobian products at `(t, y)` for the cotangent `v`: overwrites
   * `yBar` with `J_y f(t, y_b)ᵀ v_b` for every row and, when `paramsBar` is
   * given, adds `Σ_b J_θ f(t, y_b)ᵀ v_b` to it. Recomputes the forward pass
   * row by row, keeping pre-activations and outputs, then sweeps back (see
   * {@link Mlp.vjpTaped} for the VJP that re-uses a taped forward pass).
   *
   * @param t The time.
   * @param y The states, `[batch, dim]`.
   * @param batch The number of rows.
   * @param params The flat parameters.
   * @param cotangent The cotangent `v` of `f(t, y)`, `[batch, dim]`.
   * @param yBar Overwritten with `J_yᵀ v`, `[batch, dim]`; may be `y` or `cotangent`.
   * @param paramsBar Accumulates `J_θᵀ v` (`+=`), or null to skip it.
   *
   * @example paramsBar accumulates
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 1, widths: [] });
   * const params = Float64Array.of(2, 0.5); // f(y) = 2y + 0.5
   * const yBar = new Float64Array(1);
   * const paramsBar = new Float64Array(2);
   * f.vjp(0, Float64Array.of(3), 1, params, Float64Array.of(1), yBar, paramsBar);
   * f.vjp(0, Float64Array.of(3), 1, params, Float64Array.of(1), yBar, paramsBar);
   * assert.deepEqual(yBar, Float64Array.of(2));
   * assert.deepEqual(paramsBar, Float64Array.of(6, 2));
   * ```
   */
  vjp(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    cotangent: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void {
    this.#checkCall(y, batch, params, "cotangent", cotangent);
    this.#checkRows("yBar", yBar, batch);
    if (paramsBar !== null) this.#checkParams("paramsBar", paramsBar);
    this.#kernels.vjp(t, y, batch, params, cotangent, yBar, paramsBar);
  }

  /**
   * Entries of the tape that {@link Mlp.evaluateTaped} keeps for `batch`
   * rows: every layer's input, output and pre-activation, row by row.
   *
   * @param batch The number of rows.
   * @returns The tape length.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * // inputs [y] (1) + hidden (4) + output (1), pre-activations 4 + 1
   * assert.equal(new Mlp({ dim: 1, widths: [4] }).tapeLength(2), 2 * (6 + 5));
   * ```
   */
  tapeLength(batch: number): number {
    return batch * (this.#net.actsLength + this.#net.preLength);
  }

  /**
   * Like {@link Mlp.evaluate}, and keeps in `tape` the activations that
   * {@link Mlp.vjpTaped} needs, so the VJP need not run the forward pass
   * again.
   *
   * @param t The time.
   * @param y The states, `[batch, dim]`.
   * @param batch The number of rows.
   * @param params The flat parameters.
   * @param out Where `f` goes, `[batch, dim]`.
   * @param tape At least {@link Mlp.tapeLength} entries.
   *
   * @example The taped VJP equals the plain one
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 2, widths: [5], seed: 1 });
   * const params = f.init();
   * const y = Float64Array.of(0.3, -0.2), v = Float64Array.of(1, 2);
   * const tape = new Float64Array(f.tapeLength(1)), out = new Float64Array(2);
   * f.evaluateTaped(0, y, 1, params, out, tape);
   * const a = new Float64Array(2), b = new Float64Array(2);
   * f.vjpTaped(0, y, 1, params, tape, v, a, null);
   * f.vjp(0, y, 1, params, v, b, null);
   * assert.deepEqual(a, b);
   * ```
   */
  evaluateTaped(
    t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    out: Float64Array,
    tape: Float64Array,
  ): void {
    this.#checkCall(y, batch, params, "out", out);
    this.#checkTape(tape, batch);
    this.#kernels.evaluateTaped(t, y, batch, params, out, tape);
  }

  /**
   * {@link Mlp.vjp} at the `(t, y)` of the {@link Mlp.evaluateTaped} call
   * that filled `tape`, without recomputing the forward pass.
   *
   * @param _t The time of that evaluation.
   * @param y Its states (only their shape is checked).
   * @param batch The number of rows.
   * @param params The flat parameters, unchanged since the evaluation.
   * @param tape The tape it filled.
   * @param cotangent The cotangent `v` of `f(t, y)`.
   * @param yBar Overwritten with `J_yᵀ v`.
   * @param paramsBar Accumulates `J_θᵀ v`, or null.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import assert from "node:assert/strict";
   *
   * const f = new Mlp({ dim: 1, widths: [] });
   * const params = Float64Array.of(2, 0.5);
   * const tape = new Float64Array(f.tapeLength(1));
   * f.evaluateTaped(0, Float64Array.of(3), 1, params, new Float64Array(1), tape);
   * const yBar = new Float64Array(1), pBar = new Float64Array(2);
   * f.vjpTaped(0, Float64Array.of(3), 1, params, tape, Float64Array.of(1), yBar, pBar);
   * assert.deepEqual(pBar, Float64Array.of(3, 1));
   * ```
   */
  vjpTaped(
    _t: number,
    y: Float64Array,
    batch: number,
    params: Float64Array,
    tape: Float64Array,
    cotangent: Float64Array,
    yBar: Float64Array,
    paramsBar: Float64Array | null,
  ): void {
    this.#checkCall(y, batch, params, "cotangent", cotangent);
    this.#checkRows("yBar", yBar, batch);
    this.#checkTape(tape, batch);
    if (paramsBar !== null) this.#checkParams("paramsBar", paramsBar);
    this.#kernels.vjpTaped(batch, params, tape, cotangent, yBar, paramsBar);
  }

  #checkTape(tape: Float64Array, batch: number): void {
    if (!(tape instanceof Float64Array) || tape.length < this.tapeLength(batch)) {
      invalidArgument(
        "tape",
        tape,
        `a Float64Array of at least tapeLength(${batch}) = ${this.tapeLength(batch)} entries`,
      );
    }
  }

  #checkParams(name: string, params: Float64Array): void {
    if (!(params instanceof Float64Array) || params.length !== this.paramCount) {
      invalidArgument(name, params, `a Float64Array of length paramCount = ${this.paramCount}`);
    }
  }

  #checkRows(name: string, values: Float64Array, batch: number): void {
    if (values.length < batch * this.dim) {
      invalidArgument(
        name,
        values,
        `at least batch × dim = ${batch} × ${this.dim} = ${batch * this.dim} entries`,
      );
    }
  }

  #checkCall(
    y: Float64Array,
    batch: number,
    params: Float64Array,
    outName: string,
    out: Float64Array,
  ): void {
    if (!(batch >= 0) || !Number.isInteger(batch)) {
      invalidArgument("batch", batch, "an integer >= 0");
    }
    this.#checkParams("params", params);
    this.#checkRows("y", y, batch);
    this.#checkRows(outName, out, batch);
  }
}
