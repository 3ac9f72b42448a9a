// Streams a file through three kinds of worker connected by channels of slab ids: a reader fills
// slabs from the file, two transformers turn its ASCII letters to upper case, and a hasher takes
// the slabs of both (a channel with two senders), puts them back in file order and hashes them.
// No chunk is copied between threads and no message is sent per chunk. The digest is checked
// against reading the file in this thread.
//
//   node examples/file-stream/main.mjs [file]        (default: the node binary itself)
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';

const CHUNK = 256 * 1024;
const file = process.argv[2] ?? process.execPath;
const pool = new SlabPool({ arenaBytes: 32 * 1024 * 1024, maxSlabSize: CHUNK });
// The reader deals chunks to the transformers in turn, one channel each; both send to the hasher.
const toTransform = [pool.channel({ capacity: 16 }), pool.channel({ capacity: 16 })];
const toHash = pool.channel({ capacity: 16, senders: 2 });

const stage = new URL('./stage.mjs', import.meta.url);
const start = (workerData) => {
  const worker = new Worker(stage, { workerData: { pool: pool.handle, chunk: CHUNK, ...workerData } });
  pool.watch(worker); // slabs a dead stage received come back to the pool
  worker.on('error', (error) => {
    console.error(`${workerData.role} failed:`, error);
    process.exitCode = 1;
  });
  return worker;
};
const started = performance.now();
start({ role: 'read', file, outputs: toTransform.map((c) => c.handle) });
for (const channel of toTransform) start({ role: 'transform', input: channel.handle, output: toHash.handle });
const hasher = start({ role: 'hash', input: toHash.handle });
const { chunks, digest } = await new Promise((resolve) => hasher.once('message', resolve));
const seconds = (performance.now() - started) / 1000;

const bytes = readFileSync(file);
for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x61 && bytes[i] <= 0x7a) bytes[i] -= 0x20;
const expected = createHash('sha256').update(bytes).digest('hex');
const left = [...toTransform, toHash].reduce((n, channel) => n + channel.destroy(), 0);
pool.flush();
const inUse = pool.stats().classes.reduce((n, c) => n + c.leased + c.queued, 0);
const size = statSync(file).size;
console.log(
  `${file}: ${chunks} chunks of up to ${CHUNK / 1024} KiB, read -> 2 x transform -> hash, in ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(0)} MB/s)`,
);
console.log(
  `digest ${digest === expected ? 'matches' : 'DIFFERS FROM'} this thread's; ${inUse} slabs in use and ${left} left in channels after the run`,
);
if (digest !== expected || inUse !== 0 || left !== 0) process.exitCode = 1;
