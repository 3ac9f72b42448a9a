// Worker for bench/alloc-test.bench.mjs (mimalloc-bench's alloc-test): keeps a window of WINDOW
// live slabs; each step releases the oldest and acquires one of a skewed random size (mostly
// small, a long tail to 1 MiB), writing its first and last byte. Returns the bytes requested and
// the capacity handed out, so the main thread can cross-check its per-class waste figures.
import { workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { skewedSizes } from '../lib/sizes.mjs';
import { clock, serveTeam } from '../lib/team.mjs';

const WINDOW = 256;
const { seed, sequenceLength } = workerData;
const SIZES = skewedSizes(seed, sequenceLength);
// Ids are safe integers up to 2^53 - 1: a Float64Array holds them exactly, an Int32Array would not.
const window = new Float64Array(WINDOW).fill(-1);
let pool;
let sink = 0;

function run(steps) {
  let requested = 0;
  let capacity = 0;
  const start = clock();
  for (let step = 0; step < steps; step++) {
    const slot = step & (WINDOW - 1);
    if (window[slot] !== -1) pool.release(window[slot]);
    const size = SIZES[step % sequenceLength];
    const id = pool.acquire(size);
    const view = pool.bytes(id);
    view[0] = step;
    view[size - 1] = step;
    sink += view[0] + view[size - 1];
    window[slot] = id;
    requested += size;
    capacity += view.length;
  }
  const end = clock();
  return { start, end, ops: steps, extra: [requested, capacity] };
}

await serveTeam({
  workerData,
  setup: () => {
    pool = SlabPool.attach(workerData.pool);
  },
  batch: ([steps]) => run(steps),
  teardown: () => {
    for (let i = 0; i < WINDOW; i++) if (window[i] !== -1) pool.release(window[i]);
    if (sink === -1) console.log(sink);
    pool.close();
  },
});
