/**
 * Channels of slab ids in shared memory: pipelines of workers hand slabs on without a message
 * per slab. The memory map is channel-layout.ts; this file holds the three classes a user sees
 * (`SlabChannel`, `ChannelSender`, `ChannelReceiver`) and the recovery of a lane whose sender
 * stopped.
 *
 * Ownership: a sent slab belongs to the channel (state `SLAB_QUEUED`, owner: the channel's
 * number) until a receive makes it the receiver's lease. Both moves are one compare-exchange on
 * the slab's state word that also checks the generation, so a slab is received at most once; a
 * receiver that dies holding slabs leaves leases the usual `reclaim` takes back; slabs nobody
 * will receive come back with `destroy()`.
 *
 * Wake-ups: a receiver with nothing to read polls for `spinMs`, then sleeps on `CH_SEQUENCE`
 * after raising `CH_RECEIVER_SLEEPING`; a sender that publishes reads the flag and, if raised,
 * bumps the sequence and notifies. The flag and the tails are accessed with Atomics (sequentially
 * consistent), so either the sleeper's last look sees the new tail or the sender sees the flag;
 * the sleeper read the sequence before raising the flag, so a bump after that ends its wait. A
 * sender facing a full lane sleeps on the lane's head the same way (`L_SENDER_SLEEPING`).
 */
import { threadId as currentThreadId } from 'node:worker_threads';
import {
  CHANNEL_MAGIC,
  CH_CAPACITY,
  CH_CLOSED,
  CH_DESTROYED,
  CH_KEY,
  CH_LANES,
  CH_MAGIC,
  CH_NUMBER,
  CH_RECEIVER_BIG,
  CH_RECEIVER_SLEEPING,
  CH_SENDERS,
  CH_SEQUENCE,
  DEFAULT_CHANNEL_CAPACITY,
  L_HEAD,
  L_OWNER,
  L_SENDER_SLEEPING,
  L_TAIL,
  MAX_CHANNEL_CAPACITY,
  MAX_CHANNEL_SENDERS,
  MIN_CHANNEL_CAPACITY,
  channelBytes,
  identity,
  identitySlot,
  identityThread,
  laneSlots,
  laneWord,
} from './channel-layout.js';
import { ChannelError, type SlabStateError, invalidType, outOfRange, unknownOption } from './errors.js';
import {
  type ArenaLayout,
  GEN_FIELD,
  GEN_MASK,
  GEN_SHIFT,
  ID_FROM_GEN_FIELD,
  ID_GENERATION_UNIT,
  MAX_CHANNELS,
  META_STATE,
  META_WORDS,
  OWNER_MASK,
  OWNER_SHIFT,
  SLAB_QUEUED,
  STATE_MASK,
  channelWord,
  claimIndex,
  claimThread,
  forEachSlab,
  isIdShaped,
  metaWord,
  packState,
  slabOfId,
} from './layout.js';
import { STEPS, step } from './steps.js';
import type { ChannelHandle, ChannelOptions, ChannelWaitOptions, ReceiverOptions, SenderOptions } from './types.js';

/**
 * How long a receiver with nothing to read polls before it sleeps, by default: on a VM a sleeping
 * thread is slow to wake (its virtual CPU halted), so a short poll saves a wake-up whenever the
 * next id comes within it. Oversubscribed programs may poll less (`spinMs`).
 */
const DEFAULT_SPIN_MS = 0.2;
/** A sleeping end wakes this often to look for lanes whose sender stopped (their slabs are published on recovery). */
const CHECK_INTERVAL_MS = 50;
/** How long `sender()` waits for a lane the receiver is recovering, before it reports every lane taken. */
const RECOVERY_WAIT_MS = 20;
/** Receives between two looks for lanes whose sender stopped, on a channel of several lanes. */
const RECOVER_EVERY = 4096;
/** The options object of a call given none: its checks are skipped. */
const NO_OPTIONS: ChannelWaitOptions = Object.freeze({});
/** A timer that never fires in practice, keeping the event loop alive during an async wait. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a pool object lends its channels: its arena and identity, and the calls they need. */
export interface ChannelHost {
  readonly words: Int32Array;
  readonly claims: BigInt64Array;
  readonly layout: ArenaLayout;
  readonly metaTop: number;
  readonly slot: number;
  /** `packState(SLAB_LEASED, slot, 0)`. */
  readonly leasedBits: number;
  isClosed(): boolean;
  badIdError(id: unknown): SlabStateError;
  release(id: number): void;
  /** Ends opened through this pool object, closed with it. */
  readonly ends: Set<ChannelEnd>;
}

/** What a pool object's close() does to the channel ends it opened. */
export interface ChannelEnd {
  poolClosed(): void;
}

