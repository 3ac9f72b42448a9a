// The id format, side by side: today's pool (ids `generation * 2^32 + slab`, a 21-bit generation,
// thread caches of slab indexes) against the last design with 31-bit ids (`generation << indexBits
// | slab`, as few as 5 generation bits), bundled from commit b33a735 in bench/baseline/ with the
// package build's options. Both run the cache-hit cycle of bench/core.bench.mjs (acquire + bytes +
// release of 64 KiB, writing and reading the slab) and a batch case (16 ids of 4 KiB held in a
// plain array, then released), where ids leave the pool's code as values. mitata's heap column
// says whether an id above 2^31 became a heap number (16 bytes) on the way.
//
// The machine is shared and noisy, so the designs alternate, each round in a fresh process (a
// round run after another in the same process measured slower), the first design of a round
// alternating too; the report quotes medians over rounds and the median of the per-pair ratios.
//
//   node --expose-gc bench/id-format.bench.mjs            full run (8 rounds of each), recorded in bench/results/
//   node --expose-gc bench/id-format.bench.mjs --quick    1 round of each, not recorded
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { do_not_optimize, bench as mitataBench, run } from 'mitata';
import { fmtHeap, fmtNs, round } from './lib/format.mjs';
import { coreRevision, cpuNote, currentCpu, machineInfo, machineTag, median } from './lib/harness.mjs';

const BASELINE_COMMIT = 'b33a735';
const quick = process.argv.includes('--quick');
const designArg = process.argv.indexOf('--design');
const rounds = quick ? 1 : 8;
const SIZE = 64 * 1024;
const BATCH = 16;
const BATCH_SIZE = 4096;
const CYCLE = 'acquire+bytes+release 64 KiB (cache hit)';
const BATCHED = `${BATCH} ids of 4 KiB in an array, then released`;

if (designArg !== -1) {
  // One round of one design, in this fresh process.
  const design = process.argv[designArg + 1];
  const { SlabPool } = await import(design === 'baseline' ? `./baseline/core-${BASELINE_COMMIT}.mjs` : '@zeropool/core');
  const pool = new SlabPool({ arenaBytes: 64 * 1024 * 1024 });
  // Warm the caches: the measured loops must hit them.
  pool.release(pool.acquire(SIZE));
  const warm = Array.from({ length: BATCH }, () => pool.acquire(BATCH_SIZE));
  for (const id of warm) pool.release(id);
  let sink = 0;
  const ids = [];
  const cpuAtStart = currentCpu();
  mitataBench(CYCLE, () => {
    const id = pool.acquire(SIZE);
    const view = pool.bytes(id);
    view[0] = 1;
    view[SIZE - 1] = 2;
    sink += view[0] + view[SIZE - 1];
    pool.release(id);
  });
  mitataBench(BATCHED, () => {
    for (let i = 0; i < BATCH; i++) ids[i] = pool.acquire(BATCH_SIZE);
    for (let i = 0; i < BATCH; i++) pool.bytes(ids[i])[0] = i;
    for (let i = BATCH - 1; i >= 0; i--) pool.release(ids[i]);
    do_not_optimize(ids);
  });
  const results = await run({ print: () => {} });
  const stats = (name) => results.benchmarks.find((b) => b.alias === name).runs[0].stats;
  const figures = {
    cycle: stats(CYCLE).p50,
    cycleHeap: stats(CYCLE).heap?.avg ?? null,
    batch: stats(BATCHED).p50,
    batchHeap: stats(BATCHED).heap?.avg ?? null,
    cpuAtStart,
    cpu: currentCpu(),
    sink,
  };
  console.log(JSON.stringify(figures));
  process.exit(0);
}

const oneRound = (design) => {
  const args = ['--expose-gc', fileURLToPath(import.meta.url), '--design', design];
  const line = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop();
  return JSON.parse(line);
};
const perRound = [];
for (let k = 1; k <= rounds; k++) {
  // Alternate which design goes first, so neither always runs on a machine warmed by the other.
  const order = k % 2 === 1 ? ['baseline', 'current'] : ['current', 'baseline'];
  const pair = {};
  for (const design of order) {
    process.stdout.write(`round ${k} of ${rounds}, ${design} (a fresh process) ... `);
    const result = oneRound(design);
    pair[design] = result;
    console.log(`${CYCLE}: ${fmtNs(result.cycle)}, batch: ${fmtNs(result.batch)}${cpuNote(result.cpuAtStart, result.cpu)}`);
  }
  perRound.push(pair);
}

