// Part 1: one thread, per size (64 B, 4 KiB, 64 KiB, 1 MiB, 4 MiB). The pool's cache-hit
// acquire + bytes + release and its `get()` lease (released with `Symbol.dispose`), beside what a
// user would otherwise write: Buffer.allocUnsafe, new Uint8Array, new SharedArrayBuffer, and
// @thi.ng/malloc's malloc/free over an ArrayBuffer (single-thread; it has no thread safety), and
// the same over a SharedArrayBuffer with an Atomics lock around each malloc and free: what a user
// would need to share it between threads.
// Every case writes the first and last byte of the memory it takes and reads them back.
//
//   node --expose-gc bench/single-thread.bench.mjs [--quick] [--json <path>]
//
// Full runs: 3 rounds, each in a fresh process; medians of the rounds' mitata medians, and the
// speed-ups are medians of the per-round ratios (each ratio within one process and one round).
import { MemPool } from '@thi.ng/malloc';
import { SlabPool } from '@zeropool/core';
import { do_not_optimize } from 'mitata';
import { KiB, MiB, fmtBytes, fmtHeap, fmtNs, fmtRatio, round } from './lib/format.mjs';
import { header, inRounds, measureCases, median, parseOptions, table, writeFigures } from './lib/harness.mjs';

const options = parseOptions();
const SIZES = [64, 4 * KiB, 64 * KiB, MiB, 4 * MiB];
const ROUNDS = 3;
const CASES = ['pool', 'lease', 'allocUnsafe', 'uint8array', 'sab', 'malloc', 'lockedMalloc'];
const label = {
  pool: 'pool acquire+bytes+release',
  lease: 'pool get() lease + dispose',
  allocUnsafe: 'Buffer.allocUnsafe',
  uint8array: 'new Uint8Array',
  sab: 'new SharedArrayBuffer',
  malloc: '@thi.ng/malloc malloc+free',
  lockedMalloc: '@thi.ng/malloc malloc+free, locked',
};
const nameOf = (c, size) => `${label[c]} ${fmtBytes(size)}`;

let sink = 0;

/** The cases for one size; each closure captures its own constants. */
function casesFor(size, pool, mem, heap, shared) {
  const last = size - 1;
  return [
    {
      name: nameOf('pool', size),
      baseline: true,
      fn: () => {
        const id = pool.acquire(size);
        const view = pool.bytes(id);
        view[0] = 1;
        view[last] = 2;
        sink += view[0] + view[last];
        pool.release(id);
      },
    },
    {
      name: nameOf('lease', size),
      fn: () => {
        const lease = pool.get(size);
        const view = lease.bytes;
        view[0] = 1;
        view[last] = 2;
        sink += view[0] + view[last];
        lease[Symbol.dispose]();
      },
    },
    {
      name: nameOf('allocUnsafe', size),
      fn: () => {
        const view = Buffer.allocUnsafe(size);
        view[0] = 1;
        view[last] = 2;
        sink += view[0] + view[last];
        do_not_optimize(view);
      },
    },
    {
      name: nameOf('uint8array', size),
      fn: () => {
        const view = new Uint8Array(size);
        view[0] = 1;
        view[last] = 2;
        sink += view[0] + view[last];
        do_not_optimize(view);
      },
    },
    {
      name: nameOf('sab', size),
      fn: () => {
        const view = new Uint8Array(new SharedArrayBuffer(size));
        view[0] = 1;
        view[last] = 2;
        sink += view[0] + view[last];
        do_not_optimize(view);
      },
    },
    {
      name: nameOf('malloc', size),
      fn: () => {
        const address = mem.malloc(size);
        heap[address] = 1;
        heap[address + last] = 2;
        sink += heap[address] + heap[address + last];
        mem.free(address);
      },
    },
    {
      name: nameOf('lockedMalloc', size),
      fn: () => {
        const { mem, heap, lock } = shared;
        // Taken by compare-exchange, given back by a store: the least a shared allocator needs.
        while (Atomics.compareExchange(lock, 0, 0, 1) !== 0);
        const address = mem.malloc(size);
        Atomics.store(lock, 0, 0);
        heap[address] = 1;
        heap[address + last] = 2;
        sink += heap[address] + heap[address + last];
        while (Atomics.compareExchange(lock, 0, 0, 1) !== 0);
        mem.free(address);
        Atomics.store(lock, 0, 0);
      },
    },
  ];
}

