// Memory that follows the workload: pages whose slabs are all free go back to the arena and any
// size class carves them again; thread caches give back classes they stopped using.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SlabPool, SlabStateError } from '../src/index.js';
import { SWEEP_SLOW_PATHS } from '../src/tiers.js';
import { acquireAll, runWorker, withSeed } from './helpers.js';
import { phaseMix } from './workload.js';

const MiB = 1 << 20;

describe('pages going back to the arena', () => {
  it.each([
    ['after flush()', true],
    ['without flush (the thread hands back its own cache)', false],
  ])('serves 1 MiB slabs from an 8 MiB arena once every 64-byte slab is released, %s', (_, flush) => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, minSlabSize: 64, maxSlabSize: MiB, parallelism: 2 });
    const small = acquireAll(pool, 64);
    expect(small.length).toBeGreaterThanOrEqual(98_304);
    for (const id of small) pool.release(id);
    if (flush) pool.flush();
    const big = acquireAll(pool, MiB);
    // At least 7 of the 8 MiB serve 1 MiB slabs (the tables take the rest of the first page).
    expect(big.length * MiB).toBeGreaterThanOrEqual(7 * MiB);
    const stats = pool.stats();
    expect(stats.pagesReturned).toBe(big.length);
    expect(stats.pagesRecarved).toBe(big.length);
    expect(stats.classes[0]).toMatchObject({ pages: 0, slabs: 0 });
    expect(stats.classes.at(-1)).toMatchObject({ pages: big.length, leased: big.length });
    for (const [i, id] of big.entries()) pool.bytes(id).fill(i + 1);
    for (const [i, id] of big.entries()) expect(pool.bytes(id).every((b) => b === i + 1)).toBe(true);
    for (const id of big) pool.release(id);
    expect(pool.audit()).toEqual([]);
    pool.close();
  });

  it('keeps ids of a page given back stale once it is carved again, into the same class or another', () => {
    const pool = new SlabPool({ arenaBytes: 4 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 1 });
    const first = acquireAll(pool, 4096);
    for (const id of first) pool.release(id);
    expect(pool.trim()).toBe(pool.stats().pagesFree);
    // The same class again: every slot gets a slab, each at the generation after its last release.
    const again = acquireAll(pool, 4096);
    expect(new Set(again.map((id) => id % 2 ** 32))).toEqual(new Set(first.map((id) => id % 2 ** 32)));
    const refused = (call: () => unknown): boolean => {
      try {
        call();
        return false;
      } catch (error) {
        return error instanceof SlabStateError;
      }
    };
    expect(first.filter((stale) => !refused(() => pool.release(stale)) || !refused(() => pool.bytes(stale)))).toEqual([]);
    for (const id of again) expect(pool.holderOf(id)).toBeGreaterThanOrEqual(0);
    for (const id of again) pool.release(id);
    // Another class: the slots of 64 KiB slabs are a sixteenth of the page's; ids of the others say so.
    pool.trim();
    const big = acquireAll(pool, 64 * 1024);
    expect(big.length).toBeGreaterThan(0);
    const error = (() => {
      try {
        pool.release(again[1]);
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SlabStateError);
    expect(error?.message).toMatch(/not in use: no page is carved into slabs that include it now/);
    // Views follow the page's new class: the same slot, another length.
    expect(pool.bytes(big[0]).length).toBe(64 * 1024);
    for (const id of big) pool.release(id);
    expect(pool.audit()).toEqual([]);
    pool.close();
  });

  it('keeps a page in its class while one slab of it is leased or cached anywhere, and gives it back once none is', async () => {
    const pool = new SlabPool({ arenaBytes: 4 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2 });
    const other = SlabPool.attach(pool.handle);
    const leased = pool.acquire(1024);
    const cachedByOther = other.acquire(2048);
    other.release(cachedByOther);
    pool.flush();
    const before = pool.stats();
    expect(pool.trim()).toBe(0);
    expect(pool.stats().pagesCarved).toBe(before.pagesCarved);
    pool.release(leased);
    // The other pool object answers the trim request from the event loop.
    expect(pool.trim()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(other.stats().classes.find((c) => c.slabSize === 2048)?.cached).toBe(0);
    expect(pool.trim()).toBe(1);
    expect(pool.stats()).toMatchObject({ pagesCarved: 0, pagesFree: 2, pagesReturned: 2 });
    expect(pool.audit()).toEqual([]);
    other.close();
    pool.close();
  });

  it('gives back the page whose slabs are all free and keeps the one another thread caches slabs of', () => {
    const pool = new SlabPool({ arenaBytes: 4 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 1 });
    const other = SlabPool.attach(pool.handle);
    other.release(other.acquire(1024)); // 16 slabs of the first page cached by the other object
    const cachedByOther = pool.stats().classes.find((c) => c.slabSize === 1024)?.cached ?? 0;
    expect(cachedByOther).toBeGreaterThan(0);
    // The rest of the first page and all of a second, leased here, then free in the shard.
    const ids = Array.from({ length: 128 - cachedByOther }, () => pool.acquire(1024));
    for (const id of ids) pool.release(id);
    pool.flush();
    expect(pool.stats().classes.find((c) => c.slabSize === 1024)).toMatchObject({ pages: 2, cached: cachedByOther });
    expect(pool.trim()).toBe(1);
    expect(pool.stats().classes.find((c) => c.slabSize === 1024)).toMatchObject({ pages: 1, cached: cachedByOther });
    // The other object's cached slabs are still its to use, in the page that stayed.
    const mine = other.acquire(1024);
    other.bytes(mine).fill(5);
    expect(pool.audit()).toEqual([]);
    other.release(mine);
    other.close();
    pool.close();
  });

  it('hands back the cached slabs of a class the thread stopped using, on its own slow paths', () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, cacheSize: 8 });
    pool.release(pool.acquire(256)); // 256-byte slabs cached, then never used again
    const cachedOf = () => pool.stats().classes.find((c) => c.slabSize === 256)?.cached ?? -1;
    expect(cachedOf()).toBeGreaterThan(0);
    // Churn of another class: 12 slabs in and out of a cache of 8 takes refills and spills.
    let slowPaths = 0;
    for (let round = 0; round < 4 * SWEEP_SLOW_PATHS && cachedOf() > 0; round++) {
      const ids = Array.from({ length: 12 }, () => pool.acquire(4096));
      for (const id of ids) pool.release(id);
      slowPaths = pool.stats().refills + pool.stats().spills;
    }
    expect(cachedOf()).toBe(0);
    expect(slowPaths).toBeLessThanOrEqual(2 * SWEEP_SLOW_PATHS + 2);
    expect(pool.stats().trims).toBeGreaterThanOrEqual(1);
    expect(pool.audit()).toEqual([]);
    pool.close();
  });
});

