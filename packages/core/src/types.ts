/**
 * Public types only: options, the handle, statistics, the lease and the reclaim report.
 *
 * The declarations built from this file go to users whose TypeScript settings we do not know: no
 * `@types/node` (TypeScript 6 and later default `types` to `[]`), no DOM lib, a `lib` older than
 * ESNext. So they name no global type that only those declare (`NodeJS.*`, `Disposable`,
 * `AbortSignal`); what they need is declared here.
 */

declare global {
  interface SymbolConstructor {
    /**
     * `Symbol.dispose`, which Node has from 20.4 on, declared as `lib.esnext.disposable.d.ts` and
     * `@types/node` declare it, so that {@link Lease} can name it under any `lib`.
     */
    readonly dispose: unique symbol;
  }
}

/** Options for {@link SlabPool}. Every member is optional; defaults come from {@link resolveConfig}. */
export interface SlabPoolOptions {
  /**
   * Size of the arena in bytes, rounded down to a multiple of 4096: the pool's tables (header,
   * lock lines, page table, thread table: about 45 KiB with the defaults) and its pages of slabs;
   * `stats().arenaBytes` is this number. The `SharedArrayBuffer` is larger by the slab metadata,
   * 12 bytes per `minSlabSize` bytes of pages (19% more with 64-byte slabs, `stats().bufferBytes`),
   * reserved whole but written only as pages are carved, so the memory the system commits for it
   * follows the slabs in use. Any size from 64 KiB up to about 4 GiB / (1 + 12 / minSlabSize)
   * (3.37 GiB with 64-byte slabs, so that the buffer stays under 4 GiB) works with the
   * other options left out: an arena too small to hold a page of 1 MiB next to its tables (below
   * about 1.1 MiB; 2 MiB past 32 CPUs, whose defaults have more threads and shards) gets a smaller
   * default `maxSlabSize`, the largest at which every size class can have a page (64 KiB for a
   * 1 MiB arena, 16 KiB for 256 KiB, 4 KiB for 64 KiB), and fewer default shards and thread slots.
   * An explicit `maxSlabSize` that does not fit is refused with the largest that does.
   * @default 64 MiB for up to 2 CPUs, 32 MiB per CPU beyond that, at most 1 GiB
   * @example
   * ```ts
   * const pool = new SlabPool({ arenaBytes: 1024 * 1024 });
   * pool.config.maxSlabSize; // 65536: the largest slab a 1 MiB arena serves by default
   * ```
   */
  arenaBytes?: number;
  /**
   * Smallest slab size: a power of two, at least 64. Smaller requests round up to it.
   * @default 64
   */
  minSlabSize?: number;
  /**
   * Largest slab size: a power of two, up to 1 GiB. It is also the page size: arena memory is
   * carved into a size class one page at a time, so the arena must hold at least one page next
   * to its tables. Larger requests are refused; raise it to serve them.
   * @default 1 MiB (1048576); in an arena too small for a 1 MiB page, the largest power of two at
   *   which every size class can have a page (see `arenaBytes`)
   */
  maxSlabSize?: number;
  /**
   * Free lists per size class, each behind its own lock word: a power of two from 1 to 256.
   * @default twice the parallelism rounded up to a power of two, from 4 to 128; in an arena too
   *   small for a 1 MiB page, also at most one per 16 KiB of arena
   */
  shards?: number;
  /**
   * Slabs a thread may keep in its private cache, per size class, from 1 to 65536. A class also
   * caches no more than `cacheBytes` of slabs (but always at least one).
   * @default 32 up to 8 CPUs, 16 up to 32 CPUs, 8 beyond
   */
  cacheSize?: number;
  /**
   * Bytes of slabs a thread may keep in its private cache per size class; bounds how much memory
   * sits idle in caches for large classes.
   * @default 1 MiB (1048576)
   */
  cacheBytes?: number;
  /**
   * Threads (pool objects) that may be attached at once, from 1 to 511.
   * @default 8 × parallelism, at least 256 and at most 511 (256 up to 32 CPUs); in an arena too
   *   small for a 1 MiB page, also at most one per 512 bytes of arena (a quarter of it)
   */
  maxThreads?: number;
  /**
   * Touch every 4 KiB page of the buffer when the pool is created, so that no slab's first use
   * takes a page fault. A new `SharedArrayBuffer` is mapped lazily: the first write to each page
   * faults, which shows up as a slow first pass over the pool's slabs (for example 4 KiB slabs
   * sent to piscina tasks, each fresh one adding a fault to its task). With this on, the whole
   * buffer, slab metadata included, is resident from the start: RSS grows by `stats().bufferBytes`
   * at once and creation takes the time of those faults. Only for `new SlabPool`; `attach` shares
   * the pages the creator touched.
   * @default false
   */
  prefault?: boolean;
  /**
   * Fill each slab with zeros when it is released, so no later holder can read what it held. For
   * callers that handle secrets; costs a `fill(0)` of the slab's whole capacity per release.
   * @default false
   */
  zeroOnRelease?: boolean;
  /**
   * Fill each slab with zeros before `acquire` returns it. Costs a `fill(0)` per acquire.
   * @default false
   */
  zeroOnAcquire?: boolean;
  /**
   * Debug mode: released slabs are filled with a poison pattern (0xDB) that the next acquire
   * checks, so a write after release is reported (a `SlabCorruptionError` naming the slab). Costs
   * a fill and a scan of the slab per release and acquire.
   * @default true if the `ZEROPOOL_DEBUG` environment variable is `1` or `true`, else false
   */
  debug?: boolean;
  /**
   * Leak detection for leases from `get()` (per pool object, like Netty's levels): `'off'`;
   * `'sampled'` records the acquiring stack of one lease in 64; `'full'` of every lease. A
   * recorded lease that is garbage-collected unreleased is reported with `process.emitWarning`
   * (type `ZeropoolLeakWarning`) and its stack; `outstandingLeases()` lists recorded leases.
   * @default 'off', or the `ZEROPOOL_LEAK_DETECTION` environment variable
   */
  leakDetection?: LeakDetection;
  /**
   * How long an operation waits for a shard lock before it throws `LockTimeoutError`. Critical
   * sections last microseconds, so a lock held this long belongs to a thread that died inside one;
   * giving up lets the waiting thread return to its event loop, where `watch` can reclaim the dead
   * worker. Applies to this pool object (attached objects choose their own).
   * @default 5000
   */
  lockTimeoutMs?: number;
  /**
   * The parallelism the defaults are derived from.
   * @default the `ZEROPOOL_PARALLELISM` environment variable if set, else `os.availableParallelism()`
   */
  parallelism?: number;
}

