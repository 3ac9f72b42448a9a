// Channels between two workers, beside what a user would pick instead, in one run:
// 1. Stream: a producer worker acquires a slab (64 B, 4 KiB, 64 KiB), writes its first and last
//    byte and hands it to a consumer worker, which reads both and releases it: through a channel,
//    by MessagePort.postMessage of the id, of a copy (structured clone of a Uint8Array), and of a
//    transferred ArrayBuffer (the last two allocate instead of acquiring); and in batches of 32,
//    by channel (trySendBatch, tryReceiveBatch) and by MessagePort (an array of ids a message).
//    Items/s and bytes/s.
// 2. Raw: numbers round a loop of two queues between two workers, 512 in flight: channels moving
//    slab ids, against ringbuf.js (npm; single producer, single consumer, int32s), one at a time
//    and in batches of 64. Items/s.
// 3. One in flight: round trip of one id between two workers through two channels while the
//    receivers spin, once they sleep (spinMs 0), and by MessagePort (awaiting 'message'). p50, p99.
// Each figure is the median of `reps` runs, the methods alternating within each rep.
//
//   node bench/channel.bench.mjs            full run (5 reps), recorded in bench/results/
//   node bench/channel.bench.mjs --quick    1 rep, short runs, not recorded
import { Worker } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { RingBuffer } from 'ringbuf.js';
import { KiB, MiB, fmtBytes, round } from './lib/format.mjs';
import { header, median, parseOptions, recordResults, table, writeFigures } from './lib/harness.mjs';

const options = parseOptions();
const REPS = options.quick ? 1 : 5;
const STREAM_MS = options.quick ? 150 : 700;
const RAW_MS = options.quick ? 150 : 700;
const RTT_ROUNDS = options.quick ? 300 : 3000;
const SIZES = [64, 4 * KiB, 64 * KiB];
const STREAM_METHODS = ['channel', 'port-ids', 'channel-batch', 'port-ids-batch', 'port-copy', 'port-transfer'];
const RAW_METHODS = ['channel', 'ringbuf.js'];
const RAW_BATCHES = [1, 64];
const RTT_METHODS = ['channel-spinning', 'channel-sleeping', 'port'];
const CAPACITY = 1024;
const IN_FLIGHT = 512;

const workerUrl = new URL('./workers/channel-worker.mjs', import.meta.url);

/** Starts workers with their data; resolves with their replies once all have exited. */
function runWorkers(datas, transfers = datas.map(() => [])) {
  return Promise.all(
    datas.map(
      (workerData, i) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(workerUrl, { workerData, transferList: transfers[i] });
          let reply;
          worker.on('message', (message) => {
            reply = message;
          });
          worker.once('error', reject);
          worker.once('exit', () => resolve(reply));
        }),
    ),
  );
}

async function stream(method, size) {
  const pool = new SlabPool({ arenaBytes: 256 * MiB, maxSlabSize: 64 * KiB });
  const channel = method.startsWith('channel') ? pool.channel({ capacity: CAPACITY }) : undefined;
  const { port1, port2 } = new MessageChannel();
  const counter = new SharedArrayBuffer(8);
  const common = {
    test: 'stream',
    method,
    size,
    ms: STREAM_MS,
    handle: pool.handle,
    channel: channel?.handle,
    counter,
    window: CAPACITY,
  };
  const [, consumer] = await runWorkers(
    [
      { ...common, role: 'producer', port: port1 },
      { ...common, role: 'consumer', port: port2 },
    ],
    [[port1], [port2]],
  );
  if (!consumer.ok) throw new Error(`${method} ${size}: the consumer read other bytes than were written`);
  channel?.destroy();
  const audit = pool.audit();
  if (audit.length > 0) throw new Error(`${method} ${size}: audit: ${audit.join('; ')}`);
  pool.close();
  return consumer.count / (consumer.ms / 1000);
}

