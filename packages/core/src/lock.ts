/**
 * The shard lock: one int32 word in shared memory, Drepper's three-state futex mutex ("Futexes Are
 * Tricky", mutex 3) with the owner recorded in the word.
 *
 * Word values: `0` free; `owner` held, nobody asleep; `owner | LOCK_WAITERS` held, and some thread
 * may be asleep in `Atomics.wait` on the word. `owner` is `(thread slot + 1) << 2`, so the word
 * says which thread holds the lock (for crash recovery to tell a dead owner from a slow one).
 *
 * Every transition is an atomic read-modify-write, so the word is the single source of truth, and
 * each `Atomics` operation is sequentially consistent: plain writes made while holding the lock
 * (free-list links, counts) happen before the `Atomics.exchange` that releases it, and so are
 * visible to the next thread whose compare-exchange takes it.
 *
 * Also `nap`, the pause of waits elsewhere that have no word of their own to sleep on.
 */
import { LockTimeoutError } from './errors.js';
import { LOCK_WAITERS, lockOwnerSlot } from './layout.js';

/** Compare-exchange attempts before a taker goes to sleep. A critical section here is a few hundred ns. */
const SPIN_ATTEMPTS = 64;
/** Upper bound on one sleep; a sleeper re-checks the word after it even if nobody woke it. */
const WAIT_TIMEOUT_MS = 50;
/** Upper bound on one sleep of `lockWithin`, whose sleepers do not set the waiters bit (so nobody wakes them). */
const UNANNOUNCED_WAIT_MS = 5;

/**
 * Takes the lock at `words[index]` for the thread whose owner value is `owner`. Returns `true` if
 * the lock was contended (the caller counts lock waits), `false` if it was free at once. After
 * `timeoutMs` it throws LockTimeoutError naming the holder's slot and, if `threadOfSlot` is given,
 * the threadId that claimed it.
 */
export function lock(
  words: Int32Array,
  index: number,
  owner: number,
  timeoutMs = Number.POSITIVE_INFINITY,
  threadOfSlot?: (slot: number) => number,
): boolean {
  // Fast path: free → held. The compare-exchange acquires everything the last holder published.
  if (Atomics.compareExchange(words, index, 0, owner) === 0) return false;
  lockContended(words, index, owner, timeoutMs, threadOfSlot);
  return true;
}

function lockContended(
  words: Int32Array,
  index: number,
  owner: number,
  timeoutMs: number,
  threadOfSlot: ((slot: number) => number) | undefined,
): void {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < SPIN_ATTEMPTS; attempt++) {
    // Read before trying, so spinners do not keep the line in exclusive state.
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, owner) === 0) return;
  }
  for (;;) {
    let seen = Atomics.load(words, index);
    if (seen === 0) {
      // Take it with the waiters bit set: another thread may still be asleep, and the bit makes our
      // unlock wake it. At worst that is one spurious wake-up.
      if (Atomics.compareExchange(words, index, 0, owner | LOCK_WAITERS) === 0) return;
      continue;
    }
    if ((seen & LOCK_WAITERS) === 0) {
      // Announce a sleeper before sleeping: the holder's unlock sees the bit and calls notify. If
      // the word changed in between (released, or taken by another), start over.
      const marked = seen | LOCK_WAITERS;
      if (Atomics.compareExchange(words, index, seen, marked) !== seen) continue;
      seen = marked;
    }
    // A critical section lasts microseconds; a word held this long belongs to a thread that died
    // (or hangs) inside one. Give up, so this thread returns to its event loop, where the dead
    // worker's 'exit' handler (watch) can reclaim it.
    if (Date.now() >= deadline) {
      const slot = lockOwnerSlot(seen);
      throw new LockTimeoutError(slot, timeoutMs, threadOfSlot?.(slot) ?? -1);
    }
    // Sleeps only while the word still equals `seen`; an unlock in between changes the word, so
    // the wake-up cannot be lost.
    Atomics.wait(words, index, seen, WAIT_TIMEOUT_MS);
  }
}

/** Releases the lock at `words[index]`; wakes one sleeper only if the waiters bit says one may sleep. */
export function unlock(words: Int32Array, index: number): void {
  // The exchange publishes every write made under the lock and reads the waiters bit in one step.
  const previous = Atomics.exchange(words, index, 0);
  if ((previous & LOCK_WAITERS) !== 0) Atomics.notify(words, index, 1);
}

/**
 * Takes the lock like `lock`, but gives up after `timeoutMs`: returns false if the word was still
 * held then. For diagnostics (`audit`), which must not hang on a lock a dead thread left taken.
 */
export function lockWithin(words: Int32Array, index: number, owner: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = Atomics.load(words, index);
    if (seen === 0) {
      if (Atomics.compareExchange(words, index, 0, owner | LOCK_WAITERS) === 0) return true;
      continue;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    // Without setting the waiters bit: a sleeper the holder does not know about may oversleep,
    // so sleep in short steps.
    Atomics.wait(words, index, seen, Math.min(remaining, UNANNOUNCED_WAIT_MS));
  }
}

/** A word nobody writes or wakes: `nap` sleeps on it. */
const NAP_WORD = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for `ms` milliseconds: for a wait on progress no word announces to it (another
 * thread's reclaim or liveness check finishing). Lock waits sleep on the lock word instead.
 */
export function nap(ms: number): void {
  Atomics.wait(NAP_WORD, 0, 0, ms);
}
