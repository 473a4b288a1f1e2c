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
import type { CliIo } from "../training/cli.ts";
import { flagHelp, type FlagTable, parseFlags, UsageError } from "../training/cli_flags.ts";
import { ModelFileError } from "../training/model_file.ts";
import { writeFileAtomic } from "../training/atomic_write.ts";
import {
  EXPORT_DTYPES,
  EXPORT_FORMS,
  type ExportDtype,
  type ExportForm,
  REVODE_VERSION,
} from "./metadata.ts";
import { type ExportSource, type ParamsChoice, sourceFromModelFile } from "./source.ts";
import { exportVectorField } from "./vector_field.ts";
import { exportIntegrator } from "./integrator.ts";
import { formatVerifyReport, verifyExport } from "./verify.ts";
import { type Provider, PROVIDERS } from "./ort.ts";

/**
 * Exit codes of {@link main}.
 *
 * @example
 * ```ts
 * import { EXPORT_EXIT } from "./cli.ts";
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
    "vector-field (f alone), loop (the whole solve as an ONNX Loop; default) or unrolled " +
    "(every step spelled out, for GPU runtimes)",
  ],
  [
    "out",
    "FILE",
    "output file (default model.onnx next to the model file; model.<form>.onnx " +
    "for the other forms)",
  ],
  ["dtype", "NAME", "float32 (default; runs on every provider) or float64 (CPU runtimes)"],
  ["params", "NAME", "best (lowest-loss parameters; default) or current (the latest)"],
  ["verify", "", "run the file with onnxruntime-node and compare with revode's solver"],
  [
    "providers",
    "LIST",
    "providers for --verify, comma-separated: cpu, webgpu (default cpu,webgpu)",
  ],
  ["help", "", "print this help"],
];

interface _Flags {
  model?: string;
  form?: string;
  out?: string;
  dtype?: string;
  params?: string;
  verify?: boolean;
  providers?: string;
  help?: boolean;
}

/**
 * The help text of `deno task export`.
 *
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { exportHelpText } from "./cli.ts";
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
    "  deno task export --model runs/<run>/model.json [--form loop|unrolled|vector-field]",
    "                   [--verify] [--out FILE]",
    "",
    ...flagHelp(_FLAGS, width + 4, _HELP_WIDTH),
    "",
    "Integrator inputs: y0 [batch, dim]; t0, dt (scalars); steps (int64 scalar, loop only);",
    "the trained values are in the metadata (revode.t0, revode.dt, revode.steps, revode.y0).",
    "Outputs: ys [steps + 1, batch, dim], ts [steps + 1].",
    "Vector field: input y [batch, dim] (and t [batch, 1] when time-dependent); output dydt.",
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
 * The default output file for a form: `model.onnx` next to the model file
 * for the loop, `model.<form>.onnx` for the others.
 *
 * @param modelJsonPath The model file.
 * @param form The form.
 * @returns The path.
 *
 * @example
 * ```ts
 * import { defaultOnnxPath } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(defaultOnnxPath("runs/a/model.json", "loop"), "runs/a/model.onnx");
 * assert.equal(defaultOnnxPath("model.json", "unrolled"), "model.unrolled.onnx");
 * ```
 */
export function defaultOnnxPath(modelJsonPath: string, form: ExportForm): string {
  const slash = modelJsonPath.lastIndexOf("/");
  const dir = slash < 0 ? "" : modelJsonPath.slice(0, slash + 1);
  return `${dir}model${form === "loop" ? "" : `.${form}`}.onnx`;
}

/**
 * Exports a model in memory to bytes, in the given form.
 *
 * @param source The model.
 * @param form The form.
 * @param dtype The element type.
 * @returns The `.onnx` file's bytes.
 *
 * @example
 * ```ts
 * import { exportOnnx } from "./cli.ts";
 * import { Mlp } from "../training/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * assert.ok(exportOnnx({ field, params: [1, 0] }, "vector-field").length > 0);
 * assert.throws(() => exportOnnx({ field, params: [1, 0] }, "loop"), /Invalid scheme/);
 * ```
 */
export function exportOnnx(
  source: ExportSource,
  form: ExportForm,
  dtype: ExportDtype = "float32",
): Uint8Array {
  switch (form) {
    case "vector-field":
      return exportVectorField(source, { dtype });
    case "loop":
    case "unrolled":
      return exportIntegrator(source, { variant: form, dtype });
    default:
      throw new RangeError(
        `Invalid form: got ${JSON.stringify(form)}; expected one of ${EXPORT_FORMS.join(", ")}.`,
      );
  }
}

/**
 * Options of {@link exportModelFile}.
 *
 * @example
 * ```ts
 * import type { ExportFileOptions } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const options: ExportFileOptions = { dtype: "float64", params: "current" };
 * assert.equal(options.dtype, "float64");
 * ```
 */
export interface ExportFileOptions {
  /** Element type; default `float32`. */
  dtype?: ExportDtype;
  /** Which parameters; default `best`. */
  params?: ParamsChoice;
}

