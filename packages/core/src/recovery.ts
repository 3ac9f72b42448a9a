/**
 * Crash recovery: what `reclaim(threadId)` does for a thread that exited without `close()`
 * (`worker.terminate()`, `process.exit()`, an uncaught exception, running out of memory). Such a
 * thread may have died holding a shard lock in the middle of moving slabs, with slabs in its
 * private cache, and with slabs leased. Recovery follows the robust-futex model: lock words name
 * their owner, so the dead thread's locks are found and taken over; a shard whose lock was taken
 * over is not trusted but rebuilt from the per-slab state words (each free slab says which shard
 * it belongs to); then every slab the state words attribute to the dead thread comes back.
 *
 * `terminate()` takes effect at V8 interrupt checks (calls and loop back-edges), so a dead thread
 * can stop between any two slabs of a batch move, never inside one atomic operation.
 */
import {
  type ArenaLayout,
  CLAIM_RECLAIMING,
  CLASS_MASK,
  GEN_MASK,
  GEN_SHIFT,
  H_ARENA_LOCK,
  H_ASYNC_WAITERS,
  H_SLAB_COUNT,
  LOCK_WAITERS,
  META_LINK,
  META_OFFSET_CLASS,
  META_STATE,
  NOT_OWNER,
  NO_SLAB,
  OWNER_MASK,
  OWNER_NONE,
  OWNER_SHIFT,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  STATE_MASK,
  S_COUNT,
  S_HEAD,
  S_SEQUENCE,
  S_WAITERS,
  T_CLAIM,
  lockOwnerSlot,
  metaWord,
  reservedWord,
  shardWord,
  threadWaitsByte,
  threadWord,
} from './layout.js';
import { unlock } from './lock.js';

/** What one call to `reclaim` found and returned. */
export interface ReclaimReport {
  /** The thread that was reclaimed. */
  readonly threadId: number;
  /** Thread slots (pool objects) that thread had attached; 0 if it had none or closed them all. */
  readonly slots: number;
  /** Lock words it held, taken over and their shards rebuilt. */
  readonly locks: number;
  /** Slabs in its private cache, returned to the shards. */
  readonly cached: number;
  /** Slabs it held leased, returned to the shards (their ids are now stale). */
  readonly leased: number;
}

/** The parts of a pool object recovery works with. */
export interface RecoveryContext {
  readonly words: Int32Array;
  readonly layout: ArenaLayout;
  /** Lock owner value of the recovering thread. */
  readonly lockOwner: number;
  /** `packState(SLAB_CACHED, recovering slot, 0)`. */
  readonly cachedBits: number;
}

/**
 * Claims every thread slot `threadId` attached, so no one else recovers them at the same time.
 * Returns the slots; each claim word now holds `CLAIM_RECLAIMING` until `releaseSlot`.
 */
export function claimDeadSlots(words: Int32Array, layout: ArenaLayout, threadId: number): number[] {
  const slots: number[] = [];
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    const claim = threadWord(layout, slot);
    // One compare-exchange per slot: of two threads reclaiming the same thread, each slot goes
    // to exactly one of them.
    if (Atomics.compareExchange(words, claim + T_CLAIM, threadId + 1, CLAIM_RECLAIMING) === threadId + 1) slots.push(slot);
  }
  return slots;
}

/** Frees a recovered slot for reuse. */
export function releaseSlot(words: Int32Array, layout: ArenaLayout, slot: number): void {
  Atomics.store(words, threadWord(layout, slot) + T_CLAIM, 0);
}

/**
 * Takes over every lock word held by `deadSlot`, rebuilds each shard it guarded, and unlocks
 * (waking any waiter). Returns how many locks were taken over.
 */
export function takeOverLocks(ctx: RecoveryContext, deadSlot: number): number {
  const { words, layout } = ctx;
  let taken = 0;
  for (let c = 0; c < layout.classCount; c++) {
    for (let shard = 0; shard <= layout.shards; shard++) {
      const line = shardWord(layout, c, shard);
      if (takeOver(ctx, line, deadSlot)) {
        rebuildShard(words, layout, line, c, shard);
        unlock(words, line);
        taken++;
        // The rebuild may have listed slabs the dead thread was handing over (a spill, a flush, an
        // answer to a waiter's flush request): wake the class's waiters to look.
        if (Atomics.load(words, H_ASYNC_WAITERS) !== 0) {
          Atomics.add(words, reservedWord(layout, c) + S_SEQUENCE, 1);
          Atomics.notify(words, reservedWord(layout, c) + S_SEQUENCE);
        }
      }
    }
  }
  // The arena lock guards only the carving cursors, which are published in an order that is safe
  // to stop anywhere (see carve): nothing to rebuild.
  if (takeOver(ctx, H_ARENA_LOCK, deadSlot)) {
    unlock(words, H_ARENA_LOCK);
    taken++;
  }
  return taken;
}

function takeOver(ctx: RecoveryContext, index: number, deadSlot: number): boolean {
  for (;;) {
    const word = Atomics.load(ctx.words, index);
    if (word === 0 || lockOwnerSlot(word) !== deadSlot) return false;
    // Keep the waiters bit so our unlock wakes whoever sleeps on the word. The exchange fails only
    // if a waiter set that bit in between; then read again.
    if (Atomics.compareExchange(ctx.words, index, word, ctx.lockOwner | (word & LOCK_WAITERS)) === word) return true;
  }
}

