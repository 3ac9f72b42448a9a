// Arenas of 2 GiB and more: byte offsets past 2^31 do not fit a signed int32, so every place that
// computes with them must stay unsigned. A SharedArrayBuffer reserves its memory lazily, so these
// tests carve the whole arena but touch only a few of its pages, and close each pool at the end.
import { describe, expect, it } from 'vitest';
import { SlabCorruptionError, SlabPool } from '../src/index.js';
import { FLAG_DEBUG, H_FLAGS, MAX_ARENA_BYTES } from '../src/layout.js';
import { acquireAll } from './helpers.js';

const MiB = 1 << 20;
const GiB = 2 ** 30;

/** The id whose slab lies highest in the arena. */
function highest(pool: SlabPool, ids: readonly number[]): number {
  return ids.reduce((best, id) => (pool.bytes(id).byteOffset > pool.bytes(best).byteOffset ? id : best));
}

/** Writes both ends of a slab through bytes(), and reads them back through a fresh view of the arena. */
function expectWritableAtBothEnds(pool: SlabPool, id: number, value: number): void {
  const view = pool.bytes(id);
  view[0] = value;
  view[view.length - 1] = value + 1;
  const fresh = new Uint8Array(pool.handle.buffer, view.byteOffset, view.length);
  expect([fresh[0], fresh[view.length - 1]]).toEqual([value, value + 1]);
}

/** The largest arena with the default 64-byte slabs, as the error for a larger one names it. */
function largestArena(): number {
  try {
    new SlabPool({ arenaBytes: MAX_ARENA_BYTES, parallelism: 2 }).close();
  } catch (error) {
    const match = /at most (\d+) with minSlabSize 64/.exec((error as Error).message);
    if (error instanceof RangeError && match !== null) return Number(match[1]);
    throw error;
  }
  throw new Error('an arena of MAX_ARENA_BYTES with 64-byte slabs was not refused');
}

