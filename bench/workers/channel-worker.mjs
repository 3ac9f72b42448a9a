// The workers of bench/channel.bench.mjs. workerData.test picks what to run:
// - 'stream': a producer acquires (or allocates) `size` bytes, writes the first and last byte and
//   hands them over by `method`; the consumer reads both bytes and releases. The producer runs for
//   `ms`; the consumer reports how many it received and over how long. Port methods keep at most
//   `window` items in flight (the consumer counts what it has read in `counter`), as the channel's
//   capacity bounds it.
// - 'raw': numbers go round a loop of two queues (`window` of them in flight): the forward queue
//   from producer to consumer, the return queue back. The channel moves slab ids (each a lease
//   passed on); ringbuf.js moves int32s. `batch` sends and receives up to that many at a time.
// - 'rtt': one id in flight: the pinger sends, the ponger sends it back; the pinger records each
//   round trip.
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { RingBuffer } from 'ringbuf.js';

const data = workerData;
/** Slabs a batched producer hands over at once. */
const BATCH = 32;
const pool = data.handle ? SlabPool.attach(data.handle) : undefined;
const now = () => performance.now();

function stream() {
  const { role, method, size, ms, port, window } = data;
  const counter = new Int32Array(data.counter);
  const last = size - 1;
  if (role === 'producer') {
    const sender = method.startsWith('channel') ? pool.openChannel(data.channel).sender() : undefined;
    const until = now() + ms;
    let sent = 0;
    if (method.endsWith('batch')) {
      // Up to BATCH slabs acquired and written, then handed over together.
      const ids = [];
      while (now() < until) {
        ids.length = 0;
        if (!sender) while (sent - Atomics.load(counter, 0) >= window) Atomics.wait(counter, 1, 0, 0.05);
        for (let i = 0; i < BATCH; i++) {
          const id = pool.tryAcquire(size);
          if (id === -1) break;
          const view = pool.bytes(id);
          view[0] = 1;
          view[last] = 2;
          ids.push(id);
        }
        if (sender) {
          for (let done = sender.trySendBatch(ids); done < ids.length; done += sender.trySendBatch(ids, done)) {
            sender.sendBlocking(ids[done++]);
          }
        } else if (ids.length > 0) port.postMessage(ids);
        sent += ids.length;
      }
      if (sender) sender.close();
      else port.postMessage(null);
      parentPort.postMessage({ sent });
      return;
    }
    while (now() < until) {
      for (let i = 0; i < 64; i++) {
        if (sender) {
          const id = pool.tryAcquire(size);
          if (id === -1) break; // the consumer's releases have not come round yet
          const view = pool.bytes(id);
          view[0] = 1;
          view[last] = 2;
          sender.sendBlocking(id);
        } else {
          // The same bound on items in flight as the channel's capacity.
          while (sent - Atomics.load(counter, 0) >= window) Atomics.wait(counter, 1, 0, 0.05);
          if (method === 'port-ids') {
            const id = pool.tryAcquire(size);
            if (id === -1) break;
            const view = pool.bytes(id);
            view[0] = 1;
            view[last] = 2;
            port.postMessage(id);
          } else if (method === 'port-copy') {
            const view = new Uint8Array(size);
            view[0] = 1;
            view[last] = 2;
            port.postMessage(view);
          } else {
            const buffer = new ArrayBuffer(size);
            const view = new Uint8Array(buffer);
            view[0] = 1;
            view[last] = 2;
            port.postMessage(buffer, [buffer]);
          }
        }
        sent++;
      }
    }
    if (sender) sender.close();
    else port.postMessage(null);
    parentPort.postMessage({ sent });
    return;
  }
  let count = 0;
  let received = 0;
  let sum = 0;
  let started = 0;
  const report = () => parentPort.postMessage({ count, ms: now() - started, ok: sum === 3 * count });
  if (method === 'channel-batch') {
    const receiver = pool.openChannel(data.channel).receiver();
    const ids = new Float64Array(BATCH);
    for (;;) {
      let count = receiver.tryReceiveBatch(ids);
      if (count === 0) {
        // Nothing queued: wait for one, then take what came with it.
        const id = receiver.receiveBlocking();
        if (id === -1) break;
        ids[0] = id;
        count = 1 + receiver.tryReceiveBatch(ids, 1);
      }
      if (received === 0) started = now();
      for (let i = 0; i < count; i++) {
        const view = pool.bytes(ids[i]);
        sum += view[0] + view[last];
        pool.release(ids[i]);
      }
      received += count;
    }
    count = received;
    report();
    return;
  }
  if (method === 'channel') {
    const receiver = pool.openChannel(data.channel).receiver();
    for (let id = receiver.receiveBlocking(); id !== -1; id = receiver.receiveBlocking()) {
      if (count === 0) started = now();
      const view = pool.bytes(id);
      sum += view[0] + view[last];
      pool.release(id);
      count++;
    }
    report();
    return;
  }
  port.on('message', (message) => {
    if (message === null) {
      report();
      port.close();
      return;
    }
    if (count === 0) started = now();
    if (method === 'port-ids-batch') {
      for (const id of message) {
        const view = pool.bytes(id);
        sum += view[0] + view[last];
        pool.release(id);
      }
      count += message.length;
      Atomics.store(counter, 0, count);
      return;
    }
    if (method === 'port-ids') {
      const view = pool.bytes(message);
      sum += view[0] + view[last];
      pool.release(message);
    } else {
      const view = method === 'port-copy' ? message : new Uint8Array(message);
      sum += view[0] + view[last];
    }
    count++;
    Atomics.store(counter, 0, count);
  });
}

