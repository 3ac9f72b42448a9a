/**
 * Error classes. Each carries a stable `code`; messages name the argument, the value received and
 * what was allowed.
 */

/** Thrown by `acquire` and `get` when no slab of the class is free and the arena has no room left. */
export class PoolExhaustedError extends Error {
  readonly code = 'ERR_POOL_EXHAUSTED' as const;
  /** The size that was asked for. */
  readonly requestedSize: number;
  /** The capacity of the class it rounds up to. */
  readonly slabSize: number;
  /** Bytes of the arena in use when the request failed. */
  readonly usedBytes: number;
  readonly arenaBytes: number;

  constructor(requestedSize: number, slabSize: number, usedBytes: number, arenaBytes: number) {
    const percent = ((usedBytes / arenaBytes) * 100).toFixed(1);
    super(
      `pool exhausted: no free slab of class ${slabSize} bytes for a request of ${requestedSize} bytes, ` +
        `and no room to carve another page (${usedBytes} of ${arenaBytes} arena bytes in use, ${percent}%)`,
    );
    this.name = 'PoolExhaustedError';
    this.requestedSize = requestedSize;
    this.slabSize = slabSize;
    this.usedBytes = usedBytes;
    this.arenaBytes = arenaBytes;
  }
}

/**
 * Thrown by `release`, `bytes` and `capacity` for an id that is not currently acquired from this
 * pool: released twice, released after the slab was handed out again, never handed out, from
 * another pool, or not an id at all. The pool is unchanged.
 */
export class SlabStateError extends Error {
  readonly code = 'ERR_SLAB_STATE' as const;
  /** The value that was passed as an id. */
  readonly id: unknown;

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
  if (typeof value === 'object')
    return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value)})`;
  return String(value);
}

/** A TypeError with Node's `ERR_INVALID_ARG_TYPE` code. */
export function invalidType(argument: string, value: unknown, expected: string): TypeError {
  const error = new TypeError(`${argument} must be ${expected}; received ${describe(value)} (${typeof value})`);
  (error as TypeError & { code: string }).code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

/** A RangeError with Node's `ERR_OUT_OF_RANGE` code. */
export function outOfRange(argument: string, value: unknown, allowed: string): RangeError {
  const error = new RangeError(`${argument} must be ${allowed}; received ${describe(value)}`);
  (error as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return error;
}

/**
 * Thrown by `acquire` in debug mode when the slab it was about to return was written after its
 * last release: its poison pattern is broken. The slab is re-poisoned and kept in the pool.
 */
export class SlabCorruptionError extends Error {
  readonly code = 'ERR_SLAB_WRITTEN_AFTER_RELEASE' as const;
  /** The id the slab had when it was released (the id whose holder wrote after release). */
  readonly releasedId: number;
  /** Offset of the first modified byte within the slab. */
  readonly offset: number;

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

/** Rejects `acquireAsync` when `timeoutMs` passes before a slab of the class comes free. */
export class AcquireTimeoutError extends Error {
  readonly code = 'ERR_ACQUIRE_TIMEOUT' as const;
  readonly requestedSize: number;
  readonly timeoutMs: number;

  constructor(requestedSize: number, slabSize: number, timeoutMs: number) {
    super(
      `acquireAsync timed out after ${timeoutMs} ms waiting for a slab of class ${slabSize} bytes (request of ${requestedSize} bytes)`,
    );
    this.name = 'AcquireTimeoutError';
    this.requestedSize = requestedSize;
    this.timeoutMs = timeoutMs;
  }
}

/** Thrown by `reclaim` for a thread that is still running. */
export class ReclaimLiveThreadError extends Error {
  readonly code = 'ERR_RECLAIM_LIVE_THREAD' as const;
  readonly threadId: number;

  constructor(threadId: number, reason: string) {
    super(`refusing to reclaim thread ${threadId}: ${reason}; reclaim only threads that have exited`);
    this.name = 'ReclaimLiveThreadError';
    this.threadId = threadId;
  }
}
