// The piscina task of the hashing example: SHA-256 of one chunk, however it arrived.
import { createHash } from 'node:crypto';
import { getPool, takeSlab } from '@zeropool/piscina/worker';

export default function hashChunk(task) {
  if (task.mode === 'warm') {
    // Start-up, before the clock runs: load this module and, under SlabPiscina, attach the pool.
    if (task.attach) getPool();
    return null;
  }
  // 'move': the task is the transferred bytes themselves.
  if (ArrayBuffer.isView(task)) return createHash('sha256').update(task).digest('hex');
  if (task.mode === 'slab') {
    // The main thread filled the slab; this worker takes it over, hashes it and releases it.
    const slab = takeSlab(task.id, task.length);
    try {
      return createHash('sha256').update(slab.bytes).digest('hex');
    } finally {
      slab.release();
    }
  }
  // 'clone': a structured-clone copy of the bytes.
  return createHash('sha256').update(task.data).digest('hex');
}
