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
// floor is the time a parked piscina thread takes to wake, which drifts from one minute to the
// next by more than the differences being measured; measured one case after another, a case lands
// in a fast or a slow stretch. Here every round runs each way a few times in a shuffled order, and
// each figure is the median of all its samples: every way sees the same drift.
//
// Two sets of rounds per size. The floor rounds run only the empty task and the two slab-id ways:
// the goal "within 1.15x of the empty task" is judged on them. The rounds of all five ways give
// the speed-ups over copies and moves; there, megabyte copies and moves leave garbage whose
// collection runs in the tasks after them, every way's, and more in tasks that allocate (a
// slab-id task allocates a view, and taken, a TakenSlab; the empty task nothing). Every thread
// collects its garbage before each set. Before the first size, every way runs 1000 unmeasured
// tasks one at a time and 1000 more in batches of 16 at every size, so no size pays for the JIT's
// warm-up.
//
// Then the crash phase: rounds in which one task's worker calls process.exit and another's is
// terminated by piscina (the task is aborted while it runs), both holding slabs; afterwards stats()
// must show no slab leased.
//
//   node --expose-gc bench/piscina.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { SlabPiscina } from '@zeropool/piscina';
import { Piscina } from 'piscina';
import { KiB, MiB, fmtBytes, fmtNs, fmtRatio, round } from './lib/format.mjs';
import { bars, header, median, parseOptions, progress, progressDone, table, writeFigures } from './lib/harness.mjs';
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
const WARM_UP = options.quick ? 20 : 1000;
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
/** The ways of the floor rounds: the empty task and the slab ids, nothing that leaves megabytes of garbage. */
const FLOOR_WAYS = ['empty', 'id', 'loan'];
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

/**
 * Interleaved rounds of `ways` at one size: every round runs each way PER_ROUND times in a
 * shuffled order. Returns each way's samples and, per round, each way's median.
 */
async function interleaved(ways, size, many) {
  const samples = Object.fromEntries(ways.map((way) => [way, []]));
  const perRound = Object.fromEntries(ways.map((way) => [way, []]));
  for (const way of ways) for (let i = 0; i < (many ? 20 : 200); i++) await sample(way, size, many); // warm-up
  const rounds = ROUNDS[many ? 'many' : 'one'];
  const what = `piscina ${fmtBytes(size)} ${many ? `x${IN_FLIGHT}` : 'one in flight'}, ${ways.length === WAYS.length ? 'all ways' : 'floor rounds'}`;
  for (let round = 0; round < rounds; round++) {
    if (round % 10 === 0) progress(`${what}: round ${round + 1}/${rounds}`);
    for (const way of shuffled(ways)) {
      const mine = [];
      for (let i = 0; i < PER_ROUND; i++) mine.push(await sample(way, size, many));
      samples[way].push(...mine);
      perRound[way].push(median(mine));
    }
  }
  progressDone();
  return {
    rounds,
    nsPerTask: Object.fromEntries(ways.map((way) => [way, round(median(samples[way]))])),
    interquartileNs: Object.fromEntries(
      ways.map((way) => [way, [round(quantile(samples[way], 0.25)), round(quantile(samples[way], 0.75))]]),
    ),
    // Paired within each round (the ways ran within a few milliseconds of each other), then the
    // median over rounds: a ratio does not mix a fast stretch of one way with a slow one of another.
    ratio: (a, b) => round(median(perRound[a].map((ns, k) => ns / perRound[b][k]))),
  };
}

/**
 * Lets the garbage of the ways measured so far go before the next phase: a full collection on
 * this thread and, through tasks that call gc(), on every piscina thread (V8 flags are the
 * process's: run with --expose-gc, as `pnpm bench` does, the workers have gc() too). Copies and
 * moves of 1 MiB and 4 MiB leave megabytes of garbage, collected otherwise in the tasks of the
 * next phase.
 */
async function settle() {
  globalThis.gc?.();
  const started = new Int32Array(new SharedArrayBuffer(4));
  // Each task waits (up to 1 s) until all have started, so each runs on its own thread.
  const done = await Promise.all(
    Array.from({ length: THREADS }, () => piscina.run({ started, threads: THREADS }, { name: 'gc' })),
  );
  const threads = new Set(done.filter((d) => d.collected).map((d) => d.threadId));
  collections.sets++;
  if (typeof globalThis.gc === 'function' && threads.size === THREADS) collections.complete++;
}
/** How many times settle() ran, and in how many of those this thread and every piscina thread collected. */
const collections = { sets: 0, complete: 0 };

