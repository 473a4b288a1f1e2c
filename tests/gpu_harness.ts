/**
 * What the GPU test files share: one probe of the WebGPU adapter, a
 * `Deno.test` wrapper that skips without an adapter (and fails instead when
 * `.ci/run` sets REVODE_REQUIRE_GPU=1), each test on a fresh device, and the
 * relative error the parity tests measure.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type GpuDevice, requestGpuDevice } from "../training/webgpu/device.ts";
import type { Rng } from "../training/random.ts";

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
        try {
          await fn(fresh.device, fresh);
        } finally {
          fresh.device.destroy();
        }
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
