// Part 5: piscina end to end. A payload of 4 KiB to 4 MiB goes to a piscina worker three ways:
// - copy: the same Uint8Array passed to run() and structured-cloned (copied) every task;
// - move: a fresh Uint8Array per task, moved with Piscina.move (transferred; the sender loses it);
// - slab id: a slab of one shared pool, acquired per task; only { id, length } travels, and the
//   task releases the slab (cross-thread release).
// With one task in flight (latency) and 16 in flight (throughput; time per task = batch / 16), and
// the empty task as the floor. Every payload has its first and last byte written by the sender
// and read by the task. piscina + @zeropool/core directly: the pool's handle is sent once in
// workerData, and the task module attaches once per thread (bench/workers/piscina-task.mjs).
//
//   node --expose-gc bench/piscina.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { SlabPool } from '@zeropool/core';
import { Piscina } from 'piscina';
import {
  KiB,
  MiB,
  fmtBytes,
  fmtNs,
  fmtRatio,
  header,
  measureCases,
  parseOptions,
  round2,
  table,
  writeFigures,
} from './lib/harness.mjs';

const options = parseOptions();
const cores = availableParallelism();
const SIZES = [4 * KiB, 64 * KiB, MiB, 4 * MiB];
const IN_FLIGHT = 16;
const THREADS = Math.max(1, Math.min(cores, 4));

const pool = new SlabPool({ arenaBytes: 192 * MiB, maxSlabSize: 4 * MiB });
const piscina = new Piscina({
  filename: new URL('./workers/piscina-task.mjs', import.meta.url).href,
  minThreads: THREADS,
  maxThreads: THREADS,
  idleTimeout: 60_000,
  workerData: { pool: pool.handle },
});

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
    const id = pool.acquire(size);
    const bytes = pool.bytes(id);
    bytes[0] = 1;
    bytes[size - 1] = 2;
    return piscina.run({ id, length: size }, { name: 'id' });
  },
};
const WAYS = ['copy', 'move', 'id'];
const label = { copy: 'structured-clone copy', move: 'Piscina.move (fresh buffer)', id: 'slab id' };
const nameOf = (way, size, many) =>
  way === 'empty'
    ? `empty task${many ? ` x${IN_FLIGHT}` : ''}`
    : `${label[way]} ${fmtBytes(size)}${many ? ` x${IN_FLIGHT}` : ''}`;

async function check() {
  // Every way delivers the bytes: the task returns first + last = 3.
  for (const way of WAYS)
    for (const size of SIZES)
      if ((await send[way](size)) !== 3) throw new Error(`piscina task ${way} ${size} returned a wrong sum`);
}

header(
  'Part 5: piscina end to end',
  options,
  `copy vs Piscina.move vs slab id; ${THREADS} piscina threads; one task in flight, then ${IN_FLIGHT}; the empty task is the floor`,
);
await check();
const groups = [];
for (const many of [false, true]) {
  const runOne = (way, size) =>
    many ? () => Promise.all(Array.from({ length: IN_FLIGHT }, () => send[way](size))) : () => send[way](size);
  groups.push({
    title: `floor: the empty task${many ? `, ${IN_FLIGHT} in flight` : ', one in flight'}`,
    cases: [{ name: nameOf('empty', 0, many), fn: runOne('empty'), baseline: true }],
  });
  for (const size of SIZES) {
    groups.push({
      title: `${fmtBytes(size)} payload, ${many ? `${IN_FLIGHT} tasks in flight (time per batch)` : 'one task in flight'}`,
      cases: WAYS.map((way) => ({ name: nameOf(way, size, many), fn: runOne(way, size), baseline: way === 'id' })),
    });
  }
}
const figures = await measureCases(groups, { options });
await check();
await piscina.destroy();

// Per task: one in flight = the median call; many in flight = the median batch / IN_FLIGHT.
const perTask = (way, size, many) => round2(figures[nameOf(way, size, many)].p50 / (many ? IN_FLIGHT : 1));
const results = {};
for (const many of [false, true]) {
  const key = many ? 'manyInFlight' : 'oneInFlight';
  const floor = perTask('empty', 0, many);
  results[key] = {
    inFlight: many ? IN_FLIGHT : 1,
    emptyTaskNs: floor,
    sizes: SIZES.map((size) => {
      const ns = Object.fromEntries(WAYS.map((way) => [way, perTask(way, size, many)]));
      return {
        size,
        nsPerTask: ns,
        idOverFloorNs: round2(ns.id - floor),
        idIsFaster: { copy: round2(ns.copy / ns.id), move: round2(ns.move / ns.id) },
      };
    }),
  };
  console.log(
    `\nPart 5 summary, ${many ? `${IN_FLIGHT} tasks in flight` : 'one task in flight'}: median time per task (the empty task: ${fmtNs(floor)})`,
  );
  console.log(
    table([
      ['payload', 'copy', 'Piscina.move', 'slab id', 'id minus floor', 'id vs copy', 'id vs move'],
      ...results[key].sizes.map((s) => [
        fmtBytes(s.size),
        fmtNs(s.nsPerTask.copy),
        fmtNs(s.nsPerTask.move),
        fmtNs(s.nsPerTask.id),
        fmtNs(s.idOverFloorNs),
        `${fmtRatio(s.idIsFaster.copy)} faster`,
        `${fmtRatio(s.idIsFaster.move)} faster`,
      ]),
    ]),
  );
}
const stats = pool.stats();
// The piscina threads were destroyed without close(): slabs they had cached stay counted as cached.
const leased = stats.classes.reduce((n, c) => n + c.leased, 0);
console.log(
  leased === 0
    ? 'every slab sent was released by a task (none leased at the end)'
    : `WARNING: ${leased} slabs still leased at the end`,
);
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

writeFigures(options, {
  part: 'piscina',
  title: 'piscina end to end: copy vs Piscina.move vs slab ids',
  threads: THREADS,
  method: 'mitata median per run() (one in flight) or per batch of 16 run() calls divided by 16; same process, same piscina',
  ...results,
  leasedAfter: leased,
  poolActivity,
});
