// Channels between real workers: several senders and one receiver, every send and receive form,
// small lanes so that both sides fill, empty and sleep often. Every slab must arrive once, in
// order per sender, with its bytes intact, and the pool must be whole afterwards.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../src/index.js';
import { expectAllFree } from './all-free.js';
import { fixture, withSeed } from './helpers.js';

const KiB = 1024;

interface Reply {
  error?: string;
  received?: number;
  next?: number[];
  sent?: number;
}

function start(data: object): { worker: Worker; reply: Promise<Reply[]> } {
  const worker = new Worker(fixture('channel-stress-worker.ts'), { workerData: data });
  const replies: Reply[] = [];
  const reply = new Promise<Reply[]>((resolve, reject) => {
    worker.on('message', (message: Reply) => replies.push(message));
    worker.once('error', reject);
    worker.once('exit', () => resolve(replies));
  });
  return { worker, reply };
}

describe('a channel between workers', () => {
  for (const { senders, capacity, count } of [
    { senders: 1, capacity: 4, count: 4000 },
    { senders: 3, capacity: 8, count: 2000 },
  ]) {
    it(
      `delivers every slab of ${senders} sender(s) once, in order, through lanes of ${capacity}`,
      withSeed(async ({ seed }) => {
        const pool = new SlabPool({ arenaBytes: 16 * KiB * KiB, maxSlabSize: 64 * KiB, maxThreads: 16 });
        const channel = pool.channel({ capacity, senders });
        const common = { handle: pool.handle, channel: channel.handle, seed, count, senders };
        const receiver = start({ ...common, role: 'receiver', index: senders });
        const sending = Array.from({ length: senders }, (_, index) => start({ ...common, role: 'sender', index }));
        const replies = await Promise.all([receiver.reply, ...sending.map((s) => s.reply)]);
        for (const reply of replies.flat()) expect(reply.error).toBeUndefined();
        const [received] = replies[0];
        expect(received.next).toEqual(new Array(senders).fill(count));
        expect(received.received).toBe(senders * count);
        expect(channel.destroy()).toBe(0);
        expectAllFree(pool);
        expect(pool.stats().threads).toBe(1);
      }),
      60_000,
    );
  }
});
