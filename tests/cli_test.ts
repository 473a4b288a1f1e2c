import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { helpText } from "../cli/train_flags.ts";
import { main as experimentsMain } from "../cli/experiments.ts";
import { readModelFile } from "../training/model_file.ts";
import {
  assertNoStack,
  type CliMain,
  interruptAfter,
  resumeAgainstWhole,
  runCli,
  runTask,
  taskCommand,
  UNTIL_STOPPED,
  withTempDir,
} from "./cli_harness.ts";

/** Runs a CLI (the training one by default) in-process. */
const run = (args: string[], m: CliMain = main) => runCli(m, args);

/** A short run: the white dwarf with 100 steps (every tenth data point). */
const FAST = ["--steps", "100", "--iterations", "3"];

Deno.test("cli: --help lists every flag and exits 0", async () => {
  const { code, out } = await run(["--help"]);
  assert.equal(code, 0);
  assert.equal(out, helpText());
  for (
    const flag of [
      "--example",
      "--solver",
      "--scheme",
      "--gradient",
      "--checkpoints",
      "--coupling",
      "--steps",
      "--dt",
      "--iterations",
      "--lr",
      "--weight-decay",
      "--width",
      "--depth",
      "--activation",
      "--batch",
      "--seed",
      "--backend",
      "--data",
      "--out",
      "--resume",
      "--help",
    ]
  ) {
    assert.ok(out.includes(flag), flag);
  }
  assert.equal((await run(["-h"])).code, 0);
});

Deno.test("cli: bad flags and values are refused with the allowed values, exit 2", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--foo"], /unknown flag --foo\. Allowed flags: --example, --solver/],
    [["extra"], /unexpected argument "extra"/],
    [["--example", "moon"], /--example: "moon"\. Allowed: white-dwarf, oscillator, pendulum/],
    [["--solver", "rk5"], /--solver: "rk5"\. Allowed: euler, .*rk4.*reversible-heun, leapfrog/],
    [["--gradient", "adjoint"], /Allowed: reversible, direct, checkpointed, backsolve/],
    [["--scheme", "magic"], /--scheme: "magic"\. Allowed: reversible, plain/],
    [["--activation", "gelu"], /Allowed: tanh, softplus, relu, silu, identity/],
    [
      ["--backend", "webgpu", "--gradient", "backsolve"],
      /--backend webgpu: the backsolve gradient runs on the CPU backend only/,
    ],
    [["--backend", "tpu"], /--backend: "tpu"\. Allowed: cpu, webgpu, auto\./],
    [
      ["--backend", "webgpu", "--solve-kernel", "fast"],
      /--solve-kernel: "fast"\. Allowed: auto, whole, steps/,
    ],
    [
      ["--solve-kernel", "steps"],
      /--solve-kernel steps chooses WebGPU kernels; .*backend here is cpu/,
    ],
    [["--schedule", "step"], /Allowed: constant, cosine/],
    [["--iterations", "0"], /--iterations: "0"\. Allowed: an integer >= 1/],
    [["--iterations", "-3"], /--iterations: "-3"\. Allowed: an integer >= 1/],
    [["--iterations", "2.5"], /Allowed: an integer >= 1/],
    [["--lr", "abc"], /--lr: "abc"\. Allowed: a number > 0/],
    [["--weight-decay", "-1"], /Allowed: a number >= 0/],
    [["--coupling", "1.5"], /--coupling: "1\.5"\. Allowed: a number in \(0, 1\]/],
    [["--width", "0"], /--width: "0"\. Allowed: an integer >= 1/],
    [["--seed", "1e400"], /--seed/],
    [["--steps", "600"], /600 steps .* Allowed: a multiple of 1000 .* or a divisor of it/],
    [["--dt", "0.003"], /--dt: "0\.003".*allowed near it: .*0\.0025 \(2000 steps\)/],
    // large steps are suggested too (the divisors of the 1000 intervals were cut at 8)
    [["--dt", "0.3"], /--dt: "0\.3".*allowed near it: .*0\.25 \(20 steps\), 0\.5 \(10 steps\)/],
    [["--steps", "100", "--dt", "0.05"], /give --steps or --dt, not both/],
    [["--steps", "100", "--rtol", "1e-6"], /fixed steps .* adaptive ones/],
    [["--checkpoints", "5"], /--checkpoints applies to --gradient checkpointed only/],
    [["--scheme", "plain"], /reversible gradient needs a reversible scheme/],
    [["--solver", "leapfrog", "--coupling", "0.5"], /--coupling applies to the reversible scheme/],
    [
      ["--example", "white-dwarf", "--data", "x.txt"],
      /--data applies to the oscillator and the pendulum/,
    ],
    [["--batch", "2"], /--batch: 2\. .*1 trajectory; allowed: 1/],
    [["--lr"], /--lr needs a value/],
  ];
  for (const [args, pattern] of cases) {
    const { code, out, err } = await run(args);
    assert.equal(code, 2, `${args.join(" ")}: exit ${code}, ${err}`);
    assert.match(err, pattern, args.join(" "));
    assert.match(err, /^error: /);
    assert.equal(out, "", args.join(" "));
    assertNoStack(err);
  }
});

