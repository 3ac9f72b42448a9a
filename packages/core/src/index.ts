export { SlabPool } from './pool.js';
export { PoolExhaustedError, SlabStateError } from './errors.js';
export { defaultsFor, detectParallelism, resolveConfig, PARALLELISM_ENV } from './config.js';
export type { ClassStats, Lease, PoolHandle, PoolStats, ResolvedConfig, SlabPoolOptions } from './types.js';
