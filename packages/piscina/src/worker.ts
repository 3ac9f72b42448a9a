/**
 * The worker half of `@zeropool/piscina`: inside a task, `getPool()` is the pool the main thread
 * shares (attached on first use, then cached for the life of the thread, so only the first task
 * pays for it), and three helpers make the ownership rule one line each (see the package's index).
 *
 * Nothing here needs a timer: piscina freezes a worker's event loop between tasks, and slabs come
 * back either through releases or, when the worker exits, through the main thread's reclaim.
 * @packageDocumentation
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { type Lease, LockTimeoutError, SlabPool } from '@zeropool/core';
import { prefix } from './common.js';
import { findPool } from './directory.js';
import { withCode } from './errors.js';

let attached: SlabPool | undefined;

/**
 * How long `getPool()` waits for the main thread to record which SlabPiscina started this worker.
 * It records that on the tick after it starts the worker, so a wait happens only when the main
 * thread stays busy in one synchronous stretch while the worker starts and loads its task file.
 */
const FIND_POOL_TIMEOUT_MS = 10_000;

/**
 * The shared pool, attached to this worker thread on the first call and cached after (until a
 * call attaches it, each call tries again; once attached, it never throws). For what the helpers
 * below do not cover (`stats()`, `capacity(id)`, `acquireAsync(size)`...); a slab that crosses a
 * task boundary goes through `takeSlab`, `viewSlab` or `giveSlab`.
 *
 * The pool reaches the worker through Node's environment data (`setEnvironmentData`), never through
 * `workerData`, which reaches the worker exactly as given. If the main thread has not yet recorded
 * this worker (it does so on the tick after starting it; only a main thread busy in one long
 * synchronous stretch delays that), the call waits for it, up to 10 seconds.
 * @throws {TypeError} this thread was not started by a `SlabPiscina`
 *   (`code: 'ERR_NOT_SLAB_PISCINA_WORKER'`; in a worker, after waiting 10 seconds for the main
 *   thread to record it; in the main thread, at once); or the handle found is not a pool handle,
 *   or its arena has another layout version (two versions of `@zeropool/core` in one process).
 * @throws {RangeError} all `maxThreads` thread slots of the pool are taken
 *   (`code: 'ERR_POOL_THREADS'`), or `ZEROPOOL_LEAK_DETECTION` is not a leak detection level.
 * @example
 * ```ts
 * import { getPool } from '@zeropool/piscina/worker';
 * getPool(); // attach as the task file loads, so the first task does not pay for it
 * // A task that reports what the shared pool has free, as this worker sees it.
 * export default () => getPool().stats().classes.map(({ slabSize, free }) => ({ slabSize, free }));
 * ```
 */
export function getPool(): SlabPool {
  if (attached !== undefined) return attached;
  const handle = isMainThread ? undefined : findPool(threadId, FIND_POOL_TIMEOUT_MS);
  if (handle === undefined) {
    throw withCode(
      new TypeError(
        `getPool() needs a worker started by SlabPiscina: no SlabPiscina recorded this thread (threadId ${threadId}${isMainThread ? ', the main thread' : ''})`,
      ),
      'ERR_NOT_SLAB_PISCINA_WORKER',
    );
  }
  attached = SlabPool.attach(handle);
  return attached;
}

/**
 * Takes over a slab the main thread sent (main fills, worker releases): records this worker as its
 * holder, so the slab comes back if this worker dies, and returns a lease over its first `length`
 * bytes (the whole slab if omitted). Release it, or declare it with `using`; the release hands the
 * slab straight back to the shared shards, so an idle worker never sits on slabs the main thread
 * needs.
 * @throws {SlabStateError} `id` is not an acquired slab of the pool (for example, its sender
 *   released it, or died and its slabs were reclaimed).
 * @throws {RangeError} `length` is not an integer from 0 to the slab's capacity; nothing changes
 *   hands. Also as {@link getPool} throws, until the pool is attached in this thread.
 * @throws {TypeError} as {@link getPool} throws: this thread was not started by a `SlabPiscina`,
 *   or the pool cannot be attached.
 * @example
 * ```ts
 * import { createHash } from 'node:crypto';
 * import { takeSlab } from '@zeropool/piscina/worker';
 * export default ({ id, length }: { id: number; length: number }) => {
 *   const slab = takeSlab(id, length); // or `using slab = …` where the syntax is available
 *   try {
 *     return createHash('sha256').update(slab.bytes).digest('hex');
 *   } finally {
 *     slab.release();
 *   }
 * };
 * ```
 */
export function takeSlab(id: number, length?: number): Lease {
  const pool = getPool();
  const view = pool.bytes(id);
  const bytes = prefix(view, length, 'takeSlab');
  pool.adopt(id);
  return new TakenSlab(pool, id, bytes);
}

