// Deterministic kills of channel operations: each runs once in a worker to list the kill points it
// passes, then once per kill point, stopped there and terminated. After every stop the dead thread
// is reclaimed, the channel drained by this thread, and then: every id the operation touched was
// received exactly once or is back in the pool, nothing is left queued, and the pool is whole.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type SlabChannel, SlabPool } from '../src/index.js';
import { channelWord } from '../src/layout.js';
import { expectAllFree, isLeased } from './all-free.js';
import type { ChannelKillData, ChannelKillOp } from './fixtures/channel-kill-worker.js';
import { fixture } from './helpers.js';
import { internalsOf } from './internals.js';

const KiB = 1024;
const OPTIONS = { arenaBytes: 4 * KiB * KiB, maxSlabSize: 64 * KiB, parallelism: 2, shards: 2, maxThreads: 16 } as const;

interface Scenario {
  pool: SlabPool;
  channel: SlabChannel;
  /** Ids this thread sent (or handed over) for the operation. */
  ids: number[];
  /** Threads stopped while setting up, reclaimed with the worker. */
  dead: number[];
}

/** Runs `op` in a worker stopped at `stopAt` (-1: not stopped); the kill points it passed if it finished. */
async function run(
  scenario: Scenario,
  op: ChannelKillOp,
  stopAt: number,
  log: SharedArrayBuffer,
): Promise<{ tid: number; passed?: string[] }> {
  const flag = new SharedArrayBuffer(8);
  const data: ChannelKillData = {
    handle: scenario.pool.handle,
    channel: scenario.channel.handle,
    op,
    stopAt,
    flag,
    log,
    ids: op === 'send' ? scenario.ids : [],
  };
  const worker = new Worker(fixture('channel-kill-worker.ts'), { workerData: data });
  const tid = worker.threadId;
  let passed: string[] | undefined;
  let failure: Error | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: { result: string[] }) => {
    passed = message.result;
  });
  worker.once('error', (error) => {
    failure = error;
  });
  const view = new Int32Array(flag);
  const deadline = Date.now() + 20_000;
  let gone = false;
  exited.then(() => {
    gone = true;
  });
  while (Atomics.load(view, 0) === 0 && passed === undefined && failure === undefined && !gone) {
    if (Date.now() > deadline) throw new Error(`${op}: the worker neither stopped at kill point ${stopAt} nor finished`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  if (failure) throw failure;
  await worker.terminate();
  await exited;
  return { tid, passed };
}

async function setUp(op: ChannelKillOp): Promise<Scenario> {
  const pool = new SlabPool(OPTIONS);
  const channel = pool.channel({ capacity: 8 });
  const scenario: Scenario = { pool, channel, ids: [], dead: [] };
  if (op === 'send') scenario.ids = [pool.acquire(2 * KiB)];
  if (op === 'receive' || op === 'destroy') {
    const sender = channel.sender();
    scenario.ids = Array.from({ length: 4 }, () => pool.acquire(2 * KiB));
    for (const id of scenario.ids) sender.trySend(id);
    sender.close();
  }
  if (op === 'recover') {
    // A sender stopped between queueing its second slab and publishing it.
    const log = new SharedArrayBuffer(8 * 16);
    const recordPool = new SlabPool(OPTIONS);
    const recordScenario = { pool: recordPool, channel: recordPool.channel({ capacity: 8 }), ids: [], dead: [] };
    const record = await run(recordScenario, 'send', -1, new SharedArrayBuffer(8 * 16));
    const stopAt = (record.passed ?? []).indexOf('send.queued', (record.passed ?? []).indexOf('send.queued') + 1);
    const stopped = await run(scenario, 'send', stopAt, log);
    scenario.dead.push(stopped.tid);
    scenario.ids = Array.from(new Float64Array(log).subarray(1, 1 + new Float64Array(log)[0]));
    pool.reclaim(stopped.tid);
  }
  return scenario;
}

/** Receives everything the channel still delivers, as a new receiver in this thread would. */
function drain(channel: SlabChannel): number[] {
  const receiver = channel.receiver({ spinMs: 0 });
  const got: number[] = [];
  // A sleeping receive looks for lanes whose sender stopped, and publishes what they left.
  for (;;) {
    let id = receiver.tryReceive();
    if (id === -1) {
      try {
        id = receiver.receiveBlocking({ timeoutMs: 120 });
      } catch (error) {
        if ((error as { code?: string }).code !== 'ERR_CHANNEL_TIMEOUT') throw error;
      }
    }
    if (id === -1) break;
    got.push(id);
  }
  receiver.close();
  return got;
}

const OPS: Array<{ op: ChannelKillOp; expect: string[] }> = [
  { op: 'send', expect: ['send.written', 'send.queued', 'sender.counted'] },
  { op: 'receive', expect: ['receive.taken', 'release.exchanged'] },
  { op: 'destroy', expect: ['destroy.flagged', 'destroy.taken', 'release.exchanged'] },
  { op: 'recover', expect: ['lane.taken', 'lane.recovering'] },
];

describe('a channel operation stopped at any kill point', () => {
  for (const { op, expect: expected } of OPS) {
    it(`loses nothing in ${op} and delivers nothing twice`, async () => {
      let where: string = op;
      try {
        const recordScenario = await setUp(op);
        const record = await run(recordScenario, op, -1, new SharedArrayBuffer(8 * 16));
        const passed = record.passed ?? [];
        for (const name of expected) expect(passed, `${op} passes ${name}`).toContain(name);
        for (let stopAt = 0; stopAt < passed.length; stopAt++) {
          where = `${op}, stopped at kill point ${stopAt} (${passed[stopAt]})`;
          const scenario = await setUp(op);
          const { pool, channel } = scenario;
          const log = new SharedArrayBuffer(8 * 16);
          const stopped = await run(scenario, op, stopAt, log);
          expect(stopped.passed, `${where}: the run stopped`).toBeUndefined();
          for (const tid of [stopped.tid, ...scenario.dead]) {
            try {
              pool.reclaim(tid);
            } catch (error) {
              if ((error as { code?: string }).code !== 'ERR_RECLAIM_LIVE_THREAD') throw error;
            }
          }
          // Queued slabs name a channel that exists; nothing else is amiss.
          expect(pool.audit(), where).toEqual([]);
          const logged = Array.from(new Float64Array(log).subarray(1, 1 + new Float64Array(log)[0]));
          const touched = new Set([...scenario.ids, ...logged]);
          const destroyed = op === 'destroy';
          const got = destroyed ? [] : drain(channel);
          expect(new Set(got).size, `${where}: an id delivered twice`).toBe(got.length);
          for (const id of got) expect(touched.has(id), `${where}: received ${id}, never sent`).toBe(true);
          for (const id of got) pool.release(id);
          // Nothing was left queued where no receiver could see it.
          const freed = channel.destroy();
          if (!destroyed) expect(freed, `${where}: slabs queued but never delivered`).toBe(0);
          for (const id of touched) if (isLeased(pool, id)) pool.release(id);
          expectAllFree(pool);
          expect(pool.stats().channels, where).toBe(0);
          pool.close();
        }
        console.log(`${op}: stopped at each of the ${passed.length} kill points it passes`);
      } catch (error) {
        console.error(`channel kill-point test failed at ${where}`);
        throw error;
      }
    }, 120_000);
  }
});

/**
 * A channel of two sender lanes whose first sender was stopped (and reclaimed) between queueing
 * its second slab and publishing it; `fromDead` is what it sent: one slab published, one not.
 */
async function stoppedAfterQueueing(): Promise<{ pool: SlabPool; channel: SlabChannel; fromDead: number[] }> {
  // Where the kill points of a send are.
  const recordPool = new SlabPool(OPTIONS);
  const recordChannel = recordPool.channel({ capacity: 8 });
  const record = await run(
    { pool: recordPool, channel: recordChannel, ids: [], dead: [] },
    'send',
    -1,
    new SharedArrayBuffer(8 * 16),
  );
  const passed = record.passed ?? [];
  const stopAt = passed.indexOf('send.queued', passed.indexOf('send.queued') + 1);
  const pool = new SlabPool(OPTIONS);
  const channel = pool.channel({ capacity: 8, senders: 2 });
  const log = new SharedArrayBuffer(8 * 16);
  const stopped = await run({ pool, channel, ids: [], dead: [] }, 'send', stopAt, log);
  pool.reclaim(stopped.tid);
  const fromDead = Array.from(new Float64Array(log).subarray(1, 1 + new Float64Array(log)[0]));
  expect(fromDead).toHaveLength(2);
  return { pool, channel, fromDead };
}

describe('a channel whose sender was stopped between queueing a slab and publishing it', () => {
  it('delivers that slab while another sender keeps the receiver busy, and before the stream ends', async () => {
    const { pool, channel, fromDead } = await stoppedAfterQueueing();
    // Another sender keeps the receiver busy: it never sleeps, where it would look for the lane.
    const busy = channel.sender();
    const receiver = channel.receiver({ spinMs: 0 });
    const received: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      busy.trySend(pool.acquire(64));
      for (let id = receiver.tryReceive(); id !== -1; id = receiver.tryReceive()) received.push(id);
      for (const id of received.splice(0)) {
        if (fromDead.includes(id)) fromDead.splice(fromDead.indexOf(id), 1);
        pool.release(id);
      }
    }
    expect(fromDead, 'slabs of the stopped sender not delivered while the receiver was busy').toEqual([]);
    busy.close();
    channel.sender().close(); // the second close ends the stream
    expect(receiver.done).toBe(true);
    expect(channel.destroy()).toBe(0);
    expectAllFree(pool);
  }, 60_000);

  it('ends the stream only after publishing what a stopped sender left in its lane', async () => {
    const { pool, channel, fromDead } = await stoppedAfterQueueing();
    // Two more sender ends close, taking the free lane, not the stopped sender's.
    channel.sender().close();
    channel.sender().close();
    const receiver = channel.receiver({ spinMs: 0 });
    const got: number[] = [];
    for (let id = receiver.tryReceive(); id !== -1 || !receiver.done; id = receiver.tryReceive()) if (id !== -1) got.push(id);
    expect(got.sort()).toEqual([...fromDead].sort());
    for (const id of got) pool.release(id);
    expect(channel.destroy()).toBe(0);
    expectAllFree(pool);
  }, 60_000);
});

describe('a slab queued in a channel that no longer exists', () => {
  it('comes back with the next reclaim (a send stopped after its exchange, once the destroy it raced had finished)', async () => {
    const pool = new SlabPool(OPTIONS);
    const channel = pool.channel();
    const id = pool.acquire(KiB);
    channel.sender().trySend(id);
    // The state such a stop leaves: the slab queued under a number the pool's table no longer holds.
    const internals = internalsOf(pool);
    Atomics.store(internals.words, channelWord(internals.layout, channel.number), 0);
    expect(pool.audit()).toContainEqual(expect.stringMatching(/queued in channel \d+, which does not exist/));
    const victim = new Worker(fixture('victim-worker.ts'), { workerData: { handle: pool.handle } });
    const tid = victim.threadId;
    await new Promise((resolve) => victim.once('message', resolve));
    await victim.terminate();
    const report = pool.reclaim(tid);
    expect(report.leased).toBe(4 + 1); // the victim's four leases and the orphan
    expect(isLeased(pool, id)).toBe(false);
    expectAllFree(pool);
  });
});
