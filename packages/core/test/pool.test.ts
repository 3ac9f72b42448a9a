import { readFileSync } from 'node:fs';
import { Worker, threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PoolExhaustedError, SlabPool, SlabStateError } from '../src/index.js';
import { fixture } from './helpers.js';

const MiB = 1 << 20;
const small = (extra: object = {}) => new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2, ...extra });

describe('acquire', () => {
  it('returns a slab whose capacity is the size rounded up to its power-of-two class', () => {
    const pool = small();
    for (const [size, capacity] of [
      [0, 64],
      [1, 64],
      [64, 64],
      [65, 128],
      [1000, 1024],
      [4096, 4096],
      [4097, 8192],
      [MiB, MiB],
    ]) {
      const id = pool.acquire(size);
      expect(pool.capacity(id), `size ${size}`).toBe(capacity);
      expect(pool.bytes(id).byteLength).toBe(capacity);
      pool.release(id);
    }
  });

  it('hands out distinct slabs whose bytes do not overlap', () => {
    const pool = small();
    const ids = Array.from({ length: 200 }, (_, i) => pool.acquire(i % 2 ? 100 : 3000));
    expect(new Set(ids).size).toBe(ids.length);
    for (const [i, id] of ids.entries()) pool.bytes(id).fill(i & 0xff);
    for (const [i, id] of ids.entries()) expect(pool.bytes(id).every((b) => b === (i & 0xff))).toBe(true);
    const ranges = ids
      .map((id) => [pool.bytes(id).byteOffset, pool.bytes(id).byteOffset + pool.capacity(id)])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1]);
  });

  it('returns safe integers, generation * 2^32 + slab index', () => {
    const pool = small();
    const slabs = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const id = pool.acquire(64 << (i % 5));
      expect(Number.isSafeInteger(id) && id >= 0).toBe(true);
      slabs.add(id % 2 ** 32);
      if (i % 2 === 0) pool.release(id);
    }
    // The low 32 bits are the slab index: below the arena's slab slots (every page in 64-byte slabs).
    const stats = pool.stats();
    const slots = (stats.pagesCarved + stats.pagesFree + stats.pagesUntouched) * (stats.pageBytes / 64);
    expect(Math.max(...slabs)).toBeLessThan(slots);
  });

  it('carves any mix of sizes until the arena is full, then throws PoolExhaustedError naming the class and the fill', () => {
    const pool = small();
    const held: number[] = [];
    let error: unknown;
    try {
      for (let i = 0; ; i++) held.push(pool.acquire(i % 3 === 0 ? MiB : 256 << (i % 7)));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PoolExhaustedError);
    const exhausted = error as PoolExhaustedError;
    expect(exhausted.code).toBe('ERR_POOL_EXHAUSTED');
    expect(exhausted.message).toMatch(/no free slab of class \d+ bytes for a request of \d+ bytes/);
    expect(exhausted.message).toMatch(/of 8388608 arena bytes carved/);
    expect(held.length).toBeGreaterThan(6);
    const stats = pool.stats();
    expect(stats.exhausted).toBe(1);
    expect(stats.classes.reduce((n, c) => n + c.leased, 0)).toBe(held.length);
    for (const id of held) pool.release(id);
    // Released slabs are reused: the same mix fits again.
    for (let i = 0; i < held.length; i++) pool.release(pool.acquire(i % 3 === 0 ? MiB : 256 << (i % 7)));
  });

  it('tryAcquire returns -1 instead of throwing when exhausted, and counts it', () => {
    const pool = small();
    const held: number[] = [];
    for (let id = pool.tryAcquire(MiB); id !== -1; id = pool.tryAcquire(MiB)) held.push(id);
    const stats = pool.stats();
    expect(held.length).toBe(stats.pagesCarved);
    expect(stats.arenaBytes - stats.usedBytes).toBeLessThan(MiB + 12);
    expect(pool.tryAcquire(MiB)).toBe(-1);
    expect(pool.stats().exhausted).toBe(2);
  });
});

