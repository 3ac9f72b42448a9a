// One participant of the seeded stress run: acquires slabs of random sizes, stamps a token into
// each, releases some, hands others to its peers by id over MessagePorts (the receiver adopts and
// checks the token), and after `durationMs` says goodbye to every peer, releases what it holds
// once no peer can send it more, closes its pool object and reports its counts.

import { setImmediate } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { SlabPool } from '../../packages/core/dist/index.js';
import { brokenToken, describeError, prng, takeStamped } from './tokens.mjs';

const { handle, seed, index, durationMs, maxSlabSize, peers } = workerData;
const pool = SlabPool.attach(handle);
const random = prng(seed + index * 0x9e3779b9);
const held = [];
const counts = { acquired: 0, released: 0, sent: 0, received: 0, exhausted: 0 };
let nextToken = index * 2 ** 24;
let byes = 0;
let stopped = false;
let errors = 0;

function fail(message) {
  if (errors++ < 5) parentPort.postMessage({ type: 'error', error: `worker ${index}: ${message}` });
}

function letGo(slab) {
  const broken = brokenToken(pool, slab.id, slab.size, slab.token);
  if (broken !== undefined) fail(broken);
  pool.release(slab.id);
  counts.released++;
}

for (const port of peers) {
  port.on('message', (message) => {
    if (message.type === 'bye') {
      byes++;
      finishIfDone();
      return;
    }
    try {
      pool.adopt(message.id);
      const broken = brokenToken(pool, message.id, message.size, message.token);
      if (broken !== undefined) fail(broken);
      held.push(message);
      counts.received++;
    } catch (error) {
      fail(`received slab ${message.id}: ${describeError(error)}`);
    }
  });
}

function burst() {
  try {
    for (let i = 0; i < 200; i++) {
      const pick = random();
      if (pick < 0.45 && held.length < 64) {
        const slab = takeStamped(pool, random, maxSlabSize, nextToken++);
        if (slab === null) {
          counts.exhausted++;
          continue;
        }
        held.push(slab);
        counts.acquired++;
      } else if (held.length > 0) {
        const [slab] = held.splice(Math.floor(random() * held.length), 1);
        if (pick < 0.8) {
          letGo(slab);
        } else {
          const broken = brokenToken(pool, slab.id, slab.size, slab.token);
          if (broken !== undefined) fail(broken);
          peers[Math.floor(random() * peers.length)].postMessage({ type: 'slab', ...slab });
          counts.sent++;
        }
      }
    }
  } catch (error) {
    fail(describeError(error));
  }
}

const started = Date.now();
function run() {
  if (Date.now() - started >= durationMs) {
    stopped = true;
    for (const port of peers) port.postMessage({ type: 'bye' });
    finishIfDone();
    return;
  }
  burst();
  setImmediate(run);
}
run();

/** Once this worker stopped and every peer said goodbye, no more ids can arrive: let go of all. */
function finishIfDone() {
  if (!stopped || byes < peers.length) return;
  try {
    for (const slab of held.splice(0)) letGo(slab);
    pool.close();
  } catch (error) {
    fail(describeError(error));
  }
  for (const port of peers) port.close();
  parentPort.postMessage({ type: 'done', counts });
}
