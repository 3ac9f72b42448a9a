// A CPU-bound pipeline of plain worker_threads with @zeropool/core imported directly: the main
// thread reads a file into slabs, two transform stages change each slab in place, and a sink
// hashes and releases it. Stages are connected by channels: slab ids move through shared memory,
// no message per chunk. The pool is small on purpose and the second stage is slow: the reader
// waits in acquireAsync when every slab is in flight, and a stage waits in its channel when the
// next stage is behind, so memory stays bounded by the pool. The result is checked against a
// single-thread run.
//
//   node examples/worker-pipeline/main.mjs [file]        (default: the node binary itself)
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const CHUNK = 64 * 1024;
// Each slab starts with the length of the chunk it carries (the last one is short): only ids travel.
const HEADER = 8;
const DATA = CHUNK - HEADER;
const KEY = 0x5a;
const ROUNDS = 40;
const file = process.argv[2] ?? process.execPath;
const size = fstatSync(openSync(file, 'r')).size;
// Room for about 24 chunks of 64 KiB (1 MiB pages): far less than the file.
const pool = new SlabPool({ arenaBytes: 2 * 1024 * 1024, maxSlabSize: 1024 * 1024, shards: 2 });
// A channel between each two stages; 8 slots each, so slabs wait in the pool, not in channels.
const toXor = pool.channel({ capacity: 8 });
const xorToMix = pool.channel({ capacity: 8 });
const mixToSink = pool.channel({ capacity: 8 });

const stageFile = new URL('./stage.mjs', import.meta.url);
const start = (role, input, output) => {
  const worker = new Worker(stageFile, {
    workerData: {
      pool: pool.handle,
      role,
      input: input.handle,
      output: output?.handle,
      header: HEADER,
      key: KEY,
      rounds: ROUNDS,
    },
  });
  pool.watch(worker); // if a stage dies, the slabs it received come back
  worker.on('error', (error) => {
    console.error(`${role} stage failed:`, error);
    process.exitCode = 1;
  });
  return worker;
};
start('xor', toXor, xorToMix);
start('mix', xorToMix, mixToSink);
const sink = start('sink', mixToSink);
const finished = new Promise((resolve) => sink.once('message', resolve));

console.log(
  `pipeline over ${file} (${(size / 2 ** 20).toFixed(1)} MiB) in ${CHUNK / 1024} KiB slabs: read -> xor -> mix (slow) -> sink, connected by channels`,
);
const started = performance.now();
const fd = openSync(file, 'r');
const sender = toXor.sender();
let waits = 0;
let maxLeased = 0;
for (let position = 0; position < size; position += DATA) {
  const length = Math.min(DATA, size - position);
  let id = pool.tryAcquire(CHUNK);
  if (id === -1) {
    // Every slab is somewhere in the pipeline: wait for the sink to release one.
    waits++;
    id = await pool.acquireAsync(CHUNK);
  }
  const bytes = pool.bytes(id);
  new DataView(bytes.buffer, bytes.byteOffset, HEADER).setUint32(0, length, true);
  readSync(fd, bytes, HEADER, length, position);
  await sender.sendAsync(id); // waits while the xor stage's channel is full
  if ((position / DATA) % 64 === 0) maxLeased = Math.max(maxLeased, inFlight());
}
closeSync(fd);
sender.close(); // the xor stage's `for await` ends after the last chunk
const result = await finished;
const seconds = (performance.now() - started) / 1000;

const expected = singleThread(file);
pool.flush();
const leftInChannels = toXor.destroy() + xorToMix.destroy() + mixToSink.destroy();
const stats = pool.stats();
const cls = stats.classes.find((c) => c.slabSize === CHUNK);
console.log(`${result.chunks} chunks in ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(0)} MB/s)`);
console.log(
  `reader waited for a free slab ${waits} times; at most ${maxLeased} slabs leased or queued at once (sampled), ${cls.slabs} slabs of ${CHUNK} bytes in the pool`,
);
console.log(`digest ${result.digest === expected ? 'matches' : 'DIFFERS FROM'} the single-thread run`);
console.log(
  `after the run: ${cls.free} of ${cls.slabs} slabs free, ${cls.leased} leased, ${cls.cached} cached, ${leftInChannels} left in channels`,
);
if (result.digest !== expected || cls.leased !== 0 || leftInChannels !== 0) process.exitCode = 1;

function inFlight() {
  return pool.stats().classes.reduce((n, c) => n + c.leased + c.queued, 0);
}

function singleThread(path) {
  const input = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(DATA);
  const total = createHash('sha256');
  for (let position = 0; ; position += DATA) {
    const n = readSync(input, buffer, 0, DATA, position);
    if (n === 0) break;
    const bytes = buffer.subarray(0, n);
    for (let i = 0; i < n; i++) bytes[i] ^= KEY;
    let digest = bytes;
    for (let r = 0; r < ROUNDS; r++) digest = createHash('sha256').update(digest).digest();
    bytes.set(digest.subarray(0, Math.min(32, n)));
    total.update(bytes);
  }
  closeSync(input);
  return total.digest('hex');
}
