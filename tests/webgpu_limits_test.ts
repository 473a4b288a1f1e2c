/**
 * Device limits are enforced where WebGPU would only complain later and
 * asynchronously: a buffer over maxBufferSize, a slice or binding over
 * maxStorageBufferBindingSize, a kernel with more storage bindings than the
 * device allows. Each refusal names the buffer or kernel and says what to do.
 */

import assert from "node:assert/strict";
import { gpuTests } from "./gpu_harness.ts";
import { GpuContext } from "../solvers/webgpu/runtime/context.ts";
import { linearMain } from "../solvers/webgpu/runtime/wgsl.ts";

const gpuTest = gpuTests("webgpu limits");

/** `device`, but with some of its limits replaced (lower than the real ones). */
function allowing(device: GPUDevice, limits: Record<string, number>): GPUDevice {
  const replaced = new Proxy(device.limits, {
    get: (real, key) => key in limits ? limits[key as string] : Reflect.get(real, key, real),
  });
  return new Proxy(device, {
    get(real, key) {
      if (key === "limits") return replaced;
      const value = Reflect.get(real, key, real);
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
}

gpuTest("oversized buffers, bindings and binding counts are refused at once", async (device) => {
  const ctx = new GpuContext(device);
  const { maxBufferSize, maxStorageBufferBindingSize, maxStorageBuffersPerShaderStage } =
    device.limits;
  try {
    const before = ctx.bytes;
    assert.throws(
      () => ctx.arena("huge", [maxBufferSize / 4 + 1], 0, false),
      new RegExp(`"huge" would need \\d+ bytes, over this device's limit of ${maxBufferSize}`),
    );
    assert.throws(
      () => ctx.arena("wide", [maxStorageBufferBindingSize / 4 + 1]),
      /"wide" would bind \d+ bytes, over .* per buffer binding: use a smaller batch/,
    );
    assert.equal(ctx.bytes, before, "nothing was allocated");
    // The binding count is checked on a stand-in for this device that allows 8: a real
    // limit can be 2³² − 1 (NVIDIA), too many bindings to list.
    const eight = new GpuContext(allowing(device, { maxStorageBuffersPerShaderStage: 8 }));
    const bindings = (n: number) =>
      Array.from({ length: n }, (_, k) => ({ name: `b${k}`, access: "read_write" as const }));
    const code = linearMain(1, "  b0[i] = 1.0;");
    assert.throws(
      () => eight.kernel({ name: "too.many", bindings: bindings(9), code }),
      /too\.many binds 9 storage buffers; this device allows 8/,
    );
    assert.ok(eight.kernel({ name: "enough", bindings: bindings(8), code }));
    assert.ok(maxStorageBuffersPerShaderStage >= 8, "requestGpuDevice asks for the adapter's");
    const kernel = ctx.kernel({
      name: "one",
      bindings: [{ name: "x", access: "read_write" }],
      code: linearMain(1, "  x[i] = 1.0;"),
    });
    const small = ctx.buffer("small", 4);
    const over = { ...small, length: maxStorageBufferBindingSize / 4 + 1 };
    assert.throws(() => ctx.bind(kernel, [over]), /one would bind \d+ bytes as x, over/);
    assert.ok(ctx.bind(kernel, [small]));
  } finally {
    ctx.destroy();
  }
  await Promise.resolve();
});
