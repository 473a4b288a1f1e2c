/**
 * The MLP's three products over a block of rows, each summed in the order of
 * the one-row reference (mlp_layers.ts), so bit-identical to it: the forward
 * `z = W x + b` and, right beside it, the two products of its VJP,
 * `W̄ += δ xᵀ` and `Wᵀ δ`. Blocked four rows by two columns, so that each
 * load feeds several multiply–adds.
 *
 * @module
 */

/**
 * `z = W x + b` for `n` rows, summed as the one-row reference sums: `b_j`
 * first, then `W_jk x_k` for k ascending. Four rows by two outputs at a
 * time: eight sums in registers, six loads for sixteen flops.
 * @example z = [1 2] x + 0.5 for one row x = [1, 1]
 * ```ts
 * import { affine } from "./mlp_products.ts";
 * import assert from "node:assert/strict";
 *
 * const pre = new Float64Array(1);
 * affine(Float64Array.of(1, 2, 0.5), 0, 2, 1, Float64Array.of(1, 1), 0, 2, pre, 0, 1, 1);
 * assert.deepEqual(pre, Float64Array.of(3.5));
 * ```
 */
export function affine(
  params: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  acts: Float64Array,
  inAt: number,
  as: number,
  pre: Float64Array,
  preAt: number,
  ps: number,
  n: number,
): void {
  const bias = w + nOut * nIn;
  const pairs = nOut & ~1;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const x0 = inAt + r * as, x1 = x0 + as, x2 = x1 + as, x3 = x2 + as;
    const z0 = preAt + r * ps, z1 = z0 + ps, z2 = z1 + ps, z3 = z2 + ps;
    let j = 0;
    for (; j < pairs; j += 2) {
      const bj = params[bias + j], bk = params[bias + j + 1];
      let s0 = bj, s1 = bj, s2 = bj, s3 = bj;
      let t0 = bk, t1 = bk, t2 = bk, t3 = bk;
      const wj = w + j * nIn, wk = wj + nIn;
      for (let k = 0; k < nIn; k++) {
        const u = params[wj + k], v = params[wk + k];
        const a0 = acts[x0 + k], a1 = acts[x1 + k], a2 = acts[x2 + k], a3 = acts[x3 + k];
        s0 += u * a0;
        s1 += u * a1;
        s2 += u * a2;
        s3 += u * a3;
        t0 += v * a0;
        t1 += v * a1;
        t2 += v * a2;
        t3 += v * a3;
      }
      pre[z0 + j] = s0;
      pre[z1 + j] = s1;
      pre[z2 + j] = s2;
      pre[z3 + j] = s3;
      pre[z0 + j + 1] = t0;
      pre[z1 + j + 1] = t1;
      pre[z2 + j + 1] = t2;
      pre[z3 + j + 1] = t3;
    }
    if (j < nOut) {
      const bj = params[bias + j];
      let s0 = bj, s1 = bj, s2 = bj, s3 = bj;
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) {
        const u = params[wj + k];
        s0 += u * acts[x0 + k];
        s1 += u * acts[x1 + k];
        s2 += u * acts[x2 + k];
        s3 += u * acts[x3 + k];
      }
      pre[z0 + j] = s0;
      pre[z1 + j] = s1;
      pre[z2 + j] = s2;
      pre[z3 + j] = s3;
    }
  }
  for (; r < n; r++) {
    const x0 = inAt + r * as;
    const z0 = preAt + r * ps;
    for (let j = 0; j < nOut; j++) {
      let s = params[bias + j];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) s += params[wj + k] * acts[x0 + k];
      pre[z0 + j] = s;
    }
  }
}

/**
 * `b̄ += δ`, `W̄ += δ xᵀ` over `n` rows, each entry receiving the rows'
 * terms in ascending order as the one-row reference adds them: four rows
 * per load and store of an entry, two outputs per load of the inputs.
 * Entry (r, j) of δ is at `r·rs + j·cs`.
 * @example W̄ += δ xᵀ, b̄ += δ for one row, δ = [2], x = [1, 3]
 * ```ts
 * import { weightGradient } from "./mlp_products.ts";
 * import assert from "node:assert/strict";
 *
 * const bar = new Float64Array(3);
 * weightGradient(bar, 0, 2, 1, Float64Array.of(2), 1, 1, Float64Array.of(1, 3), 0, 2, 1);
 * assert.deepEqual(bar, Float64Array.of(2, 6, 2));
 * ```
 */
