/**
 * Thread slots: the claim word that says which thread a slot belongs to and in which phase of its
 * life it is (see the claim word in layout.ts), and the liveness check that tells a running thread
 * from one that has exited. Every change of a claim word is one compare-exchange of the whole
 * 64-bit word, so the slot's thread and the reclaimer working on it change together.
 */
import {
  type ArenaLayout,
  LIVENESS_BASE,
  LIVENESS_WAITERS,
  PHASE_OPEN,
  PROBES_BASE,
  claimIndex,
  claimPhase,
  claimThread,
  claimValue,
  phaseReclaimer,
} from './layout.js';

/** Claims a free thread slot for `threadId` in one compare-exchange: two threads never share one. */
export function claimFreeSlot(claims: BigInt64Array, layout: ArenaLayout, threadId: number): number {
  const mine = claimValue(threadId, PHASE_OPEN);
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    if (Atomics.compareExchange(claims, claimIndex(layout, slot), 0n, mine) === 0n) return slot;
  }
  const error = new RangeError(
    `cannot attach: all ${layout.maxThreads} thread slots of this pool are taken (options.maxThreads); ` +
      `close() the pool objects of threads that are done with it, or create the pool with a larger maxThreads`,
  );
  (error as RangeError & { code: string }).code = 'ERR_POOL_THREADS';
  throw error;
}

export const readClaim = (claims: BigInt64Array, layout: ArenaLayout, slot: number): bigint =>
  Atomics.load(claims, claimIndex(layout, slot));

/** Moves slot `slot`'s claim from `expected` to `next`; whether it did. */
export const swapClaim = (claims: BigInt64Array, layout: ArenaLayout, slot: number, expected: bigint, next: bigint): boolean =>
  Atomics.compareExchange(claims, claimIndex(layout, slot), expected, next) === expected;

/** The threadId that slot `slot` belongs to, or -1 if it is free. */
export const threadOfSlot = (claims: BigInt64Array, layout: ArenaLayout, slot: number): number =>
  claimThread(readClaim(claims, layout, slot));

/** Whether slot `slot` belongs to a thread that has not begun to give it up (flush requests go there). */
export const slotOpen = (claims: BigInt64Array, layout: ArenaLayout, slot: number): boolean => {
  const claim = readClaim(claims, layout, slot);
  return claim !== 0n && claimPhase(claim) === PHASE_OPEN;
};

/** A slot of a thread as a scan found it. */
export interface SlotClaim {
  readonly slot: number;
  readonly claim: bigint;
  /** The thread named by the claim. */
  readonly threadId: number;
  readonly phase: number;
  /** The reclaimer working on the slot, or -1. */
  readonly reclaimer: number;
}

/** Every slot whose claim names `threadId` (as its thread, or with `asReclaimer`, as its reclaimer). */
export function slotsOf(claims: BigInt64Array, layout: ArenaLayout, threadId: number, asReclaimer = false): SlotClaim[] {
  const found: SlotClaim[] = [];
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    const claim = readClaim(claims, layout, slot);
    if (claim === 0n) continue;
    const phase = claimPhase(claim);
    const owner = claimThread(claim);
    const reclaimer = phaseReclaimer(phase);
    if ((asReclaimer ? reclaimer : owner) === threadId) found.push({ slot, claim, threadId: owner, phase, reclaimer });
  }
  return found;
}

/**
 * Why the slots in `slots` must not be reclaimed (`answered`: a pool object of the thread answered,
 * so it runs; otherwise nothing could be told), or undefined if each one's thread has exited. The
 * caller holds them in a checking phase, so nobody else frees, closes or reclaims them meanwhile.
 * Per slot: count this check in (only below `LIVENESS_WAITERS`), wake one liveness wait; a wait
 * woken means the thread runs (the count stays until it re-arms), none woken means it has exited
 * (V8 dropped its waits). At `LIVENESS_WAITERS` the thread has been busy since that many checks,
 * or has exited since, or has not armed its waits yet (attaching): nothing can be told.
 */
export function livenessRefusal(
  signals: Int32Array,
  slots: readonly number[],
): { reason: string; answered: boolean } | undefined {
  for (const slot of slots) {
    const probes = PROBES_BASE + slot;
    let count: number;
    for (;;) {
      count = Atomics.load(signals, probes);
      if (count >= LIVENESS_WAITERS || Atomics.compareExchange(signals, probes, count, count + 1) === count) break;
    }
    if (count >= LIVENESS_WAITERS) {
      const reason =
        `it answered ${LIVENESS_WAITERS} liveness checks and has not run its event loop since (or is attaching a pool), so it ` +
        "may be busy or may have exited: reclaim it from its 'exit' event (watch does), or once its event loop ran";
      return { reason, answered: false };
    }
    if (Atomics.notify(signals, LIVENESS_BASE + slot, 1) > 0) {
      return { reason: 'a pool object attached in that thread answered a liveness check', answered: true };
    }
    // Counted out only while the count is one a check could have made: a slot that its closing
    // thread took back from this check meanwhile reads LIVENESS_UNARMED, its next thread's armed
    // count starts at 0, and neither may be moved by this late check.
    for (;;) {
      const now = Atomics.load(signals, probes);
      if (now <= 0 || now > LIVENESS_WAITERS || Atomics.compareExchange(signals, probes, now, now - 1) === now) break;
    }
  }
  return undefined;
}
