/**
 * Type-level test of the public API, checked by `pnpm typecheck` (tsc over packages/*\/test) and
 * never run. Each `// @ts-expect-error` line is a misuse that must not compile: if the API ever
 * accepts one, the directive is unused and tsc fails. The plain lines are correct uses that must
 * keep compiling.
 */
import {
  type ClassStats,
  type LeakDetection,
  type Lease,
  type LeaseRecord,
  PoolExhaustedError,
  type PoolHandle,
  type PoolStats,
  type ReclaimReport,
  type ResolvedConfig,
  SlabPool,
  type SlabPoolOptions,
  SlabStateError,
  defaultsFor,
  resolveConfig,
} from '../../src/index.js';

declare const sharedBuffer: SharedArrayBuffer;
declare const plainBuffer: ArrayBuffer;
declare const unknownValue: unknown;

// ---- Correct uses: these must compile.
const pool = new SlabPool({ arenaBytes: 16 * 1024 * 1024, minSlabSize: 64, shards: 4 });
const poolWithDefaults: SlabPool = new SlabPool();
const handle: PoolHandle = pool.handle;
const attached: SlabPool = SlabPool.attach(handle);
const id: number = pool.acquire(1024);
const maybeId: number = pool.tryAcquire(1024);
const bytes: Uint8Array = pool.bytes(id);
const capacity: number = pool.capacity(id);
pool.release(id);
const stats: PoolStats = pool.stats();
const firstClass: ClassStats | undefined = stats.classes[0];
const leasedNow: number = stats.classes.reduce((n, c) => n + c.leased, 0);
const problems: string[] = pool.audit();
const config: ResolvedConfig = pool.config;
const resolved: ResolvedConfig = resolveConfig({ parallelism: 2 });
const defaults: number = defaultsFor(8).shards;
{
  using lease = pool.get(100);
  const leaseBytes: Uint8Array = lease.bytes;
  const leaseId: number = lease.id;
  void [leaseBytes, leaseId];
}
const lease: Lease = pool.get(10);
lease.release();
lease[Symbol.dispose]();
try {
  pool.acquire(1);
} catch (error) {
  if (error instanceof PoolExhaustedError) {
    const code: 'ERR_POOL_EXHAUSTED' = error.code;
    const asked: number = error.requestedSize;
    void [code, asked];
  }
  if (error instanceof SlabStateError) {
    const code: 'ERR_SLAB_STATE' = error.code;
    const badId: unknown = error.id;
    void [code, badId];
  }
}
pool.flush();
pool.close();
void [poolWithDefaults, attached, maybeId, bytes, capacity, firstClass, leasedNow, problems, config, resolved, defaults];

// ---- Sizes and ids are numbers.
// @ts-expect-error a size given as a string
pool.acquire('1024');
// @ts-expect-error a size given as a bigint
pool.tryAcquire(1024n);
// @ts-expect-error acquire without a size
pool.acquire();
// @ts-expect-error get without a size
pool.get();
// @ts-expect-error an id given as a string
pool.bytes('3');
// @ts-expect-error capacity without an id
pool.capacity();
// @ts-expect-error release with the lease object instead of its id
pool.release(lease);
// @ts-expect-error release with the bytes instead of the id
pool.release(bytes);
// @ts-expect-error an id is a number, not a string
const idAsString: string = pool.acquire(64);
// @ts-expect-error tryAcquire returns -1, never null, when the pool is exhausted
const noneLeft: null = pool.tryAcquire(64);

// ---- Options.
// @ts-expect-error an option given as a string
new SlabPool({ arenaBytes: '64mb' });
// @ts-expect-error an option that does not exist (a misspelling)
new SlabPool({ arenaSize: 1 << 20 });
// @ts-expect-error a bare number instead of an options object
new SlabPool(16 * 1024 * 1024);
// @ts-expect-error the buffer argument of the constructor is internal: a SharedArrayBuffer is not options
new SlabPool(sharedBuffer);
// @ts-expect-error options are numbers
const badOptions: SlabPoolOptions = { shards: '4' };
// @ts-expect-error resolveConfig takes options, not a parallelism
resolveConfig(4);
// @ts-expect-error defaultsFor takes a number of CPUs
defaultsFor('8');

