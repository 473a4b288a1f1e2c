// ONNX export on onnxruntime-node's WebGPU provider, against revode's float64
// evaluation: every activation, every shipped tableau in both integrator
// variants, plain and reversible. Each check also confirms from ONNX
// Runtime's profile that the nodes really ran on WebGPU (all of them for the
// unrolled graph; all but the Loop node itself for the Loop).
//
// Without an adapter these cases are skipped with the reason printed;
// REVODE_REQUIRE_GPU=1 (CI, where Mesa's software Vulkan driver is
// installed) makes that a failure instead.
//
// Needs: --allow-read --allow-write --allow-env --allow-ffi --allow-sys.

import assert from "node:assert/strict";
import { Mlp } from "../solvers/fields/mlp.ts";
import { activationNames } from "../solvers/fields/activations.ts";
import { tableaux } from "../solvers/tableaux.ts";
import {
  leapfrog,
  plain,
  reversible,
  reversibleHeun,
  type SchemeSpec,
} from "../solvers/schemes/spec.ts";
import { exportVectorField } from "../export/vector_field.ts";
import { exportIntegrator, type IntegratorVariant } from "../export/integrator.ts";
import { verifyExport } from "../export/verify.ts";
import { webgpuStatus } from "../export/ort.ts";
import type { ExportSource } from "../export/source.ts";

const requireGpu = Deno.env.get("REVODE_REQUIRE_GPU") === "1";
const gpu = await webgpuStatus();
const skip = !gpu.available && !requireGpu;
if (skip) {
  console.log(
    `onnx_webgpu_test: skipping the WebGPU cases: ${gpu.reason}. ` +
      "Set REVODE_REQUIRE_GPU=1 to make this a failure.",
  );
} else if (gpu.available) {
  console.log(`onnx_webgpu_test: WebGPU ${gpu.reason}`);
}

const measured: string[] = [];

async function onWebgpu(name: string, bytes: Uint8Array, source: ExportSource): Promise<void> {
  const report = await verifyExport(bytes, source, { providers: ["webgpu"], batch: 3 });
  const check = report.checks[0];
  assert.equal(check.status, "passed", `${name}: ${check.note}`);
  const p = check.placement!;
  const onGpu = p.byProvider.WebGpuExecutionProvider ?? 0;
  if (report.form === "loop" || report.form === "chunked") {
    // The Loop node runs on the CPU (no WebGPU kernel); its body runs on the GPU.
    assert.ok(onGpu >= p.nodes - 12, `${name}: ${check.note}`);
  } else {
    assert.equal(onGpu, p.nodes, `${name}: ${check.note}`);
  }
  measured.push(
    `${name.padEnd(34)} ${check.maxRelativeError!.toExponential(2)}  (bound ${
      check.bound!.toExponential(2)
    }; ${onGpu} of ${p.nodes} nodes on WebGPU)`,
  );
}

Deno.test({
  name: "WebGPU: an adapter is present (REVODE_REQUIRE_GPU=1)",
  ignore: !requireGpu,
  fn() {
    assert.ok(gpu.available, `REVODE_REQUIRE_GPU=1 but ${gpu.reason}`);
  },
});

Deno.test({
  name: "WebGPU: vector field, every activation, autonomous and time-dependent",
  ignore: skip,
  async fn() {
    for (const activation of activationNames) {
      for (const timeDependent of [false, true]) {
        const field = new Mlp({ dim: 3, widths: [8], activation, timeDependent });
        const source = { field, params: field.init(5) };
        await onWebgpu(
          `field ${activation} ${timeDependent ? "t-dep" : "auton"}`,
          exportVectorField(source),
          source,
        );
      }
    }
  },
});

const SCHEMES: [string, SchemeSpec][] = [
  ...Object.values(tableaux).flatMap((t): [string, SchemeSpec][] => [
    [`plain ${t.name}`, plain(t)],
    [`reversible ${t.name}`, reversible(t)],
  ]),
  ["reversible-heun", reversibleHeun()],
  ["leapfrog", leapfrog()],
];

Deno.test({
  name: "WebGPU: integrator, every tableau, plain and reversible, Loop and unrolled",
  ignore: skip,
  async fn() {
    const field = new Mlp({ dim: 2, widths: [6], timeDependent: true });
    const params = field.init(3);
    for (const [name, scheme] of SCHEMES) {
      for (const variant of ["unrolled", "loop", "chunked"] as IntegratorVariant[]) {
        const source = { field, params, scheme, t0: 0.5, dt: 0.05, steps: 4, y0: [1, -0.5] };
        await onWebgpu(
          `${variant} ${name}`,
          exportIntegrator(source, { variant, chunk: 3 }),
          source,
        );
      }
    }
  },
});

Deno.test({
  name: "WebGPU: measured errors",
  ignore: skip,
  fn() {
    console.log(
      "max relative error against revode's float64 evaluation, ORT WebGPU provider " +
        `(${gpu.reason}):\n${measured.join("\n")}`,
    );
  },
});
