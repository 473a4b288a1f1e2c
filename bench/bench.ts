/**
 * The benchmark's entry point (`deno task bench`): parses the flags, runs the
 * sections asked for, and prints their reports, or one JSON object.
 *
 *     deno task bench [--section all|fixed|adaptive|inference|onnx|gpu|kernels] [--json] [--quick]
 *       [--baseline DIR]
 *
 * The sections:
 *
 * - `fixed` (issue 2, `bench/fixed/`), white-dwarf setting: time of one
 *   gradient (forward solve + backward pass) and peak bytes held, for every
 *   gradient method, side by side, with ratios to the reversible method;
 * - `adaptive` (issue 3, `bench/adaptive/`): a chaotic MLP field with
 *   adaptive Bosh3 steps over growing time spans;
 * - `inference` (issue 6, `bench/inference.ts`): ONNX Runtime against
 *   revode's solver;
 * - `onnx` (issue 17, `bench/onnx_forms.ts`): session creation and
 *   inference of the loop, chunked and unrolled ONNX forms;
 * - `gpu` (issue 5, `bench/gpu.ts`, `bench/gpu_adaptive.ts`): one WebGPU
 *   training step against the CPU backend;
 * - `kernels` (issue 20, `bench/kernels/`): the MLP field against PyTorch,
 *   ONNX Runtime and a baseline checkout (`--baseline`), with the issue's
 *   targets as PASS / FAIL lines and the profile (MLP vs solver share).
 *
 * With `--allow-sys` the report also records the CPU model and load average.
 *
 * @module
 */

import { flagHelp, type FlagTable, parseFlags, UsageError } from "../cli/flags.ts";
import { formatReport } from "./fixed/report.ts";
import type { BenchResult } from "./fixed/result.ts";
import { runBenchmark } from "./fixed/run.ts";
import { formatAdaptiveReport } from "./adaptive/report.ts";
import type { AdaptiveResult } from "./adaptive/result.ts";
import { runAdaptiveBenchmark } from "./adaptive/run.ts";
import { loadavg, machineInfo, machineLines } from "./machine.ts";

/** The sections `--section` selects. */
export type Section = "all" | "fixed" | "adaptive" | "inference" | "onnx" | "gpu" | "kernels";

/** What `--json` prints: the sections that ran. */
export interface FullResult {
  /** The fixed-step (white-dwarf) section. */
  fixed?: BenchResult;
  /** The adaptive (chaotic field) section. */
  adaptive?: AdaptiveResult;
  /** The ONNX inference section (bench/inference.ts). */
  inference?: unknown;
  /** The ONNX forms section (bench/onnx_forms.ts). */
  onnx?: unknown;
  /** The WebGPU training-step section (bench/gpu.ts). */
  gpu?: unknown;
  /** The MLP kernels section (bench/kernels/). */
  kernels?: unknown;
}

const _SECTIONS: readonly Section[] = [
  "all",
  "fixed",
  "adaptive",
  "inference",
  "onnx",
  "gpu",
  "kernels",
];

/** The flags, in help order: name, value placeholder, description. */
const _FLAGS: FlagTable = [
  [
    "section",
    "NAME",
    "which section to run (default all): fixed = white-dwarf fixed steps (issue 2), " +
    "adaptive = chaotic MLP field with adaptive Bosh3 steps (issue 3), inference = ONNX " +
    "Runtime (CPU, WebGPU) against revode's solver (issue 6), onnx = session creation and " +
    "inference of the loop, chunked and unrolled forms (issue 17), " +
    "gpu = one WebGPU training step against the CPU backend, fixed and adaptive steps (issue 5; " +
    "skipped with its reason when no adapter exists), kernels = the MLP field against " +
    "PyTorch, ONNX Runtime and --baseline, with the targets of issue 20 and the profile",
  ],
  [
    "json",
    "",
    "print one JSON object { fixed?, adaptive?, inference?, onnx?, gpu?, kernels? }, a key for each section " +
    "that ran (settings, machine, rows, checks; gpu is { skipped } without an adapter), " +
    "instead of the tables",
  ],
  [
    "quick",
    "",
    "short runs (a smoke test): fixed N = 100 and 1000; adaptive spans T = 1 and 4; " +
    "inference 20 steps, batches up to 256, 0.05 s per cell; gpu batches 1 and 256, width 10, " +
    "5 steps, 1 repetition, and adaptive batches 1 and 16, tolerance 1e-4, at most 60 steps",
  ],
  [
    "baseline",
    "DIR",
    "kernels section: a checkout of the baseline commit (e.g. git worktree add /tmp/base " +
    "f8cc1ef, with node_modules linked); its mod.ts is timed beside today's on the white dwarf",
  ],
  ["help", "", "print this help"],
];

const USAGE = [
  "usage: deno task bench [--section all|fixed|adaptive|inference|onnx|gpu|kernels] [--json]" +
  "\n  [--quick] [--baseline DIR]",
  "",
  "Flags:",
  ...flagHelp(_FLAGS, 18, 100),
  "",
  "Deno permissions (not bench flags; deno task bench gives them all): --allow-sys also",
  "records the CPU model and load average; the inference section needs --allow-ffi and",
  "--allow-write; the kernels section runs Python (PyTorch) with --allow-run.",
].join("\n");

