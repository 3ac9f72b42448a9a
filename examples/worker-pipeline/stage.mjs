// One stage of the pipeline, in its own worker thread. Slab ids arrive through the `input`
// channel, each the stage's own slab once received (it comes back if this thread dies); the stage
// works on its bytes in place and sends the id on through `output` — or, in the sink, releases it.
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const { role, header, key, rounds } = workerData;
const pool = SlabPool.attach(workerData.pool);
const receiver = pool.openChannel(workerData.input).receiver();
const sender = workerData.output ? pool.openChannel(workerData.output).sender() : undefined;
const total = createHash('sha256');
let chunks = 0;
// `for await` keeps the event loop turning between chunks: if the reader waits in acquireAsync
// while the sink is idle, the pool asks the sink (through its event loop) for its cached slabs.
for await (const id of receiver) {
  const slab = pool.bytes(id);
  const length = new DataView(slab.buffer, slab.byteOffset, header).getUint32(0, true);
  const bytes = slab.subarray(header, header + length);
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
    pool.release(id);
    continue;
  }
  await sender.sendAsync(id); // waits while the next stage's channel is full
}
// The stream ended: every chunk came through. Pass the end on, or report.
if (sender) sender.close();
else {
  pool.flush();
  parentPort.postMessage({ chunks, digest: total.digest('hex') });
}
pool.close();
