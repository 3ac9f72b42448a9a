// Takes every slab of the largest class, says how many, then releases one when asked (no flush:
// the release itself must wake the main thread's acquireAsync) and the rest when told to finish.
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';

const { handle, size } = workerData;
const pool = SlabPool.attach(handle);
const held = [];
for (let id = pool.tryAcquire(size); id !== -1; id = pool.tryAcquire(size)) held.push(id);
parentPort.postMessage({ type: 'ready', held: held.length });
parentPort.on('message', function onMessage(message) {
  if (message.type === 'release-one') {
    pool.release(held.pop());
    parentPort.postMessage({ type: 'released' });
  } else if (message.type === 'finish') {
    for (const id of held.splice(0)) pool.release(id);
    pool.close();
    parentPort.postMessage({ type: 'done' });
    // Nothing left to listen for: the worker exits on its own (Deno's parentPort has no close()).
    parentPort.off('message', onMessage);
  }
});
