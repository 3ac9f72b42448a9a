/**
 * Thread lifecycles, end to end: the liveness waits by which a running thread answers checks,
 * reclaiming a thread that exited (explicitly after a check, or by `watch` on its 'exit'),
 * finishing the reclaims a stopped reclaimer left, and giving up a slot on close. Every step
 * changes a claim word (slots.ts) by compare-exchange or can be repeated, so a thread stopped
 * anywhere in here leaves work the next reclaim finishes. Nothing here is on the hot path.
 */
import { threadId as currentThreadId } from 'node:worker_threads';
import { LockTimeoutError, ReclaimLiveThreadError, invalidType } from './errors.js';
import { type SlabMemory, afterRelease } from './hygiene.js';
import {
  C_RECLAIMED,
  LIVENESS_BASE,
  LIVENESS_UNARMED,
  LIVENESS_WAITERS,
  PHASE_CHECKING,
  PHASE_CLOSING,
  PHASE_OPEN,
  PROBES_BASE,
  claimIndex,
  claimPhase,
  claimThread,
  claimValue,
  reclaimPhase,
} from './layout.js';
import { nap } from './lock.js';
import { type RecoveryContext, collectSlabs, takeOverLocks } from './recovery.js';
import { livenessRefusal, readClaim, slotsOf, swapClaim } from './slots.js';
import { STEPS, step } from './steps.js';
import type { ReclaimReport, WatchedWorker } from './types.js';
import type { Waiters } from './waiters.js';

/** The pause between two looks at a slot that another thread is expected to let go of soon. */
const NAP_MS = 1;

/** What a pool object lends its lifecycle: its shared views and the slow tiers recovery uses. */
export interface LifecycleHost extends RecoveryContext, SlabMemory {
  readonly claims: BigInt64Array;
  readonly signals: Int32Array;
  readonly slot: number;
  readonly counters: Float64Array;
  /** Whether the pool object was closed: it then reclaims nothing (its slot is not its own). */
  isClosed(): boolean;
  lockWord(index: number): void;
  pushToHome(c: number, from: number, count: number, slabs: Int32Array): void;
  strand(c: number, slabs: readonly number[]): void;
  fileStrandedQuickly(c: number): boolean;
}

/** A report being filled in. */
type Report = { -readonly [K in keyof ReclaimReport]: ReclaimReport[K] };

/**
 * How a reclaim knows the thread has exited: `checked` by a liveness check (reclaim); `exited`
 * without one (its exit is known otherwise); `exit-event` by the worker's 'exit' event, confirmed
 * by a liveness check that must not find it running, since some runtimes emit 'exit' before the
 * thread has stopped (a check that cannot tell defers to the event).
 */
export type ExitProof = 'checked' | 'exited' | 'exit-event';

/**
 * A reclaim after a worker's 'exit' found one of its pool objects still answering (the thread
 * runs), or one of its slots held by another reclaim: watch looks again from the event loop.
 */
class RunsAfterExit extends Error {}

/** How long a reclaim waits for another reclaim that holds one of the thread's slots. */
const HELD_ELSEWHERE_MS = 200;
/** How long another reclaim may hold a slot to check it before that check counts as stopped. */
const STALE_CHECK_MS = 100;
/** How long watch keeps looking for a worker whose 'exit' came while it still ran, and how often. */
const AFTER_EXIT_GIVE_UP_MS = 30_000;
const AFTER_EXIT_RETRY_MS = 5;
/** How long a reclaim tries the shard locks of a class before it leaves the slabs to its event loop. */
const RECLAIM_FILE_MS = 5;
/**
 * The longest pause between two of those looks. The pauses double from `AFTER_EXIT_RETRY_MS`:
 * every look that finds the thread running uses up one of its liveness waits (a thread that is
 * stopping does not re-arm them), and after `LIVENESS_WAITERS` such looks only the event is left
 * to go by, so the looks are spread over the time a runtime may take to stop a thread.
 */