/** Leak detection levels for `get()` leases. */
export type LeakDetection = 'off' | 'sampled' | 'full';

/**
 * The configuration a pool actually runs with, after defaults and rounding. Every member but
 * `leakDetection` is stored in the arena when it is created, so all threads attached to a pool
 * share it.
 */
export interface ResolvedConfig {
  /** Whether each slab is filled with zeros when it is released (the `zeroOnRelease` option). */
  readonly zeroOnRelease: boolean;
  /** Whether each slab is filled with zeros before an acquire returns it (the `zeroOnAcquire` option). */
  readonly zeroOnAcquire: boolean;
  /**
   * Whether debug mode is on: released slabs are poisoned with 0xDB and the poison is checked on
   * the next acquire (the `debug` option, else `ZEROPOOL_DEBUG`).
   */
  readonly debug: boolean;
  /**
   * The leak detection level for `get()` leases of this pool object (the `leakDetection` option,
   * else `ZEROPOOL_LEAK_DETECTION`). It belongs to each pool object, not to the arena: objects
   * attached in other threads choose their own.
   */
  readonly leakDetection: LeakDetection;
  /** How long this pool object waits for a shard lock before it throws `LockTimeoutError`. */
  readonly lockTimeoutMs: number;
  /**
   * The parallelism the defaults were derived from: the `parallelism` option, else
   * `ZEROPOOL_PARALLELISM`, else `os.availableParallelism()` of the thread that created the pool.
   */
  readonly parallelism: number;
  /** Size of the arena in bytes: the `arenaBytes` option rounded down to a multiple of 4096. */
  readonly arenaBytes: number;
  /** Capacity of the smallest size class in bytes, a power of two of at least 64. */
  readonly minSlabSize: number;
  /**
   * Capacity of the largest size class in bytes, a power of two of at least `minSlabSize`; also the
   * page size. Larger requests are refused.
   */
  readonly maxSlabSize: number;
  /** Free lists (each behind its own lock) per size class, a power of two from 1 to 256. */
  readonly shards: number;
  /** Most slabs a thread keeps in its private cache per size class. */
  readonly cacheSize: number;
  /** Most bytes of slabs a thread keeps in its private cache per size class (always at least one slab). */
  readonly cacheBytes: number;
  /** Most pool objects (thread slots) attached at once, from 1 to 511. */
  readonly maxThreads: number;
}

/**
 * What another thread needs to attach to a pool. It is structured-cloneable: send it in
 * `workerData` or with `postMessage`, then call `SlabPool.attach(handle)` there. Cloning it shares
 * the arena, it does not copy it. Do not put the handle or its buffers in a `transferList`:
 * `SharedArrayBuffer`s cannot be transferred, and `postMessage` throws Node's own `TypeError`
 * (`code: 'ERR_INVALID_TRANSFER_OBJECT'`, "Found invalid object in transferList"), not one of
 * this library. A handle is not a pool: a thread that receives one must `attach` it before it can
 * acquire or release.
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * const worker = new Worker('./worker.js', { workerData: { pool: pool.handle } }); // no transferList
 * // worker.js: const pool = SlabPool.attach(workerData.pool);
 * ```
 */
