/**
 * The layer gate (`deno task lint:layers`): reads the module graph of every
 * TypeScript file in the repository from `deno info --json` and fails on
 *
 * - an import circle (any strongly connected set of modules), and
 * - an import against the layers: data flows down
 *   `cli → export → training → solvers`; a `webgpu/` folder may import its
 *   CPU sibling, never the reverse; nothing but the programs (`cli/`,
 *   `bench/`) and the tests imports `cli/`; the library never imports
 *   `bench/`, `examples/` or `tests/`.
 *
 * Run from the repository root. Exits 1 with one line per violation.
 *
 * @module
 */

/** Where a file sits: its part and whether it is a GPU file. */
interface Place {
  part: "root" | "solvers" | "training" | "export" | "cli" | "bench" | "examples" | "tests";
  gpu: boolean;
}

/** The parts each part may import (its own part is always allowed). */
const ALLOWED: Record<Place["part"], Place["part"][]> = {
  solvers: [],
  training: ["solvers"],
  export: ["training", "solvers"],
  // mod.ts and the other entry points: the library's front doors
  root: ["export", "training", "solvers"],
  cli: ["root", "export", "training", "solvers"],
  // bench is a program: it shares the programs' flag parsing and printing
  bench: ["cli", "root", "export", "training", "solvers"],
  examples: ["root", "export", "training", "solvers"],
  tests: ["cli", "bench", "examples", "root", "export", "training", "solvers"],
};

function placeOf(rel: string): Place | null {
  // deno.json and other data files are read, not layered
  if (!/\.m?ts$/.test(rel)) return null;
  const top = rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "root";
  if (!(top in ALLOWED)) return null;
  return { part: top as Place["part"], gpu: rel.split("/").includes("webgpu") };
}

function listSources(dir: string, out: string[]): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name.startsWith(".") || entry.name === "node_modules" || entry.name === "runs") {
      continue;
    }
    const path = dir === "." ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory) listSources(path, out);
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
}

/** The local import edges of every source file, as repository-relative paths. */
function importGraph(root: string, files: string[]): Map<string, Set<string>> {
  const hub = Deno.makeTempFileSync({ suffix: ".ts" });
  try {
    Deno.writeTextFileSync(
      hub,
      files.map((f) => `import ${JSON.stringify(`file://${root}/${f}`)};`).join("\n"),
    );
    const out = new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", `${root}/deno.json`, hub],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!out.success) {
      throw new Error(`deno info failed:\n${new TextDecoder().decode(out.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    const prefix = `file://${root}/`;
    const graph = new Map<string, Set<string>>();
    for (const module of info.modules ?? []) {
      const from = String(module.specifier ?? "");
      if (!from.startsWith(prefix)) continue;
      const edges = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          if (typeof target === "string" && target.startsWith(prefix)) {
            edges.add(target.slice(prefix.length));
          }
        }
      }
      graph.set(from.slice(prefix.length), edges);
    }
    return graph;
  } finally {
    Deno.removeSync(hub);
  }
}

/** Tarjan's strongly connected components with more than one module (or a self-import). */
function circles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** Why an import breaks the layers, or null when it does not. */
export function layerViolation(from: string, to: string): string | null {
  const a = placeOf(from);
  const b = placeOf(to);
  if (a === null || b === null) return null;
  if (a.part !== b.part && !ALLOWED[a.part].includes(b.part)) {
    return `${a.part}/ may not import ${b.part}/`;
  }
  if (
    a.part === "export" &&
    /^training\/(train|loop|log|data|divergence)\.ts$|^training\/webgpu\//.test(to)
  ) {
    return "export/ may use training's model file and configuration, never its loop";
  }
  if (
    !a.gpu && b.gpu && a.part !== "root" && a.part !== "cli" && a.part !== "bench" &&
    a.part !== "tests" && a.part !== "examples"
  ) {
    return "a CPU file of the library may not import a webgpu/ file";
  }
  return null;
}

if (import.meta.main) {
  const root = Deno.cwd();
  const files: string[] = [];
  listSources(".", files);
  const graph = importGraph(root, files);
  const problems: string[] = [];
  for (const component of circles(graph)) {
    problems.push(`import circle: ${component.join(" ↔ ")}`);
  }
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const why = layerViolation(from, to);
      if (why !== null) problems.push(`${from} imports ${to}: ${why}`);
    }
  }
  for (const line of problems) console.log(line);
  console.log(
    `lint:layers: ${graph.size} modules, ${problems.length} problem${
      problems.length === 1 ? "" : "s"
    }`,
  );
  if (problems.length > 0) Deno.exit(1);
}
