// Part 5: piscina end to end. A payload of 4 KiB to 4 MiB goes to a piscina worker four ways:
// - copy: the same Uint8Array passed to run() and structured-cloned (copied) every task;
// - move: a fresh Uint8Array per task, moved with Piscina.move (transferred; the sender loses it);
// - slab id, taken: a slab of one shared pool, acquired per task; only { id, length } travels,
//   through @zeropool/piscina as a user would run it (SlabPiscina.runWithSlabs, takeSlab in the
//   task, whose release hands the slab back to the shared shards);
// - slab id, lent: the same, but lent for the task (SlabPiscina.runWithLoans, viewSlab in the task)
//   and released by the main thread when the task settles, into its own cache: no shard lock.
// With one task in flight (latency) and 16 in flight (throughput; time per task = batch / 16), and
// the empty task as the floor. Every payload has its first and last byte written by the sender
// and read by the task.
//
// How it measures: interleaved rounds, not one case after another. With one task in flight the
// floor is the time a parked piscina thread takes to wake, and on this VM it drifted between
// about 14 and 78 us from one minute to the next, more than the differences being measured; mitata
// measures each case in its own stretch of time, so a case could land in a fast or a slow stretch
// (the first full run had the empty task at 70 us and Piscina.move of 1 MiB at 61 us). Here every
// round runs each way a few times in a shuffled order, and each figure is the median of all its
// samples: every way sees the same drift.
//
// Then the crash phase: rounds in which one task's worker calls process.exit and another's is
// terminated by piscina (the task is aborted while it runs), both holding slabs; afterwards stats()
// must show no slab leased.
//
//   node --expose-gc bench/piscina.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { SlabPiscina } from '@zeropool/piscina';
import { Piscina } from 'piscina';
import {
  KiB,
  MiB,
  bars,
  fmtBytes,
  fmtNs,
  fmtRatio,
  header,
  median,
  parseOptions,
  progress,
  progressDone,
  round2,
  table,
  writeFigures,
} from './lib/harness.mjs';
import { mulberry32 } from './lib/prng.mjs';

const options = parseOptions();
const cores = availableParallelism();
const SIZES = [4 * KiB, 64 * KiB, MiB, 4 * MiB];
const IN_FLIGHT = 16;
const THREADS = Math.max(1, Math.min(cores, 4));
// Each round runs every way PER_ROUND times (a task, or a batch of IN_FLIGHT), in a shuffled order.
const ROUNDS = options.quick ? { one: 6, many: 3 } : { one: 150, many: 50 };
const PER_ROUND = 3;
const CRASH_ROUNDS = options.quick ? 2 : 10;
const seed = Number(process.env.ZEROPOOL_SEED ?? 20261125) >>> 0;
const random = mulberry32(seed);

const piscina = new SlabPiscina({
  filename: new URL('./workers/piscina-task.mjs', import.meta.url).href,
  minThreads: THREADS,
  maxThreads: THREADS,
  idleTimeout: 60_000,
  // The crash phase kills workers and piscina replaces them; destroy() right after could terminate
  // a replacement while require(esm) loads this task file, which aborts the process on Node 20 (a
  // Node bug; it happened once in CI's quick run). import() does not.
  execArgv: ['--no-experimental-require-module'],
  // prefault: a new arena is mapped lazily, and the first write to each 4 KiB page faults (about
  // 1.2 us here); at 4 KiB the warm-up and rounds would run on never-used slabs almost throughout.
  pool: { arenaBytes: 192 * MiB, maxSlabSize: 4 * MiB, prefault: true },
});
const pool = piscina.pool;

/** A slab of `size` bytes with its first and last byte written, as every way's sender does. */
function filledSlab(size) {
  const id = pool.acquire(size);
  const bytes = pool.bytes(id);
  bytes[0] = 1;
  bytes[size - 1] = 2;
  return id;
}

const sources = new Map(SIZES.map((size) => [size, new Uint8Array(size)]));
const send = {
  empty: () => piscina.run(0, { name: 'empty' }),
  copy: (size) => {
    const bytes = sources.get(size);
    bytes[0] = 1;
    bytes[size - 1] = 2;
    return piscina.run(bytes, { name: 'clone' });
  },
  move: (size) => {
    const bytes = new Uint8Array(size);
    bytes[0] = 1;
    bytes[size - 1] = 2;
    return piscina.run(Piscina.move(bytes), { name: 'move' });
  },
  id: (size) => {
    const id = filledSlab(size);
    return piscina.runWithSlabs({ id, length: size }, [id], { name: 'id' });
  },
  loan: (size) => {
    const id = filledSlab(size);
    return piscina.runWithLoans({ id, length: size }, [id], { name: 'loan' });
  },
};
const WAYS = ['empty', 'copy', 'move', 'id', 'loan'];
const label = {
  empty: 'empty task',
  copy: 'structured-clone copy',
  move: 'Piscina.move (fresh buffer)',
  id: 'slab id, taken (worker releases)',
  loan: 'slab id, lent (main releases)',
};