export function weightGradient(
  paramsBar: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  grad: Float64Array,
  rs: number,
  cs: number,
  acts: Float64Array,
  inAt: number,
  as: number,
  n: number,
): void {
  const bias = w + nOut * nIn;
  for (let j = 0; j < nOut; j++) {
    let bj = paramsBar[bias + j];
    for (let r = 0; r < n; r++) bj += grad[r * rs + j * cs];
    paramsBar[bias + j] = bj;
  }
  const pairs = nOut & ~1;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const x0 = inAt + r * as, x1 = x0 + as, x2 = x1 + as, x3 = x2 + as;
    const g0 = r * rs, g1 = g0 + rs, g2 = g1 + rs, g3 = g2 + rs;
    let j = 0;
    for (; j < pairs; j += 2) {
      const jc = j * cs;
      const d0 = grad[g0 + jc], d1 = grad[g1 + jc], d2 = grad[g2 + jc], d3 = grad[g3 + jc];
      const kc = jc + cs;
      const e0 = grad[g0 + kc], e1 = grad[g1 + kc], e2 = grad[g2 + kc], e3 = grad[g3 + kc];
      const wj = w + j * nIn, wk = wj + nIn;
      for (let k = 0; k < nIn; k++) {
        const a0 = acts[x0 + k], a1 = acts[x1 + k], a2 = acts[x2 + k], a3 = acts[x3 + k];
        let s = paramsBar[wj + k];
        s += d0 * a0;
        s += d1 * a1;
        s += d2 * a2;
        s += d3 * a3;
        paramsBar[wj + k] = s;
        let t = paramsBar[wk + k];
        t += e0 * a0;
        t += e1 * a1;
        t += e2 * a2;
        t += e3 * a3;
        paramsBar[wk + k] = t;
      }
    }
    if (j < nOut) {
      const jc = j * cs;
      const d0 = grad[g0 + jc], d1 = grad[g1 + jc], d2 = grad[g2 + jc], d3 = grad[g3 + jc];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) {
        let s = paramsBar[wj + k];
        s += d0 * acts[x0 + k];
        s += d1 * acts[x1 + k];
        s += d2 * acts[x2 + k];
        s += d3 * acts[x3 + k];
        paramsBar[wj + k] = s;
      }
    }
  }
  for (; r < n; r++) {
    const x0 = inAt + r * as, g0 = r * rs;
    for (let j = 0; j < nOut; j++) {
      const d = grad[g0 + j * cs];
      const wj = w + j * nIn;
      for (let k = 0; k < nIn; k++) paramsBar[wj + k] += d * acts[x0 + k];
    }
  }
}

/**
 * `gradIn = Wᵀ δ` over `n` rows, each entry summed as the reference sums it
 * (`0`, then `W_jk δ_j` for j ascending). From four rows on, `W` is first
 * copied transposed so that each sum runs over contiguous memory, four rows
 * by two inputs at a time.
 * @example Wᵀ δ for W = [1 2], δ = [3]
 * ```ts
 * import { transposedProduct } from "./mlp_products.ts";
 * import assert from "node:assert/strict";
 *
 * const out = new Float64Array(2);
 * transposedProduct(Float64Array.of(1, 2), 0, 2, 1, Float64Array.of(3), 1, out, 1, new Float64Array(2));
 * assert.deepEqual(out, Float64Array.of(3, 6));
 * ```
 */
export function transposedProduct(
  params: Float64Array,
  w: number,
  nIn: number,
  nOut: number,
  grad: Float64Array,
  gs: number,
  gradIn: Float64Array,
  n: number,
  wt: Float64Array,
): void {
  if (n < 4) {
    for (let r = 0; r < n; r++) {
      const g = r * gs;
      for (let k = 0; k < nIn; k++) {
        let s = 0;
        for (let j = 0; j < nOut; j++) s += params[w + j * nIn + k] * grad[g + j];
        gradIn[g + k] = s;
      }
    }
    return;
  }
  for (let j = 0; j < nOut; j++) {
    const wj = w + j * nIn;
    for (let k = 0; k < nIn; k++) wt[k * nOut + j] = params[wj + k];
  }
  const pairs = nIn & ~1;
  let r = 0;
  for (; r + 4 <= n; r += 4) {
    const g0 = r * gs, g1 = g0 + gs, g2 = g1 + gs, g3 = g2 + gs;
    let k = 0;
    for (; k < pairs; k += 2) {
      const tk = k * nOut, tl = tk + nOut;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
      for (let j = 0; j < nOut; j++) {
        const a = wt[tk + j], b = wt[tl + j];
        const d0 = grad[g0 + j], d1 = grad[g1 + j], d2 = grad[g2 + j], d3 = grad[g3 + j];
        s0 += a * d0;
        s1 += a * d1;
        s2 += a * d2;
        s3 += a * d3;
        u0 += b * d0;
        u1 += b * d1;
        u2 += b * d2;
        u3 += b * d3;
      }
      gradIn[g0 + k] = s0;
      gradIn[g1 + k] = s1;
      gradIn[g2 + k] = s2;
      gradIn[g3 + k] = s3;
      gradIn[g0 + k + 1] = u0;
      gradIn[g1 + k + 1] = u1;
      gradIn[g2 + k + 1] = u2;
      gradIn[g3 + k + 1] = u3;
    }
    if (k < nIn) {
      const tk = k * nOut;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < nOut; j++) {
        const wk = wt[tk + j];
        s0 += wk * grad[g0 + j];
        s1 += wk * grad[g1 + j];
        s2 += wk * grad[g2 + j];
        s3 += wk * grad[g3 + j];
      }
      gradIn[g0 + k] = s0;
      gradIn[g1 + k] = s1;
      gradIn[g2 + k] = s2;
      gradIn[g3 + k] = s3;
    }
  }
  for (; r < n; r++) {
    const g = r * gs;
    for (let k = 0; k < nIn; k++) {
      const tk = k * nOut;
      let s = 0;
      for (let j = 0; j < nOut; j++) s += wt[tk + j] * grad[g + j];
      gradIn[g + k] = s;
    }
  }
}
