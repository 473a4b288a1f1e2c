import assert from "node:assert/strict";
import { Mlp, type MlpOptions } from "../solvers/fields/mlp.ts";
import {
  type ActivationName,
  activationNames,
  ACTIVATIONS,
} from "../solvers/fields/activations.ts";
import { Rng } from "../solvers/fields/random.ts";

const DEPTHS: number[][] = [[], [5], [4, 6, 3]];
const H = 1e-6;
const TOLERANCE = 1e-7;

function randomArray(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** ⟨v, f(t, y; θ)⟩ summed over the batch. */
function pairing(
  f: Mlp,
  t: number,
  y: Float64Array,
  batch: number,
  params: Float64Array,
  v: Float64Array,
): number {
  const out = new Float64Array(batch * f.dim);
  f.evaluate(t, y, batch, params, out);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += v[i] * out[i];
  return s;
}

/** Central differences of ⟨v, f⟩ with respect to every entry of `x`. */
function centralDifferences(x: Float64Array, scalar: () => number): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + H;
    const plus = scalar();
    x[i] = saved - H;
    const minus = scalar();
    x[i] = saved;
    g[i] = (plus - minus) / (2 * H);
  }
  return g;
}

/**
 * Checks analytic against finite-difference derivatives of one scalar
 * ⟨v, f⟩, component by component, relative to the larger of the component
 * and `scale`, the largest derivative of that scalar (over y and θ together).
 * The scale guards components that are tiny or exactly 0 (a dead relu unit):
 * central differences carry a rounding floor of about ε·|⟨v, f⟩|/h ≈ 1e-10
 * absolute, so they cannot resolve those components to 1e-7 of themselves.
 *
 * @returns The worst relative error.
 */
function assertClose(
  analytic: Float64Array,
  numeric: Float64Array,
  scale: number,
  label: string,
): number {
  let worst = 0;
  for (let i = 0; i < analytic.length; i++) {
    const err = Math.abs(analytic[i] - numeric[i]) / Math.max(Math.abs(analytic[i]), scale);
    worst = Math.max(worst, err);
    assert.ok(
      err < TOLERANCE,
      `${label}[${i}]: analytic ${analytic[i]} vs finite difference ${
        numeric[i]
      } (rel. err. ${err})`,
    );
  }
  return worst;
}

