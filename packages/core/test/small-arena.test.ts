// Arenas too small for a 1 MiB page next to the pool's tables: with no other option given, they
// get smaller pages (and fewer shards and thread slots), so any arenaBytes from 64 KiB up makes a
// pool that serves every size class.
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../src/index.js';
import { acquireAll } from './helpers.js';

const KiB = 1024;

describe('small arenas', () => {
  it.each([
    ['64 KiB', 64 * KiB, 4 * KiB],
    ['256 KiB', 256 * KiB, 16 * KiB],
    ['1 MiB', 1024 * KiB, 64 * KiB],
  ])('a %s arena acquires and releases slabs of its largest class (%i bytes)', (_, arenaBytes, largest) => {
    const pool = new SlabPool({ arenaBytes, parallelism: 2 });
    try {
      expect(pool.config).toMatchObject({ arenaBytes, maxSlabSize: largest });
      // The buffer also holds the metadata of every slab slot, past the arena.
      expect(pool.handle.buffer.byteLength).toBe(pool.stats().bufferBytes);
      expect(pool.stats().bufferBytes).toBe(arenaBytes + 12 * (pool.stats().pagesUntouched * (largest / 64)));
      const ids = acquireAll(pool, largest);
      expect(ids.length).toBeGreaterThan(0);
      for (const [index, id] of ids.entries()) {
        expect(pool.capacity(id)).toBe(largest);
        pool.bytes(id).fill(index + 1);
      }
      const stats = pool.stats();
      expect(stats.arenaBytes).toBe(arenaBytes);
      expect(stats.pageBytes).toBe(largest);
      expect(stats.usedBytes).toBe(stats.overheadBytes + ids.length * largest);
      expect(stats.metadataBytes).toBe(12 * ids.length);
      expect(stats.usedBytes).toBeLessThanOrEqual(arenaBytes);
      // Each slab kept what was written to it: no two overlap.
      for (const [index, id] of ids.entries()) expect(pool.bytes(id).every((byte) => byte === index + 1)).toBe(true);
      for (const id of ids) pool.release(id);
      pool.flush();
      expect(pool.audit()).toEqual([]);
      expect(pool.stats().classes.at(-1)).toMatchObject({ slabSize: largest, slabs: ids.length, free: ids.length });
      // The released slabs come back.
      const again = acquireAll(pool, largest);
      expect(again.length).toBe(ids.length);
      for (const id of again) pool.release(id);
    } finally {
      pool.close();
    }
  });

  it.each([
    ['64 KiB', 64 * KiB],
    ['256 KiB', 256 * KiB],
    ['1 MiB', 1024 * KiB],
  ])('a %s arena has a page for every size class', (_, arenaBytes) => {
    const pool = new SlabPool({ arenaBytes, parallelism: 2 });
    try {
      const ids = pool.stats().classes.map((c) => pool.acquire(c.slabSize));
      expect(ids.map((id) => pool.capacity(id))).toEqual(pool.stats().classes.map((c) => c.slabSize));
      for (const id of ids) pool.release(id);
      expect(pool.audit()).toEqual([]);
    } finally {
      pool.close();
    }
  });

  it('a 64 KiB arena works with the defaults of a machine of 4096 CPUs, and another thread attaches', () => {
    const pool = new SlabPool({ arenaBytes: 64 * KiB, parallelism: 4096 });
    try {
      const other = SlabPool.attach(pool.handle);
      const id = other.acquire(pool.config.maxSlabSize);
      pool.release(id);
      other.close();
      expect(pool.audit()).toEqual([]);
    } finally {
      pool.close();
    }
  });
});
