/**
 * Accounting of the bytes a solve or a gradient method holds: every buffer a
 * method needs is allocated through a {@link MemoryMeter}, so the peak it
 * reports is what was really held, not an estimate.
 *
 * @module
 */

/**
 * Allocates Float64Arrays and keeps the current and peak number of bytes held.
 *
 * @example
 * ```ts
 * import { MemoryMeter } from "./memory.ts";
 * import assert from "node:assert/strict";
 *
 * const meter = new MemoryMeter();
 * const a = meter.f64(10);
 * meter.release(a);
 * meter.f64(5);
 * assert.equal(meter.peak, 80);
 * assert.equal(meter.current, 40);
 * ```
 */
export class MemoryMeter {
  /** Bytes held now. */
  current = 0;
  /** Largest number of bytes held at once. */
  peak = 0;

  /**
   * Allocates a zeroed Float64Array of `length` entries and counts it.
   *
   * @param length Number of entries.
   * @returns The new array.
   */
  f64(length: number): Float64Array {
    this.add(length * 8);
    return new Float64Array(length);
  }

  /**
   * Counts `bytes` as held (for buffers allocated elsewhere).
   *
   * @param bytes Number of bytes.
   */
  add(bytes: number): void {
    this.current += bytes;
    if (this.current > this.peak) this.peak = this.current;
  }

  /**
   * Stops counting an array allocated with {@link MemoryMeter.f64}.
   *
   * @param array The array no longer held.
   */
  release(array: Float64Array): void {
    this.current -= array.byteLength;
  }
}
