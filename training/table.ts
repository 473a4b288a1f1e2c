/**
 * A user's own time series from a table: CSV (comma or semicolon) or
 * whitespace-separated text, with a header row or given column names. Which
 * column is time, which are the states and which, if any, names the
 * trajectory a row belongs to are options; each trajectory keeps its own
 * times, which may be irregular and of unequal number.
 *
 * Nothing is dropped or changed without a {@link TableNote}: rows outside
 * the window, rows with a missing value, trajectories too short, columns
 * left out of the states because they are not numeric, decimal commas. A
 * table that cannot be read as asked is refused with a {@link TableError}
 * naming the file, line, column and value.
 *
 * This module uses no Deno API (the library bundles for browsers); reading a
 * file is table_file.ts's.
 *
 * @example A CSV with two trajectories sampled at different times
 * ```ts
 * import { readTable } from "./table.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "run,t,x\na,0,1\na,0.5,2\na,2,3\nb,0,5\nb,1,6\n";
 * const table = readTable(text, { trajectoryColumn: "run" });
 * assert.deepEqual(table.stateColumns, ["x"]);
 * assert.deepEqual(table.trajectories.map((tr) => [...tr.ts]), [[0, 0.5, 2], [0, 1]]);
 * assert.deepEqual([...table.trajectories[1].ys], [5, 6]);
 * ```
 *
 * @module
 */

import { invalidArgument, requireKnownKeys } from "../solvers/checks.ts";
import type { SeriesData } from "./config.ts";

/** How to read a table ({@link readTable}'s options); every field is optional. */
export type TableOptions = NonNullable<Parameters<typeof readTable>[1]>;
/** A table read by {@link readTable}. */
export type Table = ReturnType<typeof readTable>;
/** One trajectory of a {@link Table}. */
export type TableTrajectory = Table["trajectories"][number];
/** Something dropped or changed while reading a table: one of {@link Table}'s `notes`. */
export type TableNote = Table["notes"][number];

/**
 * A table that cannot be read as asked; the message reads
 * `FILE:LINE: column "C": problem` and the fields hold each part.
 *
 * @example
 * ```ts
 * import { readTable, TableError } from "./table.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => readTable("t,x\n0,1\n1,abc\n", { source: "d.csv" }), (e) =>
 *   e instanceof TableError && e.line === 3 && e.column === "x" && e.value === "abc" &&
 *   e.message.startsWith('d.csv:3: column "x"'));
 * ```
 */
export class TableError extends Error {
  /** The file (the `source` option). */
  readonly file: string;
  /** The 1-based line, or null for the whole table. */
  readonly line: number | null;
  /** The column, or null. */
  readonly column: string | null;
  /** The offending cell or value, or null. */
  readonly value: string | null;

  /**
   * Makes the error.
   *
   * @param where The file, line, column and value.
   * @param problem What is wrong and what is allowed, as a sentence.
   */
  constructor(
    where: { file: string; line: number | null; column: string | null; value: string | null },
    problem: string,
  ) {
    const at = where.line === null ? where.file : `${where.file}:${where.line}`;
    super(
      `${at}: ${where.column === null ? "" : `column ${JSON.stringify(where.column)}: `}${problem}`,
    );
    this.name = "TableError";
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.value = where.value;
  }
}

type _Delimiter = "," | ";" | "whitespace";

const _MISSING = new Set(["", "na", "nan", "n/a", "null", "none", "-"]);
const _NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$/i;
const _DECIMAL_COMMA = /^[+-]?\d+,\d+([eE][+-]?\d+)?$/;