/**
 * A view of a slab the main thread lent this task with `runWithLoans` (main lends, main
 * releases): its first `length` bytes (the whole slab if omitted). Read it (or, if it is lent to
 * this task alone, use it as scratch space), but do not release the id or keep the view after the
 * task returns: the main thread releases the slab when the last task it is lent to settles, before
 * that task's caller sees the result. The main thread stays the slab's holder: a worker that
 * viewed it and then exits (an idle timeout right after its task) takes nothing with it, which
 * matters when the slab is lent to other tasks too. If the task is aborted and piscina terminates
 * this worker, the main thread releases the slab only once this worker has exited, never while it
 * might still be read or written here.
 * @throws {SlabStateError} `id` is not an acquired slab of the pool.
 * @throws {RangeError} `length` is not an integer from 0 to the slab's capacity
 *   (`code: 'ERR_OUT_OF_RANGE'`); nothing changes hands. Also as {@link getPool} throws, until the
 *   pool is attached in this thread.
 * @throws {TypeError} as {@link getPool} throws: this thread was not started by a `SlabPiscina`,
 *   or the pool cannot be attached.
 * @example
 * ```ts
 * import { createHash } from 'node:crypto';
 * import { viewSlab } from '@zeropool/piscina/worker';
 * export default ({ id, length }: { id: number; length: number }) =>
 *   createHash('sha256').update(viewSlab(id, length)).digest('hex');
 * ```
 */
export function viewSlab(id: number, length?: number): Uint8Array {
  return prefix(getPool().bytes(id), length, 'viewSlab');
}

/**
 * Acquires a slab for a result (worker fills, main receives): fill `bytes` (exactly `size` bytes
 * long), return `id` in the task's result, and do not touch the slab after; the main thread calls
 * `receive(id)`. Other slabs the acquire brought into this worker's cache go straight back to the
 * shared shards, so an idle worker never sits on slabs the main thread needs. (A task that calls
 * `getPool().acquire` or `release` itself should end with `getPool().flush()` for the same reason.)
 * @throws {PoolExhaustedError} the pool has no slab of that size left.
 * @throws {TypeError} `size` is not a number; or as {@link getPool} throws: this thread was not
 *   started by a `SlabPiscina`, or the pool cannot be attached.
 * @throws {RangeError} `size` is not an integer from 0 to the pool's `maxSlabSize`; or as
 *   {@link getPool} throws, until the pool is attached in this thread.
 * @throws {SlabCorruptionError} in debug mode, the slab about to be returned was written after its
 *   release (as `SlabPool.acquire` does).
 * @throws {Error} the pool object `getPool()` returns was closed (`code: 'ERR_POOL_CLOSED'`).
 * @example
 * ```ts
 * import { giveSlab } from '@zeropool/piscina/worker';
 * export default ({ size }: { size: number }) => {
 *   const { id, bytes } = giveSlab(size);
 *   bytes.fill(1);
 *   return { id, length: size }; // the main thread calls piscina.receive(id, length)
 * };
 * ```
 */
export function giveSlab(size: number): GivenSlab {
  const pool = getPool();
  const id = pool.acquire(size);
  // The acquire may have refilled this worker's cache with a batch of slabs: hand them back at
  // once, or the worker, frozen between tasks, would sit on them (see TakenSlab.release).
  flushCache(pool);
  return { id, bytes: pool.bytes(id).subarray(0, size) };
}

/** A slab {@link giveSlab} acquired for the main thread. */
export interface GivenSlab {
  /** The slab's id: return it in the task's result; the main thread then owns the slab. */
  readonly id: number;
  /** The first `size` bytes of the slab, to fill before the task returns. */
  readonly bytes: Uint8Array;
}

/**
 * The former name of {@link giveSlab}: it hands the slab over (the main thread releases it), which
 * "lend" does not say. Kept for one minor version.
 * @deprecated use {@link giveSlab}.
 * @example
 * ```ts
 * import { lendSlab } from '@zeropool/piscina/worker';
 * const { id, bytes } = lendSlab(64); // the same as giveSlab(64)
 * ```
 */
export const lendSlab: (size: number) => GivenSlab = giveSlab;

/**
 * Hands this worker's cached slabs back to the shared shards. If dead threads hold the shard locks
 * (not reclaimed yet), the slabs stay cached here, still counted, for a later flush or this
 * worker's reclaim: the release or acquire that came before did happen.
 */
function flushCache(pool: SlabPool): void {
  try {
    pool.flush();
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
  }
}

class TakenSlab implements Lease {
  readonly id: number;
  readonly bytes: Uint8Array;
  private readonly pool: SlabPool;
  private released = false;

  constructor(pool: SlabPool, id: number, bytes: Uint8Array) {
    this.pool = pool;
    this.id = id;
    this.bytes = bytes;
  }

  release(): void {
    this.pool.release(this.id);
    this.released = true;
    // Hand the slab straight back to the shared shards instead of keeping it in this worker's
    // cache: piscina freezes the worker between tasks, and slabs cached by an idle worker are out
    // of reach of the main thread (an acquireAsync there could wait for them forever). One lock
    // per task is nothing beside a task's round trip (tens of microseconds).
    flushCache(this.pool);
  }

  [Symbol.dispose](): void {
    if (!this.released) this.release();
  }
}
