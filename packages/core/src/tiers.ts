/**
 * The slow tiers of the pool, and the per-thread state they work with: everything an acquire or
 * a release does when the thread cache alone cannot serve it. `SlabPool` (pool.ts) extends this
 * class with the public methods and the hot path, which is tier 1.
 *
 * Tiers, fastest first (the .NET `SharedArrayPool` shape):
 * 1. The thread cache (cache.ts): a private stack of slab indexes per size class. `acquire` pops,
 *    `release` pushes; the only shared-memory writes are the slab's own metadata words.
 * 2. The home shard (`threadId & (shards - 1)`): a refill takes half a cache from it under its
 *    lock, a spill gives half a cache back. Thread ids are handed out in sequence, so the mask
 *    spreads consecutive threads over distinct shards.
 * 3. The other shards, scanned in order from the home shard (a steal).
 * 4. Carving: a page of the arena, never carved or given back, is cut into slabs of the class and
 *    put in the home shard. With no such page left, pages of other classes whose slabs are all
 *    free in their shards go back to the arena first (and cached slabs of classes the thread no
 *    longer uses go back to the shards, so that their pages can follow).
 * On release, a full cache spills to the home shard, or to another if a dead thread holds the
 * home shard's lock, or keeps the slabs aside ("stranded") while no shard lock can be taken.
 */
import { threadId } from 'node:worker_threads';
import { attachLayout } from './arena.js';
import { ThreadCache } from './cache.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from './config.js';
import { LockTimeoutError, closedError } from './errors.js';
import { fillSlab } from './hygiene.js';
import {
  type ArenaLayout,
  COUNTER_COUNT,
  C_LOCK_WAITS,
  C_PAGES_RECARVED,
  C_PAGES_RETURNED,
  C_REFILLS,
  C_SPILLS,
  C_STEALS,
  C_TRIMS,
  FLAG_DEBUG,
  GEN_MASK,
  H_ARENA_LOCK,
  H_FLAGS,
  H_PAGES_CARVED,
  META_LINK,
  META_OFFSET_CLASS,
  META_STATE,
  NO_SLAB,
  PAGE_FREE,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  STATE_MASK,
  S_COUNT,
  firstSlabOf,
  generationOf,
  lockOwnerValue,
  metaWord,
  ownerOf,
  packState,
  pageClassWord,
  pageStartOf,
  shardWord,
  slabSizeOf,
  slabsPerPageOf,
  threadCounterF64,
} from './layout.js';
import { lock, lockWithin, unlock } from './lock.js';
import { rebuildShards } from './recovery.js';
import { popToCache, pushFromCache, spliceCarved } from './shard.js';
import { claimFreeSlot, threadOfSlot } from './slots.js';
import { STEPS, step } from './steps.js';
import type { ResolvedConfig } from './types.js';
import { wakeAfterFiling } from './waiters.js';

/** How long giving pages back waits for each shard lock of a class before it leaves the class alone. */
const RETURN_LOCK_MS = 5;
/** A thread's slow paths between two looks at which classes of its cache it no longer uses. */
export const SWEEP_SLOW_PATHS = 64;
/** How soon, and at most how rarely, a thread with stranded slabs tries to file them from its event loop. */
const STRANDED_RETRY_MS = 50;
const STRANDED_RETRY_MAX_MS = 2000;
/**
 * How long a spill whose home shard's lock a dead thread holds tries each other shard's lock, and
 * how many times it goes round them: long enough to wait out a live holder, short enough that a
 * release does not stall behind dead ones.
 */
const OTHER_SHARD_LOCK_MS = 5;
const OTHER_SHARD_PASSES = 3;

/**
 * The per-thread state and slow tiers of a pool object; `SlabPool` is the only subclass. (Its
 * name shows in the API reference as the class `SlabPool` extends, so it stays as published.)
 */
export class PoolCore {
  /** The configuration the pool was created with. */
  readonly config: ResolvedConfig;

