// piscina task file for bench/piscina.bench.mjs, one named export per way of passing a payload
// (chosen with `run(task, { name })`). The slab-id tasks take the paths a user of @zeropool/piscina
// takes: `takeSlab` (the pool attaches once per thread, from workerData), read, `release()`; or
// `viewSlab` of a slab the main thread lent with `runWithLoans` and releases itself.
// Every task reads the first and last byte of its payload and returns their sum.
import { threadId } from 'node:worker_threads';
import { giveSlab, takeSlab, viewSlab } from '@zeropool/piscina/worker';

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

/** The payload is a slab of the shared pool; the task takes it over and releases it. */
export function id({ id, length }) {
  const slab = takeSlab(id, length);
  const sum = slab.bytes[0] + slab.bytes[length - 1];
  slab.release();
  return sum;
}

/** The payload is a slab the main thread lent for this task (runWithLoans): view it, leave the release to the main thread. */
export function loan({ id, length }) {
  const bytes = viewSlab(id, length);
  return bytes[0] + bytes[length - 1];
}

/**
 * Between phases: a full collection on this thread, once all `threads` such tasks have started
 * (so each runs on its own thread). gc() exists when the process runs with --expose-gc. Returns
 * this thread's id and whether it collected.
 */
export function gc({ started, threads }) {
  Atomics.add(started, 0, 1);
  Atomics.notify(started, 0);
  const deadline = Date.now() + 1000;
  for (let seen = Atomics.load(started, 0); seen < threads && Date.now() < deadline; seen = Atomics.load(started, 0))
    Atomics.wait(started, 0, seen, 10);
  if (typeof globalThis.gc !== 'function') return { threadId, collected: false };
  globalThis.gc();
  return { threadId, collected: true };
}

/** Crash phase: take the slab, lease one more, then end the thread with process.exit. */
export function exit({ id, length }) {
  takeSlab(id, length);
  giveSlab(4096);
  process.exit(1);
}

/** Crash phase: take the slab, lease one more, say so, then block until piscina terminates the thread. */
export function stall({ id, length, started }) {
  takeSlab(id, length);
  giveSlab(4096);
  Atomics.store(started, 0, 1);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  return -1;
}

export default empty;
