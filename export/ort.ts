/**
 * Running exported models with `onnxruntime-node` on its CPU or WebGPU
 * execution provider, and finding out where each node really ran.
 *
 * onnxruntime-node is a native addon: it is imported on first use only, so
 * the rest of the export code runs without `--allow-ffi`. Running a model
 * needs `--allow-ffi --allow-read --allow-env --allow-sys`; checking where
 * nodes ran reads ONNX Runtime's profile from a temporary folder and needs
 * `--allow-write` too.
 *
 * A session asked for WebGPU still places on the CPU every node the WebGPU
 * provider has no kernel for (`Loop` among them); {@link OnnxSession.placement}
 * counts the nodes each provider ran, from ONNX Runtime's own profile.
 *
 * @module
 */

import type * as OrtTypes from "onnxruntime-node";

type _Ort = typeof OrtTypes;

/**
 * The execution providers revode runs models on.
 *
 * @example
 * ```ts
 * import type { Provider } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const provider: Provider = "webgpu";
 * assert.equal(provider, "webgpu");
 * ```
 */
export type Provider = "cpu" | "webgpu";

/**
 * The providers, CPU first.
 *
 * @example
 * ```ts
 * import { PROVIDERS } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(PROVIDERS, ["cpu", "webgpu"]);
 * ```
 */
export const PROVIDERS: readonly Provider[] = Object.freeze(["cpu", "webgpu"]);

let _ortPromise: Promise<_Ort> | null = null;

/**
 * Imports onnxruntime-node once, with a clear message when the permission
 * a native addon needs is missing.
 *
 * @returns The onnxruntime-node module.
 * @throws {Error} Saying which permissions to grant.
 *
 * @example Needs --allow-ffi, so not run by `deno test --doc`
 * ```ts ignore
 * import { loadOrt } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const ort = await loadOrt();
 * assert.equal(await loadOrt(), ort); // imported once per process
 * assert.deepEqual(new ort.Tensor("float32", Float32Array.of(1, 2, 3), [3]).dims, [3]);
 * ```
 */
export function loadOrt(): Promise<_Ort> {
  _ortPromise ??= (async () => {
    const ffi = await Deno.permissions.query({ name: "ffi" });
    if (ffi.state !== "granted") {
      throw new Error(
        "Running ONNX models needs onnxruntime-node, a native addon: run with " +
          "--allow-ffi --allow-read --allow-env --allow-sys (and --allow-write to check " +
          "where nodes ran).",
      );
    }
    return (await import("onnxruntime-node")) as unknown as _Ort;
  })();
  const pending = _ortPromise;
  pending.catch(() => {
    if (_ortPromise === pending) _ortPromise = null;
  });
  return pending;
}

/**
 * An input tensor: element type, entries (row-major) and shape.
 *
 * @example
 * ```ts
 * import type { Feed } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const steps: Feed = { type: "int64", data: [1000], dims: [] };
 * assert.deepEqual(steps.dims, []);
 * ```
 */
export interface Feed {
  /** Element type. */
  type: "float32" | "float64" | "int64";
  /** Entries; converted to the element type. */
  data: ArrayLike<number>;
  /** Shape (`[]` for a scalar). */
  dims: readonly number[];
}

/**
 * An output tensor.
 *
 * @example
 * ```ts
 * import type { Fetched } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const ts: Fetched = { data: Float64Array.of(0, 0.5, 1), dims: [3] };
 * assert.equal(ts.data.length, ts.dims[0]);
 * ```
 */
export interface Fetched {
  /** Entries, row-major, converted to float64. */
  data: Float64Array;
  /** Shape. */
  dims: number[];
}

/**
 * Where the nodes of a run were executed, from ONNX Runtime's profile.
 *
 * @example
 * ```ts
 * import type { Placement } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const p: Placement = { nodes: 101, byProvider: { WebGpuExecutionProvider: 93, CPUExecutionProvider: 8 } };
 * assert.equal(Object.values(p.byProvider).reduce((a, b) => a + b), p.nodes);
 * ```
 */