/** Splits one line into cells; CSV cells may be quoted with `"` (`""` inside). */
function _split(line: string, delimiter: _Delimiter): string[] {
  if (delimiter === "whitespace") return line.trim().split(/\s+/);
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"', i++);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) (cells.push(cell.trim()), cell = "");
    else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

/** The cell as a number, NaN for a missing value, or null when it is not a number. */
function _number(cell: string, delimiter: _Delimiter): { value: number; comma: boolean } | null {
  if (_MISSING.has(cell.toLowerCase())) return { value: NaN, comma: false };
  if (_NUMBER.test(cell)) {
    const lower = cell.toLowerCase();
    if (lower.includes("inf")) {
      return { value: lower.startsWith("-") ? -Infinity : Infinity, comma: false };
    }
    return { value: Number(cell), comma: false };
  }
  // semicolon tables often write 1,5 for 1.5
  if (delimiter === ";" && _DECIMAL_COMMA.test(cell)) {
    return { value: Number(cell.replace(",", ".")), comma: true };
  }
  return null;
}

function _checkOptions(options: TableOptions): void {
  requireKnownKeys("options", options, [
    "columns",
    "timeColumn",
    "stateColumns",
    "trajectoryColumn",
    "window",
    "minPoints",
    "source",
  ]);
  const { window, minPoints, columns, stateColumns } = options;
  if (
    window !== undefined &&
    (!Array.isArray(window) || window.length !== 2 || !(window[0] < window[1]) ||
      !window.every(Number.isFinite))
  ) {
    invalidArgument("window", window, "two finite times [a, b] with a < b");
  }
  if (minPoints !== undefined && !(Number.isInteger(minPoints) && minPoints >= 2)) {
    invalidArgument("minPoints", minPoints, "an integer ≥ 2");
  }
  for (const [name, list] of [["columns", columns], ["stateColumns", stateColumns]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0 || list.some((c) => typeof c !== "string")) {
      invalidArgument(name, list, "a non-empty list of column names");
    }
    const seen = new Set<string>();
    for (const c of list) {
      if (seen.has(c)) invalidArgument(name, list, `distinct names (${JSON.stringify(c)} twice)`);
      seen.add(c);
    }
  }
}

/** The text's data lines (1-based line numbers), comments and blank lines left out. */
function _lines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/).forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith("%")) return;
    out.push({ line: i + 1, text: raw });
  });
  return out;
}

function _delimiter(first: string): _Delimiter {
  if (first.includes(";")) return ";";
  if (first.includes(",")) return ",";
  return "whitespace";
}

function _pick(name: string, option: string, columns: string[], file: string): number {
  const index = columns.indexOf(name);
  if (index < 0) {
    invalidArgument(option, name, `one of the columns of ${file}: ${columns.join(", ")}`);
  }
  return index;
}

/**
 * Reads a table given as text: finds the delimiter and the header, picks the
 * time, state and trajectory columns, splits the rows into trajectories and
 * keeps those with enough points in the window.
 *
 * @param text The table's text. Lines starting with `#` or `%` are comments.
 * @param options Columns, window and the source name for messages.
 * @returns The columns chosen, the trajectories and a note for everything dropped or changed.
 * @throws {TableError} When a used cell is not a number, rows are ragged, or times are not
 *   strictly increasing within a trajectory, or no trajectory is long enough.
 * @throws {RangeError} When an option is invalid or names a column the table lacks.
 *
 * @example Whitespace without a header: names from `columns`, the window drops rows
 * ```ts
 * import { readTable } from "./table.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "0 1 2\n1 3 4\n2 5 6\n3 7 8\n";
 * const table = readTable(text, { columns: ["time", "x", "v"], window: [1, 3] });
 * assert.equal(table.timeColumn, "time");
 * assert.deepEqual([...table.trajectories[0].ts], [1, 2, 3]);
 * assert.equal(table.notes[0].kind, "outside_window");
 * assert.match(table.notes[0].message, /1 row\(s\) .* dropped \(lines 1–1, at t = 0\)/);
 * assert.throws(() => readTable(text, { timeColumn: "s" }), /timeColumn.*c1, c2, c3/);
 * ```
 */