Deno.test("cli: writes every output file into --out", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    const { code, out: text } = await run([...FAST, "--out", out]);
    assert.equal(code, 0, text);
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "fit.svg",
      "history.csv",
      "loss.svg",
      "model.json",
      "model.onnx",
      "report.html",
      "residuals.svg",
      "summary.json",
    ]);
    // the ONNX integrator is a real protobuf with the producer's name in it
    const onnx = await Deno.readFile(`${out}/model.onnx`);
    assert.ok(new TextDecoder().decode(onnx).includes("revode"));
    const model = await readModelFile(`${out}/model.json`);
    assert.equal(model.training.iterations, 3);
    assert.equal(model.config.example, "white-dwarf");
    assert.equal(model.config.solver, "rk4");
    assert.equal(model.config.gradient, "reversible");
    const csv = (await Deno.readTextFile(`${out}/history.csv`)).trim().split("\n");
    assert.equal(csv[0], "iteration,loss,best_loss,seconds");
    assert.equal(csv.length, 4);
    assert.equal(Number(csv[1].split(",")[1]), model.training.history.loss[0]);
    const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
    assert.equal(summary.status, "completed");
    assert.equal(summary.bestLoss, model.best.loss);
    assert.ok(summary.gradient.peakBytes > 0);
    const fit = await Deno.readTextFile(`${out}/fit.svg`);
    assert.ok(fit.startsWith("<svg") && fit.includes("time t") && fit.includes("y1 model"));
    const loss = await Deno.readTextFile(`${out}/loss.svg`);
    assert.ok(loss.includes("iteration") && loss.includes("MSE"));
    const html = await Deno.readTextFile(`${out}/report.html`);
    assert.ok(html.includes('<img src="loss.svg"') && html.includes('<img src="fit.svg"'));
    assert.match(text, /Done: 3 iterations/);
    assert.match(text, /The paper trains for 1000 iterations/);
  });
});

Deno.test("cli: simulated data are announced; real data are read with --data", async () => {
  await withTempDir(async (dir) => {
    const sim = await run([
      "--example",
      "oscillator",
      "--iterations",
      "2",
      "--out",
      `${dir}/sim`,
    ]);
    assert.equal(sim.code, 0);
    assert.match(sim.out, /data: SIMULATED/);
    assert.match(sim.out, /--data path\/to\/real_double_linear_h_1\.txt/);
    const missing = await run(["--example", "pendulum", "--data", `${dir}/none.txt`]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /none\.txt/);
    assertNoStack(missing.err);
    await Deno.writeTextFile(`${dir}/bad.txt`, "% o1 o2 w1 w2\n0 0 1 2\n");
    const bad = await run(["--example", "pendulum", "--data", `${dir}/bad.txt`]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /bad\.txt:2: expected 10 columns/);
  });
});