/** The shared views of one channel, as every end of it maps them. */
class ChannelMemory {
  readonly words: Int32Array;
  readonly bigs: BigInt64Array;
  readonly slots: Float64Array;
  readonly number: number;
  readonly key: number;
  readonly lanes: number;
  readonly capacity: number;
  readonly senders: number;
  /** `packState(SLAB_QUEUED, number, 0)`. */
  readonly queuedBits: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.bigs = new BigInt64Array(buffer);
    this.slots = new Float64Array(buffer);
    this.number = this.words[CH_NUMBER];
    this.key = this.words[CH_KEY];
    this.lanes = this.words[CH_LANES];
    this.capacity = this.words[CH_CAPACITY];
    this.senders = this.words[CH_SENDERS];
    this.queuedBits = packState(SLAB_QUEUED, this.number, 0);
  }

  get destroyed(): boolean {
    return Atomics.load(this.words, CH_DESTROYED) !== 0;
  }

  /** Wakes the receiver whatever it waits for: a bump of the sequence ends any wait begun before it. */
  wakeReceiver(): void {
    Atomics.add(this.words, CH_SEQUENCE, 1);
    Atomics.notify(this.words, CH_SEQUENCE);
  }

  /** Whether slab id `id` is queued in this channel under this very id (its state word says so). */
  isQueuedHere(host: ChannelHost, id: number): boolean {
    if (!isIdShaped(id) || slabOfId(id) >= host.layout.maxSlabs) return false;
    const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
    return (
      Atomics.load(host.words, metaWord(host.metaTop, slabOfId(id)) + META_STATE) ===
      (this.queuedBits | (generation << GEN_SHIFT))
    );
  }

  /** Whether the thread an identity word names still holds the pool thread slot it names. */
  isRunning(host: ChannelHost, who: bigint): boolean {
    const slot = identitySlot(who);
    return (
      slot < host.layout.maxThreads &&
      claimThread(Atomics.load(host.claims, claimIndex(host.layout, slot))) === identityThread(who)
    );
  }

  /**
   * Publishes what a stopped sender left in lane `lane`, whose owner word the caller has just
   * taken: every written slot past the tail up to the last one whose slab is queued here. The
   * sender writes a slot before its exchange and publishes after it, so a slab it queued and did
   * not publish is in one of those slots; older slots among them are stale, and the receiver skips
   * them (their exchange fails). Can be repeated: a recoverer stopped part-way is recovered too.
   */
  recoverLane(host: ChannelHost, lane: number): void {
    const base = laneWord(lane, this.capacity);
    const slots = laneSlots(lane, this.capacity);
    const mask = this.capacity - 1;
    const tail = Atomics.load(this.words, base + L_TAIL);
    const head = Atomics.load(this.words, base + L_HEAD);
    const room = this.capacity - ((tail - head) | 0);
    let last = tail;
    for (let k = 0; k < room; k++) {
      const position = (tail + k) | 0;
      if (this.isQueuedHere(host, this.slots[slots + (position & mask)])) last = (position + 1) | 0;
    }
    if (last === tail) return;
    if (STEPS) step('lane.recovering');
    // Publishes the slots to the receiver's Atomics.load of the tail.
    Atomics.store(this.words, base + L_TAIL, last);
    this.wakeReceiver();
  }

  /**
   * Takes lane `lane` from an owner that closed its pool object or died (`seen`), recovers it and
   * returns true; false if the owner runs or someone else took the lane first.
   */
  takeAbandoned(host: ChannelHost, lane: number, seen: bigint, me: bigint): boolean {
    if (seen === 0n || this.isRunning(host, seen)) return false;
    const ownerBig = (laneWord(lane, this.capacity) + L_OWNER) >> 1;
    // Of the threads that find the owner gone, the one whose exchange succeeds recovers the lane.
    if (Atomics.compareExchange(this.bigs, ownerBig, seen, me) !== seen) return false;
    if (STEPS) step('lane.taken');
    this.recoverLane(host, lane);
    return true;
  }

  /** Recovers every lane whose sender stopped, leaving it free; for a receiver with nothing to read. */
  recoverAbandoned(host: ChannelHost, me: bigint): void {
    for (let lane = 0; lane < this.lanes; lane++) {
      const ownerBig = (laneWord(lane, this.capacity) + L_OWNER) >> 1;
      const seen = Atomics.load(this.bigs, ownerBig);
      if (this.takeAbandoned(host, lane, seen, me)) Atomics.compareExchange(this.bigs, ownerBig, me, 0n);
    }
  }
}

/**
 * A channel of slab ids in shared memory, for pipelines of workers: senders hand slabs to one
 * receiver without a message per slab. Create it with `pool.channel()`, send its `handle` to other
 * threads once, and open it there with `pool.openChannel(handle)`; then take that thread's end
 * with `sender()` or `receiver()`.
 *
 * A sent slab belongs to the channel until it is received: the sender may not use it, and the
 * receiver receives it as its own lease (as if it had acquired it). Ids are delivered exactly once,
 * in order per sender. The stream ends when `senders` sender ends have closed: the receiver then
 * drains what is queued and sees the end.
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { SlabPool } from '@zeropool/core';
 * const pool = new SlabPool({ arenaBytes: 16 * 1024 * 1024 });
 * const channel = pool.channel({ capacity: 256 });
 * new Worker('./consumer.js', { workerData: { pool: pool.handle, channel: channel.handle } });
 * const sender = channel.sender();
 * for (let i = 0; i < 1000; i++) {
 *   const id = pool.acquire(4096);
 *   pool.bytes(id)[0] = i;
 *   await sender.sendAsync(id); // waits while the channel is full
 * }
 * sender.close(); // the consumer's `for await (const id of receiver)` ends after the last one
 * ```
 */
export class SlabChannel {
  /**
   * Send this to other threads (in `workerData` or `postMessage`, with the pool's handle) and open
   * it there with `pool.openChannel(handle)`. Do not list it in a `transferList`.
   */
  readonly handle: ChannelHandle;
  /** The channel's number in its pool (1 to 511), as `stats()` and `audit()` name it. */
  readonly number: number;
  /** Slots per sender lane: how many ids one sender may have queued. */
  readonly capacity: number;
  /** Sender ends that may be open at once, and how many must close to end the stream. */
  readonly senders: number;
  private readonly memory: ChannelMemory;

  /** @internal Created by `pool.channel()` and `pool.openChannel()`. */
  constructor(
    private readonly host: ChannelHost,
    handle: ChannelHandle,
  ) {
    this.handle = handle;
    this.memory = new ChannelMemory(handle.buffer);
    this.number = this.memory.number;
    this.capacity = this.memory.capacity;
    this.senders = this.memory.senders;
  }

  /**
   * This thread's sender end: takes a free lane (or one whose sender stopped, publishing what it
   * left).
   * @param options how long a waiting send polls before sleeping (see {@link SenderOptions}).
   * @throws {ChannelError} `ERR_CHANNEL_BUSY` when every lane has a running sender;
   *   `ERR_CHANNEL_CLOSED` once `senders` sender ends have closed; `ERR_CHANNEL_DESTROYED`.
   * @example
   * ```ts
   * declare const channel: SlabChannel;
   * const sender = channel.sender();
   * const id = pool.acquire(4096);
   * pool.bytes(id).fill(1);
   * sender.sendBlocking(id);
   * sender.close();
   * ```
   */
  sender(options: SenderOptions = {}): ChannelSender {
    const memory = this.memory;
    this.checkUsable();
    const spinMs = spinOption(options);
    if (Atomics.load(memory.words, CH_CLOSED) >= memory.senders) {
      throw new ChannelError(
        'ERR_CHANNEL_CLOSED',
        `channel ${memory.number} has ended: all ${memory.senders} of its sender ends closed (create it with a larger senders option for more)`,
      );
    }
    const me = identity(currentThreadId, this.host.slot);
    const until = performance.now() + RECOVERY_WAIT_MS;
    for (;;) {
      let recovering = false;
      for (let lane = 0; lane < memory.lanes; lane++) {
        const ownerBig = (laneWord(lane, memory.capacity) + L_OWNER) >> 1;
        // Claims a free lane: from here on only this thread writes its slots and tail.
        if (Atomics.compareExchange(memory.bigs, ownerBig, 0n, me) === 0n) return this.openLane(lane, me, spinMs);
      }
      const receiver = Atomics.load(memory.bigs, CH_RECEIVER_BIG);
      for (let lane = 0; lane < memory.lanes; lane++) {
        const ownerBig = (laneWord(lane, memory.capacity) + L_OWNER) >> 1;
        const seen = Atomics.load(memory.bigs, ownerBig);
        if (memory.takeAbandoned(this.host, lane, seen, me)) return this.openLane(lane, me, spinMs);
        // The receiver holds a lane only while it recovers it, and frees it right after.
        if (seen !== 0n && seen === receiver) recovering = true;
      }
      if (!recovering || performance.now() > until) break;
    }
    throw new ChannelError(
      'ERR_CHANNEL_BUSY',
      `channel ${memory.number} has ${memory.lanes} sender lanes and a running thread holds each: close a sender end first, or create the channel with a larger senders option`,
    );
  }

