/**
 * Device limits are enforced where WebGPU would only complain later and
 * asynchronously: a buffer over maxBufferSize, a slice or binding over
 * maxStorageBufferBindingSize, a kernel with more storage bindings than the
 * device allows. Each refusal names the buffer or kernel and says what to do.
 */

import assert from "node:assert/strict";
import { gpuTests } from "./gpu_harness.ts";
import { GpuContext } from "../training/webgpu/context.ts";
import { linearMain } from "../training/webgpu/wgsl.ts";

const gpuTest = gpuTests("webgpu limits");

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
    const many = Array.from({ length: maxStorageBuffersPerShaderStage + 1 }, (_, k) => ({
      name: `b${k}`,
      access: "read_write" as const,
    }));
    assert.throws(
      () => ctx.kernel({ name: "too.many", bindings: many, code: linearMain(1, "  b0[i] = 1.0;") }),
      /too\.many binds \d+ storage buffers; this device allows \d+/,
    );
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
