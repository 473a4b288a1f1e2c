/// <reference lib="dom" />
/**
 * The playground's two plots on canvases: the loss per iteration (log
 * scale) and the data against the model, one colour per state.
 *
 * @module
 */

/** One colour per state (more states cycle). */
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

/** The canvas's 2-D context, cleared, with axes' frame drawn. */
function _frame(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const g = canvas.getContext("2d")!;
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.strokeStyle = "#999";
  g.strokeRect(
    PAD.left,
    PAD.top,
    canvas.width - PAD.left - PAD.right,
    canvas.height - PAD.top - PAD.bottom,
  );
  g.fillStyle = "#333";
  g.font = "11px sans-serif";
  return g;
}

/** Maps `[x0, x1] × [y0, y1]` onto the canvas's plot area. */
function _scales(canvas: HTMLCanvasElement, x: [number, number], y: [number, number]) {
  const w = canvas.width - PAD.left - PAD.right;
  const h = canvas.height - PAD.top - PAD.bottom;
  const sx = (v: number) => PAD.left + ((v - x[0]) / (x[1] - x[0] || 1)) * w;
  const sy = (v: number) => PAD.top + h - ((v - y[0]) / (y[1] - y[0] || 1)) * h;
  return { sx, sy };
}

/** A number short enough for an axis label. */
function _label(v: number): string {
  return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(1)
    : String(Number(v.toPrecision(3)));
}

/**
 * Draws the loss history on a log scale.
 *
 * @param canvas The canvas.
 * @param losses The loss of every iteration.
 */
export function drawLoss(canvas: HTMLCanvasElement, losses: readonly number[]): void {
  const g = _frame(canvas);
  const finite = losses.filter((l) => Number.isFinite(l) && l > 0);
  if (finite.length === 0) return;
  const lo = Math.log10(Math.min(...finite));
  const hi = Math.log10(Math.max(...finite));
  const { sx, sy } = _scales(canvas, [1, Math.max(2, losses.length)], [
    lo,
    hi === lo ? lo + 1 : hi,
  ]);
  g.strokeStyle = COLOURS[0];
  g.beginPath();
  losses.forEach((l, i) => {
    if (!(Number.isFinite(l) && l > 0)) return;
    const x = sx(i + 1), y = sy(Math.log10(l));
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
  g.fillText(_label(10 ** hi), 4, PAD.top + 8);
  g.fillText(_label(10 ** lo), 4, canvas.height - PAD.bottom);
  g.fillText(`iteration ${losses.length}`, canvas.width - PAD.right - 90, canvas.height - 8);
  g.fillText("loss (log)", PAD.left + 4, canvas.height - 8);
}

/**
 * Draws the data (dots) and the model (lines), one colour per state.
 *
 * @param canvas The canvas.
 * @param data The data: times and states `[points, dim]`.
 * @param model The model's solution at the same times, or null before any.
 * @param names The state names.
 */
export function drawFit(
  canvas: HTMLCanvasElement,
  data: { ts: Float64Array; ys: Float64Array; dim: number },
  model: { ts: Float64Array; ys: Float64Array } | null,
  names: readonly string[],
): void {
  const g = _frame(canvas);
  const { ts, ys, dim } = data;
  const all = [...ys, ...(model === null ? [] : model.ys)].filter(Number.isFinite);
  if (all.length === 0) return;
  const lo = Math.min(...all), hi = Math.max(...all);
  const { sx, sy } = _scales(canvas, [ts[0], ts[ts.length - 1]], [lo, hi]);
  // thin out dense data so that the dots stay dots
  const every = Math.max(1, Math.floor(ts.length / 200));
  for (let k = 0; k < dim; k++) {
    g.fillStyle = COLOURS[k % COLOURS.length];
    for (let i = 0; i < ts.length; i += every) {
      if (Number.isFinite(ys[i * dim + k])) {
        g.fillRect(sx(ts[i]) - 1.5, sy(ys[i * dim + k]) - 1.5, 3, 3);
      }
    }
    g.fillText(names[k] ?? `y${k + 1}`, PAD.left + 8 + 40 * k, PAD.top + 12);
    if (model === null) continue;
    g.strokeStyle = COLOURS[k % COLOURS.length];
    g.beginPath();
    for (let i = 0; i < model.ts.length; i++) {
      const x = sx(model.ts[i]), y = sy(model.ys[i * dim + k]);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
    g.stroke();
  }
  g.fillStyle = "#333";
  g.fillText(_label(hi), 4, PAD.top + 8);
  g.fillText(_label(lo), 4, canvas.height - PAD.bottom);
  g.fillText(
    `t = ${_label(ts[0])} … ${_label(ts[ts.length - 1])}`,
    PAD.left + 4,
    canvas.height - 8,
  );
  g.fillText("dots: data, lines: model", canvas.width - PAD.right - 140, canvas.height - 8);
}
