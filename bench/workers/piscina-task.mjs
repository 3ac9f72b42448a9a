// piscina task file for bench/piscina.bench.mjs, one named export per way of passing a payload
// (chosen with `run(task, { name })`). The pool's handle arrives once, in piscina's workerData;
// this module is loaded once per thread, so it attaches once per thread and keeps the pool in a
// module variable. Every task reads the first and last byte of its payload and returns their sum.
import { workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const pool = SlabPool.attach(workerData.pool);

/** The floor: piscina's own round trip with nothing to carry. */
export function empty() {
  return 0;
}

/** The payload arrived as a structured-clone copy. */
export function clone(bytes) {
  return bytes[0] + bytes[bytes.length - 1];
}

/** The payload arrived moved (transferred) with Piscina.move: the sender lost it. */
export function move(bytes) {
  return bytes[0] + bytes[bytes.length - 1];
}

/** The payload is a slab of the shared pool; the task received the duty to release it. */
export function id({ id, length }) {
  const bytes = pool.bytes(id);
  const sum = bytes[0] + bytes[length - 1];
  pool.release(id);
  return sum;
}

export default empty;
