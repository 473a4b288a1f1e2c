/**
 * The binomial checkpointing schedule as a program (solvers/gradients/
 * checkpointed.ts's `binomialSchedule`, which the GPU's whole-solve kernels
 * run and the benchmark counts): it reverses every step once, in order,
 * always from a state it holds, within `c` checkpoints, and recomputes
 * exactly the steps the CPU's recursive walk does.
 */

import assert from "node:assert/strict";
import { reversible, rk4, solve } from "../mod.ts";
import { countingField } from "../solvers/vector_field.ts";
import { binomialSchedule, SCHEDULE } from "../solvers/gradients/checkpointed.ts";
import { checkpointedStepCount } from "../bench/fixed/estimate.ts";
import { Mlp } from "../solvers/fields/mlp.ts";

Deno.test("binomialSchedule: each step reversed once, backwards, from states it holds; the recursion's recomputation", () => {
  for (const [steps, c] of [[1, 1], [3, 2], [10, 1], [10, 3], [100, 14], [1000, 44], [7, 8]]) {
    const counts = { evaluations: 0, vjps: 0 };
    const mlp = new Mlp({ dim: 1, widths: [] });
    const sol = solve({
      field: countingField(mlp, counts),
      y0: Float64Array.of(1),
      params: mlp.init(0),
      scheme: reversible(rk4),
      t0: 0,
      t1: 1,
      steps,
      saveAt: { t0: true, steps: true },
      gradient: { method: "checkpointed", checkpoints: c },
    });
    sol.backward(new Float64Array(steps + 1).fill(1));
    const { positions, program } = binomialSchedule(steps, Math.min(c, steps + 1));
    const reversed = program.filter(([op]) => op === SCHEDULE.reverse).map(([, i]) => i);
    assert.deepEqual(reversed, Array.from({ length: steps }, (_, i) => steps - 1 - i));
    // every REVERSE and ADVANCE starts from a state the program holds at that point
    const held = new Map(positions.map((n, k) => [k, n]));
    let at: number | null = null;
    let recomputed = 0;
    for (const [op, a, b] of program) {
      if (op === SCHEDULE.load) at = held.get(a)!;
      else if (op === SCHEDULE.store) held.set(a, at!);
      else if (op === SCHEDULE.advance) {
        assert.equal(at, a, `${steps}, ${c}: ADVANCE from ${a} with the state at ${at}`);
        recomputed += b - a;
        at = b;
      } else {
        assert.equal(at, a, `${steps}, ${c}: REVERSE ${a} with the state at ${at}`);
        recomputed += 1;
        at = null;
      }
      assert.ok(held.size <= Math.min(c, steps + 1));
    }
    // the forward solve and the recomputed steps: 2 × 4 RK4 evaluations each, as the CPU's
    assert.equal(8 * (steps + recomputed), counts.evaluations, `${steps} steps, c = ${c}`);
    assert.equal(checkpointedStepCount(steps, c), steps + recomputed);
  }
});