const AFTER_EXIT_RETRY_MAX_MS = 1000;

/** The lifecycle side of one pool object. */
export class Lifecycle {
  /** Workers this object watches: reclaim refuses them while they run. */
  private readonly watched = new Map<number, { alive: boolean; watchers: number }>();
  /** Threads whose reclaim runs in this call stack (a reclaim may reclaim a dead reclaimer first). */
  private readonly reclaiming = new Set<number>();
  /** Set once the slot's liveness waits are ended (close): they are not re-armed after. */
  private livenessEnded = false;

  constructor(
    private readonly host: LifecycleHost,
    /** The pool object's waiters: a reclaim withdraws the dead thread's waits and drains what they left. */
    private readonly waiters: Waiters,
  ) {}

  /** Arms the slot's liveness waits: from now on a check that wakes none of them means this thread has exited. */
  armLiveness(): void {
    const ref = new WeakRef(this);
    for (let i = 0; i < LIVENESS_WAITERS; i++) Lifecycle.awaitLivenessProbe(ref, this.host.signals, this.host.slot);
    Atomics.store(this.host.signals, PROBES_BASE + this.host.slot, 0);
  }

  /**
   * Keeps one wait pending on this slot's liveness word (see `LIVENESS_BASE`): `reclaim` in any
   * thread wakes one to learn that this thread still runs. Re-armed here, then counted out of the
   * slot's unanswered checks, while this object is open and its slot is still this thread's.
   */
  private static awaitLivenessProbe(ref: WeakRef<Lifecycle>, signals: Int32Array, slot: number): void {
    const waited = Atomics.waitAsync(signals, LIVENESS_BASE + slot, 0);
    if (!waited.async) return;
    void waited.value.then(() => {
      const lifecycle = ref.deref();
      // Not `closed`: a close() that threw before giving up the slot leaves it claimed, and the
      // thread must keep answering for it.
      if (lifecycle === undefined || lifecycle.livenessEnded || !lifecycle.holdsSlot()) return;
      Lifecycle.awaitLivenessProbe(ref, signals, slot);
      const probes = PROBES_BASE + slot;
      for (;;) {
        const count = Atomics.load(signals, probes);
        if (count <= 0 || Atomics.compareExchange(signals, probes, count, count - 1) === count) break;
      }
    });
  }

  /** Whether this object's thread slot still names this thread (whatever its phase). */
  private holdsSlot(): boolean {
    return claimThread(readClaim(this.host.claims, this.host.layout, this.host.slot)) === currentThreadId;
  }

  /** Whether `threadId` is a worker this object watches that has not exited. */
  watchesRunning(threadId: number): boolean {
    return this.watched.get(threadId)?.alive === true;
  }

  /** SlabPool.watch: reclaims `worker` on its 'exit'; returns the function that stops watching. */
  watch(worker: WatchedWorker, onReclaim?: (report: ReclaimReport) => void): () => void {
    if (
      worker === null ||
      typeof worker !== 'object' ||
      typeof worker.once !== 'function' ||
      typeof worker.threadId !== 'number'
    ) {
      throw invalidType('worker', worker, 'a Worker from node:worker_threads');
    }
    if (onReclaim !== undefined && typeof onReclaim !== 'function') {
      throw invalidType('onReclaim', onReclaim, 'a function or undefined');
    }
    const threadId = worker.threadId;
    if (threadId < 0) throw invalidType('worker', `a Worker that has already exited`, 'a running Worker');
    // One entry per worker, shared by every watch of it: cancelling one watch keeps the others'
    // protection (reclaim refuses the worker while it runs), and the first 'exit' reclaims.
    let entry = this.watched.get(threadId);
    if (entry === undefined) {
      entry = { alive: true, watchers: 0 };
      this.watched.set(threadId, entry);
    }
    const shared = entry;
    shared.watchers++;
    let active = true;
    const onExit = (): void => {
      active = false;
      shared.alive = false;
      if (this.watched.get(threadId) === shared) this.watched.delete(threadId);
      // A closed pool object has given up its slot (another thread's now): watches end with it.
      if (this.host.isClosed()) return;
      let report: ReclaimReport;
      try {
        // A second watch of the same worker finds its slots already reclaimed: an empty report.
        report = this.reclaimThread(threadId, 'exit-event');
      } catch (error) {
        if (error instanceof RunsAfterExit || error instanceof LockTimeoutError) {
          this.reclaimWhenStopped(threadId, onReclaim, Date.now(), AFTER_EXIT_RETRY_MS);
          return;
        }
        process.emitWarning(`zeropool: reclaiming thread ${threadId} failed: ${(error as Error).message}`, 'ZeropoolWarning');
        return;
      }
      this.deliver(report, onReclaim);
    };
    worker.once('exit', onExit);
    return () => {
      if (!active) return;
      active = false;
      worker.off?.('exit', onExit);
      shared.watchers--;
      if (shared.watchers === 0 && this.watched.get(threadId) === shared) this.watched.delete(threadId);
    };
  }

