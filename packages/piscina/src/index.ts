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
 * - Main lends, main releases: the main thread fills a slab and runs a task with `runWithLoans`;
 *   the worker views it with `viewSlab(id)` for the duration of the task and neither releases it
 *   nor keeps the view after the task returns. When the task settles, the
 *   main thread releases the id, into its own cache, so the next acquire there is a cache hit: no
 *   shard lock on either side. The cheapest way for tasks that only read their input.
 * - Worker fills, main receives: the worker acquires with `lendSlab(size)`, fills it and returns
 *   the id in its result; the main thread calls `receive(id)` at once (which adopts it), reads,
 *   and releases it.
 * @packageDocumentation
 */
import type { Worker } from 'node:worker_threads';
import { type ReclaimReport, SlabPool, type SlabPoolOptions, SlabStateError } from '@zeropool/core';
import { Piscina } from 'piscina';
import { HANDLE_KEY, prefix } from './common.js';

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;
type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

/**
 * Options for {@link SlabPiscina}: piscina's own options (`filename`, `minThreads`, `maxThreads`,
 * `idleTimeout`..., see piscina's documentation), plus the pool. `workerData`, if given, must be a
 * plain object: the pool handle is merged into it, under {@link HANDLE_KEY}.
 */
export interface SlabPiscinaOptions extends PiscinaOptions {
  /**
   * The pool the workers share: an existing `SlabPool` (this thread's object), or options to
   * create one.
   * @default a new `SlabPool` with default options
   */
  pool?: SlabPool | SlabPoolOptions;
  /**
   * Your data for every worker, read there with `workerData` from `node:worker_threads`: a plain
   * object, since the pool handle is merged into it as one more property. Typed `object` (piscina
   * says `any`) so interfaces fit; an array is refused at run time with a TypeError.
   * @default undefined
   */
  workerData?: object;
}

