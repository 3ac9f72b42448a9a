// One round of bench/runtimes.bench.mjs on whichever runtime runs this file (Node, Bun, Deno):
// plain JavaScript over the built packages/core/dist and node: modules all three implement.
// Prints one JSON line: ns per 64 KiB cache-hit cycle (acquire, write the first and last byte,
// read them, release) beside a fresh `new Uint8Array(65536)` written and read the same way, and
// slabs per second handed from one worker to another (the producer acquires and writes, the
// consumer reads and releases) through a shared-memory ring of ids, beside the same ids sent by
// `MessagePort.postMessage`.
import { Worker } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';
import { ringBuffer } from '../lib/ring.mjs';

const SIZE = 64 * 1024;
const BATCH = 50_000;
const BATCHES = 15;
const HANDOFF_MS = 1000;
let sink = 0;

/** Median ns per call of `fn` over BATCHES batches, after one batch of warm-up. */
function perCall(fn) {
  const times = [];
  for (let b = -1; b < BATCHES; b++) {
    const started = performance.now();
    for (let i = 0; i < BATCH; i++) fn();
    if (b >= 0) times.push(((performance.now() - started) * 1e6) / BATCH);
  }
  times.sort((x, y) => x - y);
  return times[times.length >> 1];
}

const pool = new SlabPool({ arenaBytes: 64 * 1024 * 1024 });
pool.release(pool.acquire(SIZE));
const cycle = perCall(() => {
  const id = pool.acquire(SIZE);
  const view = pool.bytes(id);
  view[0] = 1;
  view[SIZE - 1] = 2;
  sink += view[0] + view[SIZE - 1];
  pool.release(id);
});
const fresh = perCall(() => {
  const view = new Uint8Array(SIZE);
  view[0] = 1;
  view[SIZE - 1] = 2;
  sink += view[0] + view[SIZE - 1];
});

/** Slabs per second from a producer worker to a consumer worker over `via` ('ring' or 'port'). */
async function handoff(via) {
  const ring = ringBuffer(1024);
  const done = new SharedArrayBuffer(8);
  const { port1, port2 } = new MessageChannel();
  const start = (role) => {
    const worker = new Worker(new URL('./handoff-worker.mjs', import.meta.url), {
      workerData: { role, via, handle: pool.handle, ring, done, port: role === 'producer' ? port1 : port2, ms: HANDOFF_MS },
      transferList: [role === 'producer' ? port1 : port2],
    });
    return new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  };
  const [consumed] = await Promise.all([start('consumer'), start('producer')]);
  if (!consumed.ok) throw new Error(`${via} hand-off: a slab's bytes did not arrive as written`);
  return consumed.count / (consumed.ms / 1000);
}

const ring = await handoff('ring');
const port = await handoff('port');
const runtime = process.versions.bun
  ? `Bun ${process.versions.bun}`
  : typeof globalThis.Deno !== 'undefined'
    ? `Deno ${globalThis.Deno.version.deno}`
    : `Node ${process.version}`;
pool.close();
console.log(JSON.stringify({ runtime, cycle, fresh, ring, port, sink: sink > 0 }));
process.exit(0);
