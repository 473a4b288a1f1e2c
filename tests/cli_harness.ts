/**
 * What the command-line tests share: running a CLI's `main()` in-process
 * with its output collected, running a `deno task` as a child process with
 * the task's own permissions, a temporary folder per test, the check that an
 * error was reported without a stack trace, and a run resumed halfway held
 * against one never stopped.
 */

import assert from "node:assert/strict";
import type { CliIo } from "../cli/io.ts";
import { readModelFile } from "../training/model_file.ts";
import type { ModelFile } from "../training/model_format.ts";

/** The repository root, where deno.json and the tasks' scripts are. */
const ROOT = new URL("..", import.meta.url).pathname;

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

/** A CLI's exit code and what it wrote to stdout (`out`) and stderr (`err`). */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `main()` in-process, collecting what it writes. */
export async function runCli(main: CliMain, args: string[]): Promise<CliResult> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

/**
 * Flags of a white-dwarf training that goes on until it is stopped: 100 000
 * iterations of 100 steps, no --restarts probes (so "iteration 1/" comes at
 * once).
 */
export const UNTIL_STOPPED = ["--steps", "100", "--iterations", "100000", "--restarts", "1"];

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

/** How {@link taskCommand} sets up the child. */
export interface TaskOptions {
  /** Deno flags added to the task's own, before the script (e.g. `--preload FILE`). */
  flags?: string[];
  /** Where the child's stdout goes (default piped). */
  stdout?: "piped" | "null";
  /**
   * Run through `deno task --quiet` itself, as a user types it (a signal then
   * reaches the task runner, not the program; `flags` cannot be added).
   */
  viaDenoTask?: boolean;
}

/**
 * The command `deno task <task>` runs, read from deno.json, with `args` after
 * the script: the task's own permissions, run from the repository root. It is
 * spawned as `deno run …` itself rather than through `deno task` (unless
 * `viaDenoTask`), so that a signal sent to the child reaches the program
 * (SIGKILL cannot be forwarded by a task runner); a task of another form than
 * `deno run <flags> <script>` is refused, naming it.
 */
export function taskCommand(task: string, args: string[], options: TaskOptions = {}): Deno.Command {
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks ?? {};
  const line = tasks[task];
  const words = typeof line === "string" ? line.trim().split(/\s+/) : [];
  if (words[0] !== "deno" || words[1] !== "run" || words.length < 3) {
    throw new Error(
      `deno.json's task ${JSON.stringify(task)} is ${JSON.stringify(line)}; ` +
        `the tests run tasks of the form "deno run <flags> <script>"`,
    );
  }
  const script = words[words.length - 1];
  const flags = options.flags ?? [];
  if (options.viaDenoTask && flags.length > 0) {
    throw new Error(`flags ${flags.join(" ")} cannot be added to a run through deno task`);
  }
  return new Deno.Command(Deno.execPath(), {
    args: options.viaDenoTask
      ? ["task", "--quiet", task, ...args]
      : ["run", ...words.slice(2, -1), ...flags, script, ...args],
    cwd: ROOT,
    stdout: options.stdout ?? "piped",
    stderr: "piped",
  });
}

/** Runs `deno task <task> args` (see {@link taskCommand}) to its end. */
export async function runTask(
  task: string,
  args: string[],
  options: Omit<TaskOptions, "stdout"> = {},
): Promise<CliResult> {
  const { code, stdout, stderr } = await taskCommand(task, args, options).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout), err: text.decode(stderr) };
}

/** Reads `reader` until `done(seen)` holds or the stream ends; returns what was read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  done: (seen: string) => boolean,
): Promise<string> {
  let seen = "";
  const decoder = new TextDecoder();
  while (!done(seen)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    seen += decoder.decode(chunk.value, { stream: true });
  }
  return seen;
}

/** A child stopped by a signal: its exit code, its output before and after the signal. */
export interface Interrupted<T> {
  code: number;
  /** stdout up to the text waited for. */
  before: string;
  /** stdout after the signal. */
  after: string;
  err: string;
  /** What `meanwhile` returned. */
  during: T;
}

/**
 * Waits until the child (spawned with stdout and stderr piped) prints `text`,
 * runs `meanwhile` (its result is returned as `during`), sends `signal`, and reads the rest until the child exits.
 * A child that ends before printing `text` fails with its output.
 */
export async function interruptAfter<T = void>(
  child: Deno.ChildProcess,
  text: string,
  signal: Deno.Signal,
  meanwhile: () => Promise<T> = () => Promise.resolve(undefined as T),
): Promise<Interrupted<T>> {
  const err = new Response(child.stderr).text();
  const reader = child.stdout.getReader();
  const before = await readUntil(reader, (seen) => seen.includes(text));
  if (!before.includes(text)) {
    const { code } = await child.status;
    throw new Error(`the child exited ${code} before printing "${text}":\n${before}${await err}`);
  }
  const during = await meanwhile();
  child.kill(signal);
  const after = await readUntil(reader, () => false);
  const { code } = await child.status;
  return { code, before, after, err: await err, during };
}

/** A run resumed halfway and the same run never stopped, as {@link resumeAgainstWhole} made them. */
export interface ResumedAndWhole {
  /** The resumed run's output (it exited 0). */
  resumed: CliResult;
  /** The resumed run's model file (`dir/b`). */
  split: ModelFile;
  /** The model file of the run never stopped (`dir/whole`). */
  whole: ModelFile;
}

/**
 * Trains `base` for `half` iterations into `dir/a`, resumes that for `half`
 * more into `dir/b`, and trains `base` for 2·`half` iterations in one go into
 * `dir/whole`, each required to succeed; the caller compares the two ends.
 */
export async function resumeAgainstWhole(
  main: CliMain,
  dir: string,
  base: string[],
  half: number,
): Promise<ResumedAndWhole> {
  const run = (args: string[]) => runCli(main, args);
  const whole = await run([...base, "--iterations", `${2 * half}`, "--out", `${dir}/whole`]);
  assert.equal(whole.code, 0, whole.err);
  const first = await run([...base, "--iterations", `${half}`, "--out", `${dir}/a`]);
  assert.equal(first.code, 0, first.err);
  const resumeArgs = ["--resume", `${dir}/a/model.json`, "--iterations", `${half}`];
  const resumed = await run([...resumeArgs, "--out", `${dir}/b`]);
  assert.equal(resumed.code, 0, resumed.err);
  return {
    resumed,
    split: await readModelFile(`${dir}/b/model.json`),
    whole: await readModelFile(`${dir}/whole/model.json`),
  };
}