  protected readonly buffer: SharedArrayBuffer;
  protected readonly words: Int32Array;
  protected readonly floats: Float64Array;
  /** The thread table's claim words (see layout.ts), as BigInt64s. */
  protected readonly claims: BigInt64Array;
  protected readonly layout: ArenaLayout;
  protected readonly counters: Float64Array;
  protected readonly cache: ThreadCache;
  // The cache's arrays, held directly: the hot path then loads one field instead of two.
  protected readonly cacheSlabs: Int32Array;
  protected readonly cacheLength: Int32Array;
  protected readonly cacheCapacity: Int32Array;
  protected readonly cacheStride: number;
  protected readonly metaTop: number;
  protected readonly minShift: number;
  protected readonly maxSlabSize: number;
  /** Generation of freshly carved slabs: the pool's tag, so ids of other pools rarely match. */
  protected readonly firstGeneration: number;
  protected readonly slot: number;
  protected readonly home: number;
  protected readonly lockOwner: number;
  protected readonly cachedBits: number;
  /** State word of a slab leased by this thread, generation 0 (`SLAB_LEASED`, this slot). */
  protected readonly leasedBits: number;
  /** Option bits (`FLAG_*`): nonzero sends acquire and release through their hooks. */
  protected readonly flags: number;
  protected closed = false;
  /** How long lockWord waits before it throws LockTimeoutError (set by SlabPool per object). */
  protected lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS;
  /** Slab slots (`maxSlabs`); 0 once closed, so every id takes the slow check, which refuses it. */
  protected knownSlabs = 0;
  /**
   * Per class, cached slabs a spill could not hand to any shard (every shard's lock held by a dead
   * thread): still this thread's, outside the cache stack until a refill takes them or `flush`
   * files them.
   */
  protected readonly stranded: (number[] | undefined)[] = [];
  private warnedStranded = false;
  private strandedRetry: ReturnType<typeof setTimeout> | undefined;
  /** Slow paths since the last sweep of idle classes (see sweepIdle). */
  private slowPaths = 0;
  /** Per class, the cache stack's length at the last sweep, and refills and spills since. */
  private readonly sweepLengths: Int32Array;
  private readonly sweepMoves: Int32Array;

  protected constructor(buffer: SharedArrayBuffer) {
    const { layout, config, tag } = attachLayout(buffer);
    this.buffer = buffer;
    this.config = config;
    this.layout = layout;
    this.words = new Int32Array(buffer, 0, layout.metaTop);
    this.floats = new Float64Array(buffer, 0, layout.dataStart >> 3);
    this.claims = new BigInt64Array(buffer, 0, layout.dataStart >> 3);
    this.metaTop = layout.metaTop;
    this.minShift = layout.minShift;
    this.maxSlabSize = config.maxSlabSize;
    this.firstGeneration = tag & GEN_MASK;
    this.flags = this.words[H_FLAGS];
    this.slot = claimFreeSlot(this.claims, layout, threadId);
    // Not reset: the slot's counters carry on from its earlier threads, so totals stay sums.
    this.counters = new Float64Array(buffer, threadCounterF64(layout, this.slot) * 8, COUNTER_COUNT);
    this.home = threadId & (layout.shards - 1);
    this.lockOwner = lockOwnerValue(this.slot);
    this.cachedBits = packState(SLAB_CACHED, this.slot, 0);
    this.leasedBits = packState(SLAB_LEASED, this.slot, 0);
    this.cache = new ThreadCache(config, layout);
    this.cacheSlabs = this.cache.slabs;
    this.cacheLength = this.cache.length;
    this.cacheCapacity = this.cache.capacity;
    this.cacheStride = this.cache.stride;
    this.sweepLengths = new Int32Array(layout.classCount);
    this.sweepMoves = new Int32Array(layout.classCount);
    // Every slot has metadata from the start; a slot of no slab has a state word no id matches.
    this.knownSlabs = layout.maxSlabs;
  }

  /** Takes a lock word, counting a wait when it was contended. */
  protected lockWord(index: number): void {
    if (lock(this.words, index, this.lockOwner, this.lockTimeoutMs, this.threadOfSlot)) this.counters[C_LOCK_WAITS]++;
  }

  /** The threadId that claimed thread slot `slot`, or -1 if it is free (for error messages). */
  protected readonly threadOfSlot = (slot: number): number => threadOfSlot(this.claims, this.layout, slot);

  // Tiers 2 and 3, on acquire: the home shard, then the others.

