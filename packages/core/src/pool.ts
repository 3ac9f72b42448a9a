/**
 * The public pool class. One instance per thread: the constructor creates the arena, `attach`
 * gives another thread a view over the same memory with its own thread slot and cache.
 *
 * Tiers, fastest first (the .NET `SharedArrayPool` shape):
 * 1. The thread cache: a private stack per size class. `acquire` pops, `release` pushes; the only
 *    shared-memory write is the slab's state word.
 * 2. The home shard (`threadId & (shards - 1)`): a refill takes half a cache from it under its
 *    lock, a spill gives half a cache back. Thread ids are handed out in sequence, so the mask
 *    spreads consecutive threads over distinct shards.
 * 3. The other shards, scanned in order from the home shard (a steal).
 * 4. Carving: a new page of the arena is cut into slabs of the class and put in the home shard.
 */
import { threadId } from 'node:worker_threads';
import { ThreadCache } from './cache.js';
import { resolveConfig } from './config.js';
import { PoolExhaustedError, SlabStateError, invalidType, outOfRange } from './errors.js';
import { SlabLease } from './lease.js';
import { auditArena, collectStats, foldCounters, usedBytesOf } from './inspect.js';
import { lock, unlock } from './lock.js';
import { attachLayout, checkHandle, claimThreadSlot, writeHeader } from './arena.js';
import {
  C_SLOW_ACQUIRES,
  C_EXHAUSTED,
  C_LOCK_WAITS,
  C_REFILLS,
  C_RELEASES,
  C_SPILLS,
  C_STEALS,
  CLASS_MASK,
  COUNTER_COUNT,
  GEN_SHIFT,
  H_ARENA_LOCK,
  H_PAGES_CARVED,
  H_SLAB_COUNT,
  ID_MASK,
  LAYOUT_VERSION,
  MAX_SLABS,
  META_BYTES,
  META_LINK,
  META_OFFSET_CLASS,
  META_STATE,
  NO_SLAB,
  S_COUNT,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  T_CLAIM,
  type ArenaLayout,
  lockOwnerValue,
  metaWord,
  packState,
  pageClassWord,
  shardWord,
  threadCounterF64,
  threadWord,
} from './layout.js';
import { popToCache, pushFromCache, spliceCarved } from './shard.js';
import { describeBadId } from './validate.js';
import type { Lease, PoolHandle, PoolStats, ResolvedConfig, SlabPoolOptions } from './types.js';

const VIEW_CACHE_SIZE = 4096;
const VIEW_CACHE_MASK = VIEW_CACHE_SIZE - 1;
const EMPTY_VIEW = new Uint8Array(0);

/**
 * A pool of slabs carved from one `SharedArrayBuffer`, shared by every thread that attaches to it.
 *
 * @example
 * ```ts
 * import { SlabPool } from '@zeropool/core';
 * const pool = new SlabPool({ arenaBytes: 16 * 1024 * 1024 });
 * const id = pool.acquire(4096);
 * pool.bytes(id).fill(7);
 * worker.postMessage({ id }); // the worker calls pool.bytes(id), then pool.release(id)
 * ```
 */
export class SlabPool {
  /** Send this to another thread (in `workerData` or `postMessage`) and call {@link SlabPool.attach} there. */
  readonly handle: PoolHandle;
  /** The configuration the pool was created with. */
  readonly config: ResolvedConfig;

  private readonly buffer: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly floats: Float64Array;
  private readonly layout: ArenaLayout;
  private readonly counters: Float64Array;
  private readonly cache: ThreadCache;
  // The cache's arrays, held directly: the hot path then loads one field instead of two.
  private readonly cacheIds: Int32Array;
  private readonly cacheLength: Int32Array;
  private readonly cacheCapacity: Int32Array;
  private readonly cacheStride: number;
  /**
   * A direct-mapped cache of views: entry `slab & VIEW_CACHE_MASK` holds the view of the slab whose
   * index is in `viewSlabs` at the same position. Bounded memory, and a lookup is two array reads.
   * (A plain array indexed by slab went into V8's dictionary mode for large indexes: 41 ns instead
   * of 25 ns per acquire + bytes + release, measured with 40 000 slabs carved.)
   */
  private readonly views: Uint8Array[] = new Array<Uint8Array>(VIEW_CACHE_SIZE).fill(EMPTY_VIEW);
  private readonly viewSlabs = new Int32Array(VIEW_CACHE_SIZE).fill(-1);
  private readonly metaTop: number;
  private readonly minShift: number;
  private readonly maxSlabSize: number;
  private readonly indexBits: number;
  private readonly indexMask: number;
  private readonly generationMask: number;
  /** Generation of freshly carved slabs: the pool's tag, so ids of other pools rarely match. */
  private readonly firstGeneration: number;
  private readonly slot: number;
  private readonly home: number;
  private readonly lockOwner: number;
  private readonly cachedBits: number;
  private closed = false;
  /** Slabs known to exist; 0 once closed, so every id takes the slow check, which refuses it. */
  private knownSlabs = 0;

