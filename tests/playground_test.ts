/**
 * The playground's browser tests (tests/playground_browser.ts), run in a
 * child `deno test -A`. playwright-core reads /proc when it loads, which
 * Deno grants only with --allow-all; the child gets it, the suite keeps its
 * narrower permissions. The child's output is printed as it comes (its own
 * skip reasons included), and this test fails when the child does.
 */

import assert from "node:assert/strict";

const BROWSER_TESTS = new URL("./playground_browser.ts", import.meta.url).pathname;

Deno.test({
  name: "playground: the page's tests in headless Chromium (child deno test -A)",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--no-check", BROWSER_TESTS],
    env: { NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const { code } = await child.status;
  assert.equal(code, 0, "tests/playground_browser.ts failed (its output is above)");
});
