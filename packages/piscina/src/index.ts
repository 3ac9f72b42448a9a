/**
 * The main-thread half of `@zeropool/piscina`: a Piscina whose workers can all reach one slab
 * pool, and which returns the slabs of any worker that exits — crash, `terminate()`, idle timeout,
 * out of memory — to the pool.
 *
 * Ownership rule for ids crossing a task boundary: whoever holds an id may read and write its
 * bytes and must release it exactly once. Handing an id to another thread hands over that duty,
 * except when lending it for one task (`runWithLoans`): the main thread keeps the duty.
 * - Main fills, worker releases: the main thread acquires and fills a slab and runs a task that
 *   carries the id (`runWithSlabs`); the worker takes it with `takeSlab(id)` (which adopts it, so
 *   the slab comes back if that worker dies) and releases it. If the task fails before the worker
 *   adopted the id, `runWithSlabs` releases it here.
 * - Main lends, main releases: the main thread fills a slab and runs tasks with `runWithLoans`;
 *   each worker views it with `viewSlab(id)` for the duration of its task and neither releases it
 *   nor keeps the view after the task returns. One slab may be lent to many tasks at once (a
 *   read-only fan-out); when the last of them settles, the main thread releases the id, into its
 *   own cache, so the next acquire there is a cache hit: no shard lock on either side. The
 *   cheapest way for tasks that only read their input.
 * - Worker fills, main receives: the worker acquires with `giveSlab(size)`, fills it and returns
 *   the id in its result; the main thread calls `receive(id)` at once (which adopts it), reads,
 *   and releases it.
 * @packageDocumentation
 */
import type { Worker } from 'node:worker_threads';
import { type ReclaimReport, SlabPool, type SlabPoolOptions, SlabStateError } from '@zeropool/core';
import { Piscina } from 'piscina';
import { prefix } from './common.js';
import { publishPool, registerWorker, unregisterWorker, withdrawPool } from './directory.js';
import { withCode } from './errors.js';

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;
type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

/**
 * Options for {@link SlabPiscina}: piscina's own options (`filename`, `minThreads`, `maxThreads`,
 * `idleTimeout`, `workerData`..., see piscina's documentation), plus the pool. `workerData`
 * reaches the workers exactly as given: the pool travels another way (Node's environment data).
 */
export interface SlabPiscinaOptions extends PiscinaOptions {
  /**
   * Your data for every worker, read there with `workerData` from `node:worker_threads` (or
   * piscina's `workerData`): passed to piscina as given, any value structured clone accepts.
   * Typed `unknown` where piscina says `any`.
   * @default undefined
   */
  workerData?: unknown;
  /**
   * The pool the workers share: an existing `SlabPool` (this thread's object), or options to
   * create one.
   * @default a new `SlabPool` with default options
   */
  pool?: SlabPool | SlabPoolOptions;
}

/**
 * Every SlabPiscina that may start workers, with its claim on a new worker, and the one
 * process-wide `'worker'` listener they share (there while the map is not empty).
 */
const watching = new Map<object, (worker: Worker) => boolean>();
function onWorker(worker: Worker): void {
  for (const claim of watching.values()) if (claim(worker)) return;
}

/** The loans of one id (runWithLoans): tasks still running, and workers to outlive. */
interface Loan {
  /** Tasks the id is lent to that have not settled. */
  tasks: number;
  /**
   * Workers piscina was terminating when a task the id was lent to settled: they may still read
   * (or write) the slab, so it is released only once they have exited.
   */
  dying: Set<Worker>;
}

/**
 * A drop-in `Piscina` whose workers share a slab pool: everything piscina does, it does the same
 * way (piscina's own test suite passes against it), and it adds `pool`, `runWithSlabs`,
 * `runWithLoans`, `receive` and the `'reclaim'` event. Emits `'reclaim'` with a `ReclaimReport`
 * when a worker exited holding slabs (leased or cached) or shard locks, once those are back in the
 * pool; a worker that exits holding nothing (a clean `close()`) emits nothing. `T` is the type of
 * a task, `R` of its result.
 * @example
 * ```ts
 * // task.mjs takes the slab with takeSlab(id, length), hashes and releases it.
 * const piscina = new SlabPiscina<{ id: number; length: number }, string>({
 *   filename: new URL('./task.mjs', import.meta.url).href,
 * });
 * piscina.on('reclaim', (report: ReclaimReport) => console.warn(`worker ${report.threadId} exited holding ${report.leased} slabs`));
 * const id = piscina.pool.acquire(payload.length);
 * piscina.pool.bytes(id).set(payload);
 * const digest: string = await piscina.runWithSlabs({ id, length: payload.length }, [id]);
 * await piscina.close();
 * ```
 */
