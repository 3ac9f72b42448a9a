/**
 * Slab ids in shared memory, for tests that pass them between threads with Atomics. An id is a
 * safe integer up to 2^53 - 1, too wide for an Int32Array, so each takes a BigInt64Array element.
 * @param byteOffset a multiple of 8.
 */
export function sharedIds(buffer: SharedArrayBuffer, byteOffset: number, count: number) {
  const slots = new BigInt64Array(buffer, byteOffset, count);
  return {
    store(index: number, id: number): void {
      Atomics.store(slots, index, BigInt(id));
    },
    load(index: number): number {
      return Number(Atomics.load(slots, index));
    },
  };
}
