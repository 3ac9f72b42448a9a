// Part 2: the Rust crate's cache patterns (its README's "Cache Behavior Benchmarks"), rebuilt so
// that each says what it does and writes and reads the memory it takes, next to the allocation a
// user would otherwise make, in the same run. One thread.
//
// - ping-pong: two 64 KiB buffers in flight at once, taken and given back in turn.
// - hot/cold: every iteration a hot 4 KiB buffer; every 16th also a cold 1 MiB one.
// - multi-size: a fixed pseudo-random sequence over seven sizes from 64 B to 1 MiB.
// - thread cache size 2/4/8 (and the default): bursts of 8 acquires of 4 KiB, then 8 releases.
//   With a cache smaller than the burst, the burst refills and spills through the shard lock.
//   Labels are taken from `pool.config.cacheSize` and the class's effective capacity.
// - exhaustion pressure: a pool whose 4 KiB class is full but for 4 slabs: take the 4, fail a
//   fifth `tryAcquire` (the exhausted path: every shard and the arena checked), give the 4 back.
//
//   node --expose-gc bench/cache-patterns.bench.mjs [--quick] [--json <path>]
import { MemPool } from '@thi.ng/malloc';
import { SlabPool } from '@zeropool/core';
import { do_not_optimize } from 'mitata';
import { KiB, MiB, fmtNs, fmtRatio, round } from './lib/format.mjs';
import { header, inRounds, measureCases, median, parseOptions, table, writeFigures } from './lib/harness.mjs';
import { mulberry32 } from './lib/prng.mjs';

const options = parseOptions();
const ROUNDS = 3;
const BURST = 8;
const MULTI_SIZES = [64, 512, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB];
const MULTI_LENGTH = 1024;

let sink = 0;
const touch = (view, last) => {
  view[0] = 1;
  view[last] = 2;
  sink += view[0] + view[last];
};

/** How many 4 KiB ids a thread of `pool` caches: `cacheSize`, capped by `cacheBytes`. */
const effectiveCapacity = (pool, slabSize) =>
  Math.min(pool.config.cacheSize, Math.max(1, Math.floor(pool.config.cacheBytes / slabSize)));

function pingPong(pool) {
  const size = 64 * KiB;
  const last = size - 1;
  return {
    title: 'ping-pong: two 64 KiB buffers in flight, released in the order taken',
    cases: [
      {
        name: 'ping-pong pool',
        baseline: true,
        fn: () => {
          const a = pool.acquire(size);
          const b = pool.acquire(size);
          touch(pool.bytes(a), last);
          touch(pool.bytes(b), last);
          pool.release(a);
          pool.release(b);
        },
      },
      {
        name: 'ping-pong Buffer.allocUnsafe',
        fn: () => {
          const a = Buffer.allocUnsafe(size);
          const b = Buffer.allocUnsafe(size);
          touch(a, last);
          touch(b, last);
          do_not_optimize(a);
          do_not_optimize(b);
        },
      },
    ],
  };
}

function hotCold(pool) {
  const hot = 4 * KiB;
  const cold = MiB;
  let i = 0;
  let j = 0;
  return {
    title: 'hot/cold: a 4 KiB buffer every iteration, a 1 MiB one every 16th',
    cases: [
      {
        name: 'hot/cold pool',
        baseline: true,
        fn: () => {
          const h = pool.acquire(hot);
          touch(pool.bytes(h), hot - 1);
          if ((++i & 15) === 0) {
            const c = pool.acquire(cold);
            touch(pool.bytes(c), cold - 1);
            pool.release(c);
          }
          pool.release(h);
        },
      },
      {
        name: 'hot/cold Buffer.allocUnsafe',
        fn: () => {
          const h = Buffer.allocUnsafe(hot);
          touch(h, hot - 1);
          if ((++j & 15) === 0) {
            const c = Buffer.allocUnsafe(cold);
            touch(c, cold - 1);
            do_not_optimize(c);
          }
          do_not_optimize(h);
        },
      },
    ],
  };
}

