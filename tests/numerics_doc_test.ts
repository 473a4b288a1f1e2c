/**
 * Every section that the sources cite as `numerics.md §n` exists: each
 * citation in a .ts file of the repository (and in the README) must name a
 * heading of docs/numerics.md. Headings carry their number after the
 * section sign (`## §3 …`, `### §3.2 …`), so resolving a citation is a set
 * lookup. The section sign is written `\u00a7` here, so that this file cites
 * nothing itself.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const DOC = new URL("docs/numerics.md", ROOT);
/** Folders that hold no source of ours. */
const SKIPPED = new Set(["node_modules", "runs", ".git"]);

const NUMBER = String.raw`\d+(?:\.\d+)*`;
const HEADING = new RegExp(String.raw`^#{1,6}\s+\u00a7(${NUMBER})\s`);
// a single section (§5.1) or a range (§2–3, §2-§3)
const CITATION = new RegExp(String.raw`\u00a7(${NUMBER})(?:\s*[–-]\s*\u00a7?(${NUMBER}))?`, "g");

/** The section numbers that the document's headings define, with the duplicates apart. */
function headings(markdown: string): { numbers: Set<string>; duplicates: string[] } {
  const numbers = new Set<string>();
  const duplicates: string[] = [];
  for (const line of markdown.split("\n")) {
    const m = HEADING.exec(line);
    if (m === null) continue;
    if (numbers.has(m[1])) duplicates.push(m[1]);
    numbers.add(m[1]);
  }
  return { numbers, duplicates };
}

/**
 * The sections one cited range names: both ends, and every section between
 * them when they differ only in their last number (§1–3 is §1, §2 and §3).
 */
function expand(from: string, to: string | undefined): string[] {
  if (to === undefined) return [from];
  const a = from.split("."), b = to.split(".");
  const prefix = a.slice(0, -1).join(".");
  if (a.length !== b.length || prefix !== b.slice(0, -1).join(".")) return [from, to];
  const out: string[] = [];
  for (let k = Number(a[a.length - 1]); k <= Number(b[b.length - 1]); k++) {
    out.push(prefix === "" ? `${k}` : `${prefix}.${k}`);
  }
  return out.length > 0 ? out : [from, to];
}

/** Every section cited in a text, with the line it is cited on. */
function citations(text: string): { line: number; section: string }[] {
  const out: { line: number; section: string }[] = [];
  text.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(CITATION)) {
      for (const section of expand(m[1], m[2])) out.push({ line: i + 1, section });
    }
  });
  return out;
}

/** The repository's .ts files, as paths relative to its root. */
async function sourceFiles(dir = ROOT, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = prefix + entry.name;
    if (entry.isDirectory && !SKIPPED.has(entry.name)) {
      found.push(...await sourceFiles(new URL(`${entry.name}/`, dir), `${path}/`));
    } else if (entry.isFile && entry.name.endsWith(".ts")) found.push(path);
  }
  return found.sort();
}

/** The citations in `files` that name no heading of the document, as `file:line: §n`. */
async function unresolved(files: string[], numbers: Set<string>): Promise<string[]> {
  const missing: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    for (const { line, section } of citations(text)) {
      if (!numbers.has(section)) missing.push(`${file}:${line}: \u00a7${section}`);
    }
  }
  return missing;
}

Deno.test("citations are read as the sources write them", () => {
  const text = "numerics.md \u00a72–3, \u00a75.1,\n and \u00a74: \u00a71-\u00a72, \u00a73.1–3.3";
  assert.deepEqual(citations(text).map((c) => `${c.line}:${c.section}`), [
    "1:2",
    "1:3",
    "1:5.1",
    "2:4",
    "2:1",
    "2:2",
    "2:3.1",
    "2:3.2",
    "2:3.3",
  ]);
  const doc = "# Title\n## \u00a71 One\n### \u00a71.2 Two\n## \u00a71 Again\n\u00a79 not a heading";
  assert.deepEqual(headings(doc), { numbers: new Set(["1", "1.2"]), duplicates: ["1"] });
});

Deno.test("docs/numerics.md numbers each heading once", async () => {
  const { numbers, duplicates } = headings(await Deno.readTextFile(DOC));
  assert.deepEqual(duplicates, [], "sections numbered twice");
  // every subsection sits under its section: §3.2 needs §3
  const orphans = [...numbers].filter((n) =>
    n.includes(".") && !numbers.has(n.slice(0, n.lastIndexOf(".")))
  );
  assert.deepEqual(orphans, [], "subsections without their section");
});

Deno.test("every section cited in a .ts file is a heading of docs/numerics.md", async () => {
  const { numbers } = headings(await Deno.readTextFile(DOC));
  const files = await sourceFiles();
  assert.ok(files.includes("solvers/schemes/reversible.ts"), "the walk found the sources");
  const missing = await unresolved(files, numbers);
  assert.deepEqual(missing, [], "citations without a heading in docs/numerics.md");
});

Deno.test("every section the README cites is a heading of docs/numerics.md", async () => {
  const { numbers } = headings(await Deno.readTextFile(DOC));
  assert.deepEqual(await unresolved(["README.md"], numbers), []);
});
