// A thread that died part-way through carving a page or moving a batch: nothing is lost or carved twice, and audit sees it.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError, SlabPool } from '../src/index.js';
import { H_ARENA_LOCK, H_PAGES_CARVED, lockOwnerValue, pageClassWord } from '../src/layout.js';
import { expectAllFree } from './all-free.js';
import { fixture, withSeed } from './helpers.js';
import { SIZE, startHolder } from './holder.js';
import { internalsOf } from './internals.js';

describe('carve', () => {
  it('leaves the arena as it was when the home shard lock times out while carving, and carves the page once after reclaim', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 1, lockTimeoutMs: 200 });
    const internals = internalsOf(pool);
    // The worker takes the class's only shard lock after this thread's refill found the shard
    // empty and before its carve links the new page there, and dies holding it.
    const { worker, tid, exited, flag } = await startHolder(pool, 'lock-when-asked', { leased: 0, cached: 0 });
    const carve = internals.carve;
    internals.carve = (c: number) => {
      internals.carve = carve;
      Atomics.store(flag, 1, 1);
      Atomics.notify(flag, 1);
      const deadline = Date.now() + 20_000;
      while (Atomics.load(flag, 2) === 0 && Date.now() < deadline) Atomics.wait(flag, 2, 0, 100);
      return carve.call(pool, c);
    };
    const cursors = () => [internals.words[H_PAGES_CARVED], internals.words[pageClassWord(internals.layout, 0)]];
    const before = pool.stats();
    const beforeCursors = cursors();
    expect(beforeCursors).toEqual([0, -1]);
    expect(() => pool.acquire(SIZE)).toThrow(LockTimeoutError);
    expect(Atomics.load(flag, 2)).toBe(1);
    expect(cursors()).toEqual(beforeCursors);
    expect({ ...pool.stats(), lockWaits: 0 }).toEqual({ ...before, lockWaits: 0 });
    // The next acquire times out on the same lock before it carves: still nothing changed.
    expect(() => pool.acquire(SIZE)).toThrow(LockTimeoutError);
    expect(cursors()).toEqual(beforeCursors);
    await worker.terminate();
    await exited;
    expect(pool.reclaim(tid).locks).toBe(1);
    const id = pool.acquire(SIZE);
    expect(pool.stats()).toMatchObject({ pagesCarved: 1, usedBytes: before.usedBytes + (1 << 20), metadataBytes: 12 * 256 });
    expect(cursors()).toEqual([1, 6]);
    pool.release(id);
    expectAllFree(pool);
  });
});

describe('reclaim of a thread that died carving a page', () => {
  it.each([1, 2, 3, 4, 5])(
    'loses no page and carves none twice when the thread stopped after step %i',
    async (step) => {
      const pool = new SlabPool({ arenaBytes: 8 << 20, parallelism: 2, shards: 2, lockTimeoutMs: 2000 });
      const kept = [pool.acquire(SIZE)]; // page 0, carved by this thread
      const flag = new SharedArrayBuffer(8);
      const worker = new Worker(fixture('carve-crash-worker.ts'), {
        workerData: { handle: pool.handle, size: 1024, step, flag },
      });
      const tid = worker.threadId;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      const view = new Int32Array(flag);
      const deadline = Date.now() + 20_000;
      while (Atomics.load(view, 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      expect(Atomics.load(view, 0), 'the worker reached the step').toBe(1);
      await worker.terminate();
      await exited;
      // It held the arena lock at every step, and from step 2 the home shard lock of its class.
      expect(pool.reclaim(tid).locks).toBe(step >= 2 ? 2 : 1);
      expect(pool.audit()).toEqual([]);
      // Fill the arena: every counted page has its slabs, and no two slabs overlap.
      for (const size of [1024, SIZE, 64 << 10]) {
        for (let id = pool.tryAcquire(size); id !== -1; id = pool.tryAcquire(size)) kept.push(id);
      }
      const stats = pool.stats();
      const slabBytes = stats.classes.reduce((sum, c) => sum + c.slabs * c.slabSize, 0);
      expect(slabBytes).toBe(stats.pagesCarved * stats.pageBytes);
      expect(stats.arenaBytes - stats.usedBytes).toBeLessThan(stats.pageBytes);
      const ranges = kept.map((id) => [pool.bytes(id).byteOffset, pool.capacity(id)]).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][0] + ranges[i - 1][1]);
      expect(kept.length).toBe(stats.classes.reduce((sum, c) => sum + c.slabs, 0));
      for (const id of kept) pool.release(id);
      expectAllFree(pool);
      pool.close();
    },
    30_000,
  );
});

