/**
 * The double-pendulum experiment of McCallum & Foster (2024), short by
 * default: an autonomous MLP (4 → 10 tanh → 4) fitted to a chaotic double
 * pendulum through reversible Bosh3 with adaptive steps (rtol = atol = 1e-6),
 * its outputs interpolated at the 500 data times.
 *
 *     deno run examples/pendulum.ts                           # simulated data, 200 iterations
 *     deno run --allow-read examples/pendulum.ts \
 *       --data ../shared/data/schmidt-lipson-2009/real_double_pend_h_1.txt --iterations 10000
 *
 * @module
 */

import { parseArgs } from "node:util";
import { experimentConfig, EXPERIMENTS, loadExperimentData } from "../training/experiments.ts";
import { train } from "../training/train.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    iterations: { type: "string", default: "200" },
    data: { type: "string" },
  },
});
const { data, simulated } = await loadExperimentData("pendulum", { path: values.data });
console.log(`data: ${simulated ? "simulated — " : ""}${data.source}`);
console.log(`note: ${EXPERIMENTS.pendulum.deviation}`);
const config = experimentConfig("pendulum");
const result = await train({
  config,
  data,
  iterations: Number(values.iterations),
  onProgress: (p) => {
    if (p.iteration % 50 === 0 || p.iteration === 1) {
      console.log(`iteration ${p.iteration}: loss ${p.loss.toExponential(3)}`);
    }
  },
});
console.log(
  `${result.status}: best loss ${result.state.bestLoss?.toExponential(3)}, ` +
    `${result.seconds.toFixed(1)} s, max reconstruction error ` +
    `${result.gradient?.maxReconstructionError?.toExponential(2)}`,
);
if (result.status === "diverged") console.log(result.remedies.join("\n"));
