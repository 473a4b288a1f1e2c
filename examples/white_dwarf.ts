/**
 * The white-dwarf experiment of McCallum & Foster (2024), short by default:
 * learn Chandrasekhar's equation with a time-dependent MLP (3 → 10 tanh → 2)
 * through reversible RK4 with 1000 steps, with exact O(1)-memory gradients.
 *
 *     deno run examples/white_dwarf.ts                      # 100 iterations
 *     deno run examples/white_dwarf.ts --iterations 1000    # the paper's length
 *     deno run examples/white_dwarf.ts --solver midpoint --gradient checkpointed
 *
 * @module
 */

import { parseArgs } from "node:util";
import { experimentConfig, loadExperimentData } from "../training/experiments.ts";
import { predict, train } from "../training/train.ts";
import type { GradientMethodName } from "../solvers/gradients/spec.ts";
import type { SolverName } from "../training/config.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    iterations: { type: "string", default: "100" },
    solver: { type: "string", default: "rk4" },
    gradient: { type: "string", default: "reversible" },
  },
});
const gradient = values.gradient as GradientMethodName;
const config = experimentConfig("white-dwarf", {
  solver: values.solver as SolverName,
  gradient,
  // The reversible gradient needs the reversible scheme; the other methods
  // run on the plain solver, as the paper's baselines do.
  scheme: gradient === "reversible" ? "reversible" : "plain",
});
const { data } = await loadExperimentData("white-dwarf");

const result = await train({
  config,
  data,
  iterations: Number(values.iterations),
  onProgress: (p) => {
    if (p.iteration % 20 === 0 || p.iteration === 1) {
      console.log(`iteration ${p.iteration}: loss ${p.loss.toExponential(3)}`);
    }
  },
});
const state = result.state;
console.log(
  `${result.status}: best loss ${state.bestLoss?.toExponential(3)} at iteration ` +
    `${state.bestIteration}, ${result.seconds.toFixed(1)} s`,
);
console.log(
  `gradient ${result.gradient?.method}: ${result.gradient?.peakBytes} bytes held, ` +
    `${result.gradient?.evaluationsPerIteration} evaluations per iteration`,
);
const fit = predict(config, state.bestParams, data);
const n = fit.ts.length - 1;
console.log(
  `y(5): data [${data.ys[2 * n].toFixed(4)}, ${data.ys[2 * n + 1].toFixed(4)}], ` +
    `model [${fit.ys[2 * n].toFixed(4)}, ${fit.ys[2 * n + 1].toFixed(4)}]`,
);
