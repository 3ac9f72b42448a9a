/**
 * Waiting for a slab: `acquireAsync`, the reserved lists it takes from, and the counts that tell
 * releasers whom to feed. Each class has a reserved list, a count of waiting thread slots and a
 * wake-up sequence word on its reserved line; each thread slot has a waiting bit per class, and
 * `H_WAITING_CLASSES` a bit per class with waiters. While any thread waits on a class, `release`
 * anywhere puts the slab in the reserved list (not in the releaser's cache) and bumps the
 * sequence; waiters sleep in `Atomics.waitAsync` on the sequence and take from the reserved list
 * first. Ordinary acquires never take from reserved lists, so a waiter cannot be starved by
 * threads that keep acquiring. Asking idle threads for their cached slabs is signals.ts's part.
 */
import { AcquireTimeoutError, LockTimeoutError, closedError, invalidType, outOfRange } from './errors.js';
import { type SlabMemory, afterReserved } from './hygiene.js';
import {
  type ArenaLayout,
  C_EXHAUSTED,
  C_SLOW_ACQUIRES,
  GEN_FIELD,
  GEN_SHIFT,
  H_WAITING_CLASSES,
  RESERVED_BUSY,
  S_COUNT,
  S_SEQUENCE,
  S_WAITERS,
  T_WAITING,
  metaWord,
  reservedWord,
  shardWord,
  slabId,
  slabSizeOf,
  slabsPerPageOf,
  threadWord,
} from './layout.js';
import { lockWithin, unlock } from './lock.js';
import { popToCache, pushFromCache } from './shard.js';
import { STEPS, step } from './steps.js';
import type { AcquireAsyncOptions } from './types.js';

/** The longest delay a Node timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 2;
/** How often a waiter that keeps waking to nothing asks idle threads again. */
const REQUEST_INTERVAL_MS = 50;
/** How soon a waiter that found the reserved list locked looks again, doubling `BUSY_DOUBLINGS` times at most (5 to 40 ms). */
const BUSY_RETRY_MS = 5;
const BUSY_DOUBLINGS = 3;
/**
 * How long a waiter's look waits for the reserved lock: a waiter must not block its event loop
 * for `lockTimeoutMs` on a lock a dead thread holds; it looks again shortly.
 */
const TAKE_LOCK_MS = 2;
/**
 * How long the work that runs off the waiter's own path (withdrawing a wait, draining a list
 * nobody waits on) waits for a reserved lock, and how soon it tries again when that lock was held.
 */
const LATER_LOCK_MS = 20;
const LATER_RETRY_MS = 50;

/** The most `acquireAsync` calls one pool object may have pending on one size class. */
export const MAX_PENDING_PER_CLASS = 65_536;

/** Bumps class `c`'s wake-up sequence and wakes every `acquireAsync` waiting on it. */
export function wakeWaiters(words: Int32Array, layout: ArenaLayout, c: number): void {
  const sequence = reservedWord(layout, c) + S_SEQUENCE;
  // The add makes the change a waiter compares against; notify wakes those already asleep.
  Atomics.add(words, sequence, 1);
  if (STEPS) step('wake.bumped');
  Atomics.notify(words, sequence);
}

/**
 * After slabs of class `c` went into a shard: wakes `c`'s waiters, and when the class's shards now
 * hold a page's worth of free slabs, every other waiting class's too: those slabs may have freed
 * a whole page, which a waiter's next look gives back and carves for its own class (a waiter is
 * woken only through its own class's sequence word).
 */
export function wakeAfterFiling(words: Int32Array, layout: ArenaLayout, c: number): void {
  const waiting = Atomics.load(words, H_WAITING_CLASSES);
  if (waiting === 0) return;
  wakeWaiters(words, layout, c);
  if ((waiting & ~(1 << c)) === 0) return;
  let free = 0;
  for (let shard = 0; shard < layout.shards; shard++) free += words[shardWord(layout, c, shard) + S_COUNT];
  if (free < slabsPerPageOf(layout, c)) return;
  for (let k = 0; k < layout.classCount; k++) if (k !== c && (waiting & (1 << k)) !== 0) wakeWaiters(words, layout, k);
}

