/**
 * Error classes. Each carries a stable `code`; messages name the argument, the value received and
 * what was allowed.
 */

/**
 * Thrown by `acquire` and `get` when no slab of the class is free and the arena has no room left.
 * Slabs sitting in other threads' caches do not count as free. `acquireAsync` waits instead;
 * `tryAcquire` returns -1.
 * @example
 * ```ts
 * try {
 *   const id = pool.acquire(payload.length);
 *   pool.bytes(id).set(payload);
 *   worker.postMessage({ id, length: payload.length });
 * } catch (error) {
 *   if (!(error instanceof PoolExhaustedError)) throw error;
 *   worker.postMessage(payload); // the pool is full: fall back to a copy
 * }
 * ```
 */
export class PoolExhaustedError extends Error {
  /** Always `'ERR_POOL_EXHAUSTED'`; test it (or `instanceof`) rather than the message. */
  readonly code = 'ERR_POOL_EXHAUSTED' as const;
  /** The size that was asked for. */
  readonly requestedSize: number;
  /** The capacity of the class it rounds up to. */
  readonly slabSize: number;
  /** Arena bytes in use when the request failed: the tables and the pages carved into a class. */
  readonly usedBytes: number;
  /** Size of the arena in bytes. */
  readonly arenaBytes: number;
  /**
   * Bytes of free slabs of other classes, in pages that also hold slabs in use or cached (a page
   * goes back to the arena, for any class, only when every slab of it is free).
   */
  readonly freeElsewhereBytes: number;
  /** Bytes of slabs in thread caches, every class: `flush()` or `trim()` in those threads hands them back. */
  readonly cachedBytes: number;

  /**
   * Creates the error and its message, which names the class, how full the arena is, where free
   * memory sits and what would help. The pool creates it; each argument becomes the field of the
   * same name.
   */
  constructor(
    requestedSize: number,
    slabSize: number,
    usedBytes: number,
    arenaBytes: number,
    where: { freeElsewhereBytes: number; cachedBytes: number } = { freeElsewhereBytes: 0, cachedBytes: 0 },
  ) {
    const percent = ((usedBytes / arenaBytes) * 100).toFixed(1);
    const help = [
      where.cachedBytes > 0
        ? `${where.cachedBytes} bytes sit in thread caches: call flush() or trim() in threads gone idle (their caches keep the slabs they released)`
        : '',
      where.freeElsewhereBytes > 0
        ? `${where.freeElsewhereBytes} bytes are free in pages of other classes that still hold slabs in use (a page goes back to the arena only when all its slabs are free)`
        : '',
      'release slabs no longer needed, wait with acquireAsync(), or create the pool with a larger arenaBytes',
    ].filter((text) => text !== '');
    super(
      `pool exhausted: no free slab of class ${slabSize} bytes for a request of ${requestedSize} bytes, ` +
        `and no page to carve (${usedBytes} of ${arenaBytes} arena bytes carved, ${percent}%): ${help.join('; ')}`,
    );
    this.name = 'PoolExhaustedError';
    this.requestedSize = requestedSize;
    this.slabSize = slabSize;
    this.usedBytes = usedBytes;
    this.arenaBytes = arenaBytes;
    this.freeElsewhereBytes = where.freeElsewhereBytes;
    this.cachedBytes = where.cachedBytes;
  }
}

/**
 * Thrown by `release`, `bytes` and `capacity` for an id that is not currently acquired from this
 * pool: released twice, released after the slab was handed out again, never handed out, from
 * another pool, or not an id at all. The pool is unchanged. `adopt`, `holderOf` and
 * `lease.release()` throw it for the same ids, and all of these throw it for any id once the pool
 * object was closed.
 * @example
 * ```ts
 * const id = pool.acquire(64);
 * pool.release(id);
 * try {
 *   pool.release(id); // a second release
 * } catch (error) {
 *   if (error instanceof SlabStateError) console.error(error.code, error.id, error.message); // says which
 * }
 * ```
 */
export class SlabStateError extends Error {
  /** Always `'ERR_SLAB_STATE'`; test it (or `instanceof`) rather than the message. */
  readonly code = 'ERR_SLAB_STATE' as const;
  /** The value that was passed as an id. */
  readonly id: unknown;

  /**
   * Creates the error. The pool creates it; the message names the id and `reason`.
   * @param id the value that was passed as an id.
   * @param reason why it is not an acquired slab: released, stale, never handed out, closed pool.
   */
  constructor(id: unknown, reason: string) {
    super(`id ${describe(id)} is not an acquired slab of this pool: ${reason}`);
    this.name = 'SlabStateError';
    this.id = id;
  }
}