Deno.test("cli: --resume continues exactly; it refuses a changed architecture", async () => {
  await withTempDir(async (dir) => {
    const base = ["--example", "oscillator", "--width", "6"];
    const { resumed, split, whole } = await resumeAgainstWhole(main, dir, base, 2);
    assert.match(resumed.out, /resuming .*a\/model\.json at iteration 2/);
    assert.deepEqual(split.params, whole.params);
    assert.deepEqual(split.training.history.loss, whole.training.history.loss);
    assert.deepEqual(split.optimizer, whole.optimizer);

    const done = await run(["--resume", `${dir}/whole/model.json`, "--out", `${dir}/d`]);
    assert.equal(done.code, 2);
    assert.match(done.err, /has finished its 4 iterations; pass --iterations N/);
    const conflict = await run(["--resume", `${dir}/whole/model.json`, "--width", "10"]);
    assert.equal(conflict.code, 2);
    assert.match(conflict.err, /--width 10 conflicts with the model being resumed \(width 6\)/);
  });
});

Deno.test("cli: bad model files given to --resume are refused without a stack trace", async () => {
  await withTempDir(async (dir) => {
    assert.equal((await run([...FAST, "--out", `${dir}/a`])).code, 0);
    const text = await Deno.readTextFile(`${dir}/a/model.json`);
    const files: Array<[string, string, RegExp]> = [
      ["truncated.json", text.slice(0, 500), /truncated\.json: not valid JSON/],
      [
        "future.json",
        text.replace('"version": 1', '"version": 3'),
        /future\.json: model format version 3 is not supported/,
      ],
      [
        "nonsense.json",
        text.replace('"steps": 100', '"steps": "many"'),
        /nonsense\.json: config\.steps is "many"; expected an integer >= 1/,
      ],
    ];
    for (const [name, content, pattern] of files) {
      await Deno.writeTextFile(`${dir}/${name}`, content);
      const { code, err } = await run(["--resume", `${dir}/${name}`, "--iterations", "1"]);
      assert.equal(code, 1, name);
      assert.match(err, pattern, name);
      assertNoStack(err);
    }
    const absent = await run(["--resume", `${dir}/absent.json`]);
    assert.equal(absent.code, 1);
    assert.match(absent.err, /absent\.json: no such file/);
  });
});

Deno.test("cli: as a process, with the task's permissions; Ctrl-C saves the state", async () => {
  await withTempDir(async (dir) => {
    const bad = await runTask("train", ["--solver", "rk5"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Allowed: euler/);
    assertNoStack(bad.err);

    // Ctrl-C once the first progress line is out.
    const out = `${dir}/interrupted`;
    const args = [...UNTIL_STOPPED, "--out", out];
    const child = taskCommand("train", args).spawn();
    const { code } = await interruptAfter(child, "iteration 1/", "SIGINT");
    assert.equal(code, 130);
    const model = await readModelFile(`${out}/model.json`);
    assert.equal(model.training.status, "interrupted");
    assert.ok(model.training.iterations >= 1 && model.training.iterations < 100000);
    assert.equal(model.training.plannedIterations, 100000);
  });
});

Deno.test("experiments: bad flags, and a tiny comparison as JSON", async () => {
  const bad = await run(["--solver", "rk4,rk5"], experimentsMain);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /invalid solver in --solver: "rk5"\. Allowed: euler/);
  const unknown = await run(["--fast"], experimentsMain);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /Allowed flags: --example/);

  const { code, out } = await run(
    [
      "--example",
      "white-dwarf",
      "--solver",
      "euler",
      "--iterations",
      "2",
      "--warmup",
      "0",
      "--json",
    ],
    experimentsMain,
  );
  assert.equal(code, 0);
  const runs = JSON.parse(out);
  assert.equal(runs.length, 2);
  assert.deepEqual(runs.map((r: { method: string }) => r.method), ["reversible", "checkpointed"]);
  assert.equal(runs[1].checkpoints, 44);
  assert.ok(runs[0].peakBytes < runs[1].peakBytes);
  assert.equal(runs[0].iterations, 2);
});
