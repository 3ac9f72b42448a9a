/**
 * Reading the whole pool: statistics, the consistency audit, and the figures a PoolExhaustedError
 * reports. They walk every slab's state word, which makes them exact once the threads are quiet
 * and a moment's view while they work.
 */
import { PoolExhaustedError } from './errors.js';
import {
  type ArenaLayout,
  COUNTER_COUNT,
  C_EXHAUSTED,
  C_LOCK_WAITS,
  C_PAGES_RECARVED,
  C_PAGES_RETURNED,
  C_RECLAIMED,
  C_REFILLS,
  C_RELEASES,
  C_SLOW_ACQUIRES,
  C_SPILLS,
  C_STEALS,
  C_TRIMS,
  H_ARENA_LOCK,
  H_PAGES_CARVED,
  H_WAITING_CLASSES,
  MAX_CHANNELS,
  META_BYTES,
  META_LINK,
  META_OFFSET_CLASS,
  META_STATE,
  NO_SLAB,
  OWNER_NONE,
  PAGE_FREE,
  PAGE_UNTOUCHED,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  SLAB_QUEUED,
  STATE_MASK,
  S_COUNT,
  S_HEAD,
  S_WAITERS,
  T_WAITING,
  channelWord,
  claimIndex,
  claimPhase,
  claimThread,
  classOfSlot,
  firstSlabOf,
  forEachSlab,
  lockOwnerSlot,
  metaWord,
  ownerOf,
  pageClassWord,
  pageOfSlab,
  pageStartOf,
  phaseReclaimer,
  reservedWord,
  shardWord,
  slabSizeOf,
  threadCounterF64,
  threadWord,
} from './layout.js';
import { lockWithin, nap, unlock } from './lock.js';
import type { ClassStats, PoolStats, ResolvedConfig } from './types.js';

/** How long `audit` waits for each shard lock (and a reclaim in progress) before reporting it as stuck. */
const AUDIT_LOCK_TIMEOUT_MS = 1000;
/** How often `audit` looks again at a slot in a reclaim, to see it finish. */
const RECLAIM_POLL_MS = 5;

/** Pages by what the page table says: carved into a class now, given back, never carved. */
export function countPages(words: Int32Array, layout: ArenaLayout): { carved: number; free: number; untouched: number } {
  let carved = 0;
  let free = 0;
  for (let page = 0; page < layout.pageCount; page++) {
    const entry = words[pageClassWord(layout, page)];
    if (entry >= 0) carved++;
    else if (entry === PAGE_FREE) free++;
  }
  return { carved, free, untouched: layout.pageCount - carved - free };
}

/** Arena bytes in use: everything before the first page, and the pages carved into a class now. */
export function usedBytesOf(words: Int32Array, layout: ArenaLayout): number {
  return layout.dataStart + countPages(words, layout).carved * layout.pageBytes;
}

/** Per class: pages, and slabs by state, as the state words say now. */
export function countSlabs(
  words: Int32Array,
  layout: ArenaLayout,
): { pages: number; slabs: number; free: number; cached: number; leased: number; queued: number }[] {
  const perClass = Array.from({ length: layout.classCount }, () => ({
    pages: 0,
    slabs: 0,
    free: 0,
    cached: 0,
    leased: 0,
    queued: 0,
  }));
  for (let page = 0; page < layout.pageCount; page++) {
    const c = words[pageClassWord(layout, page)];
    if (c >= 0 && c < layout.classCount) perClass[c].pages++;
  }
  forEachSlab(words, layout, (slab, c) => {
    const counts = perClass[c];
    counts.slabs++;
    const state = Atomics.load(words, metaWord(layout.metaTop, slab) + META_STATE) & STATE_MASK;
    if (state === SLAB_FREE) counts.free++;
    else if (state === SLAB_CACHED) counts.cached++;
    else if (state === SLAB_LEASED) counts.leased++;
    else counts.queued++;
  });
  return perClass;
}