/** Formats a value for an error message without throwing on anything. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (typeof value === 'object') {
    try {
      return describeObject(value);
    } catch {
      return 'an object'; // a proxy whose trap throws, or a revoked one
    }
  }
  return String(value);
}

/** An object by kind: an array, a view or buffer with its size, a class instance, or a plain object's keys. */
function describeObject(value: object): string {
  if (Array.isArray(value)) return 'an array';
  // Views and buffers by kind and size: "a Uint8Array of 128 bytes" says more than its tag.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return `${article(kindOf(value))} of ${value.byteLength} bytes`;
  }
  const kind = kindOf(value);
  if (kind !== 'Object') return `${article(kind)} object`;
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an empty object';
  return `an object { ${keys.slice(0, 6).join(', ')}${keys.length > 6 ? ', ...' : ''} }`;
}

/** The constructor name of an object (its tag when it has none), read without running its code. */
function kindOf(value: object): string {
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  const prototype = Object.getPrototypeOf(value) as object | null;
  const maker: unknown = prototype === null ? undefined : Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value;
  const name: unknown = typeof maker === 'function' ? Object.getOwnPropertyDescriptor(maker, 'name')?.value : undefined;
  // esbuild names a class that refers to itself `class _SlabPool`: the user knows it as SlabPool.
  return typeof name === 'string' && name !== '' ? name.replace(/^_(?=.)/, '') : tag;
}

/** "an" before a vowel sound, as far as type names go ("an Int32Array", "a Uint8Array"). */
const article = (noun: string): string => `${/^[AEIOaeio]/.test(noun) ? 'an' : 'a'} ${noun}`;

/** `message`, then `: fix` when there is one: how the house form ends. */
const withFix = (message: string, fix: string | undefined): string => (fix === undefined ? message : `${message}: ${fix}`);

/**
 * A TypeError with Node's `ERR_INVALID_ARG_TYPE` code: "`argument` must be `expected`; received
 * `value` (its type)", then ": `fix`" when given.
 */