describe('release', () => {
  it('makes the slab available again and counts acquires, releases and cache hits', () => {
    const pool = small();
    const first = pool.acquire(100);
    const firstOffset = pool.bytes(first).byteOffset;
    pool.release(first);
    const second = pool.acquire(100);
    expect(pool.bytes(second).byteOffset).toBe(firstOffset); // same slab (LIFO cache) ...
    expect(second).not.toBe(first); // ... under a new generation
    pool.release(second);
    const stats = pool.stats();
    expect(stats.acquires).toBe(2);
    expect(stats.releases).toBe(2);
    expect(stats.cacheHits).toBe(1);
    expect(stats.refills).toBe(1);
  });

  it('rejects a second release of the same id and leaves the pool unchanged', () => {
    const pool = small();
    const id = pool.acquire(100);
    pool.release(id);
    const before = pool.stats();
    expect(() => pool.release(id)).toThrow(SlabStateError);
    expect(() => pool.release(id)).toThrow(/is not an acquired slab of this pool: slab \d+ is not acquired: it was released/);
    expect(pool.stats()).toEqual(before);
  });

  it('rejects a stale id after the slab was handed out again, and the new holder keeps it', () => {
    const pool = small();
    const stale = pool.acquire(100);
    pool.release(stale);
    const fresh = pool.acquire(100);
    expect(() => pool.release(stale)).toThrow(/stale/);
    expect(pool.bytes(fresh).byteLength).toBe(128);
    pool.release(fresh);
  });

  it('keeps refusing a stale id through 2^20 reuses of its slab, and its live holder keeps the lease', () => {
    const pool = small();
    const stale = pool.acquire(100);
    const slab = stale % 2 ** 32;
    pool.release(stale);
    // The thread's LIFO cache hands the same slab back every time: the fastest a slab can be reused.
    let live = -1;
    let otherSlabs = 0;
    for (let reuse = 1; reuse <= 2 ** 20; reuse++) {
      live = pool.acquire(100);
      if (live % 2 ** 32 !== slab) otherSlabs++;
      if (reuse < 2 ** 20) pool.release(live);
    }
    expect(otherSlabs).toBe(0);
    expect(live).not.toBe(stale);
    pool.bytes(live).fill(7);
    const before = pool.stats();
    expect(() => pool.release(stale)).toThrow(SlabStateError);
    expect(() => pool.release(stale)).toThrow(/stale/);
    expect(pool.releaseIfHeld(stale)).toBe(false);
    expect(() => pool.adopt(stale)).toThrow(SlabStateError);
    expect(pool.stats()).toEqual(before);
    expect(pool.holderOf(live)).toBe(threadId);
    expect(pool.bytes(live).every((b) => b === 7)).toBe(true);
    pool.release(live);
  });

  it('rejects an id that was never handed out', () => {
    const pool = small();
    const id = pool.acquire(100);
    const neighbour = id + 1; // a slab of the same page, still free in a cache or shard
    expect(() => pool.release(neighbour)).toThrow(SlabStateError);
    pool.release(id);
  });

  it('rejects an id issued by another pool', () => {
    const a = small();
    const b = small();
    const idA = a.acquire(100);
    const idB = b.acquire(100);
    expect(() => b.release(idA)).toThrow(SlabStateError);
    expect(() => a.release(idB)).toThrow(SlabStateError);
    a.release(idA);
    b.release(idB);
  });

  it("rejects the next pool's ids after its own slabs were reused a few times", () => {
    // Pools created one after another used to get consecutive tags, so the second pool's first id
    // was the first pool's live id after one reuse of the slab, and releasing it released that lease.
    for (let reuses = 1; reuses <= 8; reuses++) {
      const a = small();
      const b = small();
      for (let i = 0; i < reuses; i++) a.release(a.acquire(100));
      const idA = a.acquire(100);
      const idB = b.acquire(100);
      expect(idB & 0xfff, 'both pools hand out the same slab index').toBe(idA & 0xfff);
      const before = a.stats();
      expect(() => a.release(idB), `after ${reuses} reuses`).toThrow(SlabStateError);
      expect(a.stats()).toEqual(before);
      a.release(idA);
      b.release(idB);
      a.close();
      b.close();
    }
  });

  it('spills half a cache to the shards when the cache is full', () => {
    const pool = small({ cacheSize: 4 });
    const ids = Array.from({ length: 10 }, () => pool.acquire(64));
    for (const id of ids) pool.release(id);
    const stats = pool.stats();
    expect(stats.spills).toBeGreaterThan(0);
    expect(stats.classes[0].cached).toBeLessThanOrEqual(4);
    expect(stats.classes[0].free + stats.classes[0].cached).toBe(stats.classes[0].slabs);
    expect(pool.audit()).toEqual([]);
  });
});

