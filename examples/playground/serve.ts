/**
 * `deno task web`: bundles the playground into examples/playground/
 * playground.js (minified; gitignored) and serves the folder on localhost,
 * printing the URL. The folder is then a static site: index.html and
 * playground.js work from any static file server.
 *
 *     deno task web                  # http://localhost:8000/
 *     deno task web --port 8123
 *     deno task web --build          # bundle only, serve nothing
 *     deno task web --version
 *
 * @module
 */

import { parseArgs } from "node:util";
import { bundlePlayground, PLAYGROUND_DIR } from "./build.ts";
import { REVODE_VERSION } from "../../export/metadata.ts";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  csv: "text/csv; charset=utf-8",
};

const USAGE = "usage: deno task web [--port N] [--build] [--version] [--help]\n" +
  "  --port N    serve on localhost:N (default 8000; 0 picks a free port)\n" +
  "  --build     bundle examples/playground/playground.js only, serve nothing\n";

/** The flags, or the usage and exit 2 for an unknown one (no stack trace). */
function _flags() {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string", default: "8000" },
        build: { type: "boolean" },
        version: { type: "boolean" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
}

const values = _flags();
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
if (values.version) {
  console.log(
    `revode ${REVODE_VERSION} (deno task web); Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`,
  );
  Deno.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid value for --port: ${values.port}. Allowed: an integer from 0 to 65535.`);
  Deno.exit(2);
}

const bytes = await bundlePlayground(`${PLAYGROUND_DIR}/playground.js`, true);
console.log(`built ${PLAYGROUND_DIR}/playground.js (${(bytes / 1024).toFixed(0)} KB)`);
if (!values.build) {
  Deno.serve({
    hostname: "127.0.0.1",
    port,
    onListen: ({ port }) => console.log(`revode playground: http://localhost:${port}/`),
  }, async (request) => {
    const name = new URL(request.url).pathname.slice(1) || "index.html";
    // the folder's own files only: no path outside it
    if (!/^[\w.-]+$/.test(name) || name.startsWith(".")) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(`${PLAYGROUND_DIR}/${name}`);
      const type = TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}
