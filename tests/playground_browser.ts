/**
 * The playground (examples/playground/) in headless Chromium, driven by
 * playwright-core. Run by tests/playground_test.ts in a child `deno test -A`:
 * playwright-core reads /proc at load, which Deno allows only with
 * --allow-all, and the suite's own permissions stay narrower. The page is
 * bundled as `deno task web` bundles it and served by a plain static file
 * server from a temporary folder. Skipped, with the
 * reason printed, where Debian's chromium is absent (.ci/run installs it).
 * WebGPU runs on Mesa's software Vulkan with
 * `--enable-unsafe-webgpu --enable-features=Vulkan`; without an adapter the
 * WebGPU test skips unless REVODE_REQUIRE_GPU=1.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type Browser, chromium, type Page } from "playwright-core";
import { bundlePlayground, PLAYGROUND_DIR } from "../examples/playground/build.ts";
import { loadModel } from "../training/model.ts";
import { readTable } from "../training/table.ts";
import type { RevodeResult } from "../examples/playground/page.ts";
import { sourceFromModelFile } from "../export/source.ts";
import { exportOnnx } from "../export/forms.ts";
import { modelMetadata } from "../export/onnx_model.ts";
import { createSession } from "../export/ort.ts";
import { trajectoryBound, verifyExport } from "../export/verify.ts";

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const found = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!found) {
  console.log(`playground tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}
const requireGpu = Deno.env.get("REVODE_REQUIRE_GPU") === "1";

/** The built page in a temporary folder, served statically; one browser of each kind. */
async function _site() {
  const dir = await Deno.makeTempDir({ prefix: "revode-playground-" });
  await bundlePlayground(`${dir}/playground.js`, true);
  await Deno.copyFile(`${PLAYGROUND_DIR}/index.html`, `${dir}/index.html`);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const name = new URL(r.url).pathname.slice(1) || "index.html";
    try {
      const body = await Deno.readFile(`${dir}/${name}`);
      const type = name.endsWith(".js") ? "text/javascript" : "text/html";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const launch = (args: string[]) =>
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", ...args] });
  const gpu = await launch(["--enable-unsafe-webgpu", "--enable-features=Vulkan"]);
  const noGpu = await launch(["--disable-gpu", "--disable-features=WebGPU"]);
  return {
    url,
    gpu,
    noGpu,
    async close() {
      await gpu.close();
      await noGpu.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const site = found ? await _site() : null;

/**
 * A test of the page, skipped without Chromium. The browsers and the server
 * outlive each test (the last one closes them), hence no sanitizers.
 */
function _pageTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: !found, sanitizeResources: false, sanitizeOps: false, fn });
}

/** Opens the page with a query string; its console errors are printed. */
async function _open(browser: Browser, query: string): Promise<Page> {
  const page = await browser.newPage({ acceptDownloads: true });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${site!.url}${query}`);
  return page;
}

/** Waits for "done" (or fails with the page's status) and returns `window.revodeResult`. */
async function _result(page: Page, timeout = 120_000): Promise<RevodeResult> {
  await page.waitForFunction(
    () => {
      const s = document.getElementById("status")!.textContent ?? "";
      return s === "done" || document.getElementById("error")!.textContent !== "";
    },
    undefined,
    { timeout },
  );
  assert.equal(await page.textContent("#error"), "", "the page shows an error");
  assert.equal(await page.textContent("#status"), "done");
  return await page.evaluate(() =>
    (globalThis as { revodeResult?: unknown }).revodeResult
  ) as RevodeResult;
}

/** Clicks a download button and saves the file in `dir`, checking the name the page gives it. */
async function _save(page: Page, button: string, name: string, dir: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  assert.equal(download.suggestedFilename(), name);
  const path = `${dir}/${name}`;
  await download.saveAs(path);
  return path;
}

/** The page's model.json, downloaded, checked against the prediction the page showed. */
async function _checkDownload(page: Page, result: RevodeResult, tolerance: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "revode-playground-json-" });
  try {
    const model = await loadModel(await _save(page, "#download-json", "model.json", dir));
    assert.equal(model.file.training.iterations, result.iterations);
    assert.equal(model.file.training.backend, result.backend);
    const { ts, ys } = model.predict({ ts: result.prediction.ts });
    const scale = Math.max(...result.prediction.ys.map(Math.abs));
    for (let i = 0; i < ys.length; i++) {
      assert.ok(
        Math.abs(ys[i] - result.prediction.ys[i]) <= tolerance * scale,
        `prediction ${i} at t = ${ts[Math.floor(i / model.field.dim)]}: Deno ${ys[i]}, page ${
          result.prediction.ys[i]
        }`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

_pageTest(
  "playground: the white dwarf trains 50 iterations on WebGPU, the loss falls, model.json loads",
  async () => {
    const page = await _open(site!.gpu, "?example=white-dwarf&iterations=50&autostart");
    const result = await _result(page);
    if (result.backend !== "webgpu" && !requireGpu) {
      console.log(`WebGPU part skipped: ${result.backendReason}`);
      return;
    }
    assert.equal(result.backend, "webgpu", result.backendReason);
    assert.match(await page.textContent("#backend") ?? "", /WebGPU \(float32\) on /);
    assert.equal(result.iterations, 50);
    assert.ok(
      result.bestLoss! < 0.5 * result.firstLoss!,
      `${result.firstLoss} → ${result.bestLoss}`,
    );
    console.log(
      `white dwarf on WebGPU: loss ${result.firstLoss} → ${result.bestLoss} in 50 iterations; ` +
        `first step ${result.firstStepMs?.toFixed(0)} ms after navigation`,
    );
    // float32 parameters predicted in float64 by both: only the solve's rounding differs
    await _checkDownload(page, result, 1e-6);
    await page.close();
  },
);

_pageTest("playground: without WebGPU the CPU worker trains and the page says so", async () => {
  const page = await _open(site!.noGpu, "?example=white-dwarf&iterations=20&width=6&autostart");
  const result = await _result(page);
  assert.equal(result.backend, "cpu");
  const said = await page.textContent("#backend") ?? "";
  assert.match(said, /^backend: CPU \(float64\) in a Web Worker: /);
  assert.match(said, /WebGPU|adapter|navigator\.gpu/);
  assert.equal(result.iterations, 20);
  assert.ok(result.bestLoss! < result.firstLoss!, `${result.firstLoss} → ${result.bestLoss}`);
  console.log(
    `white dwarf on the CPU worker: first step ${result.firstStepMs?.toFixed(0)} ms after ` +
      `navigation (${said})`,
  );
  await _checkDownload(page, result, 1e-9);
  await page.close();
});

/**
 * Runs an exported loop from the model's initial state on the trained grid
 * with onnxruntime-node (CPU) and returns the largest difference from
 * revode's float64 solve of the model file, relative to the solution's size.
 */
async function _loopError(bytes: Uint8Array, jsonPath: string): Promise<number> {
  const model = await loadModel(jsonPath);
  const { t0, t1, steps } = model.config;
  const dt = (t1 - t0) / steps;
  const grid = Array.from({ length: steps + 1 }, (_, n) => t0 + n * dt);
  // the initial state in the data's units, rounded to the model's float32 for both solves
  const y0 = Array.from(model.predict({ ts: grid.slice(0, 2) }).ys.subarray(0, model.field.dim))
    .map(Math.fround);
  const reference = model.predict({ ts: grid, y0 }).ys;
  const session = await createSession(bytes, "cpu");
  try {
    const { ys } = await session.run({
      y0: { type: "float32", data: y0, dims: [1, y0.length] },
      t0: { type: "float32", data: [t0], dims: [] },
      dt: { type: "float32", data: [dt], dims: [] },
      steps: { type: "int64", data: [steps], dims: [] },
    });
    assert.deepEqual(ys.dims, [steps + 1, 1, y0.length]);
    let size = 0;
    let error = 0;
    for (let i = 0; i < reference.length; i++) {
      size = Math.max(size, Math.abs(reference[i]));
      error = Math.max(error, Math.abs(ys.data[i] - reference[i]));
    }
    return error / size;
  } finally {
    await session.release();
  }
}

_pageTest(
  "playground: model.onnx of a short white-dwarf run is the export of model.json, " +
    "runs in onnxruntime-node and agrees with revode's solve",
  async () => {
    const page = await _open(site!.noGpu, "?example=white-dwarf&iterations=10&width=6&autostart");
    const result = await _result(page);
    const dir = await Deno.makeTempDir({ prefix: "revode-playground-onnx-" });
    try {
      const jsonPath = await _save(page, "#download-json", "model.json", dir);
      const bytes = await Deno.readFile(await _save(page, "#download-onnx", "model.onnx", dir));
      const meta = modelMetadata(bytes);
      assert.equal(meta["revode.form"], "loop");
      assert.equal(meta["revode.dtype"], "float32");
      assert.equal(JSON.parse(meta["revode.training"]).iterations, result.iterations);
      const data = JSON.parse(meta["revode.data"]);
      assert.equal(data.description, "generated from the equation");
      assert.ok(data.range !== null, "the page summarises the built-in data's range");
      // what `deno task export --form loop` makes of the model.json the page offers
      const source = await sourceFromModelFile(jsonPath);
      const expected = exportOnnx(source, "loop", "float32");
      assert.equal(bytes.length, expected.length);
      assert.ok(
        bytes.every((b, i) => b === expected[i]),
        "model.onnx differs from the CLI's export",
      );
      // random initial states near the trained one, against revode's float64 solve
      const report = await verifyExport(bytes, source, { providers: ["cpu"], batch: 3 });
      assert.equal(report.checks[0].status, "passed", report.checks[0].note);
      // the trained initial state on the trained grid, against loadModel's prediction
      const error = await _loopError(bytes, jsonPath);
      const bound = trajectoryBound(source.steps!, "float32");
      assert.ok(error <= bound, `model.onnx vs revode: ${error} > ${bound}`);
      console.log(
        `page's model.onnx: ${bytes.length} bytes, ${source.steps} steps, relative error ` +
          `${error.toExponential(2)} against revode's float64 solve (bound ${
            bound.toExponential(2)
          })`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
      await page.close();
    }
  },
);

