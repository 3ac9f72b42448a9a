// A team of benchmark workers that run fixed batches on a shared start signal and time themselves.
// mitata has no threads, so multi-thread parts work like this: the main thread starts the workers
// (start-up is outside every timed region), waits until each is ready, then for every batch bumps
// a generation word that the workers sleep on with Atomics.wait. Each worker times its own batch
// with a clock comparable across threads and writes its figures into shared memory.
//
// Control block (one SharedArrayBuffer), as int32 words, then float64 results:
//   READY      workers that finished setup
//   GENERATION the batch number; workers sleep while it equals the last one they ran
//   DONE       workers that finished the current batch
//   STOP       1: leave the loop, tear down (pool.close()) and exit
//   PARAMS..   float64 parameters of the current batch (slab ids are safe integers, wider than
//              an int32), written before GENERATION is bumped
//   results    per worker, RESULT_SLOTS float64: start ms, end ms, ops, then free-form figures
import { Worker } from 'node:worker_threads';

const READY = 0;
const GENERATION = 16; // its own 64-byte line: every worker reads it, only the main thread writes it
const DONE = 32;
const STOP = 48;
/** Int32 index of the parameters, which are float64s from there (bytes 256 to 384). */
const PARAMS = 64;
const PARAM_COUNT = 16;
const RESULTS_BYTE = 512;
export const RESULT_SLOTS = 16;

/**
 * Milliseconds on the monotonic clock every thread of the process shares (`performance.now()`
 * counts from each thread's own start, and `timeOrigin` is not precise enough to line them up).
 */
export const clock = () => {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
};

function controlBlock(count) {
  return new SharedArrayBuffer(RESULTS_BYTE + count * RESULT_SLOTS * 8);
}

async function waitUntilAtLeast(words, index, target, failure) {
  for (;;) {
    const seen = Atomics.load(words, index);
    if (seen >= target) return;
    const result = Atomics.waitAsync(words, index, seen, 1000);
    if (result.async) await Promise.race([result.value, failure]);
  }
}

/**
 * Starts `count` workers running `url` (a worker file that calls `serveTeam`), each with
 * `workerData = { ...data(index), team: { control, index, count } }`. Resolves when all are ready.
 */
export async function startTeam({ url, count, data = () => ({}), transferList = () => [] }) {
  const control = controlBlock(count);
  const words = new Int32Array(control);
  const results = new Float64Array(control, RESULTS_BYTE);
  const paramSlots = new Float64Array(control, PARAMS * 4, PARAM_COUNT);
  let reject;
  const failure = new Promise((_, r) => {
    reject = r;
  });
  failure.catch(() => {});
  let closing = false;
  const started = performance.now();
  const workers = Array.from({ length: count }, (_, index) => {
    const worker = new Worker(url, {
      workerData: { ...data(index), team: { control, index, count } },
      transferList: transferList(index),
    });
    worker.on('error', (error) => reject(new Error(`benchmark worker ${index} failed: ${error?.stack ?? error}`)));
    worker.on('exit', (code) => {
      if (!closing || code !== 0)
        reject(new Error(`benchmark worker ${index} exited with code ${code}${closing ? '' : ' before the team was closed'}`));
    });
    return worker;
  });
  await waitUntilAtLeast(words, READY, count, failure);
  const startupMs = performance.now() - started;
  let generation = 0;
  return {
    workers,
    startupMs,
    /** Runs one batch on every worker; resolves to each worker's `{ start, end, ops, extra }`. */
    async batch(params = []) {
      for (let i = 0; i < PARAM_COUNT; i++) paramSlots[i] = params[i] ?? 0;
      Atomics.store(words, DONE, 0);
      generation++;
      // Publishes the parameters (plain stores above) with the new generation, and wakes everyone.
      Atomics.store(words, GENERATION, generation);
      Atomics.notify(words, GENERATION);
      await waitUntilAtLeast(words, DONE, count, failure);
      return Array.from({ length: count }, (_, i) => {
        const at = i * RESULT_SLOTS;
        return {
          start: results[at],
          end: results[at + 1],
          ops: results[at + 2],
          extra: Array.from(results.subarray(at + 3, at + RESULT_SLOTS)),
        };
      });
    },
    /** Tells the workers to tear down and waits for them to exit. */
    async close() {
      closing = true;
      const exits = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
      Atomics.store(words, STOP, 1);
      Atomics.store(words, GENERATION, ++generation);
      Atomics.notify(words, GENERATION);
      await Promise.race([Promise.all(exits), failure]);
    },
    failure,
  };
}

/**
 * Aggregate figures of one batch: total ops over the wall time from the first start to the last
 * end, and each worker's own rate.
 */
export function summarizeBatch(results) {
  const first = Math.min(...results.map((r) => r.start));
  const last = Math.max(...results.map((r) => r.end));
  const ops = results.reduce((n, r) => n + r.ops, 0);
  return {
    wallMs: last - first,
    opsPerSecond: (ops / (last - first)) * 1e3,
    perWorkerOpsPerSecond: results.map((r) => (r.ops / (r.end - r.start)) * 1e3),
  };
}

/**
 * The worker side. `setup(workerData)` runs once (attach the pool here); `batch(params, index)`
 * runs a batch and returns `{ start, end, ops, extra? }` (times from `clock()`); `teardown()`
 * runs before the thread exits (close the pool here, so its thread slot is freed).
 */
export async function serveTeam({ workerData, setup = () => {}, batch, teardown = () => {} }) {
  const { control, index, count } = workerData.team;
  const words = new Int32Array(control);
  const results = new Float64Array(control, RESULTS_BYTE + index * RESULT_SLOTS * 8, RESULT_SLOTS);
  const paramSlots = new Float64Array(control, PARAMS * 4, PARAM_COUNT);
  await setup(workerData);
  Atomics.add(words, READY, 1);
  Atomics.notify(words, READY);
  let generation = 0;
  for (;;) {
    // Sleeps while the generation is the one already run; the main thread's store + notify wakes it.
    Atomics.wait(words, GENERATION, generation);
    generation = Atomics.load(words, GENERATION);
    if (Atomics.load(words, STOP) === 1) break;
    const params = Array.from(paramSlots);
    const r = await batch(params, index, count);
    results[0] = r.start;
    results[1] = r.end;
    results[2] = r.ops;
    const extra = r.extra ?? [];
    for (let i = 0; i < RESULT_SLOTS - 3; i++) results[3 + i] = extra[i] ?? 0;
    // Publishes the results (plain stores above) before the main thread reads them.
    if (Atomics.add(words, DONE, 1) + 1 === count) Atomics.notify(words, DONE);
  }
  await teardown();
}
