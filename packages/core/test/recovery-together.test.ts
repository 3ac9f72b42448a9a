// Workers that die together: reclaiming one must not wait out lockTimeoutMs for a lock that
// another dead worker, not yet reclaimed, holds.
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../src/index.js';
import { expectAllFree } from './all-free.js';
import { startHolder } from './holder.js';

describe('reclaim of workers that died together', () => {
  it("returns the first one's slabs at once although the second died holding the shard lock they go to, and loses none", async () => {
    // One shard: every thread's home is the shard the dead locker holds.
    const pool = new SlabPool({ arenaBytes: 8 << 20, parallelism: 2, shards: 1, lockTimeoutMs: 2000 });
    const holder = await startHolder(pool, 'hang', { leased: 5, cached: 3 });
    const locker = await startHolder(pool, 'lock', { leased: 0, cached: 0 });
    await Promise.all([locker.worker.terminate(), holder.worker.terminate()]);
    await Promise.all([locker.exited, holder.exited]);
    const started = performance.now();
    const report = pool.reclaim(holder.tid);
    const took = performance.now() - started;
    expect(report.leased).toBe(5);
    expect(report.cached).toBeGreaterThanOrEqual(3);
    expect(took, 'reclaim waited for the dead locker').toBeLessThan(500);
    // The slabs are this thread's until the locker is reclaimed and the shard can take them.
    expect(pool.reclaim(locker.tid).locks).toBe(1);
    const deadline = Date.now() + 5000;
    while (pool.stats().classes.some((c) => c.cached > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    pool.flush();
    expectAllFree(pool);
    pool.close();
  }, 20_000);
});
