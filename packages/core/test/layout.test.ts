import { describe, expect, it } from 'vitest';
import {
  GEN_SHIFT,
  LINE_BYTES,
  MAX_ARENA_BYTES,
  META_BYTES,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  computeLayout,
  generationOf,
  ownerOf,
  packState,
  shardWord,
  stateOf,
  threadWord,
} from '../src/layout.js';

describe('computeLayout', () => {
  const layout = computeLayout({ arenaBytes: 64 << 20, minSlabSize: 64, maxSlabSize: 1 << 20, shards: 4, maxThreads: 256 });

  it('puts every region after the one before it, with pages 4096-aligned', () => {
    expect(layout.shardBase).toBeGreaterThanOrEqual(2 * LINE_BYTES);
    // Each class has its shards plus a reserved list.
    expect(layout.pageTableBase).toBe(layout.shardBase + layout.classCount * (layout.shards + 1) * LINE_BYTES);
    expect(layout.threadBase).toBeGreaterThanOrEqual(layout.pageTableBase + 4 * Math.floor((64 << 20) / (1 << 20)));
    expect(layout.dataStart).toBeGreaterThanOrEqual(layout.threadBase + 256 * LINE_BYTES);
    expect(layout.dataStart % 4096).toBe(0);
  });

  it('gives each shard lock word and each thread slot its own 128-byte line', () => {
    const a = shardWord(layout, 0, 0) * 4;
    const b = shardWord(layout, 0, 1) * 4;
    const c = shardWord(layout, 1, 0) * 4;
    expect(b - a).toBe(LINE_BYTES);
    expect(c - a).toBe((layout.shards + 1) * LINE_BYTES);
    expect(threadWord(layout, 1) * 4 - threadWord(layout, 0) * 4).toBe(LINE_BYTES);
  });

  it('sizes the slab index so the largest possible slab count fits, leaving the rest of 31 bits to the generation', () => {
    const maxSlabs = Math.floor(((64 << 20) - layout.dataStart) / (64 + META_BYTES));
    expect(2 ** layout.indexBits).toBeGreaterThan(maxSlabs);
    expect(2 ** (layout.indexBits - 1)).toBeLessThanOrEqual(maxSlabs);
    const coarse = computeLayout({ arenaBytes: 64 << 20, minSlabSize: 4096, maxSlabSize: 1 << 20, shards: 4, maxThreads: 256 });
    expect(31 - coarse.indexBits).toBeGreaterThanOrEqual(16);
  });

  it('puts the top of slab metadata at the end of the arena for every size allowed, 2 GiB and up included', () => {
    for (const arenaBytes of [64 << 20, 2 ** 31 - 4096, 2 ** 31, 3 * 2 ** 30, MAX_ARENA_BYTES]) {
      const big = computeLayout({ arenaBytes, minSlabSize: 64, maxSlabSize: 1 << 20, shards: 4, maxThreads: 256 });
      expect(big.metaTop * 4, `arenaBytes ${arenaBytes}`).toBe(arenaBytes);
      // Slab indexes stay in range however the arena is carved: 64-byte slabs with their metadata.
      expect(2 ** big.indexBits).toBeGreaterThan((arenaBytes - big.dataStart) / (64 + META_BYTES));
      expect(big.indexBits).toBeLessThanOrEqual(26);
    }
  });

  it('never gives the generation more bits than the state word keeps (20), however few slabs fit', () => {
    // 4 MiB of 64 KiB slabs: about 60 slabs would need 6 index bits, which would leave 25 for the
    // generation, and ids 2^20 generations apart would match the same lease.
    const tiny = computeLayout({ arenaBytes: 4 << 20, minSlabSize: 64 << 10, maxSlabSize: 64 << 10, shards: 1, maxThreads: 8 });
    expect(tiny.indexBits).toBe(11);
    expect(31 - tiny.indexBits).toBe(20);
  });
});

describe('slab state words', () => {
  it('round-trips state, owner and generation, including generations that set the sign bit', () => {
    for (const [state, owner, generation] of [
      [SLAB_FREE, 3, 0],
      [SLAB_CACHED, 1022, 12345],
      [SLAB_LEASED, 0, 0xfffff],
    ]) {
      const word = packState(state, owner, generation);
      expect(stateOf(word)).toBe(state);
      expect(ownerOf(word)).toBe(owner);
      expect(generationOf(word)).toBe(generation);
      expect(word >>> GEN_SHIFT).toBe(generation);
    }
  });
});
