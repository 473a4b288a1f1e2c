/**
 * `deno task defaults`: the evidence behind the defaults of `deno task
 * train` (cli/train_defaults.ts). Each candidate (iterations, schedule,
 * `--restarts`, with the probe a tenth of the iterations) runs from base
 * seeds 0–9 through the very plan `deno task train` makes (planRun: its
 * probes, the seed kept and the iterations left), and the table gives per
 * candidate the median, worst and best of the final best loss, how many
 * base seeds end at or under the threshold of an acceptable fit, and the
 * median and total wall time.
 *
 *     deno task defaults                                  # the four candidates of README
 *     deno task defaults --seeds 0-4 --candidates 1000:constant:1,3000:constant:1
 *     deno task defaults --example oscillator --candidates 2000:constant:2
 *     deno task defaults --section tables                 # a table run's candidates
 *     deno task defaults --section tables --tables lorenz --candidates 5000:cosine:3:probe=500:lr=0.03
 *
 * Acceptable (`--threshold`, default 1.2220e-4): a best loss no worse than
 * the authors' own worst logged white-dwarf run (their seed 0), i.e. a
 * fit as good as the ones the paper published.
 *
 * `--section tables` (bench/defaults_table_runs.ts) runs the defaults of a
 * run on a user's table (training/table_run.ts) on four synthetic tables
 * made here (bench/defaults_tables.ts); acceptable (`--tolerance`, default
 * 0.01) is every state's model − truth RMS at most 1% of the state's range.
 *
 * @module
 */

import { flagHelp, type FlagTable, type FlagValues, parseFlags, UsageError } from "../cli/flags.ts";
import { numberFlag, oneOf, stringFlag } from "../cli/flag_values.ts";
import { parseSeeds } from "../cli/experiments_seeds.ts";
import { EXAMPLE_NAMES } from "../training/experiments.ts";
import {
  formatTableResults,
  parseTableCandidate,
  runTableCandidate,
  type TableCandidate,
  tableCandidateName,
  type TableResult,
  trainAsPlanned,
} from "./defaults_table_runs.ts";
import { syntheticTables } from "./defaults_tables.ts";

/** One candidate default: `ITERATIONS:SCHEDULE:RESTARTS`. */
export interface Candidate {
  /** `--iterations`. */
  iterations: number;
  /** `--schedule`. */
  schedule: "constant" | "cosine";
  /** `--restarts` (1: no probes; the probe is a tenth of the iterations). */
  restarts: number;
}

/** What one candidate gave over the seeds. */
export interface CandidateResult {
  /** The candidate. */
  candidate: Candidate;
  /** Per base seed: the seed kept, the final best loss and the wall seconds. */
  runs: { seed: number; kept: number; bestLoss: number; seconds: number }[];
}

/** The candidates README's table compares. */
const _CANDIDATES = "1000:constant:1,2000:constant:1,2000:cosine:2,2000:constant:2";

/** The candidates README's table of table runs compares. */
const _TABLE_CANDIDATES = "1000:constant:1,5000:constant:1,5000:constant:3:probe=500," +
  "3000:constant:3:probe=300:lr=0.03,4000:cosine:3:probe=400:lr=0.03," +
  "5000:constant:3:probe=1000:lr=0.03,5000:cosine:3:probe=500:lr=0.03";

const _FLAGS: FlagTable = [
  ["section", "NAME", "experiment (an experiment's defaults; default) or tables (a table run's)"],
  ["example", "NAME", "experiment (default white-dwarf)"],
  ["tables", "LIST", "with --section tables: synthetic tables (default all)"],
  ["seeds", "LIST", "base seeds (default 0-9)"],
  [
    "candidates",
    "LIST",
    `comma-separated ITERATIONS:SCHEDULE:RESTARTS (default ${_CANDIDATES})`,
  ],
  ["threshold", "LOSS", "the best loss of an acceptable fit (default 1.222e-4)"],
  [
    "tolerance",
    "FRACTION",
    "with --section tables: the largest acceptable RMS of model − truth over a state's " +
    "range (default 0.01)",
  ],
  ["help", "", "print this help"],
];