describe('bytes and capacity', () => {
  it('return the same cached view for repeated calls, over the shared buffer', () => {
    const pool = small();
    const id = pool.acquire(500);
    const view = pool.bytes(id);
    expect(pool.bytes(id)).toBe(view);
    expect(view.buffer).toBe(pool.handle.buffer);
    expect(pool.capacity(id)).toBe(512);
    pool.release(id);
    expect(() => pool.bytes(id)).toThrow(SlabStateError);
    expect(() => pool.capacity(id)).toThrow(SlabStateError);
  });
});

describe('get', () => {
  it('leases exactly the requested number of bytes and releases once', () => {
    const pool = small();
    const lease = pool.get(1000);
    expect(lease.bytes.byteLength).toBe(1000);
    expect(pool.capacity(lease.id)).toBe(1024);
    lease.bytes.fill(9);
    expect(pool.bytes(lease.id)[999]).toBe(9);
    lease.release();
    expect(() => lease.release()).toThrow(SlabStateError);
    expect(pool.stats().classes[4].leased).toBe(0);
  });

  it("gives a lease of the slab's whole capacity the pool's cached view, and a smaller one its own", () => {
    const pool = small();
    const whole = pool.get(1024);
    expect(whole.bytes.byteLength).toBe(1024);
    expect(whole.bytes).toBe(pool.bytes(whole.id));
    const part = pool.get(1000);
    expect(part.bytes.byteLength).toBe(1000);
    expect(part.bytes).not.toBe(pool.bytes(part.id));
    expect(part.bytes.byteOffset).toBe(pool.bytes(part.id).byteOffset);
    whole.release();
    part.release();
    expect(pool.stats().classes[4].leased).toBe(0);
  });

  it('[Symbol.dispose] releases, and does nothing after an explicit release', () => {
    const pool = small();
    const lease = pool.get(10);
    lease[Symbol.dispose]();
    expect(pool.stats().classes[0].leased).toBe(0);
    const other = pool.get(10);
    other.release();
    expect(() => other[Symbol.dispose]()).not.toThrow();
    expect(pool.stats().releases).toBe(2);
  });

  it('composes with `using`: the slab goes back at the end of the scope', () => {
    const pool = small();
    {
      using lease = pool.get(64);
      lease.bytes[0] = 1;
      expect(pool.stats().classes[0].leased).toBe(1);
    }
    expect(pool.stats().classes[0].leased).toBe(0);
  });
});

describe('flush', () => {
  it('hands every cached slab back to the shards', () => {
    const pool = small();
    const ids = Array.from({ length: 20 }, (_, i) => pool.acquire(64 << (i % 4)));
    for (const id of ids) pool.release(id);
    expect(pool.stats().classes.some((c) => c.cached > 0)).toBe(true);
    pool.flush();
    const stats = pool.stats();
    for (const c of stats.classes) {
      expect(c.cached).toBe(0);
      expect(c.leased).toBe(0);
      expect(c.free).toBe(c.slabs);
    }
    expect(pool.audit()).toEqual([]);
  });
});

describe('stats', () => {
  it('reports arena use, carved pages and metadata consistently', () => {
    const pool = small();
    const id = pool.acquire(4096);
    const stats = pool.stats();
    expect(stats.arenaBytes).toBe(8 * MiB);
    expect(stats.pagesCarved).toBe(1);
    expect(stats.pageBytes).toBe(MiB);
    expect(stats.metadataBytes).toBe(12 * (MiB / 4096));
    expect(stats.usedBytes).toBe(stats.overheadBytes + MiB);
    expect(stats.classes.find((c) => c.slabSize === 4096)?.pages).toBe(1);
    expect(stats.threads).toBe(1);
    expect(stats.classes.find((c) => c.slabSize === 4096)).toEqual({
      slabSize: 4096,
      pages: 1,
      slabs: 256,
      free: 240,
      cached: 15,
      leased: 1,
      queued: 0,
    });
    pool.release(id);
  });
});