export interface PoolHandle {
  /** Always `'zeropool'`: what `attach` checks first to tell a handle from any other object. */
  readonly kind: 'zeropool';
  /**
   * The version of the arena's memory layout. `attach` refuses a handle whose version differs from
   * the one this copy of the library reads (two versions of the package in one process).
   */
  readonly layoutVersion: number;
  /**
   * The arena: every byte of the pool's state and slabs. Cloning the handle shares this memory,
   * it does not copy it.
   */
  readonly buffer: SharedArrayBuffer;
  /**
   * A small shared buffer (12 KiB) beside the arena, three words per thread slot: one through
   * which an `acquireAsync` waiter asks idle threads for the slabs in their caches, two through
   * which `reclaim` checks that a thread still runs.
   */
  readonly signals: SharedArrayBuffer;
}

/** Slab counts of one size class. */
export interface ClassStats {
  /** Capacity of each slab in this class, in bytes. */
  readonly slabSize: number;
  /** Pages carved into this class now. */
  readonly pages: number;
  /** Slabs of this class's pages. Always `free + cached + leased + queued`. */
  readonly slabs: number;
  /** Slabs in the shared free lists. */
  readonly free: number;
  /** Slabs held in some thread's private cache. */
  readonly cached: number;
  /** Slabs acquired and not yet released. */
  readonly leased: number;
  /** Slabs sent into a channel and not yet received. */
  readonly queued: number;
}

/** A snapshot of the pool, counted across all threads. */
export interface PoolStats {
  /** Size of the arena in bytes: tables and pages. */
  readonly arenaBytes: number;
  /** Size of the `SharedArrayBuffer`: the arena and, past it, room for the metadata of every slab slot. */
  readonly bufferBytes: number;
  /** Arena bytes in use: the tables and the pages carved into a class now (not the metadata past the arena). */
  readonly usedBytes: number;
  /** Bytes of slab metadata of the pages carved into a class now (12 bytes per slab). */
  readonly metadataBytes: number;
  /** Bytes before the first page: header, lock lines, page table, thread table. */
  readonly overheadBytes: number;
  /** Page size in bytes: the largest slab size. Arena memory goes to a size class one page at a time. */
  readonly pageBytes: number;
  /** Pages carved into a size class now. */
  readonly pagesCarved: number;
  /**
   * Pages carved once and given back (every slab of them was free): the next carving of any class
   * takes one of these before an untouched page.
   */
  readonly pagesFree: number;
  /** Pages never carved yet. */
  readonly pagesUntouched: number;
  /** Times a page went back to the arena because every slab of it was free. */
  readonly pagesReturned: number;
  /** Times a page given back was carved again, into any class. */
  readonly pagesRecarved: number;
  /** Times a thread handed back the cached slabs of a class it had stopped using (see `trim`). */
  readonly trims: number;
  /** Thread slots currently attached. */
  readonly threads: number;
  /** Channels created and not destroyed (see `channel()`). */
  readonly channels: number;
  /**
   * One entry per size class, smallest first, from `minSlabSize` to `maxSlabSize`, including
   * classes with no slab carved yet.
   */
  readonly classes: readonly ClassStats[];
  /** Successful acquires of every kind (derived: releases + reclaimed + currently leased or queued). */
  readonly acquires: number;
  /** Successful `release` calls. */
  readonly releases: number;
  /** Leased slabs taken back by `reclaim` from threads that died holding them. */
  readonly reclaimed: number;
  /** Acquires served from the calling thread's cache, with no lock taken. */
  readonly cacheHits: number;
  /** Batches moved from a shard into a thread cache. */
  readonly refills: number;
  /** Batches moved from a thread cache into a shard. */
  readonly spills: number;
  /** Refills served by a shard other than the thread's home shard. */
  readonly steals: number;
  /** Lock acquisitions that found the lock taken. */
  readonly lockWaits: number;
  /** Acquires that found no slab free and no arena space left. */
  readonly exhausted: number;
}

/**
 * A slab leased by {@link SlabPool.get}. Release it with `release()` or let `using` dispose it.
 */
export interface Lease {
  /** The slab id; valid until released. */
  readonly id: number;
  /** Exactly the requested number of bytes at the start of the slab. */
  readonly bytes: Uint8Array;
  /**
   * Returns the slab. A second call throws {@link SlabStateError}.
   * @throws {SlabStateError} the slab is no longer leased under this id: this lease was released
   *   already, or its id was released or reclaimed some other way.
   */
  release(): void;
  /**
   * Returns the slab unless `release()` of this lease already did; then it does nothing.
   * @throws {SlabStateError} the slab was returned without this lease knowing, e.g. with
   *   `pool.release(lease.id)`, or was reclaimed.
   */
  [Symbol.dispose](): void;
}

