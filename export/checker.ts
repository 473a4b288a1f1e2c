/**
 * The official ONNX checker, where Python's `onnx` package is installed
 * (Debian: `apt-get install python3-onnx`). There is no ONNX checker in
 * JavaScript; ONNX Runtime validates a lot when it opens a session, and
 * `onnx.checker.check_model(full_check=True)` plus strict shape inference
 * validate the rest: operator schemas, types, the SSA form, subgraph scopes.
 *
 * Running it needs `--allow-run` (and `--allow-write` for the model files).
 *
 * @module
 */

/**
 * The result of checking one model.
 *
 * @example
 * ```ts
 * import type { CheckResult } from "./checker.ts";
 * import assert from "node:assert/strict";
 *
 * const result: CheckResult = { path: "model.onnx", ok: true, error: null };
 * assert.equal(result.ok, true);
 * ```
 */
export interface CheckResult {
  /** The file checked. */
  path: string;
  /** True when the checker and strict shape inference accepted it. */
  ok: boolean;
  /** The checker's message when not. */
  error: string | null;
}

const _SCRIPT = `
import json, sys
import onnx
from onnx import checker, shape_inference
for path in sys.argv[1:]:
    try:
        model = onnx.load(path)
        checker.check_model(model, full_check=True)
        shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
        print(json.dumps({"path": path, "ok": True, "error": None}))
    except Exception as e:
        print(json.dumps({"path": path, "ok": False, "error": type(e).__name__ + ": " + str(e)}))
`;

let _python: Promise<{ command: string; version: string } | null> | null = null;

/**
 * Finds a Python that can `import onnx`: `python3` on the PATH, then
 * `/usr/bin/python3` (Debian's, where `python3-onnx` installs, when a
 * pyenv or venv `python3` comes first on the PATH).
 *
 * @returns The command and the onnx version, or null when there is none.
 *
 * @example
 * ```ts
 * import { findOnnxPython } from "./checker.ts";
 * import assert from "node:assert/strict";
 *
 * if ((await Deno.permissions.query({ name: "run" })).state === "granted") {
 *   const found = await findOnnxPython();
 *   assert.ok(found === null || /^\d+\.\d+/.test(found.version));
 * }
 * ```
 */
export function findOnnxPython(): Promise<{ command: string; version: string } | null> {
  _python ??= (async () => {
    for (const command of ["python3", "/usr/bin/python3"]) {
      try {
        const out = await new Deno.Command(command, {
          args: ["-c", "import onnx; print(onnx.__version__)"],
          stdout: "piped",
          stderr: "null",
        }).output();
        if (out.success) return { command, version: new TextDecoder().decode(out.stdout).trim() };
      } catch {
        // not installed
      }
    }
    return null;
  })();
  return _python;
}

/**
 * Runs `onnx.checker.check_model(full_check=True)` and strict shape
 * inference on model files, in one Python process.
 *
 * @param paths The `.onnx` files.
 * @returns One result per file, or null when no Python with `onnx` exists.
 *
 * @example
 * ```ts
 * import { checkWithOnnx } from "./checker.ts";
 * import { exportVectorField } from "./vector_field.ts";
 * import { Mlp } from "../solvers/fields/mlp.ts";
 * import assert from "node:assert/strict";
 *
 * const granted = async (name: "run" | "write") =>
 *   (await Deno.permissions.query({ name })).state === "granted";
 * if (await granted("run") && await granted("write")) {
 *   const field = new Mlp({ dim: 2, widths: [4] });
 *   const path = await Deno.makeTempFile({ suffix: ".onnx" });
 *   await Deno.writeFile(path, exportVectorField({ field, params: field.init(0) }));
 *   const results = await checkWithOnnx([path]);
 *   assert.ok(results === null || results[0].ok);
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function checkWithOnnx(paths: readonly string[]): Promise<CheckResult[] | null> {
  const python = await findOnnxPython();
  if (python === null) return null;
  const out = await new Deno.Command(python.command, {
    args: ["-c", _SCRIPT, ...paths],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim() !== "");
  const results = lines.map((l) => JSON.parse(l) as CheckResult);
  if (results.length !== paths.length) {
    throw new Error(
      `The ONNX checker stopped early (${results.length} of ${paths.length} files): ` +
        new TextDecoder().decode(out.stderr).slice(-500),
    );
  }
  return results;
}
