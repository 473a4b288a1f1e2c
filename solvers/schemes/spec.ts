/**
 * Scheme choices as plain data, and the constructors users call:
 * `plain(rk4)`, `reversible(rk4, { coupling })`, `reversibleHeun()`,
 * `leapfrog()`.
 *
 * @module
 */

import type { CheckedTableau, Tableau } from "../tableau.ts";
import { checkTableau } from "../tableau.ts";
import { heun, midpoint } from "../tableaux.ts";
import { invalidArgument, requireCoupling, requireKnownKeys } from "../checks.ts";
import type { VectorField } from "../vector_field.ts";
import type { MemoryMeter } from "../memory.ts";
import type { Scheme } from "./scheme.ts";
import { plainScheme } from "./plain.ts";
import { reversibleScheme } from "./reversible.ts";
import { reversibleHeunScheme } from "./reversible_heun.ts";
import { leapfrogScheme } from "./leapfrog.ts";

/** A time-stepping scheme, as data. */
export type SchemeSpec =
  | { readonly kind: "plain"; readonly tableau: Tableau }
  | { readonly kind: "reversible"; readonly tableau: Tableau; readonly coupling: number }
  | { readonly kind: "reversibleHeun" }
  | { readonly kind: "leapfrog" };

/** The default coupling λ of the reversible scheme. */
export const DEFAULT_COUPLING = 0.999;

/**
 * The plain Runge–Kutta scheme of a tableau.
 *
 * @param tableau The base method.
 * @returns The scheme choice.
 *
 * @example
 * ```ts
 * import { plain } from "./spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(plain(rk4).kind, "plain");
 * ```
 */
export function plain(tableau: Tableau): SchemeSpec {
  return { kind: "plain", tableau };
}

/**
 * The reversible scheme of McCallum & Foster built on a tableau
 * (numerics.md §2). λ trades forward stability (smaller λ) against the
 * stability of the reconstruction (λ near 1); see the README's table.
 *
 * @param tableau The base method.
 * @param options `coupling`: λ in (0, 1], default 0.999.
 * @returns The scheme choice.
 *
 * @example
 * ```ts
 * import { reversible } from "./spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reversible(rk4).kind, "reversible");
 * assert.throws(() => reversible(rk4, { coupling: 1.5 }), /coupling.*1\.5.*\(0, 1\]/);
 * // the paper writes λ; the option is `coupling`
 * assert.throws(() => reversible(rk4, { lambda: 0.5 } as never), /options\.lambda.*coupling/);
 * ```
 */
export function reversible(tableau: Tableau, options: { coupling?: number } = {}): SchemeSpec {
  requireKnownKeys("options", options, ["coupling"]);
  const coupling = requireCoupling(options.coupling ?? DEFAULT_COUPLING);
  return { kind: "reversible", tableau, coupling };
}

/**
 * Reversible Heun (Kidger et al. 2021): order 2, one evaluation per step.
 *
 * @returns The scheme choice.
 *
 * @example
 * ```ts
 * import { reversibleHeun } from "./spec.ts";
 * import assert from "node:assert/strict";
 * assert.equal(reversibleHeun().kind, "reversibleHeun");
 * ```
 */
export function reversibleHeun(): SchemeSpec {
  return { kind: "reversibleHeun" };
}

/**
 * The asynchronous leapfrog integrator (MALI, Zhuang et al. 2021).
 *
 * @returns The scheme choice.
 *
 * @example
 * ```ts
 * import { leapfrog } from "./spec.ts";
 * import assert from "node:assert/strict";
 * assert.equal(leapfrog().kind, "leapfrog");
 * ```
 */
export function leapfrog(): SchemeSpec {
  return { kind: "leapfrog" };
}

/**
 * Checks a scheme choice and builds it for a field and batch.
 *
 * @param spec The scheme choice.
 * @param field The field.
 * @param batch Number of trajectories.
 * @param meter Where buffer bytes are counted.
 * @returns The scheme and the base tableau used by the continuous adjoint.
 *
 * @example
 * ```ts
 * import { buildScheme, reversible } from "./spec.ts";
 * import { rk4 } from "../tableaux.ts";
 * import { linearField } from "../fields/linear.ts";
 * import { MemoryMeter } from "../memory.ts";
 * import assert from "node:assert/strict";
 * const { scheme } = buildScheme(reversible(rk4), linearField(2), 3, new MemoryMeter());
 * assert.equal(scheme.stateCount, 2);
 * ```
 */
export function buildScheme(
  spec: SchemeSpec,
  field: VectorField,
  batch: number,
  meter: MemoryMeter,
): { scheme: Scheme; baseTableau: CheckedTableau } {
  if (spec === null || typeof spec !== "object") {
    invalidArgument(
      "scheme",
      spec,
      "plain(tableau), reversible(tableau), reversibleHeun() or leapfrog()",
    );
  }
  switch (spec.kind) {
    case "plain": {
      const t = checkTableau(spec.tableau, "scheme.tableau");
      return { scheme: plainScheme(field, t, batch, meter), baseTableau: t };
    }
    case "reversible": {
      const t = checkTableau(spec.tableau, "scheme.tableau");
      // the spec may be hand-made data, not reversible()'s: λ is checked again
      const lambda = requireCoupling(spec.coupling);
      return { scheme: reversibleScheme(field, t, lambda, batch, meter), baseTableau: t };
    }
    case "reversibleHeun":
      return { scheme: reversibleHeunScheme(field, batch, meter), baseTableau: checkTableau(heun) };
    case "leapfrog":
      return { scheme: leapfrogScheme(field, batch, meter), baseTableau: checkTableau(midpoint) };
    default:
      return invalidArgument(
        "scheme.kind",
        (spec as { kind: unknown }).kind,
        '"plain", "reversible", "reversibleHeun" or "leapfrog"',
      );
  }
}
