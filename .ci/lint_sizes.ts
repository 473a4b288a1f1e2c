/**
 * The size gate (`deno task lint:sizes`): no TypeScript source file over
 * 600 lines and no function or method over 150, tests included only for
 * the file limit's report. Functions are found by a light scan (a line
 * opening a function, method, arrow function or getter, to the line that
 * closes its brace), which is exact for `deno fmt`-formatted code.
 *
 * `--report` prints the longest files and functions without failing.
 *
 * @module
 */

const FILE_LIMIT = 600;
const FUNCTION_LIMIT = 150;

function listSources(dir: string, out: string[]): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.startsWith(".") || entry.name === "node_modules" || entry.name === "runs") {
      continue;
    }
    const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) listSources(path, out);
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
}

const OPENER = new RegExp(
  [
    String.raw`^\s*(export\s+)?(default\s+)?(async\s+)?function\*?\s+(\w+)`,
    String
      .raw`^\s*(public\s+|private\s+|protected\s+|static\s+|readonly\s+|async\s+|get\s+|set\s+)*(#?\w+)\s*(<[^>]*>)?\(.*$`,
    String
      .raw`^\s*(export\s+)?(const|let)\s+(\w+)\s*(:[^=]*)?=\s*(async\s+)?(\([^)]*\)|\w+)\s*(:[^=]*)?=>`,
  ].join("|"),
);

/** Each function's name and length in lines, found by indentation of its closing brace. */
export function functionLengths(text: string): { name: string; line: number; lines: number }[] {
  const lines = text.split("\n");
  // lines that start inside a template literal (WGSL, help texts) are not code
  const inTemplate: boolean[] = [];
  let open = false;
  for (const line of lines) {
    inTemplate.push(open);
    const ticks = line.replace(/\\`/g, "").split("`").length - 1;
    if (ticks % 2 === 1) open = !open;
  }
  const found: { name: string; line: number; lines: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (inTemplate[i]) continue;
    if (/^\s*(\*|\/\/|\/\*)/.test(line)) continue;
    const m = OPENER.exec(line);
    if (m === null) continue;
    if (/^\s*(if|for|while|switch|catch|return|else|new|await|throw)\b/.test(line)) continue;
    const name = m[4] ?? m[6] ?? m[10] ?? "?";
    const indent = line.length - line.trimStart().length;
    // the body ends at the first later line with the same indentation that closes a brace
    let end = -1;
    let sawBrace = line.includes("{");
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j];
      if (l.trim() === "" || inTemplate[j]) continue;
      const ind = l.length - l.trimStart().length;
      if (!sawBrace) {
        if (l.includes("{")) sawBrace = true;
        if (ind <= indent && !l.trimStart().startsWith(")")) break;
        continue;
      }
      if (ind === indent && /^\s*}/.test(l)) {
        end = j;
        break;
      }
      if (ind < indent) break;
    }
    if (end > i) found.push({ name, line: i + 1, lines: end - i + 1 });
  }
  return found;
}

if (import.meta.main) {
  const report = Deno.args.includes("--report");
  const files: string[] = [];
  listSources(".", files);
  const problems: string[] = [];
  const sizes: [string, number][] = [];
  const functions: [string, number][] = [];
  for (const file of files) {
    const text = Deno.readTextFileSync(file);
    const count = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    sizes.push([file, count]);
    const isTest = file.startsWith("tests/");
    if (count > FILE_LIMIT && !isTest) {
      problems.push(`${file}: ${count} lines (limit ${FILE_LIMIT})`);
    }
    for (const f of functionLengths(text)) {
      functions.push([`${file}:${f.line} ${f.name}`, f.lines]);
      if (f.lines > FUNCTION_LIMIT && !isTest) {
        problems.push(`${file}:${f.line}: ${f.name} is ${f.lines} lines (limit ${FUNCTION_LIMIT})`);
      }
    }
  }
  if (report) {
    sizes.sort((a, b) => b[1] - a[1]);
    functions.sort((a, b) => b[1] - a[1]);
    console.log("longest files:");
    for (const [f, n] of sizes.slice(0, 15)) console.log(`  ${String(n).padStart(5)} ${f}`);
    console.log("longest functions:");
    for (const [f, n] of functions.slice(0, 15)) console.log(`  ${String(n).padStart(5)} ${f}`);
    console.log(
      `files over ${FILE_LIMIT} (tests excluded): ${
        sizes.filter(([f, n]) => n > FILE_LIMIT && !f.startsWith("tests/")).length
      }`,
    );
  }
  for (const line of problems) console.log(line);
  console.log(`lint:sizes: ${files.length} files, ${problems.length} problems`);
  if (problems.length > 0 && !report) Deno.exit(1);
}
