// Deterministic kills: each operation runs once in a worker to list the kill points it passes
// (src/steps.ts), then once per kill point, stopped there and terminated. After every stop the
// dead threads are reclaimed and the pool must be whole: audit() clean, no thread but this one,
// nobody waiting, and every slab back exactly once.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ReclaimLiveThreadError, SlabPool } from '../src/index.js';
import { H_WAITING_CLASSES } from '../src/layout.js';
import { isLeased } from './all-free.js';
import type { KillOp, KillPointData } from './fixtures/killpoint-worker.js';
import { fixture } from './helpers.js';
import { internalsOf } from './internals.js';

const KiB = 1024;
const OPTIONS = {
  arenaBytes: 4 * KiB * KiB,
  maxSlabSize: 64 * KiB,
  parallelism: 2,
  shards: 2,
  cacheSize: 4,
  maxThreads: 16,
  lockTimeoutMs: 2000,
} as const;

interface Setup {
  /** Slabs this thread leased for the scenario; released at the end if still this thread's. */
  held: number[];
  ids: number[];
  victim: number | string;
  /** Threads that have exited (or will) and must be reclaimed after the stop. */
  dead: number[];
}

/** Leases every 64 KiB slab the arena can give (acquireAsync then has to wait). */
function exhaust64(pool: SlabPool): number[] {
  const held: number[] = [];
  for (let id = pool.tryAcquire(64 * KiB); id !== -1; id = pool.tryAcquire(64 * KiB)) held.push(id);
  return held;
}

async function setUp(op: KillOp, pool: SlabPool): Promise<Setup> {
  const none: Setup = { held: [], ids: [], victim: -1, dead: [] };
  switch (op) {
    case 'adopt': {
      const held = Array.from({ length: 4 }, () => pool.acquire(8 * KiB));
      return { ...none, held, ids: held };
    }
    case 'async': {
      const held = exhaust64(pool);
      return { ...none, held, ids: [held[0]] };
    }
    case 'close': {
      // Free 2 KiB slabs for its acquires (carved before the 64 KiB slabs fill the arena; the one
      // leased here keeps their page from going back to the arena for them).
      const pin = pool.acquire(2 * KiB);
      pool.flush();
      return { ...none, held: [pin, ...exhaust64(pool)] };
    }
    case 'reclaim': {
      const victim = new Worker(fixture('victim-worker.ts'), { workerData: { handle: pool.handle } });
      const tid = victim.threadId;
      await new Promise((resolve) => victim.once('message', resolve));
      await victim.terminate();
      return { ...none, victim: tid, dead: [tid] };
    }
    case 'watch':
      return { ...none, victim: fixture('victim-worker.ts') };
    case 'return': {
      // One page of 1 KiB slabs, all free once the rest of the arena is leased as 64 KiB slabs.
      const small = pool.acquire(KiB);
      const held = exhaust64(pool);
      pool.release(small);
      pool.flush();
      return { ...none, held };
    }
    default:
      return none;
  }
}

interface Outcome {
  /** Kill points passed, in order (record run), or undefined when the worker was stopped. */
  passed?: string[];
  /** Threads the worker started that the test must also reclaim. */
  children: number[];
  /** Slabs the worker leased and said it would leave for others to release. */
  leased: number[];
}