async function check() {
  // Every way delivers the bytes: the task returns first + last = 3.
  for (const way of WAYS.slice(1))
    for (const size of SIZES)
      if ((await send[way](size)) !== 3) throw new Error(`piscina task ${way} ${size} returned a wrong sum`);
}

/** One sample of `way`: nanoseconds per task. */
async function sample(way, size, many) {
  const started = process.hrtime.bigint();
  if (many) await Promise.all(Array.from({ length: IN_FLIGHT }, () => send[way](size)));
  else await send[way](size);
  return Number(process.hrtime.bigint() - started) / (many ? IN_FLIGHT : 1);
}

function shuffled(items) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

async function measureSize(size, many) {
  const samples = Object.fromEntries(WAYS.map((way) => [way, []]));
  const ratios = { idOverEmpty: [], copyOverId: [], moveOverId: [], loanOverEmpty: [], copyOverLoan: [], moveOverLoan: [] };
  for (const way of WAYS) for (let i = 0; i < (many ? 20 : 200); i++) await sample(way, size, many); // warm-up
  const rounds = ROUNDS[many ? 'many' : 'one'];
  for (let round = 0; round < rounds; round++) {
    if (round % 10 === 0)
      progress(`piscina ${fmtBytes(size)} ${many ? `x${IN_FLIGHT}` : 'one in flight'}: round ${round + 1}/${rounds}`);
    const inRound = {};
    for (const way of shuffled(WAYS)) {
      const mine = [];
      for (let i = 0; i < PER_ROUND; i++) mine.push(await sample(way, size, many));
      samples[way].push(...mine);
      inRound[way] = median(mine);
    }
    ratios.idOverEmpty.push(inRound.id / inRound.empty);
    ratios.copyOverId.push(inRound.copy / inRound.id);
    ratios.moveOverId.push(inRound.move / inRound.id);
    ratios.loanOverEmpty.push(inRound.loan / inRound.empty);
    ratios.copyOverLoan.push(inRound.copy / inRound.loan);
    ratios.moveOverLoan.push(inRound.move / inRound.loan);
  }
  progressDone();
  const ns = Object.fromEntries(WAYS.map((way) => [way, round2(median(samples[way]))]));
  const spread = Object.fromEntries(
    WAYS.map((way) => [way, [round2(quantile(samples[way], 0.25)), round2(quantile(samples[way], 0.75))]]),
  );
  return {
    size,
    rounds,
    samples: samples.id.length,
    nsPerTask: ns,
    interquartileNs: spread,
    // Paired within each round (every way ran within a few milliseconds of the others), then the
    // median over rounds: the ratios do not mix a fast stretch of one way with a slow one of another.
    idOverFloor: round2(median(ratios.idOverEmpty)),
    idOverFloorNs: round2(ns.id - ns.empty),
    idIsFaster: { copy: round2(median(ratios.copyOverId)), move: round2(median(ratios.moveOverId)) },
    loanOverFloor: round2(median(ratios.loanOverEmpty)),
    loanOverFloorNs: round2(ns.loan - ns.empty),
    loanIsFaster: { copy: round2(median(ratios.copyOverLoan)), move: round2(median(ratios.moveOverLoan)) },
  };
}

/**
 * Rounds in which workers die mid-task holding slabs: in each, two ordinary slab-id tasks, one
 * task whose worker calls process.exit after taking its slab and leasing another, and one whose
 * worker blocks after doing the same and is terminated by piscina when the task is aborted.
 */
