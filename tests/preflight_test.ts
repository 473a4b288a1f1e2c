// What is refused or said before `deno task train` trains: a coupling past the
// reversible gradient's drift limit, sizes beyond the machine's memory, runs
// that would take hours, data far from order one, what the window drops and
// where the data have gaps; and a drifting reconstruction said as what it is.
// Needs: --allow-read --allow-write --allow-run --allow-sys.

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { planRun } from "../cli/train_plan.ts";
import { longIterationWarning, preflightRun } from "../cli/train_preflight.ts";
import {
  assertNoStack,
  captureIo,
  runCli,
  runTask,
  taskCommand,
  withTempDir,
} from "./cli_harness.ts";
import { defaultConfig } from "../training/config.ts";
import { train } from "../training/train.ts";
import { whiteDwarfData } from "../training/datasets/white_dwarf.ts";
import { estimateMemory } from "../training/preflight.ts";

const run = (args: string[]) => runCli(main, args);

/** One iteration on `args`, written into `dir/o`; what it printed (it must succeed). */
async function trainOnce(dir: string, args: string[]): Promise<string> {
  const { code, out, err } = await run([...args, "--iterations", "1", "--out", `${dir}/o`]);
  assert.equal(code, 0, err + out);
  return out;
}

/** Whether a path exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("preflight: a coupling past the drift limit is refused before training, naming what works", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    const { code, out: text, err } = await run([
      "--coupling",
      "0.5",
      "--steps",
      "1000",
      "--iterations",
      "3",
      "--out",
      out,
    ]);
    assert.equal(code, 2, err);
    assert.match(err, /coupling λ = 0\.5 with 1000 steps \(--steps\): N·\(1 − λ\) = 500/);
    assert.match(err, /above the reversible gradient's limit of about 20/);
    assert.match(err, /--coupling 0\.98 or closer to 1/);
    assert.match(err, /at most 40 steps \(--steps\)/);
    assert.match(err, /--gradient checkpointed or --gradient direct/);
    assertNoStack(err);
    // nothing trained, nothing written
    assert.ok(!text.includes("iteration 1/"), text);
    assert.equal(await exists(out), false);
    // the limit itself, and the gradients that store states, are accepted
    const io = captureIo();
    preflightRun(await planRun({ coupling: "0.98", steps: "1000", iterations: "1" }), io);
    preflightRun(
      await planRun({ coupling: "0.5", steps: "1000", gradient: "direct", iterations: "1" }),
      io,
    );
    assert.equal(io.err, "");
  });
});

Deno.test("preflight: adaptive steps past the drift limit get a warning, not a refusal", async () => {
  const io = captureIo();
  const plan = await planRun({
    example: "pendulum",
    solver: "bosh3",
    coupling: "0.9",
    "max-steps": "1000",
    iterations: "1",
  });
  preflightRun(plan, io);
  assert.match(io.err, /^warning: coupling λ = 0\.9 with up to 1000 steps \(--max-steps\)/);
  assert.match(io.err, /An adaptive solve may take fewer steps than its budget/);
});

Deno.test("preflight: --width 1000000 is refused before any work, naming --width", async () => {
  const { code, out, err } = await run(["--width", "1000000", "--iterations", "1"]);
  assert.equal(code, 2, err);
  assert.match(err, /--width 1000000/);
  assert.ok(!/Array buffer allocation failed/.test(err), err);
  assertNoStack(err);
  assert.equal(out, "");
});

Deno.test("preflight: a run larger than the machine's memory names the flags that size it", async () => {
  const plan = await planRun({
    gradient: "direct",
    steps: "10000",
    width: "100",
    iterations: "1",
  });
  const estimate = estimateMemory(plan.config, { batch: 1, points: 1001 }).total;
  const io = captureIo();
  assert.throws(
    () => preflightRun(plan, io, { availableBytes: estimate / 2 }),
    (e: Error) =>
      /this run would hold about .* of memory, more than the .* this machine has available/
        .test(e.message) &&
      /--gradient direct, --steps 10000/.test(e.message) &&
      /--gradient reversible or checkpointed/.test(e.message),
  );
  // the same run fits a machine with the memory it needs
  preflightRun(plan, io, { availableBytes: estimate * 2 });
  // the widths: the MLP's kernel block grows as width²
  const wide = await planRun({ width: "100000", iterations: "1" });
  assert.throws(
    () => preflightRun(wide, io, { availableBytes: 2 ** 33 }),
    /\(--width 100000 --depth 1\)\. Lower --width or --depth/,
  );
});

Deno.test("preflight: the memory estimate bounds what the gradient methods hold", async () => {
  const data = whiteDwarfData({ points: 101 });
  for (const gradient of ["reversible", "direct", "checkpointed", "backsolve"] as const) {
    const config = defaultConfig({
      mlp: {
        dim: 2,
        widths: [50],
        activation: "tanh",
        finalActivation: "identity",
        timeDependent: true,
      },
      steps: 500,
      gradient,
    });
    const result = await train({ config, data, iterations: 1 });
    const held = result.gradient!.peakBytes;
    const estimate = estimateMemory(config, { batch: 1, points: 101 });
    assert.ok(estimate.total >= held, `${gradient}: ${estimate.total} < ${held}`);
    if (gradient === "direct") {
      // O(N): the gradient's part is what it really holds, within a tenth
      const part = estimate.parts.find((p) => p.settings.includes("gradient"))!;
      assert.ok(Math.abs(part.bytes - held) < 0.1 * held, `${part.bytes} vs ${held}`);
    }
  }
});

Deno.test("preflight: deno task train reads the machine's memory (--allow-sys in deno.json)", async () => {
  const args = ["--width", "1000000", "--iterations", "1"];
  const { code, err } = await runTask("train", args, { viaDenoTask: true });
  assert.equal(code, 2, err);
  assert.match(err, /more than the .* this machine has available/);
  assert.match(err, /--width 1000000/);
});

/** The first `lines` lines a training child writes to stderr; the child is then killed. */
async function _warnings(args: string[], lines: number): Promise<string> {
  const child = taskCommand("train", args, { stdout: "null" }).spawn();
  const decoder = new TextDecoder();
  let err = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    for await (const chunk of child.stderr) {
      err += decoder.decode(chunk);
      if (err.split("\n").length > lines) break;
    }
  } finally {
    clearTimeout(deadline);
    try {
      child.kill("SIGKILL");
    } catch {
      // already ended
    }
    await child.status;
  }
  return err;
}