export class SlabPiscina<T = unknown, R = unknown> extends Piscina<T, R> {
  /** The pool, attached to the thread that created this Piscina. */
  readonly pool: SlabPool;
  /** Its number in the process's directory (directory.ts), under which its workers find the pool. */
  private readonly poolNumber: number;
  /** Between close() or destroy() and their end: a failed task's worker may be being terminated. */
  private closing: boolean;
  /** Ids lent to tasks (runWithLoans) until their release. */
  private readonly lent: Map<number, Loan>;
  /** Ids handed to tasks still running (runWithSlabs). */
  private readonly handed: Set<number>;
  /** Watched workers that have not exited yet. */
  private readonly live: Set<Worker>;
  /** piscina's workers when close() or destroy() began (see claim). */
  private readonly closingWorkers: Set<Worker>;

  /**
   * piscina exposes its class on itself (`Piscina.Piscina`, and the `Piscina` named export); so
   * does SlabPiscina, so code that reaches the class that way gets this one.
   */
  static override get Piscina(): typeof SlabPiscina {
    return SlabPiscina;
  }

  /**
   * Creates the Piscina, and the pool unless `options.pool` is one already, and publishes the pool
   * handle (in Node's environment data, not in `workerData`) so that `getPool()` finds it in every
   * worker. Each worker piscina starts is watched from then on: when it exits, however it exits,
   * its slabs come back.
   * @param options piscina's options, plus `pool`; every member is optional.
   * @throws {TypeError} a pool option in `options.pool` is not of the right type; or one of
   *   piscina's options is not (piscina's own checks: `filename`, `minThreads`, `maxThreads`,
   *   `idleTimeout`...).
   * @throws {RangeError} a pool option in `options.pool` is out of range (or, with that option not
   *   given, a `ZEROPOOL_*` environment variable holds a value it does not allow; see `SlabPool`);
   *   or `options.minThreads` is above `options.maxThreads`.
   */
  constructor(options: SlabPiscinaOptions = {}) {
    const { pool: poolOption, ...piscinaOptions } = options;
    const pool = poolOption instanceof SlabPool ? poolOption : new SlabPool(poolOption);
    // Published before piscina starts its first workers (inside super), which copy it.
    const poolNumber = publishPool(pool.handle);
    try {
      super(piscinaOptions);
    } catch (error) {
      // A constructor that throws leaves nothing behind (the handle would keep the arena alive).
      withdrawPool(poolNumber);
      throw error;
    }
    this.pool = pool;
    this.poolNumber = poolNumber;
    this.closing = false;
    this.lent = new Map();
    this.handed = new Set();
    this.live = new Set();
    this.closingWorkers = new Set();
    // Still in time: Node emits 'worker' from process.nextTick, after this constructor returns,
    // also for the workers piscina started inside super().
    this.startWatching(false);
  }

  /**
   * Runs a task that carries slab ids the worker will take over (main fills, worker releases). If
   * the task fails while an id still names this thread as holder (the worker never took it), the
   * id is released here, so a crashed task loses no slab. That includes a task piscina refuses
   * (while `close()` runs, it rejects with its `AbortError`, as it does for `run`).
   * @throws {TypeError} `ids` is not an array (`code: 'ERR_INVALID_ARG_TYPE'`, at once, before the
   *   task runs).
   * @throws {SlabStateError} an element of `ids` is not an acquired slab of the pool (at once).
   * @throws {Error} an id is lent to a task still running or waiting for its release
   *   (`code: 'ERR_SLAB_LENT'`), or handed to another task still running
   *   (`code: 'ERR_SLAB_HANDED_OVER'`), at once.
   * @throws whatever `run` rejects with (piscina's errors, the worker's errors).
   * @example
   * ```ts
   * const id = piscina.pool.acquire(payload.length);
   * piscina.pool.bytes(id).set(payload);
   * // The task takes the slab with takeSlab(id, length) and releases it.
   * const digest = await piscina.runWithSlabs({ id, length: payload.length }, [id]);
   * ```
   */
  runWithSlabs(task: T, ids: readonly number[], options?: RunOptions): Promise<R> {
    const own = this.idList(ids, 'runWithSlabs', false);
    for (const id of own) this.handed.add(id);
    let result: Promise<R>;
    try {
      result = this.run(task, options);
    } catch (error) {
      for (const id of own) this.handed.delete(id);
      throw error;
    }
    // The caller gets piscina's own promise, and this handler, attached first, runs before any of
    // the caller's: no wrapper promise and no extra microtask hop on a path whose whole cost is a
    // round trip (an async function with try/await adds a promise and a hop to every task).
    // Only ids the worker never adopted come back: releaseIfHeld decides that in one
    // compare-exchange against an adopt still running in a worker that piscina is terminating.
    // The others are the worker's, released by it or by the reclaim of its exit.
    result.then(
      () => {
        for (const id of own) this.handed.delete(id);
      },
      () => {
        for (const id of own) {
          this.handed.delete(id);
          this.release(id, true);
        }
      },
    );
    return result;
  }