  /**
   * Creates a pool and its arena, and attaches the calling thread to it.
   * @param options sizes and limits; every member is optional (see {@link SlabPoolOptions}).
   * @throws {TypeError} an option is not a number.
   * @throws {RangeError} an option is out of range; the message names it, the value and the range.
   */
  constructor(options?: SlabPoolOptions);
  /** @internal attaches to an existing arena. */
  constructor(options: SlabPoolOptions | undefined, existing: SharedArrayBuffer);
  constructor(options?: SlabPoolOptions, existing?: SharedArrayBuffer) {
    let buffer: SharedArrayBuffer;
    if (existing === undefined) {
      const config = resolveConfig(options);
      buffer = new SharedArrayBuffer(config.arenaBytes);
      writeHeader(buffer, config);
    } else {
      buffer = existing;
    }
    const { layout, config, tag } = attachLayout(buffer);
    this.buffer = buffer;
    this.config = config;
    this.layout = layout;
    this.words = new Int32Array(buffer, 0, layout.arenaBytes >> 2);
    this.floats = new Float64Array(buffer, 0, layout.dataStart >> 3);
    this.metaTop = layout.arenaBytes >> 2;
    this.minShift = layout.minShift;
    this.maxSlabSize = config.maxSlabSize;
    this.indexBits = layout.indexBits;
    this.indexMask = 2 ** layout.indexBits - 1;
    this.generationMask = 2 ** (31 - layout.indexBits) - 1;
    this.firstGeneration = tag & this.generationMask;
    this.slot = claimThreadSlot(this.words, layout, threadId);
    this.counters = new Float64Array(buffer, threadCounterF64(layout, this.slot) * 8, COUNTER_COUNT);
    this.counters.fill(0);
    this.home = threadId & (layout.shards - 1);
    this.lockOwner = lockOwnerValue(this.slot);
        this.cachedBits = packState(SLAB_CACHED, this.slot, 0);
    this.cache = new ThreadCache(config, layout.classCount);
    this.cacheIds = this.cache.ids;
    this.cacheLength = this.cache.length;
    this.cacheCapacity = this.cache.capacity;
    this.cacheStride = this.cache.stride;
    this.handle = Object.freeze({ kind: 'zeropool', layoutVersion: LAYOUT_VERSION, buffer });
  }

  /**
   * Attaches the calling thread to the pool behind `handle`: the same slabs and the same shards,
   * with a cache of its own. Call it once per thread.
   * @throws {TypeError} `handle` is not a pool handle, or its arena has another layout version.
   * @example
   * ```ts
   * const pool = SlabPool.attach(workerData.pool);
   * ```
   */
  static attach(handle: PoolHandle): SlabPool {
    return new SlabPool(undefined, checkHandle(handle));
  }

  /**
   * Takes a slab with a capacity of at least `size` bytes and returns its id.
   * @param size bytes needed: an integer from 0 to `maxSlabSize`.
   * @throws {TypeError} `size` is not a number.
   * @throws {RangeError} `size` is not an integer from 0 to `maxSlabSize`.
   * @throws {PoolExhaustedError} no slab of that class is free and the arena has no room left.
   */
  acquire(size: number): number {
    const id = this.tryAcquire(size);
    if (id === -1) throw this.exhaustedError(size);
    return id;
  }

