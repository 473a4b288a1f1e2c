// Run a revode integrator exported to ONNX with plain Node.js and
// onnxruntime-node: no revode code, no Deno.
//
// 1. Train and export (in the revode repository, with Deno):
//
//      deno task train --out runs/wd
//      deno task export --model runs/wd/model.json               # -> runs/wd/model.onnx (Loop)
//      deno task export --model runs/wd/model.json --form unrolled
//
// 2. Install the runtime where you run this file (Node.js 18 or later). Skip
//    onnxruntime-node's postinstall, which downloads CUDA binaries; the CPU
//    and WebGPU providers are in the npm package itself:
//
//      ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0
//
//    (Inside the revode checkout, `deno install` has already put it in node_modules/.)
//
// 3. Run it:
//
//      node examples/node/run_integrator.mjs runs/wd/model.onnx
//      node examples/node/run_integrator.mjs runs/wd/model.onnx --y0 1,0 --steps 200 --dt 0.01
//      node examples/node/run_integrator.mjs runs/wd/model.unrolled.onnx --batch 3 --provider webgpu
//
//    Flags: --y0 a,b,… (default: the initial state recorded in the file),
//    --batch N (copies of y0, each shifted by 1e-3 × row), --t0 T, --dt H,
//    --steps N (Loop only; an unrolled file has a fixed count), --provider cpu|webgpu,
//    --rows N (trajectory rows printed, at least 2, default 11), --help.
//    A bad argument ends the script with a one-line message and exit code 2.
//
// The model's inputs: y0 [batch, dim]; t0, dt (scalars) and steps (int64, Loop
// only). Their trained values are in the file's metadata_props (revode.y0, revode.t0,
// revode.dt, revode.steps), which this script reads as defaults. Outputs:
// ys [steps + 1, batch, dim] and ts [steps + 1].

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";

/** Reads protobuf varint at `at`; returns [value, next offset]. */
function varint(bytes, at) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new Error("the file ends inside a field: not an ONNX file?");
    const b = bytes[at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
}

/**
 * The model's metadata_props (ModelProto field 14, entries of key = 1, value = 2),
 * read straight from the protobuf bytes: a few lines instead of a protobuf library.
 */
function metadataProps(bytes) {
  const props = {};
  const decoder = new TextDecoder();
  let at = 0;
  while (at < bytes.length) {
    let key;
    [key, at] = varint(bytes, at);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) [, at] = varint(bytes, at);
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      let length;
      [length, at] = varint(bytes, at);
      if (at + length > bytes.length) {
        throw new Error("a field runs past the end of the file: not an ONNX file?");
      }
      if (field === 14) {
        const entry = bytes.subarray(at, at + length);
        const kv = {};
        let p = 0;
        while (p < entry.length) {
          let k, n;
          [k, p] = varint(entry, p);
          [n, p] = varint(entry, p);
          kv[k >> 3] = decoder.decode(entry.subarray(p, p + n));
          p += n;
        }
        props[kv[1]] = kv[2];
      }
      at += length;
    } else throw new Error(`unexpected protobuf wire type ${wire}: not an ONNX file?`);
  }
  return props;
}

/** Prints a one-line error (no stack trace) and exits. */
function fail(message, code = 2) {
  console.error(`error: ${message}`);
  process.exit(code);
}

const USAGE = "usage: node run_integrator.mjs MODEL.onnx [--y0 a,b,…] [--batch N] [--t0 T]\n" +
  "         [--dt H] [--steps N] [--provider cpu|webgpu] [--rows N]";
const OPTIONS = {
  y0: { type: "string" },
  batch: { type: "string", default: "1" },
  t0: { type: "string" },
  dt: { type: "string" },
  steps: { type: "string" },
  provider: { type: "string", default: "cpu" },
  rows: { type: "string", default: "11" },
  help: { type: "boolean", short: "h" },
};
const FLAGS = Object.keys(OPTIONS).map((name) => `--${name}`).join(", ");

// `--t0 -1` means the value -1: join a value flag to a following argument with one leading
// dash, which parseArgs would otherwise take for a flag.
const args = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  const next = process.argv[i + 1];
  const name = arg.startsWith("--") ? arg.slice(2) : "";
  if (
    OPTIONS[name]?.type === "string" && next !== undefined && next.startsWith("-") &&
    !next.startsWith("--")
  ) {
    args.push(`${arg}=${next}`);
    i++;
  } else args.push(arg);
}
let values, positionals;
try {
  ({ values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS }));
} catch (error) {
  const flag = /'(?:-\w, )?(-[-\w]+)/.exec(error.message)?.[1] ?? "a flag";
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    fail(`unknown flag ${flag}. Allowed flags: ${FLAGS}.`);
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    fail(
      OPTIONS[flag.slice(2)]?.type === "boolean"
        ? `${flag} takes no value.`
        : `${flag} needs a value.`,
    );
  }
  fail(error.message.split("\n")[0]);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (positionals.length !== 1) {
  console.error(
    positionals.length === 0
      ? "error: give the .onnx file to run."
      : `error: give one .onnx file, not ${positionals.length}: ${positionals.join(" ")}.`,
  );
  console.error(USAGE);
  process.exit(2);
}

/** The value of --flag as an integer of at least `min`. */
function integer(flag, text, min) {
  const value = /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    fail(`--${flag}: ${JSON.stringify(text)}. Allowed: an integer >= ${min}.`);
  }
  return value;
}