  /**
   * watch's reclaim of a worker whose 'exit' came while one of its pool objects still answered
   * liveness checks, while another reclaim held one of its slots, or while a lock a dead thread
   * holds stopped it: looks again from the event loop after 5, 10, 20 ... ms (up to a second
   * apart), and gives up with a warning after `AFTER_EXIT_GIVE_UP_MS` (reclaim it then by hand).
   */
  private reclaimWhenStopped(
    threadId: number,
    onReclaim: ((report: ReclaimReport) => void) | undefined,
    since: number,
    delayMs: number,
  ): void {
    const retry = setTimeout(() => {
      if (this.host.isClosed()) return;
      let report: ReclaimReport;
      try {
        report = this.reclaimThread(threadId, 'exit-event');
      } catch (error) {
        if (!(error instanceof RunsAfterExit) && !(error instanceof LockTimeoutError)) {
          process.emitWarning(`zeropool: reclaiming thread ${threadId} failed: ${(error as Error).message}`, 'ZeropoolWarning');
        } else if (Date.now() - since < AFTER_EXIT_GIVE_UP_MS) {
          this.reclaimWhenStopped(threadId, onReclaim, since, Math.min(delayMs * 2, AFTER_EXIT_RETRY_MAX_MS));
        } else {
          process.emitWarning(
            `zeropool: worker thread ${threadId} emitted 'exit' but still answers liveness checks after ${AFTER_EXIT_GIVE_UP_MS} ms; not reclaimed: reclaim(${threadId}) it once it has stopped`,
            'ZeropoolWarning',
          );
        }
        return;
      }
      this.deliver(report, onReclaim);
    }, delayMs);
    retry.unref();
  }

  /** Hands a watch's report to its callback; an error there is reported as the callback's. */
  private deliver(report: ReclaimReport, onReclaim: ((report: ReclaimReport) => void) | undefined): void {
    if (onReclaim === undefined) return;
    try {
      onReclaim(report);
    } catch (error) {
      // The reclaim itself went through; say whose code failed.
      process.emitWarning(
        `zeropool: thread ${report.threadId} was reclaimed, but its onReclaim callback threw: ${error instanceof Error ? error.message : String(error)}`,
        'ZeropoolWarning',
      );
    }
  }

  /**
   * reclaim's work: takes the thread's slots once `proof` shows it has exited (see ExitProof),
   * empties and frees each, and finishes or gives back the reclaims the thread was running itself
   * when it stopped.
   */
  reclaimThread(threadId: number, proof: ExitProof): ReclaimReport {
    const report = { threadId, slots: 0, locks: 0, cached: 0, leased: 0 };
    if (this.reclaiming.has(threadId)) return report;
    this.reclaiming.add(threadId);
    try {
      const { slots, proven } = this.claimSlotsOf(threadId, proof);
      for (const slot of slots) this.emptySlot(slot, threadId, report);
      // The reclaims it was running are taken over only once its exit is proven: a thread that
      // has no slot here proves nothing by that.
      if (proven) this.finishReclaimsBy(threadId, report);
    } finally {
      this.reclaiming.delete(threadId);
    }
    // The locks just taken over may be the ones that kept this thread's stranded slabs out.
    for (let c = 0; c < this.host.layout.classCount; c++) this.host.fileStrandedQuickly(c);
    return report;
  }