export interface Placement {
  /** Distinct nodes that ran, Loop bodies included. */
  nodes: number;
  /** Nodes per provider name (e.g. `WebGpuExecutionProvider`, `CPUExecutionProvider`). */
  byProvider: Record<string, number>;
}

/**
 * An open ONNX Runtime session on one provider.
 *
 * @example
 * ```ts
 * import type { OnnxSession } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const describe = (s: Pick<OnnxSession, "provider" | "inputNames">) =>
 *   `${s.provider}: ${s.inputNames.join(", ")}`;
 * assert.equal(describe({ provider: "cpu", inputNames: ["y0", "t0", "dt"] }), "cpu: y0, t0, dt");
 * ```
 */
export interface OnnxSession {
  /** The provider asked for. */
  readonly provider: Provider;
  /** The model's input names. */
  readonly inputNames: readonly string[];
  /**
   * Runs the model.
   *
   * @param feeds Inputs by name (those with defaults may be left out).
   * @returns Every output, as float64.
   */
  run(feeds: Readonly<Record<string, Feed>>): Promise<Record<string, Fetched>>;
  /**
   * Ends profiling and counts the nodes each provider ran (null when the
   * session was opened without `profile`).
   */
  placement(): Promise<Placement | null>;
  /** Frees the session. */
  release(): Promise<void>;
}

/**
 * Options of {@link createSession}.
 *
 * @example
 * ```ts
 * import type { SessionOptions } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const options: SessionOptions = { profile: true, threads: 1 };
 * assert.equal(options.threads, 1);
 * ```
 */
export interface SessionOptions {
  /** Record ONNX Runtime's profile, for {@link OnnxSession.placement}. */
  profile?: boolean;
  /** Threads of the CPU provider (default: ONNX Runtime's choice). */
  threads?: number;
}

/**
 * Opens a session on one provider.
 *
 * @param bytes The `.onnx` file's bytes.
 * @param provider `cpu` or `webgpu`.
 * @param options Profiling and threads.
 * @returns The session.
 * @throws {Error} When ONNX Runtime refuses the model or the provider is unavailable.
 *
 * @example Needs --allow-ffi, so not run by `deno test --doc`
 * ```ts ignore
 * import { createSession } from "./ort.ts";
 * import { exportVectorField } from "./vector_field.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const field = new Mlp({ dim: 1, widths: [] });
 * const session = await createSession(exportVectorField({ field, params: [2, 0.5] }), "cpu");
 * const { dydt } = await session.run({ y: { type: "float32", data: [1, 3], dims: [2, 1] } });
 * assert.deepEqual([...dydt.data], [2.5, 6.5]);
 * await session.release();
 * ```
 */