  /**
   * This thread's receiver end; a channel has one at a time.
   * @param options how long to poll before sleeping (see {@link ReceiverOptions}).
   * @throws {ChannelError} `ERR_CHANNEL_BUSY` when a running thread's receiver end is open (close
   *   it first); `ERR_CHANNEL_DESTROYED`.
   * @example
   * ```ts
   * declare const channel: SlabChannel;
   * const receiver = channel.receiver({ spinMs: 0.05 }); // poll a shorter while before sleeping
   * for await (const id of receiver) pool.release(id);
   * ```
   */
  receiver(options: ReceiverOptions = {}): ChannelReceiver {
    const memory = this.memory;
    this.checkUsable();
    const spinMs = spinOption(options);
    const me = identity(currentThreadId, this.host.slot);
    let seen = Atomics.load(memory.bigs, CH_RECEIVER_BIG);
    while (seen === 0n || !memory.isRunning(this.host, seen)) {
      // Claims the receiver role: from here on only this thread reads the lanes and moves heads.
      const now = Atomics.compareExchange(memory.bigs, CH_RECEIVER_BIG, seen, me);
      if (now === seen) return new ChannelReceiver(this.host, memory, me, spinMs);
      seen = now;
    }
    throw new ChannelError(
      'ERR_CHANNEL_BUSY',
      `channel ${memory.number} already has a receiver end open in thread ${identityThread(seen)}: a channel has one receiver; close that one first`,
    );
  }

  /**
   * Ends the channel: frees every slab still queued in it (as a release would) and gives its
   * number back to the pool. Every end of it refuses calls from then on. Call it from one thread,
   * once the ends are done (or their threads are gone); a send that meets it throws and leaves its
   * slab with the sender, or freed.
   * @returns how many queued slabs it freed.
   * @throws {ChannelError} `ERR_CHANNEL_DESTROYED` when this pool object was closed.
   * @example
   * ```ts
   * declare const channel: SlabChannel;
   * declare const stage: { once(event: 'exit', listener: () => void): void };
   * stage.once('exit', () => console.log(`${channel.destroy()} slabs were still queued`));
   * ```
   */
  destroy(): number {
    const memory = this.memory;
    const host = this.host;
    if (host.isClosed())
      throw new ChannelError('ERR_CHANNEL_DESTROYED', 'this pool object was closed; destroy the channel from an open one');
    // The flag first: a send whose exchange comes after the scan below reads it and takes its slab back.
    Atomics.store(memory.words, CH_DESTROYED, 1);
    memory.wakeReceiver();
    for (let lane = 0; lane < memory.lanes; lane++) Atomics.notify(memory.words, laneWord(lane, memory.capacity) + L_HEAD);
    if (STEPS) step('destroy.flagged');
    const table = channelWord(host.layout, memory.number);
    if (Atomics.load(host.words, table) !== memory.key) return 0;
    let freed = 0;
    forEachSlab(host.words, host.layout, (slab) => {
      const meta = metaWord(host.metaTop, slab) + META_STATE;
      const state = Atomics.load(host.words, meta);
      if ((state & STATE_MASK) !== SLAB_QUEUED || ((state >>> OWNER_SHIFT) & OWNER_MASK) !== memory.number) return;
      // Queued here -> leased by this thread at the same generation, then an ordinary release: a
      // destroyer stopped between the two leaves a lease that reclaim takes back.
      const leased = host.leasedBits | (state & GEN_FIELD);
      if (Atomics.compareExchange(host.words, meta, state, leased) !== state) return;
      if (STEPS) step('destroy.taken');
      host.release(((state & GEN_FIELD) >>> 0) * ID_FROM_GEN_FIELD + slab);
      freed++;
    });
    // The number goes back only if it is still this channel's (a repeated destroy finds 0 or another key).
    Atomics.compareExchange(host.words, table, memory.key, 0);
    return freed;
  }

  /**
   * The sender end of lane `lane`, just claimed, unless the stream ended meanwhile: the claim is
   * made before this second look at the count, and a receiver reads the count before the lane
   * owners, so either the receiver sees this end open or this look sees the end of the stream.
   */
  private openLane(lane: number, me: bigint, spinMs: number): ChannelSender {
    const memory = this.memory;
    if (Atomics.load(memory.words, CH_CLOSED) >= memory.senders) {
      Atomics.compareExchange(memory.bigs, (laneWord(lane, memory.capacity) + L_OWNER) >> 1, me, 0n);
      throw new ChannelError(
        'ERR_CHANNEL_CLOSED',
        `channel ${memory.number} has ended: all ${memory.senders} of its sender ends closed`,
      );
    }
    return new ChannelSender(this.host, memory, lane, me, spinMs);
  }

  private checkUsable(): void {
    if (this.host.isClosed())
      throw new ChannelError('ERR_CHANNEL_CLOSED', 'this pool object was closed; open the channel from an open one');
    if (this.memory.destroyed) throw destroyedError(this.memory.number);
  }
}

/** Checks the options of `sender()` and `receiver()` and returns their `spinMs`. */
function spinOption(options: { spinMs?: number }): number {
  if (options === null || typeof options !== 'object') throw invalidType('options', options, 'an object');
  for (const key of Object.keys(options)) if (key !== 'spinMs') throw unknownOption('options', key, ['spinMs']);
  const spinMs = options.spinMs ?? DEFAULT_SPIN_MS;
  if (typeof spinMs !== 'number') throw invalidType('options.spinMs', spinMs, 'a number');
  if (!(spinMs >= 0 && spinMs <= 1000)) throw outOfRange('options.spinMs', spinMs, 'a number of milliseconds from 0 to 1000');
  return spinMs;
}

function destroyedError(number: number, detail = ''): ChannelError {
  return new ChannelError('ERR_CHANNEL_DESTROYED', `channel ${number} was destroyed${detail}`);
}

/** Checks a `{ signal, timeoutMs }` argument and returns its deadline (performance.now() based). */
function deadlineOf(options: ChannelWaitOptions, argument: string): number {
  if (options === null || typeof options !== 'object') throw invalidType(argument, options, 'an object');
  for (const key of Object.keys(options)) {
    if (key !== 'signal' && key !== 'timeoutMs') throw unknownOption(argument, key, ['signal', 'timeoutMs']);
  }
  const { signal, timeoutMs } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidType(`${argument}.signal`, signal, 'an AbortSignal');
  if (timeoutMs !== undefined) {
    if (typeof timeoutMs !== 'number') throw invalidType(`${argument}.timeoutMs`, timeoutMs, 'a number');
    if (!(timeoutMs >= 0)) throw outOfRange(`${argument}.timeoutMs`, timeoutMs, 'a number of milliseconds from 0 to Infinity');
  }
  signal?.throwIfAborted();
  return timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
}

