// The piscina task of the hashing example: SHA-256 of one chunk, however it arrived.
import { createHash } from 'node:crypto';
import { getPool, viewSlab } from '@zeropool/piscina/worker';

export default function hashChunk(task) {
  if (task.mode === 'warm') {
    // Start-up, before the clock runs: load this module and, under SlabPiscina, attach the pool.
    if (task.attach) getPool();
    return null;
  }
  // 'move': the task is the transferred bytes themselves.
  if (ArrayBuffer.isView(task)) return createHash('sha256').update(task).digest('hex');
  if (task.mode === 'slab') {
    // The main thread filled the slab and lent it for this task: hash it, and leave the release to
    // the main thread (it takes the slab back when the task settles).
    return createHash('sha256').update(viewSlab(task.id, task.length)).digest('hex');
  }
  // 'clone': a structured-clone copy of the bytes.
  return createHash('sha256').update(task.data).digest('hex');
}