describe('audit of the carving cursors', () => {
  it('reports a page count that does not cover the slabs carved, and an arena lock a dead thread holds', () => {
    const pool = new SlabPool({ arenaBytes: 8 << 20, parallelism: 2 });
    const { words } = internalsOf(pool);
    pool.release(pool.acquire(SIZE));
    expect(pool.audit()).toEqual([]);
    Atomics.store(words, H_PAGES_CARVED, 0);
    expect(pool.audit()).toEqual(['page 0: of class 6, past the 0 pages carved']);
    Atomics.store(words, H_PAGES_CARVED, 1);
    Atomics.store(words, H_ARENA_LOCK, lockOwnerValue(9));
    expect(pool.audit()).toEqual([expect.stringMatching(/^arena lock: still held after 1000 ms by thread slot 9/)]);
    Atomics.store(words, H_ARENA_LOCK, 0);
    expect(pool.audit()).toEqual([]);
  });
});

describe('reclaim of a thread that died moving a batch', () => {
  it(
    'loses no slab and hands none out twice, wherever in the batch the thread stopped',
    withSeed(async ({ seed, random }) => {
      // The worker moves 3000 slabs out of its home shard and back with the library's own batch
      // functions, holding the lock, until it is terminated after a random delay: a half-moved
      // batch, some slabs marked cached by it and the rest free, with the list not yet updated.
      const size = 64;
      const pool = new SlabPool({ arenaBytes: 8 << 20, parallelism: 2, shards: 1, cacheSize: 8 });
      const depths: number[] = [];
      for (let round = 0; round < 6; round++) {
        const flag = new SharedArrayBuffer(4);
        const worker = new Worker(fixture('batch-crash-worker.ts'), {
          workerData: { handle: pool.handle, flag, size, count: 3000 },
        });
        const tid = worker.threadId; // -1 once it exited
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        const deadline = Date.now() + 10_000;
        while (Atomics.load(new Int32Array(flag), 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
        expect(Atomics.load(new Int32Array(flag), 0), `round ${round}: the worker never got going`).toBe(1);
        await new Promise((r) => setTimeout(r, random() * 5));
        await worker.terminate();
        await exited;
        const report = pool.reclaim(tid);
        expect(report.locks, `round ${round}`).toBe(1);
        depths.push(report.cached);
        expect(pool.audit(), `round ${round}`).toEqual([]);
        const stats = pool.stats().classes.find((c) => c.slabSize === size);
        expect({ leased: stats?.leased, cached: stats?.cached, free: stats?.free }, `round ${round}`).toEqual({
          leased: 0,
          cached: 0,
          free: stats?.slabs,
        });
        // Every slab of the class can be taken, each once.
        const taken: number[] = [];
        for (let id = pool.tryAcquire(size); id !== -1; id = pool.tryAcquire(size)) taken.push(id);
        expect(taken.length, `round ${round}`).toBeGreaterThanOrEqual(stats?.slabs ?? 0);
        expect(new Set(taken.map((id) => pool.bytes(id).byteOffset)).size, `round ${round}`).toBe(taken.length);
        for (const id of taken) pool.release(id);
        pool.flush();
      }
      console.log(`batch crash (seed ${seed}): slabs cached by the dead thread per round: ${depths.join(', ')}`);
      expectAllFree(pool);
    }),
  );
});
