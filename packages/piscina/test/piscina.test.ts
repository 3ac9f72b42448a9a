import { createHash } from 'node:crypto';
import { Worker, threadId } from 'node:worker_threads';
import { SlabPool, type SlabPoolOptions, SlabStateError } from '@zeropool/core';
import { describe, expect, it } from 'vitest';
import { expectAllFree } from '../../core/test/all-free.js';
import { type ReclaimReport, SlabPiscina, type SlabPiscinaOptions } from '../src/index.js';

const filename = new URL('./fixtures/task.mjs', import.meta.url).href;
// piscina loads a task file with require() first, and on Node 20 a worker terminated while
// require(esm) instantiates the file aborts the whole process (a Node bug; reproduced in 1 of
// 1,500 quick create/destroy cycles, never with this flag, never on Node 24). These tests kill and
// replace workers, then destroy the pool at once: load the file with import() instead.
const execArgv = ['--no-experimental-require-module'];
const MiB = 1 << 20;

/**
 * Runs `body` with a SlabPiscina over the test task file and a new pool made with `poolOptions`,
 * and destroys the Piscina afterwards, whatever `body` did.
 */
async function withPiscina(
  poolOptions: SlabPoolOptions,
  piscinaOptions: Omit<SlabPiscinaOptions, 'filename' | 'execArgv' | 'pool'>,
  body: (piscina: SlabPiscina, pool: SlabPool) => Promise<void>,
): Promise<void> {
  const pool = new SlabPool(poolOptions);
  const piscina = new SlabPiscina({ filename, execArgv, pool, ...piscinaOptions });
  try {
    await body(piscina, pool);
  } finally {
    await piscina.destroy();
  }
}

/** Every worker thread the process starts from now on: those still running, and those that exited. */
function trackWorkers(): { alive: Set<number>; exited: number[]; stop: () => void } {
  const alive = new Set<number>();
  const exited: number[] = [];
  const onWorker = (worker: Worker): void => {
    const id = worker.threadId;
    alive.add(id);
    worker.once('exit', () => {
      alive.delete(id);
      exited.push(id);
    });
  };
  process.on('worker', onWorker);
  return { alive, exited, stop: () => process.off('worker', onWorker) };
}

