// Every exported form passes the official ONNX checker with full checking and
// strict shape inference (Python's `onnx`, Debian's python3-onnx 1.12). Skipped
// with the reason printed where no Python can `import onnx`;
// REVODE_REQUIRE_ONNX_CHECKER=1 makes that a failure.
//
// Needs: --allow-read --allow-write --allow-env --allow-run.

import assert from "node:assert/strict";
import { Mlp } from "../solvers/fields/mlp.ts";
import { activationNames } from "../solvers/fields/activations.ts";
import { tableaux } from "../solvers/tableaux.ts";
import { leapfrog, plain, reversible, reversibleHeun } from "../solvers/schemes/spec.ts";
import { exportVectorField } from "../export/vector_field.ts";
import { exportIntegrator } from "../export/integrator.ts";
import { checkWithOnnx, findOnnxPython } from "../export/checker.ts";
import { encodeModel } from "../export/onnx_model.ts";
import { GraphBuilder } from "../export/onnx_graph.ts";

const requireChecker = Deno.env.get("REVODE_REQUIRE_ONNX_CHECKER") === "1";
const python = await findOnnxPython();
const skip = python === null && !requireChecker;
if (skip) {
  console.log(
    "onnx_checker_test: skipped: no python3 can `import onnx` (Debian: apt-get install " +
      "python3-onnx). Set REVODE_REQUIRE_ONNX_CHECKER=1 to make this a failure.",
  );
}

/** Every model the checker sees: name and bytes. */
function exportedModels(): [string, Uint8Array][] {
  const models: [string, Uint8Array][] = [];
  for (const activation of activationNames) {
    for (const timeDependent of [false, true]) {
      for (const dtype of ["float32", "float64"] as const) {
        const field = new Mlp({ dim: 2, widths: [4, 3], activation, timeDependent });
        models.push([
          `field-${activation}-${timeDependent ? "t" : "a"}-${dtype}`,
          exportVectorField({ field, params: field.init(0) }, { dtype }),
        ]);
      }
    }
  }
  const schemes = [
    ...Object.values(tableaux).flatMap((t) => [plain(t), reversible(t)]),
    reversibleHeun(),
    leapfrog(),
  ];
  for (const timeDependent of [false, true]) {
    const field = new Mlp({ dim: 2, widths: [4], timeDependent });
    const params = field.init(1);
    for (const scheme of schemes) {
      for (const variant of ["loop", "chunked", "unrolled"] as const) {
        const name = "tableau" in scheme ? `${scheme.kind}-${scheme.tableau.name}` : scheme.kind;
        for (const dtype of ["float32", "float64"] as const) {
          models.push([
            `${variant}-${name}-${timeDependent ? "t" : "a"}-${dtype}`,
            exportIntegrator({ field, params, scheme, dt: 0.1, steps: 3 }, {
              variant,
              dtype,
              chunk: 2,
            }),
          ]);
        }
      }
    }
  }
  return models;
}

Deno.test({
  name: "onnx.checker (full_check) and strict shape inference accept every exported model",
  ignore: skip,
  async fn() {
    assert.ok(python !== null, "REVODE_REQUIRE_ONNX_CHECKER=1 but no python3 can `import onnx`");
    const dir = await Deno.makeTempDir({ prefix: "revode-onnx-checker-" });
    try {
      const models = exportedModels();
      const paths: string[] = [];
      for (const [name, bytes] of models) {
        const path = `${dir}/${name}.onnx`;
        await Deno.writeFile(path, bytes);
        paths.push(path);
      }
      // A control that must fail, so that a checker accepting anything is noticed:
      // [2, 3] + [4] does not broadcast.
      const g = new GraphBuilder("broken");
      const x = g.input("x", "float32", [2, 3]);
      const b = g.initializer("b", "float32", [4], [0, 0, 0, 0]);
      g.output(g.node("Add", [x, b]), "y", "float32", [2, 3]);
      const broken = `${dir}/broken.onnx`;
      await Deno.writeFile(
        broken,
        encodeModel(g.build(), { producerVersion: "0", docString: "", metadata: {} }),
      );
      const results = await checkWithOnnx([...paths, broken]);
      assert.ok(results !== null);
      const failures = results.slice(0, -1).filter((r) => !r.ok);
      assert.deepEqual(failures, [], failures.map((f) => `${f.path}: ${f.error}`).join("\n"));
      assert.equal(results.at(-1)!.ok, false, "the checker accepted a broken model");
      console.log(
        `onnx ${python.version} (${python.command}) accepted ${models.length} exported models ` +
          `and rejected the broken control: ${results.at(-1)!.error!.split("\n")[0]}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