/**
 * Rebuilds the free list of shard `shard` of class `c` from the state words: exactly the slabs of
 * that class marked free in that shard, each once. The caller holds the shard's lock. Slabs a dead
 * thread had half-moved out of the list are marked cached by it and come back through
 * `collectSlabs`; slabs it had half-moved in are marked free here and are relinked.
 */
export function rebuildShard(words: Int32Array, layout: ArenaLayout, line: number, c: number, shard: number): void {
  const metaTop = layout.arenaBytes >> 2;
  const slabCount = Atomics.load(words, H_SLAB_COUNT);
  let head = NO_SLAB;
  let count = 0;
  for (let slab = slabCount - 1; slab >= 0; slab--) {
    const meta = metaWord(metaTop, slab);
    if ((words[meta + META_OFFSET_CLASS] & CLASS_MASK) !== c) continue;
    const state = Atomics.load(words, meta + META_STATE);
    if ((state & STATE_MASK) !== SLAB_FREE || ((state >>> OWNER_SHIFT) & OWNER_MASK) !== shard) continue;
    words[meta + META_LINK] = head;
    head = slab;
    count++;
  }
  words[line + S_HEAD] = head;
  words[line + S_COUNT] = count;
}

/**
 * Moves every slab the state words attribute to `deadSlot` (cached by it, or leased with it
 * recorded as holder) into the recovering thread's hands: each becomes cached by the recovering
 * slot, and `onSlab(classIndex, slab)` receives its index to push to a shard. Leased slabs move to the next
 * generation, so ids the dead thread handed out without an `adopt` are stale from now on.
 */
export function collectSlabs(
  ctx: RecoveryContext,
  deadSlot: number,
  onSlab: (classIndex: number, slab: number, wasLeased: boolean) => void,
): { cached: number; leased: number } {
  const { words, layout } = ctx;
  const metaTop = layout.arenaBytes >> 2;
  const slabCount = Atomics.load(words, H_SLAB_COUNT);
  let cached = 0;
  let leased = 0;
  for (let slab = 0; slab < slabCount; slab++) {
    const meta = metaWord(metaTop, slab);
    const state = Atomics.load(words, meta + META_STATE);
    const kind = state & STATE_MASK;
    const generation = state >>> GEN_SHIFT;
    const c = words[meta + META_OFFSET_CLASS] & CLASS_MASK;
    if (kind === SLAB_CACHED && ((state >>> OWNER_SHIFT) & OWNER_MASK) === deadSlot) {
      // Only its dead owner could change this word, so the exchange should not fail; if it does,
      // the slab is someone else's now and stays theirs.
      if (Atomics.compareExchange(words, meta + META_STATE, state, ctx.cachedBits | (generation << GEN_SHIFT)) !== state)
        continue;
      onSlab(c, slab, false);
      cached++;
    } else if (kind === SLAB_LEASED && ((state >>> OWNER_SHIFT) & OWNER_MASK) === deadSlot) {
      const next = (generation + 1) & GEN_MASK;
      // One exchange on the word that holds both holder and generation: an `adopt` by a live thread,
      // or a release by a thread that was handed the id without adopting it, races on the same
      // word, and if it wins, the slab is that thread's and we leave it.
      if (Atomics.compareExchange(words, meta + META_STATE, state, ctx.cachedBits | (next << GEN_SHIFT)) !== state) continue;
      onSlab(c, slab, true);
      leased++;
    }
  }
  return { cached, leased };
}

/**
 * Retracts the `acquireAsync` waits a thread slot left registered — a dead thread's, or a pool
 * object's own on `close()` — and drains reserved lists nobody waits on any more (the last waiter
 * out drains, under the reserved lock).
 */
export function retractWaits(
  ctx: RecoveryContext,
  deadSlot: number,
  lockLine: (index: number) => void,
  drain: (c: number) => void,
): void {
  const { words, layout } = ctx;
  const waits = new Uint8Array(words.buffer, threadWaitsByte(layout, deadSlot), layout.classCount);
  for (let c = 0; c < layout.classCount; c++) {
    const pending = waits[c];
    if (pending === 0) continue;
    const line = reservedWord(layout, c);
    lockLine(line);
    // All three counts change together under the reserved lock, as waiters change them.
    words[line + S_WAITERS] -= pending;
    waits[c] = 0;
    Atomics.sub(words, H_ASYNC_WAITERS, pending);
    if (words[line + S_WAITERS] === 0) drain(c);
    unlock(words, line);
  }
}

/**
 * On `close()`: leases the closing slot still holds stay leased (any thread may release them), but
 * no longer name the slot, which another thread may claim next.
 */
export function disownLeases(words: Int32Array, layout: ArenaLayout, slot: number): void {
  const metaTop = layout.arenaBytes >> 2;
  const slabCount = Atomics.load(words, H_SLAB_COUNT);
  for (let slab = 0; slab < slabCount; slab++) {
    const meta = metaWord(metaTop, slab) + META_STATE;
    const state = Atomics.load(words, meta);
    if ((state & STATE_MASK) !== SLAB_LEASED || ((state >>> OWNER_SHIFT) & OWNER_MASK) !== slot) continue;
    // If a release or an adopt changes the word first, the slab is no longer this slot's anyway.
    Atomics.compareExchange(words, meta, state, (state & NOT_OWNER) | (OWNER_NONE << OWNER_SHIFT));
  }
}
