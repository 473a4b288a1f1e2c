/**
 * The browser gate (`deno task lint:browser`): bundles the playground's
 * entry (examples/playground/entry.ts) with `deno bundle --platform browser`
 * and fails when a Deno API appears in the bundle, naming the module that
 * brought it in: the modules a page imports must stay free of Deno's file
 * and process APIs (those live in the *_file.ts modules and cli/).
 *
 * @module
 */

import { bundlePlayground, denoLeaks } from "../examples/playground/build.ts";

const dir = await Deno.makeTempDir({ prefix: "revode-browser-" });
try {
  const out = `${dir}/playground.js`;
  const bytes = await bundlePlayground(out);
  const leaks = denoLeaks(await Deno.readTextFile(out));
  if (leaks.length > 0) {
    for (const leak of leaks) {
      console.error(`${leak.module ?? "(unknown module)"}: uses ${leak.api}`);
    }
    console.error(
      `the browser bundle of examples/playground/entry.ts uses ${leaks.length} Deno API call(s) or Node built-in(s): ` +
        `move them to a *_file.ts module that the page does not import`,
    );
    Deno.exitCode = 1;
  } else {
    console.log(`browser bundle: ${(bytes / 1024).toFixed(0)} KB, no Deno API`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