/**
 * A Piscina whose workers share a slab pool. Emits `'reclaim'` with a `ReclaimReport` each time the
 * slabs of an exited worker are returned. `T` is the type of a task, `R` of its result.
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
  private readonly onWorker: (worker: Worker) => void;
  /**
   * Set by close() and destroy(): from then on no new task is taken, and tasks that fail may have
   * workers being terminated.
   */
  private closing = false;
  /** Ids lent to a task still running (runWithLoans): each to one task at a time. */
  private readonly lent = new Set<number>();
  /** Watched workers that have not exited yet. */
  private readonly live = new Set<Worker>();
  /** piscina's workers when close() or destroy() began (see the constructor's onWorker). */
  private readonly closingWorkers = new Set<Worker>();

  /**
   * Creates the Piscina, and the pool unless `options.pool` is one already, and merges the pool
   * handle into `workerData` so that `getPool()` finds it in every worker. Each worker piscina
   * starts is watched from then on: when it exits, however it exits, its slabs come back.
   * @param options piscina's options, plus `pool`; every member is optional.
   * @throws {TypeError} `options.workerData` is neither undefined nor a plain object (the pool
   *   handle is merged into it as a property); or a pool option in `options.pool` is not of the
   *   right type; or one of piscina's options is not (piscina's own checks: `filename`,
   *   `minThreads`, `maxThreads`, `idleTimeout`...).
   * @throws {RangeError} a pool option in `options.pool` is out of range (or, with that option not
   *   given, a `ZEROPOOL_*` environment variable holds a value it does not allow; see `SlabPool`);
   *   or `options.minThreads` is above `options.maxThreads`.
   */
  constructor(options: SlabPiscinaOptions = {}) {
    const { pool: poolOption, workerData, ...piscinaOptions } = options;
    if (workerData !== undefined && (workerData === null || typeof workerData !== 'object' || Array.isArray(workerData))) {
      throw new TypeError(
        `options.workerData must be a plain object or undefined, so the pool handle can be merged into it; received ${Array.isArray(workerData) ? 'an array' : typeof workerData}`,
      );
    }
    const pool = poolOption instanceof SlabPool ? poolOption : new SlabPool(poolOption);
    // piscina does not hand out its Worker objects (its 'workerCreate' event carries an id only,
    // comes only once a worker is ready, and reads -1 after a crash). Node's process-wide 'worker'
    // event does, from process.nextTick after each `new Worker()`; piscina has put the worker in
    // its list by then. close() and destroy() may take a worker out of the list before Node
    // announces it, so they remember the list as it was when they began (closingWorkers).
    const onWorker = (worker: Worker): void => {
      if (!this.threads.includes(worker) && !this.closingWorkers.has(worker)) return;
      this.live.add(worker);
      worker.once('exit', () => this.live.delete(worker));
      // Exactly once per worker, on its own 'exit', however it ends.
      pool.watch(worker, (report) => this.emit('reclaim', report));
    };
    super({ ...piscinaOptions, workerData: { ...(workerData as object | undefined), [HANDLE_KEY]: pool.handle } });
    // Registered only once piscina accepted its options (a constructor that throws must not leave a
    // process-wide listener behind), and still in time: Node emits 'worker' from process.nextTick,
    // after this constructor returns, also for the workers piscina started inside super().
    process.on('worker', onWorker);
    this.pool = pool;
    this.onWorker = onWorker;
  }

  /**
   * Runs a task that carries slab ids the worker will take over (main fills, worker releases). If
   * the task fails while an id still names this thread as holder (the worker never took it), the
   * id is released here, so a crashed task loses no slab.
   * @throws {TypeError} `ids` is not an array (at once, before the task runs).
   * @throws {SlabStateError} an element of `ids` is not an acquired slab of the pool (at once).
   * @throws {Error} an id is lent to a task still running (`code: 'ERR_SLAB_LENT'`, at once).
   * @throws {Error} (as a rejection) this SlabPiscina was closed or destroyed
   *   (`code: 'ERR_PISCINA_CLOSED'`); the ids are released here.
   * @throws whatever the task throws or rejects with (piscina's errors, the worker's errors).
   * @example
   * ```ts
   * const id = piscina.pool.acquire(payload.length);
   * piscina.pool.bytes(id).set(payload);
   * // The task takes the slab with takeSlab(id, length) and releases it.
   * const digest = await piscina.runWithSlabs({ id, length: payload.length }, [id]);
   * ```
   */
  runWithSlabs(task: T, ids: readonly number[], options?: RunOptions): Promise<R> {
    const own = this.idList(ids, 'runWithSlabs');
    const result = this.run(task, options);
    // The caller gets piscina's own promise, and this handler, attached first, runs before any of
    // the caller's: no wrapper promise and no extra microtask hop on a path whose whole cost is a
    // round trip (an async function with try/await measured about 0.4 us more per task).
    // Only ids the worker never adopted come back: releaseIfHeld decides that in one
    // compare-exchange against an adopt still running in a worker that piscina is terminating.
    // The others are the worker's, released by it or by the reclaim of its exit.
    result.then(undefined, () => this.settle(own, true));
    return result;
  }

  /**
   * Runs a task that views slabs this thread lends it for the task's duration (main lends, main
   * releases): the worker calls `viewSlab(id, length)` and must not release the ids or keep their
   * views after it returns. When the task settles, the ids are released here, before any handler
   * of the caller runs. If piscina is terminating the task's worker (the task was aborted, or the
   * Piscina is being destroyed or closed), the worker may not have stopped yet: ids it viewed are
   * left to the reclaim that runs when it has exited, not released under it. An id already
   * released (against the rule) is skipped. An id is lent to one task at a time: lending it again
   * before its task settles throws (the first task to settle would free it under the other).
   * @throws {TypeError} `ids` is not an array (at once, before the task runs).
   * @throws {SlabStateError} an element of `ids` is not an acquired slab of the pool (at once).
   * @throws {Error} an id is already lent to a task still running (`code: 'ERR_SLAB_LENT'`, at once).
   * @throws {Error} (as a rejection) this SlabPiscina was closed or destroyed
   *   (`code: 'ERR_PISCINA_CLOSED'`); the ids are released here.
   * @throws whatever the task throws or rejects with (piscina's errors, the worker's errors).
   * @example
   * ```ts
   * const id = piscina.pool.acquire(payload.length);
   * piscina.pool.bytes(id).set(payload);
   * // The task reads the slab with viewSlab(id, length) and leaves it alone after it returns.
   * const digest = await piscina.runWithLoans({ id, length: payload.length }, [id]);
   * // id is released by now; the next acquire of that size reuses it from this thread's cache
   * ```
   */
  runWithLoans(task: T, ids: readonly number[], options?: RunOptions): Promise<R> {
    const own = this.idList(ids, 'runWithLoans');
    for (const id of own) this.lent.add(id);
    let result: Promise<R>;
    try {
      result = this.run(task, options);
    } catch (error) {
      for (const id of own) this.lent.delete(id);
      throw error;
    }
    // Attached first, so the slabs are back before the caller's handlers run (see runWithSlabs).
    result.then(
      () => this.settle(own, false, true),
      (error: unknown) => this.settle(own, this.closing || isTermination(error), true),
    );
    return result;
  }

  /**
   * Runs a task (see piscina's `run`); once `close()` or `destroy()` was called, rejects instead
   * (`code: 'ERR_PISCINA_CLOSED'`): workers started after that would not be watched.
   * @throws {Error} (as a rejection) this SlabPiscina was closed or destroyed
   *   (`code: 'ERR_PISCINA_CLOSED'`).
   * @throws whatever piscina's `run` rejects with (an invalid option, an abort, a full queue) and
   *   whatever the task throws or rejects with.
   * @example
   * ```ts
   * const result = await piscina.run({ size: 4096 });
   * ```
   */
  override run(task: T, options?: RunOptions): Promise<R> {
    if (this.closing) {
      const error = new Error('SlabPiscina: close() or destroy() was called; it takes no new tasks');
      return Promise.reject(Object.assign(error, { code: 'ERR_PISCINA_CLOSED' }));
    }
    return super.run(task, options);
  }

  /**
   * A copy of the ids a task carries, taken and checked when it starts (the caller may reuse its
   * array): each must be an acquired slab of the pool, not lent to a task still running, and is
   * listed once.
   */
  private idList(ids: readonly number[], caller: string): readonly number[] {
    if (!Array.isArray(ids)) {
      throw new TypeError(`${caller}: ids must be an array of slab ids; received ${ids === null ? 'null' : typeof ids}`);
    }
    const own = ids.length === 1 ? [ids[0]] : [...new Set(ids)];
    for (const id of own) {
      this.pool.holderOf(id); // throws SlabStateError for what is not an acquired slab
      if (this.lent.has(id)) {
        const error = new Error(
          `${caller}: id ${id} is lent to a task still running; lend a slab to one task at a time (its release when that task settles would free it under this one)`,
        );
        throw Object.assign(error, { code: 'ERR_SLAB_LENT' });
      }
    }
    return own;
  }

  /**
   * Gives back ids after a task settled: all of them (`onlyHeld` false: the task is over, its
   * worker done with them), or only those this thread still holds (`onlyHeld` true: the worker
   * never adopted them, or it may still be running). Never throws: this runs in a promise handler
   * nobody awaits, where a throw would be an unhandled rejection (which ends the process).
   */
  private settle(ids: readonly number[], onlyHeld: boolean, lent = false): void {
    for (const id of ids) {
      if (lent) this.lent.delete(id);
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
  }

  /**
   * Takes over a slab id a worker returned (worker fills, main receives): records this thread as
   * its holder and returns a view of its first `length` bytes. Call it as soon as the result
   * arrives; release the id when done.
   * @throws {SlabStateError} `id` is not an acquired slab (for example, the worker released it).
   * @throws {RangeError} `length` is not an integer from 0 to the slab's capacity; nothing changes hands.
   * @example
   * ```ts
   * import { createHash } from 'node:crypto';
   * // fill.mjs fills a slab it got from lendSlab(size) and returns { id, length }.
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
   * Closes the Piscina (see piscina's `close`), and resolves once every worker it started has
   * exited and had its slabs reclaimed (a worker stuck in a blocking call delays that).
   * @throws {TypeError} (as a rejection) `options` is not an object, or `options.force` is not a
   *   boolean (piscina's checks).
   * @example
   * ```ts
   * await piscina.close();
   * ```
   */
  override async close(options?: Parameters<Piscina['close']>[0]): Promise<void> {
    // piscina's own checks, first: options it refuses must leave this SlabPiscina open.
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
   * let go (an aborted task's) exits late.
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

  private beginClosing(): void {
    this.closing = true;
    for (const worker of this.threads) this.closingWorkers.add(worker);
  }

  /**
   * After piscina's close or destroy: waits until every watched worker has exited (so each has
   * been reclaimed), then stops listening for new workers. A worker piscina had already let go
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
      process.off('worker', this.onWorker);
      this.closingWorkers.clear();
    }
  }
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
export { HANDLE_KEY };
