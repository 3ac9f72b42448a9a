/**
 * `acquireAsync`: waiting for a slab of an exhausted class without polling. Each class has a
 * reserved list and a wake-up sequence word on its reserved line. While any thread waits on the
 * class, `release` anywhere puts the slab in the reserved list (not in the releaser's cache) and
 * bumps the sequence; waiters sleep in `Atomics.waitAsync` on the sequence and take from the
 * reserved list first. Ordinary acquires never take from reserved lists, so a waiter cannot be
 * starved by threads that keep acquiring.
 */
import { AcquireTimeoutError, closedError, invalidType, outOfRange } from './errors.js';
import { type ArenaLayout, H_WAITING_CLASSES, RESERVED_BUSY, S_SEQUENCE, S_WAITERS, reservedWord } from './layout.js';
import { unlock } from './lock.js';
import { STEPS, step } from './steps.js';
import type { AcquireAsyncOptions } from './types.js';

export interface WaitContext {
  readonly words: Int32Array;
  readonly layout: ArenaLayout;
  /** This pool object's pending `acquireAsync` calls per class (its own memory: nobody else counts them). */
  readonly pending: number[];
  /** Int32 index of this slot's waiting bits (`T_WAITING`), a bit per class with calls pending. */
  readonly waitingWord: number;
  isClosed(): boolean;
  /** True once close() has withdrawn this object's waits (its slot may be another thread's now). */
  waitsRetracted(): boolean;
  /** An ordinary acquire of class `c` (cache, shards, carving); -1 when exhausted. */
  take(c: number): number;
  /** An acquire from class `c`'s reserved list; -1 when empty, -2 when its lock is not free at once. */
  takeReserved(c: number): number;
  lockLine(line: number): void;
  /** Takes the lock `line` if it can within `ms` milliseconds; false if not. */
  tryLockLine(line: number, ms: number): boolean;
  /**
   * Moves class `c`'s reserved slabs back to a shard; called with the reserved lock held. Never
   * throws: slabs it cannot place stay in the reserved list, and it tries again later.
   */
  drain(c: number): void;
  countExhausted(): void;
  /** True if any page of the arena has been carved into class `c`. */
  classHasSlabs(c: number): boolean;
  exhaustedError(size: number): Error;
  slabSize(c: number): number;
  /** Asks every other attached thread to hand back its cached slabs of class `c`. */
  requestFlushes(c: number): void;
}

export async function waitForSlab(ctx: WaitContext, size: number, c: number, options: AcquireAsyncOptions): Promise<number> {
  if (options === null || typeof options !== 'object') throw invalidType('options', options, 'an object or undefined');
  const { signal, timeoutMs } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType('options.signal', signal, 'an AbortSignal');
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number') throw invalidType('options.timeoutMs', timeoutMs, 'a number');
    if (!(timeoutMs >= 0)) throw outOfRange('options.timeoutMs', timeoutMs, 'a number of milliseconds from 0 to Infinity');
  }
  signal?.throwIfAborted();
  if (ctx.isClosed()) throw closedError();
  let id = ctx.take(c);
  if (id !== -1) return id;
  ctx.countExhausted();
  // A class with no slab at all, in an arena with no room to carve one, can never be served:
  // waiting would never end.
  if (!ctx.classHasSlabs(c)) throw ctx.exhaustedError(size);

  const { words, layout } = ctx;
  const line = reservedWord(layout, c);
  const sequence = line + S_SEQUENCE;
  if (ctx.pending[c] >= MAX_PENDING_PER_CLASS) {
    const error = outOfRange(
      'pending acquireAsync calls for one size class in one thread',
      ctx.pending[c] + 1,
      `at most ${MAX_PENDING_PER_CLASS}; wait for some to settle, or give them a timeoutMs or a signal`,
    );
    (error as RangeError & { code: string }).code = 'ERR_TOO_MANY_WAITERS';
    throw error;
  }
  register(ctx, line, c);
  // Releases from now on come to the waiters; slabs released before may sit in idle threads'
  // caches, so ask for them, and ask again whenever a wake-up finds nothing (someone may have
  // taken what was handed over before this waiter looked), at most every REQUEST_INTERVAL_MS.
  ctx.requestFlushes(c);
  let requested = performance.now();
  let owed = false;
  let busyRetries = 0;
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
  // Atomics.waitAsync does not keep the event loop alive: without a handle of its own, a thread
  // with nothing else to do would end (or a program exit) with this call never settled. The
  // interval does nothing and lasts until the call settles: a timer that expired at the timeout
  // could let the loop end before the wait's own timeout is delivered, on a loaded machine.
  const keepAlive = setInterval(() => {}, MAX_TIMER_MS);
  try {
    for (;;) {
      // Read the sequence before looking: a slab offered after the look bumps it, so the wait
      // below returns at once instead of sleeping through the offer.
      const seen = Atomics.load(words, sequence);
      if (ctx.isClosed()) throw closedError();
      id = ctx.takeReserved(c);
      if (id >= 0) return id;
      // Busy: someone held the reserved lock for a moment (or a dead thread holds it). The slab
      // that woke this waiter may be in the list, and nobody will bump the sequence again for it.
      const busy = id === RESERVED_BUSY;
      id = ctx.take(c);
      if (id !== -1) return id;
      const now = performance.now();
      if (owed && now - requested >= REQUEST_INTERVAL_MS) {
        ctx.requestFlushes(c);
        requested = now;
        owed = false;
      }
      const remaining = deadline - now;
      if (remaining <= 0) throw new AcquireTimeoutError(size, ctx.slabSize(c), timeoutMs ?? 0);
      // Sleep until woken, the deadline, (with a request owed) the next time one may be sent, or
      // (the reserved list was locked) a short while, to look again.
      let sleep = owed ? Math.min(remaining, REQUEST_INTERVAL_MS - (now - requested)) : remaining;
      // Backing off: a dead thread may hold the lock until it is reclaimed, and each look tries
      // the lock for 2 ms.
      busyRetries = busy ? busyRetries + 1 : 0;
      if (busy) sleep = Math.min(sleep, BUSY_RETRY_MS << Math.min(busyRetries - 1, 3)); // 5 to 40 ms
      const waited = Atomics.waitAsync(words, sequence, seen, sleep === Number.POSITIVE_INFINITY ? undefined : sleep);
      if (waited.async) await (signal === undefined ? waited.value : untilAbort(waited.value, signal));
      signal?.throwIfAborted();
      // A wake-up that found nothing owes idle threads another request; a look again after a
      // locked list does not (it found the list locked, not empty).
      if (!busy) owed = true;
    }
  } finally {
    clearInterval(keepAlive);
    // close() already retracted this object's waits (its slot may belong to another thread now).
    // Never throws: a rejection here would turn a slab already taken into a lost one.
    retract(ctx, line, c);
  }
}

