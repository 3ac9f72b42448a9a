// One stage of the pipeline, in its own worker thread. Slabs arrive by id on `input`, the stage
// adopts each (so the slab comes back if this thread dies), works on its bytes in place, and
// passes the id on to `output` — or, in the sink, releases it.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const { handle, role, input, output, key, rounds } = workerData;
const pool = SlabPool.attach(handle);
const total = createHash('sha256');
let chunks = 0;
input.on('message', (message) => {
  if (message === 'end') {
    if (role === 'sink') {
      pool.flush();
      parentPort.postMessage({ chunks, digest: total.digest('hex') });
    } else {
      output.postMessage('end');
    }
    pool.close();
    input.close();
    return;
  }
  const { id, length } = message;
  pool.adopt(id);
  const bytes = pool.bytes(id).subarray(0, length);
  if (role === 'xor') {
    // A cheap transform: scramble every byte with a key.
    for (let i = 0; i < bytes.length; i++) bytes[i] ^= key;
  } else if (role === 'mix') {
    // A deliberately slow stage (several hash rounds per chunk): the reader must wait for it.
    let digest = bytes;
    for (let r = 0; r < rounds; r++) digest = createHash('sha256').update(digest).digest();
    bytes.set(digest.subarray(0, Math.min(32, bytes.length)));
  } else {
    total.update(bytes);
    chunks++;
    // Into this thread's cache. If the reader waits in acquireAsync while this thread is idle, the
    // pool asks this thread (through its event loop) to hand its cached slabs back.
    pool.release(id);
    return;
  }
  output.postMessage(message);
});
