/**
 * The `training` section of a model file: how far training went, how the
 * last run ended, the loss history, the gradient method's record and the
 * backend.
 *
 * @module
 */

import { GRADIENT_NAMES } from "./config.ts";
import type { FieldChecker } from "./model_check.ts";
import { BACKEND_NAMES, type TrainingInfo } from "./model_format.ts";
import type { GradientRecord } from "./state.ts";

/**
 * Parses and validates a model file's `training` section.
 *
 * @param c The checker of the file being read.
 * @param section The section, already checked to be an object.
 * @param iterations `training.iterations`, already checked: the length of
 * the loss history.
 * @returns The training record.
 * @throws {ModelFileError} Naming the first field that is missing or invalid.
 *
 * @example
 * ```ts
 * import { FieldChecker } from "./model_check.ts";
 * import { parseTrainingSection } from "./model_parse_training.ts";
 * import assert from "node:assert/strict";
 *
 * const section = {
 *   iterations: 1, plannedIterations: 1, status: "completed", reason: null, seconds: 0.5,
 *   history: { loss: [0.25], seconds: [0.5] }, gradient: null,
 * };
 * const training = parseTrainingSection(new FieldChecker("m.json"), section, 1);
 * assert.equal(training.backend, "cpu"); // files from before the WebGPU backend
 * assert.throws(() => parseTrainingSection(new FieldChecker("m.json"), section, 2),
 *   /training\.history\.loss is an array of length 1; expected an array of 2 numbers/);
 * ```
 */
export function parseTrainingSection(
  c: FieldChecker,
  section: Record<string, unknown>,
  iterations: number,
): TrainingInfo {
  const planned = c.number("training.plannedIterations", section.plannedIterations, {
    integer: true,
    min: 0,
  });
  const status = c.oneOf(
    "training.status",
    section.status,
    ["completed", "diverged", "interrupted"] as const,
  );
  const reason = section.reason === null ? null : c.string("training.reason", section.reason);
  const seconds = c.number("training.seconds", section.seconds, { min: 0 });
  const historyObject = c.object("training.history", section.history);
  const losses = c.numbers("training.history.loss", historyObject.loss, iterations);
  const times = c.numbers("training.history.seconds", historyObject.seconds, iterations);
  // present in runs that held data out for validation: one loss per iteration
  const validation = historyObject.validationLoss === undefined
    ? undefined
    : c.numbers("training.history.validationLoss", historyObject.validationLoss, iterations);
  const gradient = section.gradient === null ? null : _gradientRecord(c, section.gradient);
  // Absent in files written before the WebGPU backend: they were all trained on the CPU.
  const backend = section.backend === undefined
    ? "cpu"
    : c.oneOf("training.backend", section.backend, BACKEND_NAMES);
  return {
    iterations,
    plannedIterations: planned,
    status,
    reason,
    seconds,
    history: {
      loss: losses,
      seconds: times,
      ...(validation === undefined ? {} : { validationLoss: validation }),
    },
    gradient,
    backend,
  };
}

/** `training.gradient`: the work and memory of the last run's gradient method. */
function _gradientRecord(c: FieldChecker, value: unknown): GradientRecord {
  const g = c.object("training.gradient", value);
  return {
    method: c.oneOf("training.gradient.method", g.method, GRADIENT_NAMES),
    peakBytes: c.number("training.gradient.peakBytes", g.peakBytes, { integer: true, min: 0 }),
    stepsPerIteration: c.number("training.gradient.stepsPerIteration", g.stepsPerIteration, {
      integer: true,
      min: 0,
    }),
    evaluationsPerIteration: c.number(
      "training.gradient.evaluationsPerIteration",
      g.evaluationsPerIteration,
      { integer: true, min: 0 },
    ),
    vjpsPerIteration: c.number("training.gradient.vjpsPerIteration", g.vjpsPerIteration, {
      integer: true,
      min: 0,
    }),
    maxReconstructionError: g.maxReconstructionError === null
      ? null
      : c.number("training.gradient.maxReconstructionError", g.maxReconstructionError, {
        min: 0,
      }),
  };
}