  /**
   * Moves every slot of `threadId` to "reclaimed by this thread, confirmed" and returns them, with
   * whether the thread's exit is proven (by `proof`, or by a check of at least one slot). Claim
   * first, then check: a slot the thread claims after this (attaching again) is not taken, and
   * while the check runs nobody else closes, frees or reclaims the slots. A closing slot has ended
   * its liveness waits, so only a known exit takes it. A slot another reclaim checks is left to it
   * for up to `STALE_CHECK_MS` (a check takes microseconds), then taken over: that checker stopped or
   * stalled, and its confirming exchange will fail. A slot another reclaim has confirmed is left
   * to it while it runs; one whose reclaimer has exited is finished by reclaiming the reclaimer.
   * @throws {ReclaimLiveThreadError} the check showed the thread running, a slot stayed closing
   *   (checked reclaims), or another reclaim still held a slot after `HELD_ELSEWHERE_MS`; slots this call
   *   was checking are given back.
   * @throws {RunsAfterExit} (`exit-event`) a pool object of the thread still answers, or another
   *   reclaim holds one of its slots: watch looks again later.
   */
  private claimSlotsOf(threadId: number, proof: ExitProof): { slots: number[]; proven: boolean } {
    const confirmedPhase = reclaimPhase(currentThreadId, true);
    const checkingClaim = claimValue(threadId, reclaimPhase(currentThreadId, false));
    const confirmed: number[] = [];
    const checking: number[] = [];
    const firstSeen = new Map<bigint, number>();
    const started = Date.now();
    try {
      for (;;) {
        let heldElsewhere = false;
        let confirmedElsewhere = false;
        let closing = false;
        for (const held of slotsOf(this.host.claims, this.host.layout, threadId)) {
          // Confirmed for this thread by an earlier call that stopped on an error: finish it now.
          if (held.phase === confirmedPhase) {
            if (!confirmed.includes(held.slot)) confirmed.push(held.slot);
            continue;
          }
          if (held.claim === checkingClaim) continue;
          const checkedElsewhere = held.reclaimer !== -1 && (held.phase & 3) === PHASE_CHECKING;
          const stale = checkedElsewhere && Date.now() - (firstSeen.get(held.claim) ?? Date.now()) >= STALE_CHECK_MS;
          if (checkedElsewhere && !firstSeen.has(held.claim)) firstSeen.set(held.claim, Date.now());
          if (held.phase === PHASE_CLOSING && proof === 'checked') {
            closing = true;
          } else if (held.phase === PHASE_OPEN || held.phase === PHASE_CLOSING || held.reclaimer === currentThreadId || stale) {
            // A closing slot has ended its liveness waits: only a known exit takes it.
            const now = proof === 'exited' || (proof === 'exit-event' && held.phase === PHASE_CLOSING);
            const next = now ? claimValue(threadId, confirmedPhase) : checkingClaim;
            if (!swapClaim(this.host.claims, this.host.layout, held.slot, held.claim, next)) {
              heldElsewhere = true; // it changed in between: look again
              continue;
            }
            if (STEPS) step('reclaim.claimed');
            (now ? confirmed : checking).push(held.slot);
          } else if (held.reclaimer !== -1) {
            heldElsewhere = true;
            if (!checkedElsewhere) confirmedElsewhere = true;
            // A reclaimer that exited part-way: its own reclaim finishes this slot or gives it back.
            if (!checkedElsewhere && !this.watched.get(held.reclaimer)?.alive) this.reclaimIfExited(held.reclaimer);
          }
        }
        if (!heldElsewhere && !closing) break;
        // Watch must not wait here for a reclaim another thread confirmed (that reclaimer's own
        // 'exit' may be the next event of this very loop): it looks again from the event loop.
        if (proof === 'exit-event' && confirmedElsewhere) throw new RunsAfterExit();
        if (Date.now() - started >= HELD_ELSEWHERE_MS) {
          throw new ReclaimLiveThreadError(
            threadId,
            closing
              ? `it has been closing a pool object for ${HELD_ELSEWHERE_MS} ms, or stopped while closing one: reclaim it from its 'exit' event (watch does)`
              : `another reclaim has held one of its thread slots for ${HELD_ELSEWHERE_MS} ms; try again once that reclaim has finished`,
          );
        }
        nap(NAP_MS);
      }
      const proven = proof !== 'checked' || checking.length > 0 || confirmed.length > 0;
      if (checking.length === 0) return { slots: confirmed, proven };
      let refusal = livenessRefusal(this.host.signals, checking);
      // After an 'exit' event, a check that cannot tell defers to the event.
      if (refusal !== undefined && proof === 'exit-event' && !refusal.answered) refusal = undefined;
      if (refusal !== undefined) {
        throw proof === 'exit-event' ? new RunsAfterExit() : new ReclaimLiveThreadError(threadId, refusal.reason);
      }
      for (const slot of checking.splice(0)) {
        // Fails only if the slot's own thread, closing, took it back after waiting out a check
        // that seemed stuck: then it is not ours to empty.
        if (swapClaim(this.host.claims, this.host.layout, slot, checkingClaim, claimValue(threadId, confirmedPhase))) {
          confirmed.push(slot);
        }
      }
      if (STEPS) step('reclaim.confirmed');
      return { slots: confirmed, proven };
    } finally {
      // Whatever stopped this call (a refusal, an error in a nested reclaim), the slots it was
      // still checking go back to their thread.
      for (const slot of checking) {
        swapClaim(this.host.claims, this.host.layout, slot, checkingClaim, claimValue(threadId, PHASE_OPEN));
      }
    }
  }

