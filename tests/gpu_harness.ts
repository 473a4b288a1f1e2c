/**
 * What the GPU test files share: one probe of the WebGPU adapter, a
 * `Deno.test` wrapper that skips without an adapter (and fails instead when
 * `.ci/run` sets REVODE_REQUIRE_GPU=1), each test on a fresh device, and the
 * relative error the parity tests measure.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type GpuDevice, requestGpuDevice } from "../solvers/webgpu/runtime/device.ts";
import type { Rng } from "../solvers/fields/random.ts";

/** Whether a missing adapter fails the GPU tests instead of skipping them. */
export const REQUIRED: boolean = Deno.env.get("REVODE_REQUIRE_GPU") === "1";

/** The adapter found at start-up, or why there is none. */
export const ADAPTER: { readonly description: string | null; readonly unavailable: string } =
  await (async () => {
    try {
      const gpu = await requestGpuDevice();
      const description = `${gpu.description}${gpu.isFallback ? " (software adapter)" : ""}`;
      gpu.device.destroy();
      return { description, unavailable: "" };
    } catch (e) {
      return { description: null, unavailable: e instanceof Error ? e.message : String(e) };
    }
  })();

/**
 * A test registrar for one file: `gpuTests("webgpu")("name", fn)` registers
 * "webgpu: name", run on a device of its own, skipped without an adapter
 * unless one is required; `fn` gets the device and what was learned with it.
 * Says once which adapter the file's tests use.
 *
 * @param prefix The file's test-name prefix.
 * @returns The registrar.
 */
export function gpuTests(
  prefix: string,
): (name: string, fn: (device: GPUDevice, gpu: GpuDevice) => Promise<void>) => void {
  if (ADAPTER.description !== null) console.log(`${prefix} tests on: ${ADAPTER.description}`);
  else if (!REQUIRED) console.log(`${prefix} tests skipped: ${ADAPTER.unavailable}`);
  return (name, fn) =>
    Deno.test({
      name: `${prefix}: ${name}`,
      ignore: ADAPTER.description === null && !REQUIRED,
      // GPU objects and pending maps outlive a test; they are released with the device.
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        if (ADAPTER.description === null) {
          throw new Error(`REVODE_REQUIRE_GPU=1 but no WebGPU adapter: ${ADAPTER.unavailable}`);
        }
        const fresh = await requestGpuDevice();
        // A validation error outside an error scope (a kernel the compiler rejects, a
        // bad binding) is otherwise only printed as a warning; here it fails the test.
        const uncaptured: string[] = [];
        fresh.device.addEventListener("uncapturederror", (e) => {
          uncaptured.push((e as GPUUncapturedErrorEvent).error.message.trim());
        });
        try {
          await fn(fresh.device, fresh);
        } finally {
          // wgpu panics, taking the whole test run down, when a device's queue is
          // dropped while its last submission runs for more than ~6 s (a long solve
          // on a busy software adapter): a test that ends or fails with work queued
          // waits for it first.
          await fresh.device.queue.onSubmittedWorkDone();
          fresh.device.destroy();
        }
        assert.deepEqual(uncaptured, [], "WebGPU reported errors outside any error scope");
      },
    });
}

/**
 * Relative ∞-norm distance `max |a − b| / max |b|`.
 *
 * @param a Values.
 * @param b Reference values, as many.
 * @returns The distance.
 */
export function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, Number.MIN_VALUE);
}

/**
 * `n` normal deviates times `scale`, drawn in order from `rng`.
 *
 * @param rng The generator.
 * @param n How many.
 * @param scale Their scale (default 1).
 * @returns The values.
 */
export function randoms(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/**
 * Asserts that two different pipelines computed the same f32 values: bit for
 * bit on a software adapter, within `tolerance` relative on hardware. The
 * kernels sum the same terms in the same order, but WGSL lets a compiler fuse
 * a multiply and an add (Naga marks no expression NoContraction), and a GPU
 * driver may decide differently in each shader; llvmpipe compiles both alike,
 * which the exact check keeps testing in CI.
 *
 * @param gpu The device the test runs on.
 * @param actual One pipeline's values.
 * @param expected The other's.
 * @param message What is compared.
 * @param tolerance Relative ∞-norm distance allowed on hardware.
 */
export function assertSameAcrossPipelines(
  gpu: GpuDevice,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  message: string,
  tolerance = 1e-6,
): void {
  if (gpu.isFallback) {
    assert.deepEqual(Array.from(actual), Array.from(expected), message);
  } else {
    const distance = relative(actual, expected);
    assert.ok(distance <= tolerance, `${message}: ${distance} apart`);
  }
}
