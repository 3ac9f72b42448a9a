// The core pool's first benchmark: one thread, a warm cache, 64 KiB slabs, beside the allocations
// a user would otherwise make, in the same run. Every case writes to the memory it takes and reads
// it back. Also reports garbage per operation (mitata's heap figure) and metadata overhead.
//
//   node --expose-gc bench/core.bench.mjs           full run
//   node --expose-gc bench/core.bench.mjs --quick   short samples, for CI (checks it runs, not speed)
import { availableParallelism, cpus, totalmem } from 'node:os';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { SlabPool } from '@zeropool/core';

const quick = process.argv.includes('--quick');
const SIZE = 64 * 1024;
const pool = new SlabPool({ arenaBytes: 64 * 1024 * 1024 });
// Warm the cache: the measured loop must hit it.
pool.release(pool.acquire(SIZE));

let sink = 0;
summary(() => {
  bench('pool acquire+bytes+release 64 KiB (cache hit)', () => {
    const id = pool.acquire(SIZE);
    const view = pool.bytes(id);
    view[0] = 1;
    view[SIZE - 1] = 2;
    sink += view[0] + view[SIZE - 1];
    pool.release(id);
  }).baseline(true);
  bench('Buffer.allocUnsafe(65536)', () => {
    const view = Buffer.allocUnsafe(SIZE);
    view[0] = 1;
    view[SIZE - 1] = 2;
    sink += view[0] + view[SIZE - 1];
    do_not_optimize(view);
  });
  bench('new SharedArrayBuffer(65536)', () => {
    const view = new Uint8Array(new SharedArrayBuffer(SIZE));
    view[0] = 1;
    view[SIZE - 1] = 2;
    sink += view[0] + view[SIZE - 1];
    do_not_optimize(view);
  });
});

const results = await run(quick ? { min_cpu_time: 20e6, max_samples: 200 } : {});
const median = (name) => results.benchmarks.find((b) => b.alias === name).runs[0].stats;
const poolStats = median('pool acquire+bytes+release 64 KiB (cache hit)');
const allocStats = median('Buffer.allocUnsafe(65536)');
const sabStats = median('new SharedArrayBuffer(65536)');

// Metadata overhead with 4 KiB slabs: fill a pool with 4 KiB slabs and compare.
const small = new SlabPool({ arenaBytes: 64 * 1024 * 1024, minSlabSize: 4096 });
const held = [];
for (let id = small.tryAcquire(4096); id !== -1; id = small.tryAcquire(4096)) held.push(id);
const full = small.stats();
const overheadPct = ((full.metadataBytes + full.overheadBytes) / full.arenaBytes) * 100;

console.log('');
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} CPUs, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}${quick ? ' (quick run: figures are rough)' : ''}`);
console.log(`pool acquire+release 64 KiB median: ${poolStats.p50.toFixed(1)} ns (goal <= 25 ns)`);
console.log(`Buffer.allocUnsafe(65536) median: ${allocStats.p50.toFixed(1)} ns -> pool is ${(allocStats.p50 / poolStats.p50).toFixed(0)}x faster (goal >= 50x)`);
console.log(`new SharedArrayBuffer(65536) median: ${sabStats.p50.toFixed(1)} ns -> pool is ${(sabStats.p50 / poolStats.p50).toFixed(0)}x faster`);
console.log(`pool heap per iteration (mitata, avg): ${poolStats.heap ? poolStats.heap.avg.toFixed(1) + ' bytes' : 'n/a (run with --expose-gc)'}`);
console.log(`metadata + fixed overhead, 64 MiB arena of 4 KiB slabs (${held.length} slabs): ${overheadPct.toFixed(2)}% (goal <= 1%)`);
if (sink === -1) console.log(sink);