describe('attach', () => {
  it('gives a second view of the same pool: slabs acquired in one are released in the other', () => {
    const pool = small();
    const other = SlabPool.attach(pool.handle);
    const id = pool.acquire(100);
    pool.bytes(id)[0] = 42;
    expect(other.bytes(id)[0]).toBe(42);
    other.release(id);
    expect(() => pool.release(id)).toThrow(SlabStateError);
    expect(pool.stats().threads).toBe(2);
    other.close();
    expect(pool.stats().threads).toBe(1);
    expect(pool.stats().releases).toBe(1);
  });

  it('keeps the handle structured-cloneable', () => {
    const pool = small();
    const copy = structuredClone(pool.handle);
    const other = SlabPool.attach(copy);
    expect(other.config).toEqual(pool.config);
    other.close();
  });
});

describe('close', () => {
  it('flushes, frees the thread slot and refuses further use', () => {
    const pool = small({ maxThreads: 2 });
    const other = SlabPool.attach(pool.handle);
    expect(() => SlabPool.attach(pool.handle)).toThrow(/all 2 thread slots of this pool are taken/);
    const id = other.acquire(64);
    other.release(id);
    other.close();
    expect(pool.stats().classes[0].cached).toBe(0);
    expect(() => other.acquire(64)).toThrow(/closed/);
    const third = SlabPool.attach(pool.handle);
    third.close();
    other.close(); // a second close does nothing
  });
});

function thpAlways(): boolean {
  try {
    return readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[always]');
  } catch {
    return false;
  }
}

describe('prefault', () => {
  // Counted through the process's minor page faults: touching one byte of every page of the
  // arena's slabs faults each page once in a lazily mapped arena, and almost never in a
  // prefaulted one. (Other threads of the process fault too, so the bounds are loose.)
  function faultsWhileTouchingEverySlab(prefault: boolean): { faults: number; pages: number } {
    const pool = new SlabPool({ arenaBytes: 32 << 20, minSlabSize: 4096, maxSlabSize: 4096, parallelism: 2, prefault });
    const ids: number[] = [];
    const before = process.resourceUsage().minorPageFault;
    for (let id = pool.tryAcquire(4096); id !== -1; id = pool.tryAcquire(4096)) {
      pool.bytes(id)[0] = 1;
      ids.push(id);
    }
    const faults = process.resourceUsage().minorPageFault - before;
    for (const id of ids) pool.release(id);
    pool.close();
    return { faults, pages: ids.length };
  }

  it('touches every page at creation, so first writes to slabs take no page faults', () => {
    const lazy = faultsWhileTouchingEverySlab(false);
    // The fault counter is the whole process's: test files running in other threads add their
    // faults. They only add, so the least of three runs is the closest to this thread's own.
    const eager = [1, 2, 3].map(() => faultsWhileTouchingEverySlab(true)).sort((a, b) => a.faults - b.faults)[0];
    expect(lazy.pages).toBeGreaterThan(7000);
    expect(eager.faults).toBeLessThan(eager.pages * 0.1);
    // The premise, where memory is mapped in 4 KiB pages on first touch: without prefault, every
    // page faults. (With transparent huge pages set to "always", one fault maps 512 pages.)
    if (!thpAlways()) expect(lazy.faults).toBeGreaterThan(lazy.pages * 0.9);
  });
});

describe('garbage collection', () => {
  it('lets a pool object dropped without close() free its arena (its flush-request wait holds it weakly)', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const external = () => process.memoryUsage().arrayBuffers;
    const settle = async () => {
      // Finalizers run after a collection; the wait they end lets go of the arena at the next.
      for (let i = 0; i < 8; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settle();
    const before = external();
    (function dropFour() {
      for (let i = 0; i < 4; i++) {
        const pool = new SlabPool({ arenaBytes: 64 * MiB, parallelism: 2 });
        pool.release(pool.acquire(100));
      }
    })();
    expect(external() - before).toBeGreaterThanOrEqual(4 * 64 * MiB);
    await settle();
    expect(external() - before).toBeLessThan(64 * MiB);
  });
});

describe('event loop', () => {
  it('does not keep a thread alive: a worker that attached and has nothing left to do exits on its own', async () => {
    const pool = new SlabPool({ arenaBytes: 8 * MiB, parallelism: 2 });
    const worker = new Worker(fixture('attach-only-worker.ts'), { workerData: { handle: pool.handle } });
    const code = await new Promise<number | 'still running'>((resolve) => {
      const timer = setTimeout(() => resolve('still running'), 10_000);
      worker.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    if (code === 'still running') await worker.terminate();
    expect(code).toBe(0);
  });
});
