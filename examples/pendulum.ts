/**
 * The double-pendulum experiment of McCallum & Foster (2024), short by
 * default: an autonomous MLP (4 → 10 tanh → 4) fitted to a chaotic double
 * pendulum through reversible Bosh3 with adaptive steps (rtol = atol = 1e-6),
 * its outputs interpolated at the 500 data times.
 *
 *     deno run examples/pendulum.ts                           # simulated data, 200 iterations
 *     deno run --allow-read examples/pendulum.ts \
 *       --data ../shared/data/schmidt-lipson-2009/real_double_pend_h_1.txt --iterations 10000
 *     deno run examples/pendulum.ts --backend webgpu   # on the GPU, float32
 *
 * On the GPU the PID controller runs in kernels and every iteration records
 * a fixed number of trial steps, learned from the solves so far and at most
 * `--max-steps` (training/webgpu/mod.ts).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { experimentConfig, EXPERIMENTS, loadExperimentData } from "../training/experiments.ts";
import { train } from "../mod.ts";
import { trainGpu } from "../training/webgpu/train.ts";
import { chooseBackend } from "../solvers/webgpu/runtime/device.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    iterations: { type: "string", default: "200" },
    data: { type: "string" },
    backend: { type: "string", default: "cpu" },
    "max-steps": { type: "string" },
  },
});
const backend = values.backend;
if (backend !== "cpu" && backend !== "webgpu" && backend !== "auto") {
  console.error(`--backend: got ${JSON.stringify(backend)}; expected cpu, webgpu or auto`);
  Deno.exit(2);
}
const { data, simulated } = await loadExperimentData("pendulum", { path: values.data });
console.log(`data: ${simulated ? "simulated — " : ""}${data.source}`);
console.log(`note: ${EXPERIMENTS.pendulum.deviation}`);
const base = experimentConfig("pendulum");
const maxSteps = values["max-steps"] === undefined ? undefined : Number(values["max-steps"]);
const config = maxSteps === undefined
  ? base
  : { ...base, adaptive: { ...base.adaptive!, maxSteps } };
const choice = await chooseBackend(backend);
console.log(choice.message);
const options = {
  config,
  data,
  iterations: Number(values.iterations),
  onProgress: (p: { iteration: number; loss: number }) => {
    if (p.iteration % 50 === 0 || p.iteration === 1) {
      console.log(`iteration ${p.iteration}: loss ${p.loss.toExponential(3)}`);
    }
  },
};
const result = choice.gpu === null
  ? await train(options)
  : await trainGpu({ ...options, gpu: choice.gpu }).finally(() => choice.gpu!.device.destroy());
console.log(
  `${result.status}: best loss ${result.state.bestLoss?.toExponential(3)}, ` +
    `${result.seconds.toFixed(1)} s, max reconstruction error ` +
    `${result.gradient?.maxReconstructionError?.toExponential(2)}`,
);
if (result.status === "diverged") console.log(result.remedies.join("\n"));
for (const note of result.notes ?? []) console.log(`note: ${note}`);
