// audit() reports each kind of damage it is meant to find. Each case breaks one invariant of a
// working pool by hand, as a bug or a thread stopped half-way would, and checks the report names it.
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../src/index.js';
import {
  H_PAGES_CARVED,
  H_WAITING_CLASSES,
  META_LINK,
  META_OFFSET_CLASS,
  NO_SLAB,
  PAGE_FREE,
  SLAB_CACHED,
  SLAB_FREE,
  S_COUNT,
  S_HEAD,
  S_WAITERS,
  T_WAITING,
  claimIndex,
  claimValue,
  generationOf,
  metaWord,
  packState,
  pageClassWord,
  reclaimPhase,
  reservedWord,
  shardWord,
  slabOfId,
  threadWord,
} from '../src/layout.js';
import { internalsOf } from './internals.js';

const KiB = 1024;
const CLASS_4K = 6; // 64 B << 6

/** A pool with one page of 4 KiB slabs carved: 2 leased, the rest free in shard 0. */
function pool(): { pool: SlabPool; words: Int32Array; leased: number[] } {
  const p = new SlabPool({ arenaBytes: 4 * KiB * KiB, maxSlabSize: 64 * KiB, parallelism: 2, shards: 2, cacheSize: 4 });
  const leased = [p.acquire(4 * KiB), p.acquire(4 * KiB)];
  p.flush();
  expect(p.audit()).toEqual([]);
  return { pool: p, words: internalsOf(p).words, leased };
}

describe('audit', () => {
  it('reports a shard whose count disagrees with its list', () => {
    const { pool: p, words } = pool();
    words[shardWord(internalsOf(p).layout, CLASS_4K, 0) + S_COUNT]++;
    expect(p.audit()).toEqual([expect.stringMatching(/class 6 shard 0: count says 15, list holds 14/)]);
  });

  it('reports a slab listed twice', () => {
    const { pool: p, words } = pool();
    const { layout } = internalsOf(p);
    const line = shardWord(layout, CLASS_4K, 0);
    // The list's last slab links back to its first: a cycle, as a bad push would leave.
    let last = words[line + S_HEAD];
    while (words[metaWord(layout.metaTop, last) + META_LINK] !== NO_SLAB)
      last = words[metaWord(layout.metaTop, last) + META_LINK];
    words[metaWord(layout.metaTop, last) + META_LINK] = words[line + S_HEAD];
    expect(p.audit()).toContainEqual(expect.stringMatching(/class 6 shard 0: slab \d+ listed twice/));
  });

  it('reports a free slab in no list', () => {
    const { pool: p, words, leased } = pool();
    const { layout } = internalsOf(p);
    const slab = slabOfId(leased[0]);
    const meta = metaWord(layout.metaTop, slab);
    words[meta] = packState(SLAB_FREE, 0, generationOf(words[meta]));
    expect(p.audit()).toEqual([`slab ${slab} is free but in no shard list`]);
  });

  it('reports a waiting count that the slots do not add up to, and a waiting-classes word that disagrees', () => {
    const { pool: p, words } = pool();
    const { layout } = internalsOf(p);
    words[reservedWord(layout, CLASS_4K) + S_WAITERS] = 1;
    expect(p.audit()).toEqual([
      'class 6: 1 waiting threads counted, 0 thread slots say they wait',
      'class 6: the waiting-classes word says nobody waits, the count says 1',
    ]);
    words[reservedWord(layout, CLASS_4K) + S_WAITERS] = 0;
    Atomics.or(words, H_WAITING_CLASSES, 1 << 3);
    expect(p.audit()).toEqual(['class 3: the waiting-classes word says someone waits, the count says 0']);
  });

  it('reports a free thread slot that says it waits', () => {
    const { pool: p, words } = pool();
    words[threadWord(internalsOf(p).layout, 5) + T_WAITING] = 1 << CLASS_4K;
    expect(p.audit()).toEqual([
      'class 6: 0 waiting threads counted, 1 thread slots say they wait',
      'thread slot 5 is free but says it waits on classes 1000000 (bits)',
    ]);
  });

  it('reports a reclaim that stays in progress, and a slab cached by a slot nobody claimed', () => {
    const { pool: p, words, leased } = pool();
    const { layout, claims } = internalsOf(p);
    Atomics.store(claims, claimIndex(layout, 3), claimValue(41, reclaimPhase(77, true)));
    expect(p.audit()).toEqual([
      'thread slot 3 (thread 41) has been in a reclaim by thread 77 for 1000 ms: a reclaim stopped part-way? reclaim thread 77 to finish it',
    ]);
    Atomics.store(claims, claimIndex(layout, 3), 0n);
    const slab = slabOfId(leased[1]);
    const meta = metaWord(layout.metaTop, slab);
    words[meta] = packState(SLAB_CACHED, 6, generationOf(words[meta]));
    expect(p.audit()).toEqual([`slab ${slab} is cached by thread slot 6, which no thread has claimed`]);
  });

  it('reports a carving cursor that disagrees with the page table', () => {
    const { pool: p, words } = pool();
    Atomics.add(words, H_PAGES_CARVED, 1);
    expect(p.audit()).toEqual(['page 1: untouched, below the 2 pages carved']);
  });

  it('reports a page given back whose slabs are still listed, and a page table entry that is no class', () => {
    const { pool: p, words } = pool();
    const { layout } = internalsOf(p);
    words[pageClassWord(layout, 0)] = PAGE_FREE;
    words[pageClassWord(layout, 1)] = 99;
    Atomics.store(words, H_PAGES_CARVED, 2);
    const problems = p.audit();
    expect(problems).toContainEqual(
      expect.stringMatching(/class 6 shard 0: slab \d+ is not a slab of a page carved into this class/),
    );
    expect(problems).toContainEqual('page 1: the page table says 99, which is no class');
  });

  it("reports a slab whose metadata gives another offset than its page's", () => {
    const { pool: p, words, leased } = pool();
    const { layout } = internalsOf(p);
    words[metaWord(layout.metaTop, slabOfId(leased[1])) + META_OFFSET_CLASS] += 4096;
    expect(p.audit()).toEqual([
      `slab ${slabOfId(leased[1])}: its metadata gives another offset or class than its page 0 of class 6`,
    ]);
  });
});
