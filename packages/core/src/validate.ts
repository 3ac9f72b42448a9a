/**
 * Explains why a value is not an acquired slab id. Runs only on the error path, so it may be slow
 * and thorough; the hot path makes the same decision in a few comparisons.
 */
import { describe } from './errors.js';
import {
  type ArenaLayout,
  GEN_SHIFT,
  H_SLAB_COUNT,
  META_STATE,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  STATE_MASK,
  generationOfId,
  isIdShaped,
  metaWord,
  slabOfId,
} from './layout.js';

export function describeBadId(id: unknown, words: Int32Array, layout: ArenaLayout): string {
  if (typeof id !== 'number') return `an id is a number, received ${typeof id} ${describe(id)}`;
  if (!isIdShaped(id)) return 'an id is an integer from 0 to 2^53 - 1';
  const slab = slabOfId(id);
  const generation = generationOfId(id);
  const slabCount = Atomics.load(words, H_SLAB_COUNT);
  if (slab >= slabCount) return `slab ${slab} does not exist (the pool has ${slabCount} slabs so far)`;
  const state = Atomics.load(words, metaWord(layout.metaTop, slab) + META_STATE);
  const current = state >>> GEN_SHIFT;
  const kind = state & STATE_MASK;
  if (kind === SLAB_LEASED && current !== generation) {
    return `slab ${slab} is leased at generation ${current}, the id carries generation ${generation}: the id is stale (its slab was released and handed out again) or from another pool`;
  }
  if (kind === SLAB_FREE || kind === SLAB_CACHED) {
    return current === generation
      ? `slab ${slab} is not acquired (never handed out with this id, or from another pool)`
      : `slab ${slab} is not acquired: it was released (generation ${current} now, the id carries ${generation})`;
  }
  return `slab ${slab} changed state while being released (another thread released it first)`;
}
