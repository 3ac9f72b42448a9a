// Part 4: multi-thread scaling. 1, 2, 4, 8 and 16 workers run acquire / write / read / release
// loops on one shared pool (4 KiB slabs), in four modes:
// - local: each worker releases its own slabs (the thread cache serves almost every call);
// - cross: each worker hands every slab to the next worker through a shared-memory ring, and
//   releases the slabs handed to it (release from another thread than the one that acquired);
// - handoff: the cross pattern without a pool: the rings carry indexes of preallocated 4 KiB
//   buffers whose first and last bytes are written and read the same way. What moving ids and
//   bytes between threads costs by itself: the ceiling for the cross figures.
// - claim: handoff plus the least a pool's ownership check costs: a state word per buffer (3 words
//   apart, as the pool's slab metadata), set taken with a plain store by the producer and given
//   back with one Atomics.compareExchange by the receiver, as the pool's acquire and release do.
//   No caches, shards or locks: a ceiling for any pool that makes a racing double release fail
//   this way, and an optimistic one: its buffers are taken in address order, so five state words
//   share a cache line, where a pool's slabs come back in no particular order.
// Each mode also reports the pool's shared-path counters per 1000 lifecycles (refills, steals, lock
// waits), which say where cross-worker time goes.
// mitata has no threads, so workers run fixed batches and time themselves (lib/team.mjs): they
// start, attach, and sleep on a shared start word; start-up is outside the timed region. A first
// batch warms the JIT and the caches and is discarded.
//
// Figures: aggregate ops/s = all slab lifecycles / (last worker's end - first worker's start);
// per-worker ops/s = a worker's lifecycles / its own time; efficiency = aggregate(N) / (N x
// aggregate(1)). Only up to the machine's core count is this scaling; beyond it the workers share
// cores and the figure shows oversubscription. The total work per batch is the same for every N.
//
//   node --expose-gc bench/scaling.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { SlabPool } from '@zeropool/core';
import { KiB, MiB, fmtRate, fmtRatio, round } from './lib/format.mjs';
import { bars, header, median, parseOptions, progress, progressDone, table, writeFigures } from './lib/harness.mjs';
import { ringBuffer } from './lib/ring.mjs';
import { startTeam, summarizeBatch } from './lib/team.mjs';

const options = parseOptions();
const WORKERS = [1, 2, 4, 8, 16];
const SIZE = 4 * KiB;
const cores = availableParallelism();
const MODES = ['local', 'cross', 'handoff', 'claim'];
const settings = options.quick
  ? { reps: 2, totalOps: { local: 1_000_000, cross: 200_000, handoff: 200_000, claim: 200_000 }, roundTrips: 20_000 }
  : { reps: 7, totalOps: { local: 8_000_000, cross: 2_000_000, handoff: 2_000_000, claim: 2_000_000 }, roundTrips: 200_000 };
/** Slabs in flight are leased: ring capacity x workers x 4 KiB must fit in the arena with room. */
const IN_FLIGHT_SLABS = 32_768;
const ARENA_BYTES = 256 * MiB;
const workerUrl = new URL('./workers/scaling-worker.mjs', import.meta.url);