function multiSize(pool) {
  const random = mulberry32(4);
  const sequence = Int32Array.from({ length: MULTI_LENGTH }, () => MULTI_SIZES[Math.floor(random() * MULTI_SIZES.length)]);
  const mem = new MemPool({ size: 4 * MiB });
  const heap = new Uint8Array(mem.buf);
  let a = 0;
  let b = 0;
  let c = 0;
  return {
    title: `multi-size: one buffer at a time, sizes from a fixed random sequence over ${MULTI_SIZES.length} sizes (64 B to 1 MiB)`,
    cases: [
      {
        name: 'multi-size pool',
        baseline: true,
        fn: () => {
          const size = sequence[a++ & (MULTI_LENGTH - 1)];
          const id = pool.acquire(size);
          touch(pool.bytes(id), size - 1);
          pool.release(id);
        },
      },
      {
        name: 'multi-size Buffer.allocUnsafe',
        fn: () => {
          const size = sequence[b++ & (MULTI_LENGTH - 1)];
          const view = Buffer.allocUnsafe(size);
          touch(view, size - 1);
          do_not_optimize(view);
        },
      },
      {
        name: 'multi-size @thi.ng/malloc',
        fn: () => {
          const size = sequence[c++ & (MULTI_LENGTH - 1)];
          const address = mem.malloc(size);
          heap[address] = 1;
          heap[address + size - 1] = 2;
          sink += heap[address] + heap[address + size - 1];
          mem.free(address);
        },
      },
    ],
  };
}

function cacheSizes() {
  const size = 4 * KiB;
  const pools = [2, 4, 8, undefined].map(
    (cacheSize) => new SlabPool({ arenaBytes: 16 * MiB, ...(cacheSize ? { cacheSize } : {}) }),
  );
  const cases = pools.map((pool, k) => {
    const ids = new Float64Array(BURST);
    const capacity = effectiveCapacity(pool, size);
    const name = `burst of ${BURST}, cacheSize=${pool.config.cacheSize}${k === pools.length - 1 ? ' (default)' : ''}${capacity !== pool.config.cacheSize ? ` (effective ${capacity})` : ''}`;
    return {
      name,
      cacheSize: pool.config.cacheSize,
      effectiveCapacity: capacity,
      pool,
      baseline: k === pools.length - 1,
      fn: () => {
        for (let i = 0; i < BURST; i++) {
          const id = pool.acquire(size);
          touch(pool.bytes(id), size - 1);
          ids[i] = id;
        }
        for (let i = 0; i < BURST; i++) pool.release(ids[i]);
      },
    };
  });
  return { title: `thread cache size: bursts of ${BURST} acquires of 4 KiB, then ${BURST} releases (per burst)`, cases };
}

function exhaustion() {
  const size = 4 * KiB;
  const FREE = 4;
  // Small pools (64 KiB pages, 1 MiB arena, 4 shards) whose 4 KiB class is full: `nearly` keeps
  // FREE slabs free, `full` none.
  const fill = (keepFree) => {
    const pool = new SlabPool({ arenaBytes: MiB, maxSlabSize: 64 * KiB, cacheSize: 8 });
    const held = [];
    for (let id = pool.tryAcquire(size); id !== -1; id = pool.tryAcquire(size)) held.push(id);
    for (let i = 0; i < keepFree; i++) pool.release(held.pop());
    return { pool, held: held.length };
  };
  const nearly = fill(FREE);
  const full = fill(0);
  const ids = new Float64Array(FREE);
  let failed = 0;
  let succeeded = 0;
  return {
    held: nearly.held,
    free: FREE,
    title: `exhaustion pressure: ${nearly.held} of ${nearly.held + FREE} 4 KiB slabs held; take the last ${FREE}, fail one tryAcquire, give ${FREE} back`,
    cases: [
      {
        name: `exhaustion: take ${FREE}, fail 1, release ${FREE}`,
        baseline: true,
        fn: () => {
          const pool = nearly.pool;
          for (let i = 0; i < FREE; i++) {
            const id = pool.acquire(size);
            touch(pool.bytes(id), size - 1);
            ids[i] = id;
          }
          if (pool.tryAcquire(size) === -1) failed++;
          else succeeded++;
          for (let i = 0; i < FREE; i++) pool.release(ids[i]);
        },
      },
      {
        name: 'exhaustion: tryAcquire on a full class (returns -1)',
        fn: () => {
          if (full.pool.tryAcquire(size) === -1) failed++;
          else succeeded++;
        },
      },
    ],
    counts: () => ({ failed, succeeded }),
  };
}

async function oneRound({ print }) {
  const pool = new SlabPool({ arenaBytes: 64 * MiB });
  const sizes = cacheSizes();
  const exhausted = exhaustion();
  const groups = [pingPong(pool), hotCold(pool), multiSize(pool), sizes, exhausted];
  const figures = await measureCases(groups, { options, print });
  if (sink === -1) console.log(sink);
  const refills = Object.fromEntries(sizes.cases.map((c) => [c.name, c.pool.stats().refills]));
  return {
    figures,
    cacheSizes: sizes.cases.map((c) => ({ name: c.name, cacheSize: c.cacheSize, effectiveCapacity: c.effectiveCapacity })),
    refills,
    exhaustion: { held: exhausted.held, free: exhausted.free, ...exhausted.counts() },
  };
}

