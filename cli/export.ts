/**
 * `deno task export`: writes a trained model (`model.json` of `deno task
 * train`) as an ONNX file that any ONNX runtime runs without revode, and
 * optionally verifies it with onnxruntime-node against revode's own solver.
 *
 *     deno task export --model runs/white-dwarf-…/model.json                # loop → model.onnx
 *     deno task export --model runs/…/model.json --form unrolled --verify
 *     deno task export --model runs/…/model.json --form vector-field --out f.onnx
 *
 * Exporting needs `--allow-read --allow-write`; `--verify` also needs
 * `--allow-ffi --allow-env --allow-sys` (onnxruntime-node is a native addon).
 * Run with `--help` for every flag.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type CliIo, consoleIo } from "./io.ts";
import { versionText } from "./version.ts";
import { flagHelp, type FlagTable, parseFlags, UsageError } from "./flags.ts";
import { ModelFileError } from "../training/model_format.ts";
import {
  EXPORT_DTYPES,
  EXPORT_FORMS,
  type ExportDtype,
  type ExportForm,
  REVODE_VERSION,
} from "../export/metadata.ts";
import type { ParamsChoice } from "../export/source.ts";
import {
  defaultOnnxPath,
  type ExportedFile,
  exportModelFile,
  sameFile,
  statOrNull,
} from "../export/files.ts";
import { formatVerifyReport, verifyExport } from "../export/verify.ts";
import { type Provider, PROVIDERS } from "../export/ort.ts";

/**
 * Exit codes of {@link main}.
 *
 * @example
 * ```ts
 * import { EXPORT_EXIT } from "./export.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(EXPORT_EXIT.usage, 2);
 * ```
 */
export const EXPORT_EXIT = Object.freeze({
  /** Written (and verified, with `--verify`), or `--help`. */
  ok: 0,
  /** The model file could not be used or exported, or verification failed. */
  failed: 1,
  /** A bad flag or flag value. */
  usage: 2,
});

const _PARAMS: readonly ParamsChoice[] = ["best", "current"];

/** The flags, in help order: name, value placeholder, description. */
const _FLAGS: FlagTable = [
  ["model", "FILE", "the model.json written by deno task train (required)"],
  [
    "form",
    "NAME",
    "vector-field (f alone), loop (the whole solve as an ONNX Loop; default), chunked " +
    "(a Loop of --chunk unrolled steps per iteration, for GPU runtimes; its session is " +
    "created in seconds) or unrolled (every step spelled out; minutes to load at 1000 steps)",
  ],
  [
    "out",
    "FILE",
    "output file (default model.onnx next to the model file; model.<form>.onnx " +
    "for the other forms)",
  ],
  ["chunk", "N", "steps per Loop iteration of the chunked form (default 50)"],
  ["dtype", "NAME", "float32 (default; runs on every provider) or float64 (CPU runtimes)"],
  ["params", "NAME", "best (lowest-loss parameters; default) or current (the latest)"],
  ["verify", "", "run the file with onnxruntime-node and compare with revode's solver"],
  [
    "providers",
    "LIST",
    "providers for --verify, comma-separated: cpu, webgpu (default cpu,webgpu)",
  ],
  ["version", "", "print revode's and Deno's versions"],
  ["help", "", "print this help"],
];

interface _Flags {
  model?: string;
  form?: string;
  chunk?: string;
  out?: string;
  dtype?: string;
  params?: string;
  verify?: boolean;
  providers?: string;
  help?: boolean;
  version?: boolean;
}

/**
 * The help text of `deno task export`.
 *
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { exportHelpText } from "./export.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(exportHelpText().includes("--form NAME"));
 * ```
 */
export function exportHelpText(): string {
  const width = Math.max(..._FLAGS.map(([n, v]) => n.length + v.length + 3));
  return [
    `deno task export (revode ${REVODE_VERSION}): a trained model as an ONNX file.`,
    "",
    "  deno task export --model runs/<run>/model.json [--form loop|chunked|unrolled|vector-field]",
    "                   [--verify] [--out FILE]",
    "",
    ...flagHelp(_FLAGS, width + 4, _HELP_WIDTH),
    "",
    "Integrator inputs: y0 [batch, dim] in the user's units (the data's scaling is in the graph);",
    "t0, dt (scalars, [] or [1]); steps (int64 scalar, loop only; negative acts as 0); the",
    "trained values are in the metadata (revode.t0, revode.dt, revode.steps, revode.y0).",
    "Outputs: ys [steps + 1, batch, dim], ts [steps + 1].",
    "Vector field: input y [batch, dim] (and t [batch, 1] or [1, 1] when time-dependent);",
    "output dydt. Names, units, scaling, data window and range: revode.state, revode.data.",
    "",
  ].join("\n");
}

/** Columns of the help text. */
const _HELP_WIDTH = 100;

function _oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new UsageError(`--${flag}: ${JSON.stringify(value)}. Allowed: ${allowed.join(", ")}.`);
  }
  return value as T;
}

/**
 * Why `--out` cannot be written, checked before anything is exported: the
 * model file itself, an existing folder, or a path in a folder that does
 * not exist. Null when it can.
 */
