/**
 * Where the programs write: standard output and error, and whether output
 * is a terminal. A closed pipe (`… | head`) is ignored, so that a program
 * piped into another never stops or loses its files for it.
 *
 * @module
 */

/** Where the command writes: stdout, stderr, and whether stdout is a terminal. */
export interface CliIo {
  /** Writes text to standard output as it is (no newline added). */
  write(text: string): void;
  /** Writes text to standard error as it is (no newline added). */
  error(text: string): void;
  /** True when standard output is a terminal (a live progress line is drawn). */
  isTerminal: boolean;
}

/**
 * The process's standard output and error.
 *
 * @returns An {@link CliIo} on `Deno.stdout` and `Deno.stderr`.
 *
 * @example
 * ```ts
 * import { consoleIo } from "./io.ts";
 * import assert from "node:assert/strict";
 *
 * const io = consoleIo();
 * assert.equal(io.isTerminal, Deno.stdout.isTerminal());
 * io.write(""); // writes nothing, and does not throw
 * io.error("");
 * ```
 */
export function consoleIo(): CliIo {
  const encoder = new TextEncoder();
  const all = (stream: { writeSync(p: Uint8Array): number }, text: string) => {
    const bytes = encoder.encode(text);
    try {
      for (let n = 0; n < bytes.length;) n += stream.writeSync(bytes.subarray(n));
    } catch (error) {
      // A closed pipe (`… | head`) must not stop training or lose its files.
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    }
  };
  return {
    write: (text) => all(Deno.stdout, text),
    error: (text) => all(Deno.stderr, text),
    isTerminal: Deno.stdout.isTerminal(),
  };
}