async function measure(mode, count) {
  const pool = new SlabPool({ arenaBytes: ARENA_BYTES });
  const ringCapacity = Math.min(4096, IN_FLIGHT_SLABS / count);
  const rings = Array.from({ length: count }, () => ringBuffer(ringCapacity));
  // handoff: each worker cycles through as many preallocated buffers as its ring can hold.
  // claim: twice as many buffers as the ring holds, since a consumer hands ring slots back (every
  // 16 pops) before it has given back the buffers they named.
  const regionBuffers = mode === 'claim' ? 2 * ringCapacity : ringCapacity;
  const scratch = mode === 'handoff' || mode === 'claim' ? new SharedArrayBuffer(count * regionBuffers * SIZE) : undefined;
  const states = mode === 'claim' ? new SharedArrayBuffer(count * regionBuffers * 3 * 4) : undefined;
  const team = await startTeam({
    url: workerUrl,
    count,
    // Worker i reads ring i and writes ring i + 1 (wrapping): a circle of hand-offs. A worker with
    // nothing to do polls its inbox before sleeping: 1 ms while every worker has a core, 20 µs when
    // they share cores (polling would then take the core from the worker it waits for).
    data: (i) => ({
      pool: pool.handle,
      mode,
      size: SIZE,
      spinMs: count <= cores ? 1 : 0.02,
      ringIn: rings[i],
      ringOut: rings[(i + 1) % count],
      scratch,
      states,
      regionBuffers,
    }),
  });
  const opsPerWorker = Math.ceil(settings.totalOps[mode] / count);
  try {
    const warmUp = await team.batch([Math.ceil(opsPerWorker / 4)]); // discarded
    const reps = [];
    const batches = [warmUp];
    for (let r = 0; r < settings.reps; r++) {
      progress(`scaling: ${mode}, ${count} worker(s), batch ${r + 1} of ${settings.reps}`);
      const batch = await team.batch([opsPerWorker]);
      batches.push(batch);
      reps.push(summarizeBatch(batch));
    }
    await team.close();
    const totalOps = batches.flat().reduce((n, r) => n + r.ops, 0);
    const perThousand = (n) => round((n / totalOps) * 1000);
    // Every slab back: nothing leased, shared lists consistent.
    const stats = pool.stats();
    const leased = stats.classes.reduce((n, c) => n + c.leased, 0);
    const problems = pool.audit();
    return {
      workers: count,
      opsPerWorker,
      startupMs: round(team.startupMs),
      opsPerSecond: Math.round(median(reps.map((r) => r.opsPerSecond))),
      perWorkerOpsPerSecond: Math.round(median(reps.flatMap((r) => r.perWorkerOpsPerSecond))),
      perRep: reps.map((r) => Math.round(r.opsPerSecond)),
      leasedAfter: leased,
      auditProblems: problems.length,
      // Shared-path activity per 1000 lifecycles (warm-up batch included): how often a thread
      // cache missed (refill), overflowed (spill), found its home shard empty (steal), or found a
      // shard lock taken (lock wait); and how often a ring worker had to wait for its inbox.
      perThousandOps: {
        refills: perThousand(stats.refills),
        spills: perThousand(stats.spills),
        steals: perThousand(stats.steals),
        lockWaits: perThousand(stats.lockWaits),
        inboxWaits: perThousand(batches.flat().reduce((n, r) => n + r.extra[0], 0)),
      },
    };
  } catch (error) {
    await team.close().catch(() => {});
    throw error;
  }
}

/**
 * The core-to-core latency under the cross-worker figures: two workers take turns on one shared
 * word (bench/workers/scaling-worker.mjs, pingpong), so each turn moves a cache line from one core
 * to the other. A dependent cache miss on a line the other core wrote costs about one such trip;
 * batched hand-offs overlap their misses and can cost less per slab. Returns the median round
 * trip in ns (timed by worker 0); half of it is one core-to-core hand-off.
 */
async function measureRoundTrip() {
  const flag = new SharedArrayBuffer(64);
  const team = await startTeam({ url: workerUrl, count: 2, data: () => ({ mode: 'pingpong', flag }) });
  try {
    await team.batch([settings.roundTrips >> 2]); // warm-up, discarded
    const perRep = [];
    for (let r = 0; r < settings.reps; r++) {
      progress(`scaling: core-to-core round trips, batch ${r + 1} of ${settings.reps}`);
      const batch = await team.batch([settings.roundTrips]);
      perRep.push(round(((batch[0].end - batch[0].start) * 1e6) / batch[0].ops));
    }
    progressDone();
    return { roundTripNs: round(median(perRep)), perRep, roundTrips: settings.roundTrips };
  } finally {
    await team.close();
  }
}