export function readTable(
  text: string,
  options: {
    /** Column names when the text has no header row (a header row present is then replaced). */
    columns?: readonly string[];
    /** The time column (default: a column named `t` or `time`, else the first). */
    timeColumn?: string;
    /** The state columns (default: every other numeric column). */
    stateColumns?: readonly string[];
    /** A column naming the trajectory of each row (default: none, one trajectory). */
    trajectoryColumn?: string;
    /** Keep only the rows with `window[0] ≤ t ≤ window[1]` (default: all). */
    window?: readonly [number, number];
    /** Fewest points a trajectory needs to be kept (default 2, at least 2). */
    minPoints?: number;
    /** The name used for the text in messages and in each trajectory's `source` (default "table"). */
    source?: string;
  } = {},
): {
  /** Where the text came from. */
  source: string;
  /** Every column, in order. */
  columns: string[];
  /** The time column. */
  timeColumn: string;
  /** The state columns, in the order of the states. */
  stateColumns: string[];
  /** The trajectory column, or null. */
  trajectoryColumn: string | null;
  /**
   * The trajectories kept, in order of first appearance: each a
   * {@link SeriesData} (times strictly increasing, any spacing; states in the
   * table's units) with `id`, the trajectory column's value ("" without one),
   * and `lines`, the 1-based line of each row in the text.
   */
  trajectories: (SeriesData & { readonly id: string; readonly lines: readonly number[] })[];
  /**
   * Everything dropped or changed, in the order found: what (`kind`), the
   * 1-based line and the column it concerns (null for the whole table), the
   * rows or trajectories it concerns (`count`) and a sentence (`message`).
   */
  notes: {
    kind:
      | "outside_window"
      | "missing_value"
      | "too_short"
      | "not_numeric_column"
      | "decimal_comma"
      | "header_replaced"
      | "no_header";
    line: number | null;
    column: string | null;
    count: number;
    message: string;
  }[];
} {
  _checkOptions(options);
  const file = options.source ?? "table";
  const notes: TableNote[] = [];
  const lines = _lines(text);
  if (lines.length === 0) {
    throw new TableError({ file, line: null, column: null, value: null }, "no data rows.");
  }
  const delimiter = _delimiter(lines[0].text);
  const first = _split(lines[0].text, delimiter);
  const isHeader = first.some((c) => _number(c, delimiter) === null);
  let columns: string[];
  if (options.columns !== undefined) {
    columns = [...options.columns];
    if (isHeader) {
      notes.push({
        kind: "header_replaced",
        line: lines[0].line,
        column: null,
        count: 1,
        message: `the header row (${first.join(", ")}) was replaced by the given column names.`,
      });
    }
  } else if (isHeader) {
    columns = first.map((c, i) => c === "" ? `c${i + 1}` : c);
  } else {
    columns = first.map((_, i) => `c${i + 1}`);
    notes.push({
      kind: "no_header",
      line: null,
      column: null,
      count: 0,
      message: `no header row and no column names given: the columns are named ` +
        `${columns.join(", ")}.`,
    });
  }
  const body = isHeader ? lines.slice(1) : lines;
  if (body.length === 0) {
    throw new TableError(
      { file, line: lines[0].line, column: null, value: null },
      "a header but no data rows.",
    );
  }
  // every row as cells, checked for width
  const rows = body.map(({ line, text }) => {
    const cells = _split(text, delimiter);
    if (cells.length !== columns.length) {
      throw new TableError(
        { file, line, column: null, value: text.trim() },
        `${cells.length} cells, expected ${columns.length} (${columns.join(", ")}).`,
      );
    }
    return { line, cells };
  });
  return _build(rows, columns, delimiter, options, file, notes);
}

interface _Row {
  line: number;
  cells: string[];
}

/**
 * The first row when its cell in column `c` is text, else null: a column that
 * starts with text is a label column, left out of the states; one that starts
 * with numbers and has text further down has a typo, refused when read.
 */
function _firstText(rows: _Row[], c: number, delimiter: _Delimiter): _Row | null {
  return _number(rows[0].cells[c], delimiter) === null ? rows[0] : null;
}

function _chooseColumns(
  rows: _Row[],
  columns: string[],
  delimiter: _Delimiter,
  options: TableOptions,
  file: string,
  notes: TableNote[],
): { time: number; states: number[]; trajectory: number } {
  const trajectory = options.trajectoryColumn === undefined
    ? -1
    : _pick(options.trajectoryColumn, "trajectoryColumn", columns, file);
  let time: number;
  if (options.timeColumn !== undefined) {
    time = _pick(options.timeColumn, "timeColumn", columns, file);
  } else {
    time = columns.findIndex((c) => /^(t|time)$/i.test(c));
    if (time < 0) time = trajectory === 0 ? 1 : 0;
  }
  if (time === trajectory) {
    invalidArgument("timeColumn", columns[time], "a column other than the trajectory column");
  }
  let states: number[];
  if (options.stateColumns !== undefined) {
    states = options.stateColumns.map((c) => _pick(c, "stateColumns", columns, file));
    for (const s of states) {
      if (s === time || s === trajectory) {
        invalidArgument(
          "stateColumns",
          options.stateColumns,
          "columns other than time and trajectory",
        );
      }
    }
  } else {
    states = [];
    columns.forEach((name, c) => {
      if (c === time || c === trajectory) return;
      if (rows.every((r) => _MISSING.has(r.cells[c].toLowerCase()))) {
        // a trailing delimiter or a column never filled in: nothing to learn from
        notes.push({
          kind: "not_numeric_column",
          line: null,
          column: name,
          count: rows.length,
          message: `column ${JSON.stringify(name)} is not a state: it has no values.`,
        });
        return;
      }
      const text = _firstText(rows, c, delimiter);
      if (text === null) return void states.push(c);
      notes.push({
        kind: "not_numeric_column",
        line: text.line,
        column: name,
        count: 1,
        message: `column ${JSON.stringify(name)} is not a state: it is not numeric ` +
          `(line ${text.line}: ${JSON.stringify(text.cells[c])}).`,
      });
    });
    if (states.length === 0) {
      throw new TableError(
        { file, line: null, column: null, value: null },
        `no numeric column besides time ${JSON.stringify(columns[time])}: nothing to model.`,
      );
    }
  }
  return { time, states, trajectory };
}

