/**
 * Small helpers the benchmark sections share: medians, relative errors,
 * finite checks, and the fixed-width tables of the reports.
 *
 * @module
 */

/**
 * The median of some numbers.
 *
 * @param values At least one number.
 * @returns The median.
 */
export function median(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Whether every entry is finite.
 *
 * @param a An array.
 * @returns True when no entry is NaN or ±Infinity.
 */
export function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * `max |a − truth| / max |truth|`.
 *
 * @param a Values.
 * @param truth Reference values, same length.
 * @returns The relative ∞-norm error.
 */
export function relativeError(a: Float64Array, truth: Float64Array): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < truth.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - truth[i]));
    scale = Math.max(scale, Math.abs(truth[i]));
  }
  return diff / Math.max(scale, Number.MIN_VALUE);
}

/**
 * The first sentence of a message: up to the first full stop followed by
 * white space and a capital letter (so "9.02e+29" and "0.000001." inside a
 * sentence do not end it), or the whole message.
 *
 * @param message An error message.
 * @returns Its first sentence.
 */
export function firstSentence(message: string): string {
  const match = /^[\s\S]*?\.(?=\s+[A-Z(])/.exec(message);
  return (match ? match[0] : message).trim();
}

/**
 * A text table, first column left-aligned, the others right-aligned, with a
 * rule under the header.
 *
 * @param table Header row first.
 * @returns The lines.
 */
export function renderTable(table: string[][]): string[] {
  const widths = table[0].map((_, j) => Math.max(...table.map((row) => row[j].length)));
  const lines: string[] = [];
  table.forEach((row, i) => {
    lines.push(
      row.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j])))
        .join("  "),
    );
    if (i === 0) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  });
  return lines;
}

/**
 * An integer with thin groups of three digits.
 *
 * @param x A number (rounded).
 * @returns E.g. "1 120".
 */
export function group(x: number): string {
  return Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}
