// The batched kernels (mlp_kernels.ts), as Mlp runs them, against the one-row
// reference (mlp_layers.ts): bit-identical on random weights, widths, batches
// (across the block size) and activations, but for tanh (tanh.ts, not
// Math.tanh), held to 1e-14 of each array's largest entry; and their VJP
// against central finite differences.
import assert from "node:assert/strict";
import { Mlp } from "../solvers/fields/mlp.ts";
import { activationNames } from "../solvers/fields/activations.ts";
import { backwardRow, forwardRow } from "../solvers/fields/mlp_layers.ts";
import { type MlpLayout, mlpLayout, resolveMlpOptions } from "../solvers/fields/mlp_layout.ts";
import { Rng } from "../solvers/fields/random.ts";

function randomArray(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** The reference: f and the VJP row by row, as Mlp computed them before the kernels. */
function reference(
  net: MlpLayout,
  t: number,
  y: Float64Array,
  batch: number,
  params: Float64Array,
  v: Float64Array,
  paramsBar: Float64Array,
): { out: Float64Array; yBar: Float64Array } {
  const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
  const work = [new Float64Array(net.maxWidth), new Float64Array(net.maxWidth)] as const;
  const out = new Float64Array(batch * net.dim), yBar = new Float64Array(batch * net.dim);
  for (let b = 0; b < batch; b++) {
    forwardRow(net, t, y, b, params, acts, 0, pre, 0, out);
    backwardRow(net, b, params, acts, 0, pre, 0, v, yBar, paramsBar, work);
  }
  return { out, yBar };
}

/** Bit for bit, or for tanh networks within 1e-14 of the largest |entry|. */
function same(actual: Float64Array, expected: Float64Array, tanh: boolean, label: string): void {
  if (!tanh) {
    assert.deepEqual(actual, expected, label);
    return;
  }
  let scale = 0, diff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(diff <= 1e-14 * scale, `${label}: ${diff} > 1e-14 × ${scale}`);
}

Deno.test("kernels equal the one-row reference (bit for bit but for tanh)", () => {
  const rng = new Rng(20);
  const batches = [1, 2, 3, 4, 5, 7, 63, 64, 65, 130, 257];
  let cases = 0;
  for (const activation of activationNames) {
    for (const finalActivation of ["identity", activation] as const) {
      for (let trial = 0; trial < 6; trial++) {
        const depth = Math.floor(rng.uniform(0, 4));
        const widths = Array.from({ length: depth }, () => 1 + Math.floor(rng.uniform(0, 40)));
        const dim = 1 + Math.floor(rng.uniform(0, 6));
        const timeDependent = rng.uniform(0, 1) < 0.5;
        const options = { dim, widths, activation, finalActivation, timeDependent };
        const f = new Mlp(options);
        const net = mlpLayout(resolveMlpOptions(options, ""));
        const batch = batches[Math.floor(rng.uniform(0, batches.length))];
        const params = randomArray(rng, f.paramCount, 1.5);
        const y = randomArray(rng, batch * dim, 2);
        const v = randomArray(rng, batch * dim);
        const t = rng.normal();
        const pRef = randomArray(rng, f.paramCount);
        const pNew = pRef.slice(), pTaped = pRef.slice();
        const ref = reference(net, t, y, batch, params, v, pRef);
        const label = JSON.stringify({ ...options, batch });
        const usesTanh = (activation === "tanh" && depth > 0) || finalActivation === "tanh";

        const out = new Float64Array(batch * dim);
        f.evaluate(t, y, batch, params, out);
        same(out, ref.out, usesTanh, `evaluate ${label}`);
        const yBar = new Float64Array(batch * dim);
        f.vjp(t, y, batch, params, v, yBar, pNew);
        same(yBar, ref.yBar, usesTanh, `vjp yBar ${label}`);
        same(pNew, pRef, usesTanh, `vjp paramsBar ${label}`);

        const tape = new Float64Array(f.tapeLength(batch));
        const outTaped = new Float64Array(batch * dim);
        f.evaluateTaped(t, y, batch, params, outTaped, tape);
        same(outTaped, ref.out, usesTanh, `evaluateTaped ${label}`);
        const yBarTaped = new Float64Array(batch * dim);
        f.vjpTaped(t, y, batch, params, tape, v, yBarTaped, pTaped);
        same(yBarTaped, ref.yBar, usesTanh, `vjpTaped yBar ${label}`);
        same(pTaped, pRef, usesTanh, `vjpTaped paramsBar ${label}`);
        cases++;
      }
    }
  }
  assert.equal(cases, activationNames.length * 2 * 6);
});

Deno.test("the tape keeps each row's activations then pre-activations, row after row", () => {
  const f = new Mlp({ dim: 2, widths: [3], activation: "silu", timeDependent: true });
  const params = f.init(4);
  const batch = 70, y = randomArray(new Rng(1), 2 * batch);
  const tape = new Float64Array(f.tapeLength(batch));
  f.evaluateTaped(0.25, y, batch, params, new Float64Array(2 * batch), tape);
  const options = { dim: 2, widths: [3], activation: "silu" as const, timeDependent: true };
  const net = mlpLayout(resolveMlpOptions(options, ""));
  const acts = new Float64Array(net.actsLength), pre = new Float64Array(net.preLength);
  const rowLength = net.actsLength + net.preLength;
  for (const b of [0, 63, 64, 69]) {
    forwardRow(net, 0.25, y, b, params, acts, 0, pre, 0, null);
    const at = b * rowLength;
    assert.deepEqual(tape.subarray(at, at + net.actsLength), acts);
    assert.deepEqual(tape.subarray(at + net.actsLength, at + rowLength), pre);
  }
});

Deno.test("batched vjp matches central finite differences across blocks", () => {
  const rng = new Rng(7);
  for (const activation of activationNames) {
    const f = new Mlp({ dim: 3, widths: [9, 5], activation, timeDependent: true });
    const batch = 67;
    const params = randomArray(rng, f.paramCount, 0.7);
    const y = randomArray(rng, batch * 3), v = randomArray(rng, batch * 3);
    const yBar = new Float64Array(batch * 3), pBar = new Float64Array(f.paramCount);
    f.vjp(0.3, y, batch, params, v, yBar, pBar);
    const out = new Float64Array(batch * 3);
    const pairing = () => {
      f.evaluate(0.3, y, batch, params, out);
      let s = 0;
      for (let i = 0; i < out.length; i++) s += v[i] * out[i];
      return s;
    };
    const h = 1e-6;
    const check = (x: Float64Array, i: number, analytic: number, what: string) => {
      const saved = x[i];
      x[i] = saved + h;
      const plus = pairing();
      x[i] = saved - h;
      const minus = pairing();
      x[i] = saved;
      const numeric = (plus - minus) / (2 * h);
      assert.ok(
        Math.abs(numeric - analytic) <= 1e-6 * (1 + Math.abs(numeric)),
        `${activation} ${what}[${i}]: ${numeric} vs ${analytic}`,
      );
    };
    for (const i of [0, 5, 100, 3 * 66 + 2]) check(y, i, yBar[i], "y");
    for (let i = 0; i < f.paramCount; i += 7) check(params, i, pBar[i], "params");
  }
});

Deno.test("the JavaScript and the WebAssembly SIMD kernels agree bit for bit", async () => {
  const { BackwardScratch, backwardRows, forwardRows } = await import(
    "../solvers/fields/mlp_kernels.ts"
  );
  const { WasmAffine } = await import("../solvers/fields/wasm_affine.ts");
  const rng = new Rng(11);
  for (const activation of activationNames) {
    const options = { dim: 3, widths: [17, 9], activation, timeDependent: true };
    const net = mlpLayout(resolveMlpOptions(options, ""));
    const simd = WasmAffine.create(net.paramCount, net.maxWidth, 64);
    assert.ok(simd !== null, "WebAssembly SIMD is available in Deno");
    const n = 29;
    const params = randomArray(rng, net.paramCount);
    const y = randomArray(rng, 3 * n), v = randomArray(rng, 3 * n);
    const results = [null, simd].map((kernel) => {
      const store = {
        acts: new Float64Array(n * net.actsLength),
        a: 0,
        actsStride: net.actsLength,
        pre: new Float64Array(n * net.preLength),
        p: 0,
        preStride: net.preLength,
      };
      const out = new Float64Array(3 * n), yBar = new Float64Array(3 * n);
      const pBar = new Float64Array(net.paramCount);
      forwardRows(net, 0.7, y, 0, n, params, store, out, kernel);
      backwardRows(net, 0, n, params, store, v, yBar, pBar, new BackwardScratch(net, n), kernel);
      return [out, yBar, pBar, store.acts, store.pre];
    });
    assert.deepEqual(results[1], results[0], activation);
  }
});

Deno.test("past a 32-bit memory's 4 GiB no SIMD kernels are made: null, the JavaScript kernels run", async () => {
  const { WasmAffine } = await import("../solvers/fields/wasm_affine.ts");
  // 2^29 parameters are 4 GiB alone; a layer 2^15 wide needs a W̄ buffer of
  // 2^15 × (2^15 + 1) doubles, 8 GiB. Neither is allocated: refused before.
  assert.equal(WasmAffine.create(2 ** 29, 64, 64), null);
  assert.equal(WasmAffine.create(1000, 2 ** 15, 64), null);
  // a small network's are made as before
  const small = WasmAffine.create(1000, 64, 64);
  assert.ok(small !== null && small.params.length === 1000);
});
