/**
 * Who owns a run folder. A training run writes its folder alone: it holds a
 * lock file there while it runs (its pid and a heartbeat renewed every few
 * seconds), and a second run on the same `--out` is refused while the lock
 * is alive. A lock whose heartbeat stopped (a run killed with SIGKILL, a
 * machine that rebooted) is stale and taken over.
 *
 * A folder that already holds a run (a model.json) is refused as well,
 * unless this run resumes from that very model.json or `--force` says to
 * replace it: a finished run is never overwritten without a word.
 *
 * @module
 */

import { UsageError } from "./flags.ts";
import { RUN_FILES } from "./run_files.ts";
import { writeTextFileAtomic } from "../training/atomic_write.ts";

/** The lock file's name inside a run folder. */
export const LOCK_FILE = ".revode-lock.json";

/** Seconds between two heartbeats of a held lock. */
const HEARTBEAT_SECONDS = 5;

/**
 * Seconds without a heartbeat after which a lock is stale: three missed
 * heartbeats, so that a busy event loop is not mistaken for a dead run.
 */
export const STALE_SECONDS = 15;

/** What a lock file holds. */
interface LockRecord {
  pid: number;
  startedAt: string;
  heartbeatAt: string;
}

/** A held lock on a run folder; {@link RunLock.release} gives it up. */
export interface RunLock {
  /** The lock file. */
  path: string;
  /** Stops the heartbeat and removes the lock file. */
  release(): Promise<void>;
}

/** How a run may use a folder that already holds a run. */
export interface FolderClaim {
  /** The model.json this run resumes from, or null. */
  resumedFrom: string | null;
  /** True with `--force`: the run there may be replaced. */
  force: boolean;
}

/**
 * Takes the folder's lock, then checks that the folder may hold this run:
 * empty of runs, or the run being resumed, or `--force` (whose old run
 * files are then removed, so that the folder never mixes two runs).
 *
 * @param dir The run folder (it exists).
 * @param claim What this run is allowed to replace.
 * @returns The held lock.
 * @throws {UsageError} When another run holds the folder, or it holds a
 * finished run that this one neither resumes nor may replace.
 *
 * @example A second claim on a held folder is refused
 * ```ts
 * import { claimRunFolder } from "./train_lock.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "write" })).state === "granted") {
 *   const dir = await Deno.makeTempDir();
 *   const claim = { resumedFrom: null, force: false };
 *   const lock = await claimRunFolder(dir, claim);
 *   await assert.rejects(claimRunFolder(dir, claim), /in use by another training run/);
 *   await lock.release();
 *   await (await claimRunFolder(dir, claim)).release();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function claimRunFolder(dir: string, claim: FolderClaim): Promise<RunLock> {
  const lock = await _takeLock(dir);
  try {
    await _checkOwnership(dir, claim);
  } catch (error) {
    await lock.release();
    throw error;
  }
  return lock;
}

/** Refuses a folder holding another run, or clears it under `--force`. */
async function _checkOwnership(dir: string, claim: FolderClaim): Promise<void> {
  const model = `${dir}/model.json`;
  if (!(await _exists(model))) return;
  if (claim.resumedFrom !== null && await _sameFile(claim.resumedFrom, model)) return;
  if (claim.force) {
    for (const name of ["model.json", "model.onnx", ...RUN_FILES]) {
      await Deno.remove(`${dir}/${name}`).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    return;
  }
  throw new UsageError(
    `invalid value for --out: ${JSON.stringify(dir)} already holds a run (${model}). ` +
      `Allowed: continue it with --resume ${model}, replace it with --force, or choose ` +
      `another --out.`,
  );
}

/** Creates the lock file, taking over a stale one; refuses a live one. */
async function _takeLock(dir: string): Promise<RunLock> {
  const path = `${dir}/${LOCK_FILE}`;
  const now = new Date().toISOString();
  const record: LockRecord = { pid: Deno.pid, startedAt: now, heartbeatAt: now };
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.writeTextFile(path, JSON.stringify(record) + "\n", { createNew: true });
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists) || attempt > 0) throw error;
    }
    const holder = await _readLock(path);
    if (holder !== null && !_isStale(holder)) {
      const ago = Math.round((Date.now() - Date.parse(holder.heartbeatAt)) / 1000);
      throw new UsageError(
        `invalid value for --out: ${JSON.stringify(dir)} is in use by another training ` +
          `run (pid ${holder.pid}, alive ${ago} s ago; lock ${path}). Allowed: a folder no ` +
          `other run is writing; wait for that run to end, or choose another --out (a run ` +
          `that was killed leaves a lock that goes stale ${STALE_SECONDS} s after its last ` +
          `heartbeat).`,
      );
    }
    await Deno.remove(path).catch(() => {});
  }
  return _heldLock(path, record);
}

/** Renews the heartbeat until released. */
function _heldLock(path: string, record: LockRecord): RunLock {
  const beat = async () => {
    record.heartbeatAt = new Date().toISOString();
    // Atomic, so that a second run never reads a half-written lock (which
    // would count as stale); a failed beat is retried by the next one.
    await writeTextFileAtomic(path, JSON.stringify(record) + "\n").catch(() => {});
  };
  const timer = setInterval(beat, HEARTBEAT_SECONDS * 1000);
  Deno.unrefTimer(timer);
  let released = false;
  return {
    path,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      await Deno.remove(path).catch(() => {});
    },
  };
}

/** The lock file's record, or null when unreadable (a crash mid-write). */
async function _readLock(path: string): Promise<LockRecord | null> {
  try {
    const record = JSON.parse(await Deno.readTextFile(path));
    const valid = Number.isInteger(record?.pid) && typeof record.heartbeatAt === "string" &&
      Number.isFinite(Date.parse(record.heartbeatAt));
    return valid ? record : null;
  } catch {
    return null;
  }
}

/**
 * Stale: no heartbeat for {@link STALE_SECONDS}. The heartbeat alone decides:
 * whether the pid still runs cannot be asked with the task's permissions
 * (Deno guards /proc and signals), and a pid may be reused anyway.
 */
function _isStale(holder: LockRecord): boolean {
  return Date.now() - Date.parse(holder.heartbeatAt) > STALE_SECONDS * 1000;
}

async function _exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** True when two paths name one file (links and relative paths resolved). */
async function _sameFile(a: string, b: string): Promise<boolean> {
  try {
    return await Deno.realPath(a) === await Deno.realPath(b);
  } catch {
    return false;
  }
}
