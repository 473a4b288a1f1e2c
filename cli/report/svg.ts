/**
 * Dependency-free SVG line charts and a small HTML report page, for training
 * runs: `loss.svg` (loss against iteration, log y), `fit.svg` (data against
 * model trajectories), `residuals.svg` and `report.html` around them.
 *
 * @module
 */

/** One line of a {@link lineChart}. */
export interface Series {
  /** Legend entry. */
  name: string;
  /** Abscissae. */
  x: ArrayLike<number>;
  /** Ordinates, same length as `x`; non-finite values (and values ≤ 0 on a log axis) break the line. */
  y: ArrayLike<number>;
  /** Draw dashed, e.g. for a model next to solid data. */
  dashed?: boolean;
  /** CSS colour; by default taken from a palette by the series' index. */
  color?: string;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  /** Title above the plot. */
  title: string;
  /** Label of the horizontal axis. */
  xLabel: string;
  /** Label of the vertical axis. */
  yLabel: string;
  /** The lines to draw. */
  series: Series[];
  /** Logarithmic vertical axis (default false). */
  logY?: boolean;
  /** Width of the whole image in pixels (default 720). */
  width?: number;
  /** Height of the whole image in pixels (default 440). */
  height?: number;
  /**
   * Shaded spans of the horizontal axis, drawn under the lines with their
   * label at the top (e.g. the held-out part of a time series).
   */
  bands?: { from: number; to: number; label: string }[];
}

/** Colour-blind-friendly palette (Okabe–Ito), in order of use. */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];

