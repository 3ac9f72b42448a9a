import { MessageChannel, type MessagePort, threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SlabPool, SlabStateError } from '../src/index.js';
import { openGateWhenReady } from './gate.js';
import { runWorker, withSeed } from './helpers.js';
import { sharedIds } from './ids.js';

const STRESS_MS = Number(process.env.ZEROPOOL_STRESS_MS ?? 5000);

describe('many threads', () => {
  it(
    'never hands a slab to two holders while 4 workers churn and pass slabs by id, and accounts for every slab at the end',
    withSeed(async ({ seed }) => {
      const maxSlabSize = 256 * 1024;
      const pool = new SlabPool({ arenaBytes: 24 << 20, maxSlabSize, parallelism: 2, cacheSize: 8 });
      const workers = 4;
      const ports: MessagePort[][] = Array.from({ length: workers }, () => []);
      for (let a = 0; a < workers; a++) {
        for (let b = a + 1; b < workers; b++) {
          const channel = new MessageChannel();
          ports[a].push(channel.port1);
          ports[b].push(channel.port2);
        }
      }
      const runs = ports.map((peers, index) =>
        runWorker<Record<string, number>>(
          'stress-worker.ts',
          { handle: pool.handle, seed, index, durationMs: STRESS_MS, maxSlabSize, peers },
          STRESS_MS + 60_000,
          peers,
        ),
      );
      const results = await Promise.all(runs.map((run) => run.done));
      const total = (key: string) => results.reduce((n, r) => n + r[key], 0);
      const stats = pool.stats();
      const problems = pool.audit();
      console.log(
        `stress (seed ${seed}, ${STRESS_MS} ms, ${workers} workers): ${total('acquired')} acquired, ${total('released')} released, ` +
          `${total('sent')} handed over, ${total('checked')} tokens checked, ${total('exhausted')} exhausted; ` +
          `${stats.refills} refills, ${stats.spills} spills, ${stats.steals} steals, ${stats.lockWaits} lock waits, ` +
          `${stats.pagesReturned} pages given back, ${stats.pagesRecarved} carved again`,
      );
      expect(problems).toEqual([]);
      // Work happened in every class, and hand-offs crossed threads.
      expect(total('acquired')).toBeGreaterThan(10_000);
      expect(total('sent')).toBe(total('received'));
      expect(total('sent')).toBeGreaterThan(1000);
      // Pages account for every slab: each class has whole pages of slabs, and the classes' pages
      // are the pages carved (some went back to the arena and were carved again on the way).
      expect(stats.classes.reduce((n, c) => n + c.pages, 0)).toBe(stats.pagesCarved);
      for (const c of stats.classes) expect(c.slabs).toBe((c.pages * stats.pageBytes) / c.slabSize);
      expect(stats.pagesCarved).toBeGreaterThan(0);
      // Nothing lost: every slab is free in a shard, none cached or leased.
      for (const c of stats.classes) {
        expect({ slabSize: c.slabSize, cached: c.cached, leased: c.leased, free: c.free }).toEqual({
          slabSize: c.slabSize,
          cached: 0,
          leased: 0,
          free: c.slabs,
        });
      }
      expect(stats.acquires).toBe(total('acquired'));
      expect(stats.releases).toBe(total('released'));
      expect(stats.acquires).toBe(stats.releases);
      expect(stats.threads).toBe(1 + workers);
    }),
  );

  it(
    'lets exactly one of two threads racing to release the same id succeed',
    withSeed(async ({ random }) => {
      const pool = new SlabPool({ arenaBytes: 64 << 20, parallelism: 2 });
      const ids = Array.from({ length: 5000 }, () => pool.acquire(Math.floor(random() * 4096)));
      const flag = new SharedArrayBuffer(8);
      const reversed = [...ids].reverse();
      const racers = [ids, reversed].map((list) =>
        runWorker<number[]>('race-worker.ts', { handle: pool.handle, ids: list, flag }),
      );
      await openGateWhenReady(new Int32Array(flag), 2);
      const [first, second] = await Promise.all(racers.map((r) => r.done));
      pool.flush(); // the main thread's cache still holds what its refills brought in
      expect(first.length + second.length).toBe(ids.length);
      const winners = new Set([...first, ...second]);
      expect(winners.size, 'an id released twice').toBe(ids.length);
      const stats = pool.stats();
      expect(stats.releases).toBe(ids.length);
      expect(stats.classes.reduce((n, c) => n + c.leased + c.cached, 0)).toBe(0);
      expect(pool.audit()).toEqual([]);
    }),
  );

  it('lets exactly one release succeed when the holder releases its own lease while another thread releases the same id', async () => {
    // The holder's release is the fast path (its expected value is its own lease); the other
    // thread's takes the second exchange. Both at once from opposite ends, round after round.
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const k = 64;
    const rounds = 4000;
    const shared = new SharedArrayBuffer(8 * (8 + k) + 8 * k);
    const common = { handle: pool.handle, shared, rounds, k };
    type Result = { won: number; doubled: number; lost: number };
    const [holder, racer] = ['holder', 'racer'].map((role) => runWorker<Result>('holder-race-worker.ts', { ...common, role }));
    const [held, raced] = await Promise.all([holder.done, racer.done]);
    // The race ran: both sides won some.
    expect(held.won).toBeGreaterThan(0);
    expect(raced.won).toBeGreaterThan(0);
    expect({ doubled: held.doubled, lost: held.lost }).toEqual({ doubled: 0, lost: 0 });
    expect(held.won + raced.won).toBe(k * rounds);
    pool.flush();
    expect(pool.stats().releases).toBe(k * rounds);
    expect(pool.stats().classes.reduce((n, c) => n + c.leased + c.cached, 0)).toBe(0);
    expect(pool.audit()).toEqual([]);
  });

  it(
    'refuses every release of a stale id while its slab is re-leased on another thread at the same time',
    withSeed(async ({ seed }) => {
      const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
      const flag = new SharedArrayBuffer(32);
      const rounds = 100_000;
      const common = { handle: pool.handle, flag, seed, rounds };
      const cycler = runWorker<{ rounds: number; lost: number }>('stale-race-worker.ts', { ...common, role: 'cycler' });
      const stale = runWorker<{ attempts: number; wrongly: number }>('stale-race-worker.ts', { ...common, role: 'stale' });
      const shared = new Int32Array(flag);
      await openGateWhenReady(shared, 2);
      const [cycled, raced] = await Promise.all([cycler.done, stale.done]);
      // The race ran: thousands of stale ids tried while their slabs were being re-leased.
      expect(raced.attempts).toBeGreaterThan(1000);
      expect(raced.wrongly, 'stale releases that succeeded').toBe(0);
      expect(cycled, 'releases of live leases that failed, or tokens overwritten').toEqual({ rounds, lost: 0 });
      pool.flush();
      expect(pool.stats().releases).toBe(rounds);
      expect(pool.stats().classes.reduce((n, c) => n + c.leased + c.cached, 0)).toBe(0);
      expect(pool.audit()).toEqual([]);
    }),
  );

  it(
    'refuses stale ids while their slabs are spilled, refilled and stolen between threads',
    withSeed(async ({ seed }) => {
      // A cache of one slab per class and 2 shards: every release of the producer's slabs by the
      // consumer spills, every acquire refills or steals, so the shard batch moves (plain stores of
      // state words under the shard lock) run while the stale thread tries each released id.
      const pool = new SlabPool({ arenaBytes: 4 << 20, parallelism: 2, shards: 2, cacheSize: 1 });
      const flag = new SharedArrayBuffer(64 + (256 + 1) * 8);
      const common = { handle: pool.handle, flag, seed, handoffs: 40_000, ms: 3000 };
      const producer = runWorker<{ sent: number }>('spill-stale-worker.ts', { ...common, role: 'producer' });
      const consumer = runWorker<{ received: number; lost: number }>('spill-stale-worker.ts', { ...common, role: 'consumer' });
      const stale = runWorker<{ attempts: number; wrongly: number }>('spill-stale-worker.ts', { ...common, role: 'stale' });
      const shared = new Int32Array(flag);
      await openGateWhenReady(shared, 3);
      const [sent, received, raced] = await Promise.all([producer.done, consumer.done, stale.done]);
      pool.flush();
      const stats = pool.stats();
      console.log(
        `spill/stale race (seed ${seed}): ${sent.sent} hand-offs, ${raced.attempts} stale ids tried, ${stats.spills} spills, ${stats.steals} steals`,
      );
      // The race ran: thousands of hand-offs through the shards, and stale ids tried throughout.
      expect(sent.sent).toBeGreaterThan(2000);
      expect(stats.spills).toBeGreaterThan(1000);
      expect(raced.attempts).toBeGreaterThan(sent.sent / 8);
      expect(raced.wrongly, 'stale ids released, adopted or taken back').toBe(0);
      expect(received, 'tokens overwritten').toEqual({ received: sent.sent, lost: 0 });
      expect(stats.classes.reduce((n, c) => n + c.leased + c.cached, 0)).toBe(0);
      expect(pool.audit()).toEqual([]);
    }),
  );

  // Batches of 16: many ids contended per round. Batches of 1: a round every microsecond or two, so
  // the re-lease right after a take-back often meets the worker's late adopt of the old id.
  it.each([
    [16, 20_000],
    [1, 1_000_000],
  ])(
    'lets exactly one of an adopter and a sender taking back (releaseIfHeld) have each id (batches of %i)',
    withSeed(async ({ seed, random }, batch: number, maxRounds: number) => {
      const pool = new SlabPool({ arenaBytes: 64 << 20, parallelism: 2 });
      const control = new SharedArrayBuffer((8 + 3 * batch) * 4);
      const words = new Int32Array(control);
      const published = sharedIds(control, 32, batch);
      const adopter = runWorker<{ rounds: number; adopted: number }>('takeback-worker.ts', {
        handle: pool.handle,
        control,
        batch,
      });
      // Rounds until maxRounds or 3 s: each publishes a batch, then this thread takes the ids back
      // in the order the worker adopts them, so the two compare-exchanges race on every state word.
      const until = Date.now() + 3000;
      let rounds = 0;
      let takenBack = 0;
      const twice: number[] = [];
      const disturbed: number[] = [];
      const ids = new Array<number>(batch);
      const sizes = new Array<number>(batch);
      while (rounds < maxRounds && Date.now() < until) {
        for (let i = 0; i < batch; i++) {
          sizes[i] = 1 + Math.floor(random() * 8192);
          ids[i] = pool.acquire(sizes[i]);
          published.store(i, ids[i]);
        }
        Atomics.store(words, 0, ++rounds);
        // The worker sees the round a little later; a seeded head start for it of 0 to ~1 µs
        // makes the two sides meet at different ids from round to round.
        for (let spin = Math.floor(random() * 200); spin > 0; spin--) Atomics.load(words, 1);
        const mine = ids.map((id) => pool.releaseIfHeld(id));
        // While the worker may still be adopting this round's ids: lease the slabs taken back
        // again (the cache hands back the latest first, so the same slabs, next generation) and
        // take them back at once. The worker never saw these ids, so this thread must still hold
        // them: a late adopt of the old id must not touch the new lease.
        for (let i = batch - 1; i >= 0; i--) {
          if (!mine[i]) continue;
          const again = pool.acquire(sizes[i]);
          if (!pool.releaseIfHeld(again)) disturbed.push(again);
        }
        while (Atomics.load(words, 1) !== rounds && Date.now() < until + 5000);
        for (let i = 0; i < batch; i++) {
          if (mine[i]) takenBack++;
          if (mine[i] === (words[8 + 2 * batch + i] === 1)) twice.push(ids[i]);
        }
      }
      Atomics.store(words, 2, 1);
      const { adopted } = await adopter.done;
      pool.flush();
      console.log(
        `adopt vs releaseIfHeld (seed ${seed}): ${rounds} rounds of ${batch}, ${adopted} adopted, ${takenBack} taken back`,
      );
      // Every id went to exactly one side (both or neither would be a slab with two owners or none).
      expect(twice, 'ids both or neither side had').toEqual([]);
      // Both sides won some: the race was run, not one side alone.
      expect(adopted).toBeGreaterThan(0);
      expect(takenBack).toBeGreaterThan(0);
      expect(disturbed, 'new leases a stale adopt took from this thread').toEqual([]);
      expect(adopted + takenBack).toBe(rounds * batch);
      const stats = pool.stats();
      expect(stats.releases).toBe(rounds * batch + takenBack);
      expect(stats.classes.reduce((n, c) => n + c.leased + c.cached, 0)).toBe(0);
      expect(pool.audit()).toEqual([]);
    }),
  );

  it('never has holderOf name a thread that does not hold the id while another thread releases it', async () => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2 });
    const control = new SharedArrayBuffer((8 + 3) * 4);
    const words = new Int32Array(control);
    const published = sharedIds(control, 32, 1);
    const releaser = runWorker<{ rounds: number }>('takeback-worker.ts', {
      handle: pool.handle,
      control,
      batch: 1,
      op: 'release',
    });
    const until = Date.now() + 2000;
    let rounds = 0;
    let asked = 0;
    const wrong = new Map<number, number>();
    while (rounds < 200_000 && Date.now() < until) {
      const id = pool.acquire(64);
      published.store(0, id);
      Atomics.store(words, 0, ++rounds);
      // Ask until the release lands: the answer is this thread, or SlabStateError once released.
      for (;;) {
        let holder: number;
        try {
          holder = pool.holderOf(id);
        } catch (error) {
          if (error instanceof SlabStateError) break;
          throw error;
        }
        asked++;
        if (holder !== threadId) {
          wrong.set(holder, (wrong.get(holder) ?? 0) + 1);
          break;
        }
      }
      while (Atomics.load(words, 1) !== rounds && Date.now() < until + 5000);
    }
    Atomics.store(words, 2, 1);
    await releaser.done;
    pool.flush();
    console.log(`holderOf during releases: ${rounds} rounds, ${asked} answers`);
    expect(asked).toBeGreaterThan(0);
    expect(Object.fromEntries(wrong)).toEqual({});
    expect(pool.audit()).toEqual([]);
  });
});
