/**
 * What every time-stepping scheme provides: a forward step, its exact inverse
 * where the scheme is reversible, and the VJP of one step. States are lists of
 * `[batch, dim]` arrays; entry 0 is always the user-visible solution `y`.
 *
 * @module
 */

/**
 * A scheme bound to a field, a batch size and its own buffers.
 *
 * The contract the gradient methods rely on: after `step(t, h, …)` from state
 * `s_n` — or after `inverse(t, h, …)` back to `s_n` — the scheme's workspace
 * holds what `stepVjp(t, h, …)` needs for the step `s_n → s_{n+1}`.
 */
export interface Scheme {
  /** Name, for reports. */
  readonly name: string;
  /** Number of `[batch, dim]` arrays in a state. */
  readonly stateCount: number;
  /** Whether {@link Scheme.inverse} exists (algebraically exact). */
  readonly reversible: boolean;
  /**
   * Whether the scheme has a coupling λ (McCallum & Foster's reversible
   * scheme on a tableau): its inverse amplifies round-off by up to 1/λ per
   * step (numerics.md §2), which is what a drifting reconstruction's advice
   * depends on.
   */
  readonly coupled: boolean;
  /**
   * Order of the embedded lower-order solution behind the local error
   * estimate, or null when the scheme has no error estimate.
   */
  readonly errorOrder: number | null;
  /** Entries a gradient method must tape per step to replay `stepVjp` later. */
  readonly workspaceLength: number;
  /** Builds the initial state from `y0`. */
  init(t0: number, y0: Float64Array, params: Float64Array, state: Float64Array[]): void;
  /**
   * Adds, to `y0Bar`, the cotangent of `y0` through {@link Scheme.init}, given
   * the cotangent of the initial state.
   */
  initVjp(
    t0: number,
    y0: Float64Array,
    params: Float64Array,
    stateBar: Float64Array[],
    y0Bar: Float64Array,
    paramsBar: Float64Array,
  ): void;
  /**
   * Advances `state` in place from `t` to `t + h`; with `error`, also writes
   * the local error estimate of the solution `y` there (`errorOrder` not null).
   */
  step(
    t: number,
    h: number,
    params: Float64Array,
    state: Float64Array[],
    error?: Float64Array,
  ): void;
  /** Takes `state` in place from `t + h` back to `t`, exactly up to round-off. */
  inverse(t: number, h: number, params: Float64Array, state: Float64Array[]): void;
  /**
   * Replaces `stateBar`, the cotangent of the state after the step
   * `t → t + h`, by the cotangent of the state before it, and adds the
   * step's contribution to `paramsBar`. `after` is the state after the step.
   */
  stepVjp(
    t: number,
    h: number,
    params: Float64Array,
    after: Float64Array[],
    stateBar: Float64Array[],
    paramsBar: Float64Array,
  ): void;
  /** Copies the workspace of the latest step into `dst` at `offset`. */
  saveWorkspace(dst: Float64Array, offset: number): void;
  /** Restores a workspace saved by {@link Scheme.saveWorkspace}. */
  loadWorkspace(src: Float64Array, offset: number): void;
}