/**
 * Escapes text for SVG/HTML content and attribute values.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` replaced by entities.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./svg.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(escapeXml(`a<b & "c"`), "a&lt;b &amp; &quot;c&quot;");
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

/**
 * Draws line series as a standalone SVG image with axes, ticks, labels and a
 * legend.
 *
 * @param options Title, axis labels, series, optional log-scaled y axis.
 * @returns The SVG document as a string.
 *
 * @example
 * ```ts
 * import { lineChart } from "./svg.ts";
 * import assert from "node:assert/strict";
 *
 * const svg = lineChart({
 *   title: "Training loss",
 *   xLabel: "iteration",
 *   yLabel: "MSE",
 *   logY: true,
 *   series: [{ name: "reversible", x: [0, 1, 2], y: [1, 0.1, 0.01] }],
 * });
 * assert.ok(svg.startsWith("<svg"));
 * assert.ok(svg.includes("Training loss") && svg.includes("reversible"));
 * const shaded = lineChart({
 *   title: "Fit", xLabel: "t", yLabel: "y",
 *   series: [{ name: "x", x: [0, 1, 2], y: [0, 1, 0] }],
 *   bands: [{ from: 1.5, to: 2, label: "held out" }],
 * });
 * assert.ok(shaded.includes('class="band"') && shaded.includes("held out"));
 * ```
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const logY = options.logY ?? false;
  const legendWidth = options.series.length > 0 ? 170 : 0;
  const left = 78, right = 20 + legendWidth, top = 40, bottom = 56;
  const plotW = Math.max(10, width - left - right);
  const plotH = Math.max(10, height - top - bottom);

  // Data ranges over the drawable points (and the bands' ends).
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const b of options.bands ?? []) {
    if (Number.isFinite(b.from)) xMin = Math.min(xMin, b.from);
    if (Number.isFinite(b.to)) xMax = Math.max(xMax, b.to);
  }
  for (const s of options.series) {
    const n = Math.min(s.x.length, s.y.length);
    for (let i = 0; i < n; i++) {
      const x = s.x[i], y = s.y[i];
      if (!_drawable(x, y, logY)) continue;
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      const v = logY ? Math.log10(y) : y;
      if (v < yMin) yMin = v;
      if (v > yMax) yMax = v;
    }
  }
  [xMin, xMax] = _padRange(xMin, xMax);
  [yMin, yMax] = _padRange(yMin, yMax);
  const xTicks = _niceTicks(xMin, xMax, 7);
  const yTicks = logY ? _logTicks(yMin, yMax) : _niceTicks(yMin, yMax, 6);
  // Axis limits snap outward to the outer ticks when these are close.
  xMin = Math.min(xMin, xTicks.values[0]);
  xMax = Math.max(xMax, xTicks.values[xTicks.values.length - 1]);
  yMin = Math.min(yMin, yTicks.values[0]);
  yMax = Math.max(yMax, yTicks.values[yTicks.values.length - 1]);

  const px = (x: number) => left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (v: number) => top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number) => (Math.round(v * 100) / 100).toString();

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, ` +
      `Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${f(left + plotW / 2)}" y="24" text-anchor="middle" font-size="15" ` +
      `font-weight="600">${escapeXml(options.title)}</text>`,
  );

  // Grid and ticks.
  out.push(`<g stroke="#e5e5e5" stroke-width="1">`);
  for (const v of xTicks.values) {
    out.push(`<line x1="${f(px(v))}" y1="${top}" x2="${f(px(v))}" y2="${top + plotH}"/>`);
  }
  for (const v of yTicks.values) {
    out.push(`<line x1="${left}" y1="${f(py(v))}" x2="${left + plotW}" y2="${f(py(v))}"/>`);
  }
  out.push(`</g>`);
  out.push(`<g fill="#333333">`);
  for (const v of xTicks.values) {
    out.push(
      `<text x="${f(px(v))}" y="${top + plotH + 18}" text-anchor="middle">` +
        `${escapeXml(_formatTick(v, xTicks.step))}</text>`,
    );
  }
  for (const v of yTicks.values) {
    const label = logY ? _formatNumber(10 ** v) : _formatTick(v, yTicks.step);
    out.push(
      `<text x="${left - 8}" y="${f(py(v) + 4)}" text-anchor="end">${escapeXml(label)}</text>`,
    );
  }
  out.push(`</g>`);
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" ` +
      `stroke="#333333" stroke-width="1"/>`,
  );
  out.push(
    `<text x="${f(left + plotW / 2)}" y="${height - 14}" text-anchor="middle" ` +
      `font-size="13">${escapeXml(options.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(18 ${f(top + plotH / 2)}) rotate(-90)" ` +
      `text-anchor="middle" font-size="13">${escapeXml(options.yLabel)}</text>`,
  );

  // Lines, clipped to the plot area.
  out.push(
    `<clipPath id="plot-area"><rect x="${left}" y="${top}" width="${plotW}" ` +
      `height="${plotH}"/></clipPath>`,
  );
  for (const b of options.bands ?? []) {
    const x0 = Math.max(left, px(b.from)), x1 = Math.min(left + plotW, px(b.to));
    if (!(x1 > x0)) continue;
    out.push(
      `<g class="band"><rect x="${f(x0)}" y="${top}" width="${f(x1 - x0)}" height="${plotH}" ` +
        `fill="#000000" fill-opacity="0.07"/><text x="${f((x0 + x1) / 2)}" y="${top + 14}" ` +
        `text-anchor="middle" fill="#555555">${escapeXml(b.label)}</text></g>`,
    );
  }
  out.push(
    `<g clip-path="url(#plot-area)" fill="none" stroke-width="1.6" stroke-linejoin="round">`,
  );
  options.series.forEach((s, index) => {
    const color = escapeXml(s.color ?? PALETTE[index % PALETTE.length]);
    const n = Math.min(s.x.length, s.y.length);
    let d = "";
    let pen = false;
    for (let i = 0; i < n; i++) {
      const x = s.x[i], y = s.y[i];
      if (!_drawable(x, y, logY)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${f(px(x))} ${f(py(logY ? Math.log10(y) : y))}`;
      pen = true;
    }
    if (d === "") return;
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(`<path d="${d}" stroke="${color}"${dash}><title>${escapeXml(s.name)}</title></path>`);
  });
  out.push(`</g>`);

  // Legend, right of the plot.
  if (options.series.length > 0) {
    const lx = left + plotW + 16;
    out.push(`<g font-size="12">`);
    options.series.forEach((s, index) => {
      const color = escapeXml(s.color ?? PALETTE[index % PALETTE.length]);
      const ly = top + 10 + index * 20;
      const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
      out.push(
        `<line x1="${lx}" y1="${ly}" x2="${lx + 28}" y2="${ly}" stroke="${color}" ` +
          `stroke-width="2"${dash}/>`,
      );
      out.push(`<text x="${lx + 36}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
    });
    out.push(`</g>`);
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** Options of {@link htmlReport}. */
export interface HtmlReportOptions {
  /** Page title and heading. */
  title: string;
  /** Rows of the summary table, in insertion order. */
  summary: Record<string, string | number>;
  /** Relative paths of images (e.g. `"loss.svg"`) to show below the table. */
  images: string[];
  /** A command line, shown under the title (e.g. the run's `deno task train …`). */
  command?: string;
  /** Further tables, each under its heading, after the images (e.g. the settings). */
  sections?: { title: string; rows: Record<string, string | number> }[];
}

