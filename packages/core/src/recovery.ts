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
 *
 * The order of a reclaim's steps is lifecycle.ts's; withdrawing the dead thread's waits is
 * waiters.ts's. This file holds the steps that repair shared state: lock take-over, shard
 * rebuilds, collecting slabs, the page cursor, and the leases a closing slot disowns.
 */
import {
  type ArenaLayout,
  GEN_MASK,
  GEN_SHIFT,
  H_ARENA_LOCK,
  H_PAGES_CARVED,
  LOCK_WAITERS,
  META_LINK,
  META_STATE,
  NOT_OWNER,
  NO_SLAB,
  OWNER_MASK,
  OWNER_NONE,
  OWNER_SHIFT,
  PAGE_UNTOUCHED,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  SLAB_QUEUED,
  STATE_MASK,
  S_COUNT,
  S_HEAD,
  channelWord,
  forEachSlab,
  lockOwnerSlot,
  metaWord,
  pageClassWord,
  shardWord,
} from './layout.js';
import { unlock } from './lock.js';
import { STEPS, step } from './steps.js';
import { recountWaiters, wakeAfterFiling } from './waiters.js';

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
        if (STEPS) step('recover.lock-taken');
        rebuildShards(words, layout, c, shard);
        // A thread stopped while it registered or withdrew a wait left the counts half-changed.
        if (shard === layout.shards) recountWaiters(words, layout, c);
        unlock(words, line);
        taken++;
        // The rebuild may have listed slabs the dead thread was handing over (a spill, a flush, an
        // answer to a waiter's flush request): wake the class's waiters to look.
        wakeAfterFiling(words, layout, c);
      }
    }
  }
  // The arena lock guards the page table and the carving cursor. A carver writes a page's class
  // before it moves the cursor (see carvePage): one that died between the two left the cursor
  // short, so recount it before the unlock lets another carver take that page again.
  if (takeOver(ctx, H_ARENA_LOCK, deadSlot)) {
    recountPages(words, layout);
    unlock(words, H_ARENA_LOCK);
    taken++;
  }
  return taken;
}

/**
 * Moves the carving cursor past every page the page table gives a class or marks given back. The
 * caller holds the arena lock.
 */
export function recountPages(words: Int32Array, layout: ArenaLayout): void {
  let pages = 0;
  for (let page = 0; page < layout.pageCount; page++) {
    if (words[pageClassWord(layout, page)] !== PAGE_UNTOUCHED) pages = page + 1;
  }
  if (pages > words[H_PAGES_CARVED]) Atomics.store(words, H_PAGES_CARVED, pages);
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
 * Rebuilds the free lists of class `c` from the state words: shard `only`'s, or with -1 all its
 * shards' (not the reserved list's): exactly the slabs of the class's pages marked free in that
 * shard, each once, in index order. The caller holds those shards' locks. Slabs a dead thread had
 * half-moved out of a list are marked cached by it and come back through `collectSlabs`; slabs it
 * had half-moved in are marked free here and are relinked; slabs of a page it had given back are
 * left out with their page.
 */
export function rebuildShards(words: Int32Array, layout: ArenaLayout, c: number, only: number): void {
  const metaTop = layout.metaTop;
  const first = only === -1 ? 0 : only;
  const last = only === -1 ? layout.shards - 1 : only;
  const heads = new Int32Array(last - first + 1).fill(NO_SLAB);
  const counts = new Int32Array(last - first + 1);
  forEachSlab(
    words,
    layout,
    (slab, classIndex) => {
      if (classIndex !== c) return;
      const meta = metaWord(metaTop, slab);
      const state = Atomics.load(words, meta + META_STATE);
      const shard = (state >>> OWNER_SHIFT) & OWNER_MASK;
      if ((state & STATE_MASK) !== SLAB_FREE || shard < first || shard > last) return;
      words[meta + META_LINK] = heads[shard - first];
      heads[shard - first] = slab;
      counts[shard - first]++;
    },
    true,
  );
  for (let shard = first; shard <= last; shard++) {
    const line = shardWord(layout, c, shard);
    words[line + S_HEAD] = heads[shard - first];
    words[line + S_COUNT] = counts[shard - first];
  }
}

