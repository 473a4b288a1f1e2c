/// <reference lib="dom" />
/**
 * The playground's browser entry, bundled by `deno task web` into
 * playground.js: on the page it wires the page (page.ts); loaded again as
 * the page's Web Worker it trains on the CPU (worker.ts). It imports only
 * library modules free of Deno APIs (`deno task lint:browser` checks the
 * bundle).
 *
 * @module
 */

import { startPage } from "./page.ts";
import { startWorker } from "./worker.ts";

if (typeof document === "undefined") {
  startWorker(globalThis as unknown as Parameters<typeof startWorker>[0]);
} else {
  startPage();
}