if (options.round === undefined) {
  header(
    "Part 2: the Rust crate's cache patterns",
    options,
    'one thread; every case writes and reads the first and last byte of each buffer',
  );
}
const rounds = await inRounds({ url: import.meta.url, options, rounds: ROUNDS, work: oneRound });

const med = (name) => round(median(rounds.map((r) => r.figures[name].p50)));
const ratio = (name, base) => round(median(rounds.map((r) => r.figures[name].p50 / r.figures[base].p50)));
const patterns = {
  pingPong: {
    perIterationNs: { pool: med('ping-pong pool'), allocUnsafe: med('ping-pong Buffer.allocUnsafe') },
    poolIsFaster: { allocUnsafe: ratio('ping-pong Buffer.allocUnsafe', 'ping-pong pool') },
  },
  hotCold: {
    perIterationNs: { pool: med('hot/cold pool'), allocUnsafe: med('hot/cold Buffer.allocUnsafe') },
    poolIsFaster: { allocUnsafe: ratio('hot/cold Buffer.allocUnsafe', 'hot/cold pool') },
  },
  multiSize: {
    perIterationNs: {
      pool: med('multi-size pool'),
      allocUnsafe: med('multi-size Buffer.allocUnsafe'),
      malloc: med('multi-size @thi.ng/malloc'),
    },
    poolIsFaster: {
      allocUnsafe: ratio('multi-size Buffer.allocUnsafe', 'multi-size pool'),
      malloc: ratio('multi-size @thi.ng/malloc', 'multi-size pool'),
    },
  },
  cacheSizes: rounds[0].cacheSizes.map((c) => ({
    ...c,
    perBurstNs: med(c.name),
    perAcquireReleaseNs: round(med(c.name) / BURST),
  })),
  exhaustion: {
    held: rounds[0].exhaustion.held,
    free: rounds[0].exhaustion.free,
    cycleNs: med('exhaustion: take 4, fail 1, release 4'),
    failingTryAcquireNs: med('exhaustion: tryAcquire on a full class (returns -1)'),
    // Every measured tryAcquire that should fail did: a success here would mean the setup is wrong.
    unexpectedSuccesses: Math.max(...rounds.map((r) => r.exhaustion.succeeded)),
  },
};

console.log(`\nPart 2 summary: medians of ${rounds.length} round(s), per iteration`);
console.log(
  table([
    ['pattern', 'pool', 'Buffer.allocUnsafe', '@thi.ng/malloc'],
    [
      'ping-pong (2 x 64 KiB)',
      fmtNs(patterns.pingPong.perIterationNs.pool),
      `${fmtNs(patterns.pingPong.perIterationNs.allocUnsafe)} (${fmtRatio(patterns.pingPong.poolIsFaster.allocUnsafe)})`,
      '-',
    ],
    [
      'hot/cold (4 KiB, 1 MiB)',
      fmtNs(patterns.hotCold.perIterationNs.pool),
      `${fmtNs(patterns.hotCold.perIterationNs.allocUnsafe)} (${fmtRatio(patterns.hotCold.poolIsFaster.allocUnsafe)})`,
      '-',
    ],
    [
      'multi-size (64 B..1 MiB)',
      fmtNs(patterns.multiSize.perIterationNs.pool),
      `${fmtNs(patterns.multiSize.perIterationNs.allocUnsafe)} (${fmtRatio(patterns.multiSize.poolIsFaster.allocUnsafe)})`,
      `${fmtNs(patterns.multiSize.perIterationNs.malloc)} (${fmtRatio(patterns.multiSize.poolIsFaster.malloc)})`,
    ],
  ]),
);
console.log(
  table([
    ['thread cache', 'per burst of 8', 'per acquire+release'],
    ...patterns.cacheSizes.map((c) => [
      `cacheSize=${c.cacheSize} (effective ${c.effectiveCapacity})`,
      fmtNs(c.perBurstNs),
      fmtNs(c.perAcquireReleaseNs),
    ]),
  ]),
);
console.log(
  `exhaustion pressure (${patterns.exhaustion.held} slabs held): take ${patterns.exhaustion.free} + failing tryAcquire + release ${patterns.exhaustion.free} = ${fmtNs(patterns.exhaustion.cycleNs)}; a tryAcquire on a full class alone: ${fmtNs(patterns.exhaustion.failingTryAcquireNs)}${patterns.exhaustion.unexpectedSuccesses ? ` (WARNING: ${patterns.exhaustion.unexpectedSuccesses} tryAcquire calls succeeded)` : ''}`,
);

writeFigures(options, {
  part: 'cache-patterns',
  title: "The Rust crate's cache patterns",
  rounds: rounds.length,
  roundCpus: rounds.map((r) => ({ atStart: r.cpuAtStart ?? null, atEnd: r.cpu ?? null })),
  patterns,
});
