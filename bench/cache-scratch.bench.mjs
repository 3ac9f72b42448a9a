// Part 3c: cache-scratch (mimalloc-bench), ported to worker_threads: does the pool make threads
// write to the same cache lines?
// - passive false sharing (mimalloc's cache-scratch): the main thread acquires one slab per worker,
//   back to back (neighbours in the arena), and hands them over; each worker releases its slab and
//   then repeatedly acquires a slab of the same size, writes it `inner` times and releases it.
//   The thread cache hands the worker the same slab again, next to its neighbour's. Sizes 64 B
//   (neighbours 64 bytes apart) and 4 KiB.
// - control, true false sharing: two workers writing 32 bytes apart in one 64-byte slab.
// - lock words: with a thread cache of one id, every iteration of acquire 2 / release 2 takes a
//   shard lock twice (a refill and a spill). With the default shard count each worker has its own
//   home shard, whose lock word sits on its own 128-byte line; the control pool has one shard,
//   so both workers take the same lock.
// Figures: time per write (or per slab lifecycle for the lock test) in each worker's own timing,
// with 1 worker and with 2, and the slowdown from 1 to 2 (1.0 = no interference). Meaningful
// only when the machine has 2 free cores.
//
//   node --expose-gc bench/cache-scratch.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { SlabPool } from '@zeropool/core';
import { KiB, MiB, fmtBytes, fmtNs, fmtRatio, round } from './lib/format.mjs';
import { header, median, parseOptions, progress, progressDone, table, writeFigures } from './lib/harness.mjs';
import { startTeam } from './lib/team.mjs';

const options = parseOptions();
const cores = availableParallelism();
const settings = options.quick
  ? { reps: 2, iterations: 2_000, inner: 500, lockIterations: 50_000 }
  : { reps: 5, iterations: 20_000, inner: 1_000, lockIterations: 1_000_000 };
const workerUrl = new URL('./workers/cache-scratch-worker.mjs', import.meta.url);

/** Runs `variant` with `count` workers; returns the median per-op time of a worker in ns. */
async function measure({ variant, count, objectSize = 64, poolOptions = {} }) {
  const pool = new SlabPool({ arenaBytes: 64 * MiB, ...poolOptions });
  const team = await startTeam({ url: workerUrl, count, data: () => ({ pool: pool.handle, variant, objectSize }) });
  const shared = variant === 'shared-line' ? pool.acquire(64) : -1;
  let neighbourBytes = null;
  const batch = async (iterations, inner) => {
    let params = [iterations, inner];
    if (variant === 'scratch') {
      const given = Array.from({ length: count }, () => pool.acquire(objectSize));
      if (count > 1) neighbourBytes = Math.abs(pool.bytes(given[1]).byteOffset - pool.bytes(given[0]).byteOffset);
      params = [iterations, inner, ...given];
    } else if (variant === 'shared-line') {
      params = [iterations, inner, shared];
    }
    return team.batch(params);
  };
  try {
    const iterations = variant === 'locks' ? settings.lockIterations : settings.iterations;
    await batch(Math.ceil(iterations / 4), settings.inner);
    const perOp = [];
    for (let r = 0; r < settings.reps; r++) {
      progress(`cache-scratch: ${variant} ${fmtBytes(objectSize)}, ${count} worker(s), batch ${r + 1} of ${settings.reps}`);
      for (const x of await batch(iterations, settings.inner)) perOp.push(((x.end - x.start) * 1e6) / x.ops);
    }
    await team.close();
    if (shared !== -1) pool.release(shared);
    const stats = pool.stats();
    return { nsPerOp: median(perOp), neighbourBytes, lockWaits: stats.lockWaits, refills: stats.refills };
  } catch (error) {
    await team.close().catch(() => {});
    throw error;
  }
}

const CASES = [
  { key: 'scratch64', label: 'passive false sharing, 64 B slabs', unit: 'write', variant: 'scratch', objectSize: 64 },
  { key: 'scratch4k', label: 'passive false sharing, 4 KiB slabs', unit: 'write', variant: 'scratch', objectSize: 4 * KiB },
  { key: 'sharedLine', label: 'control: two workers in one 64 B line', unit: 'write', variant: 'shared-line' },
  {
    key: 'locksSharded',
    label: 'shard locks, default shards (own lock each)',
    unit: 'lifecycle',
    variant: 'locks',
    poolOptions: { cacheSize: 1 },
  },
  {
    key: 'locksOneShard',
    label: 'control: shard locks, 1 shard (one lock)',
    unit: 'lifecycle',
    variant: 'locks',
    poolOptions: { cacheSize: 1, shards: 1 },
  },
];

header(
  'Part 3c: cache-scratch (false sharing between neighbouring slabs and lock words)',
  options,
  `1 worker vs 2 workers; ${cores} CPU cores`,
);
const results = {};
for (const c of CASES) {
  const one = await measure({ ...c, count: 1 });
  const two = await measure({ ...c, count: 2 });
  results[c.key] = {
    label: c.label,
    unit: c.unit,
    nsPerOpOneWorker: round(one.nsPerOp),
    nsPerOpTwoWorkers: round(two.nsPerOp),
    slowdown: round(two.nsPerOp / one.nsPerOp),
    neighbourBytes: two.neighbourBytes,
    lockWaitsTwoWorkers: c.variant === 'locks' ? two.lockWaits : undefined,
  };
}
progressDone();
console.log(
  table([
    ['case', 'unit', '1 worker', '2 workers', 'slowdown', 'note'],
    ...CASES.map((c) => {
      const r = results[c.key];
      const note =
        r.neighbourBytes !== null && r.neighbourBytes !== undefined
          ? `workers' slabs ${r.neighbourBytes} B apart`
          : r.lockWaitsTwoWorkers !== undefined
            ? `${r.lockWaitsTwoWorkers} lock waits`
            : '';
      return [r.label, r.unit, fmtNs(r.nsPerOpOneWorker), fmtNs(r.nsPerOpTwoWorkers), fmtRatio(r.slowdown), note];
    }),
  ]),
);
console.log(
  `slowdown = per-op time with 2 workers / with 1 (each worker's own timing, median of ${settings.reps} batches); 1.0 = no interference`,
);

writeFigures(options, {
  part: 'cache-scratch',
  title: 'cache-scratch: false sharing between neighbouring slabs and lock words',
  method: 'per-op time in each worker (own timing), median over workers and batches; slowdown = 2 workers / 1 worker',
  settings,
  results,
});
