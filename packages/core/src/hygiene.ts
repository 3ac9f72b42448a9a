/**
 * Slab hygiene, for pools created with `zeroOnRelease`, `zeroOnAcquire` or `debug`: the fills
 * (zeros, or poison for released slabs in debug mode), the poison check on the way out, and the
 * hooks that run them on the acquire and release paths.
 *
 * A pool with one of those options on gets hooked versions of `take`, `acquire`, `tryAcquire` and
 * `release` as own properties (`installHooks`), so the class's plain methods test no flag and stay
 * small enough for V8 to inline (bench/hygiene.bench.mjs shows both kinds of pool side by side).
 * Slabs are multiples of 64 bytes at 64-byte offsets, so they are filled and scanned as int32s.
 */
import { SlabCorruptionError } from './errors.js';
import {
  type ArenaLayout,
  CLASS_MASK,
  FLAG_DEBUG,
  FLAG_ZERO_ON_ACQUIRE,
  FLAG_ZERO_ON_RELEASE,
  GEN_MASK,
  GEN_SHIFT,
  META_OFFSET_CLASS,
  POISON_BYTE,
  POISON_WORD,
  generationOfId,
  metaWord,
  slabId,
  slabOfId,
  slabOffset,
  slabSizeOf,
} from './layout.js';

/** Fills `bytes` bytes at `offset` with poison (`poison` true) or zeros. */
export function fillSlab(buffer: SharedArrayBuffer, offset: number, bytes: number, poison: boolean): void {
  new Int32Array(buffer, offset, bytes >> 2).fill(poison ? POISON_WORD : 0);
}

/** The offset within the slab of the first byte that is not poison, or -1 if all are. */
export function findUnpoisoned(buffer: SharedArrayBuffer, offset: number, bytes: number): number {
  const words = new Int32Array(buffer, offset, bytes >> 2);
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== POISON_WORD) {
      const view = new Uint8Array(buffer, offset + i * 4, 4);
      return i * 4 + view.findIndex((b) => b !== POISON_BYTE);
    }
  }
  return -1;
}

/** The slab memory of a pool object and its option bits: what filling a slab needs. */
export interface SlabMemory {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly layout: ArenaLayout;
  /** Option bits (`FLAG_*`), from the arena's header. */
  readonly flags: number;
}

/** What the acquire hook needs besides: the thread's cache stacks, to put back a slab that fails its check. */
export interface HygieneContext extends SlabMemory {
  /** `packState(SLAB_CACHED, this slot, 0)`. */
  readonly cachedBits: number;
  readonly cacheSlabs: Int32Array;
  readonly cacheLength: Int32Array;
  readonly cacheStride: number;
}

/** The methods a pool object with zeroing or debug on replaces, and the slow paths the replacements call. */
export interface Hookable {
  /** Pops a slab of class `c` (refilling the cache if needed) and leases it; -1 if none. */
  take(c: number): number;
  acquire(size: number): number;
  tryAcquire(size: number): number;
  release(id: number): void;
  /** Everything of `acquire` (`throwing`) and `tryAcquire` but the cache hit, which has no hook. */
  acquireSlow(size: number, throwing: boolean): number;
  /** Everything of `release` but its fast path, which has no hook. */
  releaseSlow(id: number): void;
}

/**
 * Shadows `take`, `acquire`, `tryAcquire` and `release` of a pool object whose arena has zeroing
 * or debug on. `acquire` and `tryAcquire` skip their cache-hit fast path and go through `take`,
 * which checks and zeroes what it leases; `release` skips its fast path and goes through
 * `releaseSlow`, which zeroes or poisons the slab once its exchange makes it this thread's.
 */
export function installHooks(pool: Hookable, ctx: HygieneContext): void {
  // The class's own take, read before the own property below shadows it.
  const plainTake = pool.take;
  pool.take = (c) => {
    const id = plainTake.call(pool, c);
    return id === -1 ? -1 : afterAcquire(ctx, id, c, ctx.cacheLength[c]);
  };
  pool.acquire = (size) => pool.acquireSlow(size, true);
  pool.tryAcquire = (size) => pool.acquireSlow(size, false);
  pool.release = (id) => pool.releaseSlow(id);
}

/**
 * Debug check and zeroing for a slab of class `c` just leased from position `position` of the
 * cache stack. A broken poison pattern puts the slab back as it was, poisoned again, so the pool
 * loses nothing, and throws SlabCorruptionError naming the id it had when it was released.
 */
export function afterAcquire(ctx: HygieneContext, id: number, c: number, position: number): number {
  const slab = slabOfId(id);
  const meta = metaWord(ctx.layout.metaTop, slab);
  const offset = slabOffset(ctx.words[meta + META_OFFSET_CLASS]);
  const capacity = slabSizeOf(ctx.layout, c);
  if (ctx.flags & FLAG_DEBUG) {
    const bad = findUnpoisoned(ctx.buffer, offset, capacity);
    if (bad !== -1) {
      fillSlab(ctx.buffer, offset, capacity, true);
      ctx.words[meta] = ctx.cachedBits | (generationOfId(id) << GEN_SHIFT);
      ctx.cacheSlabs[c * ctx.cacheStride + position] = slab;
      ctx.cacheLength[c] = position + 1;
      throw new SlabCorruptionError(slabId(slab, (generationOfId(id) - 1) & GEN_MASK), bad, capacity);
    }
  }
  if (ctx.flags & FLAG_ZERO_ON_ACQUIRE) fillSlab(ctx.buffer, offset, capacity, false);
  return id;
}

/** Poisons (debug) or zeroes (`zeroOnRelease`) slab `slab` of class `c`, just released. */
export function afterRelease(ctx: SlabMemory, slab: number, c: number): void {
  if ((ctx.flags & (FLAG_DEBUG | FLAG_ZERO_ON_RELEASE)) === 0) return;
  const word = ctx.words[metaWord(ctx.layout.metaTop, slab) + META_OFFSET_CLASS];
  fillSlab(ctx.buffer, slabOffset(word), slabSizeOf(ctx.layout, c), (ctx.flags & FLAG_DEBUG) !== 0);
}

/**
 * Debug check and zeroing for a slab taken from a reserved list. The waiter already owns it, so
 * a broken poison pattern is reported as a warning rather than thrown.
 */
export function afterReserved(ctx: SlabMemory, id: number): number {
  const slab = slabOfId(id);
  const word = ctx.words[metaWord(ctx.layout.metaTop, slab) + META_OFFSET_CLASS];
  const offset = slabOffset(word);
  const capacity = slabSizeOf(ctx.layout, word & CLASS_MASK);
  if (ctx.flags & FLAG_DEBUG) {
    const bad = findUnpoisoned(ctx.buffer, offset, capacity);
    const releasedId = slabId(slab, (generationOfId(id) - 1) & GEN_MASK);
    if (bad !== -1) process.emitWarning(new SlabCorruptionError(releasedId, bad, capacity).message, 'ZeropoolWarning');
  }
  if (ctx.flags & FLAG_ZERO_ON_ACQUIRE) fillSlab(ctx.buffer, offset, capacity, false);
  return id;
}