  /**
   * Runs a task that views slabs this thread lends it (main lends, main releases): the worker calls
   * `viewSlab(id, length)` and must not release the ids or keep their views after it returns. One
   * slab may be lent to many tasks at once, for a read-only fan-out (one buffer hashed by several
   * algorithms in parallel): tasks that share a slab must only read it. When the last task an id is
   * lent to settles, the id is released here, before any handler of that task's caller runs. If
   * piscina is terminating the worker of a task the id was lent to (the task was aborted, or the
   * Piscina is being destroyed or closed), that worker may not have stopped yet: the release waits
   * until it has exited. An id already released (against the rule) is skipped.
   * @throws {TypeError} `ids` is not an array (`code: 'ERR_INVALID_ARG_TYPE'`, at once, before the
   *   task runs).
   * @throws {SlabStateError} an element of `ids` is not an acquired slab of the pool (at once).
   * @throws {Error} an id is handed to a task still running (`code: 'ERR_SLAB_HANDED_OVER'`), or its
   *   loans are over and its release waits for a terminated worker to exit (`code: 'ERR_SLAB_LENT'`),
   *   at once.
   * @throws whatever `run` rejects with (piscina's errors, the worker's errors).
   * @example
   * ```ts
   * const id = piscina.pool.acquire(payload.length);
   * piscina.pool.bytes(id).set(payload);
   * // Each task reads the slab with viewSlab(id, length) and leaves it alone after it returns.
   * const [sha256, sha512] = await Promise.all([
   *   piscina.runWithLoans({ id, length: payload.length, algorithm: 'sha256' }, [id]),
   *   piscina.runWithLoans({ id, length: payload.length, algorithm: 'sha512' }, [id]),
   * ]);
   * // id is released by now; the next acquire of that size reuses it from this thread's cache
   * ```
   */
  runWithLoans(task: T, ids: readonly number[], options?: RunOptions): Promise<R> {
    const own = this.idList(ids, 'runWithLoans', true);
    for (const id of own) {
      const loan = this.lent.get(id);
      if (loan === undefined) this.lent.set(id, { tasks: 1, dying: new Set() });
      else loan.tasks++;
    }
    let result: Promise<R>;
    try {
      result = this.run(task, options);
    } catch (error) {
      this.endLoans(own, false);
      throw error;
    }
    // Attached first, so the slabs are back before the caller's handlers run (see runWithSlabs).
    result.then(
      () => this.endLoans(own, false),
      (error: unknown) => this.endLoans(own, this.closing || isTermination(error)),
    );
    return result;
  }

  /**
   * Runs a task (see piscina's `run`), exactly as piscina does: while `close()` runs it rejects
   * with piscina's `AbortError`, and after `close()` or `destroy()` has resolved it starts workers
   * again, which are watched like the first ones.
   * @throws whatever piscina's `run` rejects with (an invalid option, an abort, a full queue, a
   *   closing pool) and whatever the task throws or rejects with.
   * @example
   * ```ts
   * const result = await piscina.run({ size: 4096 });
   * ```
   */
  override run(task: T, options?: RunOptions): Promise<R> {
    this.startWatching(true);
    return super.run(task, options);
  }

  /**
   * A copy of the ids a task carries, taken and checked when it starts (the caller may reuse its
   * array at once), duplicates removed.
   */
  private idList(ids: readonly number[], caller: string, lending: boolean): readonly number[] {
    if (!Array.isArray(ids)) {
      throw withCode(
        new TypeError(`${caller}: ids must be an array of slab ids; received ${ids === null ? 'null' : typeof ids}`),
        'ERR_INVALID_ARG_TYPE',
      );
    }
    const own = ids.length === 1 ? [ids[0]] : [...new Set(ids)];
    for (const id of own) {
      this.pool.holderOf(id); // throws SlabStateError for what is not an acquired slab
      if (this.handed.has(id)) {
        throw withCode(
          new Error(
            `${caller}: id ${id} is handed to a task still running (runWithSlabs); that task's worker holds it now, so it can be neither lent nor handed over again`,
          ),
          'ERR_SLAB_HANDED_OVER',
        );
      }
      const loan = this.lent.get(id);
      if (loan !== undefined && (!lending || loan.tasks === 0)) {
        const why =
          loan.tasks === 0
            ? 'its release waits for a terminated worker it was lent to to exit'
            : 'it is lent to a task still running (runWithLoans); a slab can be lent to many tasks at once, or handed to one, not both';
        throw withCode(new Error(`${caller}: id ${id} is not free to hand over: ${why}`), 'ERR_SLAB_LENT');
      }
    }
    return own;
  }