/** Runs `op` in a worker, stopped at kill point `stopAt` (-1: not stopped), and waits for its exit. */
async function runOp(pool: SlabPool, op: KillOp, stopAt: number, setup: Setup): Promise<Outcome & { tid: number }> {
  const flag = new SharedArrayBuffer(8);
  const data: KillPointData = { handle: pool.handle, op, stopAt, flag, ids: setup.ids, victim: setup.victim };
  const worker = new Worker(fixture('killpoint-worker.ts'), { workerData: data });
  const tid = worker.threadId;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const outcome: Outcome = { children: [], leased: [] };
  const finished = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: { type: string; result?: string[]; threadId?: number; ids?: number[] }) => {
      if (message.type === 'child') outcome.children.push(message.threadId as number);
      if (message.type === 'leased') outcome.leased.push(...(message.ids as number[]));
      if (message.type === 'done') {
        outcome.passed = message.result;
        resolve();
      }
    });
    worker.once('error', reject);
    worker.once('exit', () => {
      gone = true;
      resolve();
    });
  });
  let gone = false;
  const view = new Int32Array(flag);
  const deadline = Date.now() + 20_000;
  while (Atomics.load(view, 0) === 0 && outcome.passed === undefined) {
    if (gone) throw new Error(`${op}: the worker exited before kill point ${stopAt} without finishing its operation`);
    if (Date.now() > deadline) throw new Error(`${op}: the worker neither stopped at kill point ${stopAt} nor finished`);
    await Promise.race([finished, new Promise((r) => setTimeout(r, 1))]);
  }
  await worker.terminate();
  await exited;
  return { ...outcome, tid };
}

/** Reclaims the dead threads (the stopped one first: it may have been reclaiming the others). */
function reclaimAll(pool: SlabPool, op: KillOp, dead: number[]): void {
  const internals = internalsOf(pool);
  for (const tid of dead) {
    try {
      pool.reclaim(tid);
    } catch (error) {
      // A thread stopped while closing has ended its liveness waits: only its exit tells it has
      // exited, which is what watch acts on.
      if (!(error instanceof ReclaimLiveThreadError) || op !== 'close') throw error;
      internals.lifecycle.reclaimThread(tid, 'exited');
    }
  }
}

/** The pool is whole: consistent, nobody else attached or waiting, every slab free and takeable once. */
function expectWhole(pool: SlabPool, where: string): void {
  pool.flush();
  expect(pool.audit(), where).toEqual([]);
  const internals = internalsOf(pool);
  const stats = pool.stats();
  expect(stats.threads, `${where}: threads attached`).toBe(1);
  expect(internals.words[H_WAITING_CLASSES], `${where}: classes with waiters`).toBe(0);
  for (const c of stats.classes)
    expect({ where, size: c.slabSize, free: c.free }).toEqual({ where, size: c.slabSize, free: c.slabs });
  // Every slab once: take all of them (no carving: the counts above are what exists), no overlap.
  const taken: number[] = [];
  for (const c of stats.classes) for (let i = 0; i < c.slabs; i++) taken.push(pool.acquire(c.slabSize));
  const ranges = taken.map((id) => [pool.bytes(id).byteOffset, pool.capacity(id)]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    expect(ranges[i][0], `${where}: slabs overlap`).toBeGreaterThanOrEqual(ranges[i - 1][0] + ranges[i - 1][1]);
  }
  for (const id of taken) pool.release(id);
  pool.flush();
  expect(pool.audit(), where).toEqual([]);
}

const OPS: Array<{ op: KillOp; expect: string[] }> = [
  { op: 'acquire', expect: ['carve.1', 'carve.5', 'refill.moved', 'steal.moved', 'take.popped', 'spill.moved'] },
  { op: 'release', expect: ['release.exchanged', 'release.room', 'spill.locked', 'shard.push-one'] },
  { op: 'adopt', expect: ['adopt.read', 'release.exchanged'] },
  {
    op: 'async',
    expect: [
      'wait.register.slot-bit',
      'wait.register.counted',
      'offer.locked',
      'wake.bumped',
      'reserved.locked',
      'wait.retract.counted',
    ],
  },
  { op: 'close', expect: ['spill.moved', 'close.disowned-one', 'close.waits', 'close.closing', 'close.liveness-ended'] },
  {
    op: 'reclaim',
    expect: ['reclaim.claimed', 'reclaim.confirmed', 'reclaim.locks', 'reclaim.collected-one', 'reclaim.emptied'],
  },
  { op: 'watch', expect: ['reclaim.claimed', 'reclaim.collected', 'reclaim.emptied'] },
  { op: 'return', expect: ['handback.moved', 'return.locked', 'return.page', 'return.rebuilt', 'carve.3', 'spill.moved'] },
];