/**
 * Reads `--candidates`.
 *
 * @param text The flag's value.
 * @returns The candidates, in the order given.
 * @throws {UsageError} Naming the flag, the item and the allowed form.
 *
 * @example
 * ```ts
 * import { parseCandidates } from "./defaults.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseCandidates("2000:constant:2"),
 *   [{ iterations: 2000, schedule: "constant", restarts: 2 }]);
 * assert.throws(() => parseCandidates("2000:linear:2"),
 *   /--candidates: "2000:linear:2"\. Allowed: ITERATIONS:SCHEDULE:RESTARTS/);
 * ```
 */
export function parseCandidates(text: string): Candidate[] {
  return text.split(",").map((item) => {
    const match = /^(\d+):(constant|cosine):(\d+)$/.exec(item.trim());
    if (match === null || Number(match[1]) < 1 || Number(match[3]) < 1) {
      throw new UsageError(
        `invalid value for --candidates: ${JSON.stringify(item)}. Allowed: ` +
          "ITERATIONS:SCHEDULE:RESTARTS, with iterations and restarts positive integers " +
          "and the schedule constant or cosine (2000:constant:2).",
      );
    }
    return {
      iterations: Number(match[1]),
      schedule: match[2] as Candidate["schedule"],
      restarts: Number(match[3]),
    };
  });
}

/**
 * Runs one candidate from each base seed as `deno task train` would, with
 * its flags given explicitly.
 *
 * @param example The experiment.
 * @param candidate The candidate.
 * @param seeds The base seeds.
 * @param onRun Called after each seed's run.
 * @param extra Further flags of `deno task train` (e.g. `{ steps: "20" }` for a quick check).
 * @returns Every run's kept seed, final best loss and wall seconds.
 *
 * @example
 * ```ts
 * import { runCandidate } from "./defaults.ts";
 * import assert from "node:assert/strict";
 *
 * const r = await runCandidate("white-dwarf",
 *   { iterations: 4, schedule: "constant", restarts: 2 }, [0], undefined, { steps: "20" });
 * assert.equal(r.runs.length, 1);
 * assert.ok([0, 1].includes(r.runs[0].kept));
 * assert.ok(r.runs[0].bestLoss > 0);
 * ```
 */
export async function runCandidate(
  example: string,
  candidate: Candidate,
  seeds: number[],
  onRun?: (run: CandidateResult["runs"][number]) => void,
  extra: FlagValues = {},
): Promise<CandidateResult> {
  const runs: CandidateResult["runs"] = [];
  for (const seed of seeds) {
    const started = performance.now();
    const flags: FlagValues = {
      ...extra,
      example,
      seed: String(seed),
      iterations: String(candidate.iterations),
      schedule: candidate.schedule,
      restarts: String(candidate.restarts),
    };
    const { plan, result } = await trainAsPlanned(flags);
    if (result.status !== "completed" || result.state.bestLoss === null) {
      throw new Error(`base seed ${seed}: the run ended ${result.status}: ${result.reason}`);
    }
    const run = {
      seed,
      kept: plan.config.seed,
      bestLoss: result.state.bestLoss,
      seconds: (performance.now() - started) / 1000,
    };
    runs.push(run);
    onRun?.(run);
  }
  return { candidate, runs };
}

/**
 * The table of results: per candidate the median, worst and best final
 * best loss, the base seeds at or under `threshold`, and the wall time.
 *
 * @param results Each candidate's runs.
 * @param threshold The best loss of an acceptable fit.
 * @returns The table, in Markdown.
 *
 * @example
 * ```ts
 * import { formatResults } from "./defaults.ts";
 * import assert from "node:assert/strict";
 *
 * const table = formatResults([{ candidate: { iterations: 10, schedule: "constant", restarts: 1 },
 *   runs: [{ seed: 0, kept: 0, bestLoss: 2e-4, seconds: 1 }, { seed: 1, kept: 1, bestLoss: 1e-5, seconds: 3 }] }], 1e-4);
 * assert.match(table, /\| 10 +\| constant +\| 1 +\| 1\.05e-4 +\| 2\.00e-4 \(seed 0\) +\| 1\.00e-5 +\| 1 of 2 +\| 2\.0 +\| 4 +\|/);
 * ```
 */
