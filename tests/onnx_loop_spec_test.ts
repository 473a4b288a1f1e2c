// The loop and chunked forms against the ONNX spec's meaning of Loop, re-implemented here:
// the Loop node's body is cut out as a model of its own and run iteration by iteration in
// JavaScript as the spec's table says for inputs (trip_count, cond) — "for (int i=0; i <
// trip_count && cond; ++i)", loop-carried values passed from one iteration's outputs to the
// next one's inputs, scan outputs concatenated along axis 0 as the spec's words say. The rest
// of the graph (the Reshape to [-1, batch, dim] after the Loop) is then applied by hand too:
// the trajectory this gives is the one every runtime that follows the spec must give, and
// ONNX Runtime (which stacks scan outputs instead) must agree with it exactly.
//
// Needs: --allow-read --allow-ffi --allow-env --allow-sys --allow-write (onnxruntime-node).

import assert from "node:assert/strict";
import onnxProto from "onnx-proto";
import type { onnx as Onnx } from "onnx-proto";
import { exportIntegrator, type IntegratorVariant } from "../export/integrator.ts";
import { decodeModel } from "../export/onnx_model.ts";
import { createSession, type Feed, type Fetched } from "../export/ort.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import { leapfrog, reversible } from "../solvers/schemes/spec.ts";
import { rk4 } from "../solvers/tableaux.ts";
import { solve } from "../solvers/solve.ts";

const { onnx } = onnxProto;