/** wakeWaiters, if any class has waiters. */
export function wakeClass(words: Int32Array, layout: ArenaLayout, c: number): void {
  if (Atomics.load(words, H_WAITING_CLASSES) !== 0) wakeWaiters(words, layout, c);
}

/**
 * Recounts class `c`'s waiting slots from every slot's waiting bits, and sets the class's bit in
 * `H_WAITING_CLASSES` to match. The caller holds the class's reserved lock, under which alone a
 * live thread changes its own bit for the class. Returns the count.
 */
export function recountWaiters(words: Int32Array, layout: ArenaLayout, c: number): number {
  let waiting = 0;
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    if ((Atomics.load(words, threadWord(layout, slot) + T_WAITING) & (1 << c)) !== 0) waiting++;
  }
  words[reservedWord(layout, c) + S_WAITERS] = waiting;
  if (waiting > 0) Atomics.or(words, H_WAITING_CLASSES, 1 << c);
  else Atomics.and(words, H_WAITING_CLASSES, ~(1 << c));
  return waiting;
}

/**
 * With a class's reserved lock held (`line`): if anyone waits on the class, moves `count` cached
 * slabs from `slabs[from]` onward into its reserved list and returns true; otherwise leaves them.
 * Checked under the lock: the last waiter to leave drains the list under the same lock, so a slab
 * can never be left behind in a reserved list nobody waits on.
 */
export function reserveIfWaited(
  words: Int32Array,
  layout: ArenaLayout,
  line: number,
  slabs: Int32Array,
  from: number,
  count: number,
): boolean {
  if (words[line + S_WAITERS] === 0) return false;
  pushFromCache(words, layout.metaTop, line, layout.shards, slabs, from, count);
  return true;
}

/** What a pool object lends its waiters: its arena, its thread slot and the paths a wait takes. */
export interface WaitersHost extends SlabMemory {
  readonly slot: number;
  /** The value this object writes into a lock word it takes. */
  readonly lockOwner: number;
  /** `packState(SLAB_LEASED, this slot, 0)`. */
  readonly leasedBits: number;
  readonly counters: Float64Array;
  isClosed(): boolean;
  /** Takes a lock word, waiting up to `lockTimeoutMs` (then LockTimeoutError). */
  lockWord(index: number): void;
  /** An ordinary acquire of class `c` (cache, shards, carving), hooks included; -1 when exhausted. */
  take(c: number): number;
  /** Pushes cached slabs to the home shard, or another; throws LockTimeoutError if no shard could be locked. */
  pushToHome(c: number, from: number, count: number, slabs: Int32Array): void;
  /** Asks every other attached thread to hand back its cached slabs of class `c`. */
  requestFlushes(c: number): void;
}

/** The waiting side of one pool object: its `acquireAsync` calls, and its share of the reserved lists. */
export class Waiters {
  /** This pool object's pending `acquireAsync` calls per class (its own memory: nobody else counts them). */
  private readonly pending: number[];
  /** Int32 index of this slot's waiting bits (`T_WAITING`), a bit per class with calls pending. */
  private readonly waitingWord: number;
  /** True once close() has withdrawn this object's waits (its slot may be another thread's now). */
  private retracted = false;
  /** One-slab scratch stack for moving single slabs with the batch functions. */
  private readonly scratch = new Int32Array(1);

  constructor(private readonly host: WaitersHost) {
    this.pending = new Array<number>(host.layout.classCount).fill(0);
    this.waitingWord = threadWord(host.layout, host.slot) + T_WAITING;
  }