const summary = (key) => ({
  baseline: median(perRound.map((r) => r.baseline[key])),
  current: median(perRound.map((r) => r.current[key])),
  ratio: median(perRound.map((r) => r.current[key] / r.baseline[key])),
});
const heapOf = (design, key) => {
  const values = perRound.map((r) => r[design][key]).filter((v) => v !== null);
  return values.length ? median(values) : null;
};
const cycle = summary('cycle');
const batch = summary('batch');
const m = machineInfo();
console.log('');
console.log(
  `machine: ${m.cpu}, ${m.cores} CPUs, ${m.memoryGiB} GiB; node ${m.node}${quick ? ' (quick run: figures are rough)' : ''}`,
);
console.log(`medians of ${rounds} round(s) of each design, alternating, each in a fresh process`);
console.log(
  `${CYCLE}: 31-bit ids (${BASELINE_COMMIT}) ${fmtNs(cycle.baseline)}, today ${fmtNs(cycle.current)}: ratio ${cycle.ratio.toFixed(3)} (goal <= 1.2; per round: ${perRound.map((r) => (r.current.cycle / r.baseline.cycle).toFixed(2)).join(', ')})`,
);
console.log(
  `${BATCHED}: 31-bit ids ${fmtNs(batch.baseline)}, today ${fmtNs(batch.current)}: ratio ${batch.ratio.toFixed(3)} (per round: ${perRound.map((r) => (r.current.batch / r.baseline.batch).toFixed(2)).join(', ')})`,
);
console.log(
  `heap per iteration (mitata): cycle ${fmtHeap(heapOf('baseline', 'cycleHeap'))} -> ${fmtHeap(heapOf('current', 'cycleHeap'))}; batch ${fmtHeap(heapOf('baseline', 'batchHeap'))} -> ${fmtHeap(heapOf('current', 'batchHeap'))}`,
);

if (!quick) {
  const stem = `${new Date().toISOString().slice(0, 10)}-${machineTag()}-id-format`;
  let name = `${stem}.json`;
  for (let n = 2; existsSync(new URL(`./results/${name}`, import.meta.url)); n++) name = `${stem}-${n}.json`;
  const record = {
    benchmark: 'bench/id-format.bench.mjs',
    date: new Date().toISOString(),
    node: m.node,
    cpu: m.cpu,
    cores: m.cores,
    core: coreRevision(),
    baseline: `bench/baseline/core-${BASELINE_COMMIT}.mjs`,
    rounds,
    medianNs: {
      cycle64KiB: { baseline31BitIds: round(cycle.baseline), current: round(cycle.current), ratio: round(cycle.ratio) },
      batch16x4KiB: { baseline31BitIds: round(batch.baseline), current: round(batch.current), ratio: round(batch.ratio) },
    },
    heapBytesPerIteration: {
      cycle64KiB: { baseline31BitIds: round(heapOf('baseline', 'cycleHeap')), current: round(heapOf('current', 'cycleHeap')) },
      batch16x4KiB: {
        baseline31BitIds: round(heapOf('baseline', 'batchHeap')),
        current: round(heapOf('current', 'batchHeap')),
      },
    },
    perRound: perRound.map((r) =>
      Object.fromEntries(
        ['baseline', 'current'].map((design) => [
          design,
          {
            cycle: round(r[design].cycle),
            cycleHeap: round(r[design].cycleHeap),
            batch: round(r[design].batch),
            batchHeap: round(r[design].batchHeap),
            cpuAtStart: r[design].cpuAtStart ?? null,
            cpuAtEnd: r[design].cpu ?? null,
          },
        ]),
      ),
    ),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${name}`, import.meta.url), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`recorded in bench/results/${name}`);
}
