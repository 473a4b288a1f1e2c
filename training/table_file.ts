/**
 * Reading a table from a file: {@link readTableFile} is {@link readTable} on
 * the file's text, with the path as the source in every message. Kept apart
 * from table.ts because it uses Deno's file API and the library's front door
 * (mod.ts) bundles for browsers.
 *
 * @module
 */

import { readTable, type Table, type TableOptions } from "./table.ts";

/**
 * Reads a table file (CSV with comma or semicolon, or whitespace-separated).
 *
 * @param path The file.
 * @param options As {@link readTable}'s; `source` defaults to `path`.
 * @returns The table.
 * @throws {Deno.errors.NotFound} When there is no such file (and Deno's other file errors).
 * @throws {TableError} When the table cannot be read as asked (file, line, column, value).
 *
 * @example
 * ```ts
 * import { readTableFile } from "./table_file.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "time;x;y\n0;1,5;2\n1;2,5;3\n");
 * const table = await readTableFile(path);
 * assert.deepEqual([...table.trajectories[0].ys], [1.5, 2, 2.5, 3]);
 * assert.equal(table.notes[0].kind, "decimal_comma");
 * assert.equal(table.source, path);
 * await Deno.remove(path);
 * ```
 */
export async function readTableFile(path: string, options: TableOptions = {}): Promise<Table> {
  return readTable(await Deno.readTextFile(path), { source: path, ...options });
}