  /** `acquireAsync` of a checked `size`, of class `c`. */
  async acquire(size: number, c: number, options: AcquireAsyncOptions): Promise<number> {
    if (options === null || typeof options !== 'object') throw invalidType('options', options, 'an object or undefined');
    const { signal, timeoutMs } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType('options.signal', signal, 'an AbortSignal');
    if (timeoutMs !== undefined) {
      if (typeof timeoutMs !== 'number') throw invalidType('options.timeoutMs', timeoutMs, 'a number');
      if (!(timeoutMs >= 0)) throw outOfRange('options.timeoutMs', timeoutMs, 'a number of milliseconds from 0 to Infinity');
    }
    signal?.throwIfAborted();
    const host = this.host;
    if (host.isClosed()) throw closedError();
    let id = host.take(c);
    if (id !== -1) return id;
    host.counters[C_EXHAUSTED]++;
    const { words, layout } = host;

    const line = reservedWord(layout, c);
    const sequence = line + S_SEQUENCE;
    if (this.pending[c] >= MAX_PENDING_PER_CLASS) {
      const error = outOfRange(
        'pending acquireAsync calls for one size class in one thread',
        this.pending[c] + 1,
        `at most ${MAX_PENDING_PER_CLASS}; wait for some to settle, or give them a timeoutMs or a signal`,
      );
      (error as RangeError & { code: string }).code = 'ERR_TOO_MANY_WAITERS';
      throw error;
    }
    this.register(line, c);
    // Releases from now on come to the waiters; slabs released before may sit in idle threads'
    // caches, so ask for them, and ask again whenever a wake-up finds nothing (someone may have
    // taken what was handed over before this waiter looked), at most every REQUEST_INTERVAL_MS.
    host.requestFlushes(c);
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
        if (host.isClosed()) throw closedError();
        id = this.takeReserved(c);
        if (id >= 0) return id;
        // Busy: someone held the reserved lock for a moment (or a dead thread holds it). The slab
        // that woke this waiter may be in the list, and nobody will bump the sequence again for it.
        const busy = id === RESERVED_BUSY;
        id = host.take(c);
        if (id !== -1) return id;
        const now = performance.now();
        if (owed && now - requested >= REQUEST_INTERVAL_MS) {
          host.requestFlushes(c);
          requested = now;
          owed = false;
        }
        const remaining = deadline - now;
        if (remaining <= 0) throw new AcquireTimeoutError(size, slabSizeOf(layout, c), timeoutMs ?? 0);
        // Sleep until woken, the deadline, (with a request owed) the next time one may be sent, or
        // (the reserved list was locked) a short while, to look again.
        let sleep = owed ? Math.min(remaining, REQUEST_INTERVAL_MS - (now - requested)) : remaining;
        // Backing off: a dead thread may hold the lock until it is reclaimed, and each look tries
        // the lock for TAKE_LOCK_MS.
        busyRetries = busy ? busyRetries + 1 : 0;
        if (busy) sleep = Math.min(sleep, BUSY_RETRY_MS << Math.min(busyRetries - 1, BUSY_DOUBLINGS));
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
      this.retract(line, c);
    }
  }

  /**
   * If some thread waits in `acquireAsync` for class `c`, puts the slab (cached by this thread)
   * in the class's reserved list, which only waiters take from, and wakes them. Returns false,
   * leaving the slab alone, when nobody waits.
   */
  offer(c: number, slab: number): boolean {
    const { words, layout } = this.host;
    const line = reservedWord(layout, c);
    try {
      this.host.lockWord(line);
    } catch (error) {
      // The caller has already released the slab to itself: keep it (cache path) rather than fail.
      if (error instanceof LockTimeoutError) return false;
      throw error;
    }
    if (STEPS) step('offer.locked');
    this.scratch[0] = slab;
    const reserved = reserveIfWaited(words, layout, line, this.scratch, 0, 1);
    unlock(words, line);
    if (STEPS) step('offer.unlocked');
    if (reserved) wakeWaiters(words, layout, c);
    return reserved;
  }

  /**
   * Takes one slab from class `c`'s reserved list and leases it to this thread, exactly as `take`
   * does from the cache, and returns its id; -1 if the list is empty, RESERVED_BUSY if its lock
   * was not free within `TAKE_LOCK_MS`.
   */
  private takeReserved(c: number): number {
    const host = this.host;
    const { words, layout } = host;
    const line = reservedWord(layout, c);
    if (!lockWithin(words, line, host.lockOwner, TAKE_LOCK_MS)) return RESERVED_BUSY;
    if (STEPS) step('reserved.locked');
    const got = popToCache(words, layout.metaTop, line, 1, host.slot, this.scratch, 0);
    unlock(words, line);
    if (got === 0) return -1;
    const slab = this.scratch[0];
    const meta = metaWord(layout.metaTop, slab);
    const cached = words[meta];
    words[meta] = host.leasedBits | (cached & GEN_FIELD);
    host.counters[C_SLOW_ACQUIRES]++;
    const id = slabId(slab, cached >>> GEN_SHIFT);
    return host.flags !== 0 ? afterReserved(host, id) : id;
  }

  /**
   * Moves every slab of class `c`'s reserved list to the home shard. The caller holds its lock.
   * Never throws: slabs it cannot place stay in the reserved list, and it tries again later.
   */
  drainReserved(c: number): void {
    const { words, layout } = this.host;
    const line = reservedWord(layout, c);
    const count = words[line + S_COUNT];
    if (count === 0) return;
    const slabs = new Int32Array(count);
    const got = popToCache(words, layout.metaTop, line, count, this.host.slot, slabs, 0);
    try {
      this.host.pushToHome(c, 0, got, slabs);
    } catch (error) {
      // No shard could be locked (dead threads hold them all): put the slabs back in the reserved
      // list, whose lock the caller holds, and drain it again later if nobody waits by then.
      pushFromCache(words, layout.metaTop, line, layout.shards, slabs, 0, got);
      process.emitWarning(
        `zeropool: returning reserved slabs to the shards failed: ${(error as Error).message}`,
        'ZeropoolWarning',
      );
      setTimeout(() => this.drainIfUnwaited(c), LATER_RETRY_MS).unref();
    }
  }

  /** Drains class `c`'s reserved list if no thread waits on the class (under its lock). */
  drainIfUnwaited(c: number): void {
    if (this.host.isClosed()) return;
    const { words, layout } = this.host;
    const line = reservedWord(layout, c);
    if (words[line + S_COUNT] === 0 || words[line + S_WAITERS] !== 0) return;
    if (!lockWithin(words, line, this.host.lockOwner, LATER_LOCK_MS)) {
      setTimeout(() => this.drainIfUnwaited(c), LATER_RETRY_MS).unref();
      return;
    }
    try {
      if (words[line + S_WAITERS] === 0) this.drainReserved(c);
    } finally {
      unlock(words, line);
    }
  }

  /**
   * Retracts the `acquireAsync` waits of thread slot `slot` (a dead thread's, or this object's own
   * on `close()`): for each class whose bit it has, under the class's reserved lock, clears the bit
   * and recounts the class, and drains the reserved list if nobody waits any more. Each class is
   * done whole under its lock, and the bit goes only after the lock is taken, so a retraction
   * stopped anywhere is finished by the next one. Then wakes every class that still has waiters: a
   * thread stopped between a hand-over and its wake-up left them asleep.
   */
  retractSlot(slot: number): void {
    const { words, layout } = this.host;
    const waiting = threadWord(layout, slot) + T_WAITING;
    for (let c = 0; c < layout.classCount; c++) {
      if ((Atomics.load(words, waiting) & (1 << c)) === 0) continue;
      const line = reservedWord(layout, c);
      this.host.lockWord(line);
      try {
        Atomics.and(words, waiting, ~(1 << c));
        if (STEPS) step('recover.wait-bit-cleared');
        if (recountWaiters(words, layout, c) === 0) this.drainReserved(c);
      } finally {
        unlock(words, line);
      }
    }
    for (let c = 0; c < layout.classCount; c++) wakeClass(words, layout, c);
  }

  /**
   * close()'s part: retracts this object's pending waits while the slot is still its own, then
   * wakes them: they see the pool closed and reject, without touching the counts again. Takes
   * locks: if one throws (a dead thread holds it), the waiters are still woken and withdraw
   * whatever this did not (the slot's waiting bits say what is left), and a later close() tries
   * again. Does nothing once it has succeeded.
   */
  retractOwn(): void {
    if (this.retracted) return;
    const { words, layout } = this.host;
    const waiting = Atomics.load(words, this.waitingWord);
    try {
      this.retractSlot(this.host.slot);
      this.retracted = true;
      if (STEPS) step('close.waits');
    } finally {
      for (let c = 0; c < layout.classCount; c++) if ((waiting & (1 << c)) !== 0) wakeWaiters(words, layout, c);
    }
  }

  /**
   * Counts one more pending call on class `c`. Only a thread's first pending call on a class changes
   * shared memory: under the reserved lock (as the last one's departure, so a releaser that sees no
   * waiters and one that fills the list never both happen for one waiter) it sets the slot's waiting
   * bit, then the class's count of waiting slots, then the class's bit in `H_WAITING_CLASSES`. A
   * thread stopped between those steps holds the reserved lock, and recovery recounts all three.
   */
  private register(line: number, c: number): void {
    if (this.pending[c] > 0) {
      this.pending[c]++;
      return;
    }
    const { words } = this.host;
    this.host.lockWord(line);
    if (STEPS) step('wait.register.locked');
    Atomics.or(words, this.waitingWord, 1 << c);
    if (STEPS) step('wait.register.slot-bit');
    words[line + S_WAITERS]++;
    if (STEPS) step('wait.register.counted');
    Atomics.or(words, H_WAITING_CLASSES, 1 << c);
    if (STEPS) step('wait.register.class-bit');
    this.pending[c] = 1;
    unlock(words, line);
  }

  /**
   * Withdraws one pending call on class `c`. The thread's last one on the class clears what
   * `register` set, in reverse order, under the reserved lock, and the last waiting slot out hands
   * the reserved slabs back to the shards. If the lock is not free within `LATER_LOCK_MS` (a thread
   * died holding it and is not reclaimed yet), tries again later: until then the slot's bit still
   * says it waits, so recovery retracts it if this thread dies too.
   */
  private retract(line: number, c: number): void {
    // Nothing to withdraw: close() did it, for every class or for this one (a close() that threw
    // part-way leaves the rest to the waiters themselves).
    if (this.retracted || this.pending[c] === 0) return;
    if (this.pending[c] > 1) {
      this.pending[c]--;
      return;
    }
    const { words } = this.host;
    if (!lockWithin(words, line, this.host.lockOwner, LATER_LOCK_MS)) {
      setTimeout(() => this.retract(line, c), LATER_RETRY_MS).unref();
      return;
    }
    try {
      if (STEPS) step('wait.retract.locked');
      // A close() that threw part-way may have withdrawn this class already: then nothing is left.
      if ((Atomics.load(words, this.waitingWord) & (1 << c)) === 0) {
        this.pending[c] = 0;
        return;
      }
      Atomics.and(words, this.waitingWord, ~(1 << c));
      if (STEPS) step('wait.retract.slot-bit');
      this.pending[c] = 0;
      if (--words[line + S_WAITERS] === 0) {
        if (STEPS) step('wait.retract.counted');
        Atomics.and(words, H_WAITING_CLASSES, ~(1 << c));
        if (STEPS) step('wait.retract.class-bit');
        this.drainReserved(c);
      }
    } finally {
      unlock(words, line);
    }
  }
}

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
