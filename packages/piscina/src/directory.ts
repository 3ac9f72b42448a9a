/**
 * How a worker finds the pool of the SlabPiscina that started it, without touching `workerData`.
 *
 * Node copies a thread's environment data (`setEnvironmentData`) into every worker when the worker
 * is constructed. Each SlabPiscina publishes its pool handle there under a number of its own
 * before piscina can start a worker, so every worker it starts carries that handle. Which of the
 * handles a worker carries is its own is told by the directory: a small shared table, also in the
 * environment data, that maps a worker's `threadId` to the number of its SlabPiscina. The main
 * thread writes a worker's entry when Node announces the worker (its process-wide `'worker'`
 * event, on the next tick after `new Worker()`) and erases it on the worker's `'exit'`; the worker
 * reads its entry, waiting if the main thread has not written it yet.
 *
 * Directory layout (Int32 words):
 *
 *     [0] NEXT_POOL   last SlabPiscina number handed out (numbers start at 1)
 *     [1] VERSION     bumped, and notified, after each entry written
 *     [2 + 2i]        entry i: threadId, or FREE (never used), TOMBSTONE (erased), BUSY (being written)
 *     [3 + 2i]        entry i: SlabPiscina number, published by the threadId store above
 *
 * Entries are an open-addressing table probed linearly from `threadId % ENTRY_COUNT` (thread ids
 * are sequential, so live workers spread evenly). A reader stops at a FREE cell, never at a
 * TOMBSTONE or BUSY one, so erasing never hides an entry further along.
 * @internal
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import type { PoolHandle } from '@zeropool/core';

const DIRECTORY_KEY = '@zeropool/piscina:directory';
const POOL_KEY_PREFIX = '@zeropool/piscina:pool:';

const NEXT_POOL = 0;
const VERSION = 1;
const ENTRIES = 2;
/** Live SlabPiscina workers the directory holds at once, in the whole process. */
export const ENTRY_COUNT = 4096;
const FREE = 0; // thread ids of workers start at 1
const TOMBSTONE = -1;
const BUSY = -2;

/** The process's directory: inherited from the thread that started this one, or created here. */
function directory(create: boolean): Int32Array | undefined {
  const existing = getEnvironmentData(DIRECTORY_KEY);
  if (existing instanceof SharedArrayBuffer) return new Int32Array(existing);
  if (!create) return undefined;
  const buffer = new SharedArrayBuffer((ENTRIES + 2 * ENTRY_COUNT) * 4);
  setEnvironmentData(DIRECTORY_KEY, buffer);
  return new Int32Array(buffer);
}

/** Publishes a pool handle for the workers started from now on; returns its number. */
export function publishPool(handle: PoolHandle, number?: number): number {
  const words = directory(true) as Int32Array;
  // Atomics.add: numbers are unique across every thread that shares the directory.
  const assigned = number ?? Atomics.add(words, NEXT_POOL, 1) + 1;
  setEnvironmentData(`${POOL_KEY_PREFIX}${assigned}`, handle);
  return assigned;
}

/** Stops handing the pool to workers started from now on (they would keep its arena alive). */
export function withdrawPool(number: number): void {
  setEnvironmentData(`${POOL_KEY_PREFIX}${number}`, undefined);
}

/**
 * Records that worker `threadId` belongs to SlabPiscina `number`. Returns false when the directory
 * is full (ENTRY_COUNT live workers): that worker's `getPool()` then fails.
 */
export function registerWorker(threadId: number, number: number): boolean {
  const words = directory(true) as Int32Array;
  for (let i = 0; i < ENTRY_COUNT; i++) {
    const cell = ENTRIES + 2 * ((threadId + i) % ENTRY_COUNT);
    const seen = Atomics.load(words, cell);
    if (seen !== FREE && seen !== TOMBSTONE) continue;
    // compareExchange claims the cell against another thread registering its own workers.
    if (Atomics.compareExchange(words, cell, seen, BUSY) !== seen) continue;
    words[cell + 1] = number;
    // The store of the thread id publishes the number written before it.
    Atomics.store(words, cell, threadId);
    Atomics.add(words, VERSION, 1);
    Atomics.notify(words, VERSION);
    return true;
  }
  return false;
}

/** Erases the entry of an exited worker. */
export function unregisterWorker(threadId: number): void {
  const words = directory(false);
  if (words === undefined) return;
  for (let i = 0; i < ENTRY_COUNT; i++) {
    const cell = ENTRIES + 2 * ((threadId + i) % ENTRY_COUNT);
    const seen = Atomics.load(words, cell);
    if (seen === FREE) return;
    if (seen === threadId) {
      Atomics.store(words, cell, TOMBSTONE);
      return;
    }
  }
}

/**
 * The pool handle of the SlabPiscina that started thread `threadId` (this worker), waiting up to
 * `timeoutMs` for the main thread to write its entry. Undefined if it never does: this thread was
 * not started by a SlabPiscina (or the directory was full).
 */
export function findPool(threadId: number, timeoutMs: number): PoolHandle | undefined {
  const words = directory(false);
  if (words === undefined) return undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const version = Atomics.load(words, VERSION);
    for (let i = 0; i < ENTRY_COUNT; i++) {
      const cell = ENTRIES + 2 * ((threadId + i) % ENTRY_COUNT);
      // Atomics.load acquires the number the registering thread wrote before the thread id.
      const seen = Atomics.load(words, cell);
      if (seen === FREE) break;
      if (seen === threadId) return getEnvironmentData(`${POOL_KEY_PREFIX}${words[cell + 1]}`) as PoolHandle | undefined;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return undefined;
    // Sleeps until the next entry is written anywhere (or the time is up), then looks again.
    Atomics.wait(words, VERSION, version, remaining);
  }
}
