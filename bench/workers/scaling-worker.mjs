// Worker for bench/scaling.bench.mjs. Attaches to the pool once, then runs batches of `ops`
// slab lifecycles (acquire, write the first and last byte, read them back, release):
// - local: each slab released by the worker that acquired it;
// - cross: each slab handed through a shared-memory ring to the next worker (index + 1, wrapping),
//   which reads it and releases it; a worker alone hands slabs to itself through the same ring;
// - handoff: the cross pattern without a pool: the same ring carries indexes of preallocated
//   4 KiB buffers (the worker's own region of one SharedArrayBuffer); the producer writes the
//   first and last byte, the receiver reads them. The cost of moving ids and bytes between
//   threads that any pool pays: the floor for the cross figures.
// - claim: handoff plus the least a pool's ownership check costs: each buffer has a state word (3
//   words apart, as the pool's slab metadata is); the producer marks it taken, with a plain store
//   as the pool's acquire does, and the receiver gives it back with one Atomics.compareExchange
//   that expects "taken", as the pool's release does. No caches, shards or locks.
// - pingpong: no pool and no slabs: two workers take turns incrementing one shared word, so a
//   round trip is two one-way hand-offs of a cache line between cores: what a dependent cache
//   miss on a line the other core wrote costs (batched hand-offs overlap theirs).
// Cross and ring workers produce up to PRODUCE_BATCH ids, then drain what arrived, and wait on
// their inbox only when they can do neither.
import { workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { RingConsumer, RingProducer } from '../lib/ring.mjs';
import { clock, serveTeam } from '../lib/team.mjs';

const { size, mode, spinMs } = workerData;
const last = size - 1;
const PRODUCE_BATCH = 32;
let pool;
let out;
let inbox;
let sink = 0;

function localBatch(ops) {
  const start = clock();
  for (let i = 0; i < ops; i++) {
    const id = pool.acquire(size);
    const view = pool.bytes(id);
    view[0] = i;
    view[last] = i;
    sink += view[0] ^ view[last];
    pool.release(id);
  }
  return { start, end: clock(), ops };
}

function crossBatch(ops) {
  const start = clock();
  let acquired = 0;
  let released = 0;
  let waits = 0;
  while (released < ops || acquired < ops) {
    let produced = 0;
    while (acquired < ops && produced < PRODUCE_BATCH && out.canPush()) {
      const id = pool.acquire(size);
      const view = pool.bytes(id);
      view[0] = acquired;
      view[last] = acquired;
      out.push(id);
      acquired++;
      produced++;
    }
    out.flush();
    let consumed = 0;
    for (let id = inbox.pop(); id !== -1; id = inbox.pop()) {
      const view = pool.bytes(id);
      sink += view[0] ^ view[last];
      pool.release(id);
      released++;
      consumed++;
    }
    inbox.commit();
    if (produced === 0 && consumed === 0) {
      waits++;
      waitForWork(acquired < ops);
    }
  }
  return { start, end: clock(), ops, extra: [waits] };
}

/**
 * Nothing arrived and nothing could be sent. If there is more to send, the outgoing ring is full:
 * wait for the inbox or for space, with a short sleep (freeing space does not wake a sleeper).
 */
function waitForWork(moreToSend) {
  if (moreToSend) inbox.waitForData(0.05, () => out.canPush());
  else inbox.waitForData(1);
}

let scratch;
let regionStart = 0;
let regionMask = 0;
/** claim mode: one state word per buffer, STATE_STRIDE words apart (the pool's META_WORDS). */
let states;
const STATE_STRIDE = 3;

/**
 * handoff and claim: the same loop, so that the two differ only by claim's state-word operations
 * (a plain store when a buffer is taken, a compare-exchange when it is given back).
 */
function ringBatch(ops) {
  const claim = states !== undefined;
  const start = clock();
  let sent = 0;
  let received = 0;
  let waits = 0;
  while (received < ops || sent < ops) {
    let produced = 0;
    while (sent < ops && produced < PRODUCE_BATCH && out.canPush()) {
      const buffer = regionStart + (sent & regionMask);
      if (claim) states[buffer * STATE_STRIDE] = 1; // taken (the pool's acquire: a plain store)
      const offset = buffer * size;
      scratch[offset] = sent;
      scratch[offset + last] = sent;
      out.push(buffer);
      sent++;
      produced++;
    }
    out.flush();
    let consumed = 0;
    for (let buffer = inbox.pop(); buffer !== -1; buffer = inbox.pop()) {
      const offset = buffer * size;
      sink += scratch[offset] ^ scratch[offset + last];
      // Given back (the pool's release): only if it still says taken.
      if (claim && Atomics.compareExchange(states, buffer * STATE_STRIDE, 1, 0) !== 1)
        throw new Error(`buffer ${buffer} was not taken`);
      received++;
      consumed++;
    }
    inbox.commit();
    if (produced === 0 && consumed === 0) {
      waits++;
      waitForWork(sent < ops);
    }
  }
  return { start, end: clock(), ops, extra: [waits] };
}

/** pingpong: two workers take turns on one shared word (worker `me` waits for an even or odd value). */
let flag;
let turnBase = 0;
function pingPongBatch(ops) {
  const me = workerData.team.index;
  const start = clock();
  for (let i = 0; i < ops; i++) {
    const mine = turnBase + 2 * i + me;
    while (Atomics.load(flag, 0) !== mine);
    Atomics.store(flag, 0, mine + 1);
  }
  turnBase += 2 * ops;
  return { start, end: clock(), ops };
}

const batches = { local: localBatch, cross: crossBatch, handoff: ringBatch, claim: ringBatch, pingpong: pingPongBatch };

await serveTeam({
  workerData,
  setup: () => {
    if (mode === 'pingpong') {
      flag = new Int32Array(workerData.flag);
      return;
    }
    pool = SlabPool.attach(workerData.pool);
    if (mode !== 'local') {
      out = new RingProducer(workerData.ringOut);
      inbox = new RingConsumer(workerData.ringIn, { spinMs });
    }
    if (mode === 'handoff' || mode === 'claim') {
      scratch = new Uint8Array(workerData.scratch);
      if (mode === 'claim') states = new Int32Array(workerData.states);
      regionStart = workerData.team.index * workerData.regionBuffers;
      regionMask = workerData.regionBuffers - 1;
    }
  },
  batch: ([ops]) => batches[mode](ops),
  teardown: () => {
    if (sink === -1) console.log(sink);
    pool?.close();
  },
});
