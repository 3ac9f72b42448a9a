// Which pool object holds a lease: adopt, releaseIfHeld, and a thread stopped inside releaseIfHeld.

import { Worker, threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SlabPool, SlabStateError } from '../src/index.js';
import { expectAllFree } from './all-free.js';
import { fixture } from './helpers.js';
import { SIZE } from './holder.js';

describe('adopt', () => {
  it('refuses a stale id and leaves the current holder recorded', () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const other = SlabPool.attach(pool.handle);
    const stale = pool.acquire(SIZE);
    pool.release(stale);
    const fresh = pool.acquire(SIZE); // the same slab (LIFO cache), next generation
    expect(pool.bytes(fresh).byteOffset).toBe(pool.bytes(fresh).byteOffset);
    expect(() => other.adopt(stale)).toThrow(SlabStateError);
    expect(pool.holderOf(fresh)).toBe(threadId);
    other.adopt(fresh);
    expect(pool.holderOf(fresh)).toBe(threadId); // same thread, other object: still this threadId
    other.close();
    // After its adopter closed, the lease names no holder, and stays valid.
    expect(pool.holderOf(fresh)).toBe(-1);
    pool.release(fresh);
  });
});

describe('releaseIfHeld', () => {
  it('releases only a lease this pool object still holds, and an adopt after it is refused', () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const other = SlabPool.attach(pool.handle); // same thread, its own holder slot
    const mine = pool.acquire(SIZE);
    const adopted = pool.acquire(SIZE);
    other.adopt(adopted);
    const before = pool.stats();
    // Adopted by the other object: not ours any more, nothing changes.
    expect(pool.releaseIfHeld(adopted)).toBe(false);
    expect(pool.stats()).toEqual(before);
    expect(pool.holderOf(adopted)).toBe(threadId);
    expect(other.releaseIfHeld(adopted)).toBe(true);
    // Still ours: released, and an adopt that comes after finds it gone.
    expect(pool.releaseIfHeld(mine)).toBe(true);
    expect(() => pool.bytes(mine)).toThrow(SlabStateError);
    expect(() => other.adopt(mine)).toThrow(SlabStateError);
    // Released, or stale: false, and nothing changes.
    const after = pool.stats();
    expect(pool.releaseIfHeld(mine)).toBe(false);
    const fresh = pool.acquire(SIZE); // the same slab, next generation
    expect(pool.releaseIfHeld(mine)).toBe(false);
    expect(pool.stats().releases).toBe(after.releases);
    expect(pool.releaseIfHeld(fresh)).toBe(true);
    // The slab it claimed is handed out again normally: holder recorded, adoptable.
    const again = pool.acquire(SIZE);
    expect(pool.holderOf(again)).toBe(threadId);
    other.adopt(again);
    other.release(again);
    other.close();
    pool.flush();
    expectAllFree(pool);
  });
});

describe('releaseIfHeld, interrupted', () => {
  it('loses nothing when its thread is terminated at any point inside it', async () => {
    const pool = new SlabPool({ arenaBytes: 64 << 20, parallelism: 2 });
    for (let run = 0; run < 30; run++) {
      const control = new SharedArrayBuffer(8);
      const worker = new Worker(fixture('takeback-loop-worker.ts'), { workerData: { handle: pool.handle, control } });
      const tid = worker.threadId; // -1 once it exited
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      const deadline = Date.now() + 10_000;
      // Once its loop runs (a first iteration done), a few milliseconds more: then it is somewhere
      // in acquire or releaseIfHeld.
      while (Atomics.load(new Int32Array(control), 1) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 2 + (run % 7)));
      await worker.terminate();
      await exited;
      // It ran its loop before it was stopped (else this round would test nothing).
      expect(Atomics.load(new Int32Array(control), 1), `run ${run}`).toBeGreaterThan(0);
      pool.reclaim(tid);
      pool.flush();
      // Whatever it held or was taking back came back: nothing leased, nothing misattributed.
      expect(
        pool.stats().classes.reduce((n, c) => n + c.leased, 0),
        `run ${run}`,
      ).toBe(0);
      expect(pool.audit(), `run ${run}`).toEqual([]);
    }
    expectAllFree(pool);
  });
});
