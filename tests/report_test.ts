import assert from "node:assert/strict";
import { join } from "node:path";
import { escapeXml, htmlReport, lineChart } from "../cli/report/svg.ts";
import { writeTextFileAtomic } from "../training/atomic_write.ts";

/** Tags balance, attributes are quoted, and no raw `<` or `&` hides in text. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (const match of xml.matchAll(token)) {
    const between = xml.slice(last, match.index);
    assert.ok(!between.includes("<"), `stray '<' before ${match[0]}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|#39);)/.test(between), `raw '&' in ${between}`);
    last = match.index! + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name);
  }
  assert.ok(!xml.slice(last).includes("<"));
  assert.deepEqual(stack, []);
}

Deno.test("lineChart: an SVG document with title, labels, legend and paths", () => {
  const x = Array.from({ length: 100 }, (_, i) => i);
  const svg = lineChart({
    title: "Fit of x1",
    xLabel: "time (s)",
    yLabel: "position / 100",
    series: [
      { name: "data x1", x, y: x.map((i) => Math.sin(i / 10)) },
      { name: "model x1", x, y: x.map((i) => Math.sin(i / 10 + 0.1)), dashed: true },
    ],
  });
  assert.ok(svg.startsWith("<svg"));
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.ok(svg.includes('xmlns="http://www.w3.org/2000/svg"'));
  for (const text of ["Fit of x1", "time (s)", "position / 100", "data x1", "model x1"]) {
    assert.ok(svg.includes(text), text);
  }
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.ok(svg.includes("stroke-dasharray"));
  // Readable ticks on a 0..99 axis: round numbers.
  assert.ok(svg.includes(">0</text>") && svg.includes(">20</text>"));
  assert.ok(svg.includes(">0.5</text>") || svg.includes(">0.4</text>"));
  assertWellFormed(svg);
});

Deno.test("lineChart: log y over decades, gaps for non-positive and non-finite values", () => {
  const iterations = Array.from({ length: 1000 }, (_, i) => i);
  const loss = iterations.map((i) => 10 * Math.exp(-i / 100));
  loss[500] = NaN;
  loss[600] = 0;
  const svg = lineChart({
    title: "Loss",
    xLabel: "iteration",
    yLabel: "MSE",
    logY: true,
    series: [{ name: "reversible", x: iterations, y: loss }],
  });
  assertWellFormed(svg);
  for (const label of [">10</text>", ">1</text>", ">0.1</text>", ">0.001</text>"]) {
    assert.ok(svg.includes(label), label);
  }
  const path = svg.match(/<path d="([^"]*)"/)![1];
  assert.equal(path.match(/M/g)!.length, 3); // broken at the two bad points
  assert.ok(!path.includes("NaN") && !path.includes("Infinity"));
});

Deno.test("lineChart: text is escaped and degenerate data still draw", () => {
  const svg = lineChart({
    title: 'a < b & "c"',
    xLabel: "<x>",
    yLabel: "y & z",
    series: [{ name: "<script>&", x: [1, 1], y: [2, 2], color: '"red"' }],
  });
  assertWellFormed(svg);
  assert.ok(svg.includes("a &lt; b &amp; &quot;c&quot;"));
  assert.ok(svg.includes("&lt;x&gt;") && svg.includes("y &amp; z"));
  assert.ok(svg.includes("&lt;script&gt;&amp;"));
  assert.ok(!svg.includes("<script>") && !svg.includes("<x>"));
  assert.ok(!svg.includes("NaN"));
  const empty = lineChart({ title: "nothing", xLabel: "x", yLabel: "y", series: [] });
  assertWellFormed(empty);
  assert.ok(!empty.includes("NaN"));
  assert.equal(escapeXml("<&>'\""), "&lt;&amp;&gt;&#39;&quot;");
});

Deno.test("htmlReport: escaped summary table and images by relative path", () => {
  const html = htmlReport({
    title: "Run <1> & co",
    summary: { "method": "reversible", "best loss": 0.000123456789, "steps": 499, "<k>": "&" },
    images: ["loss.svg", "fit plots/fit.svg"],
  });
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(html.includes("<title>Run &lt;1&gt; &amp; co</title>"));
  assert.ok(html.includes("<th>best loss</th><td>0.000123457</td>"));
  assert.ok(html.includes("<td>499</td>"));
  assert.ok(html.includes("<th>&lt;k&gt;</th><td>&amp;</td>"));
  assert.ok(html.includes('<img src="loss.svg"'));
  assert.ok(html.includes('<img src="fit%20plots/fit.svg"'));
  assertWellFormed(
    html.replace("<!DOCTYPE html>", "").replace(/<meta [^>]*>/g, "").replace(
      /<img ([^>]*)>/g,
      "<img $1/>",
    ),
  );
});

Deno.test("writeTextFileAtomic: replaces content and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revode_atomic_" });
  try {
    const path = join(dir, "loss.svg");
    await writeTextFileAtomic(path, "first version, rather long ".repeat(100));
    await writeTextFileAtomic(path, "second");
    assert.equal(await Deno.readTextFile(path), "second");
    await Deno.chmod(path, 0o640);
    await writeTextFileAtomic(path, "third ✓");
    assert.equal(await Deno.readTextFile(path), "third ✓");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["loss.svg"]);

    // A failed rename (the target is a non-empty directory) leaves the
    // target as it was and removes the temporary file.
    const blocked = join(dir, "blocked");
    await Deno.mkdir(blocked);
    await Deno.writeTextFile(join(blocked, "keep"), "x");
    await assert.rejects(writeTextFileAtomic(blocked, "text"));
    const after = [];
    for await (const entry of Deno.readDir(dir)) after.push(entry.name);
    assert.deepEqual(after.sort(), ["blocked", "loss.svg"]);
    await assert.rejects(
      writeTextFileAtomic(join(dir, "missing", "x.txt"), "text"),
      Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
