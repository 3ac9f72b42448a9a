// The SlabPiscina check's task: sums the bytes of a slab it takes over and releases it; or, asked
// to crash, leases two slabs and exits the worker while holding them (SlabPiscina reclaims them).
import { getPool, takeSlab } from '../../packages/piscina/dist/worker.js';

export default function sumSlab(task) {
  if (task.crash) {
    const pool = getPool();
    pool.acquire(4096);
    pool.acquire(4096);
    process.exit(3);
  }
  // try/finally, not `using`: Node 20 has no explicit resource management.
  const lease = takeSlab(task.id, task.length);
  try {
    return lease.bytes.reduce((sum, byte) => sum + byte, 0);
  } finally {
    lease.release();
  }
}
