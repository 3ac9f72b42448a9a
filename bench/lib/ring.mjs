// A single-producer, single-consumer queue of slab ids (safe integers) in a SharedArrayBuffer: how
// the multi-thread benchmarks hand ids from one worker to another without a message per id.
//
// Layout (int32 words): HEAD (next slot the consumer reads) and TAIL (next slot the producer
// writes) on separate 64-byte lines, a SLEEPING flag on a third, then `capacity` float64 slots (an
// id may be up to 2^53 - 1; the slots are plain writes, ordered by the TAIL and HEAD atomics). Positions
// only grow (int32 arithmetic wraps; differences stay right below 2^31 items in flight).
//
// Both sides publish in batches: the producer's `push` writes a slot, and its TAIL store (which
// publishes the slots before it) happens every PUBLISH_EVERY pushes or on `flush()`; the consumer
// likewise publishes HEAD (which frees slots) every PUBLISH_EVERY pops or on `commit()`.
// A consumer with nothing to read may sleep on TAIL after setting SLEEPING; a producer that
// publishes sees the flag and notifies. The flag and TAIL are both accessed with Atomics
// (sequentially consistent), so either the sleeper sees the new TAIL or the producer sees the flag.
// A producer facing a full ring sleeps on HEAD the same way (PRODUCER_SLEEPING).
const HEAD = 0;
const TAIL = 16;
const SLEEPING = 32;
const PRODUCER_SLEEPING = 33;
const SLOTS = 48;
const PUBLISH_EVERY = 16;
// On a VM a sleeping thread is slow to wake (a halted virtual CPU must be woken by the host), so a
// consumer polls a while before it sleeps; callers with no more threads than cores may poll
// longer, oversubscribed ones should poll less.
const DEFAULT_SPIN_MS = 0.2;

export function ringBuffer(capacity) {
  if (capacity & (capacity - 1)) throw new RangeError('ring capacity must be a power of two');
  return new SharedArrayBuffer(SLOTS * 4 + capacity * 8);
}

export class RingProducer {
  constructor(buffer) {
    this.words = new Int32Array(buffer, 0, SLOTS);
    this.slots = new Float64Array(buffer, SLOTS * 4);
    this.capacity = this.slots.length;
    this.mask = this.capacity - 1;
    this.tail = Atomics.load(this.words, TAIL);
    this.published = this.tail;
    this.head = Atomics.load(this.words, HEAD);
  }

  /** True if a push would succeed; refreshes the consumer's position only when the ring looks full. */
  canPush() {
    if (((this.tail - this.head) | 0) < this.capacity) return true;
    // Acquires the consumer's reads of the slots it freed.
    this.head = Atomics.load(this.words, HEAD);
    return ((this.tail - this.head) | 0) < this.capacity;
  }

  /** Appends `value`; the caller checked `canPush()`. */
  push(value) {
    this.slots[this.tail & this.mask] = value;
    this.tail = (this.tail + 1) | 0;
    if (((this.tail - this.published) | 0) >= PUBLISH_EVERY) this.flush();
  }

  /** Waits until a push can succeed or `timeoutMs` passes: polls for `spinMs`, then sleeps on HEAD. */
  waitForSpace(timeoutMs, spinMs = DEFAULT_SPIN_MS) {
    this.flush();
    const until = performance.now() + spinMs;
    do {
      for (let spin = 0; spin < 64; spin++) if (this.canPush()) return;
    } while (performance.now() < until);
    Atomics.store(this.words, PRODUCER_SLEEPING, 1);
    if (!this.canPush()) Atomics.wait(this.words, HEAD, this.head, timeoutMs);
    Atomics.store(this.words, PRODUCER_SLEEPING, 0);
  }

  /** Publishes every pushed value and wakes a sleeping consumer. */
  flush() {
    if (this.tail === this.published) return;
    this.published = this.tail;
    // Publishes the slot writes above to the consumer's Atomics.load of TAIL.
    Atomics.store(this.words, TAIL, this.tail);
    if (Atomics.load(this.words, SLEEPING) !== 0) Atomics.notify(this.words, TAIL, 1);
  }
}

export class RingConsumer {
  constructor(buffer, { spinMs = DEFAULT_SPIN_MS } = {}) {
    this.spinMs = spinMs;
    this.words = new Int32Array(buffer, 0, SLOTS);
    this.slots = new Float64Array(buffer, SLOTS * 4);
    this.capacity = this.slots.length;
    this.mask = this.capacity - 1;
    this.head = Atomics.load(this.words, HEAD);
    this.published = this.head;
    this.tail = Atomics.load(this.words, TAIL);
  }

  /** The next value, or -1 when nothing published is left. */
  pop() {
    if (this.head === this.tail) {
      // Acquires the producer's slot writes published with this TAIL.
      this.tail = Atomics.load(this.words, TAIL);
      if (this.head === this.tail) return -1;
    }
    const value = this.slots[this.head & this.mask];
    this.head = (this.head + 1) | 0;
    if (((this.head - this.published) | 0) >= PUBLISH_EVERY) this.commit();
    return value;
  }

  /** Gives the slots read so far back to the producer. */
  commit() {
    if (this.head === this.published) return;
    this.published = this.head;
    // Frees the slots read so far for the producer, and wakes it if it sleeps on a full ring.
    Atomics.store(this.words, HEAD, this.head);
    if (Atomics.load(this.words, PRODUCER_SLEEPING) !== 0) Atomics.notify(this.words, HEAD, 1);
  }

  /**
   * Waits until the producer publishes, `otherWork()` (optional) returns true, or `timeoutMs`
   * passes. Polls both for `spinMs` first, then sleeps on TAIL: only a publish wakes the sleeper,
   * so a caller whose other work cannot notify it (space freed in a full ring) passes a short
   * timeout.
   */
  waitForData(timeoutMs, otherWork) {
    this.commit();
    const until = performance.now() + this.spinMs;
    do {
      for (let spin = 0; spin < 64; spin++) if (Atomics.load(this.words, TAIL) !== this.tail) return;
      if (otherWork?.()) return;
    } while (performance.now() < until);
    Atomics.store(this.words, SLEEPING, 1);
    if (Atomics.load(this.words, TAIL) === this.tail) Atomics.wait(this.words, TAIL, this.tail, timeoutMs);
    Atomics.store(this.words, SLEEPING, 0);
  }
}