  /**
   * One task the ids were lent to has settled (`terminated`: its worker may still be running).
   * Releases each id whose last loan this was, once every worker it must outlive has exited.
   */
  private endLoans(ids: readonly number[], terminated: boolean): void {
    // Workers piscina has let go of but which have not exited: the ones it is terminating.
    const dying = terminated ? [...this.live].filter((worker) => !this.threads.includes(worker)) : [];
    for (const id of ids) {
      const loan = this.lent.get(id);
      if (loan === undefined) continue;
      loan.tasks--;
      for (const worker of dying) loan.dying.add(worker);
      if (loan.tasks > 0) continue;
      for (const worker of loan.dying) if (!this.live.has(worker)) loan.dying.delete(worker);
      if (loan.dying.size === 0) {
        this.lent.delete(id);
        this.release(id, false);
        continue;
      }
      // Those workers' reclaim may free it first (it then skips a stale id); a new loan of it is
      // refused meanwhile, as the release would end it.
      const exits = [...loan.dying].map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
      void Promise.all(exits).then(() => {
        this.lent.delete(id);
        this.release(id, false);
      });
    }
  }

  /**
   * Gives back an id after a task settled: unconditionally (`onlyHeld` false: its tasks are over,
   * their workers done with it), or only if this thread still holds it (`onlyHeld` true: the worker
   * never adopted it, or it may still be running). Never throws: this runs in a promise handler
   * nobody awaits, where a throw would be an unhandled rejection (which ends the process).
   */
  private release(id: number, onlyHeld: boolean): void {
    try {
      if (onlyHeld) this.pool.releaseIfHeld(id);
      else this.pool.release(id);
    } catch (error) {
      // SlabStateError: released already (by the worker, against the rule, or by the reclaim of
      // a dead worker, perhaps leased again since under a new generation), or not an id of the
      // pool at all: nothing of ours to give back. Anything else (a LockTimeoutError: a dead
      // thread holds a shard lock nobody reclaimed) is reported without ending the process.
      if (!(error instanceof SlabStateError)) process.emitWarning(error as Error);
    }
  }

  /**
   * Takes over a slab id a worker returned (worker fills, main receives): records this thread as
   * its holder and returns a view of its first `length` bytes. Call it as soon as the result
   * arrives; release the id when done.
   * @throws {SlabStateError} `id` is not an acquired slab (for example, the worker released it).
   * @throws {RangeError} `length` is not an integer from 0 to the slab's capacity
   *   (`code: 'ERR_OUT_OF_RANGE'`); nothing changes hands.
   * @example
   * ```ts
   * import { createHash } from 'node:crypto';
   * // fill.mjs fills a slab it got from giveSlab(size) and returns { id, length }.
   * const piscina = new SlabPiscina<{ size: number }, { id: number; length: number }>({
   *   filename: new URL('./fill.mjs', import.meta.url).href,
   * });
   * const { id, length } = await piscina.run({ size: 4096 });
   * const bytes = piscina.receive(id, length); // this thread holds the slab now
   * console.log(createHash('sha256').update(bytes).digest('hex'));
   * piscina.pool.release(id);
   * ```
   */
  receive(id: number, length?: number): Uint8Array {
    const bytes = prefix(this.pool.bytes(id), length, 'receive');
    this.pool.adopt(id);
    return bytes;
  }

