/**
 * The `gradient` option of `solve()` as data, checked, and the gradient run
 * it builds for a discretised solve; the twin of schemes/spec.ts, which
 * does the same for the `scheme` option.
 *
 * @module
 */

import { invalidArgument, requireInteger, requireKnownKeys } from "../checks.ts";
import { SolveRefusal } from "../results.ts";
import type { Scheme } from "../schemes/scheme.ts";
import type { GradientRun, Problem } from "./problem.ts";
import { reversibleGradient } from "./reversible.ts";
import { directGradient } from "./direct.ts";
import { checkpointedGradient, defaultCheckpoints } from "./checkpointed.ts";
import { backsolveGradient } from "./backsolve.ts";

/** Names of the gradient methods. */
export type GradientMethodName = "reversible" | "direct" | "checkpointed" | "backsolve";

/**
 * How gradients are taken. A name alone uses the defaults; the object forms
 * set, for `reversible`, `checkpointEvery` (store the state every K steps to
 * bound reconstruction drift) and `reconstructionTolerance` (the largest
 * relative distance of a rebuilt state from the true one before `backward()`
 * throws, default 1e-6; `Infinity` disables the check), or, for
 * `checkpointed`, `checkpoints` (number of stored states, default
 * `floor(−1.5 + √(2N + 0.25)) + 1`).
 */
export type GradientSpec =
  | GradientMethodName
  | {
    readonly method: "reversible";
    readonly checkpointEvery?: number;
    readonly reconstructionTolerance?: number;
  }
  | { readonly method: "checkpointed"; readonly checkpoints?: number }
  | { readonly method: "direct" | "backsolve" };

/** A checked {@link GradientSpec}, every setting filled in. */
export interface ParsedGradient {
  /** The method. */
  method: GradientMethodName;
  /** `reversible`: store the state every this many steps (0: never). */
  checkpointEvery: number;
  /** `reversible`: the largest relative reconstruction drift accepted. */
  reconstructionTolerance: number;
  /** `checkpointed`: stored states; null for the default of the solve's step count. */
  checkpoints: number | null;
}

/**
 * Checks a gradient option and fills in its defaults.
 *
 * @param spec The option, as given to `solve()`.
 * @returns The method and its settings.
 *
 * @example
 * ```ts
 * import { parseGradient } from "./spec.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseGradient("reversible"), {
 *   method: "reversible", checkpointEvery: 0, reconstructionTolerance: 1e-6, checkpoints: null,
 * });
 * assert.equal(parseGradient({ method: "checkpointed", checkpoints: 3 }).checkpoints, 3);
 * assert.throws(() => parseGradient({ method: "direct", checkpoints: 3 } as never), /gradient\.checkpoints/);
 * ```
 */
export function parseGradient(spec: GradientSpec): ParsedGradient {
  const names = ["reversible", "direct", "checkpointed", "backsolve"];
  const object = typeof spec === "string" ? { method: spec } : spec;
  if (object === null || typeof object !== "object" || !names.includes(object.method)) {
    invalidArgument(
      "gradient",
      spec,
      `one of ${names.map((n) => `"${n}"`).join(", ")} or { method, … }`,
    );
  }
  const keys: Record<string, string[]> = {
    reversible: ["method", "checkpointEvery", "reconstructionTolerance"],
    checkpointed: ["method", "checkpoints"],
  };
  requireKnownKeys("gradient", object, keys[object.method] ?? ["method"]);
  const o = object as {
    method: GradientMethodName;
    checkpointEvery?: number;
    reconstructionTolerance?: number;
    checkpoints?: number;
  };
  const reconstructionTolerance = o.reconstructionTolerance ?? 1e-6;
  if (typeof reconstructionTolerance !== "number" || !(reconstructionTolerance > 0)) {
    invalidArgument(
      "gradient.reconstructionTolerance",
      reconstructionTolerance,
      "a number > 0 (Infinity disables the check)",
    );
  }
  const checkpointEvery = o.checkpointEvery === undefined
    ? 0
    : requireInteger("gradient.checkpointEvery", o.checkpointEvery, 1);
  const checkpoints = o.checkpoints === undefined
    ? null
    : requireInteger("gradient.checkpoints", o.checkpoints, 1);
  return { method: o.method, checkpointEvery, reconstructionTolerance, checkpoints };
}

/**
 * Refuses the reversible gradient for a scheme with no algebraic inverse.
 *
 * @param scheme The solve's scheme.
 * @param gradient Its gradient method, or null for none.
 * @throws {SolveRefusal} Of kind `irreversible_scheme`.
 *
 * @example
 * ```ts
 * import { parseGradient, refuseIrreversible } from "./spec.ts";
 * import { buildScheme, plain } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 *
 * const { scheme } = buildScheme(plain(rk4), linearField(1), 1, new MemoryMeter());
 * refuseIrreversible(scheme, parseGradient("direct"));
 * assert.throws(
 *   () => refuseIrreversible(scheme, parseGradient("reversible")),
 *   (e: RangeError & { kind?: string }) => e.kind === "irreversible_scheme",
 * );
 * ```
 */
export function refuseIrreversible(scheme: Scheme, gradient: ParsedGradient | null): void {
  if (gradient?.method === "reversible" && !scheme.reversible) {
    throw new SolveRefusal({ kind: "irreversible_scheme", data: { scheme: scheme.name } });
  }
}

/**
 * The gradient run of a checked method on a discretised solve; with no
 * method, the backsolve run, whose forward pass stores nothing beyond the
 * outputs.
 *
 * @param problem The solve.
 * @param gradient The method, or null for a forward-only solve.
 * @returns The method's forward and backward passes.
 *
 * @example
 * ```ts
 * import { buildGradient, parseGradient } from "./spec.ts";
 * import { newProblem } from "./problem.ts";
 * import { buildScheme, reversible } from "../schemes/spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import { uniformGrid } from "../grid.ts";
 * import { checkSaveAt, Outputs } from "../outputs.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 *
 * const field = linearField(1), meter = new MemoryMeter();
 * const { scheme, baseTableau } = buildScheme(reversible(rk4), field, 1, meter);
 * const grid = uniformGrid(0, 1, 10);
 * const place = { size: 1, slotStride: 1, rowOffset: 0, stepSlots: 10, tEnd: 1 };
 * const outputs = new Outputs(checkSaveAt(undefined, 0, 1), field, 1, place, meter);
 * const params = Float64Array.of(-1), y0 = Float64Array.of(1), batch = 1;
 * const problem = newProblem({ field, scheme, baseTableau, grid, outputs, params, y0, batch, meter });
 * const run = buildGradient(problem, parseGradient("reversible"));
 * const ys = new Float64Array(1);
 * run.forward(ys);
 * assert.ok(Math.abs(ys[0] - Math.exp(-1)) < 1e-6);
 * assert.ok(Math.abs(run.backward(Float64Array.of(1)).y0[0] - Math.exp(-1)) < 1e-6);
 * ```
 */
export function buildGradient(problem: Problem, gradient: ParsedGradient | null): GradientRun {
  switch (gradient?.method) {
    case "reversible":
      return reversibleGradient(
        problem,
        gradient.checkpointEvery,
        gradient.reconstructionTolerance,
      );
    case "direct":
      return directGradient(problem);
    case "checkpointed":
      return checkpointedGradient(
        problem,
        gradient.checkpoints ?? defaultCheckpoints(problem.grid.steps),
      );
    default:
      return backsolveGradient(problem);
  }
}
