/**
 * How `deno task train` ends: its exit codes, and an error turned into a
 * message without a stack trace and the code it exits with.
 *
 * @module
 */

import type { CliIo } from "./io.ts";
import { UsageError } from "./flags.ts";
import { DataFileError } from "./train_data.ts";
import { ModelFileError } from "../training/model_format.ts";
import type { TrainStatus } from "../training/state.ts";

/**
 * Exit codes of `deno task train`.
 *
 * @example
 * ```ts
 * import { EXIT } from "./train_exit.ts";
 * import assert from "node:assert/strict";
 * assert.equal(EXIT.usage, 2);
 * ```
 */
export const EXIT: Readonly<
  { ok: 0; failed: 1; usage: 2; hangup: 129; interrupted: 130; terminated: 143 }
> = Object.freeze({
  /** Training completed (or `--help`). */
  ok: 0,
  /** Training diverged, or a data or model file could not be used. */
  failed: 1,
  /** A bad flag or flag value. */
  usage: 2,
  /** Stopped by SIGHUP (a closed terminal or SSH session); the state was saved. */
  hangup: 129,
  /** Stopped by Ctrl-C (SIGINT); the state was saved. */
  interrupted: 130,
  /** Stopped by SIGTERM (`kill`, `timeout`, `docker stop`, a scheduler); the state was saved. */
  terminated: 143,
});

/**
 * Prints an error without a stack trace and picks the exit code.
 *
 * @param io Where to write.
 * @param error What was thrown.
 * @returns `EXIT.usage` for a bad flag, else `EXIT.failed`.
 *
 * @example
 * ```ts
 * import { EXIT, reportError } from "./train_exit.ts";
 * import { UsageError } from "./flags.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(reportError(io, new UsageError("give --steps or --dt, not both.")), EXIT.usage);
 * assert.equal(err, "error: give --steps or --dt, not both.\nRun with --help for every flag.\n");
 * ```
 */
export function reportError(io: CliIo, error: unknown): number {
  if (error instanceof UsageError) {
    io.error(`error: ${error.message}\nRun with --help for every flag.\n`);
    return EXIT.usage;
  }
  if (error instanceof ModelFileError || error instanceof DataFileError) {
    io.error(`error: ${error.message}\n`);
    return EXIT.failed;
  }
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
    io.error(`error: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
  if (error instanceof Deno.errors.NotCapable) {
    io.error(
      `error: ${(error as Error).message}\nRun with --allow-read --allow-write ` +
        `(deno task train does).\n`,
    );
    return EXIT.failed;
  }
  io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}

/**
 * The exit code of a run that trained: a run stopped by a signal exits as
 * shells report a process killed by it (128 + its number), after saving.
 *
 * @param status How it ended.
 * @param signal The signal that stopped it, if one did.
 * @returns `EXIT.ok`, `EXIT.failed` (diverged), or for an interrupted run
 * `EXIT.interrupted` (SIGINT or a library stop), `EXIT.terminated` (SIGTERM)
 * or `EXIT.hangup` (SIGHUP).
 *
 * @example
 * ```ts
 * import { EXIT, exitCodeOf } from "./train_exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(exitCodeOf("diverged"), EXIT.failed);
 * assert.equal(exitCodeOf("interrupted", "SIGTERM"), 143);
 * assert.equal(exitCodeOf("interrupted", "SIGHUP"), 129);
 * ```
 */
export function exitCodeOf(
  status: TrainStatus,
  signal: "SIGINT" | "SIGTERM" | "SIGHUP" | null = null,
): number {
  if (status === "completed") return EXIT.ok;
  if (status === "diverged") return EXIT.failed;
  return signal === "SIGTERM"
    ? EXIT.terminated
    : signal === "SIGHUP"
    ? EXIT.hangup
    : EXIT.interrupted;
}