async function crashPhase() {
  const reports = [];
  piscina.on('reclaim', (report) => reports.push(report));
  const outcome = { ok: 0, failed: 0 };
  const size = 64 * KiB;
  for (let round = 0; round < CRASH_ROUNDS; round++) {
    progress(`crash round ${round + 1}/${CRASH_ROUNDS}`);
    const started = new Int32Array(new SharedArrayBuffer(4));
    const controller = new AbortController();
    const run = (name, extra = {}) => {
      const id = pool.acquire(size);
      pool.bytes(id)[0] = 1;
      pool.bytes(id)[size - 1] = 2;
      return piscina.runWithSlabs({ id, length: size, started }, [id], { name, ...extra }).then(
        () => outcome.ok++,
        () => outcome.failed++,
      );
    };
    const settled = [run('id'), run('exit'), run('stall', { signal: controller.signal }), run('id')];
    // Abort the stalled task only once it runs and holds its slabs, so piscina kills a worker
    // mid-task (an abort before it starts would only take the task off the queue).
    const deadline = Date.now() + 10_000;
    while (Atomics.load(started, 0) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    await Promise.all(settled);
    // Each death is reported once its worker's 'exit' has been handled.
    while (reports.length < (round + 1) * 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  progressDone();
  const stats = pool.stats();
  const sum = (key) => stats.classes.reduce((n, c) => n + c[key], 0);
  return {
    rounds: CRASH_ROUNDS,
    tasksOk: outcome.ok,
    tasksFailed: outcome.failed,
    workersReclaimed: reports.length,
    slabsReclaimed: reports.reduce((n, r) => n + r.leased + r.cached, 0),
    slabs: sum('slabs'),
    free: sum('free'),
    cached: sum('cached'),
    leased: sum('leased'),
  };
}

header(
  'Part 5: piscina end to end',
  options,
  `copy vs Piscina.move vs slab ids (taken, lent); ${THREADS} piscina threads (${cores} CPUs); one task in flight, then ${IN_FLIGHT}; the empty task is the floor; ${ROUNDS.one} (one in flight) and ${ROUNDS.many} (${IN_FLIGHT} in flight) interleaved rounds per size (order shuffled with seed ${seed})`,
);
await check();
const results = {};
for (const many of [false, true]) {
  const key = many ? 'manyInFlight' : 'oneInFlight';
  const sizes = [];
  for (const size of SIZES) sizes.push(await measureSize(size, many));
  results[key] = {
    inFlight: many ? IN_FLIGHT : 1,
    emptyTaskNs: round2(median(sizes.map((s) => s.nsPerTask.empty))),
    sizes,
  };
  const what = many ? `${IN_FLIGHT} tasks in flight` : 'one task in flight';
  console.log(`\nPart 5, ${what}: median time per task (interleaved rounds; the empty task measured beside each size)`);
  console.log(
    table([
      [
        'payload',
        'empty task',
        'copy',
        'Piscina.move',
        'id taken',
        'id lent',
        'taken / empty',
        'lent / empty',
        'lent vs copy',
        'lent vs move',
      ],
      ...sizes.map((s) => [
        fmtBytes(s.size),
        fmtNs(s.nsPerTask.empty),
        fmtNs(s.nsPerTask.copy),
        fmtNs(s.nsPerTask.move),
        fmtNs(s.nsPerTask.id),
        fmtNs(s.nsPerTask.loan),
        `${s.idOverFloor.toFixed(2)}x`,
        `${s.loanOverFloor.toFixed(2)}x`,
        `${fmtRatio(s.loanIsFaster.copy)} faster`,
        `${fmtRatio(s.loanIsFaster.move)} faster`,
      ]),
    ]),
  );
  const largest = sizes[sizes.length - 1];
  console.log(
    `\n${fmtBytes(largest.size)}, ${what}:\n${bars(
      WAYS.map((way) => [label[way], largest.nsPerTask[way]]),
      { format: fmtNs },
    )}`,
  );
}
await check();

const crash = await crashPhase();
console.log(
  `\ncrash phase: ${crash.rounds} rounds, ${crash.workersReclaimed} workers died mid-task (process.exit or terminated), ` +
    `${crash.slabsReclaimed} slabs reclaimed from them; ${crash.tasksOk} tasks completed, ${crash.tasksFailed} failed as intended`,
);
console.log(
  crash.leased === 0 && crash.free + crash.cached === crash.slabs
    ? `every slab back in the pool: ${crash.slabs} carved, ${crash.free} free, ${crash.cached} cached, 0 leased`
    : `WARNING: ${crash.leased} slabs still leased after the crash phase (${crash.slabs} carved, ${crash.free} free, ${crash.cached} cached)`,
);
const stats = pool.stats();
// Shared-path activity of the slab-id tasks (the main thread acquires, piscina threads release).
const poolActivity = {
  acquires: stats.acquires,
  refills: stats.refills,
  steals: stats.steals,
  spills: stats.spills,
  lockWaits: stats.lockWaits,
};
console.log(
  `pool activity: ${Object.entries(poolActivity)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
await piscina.destroy();

writeFigures(options, {
  part: 'piscina',
  title: 'piscina end to end: copy vs Piscina.move vs slab ids',
  threads: THREADS,
  method: `interleaved: per size, ${ROUNDS.one} rounds (one in flight) or ${ROUNDS.many} rounds (${IN_FLIGHT} in flight), each running every way (empty, copy, move, id taken, id lent) ${PER_ROUND} times (a task, or a batch of ${IN_FLIGHT}) in a shuffled order (seed ${seed}); nsPerTask: medians of all samples, per task (a batch's time / ${IN_FLIGHT}); ratios: median over rounds of the ratio of the round's medians; same process, same SlabPiscina`,
  ...results,
  crash,
  leasedAfter: crash.leased,
  poolActivity,
});