describe('arenas of 2 GiB and more', () => {
  it.each([
    ['2 GiB', () => 2 * GiB],
    ['the largest allowed with 64-byte slabs', largestArena],
  ])('creates a %s arena and hands out its slabs up to the end, with stats and audit to match', (_, size) => {
    const arenaBytes = size();
    const pool = new SlabPool({ arenaBytes, parallelism: 2 });
    try {
      expect(pool.config.arenaBytes).toBe(arenaBytes);
      const ids = acquireAll(pool, MiB);
      const stats = pool.stats();
      // Every page was carved into one 1 MiB slab; what is left cannot hold another page.
      expect(stats.arenaBytes).toBe(arenaBytes);
      expect(stats.pagesCarved).toBe(ids.length);
      expect(stats.metadataBytes).toBe(12 * ids.length);
      expect(stats.usedBytes).toBe(stats.overheadBytes + ids.length * MiB);
      expect(stats.arenaBytes - stats.usedBytes).toBeLessThan(MiB);
      // The buffer holds the metadata of every 64-byte slot past the arena, and stays under 4 GiB.
      expect(stats.bufferBytes).toBe(arenaBytes + 12 * ids.length * (MiB / 64));
      expect(stats.bufferBytes).toBeLessThanOrEqual(MAX_ARENA_BYTES);
      expect(stats.classes.find((c) => c.slabSize === MiB)).toMatchObject({ slabs: ids.length, leased: ids.length });
      const last = highest(pool, ids);
      const end = pool.bytes(last).byteOffset + MiB;
      expect(end).toBeGreaterThan(arenaBytes - 2 * MiB);
      expect(end).toBeLessThanOrEqual(arenaBytes);
      expectWritableAtBothEnds(pool, last, 7);
      // Distinct, non-overlapping slabs all the way up.
      const offsets = ids.map((id) => pool.bytes(id).byteOffset).sort((a, b) => a - b);
      for (let i = 1; i < offsets.length; i++) expect(offsets[i] - offsets[i - 1]).toBeGreaterThanOrEqual(MiB);
      for (const id of ids) pool.release(id);
      pool.flush();
      expect(pool.audit()).toEqual([]);
      expect(pool.stats().classes.find((c) => c.slabSize === MiB)).toMatchObject({ slabs: ids.length, free: ids.length });
      // Released slabs come back, the highest one included.
      const again = acquireAll(pool, MiB);
      expect(again.length).toBe(ids.length);
      expectWritableAtBothEnds(pool, highest(pool, again), 9);
      for (const id of again) pool.release(id);
      expect(pool.audit()).toEqual([]);
    } finally {
      pool.close();
    }
  });

  it('carves a page of small slabs past 2 GiB and serves all of them, the last one included, to another pool object', () => {
    // 1 GiB pages: the third and last page of an arena just under 4 GiB starts past 2^31 (with
    // 4 KiB slots, the slab metadata past the arena takes 9 MiB of the rest).
    const pool = new SlabPool({ arenaBytes: 4 * GiB - 16 * MiB, minSlabSize: 4096, maxSlabSize: GiB, parallelism: 2 });
    const other = SlabPool.attach(pool.handle);
    try {
      const big = [pool.acquire(GiB), pool.acquire(GiB)];
      const small = acquireAll(pool, 4096);
      const stats = pool.stats();
      expect(stats.pagesCarved).toBe(3);
      expect(small.length).toBe(GiB / 4096);
      expect(stats.usedBytes).toBe(stats.overheadBytes + 3 * GiB);
      expect(pool.bytes(small[0]).byteOffset).toBeGreaterThan(2 * GiB);
      const last = highest(pool, small);
      expect(pool.bytes(last).byteOffset + 4096).toBe(stats.overheadBytes + 3 * GiB);
      // Another pool object reads the slabs' offsets from the shared metadata.
      const sample = small.filter((_, i) => i % 997 === 0).concat(last);
      for (const [i, id] of sample.entries()) pool.bytes(id)[100] = i & 0xff;
      for (const [i, id] of sample.entries()) expect(other.bytes(id)[100]).toBe(i & 0xff);
      expectWritableAtBothEnds(other, last, 3);
      for (const id of small) other.release(id);
      for (const id of big) pool.release(id);
      pool.flush();
      other.flush();
      expect(pool.audit()).toEqual([]);
    } finally {
      other.close();
      pool.close();
    }
  });

  it('poisons slabs past 2 GiB in debug mode and reports a write after release there', () => {
    // Debug mode poisons each page it carves, which would touch the whole arena: a plain pool
    // object carves all pages but the last few, then one attached with debug switched on in the
    // header carves the rest.
    const arenaBytes = 2 * GiB + 8 * MiB;
    const pool = new SlabPool({ arenaBytes, parallelism: 2 });
    let debugView: SlabPool | undefined;
    try {
      const early: number[] = [];
      while (arenaBytes - pool.stats().usedBytes > 3 * MiB) early.push(pool.acquire(MiB));
      for (const id of early) pool.release(id);
      const header = new Int32Array(pool.handle.buffer, 0, 32);
      header[H_FLAGS] |= FLAG_DEBUG;
      debugView = SlabPool.attach(pool.handle);
      const id = debugView.acquire(4096);
      const view = debugView.bytes(id);
      expect(view.byteOffset).toBeGreaterThan(2 * GiB);
      expect(view.every((b) => b === 0xdb)).toBe(true);
      debugView.release(id);
      view[4000] = 1; // a holder that kept its view writes after release
      expect(() => debugView?.acquire(4096)).toThrow(SlabCorruptionError);
      const again = debugView.acquire(4096);
      expect(debugView.bytes(again).byteOffset).toBe(view.byteOffset);
      expectWritableAtBothEnds(debugView, again, 5);
      debugView.release(again);
      debugView.flush();
      expect(debugView.audit()).toEqual([]);
    } finally {
      debugView?.close();
      pool.close();
    }
  });
});
