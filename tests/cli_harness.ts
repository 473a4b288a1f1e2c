/**
 * What the command-line tests share: running a CLI's `main()` in-process
 * with its output collected, a temporary folder per test, and the check
 * that an error was reported without a stack trace.
 */

import assert from "node:assert/strict";
import type { CliIo } from "../cli/io.ts";

/** A CLI's entry point: arguments and output in, exit code out. */
export type CliMain = (args: string[], io: CliIo) => Promise<number>;

/** An output sink that keeps what a CLI writes (`out`, `err`). */
export function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    isTerminal: false,
    write(t: string) {
      io.out += t;
    },
    error(t: string) {
      io.err += t;
    },
  };
  return io;
}

/** Runs `main()` in-process, collecting what it writes. */
export async function runCli(
  main: CliMain,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

/** Runs `body` with a new temporary folder, removed afterwards. */
export async function withTempDir(
  body: (dir: string) => Promise<void>,
  prefix = "revode-test-",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fails when `text` holds a stack trace (an error should be one readable message). */
export function assertNoStack(text: string): void {
  assert.ok(!/^\s+at /m.test(text), `a stack trace was printed:\n${text}`);
}
