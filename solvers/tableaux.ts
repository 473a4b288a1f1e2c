/**
 * The shipped Runge–Kutta methods, all non-FSAL (numerics.md §1): the
 * reversible scheme evaluates a method from two different states, so a last
 * stage cannot be re-used as the next first stage.
 *
 * @module
 */

import type { Tableau } from "./tableau.ts";

/**
 * Forward Euler: order 1, 1 stage. Used as the embedded estimate of {@link heun}.
 *
 * @example
 * ```ts
 * import { euler } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(euler.order, 1);
 * ```
 */
export const euler: Tableau = { name: "euler", order: 1, a: [[]], b: [1], c: [0] };

/**
 * Explicit midpoint: order 2, 2 stages.
 *
 * @example
 * ```ts
 * import { midpoint } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(midpoint.c, [0, 0.5]);
 * ```
 */
export const midpoint: Tableau = {
  name: "midpoint",
  order: 2,
  a: [[], [1 / 2]],
  b: [0, 1],
  c: [0, 1 / 2],
};

/**
 * Heun's method (explicit trapezoid): order 2, 2 stages, embedded Euler
 * error estimate (order 1).
 *
 * @example
 * ```ts
 * import { heun } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(heun.errorOrder, 1);
 * ```
 */
export const heun: Tableau = {
  name: "heun",
  order: 2,
  a: [[], [1]],
  b: [1 / 2, 1 / 2],
  c: [0, 1],
  bError: [-1 / 2, 1 / 2],
  errorOrder: 1,
};

/**
 * Ralston's second-order method (minimum error bound): order 2, 2 stages.
 *
 * @example
 * ```ts
 * import { ralston } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(ralston.b, [0.25, 0.75]);
 * ```
 */
export const ralston: Tableau = {
  name: "ralston",
  order: 2,
  a: [[], [2 / 3]],
  b: [1 / 4, 3 / 4],
  c: [0, 2 / 3],
};

/**
 * Ralston's third-order method: order 3, 3 stages, c = 0, 1/2, 3/4.
 *
 * @example
 * ```ts
 * import { ralston3 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(ralston3.c, [0, 0.5, 0.75]);
 * ```
 */
export const ralston3: Tableau = {
  name: "ralston3",
  order: 3,
  a: [[], [1 / 2], [0, 3 / 4]],
  b: [2 / 9, 1 / 3, 4 / 9],
  c: [0, 1 / 2, 3 / 4],
};

/**
 * Kutta's third-order method: order 3, 3 stages.
 *
 * @example
 * ```ts
 * import { kutta3 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(kutta3.order, 3);
 * ```
 */
export const kutta3: Tableau = {
  name: "kutta3",
  order: 3,
  a: [[], [1 / 2], [-1, 2]],
  b: [1 / 6, 2 / 3, 1 / 6],
  c: [0, 1 / 2, 1],
};

/**
 * The classical Runge–Kutta method: order 4, 4 stages.
 *
 * @example
 * ```ts
 * import { rk4 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * // Order 4: its quadrature integrates t³ over [0, 1] exactly, Σ bᵢ cᵢ³ = 1/4.
 * const cubic = rk4.b.reduce((sum, b, i) => sum + b * rk4.c[i] ** 3, 0);
 * assert.ok(Math.abs(cubic - 1 / 4) < 1e-15);
 * ```
 */
export const rk4: Tableau = {
  name: "rk4",
  order: 4,
  a: [[], [1 / 2], [0, 1 / 2], [0, 0, 1]],
  b: [1 / 6, 1 / 3, 1 / 3, 1 / 6],
  c: [0, 1 / 2, 1 / 2, 1],
};

/**
 * Kutta's 3/8 rule: order 4, 4 stages.
 *
 * @example
 * ```ts
 * import { rk38 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(rk38.b, [1 / 8, 3 / 8, 3 / 8, 1 / 8]);
 * ```
 */
export const rk38: Tableau = {
  name: "rk38",
  order: 4,
  a: [[], [1 / 3], [-1 / 3, 1], [1, -1, 1]],
  b: [1 / 8, 3 / 8, 3 / 8, 1 / 8],
  c: [0, 1 / 3, 2 / 3, 1],
};

/**
 * Bogacki–Shampine 3(2): order 3, 4 stages (the fourth only feeds the
 * embedded second-order error estimate; FSAL re-use is off).
 *
 * @example
 * ```ts
 * import { bosh3 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(bosh3.errorOrder, 2);
 * ```
 */
export const bosh3: Tableau = {
  name: "bosh3",
  order: 3,
  a: [[], [1 / 2], [0, 3 / 4], [2 / 9, 1 / 3, 4 / 9]],
  b: [2 / 9, 1 / 3, 4 / 9, 0],
  c: [0, 1 / 2, 3 / 4, 1],
  bError: [2 / 9 - 7 / 24, 1 / 3 - 1 / 4, 4 / 9 - 1 / 3, -1 / 8],
  errorOrder: 2,
};

/**
 * Dormand–Prince 5(4): order 5, 7 stages (the seventh only feeds the
 * embedded fourth-order error estimate; FSAL re-use is off).
 *
 * @example
 * ```ts
 * import { dopri5 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(dopri5.order, 5);
 * ```
 */
export const dopri5: Tableau = {
  name: "dopri5",
  order: 5,
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  bError: [
    35 / 384 - 5179 / 57600,
    0,
    500 / 1113 - 7571 / 16695,
    125 / 192 - 393 / 640,
    -2187 / 6784 + 92097 / 339200,
    11 / 84 - 187 / 2100,
    -1 / 40,
  ],
  errorOrder: 4,
};

/**
 * Tsitouras 5(4): order 5, 7 stages (the seventh only feeds the embedded
 * fourth-order error estimate; FSAL re-use is off).
 *
 * @example
 * ```ts
 * import { tsit5 } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tsit5.c[1], 0.161);
 * ```
 */
export const tsit5: Tableau = {
  name: "tsit5",
  order: 5,
  a: [
    [],
    [0.161],
    [-0.008480655492356989, 0.335480655492357],
    [2.897153057105493, -6.359448489975075, 4.3622954328695815],
    [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
    [
      5.86145544294642,
      -12.92096931784711,
      8.159367898576159,
      -0.071584973281401,
      -0.028269050394068383,
    ],
    [
      0.09646076681806523,
      0.01,
      0.4798896504144996,
      1.379008574103742,
      -3.290069515436081,
      2.324710524099774,
    ],
  ],
  b: [
    0.09646076681806523,
    0.01,
    0.4798896504144996,
    1.379008574103742,
    -3.290069515436081,
    2.324710524099774,
    0,
  ],
  c: [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1],
  bError: [
    -0.00178001105222577714,
    -0.0008164344596567469,
    0.007880878010261995,
    -0.1447110071732629,
    0.5823571654525552,
    -0.45808210592918697,
    1 / 66,
  ],
  errorOrder: 4,
};

/**
 * Every shipped tableau by name.
 *
 * @example
 * ```ts
 * import { tableaux } from "./tableaux.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tableaux.rk4.order, 4);
 * ```
 */
export const tableaux: Readonly<Record<string, Tableau>> = {
  euler,
  midpoint,
  heun,
  ralston,
  ralston3,
  kutta3,
  rk4,
  rk38,
  bosh3,
  dopri5,
  tsit5,
};
