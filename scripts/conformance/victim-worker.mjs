// A worker to be terminated: holds `leased` slabs and `cached` more in its thread cache, says so,
// then churns (acquire, stamp, release, count it in `heartbeats`) until it is terminated, at
// whatever point that falls.

import { setImmediate } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';
import { prng, takeStamped } from './tokens.mjs';

const { handle, heartbeats, index, seed, leased, cached, maxSlabSize } = workerData;
const pool = SlabPool.attach(handle);
const random = prng(seed);
const held = Array.from({ length: leased }, () => pool.acquire(4096));
for (const id of Array.from({ length: cached }, () => pool.acquire(4096))) pool.release(id);
parentPort.postMessage({ type: 'ready', leased: held.length });

function churn() {
  for (let i = 0; i < 50; i++) {
    const slab = takeStamped(pool, random, maxSlabSize, 0xdead);
    if (slab === null) continue;
    pool.release(slab.id);
    Atomics.add(heartbeats, index, 1);
  }
  setImmediate(churn);
}
churn();