header(
  'Part 4: multi-thread scaling',
  options,
  `workers run acquire/write/read/release loops of ${SIZE / KiB} KiB slabs; ${cores} CPU cores: efficiency is scaling up to ${cores} workers, oversubscription beyond`,
);
const results = {};
for (const mode of MODES) {
  results[mode] = [];
  for (const count of WORKERS) results[mode].push(await measure(mode, count));
  progressDone();
  const one = results[mode][0].opsPerSecond;
  for (const r of results[mode]) r.efficiency = round(r.opsPerSecond / (r.workers * one), 3);
}
// Cross-worker release against thread-local, and against its transport alone, at the same count.
const crossVsLocal = WORKERS.map((count, i) => ({
  workers: count,
  localOverCross: round(results.local[i].opsPerSecond / results.cross[i].opsPerSecond),
  handoffOverCross: round(results.handoff[i].opsPerSecond / results.cross[i].opsPerSecond),
  localOverHandoff: round(results.local[i].opsPerSecond / results.handoff[i].opsPerSecond),
  localOverClaim: round(results.local[i].opsPerSecond / results.claim[i].opsPerSecond),
}));
const titles = {
  local: 'thread-local release',
  cross: 'cross-worker release (each slab released by the next worker)',
  handoff: 'the same hand-offs without a pool (preallocated buffers, same bytes touched)',
  claim: 'the same hand-offs without a pool, plus a state word per buffer: plain store to take, compare-exchange to give back',
};

for (const mode of MODES) {
  console.log(`\n${titles[mode]}: median of ${settings.reps} batches`);
  console.log(
    table([
      ['workers', 'aggregate', 'per worker', 'efficiency', 'refills/1k', 'steals/1k', 'lock waits/1k', 'inbox waits/1k', 'note'],
      ...results[mode].map((r) => [
        String(r.workers),
        fmtRate(r.opsPerSecond),
        fmtRate(r.perWorkerOpsPerSecond),
        r.efficiency.toFixed(2),
        String(r.perThousandOps.refills),
        String(r.perThousandOps.steals),
        String(r.perThousandOps.lockWaits),
        String(r.perThousandOps.inboxWaits),
        r.workers > cores ? `oversubscribed (${cores} cores)` : r.workers === 1 ? 'baseline' : 'scaling',
      ]),
    ]),
  );
  console.log(
    bars(
      results[mode].map((r) => [`${r.workers} worker${r.workers > 1 ? 's' : ''}`, r.opsPerSecond]),
      { format: fmtRate },
    ),
  );
}
console.log(
  `\nthread-local / cross-worker throughput at the same worker count: ${crossVsLocal.map((c) => `${c.workers}: ${fmtRatio(c.localOverCross)}`).join(', ')}`,
);
console.log(
  `hand-offs without a pool / cross-worker with the pool: ${crossVsLocal.map((c) => `${c.workers}: ${fmtRatio(c.handoffOverCross)}`).join(', ')}`,
);
console.log(
  `thread-local / hand-offs without a pool: ${crossVsLocal.map((c) => `${c.workers}: ${fmtRatio(c.localOverHandoff)}`).join(', ')}; ` +
    `thread-local / the same with a state word per buffer: ${crossVsLocal.map((c) => `${c.workers}: ${fmtRatio(c.localOverClaim)}`).join(', ')}`,
);
const coreToCore = cores >= 2 ? await measureRoundTrip() : undefined;
if (coreToCore) {
  const localNs = 1e9 / results.local.find((r) => r.workers === 2).perWorkerOpsPerSecond;
  coreToCore.oneWayNs = round(coreToCore.roundTripNs / 2);
  coreToCore.oneWayInLocalLifecycles = round(coreToCore.oneWayNs / localNs);
  console.log(
    `core-to-core: a shared word passed back and forth between 2 workers, ${coreToCore.roundTripNs} ns per round trip (median of ${settings.reps} batches), so ${coreToCore.oneWayNs} ns one way: ${coreToCore.oneWayInLocalLifecycles} thread-local lifecycles of one worker (2 workers)`,
  );
}
const leaks = [...results.local, ...results.cross].filter((r) => r.leasedAfter !== 0 || r.auditProblems !== 0);
console.log(
  leaks.length === 0
    ? 'after every run: no slab leased, audit() clean'
    : `WARNING: ${leaks.length} run(s) ended with leased slabs or audit problems`,
);

writeFigures(options, {
  part: 'scaling',
  title: 'Multi-thread scaling',
  slabBytes: SIZE,
  cores,
  reps: settings.reps,
  totalOpsPerBatch: settings.totalOps,
  method:
    'workers time fixed batches themselves after a shared start signal; aggregate = lifecycles / (last end - first start); median of batches; efficiency = aggregate(N) / (N x aggregate(1))',
  local: results.local,
  cross: results.cross,
  handoff: results.handoff,
  claim: results.claim,
  crossVsLocal,
  coreToCore,
});
