// Worker for bench/larson.bench.mjs (mimalloc-bench's larson). One worker lives for one round:
// it attaches to the pool, runs `steps` replacements on the shared table of slab ids, then closes
// its pool object (freeing its thread slot) and exits; the next round's workers take over the
// table, so slabs acquired by one thread are released by others.
//
// A step picks a slot (7 in 8 in the worker's own region, which is reassigned at random every
// round; 1 in 8 anywhere: a random hand-off to another worker), takes its id with an atomic
// exchange, checks the stamp and releases it, acquires a slab of a random size (log-uniform 64 B
// to 8 KiB), stamps it and puts it back with another exchange; an id found there in between (a
// worker racing on the same slot) is released too, so nothing leaks.
import { workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { mulberry32 } from '../lib/prng.mjs';
import { logUniformSizes } from '../lib/sizes.mjs';
import { clock, serveTeam } from '../lib/team.mjs';

const { region, regionSlots, seed } = workerData;
// Ids are safe integers up to 2^53 - 1, exchanged atomically: one BigInt64Array element each.
const table = new BigInt64Array(workerData.table);
const SIZES = logUniformSizes(seed, 4096, 64, 8 * 1024);
const EMPTY = -1n;
let pool;
let badStamps = 0;
let released = 0;

const stamp = (view, n) => {
  view[0] = n;
  view[1] = n ^ 0xff;
  view[view.length - 1] = n;
};

function releaseChecked(id) {
  const view = pool.bytes(id);
  if (view[1] !== (view[0] ^ 0xff) || view[view.length - 1] !== view[0]) badStamps++;
  pool.release(id);
  released++;
}

function run(steps) {
  const random = mulberry32(seed);
  const slots = table.length;
  const base = region * regionSlots;
  const start = clock();
  for (let step = 0; step < steps; step++) {
    const slot = random() < 0.875 ? base + Math.floor(random() * regionSlots) : Math.floor(random() * slots);
    // Takes the slot's id: from here on this worker owns it and must release it.
    const old = Atomics.exchange(table, slot, EMPTY);
    if (old !== EMPTY) releaseChecked(Number(old));
    const id = pool.acquire(SIZES[step & 4095]);
    stamp(pool.bytes(id), step);
    // Publishes the new id (and its stamp, written before) to whichever thread takes it next.
    const raced = Atomics.exchange(table, slot, BigInt(id));
    if (raced !== EMPTY) releaseChecked(Number(raced));
  }
  return { start, end: clock(), ops: steps, extra: [released, badStamps] };
}

await serveTeam({
  workerData,
  setup: () => {
    pool = SlabPool.attach(workerData.pool);
  },
  batch: ([steps]) => run(steps),
  // Gives up the thread slot and hands the cache back before the thread exits.
  teardown: () => pool.close(),
});