export function formatResults(results: CandidateResult[], threshold: number): string {
  const header = [
    "iterations",
    "schedule",
    "restarts",
    "best loss: median",
    "worst (base seed)",
    "best",
    `≤ ${threshold.toExponential(3)}`,
    "wall s per run: median",
    "wall s: total",
  ];
  const rows = results.map(({ candidate, runs }) => {
    const losses = runs.map((r) => r.bestLoss);
    const worst = runs.reduce((a, b) => (b.bestLoss > a.bestLoss ? b : a));
    return [
      String(candidate.iterations),
      candidate.schedule,
      candidate.restarts === 1 ? "1" : `${candidate.restarts}`,
      _median(losses).toExponential(2),
      `${worst.bestLoss.toExponential(2)} (seed ${worst.seed})`,
      Math.min(...losses).toExponential(2),
      `${losses.filter((l) => l <= threshold).length} of ${runs.length}`,
      _median(runs.map((r) => r.seconds)).toFixed(1),
      runs.reduce((s, r) => s + r.seconds, 0).toFixed(0),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function _median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function _main(args: string[]): Promise<number> {
  let flags: FlagValues;
  try {
    flags = parseFlags(args, _FLAGS);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (flags.help === true) {
    console.log(
      `Usage: deno task defaults [flags]\n\nFlags:\n${flagHelp(_FLAGS, 24, 80).join("\n")}`,
    );
    return 0;
  }
  try {
    const seeds = parseSeeds(stringFlag(flags, "seeds") ?? "0-9");
    const section = oneOf("section", stringFlag(flags, "section") ?? "experiment", [
      "experiment",
      "tables",
    ]);
    console.log(
      section === "tables" ? await _tables(flags, seeds) : await _experiment(flags, seeds),
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

/** `--section experiment`: an experiment's candidates, the table of results. */
async function _experiment(flags: FlagValues, seeds: number[]): Promise<string> {
  const example = oneOf("example", stringFlag(flags, "example") ?? "white-dwarf", EXAMPLE_NAMES);
  const candidates = parseCandidates(stringFlag(flags, "candidates") ?? _CANDIDATES);
  const threshold = numberFlag("threshold", stringFlag(flags, "threshold") ?? "1.222e-4", {
    above: 0,
  });
  const results: CandidateResult[] = [];
  for (const candidate of candidates) {
    const name = `${candidate.iterations}:${candidate.schedule}:${candidate.restarts}`;
    results.push(
      await runCandidate(example, candidate, seeds, (r) =>
        console.error(
          `${name} base seed ${r.seed}: kept ${r.kept}, best loss ` +
            `${r.bestLoss.toExponential(3)}, ${r.seconds.toFixed(1)} s`,
        )),
    );
  }
  return formatResults(results, threshold);
}

/** `--section tables`: a table run's candidates on the synthetic tables. */
async function _tables(flags: FlagValues, seeds: number[]): Promise<string> {
  const all = syntheticTables();
  const names = stringFlag(flags, "tables")?.split(",").map((n) => n.trim());
  for (const name of names ?? []) oneOf("tables", name, all.map((t) => t.name));
  const tables = names === undefined ? all : all.filter((t) => names.includes(t.name));
  const candidates = (stringFlag(flags, "candidates") ?? _TABLE_CANDIDATES).split(",").map(
    (item): TableCandidate => {
      const candidate = parseTableCandidate(item);
      if (candidate !== null) return candidate;
      throw new UsageError(
        `invalid value for --candidates: ${JSON.stringify(item)}. Allowed with --section ` +
          "tables: ITERATIONS:SCHEDULE:RESTARTS[:probe=N][:lr=X] (5000:constant:3:probe=500).",
      );
    },
  );
  const tolerance = numberFlag("tolerance", stringFlag(flags, "tolerance") ?? "0.01", {
    above: 0,
  });
  const results: TableResult[] = [];
  for (const candidate of candidates) {
    for (const table of tables) {
      const result: TableResult = { candidate, table: table.name, runs: [] };
      for (const seed of seeds) {
        const r = await runTableCandidate(table, candidate, seed);
        result.runs.push(r);
        console.error(
          `${tableCandidateName(candidate)} ${table.name} base seed ${seed}: kept ${r.kept}, ` +
            `best loss ${r.bestLoss.toExponential(3)}, RMS/range ` +
            `${r.rms.map((e) => (100 * e).toFixed(2)).join(", ")}% (vs truth ` +
            `${r.rmsTruth.map((e) => (100 * e).toFixed(2)).join(", ")}%), ${
              r.seconds.toFixed(1)
            } s`,
        );
      }
      results.push(result);
    }
  }
  return formatTableResults(results, tolerance);
}

if (import.meta.main) {
  Deno.exit(await _main(Deno.args));
}
