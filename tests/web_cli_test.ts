/**
 * `deno task web`'s flags, in a child process with the task's own flags:
 * --version, --help, and an unknown flag refused with the usage and no
 * stack trace. Serving is tested in tests/playground_browser.ts.
 */

import assert from "node:assert/strict";
import { assertNoStack, runTask } from "./cli_harness.ts";

Deno.test("web: --version, --help, and an unknown flag refused with the usage", async () => {
  const version = await runTask("web", ["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.out, /^revode \d+\.\d+\.\d+ \(deno task web\); Deno \d+\.\d+/);
  const help = await runTask("web", ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: deno task web/);
  assert.match(help.out, /--port N/);
  const bad = await runTask("web", ["--prot", "80"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--prot'/);
  assert.match(bad.err, /usage: deno task web/);
  assertNoStack(bad.err);
  const port = await runTask("web", ["--port", "x"]);
  assert.equal(port.code, 2);
  assert.match(port.err, /invalid value for --port: x\. Allowed: an integer from 0 to 65535\./);
});
