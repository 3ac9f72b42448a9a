// watch reclaims a worker once when it exits; reclaims, watches and closes that meet each other leave the pool whole.

import { EventEmitter } from 'node:events';
import { Worker, threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError, type ReclaimReport, SlabPool } from '../src/index.js';
import { S_WAITERS, claimIndex, claimThread, claimValue, lockOwnerValue, reclaimPhase, reservedWord } from '../src/layout.js';
import { expectAllFree } from './all-free.js';
import { captureWarnings, fixture } from './helpers.js';
import { SIZE, startHolder } from './holder.js';
import { internalsOf } from './internals.js';

describe('watch', () => {
  it.each(['exit', 'throw', 'hang'])('reclaims a worker when it exits (%s) and reports what came back', async (mode) => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const reports: unknown[] = [];
    // Watch from the start: a worker that exits at once has no thread id left to watch by.
    const { worker, exited } = await startHolder(pool, mode, {
      onCreate: (w) => pool.watch(w, (report) => reports.push(report)),
    });
    if (mode === 'hang') await worker.terminate();
    await exited;
    await new Promise((r) => setImmediate(r));
    expect(reports).toEqual([expect.objectContaining({ threadId: expect.any(Number), leased: 5, slots: 1 })]);
    expectAllFree(pool);
  });

  it("reclaims on 'exit' without waiting out its own claim on the worker's slot", async () => {
    // The reclaim looks for slots another reclaim holds and waits for them, up to 200 ms. It used
    // to count the slot it had just claimed itself, so every watched exit blocked this thread
    // (and its event loop) for those 200 ms.
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    let exitAt = 0;
    let reclaimedAt = 0;
    const reports: Array<{ slots: number; leased: number }> = [];
    const { worker, exited } = await startHolder(pool, 'hang', {
      onCreate: (w) => {
        // Registered before watch's own 'exit' listener, so it runs just before the reclaim.
        w.once('exit', () => {
          exitAt = performance.now();
        });
        pool.watch(w, (report) => {
          reclaimedAt = performance.now();
          reports.push(report);
        });
      },
    });
    await worker.terminate();
    await exited;
    await new Promise((r) => setImmediate(r));
    expect(reports).toEqual([expect.objectContaining({ slots: 1, leased: 5 })]);
    expect(reclaimedAt - exitAt).toBeLessThan(190);
    expectAllFree(pool);
  });

  it("does not take a worker's slabs on an 'exit' that comes while it still runs, and takes them once it has stopped", async () => {
    // Some runtimes emit 'exit' before the thread has stopped. A stand-in for the Worker emits
    // 'exit' for a worker whose event loop still runs: its pool object answers the liveness check.
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const worker = new Worker(fixture('victim-worker.ts'), { workerData: { handle: pool.handle } });
    const tid = worker.threadId;
    await new Promise((resolve) => worker.once('message', resolve));
    const early = new EventEmitter() as EventEmitter & { threadId: number };
    early.threadId = tid;
    const reports: ReclaimReport[] = [];
    pool.watch(early, (report) => reports.push(report));
    early.emit('exit', 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(reports).toEqual([]);
    const held = pool.stats().classes[6]; // still the worker's: 4 leased, its cache stack
    expect(held.leased).toBe(4);
    expect(held.cached).toBeGreaterThanOrEqual(3);
    await worker.terminate();
    const deadline = Date.now() + 5000;
    while (reports.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(reports).toEqual([{ threadId: tid, slots: 1, locks: 0, cached: held.cached, leased: 4 }]);
    expectAllFree(pool);
  });

  it('reports an onReclaim callback that throws as that, not as a failed reclaim', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const { warnings, stop } = captureWarnings();
    try {
      const { worker, exited } = await startHolder(pool, 'hang', {
        onCreate: (w) =>
          pool.watch(w, () => {
            throw new Error('bug in the callback');
          }),
      });
      await worker.terminate();
      await exited;
      await new Promise((r) => setTimeout(r, 20));
      expect(warnings.filter((w) => w.name === 'ZeropoolWarning').map((w) => w.message)).toEqual([
        expect.stringMatching(/^zeropool: thread \d+ was reclaimed, but its onReclaim callback threw: bug in the callback$/),
      ]);
      expectAllFree(pool);
    } finally {
      stop();
    }
  });

  it('keeps a worker protected while any of its watches remains, and reclaims it once on exit', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const first: Array<{ leased: number }> = [];
    const second: Array<{ leased: number }> = [];
    const { worker, tid, exited } = await startHolder(pool, 'hang');
    const stopFirst = pool.watch(worker, (report) => first.push(report));
    pool.watch(worker, (report) => second.push(report));
    stopFirst();
    stopFirst(); // a second cancel changes nothing
    // The remaining watch still marks the worker as running: reclaiming it is refused.
    expect(() => pool.reclaim(tid)).toThrow(/watched worker that has not exited/);
    await worker.terminate();
    await exited;
    await new Promise((r) => setImmediate(r));
    expect(first).toEqual([]);
    expect(second).toEqual([expect.objectContaining({ leased: 5, slots: 1 })]);
    expectAllFree(pool);
  });

  it('gives every watch of the same worker a report; the slabs come back once', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const reports: Array<{ leased: number; slots: number }> = [];
    const { worker, exited } = await startHolder(pool, 'hang');
    pool.watch(worker, (report) => reports.push(report));
    pool.watch(worker, (report) => reports.push(report));
    await worker.terminate();
    await exited;
    await new Promise((r) => setImmediate(r));
    expect(reports.map((r) => [r.slots, r.leased])).toEqual([
      [1, 5],
      [0, 0],
    ]);
    expectAllFree(pool);
  });

  it('does nothing harmful for a worker that closed its pool before exiting', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const reports: Array<{ slots: number }> = [];
    const { worker, exited } = await startHolder(pool, 'close', {
      leased: 2,
      cached: 2,
      onCreate: (w) => pool.watch(w, (report) => reports.push(report)),
    });
    await worker.terminate();
    await exited;
    await new Promise((r) => setImmediate(r));
    expect(reports[0]?.slots).toBe(0);
    // Its two leases stay leased (any thread may still release them) and name no holder.
    expect(pool.stats().classes.find((c) => c.slabSize === SIZE)?.leased).toBe(2);
    expect(pool.audit()).toEqual([]);
  });
});