export function collectStats(words: Int32Array, floats: Float64Array, layout: ArenaLayout, _config: ResolvedConfig): PoolStats {
  const perClass = countSlabs(words, layout);
  const pages = countPages(words, layout);
  // Slots keep their counters from thread to thread, so the totals are the sums over every slot.
  const totals = new Float64Array(COUNTER_COUNT);
  const claims = new BigInt64Array(words.buffer, 0, layout.dataStart >> 3);
  let threads = 0;
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    if (Atomics.load(claims, claimIndex(layout, slot)) !== 0n) threads++;
    const base = threadCounterF64(layout, slot);
    for (let i = 0; i < COUNTER_COUNT; i++) totals[i] += floats[base + i];
  }
  // Every acquire ends as exactly one leased slab or one counted release (see SlabPool.tryAcquire).
  let leased = 0;
  let slabs = 0;
  for (const counts of perClass) {
    leased += counts.leased + counts.queued;
    slabs += counts.slabs;
  }
  const acquires = totals[C_RELEASES] + totals[C_RECLAIMED] + leased;
  const classes: ClassStats[] = perClass.map((counts, c) => ({ slabSize: slabSizeOf(layout, c), ...counts }));
  return {
    arenaBytes: layout.arenaBytes,
    bufferBytes: layout.bufferBytes,
    usedBytes: layout.dataStart + pages.carved * layout.pageBytes,
    metadataBytes: slabs * META_BYTES,
    overheadBytes: layout.dataStart,
    pageBytes: layout.pageBytes,
    pagesCarved: pages.carved,
    pagesFree: pages.free,
    pagesUntouched: pages.untouched,
    pagesReturned: totals[C_PAGES_RETURNED],
    pagesRecarved: totals[C_PAGES_RECARVED],
    trims: totals[C_TRIMS],
    threads,
    channels: countChannels(words, layout),
    classes,
    acquires,
    releases: totals[C_RELEASES],
    reclaimed: totals[C_RECLAIMED],
    cacheHits: Math.max(0, acquires - totals[C_SLOW_ACQUIRES]),
    refills: totals[C_REFILLS],
    spills: totals[C_SPILLS],
    steals: totals[C_STEALS],
    lockWaits: totals[C_LOCK_WAITS],
    exhausted: totals[C_EXHAUSTED],
  };
}

/** Channel numbers taken now. */
function countChannels(words: Int32Array, layout: ArenaLayout): number {
  let channels = 0;
  for (let n = 1; n <= MAX_CHANNELS; n++) if (Atomics.load(words, channelWord(layout, n)) !== 0) channels++;
  return channels;
}

/**
 * Checks that every shard's list and count agree with the slab state words: each listed slab is
 * free, of the shard's class, marked with that shard, listed once; every free slab is listed; each
 * cached or held slab names a thread slot below maxThreads; the page table and the carving cursor
 * agree, and each slab's metadata says the page, offset and class the page table gives it. Takes
 * each shard's lock while walking it, and the arena lock to read the page table.
 * Returns the problems found (empty when consistent).
 */
