// The benchmark suite: runs every program in bench/ in its own process, one after another, times
// each part, notes how busy the machine was with other work meanwhile, and writes one results
// file with every figure. Full runs then turn it into the tables of bench/RESULTS.md and SVG charts
// (bench/report.mjs).
//
//   node --expose-gc bench/run.mjs            full run (pnpm bench): bench/results/<date>-<machine>.json
//   node --expose-gc bench/run.mjs --quick    everything small (pnpm bench:quick, CI): results and a
//                                             trial report go to a temporary directory; the
//                                             repository is left untouched
//   --only a,b     run only these parts        --out <path>   write the results file there
//   --no-report    skip bench/report.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coreRevision, machineInfo, machineTag, table } from './lib/harness.mjs';
import { loadProbe } from './lib/load.mjs';
import { mustReach } from './lib/must-reach.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const only = value('--only')?.split(',');
const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Parts in running order, with each one's full-run budget on a 2-core machine otherwise idle, a
 * little above what it takes there; the whole suite must stay under 10 minutes.
 */
const PARTS = [
  { name: 'core', file: 'core.bench.mjs', title: 'the core benchmark (64 KiB, one thread, fresh-process rounds)', budgetSec: 65 },
  { name: 'single-thread', file: 'single-thread.bench.mjs', title: 'single thread, per size', budgetSec: 80 },
  { name: 'cache-patterns', file: 'cache-patterns.bench.mjs', title: "the Rust crate's cache patterns", budgetSec: 45 },
  { name: 'xmalloc', file: 'xmalloc.bench.mjs', title: 'xmalloc-test', budgetSec: 15 },
  { name: 'larson', file: 'larson.bench.mjs', title: 'larson', budgetSec: 15 },
  { name: 'cache-scratch', file: 'cache-scratch.bench.mjs', title: 'cache-scratch', budgetSec: 20 },
  { name: 'alloc-test', file: 'alloc-test.bench.mjs', title: 'alloc-test', budgetSec: 15 },
  { name: 'scaling', file: 'scaling.bench.mjs', title: 'multi-thread scaling', budgetSec: 45 },
  { name: 'piscina', file: 'piscina.bench.mjs', title: 'piscina end to end', budgetSec: 60 },
  { name: 'channel', file: 'channel.bench.mjs', title: 'channels between two workers', budgetSec: 150 },
].filter((p) => !only || only.includes(p.name));

const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ZEROPOOL_')));
if (Object.keys(env).length > 0)
  console.log(
    `note: ${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} is set and applies to every pool in this run`,
  );

const work = mkdtempSync(join(tmpdir(), 'zeropool-bench-'));
const machine = machineInfo();
const started = Date.now();
const suiteProbe = loadProbe(machine.cores);
const results = {
  suite: 'zeropool-bench',
  formatVersion: 1,
  quick,
  date: new Date().toISOString(),
  machine,
  core: coreRevision(),
  environment: env,
  loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  parts: {},
};
console.log(
  `zeropool benchmark suite${quick ? ' (QUICK: small batches, rough figures; checks that everything runs)' : ''}: ${PARTS.length} parts on ${machine.cpu}, ${machine.cores} CPUs, node ${machine.node}`,
);

const failures = [];
for (const [k, part] of PARTS.entries()) {
  console.log(
    `\n######## [${k + 1}/${PARTS.length}] ${part.name}: ${part.title}${quick ? '' : ` (budget ${part.budgetSec} s)`} ########`,
  );
  const json = join(work, `${part.name}.json`);
  const probe = loadProbe(machine.cores);
  const t0 = Date.now();
  // A part that hangs (a worker waiting for a signal that never comes) must not hang CI: it is
  // stopped after four times its budget (2 minutes in quick runs) and reported as failed.
  const child = spawnSync(process.execPath, ['--expose-gc', here(part.file), ...(quick ? ['--quick'] : []), '--json', json], {
    stdio: 'inherit',
    timeout: (quick ? 120 : 4 * part.budgetSec) * 1000,
  });
  const durationSec = Math.round((Date.now() - t0) / 100) / 10;
  const load = probe();
  if (child.status !== 0 || !existsSync(json)) {
    failures.push(part.name);
    console.log(`!! ${part.name} failed (exit ${child.status ?? child.signal})`);
    results.parts[part.name] = { failed: true, durationSec };
    continue;
  }
  const figures = JSON.parse(readFileSync(json, 'utf8'));
  delete figures.machine;
  results.parts[part.name] = {
    ...figures,
    file: `bench/${part.file}`,
    durationSec,
    otherProcessesCores: load?.otherCores ?? null,
  };
  console.log(
    `-- ${part.name} took ${durationSec} s${load ? `; other processes used ${load.otherCores} of ${machine.cores} cores meanwhile${load.otherCores > 0.2 ? ' (multi-thread figures are unreliable under such load)' : ''}` : ''}`,
  );
}
results.durationSec = Math.round((Date.now() - started) / 100) / 10;
const suiteLoad = suiteProbe();
results.otherProcessesCores = suiteLoad?.otherCores ?? null;
results.mustReach = mustReach(results);

console.log(`\n######## summary ########`);
console.log(
  table([
    ['part', 'seconds', quick ? 'budget (full run)' : 'budget', 'other load (cores)'],
    ...PARTS.map((p) => [
      p.name,
      String(results.parts[p.name]?.durationSec ?? '-'),
      String(p.budgetSec),
      String(results.parts[p.name]?.otherProcessesCores ?? 'n/a'),
    ]),
    [
      'total',
      String(results.durationSec),
      String(PARTS.reduce((n, p) => n + p.budgetSec, 0)),
      String(results.otherProcessesCores ?? 'n/a'),
    ],
  ]),
);
if (results.mustReach.length) {
  console.log(`\nthe goals this suite was built to check${quick ? ' (QUICK RUN: rough, not a verdict)' : ''}:`);
  for (const m of results.mustReach)
    console.log(`  ${m.met ? 'met   ' : 'MISSED'}  ${m.goal}: ${m.measured}${m.unit ? ` ${m.unit}` : ''} (${m.where})`);
}

// Full runs go to bench/results/<date>-<machine>.json, never over an earlier file.
let out = value('--out');
if (!out) {
  if (quick) {
    out = join(work, `${new Date().toISOString().slice(0, 10)}-${machineTag()}-quick.json`);
  } else {
    const stem = `${new Date().toISOString().slice(0, 10)}-${machineTag()}`;
    out = here(`./results/${stem}.json`);
    for (let n = 2; existsSync(out); n++) out = here(`./results/${stem}-${n}.json`);
  }
}
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults: ${out}`);

if (!argv.includes('--no-report') && failures.length === 0) {
  // Quick runs render into the temporary directory: charts and a RESULTS.md the repository never sees.
  const reportArgs = ['--results', out, ...(quick ? ['--out-dir', work] : [])];
  const report = spawnSync(process.execPath, [here('report.mjs'), ...reportArgs], { stdio: 'inherit' });
  if (report.status !== 0) failures.push('report');
}
if (failures.length) {
  console.log(`\nFAILED: ${failures.join(', ')}`);
  process.exit(1);
}
console.log(`suite finished in ${results.durationSec} s`);
