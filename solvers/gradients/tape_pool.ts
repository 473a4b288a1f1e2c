/**
 * Buffers a gradient method may hand back after its backward pass, for the
 * next solve of the same size to reuse: direct backprop tapes every step,
 * gigabytes at batch 256 and width 64, and the first touch of fresh pages
 * costs more than the arithmetic that fills them. The pool holds what it
 * is given only weakly, so memory nobody takes back is still collected.
 *
 * @module
 */

/** A buffer given back, until someone takes it. */
export interface Returned {
  /** The buffer; gone once collected. */
  readonly ref: WeakRef<ArrayBuffer>;
}

/** At most this many buffers wait in the pool, the newest kept. */
const _SLOTS = 4;

const _waiting: Returned[] = [];

/**
 * A Float64Array of `length` entries whose contents are unspecified: a
 * buffer given back earlier (the smallest that fits, at most twice the
 * size needed), or a new one.
 *
 * @param length Number of entries.
 * @returns The array, all of it the caller's until {@link giveBack}.
 *
 * @example
 * ```ts
 * import { giveBack, takeBuffer } from "./tape_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const a = takeBuffer(1000);
 * assert.equal(a.length, 1000);
 * giveBack(a);
 * const b = takeBuffer(900);
 * assert.equal(b.buffer, a.buffer);
 * assert.equal(b.length, 900);
 * assert.notEqual(takeBuffer(900).buffer, a.buffer);
 * ```
 */
export function takeBuffer(length: number): Float64Array {
  const bytes = length * 8;
  let best = -1, bestBytes = Infinity;
  for (let i = _waiting.length - 1; i >= 0; i--) {
    const buffer = _waiting[i].ref.deref();
    if (buffer === undefined) {
      _waiting.splice(i, 1);
      continue;
    }
    const size = buffer.byteLength;
    if (size >= bytes && size <= 2 * bytes && size < bestBytes) {
      best = i;
      bestBytes = size;
    }
  }
  if (best < 0) return new Float64Array(length);
  const buffer = _waiting[best].ref.deref()!;
  _waiting.splice(best, 1);
  return new Float64Array(buffer, 0, length);
}

/**
 * Gives `array`'s whole buffer back to the pool. The caller may still read
 * it until {@link reclaim} says whether it is still its own.
 *
 * @param array An array from {@link takeBuffer}.
 * @returns The ticket that {@link reclaim} takes.
 *
 * @example
 * ```ts
 * import { giveBack, reclaim, takeBuffer } from "./tape_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const a = takeBuffer(10);
 * const ticket = giveBack(a);
 * assert.equal(reclaim(ticket), true);
 * ```
 */
export function giveBack(array: Float64Array): Returned {
  const returned = { ref: new WeakRef(array.buffer as ArrayBuffer) };
  _waiting.push(returned);
  if (_waiting.length > _SLOTS) _waiting.shift();
  return returned;
}

/**
 * Takes a buffer given back out of the pool again, if nobody took it in
 * between: then its contents are as they were given back.
 *
 * @param returned The ticket of {@link giveBack}.
 * @returns Whether the buffer is the caller's again, untouched.
 *
 * @example
 * ```ts
 * import { giveBack, reclaim, takeBuffer } from "./tape_pool.ts";
 * import assert from "node:assert/strict";
 *
 * const a = takeBuffer(10);
 * const ticket = giveBack(a);
 * const other = takeBuffer(10); // takes a's buffer
 * assert.equal(other.buffer, a.buffer);
 * assert.equal(reclaim(ticket), false);
 * ```
 */
export function reclaim(returned: Returned): boolean {
  const i = _waiting.indexOf(returned);
  if (i < 0 || returned.ref.deref() === undefined) return false;
  _waiting.splice(i, 1);
  return true;
}