export function auditArena(words: Int32Array, layout: ArenaLayout, lockOwner: number): string[] {
  const problems: string[] = [];
  const metaTop = layout.metaTop;
  const listed = new Uint8Array(layout.maxSlabs);
  // Shards whose lock could not be taken: their free slabs are not reported as unlisted.
  const unreadable = new Set<number>();
  for (let c = 0; c < layout.classCount; c++) {
    // Shard index `shards` is the class's reserved list (acquireAsync).
    for (let shard = 0; shard <= layout.shards; shard++) {
      const line = shardWord(layout, c, shard);
      if (!lockWithin(words, line, lockOwner, AUDIT_LOCK_TIMEOUT_MS)) {
        const holder = lockOwnerSlot(Atomics.load(words, line));
        problems.push(
          `class ${c} shard ${shard}: lock still held after ${AUDIT_LOCK_TIMEOUT_MS} ms by thread slot ${holder} (a dead thread not yet reclaimed?)`,
        );
        unreadable.add(c * (layout.shards + 1) + shard);
        continue;
      }
      try {
        let length = 0;
        for (let slab = words[line + S_HEAD]; slab !== NO_SLAB; slab = words[metaWord(metaTop, slab) + META_LINK]) {
          if (slab < 0 || slab >= layout.maxSlabs) {
            problems.push(`class ${c} shard ${shard}: link to slab ${slab}, which does not exist`);
            break;
          }
          if (listed[slab]++) {
            problems.push(`class ${c} shard ${shard}: slab ${slab} listed twice`);
            break;
          }
          const meta = metaWord(metaTop, slab);
          const state = Atomics.load(words, meta + META_STATE);
          if ((state & STATE_MASK) !== SLAB_FREE || ownerOf(state) !== shard) {
            problems.push(
              `class ${c} shard ${shard}: slab ${slab} is listed but its state word says ${state & STATE_MASK}/${ownerOf(state)}`,
            );
          }
          if (classOfSlot(words, layout, slab) !== c) {
            problems.push(`class ${c} shard ${shard}: slab ${slab} is not a slab of a page carved into this class`);
          }
          length++;
        }
        if (length !== words[line + S_COUNT]) {
          problems.push(`class ${c} shard ${shard}: count says ${words[line + S_COUNT]}, list holds ${length}`);
        }
        // Waiting slots change only under this lock, so they can be counted exactly here.
        if (shard === layout.shards) auditWaiters(words, layout, c, problems);
      } finally {
        unlock(words, line);
      }
    }
  }
  // The page table changes only under the arena lock: read it whole under that lock.
  if (!lockWithin(words, H_ARENA_LOCK, lockOwner, AUDIT_LOCK_TIMEOUT_MS)) {
    const holder = lockOwnerSlot(Atomics.load(words, H_ARENA_LOCK));
    problems.push(
      `arena lock: still held after ${AUDIT_LOCK_TIMEOUT_MS} ms by thread slot ${holder} (a dead thread not yet reclaimed?)`,
    );
  } else {
    try {
      auditPages(words, layout, problems);
    } finally {
      unlock(words, H_ARENA_LOCK);
    }
  }
  forEachSlab(words, layout, (slab, c) => {
    const meta = metaWord(metaTop, slab);
    const state = Atomics.load(words, meta + META_STATE);
    const kind = state & STATE_MASK;
    const page = pageOfSlab(layout, slab);
    const expected = (pageStartOf(layout, page) + (slab - firstSlabOf(layout, page)) * slabSizeOf(layout, c)) | c;
    if (words[meta + META_OFFSET_CLASS] !== expected) {
      problems.push(`slab ${slab}: its metadata gives another offset or class than its page ${page} of class ${c}`);
    }
    if (kind === SLAB_QUEUED && ownerOf(state) === 0) problems.push(`slab ${slab} of page ${page} has no state`);
    else if (kind === SLAB_QUEUED && Atomics.load(words, channelWord(layout, ownerOf(state))) === 0) {
      problems.push(`slab ${slab} is queued in channel ${ownerOf(state)}, which does not exist (destroyed, or never created)`);
    }
    if (kind === SLAB_FREE && !listed[slab] && !unreadable.has(c * (layout.shards + 1) + ownerOf(state))) {
      problems.push(`slab ${slab} is free but in no shard list`);
    }
    const holder = ownerOf(state);
    if ((kind === SLAB_CACHED || (kind === SLAB_LEASED && holder !== OWNER_NONE)) && holder >= layout.maxThreads) {
      problems.push(`slab ${slab} names thread slot ${holder}, beyond maxThreads`);
    } else if (
      (kind === SLAB_CACHED || (kind === SLAB_LEASED && holder !== OWNER_NONE)) &&
      claimOf(words, layout, holder) === 0n
    ) {
      problems.push(
        `slab ${slab} is ${kind === SLAB_CACHED ? 'cached' : 'leased'} by thread slot ${holder}, which no thread has claimed`,
      );
    }
  });
  auditSlots(words, layout, problems);
  return problems;
}

/**
 * The page table against the carving cursor: pages below it are carved into a class or given
 * back, pages from it on untouched, and every entry is one of those. The caller holds the arena lock.
 */
function auditPages(words: Int32Array, layout: ArenaLayout, problems: string[]): void {
  const cursor = Atomics.load(words, H_PAGES_CARVED);
  if (cursor < 0 || cursor > layout.pageCount) problems.push(`pages carved says ${cursor}, of ${layout.pageCount} pages`);
  for (let page = 0; page < layout.pageCount; page++) {
    const entry = words[pageClassWord(layout, page)];
    if (entry !== PAGE_UNTOUCHED && entry !== PAGE_FREE && !(entry >= 0 && entry < layout.classCount)) {
      problems.push(`page ${page}: the page table says ${entry}, which is no class`);
    } else if (page < cursor && entry === PAGE_UNTOUCHED) {
      problems.push(`page ${page}: untouched, below the ${cursor} pages carved`);
    } else if (page >= cursor && entry !== PAGE_UNTOUCHED) {
      problems.push(`page ${page}: ${entry === PAGE_FREE ? 'given back' : `of class ${entry}`}, past the ${cursor} pages carved`);
    }
  }
}

