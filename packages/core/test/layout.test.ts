import { describe, expect, it } from 'vitest';
import { defaultsFor } from '../src/config.js';
import {
  GEN_FIELD,
  GEN_MASK,
  GEN_SHIFT,
  ID_FROM_GEN_FIELD,
  LINE_BYTES,
  MAX_ARENA_BYTES,
  MAX_BUFFER_BYTES,
  MAX_CHANNELS,
  MAX_ID,
  MAX_SHARDS,
  MAX_SLABS,
  MAX_THREADS,
  META_BYTES,
  MIN_SLAB_SIZE_LIMIT,
  OWNER_NONE,
  RELEASE_STEP,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  computeLayout,
  generationOf,
  generationOfId,
  isIdShaped,
  metaWord,
  ownerOf,
  packState,
  shardWord,
  slabId,
  slabOfId,
  stateOf,
  threadWord,
} from '../src/layout.js';

describe('computeLayout', () => {
  const layout = computeLayout({ arenaBytes: 64 << 20, minSlabSize: 64, maxSlabSize: 1 << 20, shards: 4, maxThreads: 256 });

  it('puts every region after the one before it, with pages 4096-aligned', () => {
    expect(layout.shardBase).toBeGreaterThanOrEqual(2 * LINE_BYTES);
    // Each class has its shards plus a reserved list.
    expect(layout.channelTableBase).toBe(layout.shardBase + layout.classCount * (layout.shards + 1) * LINE_BYTES);
    // One int32 per channel number, 0 unused.
    expect(layout.pageTableBase).toBe(layout.channelTableBase + (MAX_CHANNELS + 1) * 4);
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

  it('gives every page a slab slot for each smallest slab it could hold, with metadata past the arena', () => {
    expect(layout.pageCount).toBe(Math.floor(((64 << 20) - layout.dataStart) / (1 << 20)));
    expect(layout.slabsPerPage).toBe((1 << 20) / 64);
    expect(layout.maxSlabs).toBe(layout.pageCount * layout.slabsPerPage);
    expect(layout.bufferBytes).toBe((64 << 20) + layout.maxSlabs * META_BYTES);
    // The lowest slab's metadata lies past the arena: no page overlaps it.
    expect(metaWord(layout.metaTop, layout.maxSlabs - 1) * 4).toBe(64 << 20);
  });
});

describe('the id format', () => {
  // Computed, not allocated: the largest arena is 4 GiB - 4 KiB.
  const configs = [
    ...[1, 2, 8, 32, 64, 128, 256].map((p) => ({ name: `the defaults for ${p} CPUs`, input: defaultsFor(p) })),
    {
      name: 'the largest arena of 64-byte slabs',
      input: {
        arenaBytes: MAX_ARENA_BYTES,
        minSlabSize: MIN_SLAB_SIZE_LIMIT,
        maxSlabSize: 1 << 20,
        shards: MAX_SHARDS,
        maxThreads: MAX_THREADS,
      },
    },
    {
      name: 'a tiny arena of one large class',
      input: { arenaBytes: 4 << 20, minSlabSize: 64 << 10, maxSlabSize: 64 << 10, shards: 1, maxThreads: 8 },
    },
  ];

  it.each(configs)('keeps a stale id stale for at least 2^20 reuses of its slab with $name', ({ input }) => {
    const arena = computeLayout(input);
    // 21 bits: a 20-bit generation would match the stale id again at exactly 2^20 reuses.
    expect(arena.generationBits).toBeGreaterThanOrEqual(21);
    for (const first of [0, 1, GEN_MASK, 0x12345]) {
      for (const reuses of [1, 2 ** 20 - 1, 2 ** 20]) expect((first + reuses) & GEN_MASK).not.toBe(first);
    }
    // Every slab the arena could hold, at every generation, has an id that is a safe integer and
    // decodes to the same slab and generation, and a state word that keeps the whole generation.
    const lastSlab = arena.maxSlabs - 1;
    expect(lastSlab).toBeLessThan(MAX_SLABS);
    for (const [slab, generation] of [
      [0, 0],
      [lastSlab, 0],
      [lastSlab, GEN_MASK],
      [MAX_SLABS - 1, GEN_MASK],
      [12345, 0x100000],
    ]) {
      const id = slabId(slab, generation);
      expect(Number.isSafeInteger(id) && id >= 0 && id <= MAX_ID).toBe(true);
      expect(isIdShaped(id)).toBe(true);
      expect(slabOfId(id)).toBe(slab);
      expect(generationOfId(id)).toBe(generation);
      const word = packState(SLAB_LEASED, Math.max(arena.maxThreads - 1, arena.shards), generation);
      expect(generationOf(word)).toBe(generation);
    }
  });

  it('puts the top of slab metadata at the end of the buffer, and keeps the buffer under 4 GiB, for every size allowed', () => {
    for (const [arenaBytes, minSlabSize] of [
      [64 << 20, 64],
      [2 ** 31 - 4096, 64],
      [2 ** 31, 256],
      [3 * 2 ** 30, 64],
      [MAX_ARENA_BYTES - (16 << 20), 4096],
    ]) {
      const big = computeLayout({ arenaBytes, minSlabSize, maxSlabSize: 1 << 20, shards: 4, maxThreads: 256 });
      expect(big.metaTop * 4, `arenaBytes ${arenaBytes}`).toBe(big.bufferBytes);
      expect(big.bufferBytes).toBeLessThanOrEqual(MAX_BUFFER_BYTES);
      // Slab indexes stay in range however the arena is carved.
      expect(big.maxSlabs).toBe(big.pageCount * ((1 << 20) / minSlabSize));
      expect(big.maxSlabs).toBeLessThanOrEqual(MAX_SLABS);
    }
  });

  it('rejects every number that is not an integer from 0 to 2^53 - 1, and every non-number', () => {
    for (const bad of [-1, -(2 ** 32), 0.5, 2 ** 33 + 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 53 + 2, 2 ** 64]) {
      expect(isIdShaped(bad), String(bad)).toBe(false);
    }
    for (const bad of [1n, Symbol('id'), '1', null, undefined, {}]) expect(isIdShaped(bad)).toBe(false);
    for (const good of [0, 1, 2 ** 31, 2 ** 32, MAX_ID]) expect(isIdShaped(good), String(good)).toBe(true);
  });
});

describe('slab state words', () => {
  it('round-trips state, owner and generation, including generations that set the sign bit', () => {
    for (const [state, owner, generation] of [
      [SLAB_FREE, 3, 0],
      [SLAB_CACHED, OWNER_NONE - 1, 12345],
      [SLAB_LEASED, OWNER_NONE, GEN_MASK],
      [SLAB_FREE, MAX_SHARDS, 0x100000],
    ]) {
      const word = packState(state, owner, generation);
      expect(stateOf(word)).toBe(state);
      expect(ownerOf(word)).toBe(owner);
      expect(generationOf(word)).toBe(generation);
      expect(word >>> GEN_SHIFT).toBe(generation);
    }
  });

  it('turns leased at generation g into cached at g + 1 by adding RELEASE_STEP, wrapping past GEN_MASK', () => {
    for (const owner of [0, 5, OWNER_NONE]) {
      for (const generation of [0, 1, 0xfffff, 0x100000, GEN_MASK]) {
        const leased = packState(SLAB_LEASED, owner, generation);
        expect((leased + RELEASE_STEP) | 0).toBe(packState(SLAB_CACHED, owner, (generation + 1) & GEN_MASK));
      }
    }
  });

  it('makes the id of a slab from its state word: the generation field in place times ID_FROM_GEN_FIELD', () => {
    for (const generation of [0, 1, 0x100000, GEN_MASK]) {
      const word = packState(SLAB_CACHED, 7, generation);
      expect(((word & GEN_FIELD) >>> 0) * ID_FROM_GEN_FIELD + 12345).toBe(slabId(12345, generation));
    }
  });
});
