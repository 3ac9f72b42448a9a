// A worker that keeps working while others around it are terminated and reclaimed: it acquires,
// stamps, checks and releases slabs, holding up to 32 at a time (and a cache), until told to stop.
// A slab taken from it by a wrong reclaim shows as a broken token or a SlabStateError.

import { setImmediate } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';
import { brokenToken, describeError, prng, takeStamped } from './tokens.mjs';

const { handle, seed, index, maxSlabSize } = workerData;
const pool = SlabPool.attach(handle);
const random = prng(seed + index * 0x9e3779b9);
const held = [];
const counts = { acquired: 0, released: 0, exhausted: 0, checked: 0 };
let nextToken = (index + 64) * 2 ** 24;
let stopping = false;
let errors = 0;

function fail(message) {
  if (errors++ < 5) parentPort.postMessage({ type: 'error', error: `survivor ${index}: ${message}` });
}

function checkAndRelease(slab) {
  const broken = brokenToken(pool, slab.id, slab.size, slab.token);
  counts.checked++;
  if (broken !== undefined) fail(broken);
  pool.release(slab.id);
  counts.released++;
}

function burst() {
  for (let i = 0; i < 100; i++) {
    try {
      if (random() < 0.5 && held.length < 32) {
        const slab = takeStamped(pool, random, maxSlabSize, nextToken++);
        if (slab === null) {
          counts.exhausted++;
          continue;
        }
        held.push(slab);
        counts.acquired++;
      } else if (held.length > 0) {
        checkAndRelease(held.splice(Math.floor(random() * held.length), 1)[0]);
      }
    } catch (error) {
      fail(describeError(error));
    }
  }
  // Every slab still held is checked each burst, so a slab taken while held is seen soon after.
  for (const slab of held) {
    const broken = brokenToken(pool, slab.id, slab.size, slab.token);
    if (broken !== undefined) fail(broken);
  }
}

function run() {
  if (stopping) {
    try {
      for (const slab of held.splice(0)) checkAndRelease(slab);
      pool.close();
    } catch (error) {
      fail(describeError(error));
    }
    parentPort.postMessage({ type: 'done', counts, errors });
    // Nothing left to listen for: the worker exits on its own (Deno's parentPort has no close()).
    parentPort.off('message', onMessage);
    return;
  }
  burst();
  setImmediate(run);
}
function onMessage(message) {
  if (message.type === 'stop') stopping = true;
}
parentPort.on('message', onMessage);
run();
