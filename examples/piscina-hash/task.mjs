// The piscina task of the hashing example: SHA-256 of one chunk, however it arrived.
import { createHash } from 'node:crypto';
import { takeSlab } from '@zeropool/piscina/worker';

export default function hashChunk(task) {
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
