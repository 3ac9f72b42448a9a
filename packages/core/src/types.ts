/**
 * Public types only: options, the handle, statistics and the lease.
 */

/** Options for {@link SlabPool}. Every member is optional; defaults come from {@link resolveConfig}. */
export interface SlabPoolOptions {
  /**
   * Total size of the shared arena in bytes: header, locks, metadata and slabs. Rounded down to a
   * multiple of 4096.
   * @default 64 MiB for up to 2 CPUs, 32 MiB per CPU beyond that, at most 1 GiB
   */
  arenaBytes?: number;
  /**
   * Smallest slab size: a power of two, at least 64. Smaller requests round up to it.
   * @default 64
   */
  minSlabSize?: number;
  /**
   * Largest slab size: a power of two. It is also the page size: arena memory is carved into a
   * size class one page at a time.
   * @default 1 MiB (1048576)
   */
  maxSlabSize?: number;
  /**
   * Free lists per size class, each behind its own lock word: a power of two from 1 to 512.
   * @default twice the parallelism rounded up to a power of two, from 4 to 128
   */
  shards?: number;
  /**
   * Slab ids a thread may keep in its private cache, per size class, from 1 to 65536. A class also
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
   * Threads (pool objects) that may be attached at once, from 1 to 1023.
   * @default 256
   */
  maxThreads?: number;
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
   * The parallelism the defaults are derived from.
   * @default the `ZEROPOOL_PARALLELISM` environment variable if set, else `os.availableParallelism()`
   */
  parallelism?: number;
}

/** Leak detection levels for `get()` leases. */
export type LeakDetection = 'off' | 'sampled' | 'full';

/** The configuration a pool actually runs with, after defaults and rounding. */
export interface ResolvedConfig {
  readonly zeroOnRelease: boolean;
  readonly zeroOnAcquire: boolean;
  readonly debug: boolean;
  readonly leakDetection: LeakDetection;
  readonly parallelism: number;
  readonly arenaBytes: number;
  readonly minSlabSize: number;
  readonly maxSlabSize: number;
  readonly shards: number;
  readonly cacheSize: number;
  readonly cacheBytes: number;
  readonly maxThreads: number;
}

/**
 * What another thread needs to attach to a pool. It is structured-cloneable: send it in
 * `workerData` or with `postMessage` (not in a `transferList`), then call `SlabPool.attach`.
 */
export interface PoolHandle {
  readonly kind: 'zeropool';
  readonly layoutVersion: number;
  readonly buffer: SharedArrayBuffer;
}

/** Slab counts of one size class. */
export interface ClassStats {
  /** Capacity of each slab in this class, in bytes. */
  readonly slabSize: number;
  /** Slabs carved into this class so far. Always `free + cached + leased`. */
  readonly slabs: number;
  /** Slabs in the shared free lists. */
  readonly free: number;
  /** Slabs held in some thread's private cache. */
  readonly cached: number;
  /** Slabs acquired and not yet released. */
  readonly leased: number;
}

/** A snapshot of the pool, counted across all threads. */
export interface PoolStats {
  /** Size of the arena in bytes. */
  readonly arenaBytes: number;
  /** Bytes in use: fixed overhead, carved pages and slab metadata. */
  readonly usedBytes: number;
  /** Bytes of slab metadata (12 bytes per carved slab). */
  readonly metadataBytes: number;
  /** Bytes before the first page: header, lock lines, page table, thread table. */
  readonly overheadBytes: number;
  /** Page size (the largest slab size) and pages carved so far. */
  readonly pageBytes: number;
  readonly pagesCarved: number;
  /** Thread slots currently attached. */
  readonly threads: number;
  readonly classes: readonly ClassStats[];
  /** Successful acquires of every kind (derived: releases + reclaimed + currently leased). */
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
export interface Lease extends Disposable {
  /** The slab id; valid until released. */
  readonly id: number;
  /** Exactly the requested number of bytes at the start of the slab. */
  readonly bytes: Uint8Array;
  /** Returns the slab. A second call throws {@link SlabStateError}. */
  release(): void;
  /** Returns the slab unless it was already released; then it does nothing. */
  [Symbol.dispose](): void;
}

/** Options for {@link SlabPool.acquireAsync}. */
export interface AcquireAsyncOptions {
  /**
   * Aborts the wait: the promise rejects with `signal.reason`.
   * @default undefined (no abort)
   */
  signal?: AbortSignal;
  /**
   * Rejects with `AcquireTimeoutError` after this many milliseconds without a slab.
   * @default Infinity (wait until a slab comes free or the signal aborts)
   */
  timeoutMs?: number;
}

/** A lease recorded by leak detection: where it was taken. */
export interface LeaseRecord {
  readonly id: number;
  /** The size asked of `get()`. */
  readonly size: number;
  /** The stack at the `get()` call. */
  readonly stack: string;
}

/** The part of a `Worker` that {@link SlabPool.watch} uses. */
export interface WatchedWorker {
  readonly threadId: number;
  once(event: 'exit', listener: (exitCode: number) => void): unknown;
  off?(event: 'exit', listener: (exitCode: number) => void): unknown;
}
