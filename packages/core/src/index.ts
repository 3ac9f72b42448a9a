export { DEBUG_ENV, LEAK_DETECTION_ENV, PARALLELISM_ENV, defaultsFor, detectParallelism, resolveConfig } from './config.js';
export {
  AcquireTimeoutError,
  LockTimeoutError,
  PoolExhaustedError,
  ReclaimLiveThreadError,
  SlabCorruptionError,
  SlabStateError,
} from './errors.js';
export { SlabPool } from './pool.js';
export type { ReclaimReport } from './recovery.js';
export type {
  AcquireAsyncOptions,
  ClassStats,
  LeakDetection,
  Lease,
  LeaseRecord,
  PoolHandle,
  PoolStats,
  ResolvedConfig,
  SlabPoolOptions,
  WatchedWorker,
} from './types.js';
