// Pages that go back to the arena, side by side with the design where a carved page stays in its
// size class for good (@zeropool/core at commit a52b131, bundled in bench/baseline/), in one run:
// - the cache-hit cycle of bench/core.bench.mjs (acquire + bytes + release of 64 KiB, writing and
//   reading the slab): what giving pages back must not cost (goal: within 1.1x);
// - the shifting-sizes workload: phases of one to three sizes from 64 B to 1 MiB, 4 workers
//   handing slabs on by id, live bytes capped at 60% of a 128 MiB arena. Reported: slab operations
//   done per second (acquires that got a slab, hand-offs, releases), acquires that found no slab, and the arena's peak fragmentation (bytes of carved
//   pages not leased, as a share of the arena), sampled by the main thread every 10 ms. With 2 CPUs,
//   4 workers are oversubscribed: the workload measures memory reuse, not scaling.
// The designs alternate, each round in a fresh process; medians over rounds.
//
//   node --expose-gc bench/pages.bench.mjs            full run (5 rounds of each), recorded in bench/results/
//   node --expose-gc bench/pages.bench.mjs --quick    1 round of each, 20 phases, not recorded
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { measure } from 'mitata';
import { cpuNote, currentCpu, machineInfo, median, recordResults } from './lib/harness.mjs';

const BASELINE_COMMIT = 'a52b131';
const quick = process.argv.includes('--quick');
const designArg = process.argv.indexOf('--design');
const rounds = quick ? 1 : 5;
const PHASES = quick ? 20 : 100;
const WORKERS = 4;
const ARENA = 128 * 1024 * 1024;
const SIZE = 64 * 1024;

async function cycle(SlabPool) {
  const pool = new SlabPool({ arenaBytes: 64 * 1024 * 1024 });
  pool.release(pool.acquire(SIZE));
  let sink = 0;
  const fn = () => {
    const id = pool.acquire(SIZE);
    const view = pool.bytes(id);
    view[0] = 1;
    view[SIZE - 1] = 2;
    sink += view[0] + view[SIZE - 1];
    pool.release(id);
  };
  for (const until = performance.now() + 200; performance.now() < until; ) fn();
  const stats = await measure(fn, quick ? { min_cpu_time: 50e6 } : { min_cpu_time: 300e6 });
  pool.close();
  return { p50: stats.p50, sink };
}

async function workload(SlabPool, module) {
  const pool = new SlabPool({ arenaBytes: ARENA, minSlabSize: 64, maxSlabSize: 1024 * 1024, parallelism: 2 });
  const sync = new SharedArrayBuffer(16);
  const channels = Array.from({ length: WORKERS }, () => new MessageChannel());
  let peak = 0;
  const sample = () => {
    const s = pool.stats();
    const leased = s.classes.reduce((n, c) => n + c.leased * c.slabSize, 0);
    const carved = (s.usedBytes - s.overheadBytes) | 0;
    peak = Math.max(peak, (carved - leased) / s.arenaBytes);
  };
  const started = performance.now();
  const sampler = setInterval(sample, 10);
  const results = await Promise.all(
    channels.map((_, index) => {
      const next = channels[index].port1;
      const previous = channels[(index + WORKERS - 1) % WORKERS].port2;
      const data = { module, handle: pool.handle, seed: 20261204, index, workers: WORKERS, phases: PHASES, opsPerPhase: 3000 };
      const worker = new Worker(new URL('./workers/phase-worker.mjs', import.meta.url), {
        workerData: { ...data, sync, liveLimit: Math.floor((0.6 * ARENA) / 64), next, previous },
        transferList: [next, previous],
      });
      return new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  for (const channel of channels) channel.port1.close();
  const done = results.reduce((n, r) => n + r.done, 0);
  return { opsPerSecond: done / seconds, refused: results.reduce((n, r) => n + r.refused, 0), peakFragmentation: peak };
}

if (designArg !== -1) {
  const design = process.argv[designArg + 1];
  const module =
    design === 'baseline' ? new URL(`./baseline/core-${BASELINE_COMMIT}.mjs`, import.meta.url).href : '@zeropool/core';
  const { SlabPool } = await import(module);
  const cpuAtStart = currentCpu();
  const figures = { cycle: (await cycle(SlabPool)).p50, ...(await workload(SlabPool, module)), cpuAtStart, cpu: currentCpu() };
  console.log(JSON.stringify(figures));
  process.exit(0);
}

const perRound = [];
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? ['baseline', 'current'] : ['current', 'baseline'];
  const pair = {};
  for (const design of order) {
    process.stdout.write(`round ${round} of ${rounds}, ${design} (a fresh process) ... `);
    const args = ['--expose-gc', fileURLToPath(import.meta.url), '--design', design];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop();
    pair[design] = JSON.parse(out);
    const r = pair[design];
    console.log(
      `cycle ${r.cycle.toFixed(1)} ns; workload ${(r.opsPerSecond / 1e6).toFixed(2)} M ops/s, ${r.refused} refused, ` +
        `peak fragmentation ${(100 * r.peakFragmentation).toFixed(1)}%${cpuNote(r.cpuAtStart, r.cpu)}`,
    );
  }
  perRound.push(pair);
}

const med = (design, key) => median(perRound.map((r) => r[design][key]));
const ratio = (key) => median(perRound.map((r) => r.current[key] / r.baseline[key]));
const m = machineInfo();
console.log(
  `\nmachine: ${m.cpu}, ${m.cores} CPUs, ${m.memoryGiB} GiB; node ${m.node}${quick ? ' (quick run: rough figures)' : ''}`,
);
console.log(`medians of ${rounds} round(s) of each design, alternating, each in a fresh process`);
console.log(
  `cache-hit acquire + bytes + release 64 KiB: pages kept (${BASELINE_COMMIT}) ${med('baseline', 'cycle').toFixed(1)} ns, ` +
    `pages given back ${med('current', 'cycle').toFixed(1)} ns: ratio ${ratio('cycle').toFixed(3)} (goal <= 1.1)`,
);
console.log(
  `shifting sizes, ${PHASES} phases on ${WORKERS} workers: ${(med('baseline', 'opsPerSecond') / 1e6).toFixed(2)} vs ` +
    `${(med('current', 'opsPerSecond') / 1e6).toFixed(2)} M ops/s; acquires that found no slab ${med('baseline', 'refused')} vs ` +
    `${med('current', 'refused')}; peak fragmentation ${(100 * med('baseline', 'peakFragmentation')).toFixed(1)}% vs ` +
    `${(100 * med('current', 'peakFragmentation')).toFixed(1)}% of the arena`,
);

if (!quick) {
  const keys = ['cycle', 'opsPerSecond', 'refused', 'peakFragmentation'];
  recordResults('pages', {
    baseline: `bench/baseline/core-${BASELINE_COMMIT}.mjs (pages stay in their class)`,
    workload: { phases: PHASES, workers: WORKERS, arenaBytes: ARENA, liveCap: 0.6, opsPerPhasePerWorker: 3000 },
    rounds,
    medians: Object.fromEntries(keys.map((k) => [k, { pagesKept: med('baseline', k), pagesGivenBack: med('current', k) }])),
    cycleRatio: ratio('cycle'),
    perRound,
  });
}