describe('reclaims and closes that meet each other', () => {
  it('takes over a check another reclaim began and never finished, after 100 ms, on a watched exit', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const { claims, layout } = internalsOf(pool);
    const reports: ReclaimReport[] = [];
    const { worker, tid, exited } = await startHolder(pool, 'hang', {
      onCreate: (w) => pool.watch(w, (report) => reports.push(report)),
    });
    // A reclaimer (thread 999, never attached) stopped while checking the worker's slot.
    const slot = Array.from({ length: layout.maxThreads }, (_, s) => s).find(
      (s) => claimThread(Atomics.load(claims, claimIndex(layout, s))) === tid,
    );
    expect(slot).toBeDefined();
    Atomics.store(claims, claimIndex(layout, slot as number), claimValue(tid, reclaimPhase(999, false)));
    const started = performance.now();
    await worker.terminate();
    await exited;
    const deadline = Date.now() + 5000;
    while (reports.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(reports).toEqual([expect.objectContaining({ threadId: tid, slots: 1, leased: 5 })]);
    expectAllFree(pool);
  });

  it('does not finish the reclaims of a thread it cannot show has exited (one with no slot of its own)', () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const other = SlabPool.attach(pool.handle);
    const { claims, layout } = internalsOf(pool);
    const otherSlot = internalsOf(other).slot;
    // Thread 777 (no slot here) is recorded as having confirmed a reclaim of the other object's slot.
    const held = claimValue(threadId, reclaimPhase(777, true));
    Atomics.store(claims, claimIndex(layout, otherSlot), held);
    expect(pool.reclaim(777)).toEqual({ threadId: 777, slots: 0, locks: 0, cached: 0, leased: 0 });
    expect(Atomics.load(claims, claimIndex(layout, otherSlot))).toBe(held);
    Atomics.store(claims, claimIndex(layout, otherSlot), claimValue(threadId, 0));
    other.close();
    expect(pool.audit()).toEqual([]);
  });

  it("lets a pool object's watches end when it is closed: a closed object reclaims nothing", async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const watcher = SlabPool.attach(pool.handle);
    const reports: ReclaimReport[] = [];
    const { warnings, stop } = captureWarnings();
    try {
      const { worker, tid, exited } = await startHolder(pool, 'hang', {
        onCreate: (w) => watcher.watch(w, (report) => reports.push(report)),
      });
      watcher.close();
      await worker.terminate();
      await exited;
      await new Promise((r) => setTimeout(r, 50));
      expect(reports).toEqual([]);
      expect(warnings).toEqual([]);
      // Its slabs are still the dead worker's, for a pool object that is open to reclaim.
      expect(pool.reclaim(tid)).toMatchObject({ slots: 1, leased: 5 });
      expectAllFree(pool);
    } finally {
      stop();
    }
  });

  it('keeps the other waiters of a class when a close() that threw part-way wakes its own waiters', async () => {
    const MiB = 1 << 20;
    const pool = new SlabPool({ arenaBytes: 4 * MiB, maxSlabSize: 64 * 1024, parallelism: 2, shards: 2, lockTimeoutMs: 100 });
    const a = SlabPool.attach(pool.handle, { lockTimeoutMs: 100 });
    const b = SlabPool.attach(pool.handle);
    const { words, layout } = internalsOf(pool);
    // A page for each of the two classes, then every slab of both taken.
    const held: number[] = [pool.acquire(128), pool.acquire(64)];
    for (const size of [64, 128]) for (let id = pool.tryAcquire(size); id !== -1; id = pool.tryAcquire(size)) held.push(id);
    const aWaits = [a.acquireAsync(64).catch((e: unknown) => e), a.acquireAsync(128).catch((e: unknown) => e)];
    const bWait = b.acquireAsync(64, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    expect(words[reservedWord(layout, 0) + S_WAITERS]).toBe(2);
    // A dead thread holds class 1's reserved lock: a's close() withdraws class 0, then throws.
    Atomics.store(words, reservedWord(layout, 1), lockOwnerValue(9));
    expect(() => a.close()).toThrow(LockTimeoutError);
    await Promise.all(aWaits);
    // b still counts as waiting on class 0, and gets the next slab released there.
    expect(words[reservedWord(layout, 0) + S_WAITERS]).toBe(1);
    const small = held.findIndex((id) => pool.capacity(id) === 64);
    pool.release(held.splice(small, 1)[0]);
    const got = await bWait;
    b.release(got);
    Atomics.store(words, reservedWord(layout, 1), 0);
    a.close();
    b.close();
    for (const id of held) pool.release(id);
    expect([words[reservedWord(layout, 0) + S_WAITERS], words[reservedWord(layout, 1) + S_WAITERS]]).toEqual([0, 0]);
    expectAllFree(pool);
  });
});