  /** Fills an empty cache stack for class `c`: stranded slabs, home shard, the others, a new page. */
  protected refill(c: number): number {
    if (this.closed) throw closedError();
    this.sweepMoves[c]++;
    this.sweepIdle(c);
    const want = this.cache.refillCount(c);
    const stranded = this.stranded[c];
    if (stranded !== undefined && stranded.length > 0) {
      // Already cached by this thread: they only move back into the cache stack.
      const got = Math.min(want, stranded.length);
      for (let i = 0; i < got; i++) this.cacheSlabs[c * this.cacheStride + i] = stranded.pop() as number;
      this.cacheLength[c] = got;
      return got;
    }
    let got = this.popFrom(c, this.home, want);
    if (got > 0) return got;
    got = this.steal(c, want, true);
    if (got > 0) return got;
    while (this.carve(c)) {
      got = this.popFrom(c, this.home, want);
      if (got > 0) return got;
    }
    // No page to be had: this thread's own cached slabs of other classes may be what keeps their
    // pages from going back to the arena.
    if (this.handBackCached(c) > 0 && this.carve(c)) {
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
        if (STEPS) step('steal.moved');
        this.counters[C_STEALS]++;
        return got;
      }
    }
    return 0;
  }

  private popFrom(c: number, shard: number, want: number): number {
    const line = shardWord(this.layout, c, shard);
    this.lockWord(line);
    if (STEPS) step('refill.locked');
    const base = c * this.cacheStride;
    const got = popToCache(this.words, this.metaTop, line, want, this.slot, this.cacheSlabs, base);
    if (STEPS) step('refill.moved');
    unlock(this.words, line);
    if (got > 0) {
      this.cacheLength[c] = got;
      this.counters[C_REFILLS]++;
    }
    return got;
  }

  // Tier 4: carving a page into slabs of a class.

  /**
   * Finds a page for class `c` and carves it, under the arena lock: a page given back
   * (`PAGE_FREE`) first, then the next untouched page; with neither left, gives back the pages of
   * other classes whose slabs are all free (returnFreePages) and carves one of those. False when
   * no page can be had. A LockTimeoutError leaves the arena as it was.
   */
  private carve(c: number): boolean {
    this.lockWord(H_ARENA_LOCK);
    try {
      let page = this.pageToCarve();
      if (page === -1 && this.returnFreePages(c) > 0) page = this.pageToCarve();
      if (page === -1) return false;
      this.carvePage(page, c);
      return true;
    } finally {
      unlock(this.words, H_ARENA_LOCK);
    }
  }

  /** A page to carve, pages given back first; -1 if none is left. The caller holds the arena lock. */
  private pageToCarve(): number {
    const carved = this.words[H_PAGES_CARVED];
    for (let page = 0; page < carved; page++) {
      if (this.words[pageClassWord(this.layout, page)] === PAGE_FREE) return page;
    }
    return carved < this.layout.pageCount ? carved : -1;
  }

  /**
   * Cuts page `page` (untouched or given back) into slabs of class `c` and puts them in the home
   * shard. The caller holds the arena lock; a thread stopped between any two steps
   * (`worker.terminate()` lands at calls and loop back-edges) still holds it, so nobody carves
   * until `reclaim` takes it over; each step says what that reclaim finds.
   */
  private carvePage(page: number, c: number): void {
    const words = this.words;
    const layout = this.layout;
    const slabSize = slabSizeOf(layout, c);
    const count = slabsPerPageOf(layout, c);
    const first = firstSlabOf(layout, page);
    const pageStart = pageStartOf(layout, page);
    const recarved = words[pageClassWord(layout, page)] === PAGE_FREE;
    // Step 1: the slots of a page the table gives no class, where no reader looks, so a stop or a
    // lock timeout after it leaves only free state words no id matches (the next carving writes
    // the slots it uses again). A slot keeps the generation its last slab left: no id carries it
    // yet (see layout.ts).
    for (let i = 0; i < count; i++) {
      const meta = metaWord(this.metaTop, first + i);
      const before = words[meta + META_STATE];
      words[meta + META_OFFSET_CLASS] = (pageStart + i * slabSize) | c;
      words[meta + META_LINK] = i + 1 < count ? first + i + 1 : NO_SLAB;
      words[meta + META_STATE] = packState(SLAB_FREE, this.home, before === 0 ? this.firstGeneration : generationOf(before));
    }
    if (this.flags & FLAG_DEBUG) fillSlab(this.buffer, pageStart, layout.pageBytes, true);
    if (STEPS) step('carve.1');
    // Step 2: the home shard's lock, before anything visible changes, so its LockTimeoutError
    // leaves the page table, the cursor and every list as they were.
    const line = shardWord(layout, c, this.home);
    this.lockWord(line);
    if (STEPS) step('carve.2');
    // Step 3: the page joins the class. A stop from here on leaves the shard locked, and reclaim
    // rebuilds its list from the state words of the class's pages (recovery.ts rebuildShards),
    // which lists this page's slabs.
    Atomics.store(words, pageClassWord(layout, page), c);
    if (STEPS) step('carve.3');
    spliceCarved(words, this.metaTop, line, first, count);
    if (STEPS) step('carve.4');
    // Step 5: the cursor passes an untouched page only after its class is written, so a stop
    // before it leaves the cursor short, which reclaim recounts from the page table
    // (recountPages) before anyone carves.
    if (page === words[H_PAGES_CARVED]) Atomics.store(words, H_PAGES_CARVED, page + 1);
    if (STEPS) step('carve.5');
    if (recarved) this.counters[C_PAGES_RECARVED]++;
    unlock(words, line);
  }

  // Pages going back to the arena when a class needs room, and the cached slabs that keep them.

  /**
   * Gives back to the arena every page of a class other than `except` whose slabs are all free in
   * the class's shards, so any class can carve it; returns how many. The caller holds the arena
   * lock. A slab cached, leased or reserved for a waiter keeps its page in its class.
   */
  protected returnFreePages(except: number): number {
    const layout = this.layout;
    let returned = 0;
    for (let c = 0; c < layout.classCount; c++) {
      if (c === except) continue;
      // A hint read without the locks: fewer free slabs than a page holds means no page is all free.
      let free = 0;
      for (let shard = 0; shard < layout.shards; shard++) free += this.words[shardWord(layout, c, shard) + S_COUNT];
      if (free >= slabsPerPageOf(layout, c)) returned += this.returnPagesOf(c);
    }
    return returned;
  }

  /**
   * returnFreePages for class `c`: takes every shard lock of the class, so no free slab of it can
   * move, marks each page whose slabs are all free in a shard `PAGE_FREE`, and rebuilds the
   * class's lists without those pages. A thread stopped at any step holds all those locks and
   * the arena lock; reclaim rebuilds each list from the page table as it then stands, so each
   * page is either still the class's with its slabs listed, or free with none listed. Skips the
   * class, returning 0, when a lock stays taken for `RETURN_LOCK_MS` (a dead thread holds it).
   */
  private returnPagesOf(c: number): number {
    const words = this.words;
    const layout = this.layout;
    let locked = 0;
    try {
      for (; locked < layout.shards; locked++) {
        if (!lockWithin(words, shardWord(layout, c, locked), this.lockOwner, RETURN_LOCK_MS)) return 0;
      }
      if (STEPS) step('return.locked');
      const carved = words[H_PAGES_CARVED];
      let returned = 0;
      for (let page = 0; page < carved; page++) {
        if (words[pageClassWord(layout, page)] !== c || !slabsAllFree(words, layout, page, c)) continue;
        Atomics.store(words, pageClassWord(layout, page), PAGE_FREE);
        returned++;
        if (STEPS) step('return.page');
      }
      if (returned === 0) return 0;
      rebuildShards(words, layout, c, -1);
      if (STEPS) step('return.rebuilt');
      this.counters[C_PAGES_RETURNED] += returned;
      return returned;
    } finally {
      for (let shard = 0; shard < locked; shard++) unlock(words, shardWord(layout, c, shard));
    }
  }

  /** Gives back every page whose slabs are all free; returns how many. Throws LockTimeoutError for the arena lock. */
  protected trimPages(): number {
    this.lockWord(H_ARENA_LOCK);
    try {
      return this.returnFreePages(-1);
    } finally {
      unlock(this.words, H_ARENA_LOCK);
    }
  }

  /**
   * Hands this thread's cached slabs of every class but `except` (-1: every class) back to a shard
   * whose lock is free now, as `sweepIdle` does; returns how many. Never throws or waits: a class
   * whose every shard lock is taken keeps its slabs.
   */
  protected handBackCached(except: number): number {
    let moved = 0;
    for (let c = 0; c < this.layout.classCount; c++) if (c !== except) moved += this.handBackClass(c);
    return moved;
  }

  /** Hands class `c`'s cached slabs to a shard whose lock is free now; how many moved (0 if none could). */
  private handBackClass(c: number): number {
    const length = this.cacheLength[c];
    if (length === 0) return 0;
    const shard = this.lockAnyShardNow(c);
    if (shard === -1) return 0;
    const line = shardWord(this.layout, c, shard);
    pushFromCache(this.words, this.metaTop, line, shard, this.cacheSlabs, c * this.cacheStride, length);
    this.cacheLength[c] = 0;
    this.sweepLengths[c] = 0;
    unlock(this.words, line);
    if (STEPS) step('handback.moved');
    wakeAfterFiling(this.words, this.layout, c);
    return length;
  }

  /**
   * Counts a slow path of this thread and, every `SWEEP_SLOW_PATHS` of them, hands back the cached
   * slabs of each class whose cache stack has not changed since the last sweep (a class the
   * thread no longer uses), so they do not keep pages from other classes. Runs only from this
   * thread's own refills and spills: a thread whose event loop is frozen still sweeps whenever it
   * works. Never throws: a class whose shard lock cannot be taken now stays cached until the next
   * sweep.
   */
  protected sweepIdle(active: number): void {
    if (++this.slowPaths < SWEEP_SLOW_PATHS) return;
    this.slowPaths = 0;
    for (let c = 0; c < this.layout.classCount; c++) {
      const length = this.cacheLength[c];
      const idle = c !== active && length > 0 && length === this.sweepLengths[c] && this.sweepMoves[c] === 0;
      this.sweepMoves[c] = 0;
      this.sweepLengths[c] = length;
      if (idle && this.handBackClass(c) > 0) this.counters[C_TRIMS]++;
    }
  }

  /** Locks a shard of class `c` whose lock is free right now, home first (no waiting); its index, or -1. */
  protected lockAnyShardNow(c: number): number {
    const shards = this.layout.shards;
    for (let k = 0; k < shards; k++) {
      const shard = (this.home + k) & (shards - 1);
      if (Atomics.compareExchange(this.words, shardWord(this.layout, c, shard), 0, this.lockOwner) === 0) return shard;
    }
    return -1;
  }

  // Tiers 2 and 3, on release: spilling to the home shard or another, and slabs no shard would take.

  /**
   * Moves the coldest half of a full cache stack to the home shard (see pushToHome). If no shard's
   * lock can be taken (dead threads hold them all and were not reclaimed), keeps that half in this
   * object's stranded list instead, still marked cached by this thread (stats, audit and reclaim
   * count them), warns once, and returns: the release that spilled goes through and loses nothing.
   * Refills use stranded slabs first; `flush` and `close` file them once a lock can be taken.
   */
  protected spill(c: number): void {
    if (this.closed) throw closedError();
    this.sweepMoves[c]++;
    this.sweepIdle(c);
    const count = Math.max(1, this.cacheCapacity[c] >> 1);
    this.pushOrStrand(c, count);
    this.cache.dropBottom(c, count);
  }

  /** spill's push of the bottom `count` slabs of class `c`'s cache stack, or their stranding. */
  private pushOrStrand(c: number, count: number): void {
    const base = c * this.cacheStride;
    const stranded = this.stranded[c];
    if (stranded !== undefined && stranded.length > 0) {
      // The last spill found every lock held: add this batch to the stranded slabs and file them
      // all if a lock is free now (one try per shard, not lockTimeoutMs per spill).
      for (let i = 0; i < count; i++) stranded.push(this.cacheSlabs[base + i]);
      if (this.fileStrandedQuickly(c)) this.counters[C_SPILLS]++;
      else this.retryStranded();
      return;
    }
    try {
      this.pushToHome(c, base, count, this.cacheSlabs);
      this.counters[C_SPILLS]++;
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      this.strand(c, Array.from(this.cacheSlabs.subarray(base, base + count)));
      if (!this.warnedStranded) {
        this.warnedStranded = true;
        process.emitWarning(
          `zeropool: a release could not hand slabs back to any shard, so this thread keeps them (still counted as cached by it) and files them once a shard lock is free (it tries from its event loop, every ${STRANDED_RETRY_MS} ms to ${STRANDED_RETRY_MAX_MS / 1000} s); ${error.message}`,
          'ZeropoolWarning',
        );
      }
    }
  }

  /**
   * Pushes `count` cached slabs from `slabs[from]` onward onto this thread's home shard of class `c`,
   * or, if a dead thread holds that lock (LockTimeoutError after lockTimeoutMs), onto another
   * shard whose lock it can take within a few milliseconds. Callers such as a release that spills
   * have already made the slabs this thread's: failing here would leave them in no list until this
   * thread is reclaimed. Throws only when no shard could be locked; then nothing was pushed.
   */
  protected pushToHome(c: number, from: number, count: number, slabs: Int32Array): void {
    let shard = this.home;
    let line = shardWord(this.layout, c, shard);
    try {
      this.lockWord(line);
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      shard = this.lockOtherShard(c);
      if (shard === -1) throw error;
      line = shardWord(this.layout, c, shard);
    }
    if (STEPS) step('spill.locked');
    pushFromCache(this.words, this.metaTop, line, shard, slabs, from, count);
    if (STEPS) step('spill.moved');
    unlock(this.words, line);
    if (STEPS) step('spill.unlocked');
    wakeAfterFiling(this.words, this.layout, c);
  }

  /** Locks a shard of class `c` other than home: three passes, a few milliseconds each; -1 if none. */
  private lockOtherShard(c: number): number {
    const shards = this.layout.shards;
    for (let pass = 0; pass < OTHER_SHARD_PASSES; pass++) {
      for (let k = 1; k < shards; k++) {
        const shard = (this.home + k) & (shards - 1);
        if (lockWithin(this.words, shardWord(this.layout, c, shard), this.lockOwner, OTHER_SHARD_LOCK_MS)) return shard;
      }
    }
    return -1;
  }

  /** Adds cached-by-this-thread slabs of class `c` to its stranded list (see spill). */
  protected strand(c: number, slabs: readonly number[]): void {
    let stranded = this.stranded[c];
    if (stranded === undefined) {
      stranded = [];
      this.stranded[c] = stranded;
    }
    for (const slab of slabs) stranded.push(slab);
    this.retryStranded();
  }

  /**
   * While slabs are stranded, tries every `STRANDED_RETRY_MS` (from the event loop, on an unref'd
   * timer) to file them, so a thread that goes idle does not keep them from other threads once
   * the dead thread's locks are taken over.
   */
  private retryStranded(delay = STRANDED_RETRY_MS): void {
    if (this.strandedRetry !== undefined) return;
    this.strandedRetry = setTimeout(() => {
      this.strandedRetry = undefined;
      if (this.closed) return;
      let left = false;
      for (let c = 0; c < this.stranded.length; c++) {
        this.fileStrandedQuickly(c);
        if ((this.stranded[c]?.length ?? 0) > 0) left = true;
      }
      // One compare-exchange per shard and class each time, less often while nothing changes.
      if (left) this.retryStranded(Math.min(delay * 2, STRANDED_RETRY_MAX_MS));
    }, delay);
    this.strandedRetry.unref();
  }

  /** Files class `c`'s stranded slabs if a shard's lock is free right now; whether it did. Never throws. */
  protected fileStrandedQuickly(c: number): boolean {
    const stranded = this.stranded[c];
    if (stranded === undefined || stranded.length === 0) return false;
    const shard = this.lockAnyShardNow(c);
    if (shard === -1) return false;
    const line = shardWord(this.layout, c, shard);
    pushFromCache(this.words, this.metaTop, line, shard, Int32Array.from(stranded), 0, stranded.length);
    stranded.length = 0;
    unlock(this.words, line);
    wakeAfterFiling(this.words, this.layout, c);
    return true;
  }

  /**
   * Hands this object's stranded slabs of class `c` (see spill) to a shard; throws
   * LockTimeoutError, keeping them, if no shard's lock can be taken.
   */
  protected fileStranded(c: number): void {
    const stranded = this.stranded[c];
    if (stranded === undefined || stranded.length === 0) return;
    this.pushToHome(c, 0, stranded.length, Int32Array.from(stranded));
    stranded.length = 0;
  }
}

/**
 * Whether every slab of page `page`, carved into class `c`, is free in one of the class's shards
 * (not cached, leased, or in the reserved list). Stable while the caller holds every shard lock of
 * the class: only a holder of a shard's lock moves a slab into or out of it.
 */
function slabsAllFree(words: Int32Array, layout: ArenaLayout, page: number, c: number): boolean {
  const first = firstSlabOf(layout, page);
  const count = slabsPerPageOf(layout, c);
  for (let slab = first; slab < first + count; slab++) {
    const state = words[metaWord(layout.metaTop, slab) + META_STATE];
    if ((state & STATE_MASK) !== SLAB_FREE || ownerOf(state) >= layout.shards) return false;
  }
  return true;
}
