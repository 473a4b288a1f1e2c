/**
 * A small deterministic pseudo-random number generator: the same seed gives a
 * bit-identical stream on every platform, so parameter initialisation and data
 * shuffles are reproducible.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * import assert from "node:assert/strict";
 *
 * const a = new Rng(42);
 * const b = new Rng(42);
 * assert.equal(a.uniform(-1, 1), b.uniform(-1, 1));
 * ```
 *
 * @module
 */

import { invalidArgument } from "../checks.ts";

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** One round of the murmur3 / splitmix32 finaliser on a 32-bit integer. */
function _mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A seeded generator (splitmix32: a Weyl sequence with step 0x9e3779b9 passed
 * through the murmur3 finaliser; period 2³²). Uniform doubles use two 32-bit
 * draws for the full 53 bits of precision; normal draws use the Box–Muller
 * transform and keep the second value of each pair for the next call.
 *
 * Not for cryptography.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * import assert from "node:assert/strict";
 *
 * const rng = new Rng(7);
 * const u = rng.uniform(2, 3);
 * assert.ok(u >= 2 && u < 3);
 * const first = new Rng(7).next();
 * assert.equal(new Rng(7).next(), first);
 * assert.notEqual(new Rng(8).next(), first);
 * ```
 */
export class Rng {
  #state: number;
  #spare = 0;
  #hasSpare = false;

  /**
   * Creates a generator.
   *
   * @param seed Any safe integer (negative and values above 2³² included);
   *   the default is 0.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * import assert from "node:assert/strict";
   *
   * assert.throws(() => new Rng(1.5), /seed.*1\.5.*integer/);
   * ```
   */
  constructor(seed = 0) {
    if (typeof seed !== "number" || !Number.isSafeInteger(seed)) {
      invalidArgument("seed", seed, "a safe integer");
    }
    // Fold the high bits in so that seeds differing only above bit 32 differ.
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    this.#state = (low ^ _mix32(high + 0x632be5ab)) >>> 0;
  }

  /**
   * The next 32-bit unsigned integer of the stream.
   *
   * @returns An integer in `[0, 2³²)`.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * import assert from "node:assert/strict";
   *
   * const n = new Rng(1).next();
   * assert.ok(Number.isInteger(n) && n >= 0 && n < 2 ** 32);
   * ```
   */
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) | 0;
    return _mix32(this.#state);
  }

  /**
   * A uniform double in `[lo, hi)` with 53 random bits.
   *
   * @param lo The lower bound (included); default 0.
   * @param hi The upper bound (excluded); default 1.
   * @returns The draw.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * import assert from "node:assert/strict";
   *
   * const rng = new Rng(3);
   * for (let i = 0; i < 100; i++) {
   *   const u = rng.uniform(-0.5, 0.5);
   *   assert.ok(u >= -0.5 && u < 0.5);
   * }
   * ```
   */
  uniform(lo = 0, hi = 1): number {
    const a = this.next() >>> 5; // 27 bits
    const b = this.next() >>> 6; // 26 bits
    const u = (a * 67108864 + b) / TWO_POW_53;
    return lo + (hi - lo) * u;
  }

  /**
   * A standard normal draw (mean 0, variance 1).
   *
   * @returns The draw.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * import assert from "node:assert/strict";
   *
   * const rng = new Rng(11);
   * let sum = 0;
   * let sumSq = 0;
   * const n = 20000;
   * for (let i = 0; i < n; i++) {
   *   const x = rng.normal();
   *   sum += x;
   *   sumSq += x * x;
   * }
   * assert.ok(Math.abs(sum / n) < 0.05);
   * assert.ok(Math.abs(sumSq / n - 1) < 0.05);
   * ```
   */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * v;
    this.#spare = r * Math.sin(angle);
    this.#hasSpare = true;
    return r * Math.cos(angle);
  }
}