function maxAbs(...arrays: Float64Array[]): number {
  let m = 0;
  for (const a of arrays) for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

Deno.test("vjp matches central finite differences (y and θ)", () => {
  const rng = new Rng(2024);
  let worst = 0;
  let cases = 0;
  for (const activation of activationNames) {
    for (const finalActivation of ["identity", activation] as ActivationName[]) {
      for (const timeDependent of [false, true]) {
        for (const widths of DEPTHS) {
          for (const batch of [1, 3]) {
            const dim = 2;
            const f = new Mlp({ dim, widths, activation, finalActivation, timeDependent });
            const label =
              `${activation}/${finalActivation} t=${timeDependent} widths=[${widths}] batch=${batch}`;
            const params = f.init(cases + 1);
            // Move biases off their symmetric init so that every unit is in play.
            for (let i = 0; i < params.length; i++) params[i] += 0.1 * rng.normal();
            if (finalActivation === "relu") {
              // Keep the outputs alive, or the whole gradient is zero.
              const last = f.layerShapes[f.layerShapes.length - 1];
              for (let j = 0; j < dim; j++) params[last.biasOffset + j] += 1;
            }
            const t = rng.uniform(-1, 1);
            const y = randomArray(rng, batch * dim);
            const v = randomArray(rng, batch * dim);
            const yBar = new Float64Array(batch * dim).fill(NaN); // must be overwritten
            const paramsBar = new Float64Array(f.paramCount);
            f.vjp(t, y, batch, params, v, yBar, paramsBar);

            const scalar = () => pairing(f, t, y, batch, params, v);
            const yNumeric = centralDifferences(y, scalar);
            const paramsNumeric = centralDifferences(params, scalar);
            const scale = maxAbs(yBar, paramsBar);
            assert.ok(scale > 0, `${label}: the gradient is identically zero`);
            worst = Math.max(worst, assertClose(yBar, yNumeric, scale, `${label} ȳ`));
            worst = Math.max(worst, assertClose(paramsBar, paramsNumeric, scale, `${label} θ̄`));
            cases++;
          }
        }
      }
    }
  }
  assert.equal(cases, 5 * 2 * 2 * 3 * 2);
  assert.ok(worst < TOLERANCE);
  console.log(`worst relative error over ${cases} cases: ${worst.toExponential(1)}`);
});

Deno.test("activation derivatives match central finite differences", () => {
  for (const name of activationNames) {
    const { forward, derivative } = ACTIVATIONS[name];
    for (const x of [-30, -3.1, -0.7, -1e-3, 2e-3, 0.4, 1.9, 25]) {
      const numeric = (forward(x + H) - forward(x - H)) / (2 * H);
      const analytic = derivative(x, forward(x));
      assert.ok(
        Math.abs(numeric - analytic) <= 1e-8 * Math.max(1, Math.abs(analytic)),
        `${name}'(${x}): ${analytic} vs ${numeric}`,
      );
    }
  }
});

Deno.test("softplus is stable for large |x|", () => {
  const { forward, derivative } = ACTIVATIONS.softplus;
  assert.equal(forward(800), 800);
  assert.equal(forward(-800), 0);
  assert.equal(derivative(800, 800), 1);
  assert.equal(derivative(-800, 0), 0);
  assert.ok(Math.abs(forward(-40) - Math.exp(-40)) < 1e-30);
  assert.ok(Math.abs(forward(0) - Math.LN2) < 1e-16);
});

Deno.test("paramsBar accumulates and may be null", () => {
  const f = new Mlp({ dim: 3, widths: [7, 4], activation: "silu", timeDependent: true });
  const params = f.init(3);
  const rng = new Rng(9);
  const y = randomArray(rng, 6);
  const v = randomArray(rng, 6);
  const once = new Float64Array(f.paramCount);
  const twice = new Float64Array(f.paramCount);
  const yBar = new Float64Array(6);
  // One row: each call adds the same numbers, so doubling is exact.
  f.vjp(0.2, y, 1, params, v, yBar, once);
  f.vjp(0.2, y, 1, params, v, yBar, twice);
  f.vjp(0.2, y, 1, params, v, yBar, twice);
  for (let i = 0; i < once.length; i++) assert.equal(twice[i], 2 * once[i]);

  // Starting from a non-zero gradient adds to it.
  const offset = new Float64Array(f.paramCount).fill(1.5);
  f.vjp(0.2, y, 1, params, v, yBar, offset);
  for (let i = 0; i < once.length; i++) assert.equal(offset[i], 1.5 + once[i]);

  // Two rows: the sum over the batch, accumulated (equal up to rounding).
  const batchOnce = new Float64Array(f.paramCount);
  const batchTwice = new Float64Array(f.paramCount);
  f.vjp(0.2, y, 2, params, v, yBar, batchOnce);
  f.vjp(0.2, y, 2, params, v, yBar, batchTwice);
  f.vjp(0.2, y, 2, params, v, yBar, batchTwice);
  for (let i = 0; i < once.length; i++) {
    assert.ok(Math.abs(batchTwice[i] - 2 * batchOnce[i]) <= 1e-15 * Math.abs(batchTwice[i]));
  }

  // null skips θ̄ and gives the same ȳ.
  const yBarNull = new Float64Array(6);
  f.vjp(0.2, y, 2, params, v, yBarNull, null);
  assert.deepEqual(yBarNull, yBar);
});

Deno.test("batch rows are independent, bit for bit", () => {
  const rng = new Rng(17);
  for (const activation of activationNames) {
    for (const timeDependent of [false, true]) {
      const f = new Mlp({ dim: 3, widths: [6, 5], activation, timeDependent });
      const params = f.init(4);
      const y = randomArray(rng, 9);
      const v = randomArray(rng, 9);
      const out = new Float64Array(9);
      f.evaluate(0.7, y, 3, params, out);
      const yBar = new Float64Array(9);
      const paramsBar = new Float64Array(f.paramCount);
      f.vjp(0.7, y, 3, params, v, yBar, paramsBar);

      const paramsBarRows = new Float64Array(f.paramCount);
      for (let b = 0; b < 3; b++) {
        const row = y.slice(3 * b, 3 * b + 3);
        const outRow = new Float64Array(3);
        f.evaluate(0.7, row, 1, params, outRow);
        assert.deepEqual(outRow, out.slice(3 * b, 3 * b + 3));
        const yBarRow = new Float64Array(3);
        f.vjp(0.7, row, 1, params, v.slice(3 * b, 3 * b + 3), yBarRow, paramsBarRows);
        assert.deepEqual(yBarRow, yBar.slice(3 * b, 3 * b + 3));
      }
      // Rows are accumulated into paramsBar in order, so the sums agree exactly.
      assert.deepEqual(paramsBarRows, paramsBar);
    }
  }
});

Deno.test("outputs may alias inputs", () => {
  const f = new Mlp({ dim: 2, widths: [5], timeDependent: true });
  const params = f.init();
  const y = Float64Array.of(0.1, -0.4, 0.8, 0.3);
  const v = Float64Array.of(1, -2, 0.5, 0.25);
  const out = new Float64Array(4);
  f.evaluate(0.3, y, 2, params, out);
  const inPlace = y.slice();
  f.evaluate(0.3, inPlace, 2, params, inPlace);
  assert.deepEqual(inPlace, out);

  const yBar = new Float64Array(4);
  f.vjp(0.3, y, 2, params, v, yBar, null);
  const aliasV = v.slice();
  f.vjp(0.3, y, 2, params, aliasV, aliasV, null);
  assert.deepEqual(aliasV, yBar);
  const aliasY = y.slice();
  f.vjp(0.3, aliasY, 2, params, v, aliasY, null);
  assert.deepEqual(aliasY, yBar);
});

Deno.test("a linear network computes W y + b", () => {
  const f = new Mlp({ dim: 2, widths: [], timeDependent: true });
  // layer0.weight [[1, 2, 3], [4, 5, 6]] on [t, y], layer0.bias [7, 8]
  const params = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const out = new Float64Array(2);
  f.evaluate(10, Float64Array.of(1, -1), 1, params, out);
  assert.deepEqual(out, Float64Array.of(10 + 2 - 3 + 7, 40 + 5 - 6 + 8));
});

Deno.test("the seed determines the parameters", () => {
  const options: MlpOptions = { dim: 3, widths: [10], timeDependent: false };
  const a = new Mlp({ ...options, seed: 1 }).init();
  const b = new Mlp({ ...options, seed: 1 }).init();
  const c = new Mlp({ ...options, seed: 2 }).init();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(new Mlp(options).init(1), a);
  assert.deepEqual(new Mlp(options).init(), new Mlp(options).init(0));

  // Each layer's entries lie within ±1/√fan_in and fill that range.
  const f = new Mlp({ dim: 3, widths: [50, 20] });
  const params = f.init(8);
  for (const shape of f.layerShapes) {
    const bound = 1 / Math.sqrt(shape.inputs);
    const layer = params.subarray(shape.weightOffset, shape.biasOffset + shape.outputs);
    let largest = 0;
    for (const w of layer) {
      assert.ok(Math.abs(w) <= bound);
      largest = Math.max(largest, Math.abs(w));
    }
    assert.ok(largest > 0.8 * bound);
  }
});

Deno.test("the PRNG is reproducible and seeds differ", () => {
  const a = new Rng(123);
  const b = new Rng(123);
  for (let i = 0; i < 1000; i++) {
    assert.equal(a.uniform(), b.uniform());
    assert.equal(a.normal(), b.normal());
  }
  assert.notEqual(new Rng(0).next(), new Rng(1).next());
  assert.notEqual(new Rng(1).next(), new Rng(1 + 2 ** 32).next());
  assert.notEqual(new Rng(-1).next(), new Rng(2 ** 32 - 1).next());
  assert.throws(() => new Rng(NaN), /seed.*NaN/);
});

Deno.test("layout: layerShapes and paramViews", () => {
  const f = new Mlp({ dim: 2, widths: [10], timeDependent: true });
  assert.equal(f.inputDim, 3);
  assert.equal(f.paramCount, 62);
  assert.deepEqual(
    f.layerShapes.map((s) => [s.inputs, s.outputs, s.weightOffset, s.biasOffset, s.activation]),
    [[3, 10, 0, 30, "tanh"], [10, 2, 40, 60, "identity"]],
  );
  const params = f.init();
  const views = f.paramViews(params);
  assert.deepEqual(Object.keys(views), [
    "layer0.weight",
    "layer0.bias",
    "layer1.weight",
    "layer1.bias",
  ]);
  assert.deepEqual(
    Object.values(views).map((v) => v.length),
    [30, 10, 20, 2],
  );
  assert.equal(views["layer1.bias"].buffer, params.buffer);
  assert.equal(views["layer1.bias"][1], params[61]);
  assert.throws(() => f.paramViews(new Float64Array(61)), /params.*length 61.*62/);
});

Deno.test("bad options throw, naming the argument", () => {
  const bad: [unknown, RegExp][] = [
    [{ dim: 0, widths: [] }, /Invalid dim: got 0; expected an integer >= 1/],
    [{ dim: 2.5, widths: [] }, /dim: got 2\.5/],
    [{ dim: "2", widths: [] }, /dim: got "2"/],
    [{ widths: [] }, /dim: got undefined/],
    [{ dim: 2 }, /widths: got undefined; expected an array of positive integers/],
    [{ dim: 2, widths: 10 }, /widths: got 10/],
    [{ dim: 2, widths: [10, 0] }, /widths\[1\]: got 0; expected a positive integer/],
    [{ dim: 2, widths: [1.5] }, /widths\[0\]: got 1\.5/],
    [
      { dim: 2, widths: [4], activation: "gelu" },
      /activation: got "gelu"; expected one of tanh, softplus, relu, silu, identity/,
    ],
    [{ dim: 2, widths: [4], finalActivation: "Tanh" }, /finalActivation: got "Tanh"/],
    [{ dim: 2, widths: [4], timeDependent: 1 }, /timeDependent: got 1; expected true or false/],
    [{ dim: 2, widths: [4], seed: 0.5 }, /seed: got 0\.5; expected a safe integer/],
    [null, /options: got null/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => new Mlp(options as MlpOptions), message, JSON.stringify(options));
  }
});

Deno.test("bad call shapes throw", () => {
  const f = new Mlp({ dim: 2, widths: [3] });
  const params = f.init();
  const y = new Float64Array(4);
  assert.throws(
    () => f.evaluate(0, y, 3, params, new Float64Array(6)),
    /Invalid y: got Float64Array of length 4; expected at least batch × dim = 3 × 2 = 6/,
  );
  assert.throws(() => f.evaluate(0, y, 2, params, new Float64Array(3)), /Invalid out/);
  assert.throws(() => f.evaluate(0, y, 2, params.subarray(1), y), /Invalid params/);
  assert.throws(() => f.evaluate(0, y, 1.5, params, y), /Invalid batch: got 1\.5/);
  assert.throws(
    () => f.vjp(0, y, 2, params, y, y, new Float64Array(2)),
    /Invalid paramsBar: got Float64Array of length 2/,
  );
  assert.throws(() => f.vjp(0, y, 2, params, y, new Float64Array(1), null), /Invalid yBar/);
});

Deno.test("toJSON / fromJSON round trip", () => {
  const configs: MlpOptions[] = [
    { dim: 2, widths: [10], timeDependent: true },
    { dim: 4, widths: [], activation: "relu", finalActivation: "softplus" },
    { dim: 1, widths: [3, 5, 7], activation: "silu", timeDependent: false },
  ];
  for (const options of configs) {
    const f = new Mlp(options);
    const text = JSON.stringify(f);
    const g = Mlp.fromJSON(JSON.parse(text));
    assert.deepEqual(g.toJSON(), f.toJSON());
    assert.equal(JSON.stringify(g), text);
    assert.equal(g.paramCount, f.paramCount);
    assert.deepEqual(g.layerShapes, f.layerShapes);
    // Same architecture, same parameters: same function.
    const params = f.init(5);
    const y = new Float64Array(f.dim).fill(0.3);
    const a = new Float64Array(f.dim);
    const b = new Float64Array(f.dim);
    f.evaluate(0.1, y, 1, params, a);
    g.evaluate(0.1, y, 1, params, b);
    assert.deepEqual(a, b);
  }
  assert.deepEqual(Mlp.fromJSON({ dim: 3, widths: [2] }).toJSON(), {
    dim: 3,
    widths: [2],
    activation: "tanh",
    finalActivation: "identity",
    timeDependent: false,
  });
  // The config is copied, not shared.
  const widths = [4];
  const f = new Mlp({ dim: 1, widths });
  widths[0] = 99;
  assert.deepEqual(f.toJSON().widths, [4]);
  f.toJSON().widths[0] = 7;
  assert.deepEqual(f.widths, [4]);
});

Deno.test("fromJSON rejects bad model files", () => {
  assert.throws(() => Mlp.fromJSON("mlp"), /Invalid config: got "mlp"/);
  assert.throws(() => Mlp.fromJSON([1, 2]), /Invalid config: got an array of length 2/);
  assert.throws(() => Mlp.fromJSON({ dim: -1, widths: [] }), /config\.dim: got -1/);
  assert.throws(() => Mlp.fromJSON({ dim: 2, widths: ["10"] }), /config\.widths\[0\]: got "10"/);
  assert.throws(
    () => Mlp.fromJSON({ dim: 2, widths: [], activaton: "relu" }),
    /config field name: got "activaton"; expected one of dim, widths, activation, finalActivation/,
  );
  assert.throws(
    () => Mlp.fromJSON({ dim: 2, widths: [], finalActivation: null }),
    /config\.finalActivation: got null/,
  );
});
