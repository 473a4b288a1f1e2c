/**
 * Crash-safe file replacement for checkpoints, logs and reports.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/**
 * Writes `text` to `path` atomically: the text goes to a temporary file in
 * the same directory, is flushed to disk, then renamed over `path`. Readers,
 * and the file left after a crash, see either the old content or the new,
 * never a truncated mix. The temporary file is removed if writing fails.
 *
 * @param path The file to create or replace; its directory must exist.
 * @param text The new content (UTF-8).
 *
 * @example
 * ```ts
 * import { writeTextFileAtomic } from "./atomic_write.ts";
 * import assert from "node:assert/strict";
 *
 * // Needs --allow-read --allow-write (a check for running the example without them).
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const dir = await Deno.makeTempDir();
 *   const path = `${dir}/state.json`;
 *   await writeTextFileAtomic(path, "old");
 *   await writeTextFileAtomic(path, '{"step": 2}');
 *   assert.equal(await Deno.readTextFile(path), '{"step": 2}');
 *   assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state.json"]);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeTextFileAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Writes `bytes` to `path` atomically, as {@link writeTextFileAtomic} does
 * text (model.onnx files, say): a temporary file beside `path`, flushed to
 * disk, then renamed over it; a replaced file keeps its permissions.
 *
 * @param path The file to create or replace; its directory must exist.
 * @param bytes The new content.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const dir = await Deno.makeTempDir();
 *   await writeFileAtomic(`${dir}/m.onnx`, Uint8Array.of(8, 8));
 *   assert.deepEqual(await Deno.readFile(`${dir}/m.onnx`), Uint8Array.of(8, 8));
 *   assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["m.onnx"]);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const unique = `${Deno.pid}.${Date.now().toString(36)}.${
    Math.random().toString(36).slice(2, 10)
  }`;
  const temp = join(dirname(path), `.${basename(path)}.${unique}.tmp`);
  // Keep the permissions of a file being replaced.
  let mode: number | undefined;
  try {
    const statMode = (await Deno.stat(path)).mode;
    if (statMode !== null) mode = statMode & 0o777;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    const file = await Deno.open(temp, { write: true, createNew: true, mode });
    try {
      for (let written = 0; written < bytes.length;) {
        written += await file.write(bytes.subarray(written));
      }
      // Data on disk before the rename makes it visible under `path`.
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
