import { chromium } from "playwright-core";
const server = Deno.serve({ hostname: "127.0.0.1", port: 8765, onListen: () => {} }, async (r) => {
  const name = new URL(r.url).pathname.slice(1) || "index.html";
  try { return new Response(await Deno.readFile(`/tmp/pg/${name}`), { headers: { "content-type": name.endsWith(".js") ? "text/javascript" : "text/html" } }); } catch { return new Response("nf", { status: 404 }); }
});
const args = Deno.args[0] === "gpu" ? ["--enable-unsafe-webgpu", "--enable-features=Vulkan"] : ["--disable-gpu"];
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", ...args] });
const p = await b.newPage();
p.on("console", (m) => console.log("console:", m.text()));
p.on("pageerror", (e) => console.log("pageerror:", e.message));
const t0 = Date.now();
await p.goto("http://127.0.0.1:8765/" + (Deno.args[1] ?? "?example=white-dwarf&iterations=5&autostart"));
for (let i = 0; i < 12; i++) {
  await new Promise((r) => setTimeout(r, 5000));
  console.log((Date.now() - t0) / 1000, "s:", await p.textContent("#status"), "|", await p.textContent("#backend"), "|", await p.textContent("#summary"), "|", await p.textContent("#error"));
  if ((await p.textContent("#status")) === "done") break;
}
await b.close(); await server.shutdown();