/** Options for {@link SlabPool.acquireAsync}. */
export interface AcquireAsyncOptions {
  /**
   * Aborts the wait: the promise rejects with `signal.reason`. Its type is the global `AbortSignal`
   * of the program's own types (the DOM lib, the default one, or `@types/node`), written so that it
   * needs neither: it is `never` where no `AbortSignal` is declared, as no other object is taken.
   * @default undefined (no abort)
   */
  signal?: typeof globalThis extends { AbortSignal: { prototype: infer Signal } } ? Signal : never;
  /**
   * Rejects with `AcquireTimeoutError` after this many milliseconds without a slab.
   * @default Infinity (wait until a slab comes free or the signal aborts)
   */
  timeoutMs?: number;
}

/** A lease recorded by leak detection: where it was taken. */
export interface LeaseRecord {
  /** The id of the leased slab, as in `lease.id`. */
  readonly id: number;
  /** The size asked of `get()`. */
  readonly size: number;
  /** The stack at the `get()` call. */
  readonly stack: string;
}

/** What one call to `reclaim` found and returned. */
export interface ReclaimReport {
  /** The thread that was reclaimed. */
  readonly threadId: number;
  /** Thread slots (pool objects) that thread had attached; 0 if it had none or closed them all. */
  readonly slots: number;
  /** Lock words it held, taken over and their shards rebuilt. */
  readonly locks: number;
  /** Slabs in its private cache, returned to the shards. */
  readonly cached: number;
  /** Slabs it held leased, returned to the shards (their ids are now stale). */
  readonly leased: number;
}

/** The part of a `Worker` that {@link SlabPool.watch} uses. */
export interface WatchedWorker {
  /**
   * The worker's thread id, read once when `watch` is called and passed to `reclaim` on exit. A
   * `Worker` reports -1 once it has stopped, so it must be watched while it runs.
   */
  readonly threadId: number;
  /** Adds the one-time `'exit'` listener that reclaims the worker's slabs. */
  once(event: 'exit', listener: (exitCode: number) => void): unknown;
  /**
   * Removes that listener; the function `watch` returns calls it. Optional: without it, unwatching
   * only stops the pool object from counting the worker as running, and the listener still reclaims
   * on exit.
   */
  off?(event: 'exit', listener: (exitCode: number) => void): unknown;
}

/** Options of `pool.channel()`. */
export interface ChannelOptions {
  /**
   * Ids one sender may have queued (slots of its lane): a power of two from 2 to 2^20. A sender
   * whose lane is full waits (`sendAsync`, `sendBlocking`) or is refused (`trySend`).
   * @default 1024
   */
  capacity?: number;
  /**
   * Sender ends that may be open at once (each has its own lane of `capacity` slots), and how many
   * must `close()` for the stream to end: from 1 to 64.
   * @default 1
   */
  senders?: number;
}

/** Options of `channel.receiver()`. */
export interface ReceiverOptions {
  /**
   * How long a receive with nothing queued polls before it sleeps, in milliseconds (0 to 1000).
   * Polling saves a wake-up (slow on a VM) whenever the next id comes within it, at the cost of
   * a busy core meanwhile: an oversubscribed program may poll less.
   * @default 0.2
   */
  spinMs?: number;
}

/** Options of `channel.sender()`. */
export interface SenderOptions {
  /**
   * How long `sendBlocking` and `sendAsync` poll a full lane for room before they sleep, in
   * milliseconds (0 to 1000): a full lane usually frees within microseconds, and waking a sleeper
   * is slow on a VM. An oversubscribed program may poll less.
   * @default 0.2
   */
  spinMs?: number;
}

/** Options of a waiting send or receive. */
export interface ChannelWaitOptions {
  /**
   * Aborts the wait: the promise rejects with `signal.reason` and nothing changes.
   * @default undefined (no abort)
   */
  signal?: typeof globalThis extends { AbortSignal: { prototype: infer Signal } } ? Signal : never;
  /**
   * Throws `ChannelError` with code `ERR_CHANNEL_TIMEOUT` after this many milliseconds.
   * @default Infinity
   */
  timeoutMs?: number;
}

/**
 * What opens a channel in another thread (`pool.openChannel(handle)`): a plain object that
 * structured cloning shares, not copies.
 */
export interface ChannelHandle {
  /** Always `'zeropool-channel'`. */
  readonly kind: 'zeropool-channel';
  /** The channel's lanes and status words. */
  readonly buffer: SharedArrayBuffer;
}