// ---- Asynchronous acquire, recovery and leak detection.
const later: Promise<number> = pool.acquireAsync(64, { timeoutMs: 100, signal: AbortSignal.timeout(1000) });
const report: ReclaimReport = pool.reclaim(7);
const unwatch: () => void = pool.watch({ threadId: 7, once: () => undefined, off: () => undefined });
const records: LeaseRecord[] = pool.outstandingLeases();
const detection: LeakDetection = 'sampled';
new SlabPool({ leakDetection: detection, zeroOnRelease: true, debug: false });
void [later, report, unwatch, records];
// @ts-expect-error acquireAsync resolves to an id; the promise is not the id
const notAwaited: number = pool.acquireAsync(64);
// @ts-expect-error a timeout given as a string
pool.acquireAsync(64, { timeoutMs: '100' });
// @ts-expect-error an option acquireAsync does not have
pool.acquireAsync(64, { timeout: 100 });
// @ts-expect-error reclaim takes a thread id, not a Worker-like object
pool.reclaim({ threadId: 7 });
// @ts-expect-error watch needs something with threadId, once and off (a Worker)
pool.watch({ threadId: 7 });
// @ts-expect-error report fields are read-only
report.leased = 0;
// @ts-expect-error leak detection is one of three levels
new SlabPool({ leakDetection: 'verbose' });
// @ts-expect-error zeroing is on or off, not a byte value
new SlabPool({ zeroOnRelease: 0 });
// @ts-expect-error attach takes only the leakDetection option: the arena fixes the rest
SlabPool.attach(handle, { shards: 4 });
void notAwaited;

// ---- Handles.
// @ts-expect-error attach without a handle
SlabPool.attach();
// @ts-expect-error attach to a bare SharedArrayBuffer: the handle carries kind and layout version
SlabPool.attach(sharedBuffer);
// @ts-expect-error attach to the pool object instead of its handle
SlabPool.attach(pool);
// @ts-expect-error a handle without its layout version
SlabPool.attach({ kind: 'zeropool', buffer: sharedBuffer });
// @ts-expect-error a handle of another kind
SlabPool.attach({ kind: 'other', layoutVersion: 1, buffer: sharedBuffer });
// @ts-expect-error a handle over a plain ArrayBuffer, which threads cannot share
SlabPool.attach({ kind: 'zeropool', layoutVersion: 1, buffer: plainBuffer });
// @ts-expect-error an unknown value must be checked before it is used as a handle
SlabPool.attach(unknownValue);
// @ts-expect-error the handle is read-only
pool.handle = handle;
// @ts-expect-error the handle's fields are read-only
pool.handle.buffer = sharedBuffer;

// ---- Read-only results.
// @ts-expect-error stats fields are read-only
stats.acquires = 0;
// @ts-expect-error per-class stats are read-only
stats.classes[0].leased = 0;
// @ts-expect-error the classes array is read-only
stats.classes.push({ slabSize: 64, slabs: 0, free: 0, cached: 0, leased: 0 });
// @ts-expect-error the resolved configuration is read-only
pool.config.shards = 8;
// @ts-expect-error a lease's id is read-only
lease.id = 5;
// @ts-expect-error a lease's bytes are read-only
lease.bytes = new Uint8Array(4);
// @ts-expect-error a lease is released by calling release(), which takes no id
lease.release(id);

// ---- Errors.
const exhausted = new PoolExhaustedError(1, 64, 0, 1 << 20);
// @ts-expect-error the code is one literal, so comparing it with another code is a mistake
if (exhausted.code === 'ERR_SLAB_STATE') throw exhausted;
// @ts-expect-error error codes are read-only
exhausted.code = 'ERR_POOL_EXHAUSTED';

void [idAsString, noneLeft, badOptions];