describe('a thread stopped at any kill point', () => {
  for (const { op, expect: expected } of OPS) {
    it(`loses nothing in ${op}: after reclaim the pool is whole, wherever it stopped`, async () => {
      let where = op as string;
      try {
        const recordPool = new SlabPool(OPTIONS);
        const recordSetup = await setUp(op, recordPool);
        const record = await runOp(recordPool, op, -1, recordSetup);
        const passed = record.passed ?? [];
        for (const name of expected) expect(passed, `${op} passes ${name}`).toContain(name);
        console.log(`${op}: kill points ${[...new Set(passed)].join(', ')}`);
        for (let stopAt = 0; stopAt < passed.length; stopAt++) {
          where = `${op}, stopped at kill point ${stopAt} (${passed[stopAt]})`;
          const pool = new SlabPool(OPTIONS);
          const setup = await setUp(op, pool);
          const run = await runOp(pool, op, stopAt, setup);
          expect(run.passed, `${where}: the run stopped`).toBeUndefined();
          reclaimAll(pool, op, [run.tid, ...setup.dead, ...run.children]);
          for (const id of setup.held) pool.releaseIfHeld(id);
          for (const id of run.leased) {
            // Still leased if the worker stopped after disowning it; reclaimed (stale) if before.
            if (isLeased(pool, id)) pool.release(id);
          }
          expectWhole(pool, where);
          pool.close();
        }
        console.log(`${op}: stopped at each of the ${passed.length} kill points it passes`);
      } catch (error) {
        console.error(`kill-point test failed at ${where}`);
        throw error;
      }
    }, 120_000);
  }
});

describe('a reclaim stopped part-way', () => {
  it('is reported by audit, finished by reclaiming its reclaimer, and delays no other reclaim', async () => {
    const pool = new SlabPool(OPTIONS);
    const setup = await setUp('reclaim', pool);
    const victim = setup.victim as number;
    // Stopped right after confirming the victim's slot: the slot names the stopped reclaimer.
    const recordPool = new SlabPool(OPTIONS);
    const record = await runOp(recordPool, 'reclaim', -1, await setUp('reclaim', recordPool));
    const stopAt = (record.passed ?? []).indexOf('reclaim.confirmed');
    expect(stopAt).toBeGreaterThanOrEqual(0);
    const run = await runOp(pool, 'reclaim', stopAt, setup);
    expect(pool.audit()).toContainEqual(
      expect.stringMatching(new RegExp(`thread ${victim}\\) has been in a reclaim by thread ${run.tid}`)),
    );
    expect(pool.stats().threads).toBe(3); // this thread, the victim's slot, the stopped reclaimer
    // An unrelated worker's exit is reclaimed at once by watch.
    const other = new Worker(fixture('victim-worker.ts'), { workerData: { handle: pool.handle } });
    await new Promise((resolve) => other.once('message', resolve));
    const reclaimed = new Promise<number>((resolve) => pool.watch(other, () => resolve(performance.now())));
    const exited = new Promise<number>((resolve) => other.once('exit', () => resolve(performance.now())));
    await other.terminate();
    const [exitAt, reclaimedAt] = await Promise.all([exited, reclaimed]);
    expect(reclaimedAt - exitAt).toBeLessThan(100);
    // Reclaiming the stopped reclaimer finishes its reclaim of the victim.
    const report = pool.reclaim(run.tid);
    expect(report.slots).toBe(2); // its own, and the victim's it had confirmed
    expect(report.leased).toBe(4); // the victim's leases
    expectWhole(pool, 'after reclaiming the stopped reclaimer');
  });
});
