import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

if (isMainThread) {
  const pool = new SlabPool({ arenaBytes: 16 * 1024 * 1024 });
  // The arena travels once, in workerData; after that only ids cross threads.
  const worker = new Worker(new URL(import.meta.url), { workerData: { pool: pool.handle } });
  worker.on('message', ({ sum, stats }) => {
    console.log(`worker summed ${sum}; slabs leased now: ${stats.classes.reduce((n, c) => n + c.leased, 0)}`);
    void worker.terminate();
  });
  await new Promise((resolve) => worker.once('online', resolve));
  const id = pool.acquire(1000); // a 1024-byte slab
  pool.bytes(id).fill(3, 0, 1000);
  worker.postMessage({ id, length: 1000 }); // a small integer, not a copy
} else {
  const pool = SlabPool.attach(workerData.pool); // the same pool, not a copy
  parentPort.on('message', ({ id, length }) => {
    const bytes = pool.bytes(id).subarray(0, length);
    const sum = bytes.reduce((a, b) => a + b, 0);
    pool.release(id); // any thread may release
    pool.flush(); // hand this thread's cached slabs back, so stats() shows them free
    parentPort.postMessage({ sum, stats: pool.stats() });
  });
}