/** A damped oscillator as a CSV: x and v against t, 41 points. */
function _oscillatorCsv(): string {
  const rows = ["t,x,v"];
  for (let i = 0; i <= 40; i++) {
    const t = i * 0.1;
    const x = Math.exp(-0.1 * t) * Math.cos(2 * t);
    const v = Math.exp(-0.1 * t) * (-0.1 * Math.cos(2 * t) - 2 * Math.sin(2 * t));
    rows.push(`${t.toFixed(1)},${x},${v}`);
  }
  return rows.join("\n") + "\n";
}

/** Drops a file on the page's body, as a visitor would. */
async function _drop(page: Page, name: string, text: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(([name, text]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], name, { type: "text/csv" }));
    return dt;
  }, [name, text]);
  await page.dispatchEvent("body", "drop", { dataTransfer });
}

_pageTest(
  "playground: a dropped CSV trains, and model.json predicts in the table's units",
  async () => {
    const page = await _open(site!.gpu, "?iterations=40");
    await _drop(page, "spring.csv", _oscillatorCsv());
    await page.waitForFunction(() =>
      document.getElementById("status")!.textContent?.startsWith("read")
    );
    assert.match(await page.textContent("#title") ?? "", /spring\.csv \(x, v against t\)/);
    await page.click("#train");
    const result = await _result(page);
    assert.equal(result.iterations, 40);
    assert.ok(result.bestLoss! < result.firstLoss!, `${result.firstLoss} → ${result.bestLoss}`);
    await _checkDownload(page, result, result.backend === "webgpu" ? 1e-6 : 1e-9);
    await page.close();
  },
);