/** The longest delay a Node timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 2;

/** How often a waiter that keeps waking to nothing asks idle threads again. */
const REQUEST_INTERVAL_MS = 50;

/** How soon a waiter that found the reserved list locked looks again (doubling up to 40 ms). */
const BUSY_RETRY_MS = 5;

/** The most `acquireAsync` calls one pool object may have pending on one size class. */
export const MAX_PENDING_PER_CLASS = 65_536;

/**
 * Counts one more pending call on class `c`. Only a thread's first pending call on a class changes
 * shared memory: under the reserved lock (as the last one's departure, so a releaser that sees no
 * waiters and one that fills the list never both happen for one waiter) it sets the slot's waiting
 * bit, then the class's count of waiting slots, then the class's bit in `H_WAITING_CLASSES`. A
 * thread stopped between those steps holds the reserved lock, and recovery recounts all three.
 */
function register(ctx: WaitContext, line: number, c: number): void {
  if (ctx.pending[c] > 0) {
    ctx.pending[c]++;
    return;
  }
  const { words } = ctx;
  ctx.lockLine(line);
  if (STEPS) step('wait.register.locked');
  Atomics.or(words, ctx.waitingWord, 1 << c);
  if (STEPS) step('wait.register.slot-bit');
  words[line + S_WAITERS]++;
  if (STEPS) step('wait.register.counted');
  Atomics.or(words, H_WAITING_CLASSES, 1 << c);
  if (STEPS) step('wait.register.class-bit');
  ctx.pending[c] = 1;
  unlock(words, line);
}

/**
 * Withdraws one pending call on class `c`. The thread's last one on the class clears what
 * `register` set, in reverse order, under the reserved lock, and the last waiting slot out hands
 * the reserved slabs back to the shards. If the lock is not free within a few milliseconds (a
 * thread died holding it and is not reclaimed yet), tries again later: until then the slot's bit
 * still says it waits, so recovery retracts it if this thread dies too.
 */
function retract(ctx: WaitContext, line: number, c: number): void {
  // Nothing to withdraw: close() did it, for every class or for this one (a close() that threw
  // part-way leaves the rest to the waiters themselves).
  if (ctx.waitsRetracted() || ctx.pending[c] === 0) return;
  if (ctx.pending[c] > 1) {
    ctx.pending[c]--;
    return;
  }
  if (!ctx.tryLockLine(line, RETRACT_LOCK_MS)) {
    setTimeout(() => retract(ctx, line, c), RETRACT_RETRY_MS).unref();
    return;
  }
  const { words } = ctx;
  try {
    if (STEPS) step('wait.retract.locked');
    // A close() that threw part-way may have withdrawn this class already: then nothing is left.
    if ((Atomics.load(words, ctx.waitingWord) & (1 << c)) === 0) {
      ctx.pending[c] = 0;
      return;
    }
    Atomics.and(words, ctx.waitingWord, ~(1 << c));
    if (STEPS) step('wait.retract.slot-bit');
    ctx.pending[c] = 0;
    if (--words[line + S_WAITERS] === 0) {
      if (STEPS) step('wait.retract.counted');
      Atomics.and(words, H_WAITING_CLASSES, ~(1 << c));
      if (STEPS) step('wait.retract.class-bit');
      ctx.drain(c);
    }
  } finally {
    unlock(words, line);
  }
}
const RETRACT_LOCK_MS = 20;
const RETRACT_RETRY_MS = 50;

function untilAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then((value) => {
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    }, reject);
  });
}
