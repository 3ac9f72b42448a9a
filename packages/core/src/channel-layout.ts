/**
 * The memory map of a channel: its own `SharedArrayBuffer`, beside the pool's arena, which every
 * end of the channel maps. Like layout.ts it imports nothing, so the build inlines its constants.
 *
 * ```text
 *  byte 0     128        256         384        512
 *  ┌─────────┬──────────┬───────────┬──────────┬──────────────────────────── lane 0 ─┬─ lane 1 ..
 *  │ shape   │ status   │ receiver  │ receiver │ tail line │ head line │ slots:       │
 *  │ (once)  │ closes,  │ wake-up   │ identity │ 128 B     │ 128 B     │ capacity ×   │
 *  │         │ destroyed│ sequence  │          │           │           │ float64 ids  │
 *  └─────────┴──────────┴───────────┴──────────┴───────────┴───────────┴──────────────┘
 * ```
 *
 * A channel has one lane per sender end that may be open at once (`senders`): a single-producer,
 * single-consumer ring of slab ids. A lane's sender writes its slots and its tail; the receiver
 * reads the slots and writes the head. Positions are int32s that only grow (wrapping with `| 0`;
 * differences stay far below 2^31), slot `position & (capacity - 1)` holds the id at a position.
 *
 * What a slot says is not trusted: the slab's state word is. A sender moves the slab's state from
 * leased to `SLAB_QUEUED` (owner: the channel's number) with one compare-exchange, and the receiver
 * moves it from queued to leased by itself with another; an entry whose exchange fails is stale
 * (a dead receiver took it, or a recovered lane published a slot twice) and is skipped. So a
 * queued slab is delivered at most once whatever the slots say, and at least once because the
 * sender writes the slot before its exchange and publishes the tail after it: a sender stopped
 * between the two leaves a queued slab in a written, unpublished slot, which lane recovery
 * publishes (see channel.ts `recoverLane`).
 *
 * Identities (the receiver's, a lane's owner) are BigInt64 words: `threadId + 1` in the low half,
 * the pool thread slot in the high half; 0 when nobody holds it. An identity whose slot's claim
 * word no longer names that thread belongs to a thread that closed its pool object or died.
 */

/** "ZPC1" in ASCII, little-endian. */
export const CHANNEL_MAGIC = 0x3143505a;
export const CHANNEL_LINE_BYTES = 128;

// Shape line, int32 indexes: written at creation, before the buffer is shared.
export const CH_MAGIC = 0;
/** The channel's number in its pool's channel table (1 to MAX_CHANNELS). */
export const CH_NUMBER = 1;
/** The key the pool's channel table holds for this channel while it exists. */
export const CH_KEY = 2;
export const CH_LANES = 3;
export const CH_CAPACITY = 4;
/** How many sender ends must close for the stream to end (`senders`). */
export const CH_SENDERS = 5;

// Status line.
/** Sender ends closed so far; the stream ends when it reaches `CH_SENDERS` and the lanes are drained. */
export const CH_CLOSED = 32;
/** 1 once `destroy()` began: no end sends or receives again. */
export const CH_DESTROYED = 33;

// Receiver wake-up line.
/** Bumped by a sender that finds the receiver asleep (and by close and destroy); the receiver waits on it. */
export const CH_SEQUENCE = 64;
/** 1 while the receiver is about to sleep or sleeping on `CH_SEQUENCE`. */
export const CH_RECEIVER_SLEEPING = 65;

/** BigInt64 index of the receiver's identity word (byte 384). */
export const CH_RECEIVER_BIG = 48;

/** Byte offset of lane 0. */
export const LANES_BYTE = 4 * CHANNEL_LINE_BYTES;
/** A lane's tail line and head line, before its slots. */
export const LANE_HEADER_BYTES = 2 * CHANNEL_LINE_BYTES;

// Lane tail line, int32 offsets from the lane's first word (written by the lane's sender).
export const L_TAIL = 0;
/** Int32 offset of the lane owner's identity (a BigInt64 at byte 8 of the lane). */
export const L_OWNER = 2;
// Lane head line (written by the receiver; the sleeping flag, rarely, by the sender).
export const L_HEAD = CHANNEL_LINE_BYTES / 4;
/**
 * 1 while the lane's sender is about to sleep or sleeping on `L_HEAD` for room. On the head line:
 * the receiver reads it after every receive, and its own line is the one it has at hand.
 */
export const L_SENDER_SLEEPING = L_HEAD + 1;

export const MIN_CHANNEL_CAPACITY = 2;
export const MAX_CHANNEL_CAPACITY = 2 ** 20;
export const MAX_CHANNEL_SENDERS = 64;
export const DEFAULT_CHANNEL_CAPACITY = 1024;

/** Bytes of one lane of `capacity` slots. */
export const laneBytes = (capacity: number): number => LANE_HEADER_BYTES + capacity * 8;

/** Bytes of a channel buffer. */
export const channelBytes = (lanes: number, capacity: number): number => LANES_BYTE + lanes * laneBytes(capacity);

/** Int32 index of lane `lane`'s first word. */
export const laneWord = (lane: number, capacity: number): number => (LANES_BYTE + lane * laneBytes(capacity)) >> 2;

/** Float64 index of lane `lane`'s slot 0. */
export const laneSlots = (lane: number, capacity: number): number =>
  (LANES_BYTE + lane * laneBytes(capacity) + LANE_HEADER_BYTES) >> 3;

/** An identity word: `threadId + 1` in the low half, the thread slot in the high half. */
export const identity = (threadId: number, slot: number): bigint => BigInt(threadId + 1) | (BigInt(slot) << 32n);
export const identityThread = (id: bigint): number => Number(id & 0xffffffffn) - 1;
export const identitySlot = (id: bigint): number => Number(id >> 32n);