async function raw(method, batch) {
  const pool = new SlabPool({ arenaBytes: 16 * MiB, maxSlabSize: 64 * KiB });
  const stop = new SharedArrayBuffer(4);
  const common = { test: 'raw', method, batch, ms: RAW_MS, window: IN_FLIGHT, stop, handle: pool.handle };
  let queues;
  if (method === 'channel') {
    const forward = pool.channel({ capacity: CAPACITY });
    const back = pool.channel({ capacity: CAPACITY });
    queues = { forward: forward.handle, back: back.handle, destroy: () => forward.destroy() + back.destroy() };
  } else {
    queues = {
      forward: RingBuffer.getStorageForCapacity(CAPACITY, Int32Array),
      back: RingBuffer.getStorageForCapacity(CAPACITY, Int32Array),
      destroy: () => 0,
    };
  }
  const { destroy, ...handles } = queues;
  const [, consumer] = await runWorkers([
    { ...common, ...handles, role: 'producer' },
    { ...common, ...handles, role: 'consumer' },
  ]);
  destroy();
  pool.close();
  return consumer.moved / (consumer.ms / 1000);
}

async function rtt(method) {
  const pool = new SlabPool({ arenaBytes: 16 * MiB, maxSlabSize: 64 * KiB });
  const common = { test: 'rtt', rounds: RTT_ROUNDS, handle: pool.handle };
  let replies;
  if (method === 'port') {
    const { port1, port2 } = new MessageChannel();
    replies = await runWorkers(
      [
        { ...common, method, role: 'pinger', port: port1 },
        { ...common, method, role: 'ponger', port: port2 },
      ],
      [[port1], [port2]],
    );
  } else {
    const forward = pool.channel({ capacity: 2 });
    const back = pool.channel({ capacity: 2 });
    const spinMs = method === 'channel-spinning' ? 1000 : 0;
    const data = { ...common, method: 'channel', spinMs, forward: forward.handle, back: back.handle };
    replies = await runWorkers([
      { ...data, role: 'pinger' },
      { ...data, role: 'ponger' },
    ]);
    forward.destroy();
    back.destroy();
  }
  pool.close();
  const times = replies[0].times.slice(Math.floor(RTT_ROUNDS / 10)).sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)] * 1000, p99: times[Math.floor(times.length * 0.99)] * 1000 };
}

header(
  'Channels between two workers',
  options,
  'slabs handed from one worker to another by channel, MessagePort ids, a copy, a transferred ArrayBuffer; raw numbers by channel and ringbuf.js; one-in-flight round trips',
);
console.log(
  'Two workers on a machine with this many CPUs; every figure is the median of',
  REPS,
  'run(s), methods alternating within each.',
);

const streamRuns = Object.fromEntries(SIZES.map((size) => [size, Object.fromEntries(STREAM_METHODS.map((m) => [m, []]))]));
const rawRuns = Object.fromEntries(RAW_BATCHES.map((b) => [b, Object.fromEntries(RAW_METHODS.map((m) => [m, []]))]));
const rttRuns = Object.fromEntries(RTT_METHODS.map((m) => [m, []]));
for (let rep = 1; rep <= REPS; rep++) {
  process.stdout.write(`rep ${rep} of ${REPS}: stream`);
  for (const size of SIZES) {
    const order = rep % 2 === 1 ? STREAM_METHODS : [...STREAM_METHODS].reverse();
    for (const method of order) streamRuns[size][method].push(await stream(method, size));
    process.stdout.write(` ${fmtBytes(size)}`);
  }
  process.stdout.write(', raw');
  for (const batch of RAW_BATCHES) {
    const order = rep % 2 === 1 ? RAW_METHODS : [...RAW_METHODS].reverse();
    for (const method of order) rawRuns[batch][method].push(await raw(method, batch));
  }
  process.stdout.write(', round trips');
  for (const method of rep % 2 === 1 ? RTT_METHODS : [...RTT_METHODS].reverse()) rttRuns[method].push(await rtt(method));
  process.stdout.write('\n');
}

