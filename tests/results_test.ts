/**
 * What `solve()` and `backward()` throw carries the failure's kind and
 * numbers, so a caller (a program giving flag advice, a training loop)
 * reads them instead of parsing the message.
 *
 * @module
 */

import assert from "node:assert/strict";
import { solve } from "../solvers/solve.ts";
import { leapfrog, plain, reversible } from "../solvers/schemes/spec.ts";
import { bosh3, rk4 } from "../solvers/tableaux.ts";
import { pid } from "../solvers/controller.ts";
import { linearField } from "../solvers/fields/linear.ts";
import { Mlp } from "../solvers/fields/mlp.ts";
import {
  failureMessage,
  ReconstructionDriftError,
  SolveFailure,
  SolveRefusal,
} from "../solvers/results.ts";

const base = { field: linearField(1), y0: Float64Array.of(1, 2), t0: 0, t1: 10 };

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected a throw");
}

Deno.test("an adaptive solve out of steps throws its kind, trajectory, time and limit", () => {
  const e = caught(() =>
    solve({
      ...base,
      params: Float64Array.of(50),
      scheme: reversible(bosh3),
      controller: pid({ rtol: 1e-9, atol: 1e-9, maxSteps: 5 }),
    })
  );
  assert.ok(e instanceof SolveFailure && !(e instanceof RangeError));
  assert.equal(e.kind, "max_steps_reached");
  const data = e.data as { trajectory: number; t: number; maxSteps: number };
  assert.equal(data.trajectory, 0);
  assert.equal(data.maxSteps, 5);
  assert.ok(data.t > 0 && data.t < 10);
  assert.equal(e.message, failureMessage({ kind: "max_steps_reached", data }));
});

Deno.test("a fixed-step overflow throws non_finite with the row and the time it was found", () => {
  const e = caught(() =>
    solve({
      ...base,
      y0: Float64Array.of(1, 1e300),
      params: Float64Array.of(5),
      scheme: plain(rk4),
      steps: 10,
    })
  );
  assert.ok(e instanceof SolveFailure);
  assert.equal(e.kind, "non_finite");
  assert.deepEqual(e.data, { trajectory: 1, t: 5, adaptive: false });
});

Deno.test("refusals are RangeErrors with a kind", () => {
  const reversibleOfPlain = caught(() =>
    solve({
      ...base,
      params: Float64Array.of(1),
      scheme: plain(rk4),
      steps: 4,
      gradient: "reversible",
    })
  );
  assert.ok(reversibleOfPlain instanceof SolveRefusal && reversibleOfPlain instanceof RangeError);
  assert.equal(reversibleOfPlain.kind, "irreversible_scheme");
  assert.deepEqual(reversibleOfPlain.data, { scheme: "plain rk4" });
  const noEstimate = caught(() =>
    solve({
      ...base,
      params: Float64Array.of(1),
      scheme: plain(rk4),
      controller: pid({ rtol: 1e-6, atol: 1e-6 }),
    })
  );
  assert.ok(noEstimate instanceof SolveRefusal);
  assert.equal(noEstimate.kind, "no_error_estimate");
  const noGradient = caught(() =>
    solve({ ...base, params: Float64Array.of(1), scheme: plain(rk4), steps: 4 }).backward(
      Float64Array.of(1, 1),
    )
  );
  assert.ok(noGradient instanceof SolveFailure);
  assert.equal(noGradient.kind, "no_gradient");
});

Deno.test("a drift says whether the coupling is to blame, and which trajectory drifted", () => {
  const field = new Mlp({ dim: 2, widths: [10], timeDependent: true, seed: 0 });
  const params = field.init(0);
  const coupled = caught(() =>
    solve({
      field,
      y0: Float64Array.of(1, 0, 1, 0),
      params,
      scheme: reversible(bosh3, { coupling: 0.5 }),
      t0: 0,
      t1: 10,
      controller: pid({ rtol: 1e-8, atol: 1e-8 }),
      gradient: "reversible",
    }).backward(Float64Array.of(1, 1, 1, 1))
  );
  assert.ok(coupled instanceof ReconstructionDriftError);
  assert.equal(coupled.kind, "reconstruction_drift");
  assert.equal(coupled.data.coupled, true);
  assert.equal(coupled.data.trajectory, 0);
  assert.equal(coupled.data.trajectories, 2);
  assert.equal(coupled.drift, coupled.data.drift);
  assert.match(coupled.message, /^Trajectory 0 of 2: .* use a coupling λ closer to 1/);
  const uncoupled = caught(() =>
    solve({
      field,
      y0: Float64Array.of(1, 0),
      params,
      scheme: leapfrog(),
      t0: 0,
      t1: 100,
      steps: 20000,
      gradient: { method: "reversible", reconstructionTolerance: 1e-300 },
    }).backward(Float64Array.of(1, 1))
  );
  assert.ok(uncoupled instanceof ReconstructionDriftError);
  assert.equal(uncoupled.data.coupled, false);
  assert.equal(uncoupled.data.trajectory, null);
  assert.doesNotMatch(uncoupled.message, /coupling/);
});