async function measureSize(size, many) {
  await settle();
  // The floor rounds: the empty task and the two slab-id ways only. The goal "within 1.15x of the
  // empty task" is judged here. In rounds of all five ways, at 4 MiB one in flight, the samples of
  // the empty task and of the ids fell into two clusters (lower quartiles 40-44 us, upper quartiles
  // mostly 165-176 us): the collections of the copies' and moves' garbage.
  const floor = await interleaved(FLOOR_WAYS, size, many);
  await settle();
  const all = await interleaved(WAYS, size, many);
  const ns = all.nsPerTask;
  return {
    size,
    rounds: all.rounds,
    samples: all.rounds * PER_ROUND,
    nsPerTask: ns,
    interquartileNs: all.interquartileNs,
    idOverFloor: all.ratio('id', 'empty'),
    idOverFloorNs: round(ns.id - ns.empty),
    idIsFaster: { copy: all.ratio('copy', 'id'), move: all.ratio('move', 'id') },
    loanOverFloor: all.ratio('loan', 'empty'),
    loanOverFloorNs: round(ns.loan - ns.empty),
    loanIsFaster: { copy: all.ratio('copy', 'loan'), move: all.ratio('move', 'loan') },
    floor: {
      rounds: floor.rounds,
      nsPerTask: floor.nsPerTask,
      interquartileNs: floor.interquartileNs,
      idOverFloor: floor.ratio('id', 'empty'),
      idOverFloorNs: round(floor.nsPerTask.id - floor.nsPerTask.empty),
      loanOverFloor: floor.ratio('loan', 'empty'),
      loanOverFloorNs: round(floor.nsPerTask.loan - floor.nsPerTask.empty),
    },
  };
}

/**
 * Before any size is measured, every way runs WARM_UP tasks at every size, one in flight, then
 * WARM_UP more in batches of IN_FLIGHT, so the first size measured in each mode does not pay for
 * code not yet optimized (the per-size warm-up alone was too short for that).
 */
async function warmUp() {
  for (const size of SIZES)
    for (const way of WAYS) {
      progress(`warm-up: ${way}, ${fmtBytes(size)}`);
      for (let i = 0; i < WARM_UP; i++) await send[way](size);
      for (let i = 0; i < WARM_UP; i += IN_FLIGHT) await sample(way, size, true);
    }
  progressDone();
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
  `copy vs Piscina.move vs slab ids (taken, lent); ${THREADS} piscina threads (${cores} CPUs); one task in flight, then ${IN_FLIGHT}; the empty task is the floor; per size, ${ROUNDS.one} (one in flight) or ${ROUNDS.many} (${IN_FLIGHT} in flight) interleaved floor rounds (empty, ids) and as many of all five ways (order shuffled with seed ${seed})${globalThis.gc ? '' : '; WARNING: run without --expose-gc, so no thread collects its garbage between phases'}`,
);
await check();
await warmUp();
const results = {};
for (const many of [false, true]) {
  const key = many ? 'manyInFlight' : 'oneInFlight';
  const sizes = [];
  for (const size of SIZES) sizes.push(await measureSize(size, many));
  results[key] = {
    inFlight: many ? IN_FLIGHT : 1,
    emptyTaskNs: round(median(sizes.map((s) => s.nsPerTask.empty))),
    sizes,
  };
  const what = many ? `${IN_FLIGHT} tasks in flight` : 'one task in flight';
  console.log(`\nPart 5, ${what}, floor rounds (empty task and slab ids only): median time per task`);
  console.log(
    table([
      ['payload', 'empty task', 'id taken', 'id lent', 'taken / empty', 'lent / empty'],
      ...sizes.map((s) => [
        fmtBytes(s.size),
        fmtNs(s.floor.nsPerTask.empty),
        fmtNs(s.floor.nsPerTask.id),
        fmtNs(s.floor.nsPerTask.loan),
        fmtRatio(s.floor.idOverFloor, 2),
        fmtRatio(s.floor.loanOverFloor, 2),
      ]),
    ]),
  );
  console.log(`\nPart 5, ${what}, rounds of all five ways: median time per task`);
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
        fmtRatio(s.idOverFloor, 2),
        fmtRatio(s.loanOverFloor, 2),
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
console.log(
  `\ngarbage collected before each set of rounds: ${collections.complete} of ${collections.sets} times on this thread and all ${THREADS} piscina threads${collections.complete < collections.sets ? ' (WARNING: some thread did not collect; the process needs --expose-gc)' : ''}`,
);

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
  method: `first ${WARM_UP} tasks of every way at every size, unmeasured; then per size, floor rounds (empty, id taken, id lent: the floor figures) and rounds of all five ways (empty, copy, move, id taken, id lent: the other figures), ${ROUNDS.one} rounds each (one in flight) or ${ROUNDS.many} (${IN_FLIGHT} in flight), each round running its ways ${PER_ROUND} times (a task, or a batch of ${IN_FLIGHT}) in a shuffled order (seed ${seed}), with a full collection on every thread before each set of rounds; nsPerTask: medians of all samples, per task (a batch's time / ${IN_FLIGHT}); ratios: median over rounds of the ratio of the round's medians; same process, same SlabPiscina`,
  ...results,
  gcExposed: typeof globalThis.gc === 'function',
  collections,
  crash,
  leasedAfter: crash.leased,
  poolActivity,
});