  /** Like {@link SlabPool.acquire}, but returns -1 instead of throwing when the pool is exhausted. */
  tryAcquire(size: number): number {
    // `size >>> 0 === size` holds only for integers from 0 to 2^32 - 1: it rejects NaN, fractions
    // and negatives in one comparison. The typeof test first keeps bigints and symbols, which
    // throw on `>>>`, from reaching it.
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxSlabSize) throw this.sizeError(size);
    const c = size <= 1 << this.minShift ? 0 : 32 - Math.clz32(size - 1) - this.minShift;
    let length = this.cacheLength[c];
    if (length === 0) {
      length = this.refill(c);
      if (length === 0) {
        this.counters[C_EXHAUSTED]++;
        return -1;
      }
      this.counters[C_SLOW_ACQUIRES]++;
    }
    // A hit counts nothing: every acquire ends up either leased or released, so stats() derives
    // acquires as releases + leased and cache hits as acquires minus the slow ones, keeping a
    // shared-memory increment off the fastest path.
    length--;
    this.cacheLength[c] = length;
    const id = this.cacheIds[c * this.cacheStride + length];
    const meta = this.metaTop - 3 * (id & this.indexMask) - 3;
    // Plain stores suffice: nobody else writes the words of a slab in our cache, and the id
    // reaches another thread only through a synchronizing hand-off (postMessage, an atomic), which
    // orders these stores before that thread's release. Leased: generation only, owner field 0.
    this.words[meta] = SLAB_LEASED | ((id >>> this.indexBits) << GEN_SHIFT);
    this.words[meta + 1] = this.slot;
    return id;
  }

  /**
   * Returns a slab to the pool. Any thread may release any slab.
   * @throws {SlabStateError} `id` is not currently acquired from this pool (a second or stale
   *   release, an id never handed out, from another pool, or not an id); the pool is unchanged.
   */
  release(id: number): void {
    // `id & ID_MASK` equals `id` only for integers from 0 to 2^31 - 1: one comparison rejects
    // fractions, negatives and NaN (typeof first: bigints and symbols throw on `&`). Slabs past the
    // count have no metadata to touch.
    if (typeof id !== 'number' || (id & ID_MASK) !== id || (id & this.indexMask) >= this.knownSlabs) this.checkIdSlow(id);
    const slab = id & this.indexMask;
    const generation = id >>> this.indexBits;
    const meta = this.metaTop - 3 * slab - 3;
    const leased = SLAB_LEASED | (generation << GEN_SHIFT);
    const next = (generation + 1) & this.generationMask;
    // The one read-modify-write that makes a release count: the word moves from "leased at this
    // generation" to "cached by this thread at the next generation" only if it still says leased
    // at this generation. Of two threads releasing the same id, exactly one succeeds; a stale or
    // repeated id finds another value and changes nothing.
    if (Atomics.compareExchange(this.words, meta, leased, this.cachedBits | (next << GEN_SHIFT)) !== leased) {
      throw this.badIdError(id);
    }
    const c = this.words[meta + META_OFFSET_CLASS] & CLASS_MASK;
    if (this.cacheLength[c] >= this.cacheCapacity[c]) this.spill(c);
    const length = this.cacheLength[c];
    this.cacheIds[c * this.cacheStride + length] = (next << this.indexBits) | slab;
    this.cacheLength[c] = length + 1;
    this.counters[C_RELEASES]++;
  }

  /**
   * A `Uint8Array` over the whole slab (its capacity, which may exceed the size asked for). Views
   * are cached per thread, so repeated calls return the same object.
   * @throws {SlabStateError} `id` is not currently acquired from this pool.
   */
  bytes(id: number): Uint8Array {
    const slab = this.checkLeased(id);
    const entry = slab & VIEW_CACHE_MASK;
    return this.viewSlabs[entry] === slab ? this.views[entry] : this.makeView(slab);
  }

  /**
   * The capacity of the slab `id` in bytes: its size class, a power of two at least the size asked for.
   * @throws {SlabStateError} `id` is not currently acquired from this pool.
   */
  capacity(id: number): number {
    const slab = this.checkLeased(id);
    return 1 << (this.minShift + (this.words[metaWord(this.metaTop, slab) + META_OFFSET_CLASS] & CLASS_MASK));
  }

  /**
   * Acquires a slab as a lease whose `bytes` are exactly `size` long. Release it with
   * `lease.release()`, or declare it with `using` to release it at the end of the scope.
   * @throws like {@link SlabPool.acquire}.
   * @example
   * ```ts
   * using lease = pool.get(1024);
   * lease.bytes.set(payload);
   * ```
   */
  get(size: number): Lease {
    const id = this.acquire(size);
    const slab = id & this.indexMask;
    const view = this.viewSlabs[slab & VIEW_CACHE_MASK] === slab ? this.views[slab & VIEW_CACHE_MASK] : this.makeView(slab);
    return new SlabLease(this, id, view.subarray(0, size));
  }

  /** Hands every slab in this thread's cache back to the shards, so other threads can take them. */
  flush(): void {
    const cache = this.cache;
    for (let c = 0; c < this.layout.classCount; c++) {
      const length = cache.length[c];
      if (length === 0) continue;
      this.pushToHome(c, c * cache.stride, length);
      cache.length[c] = 0;
      this.counters[C_SPILLS]++;
    }
  }

  /**
   * A snapshot of the pool across all threads. It walks every slab's state word, so it costs time
   * proportional to the number of slabs; while other threads work, the counts are a moment's view.
   */
  stats(): PoolStats {
    return collectStats(this.words, this.floats, this.layout, this.config);
  }

  /**
   * Checks the shared free lists against the slab state words (each listed slab free and listed
   * once, every free slab listed, counts right) and returns the problems found; an empty array
   * means consistent. Meant for tests and debugging: it takes every shard lock in turn.
   */
  audit(): string[] {
    return auditArena(this.words, this.layout, this.lockOwner);
  }

  /**
   * Flushes this thread's cache and gives up its thread slot. Slabs this thread still leases stay
   * leased and may be released by any thread. Later calls on this object throw, except `close`.
   */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.cache.disable();
    this.closed = true;
    this.knownSlabs = 0;
    const arenaLock = H_ARENA_LOCK;
    lock(this.words, arenaLock, this.lockOwner);
    foldCounters(this.floats, this.counters);
    this.counters.fill(0);
    unlock(this.words, arenaLock);
    // Frees the slot for another thread; everything this slot published is already visible.
    Atomics.store(this.words, threadWord(this.layout, this.slot) + T_CLAIM, 0);
  }

  /**
   * The slow half of the id checks: `knownSlabs` is this thread's last look at the shared slab
   * count (it only grows), so an index past it may be a slab carved since. Re-reads the count, and
   * throws unless the id is a well-formed index below it on an open pool object.
   */
  private checkIdSlow(id: number): void {
    if (!this.closed) this.knownSlabs = Atomics.load(this.words, H_SLAB_COUNT);
    if (this.closed || typeof id !== 'number' || (id & ID_MASK) !== id || (id & this.indexMask) >= this.knownSlabs) {
      throw this.badIdError(id);
    }
  }

  private checkLeased(id: number): number {
    if (typeof id !== 'number' || (id & ID_MASK) !== id || (id & this.indexMask) >= this.knownSlabs) this.checkIdSlow(id);
    const slab = id & this.indexMask;
    // A plain read: whoever handed us the id synchronized with its acquirer, so the leased state
    // is visible; a stale id finds another state or generation.
    if (this.words[this.metaTop - 3 * slab - 3] !== (SLAB_LEASED | ((id >>> this.indexBits) << GEN_SHIFT))) {
      throw this.badIdError(id);
    }
    return slab;
  }

  private makeView(slab: number): Uint8Array {
    const word = this.words[metaWord(this.metaTop, slab) + META_OFFSET_CLASS];
    const offset = (word & ~CLASS_MASK) >>> 0;
    const view = new Uint8Array(this.buffer, offset, 1 << (this.minShift + (word & CLASS_MASK)));
    this.views[slab & VIEW_CACHE_MASK] = view;
    this.viewSlabs[slab & VIEW_CACHE_MASK] = slab;
    return view;
  }

  /** Fills an empty cache stack for class `c`: home shard, then the others, then a new page. */
  private refill(c: number): number {
    if (this.closed) throw closedError();
    const want = this.cache.refillCount(c);
    let got = this.popFrom(c, this.home, want);
    if (got > 0) return got;
    got = this.steal(c, want, true);
    if (got > 0) return got;
    while (this.carve(c)) {
      got = this.popFrom(c, this.home, want);
      if (got > 0) return got;
    }
    // The arena is full; slabs may have been spilled while we carved.
    return this.steal(c, want, false);
  }

  private steal(c: number, want: number, useHint: boolean): number {
    const shards = this.layout.shards;
    for (let k = 1; k < shards; k++) {
      const shard = (this.home + k) & (shards - 1);
      // The count read without the lock is only a hint that saves locking empty shards.
      if (useHint && this.words[shardWord(this.layout, c, shard) + S_COUNT] === 0) continue;
      const got = this.popFrom(c, shard, want);
      if (got > 0) {
        this.counters[C_STEALS]++;
        return got;
      }
    }
    return 0;
  }

  private popFrom(c: number, shard: number, want: number): number {
    const line = shardWord(this.layout, c, shard);
    if (lock(this.words, line, this.lockOwner)) this.counters[C_LOCK_WAITS]++;
    const cache = this.cache;
    const base = c * cache.stride;
    const got = popToCache(this.words, this.metaTop, line, want, this.slot, this.indexBits, cache.ids, base);
    unlock(this.words, line);
    if (got > 0) {
      cache.length[c] = got;
      this.counters[C_REFILLS]++;
    }
    return got;
  }

  /** Moves the coldest half of a full cache stack to the home shard. */
  private spill(c: number): void {
    if (this.closed) throw closedError();
    const cache = this.cache;
    const count = Math.max(1, cache.capacity[c] >> 1);
    this.pushToHome(c, c * cache.stride, count);
    cache.dropBottom(c, count);
    this.counters[C_SPILLS]++;
  }

  private pushToHome(c: number, from: number, count: number): void {
    const line = shardWord(this.layout, c, this.home);
    if (lock(this.words, line, this.lockOwner)) this.counters[C_LOCK_WAITS]++;
    pushFromCache(this.words, this.metaTop, line, this.home, this.indexBits, this.cacheIds, from, count);
    unlock(this.words, line);
  }

  /** Cuts the next free page into slabs of class `c` and puts them in the home shard. */
  private carve(c: number): boolean {
    const words = this.words;
    const layout = this.layout;
    if (lock(words, H_ARENA_LOCK, this.lockOwner)) this.counters[C_LOCK_WAITS]++;
    try {
      const pages = words[H_PAGES_CARVED];
      const first = words[H_SLAB_COUNT];
      const slabSize = 1 << (this.minShift + c);
      const count = layout.pageBytes / slabSize;
      const pageStart = layout.dataStart + pages * layout.pageBytes;
      const metaLow = layout.arenaBytes - first * META_BYTES;
      if (pageStart + layout.pageBytes > metaLow - count * META_BYTES || first + count > MAX_SLABS) return false;
      const free = packState(SLAB_FREE, this.home, this.firstGeneration);
      for (let i = 0; i < count; i++) {
        const meta = metaWord(this.metaTop, first + i);
        words[meta + META_OFFSET_CLASS] = (pageStart + i * slabSize) | c;
        words[meta + META_LINK] = i + 1 < count ? first + i + 1 : NO_SLAB;
        words[meta + META_STATE] = free;
      }
      words[pageClassWord(layout, pages)] = c;
      // Publish the metadata before any thread can see the slabs: the stores are ordered after
      // the plain writes above, and readers check ids against the count with a load.
      Atomics.store(words, H_PAGES_CARVED, pages + 1);
      Atomics.store(words, H_SLAB_COUNT, first + count);
      const line = shardWord(layout, c, this.home);
      if (lock(words, line, this.lockOwner)) this.counters[C_LOCK_WAITS]++;
      spliceCarved(words, this.metaTop, line, first, count);
      unlock(words, line);
      return true;
    } finally {
      unlock(words, H_ARENA_LOCK);
    }
  }

  private sizeError(size: unknown): Error {
    if (typeof size !== 'number') return invalidType('size', size, 'a number');
    return outOfRange('size', size, `an integer from 0 to ${this.maxSlabSize} (maxSlabSize)`);
  }

  private exhaustedError(size: number): PoolExhaustedError {
    const c = size <= 1 << this.minShift ? 0 : 32 - Math.clz32(size - 1) - this.minShift;
    return new PoolExhaustedError(size, 1 << (this.minShift + c), usedBytesOf(this.words, this.layout), this.layout.arenaBytes);
  }

  private badIdError(id: unknown): SlabStateError {
    return new SlabStateError(id, this.closed ? 'this SlabPool object was closed' : describeBadId(id, this.words, this.layout));
  }
}

function closedError(): Error {
  const error = new Error('this SlabPool object was closed; attach again to use the pool from this thread');
  (error as Error & { code: string }).code = 'ERR_POOL_CLOSED';
  return error;
}
