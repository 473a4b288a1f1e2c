/**
 * A run is never lost and never mixed with another: signals save, periodic
 * checkpoints bound what SIGKILL loses and resume bit-identically, a run
 * folder is owned (a finished run is protected, a second writer refused),
 * and a write that fails names its file and keeps the last good model.json.
 */

import assert from "node:assert/strict";
import { main } from "../cli/train.ts";
import { main as exportMain } from "../cli/export.ts";
import { main as predictMain } from "../cli/predict.ts";
import { main as experimentsMain } from "../cli/experiments.ts";
import { LOCK_FILE } from "../cli/train_lock.ts";
import { planRun } from "../cli/train_plan.ts";
import { runTraining } from "../cli/train_run.ts";
import { readModelFile } from "../training/model_file.ts";
import {
  assertNoStack,
  interruptAfter,
  runCli,
  taskCommand,
  UNTIL_STOPPED,
  withTempDir,
} from "./cli_harness.ts";

const run = (args: string[]) => runCli(main, args);
const FAST = ["--steps", "20", "--iterations", "3"];

/** `deno task train` as a child process, with the task's permissions. */
const spawnTrain = (args: string[]) => taskCommand("train", args).spawn();

/** Waits until `path` is a model file with at least one iteration. */
async function waitForCheckpoint(path: string): Promise<number> {
  for (let tries = 0; tries < 600; tries++) {
    try {
      const model = await readModelFile(path);
      if (model.training.iterations > 0) return model.training.iterations;
    } catch { /* not written yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no checkpoint appeared at ${path}`);
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`safety: ${signal} saves the state and exits ${code}`, async () => {
    await withTempDir(async (dir) => {
      const out = `${dir}/run`;
      const child = spawnTrain([...UNTIL_STOPPED, "--out", out]);
      const stopped = await interruptAfter(child, "iteration 1/", signal);
      assert.equal(stopped.code, code);
      assert.match(stopped.after, new RegExp(`Interrupted \\(${signal}\\) after iteration \\d+`));
      const model = await readModelFile(`${out}/model.json`);
      assert.equal(model.training.status, "interrupted");
      assert.ok(model.training.iterations >= 1 && model.training.iterations < 100000);
      assert.match(model.training.reason!, new RegExp(`stopped by ${signal}`));
      await Deno.stat(`${out}/report.html`);
      await assert.rejects(Deno.stat(`${out}/${LOCK_FILE}`), Deno.errors.NotFound);
    });
  });
}

Deno.test("safety: a signal during the --restarts probes exits with its code, lock and folder gone", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    const long = [
      "--steps",
      "100",
      "--iterations",
      "200000",
      "--restarts",
      "2",
      "--probe",
      "100000",
    ];
    const child = spawnTrain([...long, "--out", out]);
    const stopped = await interruptAfter(child, "probing seeds 0–1", "SIGTERM");
    assert.equal(stopped.code, 143, stopped.err);
    assert.match(
      stopped.err,
      /Interrupted \(SIGTERM\) during the --restarts probes \(seed 0's probe, at iteration \d+\): no seed was chosen yet, so nothing is saved and .* is removed\./,
    );
    assertNoStack(stopped.err);
    // nothing half-made is left: the same --out takes a new run at once
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
    const again = await run([...FAST, "--out", out]);
    assert.equal(again.code, 0, again.err);
  });
});

Deno.test("safety: SIGKILL loses at most --save-every; --resume continues bit-identically", async () => {
  await withTempDir(async (dir) => {
    const planned = ["--steps", "20", "--iterations", "400", "--seed", "3"];
    const whole = await run([...planned, "--out", `${dir}/whole`]);
    assert.equal(whole.code, 0, whole.err);
    const reference = await readModelFile(`${dir}/whole/model.json`);

    const out = `${dir}/killed`;
    const child = spawnTrain([...planned, "--save-every", "0.05", "--out", out]);
    const saved = await waitForCheckpoint(`${out}/model.json`);
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    const checkpoint = await readModelFile(`${out}/model.json`);
    assert.ok(saved >= 1 && checkpoint.training.iterations < 400, "killed before the end");
    assert.equal(checkpoint.training.status, "interrupted");
    assert.match(checkpoint.training.reason!, /checkpoint after iteration \d+/);
    assert.equal(checkpoint.training.plannedIterations, 400);

    // The dead run's lock stays fresh for a while (its heartbeat decides):
    // its folder is refused with the reason, and resuming elsewhere works.
    const busy = await run(["--resume", `${out}/model.json`, "--out", out]);
    assert.equal(busy.code, 2);
    assert.match(busy.err, /in use by another training run .* goes stale 15 s after/);
    const resumed = await run(["--resume", `${out}/model.json`, "--out", `${dir}/resumed`]);
    assert.equal(resumed.code, 0, resumed.err);
    const finished = await readModelFile(`${dir}/resumed/model.json`);
    assert.equal(finished.training.iterations, 400);
    assert.deepEqual(finished.training.history.loss, reference.training.history.loss);
    assert.deepEqual(finished.params, reference.params);
  });
});

Deno.test("safety: checkpoints cut training into segments without changing a loss", async () => {
  const io = { write: () => {}, error: () => {}, isTerminal: false };
  const plan = await planRun({ steps: "20", iterations: "12", batch: "1" });
  const choice = { backend: "cpu" as const, gpu: null, message: "" };
  const folder = { dir: "unused", created: false, lock: null };
  const uncut = await runTraining(io, plan, choice, folder);
  const saved: number[] = [];
  const cut = await runTraining(io, plan, choice, folder, {
    saveEverySeconds: 1e-9,
    checkpoint: (part) => Promise.resolve(void saved.push(part.state.iteration)),
  });
  assert.deepEqual(saved, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(cut.result.state.losses, uncut.result.state.losses);
  assert.deepEqual(cut.result.state.params, uncut.result.state.params);
  assert.equal(cut.result.iterationsRun, 12);
  assert.equal(cut.result.history.length, 12);

  // A checkpoint that fails is reported once, and training goes on.
  let warned = "";
  const noisy = { ...io, error: (t: string) => warned += t };
  const failing = await runTraining(noisy, plan, choice, folder, {
    saveEverySeconds: 1e-9,
    checkpoint: () => Promise.reject(new Error("could not write x/model.json: disk full")),
  });
  assert.equal(failing.result.status, "completed");
  assert.deepEqual(failing.result.state.losses, uncut.result.state.losses);
  assert.equal(warned.match(/warning: could not write x\/model\.json: disk full/g)?.length, 1);
});

Deno.test("safety: a folder holding a run is refused unless resumed or --force", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    assert.equal((await run([...FAST, "--out", out])).code, 0);
    const before = await Deno.readTextFile(`${out}/model.json`);

    const again = await run([...FAST, "--seed", "1", "--out", out]);
    assert.equal(again.code, 2);
    assert.match(again.err, /--out: ".*run" already holds a run \(.*model\.json\)/);
    assert.match(again.err, /--resume .*model\.json, replace it with --force/);
    assertNoStack(again.err);
    assert.equal(await Deno.readTextFile(`${out}/model.json`), before, "left untouched");

    const resumed = await run(["--resume", `${out}/model.json`, "--iterations", "2", "--out", out]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal((await readModelFile(`${out}/model.json`)).training.iterations, 5);

    const forced = await run([...FAST, "--seed", "1", "--force", "--out", out]);
    assert.equal(forced.code, 0, forced.err);
    const replaced = await readModelFile(`${out}/model.json`);
    assert.equal(replaced.training.iterations, 3);
    assert.equal(replaced.config.seed, 1);
  });
});

Deno.test("safety: a second writer on one --out is refused; a stale lock is taken over", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    const first = spawnTrain([...UNTIL_STOPPED, "--out", out]);
    const { during: second } = await interruptAfter(
      first,
      "iteration 1/",
      "SIGINT",
      () => run([...FAST, "--out", out]),
    );
    assert.equal(second.code, 2);
    assert.match(second.err, /is in use by another training run \(pid \d+, alive \d+ s ago/);
    assertNoStack(second.err);

    // A lock silent for long (its run killed, its machine rebooted) does not block.
    const stale = `${dir}/stale`;
    await Deno.mkdir(stale);
    const old = new Date(Date.now() - 3600_000).toISOString();
    await Deno.writeTextFile(
      `${stale}/${LOCK_FILE}`,
      JSON.stringify({ pid: 12345, startedAt: old, heartbeatAt: old }),
    );
    const taken = await run([...FAST, "--out", stale]);
    assert.equal(taken.code, 0, taken.err);
    await assert.rejects(Deno.stat(`${stale}/${LOCK_FILE}`), Deno.errors.NotFound);
  });
});

Deno.test("safety: a file that cannot be written is named, and model.json is kept", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/run`;
    await Deno.mkdir(`${out}/report.html`, { recursive: true }); // the report cannot land
    const { code, err } = await run([...FAST, "--out", out]);
    assert.equal(code, 1);
    assert.match(err, /could not write .*run\/report\.html: Is a directory \(os error 21\)/);
    assert.match(err, /model\.json holds the trained state \(iteration 3\)/);
    assertNoStack(err);
    assert.equal((await readModelFile(`${out}/model.json`)).training.iterations, 3);
  });
});

Deno.test("safety: a full disk names the file and keeps the last good model.json", async () => {
  await withTempDir(async (dir) => {
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output().catch((error) => ({ success: false, stderr: String(error) }));
    if (!mount.success) {
      const why = typeof mount.stderr === "string"
        ? mount.stderr
        : new TextDecoder().decode(mount.stderr).trim();
      console.log(`full-disk check skipped: no tmpfs can be mounted here (${why})`);
      return;
    }
    try {
      const out = `${dir}/run`;
      assert.equal((await run([...FAST, "--out", out])).code, 0);
      const good = await Deno.readTextFile(`${out}/model.json`);
      // Fill the disk, then train on from the run in place.
      const filler = await Deno.open(`${dir}/filler`, { write: true, create: true });
      const block = new Uint8Array(4096).fill(1);
      try {
        while (true) await filler.write(block);
      } catch (error) {
        assert.match(String(error), /os error 28/);
      } finally {
        filler.close();
      }
      // Room for the run's lock, not for a model file.
      await Deno.truncate(`${dir}/filler`, (await Deno.stat(`${dir}/filler`)).size - 4096);
      const full = await run(["--resume", `${out}/model.json`, "--iterations", "2", "--out", out]);
      assert.equal(full.code, 1);
      assert.match(full.err, /could not write .*run\/model\.json: No space left on device/);
      assertNoStack(full.err);
      assert.equal(await Deno.readTextFile(`${out}/model.json`), good, "the last good model");
    } finally {
      await new Deno.Command("umount", { args: [dir] }).output();
    }
  });
});

Deno.test("safety: --save-every is checked; --version prints the versions", async () => {
  const bad = await run([...FAST, "--save-every", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /invalid value for --save-every: "0". Allowed: a number > 0\./);
  const programs = [
    ["train", main],
    ["export", exportMain],
    ["predict", predictMain],
    ["experiments", experimentsMain],
  ] as const;
  for (const [name, program] of programs) {
    const version = await runCli(program, ["--version"]);
    assert.equal(version.code, 0, name);
    const line = new RegExp(`^revode \\d+\\.\\d+\\.\\d+ \\(deno task ${name}\\); Deno \\d+\\.\\d+`);
    assert.match(version.out, line);
  }
});