export async function createSession(
  bytes: Uint8Array,
  provider: Provider,
  options: SessionOptions = {},
): Promise<OnnxSession> {
  if (provider !== "cpu" && provider !== "webgpu") {
    throw new RangeError(
      `Invalid provider: got ${JSON.stringify(provider)}; expected "cpu" or "webgpu".`,
    );
  }
  const ort = await loadOrt();
  let profileDir: string | null = null;
  if (options.profile) profileDir = await Deno.makeTempDir({ prefix: "revode-ort-profile-" });
  const sessionOptions: OrtTypes.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    logSeverityLevel: 3,
  };
  if (options.threads !== undefined) sessionOptions.intraOpNumThreads = options.threads;
  if (profileDir !== null) {
    sessionOptions.enableProfiling = true;
    sessionOptions.profileFilePrefix = `${profileDir}/profile`;
  }
  let session: OrtTypes.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (error) {
    if (profileDir !== null) await Deno.remove(profileDir, { recursive: true }).catch(() => {});
    throw error;
  }
  let ended = false;
  return {
    provider,
    inputNames: session.inputNames,
    async run(feeds) {
      const tensors: Record<string, OrtTypes.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) {
        const data = f.type === "float32"
          ? Float32Array.from(f.data)
          : f.type === "float64"
          ? Float64Array.from(f.data)
          : BigInt64Array.from(Array.from(f.data, (v) => BigInt(v)));
        tensors[name] = new ort.Tensor(f.type, data, f.dims.slice());
      }
      const results = await session.run(tensors);
      const out: Record<string, Fetched> = {};
      for (const [name, t] of Object.entries(results)) {
        out[name] = {
          // int64 outputs arrive as BigInt64Array, bool as Uint8Array
          data: Float64Array.from(t.data as ArrayLike<number | bigint>, Number),
          dims: t.dims.slice(),
        };
        t.dispose();
      }
      return out;
    },
    async placement() {
      if (profileDir === null) return null;
      if (!ended) {
        session.endProfiling();
        ended = true;
      }
      const byNode = new Map<string, string>();
      for await (const entry of Deno.readDir(profileDir)) {
        if (!entry.name.endsWith(".json")) continue;
        for await (const e of profileEvents(`${profileDir}/${entry.name}`)) {
          if (e.cat !== "Node" || !e.args?.provider || !e.name) continue;
          byNode.set(
            e.name.replace(/_(kernel_time|fence_before|fence_after)$/, ""),
            e.args.provider,
          );
        }
      }
      const byProvider: Record<string, number> = {};
      for (const p of byNode.values()) byProvider[p] = (byProvider[p] ?? 0) + 1;
      return { nodes: byNode.size, byProvider };
    },
    async release() {
      if (profileDir !== null && !ended) {
        try {
          session.endProfiling();
        } catch { /* already ended */ }
        ended = true;
      }
      await session.release();
      if (profileDir !== null) {
        await Deno.remove(profileDir, { recursive: true }).catch(() => {});
        profileDir = null;
      }
    },
  };
}

/**
 * One event of ONNX Runtime's profile (the fields read here).
 *
 * @example
 * ```ts
 * import type { ProfileEvent } from "./ort.ts";
 * const e: ProfileEvent = { cat: "Node", name: "Add_kernel_time", args: { provider: "CPUExecutionProvider" } };
 * ```
 */
export interface ProfileEvent {
  cat?: string;
  name?: string;
  args?: { provider?: string };
}

/**
 * The events of an ONNX Runtime profile file, read line by line: the file is
 * a JSON array with one event per line, and a Loop writes an event per node
 * and iteration, so that a long solve's profile (hundreds of MB) would not fit
 * in one string. Lines that are not a whole event are passed over.
 *
 * @param path The profile file.
 * @returns Its events, in order.
 *
 * @example
 * ```ts
 * import { profileEvents } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(path, '[\n{"cat" : "Node","name" :"Add_kernel_time"},\n{"cat" : "Session"}\n]\n');
 * const events = [];
 * for await (const e of profileEvents(path)) events.push(e);
 * assert.deepEqual(events.map((e) => e.cat), ["Node", "Session"]);
 * await Deno.remove(path);
 * ```
 */
export async function* profileEvents(path: string): AsyncGenerator<ProfileEvent> {
  const file = await Deno.open(path);
  const text = file.readable.pipeThrough(new TextDecoderStream());
  let rest = "";
  const parse = (line: string): ProfileEvent | null => {
    const body = line.trim().replace(/^\[/, "").replace(/[,\]]+$/, "");
    if (!body.startsWith("{")) return null;
    try {
      return JSON.parse(body);
    } catch {
      return null;
    }
  };
  for await (const chunk of text) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      const event = parse(line);
      if (event !== null) yield event;
    }
  }
  const last = parse(rest);
  if (last !== null) yield last;
}

