export { SlabPool } from './pool.js';
export { AcquireTimeoutError, PoolExhaustedError, ReclaimLiveThreadError, SlabCorruptionError, SlabStateError } from './errors.js';
export { defaultsFor, detectParallelism, resolveConfig, PARALLELISM_ENV, DEBUG_ENV, LEAK_DETECTION_ENV } from './config.js';
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
