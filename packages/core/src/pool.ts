/**
 * The public pool class and its hot path. One instance per thread: the constructor creates the
 * arena, `attach` gives another thread a view over the same memory with its own thread slot and
 * cache. `acquire`, `tryAcquire`, `release` and `bytes` serve a cache hit here, in code small
 * enough for V8 to inline into the caller: they write out what would otherwise be calls (layout.ts's
 * `metaWord` and `classOfSize`, this file's `checkId` and `checkSize`), and say so where they do.
 * Everything else is one call away, in the file that owns it. Those files, each importing only
 * files listed after it:
 * - lifecycle.ts: liveness, `reclaim`, `watch`, giving up a thread slot;
 * - signals.ts: flush requests, asking idle threads for their cached slabs and answering;
 * - tiers.ts, the base class: refill, steal, carving, pages going back, spill;
 * - recovery.ts: repairing what a dead thread left (its locks, their shard lists, its slabs);
 * - waiters.ts: `acquireAsync` and the reserved lists;
 * - hygiene.ts: zeroing and poisoning, and the hooked methods of pools with those options;
 * - inspect.ts: `stats`, `audit` and the figures of PoolExhaustedError; validate.ts, lease.ts and
 *   leaks.ts: what an error says of a refused argument, `get()`'s lease and its leak detection;
 * - arena.ts, cache.ts, shard.ts, slots.ts, lock.ts: creating and attaching an arena, the thread
 *   cache, the shard lists, the thread slots' claim words, the lock;
 * - config.ts, errors.ts, types.ts, steps.ts, and layout.ts, the memory map every file asks.
 */
import { threadId as currentThreadId } from 'node:worker_threads';
import { checkHandle, createArena } from './arena.js';
import { type ChannelHost, type SlabChannel, createChannel, openChannel } from './channel.js';
import { checkAttachOptions, resolveConfig, resolveLeakDetection, resolveLockTimeout, resolvePrefault } from './config.js';
import { ReclaimLiveThreadError, SlabStateError, closedError, invalidType, outOfRange } from './errors.js';
import { type Hookable, type HygieneContext, afterRelease, installHooks } from './hygiene.js';
import { auditArena, collectStats, exhaustedError } from './inspect.js';
import {
  CLASS_MASK,
  C_EXHAUSTED,
  C_RELEASES,
  C_SLOW_ACQUIRES,
  GEN_FIELD,
  GEN_MASK,
  GEN_SHIFT,
  H_WAITING_CLASSES,
  ID_FROM_GEN_FIELD,
  ID_GENERATION_UNIT,
  LAYOUT_VERSION,
  META_OFFSET_CLASS,
  META_WORDS,
  NOT_OWNER,
  OWNER_NONE,
  RELEASE_STEP,
  SLAB_LEASED,
  TRIM_REQUEST,
  classOfSize,
  generationOfId,
  isIdShaped,
  metaWord,
  ownerOf,
  slabOfId,
  slabOffset,
  slabSizeOf,
} from './layout.js';
import { LeakTracker } from './leaks.js';
import { SlabLease } from './lease.js';
import { Lifecycle, type LifecycleHost } from './lifecycle.js';
import { disownLeases } from './recovery.js';
import { type FlushHost, FlushRequests, createSignals } from './signals.js';
import { STEPS, step } from './steps.js';
import { PoolCore } from './tiers.js';
import type {
  AcquireAsyncOptions,
  ChannelHandle,
  ChannelOptions,
  Lease,
  LeaseRecord,
  PoolHandle,
  PoolStats,
  ReclaimReport,
  ResolvedConfig,
  SlabPoolOptions,
  WatchedWorker,
} from './types.js';
import { describeBadId, sizeError } from './validate.js';
import { Waiters, type WaitersHost } from './waiters.js';

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
export class SlabPool extends PoolCore {
  /**
   * Send this to another thread (in `workerData` or `postMessage`) and call {@link SlabPool.attach}
   * there. Sending it shares the arena; do not list it or its buffers in a `transferList`: shared
   * memory is not transferable, and Node throws its own error (`ERR_INVALID_TRANSFER_OBJECT`,
   * "Found invalid object in transferList").
   */
  readonly handle: PoolHandle;
  /**
   * This pool's signals buffer (see `SIGNALS_BYTES`): per thread slot, a flush-request word, a
   * liveness word and a count of unanswered liveness checks.
   */
  private readonly signals: Int32Array;

  /**
   * A direct-mapped cache of views: entry `slab & VIEW_CACHE_MASK` holds the view whose slab's
   * `META_OFFSET_CLASS` word (offset and class, which say exactly what the view covers) is in
   * `viewKeys` at the same position, so a page carved again into another class never gets a view
   * of its old slabs. Bounded memory; a plain array indexed by slab goes into V8's dictionary mode
   * for large indexes. Offsets start past the tables, so no key is 0.
   */
  private readonly views: Uint8Array[] = new Array<Uint8Array>(VIEW_CACHE_SIZE).fill(EMPTY_VIEW);
  private readonly viewKeys = new Int32Array(VIEW_CACHE_SIZE);
  private readonly leaks: LeakTracker;
  /** Liveness, reclaim, watch and giving up the slot (lifecycle.ts). */
  private readonly lifecycle: Lifecycle;
  /** Asking other threads for their cached slabs, and answering them (signals.ts). */
  private readonly flushes: FlushRequests;
  /** `acquireAsync`, and this object's share of the reserved lists (waiters.ts). */
  private readonly waiters: Waiters;
  /**
   * What this object lends the files that own its other concerns (hygiene, waiters, flush
   * requests, lifecycle), built once: its shared views, and calls back into its tiers.
   */
  private readonly host: HygieneContext & WaitersHost & FlushHost & LifecycleHost & ChannelHost;
  /** Set when close() has finished; until then another call resumes it (see close). */
  private closeFinished = false;

