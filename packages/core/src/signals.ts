/**
 * Flush requests: how a thread asks the others for the slabs their caches hold, and how each one
 * answers. They travel in the signals buffer, a small SharedArrayBuffer beside the arena (its map
 * is in layout.ts, at `LIVENESS_BASE`): word `slot` of it is thread slot `slot`'s flush-request
 * word. The buffer's liveness words belong to lifecycle.ts and slots.ts.
 *
 * Slabs released into a thread's cache stay there until that thread acquires, spills or flushes,
 * so a thread that has gone idle could hold the very slabs an `acquireAsync` elsewhere waits for.
 * A waiter therefore sets its class's bit in every other attached thread's flush-request word and
 * notifies it; `trim()` sets `TRIM_REQUEST`. Each pool object waits on its own word with
 * `Atomics.waitAsync` (which does not keep the event loop alive) and, when woken, puts the
 * requested classes' cached slabs in the classes' reserved lists, which only waiters take from, or
 * for a trim hands its whole cache back to the shards. A thread whose event loop is blocked
 * (piscina freezes its workers between tasks) cannot answer; `@zeropool/piscina`'s worker helpers
 * flush the worker's cache whenever they release or lend out a slab instead.
 */
import {
  type ArenaLayout,
  LIVENESS_BASE,
  LIVENESS_UNARMED,
  PROBES_BASE,
  SIGNALS_BYTES,
  S_WAITERS,
  TRIM_REQUEST,
  reservedWord,
} from './layout.js';
import { lockWithin, unlock } from './lock.js';
import { slotOpen } from './slots.js';
import { reserveIfWaited, wakeWaiters } from './waiters.js';

/** Ends the flush-request and liveness waits of a pool object garbage-collected without close(). */
const flushListeners = new FinalizationRegistry<{ signals: Int32Array; slot: number }>(({ signals, slot }) => {
  Atomics.notify(signals, slot);
  Atomics.notify(signals, LIVENESS_BASE + slot);
});
/** How long answering a flush request waits for a reserved list's lock, and when it tries again. */
const ANSWER_LOCK_MS = 2;
const ANSWER_RETRY_MS = 50;

/** A new signals buffer: no flush requested, and no slot's liveness waits armed yet (see `PROBES_BASE`). */
export function createSignals(): SharedArrayBuffer {
  const signals = new SharedArrayBuffer(SIGNALS_BYTES);
  new Int32Array(signals).fill(LIVENESS_UNARMED, PROBES_BASE);
  return signals;
}

/** What a pool object lends its flush requests: the signals buffer, the arena and its thread cache. */
export interface FlushHost {
  readonly words: Int32Array;
  readonly claims: BigInt64Array;
  readonly signals: Int32Array;
  readonly layout: ArenaLayout;
  readonly slot: number;
  /** The value this object writes into a lock word it takes. */
  readonly lockOwner: number;
  readonly cacheSlabs: Int32Array;
  readonly cacheLength: Int32Array;
  readonly cacheStride: number;
  /** Per class, cached slabs a spill could not hand to any shard (see tiers.ts `spill`). */
  readonly stranded: (number[] | undefined)[];
  isClosed(): boolean;
  /** Hands the cached slabs of every class but `except` (-1: every class) back to a shard whose lock is free now. */
  handBackCached(except: number): number;
}

/** The flush requests of one pool object: asking other threads, and answering them. */
export class FlushRequests {
  constructor(private readonly host: FlushHost) {}

  /** Starts waiting for requests addressed to this object's thread slot. */
  listen(): void {
    // The pending wait must not keep this object (and with it the pool object and the arena)
    // alive: the callback holds it weakly, and if it is garbage-collected unclosed, the registry's
    // notify ends the wait.
    flushListeners.register(this, { signals: this.host.signals, slot: this.host.slot }, this);
    FlushRequests.awaitRequest(new WeakRef(this), this.host.signals, this.host.slot);
  }

  /** Ends the wait for requests (close): it sees the pool object closed and stops. */
  stop(): void {
    flushListeners.unregister(this);
    Atomics.notify(this.host.signals, this.host.slot);
  }

  /**
   * Sets `bits` (class bits, `TRIM_REQUEST`) in every other attached thread's flush-request word
   * and wakes it; each answers from its event loop.
   */
  request(bits: number): void {
    const { claims, layout, signals } = this.host;
    for (let slot = 0; slot < layout.maxThreads; slot++) {
      if (slot === this.host.slot || !slotOpen(claims, layout, slot)) continue;
      Atomics.or(signals, slot, bits);
      Atomics.notify(signals, slot);
    }
  }

  private static awaitRequest(ref: WeakRef<FlushRequests>, signals: Int32Array, slot: number): void {
    const answer = (): void => {
      const requests = ref.deref();
      if (requests === undefined || requests.host.isClosed()) return;
      requests.answer();
      FlushRequests.awaitRequest(ref, signals, slot);
    };
    const waited = Atomics.waitAsync(signals, slot, 0);
    if (waited.async) void waited.value.then(answer);
    else queueMicrotask(answer);
  }

  /**
   * Hands this thread's cached slabs of each requested class to the class's waiters. Runs from the
   * event loop, between tasks, so the cache is never half-updated. Lock waits are kept short (a
   * dead thread's lock must not stall this thread's event loop for `lockTimeoutMs`); a class whose
   * reserved lock could not be taken is asked again a little later.
   */
  private answer(): void {
    const { words, layout, signals, slot, cacheLength } = this.host;
    const classes = Atomics.exchange(signals, slot, 0);
    let again = 0;
    if ((classes & TRIM_REQUEST) !== 0) this.host.handBackCached(-1);
    for (let c = 0; c < layout.classCount; c++) {
      if ((classes & (1 << c)) === 0) continue;
      const length = cacheLength[c];
      const stranded = this.host.stranded[c];
      if (length === 0 && (stranded === undefined || stranded.length === 0)) continue;
      const line = reservedWord(layout, c);
      // Nobody waits any more (read without the lock; checked again under it): nothing to do.
      if (words[line + S_WAITERS] === 0) continue;
      if (!lockWithin(words, line, this.host.lockOwner, ANSWER_LOCK_MS)) {
        again |= 1 << c;
        continue;
      }
      // Slabs a spill could not file (see tiers.ts spill) go to the waiters too.
      let gave = false;
      if (
        stranded !== undefined &&
        stranded.length > 0 &&
        reserveIfWaited(words, layout, line, Int32Array.from(stranded), 0, stranded.length)
      ) {
        stranded.length = 0;
        gave = true;
      }
      if (length > 0 && reserveIfWaited(words, layout, line, this.host.cacheSlabs, c * this.host.cacheStride, length)) {
        cacheLength[c] = 0;
        gave = true;
      }
      unlock(words, line);
      if (gave) wakeWaiters(words, layout, c);
    }
    if (again !== 0) {
      const retry = setTimeout(() => {
        if (this.host.isClosed()) return;
        Atomics.or(signals, slot, again);
        Atomics.notify(signals, slot);
      }, ANSWER_RETRY_MS);
      retry.unref();
    }
  }
}