_pageTest("playground: a malformed CSV shows the reader's message", async () => {
  const text = "t,x\n0,1\n0.5,2\n1,abc\n";
  const expected = (() => {
    try {
      readTable(text, { source: "bad.csv" });
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("readTable accepted the malformed table");
  })();
  const page = await _open(site!.gpu, "");
  await page.setInputFiles("#file", {
    name: "bad.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(text),
  });
  await page.waitForFunction(() => document.getElementById("error")!.textContent !== "");
  assert.equal(await page.textContent("#error"), expected);
  assert.match(expected, /^bad\.csv:4: column "x"/);
  assert.equal(await page.isDisabled("#download-json"), true);
  assert.equal(await page.isDisabled("#download-onnx"), true);
  await page.close();
});

_pageTest(
  "playground: the charts update while training; stop, then continue to the target",
  async () => {
    const page = await _open(site!.noGpu, "?example=white-dwarf&iterations=400&width=6&autostart");
    const picture = () =>
      page.evaluate(() => (document.getElementById("loss") as HTMLCanvasElement).toDataURL());
    const blank = await picture();
    // two different loss charts while the run goes on: drawn live, chunk by chunk
    const first = await _changed(picture, blank);
    await _changed(picture, first);
    assert.equal(await page.isEnabled("#stop"), true);
    await page.click("#stop");
    await page.waitForFunction(() =>
      /^stopped at iteration \d+$/.test(document.getElementById("status")!.textContent ?? "")
    );
    const stopped = await page.evaluate(() =>
      (globalThis as { revodeResult?: unknown }).revodeResult
    ) as RevodeResult;
    assert.equal(stopped.status, "interrupted");
    assert.ok(0 < stopped.iterations && stopped.iterations < 400, `${stopped.iterations}`);
    assert.equal(await page.isEnabled("#continue"), true);
    // a new choice applies to the next run, not to the one continued
    await page.fill("#width", "7");
    await page.click("#continue");
    const done = await _result(page);
    assert.equal(done.status, "completed");
    assert.equal(done.iterations, 400, "continue goes on to the run's target");
    assert.equal(done.firstLoss, stopped.firstLoss, "the run's history is kept");
    // the same run without the stop: the continued one ends bit-identically (float64 worker)
    const whole = await _open(site!.noGpu, "?example=white-dwarf&iterations=400&width=6&autostart");
    const uninterrupted = await _result(whole);
    assert.equal(done.bestLoss, uninterrupted.bestLoss);
    assert.deepEqual(done.prediction, uninterrupted.prediction);
    await whole.close();
    await page.close();
  },
);

/** Polls `read` until it returns something other than `before` (at most a minute). */
async function _changed(read: () => Promise<string>, before: string): Promise<string> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    const now = await read();
    if (now !== before) return now;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the chart did not change within a minute");
}

_pageTest("playground: close the browsers and the server", async () => {
  await site!.close();
});