  /**
   * Creates a pool and its arena, and attaches the calling thread to it.
   * @param options sizes and limits; every member is optional (see {@link SlabPoolOptions}).
   * @throws {TypeError} an option is not of the right type (`code: 'ERR_INVALID_ARG_TYPE'`), or is
   *   not an option of `SlabPool` at all (`code: 'ERR_UNKNOWN_OPTION'`; the message names the
   *   options and the closest one).
   * @throws {RangeError} an option is out of range, or `maxSlabSize` is larger than a page the
   *   arena can hold (`code: 'ERR_OUT_OF_RANGE'`); the message names the option, the value, the
   *   range and what to change. Also when `ZEROPOOL_PARALLELISM`, `ZEROPOOL_DEBUG` or
   *   `ZEROPOOL_LEAK_DETECTION` holds a value it does not allow and the matching option is not
   *   given.
   */
  constructor(options?: SlabPoolOptions);
  /** @internal attaches to an existing arena. */
  constructor(options: SlabPoolOptions | undefined, existing: { buffer: SharedArrayBuffer; signals: SharedArrayBuffer });
  constructor(options?: SlabPoolOptions, existing?: { buffer: SharedArrayBuffer; signals: SharedArrayBuffer }) {
    // Everything that can refuse the options runs before super() claims a thread slot.
    const config = existing === undefined ? resolveConfig(options) : undefined;
    const leakDetection = config?.leakDetection ?? resolveLeakDetection(options?.leakDetection);
    const lockTimeoutMs = config?.lockTimeoutMs ?? resolveLockTimeout(options?.lockTimeoutMs);
    const prefault = existing === undefined && resolvePrefault(options?.prefault);
    super(existing?.buffer ?? createArena(config as ResolvedConfig, prefault));
    const signals = existing?.signals ?? createSignals();
    this.signals = new Int32Array(signals);
    // Requests addressed to this slot's previous thread are not this one's.
    Atomics.store(this.signals, this.slot, 0);
    this.handle = Object.freeze({ kind: 'zeropool', layoutVersion: LAYOUT_VERSION, buffer: this.buffer, signals });
    // Calls look the method up on `this` each time: hygiene.ts shadows `take` on pools with its
    // options on, and tests wrap `lockWord`.
    this.host = {
      buffer: this.buffer,
      words: this.words,
      claims: this.claims,
      signals: this.signals,
      layout: this.layout,
      slot: this.slot,
      counters: this.counters,
      flags: this.flags,
      lockOwner: this.lockOwner,
      cachedBits: this.cachedBits,
      leasedBits: this.leasedBits,
      cacheSlabs: this.cacheSlabs,
      cacheLength: this.cacheLength,
      cacheStride: this.cacheStride,
      stranded: this.stranded,
      isClosed: () => this.closed,
      lockWord: (index) => this.lockWord(index),
      take: (c) => this.take(c),
      pushToHome: (c, from, count, slabs) => this.pushToHome(c, from, count, slabs),
      strand: (c, slabs) => this.strand(c, slabs),
      fileStrandedQuickly: (c) => this.fileStrandedQuickly(c),
      handBackCached: (except) => this.handBackCached(except),
      requestFlushes: (c) => this.flushes.request(1 << c),
      metaTop: this.metaTop,
      badIdError: (id) => this.badIdError(id),
      release: (id) => this.release(id),
      ends: new Set(),
    };
    // Own properties that shadow private methods: the cast is what TypeScript needs to see them.
    if (this.flags !== 0) installHooks(this as unknown as Hookable, this.host);
    // Whether a recorded lease's id is still leased (by anyone): also after close(), which leaves
    // this object's leases leased.
    this.leaks = new LeakTracker(
      leakDetection,
      (id) =>
        slabOfId(id) < this.layout.maxSlabs &&
        (Atomics.load(this.words, metaWord(this.metaTop, slabOfId(id))) & NOT_OWNER) ===
          (SLAB_LEASED | (generationOfId(id) << GEN_SHIFT)),
    );
    // Leak detection belongs to this pool object, not to the arena the base class read the
    // configuration from.
    (this as { config: ResolvedConfig }).config = Object.freeze({ ...this.config, leakDetection, lockTimeoutMs });
    this.lockTimeoutMs = lockTimeoutMs;
    this.waiters = new Waiters(this.host);
    this.lifecycle = new Lifecycle(this.host, this.waiters);
    this.flushes = new FlushRequests(this.host);
    this.flushes.listen();
    this.lifecycle.armLiveness();
  }

  /**
   * Attaches the calling thread to the pool behind `handle`: the same slabs and the same shards,
   * with a cache of its own. Call it once per thread; `close()` when the thread is done.
   * @param handle `pool.handle` of the pool, received from the thread that created it (not the
   *   `SlabPool` object, nor `pool.handle.buffer` alone).
   * @param options only `leakDetection` and `lockTimeoutMs` apply: the arena's other settings are
   *   fixed at creation.
   * @throws {TypeError} `handle` is not a pool handle (the message says to pass `pool.handle` when
   *   it is a `SlabPool` or its arena buffer), or its arena has another layout version, or its
   *   buffer is truncated or not a pool arena; or `options` is neither an object nor undefined
   *   (all `code: 'ERR_INVALID_ARG_TYPE'`); or `options` holds another option than those two
   *   (`code: 'ERR_UNKNOWN_OPTION'`).
   * @throws {RangeError} all `maxThreads` thread slots are taken (`code: 'ERR_POOL_THREADS'`), or
   *   `options.leakDetection` (else `ZEROPOOL_LEAK_DETECTION`) is not a leak detection level, or
   *   `options.lockTimeoutMs` is out of range (`code: 'ERR_OUT_OF_RANGE'`).
   * @example
   * ```ts
   * const pool = SlabPool.attach(workerData.pool);
   * ```
   */
  static attach(handle: PoolHandle, options?: Pick<SlabPoolOptions, 'leakDetection' | 'lockTimeoutMs'>): SlabPool {
    checkAttachOptions(options);
    return new SlabPool(options, checkHandle(handle));
  }

