// Worker for bench/xmalloc.bench.mjs (mimalloc-bench's xmalloc-test): producers acquire slabs of
// random sizes, stamp them and hand them to their consumer, which checks the stamp and releases
// them, so every release happens on another thread than the acquire. Three transports:
// - ring: slab ids through a shared-memory ring (lib/ring.mjs);
// - port-id: slab ids, one postMessage each;
// - port-transfer: no pool; a fresh ArrayBuffer per message, transferred (what a user would write
//   without one).
// MessagePort producers keep at most WINDOW messages in flight: the consumer publishes its count
// in shared memory.
import { workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { RingConsumer, RingProducer } from '../lib/ring.mjs';
import { logUniformSizes } from '../lib/sizes.mjs';
import { clock, serveTeam } from '../lib/team.mjs';

const { role, transport, seed, port, spinMs } = workerData;
const WINDOW = 256;
const SIZES = logUniformSizes(seed, 4096, 64, 16 * 1024);
const flow = new Int32Array(workerData.flow); // [0]: messages the consumer has handled
let pool;
let ring;
let sent = 0;
let handled = 0;
let badStamps = 0;

// A stamp in the first two and the last byte of the memory handed over (a slab's whole capacity).
const stamp = (view, n) => {
  view[0] = n;
  view[1] = n ^ 0xff;
  view[view.length - 1] = n;
};
const check = (view) => {
  if (view[1] !== (view[0] ^ 0xff) || view[view.length - 1] !== view[0]) badStamps++;
};

function waitForWindow() {
  for (;;) {
    const seen = Atomics.load(flow, 0);
    if (sent - seen < WINDOW) return;
    Atomics.wait(flow, 0, seen, 1);
  }
}

function produce(ops) {
  const start = clock();
  for (let i = 0; i < ops; i++) {
    const size = SIZES[i & 4095];
    if (transport === 'ring') {
      while (!ring.canPush()) ring.waitForSpace(1, spinMs);
      const id = pool.acquire(size);
      stamp(pool.bytes(id), i);
      ring.push(id);
    } else if (transport === 'port-id') {
      waitForWindow();
      const id = pool.acquire(size);
      stamp(pool.bytes(id), i);
      port.postMessage(id);
      sent++;
    } else {
      waitForWindow();
      const buffer = new ArrayBuffer(size);
      stamp(new Uint8Array(buffer), i);
      port.postMessage(buffer, [buffer]);
      sent++;
    }
  }
  if (ring) ring.flush();
  return { start, end: clock(), ops };
}

function consumeRing(ops) {
  const start = clock();
  for (let n = 0; n < ops; ) {
    const id = ring.pop();
    if (id === -1) {
      ring.waitForData(1);
      continue;
    }
    check(pool.bytes(id));
    pool.release(id);
    n++;
  }
  ring.commit();
  return { start, end: clock(), ops, extra: [badStamps] };
}

let onBatchDone = null;
let target = 0;
if (role === 'consumer' && transport !== 'ring') {
  port.on('message', (message) => {
    if (transport === 'port-id') {
      check(pool.bytes(message));
      pool.release(message);
    } else {
      check(new Uint8Array(message));
    }
    handled++;
    // Publishes progress to the producer's window; wakes it now and then (it also re-checks every ms).
    Atomics.store(flow, 0, handled);
    if ((handled & 63) === 0) Atomics.notify(flow, 0);
    if (handled === target && onBatchDone) onBatchDone();
  });
}

function consumePort(ops) {
  const start = clock();
  target = handled + ops;
  if (handled === target) return { start, end: clock(), ops, extra: [badStamps] };
  return new Promise((resolve) => {
    onBatchDone = () => {
      onBatchDone = null;
      Atomics.notify(flow, 0);
      resolve({ start, end: clock(), ops, extra: [badStamps] });
    };
  });
}

await serveTeam({
  workerData,
  setup: () => {
    pool = SlabPool.attach(workerData.pool);
    if (transport === 'ring')
      ring = role === 'producer' ? new RingProducer(workerData.ring) : new RingConsumer(workerData.ring, { spinMs });
  },
  batch: ([ops]) => (role === 'producer' ? produce(ops) : transport === 'ring' ? consumeRing(ops) : consumePort(ops)),
  teardown: () => {
    port?.close();
    pool.close();
  },
});