describe('a workload whose sizes shift', () => {
  it(
    'runs 200 phases of different sizes from 64 B to 1 MiB on 4 workers, live bytes under 60%, with no exhaustion and a clean audit after each',
    withSeed(async ({ seed }) => {
      const workers = 4;
      const phases = 200;
      const arenaBytes = 128 * MiB;
      const pool = new SlabPool({ arenaBytes, minSlabSize: 64, maxSlabSize: MiB, parallelism: 2 });
      const sync = new Int32Array(new SharedArrayBuffer(16));
      const liveLimit = Math.floor((0.6 * arenaBytes) / 64);
      const channels = Array.from({ length: workers }, () => new MessageChannel());
      try {
        const runs = Array.from({ length: workers }, (_, index) => {
          const next = channels[index].port1;
          const previous = channels[(index + workers - 1) % workers].port2;
          const data = {
            handle: pool.handle,
            seed,
            index,
            workers,
            phases,
            opsPerPhase: 1500,
            sync: sync.buffer,
            liveLimit,
            next,
            previous,
          };
          return runWorker<Record<string, number>>('phase-worker.ts', data, 120_000, [next, previous] as MessagePort[]);
        });
        const failed = Promise.race(runs.map((run) => run.done.then(() => new Promise<never>(() => {}))));
        for (let phase = 0; phase < phases; phase++) {
          const idle = (phase + 1) * workers;
          await Promise.race([
            failed,
            (async () => {
              while (Atomics.load(sync, 2) < idle) await new Promise((resolve) => setTimeout(resolve, 1));
            })(),
          ]);
          // Every worker has released everything and trimmed: nothing leased, cached or carved.
          expect(pool.audit(), `phase ${phase} (${phaseMix(seed, phase).join(', ')})`).toEqual([]);
          pool.trim();
          const stats = pool.stats();
          expect(
            {
              leased: stats.classes.reduce((n, c) => n + c.leased + c.cached, 0),
              carved: stats.pagesCarved,
              live: Atomics.load(sync, 3),
            },
            `phase ${phase}`,
          ).toEqual({ leased: 0, carved: 0, live: 0 });
          Atomics.store(sync, 0, phase + 1);
          Atomics.notify(sync, 0);
        }
        const results = await Promise.all(runs.map((run) => run.done));
        const total = (key: string) => results.reduce((n, r) => n + r[key], 0);
        const stats = pool.stats();
        console.log(
          `shifting sizes (seed ${seed}): ${phases} phases, ${total('acquired')} acquired, ${total('sent')} handed over, ` +
            `${total('skipped')} held back by the 60% cap; ${stats.pagesReturned} pages given back, ${stats.pagesRecarved} carved again`,
        );
        expect(total('acquired')).toBeGreaterThan(phases * workers * 300);
        expect(total('sent')).toBe(total('received'));
        expect(stats.exhausted).toBe(0);
        expect(stats.pagesRecarved).toBeGreaterThan(phases);
      } finally {
        for (const channel of channels) {
          channel.port1.close();
          channel.port2.close();
        }
        pool.close();
      }
    }),
    180_000,
  );
});