const claimViews = new WeakMap<ArrayBufferLike, BigInt64Array>();
const claimOf = (words: Int32Array, layout: ArenaLayout, slot: number): bigint => {
  let claims = claimViews.get(words.buffer);
  if (claims === undefined) {
    claims = new BigInt64Array(words.buffer, 0, layout.dataStart >> 3);
    claimViews.set(words.buffer, claims);
  }
  return Atomics.load(claims, claimIndex(layout, slot));
};

/** Class `c`'s count of waiting slots and its bit in `H_WAITING_CLASSES`, against the slots' waiting bits. */
function auditWaiters(words: Int32Array, layout: ArenaLayout, c: number, problems: string[]): void {
  let waiting = 0;
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    if ((Atomics.load(words, threadWord(layout, slot) + T_WAITING) & (1 << c)) !== 0) waiting++;
  }
  const counted = words[reservedWord(layout, c) + S_WAITERS];
  if (counted !== waiting) problems.push(`class ${c}: ${counted} waiting threads counted, ${waiting} thread slots say they wait`);
  const flagged = (Atomics.load(words, H_WAITING_CLASSES) & (1 << c)) !== 0;
  if (flagged !== counted > 0) {
    problems.push(
      `class ${c}: the waiting-classes word says ${flagged ? 'someone waits' : 'nobody waits'}, the count says ${counted}`,
    );
  }
}

/**
 * Thread slots: a free slot waits on nothing, and no reclaim stays in progress. A reclaim takes
 * microseconds, so a claim still in a reclaim phase after `AUDIT_LOCK_TIMEOUT_MS` belongs to a
 * reclaimer that stopped part-way (reclaiming that reclaimer finishes it).
 */
function auditSlots(words: Int32Array, layout: ArenaLayout, problems: string[]): void {
  const reclaiming = new Map<number, bigint>();
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    const claim = claimOf(words, layout, slot);
    const waiting = Atomics.load(words, threadWord(layout, slot) + T_WAITING);
    if (claim === 0n) {
      if (waiting !== 0) problems.push(`thread slot ${slot} is free but says it waits on classes ${waiting.toString(2)} (bits)`);
    } else if (phaseReclaimer(claimPhase(claim)) !== -1) {
      reclaiming.set(slot, claim);
    }
  }
  const deadline = Date.now() + AUDIT_LOCK_TIMEOUT_MS;
  while (reclaiming.size > 0 && Date.now() < deadline) {
    for (const [slot, claim] of reclaiming) if (claimOf(words, layout, slot) !== claim) reclaiming.delete(slot);
    if (reclaiming.size > 0) nap(RECLAIM_POLL_MS);
  }
  for (const [slot, claim] of reclaiming) {
    const reclaimer = phaseReclaimer(claimPhase(claim));
    problems.push(
      `thread slot ${slot} (thread ${claimThread(claim)}) has been in a reclaim by thread ${reclaimer} for ${AUDIT_LOCK_TIMEOUT_MS} ms: a reclaim stopped part-way? reclaim thread ${reclaimer} to finish it`,
    );
  }
}

/**
 * The error for a request of `size` bytes (class `c`) that found no slab: says how many bytes are
 * in use, free in other classes and held in threads' caches, so the message can say what to change.
 */
export function exhaustedError(words: Int32Array, layout: ArenaLayout, size: number, c: number): PoolExhaustedError {
  let freeElsewhereBytes = 0;
  let cachedBytes = 0;
  countSlabs(words, layout).forEach((counts, k) => {
    const slabSize = slabSizeOf(layout, k);
    if (k !== c) freeElsewhereBytes += counts.free * slabSize;
    cachedBytes += counts.cached * slabSize;
  });
  return new PoolExhaustedError(size, slabSizeOf(layout, c), usedBytesOf(words, layout), layout.arenaBytes, {
    freeElsewhereBytes,
    cachedBytes,
  });
}