function _build(
  rows: _Row[],
  columns: string[],
  delimiter: _Delimiter,
  options: TableOptions,
  file: string,
  notes: TableNote[],
): Table {
  const { time, states, trajectory } = _chooseColumns(
    rows,
    columns,
    delimiter,
    options,
    file,
    notes,
  );
  const used = [time, ...states];
  const groups = new Map<
    string,
    { t: number[]; y: number[]; lines: number[]; outside: number[]; outsideT: number[] }
  >();
  let commaLine: number | null = null;
  for (const { line, cells } of rows) {
    const id = trajectory < 0 ? "" : cells[trajectory];
    let group = groups.get(id);
    if (group === undefined) {
      groups.set(id, group = { t: [], y: [], lines: [], outside: [], outsideT: [] });
    }
    const values: number[] = [];
    let missing: number | null = null;
    for (const c of used) {
      const parsed = _number(cells[c], delimiter);
      if (parsed === null || (!Number.isNaN(parsed.value) && !Number.isFinite(parsed.value))) {
        throw new TableError(
          { file, line, column: columns[c], value: cells[c] },
          `${JSON.stringify(cells[c])} is not a finite number.`,
        );
      }
      if (parsed.comma && commaLine === null) commaLine = line;
      if (Number.isNaN(parsed.value) && missing === null) missing = c;
      values.push(parsed.value);
    }
    if (missing !== null) {
      notes.push({
        kind: "missing_value",
        line,
        column: columns[missing],
        count: 1,
        message: `row dropped: column ${JSON.stringify(columns[missing])} has no value ` +
          `(${JSON.stringify(cells[missing])}).`,
      });
      continue;
    }
    const t = values[0];
    if (options.window !== undefined && (t < options.window[0] || t > options.window[1])) {
      group.outside.push(line);
      group.outsideT.push(t);
      continue;
    }
    const last = group.t.length - 1;
    if (last >= 0 && !(t > group.t[last])) {
      throw new TableError(
        { file, line, column: columns[time], value: cells[time] },
        `time ${cells[time]} is not after ${group.t[last]} (line ${group.lines[last]})` +
          `${id === "" ? "" : ` in trajectory ${JSON.stringify(id)}`}: times must increase ` +
          `strictly within a trajectory.`,
      );
    }
    group.t.push(t);
    group.y.push(...values.slice(1));
    group.lines.push(line);
  }
  if (commaLine !== null) {
    notes.push({
      kind: "decimal_comma",
      line: commaLine,
      column: null,
      count: 1,
      message: "decimal commas (1,5) were read as decimal points (1.5).",
    });
  }
  const minPoints = options.minPoints ?? 2;
  const dim = states.length;
  const trajectories: TableTrajectory[] = [];
  for (const [id, g] of groups) {
    const name = id === "" ? "" : ` trajectory ${JSON.stringify(id)}`;
    if (g.outside.length > 0) {
      const [a, b] = options.window!;
      notes.push({
        kind: "outside_window",
        line: g.outside[0],
        column: columns[time],
        count: g.outside.length,
        message: `${g.outside.length} row(s) of${name || " the table"} outside the window ` +
          `[${a}, ${b}] dropped (lines ${g.outside[0]}–${g.outside[g.outside.length - 1]}, ` +
          `${_timeRanges(g.outsideT, a, b)}).`,
      });
    }
    if (g.t.length < minPoints) {
      notes.push({
        kind: "too_short",
        line: g.lines[0] ?? null,
        column: null,
        count: 1,
        message: `${name.trim() || "the table"} dropped: ${g.t.length} point(s), at least ` +
          `${minPoints} needed.`,
      });
      continue;
    }
    trajectories.push({
      id,
      ts: Float64Array.from(g.t),
      ys: Float64Array.from(g.y),
      dim,
      source: file + name,
      lines: g.lines,
    });
  }
  if (trajectories.length === 0) {
    throw new TableError(
      { file, line: null, column: null, value: null },
      `no trajectory has ${minPoints} or more points${
        options.window === undefined ? "" : ` in the window [${options.window.join(", ")}]`
      }.`,
    );
  }
  return {
    source: file,
    columns,
    timeColumn: columns[time],
    stateColumns: states.map((s) => columns[s]),
    trajectoryColumn: trajectory < 0 ? null : columns[trajectory],
    trajectories,
    notes,
  };
}

/** The times of rows dropped by a window, before it and after it: `t = -1–-0.1 and 5.1–8`. */
function _timeRanges(ts: number[], a: number, b: number): string {
  const range = (xs: number[]) => {
    const lo = Math.min(...xs), hi = Math.max(...xs);
    return lo === hi ? `${lo}` : `${lo} to ${hi}`;
  };
  const sides = [ts.filter((t) => t < a), ts.filter((t) => t > b)].filter((xs) => xs.length > 0);
  return `at t = ${sides.map(range).join(" and ")}`;
}
