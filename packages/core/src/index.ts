/**
 * A buffer pool for `worker_threads`: one `SharedArrayBuffer` carved into slabs that any thread of
 * the process takes in nanoseconds and hands to another thread as a small integer id.
 *
 * - {@link SlabPool}: create a pool, send `pool.handle` to other threads, `SlabPool.attach` it
 *   there; `acquire`/`bytes`/`release` by id, `get` for a lease usable with `using`,
 *   `acquireAsync` to wait for a slab, `reclaim`/`watch` to take back what a dead worker held.
 * - {@link SlabChannel}: `pool.channel()` makes a channel of slab ids in shared memory, with
 *   {@link ChannelSender} and {@link ChannelReceiver} ends, for pipelines of workers.
 * - Errors, each with a `code`: {@link SlabStateError} (an id that is not acquired),
 *   {@link PoolExhaustedError}, {@link AcquireTimeoutError}, {@link LockTimeoutError},
 *   {@link ReclaimLiveThreadError}, {@link SlabCorruptionError} (debug mode).
 * - Configuration: {@link SlabPoolOptions}; the defaults come from {@link defaultsFor} of
 *   {@link detectParallelism}; {@link resolveConfig} shows what a pool would use.
 *
 * Ownership rule: whoever holds an id may read and write its bytes and must release it exactly
 * once, from any thread; handing the id to another thread hands over that duty.
 * @packageDocumentation
 */

export { ChannelReceiver, ChannelSender, SlabChannel } from './channel.js';
export { DEBUG_ENV, LEAK_DETECTION_ENV, PARALLELISM_ENV, defaultsFor, detectParallelism, resolveConfig } from './config.js';
export type { ChannelErrorCode } from './errors.js';
export {
  AcquireTimeoutError,
  ChannelError,
  LockTimeoutError,
  PoolExhaustedError,
  ReclaimLiveThreadError,
  SlabCorruptionError,
  SlabStateError,
} from './errors.js';
export { SlabPool } from './pool.js';
export type {
  AcquireAsyncOptions,
  ChannelHandle,
  ChannelOptions,
  ChannelWaitOptions,
  ClassStats,
  LeakDetection,
  Lease,
  LeaseRecord,
  PoolHandle,
  PoolStats,
  ReceiverOptions,
  ReclaimReport,
  ResolvedConfig,
  SenderOptions,
  SlabPoolOptions,
  WatchedWorker,
} from './types.js';
