// The core pool's first benchmark: one thread, a warm cache, 64 KiB slabs, beside the allocations
// a user would otherwise make, in the same run. Every case writes to the memory it takes and reads
// it back. Also reports garbage per operation (mitata's heap figure) and metadata overhead.
//
// The machine is shared and noisy, so the three cases run in several rounds, each in a fresh
// process (a round run after another measured slower: the previous round's garbage and JIT state
// leak into it), and the report quotes the median of the rounds' medians and of their ratios.
//
//   node --expose-gc bench/core.bench.mjs           full run (5 rounds), recorded in bench/results/
//   node --expose-gc bench/core.bench.mjs --quick   1 short round in this process, for CI (checks
//                                                   it runs, not speed)
//   --json <path>                                   write the record there instead (the suite runner
//                                                   folds it into its results file)
// A recorded file is never overwritten: a second full run on the same day gets a -2, -3... suffix.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SlabPool } from '@zeropool/core';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { inlineCycles } from './lib/anatomy.mjs';
import { fmtHeap, fmtNs, fmtRatio, round } from './lib/format.mjs';
import {
  coreRevision,
  cpuNote,
  currentCpu,
  machineInfo,
  machineTag,
  measureCases,
  median,
  parseOptions,
} from './lib/harness.mjs';

const options = parseOptions();
const { quick, json: jsonPath } = options;
const oneRound = process.argv.includes('--one-round');
const rounds = quick ? 1 : 5;
const SIZE = 64 * 1024;
const POOL = 'pool acquire+bytes+release 64 KiB (cache hit)';
const ALLOC = 'Buffer.allocUnsafe(65536)';
const SAB = 'new SharedArrayBuffer(65536)';
const INLINE_CAS = "the pool's steps inline, with its compare-exchange";
const INLINE_PLAIN = 'the same steps, a plain load and store instead';

const pool = new SlabPool({ arenaBytes: 64 * 1024 * 1024 });
// Warm the cache: the measured loop must hit it.
pool.release(pool.acquire(SIZE));

let sink = 0;
const poolCase = () => {
  const id = pool.acquire(SIZE);
  const view = pool.bytes(id);
  view[0] = 1;
  view[SIZE - 1] = 2;
  sink += view[0] + view[SIZE - 1];
  pool.release(id);
};
const allocCase = () => {
  const view = Buffer.allocUnsafe(SIZE);
  view[0] = 1;
  view[SIZE - 1] = 2;
  sink += view[0] + view[SIZE - 1];
  do_not_optimize(view);
};
const sabCase = () => {
  const view = new Uint8Array(new SharedArrayBuffer(SIZE));
  view[0] = 1;
  view[SIZE - 1] = 2;
  sink += view[0] + view[SIZE - 1];
  do_not_optimize(view);
};
// Where the pool's time goes (lib/anatomy.mjs): its cycle written out inline, with and without the
// compare-exchange that makes a racing double release fail.
const inline = inlineCycles(pool, SIZE);
const CASES = [
  { key: 'pool', name: POOL, fn: poolCase, baseline: true },
  { key: 'alloc', name: ALLOC, fn: allocCase },
  { key: 'sab', name: SAB, fn: sabCase },
  { key: 'inlineCas', name: INLINE_CAS, fn: inline.withCompareExchange },
  { key: 'inlinePlain', name: INLINE_PLAIN, fn: inline.withPlainStore },
];
// mitata forgets registered benchmarks after a run, so each round registers them again.
const register = () =>
  summary(() => {
    for (const c of CASES) bench(c.name, c.fn).baseline(!!c.baseline);
  });

/**
 * One round in this process: mitata's run() with its own budget, or for quick runs measureCases
 * (lib/harness.mjs), since run() takes no budget and calibrates for seconds first.
 */
async function measureRound() {
  const cpuAtStart = currentCpu();
  let stats;
  if (quick) {
    const figures = await measureCases([{ title: 'quick round (one process, small budget)', cases: CASES }], { options });
    stats = (name) => figures[name];
  } else {
    register();
    const { benchmarks } = await run({ print: () => {} });
    const byName = Object.fromEntries(benchmarks.map((b) => [b.alias, b.runs[0].stats]));
    stats = (name) => ({ p50: byName[name].p50, heap: byName[name].heap?.avg });
  }
  const figures = Object.fromEntries(CASES.map((c) => [c.key, stats(c.name).p50]));
  return { ...figures, heap: stats(POOL).heap ?? undefined, cpuAtStart, cpu: currentCpu(), sink };
}

