// Part 3d: alloc-test (mimalloc-bench), ported: a window of 256 live blocks; each step frees the
// oldest and allocates one of a skewed random size (60% 8-128 B, 25% to 2 KiB, 12% to 32 KiB,
// 3% to 1 MiB), writing its first and last byte.
// - wasted bytes per size class: a slab is a power of two, so a request wastes capacity - size;
//   computed over the request sequence, and cross-checked with the totals the workers saw;
// - one thread: pool vs @thi.ng/malloc (MemPool over a 64 MiB ArrayBuffer) vs Buffer.allocUnsafe
//   on the same sequence (mitata);
// - the pool with 1 and 2 workers, each with its own window and sequence (own timing).
//
//   node --expose-gc bench/alloc-test.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { MemPool } from '@thi.ng/malloc';
import { SlabPool } from '@zeropool/core';
import { do_not_optimize } from 'mitata';
import { MiB, fmtBytes, fmtNs, fmtRate, fmtRatio, round } from './lib/format.mjs';
import { header, measureCases, median, parseOptions, progress, progressDone, table, writeFigures } from './lib/harness.mjs';
import { skewedSizes, slabSizeFor } from './lib/sizes.mjs';
import { startTeam } from './lib/team.mjs';

const options = parseOptions();
const cores = availableParallelism();
const WINDOW = 256;
const SEQUENCE = 65_536;
const settings = options.quick ? { reps: 2, steps: SEQUENCE } : { reps: 5, steps: 4 * SEQUENCE };
const workerUrl = new URL('./workers/alloc-test-worker.mjs', import.meta.url);

header(
  'Part 3d: alloc-test (skewed sizes, wasted bytes per class)',
  options,
  `window of ${WINDOW} live blocks; sizes 60% <= 128 B, 25% <= 2 KiB, 12% <= 32 KiB, 3% <= 1 MiB`,
);

// 1. Waste per class over one sequence (worker 0's seed; each worker's sequence has the same mix).
const sequence = skewedSizes(1, SEQUENCE);
const classes = new Map();
for (const size of sequence) {
  const slab = slabSizeFor(size);
  const c = classes.get(slab) ?? { slabSize: slab, count: 0, requestedBytes: 0 };
  c.count++;
  c.requestedBytes += size;
  classes.set(slab, c);
}
const waste = [...classes.values()]
  .sort((a, b) => a.slabSize - b.slabSize)
  .map((c) => ({
    slabSize: c.slabSize,
    requests: c.count,
    sharePercent: round((c.count / SEQUENCE) * 100),
    meanRequestedBytes: round(c.requestedBytes / c.count),
    wastedBytesPerRequest: round(c.slabSize - c.requestedBytes / c.count),
    wastedPercent: round(((c.slabSize * c.count - c.requestedBytes) / (c.slabSize * c.count)) * 100),
  }));
const totalRequested = sequence.reduce((a, b) => a + b, 0);
const totalCapacity = sequence.reduce((a, b) => a + slabSizeFor(b), 0);
const overallWastePercent = round(((totalCapacity - totalRequested) / totalCapacity) * 100);
console.log(`\nwasted bytes per class (capacity - requested), over ${SEQUENCE} requests`);
console.log(
  table([
    ['slab', 'requests', 'share', 'mean request', 'wasted per request', 'wasted'],
    ...waste.map((w) => [
      fmtBytes(w.slabSize),
      String(w.requests),
      `${w.sharePercent}%`,
      `${w.meanRequestedBytes.toFixed(0)} B`,
      `${w.wastedBytesPerRequest.toFixed(0)} B`,
      `${w.wastedPercent}%`,
    ]),
  ]),
);
console.log(
  `overall: ${overallWastePercent}% of the bytes handed out were not asked for (powers of two; a uniform size within a class wastes about 25%)`,
);

