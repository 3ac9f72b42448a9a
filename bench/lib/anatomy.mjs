// The pool's cache-hit cycle written out inline, to show where its time goes: the same memory
// operations as acquire + bytes + release of a cached 64 KiB slab (cache pop, the state store
// naming this thread as holder, the leased check with the holder masked out, a view from a direct-mapped cache, a write and read of the first and
// last byte, the release's state change, class read, counter, waiter check, cache push), on
// typed arrays of the same kinds, with the pool's methods, fields and validation left out.
// Two variants differ only in the release's state change:
// - compare-exchange: what the pool does, so that of two threads releasing one id exactly one wins;
// - plain load and store: what a pool without cross-thread double-release detection could do.
// The difference is the price of that guarantee on the machine at hand.
import { do_not_optimize } from 'mitata';

export function inlineCycles(size) {
  const words = new Int32Array(new SharedArrayBuffer(1 << 20));
  const counters = new Int32Array(new SharedArrayBuffer(64));
  const cacheIds = new Int32Array(64 * 32);
  const cacheLength = new Int32Array(32);
  const view = new Uint8Array(new SharedArrayBuffer(size));
  const views = [view];
  const viewSlabs = new Int32Array(1);
  const metaTop = 200_000;
  // State words as the pool writes them (layout version 4): kind | thread slot << 2 | generation << 12.
  const slot = 1;
  const leasedBits = 3 | (slot << 2);
  const cachedBits = 2 | (slot << 2);
  const indexBits = 20;
  const indexMask = (1 << indexBits) - 1;
  const c = 32 - Math.clz32(size - 1) - 6;
  cacheIds[c * 64] = 5;
  cacheLength[c] = 1;
  viewSlabs[0] = 5;
  words[metaTop - 3 * 6 + 2] = c;
  // Two separate function literals (built from one text), so each gets its own feedback and the
  // variant is a constant to the optimizer, not a closure variable it must test every call.
  const body = (release) => `
    let length = cacheLength[c];
    if (length === 0) throw new Error('cache empty');
    length--;
    cacheLength[c] = length;
    const id = cacheIds[c * 64 + length];
    const slab = id & indexMask;
    const meta = metaTop - 3 * (slab + 1);
    const gen = id >>> indexBits;
    const leased = leasedBits | (gen << 12);
    words[meta] = leased;
    if ((words[meta] & -4093) !== (3 | (gen << 12))) throw new Error('not leased');
    const bytes = viewSlabs[slab & 0] === slab ? views[slab & 0] : undefined;
    bytes[0] = 1;
    bytes[size - 1] = 2;
    do_not_optimize(bytes[0] + bytes[size - 1]);
    const next = (gen + 1) & 2047;
    ${release}
    const cls = words[meta + 2] & 31;
    counters[0]++;
    if (words[5] !== 0) throw new Error('waiters');
    const top = cacheLength[cls];
    cacheIds[cls * 64 + top] = (next << indexBits) | slab;
    cacheLength[cls] = top + 1;`;
  const scope = {
    words,
    counters,
    cacheIds,
    cacheLength,
    views,
    viewSlabs,
    metaTop,
    leasedBits,
    cachedBits,
    indexBits,
    indexMask,
    c,
    size,
    do_not_optimize,
  };
  const make = (release) => new Function(...Object.keys(scope), `return () => {${body(release)}\n  };`)(...Object.values(scope));
  const withCompareExchange = make(
    "if (Atomics.compareExchange(words, meta, leased, cachedBits | (next << 12)) !== leased) throw new Error('double release');",
  );
  const withPlainStore = make(
    "if (words[meta] !== leased) throw new Error('double release');\n    words[meta] = cachedBits | (next << 12);",
  );
  return { withCompareExchange, withPlainStore };
}
