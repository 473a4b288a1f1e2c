/**
 * `Scheme.coupled`: only McCallum & Foster's reversible scheme on a tableau
 * has a coupling λ, whatever its name says; and λ has one check.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  buildScheme,
  leapfrog,
  plain,
  reversible,
  reversibleHeun,
  type SchemeSpec,
} from "../solvers/schemes/spec.ts";
import { rk4 } from "../solvers/tableaux.ts";
import { linearField } from "../solvers/fields/linear.ts";
import { MemoryMeter } from "../solvers/memory.ts";

function built(spec: SchemeSpec) {
  return buildScheme(spec, linearField(1), 1, new MemoryMeter()).scheme;
}

Deno.test("only the reversible scheme on a tableau is coupled", () => {
  assert.equal(built(reversible(rk4)).coupled, true);
  assert.equal(built(reversible(rk4, { coupling: 1 })).coupled, true);
  assert.equal(built(plain(rk4)).coupled, false);
  assert.equal(built(reversibleHeun()).coupled, false);
  assert.equal(built(leapfrog()).coupled, false);
});

Deno.test("a hand-made scheme spec's coupling meets the same check as reversible()'s", () => {
  const bad = { kind: "reversible", tableau: rk4, coupling: 1.5 } as const;
  const message = /Invalid coupling: got 1\.5; expected a number λ in \(0, 1\]/;
  assert.throws(() => built(bad), message);
  assert.throws(() => reversible(rk4, { coupling: 1.5 }), message);
});
