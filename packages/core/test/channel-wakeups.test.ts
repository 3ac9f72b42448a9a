// No lost wake-up. First a model: the receiver's and senders' wake-up steps, in the order the code
// takes them (channel.ts), run in every interleaving; the receiver must never sleep while an id is
// published and no wake is on its way. Then the real code, paused in a worker between its last
// look and its sleep while this thread sends (or frees a slot): the wait must end at once, woken,
// never by its timeout.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../src/index.js';
import type { WakeRole } from './fixtures/channel-wake-worker.js';
import { fixture } from './helpers.js';

/** The shared words of the model: published tails (one lane per sender), the flag and the sequence. */
interface World {
  tails: number[];
  sleeping: number;
  sequence: number;
  /** The receiver is blocked in its wait (a futex waiter), and whether a notify has reached it. */
  asleep: boolean;
  notified: boolean;
}

type Step = (world: World, local: Record<string, number>) => 'next' | 'done';

/** The receiver's steps: read the sequence, raise the flag, look at the tails, wait. */
function receiverSteps(flagBeforeLook: boolean): Step[] {
  const read: Step = (w, l) => {
    l.seen = w.sequence;
    return 'next';
  };
  const raise: Step = (w) => {
    w.sleeping = 1;
    return 'next';
  };
  const look: Step = (w, l) => {
    l.found = w.tails.some((tail) => tail > 0) ? 1 : 0;
    return l.found ? 'done' : 'next';
  };
  // Atomics.wait: compares and enqueues in one step; returns at once if the value changed.
  const wait: Step = (w, l) => {
    if (w.sequence !== l.seen) return 'done';
    w.asleep = true;
    return 'done';
  };
  return flagBeforeLook ? [read, raise, look, wait] : [read, look, raise, wait];
}

/** A sender's steps: publish the tail, read the flag, and if raised bump the sequence and notify. */
function senderSteps(lane: number): Step[] {
  return [
    (w) => {
      w.tails[lane] = 1;
      return 'next';
    },
    (w, l) => {
      l.flag = w.sleeping;
      return l.flag ? 'next' : 'done';
    },
    (w) => {
      w.sequence++;
      return 'next';
    },
    (w) => {
      if (w.asleep) w.notified = true;
      return 'done';
    },
  ];
}

/** Runs every interleaving of the programs; returns the schedules that end with the receiver asleep for good. */
function lostWakeups(programs: Step[][]): string[] {
  const lost: string[] = [];
  const explore = (pcs: number[], world: World, locals: Record<string, number>[], schedule: number[]) => {
    let any = false;
    for (let p = 0; p < programs.length; p++) {
      if (pcs[p] < 0 || pcs[p] >= programs[p].length) continue;
      any = true;
      const nextWorld: World = { ...world, tails: [...world.tails] };
      const nextLocals = locals.map((l) => ({ ...l }));
      const outcome = programs[p][pcs[p]](nextWorld, nextLocals[p]);
      const nextPcs = [...pcs];
      nextPcs[p] = outcome === 'done' ? -1 : pcs[p] + 1;
      explore(nextPcs, nextWorld, nextLocals, [...schedule, p]);
    }
    if (!any && world.asleep && !world.notified) lost.push(schedule.join(''));
  };
  const world: World = { tails: programs.slice(1).map(() => 0), sleeping: 0, sequence: 0, asleep: false, notified: false };
  explore(
    programs.map(() => 0),
    world,
    programs.map(() => ({})),
    [],
  );
  return lost;
}

describe('the wake-up protocol, as a model', () => {
  it('never leaves the receiver asleep with an id published, for one or two senders in any interleaving', () => {
    expect(lostWakeups([receiverSteps(true), senderSteps(0)])).toEqual([]);
    expect(lostWakeups([receiverSteps(true), senderSteps(0), senderSteps(1)])).toEqual([]);
  });

  it('finds the lost wake-up of a receiver that raises its flag after its last look (the model can fail)', () => {
    expect(lostWakeups([receiverSteps(false), senderSteps(0)]).length).toBeGreaterThan(0);
  });
});

async function pausedWhileOtherSideActs(role: WakeRole): Promise<string[]> {
  const pool = new SlabPool({ arenaBytes: 4 << 20, maxSlabSize: 64 << 10, maxThreads: 16 });
  const channel = pool.channel({ capacity: 2 });
  const flag = new SharedArrayBuffer(8);
  const view = new Int32Array(flag);
  const worker = new Worker(fixture('channel-wake-worker.ts'), {
    workerData: { handle: pool.handle, channel: channel.handle, role, flag },
  });
  // Listened for from the start: the worker may exit right after it replies.
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const reply = new Promise<{ id?: number; passed?: string[]; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const deadline = Date.now() + 10_000;
  while (Atomics.load(view, 0) === 0) {
    if (Date.now() > deadline) throw new Error(`${role}: the worker never reached its last look`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // The other side acts while the worker is between its last look and its wait.
  const sent = role.startsWith('receive') ? pool.acquire(64) : -1;
  let receiver: ReturnType<typeof channel.receiver> | undefined;
  if (role.startsWith('receive')) channel.sender().trySend(sent);
  else {
    receiver = channel.receiver({ spinMs: 0 });
    pool.release(receiver.tryReceive());
  }
  Atomics.store(view, 1, 1);
  Atomics.notify(view, 1);
  const { id, passed, error } = await reply;
  expect(error).toBeUndefined();
  if (role.startsWith('receive')) expect(id).toBe(sent);
  else {
    pool.release(receiver?.tryReceive() as number);
    expect(receiver?.tryReceive()).toBe(id);
    pool.release(id as number);
  }
  await exited;
  channel.destroy();
  expect(pool.audit()).toEqual([]);
  return passed ?? [];
}

describe('a waiting end paused between its last look and its sleep', () => {
  for (const role of ['receive-blocking', 'receive-async', 'send-blocking', 'send-async'] as const) {
    it(`${role}: is woken at once by the other side's move, not by a timeout`, async () => {
      const passed = await pausedWhileOtherSideActs(role);
      const side = role.split('-')[0];
      expect(passed).toContain(`${side}.looked`);
      expect(passed).toContain(`${side}.woken`);
      expect(passed).not.toContain(`${side}.timed-out`);
    });
  }
});
