import assert from "node:assert/strict";
import { readTable, TableError } from "../training/table.ts";
import { readTableFile } from "../training/table_file.ts";

const rows = [[0, 1, -1], [0.5, 2, -2], [1, 3, -3]];

Deno.test("readTable: comma, semicolon and whitespace tables with a header give the same data", () => {
  for (const sep of [",", ";", " ", "\t", "  "]) {
    const text = ["t" + sep + "x" + sep + "v", ...rows.map((r) => r.join(sep))].join("\n");
    const table = readTable(text);
    assert.equal(table.timeColumn, "t");
    assert.deepEqual(table.stateColumns, ["x", "v"]);
    assert.equal(table.trajectories.length, 1);
    assert.deepEqual([...table.trajectories[0].ts], [0, 0.5, 1]);
    assert.deepEqual([...table.trajectories[0].ys], [1, -1, 2, -2, 3, -3]);
    assert.deepEqual(table.notes, []);
  }
});

Deno.test("readTable: without a header, names from columns or c1…cN (said)", () => {
  const text = rows.map((r) => r.join(",")).join("\r\n") + "\r\n";
  const named = readTable(text, { columns: ["time", "x", "v"] });
  assert.equal(named.timeColumn, "time");
  assert.deepEqual(named.stateColumns, ["x", "v"]);
  assert.deepEqual(named.notes, []);
  const bare = readTable(text);
  assert.equal(bare.timeColumn, "c1");
  assert.deepEqual(bare.stateColumns, ["c2", "c3"]);
  assert.equal(bare.notes[0].kind, "no_header");
  const replaced = readTable("a,b,c\n" + text, { columns: ["s", "x", "v"], timeColumn: "s" });
  assert.equal(replaced.notes[0].kind, "header_replaced");
  assert.equal(replaced.trajectories[0].ts.length, 3);
});

Deno.test("readTable: time column by name, else first; explicit state columns and order", () => {
  const text = "x,Time,v\n1,0,2\n3,1,4\n";
  const table = readTable(text);
  assert.equal(table.timeColumn, "Time");
  assert.deepEqual(table.stateColumns, ["x", "v"]);
  const picked = readTable(text, { stateColumns: ["v", "x"] });
  assert.deepEqual([...picked.trajectories[0].ys], [2, 1, 4, 3]);
  const first = readTable("s,x\n0,1\n2,3\n");
  assert.equal(first.timeColumn, "s");
});

Deno.test("readTable: a trajectory column with unequal, irregular sampling", () => {
  const text = "id,t,x,y\n" +
    "A,0,1,0\nB,0,5,5\nA,0.1,2,0\nA,0.7,3,1\nB,2.5,6,6\nA,0.75,4,2\nC,3,0,0\n";
  const table = readTable(text, { trajectoryColumn: "id", source: "runs.csv" });
  assert.deepEqual(table.trajectories.map((t) => t.id), ["A", "B"]);
  assert.deepEqual([...table.trajectories[0].ts], [0, 0.1, 0.7, 0.75]);
  assert.deepEqual([...table.trajectories[0].ys], [1, 0, 2, 0, 3, 1, 4, 2]);
  assert.deepEqual([...table.trajectories[1].ts], [0, 2.5]);
  assert.deepEqual(table.trajectories[0].lines, [2, 4, 5, 7]);
  assert.equal(table.trajectories[1].source, 'runs.csv trajectory "B"');
  const short = table.notes.find((n) => n.kind === "too_short")!;
  assert.equal(short.line, 8);
  assert.match(short.message, /trajectory "C" dropped: 1 point/);
});

Deno.test("readTable: the window drops rows, and says so per trajectory", () => {
  const text = "id,t,x\na,0,1\na,1,2\na,2,3\na,3,4\nb,0,1\nb,2.5,2\n";
  const table = readTable(text, { trajectoryColumn: "id", window: [1, 2.5] });
  assert.deepEqual([...table.trajectories[0].ts], [1, 2]);
  const kinds = table.notes.map((n) => [n.kind, n.count, n.line]);
  assert.deepEqual(kinds, [["outside_window", 2, 2], ["outside_window", 1, 6], [
    "too_short",
    1,
    7,
  ]]);
  assert.match(
    table.notes[0].message,
    /2 row\(s\) of trajectory "a" outside the window \[1, 2\.5\]/,
  );
  assert.throws(() => readTable(text, { window: [10, 20] }), /no trajectory has 2 or more points/);
});

