/**
 * The coupled-oscillator experiment of McCallum & Foster (2024), short by
 * default: an autonomous MLP (4 → 10 tanh → 4) fitted to two masses on
 * springs through reversible RK4 with h = 3/499.
 *
 *     deno run examples/oscillator.ts                         # simulated data, 200 iterations
 *     deno run --allow-read examples/oscillator.ts \
 *       --data ../shared/data/schmidt-lipson-2009/real_double_linear_h_1.txt --iterations 10000
 *
 * @module
 */

import { parseArgs } from "node:util";
import { experimentConfig, loadExperimentData } from "../training/experiments.ts";
import { train } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    iterations: { type: "string", default: "200" },
    data: { type: "string" },
  },
});
const { data, simulated } = await loadExperimentData("oscillator", { path: values.data });
console.log(`data: ${simulated ? "simulated — " : ""}${data.source}`);
const config = experimentConfig("oscillator");
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
    `${result.seconds.toFixed(1)} s, gradient memory ${result.gradient?.peakBytes} bytes`,
);
