/**
 * GPU-only: the WGSL the whole-solve kernels (whole_base.ts) run for one
 * trajectory — one increment `Ψ_h(t, y)` and its VJP, one step of the
 * reversible scheme and its VJP — with the tableau, the step table and the
 * network read from memory (`stages()`, `coef_a`, `coef_b`, `is_live`,
 * `steps`, `field`, `field_vjp`: whole_base.ts's header defines them).
 *
 * @module
 */

/**
 * WGSL of step `n` of the reversible scheme from `(y_n, z_n)`, keeping both
 * increments' stage inputs as `step_vjp` takes them (`inputs[0]`: those of
 * `Ψ_{−h}(t_{n+1}, y_{n+1})`, `inputs[1]`: those of `Ψ_h(t_n, z_n)`):
 * half 0 is `y_{n+1} = λ y_n + (1 − λ) z_n + Ψ_h(t_n, z_n)`, half 1
 * `z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1})`.
 *
 * @example
 * ```ts
 * import { STEP_CODE } from "./whole_step.ts";
 * import assert from "node:assert/strict";
 * assert.ok(STEP_CODE.includes("fn step_kept(n: u32"));
 * ```
 */
export const STEP_CODE: string =
  `struct Kept { y: array<f32, DIM>, z: array<f32, DIM>, inputs: array<array<array<f32, DIM>, S>, 2> }
fn step_kept(n: u32, yIn: array<f32, DIM>, zIn: array<f32, DIM>) -> Kept {
  var out: Kept;
  out.y = yIn;
  out.z = zIn;
  for (var half = 0u; half < halves(); half++) {
    let q = 1u + n * R + half * (2u + S);
    var x = out.z;
    if (half == 1u) { x = out.y; }
    var f = increment(steps[q + 1u], q + 2u, x);
    out.inputs[1u - half] = f.y;
    if (half == 0u) {
      for (var e = 0u; e < DIM; e++) { out.y[e] = LAM * out.y[e] + OML * out.z[e] + f.psi[e]; }
    } else {
      for (var e = 0u; e < DIM; e++) { out.z[e] = out.z[e] - f.psi[e]; }
    }
  }
  return out;
}`;

/**
 * WGSL of the VJP of step `n` of the reversible scheme (numerics.md §2,
 * backward pass steps 3 and 4), given both increments' stage inputs
 * (`inputs[0]`: those of `Ψ_{−h}(t_{n+1}, y_{n+1})`, `inputs[1]`: those of
 * `Ψ_h(t_n, z_n)`): `(ȳ_{n+1}, z̄_{n+1}) → (ȳ_n, z̄_n)`, the parameter
 * gradients added to row `b`'s column of `g`.
 *
 * @example
 * ```ts
 * import { STEP_VJP_CODE } from "./whole_step.ts";
 * import assert from "node:assert/strict";
 * assert.ok(STEP_VJP_CODE.includes("-> Cotangents"));
 * ```
 */
export const STEP_VJP_CODE: string = `struct Cotangents { yb: array<f32, DIM>, zb: array<f32, DIM> }
fn step_vjp(n: u32, inputs: array<array<array<f32, DIM>, S>, 2>, ybIn: array<f32, DIM>, zbIn: array<f32, DIM>, b: u32) -> Cotangents {
  var yb = ybIn;
  var zb = zbIn;
  var kept = inputs;
  // half 0: through z_{n+1} = z_n − Ψ_{−h}(t_{n+1}, y_{n+1}); half 1: through y_{n+1}
  for (var half = 0u; half < halves(); half++) {
    let q = 1u + n * R + (1u - half) * (2u + S);
    var u = yb;
    if (half == 0u) {
      for (var e = 0u; e < DIM; e++) { u[e] = -zb[e]; }
    }
    var a = increment_vjp(steps[q + 1u], q + 2u, kept[half], u, b);
    if (half == 0u) {
      for (var e = 0u; e < DIM; e++) { yb[e] += a[e]; }
    } else {
      for (var e = 0u; e < DIM; e++) {
        zb[e] += OML * yb[e] + a[e];
        yb[e] *= LAM;
      }
    }
  }
  return Cotangents(yb, zb);
}`;

/**
 * WGSL of one increment `Ψ_h(t, y)` and its VJP, for one trajectory, the
 * tableau read from memory (`stages()`, `coef_a`, `coef_b`, `is_live`):
 * `struct Stages { y: array<array<f32, DIM>, S>, psi: array<f32, DIM> }`
 * (the stage inputs `Y_i` and `Ψ`), `fn increment(h, st, y) -> Stages`
 * with the stage times at `steps[st + i]`, and
 * `fn increment_vjp(h, st, ys, u, row) -> array<f32, DIM>` (`Σ_i Ȳ_i` for
 * the cotangent `ū`, the parameter gradients added by `field_vjp`). Only
 * the live stages are evaluated; zero coefficients are skipped, so the sums
 * run as increment.ts's, term for term.
 *
 * @example
 * ```ts
 * import { INCREMENT_CODE } from "./whole_step.ts";
 * import assert from "node:assert/strict";
 * assert.ok(INCREMENT_CODE.includes("fn increment_vjp("));
 * ```
 */
export const INCREMENT_CODE: string =
  `struct Stages { y: array<array<f32, DIM>, S>, psi: array<f32, DIM> }
fn increment(h: f32, st: u32, y: array<f32, DIM>) -> Stages {
  var yv = y;
  var out: Stages;
  var k: array<array<f32, DIM>, S>;
  for (var i = 0u; i < stages(); i++) {
    if (!is_live(i)) { continue; }
    var yi: array<f32, DIM>;
    for (var e = 0u; e < DIM; e++) {
      var v = yv[e];
      for (var j = 0u; j < i; j++) {
        let a = coef_a(i, j);
        if (a != 0.0) { v += (h * a) * k[j][e]; }
      }
      yi[e] = v;
    }
    out.y[i] = yi;
    k[i] = field(steps[st + i], yi);
  }
  for (var e = 0u; e < DIM; e++) {
    var sum = 0.0;
    for (var j = 0u; j < stages(); j++) {
      let bj = coef_b(j);
      if (bj != 0.0) { sum = sum + (h * bj) * k[j][e]; }
    }
    out.psi[e] = sum;
  }
  return out;
}
fn increment_vjp(h: f32, st: u32, ys: array<array<f32, DIM>, S>, u: array<f32, DIM>, row: u32) -> array<f32, DIM> {
  var yv = ys;
  var uv = u;
  var bars: array<array<f32, DIM>, S>;
  for (var m = 0u; m < stages(); m++) {
    let i = stages() - 1u - m;
    if (!is_live(i)) { continue; }
    var kb: array<f32, DIM>;
    for (var e = 0u; e < DIM; e++) {
      var v = 0.0;
      let bi = coef_b(i);
      if (bi != 0.0) { v = (h * bi) * uv[e]; }
      for (var l = i + 1u; l < stages(); l++) {
        let a = coef_a(l, i);
        if (a != 0.0 && is_live(l)) { v += (h * a) * bars[l][e]; }
      }
      kb[e] = v;
    }
    bars[i] = field_vjp(steps[st + i], yv[i], kb, row);
  }
  var out: array<f32, DIM>;
  for (var e = 0u; e < DIM; e++) {
    var sum = 0.0;
    for (var j = 0u; j < stages(); j++) {
      if (is_live(j)) { sum = sum + bars[j][e]; }
    }
    out[e] = sum;
  }
  return out;
}`;
