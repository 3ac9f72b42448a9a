import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SlabCorruptionError, SlabPool } from '../src/index.js';
import { GEN_MASK } from '../src/layout.js';
import { captureWarnings } from './helpers.js';

/** V8's gc(), exposed at run time (the test runner does not pass --expose-gc). */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const options = { arenaBytes: 8 << 20, parallelism: 2 };

describe('zeroOnRelease', () => {
  it('zeroes the whole slab when it is released', () => {
    const pool = new SlabPool({ ...options, zeroOnRelease: true });
    const id = pool.acquire(1000);
    const view = pool.bytes(id);
    view.fill(0xab);
    pool.release(id);
    expect(view.every((b) => b === 0)).toBe(true);
    expect(pool.config.zeroOnRelease).toBe(true);
    expect(SlabPool.attach(pool.handle).config.zeroOnRelease).toBe(true);
  });
});

describe('zeroOnAcquire', () => {
  it('hands out zeroed slabs even when the last holder left data behind', () => {
    const pool = new SlabPool({ ...options, zeroOnAcquire: true });
    const id = pool.acquire(1000);
    const view = pool.bytes(id);
    view.fill(0xab);
    pool.release(id);
    expect(view[0]).toBe(0xab); // released memory is not touched...
    const again = pool.acquire(1000);
    expect(pool.bytes(again).byteOffset).toBe(view.byteOffset);
    expect(pool.bytes(again).every((b) => b === 0)).toBe(true); // ...until it is handed out again
  });
});

describe('debug mode', () => {
  it('poisons released slabs and reports a write after release with the id, leaving the pool intact', () => {
    const pool = new SlabPool({ ...options, debug: true });
    const id = pool.acquire(1000);
    const view = pool.bytes(id);
    pool.release(id);
    expect(view.every((b) => b === 0xdb)).toBe(true);
    view[17] = 1; // a holder that kept its view writes after release
    const before = pool.stats();
    let error: unknown;
    try {
      pool.acquire(1000);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SlabCorruptionError);
    expect(error).toMatchObject({ code: 'ERR_SLAB_WRITTEN_AFTER_RELEASE', releasedId: id, offset: 17 });
    expect((error as Error).message).toContain(`released id ${id}`);
    expect(pool.stats()).toEqual({ ...before, exhausted: before.exhausted });
    // The slab went back re-poisoned: the next acquire gets it cleanly.
    const again = pool.acquire(1000);
    expect(pool.bytes(again).byteOffset).toBe(view.byteOffset);
    pool.release(again);
    expect(pool.audit()).toEqual([]);
  });

  it('warns, and still resolves, when a slab handed to an acquireAsync waiter was written after its release', async () => {
    // A 1 MiB arena of 64 KiB slabs: every slab is leased, so the waiter gets the next release.
    const pool = new SlabPool({ arenaBytes: 1 << 20, minSlabSize: 65536, maxSlabSize: 65536, parallelism: 2, debug: true });
    const held: number[] = [];
    for (let id = pool.tryAcquire(65536); id !== -1; id = pool.tryAcquire(65536)) held.push(id);
    expect(held.length).toBeGreaterThan(0);
    const { warnings, stop } = captureWarnings();
    try {
      const waiting = pool.acquireAsync(65536, { timeoutMs: 5000 });
      const released = held.pop()!;
      const view = pool.bytes(released);
      pool.release(released);
      view[9] = 1; // written after release, before the waiter looks at it
      const got = await waiting;
      expect(pool.bytes(got).byteOffset).toBe(view.byteOffset);
      await new Promise((r) => setTimeout(r, 10));
      const warning = warnings.find((w) => w.name === 'ZeropoolWarning');
      expect(warning?.message).toMatch(new RegExp(`released id ${released} was written after its release: byte 9 of 65536`));
      held.push(got);
    } finally {
      stop();
    }
    for (const id of held) pool.release(id);
    expect(pool.audit()).toEqual([]);
  });

  it('poisons freshly carved pages too, so the first acquire of a slab is checked', () => {
    const pool = new SlabPool({ ...options, debug: true });
    const id = pool.acquire(64);
    expect(pool.bytes(id).every((b) => b === 0xdb)).toBe(true);
  });

  it('is switched on by ZEROPOOL_DEBUG=1 and refused for other values', () => {
    const previous = process.env.ZEROPOOL_DEBUG;
    try {
      process.env.ZEROPOOL_DEBUG = '1';
      expect(new SlabPool(options).config.debug).toBe(true);
      process.env.ZEROPOOL_DEBUG = 'yes please';
      expect(() => new SlabPool(options)).toThrow(
        /environment variable ZEROPOOL_DEBUG must be 1, true, 0, false or empty; received "yes please"/,
      );
      process.env.ZEROPOOL_DEBUG = '0';
      expect(new SlabPool(options).config.debug).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.ZEROPOOL_DEBUG;
      else process.env.ZEROPOOL_DEBUG = previous;
    }
  });
});