const M = (x) => `${(x / 1e6).toFixed(2)} M/s`;
const streamFigures = SIZES.map((size) => {
  const perSecond = Object.fromEntries(STREAM_METHODS.map((m) => [m, round(median(streamRuns[size][m]))]));
  return {
    size,
    itemsPerSecond: perSecond,
    bytesPerSecond: Object.fromEntries(STREAM_METHODS.map((m) => [m, round(perSecond[m] * size)])),
    channelOverPortIds: round(perSecond.channel / perSecond['port-ids']),
    batchOverPortIdsBatch: round(perSecond['channel-batch'] / perSecond['port-ids-batch']),
  };
});
console.log(
  '\nStream: slabs per second from producer to consumer, one at a time and in batches of 32 (a batch of ids is one message)',
);
const streamLabel = {
  channel: 'channel',
  'port-ids': 'MessagePort ids',
  'channel-batch': 'channel, batches',
  'port-ids-batch': 'MessagePort id arrays',
  'port-copy': 'MessagePort copy',
  'port-transfer': 'ArrayBuffer transfer',
};
console.log(
  table([
    ['size', ...STREAM_METHODS.map((m) => streamLabel[m]), 'channel / ids', 'batches / arrays'],
    ...streamFigures.map((s) => [
      fmtBytes(s.size),
      ...STREAM_METHODS.map((m) => M(s.itemsPerSecond[m])),
      `${s.channelOverPortIds.toFixed(1)}x`,
      `${s.batchOverPortIdsBatch.toFixed(1)}x`,
    ]),
  ]),
);
const gbps = (x) => `${(x / 1e9).toFixed(2)} GB/s`;
console.log(
  `bytes handed over per second, channel one at a time: ${streamFigures.map((s) => `${fmtBytes(s.size)} ${gbps(s.bytesPerSecond.channel)}`).join(', ')}`,
);
const rawFigures = RAW_BATCHES.map((batch) => ({
  batch,
  itemsPerSecond: Object.fromEntries(RAW_METHODS.map((m) => [m, round(median(rawRuns[batch][m]))])),
}));
console.log(`\nRaw: items per second round a loop of two queues, ${IN_FLIGHT} in flight`);
console.log(
  table([
    ['batch', 'channel (slab ids)', 'ringbuf.js (int32)', 'channel / ringbuf.js'],
    ...rawFigures.map((r) => [
      String(r.batch),
      M(r.itemsPerSecond.channel),
      M(r.itemsPerSecond['ringbuf.js']),
      `${(r.itemsPerSecond.channel / r.itemsPerSecond['ringbuf.js']).toFixed(2)}x`,
    ]),
  ]),
);
const rttFigures = Object.fromEntries(
  RTT_METHODS.map((m) => [
    m,
    { p50Us: round(median(rttRuns[m].map((r) => r.p50))), p99Us: round(median(rttRuns[m].map((r) => r.p99))) },
  ]),
);
console.log('\nOne in flight: round trip between two workers, µs');
console.log(
  table([
    ['method', 'p50', 'p99'],
    ...RTT_METHODS.map((m) => [m, rttFigures[m].p50Us.toFixed(2), rttFigures[m].p99Us.toFixed(2)]),
  ]),
);

const figures = {
  part: 'channel',
  title: 'Channels between two workers',
  reps: REPS,
  method: `medians of ${REPS} run(s) per figure, methods alternating; stream runs ${STREAM_MS} ms, raw ${RAW_MS} ms, ${RTT_ROUNDS} round trips (the first tenth dropped)`,
  capacity: CAPACITY,
  stream: streamFigures,
  raw: { inFlight: IN_FLIGHT, batches: rawFigures },
  roundTrip: rttFigures,
};
writeFigures(options, figures);
// Run alone (not by run.mjs, which gathers every part's figures), a full run is recorded.
if (!options.quick && !options.json) {
  recordResults('channel', figures);
}
