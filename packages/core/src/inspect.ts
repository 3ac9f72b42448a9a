/**
 * Reading the whole pool: statistics and the consistency audit. Both walk every slab's state
 * word, which makes them exact once the threads are quiet and a moment's view while they work.
 */
import {
  type ArenaLayout,
  CLASS_MASK,
  COUNTER_COUNT,
  C_EXHAUSTED,
  C_LOCK_WAITS,
  C_RECLAIMED,
  C_REFILLS,
  C_RELEASES,
  C_SLOW_ACQUIRES,
  C_SPILLS,
  C_STEALS,
  H_ARENA_LOCK,
  H_PAGES_CARVED,
  H_SLAB_COUNT,
  H_WAITING_CLASSES,
  META_BYTES,
  META_LINK,
  META_OFFSET_CLASS,
  META_STATE,
  NO_SLAB,
  OWNER_NONE,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  STATE_MASK,
  S_COUNT,
  S_HEAD,
  S_WAITERS,
  T_WAITING,
  claimIndex,
  claimPhase,
  claimThread,
  lockOwnerSlot,
  metaWord,
  ownerOf,
  pageOfSlab,
  phaseReclaimer,
  reservedWord,
  shardWord,
  threadCounterF64,
  threadWord,
} from './layout.js';
import { lockWithin, unlock } from './lock.js';
import type { ClassStats, PoolStats, ResolvedConfig } from './types.js';

/** A word nobody writes, to sleep on with Atomics.wait. */
const NAP = new Int32Array(new SharedArrayBuffer(4));
/** How long `audit` waits for each shard lock (and a reclaim in progress) before reporting it as stuck. */
const AUDIT_LOCK_TIMEOUT_MS = 1000;

/** Bytes in use: everything before the first page, the carved pages and their slabs' metadata. */
export function usedBytesOf(words: Int32Array, layout: ArenaLayout): number {
  const pages = Atomics.load(words, H_PAGES_CARVED);
  const slabs = Atomics.load(words, H_SLAB_COUNT);
  return layout.dataStart + pages * layout.pageBytes + slabs * META_BYTES;
}

export function collectStats(words: Int32Array, floats: Float64Array, layout: ArenaLayout, config: ResolvedConfig): PoolStats {
  const metaTop = layout.metaTop;
  const slabCount = Atomics.load(words, H_SLAB_COUNT);
  const perClass = Array.from({ length: layout.classCount }, () => ({ slabs: 0, free: 0, cached: 0, leased: 0 }));
  for (let slab = 0; slab < slabCount; slab++) {
    const meta = metaWord(metaTop, slab);
    const counts = perClass[words[meta + META_OFFSET_CLASS] & CLASS_MASK];
    counts.slabs++;
    const state = Atomics.load(words, meta + META_STATE) & STATE_MASK;
    if (state === SLAB_FREE) counts.free++;
    else if (state === SLAB_CACHED) counts.cached++;
    else if (state === SLAB_LEASED) counts.leased++;
  }
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
  for (const counts of perClass) leased += counts.leased;
  const acquires = totals[C_RELEASES] + totals[C_RECLAIMED] + leased;
  const classes: ClassStats[] = perClass.map((counts, c) => ({ slabSize: config.minSlabSize * 2 ** c, ...counts }));
  return {
    arenaBytes: layout.arenaBytes,
    usedBytes: usedBytesOf(words, layout),
    metadataBytes: slabCount * META_BYTES,
    overheadBytes: layout.dataStart,
    pageBytes: layout.pageBytes,
    pagesCarved: Atomics.load(words, H_PAGES_CARVED),
    threads,
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

/**
 * Checks that every shard's list and count agree with the slab state words: each listed slab is
 * free, of the shard's class, marked with that shard, listed once; every free slab is listed; each
 * cached or held slab names a thread slot below maxThreads; the page count matches the slabs carved.
 * Takes each shard's lock while walking it, and the arena lock to read the carving cursors.
 * Returns the problems found (empty when consistent).
 */
export function auditArena(words: Int32Array, layout: ArenaLayout, lockOwner: number): string[] {
  const problems: string[] = [];
  const metaTop = layout.metaTop;
  const slabCount = Atomics.load(words, H_SLAB_COUNT);
  const listed = new Uint8Array(slabCount);
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
          if (slab < 0 || slab >= slabCount) {
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
          if ((words[meta + META_OFFSET_CLASS] & CLASS_MASK) !== c)
            problems.push(`class ${c} shard ${shard}: slab ${slab} is of another class`);
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
  // The page count covers exactly the pages of the slabs published: a carver counts its page only
  // after publishing the slabs, under the arena lock, so the two can differ only while a carver
  // (or a dead one not yet reclaimed) holds it.
  if (!lockWithin(words, H_ARENA_LOCK, lockOwner, AUDIT_LOCK_TIMEOUT_MS)) {
    const holder = lockOwnerSlot(Atomics.load(words, H_ARENA_LOCK));
    problems.push(
      `arena lock: still held after ${AUDIT_LOCK_TIMEOUT_MS} ms by thread slot ${holder} (a dead thread not yet reclaimed?)`,
    );
  } else {
    try {
      const pages = Atomics.load(words, H_PAGES_CARVED);
      const slabs = Atomics.load(words, H_SLAB_COUNT);
      const reached = slabs === 0 ? 0 : pageOfSlab(words, layout, slabs - 1) + 1;
      if (pages !== reached) problems.push(`pages carved says ${pages}, the slabs carved fill ${reached}`);
    } finally {
      unlock(words, H_ARENA_LOCK);
    }
  }
  for (let slab = 0; slab < slabCount; slab++) {
    const state = Atomics.load(words, metaWord(metaTop, slab) + META_STATE);
    const kind = state & STATE_MASK;
    const c = words[metaWord(metaTop, slab) + META_OFFSET_CLASS] & CLASS_MASK;
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
  }
  auditSlots(words, layout, problems);
  return problems;
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
    if (reclaiming.size > 0) Atomics.wait(NAP, 0, 0, 5);
  }
  for (const [slot, claim] of reclaiming) {
    const reclaimer = phaseReclaimer(claimPhase(claim));
    problems.push(
      `thread slot ${slot} (thread ${claimThread(claim)}) has been in a reclaim by thread ${reclaimer} for ${AUDIT_LOCK_TIMEOUT_MS} ms: a reclaim stopped part-way? reclaim thread ${reclaimer} to finish it`,
    );
  }
}
