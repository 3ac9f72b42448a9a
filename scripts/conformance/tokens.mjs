// What the conformance workers share: a seeded PRNG (mulberry32, so a failing run replays from its
// seed) and a token written into each slab and checked before it is let go: a slab handed to two
// holders at once, or taken back from a live one, shows up as a broken token.

export { mulberry32 as prng } from '../../bench/lib/prng.mjs';

/** A log-uniform size from 1 to `maxSlabSize`, so every size class is used. */
export function randomSize(random, maxSlabSize) {
  const bits = Math.floor(random() * Math.log2(maxSlabSize));
  return Math.min(maxSlabSize, 1 + Math.floor(random() * 2 ** (bits + 1)));
}

/** Acquires a slab of a random size and stamps it with `token`; null when the pool is exhausted. */
export function takeStamped(pool, random, maxSlabSize, token) {
  const size = randomSize(random, maxSlabSize);
  const id = pool.tryAcquire(size);
  if (id === -1) return null;
  stamp(pool, id, size, token);
  return { id, size, token };
}

/** Writes `token` at the start and the end of the first `size` bytes of the slab. */
export function stamp(pool, id, size, token) {
  const bytes = pool.bytes(id);
  if (size < 8) return void bytes.fill(token & 0xff, 0, size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  view.setUint32(0, token);
  view.setUint32(size - 4, token);
}

/** Returns undefined if the slab still holds `token`, else what is wrong. */
export function brokenToken(pool, id, size, token) {
  const bytes = pool.bytes(id);
  if (size < 8) {
    for (let at = 0; at < size; at++) if (bytes[at] !== (token & 0xff)) return `slab ${id}: byte ${at} overwritten`;
    return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  for (const at of [0, size - 4]) {
    if (view.getUint32(at) !== token >>> 0)
      return `slab ${id}: token at ${at} is ${view.getUint32(at)}, expected ${token >>> 0}: two holders?`;
  }
  return undefined;
}

/** A message for an error: its class, code and message. */
export function describeError(error) {
  return error instanceof Error
    ? `${error.constructor.name}${error.code ? ` ${error.code}` : ''}: ${error.message}`
    : String(error);
}
