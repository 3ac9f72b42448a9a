// Channels of slab ids, in one thread: ownership as a slab goes in and comes out, the end of the
// stream, waiting, bad input, and destroy.
import { describe, expect, it } from 'vitest';
import { ChannelError, type ChannelReceiver, type ChannelSender, SlabPool, SlabStateError } from '../src/index.js';
import { expectAllFree } from './all-free.js';

const KiB = 1024;
const newPool = () => new SlabPool({ arenaBytes: 4 * KiB * KiB, maxSlabSize: 64 * KiB, parallelism: 2, maxThreads: 16 });

function open(
  pool: SlabPool,
  options = {},
): { sender: ChannelSender; receiver: ChannelReceiver; channel: ReturnType<SlabPool['channel']> } {
  const channel = pool.channel(options);
  return { channel, sender: channel.sender(), receiver: channel.receiver({ spinMs: 0 }) };
}

/** Expects `call` to throw a ChannelError with `code`. */
function expectChannelError(call: () => unknown, code: string): void {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ChannelError);
  expect((caught as ChannelError).code).toBe(code);
}

describe('a channel', () => {
  it('delivers ids in order, each received as the receiver’s lease with its bytes intact', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool, { capacity: 8 });
    for (let round = 0; round < 5; round++) {
      const sent = Array.from({ length: 8 }, (_, i) => {
        const id = pool.acquire(100 * (i + 1));
        pool.bytes(id)[0] = round * 8 + i;
        return id;
      });
      for (const id of sent) expect(sender.trySend(id)).toBe(true);
      expect(receiver.tryReceiveBatch([], 0, 0)).toBe(0);
      const got: number[] = [];
      for (let id = receiver.tryReceive(); id !== -1; id = receiver.tryReceive()) got.push(id);
      expect(got).toEqual(sent);
      expect(got.map((id) => pool.bytes(id)[0])).toEqual(sent.map((_, i) => round * 8 + i));
      for (const id of got) pool.release(id);
    }
    channel.destroy();
    expectAllFree(pool);
  });

  it('makes a sent slab the channel’s: the sender can no longer use, release or send it', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool);
    const id = pool.acquire(4096);
    sender.trySend(id);
    expect(() => pool.bytes(id)).toThrow(SlabStateError);
    expect(() => pool.release(id)).toThrow(/sent into channel \d+ and belongs to the channel/);
    expect(() => pool.adopt(id)).toThrow(SlabStateError);
    expect(() => sender.trySend(id)).toThrow(SlabStateError);
    const stats = pool.stats();
    expect(stats.classes.find((c) => c.slabSize === 4096)?.queued).toBe(1);
    expect(stats.channels).toBe(1);
    expect(pool.audit()).toEqual([]);
    expect(receiver.tryReceive()).toBe(id);
    expect(pool.stats().classes.find((c) => c.slabSize === 4096)?.queued).toBe(0);
    expect(pool.stats().acquires).toBe(1);
    pool.release(id);
    channel.destroy();
    expect(pool.stats().channels).toBe(0);
    expectAllFree(pool);
  });

  it('refuses a stale, foreign or malformed id with SlabStateError and changes nothing', () => {
    const pool = newPool();
    const other = newPool();
    const { sender, receiver, channel } = open(pool, { capacity: 2 });
    const released = pool.acquire(64);
    pool.release(released);
    const foreign = other.acquire(64);
    const before = pool.stats();
    for (const bad of [released, -1, 1.5, Number.NaN, '7', 2 ** 60, foreign + 2 ** 40, foreign]) {
      expect(() => sender.trySend(bad as number)).toThrow(SlabStateError);
    }
    expect(pool.stats()).toEqual(before);
    expect(receiver.tryReceive()).toBe(-1);
    // A full lane refuses bad input too, rather than answering "full".
    const a = pool.acquire(64);
    const b = pool.acquire(64);
    sender.trySend(a);
    sender.trySend(b);
    expect(sender.trySend(pool.acquire(64))).toBe(false);
    expect(() => sender.trySend(released)).toThrow(SlabStateError);
    expect(receiver.tryReceive()).toBe(a);
    expect(receiver.tryReceive()).toBe(b);
    expect(receiver.tryReceive()).toBe(-1);
    expect(pool.audit()).toEqual([]);
    other.close();
    channel.destroy();
  });

  it('lets a slab another thread holds be sent, as any thread may release it', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool);
    const id = pool.acquire(64);
    const holder = SlabPool.attach(pool.handle);
    holder.adopt(id);
    expect(sender.trySend(id)).toBe(true);
    expect(receiver.tryReceive()).toBe(id);
    // Leased again, by the receiver's pool object: the thread that adopted it holds it no more.
    expect(holder.releaseIfHeld(id)).toBe(false);
    expect(pool.releaseIfHeld(id)).toBe(true);
    holder.close();
    channel.destroy();
    expectAllFree(pool);
  });

  it('ends the stream once every sender end closed and the queued ids are drained', async () => {
    const pool = newPool();
    const channel = pool.channel({ senders: 2 });
    const first = channel.sender();
    const second = channel.sender();
    const receiver = channel.receiver({ spinMs: 0 });
    expectChannelError(() => channel.sender(), 'ERR_CHANNEL_BUSY');
    const ids = [pool.acquire(64), pool.acquire(64), pool.acquire(64)];
    first.trySend(ids[0]);
    second.trySend(ids[1]);
    first.close();
    expect(first.closed).toBe(true);
    expectChannelError(() => first.trySend(ids[2]), 'ERR_CHANNEL_CLOSED');
    expect(receiver.done).toBe(false);
    second.trySend(ids[2]);
    second.close();
    expect(receiver.done).toBe(false); // three still queued
    const got: number[] = [];
    for await (const id of receiver) got.push(id);
    expect(got.sort()).toEqual([...ids].sort());
    expect(receiver.done).toBe(true);
    expect(await receiver.receiveAsync()).toBe(-1);
    expect(receiver.receiveBlocking()).toBe(-1);
    expectChannelError(() => channel.sender(), 'ERR_CHANNEL_CLOSED');
    for (const id of got) pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });

  it('has one receiver at a time; a closed receiver lets another take over where it stopped', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool);
    expectChannelError(() => channel.receiver(), 'ERR_CHANNEL_BUSY');
    const ids = [pool.acquire(64), pool.acquire(64)];
    for (const id of ids) sender.trySend(id);
    expect(receiver.tryReceive()).toBe(ids[0]);
    receiver.close();
    expectChannelError(() => receiver.tryReceive(), 'ERR_CHANNEL_CLOSED');
    const next = channel.receiver();
    expect(next.tryReceive()).toBe(ids[1]);
    expect(next.tryReceive()).toBe(-1);
    for (const id of ids) pool.release(id);
    channel.destroy();
  });

  it('sends and receives in batches, stopping at a full lane', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool, { capacity: 4 });
    const ids = Array.from({ length: 6 }, () => pool.acquire(64));
    expect(sender.trySendBatch(ids)).toBe(4);
    const into = new Float64Array(8);
    expect(receiver.tryReceiveBatch(into, 1, 3)).toBe(3);
    expect(Array.from(into.subarray(1, 4))).toEqual(ids.slice(0, 3));
    expect(sender.trySendBatch(ids, 4)).toBe(2);
    expect(receiver.tryReceiveBatch(into)).toBe(3);
    expect(Array.from(into.subarray(0, 3))).toEqual([ids[3], ids[4], ids[5]]);
    for (const id of ids) pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });

  it('sends the ids of a batch before a bad one and reports the bad one', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool);
    const good = pool.acquire(64);
    const stale = pool.acquire(64);
    pool.release(stale);
    expect(() => sender.trySendBatch([good, stale])).toThrow(SlabStateError);
    expect(receiver.tryReceive()).toBe(good);
    expect(receiver.tryReceive()).toBe(-1);
    pool.release(good);
    channel.destroy();
    expectAllFree(pool);
  });

  it('times out a waiting send or receive with ERR_CHANNEL_TIMEOUT and changes nothing', async () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool, { capacity: 2 });
    expectChannelError(() => receiver.receiveBlocking({ timeoutMs: 5 }), 'ERR_CHANNEL_TIMEOUT');
    await expect(receiver.receiveAsync({ timeoutMs: 5 })).rejects.toMatchObject({ code: 'ERR_CHANNEL_TIMEOUT' });
    const ids = [pool.acquire(64), pool.acquire(64), pool.acquire(64)];
    sender.trySend(ids[0]);
    sender.trySend(ids[1]);
    expectChannelError(() => sender.sendBlocking(ids[2], { timeoutMs: 5 }), 'ERR_CHANNEL_TIMEOUT');
    await expect(sender.sendAsync(ids[2], { timeoutMs: 5 })).rejects.toMatchObject({ code: 'ERR_CHANNEL_TIMEOUT' });
    const controller = new AbortController();
    const aborted = sender.sendAsync(ids[2], { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    pool.bytes(ids[2]); // still this thread's lease
    expect(receiver.tryReceive()).toBe(ids[0]);
    expect(receiver.tryReceive()).toBe(ids[1]);
    expect(receiver.tryReceive()).toBe(-1);
    for (const id of ids) pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });

  it('wakes a waiting sendAsync when the receiver frees a slot, and a waiting receiveAsync when a sender sends', async () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool, { capacity: 2 });
    const pending = receiver.receiveAsync({ timeoutMs: 5000 });
    const id = pool.acquire(64);
    setTimeout(() => sender.trySend(id), 5);
    expect(await pending).toBe(id);
    const ids = [pool.acquire(64), pool.acquire(64), pool.acquire(64)];
    sender.trySend(ids[0]);
    sender.trySend(ids[1]);
    const sending = sender.sendAsync(ids[2], { timeoutMs: 5000 });
    setTimeout(() => receiver.tryReceive(), 5);
    await sending;
    expect(receiver.tryReceive()).toBe(ids[1]);
    expect(receiver.tryReceive()).toBe(ids[2]);
    for (const each of [id, ...ids]) pool.release(each);
    channel.destroy();
    expectAllFree(pool);
  });

  it('frees every queued slab on destroy, after which every end refuses with ERR_CHANNEL_DESTROYED', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool);
    const ids = Array.from({ length: 5 }, () => pool.acquire(KiB));
    for (const id of ids) sender.trySend(id);
    expect(channel.destroy()).toBe(5);
    expect(channel.destroy()).toBe(0);
    expectChannelError(() => sender.trySend(pool.acquire(64)), 'ERR_CHANNEL_DESTROYED');
    expectChannelError(() => receiver.tryReceive(), 'ERR_CHANNEL_DESTROYED');
    expectChannelError(() => channel.sender(), 'ERR_CHANNEL_DESTROYED');
    expectChannelError(() => pool.openChannel(channel.handle), 'ERR_CHANNEL_DESTROYED');
    for (const id of ids) expect(() => pool.release(id)).toThrow(SlabStateError);
    expect(pool.stats().channels).toBe(0);
  });

  it('gives a channel number back on destroy, so a pool can create channels without end', () => {
    const pool = newPool();
    for (let i = 0; i < 600; i++) pool.channel({ capacity: 2 }).destroy();
    const kept = Array.from({ length: 511 }, () => pool.channel({ capacity: 2 }));
    expectChannelError(() => pool.channel(), 'ERR_TOO_MANY_CHANNELS');
    kept[7].destroy();
    pool.channel({ capacity: 2 });
    expect(pool.stats().channels).toBe(511);
  });

  it('refuses bad options and handles with coded errors naming the argument', () => {
    const pool = newPool();
    expect(() => pool.channel({ capacity: 1000 })).toThrow(
      /options.capacity must be a power of two from 2 to 1048576; received 1000.*use 1024/,
    );
    expect(() => pool.channel({ capacity: '8' as unknown as number })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => pool.channel({ senders: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => pool.channel({ sender: 2 } as object)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_OPTION' }));
    expect(() => pool.openChannel(pool.handle as never)).toThrow(/pass channel.handle/);
    const other = newPool();
    const foreign = other.channel();
    expectChannelError(() => pool.openChannel(foreign.handle), 'ERR_CHANNEL_DESTROYED');
    expect(() => pool.channel().receiver({ spin: 1 } as object)).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_OPTION' }));
    expect(() => pool.channel().receiver({ spinMs: -1 })).toThrow(
      /options.spinMs must be a number of milliseconds from 0 to 1000; received -1/,
    );
    expect(() => pool.channel().sender({ spinMs: '1' as unknown as number })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_TYPE',
        message: expect.stringContaining('options.spinMs must be a number'),
      }),
    );
    const { receiver, sender } = open(pool);
    expect(() => receiver.receiveBlocking({ timeoutMs: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => sender.sendBlocking(pool.acquire(64), { timeout: 5 } as object)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_OPTION' }),
    );
    expect(pool.stats().channels).toBe(4);
    other.close();
  });

  it('stops the ends a pool object opened when it closes, and frees their roles for the next one', () => {
    const pool = newPool();
    const channel = pool.channel();
    const first = SlabPool.attach(pool.handle);
    const opened = first.openChannel(channel.handle);
    const sender = opened.sender();
    const receiver = opened.receiver();
    first.close();
    expect(sender.closed && receiver.closed).toBe(true);
    const refused = pool.acquire(64);
    expectChannelError(() => sender.trySend(refused), 'ERR_CHANNEL_CLOSED');
    pool.release(refused);
    // The next pool object of this thread takes the same slot: it must not look like the old ends.
    const second = SlabPool.attach(pool.handle);
    const again = second.openChannel(channel.handle);
    const id = second.acquire(64);
    again.sender().trySend(id);
    expect(again.receiver().tryReceive()).toBe(id);
    second.release(id);
    second.close();
    channel.destroy();
    expectAllFree(pool);
  });

  it('keeps the stream open while a sender end is open, even once `senders` ends have closed', () => {
    const pool = newPool();
    const channel = pool.channel({ senders: 2 });
    const receiver = channel.receiver({ spinMs: 0 });
    const early = channel.sender();
    channel.sender().close();
    const replacement = channel.sender(); // the count is 1 of 2: allowed
    replacement.close();
    expectChannelError(() => channel.sender(), 'ERR_CHANNEL_CLOSED');
    expect(receiver.done).toBe(false); // `early` is still open
    const id = pool.acquire(64);
    expect(early.trySend(id)).toBe(true);
    early.close();
    expect(receiver.done).toBe(false);
    expect(receiver.tryReceive()).toBe(id);
    expect(receiver.done).toBe(true);
    pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });

  it('lets the lanes take turns, so a busy sender starves no other', () => {
    const pool = newPool();
    const channel = pool.channel({ senders: 2, capacity: 8 });
    const [a, b] = [channel.sender(), channel.sender()];
    const receiver = channel.receiver({ spinMs: 0 });
    const fromA = Array.from({ length: 8 }, () => pool.acquire(64));
    const fromB = Array.from({ length: 8 }, () => pool.acquire(64));
    a.trySendBatch(fromA);
    b.trySendBatch(fromB);
    const got = Array.from({ length: 6 }, () => receiver.tryReceive());
    expect(got.filter((id) => fromA.includes(id))).toHaveLength(3);
    expect(got.filter((id) => fromB.includes(id))).toHaveLength(3);
    for (let id = receiver.tryReceive(); id !== -1; id = receiver.tryReceive()) got.push(id);
    for (const id of got) pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });

  it('receives no more ids than the array holds from `start`', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool);
    const ids = Array.from({ length: 8 }, () => pool.acquire(64));
    sender.trySendBatch(ids);
    const into = new Float64Array(4);
    expect(receiver.tryReceiveBatch(into, 1, 100)).toBe(3);
    expect(Array.from(into.subarray(1))).toEqual(ids.slice(0, 3));
    expect(receiver.tryReceiveBatch(into)).toBe(4);
    expect(Array.from(into)).toEqual(ids.slice(3, 7));
    expect(receiver.tryReceive()).toBe(ids[7]);
    for (const id of ids) pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });

  it('frees a slot for the sender as soon as its id is received', () => {
    const pool = newPool();
    const { sender, receiver, channel } = open(pool, { capacity: 8 });
    const ids = Array.from({ length: 9 }, () => pool.acquire(64));
    expect(sender.trySendBatch(ids)).toBe(8);
    expect(sender.trySend(ids[8])).toBe(false);
    const first = receiver.tryReceive();
    // Room the sender cannot see could keep a pipeline with a cycle waiting on itself.
    expect(sender.trySend(ids[8])).toBe(true);
    pool.release(first);
    for (let id = receiver.tryReceive(); id !== -1; id = receiver.tryReceive()) pool.release(id);
    channel.destroy();
    expectAllFree(pool);
  });
});
