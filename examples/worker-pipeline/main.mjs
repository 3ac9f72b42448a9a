// A CPU-bound pipeline of plain worker_threads with @zeropool/core imported directly:
// the main thread reads a file into slabs, two transform stages change each slab in place, and a
// sink hashes and releases it. Only ids travel between threads. The pool is small on purpose and
// the second stage is slow: the reader waits in acquireAsync when every slab is in flight, so
// memory stays bounded by the pool. The result is checked against a single-thread run.
//
//   node examples/worker-pipeline/main.mjs [file]        (default: the node binary itself)
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const CHUNK = 64 * 1024;
const KEY = 0x5a;
const ROUNDS = 40;
const file = process.argv[2] ?? process.execPath;
const size = fstatSync(openSync(file, 'r')).size;
// Room for about 24 chunks of 64 KiB (1 MiB pages): far less than the file.
const pool = new SlabPool({ arenaBytes: 2 * 1024 * 1024, maxSlabSize: 1024 * 1024, shards: 2 });

const stageFile = new URL('./stage.mjs', import.meta.url);
const toXor = new MessageChannel();
const xorToMix = new MessageChannel();
const mixToSink = new MessageChannel();
const start = (role, input, output) => {
  const worker = new Worker(stageFile, {
    workerData: { handle: pool.handle, role, input, output, key: KEY, rounds: ROUNDS },
    transferList: [input, output].filter(Boolean),
  });
  pool.watch(worker); // if a stage dies, its slabs come back
  worker.on('error', (error) => {
    console.error(`${role} stage failed:`, error);
    process.exitCode = 1;
  });
  return worker;
};
start('xor', toXor.port2, xorToMix.port1);
start('mix', xorToMix.port2, mixToSink.port1);
const sink = start('sink', mixToSink.port2, undefined);
const finished = new Promise((resolve) => sink.once('message', resolve));

console.log(
  `pipeline over ${file} (${(size / 2 ** 20).toFixed(1)} MiB) in ${CHUNK / 1024} KiB chunks: read -> xor -> mix (slow) -> sink`,
);
const started = performance.now();
const fd = openSync(file, 'r');
let waits = 0;
let maxLeased = 0;
for (let position = 0; position < size; position += CHUNK) {
  const length = Math.min(CHUNK, size - position);
  // Always a full chunk's slab, also for the short last chunk: memory carved into one size class
  // stays in it, so every chunk draws on the same class.
  let id = pool.tryAcquire(CHUNK);
  if (id === -1) {
    // Every slab is somewhere in the pipeline: wait for the sink to release one.
    waits++;
    id = await pool.acquireAsync(CHUNK);
  }
  readSync(fd, pool.bytes(id), 0, length, position);
  toXor.port1.postMessage({ id, length });
  if ((position / CHUNK) % 64 === 0) maxLeased = Math.max(maxLeased, leased());
}
closeSync(fd);
toXor.port1.postMessage('end');
const result = await finished;
const seconds = (performance.now() - started) / 1000;

const expected = singleThread(file);
pool.flush();
const stats = pool.stats();
const cls = stats.classes.find((c) => c.slabSize === CHUNK);
console.log(`${result.chunks} chunks in ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(0)} MB/s)`);
console.log(
  `reader waited for a free slab ${waits} times; at most ${maxLeased} slabs leased at once (sampled), ${cls.slabs} slabs of ${CHUNK} bytes in the pool`,
);
console.log(`digest ${result.digest === expected ? 'matches' : 'DIFFERS FROM'} the single-thread run`);
console.log(`after the run: ${cls.free} of ${cls.slabs} slabs free, ${cls.leased} leased, ${cls.cached} cached`);
if (result.digest !== expected || cls.leased !== 0) process.exitCode = 1;

function leased() {
  return pool.stats().classes.reduce((n, c) => n + c.leased, 0);
}

function singleThread(path) {
  const input = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const total = createHash('sha256');
  for (let position = 0; ; position += CHUNK) {
    const n = readSync(input, buffer, 0, CHUNK, position);
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
