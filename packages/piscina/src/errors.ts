/**
 * The `code` of every error `@zeropool/piscina` throws itself (errors of `@zeropool/core`, such as
 * `SlabStateError` with `ERR_SLAB_STATE`, carry their own; piscina's and the task's errors pass
 * through unchanged):
 *
 * - `ERR_INVALID_ARG_TYPE` (TypeError): an argument has the wrong type, as in Node's own APIs.
 * - `ERR_OUT_OF_RANGE` (RangeError): a `length` is not an integer from 0 to the slab's capacity.
 * - `ERR_SLAB_LENT` (Error): the id is lent to a task still running (`runWithLoans`), or its release
 *   waits for a terminated worker to exit; it cannot be handed over (`runWithSlabs`) meanwhile.
 * - `ERR_SLAB_HANDED_OVER` (Error): the id was handed to a task still running (`runWithSlabs`); it
 *   cannot be handed over again or lent meanwhile.
 * - `ERR_NOT_SLAB_PISCINA_WORKER` (TypeError): `getPool()` ran in a thread no `SlabPiscina` started.
 * @internal
 */
export type ErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_SLAB_LENT'
  | 'ERR_SLAB_HANDED_OVER'
  | 'ERR_NOT_SLAB_PISCINA_WORKER';

/** `error`, with `code` set. @internal */
export function withCode<E extends Error>(error: E, code: ErrorCode): E & { code: ErrorCode } {
  return Object.assign(error, { code });
}