async function _outProblem(model: string, out: string, form: ExportForm): Promise<string | null> {
  const suggestion = defaultOnnxPath(model, form);
  const info = await statOrNull(out);
  if (info === null) {
    const dir = dirname(out);
    const dirInfo = await statOrNull(dir);
    if (dirInfo === null) return `its folder ${JSON.stringify(dir)} does not exist`;
    if (!dirInfo.isDirectory) return `${JSON.stringify(dir)} is not a folder`;
    return null;
  }
  if (info.isDirectory) {
    return `it is a folder. Allowed: a file path, e.g. --out ${join(out, basename(suggestion))}`;
  }
  if (await sameFile(model, out)) {
    return `it is the --model file itself, which would be overwritten. Allowed: another ` +
      (out === suggestion
        ? "path, given with --out FILE"
        : `path, e.g. --out ${suggestion} (the default)`);
  }
  return null;
}

/**
 * Runs `deno task export` with the given arguments.
 *
 * @param args The command-line arguments (`Deno.args`).
 * @param io Where to write; default the process's stdout and stderr.
 * @returns The exit code: 0 written (and verified), 1 a bad model file or a failed
 *   verification, 2 a bad flag.
 *
 * @example Bad flags are refused with the allowed values
 * ```ts
 * import { main } from "./export.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(await main(["--model", "m.json", "--form", "scan"], io), 2);
 * assert.match(err, /--form: "scan". Allowed: vector-field, loop, chunked, unrolled/);
 * assert.equal(await main(["--colour"], io), 2);
 * assert.match(err, /unknown flag --colour. Allowed flags: --model/);
 * ```
 */
export async function main(args: string[], io: CliIo = consoleIo()): Promise<number> {
  let model: string;
  let form: ExportForm;
  let chunk: number | undefined;
  let dtype: ExportDtype;
  let params: ParamsChoice;
  let providers: Provider[];
  let out: string;
  let verify: boolean;
  try {
    const flags = parseFlags(args, _FLAGS) as _Flags;
    if (flags.help === true) {
      io.write(exportHelpText());
      return EXPORT_EXIT.ok;
    }
    if (flags.version === true) {
      io.write(versionText("deno task export"));
      return EXPORT_EXIT.ok;
    }
    if (flags.model === undefined) {
      throw new UsageError("--model FILE is required: the model.json written by deno task train.");
    }
    model = flags.model;
    form = _oneOf("form", flags.form ?? "loop", EXPORT_FORMS);
    dtype = _oneOf("dtype", flags.dtype ?? "float32", EXPORT_DTYPES);
    if (flags.chunk !== undefined) {
      if (form !== "chunked") throw new UsageError("--chunk only applies with --form chunked.");
      chunk = Number(flags.chunk);
      if (!/^\d+$/.test(flags.chunk) || !(chunk >= 1)) {
        throw new UsageError(`--chunk: ${JSON.stringify(flags.chunk)}. Allowed: an integer >= 1.`);
      }
    }
    params = _oneOf("params", flags.params ?? "best", _PARAMS);
    providers = (flags.providers ?? "cpu,webgpu").split(",").map((p) =>
      _oneOf("providers", p.trim(), PROVIDERS)
    );
    if (flags.providers !== undefined && flags.verify !== true) {
      throw new UsageError("--providers only applies with --verify.");
    }
    verify = flags.verify === true;
    out = flags.out ?? defaultOnnxPath(model, form);
    // A missing model file is reported by the export itself, not as a problem of the
    // default --out next to it.
    const problem = flags.out === undefined && await statOrNull(model) === null
      ? null
      : await _outProblem(model, out, form);
    if (problem !== null) {
      const what = flags.out === undefined
        ? `the default --out ${JSON.stringify(out)}`
        : `--out ${JSON.stringify(out)}`;
      throw new UsageError(`${what}: ${problem}.`);
    }
  } catch (error) {
    return _report(io, error);
  }
  let written: ExportedFile;
  try {
    written = await exportModelFile(model, out, form, { dtype, params, chunk });
  } catch (error) {
    return _report(io, error);
  }
  io.write(`wrote ${written.path} (${form}, ${dtype}, ${written.bytes} bytes)\n`);
  if (!verify) return EXPORT_EXIT.ok;
  try {
    const report = await verifyExport(written.onnx, written.source, { providers });
    io.write(formatVerifyReport(report));
    return report.ok ? EXPORT_EXIT.ok : EXPORT_EXIT.failed;
  } catch (error) {
    return _report(io, error);
  }
}

/** Prints an error without a stack trace and picks the exit code. */
function _report(io: CliIo, error: unknown): number {
  if (error instanceof UsageError) {
    io.error(`error: ${error.message}\nRun with --help for every flag.\n`);
    return EXPORT_EXIT.usage;
  }
  if (error instanceof ModelFileError) {
    io.error(`error: --model ${error.message}\n`);
    return EXPORT_EXIT.failed;
  }
  if (error instanceof Deno.errors.NotCapable) {
    io.error(
      `error: ${(error as Error).message}\nRun with --allow-read --allow-write (and for ` +
        `--verify --allow-ffi --allow-env --allow-sys); deno task export does.\n`,
    );
    return EXPORT_EXIT.failed;
  }
  io.error(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXPORT_EXIT.failed;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
