// Locks a dead worker held: reclaim takes them over and repairs its half-done lists; until then nothing hangs or is lost.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError, SlabPool } from '../src/index.js';
import { S_COUNT, lockOwnerValue, shardWord } from '../src/layout.js';
import { expectAllFree } from './all-free.js';
import { captureWarnings, fixture } from './helpers.js';
import { SIZE, startHolder } from './holder.js';
import { internalsOf } from './internals.js';

describe('reclaim', () => {
  it('takes over a shard lock held by a terminated worker, so other threads do not hang', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 1 });
    const { worker, tid, exited } = await startHolder(pool, 'lock', { leased: 2, cached: 40 });
    await worker.terminate();
    await exited;
    const report = pool.reclaim(tid);
    expect(report.locks).toBe(1);
    // With one shard, this acquire needs the lock the dead worker held.
    const ids = Array.from({ length: 50 }, () => pool.acquire(SIZE));
    for (const id of ids) pool.release(id);
    expectAllFree(pool);
  });

  it('throws LockTimeoutError instead of hanging on a lock a dead worker holds, changing nothing, until reclaim', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 1, lockTimeoutMs: 300 });
    const { worker, tid, exited } = await startHolder(pool, 'lock', { leased: 2, cached: 40 });
    await worker.terminate();
    await exited;
    const before = pool.stats();
    const started = Date.now();
    expect(() => pool.acquire(SIZE)).toThrow(LockTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(() => pool.acquire(SIZE)).toThrow(
      new RegExp(`held by thread ${tid} \\(slot 1\\) for 300 ms; .*: reclaim\\(${tid}\\) it`),
    );
    try {
      pool.acquire(SIZE);
    } catch (error) {
      expect(error).toMatchObject({ code: 'ERR_LOCK_TIMEOUT', holderSlot: 1, holderThreadId: tid });
    }
    expect({ ...pool.stats(), lockWaits: 0 }).toEqual({ ...before, lockWaits: 0, exhausted: before.exhausted });
    expect(pool.reclaim(tid).locks).toBe(1);
    pool.release(pool.acquire(SIZE));
    expectAllFree(pool);
  });

  it('spills to another shard when a dead thread holds the home shard lock: a release loses no slab', () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 2, lockTimeoutMs: 200, cacheSize: 4 });
    const internals = internalsOf(pool);
    const ids = Array.from({ length: 8 }, () => pool.acquire(SIZE));
    const c = Math.log2(SIZE) - 6;
    // The home shard's lock word, held by thread slot 9, which nobody will ever release.
    const line = shardWord(internals.layout, c, internals.home);
    Atomics.store(internals.words, line, lockOwnerValue(9));
    const started = Date.now();
    for (const id of ids) pool.release(id); // the fifth fills the cache of 4 and spills
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    // Every released slab is in this thread's cache stack or, spilled, listed in the other shard
    // (a slab released but in neither would be lost until this thread is reclaimed).
    const inOtherShard = internals.words[shardWord(internals.layout, c, internals.home ^ 1) + S_COUNT];
    expect(inOtherShard).toBeGreaterThan(0);
    expect(inOtherShard + internals.cacheLength[c]).toBe(ids.length);
    expect(pool.stats().classes[c].leased).toBe(0);
    Atomics.store(internals.words, line, 0);
    expectAllFree(pool);
  });

  it("keeps a release's slabs in the releasing thread when dead threads hold every shard lock, and files them later", async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 2, lockTimeoutMs: 100, cacheSize: 4 });
    const internals = internalsOf(pool);
    const ids = Array.from({ length: 10 }, () => pool.acquire(SIZE));
    const offsets = new Set(ids.map((id) => pool.bytes(id).byteOffset));
    const c = Math.log2(SIZE) - 6;
    const lines = [0, 1].map((shard) => shardWord(internals.layout, c, shard));
    const before = pool.stats().classes[c];
    const { warnings, stop } = captureWarnings();
    try {
      // Both shard locks held by thread slot 9, which nobody will ever release.
      for (const line of lines) Atomics.store(internals.words, line, lockOwnerValue(9));
      for (const id of ids) pool.release(id); // spills twice; neither finds a lock: no throw
      // Every slab is still this thread's, counted as cached, none lost and none in a list.
      expect(pool.stats().classes[c]).toMatchObject({ slabs: before.slabs, leased: 0, cached: before.cached + ids.length });
      // An acquire takes them back first (the cache, then the stranded ones), without a lock.
      const again = Array.from({ length: ids.length }, () => pool.acquire(SIZE));
      expect(new Set(again.map((id) => pool.bytes(id).byteOffset))).toEqual(offsets);
      for (const id of again) pool.release(id);
      // flush cannot file them while the locks stay held: it throws and keeps them.
      expect(() => pool.flush()).toThrow(LockTimeoutError);
      expect(pool.stats().classes[c]).toMatchObject({ leased: 0, cached: before.cached + ids.length });
      await new Promise((r) => setTimeout(r, 10));
      expect(warnings.filter((w) => w.name === 'ZeropoolWarning').map((w) => w.message)).toEqual([
        expect.stringMatching(/could not hand slabs back to any shard, so this thread keeps them.*held by thread slot 9/),
      ]);
    } finally {
      stop();
      for (const line of lines) Atomics.store(internals.words, line, 0);
    }
    // Once a lock is free, flush files everything.
    expectAllFree(pool);
  });

  it('files stranded slabs when the dead lock holder is reclaimed, and strands later spills without waiting lockTimeoutMs', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 1, lockTimeoutMs: 150, cacheSize: 4 });
    const internals = internalsOf(pool);
    const c = Math.log2(SIZE) - 6;
    const ids = Array.from({ length: 40 }, () => pool.acquire(SIZE));
    // A worker takes the only shard lock of the class and is terminated while holding it.
    const { worker, tid, exited } = await startHolder(pool, 'lock', { leased: 0, cached: 0 });
    await worker.terminate();
    await exited;
    const started = Date.now();
    const { warnings, stop } = captureWarnings();
    try {
      for (const id of ids) pool.release(id);
    } finally {
      stop();
    }
    // One spill waited lockTimeoutMs; the later ones looked only briefly.
    expect(Date.now() - started).toBeLessThan(150 + 40 * 20);
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(/could not hand slabs back to any shard.*held by thread \d+ \(slot \d+\) for 150 ms/),
    ]);
    expect(internals.stranded[c]?.length).toBeGreaterThan(0);
    const slabs = pool.stats().classes[c].slabs;
    expect(pool.reclaim(tid).locks).toBe(1);
    // The reclaim filed them: everything but this thread's cache stack is free, without a flush.
    expect(internals.stranded[c]?.length).toBe(0);
    expect(pool.stats().classes[c]).toMatchObject({ leased: 0, free: slabs - internals.cacheLength[c] });
    expectAllFree(pool);
  });

  it('files the stranded slabs of a thread that went idle once the dead lock holder is reclaimed', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 1, cacheSize: 4 });
    const c = Math.log2(SIZE) - 6;
    const strander = new Worker(fixture('strander-worker.ts'), { workerData: { handle: pool.handle, count: 40, size: SIZE } });
    const next = (type: string) =>
      new Promise<{ stranded: number; warnings: string[] }>((resolve) => {
        const on = (m: { type: string; stranded: number; warnings: string[] }) => {
          if (m.type !== type) return;
          strander.off('message', on);
          resolve(m);
        };
        strander.on('message', on);
      });
    const exited = new Promise((resolve) => strander.once('exit', resolve));
    await next('ready');
    // A worker takes the only shard lock of the class and is terminated while holding it.
    const holder = await startHolder(pool, 'lock', { leased: 0, cached: 0 });
    await holder.worker.terminate();
    await holder.exited;
    const released = next('released');
    strander.postMessage('release');
    const { stranded, warnings } = await released;
    expect(stranded).toBeGreaterThan(20);
    expect(warnings).toEqual([expect.stringMatching(/could not hand slabs back to any shard, so this thread keeps them/)]);
    pool.reclaim(holder.tid);
    // The strander is idle: its timer files them once the lock is free, no acquire or flush needed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const counted = next('count');
    strander.postMessage('count');
    expect((await counted).stranded).toBe(0);
    expect(pool.stats().classes[c].cached).toBeLessThanOrEqual(4);
    strander.postMessage('stop');
    await exited;
    expectAllFree(pool);
  });

  it.each(['halfpop', 'halfpush'])('rebuilds a shard a worker left half-updated (%s) from the slab state words', async (mode) => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 1 });
    const { worker, tid, exited } = await startHolder(pool, mode, { leased: 1, cached: 20 });
    await worker.terminate();
    await exited;
    // audit() does not hang on the dead worker's lock: it reports it.
    expect(pool.audit()).toEqual([expect.stringMatching(/lock still held after 1000 ms by thread slot 1/)]);
    expect(pool.reclaim(tid).locks).toBe(1);
    expectAllFree(pool);
    // Every slab can still be handed out exactly once.
    const total = pool.stats().classes.find((c) => c.slabSize === SIZE)?.slabs ?? 0;
    const ids = new Set(Array.from({ length: total }, () => pool.acquire(SIZE)));
    expect(ids.size).toBe(total);
    const offsets = new Set([...ids].map((id) => pool.bytes(id).byteOffset));
    expect(offsets.size).toBe(total);
  });

  it("returns a dead worker's cached slabs at once to a shard whose lock is free, not after lockTimeoutMs", async () => {
    // This thread's home shard lock is held by a thread that is gone; reclaiming a worker with 16
    // cached slabs of one class pushes them all to the other shard without waiting for it.
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, shards: 2, lockTimeoutMs: 200 });
    const internals = internalsOf(pool);
    const { tid, exited } = await startHolder(pool, 'exit', { leased: 0, cached: 16 });
    await exited;
    const line = shardWord(internals.layout, Math.log2(SIZE) - 6, internals.home);
    Atomics.store(internals.words, line, lockOwnerValue(9));
    const started = Date.now();
    const report = pool.reclaim(tid);
    const took = Date.now() - started;
    Atomics.store(internals.words, line, 0);
    expect(report.cached).toBeGreaterThanOrEqual(16);
    expect(took).toBeLessThan(150); // waiting for the held lock takes lockTimeoutMs, 200 ms
    expect(pool.stats().classes.find((c) => c.slabSize === SIZE)?.cached).toBe(0);
    expectAllFree(pool);
  });

  it('wakes a waiter when rebuilding a list relists slabs a dead thread was handing over', async () => {
    // The worker holds the class's last slab in its cache; the main thread waits for the class;
    // the worker dies in the middle of pushing that slab into its shard (marked free, not linked).
    // reclaim's rebuild lists it, and the waiter must be woken to take it.
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const held: number[] = [];
    for (let id = pool.tryAcquire(SIZE); id !== -1; id = pool.tryAcquire(SIZE)) held.push(id);
    pool.release(held.pop() as number);
    pool.flush();
    const { worker, tid, exited, flag } = await startHolder(pool, 'halfpush-later', { leased: 0, cached: 0 });
    // The waiter takes its slab once woken; unwoken, only at its timeout (it looks once more).
    const waiting = pool.acquireAsync(SIZE, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 50)); // registered, asleep; the worker cannot answer
    Atomics.store(flag, 1, 1);
    while (Atomics.load(flag, 2) === 0) await new Promise((r) => setTimeout(r, 1));
    await worker.terminate();
    await exited;
    expect(pool.reclaim(tid)).toMatchObject({ locks: 1, cached: 0, leased: 0 });
    const reclaimed = Date.now();
    held.push(await waiting);
    expect(Date.now() - reclaimed).toBeLessThan(2000);
    for (const id of held) pool.release(id);
    expectAllFree(pool);
  });
});