/** Whether `id` is no longer leased (released, or reclaimed). */
function released(pool: SlabPool, id: number): boolean {
  try {
    pool.bytes(id);
    return false;
  } catch {
    return true;
  }
}

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SlabPiscina', () => {
  it('round-trips ids through tasks with intact bytes, both directions', async () => {
    const piscina = new SlabPiscina({
      filename,
      execArgv,
      pool: { arenaBytes: 32 * MiB, parallelism: 2 },
      maxThreads: 2,
      minThreads: 2,
    });
    try {
      const tasks = Array.from({ length: 40 }, (_, i) => {
        const length = 1000 + i * 3000;
        const id = piscina.pool.acquire(length);
        const bytes = piscina.pool.bytes(id).subarray(0, length);
        for (let j = 0; j < length; j++) bytes[j] = (j * 31 + i) & 0xff;
        const expected = createHash('sha256').update(bytes).digest('hex');
        return piscina.runWithSlabs({ op: 'hash', id, length }, [id]).then((digest) => expect(digest).toBe(expected));
      });
      await Promise.all(tasks);
      for (let seed = 0; seed < 10; seed++) {
        const { id, length } = (await piscina.run({ op: 'fill', size: 5000, seed })) as { id: number; length: number };
        const bytes = piscina.receive(id, length);
        expect(bytes.length).toBe(5000);
        expect(bytes.every((b, i) => b === ((i * 7 + seed) & 0xff))).toBe(true);
        piscina.pool.release(id);
      }
    } finally {
      await piscina.destroy();
    }
  });

  it('never leaves slabs in idle workers: a main thread waiting in acquireAsync on a small pool keeps going', async () => {
    // 16 slabs of 64 KiB in all, 2 workers whose caches could hold 16 each: if released slabs
    // stayed in the (frozen) workers' caches, the main thread would wait forever.
    await withPiscina(
      { arenaBytes: 2 * MiB, maxSlabSize: MiB, shards: 2, parallelism: 2 },
      { minThreads: 2, maxThreads: 2 },
      async (piscina, pool) => {
        const running = new Set<Promise<unknown>>();
        for (let i = 0; i < 200; i++) {
          const length = 64 * 1024;
          const id = await pool.acquireAsync(length, { timeoutMs: 10_000 });
          pool.bytes(id).fill(i & 0xff, 0, length);
          const task: Promise<unknown> = piscina
            .runWithSlabs({ op: 'hash', id, length }, [id])
            .finally(() => running.delete(task));
          running.add(task);
          if (running.size >= 32) await Promise.race(running);
        }
        await Promise.all(running);
        expectAllFree(pool);
      },
    );
  });

  it('lends slabs for a task and takes them back on this thread: bytes intact, no shard traffic', async () => {
    await withPiscina({ arenaBytes: 32 * MiB, parallelism: 2 }, { maxThreads: 2, minThreads: 2 }, async (piscina, pool) => {
      // Returns where the slab lies in the arena.
      const lend = async (i: number, length: number): Promise<number> => {
        const id = pool.acquire(length);
        const bytes = pool.bytes(id).subarray(0, length);
        for (let j = 0; j < length; j++) bytes[j] = (j * 13 + i) & 0xff;
        const expected = createHash('sha256').update(bytes).digest('hex');
        const digest = piscina.runWithLoans({ op: 'view-hash', id, length }, [id]);
        // Released before the caller's own handlers run.
        await digest.then(() => expect(() => pool.bytes(id)).toThrow(SlabStateError));
        expect(await digest).toBe(expected);
        return bytes.byteOffset;
      };
      await Promise.all(Array.from({ length: 24 }, (_, i) => lend(i, 500 + i * 2500)));
      // One at a time, the slab comes back to this thread's cache each time: the same slab every
      // time (a new generation), and no refill, spill or steal on either side.
      const first = await lend(100, 4096);
      const before = pool.stats();
      for (let i = 0; i < 20; i++) expect(await lend(i, 4096)).toBe(first);
      const after = pool.stats();
      expect([after.refills, after.spills, after.steals]).toEqual([before.refills, before.spills, before.steals]);
      expectAllFree(pool);
    });
  });

  // 'throw': the worker lives on, so only runWithLoans can give the slab back (no reclaim runs).
  // 'exit': the worker's reclaim and runWithLoans race to it; either way it comes back once.
  it.each(['throw', 'exit'])('takes back a lent slab when its task fails (%s)', async (how) => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { maxThreads: 1 }, async (piscina, pool) => {
      const reports: ReclaimReport[] = [];
      piscina.on('reclaim', (report: ReclaimReport) => reports.push(report));
      const id = pool.acquire(4096);
      await expect(piscina.runWithLoans({ op: 'view-and-fail', id, length: 4096, how }, [id])).rejects.toThrow(
        how === 'throw' ? /task failed after viewing its slab/ : /exit/i,
      );
      expect(() => pool.bytes(id)).toThrow(SlabStateError);
      if (how === 'throw') expect(reports).toEqual([]);
      // A bad length: refused in the worker before anything changes hands; the slab comes back too.
      const other = pool.acquire(4096);
      await expect(piscina.runWithLoans({ op: 'view-hash', id: other, length: 5000 }, [other])).rejects.toThrow(
        /viewSlab: length must be an integer from 0 to the slab's capacity, 4096; received 5000/,
      );
      expect(() => pool.bytes(other)).toThrow(SlabStateError);
      expectAllFree(pool);
    });
  });

  // piscina rejects the task first and terminates its worker after, so the worker may still be
  // writing: an abort, or destroy() ('Terminating worker thread').
  it.each([
    ['an abort', /aborted/],
    ['destroy()', /Terminating worker thread/],
  ])('releases a lent slab only once the worker that writes to it has exited, when %s terminates it', async (how, rejection) => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { maxThreads: 1 }, async (piscina, pool) => {
      const workers = trackWorkers();
      try {
        const id = pool.acquire(4096);
        const flag = new Int32Array(new SharedArrayBuffer(4));
        const controller = new AbortController();
        const task = piscina.runWithLoans({ op: 'view-and-fail', id, length: 4096, how: 'hang', flag }, [id], {
          signal: controller.signal,
        });
        await until(() => Atomics.load(flag, 0) === 1 && workers.alive.size === 1);
        const [writer] = workers.alive;
        let destroyed: Promise<void> = Promise.resolve();
        if (how === 'destroy()') destroyed = piscina.destroy();
        else controller.abort();
        await expect(task).rejects.toThrow(rejection);
        // The worker may still be writing to it: still leased, and the main thread's.
        if (workers.alive.has(writer)) expect(pool.holderOf(id)).toBe(threadId);
        await destroyed;
        await until(() => workers.exited.includes(writer));
        await until(() => released(pool, id));
        expectAllFree(pool);
      } finally {
        workers.stop();
      }
    });
  });

  it('takes the ids of a task when it starts: a bad list is refused at once, and a reused array changes nothing', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 1, maxThreads: 1 }, async (piscina, pool) => {
      const before = pool.stats();
      for (const bad of [undefined, null, 5, '1'])
        for (const run of [piscina.runWithLoans.bind(piscina), piscina.runWithSlabs.bind(piscina)])
          expect(() => run({ op: 'view-hash', id: 0, length: 1 }, bad as never)).toThrow(
            /(runWithLoans|runWithSlabs): ids must be an array of slab ids; received (undefined|null|number|string)/,
          );
      expect(pool.stats()).toEqual(before);
      // The caller reuses its array for the next task while the first still runs.
      const ids = [pool.acquire(4096)];
      const first = ids[0];
      const task = piscina.runWithLoans({ op: 'view-hash', id: first, length: 4096 }, ids);
      const second = pool.acquire(4096);
      ids[0] = second;
      await task;
      expect(() => pool.bytes(first)).toThrow(SlabStateError);
      expect(pool.bytes(second)).toHaveLength(4096);
      pool.release(second);
      expectAllFree(pool);
    });
  });

  it('lends one slab to many tasks at once and releases it when the last settles; a loan and a hand-over at once are refused', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 2, maxThreads: 2 }, async (piscina, pool) => {
      const id = pool.acquire(4096);
      pool.bytes(id).fill(7);
      const flags = [new Int32Array(new SharedArrayBuffer(8)), new Int32Array(new SharedArrayBuffer(8))];
      // Two tasks view the slab at the same time, each until the main thread lets it finish.
      const loans = flags.map((flag) => piscina.runWithLoans({ op: 'view-until', id, length: 4096, flag }, [id]));
      await until(() => flags.every((flag) => Atomics.load(flag, 0) === 1));
      const before = pool.stats();
      let error: (Error & { code?: string }) | undefined;
      try {
        void piscina.runWithSlabs({ op: 'hash', id, length: 4096 }, [id]);
      } catch (caught) {
        error = caught as Error & { code?: string };
      }
      expect(error?.code).toBe('ERR_SLAB_LENT');
      expect(error?.message).toMatch(
        new RegExp(`runWithSlabs: id ${id} is not free to hand over: it is lent to a task still running`),
      );
      expect(pool.stats()).toEqual(before);
      // The first loan settles: the other still reads the slab, so it stays leased.
      Atomics.store(flags[0], 1, 1);
      expect(await loans[0]).toBe(7);
      expect(pool.bytes(id)[0]).toBe(7);
      // The last loan settles: released before its caller's handlers run.
      Atomics.store(flags[1], 1, 1);
      await loans[1].then(() => expect(() => pool.bytes(id)).toThrow(SlabStateError));
      // A slab handed over cannot be lent (or handed over again) while its task runs.
      const handed = pool.acquire(4096);
      const flag = new Int32Array(new SharedArrayBuffer(8));
      const holding = piscina.runWithSlabs({ op: 'view-until', id: handed, length: 4096, flag }, [handed]);
      for (const run of [piscina.runWithLoans.bind(piscina), piscina.runWithSlabs.bind(piscina)])
        expect(() => run({ op: 'view-hash', id: handed, length: 4096 }, [handed])).toThrow(
          expect.objectContaining({ code: 'ERR_SLAB_HANDED_OVER' }),
        );
      Atomics.store(flag, 1, 1);
      await holding;
      pool.release(handed);
      expectAllFree(pool);
    });
  });

  it('fans one buffer out to three hash algorithms in parallel, each digest right, the slab released once', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 2, maxThreads: 3 }, async (piscina, pool) => {
      const length = 100_000;
      const id = pool.acquire(length);
      const bytes = pool.bytes(id).subarray(0, length);
      for (let i = 0; i < length; i++) bytes[i] = (i * 131) & 0xff;
      const algorithms = ['sha256', 'sha512', 'md5'];
      const expected = algorithms.map((algorithm) => createHash(algorithm).update(bytes).digest('hex'));
      const digests = await Promise.all(
        algorithms.map((algorithm) => piscina.runWithLoans({ op: 'view-hash', id, length, algorithm }, [id])),
      );
      expect(digests).toEqual(expected);
      expect(() => pool.bytes(id)).toThrow(SlabStateError);
      expectAllFree(pool);
    });
  });

  it('releases a slab lent to many tasks only once the worker of an aborted one has exited', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 2, maxThreads: 2 }, async (piscina, pool) => {
      const id = pool.acquire(4096);
      const hang = new Int32Array(new SharedArrayBuffer(4));
      const controller = new AbortController();
      const aborted = piscina.runWithLoans({ op: 'view-and-fail', id, length: 4096, how: 'hang', flag: hang }, [id], {
        signal: controller.signal,
      });
      const flag = new Int32Array(new SharedArrayBuffer(8));
      const other = piscina.runWithLoans({ op: 'view-until', id, length: 4096, flag }, [id]);
      await until(() => Atomics.load(hang, 0) === 1 && Atomics.load(flag, 0) === 1);
      controller.abort();
      await expect(aborted).rejects.toThrow(/aborted/);
      Atomics.store(flag, 1, 1);
      await other;
      // Both loans are over, but the aborted task's worker may still be writing: the id waits, and
      // cannot be lent again meanwhile.
      await until(() => released(pool, id));
      expectAllFree(pool);
    });
  });

  it('refuses ids that are not acquired slabs of the pool at once, and takes no task after close() or destroy()', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const other = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const piscina = new SlabPiscina({ filename, execArgv, pool, minThreads: 1, maxThreads: 1 });
    const released = pool.acquire(64);
    pool.release(released);
    const before = pool.stats();
    for (const bad of ['x', -1, Number.NaN, released, 2 ** 30])
      for (const run of [piscina.runWithLoans.bind(piscina), piscina.runWithSlabs.bind(piscina)])
        expect(() => run({ op: 'view-hash', id: 0, length: 1 }, [bad as number])).toThrow(SlabStateError);
    expect(pool.stats()).toEqual(before);
    // Another pool's id: nothing is leased in this pool now, so it cannot pass for one of ours.
    expect(() => piscina.runWithLoans({}, [other.acquire(64)])).toThrow(SlabStateError);
    await piscina.destroy();
    expectAllFree(pool);
  });

  it.each([false, true])(
    "rejects tasks enqueued while close({ force: %s }) runs with piscina's AbortError, gives their ids back, and takes tasks again after",
    async (force) => {
      const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
      const piscina = new SlabPiscina({ filename, execArgv, pool, minThreads: 1, maxThreads: 1 });
      const workers = trackWorkers();
      try {
        await piscina.run({ op: 'warm', size: 4096 });
        const closed = piscina.close({ force });
        const lent = pool.acquire(4096);
        const handed = pool.acquire(4096);
        const refused = [
          piscina.run({ op: 'user-data' }),
          piscina.runWithLoans({ op: 'view-hash', id: lent, length: 4096 }, [lent]),
          piscina.runWithSlabs({ op: 'hash', id: handed, length: 4096 }, [handed]),
        ];
        for (const task of refused)
          await expect(task).rejects.toMatchObject({ name: 'AbortError', message: 'The task has been aborted' });
        await closed;
        expect(() => pool.bytes(lent)).toThrow(SlabStateError);
        expect(() => pool.bytes(handed)).toThrow(SlabStateError);
        // After close(), piscina takes tasks again and starts a worker: watched like the first.
        const reports: ReclaimReport[] = [];
        piscina.on('reclaim', (report: ReclaimReport) => reports.push(report));
        const { threadId: worker } = (await piscina.run({ op: 'hold-and-exit-later' })) as { threadId: number };
        expect(workers.alive.has(worker)).toBe(true);
        await piscina.destroy();
        expect(reports.map((r) => [r.threadId, r.leased])).toEqual([[worker, 1]]);
        expect(pool.stats().threads).toBe(1);
        expectAllFree(pool);
      } finally {
        workers.stop();
        await piscina.destroy();
      }
    },
  );

  it.each([
    ['a string', 'ABC'],
    ['an array', [1, 2]],
    ['an object', { user: 'mine' }],
    ['nothing', undefined],
  ])('hands the workers workerData exactly as given (%s), and the pool another way', async (_, workerData) => {
    const piscina = new SlabPiscina({ filename, execArgv, workerData, maxThreads: 1, pool: { arenaBytes: 8 * MiB } });
    try {
      const seen = (await piscina.run({ op: 'user-data' })) as { workerData: unknown; arenaBytes: number };
      expect(seen.workerData).toEqual(workerData);
      expect(seen.arenaBytes).toBe(piscina.pool.config.arenaBytes);
    } finally {
      await piscina.destroy();
    }
  });

  it('lets several SlabPiscinas with different pools in one process each reach their own pool', async () => {
    const sizes = [4, 8, 12].map((n) => n * MiB);
    const piscinas = sizes.map(
      (arenaBytes) => new SlabPiscina({ filename, execArgv, minThreads: 1, maxThreads: 2, pool: { arenaBytes } }),
    );
    try {
      const seen = await Promise.all(
        piscinas.flatMap((piscina) => [0, 1, 2].map(() => piscina.run({ op: 'user-data' }) as Promise<{ arenaBytes: number }>)),
      );
      expect(seen.map((s) => s.arenaBytes)).toEqual(sizes.flatMap((size) => [size, size, size]));
    } finally {
      await Promise.all(piscinas.map((piscina) => piscina.destroy()));
    }
  });

  it('shares one process-wide worker listener among all SlabPiscinas, and removes it once all are closed', async () => {
    const listeners = process.listenerCount('worker');
    const piscinas = Array.from(
      { length: 12 },
      () => new SlabPiscina({ filename, execArgv, maxThreads: 1, pool: { arenaBytes: 4 * MiB } }),
    );
    expect(process.listenerCount('worker')).toBeLessThanOrEqual(listeners + 1);
    await Promise.all(piscinas.map((piscina) => piscina.close()));
    expect(process.listenerCount('worker')).toBe(listeners);
  });

  it('emits reclaim only for a worker that exited holding something: none on a clean close()', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const piscina = new SlabPiscina({ filename, execArgv, pool, minThreads: 2, maxThreads: 2 });
    const reports: ReclaimReport[] = [];
    piscina.on('reclaim', (report: ReclaimReport) => reports.push(report));
    for (let i = 0; i < 4; i++) {
      const id = pool.acquire(4096);
      await piscina.runWithSlabs({ op: 'hash', id, length: 4096 }, [id]);
    }
    await piscina.close();
    expect(reports).toEqual([]);
    expect(pool.stats().threads).toBe(1);
    expectAllFree(pool);
  });

  it('gives its own errors a code', async () => {
    const piscina = new SlabPiscina({ filename, execArgv, maxThreads: 1, pool: { arenaBytes: 8 * MiB } });
    try {
      expect(() => piscina.runWithSlabs({}, 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      const id = piscina.pool.acquire(4096);
      expect(() => piscina.receive(id, 5000)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      piscina.pool.release(id);
      const { getPool } = await import('../src/worker.js');
      expect(() => getPool()).toThrow(expect.objectContaining({ code: 'ERR_NOT_SLAB_PISCINA_WORKER' }));
    } finally {
      await piscina.destroy();
    }
  });

  it('leaves no process-wide listener behind when piscina refuses its options', () => {
    const listeners = process.listenerCount('worker');
    expect(() => new SlabPiscina({ filename, execArgv, minThreads: 4, maxThreads: 2 })).toThrow(RangeError);
    expect(() => new SlabPiscina({ filename: 42 as never, execArgv })).toThrow(TypeError);
    expect(process.listenerCount('worker')).toBe(listeners);
  });

  it('stays open when close() is given options piscina refuses', async () => {
    const piscina = new SlabPiscina({ filename, execArgv, maxThreads: 1 });
    try {
      await expect(piscina.close({ force: 'yes' } as never)).rejects.toThrow(/force argument must be a boolean/);
      await expect(piscina.close(null as never)).rejects.toThrow(/options must be an object/);
      // Still takes tasks, and its workers are still watched.
      expect(await piscina.run({ op: 'user-data' })).toBeDefined();
    } finally {
      await piscina.destroy();
    }
  });

  it.each(['exit', 'throw-async', 'hang'])('returns every slab of a worker that dies mid-task (%s)', async (how) => {
    await withPiscina({ arenaBytes: 32 * MiB, parallelism: 2 }, { maxThreads: 2, minThreads: 1 }, async (piscina, pool) => {
      const reports: ReclaimReport[] = [];
      piscina.on('reclaim', (report: ReclaimReport) => reports.push(report));
      const length = 64 * 1024;
      const id = pool.acquire(length);
      const controller = new AbortController();
      const task = piscina.runWithSlabs({ op: 'hold-and-crash', id, length, extra: 5, how }, [id], { signal: controller.signal });
      if (how === 'hang') {
        // A hung task: abort it, which makes piscina terminate its worker.
        await until(() => pool.stats().classes.find((c) => c.slabSize === length)!.leased === 6);
        controller.abort();
      }
      await expect(task).rejects.toBeTruthy();
      await until(() => reports.length > 0);
      expect(reports[0].leased).toBe(6); // the slab it took over and the five it acquired
      expectAllFree(pool);
    });
  });

  it('releases on the main thread an id whose task died before the worker took it', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { maxThreads: 1 }, async (piscina, pool) => {
      const id = pool.acquire(4096);
      await expect(piscina.runWithSlabs({ op: 'crash-before-take', id }, [id])).rejects.toBeTruthy();
      expect(() => pool.bytes(id)).toThrow(/not an acquired slab/);
      expectAllFree(pool);
    });
  });

  it("gives a task that releases an id it does not own the core's SlabStateError, and corrupts nothing", async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { maxThreads: 1 }, async (piscina, pool) => {
      const id = pool.acquire(100);
      pool.release(id);
      await expect(piscina.run({ op: 'release-foreign', id })).rejects.toThrow(/is not an acquired slab of this pool/);
      await expect(piscina.run({ op: 'release-foreign', id: 123456 })).rejects.toThrow(/is not an acquired slab of this pool/);
      expectAllFree(pool);
    });
  });

  it('refuses a bad length in takeSlab and receive with a RangeError naming it, and nothing changes hands', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 1, maxThreads: 1 }, async (piscina, pool) => {
      for (const length of [5000, -1, 1.5, Number.NaN, '10']) {
        // Worker side: the task fails before adopting, so the id is still the main thread's and
        // runWithSlabs gives it back.
        const id = pool.acquire(4096);
        await expect(piscina.runWithSlabs({ op: 'hash', id, length }, [id])).rejects.toThrow(
          /takeSlab: length must be an integer from 0 to the slab's capacity, 4096; received/,
        );
        expect(() => pool.bytes(id)).toThrow(SlabStateError);
        // Main side: a slab the worker lent stays the worker's until a valid receive.
        const lent = (await piscina.run({ op: 'fill', size: 4096, seed: 1 })) as { id: number; length: number };
        const holder = pool.holderOf(lent.id);
        expect(holder).not.toBe(threadId);
        expect(() => piscina.receive(lent.id, length as number)).toThrow(
          /receive: length must be an integer from 0 to the slab's capacity, 4096; received/,
        );
        expect(pool.holderOf(lent.id)).toBe(holder);
        expect(piscina.receive(lent.id, 4096)).toHaveLength(4096);
        expect(pool.holderOf(lent.id)).toBe(threadId);
        pool.release(lent.id);
      }
      // None is leased, nothing is lost.
      expect(pool.audit()).toEqual([]);
      for (const c of pool.stats().classes)
        expect({ size: c.slabSize, leased: c.leased }).toEqual({ size: c.slabSize, leased: 0 });
    });
  });

  it('watches a worker whose task file fails to load after taking a slab (piscina never calls it ready)', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const piscina = new SlabPiscina({
      filename: new URL('./fixtures/load-fails.mjs', import.meta.url).href,
      execArgv,
      pool,
      minThreads: 0,
      maxThreads: 1,
    });
    const reports: ReclaimReport[] = [];
    piscina.on('reclaim', (report: ReclaimReport) => reports.push(report));
    piscina.on('error', () => {});
    try {
      // piscina keeps the task queued (and may start another worker, which fails the same way).
      const task = piscina.run({}).catch((error: unknown) => error);
      await until(() => reports.length > 0);
      expect(reports[0]).toMatchObject({ slots: 1, leased: 1 });
      await piscina.destroy();
      expect(await task).toBeInstanceOf(Error);
      expect(pool.stats().threads).toBe(1);
      expectAllFree(pool);
    } finally {
      await piscina.destroy();
    }
  });

  it('watches the workers started for tasks queued in the same tick as close(), and every slab comes back', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    // Constructor, tasks and close() in one tick: Node announces every worker after close() began.
    const piscina = new SlabPiscina({ filename, execArgv, pool, minThreads: 1, maxThreads: 3 });
    const workers = trackWorkers();
    const reclaimed: number[] = [];
    piscina.on('reclaim', (report: ReclaimReport) => reclaimed.push(report.threadId));
    try {
      const tasks: Promise<unknown>[] = [];
      for (let i = 0; i < 6; i++) {
        const id = pool.acquire(4096);
        tasks.push(piscina.runWithSlabs({ op: 'hash', id, length: 4096 }, [id]));
        tasks.push(piscina.run({ op: 'warm', size: 65536 }));
      }
      const closed = piscina.close();
      await Promise.allSettled(tasks);
      await closed;
      // close() resolves once every worker has exited and been reclaimed.
      expect(workers.exited.length).toBeGreaterThan(0);
      for (const id of reclaimed) expect(workers.exited).toContain(id);
      expect(pool.stats().threads).toBe(1);
      expectAllFree(pool);
    } finally {
      workers.stop();
      await piscina.destroy();
    }
  });

  it('leaves no worker running after destroy(), even one piscina starts when an aborted worker exits late', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const piscina = new SlabPiscina({ filename, execArgv, pool, minThreads: 1, maxThreads: 1 });
    const workers = trackWorkers();
    try {
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const controller = new AbortController();
      // The worker blocks 1 s in a child process, so its termination lands after destroy() began.
      const task = piscina.run({ op: 'block', flag, ms: 1000 }, { signal: controller.signal }).catch((e) => e);
      await until(() => Atomics.load(flag, 0) === 1);
      controller.abort();
      await task;
      await piscina.destroy();
      expect(piscina.threads).toHaveLength(0);
      expect([...workers.alive]).toEqual([]);
      expect(pool.stats().threads).toBe(1);
      expectAllFree(pool);
    } finally {
      workers.stop();
      await piscina.destroy();
    }
  });

  it('watches no other worker while closing, and stops listening even when close() rejects', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const listeners = process.listenerCount('worker');
    const piscina = new SlabPiscina({ filename, execArgv, pool, minThreads: 1, maxThreads: 1, closeTimeout: 100 });
    const reclaimed: number[] = [];
    piscina.on('reclaim', (report: ReclaimReport) => reclaimed.push(report.threadId));
    // No 'error' listener: piscina's close() then rejects when its closeTimeout passes.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const task = piscina.run({ op: 'block', flag, ms: 600 }).catch((error: unknown) => error);
    await until(() => Atomics.load(flag, 0) === 1);
    const closing = piscina.close().then(
      () => 'closed',
      (error: Error) => error.message,
    );
    // A worker of someone else's, started while this SlabPiscina closes: not its to watch.
    const foreign = new Worker('setTimeout(() => {}, 300)', { eval: true });
    const foreignId = foreign.threadId;
    const foreignExit = new Promise((r) => foreign.once('exit', r));
    expect(await closing).toMatch(/timed out/);
    await task;
    await foreignExit;
    await new Promise((r) => setImmediate(r));
    expect(reclaimed).not.toContain(foreignId);
    expect(process.listenerCount('worker')).toBe(listeners);
    expectAllFree(pool);
  });

  it('leaves no slab cached in an idle worker after a task gives one with giveSlab', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 1, maxThreads: 1 }, async (piscina, pool) => {
      const { id, length } = (await piscina.run({ op: 'fill', size: 4096, seed: 3 })) as { id: number; length: number };
      expect(piscina.receive(id, length)).toHaveLength(4096);
      pool.release(id);
      pool.flush();
      // The worker's acquire refilled its cache with a batch; piscina now freezes it, so any slab
      // left there would be out of the main thread's reach until the worker exits.
      const c = pool.stats().classes.find((k) => k.slabSize === 4096)!;
      expect({ cached: c.cached, leased: c.leased }).toEqual({ cached: 0, leased: 0 });
    });
  });

  it('still gives a slab under the deprecated name lendSlab', async () => {
    await withPiscina({ arenaBytes: 8 * MiB, parallelism: 2 }, { minThreads: 1, maxThreads: 1 }, async (piscina, pool) => {
      const { id, length } = (await piscina.run({ op: 'fill', size: 256, seed: 5, former: true })) as {
        id: number;
        length: number;
      };
      const bytes = piscina.receive(id, length);
      expect(Array.from(bytes.subarray(0, 4))).toEqual([5, 12, 19, 26]);
      pool.release(id);
      expectAllFree(pool);
    });
  });

  it('returns the cached slabs of workers that exit by idle timeout', async () => {
    await withPiscina(
      { arenaBytes: 8 * MiB, parallelism: 2 },
      { minThreads: 0, maxThreads: 1, idleTimeout: 50 },
      async (piscina, pool) => {
        const reports: ReclaimReport[] = [];
        piscina.on('reclaim', (report: ReclaimReport) => reports.push(report));
        await piscina.run({ op: 'warm', size: 4096 });
        expect(pool.stats().classes.find((c) => c.slabSize === 4096)!.cached).toBeGreaterThan(0);
        await until(() => reports.length > 0);
        expect(reports[0].cached).toBeGreaterThan(0);
        expectAllFree(pool);
      },
    );
  });
});