function timeoutError(what: string, timeoutMs: number | undefined): ChannelError {
  return new ChannelError('ERR_CHANNEL_TIMEOUT', `${what} timed out after ${timeoutMs ?? 0} ms`);
}

/** Resolves when `promise` does, rejects with the signal's reason if it aborts first. */
function untilAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * A thread's sending end of a {@link SlabChannel}: one lane of the channel, written only by this
 * thread. A sent slab is the channel's from then on: do not use or release it.
 * @example
 * ```ts
 * declare const channelHandle: ChannelHandle;
 * const sender = pool.openChannel(channelHandle).sender();
 * const id = pool.acquire(4096);
 * pool.bytes(id)[0] = 1;
 * sender.sendBlocking(id);
 * sender.close();
 * ```
 */
export class ChannelSender {
  private readonly words: Int32Array;
  private readonly slots: Float64Array;
  private readonly pool: Int32Array;
  private readonly metaTop: number;
  private readonly maxSlabs: number;
  private readonly leasedBits: number;
  private readonly queuedBits: number;
  private readonly tailIndex: number;
  private readonly headIndex: number;
  private readonly sleepingIndex: number;
  private readonly slotBase: number;
  private readonly mask: number;
  private readonly capacity: number;
  private tail: number;
  /** The receiver's head as last read: refreshed only when the lane looks full. */
  private head: number;
  private open = true;
  private poolOpen = true;

  /** @internal Created by `SlabChannel.sender()`. */
  constructor(
    private readonly host: ChannelHost,
    private readonly memory: ChannelMemory,
    /** The lane this end writes. */
    readonly lane: number,
    private readonly me: bigint,
    private readonly spinMs: number,
  ) {
    this.words = memory.words;
    this.slots = memory.slots;
    this.pool = host.words;
    this.metaTop = host.metaTop;
    this.maxSlabs = host.layout.maxSlabs;
    this.leasedBits = host.leasedBits;
    this.queuedBits = memory.queuedBits;
    const base = laneWord(lane, memory.capacity);
    this.tailIndex = base + L_TAIL;
    this.headIndex = base + L_HEAD;
    this.sleepingIndex = base + L_SENDER_SLEEPING;
    this.slotBase = laneSlots(lane, memory.capacity);
    this.capacity = memory.capacity;
    this.mask = memory.capacity - 1;
    this.tail = Atomics.load(this.words, this.tailIndex);
    this.head = Atomics.load(this.words, this.headIndex);
    host.ends.add(this);
  }

  /**
   * Sends `id` unless the channel is full: the slab becomes the channel's.
   * @returns true if sent; false if this sender's lane is full (nothing changed).
   * @throws {SlabStateError} `id` is not an acquired slab of this pool (stale, released, queued
   *   already, from another pool, or not an id); nothing changed.
   * @throws {ChannelError} `ERR_CHANNEL_CLOSED` (this end was closed), `ERR_CHANNEL_DESTROYED`.
   * @example
   * ```ts
   * declare const sender: ChannelSender;
   * const id = pool.acquire(256);
   * if (!sender.trySend(id)) pool.release(id); // the receiver is behind: drop this one
   * ```
   */
  trySend(id: number): boolean {
    if (((this.tail - this.head) | 0) >= this.capacity && !this.hasRoom()) {
      this.checkSendable(id);
      return false;
    }
    this.push(id);
    this.publish(1);
    return true;
  }

  /**
   * Sends ids from `ids` (from `start` up to `end`) while there is room, publishing them together.
   * @returns how many were sent: the first that many of the range are the channel's now.
   * @throws {SlabStateError} an id is not an acquired slab of this pool; the ids before it were
   *   sent (the error's message names it), it and the ones after were not.
   * @throws {ChannelError} as {@link ChannelSender.trySend}.
   * @example
   * ```ts
   * declare const sender: ChannelSender;
   * const ids = Array.from({ length: 32 }, () => pool.acquire(4096));
   * for (let sent = 0; sent < ids.length; ) sent += sender.trySendBatch(ids, sent);
   * ```
   */
  trySendBatch(ids: ArrayLike<number>, start = 0, end: number = ids.length): number {
    if (!this.open || this.memory.destroyed) this.throwUnusable();
    let sent = 0;
    try {
      for (let i = start; i < end; i++) {
        if (((this.tail - this.head) | 0) >= this.capacity && !this.hasRoom()) break;
        this.push(ids[i]);
        sent++;
      }
    } finally {
      // One publish for the batch, also of the ids before one that was refused.
      if (sent > 0) this.publish(sent);
    }
    // A full lane refuses bad input too, as trySend does.
    if (sent === 0 && end > start) this.checkSendable(ids[start]);
    return sent;
  }

  /**
   * Sends `id`, waiting without polling (Atomics.waitAsync) while this sender's lane is full.
   * @throws {ChannelError} `ERR_CHANNEL_TIMEOUT` when `timeoutMs` passes (nothing changed), and as
   *   {@link ChannelSender.trySend}; with `signal`, its reason when it aborts (nothing changed).
   * @throws {SlabStateError} as {@link ChannelSender.trySend}.
   * @example
   * ```ts
   * declare const sender: ChannelSender;
   * const id = pool.acquire(4096);
   * await sender.sendAsync(id, { timeoutMs: 1000 });
   * ```
   */
  async sendAsync(id: number, options: ChannelWaitOptions = NO_OPTIONS): Promise<void> {
    const deadline = options === NO_OPTIONS ? Number.POSITIVE_INFINITY : deadlineOf(options, 'options');
    if (this.trySend(id) || (this.spinForRoom() && this.trySend(id))) return;
    const keepAlive = setInterval(() => {}, MAX_TIMER_MS);
    try {
      for (;;) {
        const seen = this.sleepUntilRoom();
        if (this.trySend(id)) return;
        if (seen === undefined) continue;
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw timeoutError('sendAsync', options.timeoutMs);
        if (STEPS) step('send.looked');
        const waited = Atomics.waitAsync(this.words, this.headIndex, seen, Math.min(remaining, CHECK_INTERVAL_MS));
        const result = waited.async ? await untilAbort(waited.value, options.signal) : waited.value;
        if (STEPS) step(result === 'timed-out' ? 'send.timed-out' : 'send.woken');
        Atomics.store(this.words, this.sleepingIndex, 0);
        options.signal?.throwIfAborted();
      }
    } finally {
      Atomics.store(this.words, this.sleepingIndex, 0);
      clearInterval(keepAlive);
    }
  }