/** The flags a run was given. */
interface Values {
  json: boolean;
  quick: boolean;
  help: boolean;
  section: Section;
  baseline: string | null;
}

/** Parses the flags; a bad one is an `error:` line and exit 2, with nothing run. */
function parseArgs(args: string[]): Values {
  try {
    const flags = parseFlags(args, _FLAGS);
    const section = (flags.section as string | undefined) ?? "all";
    if (!_SECTIONS.includes(section as Section)) {
      throw new UsageError(
        `invalid value for --section: ${JSON.stringify(section)}. ` +
          `Allowed: ${_SECTIONS.join(", ")}.`,
      );
    }
    return {
      json: flags.json === true,
      quick: flags.quick === true,
      help: flags.help === true,
      section: section as Section,
      baseline: (flags.baseline as string | undefined) ?? null,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${error.message}\nRun with --help for every flag.`);
    Deno.exit(2);
  }
}

type Log = ((line: string) => void) | undefined;

function runFixed(values: Values, log: Log, out: FullResult): string {
  out.fixed = runBenchmark({ quick: values.quick, log });
  return formatReport(out.fixed);
}

/** The adaptive section; run alone, its report ends with the machine it ran on. */
function runAdaptive(values: Values, log: Log, out: FullResult): string {
  const machine = machineInfo();
  out.adaptive = runAdaptiveBenchmark({ quick: values.quick, log, machine });
  machine.loadavgEnd = loadavg();
  return formatAdaptiveReport(out.adaptive) +
    (values.section === "adaptive" ? `\n${machineLines(machine).join("\n")}` : "");
}

async function runInference(values: Values, log: Log, out: FullResult): Promise<string> {
  // Loaded only here: it starts ONNX Runtime's native addon.
  const { runInferenceBench, formatInferenceReport } = await import("./inference.ts");
  const result = await runInferenceBench({
    onProgress: log,
    ...(values.quick ? { steps: 20, maxBatch: 256, seconds: 0.05 } : {}),
  });
  out.inference = result;
  return formatInferenceReport(result);
}

async function runOnnxForms(values: Values, log: Log, out: FullResult): Promise<string> {
  const { runOnnxFormsBench, formatOnnxFormsReport } = await import("./onnx_forms.ts");
  const result = await runOnnxFormsBench({
    onProgress: log,
    ...(values.quick ? { steps: 100, unrolledSteps: 50, chunk: 25, runs: 2 } : {}),
  });
  out.onnx = result;
  return formatOnnxFormsReport(result);
}

/** The WebGPU section, fixed then adaptive steps; without an adapter, skipped with its reason. */
async function runGpu(values: Values, out: FullResult): Promise<string[]> {
  const { runGpuBenchmark } = await import("./gpu.ts");
  const { formatGpuReport } = await import("./gpu_report.ts");
  try {
    const result = await runGpuBenchmark(
      values.quick ? { batches: [1, 256], widths: [10], steps: 5, reps: 1 } : {},
    );
    const { runGpuAdaptiveBenchmark, formatGpuAdaptiveReport } = await import(
      "./gpu_adaptive.ts"
    );
    const adaptive = await runGpuAdaptiveBenchmark(
      values.quick ? { batches: [1, 16], tolerance: 1e-4, maxSteps: 60, reps: 1 } : {},
    );
    out.gpu = { ...result, adaptive };
    return [formatGpuReport(result), formatGpuAdaptiveReport(adaptive)];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    out.gpu = { skipped: reason };
    return [`WebGPU section skipped: ${reason}`];
  }
}

/** The kernels section (issue 20). */
async function runKernels(values: Values, log: Log, out: FullResult): Promise<string> {
  const { runKernelsBenchmark } = await import("./kernels/run.ts");
  const { formatKernelsReport } = await import("./kernels/report.ts");
  const result = await runKernelsBenchmark({
    quick: values.quick,
    baseline: values.baseline,
    log,
  });
  out.kernels = result;
  return formatKernelsReport(result);
}

if (import.meta.main) {
  const values = parseArgs(Deno.args);
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const section = values.section;
  const runs = (name: Section) => section === "all" || section === name;
  const log = values.json ? undefined : (line: string) => console.error(line);
  const out: FullResult = {};
  const texts: string[] = [];
  if (runs("fixed")) texts.push(runFixed(values, log, out));
  if (runs("adaptive")) texts.push(runAdaptive(values, log, out));
  if (runs("inference")) texts.push(await runInference(values, log, out));
  if (runs("onnx")) texts.push(await runOnnxForms(values, log, out));
  if (runs("gpu")) texts.push(...await runGpu(values, out));
  if (runs("kernels")) texts.push(await runKernels(values, log, out));
  console.log(
    values.json ? JSON.stringify(out, null, 2) : texts.join(`\n\n${"=".repeat(100)}\n\n`),
  );
}
