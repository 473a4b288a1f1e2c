/**
 * GPU-only: what the WebGPU backend can solve, asked of `solve()`'s own
 * options. Every GPU entry point (the solver, the trainer, a program's
 * backend choice) asks this one function, so a combination is refused
 * before any buffer is allocated, with one sentence that says what to use
 * instead, in the library's vocabulary (option names, never flags).
 *
 * The GPU runs the reversible scheme on any explicit Runge–Kutta tableau,
 * with fixed steps saving every step or with a PID controller saving at
 * given times, and the reversible, direct or checkpointed gradient.
 *
 * @module
 */

import type { SchemeSpec } from "../schemes/spec.ts";
import type { GradientSpec } from "../gradients/spec.ts";
import type { PidController } from "../controller.ts";
import type { SaveAt } from "../outputs.ts";

/** The gradient methods the GPU has. */
const GPU_METHODS = ["reversible", "direct", "checkpointed"];

/**
 * The options of a solve that decide whether it runs on the GPU: those of
 * `solve()`, by the same names.
 *
 * @example
 * ```ts
 * import { gpuSupport, type GpuSupportQuery } from "./support.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const query: GpuSupportQuery = { scheme: reversible(rk4), saveAt: { steps: true } };
 * assert.equal(gpuSupport(query), null); // runs on the GPU (reversible gradient by default)
 * assert.match(gpuSupport({ ...query, saveAt: { t1: true } })!, /saveAt/);
 * ```
 */
export interface GpuSupportQuery {
  /** The scheme. */
  readonly scheme: SchemeSpec;
  /** The gradient method (default `"reversible"`). */
  readonly gradient?: GradientSpec;
  /** A step-size controller, for adaptive steps. */
  readonly controller?: PidController;
  /** What is saved (`solve()`'s default is `{ t1: true }`). */
  readonly saveAt?: SaveAt;
}

/**
 * Whether a solve can run on the WebGPU backend.
 *
 * @param query The solve's scheme, gradient method, controller and saved outputs.
 * @returns Null when it can; else a sentence saying why not and what to use instead.
 *
 * @example
 * ```ts
 * import { gpuSupport } from "./support.ts";
 * import { leapfrog, plain, reversible } from "../schemes/spec.ts";
 * import { pid } from "../controller.ts";
 * import { bosh3, rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 *
 * const every = { steps: true };
 * assert.equal(gpuSupport({ scheme: reversible(rk4), saveAt: every }), null);
 * const controller = pid({ rtol: 1e-6, atol: 1e-6 });
 * assert.equal(
 *   gpuSupport({ scheme: reversible(bosh3), controller, saveAt: { ts: [1] }, gradient: "direct" }),
 *   null,
 * );
 * assert.match(gpuSupport({ scheme: plain(rk4), saveAt: every })!, /plain scheme runs on the CPU backend only/);
 * assert.match(gpuSupport({ scheme: leapfrog(), saveAt: every })!, /use reversible\(tableau\)/);
 * assert.match(
 *   gpuSupport({ scheme: reversible(rk4), saveAt: every, gradient: "backsolve" })!,
 *   /backsolve gradient runs on the CPU backend only/,
 * );
 * assert.match(gpuSupport({ scheme: reversible(rk4) })!, /saveAt: \{ steps: true \}/);
 * ```
 */
export function gpuSupport(query: GpuSupportQuery): string | null {
  return schemeSupport(query.scheme) ?? gradientSupport(query) ?? saveAtSupport(query);
}

function schemeSupport(scheme: SchemeSpec): string | null {
  switch (scheme?.kind) {
    case "reversible":
      return null;
    case "plain":
      return "the plain scheme runs on the CPU backend only: the GPU runs the reversible " +
        "scheme, reversible(tableau), on the same tableau.";
    case "reversibleHeun":
    case "leapfrog":
      return `the ${scheme.kind} scheme runs on the CPU backend only: on the GPU, use ` +
        "reversible(tableau) with a Runge–Kutta tableau.";
    default:
      return `unknown scheme ${JSON.stringify(scheme)}: expected reversible(tableau).`;
  }
}

function gradientSupport({ gradient, controller }: GpuSupportQuery): string | null {
  const spec = gradient ?? "reversible";
  const method = typeof spec === "string" ? spec : spec?.method;
  if (!GPU_METHODS.includes(method)) {
    return `the ${method} gradient runs on the CPU backend only: on the GPU, use ` +
      `"reversible", "direct" or "checkpointed".`;
  }
  if (typeof spec !== "object") return null;
  if ("reconstructionTolerance" in spec && spec.reconstructionTolerance !== undefined) {
    return "the GPU does not check gradient.reconstructionTolerance during its backward pass: " +
      "leave it out and read the measured reconstructionError instead.";
  }
  if (controller !== undefined && "checkpointEvery" in spec && (spec.checkpointEvery ?? 0) !== 0) {
    return "with a controller, the GPU's reversible gradient takes no checkpointEvery: " +
      "leave it out, or solve on the CPU backend.";
  }
  return null;
}

function saveAtSupport({ saveAt, controller }: GpuSupportQuery): string | null {
  const s = saveAt ?? { t1: true };
  if (s === null || typeof s !== "object") return null; // the solver's argument check names it
  const adaptive = controller !== undefined;
  const fits = adaptive ? s.ts !== undefined && !s.steps : s.steps === true && s.ts === undefined;
  if (fits) return null;
  const given = `saveAt ${JSON.stringify(saveAt ?? { t1: true })}${
    saveAt === undefined ? " (the default)" : ""
  }`;
  return adaptive
    ? `with a controller, the GPU saves at given times: ${given} is not one of its forms; ` +
      "use saveAt: { ts } (with t0: true to save y(t0) too)."
    : `with fixed steps, the GPU saves every step: ${given} is not one of its forms; ` +
      "use saveAt: { steps: true } (with t0: true to save y(t0) too) and read the slots you need.";
}
