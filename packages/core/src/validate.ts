/**
 * Explains why an argument is refused: a value that is not an acquired slab id, a size no class
 * holds. Runs only on the error path, so it may be slow and thorough; the hot path makes the same
 * decision in a few comparisons.
 */

import { invalidType, outOfRange } from './errors.js';
import {
  type ArenaLayout,
  GEN_SHIFT,
  MAX_SLAB_SIZE_LIMIT,
  META_STATE,
  SLAB_CACHED,
  SLAB_FREE,
  SLAB_LEASED,
  SLAB_QUEUED,
  STATE_MASK,
  classOfSlot,
  generationOfId,
  isIdShaped,
  metaWord,
  ownerOf,
  slabOfId,
} from './layout.js';
import { SlabLease } from './lease.js';

/**
 * Why `id` is not an acquired slab of the pool whose arena `words` is, and how to fix the call:
 * the reason a `SlabStateError` gives.
 */
export function describeBadId(id: unknown, words: Int32Array, layout: ArenaLayout): string {
  if (typeof id !== 'number') {
    let fix = 'pass the number acquire returned';
    try {
      fix = fixForNonNumber(id);
    } catch {
      // A proxy whose trap throws: the plain advice stands.
    }
    return `an id is a number, not ${kindOf(id)}: ${fix}`;
  }
  if (!isIdShaped(id)) {
    return `an id is an integer from 0 to 2^53 - 1: ${fixForMisshapen(id)}`;
  }
  const slab = slabOfId(id);
  const generation = generationOfId(id);
  if (slab >= layout.maxSlabs) {
    return `slab ${slab} does not exist (the pool has ${layout.maxSlabs} slab slots): the id is from another pool, or was changed on its way`;
  }
  const state = Atomics.load(words, metaWord(layout.metaTop, slab) + META_STATE);
  if (classOfSlot(words, layout, slab) === -1 && (state & STATE_MASK) !== SLAB_LEASED) {
    return `slab ${slab} is not in use: no page is carved into slabs that include it now (the id is from another pool, stale since its page went back to the arena, or was changed on its way)`;
  }
  const current = state >>> GEN_SHIFT;
  const kind = state & STATE_MASK;
  // An id cut to its low 32 bits names its slab at generation 0.
  const cut = generation === 0 && current !== 0 ? `; ${CUT_TO_32_BITS}` : '';
  if (kind === SLAB_LEASED && current !== generation) {
    return `slab ${slab} is leased at generation ${current}, the id carries generation ${generation}: the id is stale (it was released, and its slab handed out again) or from another pool; ${AFTER_RELEASE}${cut}`;
  }
  if (kind === SLAB_FREE || kind === SLAB_CACHED) {
    return current === generation
      ? `slab ${slab} is not acquired (never handed out with this id, or from another pool)`
      : `slab ${slab} is not acquired: it was released, so the id is stale (the slab is at generation ${current} now, the id carries ${generation}); ${AFTER_RELEASE}${cut}`;
  }
  if (kind === SLAB_QUEUED && ownerOf(state) !== 0) {
    return current === generation
      ? `slab ${slab} was sent into channel ${ownerOf(state)} and belongs to the channel until a receiver receives it: the sender may not use it any more`
      : `slab ${slab} is queued in a channel at generation ${current}, the id carries generation ${generation}: the id is stale; ${AFTER_RELEASE}${cut}`;
  }
  return `slab ${slab} changed state while being released (another thread released it first)`;
}

const CUT_TO_32_BITS = 'ids above 2^31 do not survive an Int32Array or `| 0`: keep them in a Float64Array or a plain array';
const AFTER_RELEASE = 'an id is valid from acquire until its one release: look for a second release or a use after release';

/** "a string", "an object", "null"... for the reason's "not ...". */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

/** How to pass an id instead of what was passed. Reads no property through a getter (a proxy's traps may throw). */
function fixForNonNumber(value: unknown): string {
  if (ArrayBuffer.isView(value)) return 'pass the id acquire returned, not its bytes (pool.bytes(id) is a view of the slab)';
  if (typeof value === 'string' && isIdShaped(Number(value)) && value.trim() !== '') {
    return 'pass the number itself (Number(id) if it arrived as a string)';
  }
  if (typeof value === 'bigint') return 'pass the number acquire returned (Number(id) of a bigint)';
  if (value instanceof SlabLease) return `pass lease.id (${value.id}), or call lease.release() to return the lease`;
  if (typeof value === 'object' && value !== null) {
    const own = ownValue(value, 'id');
    if (typeof own === 'number') return `pass its id property (${own}) if it holds the slab's id`;
  }
  return 'pass the number acquire returned';
}

/** How an id number came to be out of shape. */
function fixForMisshapen(id: number): string {
  if (id === -1) return 'tryAcquire returns -1 when the pool is exhausted: check for it before using the id';
  if (Number.isInteger(id) && id < 0 && id >= -(2 ** 31)) {
    return CUT_TO_32_BITS;
  }
  return 'pass the number acquire returned, unchanged';
}

function ownValue(object: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(object, key)?.value;
}

/** The error for a `size` that is not an integer from 0 to `maxSlabSize`, saying how to get such a slab where there is a way. */
export function sizeError(size: unknown, maxSlabSize: number): Error {
  if (typeof size !== 'number') {
    const fix = ArrayBuffer.isView(size)
      ? `pass the number of bytes needed, such as its byteLength (${size.byteLength})`
      : undefined;
    return invalidType('size', size, 'a number', fix);
  }
  return outOfRange('size', size, `an integer from 0 to ${maxSlabSize} (maxSlabSize)`, sizeFix(size, maxSlabSize));
}

/** How to get a slab of `size` bytes when the pool's largest class is smaller; nothing for other sizes. */
function sizeFix(size: number, maxSlabSize: number): string | undefined {
  if (!Number.isInteger(size) || size <= maxSlabSize) return undefined;
  if (size > MAX_SLAB_SIZE_LIMIT) {
    return `no pool has slabs over ${MAX_SLAB_SIZE_LIMIT} bytes (1 GiB); split the data into slabs of at most ${maxSlabSize} bytes`;
  }
  const needed = 2 ** Math.ceil(Math.log2(size));
  return (
    `create the pool with a larger maxSlabSize (new SlabPool({ maxSlabSize: ${needed} }) or more, up to ${MAX_SLAB_SIZE_LIMIT}), ` +
    `or split the data into slabs of at most ${maxSlabSize} bytes`
  );
}
