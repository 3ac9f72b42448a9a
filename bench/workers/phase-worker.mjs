// Worker for bench/pages.bench.mjs: the shifting-sizes workload on either design. Each phase has
// one to three sizes from 64 B to 1 MiB (bench/lib/phases.mjs); the worker acquires slabs of them
// while the process's live bytes stay under the cap, writes each, hands some to the next worker by
// id (which adopts it), and releases others; at the end of a phase it releases all it holds and
// gives its cache back (trim() where the design has it, else flush()). An acquire that finds no
// slab is counted and skipped. `sync` words: [phase, done sending, idle, live units of 64 bytes].
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { phaseMix } from '../lib/phases.mjs';
import { mulberry32 } from '../lib/prng.mjs';

const { module, handle, seed, index, workers, phases, opsPerPhase, liveLimit, next, previous } = workerData;
const { SlabPool } = await import(module);
const pool = SlabPool.attach(handle);
const sync = new Int32Array(workerData.sync);
const held = [];
const counts = { ops: 0, done: 0, refused: 0, capped: 0 };
const units = (size) => Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(size, 64))) / 64);

function release(slab) {
  if (pool.bytes(slab.id)[0] !== (slab.token & 0xff)) throw new Error(`slab ${slab.id} lost its byte: two holders?`);
  pool.release(slab.id);
  Atomics.sub(sync, 3, units(slab.size));
}

function receive() {
  for (let m = receiveMessageOnPort(previous); m !== undefined; m = receiveMessageOnPort(previous)) {
    pool.adopt(m.message.id);
    held.push(m.message);
  }
}

function barrier(word, goal) {
  Atomics.add(sync, word, 1);
  Atomics.notify(sync, word);
  for (let seen = Atomics.load(sync, word); seen < goal; seen = Atomics.load(sync, word)) Atomics.wait(sync, word, seen, 100);
}

let token = index << 24;
for (let phase = 0; phase < phases; phase++) {
  const random = mulberry32((seed ^ Math.imul(phase, 0x9e3779b9) ^ Math.imul(index, 0x85ebca6b)) >>> 0);
  const mix = phaseMix(seed, phase);
  for (let op = 0; op < opsPerPhase; op++) {
    receive();
    counts.ops++;
    const r = random();
    if (r < 0.55 || held.length === 0) {
      const size = mix[Math.floor(random() * mix.length)];
      const u = units(size);
      if (Atomics.add(sync, 3, u) + u > liveLimit) {
        Atomics.sub(sync, 3, u);
        counts.capped++;
        continue;
      }
      const id = pool.tryAcquire(size);
      if (id === -1) {
        Atomics.sub(sync, 3, u);
        counts.refused++;
        continue;
      }
      const slab = { id, size, token: token++ };
      const bytes = pool.bytes(id);
      bytes[0] = slab.token & 0xff;
      bytes[size - 1] = 1;
      held.push(slab);
      counts.done++;
    } else {
      const at = Math.floor(random() * held.length);
      const slab = held[at];
      held[at] = held[held.length - 1];
      held.pop();
      if (r < 0.8) next.postMessage(slab);
      else release(slab);
      counts.done++;
    }
  }
  barrier(1, (phase + 1) * workers);
  receive();
  while (held.length > 0) release(held.pop());
  if (typeof pool.trim === 'function') pool.trim();
  else pool.flush();
  barrier(2, (phase + 1) * workers);
}
pool.close();
parentPort.postMessage(counts);