  /**
   * Takes a slab with a capacity of at least `size` bytes and returns its id.
   * @param size bytes needed: an integer from 0 to `maxSlabSize`.
   * @returns the slab's id, `generation * 2^32 + slab index`: a non-negative safe integer, usually
   *   above 2^31 (keep ids in a `Float64Array` or a plain array, never an `Int32Array`; in V8 an id
   *   above 2^31 that leaves optimized code is a heap number). The generation has 21 bits, so once
   *   released, this id is refused for at least the next 2^21 - 1 reuses of its slab.
   * @throws {TypeError} `size` is not a number.
   * @throws {RangeError} `size` is not an integer from 0 to `maxSlabSize`.
   * @throws {PoolExhaustedError} no slab of that class is free and the arena has no room left.
   * @throws {SlabCorruptionError} in debug mode, the slab about to be returned was written after its
   *   release; the slab stays in the pool.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const id = pool.acquire(payload.length); // capacity: payload.length rounded up to a power of two
   * pool.bytes(id).set(payload);
   * worker.postMessage({ id, length: payload.length }); // the worker releases it
   * ```
   */
  acquire(size: number): number {
    // A cache hit in takeCached, everything else behind one call: small enough for V8 to inline
    // into the caller, where an id above 2^31 stays a double in a register (returned from a call
    // that was not inlined, it is boxed as a heap number).
    const id = this.takeCached(size);
    return id !== -1 ? id : this.acquireSlow(size, true);
  }

  /**
   * Like {@link SlabPool.acquire}, but returns -1 instead of throwing when the pool is exhausted.
   * An exhausted attempt still counts in `stats().exhausted`.
   * @throws {TypeError} `size` is not a number.
   * @throws {RangeError} `size` is not an integer from 0 to `maxSlabSize`.
   * @throws {SlabCorruptionError} in debug mode, as {@link SlabPool.acquire} does.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const id = pool.tryAcquire(payload.length);
   * if (id === -1) {
   *   worker.postMessage(payload); // the pool is full: send a copy instead
   * } else {
   *   pool.bytes(id).set(payload);
   *   worker.postMessage({ id, length: payload.length });
   * }
   * ```
   */
  tryAcquire(size: number): number {
    const id = this.takeCached(size);
    return id !== -1 ? id : this.acquireSlow(size, false);
  }