Deno.test("readTable: missing values drop their row; label columns are not states", () => {
  const text = "t,x,label\n0,1,up\n1,NaN,down\n2,,up\n3,4,down\n";
  const table = readTable(text);
  assert.deepEqual(table.stateColumns, ["x"]);
  assert.deepEqual([...table.trajectories[0].ts], [0, 3]);
  const notes = table.notes.map((n) => [n.kind, n.line, n.column]);
  assert.deepEqual(notes, [
    ["not_numeric_column", 2, "label"],
    ["missing_value", 3, "x"],
    ["missing_value", 4, "x"],
  ]);
});

Deno.test("readTable: bad tables are refused with file, line, column and value", () => {
  const refused = (
    text: string,
    options: object,
    line: number | null,
    column: string | null,
    re: RegExp,
  ) =>
    assert.throws(() => readTable(text, { source: "bad.csv", ...options }), (e) => {
      assert.ok(e instanceof TableError, String(e));
      assert.equal(e.file, "bad.csv");
      assert.equal(e.line, line);
      assert.equal(e.column, column);
      assert.match(e.message, re);
      return true;
    });
  refused(
    "t,x\n0,1\n1,1.2.3\n",
    {},
    3,
    "x",
    /^bad\.csv:3: column "x": "1\.2\.3" is not a finite number/,
  );
  refused("t,x\n0,1\n\n1,2,3\n", {}, 4, null, /^bad\.csv:4: 3 cells, expected 2/);
  refused("t,x\n0,1\n0,2\n", {}, 3, "t", /time 0 is not after 0 \(line 2\)/);
  refused("t,x\n1,1\n0,2\n", {}, 3, "t", /must increase strictly/);
  refused("t,x\n0,inf\n", {}, 2, "x", /"inf" is not a finite number/);
  refused("t,x\n", {}, 1, null, /a header but no data rows/);
  refused("# only a comment\n", {}, null, null, /no data rows/);
  refused("t,name\n0,a\n1,b\n", {}, null, null, /no numeric column besides time "t"/);
  refused("t,x,name\n0,1,a\n", { stateColumns: ["x", "name"] }, 2, "name", /"a" is not a finite/);
  assert.throws(
    () => readTable("t,x\n0,1\n", { timeColumn: "time" }),
    (e) =>
      e instanceof RangeError &&
      /Invalid timeColumn: got "time"; expected one of the columns of table: t, x/.test(e.message),
  );
  assert.throws(() => readTable("t,x\n0,1\n", { window: [2, 1] }), /Invalid window/);
  assert.throws(() => readTable("t,x\n0,1\n", { stateColumns: ["t"] }), /Invalid stateColumns/);
});

Deno.test("readTableFile: the path is the source; a Schmidt & Lipson file reads as a whitespace table", async () => {
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  try {
    await Deno.writeTextFile(
      path,
      "% trial t x1 x2 v1 v2\r\n0 1 100 -100 0 0\r\n0 4 400 -400 30 60\r\n",
    );
    const table = await readTableFile(path, {
      columns: ["trial", "t", "x1", "x2", "v1", "v2"],
      trajectoryColumn: "trial",
    });
    assert.deepEqual(table.stateColumns, ["x1", "x2", "v1", "v2"]);
    assert.deepEqual([...table.trajectories[0].ts], [1, 4]);
    await Deno.writeTextFile(path, "t x\n0 1\n1 zz\n");
    await assert.rejects(
      readTableFile(path),
      (e) => e instanceof TableError && e.message.startsWith(`${path}:3: column "x": "zz"`),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readTable: an empty column (a trailing comma) is not a state, and is said", () => {
  const table = readTable("t,x,\n0,1,\n1,2,\n");
  assert.deepEqual(table.stateColumns, ["x"]);
  assert.deepEqual([...table.trajectories[0].ys], [1, 2]);
  assert.equal(table.notes[0].kind, "not_numeric_column");
  assert.match(table.notes[0].message, /column "c3" is not a state: it has no values/);
});
