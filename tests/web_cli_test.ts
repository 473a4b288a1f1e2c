/**
 * `deno task web`'s flags, in a child process as the task runs it:
 * --version, --help, and an unknown flag refused with the usage and no
 * stack trace. Serving is tested in tests/playground_browser.ts.
 */

import assert from "node:assert/strict";
import { assertNoStack } from "./cli_harness.ts";

const SERVE = new URL("../examples/playground/serve.ts", import.meta.url).pathname;

/** serve.ts with `args`, under the task's own permissions. */
async function _web(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-run", "--allow-env", SERVE, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, out: decode(stdout), err: decode(stderr) };
}

Deno.test("web: --version, --help, and an unknown flag refused with the usage", async () => {
  const version = await _web(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.out, /^revode \d+\.\d+\.\d+ \(deno task web\); Deno \d+\.\d+/);
  const help = await _web(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: deno task web/);
  assert.match(help.out, /--port N/);
  const bad = await _web(["--prot", "80"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--prot'/);
  assert.match(bad.err, /usage: deno task web/);
  assertNoStack(bad.err);
  const port = await _web(["--port", "x"]);
  assert.equal(port.code, 2);
  assert.match(port.err, /invalid value for --port: x\. Allowed: an integer from 0 to 65535\./);
});
