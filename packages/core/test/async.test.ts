import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AcquireTimeoutError, SlabPool } from '../src/index.js';
import { fixture, runWorker } from './helpers.js';

const MiB = 1 << 20;
/** A pool with room for exactly `pages` slabs of 1 MiB. */
function tinyPool(): SlabPool {
  return new SlabPool({ arenaBytes: 4 * MiB, parallelism: 2, maxThreads: 8, shards: 2 });
}
function exhaust(pool: SlabPool): number[] {
  const held: number[] = [];
  for (let id = pool.tryAcquire(MiB); id !== -1; id = pool.tryAcquire(MiB)) held.push(id);
  return held;
}

describe('acquireAsync', () => {
  it('resolves at once when a slab is free', async () => {
    const pool = tinyPool();
    const id = await pool.acquireAsync(1000);
    expect(pool.capacity(id)).toBe(1024);
  });

  it('waits while the class is exhausted and resolves when a slab is released', async () => {
    const pool = tinyPool();
    const held = exhaust(pool);
    expect(held.length).toBeGreaterThan(0);
    let resolved = false;
    const waiting = pool.acquireAsync(MiB).then((id) => {
      resolved = true;
      return id;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(resolved).toBe(false);
    const offset = pool.bytes(held[0]).byteOffset;
    pool.release(held[0]);
    const id = await waiting;
    expect(pool.bytes(id).byteOffset).toBe(offset);
    for (const other of held.slice(1)) pool.release(other);
    pool.release(id);
    pool.flush();
    expect(pool.audit()).toEqual([]);
    expect(pool.stats().classes.at(-1)).toMatchObject({ leased: 0, cached: 0 });
  });

  it('is woken by a release made through another attached pool object', async () => {
    const pool = tinyPool();
    const held = exhaust(pool);
    const waiting = pool.acquireAsync(MiB, { timeoutMs: 10_000 });
    const other = SlabPool.attach(pool.handle);
    setTimeout(() => other.release(held[0]), 20);
    expect(typeof (await waiting)).toBe('number');
  });

  it('rejects with AcquireTimeoutError after timeoutMs, and leaves no waiter behind', async () => {
    const pool = tinyPool();
    const held = exhaust(pool);
    const started = Date.now();
    await expect(pool.acquireAsync(MiB, { timeoutMs: 50 })).rejects.toThrow(AcquireTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await expect(pool.acquireAsync(MiB, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_ACQUIRE_TIMEOUT' });
    // With no waiter registered, a release goes to the cache as usual, not to the reserved list.
    pool.release(held[0]);
    const c = pool.stats().classes.at(-1);
    expect(c?.cached).toBe(1);
  });

  it('rejects with the abort reason when the signal aborts, before or during the wait', async () => {
    const pool = tinyPool();
    exhaust(pool);
    const reason = new Error('stop waiting');
    await expect(pool.acquireAsync(MiB, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const controller = new AbortController();
    const waiting = pool.acquireAsync(MiB, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(waiting).rejects.toBe(reason);
  });

  it('is not starved while another thread keeps taking and releasing slabs of the class', async () => {
    const pool = tinyPool();
    const control = new SharedArrayBuffer(8);
    const flags = new Int32Array(control);
    const churner = runWorker<number>('churn-worker.ts', { handle: pool.handle, size: MiB, hold: 100, control });
    while (Atomics.load(flags, 1) === 0) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 20));
    // The churner holds every slab but one, which it releases and takes again in a tight loop.
    // Each round, this thread must get a slab while the churner keeps taking them, then hands it
    // back to the shards, where the churner grabs it again.
    for (let round = 0; round < 5; round++) {
      const id = await pool.acquireAsync(MiB, { timeoutMs: 5000 });
      expect(pool.capacity(id)).toBe(MiB);
      pool.release(id);
      pool.flush();
    }
    Atomics.store(flags, 0, 1);
    expect(await churner.done).toBeGreaterThan(0);
    pool.flush();
    expect(pool.audit()).toEqual([]);
    for (const c of pool.stats().classes) expect(c.free).toBe(c.slabs);
  });

  it('rejects at once with PoolExhaustedError for a class that has no slab and no room to get one', async () => {
    const pool = tinyPool();
    const held = exhaust(pool); // every page is carved into the 1 MiB class
    await expect(pool.acquireAsync(64, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ERR_POOL_EXHAUSTED' });
    for (const id of held) pool.release(id);
  });

  it('close() retracts a pending wait, so later releases of the class are not held back for a waiter that is gone', async () => {
    const pool = tinyPool();
    const other = SlabPool.attach(pool.handle);
    const held = exhaust(other);
    const waiting = pool.acquireAsync(MiB).catch((error: Error & { code?: string }) => error.code);
    await new Promise((r) => setTimeout(r, 10));
    pool.close();
    expect(await waiting).toBe('ERR_POOL_CLOSED');
    // Nobody waits now: the release goes to the releasing object's cache and can be acquired again.
    other.release(held[0]);
    expect(other.tryAcquire(MiB)).not.toBe(-1);
    expect(other.audit()).toEqual([]);
  });

  it('hands reserved slabs back to the shards when the last waiter leaves', async () => {
    const pool = tinyPool();
    const held = exhaust(pool);
    const controller = new AbortController();
    const waiting = pool.acquireAsync(MiB, { signal: controller.signal }).catch((e) => e);
    const waiting2 = pool.acquireAsync(MiB, { signal: controller.signal }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 10));
    // Two releases while two wait: both go to the reserved list and both waiters get one.
    pool.release(held[0]);
    pool.release(held[1]);
    expect(typeof (await waiting)).toBe('number');
    expect(typeof (await waiting2)).toBe('number');
    // Nobody waits now: ordinary acquires see everything released.
    for (const id of held.slice(2)) pool.release(id);
    pool.flush();
    expect(pool.audit()).toEqual([]);
  });

  it('gets the slabs an idle thread keeps in its cache: it asks that thread to hand them back', async () => {
    // 4 KiB slabs in 64 KiB pages; the worker caches some and goes idle. The main thread
    // takes every other slab of the arena, then waits: only the worker's cached slabs can serve it.
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2 });
    const worker = new Worker(fixture('idle-cache-worker.ts'), { workerData: { handle: pool.handle, size: 4096, count: 8 } });
    const next = (type: string) =>
      new Promise<{ cached: number }>((resolve) => {
        const on = (message: { type: string; cached: number }) => {
          if (message.type !== type) return;
          worker.off('message', on);
          resolve(message);
        };
        worker.on('message', on);
      });
    try {
      // It released 8; its refill may have brought more into its cache.
      const { cached } = await next('ready');
      expect(cached).toBeGreaterThanOrEqual(8);
      const held: number[] = [];
      for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) held.push(id);
      expect(pool.stats().classes.find((c) => c.slabSize === 4096)?.cached).toBe(cached);
      const got: number[] = [];
      for (let i = 0; i < cached; i++) got.push(await pool.acquireAsync(4096, { timeoutMs: 5000 }));
      expect(new Set(got).size).toBe(cached);
      worker.postMessage('stats');
      expect((await next('stats')).cached).toBe(0);
      await expect(pool.acquireAsync(4096, { timeoutMs: 50 })).rejects.toThrow(AcquireTimeoutError);
      for (const id of [...held, ...got]) pool.release(id);
    } finally {
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
    pool.flush();
    expect(pool.audit()).toEqual([]);
    for (const c of pool.stats().classes) expect(c.free).toBe(c.slabs);
  });
});
