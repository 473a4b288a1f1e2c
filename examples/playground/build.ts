/**
 * Bundles the playground's entry (entry.ts) for browsers with
 * `deno bundle --platform browser`, and finds any Deno API that leaked into
 * the bundle, naming the module that brought it in. `deno task web` and
 * `deno task lint:browser` (.ci/browser_bundle.ts) both use it.
 *
 * @module
 */

/** The playground's folder, as a path. */
export const PLAYGROUND_DIR: string = new URL(".", import.meta.url).pathname.replace(/\/$/, "");

/** A use of a Deno API (or an import of a Node built-in) in a bundle. */
export interface DenoLeak {
  /** The API, such as `Deno.readTextFile` or `node:path`. */
  api: string;
  /** The bundled module it came from (esbuild's `// path` comment), or null. */
  module: string | null;
}

/**
 * Runs `deno bundle --platform browser` on entry.ts.
 *
 * @param outFile The bundle to write.
 * @param minify Whether to minify (module names are lost; check an unminified bundle).
 * @returns The bundle's size in bytes.
 * @throws {Error} With deno's output when bundling fails.
 */
export async function bundlePlayground(outFile: string, minify = false): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      ...(minify ? ["--minify"] : []),
      "-o",
      outFile,
      `${PLAYGROUND_DIR}/entry.ts`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return (await Deno.stat(outFile)).size;
}

/**
 * The Deno APIs and Node built-ins a bundle uses, each with the module esbuild says it came from.
 *
 * @param code The bundle's text (unminified, so that its `// path` comments remain).
 * @returns One entry per use, in order.
 *
 * @example
 * ```ts
 * import { denoLeaks } from "./build.ts";
 * import assert from "node:assert/strict";
 *
 * const code = "// training/a.ts\nconst x = 1;\n// training/b_file.ts\nawait Deno.readTextFile(p);\n";
 * assert.deepEqual(denoLeaks(code), [{ api: "Deno.readTextFile", module: "training/b_file.ts" }]);
 * assert.deepEqual(denoLeaks("const noDeno = 1;\n * Deno.exit(1) in a doc comment\n"), []);
 * assert.deepEqual(denoLeaks('import { dirname } from "node:path";'), [
 *   { api: "node:path", module: null },
 * ]);
 * ```
 */
export function denoLeaks(code: string): DenoLeak[] {
  const leaks: DenoLeak[] = [];
  let module: string | null = null;
  for (const line of code.split("\n")) {
    const header = /^\/\/ (\S+\.(?:m?[jt]s|json))$/.exec(line);
    if (header !== null) module = header[1];
    // the bundle keeps doc comments, whose examples may use Deno
    if (/^\s*(\*|\/\*|\/\/)/.test(line)) continue;
    for (const m of line.matchAll(/\bDeno\.[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)?/g)) {
      leaks.push({ api: m[0], module });
    }
    // a Node built-in stays an import the browser cannot resolve
    for (const m of line.matchAll(/\b(?:from|import)\s*\(?\s*["'](node:[^"']+)["']/g)) {
      leaks.push({ api: m[1], module });
    }
  }
  return leaks;
}