Deno.test("preflight: a run that would take hours says so before it starts", async () => {
  await withTempDir(async (dir) => {
    const long = ["--steps", "2000", "--coupling", "0.9999", "--width", "200"];
    const err = await _warnings([...long, "--iterations", "1000000", "--out", `${dir}/long`], 1);
    assert.match(
      err,
      /^warning: this run would take about [\d.]+ (h|days|years): 1000000 iterations/,
    );
    assert.match(err, /a gradient of 32 steps took .* ms here; this run's take 2000/);
    assert.match(err, /Fewer --iterations, fewer --steps/);
  });
  // a short run says nothing
  const io = captureIo();
  preflightRun(await planRun({ steps: "100", iterations: "10" }), io);
  assert.equal(io.err, "");
});

Deno.test("preflight: an iteration that would take minutes says a stop waits for it", async () => {
  await withTempDir(async (dir) => {
    const slow = ["--steps", "1000000", "--coupling", "0.99999999", "--width", "2000"];
    const err = await _warnings([...slow, "--iterations", "1", "--out", `${dir}/slow`], 1);
    assert.match(err, /^warning: one iteration would take about [\d.]+ (min|h)\. Ctrl-C, TERM/);
    assert.match(err, /a stop waits for the iteration in progress/);
  });
  // an ordinary iteration says nothing
  assert.equal(longIterationWarning(1), null);
});

Deno.test("preflight: data far from order one get 'rescale' first, before and after", async () => {
  await withTempDir(async (dir) => {
    const table = (scale: number) => {
      const rows = ["t,x,v"];
      for (let i = 0; i <= 40; i++) {
        const t = i * 0.05;
        rows.push(`${t},${scale * Math.cos(t)},${-scale * Math.sin(t)}`);
      }
      return rows.join("\n") + "\n";
    };
    await Deno.writeTextFile(`${dir}/huge.csv`, table(1e200));
    await Deno.writeTextFile(`${dir}/large.csv`, table(1e100));
    const args = ["--data", `${dir}/huge.csv`, "--iterations", "2", "--out", `${dir}/o`];
    const { code, out, err } = await run([...args, "--normalize", "none"]);
    assert.equal(code, 1, err + out);
    assert.match(err, /^warning: the data's values reach \|y\| = 1e\+200, far from order one/);
    assert.match(err, /--normalize standard/);
    const tries = out.split("Try:\n")[1].split("\n");
    assert.match(tries[0], /^ {4}- rescale the data to values of order one first/);
    // normalised (the default for tables): no warning
    const io = captureIo();
    preflightRun(await planRun({ data: `${dir}/large.csv`, iterations: "1" }), io);
    assert.equal(io.err, "");
  });
});

Deno.test("preflight: a table says the times the window dropped and where it has gaps", async () => {
  await withTempDir(async (dir) => {
    const rows = ["t,x,v"];
    for (let i = 0; i <= 80; i++) {
      const t = Number((i * 0.1).toFixed(1));
      if (t > 0.3 && t < 2.7) continue; // a 2.4 gap
      rows.push(`${t},${Math.cos(t)},${-Math.sin(t)}`);
    }
    await Deno.writeTextFile(`${dir}/gap.csv`, rows.join("\n") + "\n");
    const out = await trainOnce(dir, ["--data", `${dir}/gap.csv`, "--window", "0:6"]);
    assert.match(
      out,
      /20 row\(s\) of the table outside the window \[0, 6\] dropped \(lines \d+–\d+, at t = 6\.1 to 8\)/,
    );
    assert.match(
      out,
      /gap\.csv:6: a gap of 2\.4 \(t = 0\.3 to 2\.7, 24 sampling intervals of 0\.1\) with no data/,
    );
    assert.match(out, /the data are not filled in there/);
  });
});

Deno.test("preflight: a Schmidt-Lipson file says what it drops and the gaps it interpolates across", async () => {
  await withTempDir(async (dir) => {
    const rows = ["% x1 x2 v1 v2"];
    for (let i = 0; i <= 120; i++) {
      const t = Number((i * 0.05).toFixed(2));
      if (t > 0.3 && t < 2.7) continue; // a 2.4 s gap inside the paper's 3 s
      rows.push(`0 ${t + 10} ${100 * Math.cos(t)} ${-100 * Math.cos(t)} 0 ${Math.sin(t)}`);
    }
    await Deno.writeTextFile(`${dir}/osc.txt`, rows.join("\n") + "\n");
    const out = await trainOnce(dir, ["--example", "oscillator", "--data", `${dir}/osc.txt`]);
    // 6 s of data, 3 s used: said
    assert.match(
      out,
      /osc\.txt:\d+: 60 row\(s\) after the window \[0, 3\] s not used \(t = 3\.05 to 6 s/,
    );
    assert.match(out, /interpolated linearly onto 500 points/);
    assert.match(out, /a gap of 2\.4 s \(t = 0\.3 to 2\.7 s, 48 sampling intervals of 0\.05 s\)/);
    assert.match(out, /bridged by that linear interpolation/);
  });
});

Deno.test("preflight: a drifting reconstruction is not called a divergence of training", async () => {
  await withTempDir(async (dir) => {
    const args = ["--coupling", "0.98", "--lr", "0.2", "--iterations", "20", "--out", `${dir}/d`];
    const { code, out } = await run(args);
    assert.equal(code, 1);
    assert.ok(!out.includes("Training diverged"), out);
    assert.match(
      out,
      /Stopped: the reversible gradient could not be computed \(a reconstruction drift/,
    );
    assert.match(out, /raise λ toward 1, take fewer steps, or store states instead/);
  });
});
