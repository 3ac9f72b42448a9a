// Worker for bench/cache-scratch.bench.mjs.
// - scratch (mimalloc-bench's cache-scratch, passive false sharing): release the slab the main
//   thread acquired for this worker (the main thread took one per worker, back to back, so they
//   are neighbours in the arena), then `iterations` times: acquire a slab of `objectSize`, write
//   its first 8 bytes `inner` times, release it. A pool that hands the neighbouring slab back
//   makes the workers write next to each other.
// - shared-line: the control with real false sharing: no pool calls; worker i writes 8 bytes at
//   offset 32 * i of one 64-byte slab (what an allocator with 32-byte blocks could hand out).
// - locks: thread cache of 1 id: acquire two 4 KiB slabs, write both, release both; every
//   iteration refills from and spills to the worker's home shard, so each takes a shard lock
//   twice. With the default shards the workers' lock words are on different 128-byte lines; the
//   control pool has one shard, so they share one lock.
import { workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { clock, serveTeam } from '../lib/team.mjs';

const { variant, objectSize } = workerData;
let pool;
let sink = 0;

function scratch(given, iterations, inner) {
  const start = clock();
  pool.release(given);
  for (let it = 0; it < iterations; it++) {
    const id = pool.acquire(objectSize);
    const view = pool.bytes(id);
    for (let k = 0; k < inner; k++) view[k & 7] = view[k & 7] + 1;
    pool.release(id);
  }
  return { start, end: clock(), ops: iterations * inner };
}

function sharedLine(id, index, iterations, inner) {
  const view = pool.bytes(id);
  const offset = 32 * index;
  const start = clock();
  for (let it = 0; it < iterations; it++) {
    for (let k = 0; k < inner; k++) view[offset + (k & 7)] = view[offset + (k & 7)] + 1;
  }
  return { start, end: clock(), ops: iterations * inner };
}

function locks(iterations) {
  const start = clock();
  for (let it = 0; it < iterations; it++) {
    const a = pool.acquire(4096);
    const b = pool.acquire(4096);
    const va = pool.bytes(a);
    const vb = pool.bytes(b);
    va[0] = it;
    vb[4095] = it;
    sink += va[0] + vb[4095];
    pool.release(a);
    pool.release(b);
  }
  return { start, end: clock(), ops: 2 * iterations };
}

await serveTeam({
  workerData,
  setup: () => {
    pool = SlabPool.attach(workerData.pool);
  },
  // params: [iterations, inner, id for worker 0, id for worker 1, ...]
  batch: (params, index) => {
    const [iterations, inner] = params;
    if (variant === 'scratch') return scratch(params[2 + index], iterations, inner);
    if (variant === 'shared-line') return sharedLine(params[2], index, iterations, inner);
    return locks(iterations);
  },
  teardown: () => {
    if (sink === -1) console.log(sink);
    pool.close();
  },
});