/**
 * A small self-contained HTML page: a summary table and the given images,
 * referenced by relative path (so the page sits next to its SVG files).
 *
 * @param options Title, summary rows, image paths.
 * @returns The HTML document as a string.
 *
 * @example
 * ```ts
 * import { htmlReport } from "./svg.ts";
 * import assert from "node:assert/strict";
 *
 * const html = htmlReport({
 *   title: "Oscillator <run 1>",
 *   summary: { "best loss": 1.2345678e-4, iterations: 10000 },
 *   images: ["loss.svg", "fit.svg"],
 * });
 * assert.ok(html.startsWith("<!DOCTYPE html>"));
 * assert.ok(html.includes("Oscillator &lt;run 1&gt;"));
 * assert.ok(html.includes('<img src="fit.svg"'));
 * assert.ok(html.includes("0.000123457") && html.includes("10000"));
 * ```
 */
export function htmlReport(options: HtmlReportOptions): string {
  const title = escapeXml(options.title);
  const tableRows = (rows: Record<string, string | number>) =>
    Object.entries(rows).map(([key, value]) =>
      `<tr><th>${escapeXml(key)}</th><td>${
        escapeXml(typeof value === "number" ? _formatNumber(value) : String(value))
      }</td></tr>`
    );
  const rows = tableRows(options.summary);
  const command = options.command === undefined
    ? []
    : [`<pre><code>${escapeXml(options.command)}</code></pre>`];
  const sections = (options.sections ?? []).flatMap((section) => [
    `<h2>${escapeXml(section.title)}</h2>`,
    `<table>`,
    ...tableRows(section.rows),
    `</table>`,
  ]);
  const images = options.images.map((path) => {
    const src = path.split("/").map(encodeURIComponent).join("/");
    return `<figure><img src="${escapeXml(src)}" alt="${escapeXml(path)}">` +
      `<figcaption>${escapeXml(path)}</figcaption></figure>`;
  });
  return [
    `<!DOCTYPE html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${title}</title>`,
    `<style>`,
    `body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;` +
    ` margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }`,
    `table { border-collapse: collapse; margin-bottom: 2rem; }`,
    `th, td { border: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }`,
    `th { background: #f5f5f5; font-weight: 600; }`,
    `td { font-variant-numeric: tabular-nums; }`,
    `figure { margin: 0 0 2rem; }`,
    `img { max-width: 100%; height: auto; border: 1px solid #eee; }`,
    `figcaption { color: #666; font-size: 0.85rem; }`,
    `pre { background: #f5f5f5; padding: 0.6rem 0.8rem; overflow-x: auto; }`,
    `</style>`,
    `</head>`,
    `<body>`,
    `<h1>${title}</h1>`,
    ...command,
    `<table>`,
    ...rows,
    `</table>`,
    ...images,
    ...sections,
    `</body>`,
    `</html>`,
    ``,
  ].join("\n");
}

function _drawable(x: number, y: number, logY: boolean): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
}

/** Widens an empty or degenerate range so that it can be drawn. */
function _padRange(lo: number, hi: number): [number, number] {
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

/** Ticks at multiples of 1, 2 or 5 × 10ⁿ covering about `count` intervals of [lo, hi]. */
function _niceTicks(lo: number, hi: number, count: number): { values: number[]; step: number } {
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const step = (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * magnitude;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(k * step);
  return { values, step };
}

/** Ticks at integer powers of ten of log10-space [lo, hi], thinned to at most 8. */
function _logTicks(lo: number, hi: number): { values: number[]; step: number } {
  let first = Math.floor(lo + 1e-9);
  let last = Math.ceil(hi - 1e-9);
  if (last - first < 1) {
    first -= 1;
    last += 1;
  }
  const every = Math.max(1, Math.ceil((last - first) / 8));
  first = Math.floor(first / every) * every;
  const values: number[] = [];
  for (let k = first; k < last + every; k += every) values.push(k);
  return { values, step: every };
}

/** A tick label with as many decimals as the tick step needs. */
function _formatTick(value: number, step: number): string {
  const magnitude = Math.max(Math.abs(value), step);
  if (magnitude >= 1e6 || step < 1e-4) return _formatNumber(value);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const text = value.toFixed(decimals);
  return Number(text) === 0 ? "0" : text;
}

/** A short readable number: integers as they are, others with 6 significant digits. */
function _formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e-4 && abs < 1e6) return String(Number(value.toPrecision(6)));
  const [mantissa, exponent] = value.toExponential(5).split("e");
  return `${mantissa.replace(/\.?0+$/, "")}e${exponent.replace("+", "")}`;
}
