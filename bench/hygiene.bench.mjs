// What the hygiene options cost: acquire + write + read + release with the pool plain, with
// zeroOnRelease, with zeroOnAcquire and in debug mode (poison on release, checked on acquire), at
// 4 KiB and 64 KiB, beside Buffer.alloc (the zero-filled allocation a user would otherwise make).
// One thread, warm cache, mitata medians; recorded in bench/results/<date>-<machine>-hygiene.json
// on full runs.
//
//   node --expose-gc bench/hygiene.bench.mjs [--quick]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { SlabPool } from '@zeropool/core';
import { do_not_optimize } from 'mitata';
import { fmtBytes, fmtNs, round } from './lib/format.mjs';
import { machineInfo, machineTag, measureCases, parseOptions } from './lib/harness.mjs';

const options = parseOptions();
const SIZES = [4096, 65536];
const VARIANTS = [
  ['plain', {}],
  ['zeroOnRelease', { zeroOnRelease: true }],
  ['zeroOnAcquire', { zeroOnAcquire: true }],
  ['debug', { debug: true }],
];
let sink = 0;
const groups = SIZES.map((size) => {
  const cases = VARIANTS.map(([name, poolOptions]) => {
    const pool = new SlabPool({ arenaBytes: 16 << 20, parallelism: 2, ...poolOptions });
    pool.release(pool.acquire(size));
    const fn = () => {
      const id = pool.acquire(size);
      const view = pool.bytes(id);
      view[0] = 1;
      view[size - 1] = 2;
      sink += view[0] + view[size - 1];
      pool.release(id);
    };
    return { name: `${name} ${size}`, fn, baseline: name === 'plain' };
  });
  const allocFn = () => {
    const view = Buffer.alloc(size);
    view[0] = 1;
    view[size - 1] = 2;
    sink += view[0] + view[size - 1];
    do_not_optimize(view);
  };
  return {
    title: `${fmtBytes(size)}, one thread (plain pool = baseline)`,
    cases: [...cases, { name: `Buffer.alloc ${size}`, fn: allocFn }],
  };
});
const figures = await measureCases(groups, { options });
const medians = Object.fromEntries(Object.entries(figures).map(([name, f]) => [name, round(f.p50, 1)]));
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
if (!options.quick) {
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