  /**
   * Closes the Piscina as piscina's `close` does (tasks already queued run, tasks enqueued meanwhile
   * are rejected with piscina's `AbortError`, and so are queued ones with `force: true`; ids of a
   * refused `runWithSlabs` or `runWithLoans` task come back), and resolves once every worker it
   * started has exited and had its slabs reclaimed (a worker stuck in a blocking call delays that).
   * Like piscina, it takes tasks again afterwards.
   * @throws {TypeError} (as a rejection) `options` is not an object, or `options.force` is not a
   *   boolean (piscina's checks).
   * @example
   * ```ts
   * await piscina.close();
   * ```
   */
  override async close(options?: Parameters<Piscina['close']>[0]): Promise<void> {
    // piscina's own checks, first: options it refuses must leave this SlabPiscina as it was.
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError('options must be an object');
    }
    if (options?.force !== undefined && typeof options.force !== 'boolean') {
      throw new TypeError('force argument must be a boolean');
    }
    // From here a failed task's worker may be being terminated (close() ends with destroy()).
    this.beginClosing();
    try {
      await super.close(options);
    } finally {
      await this.drain();
    }
  }

  /**
   * Destroys the Piscina (see piscina's `destroy`), and resolves once every worker it started has
   * exited and had its slabs reclaimed, including a replacement piscina starts when a worker it had
   * let go (an aborted task's) exits late. Like piscina, it takes tasks again afterwards.
   * @example
   * ```ts
   * await piscina.destroy();
   * ```
   */
  override async destroy(): Promise<void> {
    this.beginClosing();
    try {
      await super.destroy();
    } finally {
      await this.drain();
    }
  }

  /**
   * Watches `worker` if it is one of this Piscina's: records it in the directory for its
   * `getPool()`, and reclaims its slabs when it exits. piscina does not hand out its Worker
   * objects (its 'workerCreate' event carries an id only, comes only once a worker is ready, and
   * reads -1 after a crash); Node's process-wide 'worker' event does, from process.nextTick after
   * each `new Worker()`, and piscina has put the worker in its list by then. close() and destroy()
   * may take a worker out of the list before Node announces it, so they remember the list as it
   * was when they began (closingWorkers).
   */
  private claim(worker: Worker): boolean {
    if (!this.threads.includes(worker) && !this.closingWorkers.has(worker)) return false;
    const { threadId } = worker;
    this.live.add(worker);
    if (!registerWorker(threadId, this.poolNumber)) {
      process.emitWarning(
        `SlabPiscina: worker ${threadId} cannot find its pool: more workers of SlabPiscinas are running than the directory holds`,
      );
    }
    worker.once('exit', () => {
      this.live.delete(worker);
      unregisterWorker(threadId);
    });
    // Exactly once per worker, on its own 'exit', however it ends; reported if it held anything.
    this.pool.watch(worker, (report) => {
      if (report.leased > 0 || report.cached > 0 || report.locks > 0) this.emit('reclaim', report);
    });
    return true;
  }

  /** From now on, workers piscina starts are watched (`republish`: the handle was withdrawn). */
  private startWatching(republish: boolean): void {
    if (watching.has(this)) return;
    if (republish) publishPool(this.pool.handle, this.poolNumber);
    if (watching.size === 0) process.on('worker', onWorker);
    watching.set(this, (worker) => this.claim(worker));
  }

  private stopWatching(): void {
    if (!watching.delete(this)) return;
    withdrawPool(this.poolNumber);
    if (watching.size === 0) process.off('worker', onWorker);
  }

  private beginClosing(): void {
    this.closing = true;
    for (const worker of this.threads) this.closingWorkers.add(worker);
  }

  /**
   * After piscina's close or destroy: waits until every watched worker has exited (so each has
   * been reclaimed), then stops watching until the next task. A worker piscina had already let go
   * (an aborted task's, still being terminated) can exit after piscina's destroy returned, and
   * piscina then starts a replacement: that one is destroyed too.
   */
  private async drain(): Promise<void> {
    // Node announces a worker created in this tick on the next one.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      for (let round = 0; round < 10 && (this.live.size > 0 || this.threads.length > 0); round++) {
        await Promise.all([...this.live].map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
        await new Promise((resolve) => setImmediate(resolve));
        if (this.threads.length > 0) await super.destroy();
      }
    } finally {
      this.closingWorkers.clear();
      this.closing = false;
      if (this.live.size === 0 && this.threads.length === 0) this.stopWatching();
    }
  }
}

// piscina's class carries its named exports as static members of its own (isWorkerThread,
// workerData, version, move, FixedQueue...); SlabPiscina carries them as its own too, so that
// `Object.getOwnPropertyNames` and a re-export of them match piscina's.
for (const name of Object.getOwnPropertyNames(Piscina)) {
  if (Object.hasOwn(SlabPiscina, name)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(Piscina, name);
  if (descriptor !== undefined) Object.defineProperty(SlabPiscina, name, descriptor);
}

/**
 * Whether a task's rejection means piscina is terminating the worker that ran it, which may still
 * be running: an abort (piscina rejects first, then terminates), or piscina's own "Terminating
 * worker thread" (destroy(), close() past its timeout, or another task's abort on the same worker).
 * By message, as piscina has no error class for it: a task that throws an Error with exactly that
 * message is taken for one too, and the slabs its worker viewed wait for that worker's exit.
 */
function isTermination(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.message === 'Terminating worker thread');
}

export type { ReclaimReport };
