// What the hygiene options cost: acquire + write + read + release with the pool plain, with
// zeroOnRelease, with zeroOnAcquire and in debug mode (poison on release, checked on acquire), at
// 4 KiB and 64 KiB, beside Buffer.alloc (the zero-filled allocation a user would otherwise make).
// One thread, warm cache, mitata medians; recorded in bench/results/<date>-<machine>-hygiene.json
// on full runs.
//
//   node --expose-gc bench/hygiene.bench.mjs [--quick]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { SlabPool } from '@zeropool/core';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { fmtBytes, fmtNs, round } from './lib/format.mjs';
import { machineInfo, machineTag } from './lib/harness.mjs';

const quick = process.argv.includes('--quick');
const SIZES = [4096, 65536];
const VARIANTS = [
  ['plain', {}],
  ['zeroOnRelease', { zeroOnRelease: true }],
  ['zeroOnAcquire', { zeroOnAcquire: true }],
  ['debug', { debug: true }],
];
let sink = 0;
for (const size of SIZES) {
  summary(() => {
    for (const [name, options] of VARIANTS) {
      const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, ...options });
      pool.release(pool.acquire(size));
      bench(`${name} ${size}`, () => {
        const id = pool.acquire(size);
        const view = pool.bytes(id);
        view[0] = 1;
        view[size - 1] = 2;
        sink += view[0] + view[size - 1];
        pool.release(id);
      });
    }
    bench(`Buffer.alloc ${size}`, () => {
      const view = Buffer.alloc(size);
      view[0] = 1;
      view[size - 1] = 2;
      sink += view[0] + view[size - 1];
      do_not_optimize(view);
    });
  });
}
const results = await run(quick ? { min_cpu_time: 20e6, max_samples: 100 } : {});
const medians = {};
for (const b of results.benchmarks) medians[b.alias] = round(b.runs[0].stats.p50, 1);
console.log('');
for (const size of SIZES) {
  const plain = medians[`plain ${size}`];
  const line = VARIANTS.slice(1).map(([name]) => {
    const ns = medians[`${name} ${size}`];
    return `${name} ${fmtNs(ns)} (+${fmtNs(ns - plain)})`;
  });
  console.log(
    `${fmtBytes(size)}: plain ${fmtNs(plain)}; ${line.join('; ')}; Buffer.alloc ${fmtNs(medians[`Buffer.alloc ${size}`])}`,
  );
}
if (!quick) {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  let name = `${new Date().toISOString().slice(0, 10)}-${machineTag()}-hygiene.json`;
  for (let k = 2; existsSync(new URL(name, dir)); k++) name = name.replace(/(-\d+)?\.json$/, `-${k}.json`);
  writeFileSync(
    new URL(name, dir),
    `${JSON.stringify({ benchmark: 'bench/hygiene.bench.mjs', date: new Date().toISOString(), ...machineInfo(), medianNs: medians }, null, 2)}\n`,
  );
  console.log(`recorded in bench/results/${name}`);
}
if (sink === -1) console.log(sink);