// 2. One thread, same sequence: pool vs @thi.ng/malloc vs Buffer.allocUnsafe.
const pool = new SlabPool({ arenaBytes: 256 * MiB });
const mem = new MemPool({ size: 64 * MiB });
const heap = new Uint8Array(mem.buf);
let sink = 0;
let mallocFailures = 0;
// Ids are safe integers up to 2^53 - 1: a Float64Array holds them exactly, an Int32Array would not.
const poolWindow = new Float64Array(WINDOW).fill(-1);
const mallocWindow = new Int32Array(WINDOW).fill(0);
const bufferWindow = new Array(WINDOW).fill(null);
let a = 0;
let b = 0;
let c = 0;
const singleThread = await measureCases(
  [
    {
      title: 'one thread: one alloc-test step (free the oldest of 256, allocate a skewed size)',
      cases: [
        {
          name: 'alloc-test pool',
          baseline: true,
          fn: () => {
            const slot = a & (WINDOW - 1);
            if (poolWindow[slot] !== -1) pool.release(poolWindow[slot]);
            const size = sequence[a++ & (SEQUENCE - 1)];
            const id = pool.acquire(size);
            const view = pool.bytes(id);
            view[0] = 1;
            view[size - 1] = 2;
            sink += view[0] + view[size - 1];
            poolWindow[slot] = id;
          },
        },
        {
          name: 'alloc-test @thi.ng/malloc',
          fn: () => {
            const slot = b & (WINDOW - 1);
            if (mallocWindow[slot] !== 0) mem.free(mallocWindow[slot]);
            const size = sequence[b++ & (SEQUENCE - 1)];
            const address = mem.malloc(size);
            if (address === 0) {
              mallocFailures++;
              mallocWindow[slot] = 0;
              return;
            }
            heap[address] = 1;
            heap[address + size - 1] = 2;
            sink += heap[address] + heap[address + size - 1];
            mallocWindow[slot] = address;
          },
        },
        {
          name: 'alloc-test Buffer.allocUnsafe',
          fn: () => {
            const slot = c & (WINDOW - 1);
            const size = sequence[c++ & (SEQUENCE - 1)];
            const view = Buffer.allocUnsafe(size);
            view[0] = 1;
            view[size - 1] = 2;
            sink += view[0] + view[size - 1];
            bufferWindow[slot] = view;
            do_not_optimize(view);
          },
        },
      ],
    },
  ],
  { options },
);
const oneThread = {
  nsPerStep: {
    pool: round(singleThread['alloc-test pool'].p50),
    malloc: round(singleThread['alloc-test @thi.ng/malloc'].p50),
    allocUnsafe: round(singleThread['alloc-test Buffer.allocUnsafe'].p50),
  },
  mallocFailures,
};
oneThread.poolIsFaster = {
  malloc: round(oneThread.nsPerStep.malloc / oneThread.nsPerStep.pool),
  allocUnsafe: round(oneThread.nsPerStep.allocUnsafe / oneThread.nsPerStep.pool),
};
console.log(
  `one thread, per step: pool ${fmtNs(oneThread.nsPerStep.pool)}, @thi.ng/malloc ${fmtNs(oneThread.nsPerStep.malloc)} (pool ${fmtRatio(oneThread.poolIsFaster.malloc)} as fast${mallocFailures ? `; ${mallocFailures} malloc failures` : ''}), Buffer.allocUnsafe ${fmtNs(oneThread.nsPerStep.allocUnsafe)} (${fmtRatio(oneThread.poolIsFaster.allocUnsafe)})`,
);
if (sink === -1) console.log(sink);

// 3. Workers, each with its own window and sequence.
async function workers(count) {
  const shared = new SlabPool({ arenaBytes: 256 * MiB });
  const team = await startTeam({
    url: workerUrl,
    count,
    data: (i) => ({ pool: shared.handle, seed: 1 + i, sequenceLength: SEQUENCE }),
  });
  try {
    await team.batch([SEQUENCE / 4]);
    const rates = [];
    const perWorker = [];
    let requested = 0;
    let capacity = 0;
    for (let r = 0; r < settings.reps; r++) {
      progress(`alloc-test: ${count} worker(s), batch ${r + 1} of ${settings.reps}`);
      const results = await team.batch([settings.steps]);
      const wallMs = Math.max(...results.map((x) => x.end)) - Math.min(...results.map((x) => x.start));
      rates.push(((count * settings.steps) / wallMs) * 1e3);
      for (const x of results) {
        perWorker.push((x.ops / (x.end - x.start)) * 1e3);
        requested += x.extra[0];
        capacity += x.extra[1];
      }
    }
    await team.close();
    const stats = shared.stats();
    return {
      workers: count,
      stepsPerSecond: Math.round(median(rates)),
      perWorkerStepsPerSecond: Math.round(median(perWorker)),
      wastedPercentSeen: round(((capacity - requested) / capacity) * 100),
      leasedAfter: stats.classes.reduce((n, k) => n + k.leased, 0),
      auditProblems: shared.audit().length,
      usedBytesAfter: stats.usedBytes,
    };
  } catch (error) {
    await team.close().catch(() => {});
    throw error;
  }
}
const multi = [];
for (const count of [1, 2]) multi.push(await workers(count));
progressDone();
console.log(`\npool with workers (each its own window; ${cores} CPU cores), median of ${settings.reps} batches`);
console.log(
  table([
    ['workers', 'steps/s', 'per worker', 'wasted (seen by workers)', 'leased after'],
    ...multi.map((m) => [
      String(m.workers),
      fmtRate(m.stepsPerSecond),
      fmtRate(m.perWorkerStepsPerSecond),
      `${m.wastedPercentSeen}%`,
      String(m.leasedAfter),
    ]),
  ]),
);

writeFigures(options, {
  part: 'alloc-test',
  title: 'alloc-test: skewed sizes, wasted bytes per class',
  window: WINDOW,
  sequenceLength: SEQUENCE,
  waste,
  overallWastePercent,
  oneThread,
  workers: multi,
});
