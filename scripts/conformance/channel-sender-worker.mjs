// A sender of the conformance program's channel check: sends `count` slabs into the channel, each
// stamped with its index and sequence number (sendAsync for even indexes, sendBlocking for odd),
// then closes its end. With `count` 0 it sends until it is terminated, at whatever point that falls.
import { setImmediate } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';

const { handle, channel, index, count, sizes } = workerData;
const pool = SlabPool.attach(handle);
const sender = pool.openChannel(channel).sender();
const stamp = (sequence) => {
  const id = pool.acquire(sizes[sequence % sizes.length]);
  const view = new DataView(pool.bytes(id).buffer, pool.bytes(id).byteOffset, 8);
  view.setUint32(0, index, true);
  view.setUint32(4, sequence, true);
  return id;
};
if (count === 0) {
  parentPort.postMessage({ type: 'ready' });
  let sequence = 0;
  const more = () => {
    for (let i = 0; i < 16; i++) {
      const id = stamp(sequence);
      if (sender.trySend(id)) sequence++;
      else pool.release(id);
    }
    setImmediate(more);
  };
  more();
} else {
  for (let sequence = 0; sequence < count; sequence++) {
    if (index % 2 === 0) await sender.sendAsync(stamp(sequence), { timeoutMs: 10_000 });
    else sender.sendBlocking(stamp(sequence), { timeoutMs: 10_000 });
  }
  sender.close();
  pool.close();
  parentPort.postMessage({ type: 'done' });
}