if (oneRound) {
  console.log(JSON.stringify(await measureRound()));
  process.exit(0);
}
const perRound = quick ? [await measureRound()] : [];
for (let k = 1; !quick && k <= rounds; k++) {
  process.stdout.write(`round ${k} of ${rounds} (a fresh process each) ... `);
  const args = ['--expose-gc', fileURLToPath(import.meta.url), '--one-round'];
  const line = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop();
  const result = JSON.parse(line);
  perRound.push(result);
  console.log(
    `pool ${fmtNs(result.pool)}, allocUnsafe ${fmtNs(result.alloc)}, SharedArrayBuffer ${fmtNs(result.sab)}${cpuNote(result.cpuAtStart, result.cpu)}`,
  );
}
// The last round again in this process, printed in full, so mitata's own summary is on screen.
if (!quick) {
  register();
  await run();
}
const poolNs = median(perRound.map((r) => r.pool));
const allocNs = median(perRound.map((r) => r.alloc));
const sabNs = median(perRound.map((r) => r.sab));
const overAlloc = median(perRound.map((r) => r.alloc / r.pool));
const overSab = median(perRound.map((r) => r.sab / r.pool));
const inlineCasNs = median(perRound.map((r) => r.inlineCas));
const inlinePlainNs = median(perRound.map((r) => r.inlinePlain));
const heaps = perRound.map((r) => r.heap).filter((h) => h !== undefined);
const heap = heaps.length ? median(heaps) : undefined;

// Metadata overhead with 4 KiB slabs: fill a pool with 4 KiB slabs and compare.
const small = new SlabPool({ arenaBytes: 64 * 1024 * 1024, minSlabSize: 4096 });
const held = [];
for (let id = small.tryAcquire(4096); id !== -1; id = small.tryAcquire(4096)) held.push(id);
const full = small.stats();
const overheadPct = ((full.metadataBytes + full.overheadBytes) / full.arenaBytes) * 100;

console.log('');
const m = machineInfo();
console.log(
  `machine: ${m.cpu}, ${m.cores} CPUs, ${m.memoryGiB} GiB; node ${m.node}${quick ? ' (quick run: figures are rough)' : ''}`,
);
console.log(`medians of ${rounds} round(s); per-round pool medians: ${perRound.map((r) => fmtNs(r.pool)).join(', ')}`);
console.log(`pool acquire+bytes+release 64 KiB: ${fmtNs(poolNs)} (goal <= 25 ns)`);
console.log(
  `Buffer.allocUnsafe(65536): ${fmtNs(allocNs)}; pool is ${fmtRatio(overAlloc)} faster (goal >= 50x; per round: ${perRound.map((r) => fmtRatio(r.alloc / r.pool)).join(', ')})`,
);
console.log(`new SharedArrayBuffer(65536): ${fmtNs(sabNs)}; pool is ${fmtRatio(overSab)} faster`);
console.log(
  `where the pool's time goes: its steps inline take ${fmtNs(inlineCasNs)} with the compare-exchange, ${fmtNs(inlinePlainNs)} with a plain load and store instead: detecting a racing double release costs ${fmtNs(inlineCasNs - inlinePlainNs)} of the pool's ${fmtNs(poolNs)} here`,
);
console.log(`pool heap per iteration (mitata): ${heap === undefined ? 'n/a (run with --expose-gc)' : fmtHeap(heap)}`);
console.log(
  `metadata + fixed overhead, 64 MiB arena of 4 KiB slabs (${held.length} slabs): ${overheadPct.toFixed(2)}% (goal <= 1%)`,
);
if (sink === -1) console.log(sink);

// Full runs are recorded, so every figure quoted elsewhere can point at the run it came from.
if (!quick || jsonPath) {
  const stem = `${new Date().toISOString().slice(0, 10)}-${machineTag()}-core`;
  let name = `${stem}.json`;
  for (let n = 2; !jsonPath && existsSync(new URL(`./results/${name}`, import.meta.url)); n++) name = `${stem}-${n}.json`;
  const record = {
    benchmark: 'bench/core.bench.mjs',
    quick,
    date: new Date().toISOString(),
    node: m.node,
    cpu: m.cpu,
    cores: m.cores,
    core: coreRevision(),
    rounds,
    medianNs: {
      poolAcquireBytesRelease64KiB: round(poolNs),
      bufferAllocUnsafe64KiB: round(allocNs),
      newSharedArrayBuffer64KiB: round(sabNs),
    },
    speedup: { overAllocUnsafe: round(overAlloc), overSharedArrayBuffer: round(overSab) },
    // lib/anatomy.mjs: the pool's cycle inline, with its compare-exchange and with a plain store.
    anatomyNs: { inlineWithCompareExchange: round(inlineCasNs), inlineWithPlainStore: round(inlinePlainNs) },
    poolHeapBytesPerIteration: heap === undefined ? null : round(heap),
    overheadPercent4KiBSlabs: round(overheadPct),
    perRound: perRound.map((r) => ({
      pool: round(r.pool),
      alloc: round(r.alloc),
      sab: round(r.sab),
      inlineCas: round(r.inlineCas),
      inlinePlain: round(r.inlinePlain),
      // The CPU the round's process was on when it started and when it ended (see currentCpu in
      // lib/harness.mjs).
      cpuAtStart: r.cpuAtStart ?? null,
      cpuAtEnd: r.cpu ?? null,
    })),
  };
  if (jsonPath) {
    writeFileSync(jsonPath, `${JSON.stringify(record, null, 2)}\n`);
  } else {
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL(`./results/${name}`, import.meta.url), `${JSON.stringify(record, null, 2)}\n`);
    console.log(`recorded in bench/results/${name}`);
  }
}