  /**
   * Sends `id`, blocking the thread (Atomics.wait) while this sender's lane is full; for workers.
   * @throws as {@link ChannelSender.sendAsync} (`ERR_CHANNEL_TIMEOUT` when `timeoutMs` passes).
   * @example
   * ```ts
   * declare const sender: ChannelSender;
   * sender.sendBlocking(pool.acquire(4096)); // in a worker: blocks while the lane is full
   * ```
   */
  sendBlocking(id: number, options: { timeoutMs?: number } = NO_OPTIONS): void {
    const deadline = options === NO_OPTIONS ? Number.POSITIVE_INFINITY : deadlineOf(options, 'options');
    while (!this.trySend(id)) {
      if (this.spinForRoom()) continue;
      const seen = this.sleepUntilRoom();
      if (seen === undefined) continue;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        Atomics.store(this.words, this.sleepingIndex, 0);
        throw timeoutError('sendBlocking', options.timeoutMs);
      }
      if (STEPS) step('send.looked');
      const result = Atomics.wait(this.words, this.headIndex, seen, Math.min(remaining, CHECK_INTERVAL_MS));
      if (STEPS) step(result === 'timed-out' ? 'send.timed-out' : 'send.woken');
      Atomics.store(this.words, this.sleepingIndex, 0);
    }
  }

  /**
   * Closes this end: the channel counts it, and the stream ends once `senders` ends have closed.
   * Sends from this end throw from then on. Calling it again does nothing.
   * @example
   * ```ts
   * declare const sender: ChannelSender;
   * sender.close(); // the receiver's loop ends once it has received what this end sent
   * ```
   */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.host.ends.delete(this);
    if (!this.poolOpen) return;
    // Counted after every send was published (each send stores its tail), so a receiver that
    // reads the count and then the tails sees every slab of this end.
    Atomics.add(this.words, CH_CLOSED, 1);
    if (STEPS) step('sender.counted');
    const ownerBig = (laneWord(this.lane, this.capacity) + L_OWNER) >> 1;
    Atomics.compareExchange(this.memory.bigs, ownerBig, this.me, 0n);
    this.memory.wakeReceiver();
  }

  /** Whether this end was closed (by `close()` or its pool object's). */
  get closed(): boolean {
    return !this.open;
  }

  /** @internal The pool object closed: this end can no longer send; its lane is recovered by the next sender. */
  poolClosed(): void {
    this.poolOpen = false;
    this.open = false;
    // The lane is free for another sender (this end did not close, so the stream is not counted
    // down): another pool object of this thread may get the same slot, and would look like this end.
    Atomics.compareExchange(this.memory.bigs, (laneWord(this.lane, this.capacity) + L_OWNER) >> 1, this.me, 0n);
  }

  /** Rereads the receiver's head; true if the lane has room now. */
  private hasRoom(): boolean {
    // Acquires the receiver's reads of the slots it freed, before this end writes them again.
    this.head = Atomics.load(this.words, this.headIndex);
    return ((this.tail - this.head) | 0) < this.capacity;
  }

  /**
   * Polls the receiver's head for `spinMs`; true as soon as the lane has room. A full lane
   * usually frees within microseconds (the receiver publishes its head every few receives), and a
   * sleeping sender costs the receiver a wake-up call and itself a slow wake (on a VM).
   */
  private spinForRoom(): boolean {
    if (this.spinMs === 0) return false;
    const until = performance.now() + this.spinMs;
    do {
      for (let k = 0; k < 64; k++) if (this.hasRoom()) return true;
    } while (performance.now() < until);
    return false;
  }

  /**
   * Raises this lane's sleeping flag and returns the head to wait on, or undefined if the lane has
   * room after all (the flag is lowered then).
   */
  private sleepUntilRoom(): number | undefined {
    const seen = Atomics.load(this.words, this.headIndex);
    // Raised before the last look: a receiver that frees a slot after it reads the flag and notifies.
    Atomics.store(this.words, this.sleepingIndex, 1);
    if (this.hasRoom() || !this.open || this.memory.destroyed) {
      Atomics.store(this.words, this.sleepingIndex, 0);
      return undefined;
    }
    return seen;
  }

  /** Queues `id` in this lane, which has room: the slab becomes the channel's, then the receiver may see it. */
  private push(id: number): void {
    if (typeof id === 'number' && this.open) {
      const slab = id >>> 0;
      const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
      const meta = this.metaTop - META_WORDS * (slab + 1);
      const mine = this.leasedBits | (generation << GEN_SHIFT);
      if ((id - slab) / ID_GENERATION_UNIT === generation && slab < this.maxSlabs) {
        // The slot first, so a sender stopped right after the exchange left the slab where lane
        // recovery finds it.
        this.slots[this.slotBase + (this.tail & this.mask)] = id;
        if (STEPS) step('send.written');
        // The one read-modify-write that moves the slab: "leased by this thread at this
        // generation" -> "queued in this channel at the same generation". A stale or foreign id
        // finds another value and changes nothing.
        if (Atomics.compareExchange(this.pool, meta, mine, this.queuedBits | (generation << GEN_SHIFT)) === mine) {
          this.tail = (this.tail + 1) | 0;
          if (STEPS) step('send.queued');
          return;
        }
      }
    }
    this.pushSlow(id);
  }

  /** `push` for a slab another thread holds (any holder may send it, as any may release it), or a refused id. */
  private pushSlow(id: number): void {
    if (!this.open || this.memory.destroyed) this.throwUnusable();
    if (this.host.isClosed() || !isIdShaped(id) || slabOfId(id) >= this.maxSlabs) throw this.host.badIdError(id);
    const slab = slabOfId(id);
    const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
    const meta = metaWord(this.metaTop, slab) + META_STATE;
    const leasedAt = (this.leasedBits & STATE_MASK) | (generation << GEN_SHIFT);
    let seen = Atomics.load(this.pool, meta);
    this.slots[this.slotBase + (this.tail & this.mask)] = id;
    while ((seen & ~(OWNER_MASK << OWNER_SHIFT)) === leasedAt) {
      const now = Atomics.compareExchange(this.pool, meta, seen, this.queuedBits | (generation << GEN_SHIFT));
      if (now === seen) {
        this.tail = (this.tail + 1) | 0;
        if (STEPS) step('send.queued');
        return;
      }
      seen = now;
    }
    throw this.host.badIdError(id);
  }

  /**
   * Publishes the last `count` slots queued, wakes a sleeping receiver, and backs out if the
   * channel was destroyed meanwhile.
   */
  private publish(count: number): void {
    // Publishes the slots (and the slabs' new states) to the receiver's Atomics.load of the tail.
    Atomics.store(this.words, this.tailIndex, this.tail);
    if (Atomics.load(this.words, CH_RECEIVER_SLEEPING) !== 0) this.memory.wakeReceiver();
    // destroy() raises its flag before it scans: if it scanned before a slab's exchange, this load
    // sees the flag, and exactly one of the take-back below and its scan gets the slab.
    if (Atomics.load(this.words, CH_DESTROYED) !== 0) this.takeBack(count);
  }

  /** The channel was destroyed during a send: takes the last `count` slabs back as this thread's leases where destroy has not freed them. */
  private takeBack(count: number): never {
    let back = 0;
    for (let k = 1; k <= count; k++) {
      const id = this.slots[this.slotBase + ((this.tail - k) & this.mask)];
      const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
      const meta = metaWord(this.metaTop, slabOfId(id)) + META_STATE;
      const queued = this.queuedBits | (generation << GEN_SHIFT);
      if (Atomics.compareExchange(this.pool, meta, queued, this.leasedBits | (generation << GEN_SHIFT)) === queued) back++;
    }
    throw destroyedError(
      this.memory.number,
      `: of the ${count} slab(s) just sent, ${back} came back as this thread's leases and ${count - back} had left the channel already (received, or freed with it)`,
    );
  }

  /** Throws what a send of `id` would throw, for a full lane: a full lane refuses bad input too. */
  private checkSendable(id: number): void {
    if (!this.open || this.memory.destroyed) this.throwUnusable();
    if (this.host.isClosed() || !isIdShaped(id) || slabOfId(id) >= this.maxSlabs) throw this.host.badIdError(id);
    const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
    const state = Atomics.load(this.pool, metaWord(this.metaTop, slabOfId(id)) + META_STATE);
    if ((state & ~(OWNER_MASK << OWNER_SHIFT)) !== ((this.leasedBits & STATE_MASK) | (generation << GEN_SHIFT))) {
      throw this.host.badIdError(id);
    }
  }

  private throwUnusable(): never {
    if (this.memory.destroyed) throw destroyedError(this.memory.number);
    throw new ChannelError(
      'ERR_CHANNEL_CLOSED',
      this.poolOpen
        ? `this sender end of channel ${this.memory.number} was closed; take another with channel.sender()`
        : 'the pool object of this sender end was closed',
    );
  }
}