/**
 * Whether the WebGPU provider works here, and why not.
 *
 * @example
 * ```ts
 * import type { WebgpuStatus } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const none: WebgpuStatus = { available: false, reason: "no adapter", adapter: null, fallback: false };
 * assert.equal(none.available, false);
 * ```
 */
export interface WebgpuStatus {
  /** True when a WebGPU session ran a node on the WebGPU provider. */
  available: boolean;
  /** Why not, or which adapter answered. */
  reason: string;
  /** The adapter Deno's own WebGPU sees (same Vulkan driver), when it sees one. */
  adapter: string | null;
  /** True for a software adapter (e.g. Mesa's llvmpipe): timings mean nothing. */
  fallback: boolean;
}

let _webgpu: Promise<WebgpuStatus> | null = null;

/**
 * Finds out once per process whether ONNX Runtime's WebGPU provider has an
 * adapter: runs a one-node model on it and checks from the profile that the
 * node ran there.
 *
 * @returns The status, with the reason when unavailable.
 *
 * @example Needs --allow-ffi, so not run by `deno test --doc`
 * ```ts ignore
 * import { webgpuStatus } from "./ort.ts";
 * import assert from "node:assert/strict";
 *
 * const status = await webgpuStatus();
 * assert.equal(await webgpuStatus(), status); // probed once per process
 * // When the node ran there, the reason names the adapter that answered.
 * if (status.available && status.adapter !== null) assert.ok(status.reason.includes(status.adapter));
 * ```
 */
export function webgpuStatus(): Promise<WebgpuStatus> {
  _webgpu ??= _probeWebgpu();
  return _webgpu;
}

async function _probeWebgpu(): Promise<WebgpuStatus> {
  const { adapter, fallback } = await _denoAdapter();
  const { GraphBuilder } = await import("./onnx_graph.ts");
  const { encodeModel } = await import("./onnx_model.ts");
  const g = new GraphBuilder("probe");
  g.output(g.node("Tanh", [g.input("x", "float32", [1])]), "y", "float32", [1]);
  const bytes = encodeModel(g.build(), { producerVersion: "probe", docString: "", metadata: {} });
  let session: OnnxSession;
  try {
    session = await createSession(bytes, "webgpu", { profile: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const short = message.includes("Failed to get a WebGPU adapter")
      ? "ONNX Runtime found no WebGPU adapter (no Vulkan driver: install mesa-vulkan-drivers " +
        "from bookworm-backports, or run on a GPU machine)"
      : `the WebGPU provider failed to start: ${message.split("\n")[0]}`;
    return { available: false, reason: short, adapter, fallback };
  }
  try {
    await session.run({ x: { type: "float32", data: [0.5], dims: [1] } });
    const placement = await session.placement();
    const onGpu = placement?.byProvider.WebGpuExecutionProvider ?? 0;
    if (onGpu === 0) {
      return {
        available: false,
        reason: `a WebGPU session ran its node on ${Object.keys(placement?.byProvider ?? {})}`,
        adapter,
        fallback,
      };
    }
    return {
      available: true,
      reason: adapter === null
        ? "ONNX Runtime's WebGPU provider ran a node"
        : `adapter ${adapter}${fallback ? " (software fallback: timings mean nothing)" : ""}`,
      adapter,
      fallback,
    };
  } finally {
    await session.release();
  }
}

async function _denoAdapter(): Promise<{ adapter: string | null; fallback: boolean }> {
  try {
    const gpu = (navigator as { gpu?: GPU }).gpu;
    const a = await gpu?.requestAdapter();
    if (!a) return { adapter: null, fallback: false };
    const info = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const name = info.description || [info.vendor, info.device, info.architecture]
      .filter((s) => s).join(" ");
    const fallback = info.isFallbackAdapter === true ||
      (a as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
      /llvmpipe|swiftshader|lavapipe/i.test(name);
    return { adapter: name || "unnamed", fallback };
  } catch {
    return { adapter: null, fallback: false };
  }
}
