/**
 * The CPU backend in a Web Worker: the page posts a {@link WorkerRequest},
 * the worker trains with `trainInChunks` (the library's `train()`, float64)
 * and posts a {@link WorkerReport} after the first iteration, after every
 * chunk and at the end, so the page stays responsive while it trains.
 *
 * @module
 */

import type { TrainState } from "../../training/state.ts";
import { problemOf, type Setup } from "./problem.ts";
import { type RunEnd, trainInChunks } from "./session.ts";

/** What the page asks of the worker. */
export type WorkerRequest =
  | { type: "start"; setup: Setup; target: number; resume?: TrainState }
  | { type: "stop" };

/** What the worker tells the page. */
export type WorkerReport =
  | { type: "first"; iteration: number }
  | { type: "chunk"; state: TrainState }
  | { type: "end"; end: RunEnd }
  | { type: "error"; message: string };

/** The worker's global scope, as far as it is used. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReport): void;
}

/**
 * Answers the page's requests in this worker.
 *
 * @param scope The worker's global scope (`self`).
 */
export function startWorker(scope: WorkerScope): void {
  let stop = false;
  scope.onmessage = (event) => {
    const request = event.data;
    if (request.type === "stop") {
      stop = true;
      return;
    }
    stop = false;
    const start = request.resume?.iteration ?? 0;
    (async () => {
      const problem = problemOf(request.setup);
      const end = await trainInChunks({
        problem,
        backend: "cpu",
        target: request.target,
        ...(request.resume === undefined ? {} : { resume: request.resume }),
        onLoss: (iteration) => {
          if (iteration === start + 1) scope.postMessage({ type: "first", iteration });
        },
        onChunk: (state) => scope.postMessage({ type: "chunk", state }),
        shouldStop: () => stop,
      });
      scope.postMessage({ type: "end", end });
    })().catch((error) =>
      scope.postMessage({
        type: "error",
        message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
    );
  };
}
