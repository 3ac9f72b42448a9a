// Reclaiming a worker that died: its leased and cached slabs come back, adopted ones stay, and a live thread is refused.

import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ReclaimLiveThreadError, SlabPool, SlabStateError } from '../src/index.js';
import { expectAllFree } from './all-free.js';
import { SIZE, startHolder } from './holder.js';

describe('reclaim', () => {
  it.each(['exit', 'throw', 'hang'])('returns the cached and leased slabs of a worker that died by %s', async (mode) => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const { worker, tid, exited } = await startHolder(pool, mode, { leased: 5, cached: 3 });
    if (mode === 'hang') await worker.terminate();
    await exited;
    expect(pool.stats().classes.find((c) => c.slabSize === SIZE)?.leased).toBe(5);
    const report = pool.reclaim(tid);
    expect(report).toMatchObject({ threadId: tid, slots: 1, leased: 5 });
    expect(report.cached).toBeGreaterThanOrEqual(3); // its refill brought more than it released
    expect(pool.stats().reclaimed).toBe(5);
    expect(pool.stats().threads).toBe(1);
    expectAllFree(pool);
    // A second reclaim of the same thread finds nothing.
    expect(pool.reclaim(tid)).toEqual({ threadId: tid, slots: 0, locks: 0, cached: 0, leased: 0 });
  });

  it('returns the slabs of a worker that ran out of memory under resourceLimits', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const { tid, exited } = await startHolder(pool, 'oom', {
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    expect(await exited).not.toBe(0);
    expect(pool.reclaim(tid).leased).toBe(5);
    expectAllFree(pool);
  }, 60_000);

  it('leaves a slab that a live thread adopted, and returns one that was only sent', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const { worker, tid, sent, exited } = await startHolder(pool, 'hang', { leased: 4, send: 2 });
    pool.adopt(sent[0]);
    await worker.terminate();
    await exited;
    expect(pool.reclaim(tid).leased).toBe(3);
    // The adopted slab is still ours, intact; the merely sent one was taken back.
    expect(
      pool
        .bytes(sent[0])
        .subarray(0, SIZE)
        .every((b) => b === 1),
    ).toBe(true);
    pool.release(sent[0]);
    expect(() => pool.release(sent[1])).toThrow(SlabStateError);
    expectAllFree(pool);
  });

  it('refuses to watch a worker that has already exited', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const { worker, exited } = await startHolder(pool, 'exit');
    await exited;
    expect(() => pool.watch(worker)).toThrow(/worker must be a running Worker; received "a Worker that has already exited"/);
  });

  it('refuses the calling thread and a watched worker that is still running', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    expect(() => pool.reclaim(threadId)).toThrow(ReclaimLiveThreadError);
    expect(() => pool.reclaim(threadId)).toThrow(/refusing to reclaim thread \d+: it is the calling thread/);
    const { worker, tid, exited } = await startHolder(pool, 'hang');
    const stop = pool.watch(worker);
    expect(() => pool.reclaim(tid)).toThrow(/watched worker that has not exited/);
    expect(pool.stats().classes.find((c) => c.slabSize === SIZE)?.leased).toBe(5);
    stop();
    await worker.terminate();
    await exited;
    pool.reclaim(tid);
    expectAllFree(pool);
  });
});

describe('reclaim on a zeroOnRelease pool', () => {
  it('zeroes the slabs of a thread that died between a release and its zeroing', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, zeroOnRelease: true });
    // The worker fills 4 leased slabs with nonzero bytes, then marks each released without zeroing.
    const { tid, kept, exited } = await startHolder(pool, 'midrelease', { leased: 4, cached: 0 });
    expect(kept).toHaveLength(4);
    await exited;
    const report = pool.reclaim(tid);
    expect(report.cached).toBeGreaterThanOrEqual(4); // the four, and what its cache held
    pool.flush();
    // Every slab of the class reads as zeros (the reclaimed four were zeroed on the way back).
    const slabs = pool.stats().classes.find((c) => c.slabSize === SIZE)!.slabs;
    const ids = Array.from({ length: slabs }, () => pool.acquire(SIZE));
    for (const id of ids) {
      expect(pool.bytes(id).every((b) => b === 0)).toBe(true);
      pool.release(id);
    }
    expectAllFree(pool);
  });
});