export function invalidType(argument: string, value: unknown, expected: string, fix?: string): TypeError {
  const error = new TypeError(withFix(`${argument} must be ${expected}; received ${describe(value)} (${typeof value})`, fix));
  (error as TypeError & { code: string }).code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

/** The error of any call on a pool object after its `close()` (`ERR_POOL_CLOSED`). */
export function closedError(): Error {
  const error = new Error('this SlabPool object was closed; attach again to use the pool from this thread');
  (error as Error & { code: string }).code = 'ERR_POOL_CLOSED';
  return error;
}

/**
 * A RangeError with Node's `ERR_OUT_OF_RANGE` code: "`argument` must be `allowed`; received
 * `value`", then ": `fix`" when given.
 */
export function outOfRange(argument: string, value: unknown, allowed: string, fix?: string): RangeError {
  const error = new RangeError(withFix(`${argument} must be ${allowed}; received ${describe(value)}`, fix));
  (error as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return error;
}

/**
 * A TypeError with the code `ERR_UNKNOWN_OPTION` for an option nobody reads, so that a misspelt
 * option is not silently ignored: names the option, the options `argument` takes, and the closest
 * of them when one is close.
 * @param argument the options argument, e.g. `'options'`.
 * @param key the unknown option.
 * @param known the options `argument` takes.
 * @param note why the list is what it is, when that is not obvious.
 */
export function unknownOption(argument: string, key: string, known: readonly string[], note?: string): TypeError {
  const list = known.length === 1 ? known[0] : `${known.slice(0, -1).join(', ')} and ${known.at(-1)}`;
  const closest = closestName(key, known);
  const fix = closest === undefined ? `remove it, or spell one of those` : `did you mean ${closest}?`;
  const error = new TypeError(
    `${argument} must hold only ${list}${note === undefined ? '' : ` (${note})`}; received an option ${describe(key)}: ${fix}`,
  );
  (error as TypeError & { code: string }).code = 'ERR_UNKNOWN_OPTION';
  return error;
}

/**
 * The name of `names` closest to `name`, case aside: one that contains it or is contained in it
 * (5 letters or more), else the fewest edits, if no more than about half its length.
 */
function closestName(name: string, names: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.ceil(name.length / 2) + 1;
  for (const candidate of names) {
    const other = candidate.toLowerCase();
    const contained = Math.min(lower.length, other.length) >= 5 && (other.includes(lower) || lower.includes(other));
    const distance = contained ? 0 : editDistance(lower, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Thrown by `acquire` in debug mode when the slab it was about to return was written after its
 * last release: its poison pattern is broken. The slab is re-poisoned and kept in the pool. The
 * same holds for `tryAcquire`, `get` and `acquireAsync`, which acquire the same way (a slab an
 * `acquireAsync` waiter receives from a release is reported with a warning instead).
 * @example
 * ```ts
 * const pool = new SlabPool({ debug: true });
 * const id = pool.acquire(64);
 * const view = pool.bytes(id);
 * pool.release(id);
 * view[10] = 1; // a write after release
 * try {
 *   pool.acquire(64); // the same slab, back from this thread's cache
 * } catch (error) {
 *   if (error instanceof SlabCorruptionError) console.error(error.releasedId === id, error.offset); // true 10
 * }
 * ```
 */
export class SlabCorruptionError extends Error {
  /** Always `'ERR_SLAB_WRITTEN_AFTER_RELEASE'`; test it (or `instanceof`) rather than the message. */
  readonly code = 'ERR_SLAB_WRITTEN_AFTER_RELEASE' as const;
  /** The id the slab had when it was released (the id whose holder wrote after release). */
  readonly releasedId: number;
  /** Offset of the first modified byte within the slab. */
  readonly offset: number;

  /**
   * Creates the error. The pool creates it; the message names the released id, the offset and
   * the slab's capacity in bytes.
   */
  constructor(releasedId: number, offset: number, capacity: number) {
    super(
      `slab of released id ${releasedId} was written after its release: byte ${offset} of ${capacity} ` +
        'no longer holds the poison pattern (debug mode); look for a holder that kept using the id or its view',
    );
    this.name = 'SlabCorruptionError';
    this.releasedId = releasedId;
    this.offset = offset;
  }
}

/**
 * Rejects `acquireAsync` when `timeoutMs` passes before a slab of the class comes free.
 * @example
 * ```ts
 * try {
 *   const id = await pool.acquireAsync(65536, { timeoutMs: 100 });
 *   pool.release(id);
 * } catch (error) {
 *   if (!(error instanceof AcquireTimeoutError)) throw error;
 *   console.warn(`no ${error.requestedSize}-byte slab came free within ${error.timeoutMs} ms`);
 * }
 * ```
 */
export class AcquireTimeoutError extends Error {
  /** Always `'ERR_ACQUIRE_TIMEOUT'`; test it (or `instanceof`) rather than the message. */
  readonly code = 'ERR_ACQUIRE_TIMEOUT' as const;
  /** The size that was asked of `acquireAsync`. */
  readonly requestedSize: number;
  /** The `timeoutMs` option that passed without a slab. */
  readonly timeoutMs: number;

  /**
   * Creates the error. The pool creates it; the message names the timeout, the class and the size
   * asked for.
   */
  constructor(requestedSize: number, slabSize: number, timeoutMs: number) {
    super(
      `acquireAsync timed out after ${timeoutMs} ms waiting for a slab of class ${slabSize} bytes (request of ${requestedSize} bytes)`,
    );
    this.name = 'AcquireTimeoutError';
    this.requestedSize = requestedSize;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown by `reclaim` for a thread that is still running, as far as the pool can tell: the calling
 * thread, a worker this pool object watches (`watch`) that has not exited, or any thread whose
 * attached pool object answers a liveness check (or cannot be told from an exited one yet: see
 * the README's "How it works"). Nothing is changed.
 * @example
 * ```ts
 * import { threadId } from 'node:worker_threads';
 * try {
 *   pool.reclaim(threadId); // the calling thread is alive by definition
 * } catch (error) {
 *   if (error instanceof ReclaimLiveThreadError) console.error(error.code, error.threadId);
 * }
 * ```
 */
export class ReclaimLiveThreadError extends Error {
  /** Always `'ERR_RECLAIM_LIVE_THREAD'`; test it (or `instanceof`) rather than the message. */
  readonly code = 'ERR_RECLAIM_LIVE_THREAD' as const;
  /** The `threadId` that was passed to `reclaim`. */
  readonly threadId: number;

  /**
   * Creates the error. The pool creates it; the message names the thread and `reason`.
   * @param threadId the thread that was not reclaimed.
   * @param reason why the thread counts as running.
   */
  constructor(threadId: number, reason: string) {
    super(`refusing to reclaim thread ${threadId}: ${reason}; reclaim only threads that have exited`);
    this.name = 'ReclaimLiveThreadError';
    this.threadId = threadId;
  }
}

/**
 * Thrown by any pool operation that waited `lockTimeoutMs` for a shard lock still held by another
 * thread: that thread most likely died inside a critical section and has not been reclaimed. Call
 * `reclaim(error.holderThreadId)` (or `watch` the worker), then retry. What the call that threw
 * had done: `acquire`, `tryAcquire`, `get` and `acquireAsync` changed nothing; `flush` had handed
 * back the classes before the one whose lock it waited for, and keeps the rest. `release` never
 * throws it: a release whose cache spill finds the home shard's lock held tries the other shards,
 * and if every one is held, keeps the spilled slabs in this thread (still counted as cached by
 * it; refills use them first, a later `flush` files them) and emits one `ZeropoolWarning`.
 * @example
 * ```ts
 * import { LockTimeoutError, SlabPool } from '@zeropool/core';
 * const pool = new SlabPool({ lockTimeoutMs: 2000 });
 * try {
 *   pool.release(pool.acquire(64));
 * } catch (error) {
 *   if (error instanceof LockTimeoutError) console.error(`lock held by thread ${error.holderThreadId}`);
 * }
 * ```
 */
export class LockTimeoutError extends Error {
  /** Always `'ERR_LOCK_TIMEOUT'`. */
  readonly code = 'ERR_LOCK_TIMEOUT' as const;
  /** The thread slot the lock word names as its holder. */
  readonly holderSlot: number;
  /** The `threadId` of the thread that claimed that slot, or -1 if the slot is no longer claimed. */
  readonly holderThreadId: number;

  /**
   * Describes a lock wait that gave up.
   * @param holderSlot the thread slot holding the lock.
   * @param timeoutMs how long the caller waited.
   * @param holderThreadId the threadId that claimed the slot, or -1 if unknown.
   */
  constructor(holderSlot: number, timeoutMs: number, holderThreadId = -1) {
    const who = holderThreadId >= 0 ? `thread ${holderThreadId} (slot ${holderSlot})` : `thread slot ${holderSlot}`;
    const call = holderThreadId >= 0 ? `reclaim(${holderThreadId})` : 'reclaim(threadId)';
    super(
      `a pool lock has been held by ${who} for ${timeoutMs} ms; that thread most likely died inside a critical ` +
        `section and was not reclaimed: ${call} it (or watch the worker), then retry. No slab was lost ` +
        '(LockTimeoutError in the API reference says what the call that threw had done).',
    );
    this.name = 'LockTimeoutError';
    this.holderSlot = holderSlot;
    this.holderThreadId = holderThreadId;
  }
}

/** The codes of {@link ChannelError}. */
export type ChannelErrorCode =
  | 'ERR_CHANNEL_CLOSED'
  | 'ERR_CHANNEL_DESTROYED'
  | 'ERR_CHANNEL_TIMEOUT'
  | 'ERR_CHANNEL_BUSY'
  | 'ERR_TOO_MANY_CHANNELS';

/**
 * Thrown by a channel end for a call the channel's state refuses, with a `code`:
 * - `ERR_CHANNEL_CLOSED`: a send on a sender end that was closed, or a new sender once the stream
 *   has ended;
 * - `ERR_CHANNEL_DESTROYED`: any call after `destroy()` (the message says whether the slab of a
 *   send that met it is still the caller's);
 * - `ERR_CHANNEL_TIMEOUT`: `timeoutMs` passed in a waiting send or receive;
 * - `ERR_CHANNEL_BUSY`: `sender()` when every lane has a running sender, or `receiver()` when
 *   another thread's receiver is open;
 * - `ERR_TOO_MANY_CHANNELS`: `pool.channel()` when all of the pool's channel numbers are taken.
 * The channel is unchanged by the call that threw.
 * @example
 * ```ts
 * import { ChannelError, type ChannelSender } from '@zeropool/core';
 * declare const sender: ChannelSender;
 * declare const id: number;
 * try {
 *   sender.sendBlocking(id, { timeoutMs: 100 });
 * } catch (error) {
 *   if (error instanceof ChannelError && error.code === 'ERR_CHANNEL_TIMEOUT') console.warn('the receiver fell behind');
 *   else throw error;
 * }
 * ```
 */
export class ChannelError extends Error {
  /** What was refused; test it rather than the message. */
  readonly code: ChannelErrorCode;

  /** Creates the error. Channel ends create it; the message says what was refused and what to do. */
  constructor(code: ChannelErrorCode, message: string) {
    super(message);
    this.name = 'ChannelError';
    this.code = code;
  }
}
