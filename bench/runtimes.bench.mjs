// The single-thread cycle and the worker-to-worker hand-off on Node, Bun and Deno, in one run
// (bench/runtimes/probe.mjs, a fresh process per round, the runtimes alternating): ns per 64 KiB
// cache-hit cycle beside a fresh `new Uint8Array`, and 4 KiB slabs per second from one worker to
// another through a shared-memory ring of ids beside the same ids by `MessagePort`. Medians over
// rounds. Bun and Deno come from the npm packages @oven/bun-linux-x64 and @deno/linux-x64-glibc,
// installed on first use under node_modules/.cache (or give ZEROPOOL_BUN and ZEROPOOL_DENO).
//
//   node bench/runtimes.bench.mjs            3 rounds of each, recorded in bench/results/
//   node bench/runtimes.bench.mjs --quick    1 round of each, not recorded
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineInfo, median, recordResults } from './lib/harness.mjs';

const quick = process.argv.includes('--quick');
const rounds = quick ? 1 : 3;
const root = fileURLToPath(new URL('../', import.meta.url));
const cache = `${root}node_modules/.cache/zeropool-runtimes`;

/** The binary a package carries, installed under node_modules/.cache unless `envPath` is set. */
function binary(envPath, pkg, inside) {
  if (envPath) return envPath;
  const path = `${cache}/${pkg.split('/')[1]}/node_modules/${pkg}/${inside}`;
  if (!existsSync(path)) {
    console.log(`installing ${pkg} (npm) ...`);
    const dir = `${cache}/${pkg.split('/')[1]}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/package.json`, '{ "private": true }\n');
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', pkg], { stdio: 'ignore' });
  }
  return path;
}

const runtimes = [
  { name: 'Node', command: [process.execPath] },
  { name: 'Bun', command: [binary(process.env.ZEROPOOL_BUN, '@oven/bun-linux-x64', 'bin/bun')] },
  { name: 'Deno', command: [binary(process.env.ZEROPOOL_DENO, '@deno/linux-x64-glibc', 'deno'), 'run', '-A'] },
];
const probe = fileURLToPath(new URL('./runtimes/probe.mjs', import.meta.url));
const results = Object.fromEntries(runtimes.map((r) => [r.name, []]));
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? runtimes : [...runtimes].reverse();
  for (const { name, command } of order) {
    process.stdout.write(`round ${round} of ${rounds}, ${name} (a fresh process) ... `);
    const line = execFileSync(command[0], [...command.slice(1), probe], {
      encoding: 'utf8',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
    });
    const result = JSON.parse(line.trim().split('\n').pop());
    results[name].push(result);
    console.log(
      `${result.runtime}: cycle ${result.cycle.toFixed(1)} ns (new Uint8Array ${result.fresh.toFixed(0)} ns); ` +
        `hand-off ${(result.ring / 1e6).toFixed(2)} M slabs/s by ring, ${(result.port / 1e6).toFixed(2)} M by MessagePort`,
    );
  }
}

const m = machineInfo();
console.log(`\nmachine: ${m.cpu}, ${m.cores} CPUs, ${m.memoryGiB} GiB${quick ? ' (quick run: rough figures)' : ''}`);
console.log(`medians of ${rounds} round(s) of each runtime, each in a fresh process`);
const rows = runtimes.map(({ name }) => {
  const of = (key) => median(results[name].map((r) => r[key]));
  return {
    runtime: results[name][0].runtime,
    cycleNs: of('cycle'),
    freshUint8ArrayNs: of('fresh'),
    ringSlabsPerSecond: of('ring'),
    portSlabsPerSecond: of('port'),
  };
});
for (const r of rows) {
  console.log(
    `${r.runtime.padEnd(14)} cache hit ${r.cycleNs.toFixed(1)} ns, new Uint8Array ${r.freshUint8ArrayNs.toFixed(0)} ns ` +
      `(${(r.freshUint8ArrayNs / r.cycleNs).toFixed(0)}x); hand-off ${(r.ringSlabsPerSecond / 1e6).toFixed(2)} M slabs/s by ring, ` +
      `${(r.portSlabsPerSecond / 1e6).toFixed(2)} M by MessagePort (${(r.ringSlabsPerSecond / r.portSlabsPerSecond).toFixed(1)}x)`,
  );
}
if (!quick) {
  recordResults('runtimes', { rounds, medians: rows, perRound: results });
}