function raw() {
  const { role, method, ms, batch, window } = data;
  const producer = role === 'producer';
  let send;
  let receive;
  if (method === 'channel') {
    const forward = pool.openChannel(data.forward);
    const back = pool.openChannel(data.back);
    const sender = (producer ? forward : back).sender();
    const receiver = (producer ? back : forward).receiver();
    const ids = new Float64Array(batch);
    if (batch === 1) {
      send = () => {
        const id = receiver.tryReceive();
        if (id === -1) return 0;
        sender.trySend(id); // room: no more than `window` ids exist
        return 1;
      };
    } else {
      send = () => {
        const count = receiver.tryReceiveBatch(ids, 0, batch);
        sender.trySendBatch(ids, 0, count);
        return count;
      };
    }
    if (producer) {
      const first = Array.from({ length: window }, () => pool.acquire(64));
      sender.trySendBatch(first);
    }
    receive = send;
  } else {
    const forward = new RingBuffer(data.forward, Int32Array);
    const back = new RingBuffer(data.back, Int32Array);
    const out = producer ? forward : back;
    const input = producer ? back : forward;
    const items = new Int32Array(batch);
    send = () => {
      const count = input.pop(items, batch);
      out.push(items, count);
      return count;
    };
    if (producer) out.push(Int32Array.from({ length: window }, (_, i) => i));
    receive = send;
  }
  const stop = new Int32Array(data.stop);
  let moved = 0;
  const started = now();
  if (producer) {
    while (now() - started < ms) for (let i = 0; i < 256; i++) receive();
    Atomics.store(stop, 0, 1);
  } else {
    while (Atomics.load(stop, 0) === 0) for (let i = 0; i < 256; i++) moved += send();
  }
  parentPort.postMessage({ moved, ms: now() - started });
}

async function rtt() {
  const { role, method, rounds, spinMs } = data;
  if (method === 'port') {
    const { port } = data;
    if (role === 'ponger') {
      port.on('message', (message) => {
        if (message === null) port.close();
        else port.postMessage(message);
      });
      return;
    }
    const times = [];
    const id = pool.acquire(64);
    for (let i = 0; i < rounds; i++) {
      const t0 = now();
      const back = new Promise((resolve) => port.once('message', resolve));
      port.postMessage(id);
      await back;
      times.push(now() - t0);
    }
    port.postMessage(null);
    port.close();
    pool.release(id);
    parentPort.postMessage({ times });
    return;
  }
  const forward = pool.openChannel(data.forward);
  const back = pool.openChannel(data.back);
  if (role === 'ponger') {
    const receiver = forward.receiver({ spinMs });
    const sender = back.sender();
    for (let id = receiver.receiveBlocking(); id !== -1; id = receiver.receiveBlocking()) sender.trySend(id);
    sender.close();
    return;
  }
  const sender = forward.sender();
  const receiver = back.receiver({ spinMs });
  const times = [];
  let id = pool.acquire(64);
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    sender.trySend(id);
    id = receiver.receiveBlocking();
    times.push(now() - t0);
  }
  pool.release(id);
  sender.close();
  parentPort.postMessage({ times });
}

if (data.test === 'stream') stream();
else if (data.test === 'raw') raw();
else await rtt();