/** The value of --flag as a finite number. */
function finite(flag, text) {
  const value = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(value)) fail(`--${flag}: ${JSON.stringify(text)}. Allowed: a number.`);
  return value;
}

const batch = integer("batch", values.batch, 1);
const rowsWanted = integer("rows", values.rows, 2);
const stepsGiven = values.steps === undefined ? undefined : integer("steps", values.steps, 1);
const t0Given = values.t0 === undefined ? undefined : finite("t0", values.t0);
const dtGiven = values.dt === undefined ? undefined : finite("dt", values.dt);
if (values.provider !== "cpu" && values.provider !== "webgpu") {
  fail(`--provider: ${JSON.stringify(values.provider)}. Allowed: cpu, webgpu.`);
}

const path = positionals[0];
let bytes;
try {
  bytes = readFileSync(path);
} catch (error) {
  const why = error.code === "ENOENT"
    ? "no such file"
    : error.code === "EISDIR"
    ? "a folder, not a file"
    : error.message;
  fail(`MODEL.onnx ${JSON.stringify(path)}: ${why}.`);
}
let meta;
try {
  meta = metadataProps(bytes);
} catch (error) {
  fail(
    `MODEL.onnx ${JSON.stringify(path)}: ${error.message}` +
      (path.endsWith(".json") || bytes[0] === 0x7b
        ? " (this looks like a model.json; export it first: " +
          "deno task export --model " + path + ")"
        : ""),
  );
}
if (meta["revode.form"] !== "loop" && meta["revode.form"] !== "unrolled") {
  fail(
    `MODEL.onnx ${JSON.stringify(path)}: not a revode integrator (revode.form = ` +
      `${meta["revode.form"]}); export one with deno task export --form loop or unrolled.`,
  );
}
let session;
try {
  session = await ort.InferenceSession.create(bytes, {
    executionProviders: [values.provider],
  });
} catch (error) {
  fail(
    `MODEL.onnx ${JSON.stringify(path)}: onnxruntime-node could not load it on the ` +
      `${values.provider} provider: ${String(error.message).split("\n")[0]}`,
    1,
  );
}
const y0Info = session.inputMetadata.find((m) => m.name === "y0");
const dim = Number(y0Info.shape[1]);
const dtype = y0Info.type; // "float32" or "float64"
const Float = dtype === "float64" ? Float64Array : Float32Array;
if (values.provider === "webgpu" && dtype === "float64") {
  // onnxruntime gives the nodes a provider has no kernel for to its CPU
  // provider without a word; WebGPU has no float64 at all, so all of them.
  console.error(
    `note: ${path} is float64 and the webgpu provider has no float64 kernels (WebGPU ` +
      "has no f64): onnxruntime ran it on the CPU. For the GPU, export float32: " +
      "deno task export --model MODEL.json --dtype float32",
  );
}

const base = values.y0 !== undefined
  ? values.y0.split(",").map(Number)
  : JSON.parse(meta["revode.y0"] ?? `[${new Array(dim).fill(0)}]`);
if (base.length !== dim || base.some((v) => !Number.isFinite(v))) {
  fail(
    `--y0: ${JSON.stringify(values.y0)}. Allowed: ${dim} numbers, e.g. --y0 ` +
      new Array(dim).fill(1).join(","),
  );
}
const y0 = new Float(batch * dim);
for (let b = 0; b < batch; b++) {
  for (let d = 0; d < dim; d++) y0[b * dim + d] = base[d] + 1e-3 * b;
}
const scalar = (name, given) =>
  new ort.Tensor(dtype, Float.of(given ?? Number(meta[`revode.${name}`])), []);
const feeds = {
  y0: new ort.Tensor(dtype, y0, [batch, dim]),
  t0: scalar("t0", t0Given),
  dt: scalar("dt", dtGiven),
};
if (session.inputNames.includes("steps")) {
  const steps = BigInt(stepsGiven ?? meta["revode.steps"]);
  feeds.steps = new ort.Tensor("int64", BigInt64Array.of(steps), []);
} else if (stepsGiven !== undefined) {
  fail(`--steps: ${path} is unrolled; its step count is fixed at ${meta["revode.steps"]}.`);
}

const started = performance.now();
const { ys, ts } = await session.run(feeds);
const ms = performance.now() - started;

const points = ys.dims[0];
console.log(
  `${path}: ${meta["revode.form"]} ${meta["revode.scheme"]} ${meta["revode.solver"]}` +
    (meta["revode.coupling"] ? ` (λ = ${meta["revode.coupling"]})` : "") +
    `, ${points - 1} steps, ${dtype}, provider ${values.provider}; ran in ${ms.toFixed(1)} ms`,
);
const rows = Math.min(points, rowsWanted);
const header = ["t".padStart(10)];
for (let b = 0; b < batch; b++) {
  for (let d = 0; d < dim; d++) header.push(`y${batch > 1 ? `[${b}]` : ""}${d + 1}`.padStart(13));
}
console.log(header.join(" "));
for (let r = 0; r < rows; r++) {
  const n = Math.round((r * (points - 1)) / (rows - 1));
  const line = [ts.data[n].toFixed(4).padStart(10)];
  for (let i = 0; i < batch * dim; i++) {
    line.push(Number(ys.data[n * batch * dim + i]).toPrecision(6).padStart(13));
  }
  console.log(line.join(" "));
}
await session.release();
