// The pool's cache-hit cycle written out inline, to show where its time goes: the steps of
// `takeCached`, `bytes` and `release` in packages/core/src/pool.ts, in order, on the pool's own
// arrays (state words, thread cache, view cache, counters), without the method calls. Two
// variants differ only in the release's state change:
// - compare-exchange: what the pool does, so that of two threads releasing one id exactly one wins;
// - plain load and store: what a pool without cross-thread double-release detection could do.
// The difference is the price of that guarantee on the machine at hand. Both variants are checked
// against the pool before they are measured, so a hot path or id format this file no longer
// follows stops the benchmark instead of skewing it.
import { do_not_optimize } from 'mitata';

// packages/core/src/layout.ts (the package exports none of them) and VIEW_CACHE_MASK of pool.ts.
const CONSTANTS = {
  META_WORDS: 3,
  META_OFFSET_CLASS: 2,
  CLASS_MASK: 31,
  SLAB_LEASED: 3,
  GEN_SHIFT: 11,
  GEN_MASK: 0x1fffff,
  GEN_FIELD: -2048,
  NOT_OWNER: -2045,
  RELEASE_STEP: 2047,
  ID_GENERATION_UNIT: 2 ** 32,
  ID_FROM_GEN_FIELD: 2 ** 21,
  H_WAITING_CLASSES: 22,
  C_RELEASES: 1,
  VIEW_CACHE_MASK: 4095,
};

// The pool object's fields that the three methods read (TypeScript keeps them private).
const ARRAYS = ['words', 'counters', 'cacheSlabs', 'cacheLength', 'cacheCapacity', 'views', 'viewKeys'];
const NUMBERS = ['cacheStride', 'metaTop', 'minShift', 'maxSlabSize', 'leasedBits', 'knownSlabs'];

// One block a method, as the pool writes it; `release` is the release's state change.
const body = (release) => `
  let id;
  {
    if (typeof size !== 'number' || size >>> 0 !== size || size > maxSlabSize) throw new Error('size');
    const c = size <= 1 << minShift ? 0 : 32 - Math.clz32(size - 1) - minShift;
    const length = cacheLength[c] - 1;
    if (length < 0) throw new Error('cache empty');
    cacheLength[c] = length;
    const slab = cacheSlabs[c * cacheStride + length];
    const meta = metaTop - META_WORDS * (slab + 1);
    const cached = words[meta];
    words[meta] = leasedBits | (cached & GEN_FIELD);
    id = ((cached & GEN_FIELD) >>> 0) * ID_FROM_GEN_FIELD + slab;
  }
  {
    const slab = id >>> 0;
    const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
    const entry = slab & VIEW_CACHE_MASK;
    const meta = metaTop - META_WORDS * (slab + 1);
    if (
      (id - slab) / ID_GENERATION_UNIT !== generation ||
      slab >= knownSlabs ||
      (words[meta] & NOT_OWNER) !== (SLAB_LEASED | (generation << GEN_SHIFT)) ||
      viewKeys[entry] !== words[meta + META_OFFSET_CLASS]
    ) throw new Error('bytes');
    const view = views[entry];
    view[0] = 1;
    view[last] = 2;
    do_not_optimize(view[0] + view[last]);
  }
  {
    const slab = id >>> 0;
    const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
    const meta = metaTop - META_WORDS * (slab + 1);
    const leased = leasedBits | (generation << GEN_SHIFT);
    if ((id - slab) / ID_GENERATION_UNIT !== generation || slab >= knownSlabs) throw new Error('bad id');
    ${release}
    const c = words[meta + META_OFFSET_CLASS] & CLASS_MASK;
    const length = cacheLength[c];
    counters[C_RELEASES]++;
    if (length >= cacheCapacity[c] || words[H_WAITING_CLASSES] !== 0) throw new Error('no room');
    cacheSlabs[c * cacheStride + length] = slab;
    cacheLength[c] = length + 1;
  }
`;
const COMPARE_EXCHANGE =
  "if (Atomics.compareExchange(words, meta, leased, (leased + RELEASE_STEP) | 0) !== leased) throw new Error('double release');";
const PLAIN_STORE =
  "if (words[meta] !== leased) throw new Error('double release');\n    words[meta] = (leased + RELEASE_STEP) | 0;";

/**
 * The cycle for `size` on `pool`'s memory, as `{ withCompareExchange, withPlainStore }`. The pool
 * must be used by this thread only while they run: they share its thread cache and state words.
 */
export function inlineCycles(pool, size) {
  // Leave a slab of the class in the cache and its view in the view cache.
  const first = pool.acquire(size);
  pool.bytes(first);
  pool.release(first);
  const scope = { ...CONSTANTS, size, last: size - 1, do_not_optimize };
  for (const field of [...ARRAYS, ...NUMBERS]) scope[field] = pool[field];
  // Two function literals, each compiled from its own text, so each gets its own feedback and the
  // variant is a constant to the optimizer rather than a closure variable tested every call.
  const make = (release) => new Function(...Object.keys(scope), `return () => {${body(release)}};`)(...Object.values(scope));
  const cycles = { withCompareExchange: make(COMPARE_EXCHANGE), withPlainStore: make(PLAIN_STORE) };
  for (const cycle of Object.values(cycles)) checkAgainstPool(pool, size, cycle);
  return cycles;
}

/** Runs `cycle` between two of the pool's own cycles and throws unless the pool saw exactly one more cycle. */
function checkAgainstPool(pool, size, cycle) {
  const { GEN_MASK, ID_GENERATION_UNIT } = CONSTANTS;
  const before = pool.acquire(size);
  const view = pool.bytes(before);
  pool.release(before);
  const releases = pool.stats().releases;
  const expected = (((before - (before >>> 0)) / ID_GENERATION_UNIT + 2) & GEN_MASK) * ID_GENERATION_UNIT + (before >>> 0);
  let same = false;
  let cause;
  try {
    cycle();
    const after = pool.acquire(size);
    same = after === expected && pool.bytes(after) === view && pool.stats().releases === releases + 1;
    pool.release(after);
  } catch (error) {
    cause = error;
  }
  if (!same)
    throw new Error("bench/lib/anatomy.mjs no longer follows the pool's cache-hit path (packages/core/src/pool.ts)", { cause });
}
