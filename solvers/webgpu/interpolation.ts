/**
 * Outputs at any times on the GPU: Hermite cubic interpolation inside each
 * accepted step of an adaptive solve, and its VJP; the mirror of the `ts`
 * part of solvers/outputs.ts. On an interval `[t_A, t_B]` of length `h`,
 *
 *     p(τ) = h00(s) y_A + h h10(s) f_A + h01(s) y_B + h h11(s) f_B,   s = (τ − t_A)/h,
 *
 * with `f_A = f(t_A, y_A)`, `f_B = f(t_B, y_B)`. Backwards, each end gets
 * `ȳ += Σ_τ h0·(s) p̄(τ)` directly and `f̄ = Σ_τ h h1·(s) p̄(τ)` through the
 * field, whose VJP (an Euler increment with `h = 1`) adds `J_fᵀ f̄` to `ȳ`
 * and `J_θᵀ f̄` to the parameter gradient.
 *
 * The interval and the outputs inside it (`k0 ≤ k < k1`) come from the
 * controller's state (adaptive.ts).
 *
 * @module
 */

import type { GpuAdaptive } from "./adaptive.ts";
import { CONTROL } from "./adaptive_layout.ts";
import type { GpuContext, Slice } from "./runtime/context.ts";
import type { GpuIncrement } from "./increment.ts";
import type { GpuOutputs } from "./outputs.ts";
import type { Op } from "./runtime/recorder.ts";
import { linearGroups, linearMain, u32 } from "./runtime/wgsl.ts";

/** The Hermite basis on `s ∈ [0, 1]`, as solvers/outputs.ts writes it. */
const BASIS = `fn h00(s: f32) -> f32 { return (2.0 * s - 3.0) * s * s + 1.0; }
fn h10(s: f32) -> f32 { return ((s - 2.0) * s + 1.0) * s; }
fn h01(s: f32) -> f32 { return (3.0 - 2.0 * s) * s * s; }
fn h11(s: f32) -> f32 { return (s - 1.0) * s * s; }`;

/**
 * The interpolation kernels of one adaptive solve.
 *
 * @example Used by the adaptive reversible gradient
 * ```ts
 * import { GpuInterpolation } from "./interpolation.ts";
 * import { adaptiveReversibleGradient, type AdaptiveParts } from "./gradients/adaptive.ts";
 * import { GpuSolver } from "./solve.ts";
 * import { findGpuAdapter } from "./runtime/device.ts";
 * import { Recorder } from "./runtime/recorder.ts";
 * import { Mlp } from "../fields/mlp.ts";
 * import { pid } from "../controller.ts";
 * import { bosh3 } from "../tableaux.ts";
 * import { reversible } from "../schemes/spec.ts";
 * import assert from "node:assert/strict";
 *
 * const adapter = await findGpuAdapter();
 * if (adapter !== null) {
 *   const device = await adapter.requestDevice();
 *   // y' = -y (f(y) = w y + b, θ = [w, b] = [-1, 0]) from y0 = 1; outputs at 0.3 and 1
 *   const solver = GpuSolver.create(device, {
 *     field: new Mlp({ dim: 1, widths: [] }), params: Float64Array.of(-1, 0), y0: Float64Array.of(1),
 *     scheme: reversible(bosh3), t1: 1, controller: pid({ rtol: 1e-5, atol: 1e-5, maxSteps: 64 }),
 *     saveAt: { t0: true, ts: [0.3, 1] },
 *   });
 *   const p = solver.steppedProblem!, a = solver.adaptive!;
 *   // The parts as GpuSolver assembles them; the outputs after y(t0) start at slot 1
 *   const parts: AdaptiveParts = {
 *     adaptive: a, fieldA: a.setup.fieldA, fieldB: a.setup.fieldB, saveT0: solver.saveT0,
 *     interpolation: new GpuInterpolation(solver.ctx, a, p.outputs, 1),
 *   };
 *   const run = adaptiveReversibleGradient(p, parts);
 *   solver.setData(Float64Array.of(0, 0, 1)); // L = y(1)
 *   const rec = new Recorder(solver.ctx);
 *   run.forward(rec);
 *   run.backward(rec, true);
 *   rec.submit();
 *   const ys = await solver.readYs(); // y(0.3) inside an accepted step, interpolated
 *   [0, 0.3, 1].forEach((t, k) => assert.ok(Math.abs(ys[k] - Math.exp(-t)) < 1e-4));
 *   // y(1) = y0 e^w + b (e^w − 1) / w
 *   const [dw, db] = await solver.readParamsBar();
 *   assert.ok(Math.abs(dw - Math.exp(-1)) < 1e-3);
 *   assert.ok(Math.abs(db - (1 - Math.exp(-1))) < 1e-3);
 *   solver.destroy();
 *   device.destroy();
 * }
 * ```
 */
export class GpuInterpolation {
  /** Scratch `f̄` of one end, `[batch, dim]`. */
  readonly fBar: Slice;
  readonly #ctx: GpuContext;
  readonly #adaptive: GpuAdaptive;
  readonly #outputs: GpuOutputs;
  readonly #base: number;
  readonly #n: number;