/**
 * Moves every slab the state words attribute to `deadSlot` (cached by it, or leased with it
 * recorded as holder), and every slab queued in a channel that no longer exists, into the
 * recovering thread's hands: each becomes cached by the recovering
 * slot, and `onSlab(classIndex, slab)` receives its index to push to a shard. Leased slabs move to the next
 * generation, so ids the dead thread handed out without an `adopt` are stale from now on.
 */
export function collectSlabs(
  ctx: RecoveryContext,
  deadSlot: number,
  onSlab: (classIndex: number, slab: number, wasLeased: boolean) => void,
): { cached: number; leased: number } {
  const { words, layout } = ctx;
  const metaTop = layout.metaTop;
  let cached = 0;
  let leased = 0;
  forEachSlab(words, layout, (slab, c) => {
    const meta = metaWord(metaTop, slab);
    const state = Atomics.load(words, meta + META_STATE);
    const kind = state & STATE_MASK;
    const generation = state >>> GEN_SHIFT;
    if (kind === SLAB_CACHED && ((state >>> OWNER_SHIFT) & OWNER_MASK) === deadSlot) {
      // Only its dead owner could change this word, so the exchange should not fail; if it does,
      // the slab is someone else's now and stays theirs.
      if (Atomics.compareExchange(words, meta + META_STATE, state, ctx.cachedBits | (generation << GEN_SHIFT)) !== state) return;
      onSlab(c, slab, false);
      cached++;
      if (STEPS) step('reclaim.collected-one');
    } else if (kind === SLAB_LEASED && ((state >>> OWNER_SHIFT) & OWNER_MASK) === deadSlot) {
      const next = (generation + 1) & GEN_MASK;
      // One exchange on the word that holds both holder and generation: an `adopt` by a live thread,
      // or a release by a thread that was handed the id without adopting it, races on the same
      // word, and if it wins, the slab is that thread's and we leave it.
      if (Atomics.compareExchange(words, meta + META_STATE, state, ctx.cachedBits | (next << GEN_SHIFT)) !== state) return;
      onSlab(c, slab, true);
      leased++;
      if (STEPS) step('reclaim.collected-one');
    } else if (
      kind === SLAB_QUEUED &&
      ((state >>> OWNER_SHIFT) & OWNER_MASK) !== 0 &&
      Atomics.load(words, channelWord(layout, (state >>> OWNER_SHIFT) & OWNER_MASK)) === 0
    ) {
      // Queued in a channel that no longer exists: a send whose exchange came after its channel's
      // destroy() had scanned, by a thread stopped before it read the destroyed flag and took the
      // slab back. Nobody else can reach it. A live sender taking it back races on this word.
      const next = (generation + 1) & GEN_MASK;
      if (Atomics.compareExchange(words, meta + META_STATE, state, ctx.cachedBits | (next << GEN_SHIFT)) !== state) return;
      onSlab(c, slab, true);
      leased++;
      if (STEPS) step('reclaim.collected-one');
    }
  });
  return { cached, leased };
}

/**
 * On `close()`: leases the closing slot still holds stay leased (any thread may release them), but
 * no longer name the slot, which another thread may claim next.
 */
export function disownLeases(words: Int32Array, layout: ArenaLayout, slot: number): void {
  const metaTop = layout.metaTop;
  forEachSlab(words, layout, (slab) => {
    const meta = metaWord(metaTop, slab) + META_STATE;
    const state = Atomics.load(words, meta);
    if ((state & STATE_MASK) !== SLAB_LEASED || ((state >>> OWNER_SHIFT) & OWNER_MASK) !== slot) return;
    // If a release or an adopt changes the word first, the slab is no longer this slot's anyway.
    Atomics.compareExchange(words, meta, state, (state & NOT_OWNER) | (OWNER_NONE << OWNER_SHIFT));
    if (STEPS) step('close.disowned-one');
  });
}
