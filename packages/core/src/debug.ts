/**
 * Debug and hygiene fills: poison for released slabs (debug mode), zeros for `zeroOnRelease` and
 * `zeroOnAcquire`. Slabs are multiples of 64 bytes at 64-byte offsets, so they are scanned as
 * int32s.
 */

/** The byte released slabs are filled with in debug mode. */
export const POISON_BYTE = 0xdb;
const POISON_WORD = 0xdbdbdbdb | 0;

/** Fills `bytes` bytes at `offset` with poison (`poison` true) or zeros. */
export function fillSlab(buffer: SharedArrayBuffer, offset: number, bytes: number, poison: boolean): void {
  new Int32Array(buffer, offset, bytes >> 2).fill(poison ? POISON_WORD : 0);
}

/** The offset within the slab of the first byte that is not poison, or -1 if all are. */
export function findUnpoisoned(buffer: SharedArrayBuffer, offset: number, bytes: number): number {
  const words = new Int32Array(buffer, offset, bytes >> 2);
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== POISON_WORD) {
      const view = new Uint8Array(buffer, offset + i * 4, 4);
      return i * 4 + view.findIndex((b) => b !== POISON_BYTE);
    }
  }
  return -1;
}
