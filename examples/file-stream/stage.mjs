// One stage of examples/file-stream, in its own worker thread. Every slab starts with an 8-byte
// header: the chunk's number in the file and its length.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const HEADER = 8;
const { role, chunk } = workerData;
const pool = SlabPool.attach(workerData.pool);
const headerOf = (id) => new DataView(pool.bytes(id).buffer, pool.bytes(id).byteOffset, HEADER);

if (role === 'read') {
  // Fills slabs from the file and deals them to the transformers in turn.
  const senders = workerData.outputs.map((handle) => pool.openChannel(handle).sender());
  const fd = openSync(workerData.file, 'r');
  for (let index = 0; ; index++) {
    const id = await pool.acquireAsync(chunk); // waits while every slab is in flight
    const length = readSync(fd, pool.bytes(id), HEADER, chunk - HEADER, index * (chunk - HEADER));
    if (length === 0) {
      pool.release(id);
      break;
    }
    headerOf(id).setUint32(0, index, true);
    headerOf(id).setUint32(4, length, true);
    await senders[index % senders.length].sendAsync(id);
  }
  closeSync(fd);
  for (const sender of senders) sender.close();
} else if (role === 'transform') {
  // Upper-cases ASCII letters in place and passes the slab on.
  const receiver = pool.openChannel(workerData.input).receiver();
  const sender = pool.openChannel(workerData.output).sender();
  for await (const id of receiver) {
    const bytes = pool.bytes(id).subarray(HEADER, HEADER + headerOf(id).getUint32(4, true));
    for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x61 && bytes[i] <= 0x7a) bytes[i] -= 0x20;
    await sender.sendAsync(id);
  }
  sender.close(); // the hasher's stream ends once both transformers have closed theirs
} else {
  // Hashes the chunks in file order: a chunk that comes early waits (as a slab this thread holds).
  const receiver = pool.openChannel(workerData.input).receiver();
  const hash = createHash('sha256');
  const early = new Map();
  let next = 0;
  const consume = (id) => {
    hash.update(pool.bytes(id).subarray(HEADER, HEADER + headerOf(id).getUint32(4, true)));
    pool.release(id);
    next++;
  };
  for await (const id of receiver) {
    early.set(headerOf(id).getUint32(0, true), id);
    while (early.has(next)) {
      const ready = early.get(next);
      early.delete(next);
      consume(ready);
    }
  }
  pool.flush();
  parentPort.postMessage({ chunks: next, digest: hash.digest('hex') });
}
pool.close();