/**
 * What {@link exportModelFile} wrote.
 *
 * @example
 * ```ts
 * import type { ExportedFile } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * const written: Pick<ExportedFile, "path" | "bytes"> = { path: "runs/a/model.onnx", bytes: 11598 };
 * assert.ok(written.path.endsWith(".onnx"));
 * ```
 */
export interface ExportedFile {
  /** The file written. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The model it came from, for verification. */
  source: ExportSource;
  /** The file's content. */
  onnx: Uint8Array;
}

/**
 * Reads a `model.json` and writes it as ONNX (atomically: a temporary file,
 * flushed to disk, renamed over the target). The training CLI calls it to write `model.onnx`
 * next to `model.json`.
 *
 * @param modelJsonPath The model file (format `revode-model`, version 1).
 * @param outPath The `.onnx` file to write.
 * @param form `vector-field`, `loop` or `unrolled`.
 * @param options Element type and which parameters.
 * @returns What was written.
 * @throws {ModelFileError} When the model file cannot be used.
 * @throws {RangeError} When the model cannot be exported (e.g. too many steps to unroll), or
 *   when `outPath` is the model file itself.
 *
 * @example
 * ```ts
 * import { exportModelFile } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "read" })).state === "granted") {
 *   await assert.rejects(exportModelFile("no/such/model.json", "x.onnx", "loop"), /no such file/);
 * }
 * ```
 */
export async function exportModelFile(
  modelJsonPath: string,
  outPath: string,
  form: ExportForm,
  options: ExportFileOptions = {},
): Promise<ExportedFile> {
  const source = await sourceFromModelFile(modelJsonPath, options.params ?? "best");
  const onnx = exportOnnx(source, form, options.dtype ?? "float32");
  if (await _sameFile(modelJsonPath, outPath)) {
    throw new RangeError(
      `Invalid output file: ${JSON.stringify(outPath)} is the model file itself; ` +
        `expected another path, such as ${defaultOnnxPath(modelJsonPath, form)}.`,
    );
  }
  await writeFileAtomic(outPath, onnx);
  return { path: outPath, bytes: onnx.length, source, onnx };
}

/**
 * True when both paths name one existing file (through links, `..` or a
 * hard link); false when either does not exist.
 */
async function _sameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([_statOrNull(a), _statOrNull(b)]);
  if (sa === null || sb === null) return false;
  if (sa.ino !== null && sb.ino !== null && sa.dev === sb.dev) return sa.ino === sb.ino;
  return await Deno.realPath(a) === await Deno.realPath(b);
}

/** The path's file information, or null when there is nothing at that path. */
async function _statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/**
 * Why `--out` cannot be written, checked before anything is exported: the
 * model file itself, an existing folder, or a path in a folder that does
 * not exist. Null when it can.
 */
async function _outProblem(model: string, out: string, form: ExportForm): Promise<string | null> {
  const suggestion = defaultOnnxPath(model, form);
  const info = await _statOrNull(out);
  if (info === null) {
    const dir = dirname(out);
    const dirInfo = await _statOrNull(dir);
    if (dirInfo === null) return `its folder ${JSON.stringify(dir)} does not exist`;
    if (!dirInfo.isDirectory) return `${JSON.stringify(dir)} is not a folder`;
    return null;
  }
  if (info.isDirectory) {
    return `it is a folder. Allowed: a file path, e.g. --out ${join(out, basename(suggestion))}`;
  }
  if (await _sameFile(model, out)) {
    return `it is the --model file itself, which would be overwritten. Allowed: another ` +
      (out === suggestion
        ? "path, given with --out FILE"
        : `path, e.g. --out ${suggestion} (the default)`);
  }
  return null;
}

function _consoleIo(): CliIo {
  const encoder = new TextEncoder();
  const all = (stream: { writeSync(p: Uint8Array): number }, text: string) => {
    const bytes = encoder.encode(text);
    for (let n = 0; n < bytes.length;) n += stream.writeSync(bytes.subarray(n));
  };
  return {
    write: (text) => all(Deno.stdout, text),
    error: (text) => all(Deno.stderr, text),
    isTerminal: Deno.stdout.isTerminal(),
  };
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
 * import { main } from "./cli.ts";
 * import assert from "node:assert/strict";
 *
 * let err = "";
 * const io = { write: () => {}, error: (t: string) => err += t, isTerminal: false };
 * assert.equal(await main(["--model", "m.json", "--form", "scan"], io), 2);
 * assert.match(err, /--form: "scan". Allowed: vector-field, loop, unrolled/);
 * assert.equal(await main(["--colour"], io), 2);
 * assert.match(err, /unknown flag --colour. Allowed flags: --model/);
 * ```
 */
export async function main(args: string[], io: CliIo = _consoleIo()): Promise<number> {
  let model: string;
  let form: ExportForm;
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
    if (flags.model === undefined) {
      throw new UsageError("--model FILE is required: the model.json written by deno task train.");
    }
    model = flags.model;
    form = _oneOf("form", flags.form ?? "loop", EXPORT_FORMS);
    dtype = _oneOf("dtype", flags.dtype ?? "float32", EXPORT_DTYPES);
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
    const problem = flags.out === undefined && await _statOrNull(model) === null
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
    written = await exportModelFile(model, out, form, { dtype, params });
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
    io.error(`error: ${error.message}\n`);
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
