// A worker of bench/runtimes/probe.mjs's hand-off: the producer acquires 4 KiB slabs, writes the
// first and last byte and sends their ids; the consumer reads both bytes and releases each slab.
// Ids travel through a shared-memory ring or by MessagePort. The producer runs for `ms`, then
// sends -2; the consumer reports how many slabs it received and over how long.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';
import { RingConsumer, RingProducer } from '../lib/ring.mjs';

const { role, via, handle, ring, port, ms } = workerData;
const SIZE = 4096;
const pool = SlabPool.attach(handle);

if (role === 'producer') {
  const out = via === 'ring' ? new RingProducer(ring) : undefined;
  const send = (id) => {
    if (out === undefined) return port.postMessage(id);
    while (!out.canPush()) out.waitForSpace(100);
    out.push(id);
  };
  const until = performance.now() + ms;
  let sent = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 256; i++) {
      const id = pool.tryAcquire(SIZE);
      if (id === -1) break; // the consumer is behind: let it catch up
      const view = pool.bytes(id);
      view[0] = 1;
      view[SIZE - 1] = 2;
      send(id);
      sent++;
    }
    out?.flush();
  }
  send(-2);
  out?.flush();
  parentPort.postMessage({ sent });
} else {
  const input = via === 'ring' ? new RingConsumer(ring) : undefined;
  // -1: nothing arrived yet; -2: the producer is done (ids are never negative).
  const next = () => (input !== undefined ? input.pop() : (receiveMessageOnPort(port)?.message ?? -1));
  let count = 0;
  let sum = 0;
  let started = 0;
  for (;;) {
    const id = next();
    if (id === -1) {
      input?.waitForData(10);
      continue;
    }
    if (id === -2) break;
    if (count === 0) started = performance.now();
    const view = pool.bytes(id);
    sum += view[0] + view[SIZE - 1];
    pool.release(id);
    count++;
  }
  parentPort.postMessage({ count, ms: performance.now() - started, ok: sum === 3 * count });
}
pool.close();
