import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AcquireTimeoutError, LockTimeoutError, SlabPool } from '../src/index.js';
import { H_WAITING_CLASSES, S_COUNT, S_WAITERS, lockOwnerValue, reservedWord } from '../src/layout.js';
import { expectAllFree } from './all-free.js';
import { fixture, runWorker } from './helpers.js';
import { internalsOf } from './internals.js';

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

  it('keeps 65,536 calls pending on one class in one thread, and refuses one more with a coded RangeError', async () => {
    const pool = tinyPool();
    const held = exhaust(pool);
    const internals = internalsOf(pool);
    const line = reservedWord(internals.layout, pool.stats().classes.length - 1);
    const waiter = SlabPool.attach(pool.handle);
    const pending = Array.from({ length: 65_536 }, () => waiter.acquireAsync(MiB).catch((error: unknown) => error));
    const refused = waiter.acquireAsync(MiB);
    await expect(refused).rejects.toThrow(RangeError);
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_TOO_MANY_WAITERS',
      message: expect.stringMatching(
        /pending acquireAsync calls for one size class in one thread must be at most 65536.*received 65537/,
      ),
    });
    // One thread waiting, however many calls: the shared count is of threads.
    expect(internals.words[line + S_WAITERS]).toBe(1);
    // A release serves exactly one of them; closing the waiter's pool object settles the rest.
    pool.release(held.pop() as number);
    await new Promise((r) => setTimeout(r, 50));
    waiter.close();
    const results = await Promise.all(pending);
    const served = results.filter((r): r is number => typeof r === 'number');
    expect(served).toHaveLength(1);
    expect(results.filter((r) => (r as { code?: string }).code === 'ERR_POOL_CLOSED')).toHaveLength(65_535);
    expect([internals.words[line + S_WAITERS], internals.words[H_WAITING_CLASSES]]).toEqual([0, 0]);
    for (const id of [...held, ...served]) pool.release(id);
    pool.flush();
    expect(pool.audit()).toEqual([]);
    expect(pool.stats().classes.at(-1)).toMatchObject({ leased: 0, cached: 0 });
  }, 60_000);

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

  it('keeps a thread with nothing else to do alive until the call settles', async () => {
    // Atomics.waitAsync alone does not: such a worker used to exit with the call never settled.
    const pool = tinyPool();
    const held = exhaust(pool);
    const timedOut = runWorker<{ got: boolean; code?: string; ms: number }>('await-worker.ts', {
      handle: pool.handle,
      size: MiB,
      timeoutMs: 300,
    });
    expect(await timedOut.done).toMatchObject({ got: false, code: 'ERR_ACQUIRE_TIMEOUT' });
    const started = new SharedArrayBuffer(4);
    const untimed = runWorker<{ got: boolean; ms: number }>('await-worker.ts', { handle: pool.handle, size: MiB, started });
    // The release comes 300 ms after the worker began to wait (its start-up on a loaded machine
    // can take longer than the margin left below). A worker that ends or fails before it waits
    // ends the test at once, with its own error.
    const waiting = (async () => {
      while (Atomics.load(new Int32Array(started), 0) === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    })();
    const endedEarly = untimed.done.then(() => {
      throw new Error('the worker finished before it began to wait');
    });
    await Promise.race([waiting, endedEarly]);
    endedEarly.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    pool.release(held.pop()!);
    const result = await untimed.done;
    expect(result.got).toBe(true);
    expect(result.ms).toBeGreaterThanOrEqual(250);
    for (const id of held) pool.release(id);
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

  it('waits for a class that has no page, and is served when another class gives a page back', async () => {
    const pool = tinyPool();
    const held = exhaust(pool); // every page is carved into the 1 MiB class
    const started = performance.now();
    const waiting = pool.acquireAsync(64);
    await new Promise((r) => setTimeout(r, 20));
    // Releasing and flushing frees whole pages of the 1 MiB class: the waiter is woken, gives one
    // back and carves it into 64-byte slabs.
    for (const id of held) pool.release(id);
    pool.flush();
    const id = await waiting;
    expect(pool.capacity(id)).toBe(64);
    expect(performance.now() - started).toBeLessThan(2000);
    pool.release(id);
    expect(pool.audit()).toEqual([]);
  });

  it('wakes a waiter when slabs of another class free a whole page, without a timeout', async () => {
    // The only slab of a 4 KiB page leased; the rest of the arena in 64-byte slabs, all leased.
    const pool = new SlabPool({ arenaBytes: 4 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 1 });
    const pin = pool.acquire(4096);
    const small: number[] = [];
    for (let id = pool.tryAcquire(64); id !== -1; id = pool.tryAcquire(64)) small.push(id);
    pool.release(pool.acquire(4096)); // the 4 KiB page has room: take one to empty this thread's cache first
    const more: number[] = [];
    for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) more.push(id);
    const waiting = pool.acquireAsync(4096);
    await new Promise((r) => setTimeout(r, 20));
    for (const id of small) pool.release(id);
    pool.flush(); // the 64-byte pages are all free now; nothing of the 4 KiB class moved
    const id = await Promise.race([waiting, new Promise<number>((r) => setTimeout(() => r(-1), 3000))]);
    expect(id, 'the waiter was not woken').not.toBe(-1);
    expect(pool.capacity(id)).toBe(4096);
    for (const held of [id, pin, ...more]) pool.release(held);
    expect(pool.audit()).toEqual([]);
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

  function idleWorker(pool: SlabPool, flag = new Int32Array(new SharedArrayBuffer(16)), count = 8) {
    const worker = new Worker(fixture('idle-cache-worker.ts'), {
      workerData: { handle: pool.handle, size: 4096, count, flag },
    });
    const next = (type: string) =>
      new Promise<{ cached: number; leased: number; id: number }>((resolve) => {
        const on = (message: { type: string; cached: number; leased: number; id: number }) => {
          if (message.type !== type) return;
          worker.off('message', on);
          resolve(message);
        };
        worker.on('message', on);
      });
    const close = async () => {
      worker.postMessage('close');
      // A worker stuck in a busy task (a test that failed half-way) is terminated instead.
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await new Promise((resolve) => worker.once('exit', resolve));
      clearTimeout(timer);
    };
    return { worker, next, close, flag };
  }

  /** Busy-waits (keeping this thread's event loop from running) until flag[index] is set; 10 s at most. */
  function spinUntil(flag: Int32Array, index: number): void {
    const deadline = Date.now() + 10_000;
    while (Atomics.load(flag, index) === 0) if (Date.now() > deadline) throw new Error(`flag[${index}] never set`);
  }

  it('gets the slabs an idle thread keeps in its cache: it asks that thread to hand them back', async () => {
    // 4 KiB slabs in 64 KiB pages; the worker caches some and goes idle. The main thread takes
    // every other slab of the arena, then waits: only the worker's cached slabs can serve it.
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2 });
    const { worker, next, close } = idleWorker(pool);
    const held: number[] = [];
    try {
      // It released 8; its refill may have brought more into its cache.
      const { cached } = await next('ready');
      expect(cached).toBeGreaterThanOrEqual(8);
      for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) held.push(id);
      expect(pool.stats().classes.find((c) => c.slabSize === 4096)?.cached).toBe(cached);
      for (let i = 0; i < cached; i++) held.push(await pool.acquireAsync(4096, { timeoutMs: 5000 }));
      expect(new Set(held).size).toBe(held.length);
      worker.postMessage('stats');
      expect((await next('stats')).cached).toBe(0);
      await expect(pool.acquireAsync(4096, { timeoutMs: 50 })).rejects.toThrow(AcquireTimeoutError);
    } finally {
      for (const id of held) pool.release(id);
      await close();
    }
    expectAllFree(pool);
  });

  it('keeps the handed-back slabs for the waiter even if the answering thread acquires right after', async () => {
    // The answer goes to the class's reserved list, which ordinary acquires never take from: the
    // worker's next task (which acquires) cannot take back what it handed over.
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2 });
    const { worker, next, close, flag } = idleWorker(pool);
    const held: number[] = [];
    try {
      await next('ready');
      for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) held.push(id);
      worker.postMessage('busy');
      await new Promise((r) => setTimeout(r, 50));
      const waiting = pool.acquireAsync(4096, { timeoutMs: 3000 });
      const took = next('took');
      Atomics.store(flag, 0, 1); // the worker's busy task ends: it answers, then acquires
      const blocked = Date.now();
      while (Date.now() - blocked < 800); // this thread stays busy meanwhile
      held.push(await waiting);
      // While the waiter was still waiting, the slabs the worker handed over were out of its reach.
      expect((await took).id).toBe(-1);
    } finally {
      for (const id of held) pool.release(id);
      await close();
    }
    expectAllFree(pool);
  });

  it('answers every requested class even when one class cannot be answered yet, without stalling', async () => {
    // Two pool objects in one thread: `a` holds cached slabs of two classes, `b` waits for both.
    // The reserved list of one class is locked by a thread that is gone (slot 9): that class is
    // answered once the lock is free, the other at once, and the event loop never waits on it.
    const a = new SlabPool({ arenaBytes: 4 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2 });
    const b = SlabPool.attach(a.handle);
    const mine = [4096, 8192].flatMap((size) => Array.from({ length: 4 }, () => a.acquire(size)));
    for (const id of mine) a.release(id);
    const held: number[] = [];
    for (const size of [4096, 8192]) for (let id = b.tryAcquire(size); id !== -1; id = b.tryAcquire(size)) held.push(id);
    const internals = internalsOf(a);
    const lockedLine = reservedWord(internals.layout, 6); // class of 4096-byte slabs
    const small = b.acquireAsync(4096, { timeoutMs: 5000 });
    const large = b.acquireAsync(8192, { timeoutMs: 5000 });
    Atomics.store(internals.words, lockedLine, lockOwnerValue(9));
    const started = Date.now();
    let loopDelay = 0;
    const tick = new Promise<void>((resolve) =>
      setTimeout(() => {
        loopDelay = Date.now() - started;
        resolve();
      }, 0),
    );
    held.push(await large);
    const largeAfter = Date.now() - started;
    await tick;
    Atomics.store(internals.words, lockedLine, 0);
    held.push(await small);
    expect(largeAfter).toBeLessThan(1000);
    expect(loopDelay).toBeLessThan(1000);
    for (const id of held) b.release(id);
    b.close();
    expectAllFree(a);
  });

  it('withdraws a wait whose reserved lock a dead thread holds once the lock is free: no phantom waiter', async () => {
    // The waiter times out while a thread that is gone holds the class's reserved lock. It must
    // reject with its own timeout (not block for lockTimeoutMs), and withdraw its wait once the
    // lock is taken over; a phantom waiter would send every later release into the reserved list.
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2, lockTimeoutMs: 1000 });
    const internals = internalsOf(pool);
    const held: number[] = [];
    for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) held.push(id);
    const line = reservedWord(internals.layout, 6);
    const started = Date.now();
    const waiting = pool.acquireAsync(4096, { timeoutMs: 100 });
    Atomics.store(internals.words, line, lockOwnerValue(9)); // after it registered
    await expect(waiting).rejects.toThrow(AcquireTimeoutError);
    expect(Date.now() - started).toBeLessThan(800); // blocking on the lock took 2 x lockTimeoutMs
    expect(internals.words[line + S_WAITERS]).toBe(1); // not withdrawn yet: the lock is not free
    Atomics.store(internals.words, line, 0); // what reclaim's take-over and unlock amount to
    await new Promise((r) => setTimeout(r, 200));
    expect(internals.words[line + S_WAITERS]).toBe(0);
    expect(internals.words[H_WAITING_CLASSES]).toBe(0);
    // A release goes back to this thread's cache, where the next acquire finds it.
    pool.release(held.pop() as number);
    held.push(pool.acquire(4096));
    expect(internals.words[line + S_COUNT]).toBe(0);
    for (const id of held) pool.release(id);
    expectAllFree(pool);
  });

  it('rejects and withdraws pending waits even when close() then throws on a lock a dead thread holds; a second close() finishes', async () => {
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2, lockTimeoutMs: 100 });
    const other = SlabPool.attach(pool.handle);
    const internals = internalsOf(pool);
    const line = reservedWord(internals.layout, 6);
    const held: number[] = [];
    for (let id = other.tryAcquire(4096); id !== -1; id = other.tryAcquire(4096)) held.push(id);
    const waiting = pool.acquireAsync(4096);
    await new Promise((r) => setTimeout(r, 20)); // registered, asleep
    Atomics.store(internals.words, line, lockOwnerValue(9)); // held by a thread that is gone
    try {
      expect(() => pool.close()).toThrow(LockTimeoutError);
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_POOL_CLOSED' });
      // Not withdrawn yet (the lock is not free), but still recorded where a later close finds it.
      expect(internals.words[line + S_WAITERS]).toBe(1);
    } finally {
      Atomics.store(internals.words, line, 0); // what reclaim's take-over and unlock amount to
    }
    // Once the lock is free, a second close() finishes: the wait is withdrawn, the slot given up.
    expect(other.stats().threads).toBe(2);
    pool.close();
    expect(internals.words[line + S_WAITERS]).toBe(0);
    expect(internals.words[H_WAITING_CLASSES]).toBe(0);
    expect(other.stats().threads).toBe(1);
    other.release(held.pop() as number);
    other.flush();
    const again = other.tryAcquire(4096);
    expect(again).not.toBe(-1);
    held.push(again);
    for (const id of held) other.release(id);
    other.flush();
    expect(other.audit()).toEqual([]);
    expect(other.stats().classes[6]).toMatchObject({ leased: 0, cached: 0 });
  });

  it('looks again shortly when the reserved list was locked as a release woke it: no lost wake-up', async () => {
    // The release puts its slab in the reserved list and wakes the waiter; before the waiter
    // looks, another thread holds the list's lock for longer than the waiter's 2 ms try. Nothing
    // else is released after: a waiter that slept until the next wake-up would wait for ever.
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2 });
    const internals = internalsOf(pool);
    const held: number[] = [];
    for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) held.push(id);
    const line = reservedWord(internals.layout, 6);
    const waiting = pool.acquireAsync(4096);
    await new Promise((r) => setTimeout(r, 20)); // registered, asleep
    const offset = pool.bytes(held[0]).byteOffset;
    pool.release(held.shift() as number);
    Atomics.store(internals.words, line, lockOwnerValue(9)); // before the waiter runs again
    // Longer than the 50 ms after which a waiter asks idle threads again (and wakes for that).
    await new Promise((r) => setTimeout(r, 150));
    Atomics.store(internals.words, line, 0);
    let outcome: number | string;
    try {
      outcome = await Promise.race([waiting, new Promise<string>((r) => setTimeout(() => r('still waiting'), 2000))]);
    } finally {
      // If it is still waiting, one more release settles it, so the test ends either way.
      pool.release(held.pop() as number);
    }
    expect(outcome).not.toBe('still waiting');
    expect(pool.bytes(outcome as number).byteOffset).toBe(offset);
    held.push(await waiting);
    for (const id of held) pool.release(id);
    expectAllFree(pool);
  });

  it('asks again when a wake-up finds nothing: another idle thread took the slabs first and cached them', async () => {
    // F caches 4 slabs but is busy when the waiter asks; C answers with an empty cache. Then F
    // flushes (waking the waiter) and, before the waiter looks, C acquires: its refill takes F's
    // slabs into C's cache and C goes idle. Asked only once, the waiter would time out.
    const pool = new SlabPool({ arenaBytes: 2 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2, cacheSize: 8 });
    const flag = new Int32Array(new SharedArrayBuffer(16));
    const f = idleWorker(pool, flag, 4);
    const c = idleWorker(pool, flag, 0);
    const held: number[] = [];
    try {
      await Promise.all([f.next('ready'), c.next('ready')]);
      for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) held.push(id);
      f.worker.postMessage('flush-later');
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const waiting = pool.acquireAsync(4096, { timeoutMs: 3000 });
      await new Promise((r) => setTimeout(r, 100)); // C has answered (nothing cached)
      c.worker.postMessage('take-later');
      await new Promise((r) => setTimeout(r, 50));
      Atomics.store(flag, 0, 1); // F flushes: 4 slabs to its shard, the waiter is woken ...
      spinUntil(flag, 1);
      Atomics.store(flag, 2, 1); // ... but C acquires first (this thread is still busy here)
      spinUntil(flag, 3);
      held.push(await waiting);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const id of held) pool.release(id);
      await Promise.all([f.close(), c.close()]);
    }
    expectAllFree(pool);
  });
});