describe('leak detection', () => {
  it("'full' records every get() lease with its stack until it is released", () => {
    const pool = new SlabPool({ ...options, leakDetection: 'full' });
    const a = pool.get(10);
    const b = pool.get(20);
    const outstanding = pool.outstandingLeases();
    expect(outstanding.map((r) => [r.id, r.size])).toEqual([
      [a.id, 10],
      [b.id, 20],
    ]);
    expect(outstanding[0].stack).toContain('hygiene.test.ts');
    a.release();
    b[Symbol.dispose]();
    expect(pool.outstandingLeases()).toEqual([]);
    expect(pool.config.leakDetection).toBe('full');
    expect(SlabPool.attach(pool.handle).config.leakDetection).toBe('off');
  });

  it("'sampled' records one lease in 64, 'off' none", () => {
    const sampled = new SlabPool({ ...options, leakDetection: 'sampled' });
    const leases = Array.from({ length: 128 }, () => sampled.get(64));
    expect(sampled.outstandingLeases()).toHaveLength(2);
    for (const lease of leases) lease.release();
    const off = new SlabPool(options);
    off.get(64);
    expect(off.outstandingLeases()).toEqual([]);
  });

  it('warns with the acquiring stack when a recorded lease is garbage-collected unreleased', async () => {
    const gc = exposedGc();
    const pool = new SlabPool({ ...options, leakDetection: 'full' });
    const { warnings, stop } = captureWarnings();
    try {
      (function leak() {
        pool.get(100);
      })();
      for (let attempt = 0; attempt < 20 && warnings.length === 0; attempt++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      stop();
    }
    expect(warnings.map((w) => w.name)).toContain('ZeropoolLeakWarning');
    const warning = warnings.find((w) => w.name === 'ZeropoolLeakWarning');
    expect(warning?.message).toMatch(/a lease of slab id \d+ \(100 bytes\) was garbage-collected without release\(\)/);
    expect(warning?.message).toContain('leak');
    expect(pool.outstandingLeases()).toEqual([]);
    // The slab itself stays leased: its id might still be in use elsewhere.
    expect(pool.stats().classes[1].leased).toBe(1);
  });

  it('does not count a lease whose id was released another way (pool.release, or the thread it went to)', async () => {
    const gc = exposedGc();
    const pool = new SlabPool({ ...options, leakDetection: 'full' });
    const kept = pool.get(30);
    const { warnings, stop } = captureWarnings();
    try {
      (function handOff() {
        const lease = pool.get(100);
        // Released by id, as a receiving thread would: the lease object is dropped unreleased.
        pool.release(lease.id);
      })();
      expect(pool.outstandingLeases().map((r) => r.id)).toEqual([kept.id]);
      (function leak() {
        pool.get(200);
      })();
      // The real leak is reported; the handed-off lease never is.
      for (let attempt = 0; attempt < 20 && warnings.length === 0; attempt++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      stop();
    }
    const leakWarnings = warnings.filter((w) => w.name === 'ZeropoolLeakWarning');
    expect(leakWarnings.map((w) => w.message.match(/\((\d+) bytes\)/)?.[1])).toEqual(['200']);
    kept.release();
    expect(pool.outstandingLeases()).toEqual([]);
  });

  it("keeps a live lease's record when an older lease of the same id (generation wrapped) is collected", async () => {
    const gc = exposedGc();
    const pool = new SlabPool({ ...options, leakDetection: 'full' });
    const generations = GEN_MASK + 1;
    const { warnings, stop } = captureWarnings();
    let live: ReturnType<SlabPool['get']> | undefined;
    try {
      const oldId = (function handOff() {
        const lease = pool.get(100);
        pool.release(lease.id); // released by id; the lease object is dropped
        return lease.id;
      })();
      // The same slab comes back from the cache each time, one generation later: after a full
      // turn of generations its id is the old lease's id again.
      for (let i = 1; i < generations; i++) pool.release(pool.acquire(100));
      live = pool.get(100);
      expect(live.id).toBe(oldId);
      for (let attempt = 0; attempt < 10; attempt++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(warnings.filter((w) => w.name === 'ZeropoolLeakWarning')).toEqual([]);
      expect(pool.outstandingLeases().map((r) => r.id)).toEqual([live.id]);
    } finally {
      stop();
    }
    live.release();
    expect(pool.outstandingLeases()).toEqual([]);
  });

  it('takes the level from ZEROPOOL_LEAK_DETECTION when no option is given; the option wins', () => {
    const saved = process.env.ZEROPOOL_LEAK_DETECTION;
    try {
      process.env.ZEROPOOL_LEAK_DETECTION = 'full';
      const pool = new SlabPool(options);
      expect(pool.config.leakDetection).toBe('full');
      const lease = pool.get(10);
      expect(pool.outstandingLeases().map((r) => r.id)).toEqual([lease.id]);
      lease.release();
      expect(SlabPool.attach(pool.handle).config.leakDetection).toBe('full');
      expect(new SlabPool({ ...options, leakDetection: 'off' }).config.leakDetection).toBe('off');
      process.env.ZEROPOOL_LEAK_DETECTION = '';
      expect(new SlabPool(options).config.leakDetection).toBe('off');
      process.env.ZEROPOOL_LEAK_DETECTION = 'loud';
      expect(() => new SlabPool(options)).toThrow(
        /environment variable ZEROPOOL_LEAK_DETECTION must be one of 'off', 'sampled', 'full'; received "loud"/,
      );
    } finally {
      if (saved === undefined) delete process.env.ZEROPOOL_LEAK_DETECTION;
      else process.env.ZEROPOOL_LEAK_DETECTION = saved;
    }
  });

  it('rejects an unknown level naming the option', () => {
    expect(() => new SlabPool({ ...options, leakDetection: 'paranoid' as never })).toThrow(
      /options\.leakDetection must be one of 'off', 'sampled', 'full'; received "paranoid"/,
    );
  });
});