/**
 * The receiving end of a {@link SlabChannel}, one per channel: a received id is this thread's
 * lease, as if it had acquired it (release it, or send it on).
 * @example
 * ```ts
 * declare const channelHandle: ChannelHandle;
 * const receiver = pool.openChannel(channelHandle).receiver();
 * for await (const id of receiver) {
 *   console.log(pool.bytes(id)[0]);
 *   pool.release(id);
 * }
 * ```
 */
export class ChannelReceiver implements AsyncIterable<number> {
  private readonly words: Int32Array;
  private readonly slots: Float64Array;
  private readonly pool: Int32Array;
  private readonly metaTop: number;
  private readonly leasedBits: number;
  private readonly queuedBits: number;
  private readonly lanes: number;
  private readonly mask: number;
  /** Per lane: the next position to read, the tail as last read. */
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  private readonly baseOf: Int32Array;
  private readonly slotsOf: Int32Array;
  /** The lane to look at first: lanes take turns so one busy sender cannot starve the rest. */
  private next = 0;
  /** Receives since this end last looked for lanes whose sender stopped. */
  private sinceRecovery = 0;
  private open = true;
  private ended = false;

  /** @internal Created by `SlabChannel.receiver()`. */
  constructor(
    private readonly host: ChannelHost,
    private readonly memory: ChannelMemory,
    private readonly me: bigint,
    private readonly spinMs: number,
  ) {
    this.words = memory.words;
    this.slots = memory.slots;
    this.pool = host.words;
    this.metaTop = host.metaTop;
    this.leasedBits = host.leasedBits;
    this.queuedBits = memory.queuedBits;
    this.lanes = memory.lanes;
    this.mask = memory.capacity - 1;
    this.heads = new Int32Array(memory.lanes);
    this.tails = new Int32Array(memory.lanes);
    this.baseOf = new Int32Array(memory.lanes);
    this.slotsOf = new Int32Array(memory.lanes);
    for (let lane = 0; lane < memory.lanes; lane++) {
      this.baseOf[lane] = laneWord(lane, memory.capacity);
      this.slotsOf[lane] = laneSlots(lane, memory.capacity);
      // Resumes where the last receiver published: entries it took after that are skipped (their exchange fails).
      this.heads[lane] = Atomics.load(this.words, this.baseOf[lane] + L_HEAD);
      this.tails[lane] = this.heads[lane];
    }
    host.ends.add(this);
  }

  /**
   * The next id, now this thread's lease; -1 if none is queued (check {@link ChannelReceiver.done}
   * to tell the end of the stream).
   * @throws {ChannelError} `ERR_CHANNEL_CLOSED` (this end or its pool object was closed),
   *   `ERR_CHANNEL_DESTROYED`.
   * @example
   * ```ts
   * declare const receiver: ChannelReceiver;
   * const id = receiver.tryReceive();
   * if (id !== -1) pool.release(id);
   * else if (receiver.done) console.log('the stream has ended');
   * ```
   */
  tryReceive(): number {
    if (!this.open) this.throwUnusable();
    const lanes = this.lanes;
    for (let k = 0; k < lanes; k++) {
      const lane = this.next;
      const id = this.takeFrom(lane);
      // The lanes take turns, one receive each, so no busy sender starves another.
      this.next = lane + 1 === lanes ? 0 : lane + 1;
      if (id !== -1) {
        if (lanes > 1 && ++this.sinceRecovery >= RECOVER_EVERY) this.recoverNow();
        return id;
      }
    }
    if (this.memory.destroyed) this.throwUnusable();
    return -1;
  }

  /**
   * Receives up to `max` ids into `into` from index `start`, as {@link ChannelReceiver.tryReceive}
   * would one by one. Use a `Float64Array` or a plain array: ids exceed 2^31.
   * @returns how many ids it wrote (0 if none is queued).
   * @throws {ChannelError} as {@link ChannelReceiver.tryReceive}.
   * @example
   * ```ts
   * declare const receiver: ChannelReceiver;
   * const ids = new Float64Array(32);
   * const count = receiver.tryReceiveBatch(ids);
   * for (let i = 0; i < count; i++) pool.release(ids[i]);
   * ```
   */
  tryReceiveBatch(into: { [index: number]: number; length: number }, start = 0, max: number = into.length - start): number {
    if (!this.open) this.throwUnusable();
    max = Math.min(max, into.length - start);
    let count = 0;
    // Lane by lane, each drained up to what is left of `max`, starting where the last call stopped.
    for (let k = 0; k < this.lanes && count < max; k++) {
      const lane = this.next;
      for (let id = this.takeFrom(lane); id !== -1; id = count < max ? this.takeFrom(lane) : -1) into[start + count++] = id;
      if (count < max) this.next = lane + 1 === this.lanes ? 0 : lane + 1;
    }
    if (count === 0 && this.memory.destroyed) this.throwUnusable();
    this.sinceRecovery += count;
    if (this.lanes > 1 && this.sinceRecovery >= RECOVER_EVERY) this.recoverNow();
    return count;
  }

