/**
 * Shard free lists. Each (size class, shard) pair has a line holding a lock word, the head of a
 * singly linked list threaded through the slabs' `META_LINK` words, and the list's length. Every
 * function here runs with that shard's lock held; the lock's atomic operations order the plain
 * reads and writes of heads, links and counts (see lock.ts).
 *
 * Each slab's state word is written with a plain store. `release`, `adopt` and `releaseIfHeld`
 * on other threads compare-exchange state words without taking any lock, and race with these
 * stores only on a stale id. Aligned int32 accesses to a SharedArrayBuffer never tear (ECMAScript's
 * tear-free element accesses), every value such an exchange can read from these stores (free in
 * this shard, or cached by this thread) differs from the leased value it expects, and a failed
 * exchange writes nothing back; the leased value it could wrongly match was consumed by the
 * holder's release, which the stale thread's own hand-off ordered before it. So it fails, and no
 * store here overwrites a successful exchange. The next holder of the shard's lock sees the
 * stores through the lock's atomic operations, and a thread that gets one of these ids later gets
 * it through a synchronizing hand-off, as with `take`'s store. Recovery, which takes over the lock
 * of a thread that died holding it, is ordered after that thread's stores by the host (Node emits
 * 'exit' after joining the thread; `reclaim` checks liveness through V8's futex), not by the lock,
 * as for the links, head and count; and it accepts any subset of a batch's stores: each slab is
 * then either free in the shard (relisted by the rebuild) or cached by the dead thread (collected).
 * `Atomics.store` here would cost a serializing exchange per slab under the lock, each waiting for
 * a cache line last written on another core, and so hold the lock longer: bench/scaling.bench.mjs,
 * cross mode, counts the lock waits that result.
 */
import {
  META_LINK,
  META_STATE,
  NO_SLAB,
  SLAB_CACHED,
  SLAB_FREE,
  S_COUNT,
  S_HEAD,
  generationOf,
  metaWord,
  packState,
} from './layout.js';
import { STEPS, step } from './steps.js';

/**
 * Moves up to `want` slabs from the shard at `line` into a cache stack of slab indexes, marking
 * each cached by `ownerSlot` at the generation it has. Returns how many moved.
 */
export function popToCache(
  words: Int32Array,
  metaTop: number,
  line: number,
  want: number,
  ownerSlot: number,
  slabs: Int32Array,
  at: number,
): number {
  let head = words[line + S_HEAD];
  let moved = 0;
  while (moved < want && head !== NO_SLAB) {
    const meta = metaWord(metaTop, head);
    const generation = generationOf(words[meta + META_STATE]);
    words[meta + META_STATE] = packState(SLAB_CACHED, ownerSlot, generation);
    slabs[at + moved] = head;
    moved++;
    head = words[meta + META_LINK];
    if (STEPS) step('shard.pop-one');
  }
  words[line + S_HEAD] = head;
  if (STEPS) step('shard.popped-head');
  words[line + S_COUNT] -= moved;
  return moved;
}

/**
 * Pushes the `count` cached slabs whose indexes start at `from` in a cache stack onto the shard at
 * `line`, each marked free at the generation its state word has (only their caching thread, the
 * caller, writes the state word of a cached slab).
 */
export function pushFromCache(
  words: Int32Array,
  metaTop: number,
  line: number,
  shard: number,
  slabs: Int32Array,
  from: number,
  count: number,
): void {
  let head = words[line + S_HEAD];
  for (let i = from; i < from + count; i++) {
    const slab = slabs[i];
    const meta = metaWord(metaTop, slab);
    words[meta + META_LINK] = head;
    if (STEPS) step('shard.link-one');
    words[meta + META_STATE] = packState(SLAB_FREE, shard, generationOf(words[meta + META_STATE]));
    head = slab;
    if (STEPS) step('shard.push-one');
  }
  words[line + S_HEAD] = head;
  if (STEPS) step('shard.pushed-head');
  words[line + S_COUNT] += count;
}

/**
 * Links freshly carved slabs `first .. first + count - 1` (already marked free in `shard`, and
 * chained in index order) onto the front of the shard at `line`.
 */
export function spliceCarved(words: Int32Array, metaTop: number, line: number, first: number, count: number): void {
  const last = metaWord(metaTop, first + count - 1);
  words[last + META_LINK] = words[line + S_HEAD];
  words[line + S_HEAD] = first;
  words[line + S_COUNT] += count;
}
