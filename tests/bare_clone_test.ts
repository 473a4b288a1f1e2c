/**
 * A user who clones the repository has no `../shared` beside it: the tests
 * that read the real measurements or the authors' initial weights must skip
 * with a printed reason there, and everything else must pass. This runs
 * those test files from a copy of the repository in a folder without
 * `../shared`.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** The test files that read `../shared`, and the reason each prints when it is absent. */
const USERS_OF_SHARED: [string, RegExp][] = [
  ["tests/datasets_test.ts", /skipping the tests of the real measurements/],
  ["tests/experiments_cli_test.ts", /skipped: no Schmidt-Lipson data/],
  ["tests/paper_inits_test.ts", /skipped: .*white_dwarf_inits\.json is absent/],
  ["tests/cli_robustness_test.ts", /skipping the tests that read .*: \.\.\/shared is absent/],
  ["tests/train_init_test.ts", /skipped: .*white_dwarf_inits\.json is absent/],
];

/** The repository's files as a clone has them: tracked, and new ones not ignored. */
async function repositoryFiles(): Promise<string[] | null> {
  try {
    const out = await new Deno.Command("git", {
      args: ["ls-files", "--cached", "--others", "--exclude-standard", "-z"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).split("\0").filter((f) => f !== "");
  } catch {
    return null;
  }
}

Deno.test("bare clone: without ../shared the tests that use it skip, saying why, and pass", async () => {
  const files = await repositoryFiles();
  if (files === null) {
    console.log("skipped: git cannot list the repository's files here");
    return;
  }
  for (const [test] of USERS_OF_SHARED) assert.ok(files.includes(test), `${test} is listed`);
  // a new test file that reads ../shared must join the list, or a clone would not run it here
  for (const file of files.filter((f) => /^tests\/.*_test\.ts$/.test(f))) {
    if (file === "tests/bare_clone_test.ts") continue;
    const text = await Deno.readTextFile(join(ROOT, file)).catch(() => "");
    const listed = USERS_OF_SHARED.some(([test]) => test === file);
    assert.ok(!text.includes("shared/data") || listed, `${file} reads ../shared: list it above`);
  }
  const parent = await Deno.makeTempDir({ prefix: "revode-bare-clone-" });
  try {
    const clone = join(parent, "revode");
    for (const file of files) {
      try {
        await Deno.mkdir(dirname(join(clone, file)), { recursive: true });
        await Deno.copyFile(join(ROOT, file), join(clone, file));
      } catch (error) {
        // a file deleted in the work tree but not yet from the index
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    // The npm packages a clone gets from `deno install`, here from this checkout.
    await Deno.symlink(join(ROOT, "node_modules"), join(clone, "node_modules"));
    await assert.rejects(Deno.stat(join(parent, "shared")), Deno.errors.NotFound);
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
        "--allow-ffi",
        "--allow-sys",
        ...USERS_OF_SHARED.map(([test]) => test),
      ],
      cwd: clone,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    assert.ok(run.success, out.slice(-3000));
    assert.match(out, /^ok \| \d+ passed .*\| 0 failed/m);
    for (const [test, reason] of USERS_OF_SHARED) assert.match(out, reason, `${test} says why`);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