  /**
   * True once the stream has ended: `senders` sender ends have closed and every id they sent has
   * been received. Reading it looks at the channel (and may recover the lane of a sender that
   * stopped).
   */
  get done(): boolean {
    if (this.ended) return true;
    const memory = this.memory;
    if (Atomics.load(this.words, CH_CLOSED) < memory.senders) return false;
    // A sender end still open keeps the stream open (it may have opened before the last close);
    // sender() refuses new ends from here on. Read after the count: see openLane.
    for (let lane = 0; lane < this.lanes; lane++) {
      const owner = Atomics.load(memory.bigs, (this.baseOf[lane] + L_OWNER) >> 1);
      if (owner !== 0n && memory.isRunning(this.host, owner)) return false;
    }
    // Lanes of senders that stopped: what they queued and did not publish is published now.
    memory.recoverAbandoned(this.host, this.me);
    // Every sender end publishes before it closes or is recovered: the tails read now are final.
    for (let lane = 0; lane < this.lanes; lane++) {
      if (Atomics.load(this.words, this.baseOf[lane] + L_TAIL) !== this.heads[lane]) return false;
    }
    this.ended = true;
    return true;
  }

  /**
   * The next id, waiting without polling (after `spinMs` of it) while none is queued; -1 once the
   * stream has ended.
   * @throws {ChannelError} `ERR_CHANNEL_TIMEOUT` when `timeoutMs` passes, and as
   *   {@link ChannelReceiver.tryReceive}; with `signal`, its reason when it aborts.
   * @example
   * ```ts
   * declare const receiver: ChannelReceiver;
   * const id = await receiver.receiveAsync({ timeoutMs: 1000 });
   * if (id !== -1) pool.release(id);
   * ```
   */
  async receiveAsync(options: ChannelWaitOptions = NO_OPTIONS): Promise<number> {
    const deadline = options === NO_OPTIONS ? Number.POSITIVE_INFINITY : deadlineOf(options, 'options');
    let id = this.spin();
    if (id !== -1 || this.done) return id;
    const keepAlive = setInterval(() => {}, MAX_TIMER_MS);
    try {
      for (;;) {
        const seen = this.prepareSleep();
        id = this.tryReceive();
        if (id !== -1 || this.done) return id;
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw timeoutError('receiveAsync', options.timeoutMs);
        if (STEPS) step('receive.looked');
        const waited = Atomics.waitAsync(this.words, CH_SEQUENCE, seen, Math.min(remaining, CHECK_INTERVAL_MS));
        const result = waited.async ? await untilAbort(waited.value, options.signal) : waited.value;
        if (STEPS) step(result === 'timed-out' ? 'receive.timed-out' : 'receive.woken');
        Atomics.store(this.words, CH_RECEIVER_SLEEPING, 0);
        options.signal?.throwIfAborted();
        if (result === 'timed-out') this.memory.recoverAbandoned(this.host, this.me);
      }
    } finally {
      Atomics.store(this.words, CH_RECEIVER_SLEEPING, 0);
      clearInterval(keepAlive);
    }
  }

  /**
   * The next id, blocking the thread (Atomics.wait, after `spinMs` of polling) while none is
   * queued; -1 once the stream has ended. For workers.
   * @throws as {@link ChannelReceiver.receiveAsync} (`ERR_CHANNEL_TIMEOUT` when `timeoutMs` passes).
   * @example
   * ```ts
   * declare const receiver: ChannelReceiver;
   * for (let id = receiver.receiveBlocking(); id !== -1; id = receiver.receiveBlocking()) pool.release(id);
   * ```
   */
  receiveBlocking(options: { timeoutMs?: number } = NO_OPTIONS): number {
    const deadline = options === NO_OPTIONS ? Number.POSITIVE_INFINITY : deadlineOf(options, 'options');
    let id = this.spin();
    if (id !== -1 || this.done) return id;
    try {
      for (;;) {
        const seen = this.prepareSleep();
        id = this.tryReceive();
        if (id !== -1 || this.done) return id;
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw timeoutError('receiveBlocking', options.timeoutMs);
        if (STEPS) step('receive.looked');
        const result = Atomics.wait(this.words, CH_SEQUENCE, seen, Math.min(remaining, CHECK_INTERVAL_MS));
        if (STEPS) step(result === 'timed-out' ? 'receive.timed-out' : 'receive.woken');
        Atomics.store(this.words, CH_RECEIVER_SLEEPING, 0);
        if (result === 'timed-out') this.memory.recoverAbandoned(this.host, this.me);
      }
    } finally {
      Atomics.store(this.words, CH_RECEIVER_SLEEPING, 0);
    }
  }

  /**
   * Receives ids until the stream ends: `for await (const id of receiver)`.
   * @throws {ChannelError} as {@link ChannelReceiver.receiveAsync}.
   * @example
   * ```ts
   * declare const receiver: ChannelReceiver;
   * for await (const id of receiver) pool.release(id);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<number> {
    for (;;) {
      const id = await this.receiveAsync();
      if (id === -1) return;
      yield id;
    }
  }

  /**
   * Gives up the receiver role (another thread may take it). Ids received stay this thread's
   * leases. Calling it again does nothing.
   * @example
   * ```ts
   * declare const receiver: ChannelReceiver;
   * receiver.close(); // another thread may call channel.receiver() now
   * ```
   */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.host.ends.delete(this);
    // Publishes every head, so the next receiver starts past what this one took.
    for (let lane = 0; lane < this.lanes; lane++) this.publishHead(lane);
    Atomics.compareExchange(this.memory.bigs, CH_RECEIVER_BIG, this.me, 0n);
  }

  /** Whether this end was closed (by `close()` or its pool object's). */
  get closed(): boolean {
    return !this.open;
  }

  /** @internal The pool object closed: this end can no longer receive. */
  poolClosed(): void {
    this.open = false;
    // Gives up the receiver role, as close() does: another pool object of this thread may get the
    // same slot, and would look like this end.
    for (let lane = 0; lane < this.lanes; lane++) this.publishHead(lane);
    Atomics.compareExchange(this.memory.bigs, CH_RECEIVER_BIG, this.me, 0n);
  }

  /**
   * Takes the next queued id of lane `lane`, skipping stale entries; -1 if the lane has none.
   */
  private takeFrom(lane: number): number {
    let head = this.heads[lane];
    const base = this.baseOf[lane];
    for (;;) {
      if (head === this.tails[lane]) {
        // Acquires the sender's slot writes (and the slabs' queued states) published with this tail.
        this.tails[lane] = Atomics.load(this.words, base + L_TAIL);
        if (head === this.tails[lane]) return -1;
      }
      const id = this.slots[this.slotsOf[lane] + (head & this.mask)];
      head = (head + 1) | 0;
      this.heads[lane] = head;
      const slab = id >>> 0;
      const generation = (id / ID_GENERATION_UNIT) & GEN_MASK;
      const meta = this.metaTop - META_WORDS * (slab + 1);
      const queued = this.queuedBits | (generation << GEN_SHIFT);
      // The one read-modify-write that delivers: "queued here at this generation" -> "leased by
      // this thread at the same generation". An entry whose slab says anything else is stale.
      const won = Atomics.compareExchange(this.pool, meta, queued, this.leasedBits | (generation << GEN_SHIFT)) === queued;
      if (STEPS) step('receive.taken');
      // Every receive frees its slot at once: room a sender cannot see could keep it waiting on a
      // receiver that waits for it (a pipeline with a cycle).
      this.publishHead(lane);
      if (won) return id;
    }
  }

  /**
   * Publishes what the lanes of stopped senders hold. A busy lane keeps a receiver from ever
   * sleeping (where it looks for them), so it also looks every RECOVER_EVERY receives.
   */
  private recoverNow(): void {
    this.sinceRecovery = 0;
    this.memory.recoverAbandoned(this.host, this.me);
  }

  /** Frees the slots read in lane `lane` for its sender, and wakes the sender if it waits for room. */
  private publishHead(lane: number): void {
    const base = this.baseOf[lane];
    // Releases the receiver's reads of those slots before the sender writes them again.
    Atomics.store(this.words, base + L_HEAD, this.heads[lane]);
    if (Atomics.load(this.words, base + L_SENDER_SLEEPING) !== 0) Atomics.notify(this.words, base + L_HEAD);
  }

  /** Polls for `spinMs`; the id received, or -1. */
  private spin(): number {
    const first = this.tryReceive();
    if (first !== -1) return first;
    const until = performance.now() + this.spinMs;
    for (;;) {
      for (let k = 0; k < 32; k++) {
        const id = this.tryReceive();
        if (id !== -1) return id;
      }
      if (performance.now() >= until) return -1;
    }
  }

  /** Reads the sequence to wait on, then raises the sleeping flag (in that order: see the file's top). */
  private prepareSleep(): number {
    const seen = Atomics.load(this.words, CH_SEQUENCE);
    Atomics.store(this.words, CH_RECEIVER_SLEEPING, 1);
    return seen;
  }

  private throwUnusable(): never {
    if (this.memory.destroyed) throw destroyedError(this.memory.number);
    throw new ChannelError('ERR_CHANNEL_CLOSED', `this receiver end of channel ${this.memory.number} was closed`);
  }
}