  /** Reclaims `threadId` if a liveness check shows it has exited; does nothing if it runs. */
  private reclaimIfExited(threadId: number): void {
    if (threadId === currentThreadId) return;
    try {
      this.reclaimThread(threadId, 'checked');
    } catch (error) {
      // Running, or undecided, or stopped by a lock a dead thread holds: the caller looks again.
      if (!(error instanceof ReclaimLiveThreadError) && !(error instanceof LockTimeoutError)) throw error;
    }
  }

  /**
   * Empties slot `slot` of the exited thread `threadId`, which this thread holds confirmed: takes
   * over its locks (rebuilding what they guard), withdraws its waits, returns the slabs it cached
   * or leased, and frees the slot. Each step can be repeated, so a reclaim stopped anywhere in here
   * is finished by the reclaim of this thread; what this thread collected meanwhile is its own
   * cached slabs, which that reclaim returns too.
   */
  private emptySlot(slot: number, threadId: number, report: Report): void {
    report.slots++;
    report.locks += takeOverLocks(this.host, slot);
    if (STEPS) step('reclaim.locks');
    this.waiters.retractSlot(slot);
    if (STEPS) step('reclaim.waits');
    // Collected per class and pushed in one batch each: one lock (and, if a dead thread holds the
    // home shard's, one lockTimeoutMs wait before the fallback) per class, not per slab.
    const byClass = new Map<number, number[]>();
    const returned = collectSlabs(this.host, slot, (c, slab) => {
      // Zero or poison every slab coming back, cached ones too: a thread terminated between a
      // release's exchange and its zeroing left a slab marked cached that still holds its data.
      if (this.host.flags !== 0) afterRelease(this.host, slab, c);
      const slabs = byClass.get(c);
      if (slabs === undefined) byClass.set(c, [slab]);
      else slabs.push(slab);
    });
    if (STEPS) step('reclaim.collected');
    for (const [c, slabs] of byClass) {
      // collectSlabs made them this thread's (cached by it): file them in any shard whose lock is
      // free within RECLAIM_FILE_MS, not after lockTimeoutMs, since workers terminated together
      // leave locks held by threads not reclaimed yet. Those still stranded then are filed from
      // this thread's event loop once a lock is free (counted as cached by it meanwhile).
      this.host.strand(c, slabs);
      const until = performance.now() + RECLAIM_FILE_MS;
      let filed = this.host.fileStrandedQuickly(c);
      while (!filed && performance.now() < until) filed = this.host.fileStrandedQuickly(c);
    }
    // A thread that died while draining a reserved list nobody waits on any more left slabs there
    // that the rebuild relisted: hand them to the shards.
    for (let c = 0; c < this.host.layout.classCount; c++) this.waiters.drainIfUnwaited(c);
    report.cached += returned.cached;
    report.leased += returned.leased;
    this.host.counters[C_RECLAIMED] += returned.leased;
    // The slot's next thread starts with its waits unarmed (see PROBES_BASE).
    Atomics.store(this.host.signals, PROBES_BASE + slot, LIVENESS_UNARMED);
    if (STEPS) step('reclaim.emptied');
    swapClaim(this.host.claims, this.host.layout, slot, claimValue(threadId, reclaimPhase(currentThreadId, true)), 0n);
  }

