// How a fixture begins: the workerData its test sent, and a pool object attached to the test's pool.

import { workerData } from 'node:worker_threads';
import { type PoolHandle, SlabPool } from '../src/index.js';

/**
 * In a fixture: attaches to the pool whose handle the test sent as `workerData.handle`, and returns
 * that pool object as `pool` beside the rest of `workerData`, typed as `Data`.
 */
export function attachToTestPool<Data extends object>(): Data & { pool: SlabPool } {
  const data = workerData as Data & { handle: PoolHandle };
  return { ...data, pool: SlabPool.attach(data.handle) };
}