/** Checks `pool.channel()`'s options and returns them resolved. */
export function resolveChannelOptions(options: ChannelOptions): { capacity: number; senders: number } {
  if (options === null || typeof options !== 'object') throw invalidType('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (key !== 'capacity' && key !== 'senders') throw unknownOption('options', key, ['capacity', 'senders']);
  }
  const capacity = options.capacity ?? DEFAULT_CHANNEL_CAPACITY;
  const senders = options.senders ?? 1;
  if (typeof capacity !== 'number') throw invalidType('options.capacity', capacity, 'a number');
  if (
    !(Number.isInteger(capacity) && capacity >= MIN_CHANNEL_CAPACITY && capacity <= MAX_CHANNEL_CAPACITY) ||
    (capacity & (capacity - 1)) !== 0
  ) {
    const up = Number.isFinite(capacity) && capacity > 0 ? 2 ** Math.ceil(Math.log2(capacity)) : DEFAULT_CHANNEL_CAPACITY;
    throw outOfRange(
      'options.capacity',
      capacity,
      `a power of two from ${MIN_CHANNEL_CAPACITY} to ${MAX_CHANNEL_CAPACITY}`,
      `use ${Math.min(Math.max(up, MIN_CHANNEL_CAPACITY), MAX_CHANNEL_CAPACITY)}`,
    );
  }
  if (typeof senders !== 'number') throw invalidType('options.senders', senders, 'a number');
  if (!(Number.isInteger(senders) && senders >= 1 && senders <= MAX_CHANNEL_SENDERS)) {
    throw outOfRange('options.senders', senders, `an integer from 1 to ${MAX_CHANNEL_SENDERS}`);
  }
  return { capacity, senders };
}

/**
 * Creates a channel of pool `host`: takes a free channel number, then writes the channel's buffer.
 * A thread stopped in between leaves the number taken and no slab in it (`destroy()` of the lost
 * channel is impossible; the pool has MAX_CHANNELS numbers).
 */
export function createChannel(host: ChannelHost, options: ChannelOptions): SlabChannel {
  const { capacity, senders } = resolveChannelOptions(options);
  const key = 1 + Math.floor(Math.random() * 0x7ffffffe);
  let number = 0;
  for (let n = 1; n <= MAX_CHANNELS && number === 0; n++) {
    // Takes the number for this channel's key: a queued slab names the number, destroy gives it back.
    if (Atomics.compareExchange(host.words, channelWord(host.layout, n), 0, key) === 0) number = n;
  }
  if (number === 0) {
    throw new ChannelError(
      'ERR_TOO_MANY_CHANNELS',
      `the pool has ${MAX_CHANNELS} channels already: destroy() channels that are done before creating more`,
    );
  }
  const buffer = new SharedArrayBuffer(channelBytes(senders, capacity));
  const words = new Int32Array(buffer);
  words[CH_NUMBER] = number;
  words[CH_KEY] = key;
  words[CH_LANES] = senders;
  words[CH_CAPACITY] = capacity;
  words[CH_SENDERS] = senders;
  words[CH_MAGIC] = CHANNEL_MAGIC;
  return new SlabChannel(host, { kind: 'zeropool-channel', buffer });
}

/** Opens a channel from its handle in this thread, checking it belongs to `host`'s pool and exists. */
export function openChannel(host: ChannelHost, handle: ChannelHandle): SlabChannel {
  if (handle === null || typeof handle !== 'object' || (handle as { kind?: unknown }).kind !== 'zeropool-channel') {
    throw invalidType(
      'handle',
      handle,
      "a channel's handle (channel.handle)",
      'pass channel.handle, not the channel or the pool handle',
    );
  }
  const buffer = (handle as { buffer?: unknown }).buffer;
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < channelBytes(1, MIN_CHANNEL_CAPACITY)) {
    throw invalidType('handle.buffer', buffer, "a channel's SharedArrayBuffer");
  }
  const words = new Int32Array(buffer);
  const number = words[CH_NUMBER];
  if (words[CH_MAGIC] !== CHANNEL_MAGIC || !(number >= 1 && number <= MAX_CHANNELS)) {
    throw invalidType('handle.buffer', buffer, "a channel's SharedArrayBuffer");
  }
  if (Atomics.load(host.words, channelWord(host.layout, number)) !== words[CH_KEY]) {
    throw new ChannelError(
      'ERR_CHANNEL_DESTROYED',
      `channel ${number} is not a channel of this pool: it was destroyed, or it belongs to another pool (open it with the pool it was created from)`,
    );
  }
  return new SlabChannel(host, { kind: 'zeropool-channel', buffer });
}