  /**
   * Finishes the reclaims the exited thread `reclaimer` was running when it stopped: a slot it had
   * confirmed is emptied here, one it was still checking goes back to its thread.
   */
  private finishReclaimsBy(reclaimer: number, report: Report): void {
    for (const held of slotsOf(this.host.claims, this.host.layout, reclaimer, true)) {
      if ((held.phase & 3) === PHASE_CHECKING) {
        swapClaim(this.host.claims, this.host.layout, held.slot, held.claim, claimValue(held.threadId, PHASE_OPEN));
      } else if (
        swapClaim(
          this.host.claims,
          this.host.layout,
          held.slot,
          held.claim,
          claimValue(held.threadId, reclaimPhase(currentThreadId, true)),
        )
      ) {
        this.emptySlot(held.slot, held.threadId, report);
      }
    }
  }

  /**
   * close()'s last step, once the slot holds nothing. Gives up the slot in three steps: open ->
   * closing (no check can start on it after this, so ending the waits cannot make a check think
   * this running thread exited), liveness waits ended, then free. A thread stopped while closing
   * is reclaimed by watch (its 'exit' proves it). A reclaim checking this thread holds the slot
   * for microseconds; one stopped inside its check holds it until its own thread is reclaimed, so
   * after `STALE_CHECK_MS` it is taken back from it.
   */
  giveUpSlot(): void {
    const open = claimValue(currentThreadId, PHASE_OPEN);
    const closing = claimValue(currentThreadId, PHASE_CLOSING);
    const deadline = Date.now() + STALE_CHECK_MS;
    for (;;) {
      const seen = Atomics.compareExchange(this.host.claims, claimIndex(this.host.layout, this.host.slot), open, closing);
      if (seen === open) break;
      // Not ours, or a reclaim confirmed it (it cannot while this thread runs): leave it to them.
      if (claimThread(seen) !== currentThreadId || (claimPhase(seen) & 3) !== PHASE_CHECKING) return;
      if (Date.now() >= deadline) {
        if (swapClaim(this.host.claims, this.host.layout, this.host.slot, seen, closing)) break;
        continue;
      }
      nap(NAP_MS);
    }
    if (STEPS) step('close.closing');
    this.livenessEnded = true;
    Atomics.store(this.host.signals, PROBES_BASE + this.host.slot, LIVENESS_UNARMED);
    Atomics.notify(this.host.signals, LIVENESS_BASE + this.host.slot);
    if (STEPS) step('close.liveness-ended');
    // Frees the slot for another thread, unless a reclaim took the closing slot over (it frees it).
    swapClaim(this.host.claims, this.host.layout, this.host.slot, closing, 0n);
  }
}
