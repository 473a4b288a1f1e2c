// The WebGPU entry's train(): train()'s options with one more, `backend`.
import assert from "node:assert/strict";
import { train } from "../training/webgpu/backend.ts";
import { trainGpu } from "../training/webgpu/train.ts";
import { train as trainCpu } from "../training/train.ts";
import { defaultConfig } from "../training/config.ts";
import { whiteDwarfData } from "../training/datasets/white_dwarf.ts";
import { findGpuAdapter } from "../solvers/webgpu/runtime/device.ts";

const data = whiteDwarfData({ points: 11 });
const config = defaultConfig({
  mlp: {
    dim: 2,
    widths: [4],
    activation: "tanh",
    finalActivation: "identity",
    timeDependent: true,
  },
  steps: 10,
});

Deno.test("train backend: cpu is train() itself, bit for bit", async () => {
  const viaBackend = await train({ config, data, iterations: 4, backend: "cpu" });
  const direct = await trainCpu({ config, data, iterations: 4 });
  assert.equal(viaBackend.backend, "cpu");
  assert.deepEqual(viaBackend.state.losses, direct.state.losses);
  assert.deepEqual(viaBackend.state.params, direct.state.params);
});

Deno.test("train backend: webgpu on a given device is trainGpu() itself", async () => {
  const adapter = await findGpuAdapter();
  if (adapter === null) {
    console.log("skipped: no WebGPU adapter here");
    return;
  }
  const gpu = await adapter.requestDevice();
  try {
    const viaBackend = await train({ config, data, iterations: 4, backend: "webgpu", gpu });
    const direct = await trainGpu({ config, data, iterations: 4, gpu });
    assert.equal(viaBackend.backend, "webgpu");
    assert.deepEqual(viaBackend.state.losses, direct.state.losses);
    assert.deepEqual(viaBackend.state.params, direct.state.params);
    // float32 against float64: the same run to about 1e-6 relative
    const cpu = await trainCpu({ config, data, iterations: 4 });
    for (let i = 0; i < 4; i++) {
      const rel = Math.abs(viaBackend.state.losses[i] - cpu.state.losses[i]) / cpu.state.losses[i];
      assert.ok(rel < 1e-4, `iteration ${i}: ${rel}`);
    }
  } finally {
    gpu.destroy();
  }
});

Deno.test("train backend: what the GPU cannot run is refused for webgpu, sent to the CPU for auto", async () => {
  const plain = { ...config, scheme: "plain" as const, gradient: "direct" as const };
  await assert.rejects(
    train({ config: plain, data, iterations: 1, backend: "webgpu" }),
    /does not run on the WebGPU backend: the plain scheme runs on the CPU backend only: .*reversible\(tableau\)/,
  );
  const auto = await train({ config: plain, data, iterations: 2, backend: "auto" });
  assert.equal(auto.backend, "cpu");
  assert.match(auto.backendReason, /does not run on the GPU: the plain scheme/);
  assert.equal(auto.state.losses.length, 2);
});

Deno.test("train backend: an unknown backend is refused by name and value", async () => {
  await assert.rejects(
    train({ config, data, iterations: 1, backend: "gpu" as never }),
    /Invalid backend: got "gpu"; expected "cpu", "webgpu" or "auto"/,
  );
});
