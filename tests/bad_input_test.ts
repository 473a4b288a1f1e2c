/**
 * Bad inputs to solve(), reversible(), checkTableau() and the training
 * API's option objects: each throws an
 * Error whose message names the argument, shows the value received and says
 * what is allowed.
 */

import assert from "node:assert/strict";
import {
  AdamW,
  type GradientSpec,
  linearField,
  Mlp,
  pid,
  plain,
  reversible,
  rk4,
  type SchemeSpec,
  solve,
  type SolveOptions,
  type Tableau,
} from "../mod.ts";
import { checkTableau } from "../solvers/tableau.ts";
import { parseOscillator } from "../training/datasets/schmidt_lipson.ts";
import { simulateOscillator, simulatePendulum } from "../training/datasets/simulated.ts";
import { whiteDwarfData } from "../training/datasets/white_dwarf.ts";

/**
 * Asserts that `fn` throws an Error whose message contains every fragment,
 * in order: typically the argument's name, the value, and what is allowed.
 */
function throwsNaming(fn: () => unknown, fragments: (string | RegExp)[]): void {
  let caught: unknown = undefined;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected an Error, got ${String(caught)}`);
  const message = caught.message;
  let from = 0;
  for (const f of fragments) {
    const rest = message.slice(from);
    const at = typeof f === "string" ? rest.indexOf(f) : rest.search(f);
    assert.ok(at >= 0, `message ${JSON.stringify(message)} lacks ${String(f)} after index ${from}`);
    from += at;
  }
}

/** A valid solve of y' = A y, dim 2, batch 2, that each case spoils in one place. */
function base(): SolveOptions {
  return {
    field: linearField(2),
    y0: Float64Array.of(1, 0, 0, 1),
    params: Float64Array.of(0, 1, -1, 0),
    scheme: reversible(rk4),
    t0: 0,
    t1: 1,
    steps: 10,
  };
}

const run = (change: Partial<SolveOptions>) => () => solve({ ...base(), ...change });

Deno.test("the base case is valid", () => {
  const sol = solve({ ...base(), gradient: "reversible" });
  assert.equal(sol.ys.length, 4);
  sol.backward(new Float64Array(4).fill(1));
});

Deno.test("non-finite y0 entries", () => {
  throwsNaming(run({ y0: Float64Array.of(1, NaN, 0, 1) }), ["y0[1]", "NaN", "finite"]);
  throwsNaming(run({ y0: Float64Array.of(1, 0, 0, Infinity) }), ["y0[3]", "Infinity", "finite"]);
  throwsNaming(run({ y0: Float64Array.of(-Infinity, 0, 0, 1) }), ["y0[0]", "-Infinity", "finite"]);
});

Deno.test("non-finite params", () => {
  throwsNaming(run({ params: Float64Array.of(0, 1, NaN, 0) }), ["params[2]", "NaN", "finite"]);
  throwsNaming(
    run({ params: Float64Array.of(Infinity, 1, -1, 0) }),
    ["params[0]", "Infinity", "finite"],
  );
});

Deno.test("y0 length not a multiple of dim", () => {
  throwsNaming(run({ y0: Float64Array.of(1, 0, 0) }), ["y0", "length 3", "multiple of dim = 2"]);
  throwsNaming(run({ y0: new Float64Array(0) }), ["y0", "length 0", "multiple of dim = 2"]);
});

Deno.test("params of the wrong length", () => {
  throwsNaming(run({ params: Float64Array.of(0, 1, -1) }), ["params", "length 3", "4"]);
  throwsNaming(run({ params: undefined }), ["params", "length 0", "4"]);
});

Deno.test("steps ≤ 0 or not an integer", () => {
  for (const steps of [0, -3, 2.5, NaN]) {
    throwsNaming(run({ steps }), ["steps", String(steps), "integer"]);
  }
});

Deno.test("t1 ≤ t0", () => {
  throwsNaming(run({ t0: 1, t1: 1 }), ["t1", "1", "greater than t0 = 1"]);
  throwsNaming(run({ t0: 0, t1: -0.5 }), ["t1", "-0.5", "greater than t0 = 0"]);
  throwsNaming(run({ t0: 0, t1: NaN }), ["t1", "NaN", "greater than t0"]);
});

Deno.test("a grid that does not increase", () => {
  const noUniform = { t0: undefined, t1: undefined, steps: undefined };
  throwsNaming(
    run({ ...noUniform, grid: [0, 0.5, 0.5, 1] }),
    ["grid[2]", "0.5", "strictly greater than grid[1] = 0.5"],
  );
  throwsNaming(
    run({ ...noUniform, grid: [0, 1, 0.25] }),
    ["grid[2]", "0.25", "strictly greater than grid[1] = 1"],
  );
  throwsNaming(run({ ...noUniform, grid: [0, NaN, 1] }), ["grid[1]", "NaN", "finite"]);
  throwsNaming(run({ ...noUniform, grid: [0] }), ["grid", "length 1", "at least two"]);
  // a grid together with t0 / t1 / steps is ambiguous
  throwsNaming(run({ grid: [0, 1] }), ["t0", "0", "undefined when an explicit grid"]);
});

Deno.test("coupling outside (0, 1]", () => {
  for (const coupling of [0, -1, 1.5, NaN]) {
    throwsNaming(() => reversible(rk4, { coupling }), ["coupling", String(coupling), "(0, 1]"]);
    // and a hand-made scheme object that skips reversible()
    const scheme = { kind: "reversible", tableau: rk4, coupling } as SchemeSpec;
    throwsNaming(run({ scheme }), ["coupling", String(coupling), "(0, 1]"]);
  }
  // the ends of the interval
  assert.equal((reversible(rk4, { coupling: 1 }) as { coupling: number }).coupling, 1);
  assert.ok(solve({ ...base(), scheme: reversible(rk4, { coupling: 1e-3 }) }).ys.every(isFinite));
});

// ---------------------------------------------------------------------------
// Tableaux

const heun: Tableau = { name: "heun", order: 2, a: [[], [1]], b: [0.5, 0.5], c: [0, 1] };

Deno.test("a tableau that is not strictly lower triangular", () => {
  const upper = { ...heun, a: [[0, 0.5], [0.5, 0]], c: [0.5, 0.5] };
  throwsNaming(() => checkTableau(upper), ["tableau.a[0][1]", "0.5", "strictly lower-triangular"]);
  const diagonal = { ...heun, a: [[0, 0], [0.5, 0.5]] };
  throwsNaming(
    () => checkTableau(diagonal),
    ["tableau.a[1][1]", "0.5", "strictly lower-triangular"],
  );
  // the same through solve(), named as the scheme's tableau
  throwsNaming(
    run({ scheme: plain(upper) }),
    ["scheme.tableau.a[0][1]", "0.5", "lower-triangular"],
  );
});

Deno.test("row sums of A that differ from c", () => {
  throwsNaming(
    () => checkTableau({ ...heun, c: [0, 0.9] }),
    ["tableau.c[1]", "0.9", "sum of row 1", "1"],
  );
  throwsNaming(
    run({ scheme: reversible({ ...heun, c: [0.1, 1] }) }),
    ["scheme.tableau.c[0]", "0.1", "sum of row 0", "0"],
  );
});

Deno.test("weights that do not sum to 1", () => {
  throwsNaming(() => checkTableau({ ...heun, b: [0.5, 0.6] }), ["tableau.b", "sum to 1", "1.1"]);
  throwsNaming(
    run({ scheme: plain({ ...heun, b: [0.5, 0.4] }) }),
    ["scheme.tableau.b", "sum to 1", "0.9"],
  );
});

Deno.test("tableaux with mismatched lengths", () => {
  throwsNaming(() => checkTableau({ ...heun, c: [0, 1, 1] }), ["tableau.c", "length 3", "2"]);
  throwsNaming(() => checkTableau({ ...heun, a: [[]] }), ["tableau.a", "length 1", "2"]);
  throwsNaming(
    () => checkTableau({ ...heun, a: [[], [0.5, 0.5, 0]] }),
    ["tableau.a[1]", "length 3", "1"],
  );
  throwsNaming(
    () => checkTableau({ ...heun, bError: [1, -1, 0] }),
    ["tableau.bError", "length 3", "2"],
  );
  throwsNaming(() => checkTableau({ ...heun, b: [] }), ["tableau.b", "length 0", "non-empty"]);
});

Deno.test("non-finite tableau entries and a bad order", () => {
  throwsNaming(
    () => checkTableau({ ...heun, a: [[], [NaN]] }),
    ["tableau.a[1][0]", "NaN", "finite"],
  );
  throwsNaming(() => checkTableau({ ...heun, order: 0 }), ["tableau.order", "0", "integer"]);
  // an embedded order the controller cannot use (its exponents are 1 / (errorOrder + 1))
  const embedded = { ...heun, bError: [1, 0], errorOrder: 1 };
  checkTableau(embedded);
  for (const errorOrder of [NaN, 0, 1.5, 2, "two"]) {
    throwsNaming(() => checkTableau({ ...embedded, errorOrder } as never), [
      "tableau.errorOrder",
      String(errorOrder),
      "integer >= 1 other than order = 2",
    ]);
  }
  throwsNaming(() => checkTableau({ ...heun, errorOrder: 1 }), [
    "tableau.errorOrder",
    "1",
    "unless bError",
  ]);
});

// ---------------------------------------------------------------------------
// Gradients

Deno.test("checkpoints < 1 and checkpointEvery < 1", () => {
  for (const checkpoints of [0, -2, 1.5]) {
    throwsNaming(
      run({ gradient: { method: "checkpointed", checkpoints } }),
      ["gradient.checkpoints", String(checkpoints), "integer >= 1"],
    );
  }
  for (const checkpointEvery of [0, -1, 2.5]) {
    throwsNaming(
      run({ gradient: { method: "reversible", checkpointEvery } }),
      ["gradient.checkpointEvery", String(checkpointEvery), "integer >= 1"],
    );
  }
});

Deno.test("an unknown gradient method", () => {
  throwsNaming(
    run({ gradient: "adjoint" as GradientSpec }),
    ["gradient", '"adjoint"', '"reversible"', '"direct"', '"checkpointed"', '"backsolve"'],
  );
  throwsNaming(
    run({ gradient: { method: "revolve" } as unknown as GradientSpec }),
    ["gradient", "revolve", '"reversible"'],
  );
});

Deno.test('a "reversible" gradient with a plain scheme', () => {
  throwsNaming(
    run({ scheme: plain(rk4), gradient: "reversible" }),
    ["gradient", '"reversible"', "plain rk4", "reversible(tableau)"],
  );
  throwsNaming(
    run({ scheme: plain(rk4), gradient: { method: "reversible" } }),
    ["gradient", '"reversible"', "plain rk4"],
  );
});

Deno.test("cotangents of the wrong length or non-finite", () => {
  const sol = solve({ ...base(), gradient: "reversible", saveAt: { t0: true, t1: true } });
  assert.equal(sol.ys.length, 8);
  throwsNaming(() => sol.backward(new Float64Array(4)), ["cotangents", "length 4", "8"]);
  throwsNaming(() => sol.backward(new Float64Array(9)), ["cotangents", "length 9", "8"]);
  const bad = new Float64Array(8);
  bad[5] = NaN;
  throwsNaming(() => sol.backward(bad), ["cotangents[5]", "NaN", "finite"]);
  bad[5] = -Infinity;
  throwsNaming(() => sol.backward(bad), ["cotangents[5]", "-Infinity", "finite"]);
  // a failed call leaves the solution usable
  const g = sol.backward(new Float64Array(8).fill(1));
  assert.ok(g.params.every(Number.isFinite));
});

Deno.test("backward() without a gradient method", () => {
  const sol = solve(base());
  throwsNaming(() => sol.backward(new Float64Array(4)), ["backward()", "gradient"]);
});

Deno.test("options with a misspelt or foreign key are refused, not ignored", () => {
  // the paper writes λ; revode's option is `coupling`
  throwsNaming(() => reversible(rk4, { lambda: 0.5 } as never), [
    "options.lambda",
    "0.5",
    "coupling",
  ]);
  throwsNaming(() => reversible(rk4, null as never), ["options", "null", "coupling"]);
  throwsNaming(run({ gradient: { method: "checkpointed", checkpoint: 2 } as never }), [
    "gradient.checkpoint",
    "2",
    "method, checkpoints",
  ]);
  throwsNaming(run({ gradient: { method: "direct", checkpointEvery: 3 } as never }), [
    "gradient.checkpointEvery",
    "3",
    "method",
  ]);
  throwsNaming(run({ saveat: { steps: true } } as never), ["options.saveat", "saveAt"]);
  throwsNaming(() => pid({ rtol: 1e-6, atol: 1e-6, maxsteps: 10 } as never), [
    "controller.maxsteps",
    "10",
    "maxSteps",
  ]);
  throwsNaming(() => new Mlp({ dim: 2, widths: [4], activaton: "relu" } as never), [
    "options.activaton",
    '"relu"',
    "activation",
  ]);
  throwsNaming(() => new AdamW(3, { weight_decay: 0.1 } as never), [
    "options.weight_decay",
    "0.1",
    "weightDecay",
  ]);
  throwsNaming(() => whiteDwarfData({ point: 10 } as never), ["options.point", "10", "points"]);
  throwsNaming(() => simulateOscillator({ K: 1 } as never), ["options.K", "1", "k, kc"]);
  throwsNaming(() => simulatePendulum({ g: 9.8 } as never), ["options.g", "9.8", "gOverL"]);
  throwsNaming(() => parseOscillator("", "x", { trials: 1 } as never), ["options.trials", "trial"]);
  // the right keys still work
  assert.equal(new AdamW(3, { weightDecay: 0.1 }).weightDecay, 0.1);
  assert.equal(new Mlp({ dim: 2, widths: [4], activation: "relu", seed: 1 }).activation, "relu");
  // a flag that is not a boolean is not quietly read as false
  throwsNaming(run({ saveAt: { t0: 1, t1: true } as never }), ["saveAt.t0", "1", "true, false"]);
});

Deno.test("a solve too large for memory says so and what to change", () => {
  throwsNaming(run({ steps: 1e12, gradient: "direct" }), [
    "Out of memory",
    "1000000000000 steps",
    "gradient direct",
    '"reversible"',
  ]);
});