  /**
   * Allocates the scratch.
   *
   * @param ctx The context.
   * @param adaptive The controller (interval, output range, times).
   * @param outputs The saved outputs.
   * @param base Slot of the first interpolated output (1 when `y(t0)` takes slot 0).
   */
  constructor(ctx: GpuContext, adaptive: GpuAdaptive, outputs: GpuOutputs, base: number) {
    this.#ctx = ctx;
    this.#adaptive = adaptive;
    this.#outputs = outputs;
    this.#base = base;
    this.#n = adaptive.setup.batch * adaptive.setup.dim;
    this.fBar = ctx.buffer("interpolation.fbar", this.#n);
  }

  /**
   * The dispatch that writes the outputs inside the current interval.
   *
   * @param yA `y_A`.
   * @param fA The increment holding `f_A` (stage 0).
   * @param yB `y_B`.
   * @param fB The increment holding `f_B`.
   * @returns The dispatch.
   */
  forwardOps(yA: Slice, fA: GpuIncrement, yB: Slice, fB: GpuIncrement): Op[] {
    const n = this.#n;
    return this.#op(
      "interpolation.forward",
      [["ya", yA], ["fa", fA.kRegion], ["yb", yB], ["fb", fB.kRegion], [
        "ys",
        this.#outputs.ys,
      ]],
      `  ys[(${u32(this.#base)} + k) * ${u32(n)} + i] = h00(s) * ya[i] + (h * h10(s)) * fa[i] +
      h01(s) * yb[i] + (h * h11(s)) * fb[i];`,
      "",
      "",
    );
  }

  /**
   * The dispatch of one end's share of the VJP: adds `Σ h0·(s) p̄` to
   * `yBar` and writes `f̄` to {@link GpuInterpolation.fBar}, for the
   * field's VJP at that end.
   *
   * @param side `"A"` (the start of the interval) or `"B"` (its end).
   * @param yBar The cotangent of that end's `y`.
   * @returns The dispatch.
   */
  sideVjpOps(side: "A" | "B", yBar: Slice): Op[] {
    const [hy, hf] = side === "A" ? ["h00", "h10"] : ["h01", "h11"];
    const outputs = this.#outputs;
    const bindings: [string, Slice][] = [
      ...outputs.cotangentBindings().map((b, j): [string, Slice] => [
        b.name,
        outputs.cotangentSlices()[j],
      ]),
      ["ybar", yBar],
      ["fbar", this.fBar],
    ];
    return this.#op(
      `interpolation.vjp.${side}`,
      bindings,
      `    let c = cotangent(${u32(this.#base)} + k, i);
    fsum += (h * ${hf}(s)) * c;
    ysum += ${hy}(s) * c;`,
      "  var fsum = 0.0;\n  var ysum = 0.0;",
      "  fbar[i] = fsum;\n  ybar[i] += ysum;",
      outputs.cotangentCode(),
    );
  }

  /**
   * The dispatch that adds the field VJP's `J_fᵀ f̄` (left by `field`'s
   * VJP in its stage cotangents) to `yBar`.
   *
   * @param field The Euler increment whose VJP ran.
   * @param yBar The cotangent of that end's `y`.
   * @returns The dispatch.
   */
  addFieldVjpOps(field: GpuIncrement, yBar: Slice): Op[] {
    const ctx = this.#ctx;
    const kernel = ctx.kernel({
      name: "interpolation.vjp.field",
      bindings: [{ name: "bars", access: "read" }, { name: "ybar", access: "read_write" }],
      code: linearMain(this.#n, `  ybar[i] += ${field.yBarSum("bars")};`),
    });
    return [{
      kernel,
      group: ctx.bind(kernel, [field.barRegion, yBar]),
      groups: linearGroups(this.#n, 64),
    }];
  }

  /** An element-wise kernel looping over the interval's outputs `k` with `s` and `h` set. */
  #op(
    name: string,
    bindings: [string, Slice][],
    loop: string,
    before: string,
    after: string,
    header = "",
  ): Op[] {
    const ctx = this.#ctx;
    const C = CONTROL;
    const kernel = ctx.kernel({
      name,
      bindings: [
        { name: "ctl", access: "read" },
        { name: "ts", access: "read" },
        ...bindings.map(([b]) => ({ name: b, access: "read_write" as const })),
      ],
      header: `${BASIS}\n${header}`,
      code: linearMain(
        this.#n,
        `  let tA = ctl[${C.tA}];
  let h = ctl[${C.tB}] - tA;
${before}
  for (var k = u32(ctl[${C.k0}]); k < u32(ctl[${C.k1}]); k++) {
    let s = (ts[k] - tA) / h;
${loop}
  }
${after}`,
      ),
    });
    const a = this.#adaptive;
    return [{
      kernel,
      group: ctx.bind(kernel, [a.control, a.ts, ...bindings.map(([, s]) => s)]),
      groups: linearGroups(this.#n, 64),
    }];
  }
}
