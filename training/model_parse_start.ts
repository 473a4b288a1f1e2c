/**
 * The `config.start` section of a model file: how the run's initial
 * parameters were chosen (`--restarts` probes, or an `--init` file). Files
 * written before it existed have none and read as before.
 *
 * @module
 */

import type { FieldChecker } from "./model_check.ts";
import type { StartRecord } from "./model_format.ts";

/** The forms of an `--init` file, as `config.start.init.form` names them. */
const _INIT_FORMS = ["model", "array", "object", "paper-inits"] as const;

/**
 * Parses and validates `config.start`.
 *
 * @param c The checker of the file being read.
 * @param value The section as read from JSON (undefined or null: none).
 * @param dim The state dimension (of a recorded normalisation).
 * @returns The record, or undefined when the file has none.
 * @throws {ModelFileError} Naming the first field that is missing or invalid.
 *
 * @example
 * ```ts
 * import { FieldChecker } from "./model_check.ts";
 * import { parseStartSection } from "./model_parse_start.ts";
 * import assert from "node:assert/strict";
 *
 * const c = new FieldChecker("m.json");
 * assert.equal(parseStartSection(c, undefined, 2), undefined);
 * const restarts = { probe: 4, baseSeed: 0, kept: 1,
 *   probes: [{ seed: 0, bestLoss: 0.2, status: "completed" }, { seed: 1, bestLoss: 0.1, status: "completed" }] };
 * assert.deepEqual(parseStartSection(c, { restarts }, 2), { restarts });
 * assert.throws(() => parseStartSection(c, { restarts: { ...restarts, kept: 7 } }, 2),
 *   /m\.json: config\.start\.restarts\.kept is 7; expected one of the probed seeds \(0, 1\)/);
 * assert.throws(() => parseStartSection(c, { init: { file: "x.json", form: "csv" } }, 2),
 *   /config\.start\.init\.form is "csv"; expected one of "model"/);
 * ```
 */
export function parseStartSection(
  c: FieldChecker,
  value: unknown,
  dim: number,
): StartRecord | undefined {
  if (value === undefined || value === null) return undefined;
  const s = c.object("config.start", value);
  const start: StartRecord = {};
  if (s.restarts !== undefined) start.restarts = _restarts(c, s.restarts);
  if (s.init !== undefined) start.init = _init(c, s.init, dim);
  return start;
}

/** `config.start.restarts`: the probes, and a kept seed that is one of them. */
function _restarts(c: FieldChecker, value: unknown): NonNullable<StartRecord["restarts"]> {
  const r = c.object("config.start.restarts", value);
  const probe = c.number("config.start.restarts.probe", r.probe, { integer: true, min: 1 });
  const baseSeed = c.number("config.start.restarts.baseSeed", r.baseSeed, { integer: true });
  if (!Array.isArray(r.probes) || r.probes.length === 0) {
    c.fail("config.start.restarts.probes", r.probes, "an array of probes");
  }
  const probes = (r.probes as unknown[]).map((p, i) => {
    const field = `config.start.restarts.probes[${i}]`;
    const o = c.object(field, p);
    return {
      seed: c.number(`${field}.seed`, o.seed, { integer: true }),
      bestLoss: o.bestLoss === null ? null : c.number(`${field}.bestLoss`, o.bestLoss, { min: 0 }),
      status: c.string(`${field}.status`, o.status),
    };
  });
  const kept = c.number("config.start.restarts.kept", r.kept, { integer: true });
  if (!probes.some((p) => p.seed === kept)) {
    c.fail(
      "config.start.restarts.kept",
      kept,
      `one of the probed seeds (${probes.map((p) => p.seed).join(", ")})`,
    );
  }
  return { probe, baseSeed, probes, kept };
}

/** `config.start.init`: the file, its form and what of it was taken. */
function _init(c: FieldChecker, value: unknown, dim: number): NonNullable<StartRecord["init"]> {
  const o = c.object("config.start.init", value);
  const init: NonNullable<StartRecord["init"]> = {
    file: c.string("config.start.init.file", o.file),
    form: c.oneOf("config.start.init.form", o.form, _INIT_FORMS),
  };
  if (o.seed !== undefined) {
    init.seed = c.number("config.start.init.seed", o.seed, { integer: true });
  }
  if (o.params !== undefined) {
    init.params = c.oneOf("config.start.init.params", o.params, ["best", "current"] as const);
  }
  if (o.normalization !== undefined) {
    const n = c.object("config.start.init.normalization", o.normalization);
    init.normalization = {
      shift: c.numbers("config.start.init.normalization.shift", n.shift, dim),
      scale: c.numbers("config.start.init.normalization.scale", n.scale, dim),
    };
  }
  return init;
}