async function oneRound({ print }) {
  // maxSlabSize is also the page size, so the arena holds one 4 MiB page per class used (5) plus
  // room; 64 MiB leaves most of it free.
  const pool = new SlabPool({ arenaBytes: 64 * MiB, maxSlabSize: 4 * MiB });
  const groups = SIZES.map((size) => {
    // One @thi.ng/malloc pool per size, over a plain ArrayBuffer with room for a few blocks.
    const mem = new MemPool({ size: Math.max(64 * KiB, 2 * size + 4 * KiB) });
    const heap = new Uint8Array(mem.buf);
    const sharedBuffer = new SharedArrayBuffer(Math.max(64 * KiB, 2 * size + 4 * KiB));
    const sharedMem = new MemPool({ buf: sharedBuffer });
    const shared = { mem: sharedMem, heap: new Uint8Array(sharedBuffer), lock: new Int32Array(new SharedArrayBuffer(4)) };
    // Warm the pool's cache so the measured loop hits it.
    pool.release(pool.acquire(size));
    return { title: `${fmtBytes(size)}, one thread (pool = baseline)`, cases: casesFor(size, pool, mem, heap, shared) };
  });
  const figures = await measureCases(groups, { options, print });
  if (sink === -1) console.log(sink);
  return { figures, cacheHit: pool.stats().refills };
}

if (options.round === undefined) {
  header(
    'Part 1: single thread, per size',
    options,
    'pool cache hit (acquire+bytes+release) and get() lease vs Buffer.allocUnsafe, new Uint8Array, new SharedArrayBuffer, @thi.ng/malloc (bare, and locked for sharing); each writes and reads the first and last byte',
  );
}
const rounds = await inRounds({ url: import.meta.url, options, rounds: ROUNDS, work: oneRound });

// Per size and case: median over rounds of the mitata median; speed-ups: median of per-round ratios.
const sizes = SIZES.map((size) => {
  const medianNs = {};
  const poolIsFaster = {};
  const perRound = {};
  for (const c of CASES) {
    const name = nameOf(c, size);
    medianNs[c] = round(median(rounds.map((r) => r.figures[name].p50)));
    perRound[c] = rounds.map((r) => round(r.figures[name].p50));
    if (c !== 'pool')
      poolIsFaster[c] = round(median(rounds.map((r) => r.figures[name].p50 / r.figures[nameOf('pool', size)].p50)));
  }
  const heapBytes = round(median(rounds.map((r) => r.figures[nameOf('pool', size)].heap ?? Number.NaN)));
  const leaseHeapBytes = round(median(rounds.map((r) => r.figures[nameOf('lease', size)].heap ?? Number.NaN)));
  return {
    size,
    medianNs,
    poolIsFaster,
    perRound,
    poolHeapBytesPerIteration: heapBytes,
    leaseHeapBytesPerIteration: leaseHeapBytes,
  };
});

console.log(
  `\nPart 1 summary: medians of ${rounds.length} round(s); "x" = how many times longer the alternative took than the pool's cache hit (same round)`,
);
const rows = [
  ['size', 'pool', 'get() lease', 'allocUnsafe', 'Uint8Array', 'SharedArrayBuffer', '@thi.ng/malloc', 'locked @thi.ng/malloc'],
];
for (const s of sizes) {
  const cell = (c) => `${fmtNs(s.medianNs[c])}${c === 'pool' ? '' : ` (${fmtRatio(s.poolIsFaster[c])})`}`;
  rows.push([fmtBytes(s.size), ...CASES.map(cell)]);
}
console.log(table(rows));
console.log(
  `pool heap per iteration (mitata): ${sizes.map((s) => `${fmtBytes(s.size)} ${fmtHeap(s.poolHeapBytesPerIteration)}`).join(', ')}`,
);
console.log(
  `get() lease heap per iteration: ${sizes.map((s) => `${fmtBytes(s.size)} ${fmtHeap(s.leaseHeapBytesPerIteration)}`).join(', ')}`,
);

writeFigures(options, {
  part: 'single-thread',
  title: 'Single thread, per size',
  rounds: rounds.length,
  roundCpus: rounds.map((r) => ({ atStart: r.cpuAtStart ?? null, atEnd: r.cpu ?? null })),
  method:
    'mitata medians per case; median over rounds (fresh process each); speed-up = alternative / pool within a round, median over rounds',
  cases: label,
  sizes,
});
