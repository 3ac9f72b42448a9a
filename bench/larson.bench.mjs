// Part 3b: larson (mimalloc-bench), ported to worker_threads. A table of slab ids lives in shared
// memory; every round, fresh workers attach, each replaces random entries (release the old slab,
// acquire one of a random size, 64 B to 8 KiB), mostly in a region of the table assigned to it at
// random for the round and 1 in 8 anywhere (a hand-off to another worker), then close their pool
// objects and exit. The next round's workers release what the last round acquired.
//
// Figures: steps per second inside the workers (their own timing, after a shared start signal),
// and rounds per second including worker start-up and exit (larson's view: threads come and go).
// At the end every remaining id is released: no slab may stay leased, audit() must be clean, and
// every closed worker's thread slot must be free again.
//
//   node --expose-gc bench/larson.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { SlabPool } from '@zeropool/core';
import { MiB, fmtNs, fmtRate, round } from './lib/format.mjs';
import { header, median, parseOptions, progress, progressDone, table, writeFigures } from './lib/harness.mjs';
import { mulberry32 } from './lib/prng.mjs';
import { logUniformSizes } from './lib/sizes.mjs';
import { startTeam } from './lib/team.mjs';

const options = parseOptions();
const cores = availableParallelism();
const REGION_SLOTS = 1000;
const settings = options.quick ? { workers: [2], rounds: 3, steps: 20_000 } : { workers: [2, 4], rounds: 12, steps: 400_000 };
const workerUrl = new URL('./workers/larson-worker.mjs', import.meta.url);

async function measure(count) {
  const pool = new SlabPool({ arenaBytes: 128 * MiB });
  const slots = count * REGION_SLOTS;
  const tableBuffer = new SharedArrayBuffer(slots * 8);
  const ids = new BigInt64Array(tableBuffer);
  // larson starts from a full table: the main thread fills it.
  const initial = logUniformSizes(7, slots, 64, 8 * 1024);
  for (let i = 0; i < slots; i++) {
    const id = pool.acquire(initial[i]);
    const view = pool.bytes(id);
    view[0] = i;
    view[1] = i ^ 0xff;
    view[view.length - 1] = i;
    ids[i] = BigInt(id);
  }
  const random = mulberry32(99 + count);
  const rounds = [];
  let badStamps = 0;
  let maxThreads = 0;
  for (let round = 0; round < settings.rounds; round++) {
    progress(`larson: ${count} workers, round ${round + 1} of ${settings.rounds}`);
    // A random permutation of regions: each round's worker i works mostly in region order[i].
    const order = Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const started = performance.now();
    const team = await startTeam({
      url: workerUrl,
      count,
      data: (i) => ({
        pool: pool.handle,
        table: tableBuffer,
        region: order[i],
        regionSlots: REGION_SLOTS,
        seed: round * 1000 + i,
      }),
    });
    const results = await team.batch([settings.steps]);
    maxThreads = Math.max(maxThreads, pool.stats().threads);
    await team.close();
    const roundMs = performance.now() - started;
    const wallMs = Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start));
    badStamps += results.reduce((n, r) => n + r.extra[1], 0);
    rounds.push({ stepsPerSecond: ((count * settings.steps) / wallMs) * 1e3, roundMs, startupMs: team.startupMs });
  }
  for (let i = 0; i < slots; i++) {
    const id = Atomics.exchange(ids, i, -1n);
    if (id !== -1n) pool.release(Number(id));
  }
  pool.flush();
  const stats = pool.stats();
  return {
    workers: count,
    rounds: settings.rounds,
    stepsPerWorkerPerRound: settings.steps,
    tableSlots: slots,
    stepsPerSecond: Math.round(median(rounds.map((r) => r.stepsPerSecond))),
    nsPerStep: round(1e9 / median(rounds.map((r) => r.stepsPerSecond))),
    roundMs: round(median(rounds.map((r) => r.roundMs))),
    workerStartupMs: round(median(rounds.map((r) => r.startupMs))),
    perRound: rounds.map((r) => Math.round(r.stepsPerSecond)),
    badStamps,
    leasedAfter: stats.classes.reduce((n, c) => n + c.leased, 0),
    auditProblems: pool.audit().length,
    threadsAttachedAfter: stats.threads,
    threadsAttachedDuringRounds: maxThreads,
    steals: stats.steals,
    lockWaits: stats.lockWaits,
  };
}

header(
  'Part 3b: larson (random hand-offs, workers replaced every round)',
  options,
  `${REGION_SLOTS} slots per worker, slabs of 64 B to 8 KiB; each round's workers attach, work, close() and exit; ${cores} CPU cores`,
);
const runs = [];
for (const count of settings.workers) runs.push(await measure(count));
progressDone();
console.log(
  table([
    [
      'workers',
      'steps/s (in workers)',
      'per step',
      'round incl. start-up',
      'worker start-up',
      'threads attached after',
      'leased after',
      'bad stamps',
    ],
    ...runs.map((r) => [
      `${r.workers}${r.workers > cores ? ' (oversubscribed)' : ''}`,
      fmtRate(r.stepsPerSecond),
      fmtNs(r.nsPerStep),
      `${r.roundMs.toFixed(1)} ms`,
      `${r.workerStartupMs.toFixed(1)} ms`,
      String(r.threadsAttachedAfter),
      String(r.leasedAfter),
      String(r.badStamps),
    ]),
  ]),
);
console.log('a step = release one slab (often acquired by another, possibly exited, worker) + acquire one; medians over rounds');
const bad = runs.filter((r) => r.leasedAfter !== 0 || r.auditProblems !== 0 || r.badStamps !== 0 || r.threadsAttachedAfter !== 1);
console.log(
  bad.length === 0
    ? 'after the last round: no slab leased, audit() clean, every stamp intact, only the main thread still attached (every worker freed its slot)'
    : `WARNING: ${bad.length} run(s) ended with leased slabs, audit problems, bad stamps or thread slots still taken`,
);

writeFigures(options, {
  part: 'larson',
  title: 'larson: random hand-offs, workers replaced every round',
  method:
    'steps/s = workers x steps / (last end - first start) per round, median over rounds; round time includes worker start-up, close() and exit',
  runs,
});