  /**
   * The fast path of `acquire` and `tryAcquire`: for a valid size whose class's cache stack is not
   * empty, pops a slab, leases it and returns its id; -1 for anything else, which the caller's
   * slow path handles. Pools with zeroing or debug on never reach it (hygiene.ts shadows
   * `acquire` and `tryAcquire`). Its bytecode counts against V8's inlining budget of every loop
   * that calls `acquire`, so it holds nothing that a cache hit does not need.
   */
  private takeCached(size: number): number {
    // checkSize and classOfSize written out, as calls they would not fit V8's inlining budget.
    // `size >>> 0 === size` holds only for integers from 0 to 2^32 - 1: it rejects NaN, fractions
    // and negatives in one comparison. The typeof test first keeps bigints and symbols, which
    // throw on `>>>`, from reaching it.
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxSlabSize) return -1;
    const c = size <= 1 << this.minShift ? 0 : 32 - Math.clz32(size - 1) - this.minShift;
    const length = this.cacheLength[c] - 1;
    if (length < 0) return -1;
    // A hit counts nothing: every acquire ends up leased, released or reclaimed, so stats()
    // derives acquires from those, keeping a shared-memory increment off the fastest path.
    this.cacheLength[c] = length;
    if (STEPS) step('take.popped');
    // take's tail, written out again: calling take here does not fit V8's inlining budget, and an
    // id returned from a call that is not inlined is boxed (bench/id-format.bench.mjs).
    const slab = this.cacheSlabs[c * this.cacheStride + length];
    const meta = this.metaTop - META_WORDS * (slab + 1);
    // A plain load and store suffice, as in take. The id is the generation field in place
    // (`generation << GEN_SHIFT`) times 2^21: V8 computes that in doubles, where
    // `(cached >>> GEN_SHIFT) * 2^32 + slab` converts to a 64-bit integer and back.
    const cached = this.words[meta];
    this.words[meta] = this.leasedBits | (cached & GEN_FIELD);
    return ((cached & GEN_FIELD) >>> 0) * ID_FROM_GEN_FIELD + slab;
  }

  /**
   * Everything of `acquire` (`throwing`) and `tryAcquire` but the cache hit: checks the size,
   * refills the cache, counts and reports exhaustion.
   */
  private acquireSlow(size: number, throwing: boolean): number {
    this.checkSize(size);
    const c = classOfSize(this.layout, size);
    const id = this.take(c);
    if (id !== -1) return id;
    this.counters[C_EXHAUSTED]++;
    if (throwing) throw exhaustedError(this.words, this.layout, size, c);
    return -1;
  }

  /**
   * Pops a slab of class `c` from the cache (refilling it if empty), leases it and returns its id;
   * -1 if none.
   * Pools with zeroing or debug on get `take`, `acquire`, `tryAcquire` and `release` shadowed by
   * hooked versions (hygiene.ts), so the plain path tests no flag: a flag test here and in
   * `release` is a sizeable share of a cache hit, and splitting the bodies into shared helpers
   * pushes them past V8's inlining budget (bench/hygiene.bench.mjs runs both kinds of pool).
   */
  private take(c: number): number {
    let length = this.cacheLength[c];
    if (length === 0) {
      length = this.refill(c);
      if (length === 0) return -1;
      this.counters[C_SLOW_ACQUIRES]++;
    }
    // A hit counts nothing: every acquire ends up leased, released or reclaimed, so stats()
    // derives acquires from those, keeping a shared-memory increment off the fastest path.
    length--;
    this.cacheLength[c] = length;
    if (STEPS) step('take.popped');
    const slab = this.cacheSlabs[c * this.cacheStride + length];
    const meta = this.metaTop - META_WORDS * (slab + 1);
    // A plain load and store suffice: nobody else writes the state word of a slab in our cache
    // (so it holds the generation our release or refill left), and the id reaches another thread
    // only through a synchronizing hand-off (postMessage, an atomic), which orders this store
    // before that thread's release. One word: cached by us -> leased by us, same generation.
    const cached = this.words[meta];
    this.words[meta] = this.leasedBits | (cached & GEN_FIELD);
    return (cached >>> GEN_SHIFT) * ID_GENERATION_UNIT + slab;
  }

  /**
   * Returns a slab to the pool. Any thread may release any slab.
   * @param id an id from `acquire`, `tryAcquire`, `acquireAsync` or `get`: a safe integer (up to
   *   2^53 - 1; most ids are above 2^31, so store them in a `Float64Array` or a plain array, not
   *   an `Int32Array`). Once released, the id stays refused for at least the next 2^21 - 1 reuses
   *   of its slab.
   * @throws {SlabStateError} `id` is not currently acquired from this pool (a second or stale
   *   release, an id never handed out, from another pool, or not an id); the pool is unchanged.
   * @example
   * ```ts
   * const id = pool.acquire(256);
   * pool.bytes(id).fill(1);
   * pool.release(id); // from here on `id` is stale: using or releasing it again throws SlabStateError
   * ```
   */
  release(id: number): void {
    // The fast path, small enough for V8 to inline into the caller: a valid id of a slab this
    // thread leased, released into a cache stack with room while nobody waits. Anything else goes
    // to releaseSlow (an exchange that failed changed nothing) or, once the exchange succeeded, to
    // releaseShared. typeof first: bigints and symbols throw on `>>>`. With the two parts decoded
    // by truncating operators, `id` minus its slab index is exactly its generation times 2^32 only
    // for integers from 0 to 2^53 - 1: one comparison rejects fractions, negatives, NaN and larger
    // numbers (checkId's test, in doubles throughout). Slabs past the count have no metadata to
    // touch. The id check is written out: a call to checkId would not fit V8's inlining budget.
    if (typeof id === 'number') {
      const slab = id >>> 0;
      const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
      const meta = this.metaTop - META_WORDS * (slab + 1);
      const leased = this.leasedBits | (generation << GEN_SHIFT);
      // The one read-modify-write that makes a release count (see releaseSlow). Adding
      // RELEASE_STEP turns "leased by us at generation g" into "cached by us at g + 1", wrapping
      // to generation 0 past GEN_MASK.
      if (
        (id - slab) / ID_GENERATION_UNIT === generation &&
        slab < this.knownSlabs &&
        Atomics.compareExchange(this.words, meta, leased, (leased + RELEASE_STEP) | 0) === leased
      ) {
        if (STEPS) step('release.exchanged');
        const c = this.words[meta + META_OFFSET_CLASS] & CLASS_MASK;
        const length = this.cacheLength[c];
        this.counters[C_RELEASES]++;
        if (length < this.cacheCapacity[c] && this.words[H_WAITING_CLASSES] === 0) {
          if (STEPS) step('release.room');
          this.cacheSlabs[c * this.cacheStride + length] = slab;
          this.cacheLength[c] = length + 1;
        } else this.releaseShared(slab, c);
        return;
      }
    }
    this.releaseSlow(id);
  }

  /**
   * Every release the fast path in `release` did not finish, from the start: checks the id, and
   * releases a slab whichever thread holds it.
   */
  private releaseSlow(id: number): void {
    this.checkId(id);
    const slab = slabOfId(id);
    const generation = generationOfId(id);
    const meta = metaWord(this.metaTop, slab);
    const leased = this.leasedBits | (generation << GEN_SHIFT);
    const next = (generation + 1) & GEN_MASK;
    // The one read-modify-write that makes a release count: the word moves from "leased at this
    // generation" to "cached by this thread at the next generation" only if it still says leased
    // at this generation. Of two threads releasing the same id, exactly one succeeds; a stale or
    // repeated id finds another value and changes nothing. The expected value assumes this thread
    // holds the slab (the usual case); a slab another thread holds takes a second exchange.
    const seen = Atomics.compareExchange(this.words, meta, leased, this.cachedBits | (next << GEN_SHIFT));
    if (seen !== leased && !this.releaseForHolder(meta, seen, generation, next)) throw this.badIdError(id);
    if (STEPS) step('release.exchanged');
    this.finishRelease(slab, meta);
  }

  /**
   * The end of a release whose exchange made `slab` cached by this thread, when waiters may exist
   * or the cache stack may be full.
   */
  private releaseShared(slab: number, c: number): void {
    // Async waiters anywhere in the process get released slabs first, so they cannot starve.
    if (this.words[H_WAITING_CLASSES] !== 0 && this.waiters.offer(c, slab)) return;
    // spill() falls back to another shard when a dead thread holds the home shard's lock, and keeps
    // aside as stranded what no shard would take (tiers.ts), so a release whose exchange succeeded
    // never has to be undone here: guarding against that (a try/catch, or checking room before the
    // compare-exchange) would put work on every release for a case that needs dead threads.
    if (this.cacheLength[c] >= this.cacheCapacity[c]) this.spill(c);
    if (STEPS) step('release.room');
    const length = this.cacheLength[c];
    this.cacheSlabs[c * this.cacheStride + length] = slab;
    this.cacheLength[c] = length + 1;
  }

  /**
   * The second exchange of a release of a slab that another thread holds (it adopted it, or its
   * pool object closed): while the word says leased at this generation, whoever the holder, move
   * it to cached by this thread at the next. False if it says anything else (a stale or repeated id).
   */
  private releaseForHolder(meta: number, seen: number, generation: number, next: number): boolean {
    const leasedAt = SLAB_LEASED | (generation << GEN_SHIFT);
    while ((seen & NOT_OWNER) === leasedAt) {
      const now = Atomics.compareExchange(this.words, meta, seen, this.cachedBits | (next << GEN_SHIFT));
      if (now === seen) return true;
      // An adopt moved the holder in between: try again with its value.
      seen = now;
    }
    return false;
  }

  /**
   * What a release does once its exchange made `slab` this thread's, unless the fast path in
   * `release` finished it: zeroes or poisons it (pools with those options), then hands it on.
   */
  private finishRelease(slab: number, meta: number): void {
    const c = this.words[meta + META_OFFSET_CLASS] & CLASS_MASK;
    this.counters[C_RELEASES]++;
    if (this.flags !== 0) {
      afterRelease(this.host, slab, c);
      if (STEPS) step('release.cleaned');
    }
    this.releaseShared(slab, c);
  }

  /**
   * A `Uint8Array` over the whole slab (its capacity, which may exceed the size asked for). Views
   * are cached per thread, so repeated calls usually return the same object. The view stays usable
   * after a release (it cannot be revoked), so do not keep it past the release.
   * @throws {SlabStateError} `id` is not currently acquired from this pool.
   * @example
   * ```ts
   * declare const message: { id: number; length: number }; // received from another thread
   * const view = pool.bytes(message.id).subarray(0, message.length); // the bytes the sender wrote
   * ```
   */
  bytes(id: number): Uint8Array {
    // The fast path, small enough for V8 to inline: checkLeased's checks written out (as a call
    // they would not fit V8's inlining budget), and a view from the cache. Anything else,
    // including every id it refuses, goes to bytesSlow.
    if (typeof id === 'number') {
      const slab = id >>> 0;
      const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
      const entry = slab & VIEW_CACHE_MASK;
      const meta = this.metaTop - META_WORDS * (slab + 1);
      if (
        (id - slab) / ID_GENERATION_UNIT === generation &&
        slab < this.knownSlabs &&
        (this.words[meta] & NOT_OWNER) === (SLAB_LEASED | (generation << GEN_SHIFT)) &&
        this.viewKeys[entry] === this.words[meta + META_OFFSET_CLASS]
      ) {
        return this.views[entry];
      }
    }
    return this.bytesSlow(id);
  }

  /** `bytes` for an id its fast path did not take: checks it (throwing SlabStateError) and makes the view if needed. */
  private bytesSlow(id: number): Uint8Array {
    return this.viewOf(this.checkLeased(id));
  }

  /**
   * The capacity of the slab `id` in bytes: its size class, a power of two at least the size asked for.
   * @throws {SlabStateError} `id` is not currently acquired from this pool.
   * @example
   * ```ts
   * const id = pool.acquire(1000);
   * pool.capacity(id); // 1024, and pool.bytes(id).length is the same
   * ```
   */
  capacity(id: number): number {
    const slab = this.checkLeased(id);
    return slabSizeOf(this.layout, this.words[metaWord(this.metaTop, slab) + META_OFFSET_CLASS] & CLASS_MASK);
  }

  /**
   * Acquires a slab as a lease whose `bytes` are exactly `size` long. Release it with
   * `lease.release()`, or declare it with `using` to release it at the end of the scope. When
   * `size` is the slab's capacity (a power of two from `minSlabSize` up), `lease.bytes` is the
   * very view `pool.bytes(lease.id)` returns; otherwise it is a new view of the first `size` bytes.
   * @throws like {@link SlabPool.acquire}.
   * @example
   * ```ts
   * using lease = pool.get(1024);
   * lease.bytes.set(payload);
   * ```
   */
  get(size: number): Lease {
    const id = this.acquire(size);
    const view = this.viewOf(slabOfId(id));
    // A size that fills the slab takes the cached view itself: a subarray per lease is an
    // allocation as costly as the rest of get (bench/single-thread.bench.mjs measures get).
    const lease = new SlabLease(this, id, size === view.length ? view : view.subarray(0, size), this.leaks);
    this.leaks.track(lease, id, size);
    return lease;
  }

  /**
   * Like {@link SlabPool.acquire}, but when the class is exhausted, waits until a slab of the
   * class is released anywhere in the process, or a page whose slabs all became free can be carved
   * for it (woken by `Atomics.waitAsync`, no polling). Released slabs go to waiters before anyone
   * else, so a waiter does not starve while others keep taking.
   * @throws {TypeError | RangeError} (as a rejection) `size` or an option is invalid.
   * @throws {AcquireTimeoutError} (as a rejection) `timeoutMs` passed first.
   * @throws the signal's `reason` (as a rejection) when `signal` aborts first.
   * @throws {SlabCorruptionError} (as a rejection) in debug mode, as {@link SlabPool.acquire} does,
   *   when the slab comes from the cache or the shards (at once, or after a wake-up). A slab that
   *   reaches the waiter through the class's reserved list (released while it waits) is already
   *   the waiter's when it is checked: a broken poison pattern is reported as a `ZeropoolWarning`
   *   instead, and the promise resolves.
   * @throws {LockTimeoutError} (as a rejection) the class's reserved lock is held by a thread that
   *   died (not reclaimed yet) when the call starts, so it cannot register, after `lockTimeoutMs`.
   * @throws {RangeError} (as a rejection) this pool object already has 65,536 calls pending on the
   *   size class (`code: 'ERR_TOO_MANY_WAITERS'`); let some settle, or give them a `timeoutMs`.
   * @throws {Error} (as a rejection) this pool object is or gets closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const id = await pool.acquireAsync(65536, { timeoutMs: 1000 });
   * ```
   */
  async acquireAsync(size: number, options: AcquireAsyncOptions = {}): Promise<number> {
    this.checkSize(size);
    return this.waiters.acquire(size, classOfSize(this.layout, size), options);
  }

  /**
   * Records the calling thread as the holder of `id`, for crash recovery: call it in a thread that
   * receives an id from a thread that may die, so `reclaim` of the sender leaves the slab alone.
   * @throws {SlabStateError} `id` is not currently acquired (for example, its sender died and the
   *   slab was reclaimed before this call).
   * @example
   * ```ts
   * import { parentPort } from 'node:worker_threads';
   * const pool = SlabPool.attach(workerData.pool);
   * parentPort?.on('message', ({ id, length }: { id: number; length: number }) => {
   *   pool.adopt(id); // from now on, the slab is this thread's if the sender dies
   *   const sum = pool.bytes(id).subarray(0, length).reduce((a, b) => a + b, 0);
   *   pool.release(id);
   *   parentPort?.postMessage(sum);
   * });
   * ```
   */
  adopt(id: number): void {
    let seen = this.leasedWord(id); // validates id before anything computes with it
    const meta = metaWord(this.metaTop, slabOfId(id));
    const generation = generationOfId(id);
    const mine = this.leasedBits | (generation << GEN_SHIFT);
    // Holder and generation share the state word, so the exchange succeeds only while the slab is
    // leased under this very id: a release, reclaim or take-back in between changes the word, and
    // a racing adopt changes the holder (then try again: the last adopter wins).
    while ((seen & NOT_OWNER) === (SLAB_LEASED | (generation << GEN_SHIFT))) {
      if (seen === mine) return;
      if (STEPS) step('adopt.read');
      const now = Atomics.compareExchange(this.words, meta, seen, mine);
      if (now === seen) return;
      seen = now;
    }
    throw this.badIdError(id);
  }

  /**
   * Releases `id` only if this thread (this pool object) is still its recorded holder, and says
   * whether it did. Unlike `holderOf(id) === threadId` followed by `release(id)`, it cannot race
   * with an `adopt` in another thread: holder and generation share one word, and the release is a
   * compare-exchange that expects this thread as holder, so either the adopt wins (the slab is the
   * adopter's; this returns false) or the adopt finds the slab released and throws
   * `SlabStateError`. For a sender taking back an id it handed to a
   * thread that may or may not have adopted it, such as a task that failed or was aborted.
   * @returns true if this call released the slab; false if another thread holds it (it adopted
   *   the id), its holder's pool object closed (the lease then names nobody; `release` still
   *   works), or the id is no longer acquired (released, reclaimed, or stale).
   * @throws {SlabStateError} `id` is not an id of this pool at all (not an integer from 0 to
   *   2^53 - 1, or past the slabs carved), or this pool object was closed; nothing changes.
   * @example
   * ```ts
   * const id = pool.acquire(4096);
   * worker.postMessage({ id }); // the worker adopts it, or may die first
   * worker.once('error', () => pool.releaseIfHeld(id)); // ours again only if the worker never adopted it
   * ```
   */
  releaseIfHeld(id: number): boolean {
    this.checkId(id);
    const slab = slabOfId(id);
    const generation = generationOfId(id);
    const meta = metaWord(this.metaTop, slab);
    const next = (generation + 1) & GEN_MASK;
    const leased = this.leasedBits | (generation << GEN_SHIFT);
    // Release's own exchange, without its fallback for slabs other threads hold.
    if (Atomics.compareExchange(this.words, meta, leased, this.cachedBits | (next << GEN_SHIFT)) !== leased) return false;
    this.finishRelease(slab, meta);
    return true;
  }

  /**
   * The `threadId` of the thread recorded as holding `id`: the one that acquired it, or the last to
   * `adopt` it; -1 if none is recorded (its thread closed its pool object). A sender can use it to
   * tell whether a receiver that died had adopted an id it sent.
   * @throws {SlabStateError} `id` is not currently acquired.
   * @example
   * ```ts
   * import { threadId } from 'node:worker_threads';
   * declare const id: number; // sent to a worker whose task then failed
   * // Who has it now? (To take it back only if the worker never adopted it: releaseIfHeld.)
   * console.log(pool.holderOf(id) === threadId ? 'still ours' : 'the worker adopted it');
   * ```
   */
  holderOf(id: number): number {
    // One read, checked and decoded: the holder of this very lease (a second read could see the
    // word after a release, naming the releaser or, once free, a shard index).
    const holder = ownerOf(this.leasedWord(id));
    return holder === OWNER_NONE ? -1 : this.threadOfSlot(holder);
  }

  /**
   * Hands every slab in this thread's cache back to the shards, so other threads can take them.
   * Leased slabs are not affected. Call it in a thread about to go idle.
   * @throws {LockTimeoutError} a shard lock stayed held for `lockTimeoutMs` (its holder died and was
   *   not reclaimed); the slabs not yet handed back stay in this thread's cache.
   * @example
   * ```ts
   * declare const ids: number[]; // a batch this thread is done with
   * for (const id of ids) pool.release(id);
   * pool.flush(); // the released slabs leave this thread's cache for the shared shards
   * ```
   */
  flush(): void {
    for (let c = 0; c < this.layout.classCount; c++) {
      this.fileStranded(c);
      const length = this.cacheLength[c];
      if (length === 0) continue;
      this.pushToHome(c, c * this.cacheStride, length, this.cacheSlabs);
      this.cacheLength[c] = 0;
    }
  }

  /**
   * Gives memory back for any size class to use: hands this thread's cached slabs back to the
   * shards (as `flush` does), asks every other attached thread to do the same, and returns to the
   * arena each page whose slabs are all free in the shards, so the next carving of any class can
   * take it. Pages also go back without it, whenever a class needs a page and none is left; call
   * it when a workload changes its mix of sizes, or before reading `stats()`. Another thread
   * hands back its cache when its event loop next runs, or on its next slow path (a thread
   * blocked between tasks, as piscina's workers are, does neither until it works again).
   * @returns how many pages went back to the arena.
   * @throws {LockTimeoutError} a shard lock or the arena lock stayed held for `lockTimeoutMs` (its
   *   holder died and was not reclaimed); what was done before stays done.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * declare const headers: number[]; // small slabs this thread is done with
   * for (const id of headers) pool.release(id);
   * const pages = pool.trim(); // their pages can now be carved into slabs of any size
   * console.log(`${pages} pages of ${pool.stats().pageBytes} bytes went back to the arena`);
   * ```
   */
  trim(): number {
    if (this.closed) throw closedError();
    this.flush();
    this.flushes.request(TRIM_REQUEST);
    return this.trimPages();
  }

  /**
   * Returns every slab that the exited thread `threadId` held (in its cache or leased, unless
   * another thread adopted it), takes over the locks it held and rebuilds the shards they guarded,
   * and frees its thread slots. Call it from the thread that sees the worker's `'exit'` event, or
   * let {@link SlabPool.watch} do so. Calling it again for the same thread does nothing.
   * @throws {ReclaimLiveThreadError} `threadId` is the calling thread, a worker this pool object
   *   watches that has not exited, or a thread whose attached pool object answers a liveness check
   *   (each pool object keeps waits pending that only a running thread can have), or one checked
   *   so often while busy that it cannot be told from an exited one, or one that has been closing
   *   a pool object for 200 ms (a thread stopped inside `close()` has ended its liveness waits:
   *   reclaim it from its `'exit'` event with `watch`, which needs no check). Nothing changes.
   *   A reclaim that thread was running when it stopped is finished by this one.
   * @throws {TypeError} `threadId` is not a number.
   * @throws {RangeError} `threadId` is not a non-negative safe integer.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const { threadId } = worker; // read it now: a Worker reports -1 once it has exited
   * worker.on('exit', () => {
   *   const report = pool.reclaim(threadId);
   *   console.log(`thread ${threadId} left ${report.leased} leased and ${report.cached} cached slabs`);
   * });
   * ```
   */
  reclaim(threadId: number): ReclaimReport {
    if (typeof threadId !== 'number') throw invalidType('threadId', threadId, 'a number');
    if (!Number.isSafeInteger(threadId) || threadId < 0) throw outOfRange('threadId', threadId, 'a non-negative integer');
    if (threadId === currentThreadId) throw new ReclaimLiveThreadError(threadId, 'it is the calling thread');
    if (this.lifecycle.watchesRunning(threadId)) {
      throw new ReclaimLiveThreadError(threadId, 'it is a watched worker that has not exited');
    }
    if (this.closed) throw closedError();
    return this.lifecycle.reclaimThread(threadId, 'checked');
  }

  /**
   * Calls {@link SlabPool.reclaim} for `worker` when it exits, however it exits. For plain
   * `worker_threads` users; `@zeropool/piscina` does the same for piscina's workers. The `'exit'`
   * event alone is not trusted: if a pool object of that thread still answers a liveness check
   * (some runtimes emit `'exit'` before the thread has stopped), the reclaim waits, looking again
   * every few milliseconds, until it has stopped; a check that cannot tell defers to the event.
   * @param onReclaim receives what was returned; an error from reclaiming, or thrown by this
   *   callback, is emitted as a `ZeropoolWarning` saying which.
   * @returns a function that stops this watch (the worker stays protected from `reclaim` while
   *   another watch of it remains; every watch gets a report on exit, the first one the slabs).
   * @throws {TypeError} `worker` is not a running `Worker`, or `onReclaim` is neither a function
   *   nor undefined.
   * @example
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { pool: pool.handle } });
   * pool.watch(worker, (report) => console.log(`worker ${report.threadId} died holding ${report.leased} slabs`));
   * ```
   */
  watch(worker: WatchedWorker, onReclaim?: (report: ReclaimReport) => void): () => void {
    return this.lifecycle.watch(worker, onReclaim);
  }

  /**
   * Leases taken with `get()` on this pool object that leak detection recorded and that are not
   * released yet, with the stacks where they were taken. Empty when `leakDetection` is `'off'`.
   * @example
   * ```ts
   * const pool = new SlabPool({ leakDetection: 'full' });
   * const lease = pool.get(512);
   * for (const { id, size, stack } of pool.outstandingLeases()) {
   *   console.log(`slab ${id} (${size} bytes) taken at\n${stack}`);
   * }
   * lease.release();
   * ```
   */
  outstandingLeases(): LeaseRecord[] {
    return this.leaks.outstanding();
  }

  /**
   * A snapshot of the pool across all threads. It walks every slab's state word, so it costs time
   * proportional to the number of slabs; while other threads work, the counts are a moment's view.
   * @example
   * ```ts
   * const { usedBytes, arenaBytes, classes } = pool.stats();
   * const leased = classes.reduce((n, c) => n + c.leased, 0);
   * console.log(`${usedBytes} of ${arenaBytes} arena bytes in use; ${leased} slabs leased`);
   * ```
   */
  stats(): PoolStats {
    return collectStats(this.words, this.floats, this.layout, this.config);
  }

  /**
   * Checks the shared free lists against the slab state words (each listed slab free and listed
   * once, every free slab listed, counts right) and the page count against the slabs carved, and
   * returns the problems found; an empty array means consistent. Meant for tests and debugging: it
   * takes every shard lock and the arena lock in turn, and reports a lock it cannot take within a
   * second (usually one a dead thread left held, not yet reclaimed) instead of waiting for it.
   * @example
   * ```ts
   * const problems = pool.audit();
   * if (problems.length > 0) throw new Error(`pool inconsistent:\n${problems.join('\n')}`);
   * ```
   */
  audit(): string[] {
    return auditArena(this.words, this.layout, this.lockOwner);
  }

  /**
   * Creates a channel of slab ids in shared memory: senders hand slabs to one receiver without a
   * message per slab (see {@link SlabChannel}). Send `channel.handle` to the threads that use it
   * and open it there with {@link SlabPool.openChannel}. A channel keeps one of the pool's 511
   * channel numbers until `channel.destroy()`.
   * @throws {RangeError} `capacity` is not a power of two from 2 to 2^20, or `senders` not an
   *   integer from 1 to 64 (`code: 'ERR_OUT_OF_RANGE'`); {@link ChannelError}
   *   `ERR_TOO_MANY_CHANNELS` when every channel number is taken.
   * @example
   * ```ts
   * const channel = pool.channel({ capacity: 1024, senders: 2 });
   * worker.postMessage({ pool: pool.handle, channel: channel.handle });
   * ```
   */
  channel(options: ChannelOptions = {}): SlabChannel {
    if (this.closed) throw closedError();
    return createChannel(this.host, options);
  }

  /**
   * Opens in this thread a channel created from this pool (in any thread), from its handle.
   * @throws {TypeError} `handle` is not a channel's handle (`code: 'ERR_INVALID_ARG_TYPE'`).
   * @throws {ChannelError} `ERR_CHANNEL_DESTROYED` when the channel was destroyed or belongs to
   *   another pool.
   * @example
   * ```ts
   * import { workerData } from 'node:worker_threads';
   * const pool = SlabPool.attach(workerData.pool);
   * const receiver = pool.openChannel(workerData.channel).receiver();
   * for await (const id of receiver) pool.release(id);
   * ```
   */
  openChannel(handle: ChannelHandle): SlabChannel {
    if (this.closed) throw closedError();
    return openChannel(this.host, handle);
  }

  /**
   * Flushes this thread's cache and gives up its thread slot. Slabs this thread still leases stay
   * leased and may be released by any thread, but no longer name this thread, so `reclaim` leaves
   * them alone. Later calls on this object that acquire, release, adopt, look up an id or reclaim
   * throw, and its pending `acquireAsync` calls reject; `stats`, `audit`, `flush` and `close` still
   * work.
   * @throws {LockTimeoutError} a lock stayed held for `lockTimeoutMs` by a thread that died and was
   *   not reclaimed. If it was a shard lock the flush needed, the object stays open with the slabs
   *   it could not hand back; if it was a later one, the object is closed (its pending
   *   `acquireAsync` calls reject) but keeps its slot. Either way, call `close()` again once the
   *   dead thread is reclaimed: it finishes what is left.
   * @example
   * ```ts
   * const pool = SlabPool.attach(workerData.pool);
   * // ... the worker's work ...
   * pool.close(); // cached slabs go back to the shards; the thread slot is free for another thread
   * ```
   */
  close(): void {
    if (this.closeFinished) return;
    // Each step below that can throw is skipped by a later call once it is done, so a close()
    // that threw (a dead thread's lock) can be called again to finish.
    if (!this.closed) {
      this.flush();
      this.cache.disable();
      this.closed = true;
      this.knownSlabs = 0;
      for (const end of this.host.ends) end.poolClosed();
      this.host.ends.clear();
      disownLeases(this.words, this.layout, this.slot);
    }
    this.finishClose();
  }

  /** close() once this object is closed: withdraw its waits, stop answering flush requests, give up the slot. */
  private finishClose(): void {
    // The only step that takes a lock, and so the only one that can throw.
    this.waiters.retractOwn();
    // Nothing below can throw.
    this.closeFinished = true;
    this.flushes.stop();
    this.lifecycle.giveUpSlot();
  }

  /**
   * Throws SlabStateError unless `id` has the id format (an integer from 0 to 2^53 - 1) and names
   * a slab slot of this open pool object (`knownSlabs` is 0 once closed). The fast paths of
   * `release` and `bytes` make the same test written out.
   */
  private checkId(id: number): void {
    if (this.closed || !isIdShaped(id) || slabOfId(id) >= this.knownSlabs) throw this.badIdError(id);
  }

  /**
   * The state word of the slab `id` names, read once with `Atomics.load`, after checking that it
   * says leased at the id's generation (whoever the holder); throws SlabStateError otherwise.
   */
  private leasedWord(id: number): number {
    this.checkId(id);
    const slab = slabOfId(id);
    const generation = generationOfId(id);
    const state = Atomics.load(this.words, metaWord(this.metaTop, slab));
    if ((state & NOT_OWNER) !== (SLAB_LEASED | (generation << GEN_SHIFT))) throw this.badIdError(id);
    return state;
  }

  /** The slab index of `id` after checking that its slab is leased at the id's generation; throws SlabStateError otherwise. */
  private checkLeased(id: number): number {
    this.checkId(id);
    const slab = slabOfId(id);
    const generation = generationOfId(id);

    // A plain read: whoever handed us the id synchronized with its acquirer, so the leased state
    // is visible; a stale id finds another state or generation.
    // Leased at this generation, whoever the holder.
    if ((this.words[metaWord(this.metaTop, slab)] & NOT_OWNER) !== (SLAB_LEASED | (generation << GEN_SHIFT))) {
      throw this.badIdError(id);
    }
    return slab;
  }

  /** The view of a leased slab: from the view cache, or made and cached. */
  private viewOf(slab: number): Uint8Array {
    const entry = slab & VIEW_CACHE_MASK;
    const word = this.words[metaWord(this.metaTop, slab) + META_OFFSET_CLASS];
    if (this.viewKeys[entry] === word) return this.views[entry];
    const view = new Uint8Array(this.buffer, slabOffset(word), slabSizeOf(this.layout, word & CLASS_MASK));
    this.views[entry] = view;
    this.viewKeys[entry] = word;
    return view;
  }

  /**
   * Throws unless `size` is an integer from 0 to `maxSlabSize`. `takeCached` makes the same test
   * written out.
   */
  private checkSize(size: number): void {
    if (typeof size !== 'number' || size >>> 0 !== size || size > this.maxSlabSize) throw sizeError(size, this.maxSlabSize);
  }

  private badIdError(id: unknown): SlabStateError {
    return new SlabStateError(id, this.closed ? 'this SlabPool object was closed' : describeBadId(id, this.words, this.layout));
  }
}