function _encode(model: Onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

function _typed(name: string, elemType: number): Onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

async function _run(bytes: Uint8Array, feeds: Record<string, Feed>) {
  const session = await createSession(bytes, "cpu");
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/**
 * Runs the model's Loop by hand: returns the Loop's outputs as the spec defines them, and
 * the model's outputs as ONNX Runtime computed them (same run, with the Loop's inputs added).
 */
async function loopByHand(
  bytes: Uint8Array,
  feeds: Record<string, Feed>,
  float: "float32" | "float64",
): Promise<{
  byHand: Fetched[];
  scan: Fetched;
  runtime: Fetched[];
  model: Record<string, Fetched>;
}> {
  const elem = float === "float32" ? 1 : 11;
  const model = decodeModel(bytes);
  const graph = model.graph!;
  const loop = graph.node!.find((n) => n.opType === "Loop")!;
  const body = loop.attribute!.find((a) => a.name === "body")!.g!;
  const initializers = new Map(graph.initializer!.map((t) => [t.name!, t]));
  // values of the outer graph the body reads: initializers are copied, the rest fetched
  const produced = new Set([
    ...body.input!.map((i) => i.name!),
    ...body.node!.flatMap((n) => n.output!),
    ...(body.initializer ?? []).map((t) => t.name!),
  ]);
  const outer = [...new Set(body.node!.flatMap((n) => n.input!))].filter((x) =>
    x !== "" && !produced.has(x)
  );
  const fetched = outer.filter((x) => !initializers.has(x));
  const [tripName, condName, ...carriedNames] = loop.input!;
  assert.notEqual(condName, "", "the Loop's cond is given explicitly");
  const extra = [tripName, condName, ...carriedNames, ...fetched, ...loop.output!];
  const probe = _encode({
    ...model,
    graph: {
      ...graph,
      output: [
        ...graph.output!,
        ...extra.map((x) =>
          _typed(x, x === tripName ? 7 : x === condName ? 9 : initializers.get(x)?.dataType ?? elem)
        ),
      ],
    },
  });
  const out = await _run(probe, feeds);
  const trips = out[tripName].data[0];
  assert.equal(out[condName].data[0], 1, "cond is true");
  const [nIn, condIn, ...stateIn] = body.input!;
  const bodyModel = _encode({
    ...model,
    graph: {
      name: "body alone",
      node: body.node,
      input: [nIn, ...stateIn, ...fetched.map((x) => _typed(x, elem))],
      output: body.output,
      initializer: [
        ...(body.initializer ?? []),
        ...outer.filter((x) => initializers.has(x)).map((x) => initializers.get(x)!),
        { name: condIn.name, dataType: 9, dims: [], rawData: Uint8Array.of(1) },
      ],
    },
  });
  const session = await createSession(bodyModel, "cpu");
  let carried = carriedNames.map((x) => out[x]);
  const blocks: Fetched[] = [];
  try {
    for (let i = 0; i < trips; i++) {
      const f: Record<string, Feed> = { [nIn.name!]: { type: "int64", data: [i], dims: [] } };
      stateIn.forEach((v, k) =>
        f[v.name!] = { type: float, data: carried[k].data, dims: carried[k].dims }
      );
      for (const x of fetched) f[x] = { type: float, data: out[x].data, dims: out[x].dims };
      const step = await session.run(f);
      assert.equal(step[body.output![0].name!].data[0], 1, "the body returns cond unchanged");
      const outs = body.output!.slice(1).map((o) => step[o.name!]);
      carried = outs.slice(0, carriedNames.length);
      blocks.push(outs[carriedNames.length]);
    }
  } finally {
    await session.release();
  }
  // "implicitly concatenate": Concat along axis 0 of the per-iteration blocks
  const data = new Float64Array(blocks.reduce((a, b) => a + b.data.length, 0));
  blocks.reduce((at, b) => (data.set(b.data, at), at + b.data.length), 0);
  const dims = blocks.length === 0
    ? [0]
    : [blocks.reduce((a, b) => a + b.dims[0], 0), ...blocks[0].dims.slice(1)];
  return {
    byHand: carried,
    scan: { data, dims },
    runtime: loop.output!.map((x) => out[x]),
    model: out,
  };
}

function _field(timeDependent: boolean) {
  const field = new Mlp({ dim: 2, widths: [6], timeDependent });
  return { field, params: field.init(3) };
}

const y0 = Float64Array.of(0.5, -0.25, 1, 0.75, -0.5, 0.125); // batch 3, dim 2

function _feeds(dtype: "float32" | "float64", steps: number | null): Record<string, Feed> {
  const feeds: Record<string, Feed> = {
    y0: { type: dtype, data: y0, dims: [3, 2] },
    t0: { type: dtype, data: [0.25], dims: [] },
    dt: { type: dtype, data: [0.05], dims: [] },
  };
  if (steps !== null) feeds.steps = { type: "int64", data: [steps], dims: [] };
  return feeds;
}

Deno.test("loop and chunked forms: ONNX Runtime's Loop equals the spec's Loop, run by hand", async () => {
  const cases: [IntegratorVariant, number, number | undefined][] = [
    ["loop", 7, undefined],
    ["chunked", 7, 3], // two iterations of three steps, one step unrolled after the loop
    ["chunked", 6, 6],
  ];
  for (const [variant, steps, chunk] of cases) {
    for (const scheme of [reversible(rk4), leapfrog()]) {
      const { field, params } = _field(true);
      const source = { field, params, scheme, t0: 0.25, dt: 0.05, steps };
      const bytes = exportIntegrator(source, { variant, dtype: "float64", chunk });
      const run = await loopByHand(
        bytes,
        _feeds("float64", variant === "loop" ? steps : null),
        "float64",
      );
      const what = `${variant} ${scheme.kind} chunk ${chunk}`;
      // the final states: loop-carried, the same in every reading
      for (let k = 0; k < run.byHand.length; k++) {
        assert.deepEqual(run.runtime[k].dims, run.byHand[k].dims, what);
        assert.deepEqual(run.runtime[k].data, run.byHand[k].data, what);
      }
      // the scan output: the spec concatenates [K, batch, dim] blocks to [iterations · K, …];
      // ONNX Runtime stacks them to [iterations, K, …]; the numbers are the same, in order
      const k = variant === "loop" ? 1 : chunk!;
      const iterations = Math.floor(steps / k);
      assert.deepEqual(run.scan.dims, [iterations * k, 3, 2], what);
      const ort = run.runtime.at(-1)!;
      assert.deepEqual(ort.dims, [iterations, k, 3, 2], `${what}: ONNX Runtime stacks`);
      assert.deepEqual(ort.data, run.scan.data, what);
      // the model's output: y0, then the scan output reshaped to [-1, batch, dim]
      const ys = run.model.ys;
      assert.deepEqual(ys.dims, [steps + 1, 3, 2], what);
      assert.deepEqual(run.model.ts.dims, [steps + 1], what);
      assert.deepEqual(Array.from(ys.data.subarray(0, 6)), Array.from(y0), what);
      assert.deepEqual(ys.data.subarray(6, 6 + run.scan.data.length), run.scan.data, what);
      // and the values are revode's float64 solve, to round-off
      const grid = Array.from({ length: steps + 1 }, (_, n) => 0.25 + n * 0.05);
      const ref = solve({ field, y0, params, scheme, grid, saveAt: { t0: true, steps: true } }).ys;
      for (let i = 0; i < ref.length; i++) {
        assert.ok(Math.abs(ys.data[i] - ref[i]) <= 1e-14 * Math.max(1, Math.abs(ref[i])), what);
      }
    }
  }
});

Deno.test("loop form: a negative step count acts as 0 for ys and ts alike; 0 gives [y0], [t0]", async () => {
  const { field, params } = _field(false);
  const bytes = exportIntegrator(
    { field, params, scheme: reversible(rk4), dt: 0.05, steps: 5 },
    { variant: "loop", dtype: "float64" },
  );
  for (const steps of [-1, -7, 0]) {
    const out = await _run(bytes, _feeds("float64", steps));
    assert.deepEqual(out.ys.dims, [1, 3, 2], `steps ${steps}`);
    assert.deepEqual(Array.from(out.ys.data), Array.from(y0));
    assert.deepEqual(out.ts.dims, [1]);
    assert.deepEqual(Array.from(out.ts.data), [0.25]);
  }
});

Deno.test("integrators: scalars given as [1] mean what [] means; other shapes are refused", async () => {
  const { field, params } = _field(true);
  for (const variant of ["loop", "chunked", "unrolled"] as const) {
    const bytes = exportIntegrator(
      { field, params, scheme: reversible(rk4), dt: 0.05, steps: 4 },
      { variant, dtype: "float64", chunk: 2 },
    );
    const scalar = _feeds("float64", variant === "loop" ? 4 : null);
    const one: Record<string, Feed> = {};
    for (const [k, f] of Object.entries(scalar)) one[k] = k === "y0" ? f : { ...f, dims: [1] };
    const a = await _run(bytes, scalar);
    const b = await _run(bytes, one);
    assert.deepEqual(b.ys, a.ys, variant);
    assert.deepEqual(b.ts, a.ts, variant);
    await assert.rejects(
      _run(bytes, { ...scalar, t0: { type: "float64", data: [0, 1], dims: [2] } }),
      /./,
      `${variant}: t0 of shape [2]`,
    );
  }
});
