// Fault injection with real workers: rounds in which three workers churn slabs and hand them to
// each other, and one of them is terminated at a random moment; every third round the victim is
// killed while it holds a lock inside the pool. After each round the pool must have reclaimed
// everything the victim held, broken its locks, and kept every survivor's slabs intact: a
// "scribbler" then fills every slab it can get, survivors check their tokens, finish, and at the
// end of the round free + cached + leased equals the total with nothing leased or cached.

import { MessageChannel, type MessagePort, Worker as NodeWorker, type Worker } from 'node:worker_threads';
import { describe, expect, it, onTestFailed } from 'vitest';
import { type ReclaimReport, SlabPool } from '../src/index.js';
import { fixture, withSeed } from './helpers.js';

const ROUNDS = Number(process.env.ZEROPOOL_FAULT_ROUNDS ?? 50);
const WORKERS = 3;
const MAX_SIZE = 64 * 1024;

function request(worker: Worker, message: { type: string; peer?: number }, reply: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${reply}' reply to '${message.type}' within 20 s`)), 20_000);
    const onExit = (code: number) => reject(new Error(`worker exited (${code}) before replying '${reply}'`));
    const onMessage = (m: { type: string; error?: string }) => {
      if (m.type === 'error') reject(new Error(m.error));
      else if (m.type === reply) {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(m);
      }
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    worker.postMessage(message);
  });
}

describe('fault injection', () => {
  it(
    `survives ${ROUNDS} rounds of a worker killed at a random moment, some inside a lock`,
    withSeed(async ({ seed, random }) => {
      const pool = new SlabPool({ arenaBytes: 24 << 20, maxSlabSize: MAX_SIZE, parallelism: 2, shards: 2, cacheSize: 8 });
      let lastErrors: Error[] = [];
      // A failure other than the check of a round's worker errors would not show them.
      onTestFailed(() => {
        if (lastErrors.length > 0)
          console.error(
            'worker errors:',
            lastErrors.map((e) => e.message),
          );
      });
      const totals = { rounds: 0, inLock: 0, reclaimedLeased: 0, reclaimedCached: 0, locks: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const victim = Math.floor(random() * WORKERS);
        const inLock = round % 3 === 0;
        const control = new SharedArrayBuffer(16);
        const flags = new Int32Array(control);
        const ports: Array<Array<{ index: number; port: MessagePort }>> = Array.from({ length: WORKERS }, () => []);
        for (let a = 0; a < WORKERS; a++) {
          for (let b = a + 1; b < WORKERS; b++) {
            const channel = new MessageChannel();
            ports[a].push({ index: b, port: channel.port1 });
            ports[b].push({ index: a, port: channel.port2 });
          }
        }
        const reports: ReclaimReport[] = [];
        const errors: Error[] = [];
        lastErrors = errors;
        const workers = ports.map((peers, index) => {
          const worker = new NodeWorker(fixture('fault-worker.ts'), {
            workerData: {
              handle: pool.handle,
              seed: (seed + round * 7919 + index * 104729) >>> 0,
              index,
              peers,
              control,
              pauseInLock: inLock && index === victim ? 0.02 : 0,
              maxSize: MAX_SIZE,
            },
            transferList: peers.map((p) => p.port) as never,
          });
          worker.on('error', (error) => errors.push(error));
          worker.on('message', (m: { type: string; error?: string }) => {
            if (m.type === 'error') errors.push(new Error(m.error));
          });
          pool.watch(worker, (report) => reports.push(report));
          return worker;
        });
        const exits = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
        while (Atomics.load(flags, 0) < WORKERS && errors.length === 0) await new Promise((r) => setTimeout(r, 1));
        // Let them churn, then kill the victim: at a random moment, or once it stops inside a lock.
        if (inLock) {
          const deadline = Date.now() + 3000;
          while (Atomics.load(flags, 1) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
          if (Atomics.load(flags, 1) === 1) totals.inLock++;
        } else {
          await new Promise((r) => setTimeout(r, 5 + Math.floor(random() * 60)));
        }
        await workers[victim].terminate();
        await exits[victim];
        await new Promise((r) => setImmediate(r));
        expect(errors, `round ${round}`).toEqual([]);
        expect(reports, `round ${round}: the watch reclaimed the victim`).toHaveLength(1);
        totals.reclaimedLeased += reports[0].leased;
        totals.reclaimedCached += reports[0].cached;
        totals.locks += reports[0].locks;
        const survivors = workers.filter((_, i) => i !== victim);
        for (const survivor of survivors) await request(survivor, { type: 'peer-died', peer: victim }, 'peer-handled');
        // Scribble over every slab this thread can get: a slab wrongly reclaimed from a survivor
        // would be among them, and the survivor's token check below would fail.
        const scribbled: number[] = [];
        for (let size = 64; size <= MAX_SIZE; size *= 4) {
          while (scribbled.length < 2000) {
            const id = pool.tryAcquire(size);
            if (id === -1) break;
            pool.bytes(id).fill(0xee);
            scribbled.push(id);
          }
        }
        for (const survivor of survivors) await request(survivor, { type: 'verify' }, 'verified');
        for (const id of scribbled) pool.release(id);
        // All at once: each waits for the others' last hand-offs ('bye') before letting go.
        await Promise.all(survivors.map((survivor) => request(survivor, { type: 'finish' }, 'done')));
        await Promise.all(exits);
        expect(errors, `round ${round}`).toEqual([]);
        pool.flush();
        expect(pool.audit(), `round ${round}`).toEqual([]);
        const stats = pool.stats();
        for (const c of stats.classes) {
          expect({ slabSize: c.slabSize, leased: c.leased, cached: c.cached, free: c.free }, `round ${round}`).toEqual({
            slabSize: c.slabSize,
            leased: 0,
            cached: 0,
            free: c.slabs,
          });
        }
        expect(stats.threads, `round ${round}: every slot freed`).toBe(1);
        totals.rounds++;
        if (process.env.ZEROPOOL_FAULT_VERBOSE)
          console.log(`round ${round}: victim ${victim}${inLock ? ' (in lock)' : ''}`, reports[0]);
      }
      console.log(
        `fault injection (seed ${seed}): ${totals.rounds} rounds, ${totals.inLock} victims killed inside a lock, ` +
          `${totals.locks} locks taken over, ${totals.reclaimedLeased} leased and ${totals.reclaimedCached} cached slabs reclaimed`,
      );
      expect(totals.inLock).toBeGreaterThan(ROUNDS / 6);
      expect(totals.reclaimedLeased).toBeGreaterThan(0);
    }),
    240_000,
  );
});
