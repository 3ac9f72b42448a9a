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
  GEN_MASK,
  GEN_SHIFT,
  H_ARENA_LOCK,
  H_PAGES_CARVED,
  H_WAITING_CLASSES,
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
  STATE_MASK,
  S_COUNT,
  S_HEAD,
  S_SEQUENCE,
  S_WAITERS,
  T_WAITING,
  forEachSlab,
  lockOwnerSlot,
  metaWord,
  pageClassWord,
  reservedWord,
  shardWord,
  threadWord,
} from './layout.js';
import { unlock } from './lock.js';
import { STEPS, step } from './steps.js';

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
        wakeClass(words, layout, c);
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
    }
  });
  return { cached, leased };
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

/** Bumps class `c`'s wake-up sequence and wakes every `acquireAsync` waiting on it. */
export function wakeWaiters(words: Int32Array, layout: ArenaLayout, c: number): void {
  const sequence = reservedWord(layout, c) + S_SEQUENCE;
  // The add makes the change a waiter compares against; notify wakes those already asleep.
  Atomics.add(words, sequence, 1);
  if (STEPS) step('wake.bumped');
  Atomics.notify(words, sequence);
}

/** wakeWaiters, if any class has waiters. */
export function wakeClass(words: Int32Array, layout: ArenaLayout, c: number): void {
  if (Atomics.load(words, H_WAITING_CLASSES) !== 0) wakeWaiters(words, layout, c);
}

/**
 * Retracts the `acquireAsync` waits of a thread slot (a dead thread's, or a pool object's own on
 * `close()`): for each class whose bit it has, under the class's reserved lock, clears the bit and
 * recounts the class, and drains the reserved list if nobody waits any more. Each class is done
 * whole under its lock, and the bit goes only after the lock is taken, so a retraction stopped
 * anywhere is finished by the next one. Then wakes every class that still has waiters: a thread
 * stopped between a hand-over and its wake-up left them asleep.
 */
export function retractWaits(
  ctx: RecoveryContext,
  slot: number,
  lockLine: (index: number) => void,
  drain: (c: number) => void,
): void {
  const { words, layout } = ctx;
  const waiting = threadWord(layout, slot) + T_WAITING;
  for (let c = 0; c < layout.classCount; c++) {
    if ((Atomics.load(words, waiting) & (1 << c)) === 0) continue;
    const line = reservedWord(layout, c);
    lockLine(line);
    try {
      Atomics.and(words, waiting, ~(1 << c));
      if (STEPS) step('recover.wait-bit-cleared');
      if (recountWaiters(words, layout, c) === 0) drain(c);
    } finally {
      unlock(words, line);
    }
  }
  for (let c = 0; c < layout.classCount; c++) wakeClass(words, layout, c);
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
