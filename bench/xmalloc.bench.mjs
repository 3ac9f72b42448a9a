// Part 3a: xmalloc-test (mimalloc-bench), ported to worker_threads. Producer workers acquire
// slabs of random sizes (log-uniform, 64 B to 16 KiB), stamp them and hand them to a consumer
// worker, which checks the stamp and releases them: every release is on another thread than its
// acquire, so slabs flow from the consumers' caches back to the producers through the shards.
// Transports, in the same run:
// - ring: ids through a shared-memory ring (the pool's intended use);
// - port-id: ids, one postMessage each;
// - port-transfer: no pool, a fresh ArrayBuffer per message, transferred (the usual alternative).
// Workers time themselves after a shared start signal (lib/team.mjs); a first batch is discarded.
//
//   node --expose-gc bench/xmalloc.bench.mjs [--quick] [--json <path>]
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { SlabPool } from '@zeropool/core';
import { MiB, fmtNs, fmtRate, fmtRatio, round } from './lib/format.mjs';
import { bars, header, median, parseOptions, progress, progressDone, table, writeFigures } from './lib/harness.mjs';
import { ringBuffer } from './lib/ring.mjs';
import { startTeam } from './lib/team.mjs';

const options = parseOptions();
const cores = availableParallelism();
const TRANSPORTS = ['ring', 'port-id', 'port-transfer'];
const settings = options.quick
  ? { pairs: [1], reps: 1, ops: { ring: 50_000, 'port-id': 5_000, 'port-transfer': 5_000 } }
  : { pairs: [1, 2], reps: 3, ops: { ring: 1_000_000, 'port-id': 100_000, 'port-transfer': 100_000 } };
const workerUrl = new URL('./workers/xmalloc-worker.mjs', import.meta.url);

async function measure(transport, pairs) {
  const pool = new SlabPool({ arenaBytes: 256 * MiB });
  const links = Array.from({ length: pairs }, () => ({
    ring: ringBuffer(4096),
    channel: new MessageChannel(),
    flow: new SharedArrayBuffer(64),
  }));
  const count = 2 * pairs;
  const team = await startTeam({
    url: workerUrl,
    count,
    // Workers 0 .. pairs-1 produce, pairs .. 2*pairs-1 consume; pair k links worker k and pairs + k.
    data: (i) => {
      const k = i % pairs;
      const producer = i < pairs;
      return {
        pool: pool.handle,
        role: producer ? 'producer' : 'consumer',
        transport,
        seed: 1000 + k,
        spinMs: count <= cores ? 1 : 0.02,
        ring: links[k].ring,
        flow: links[k].flow,
        port: producer ? links[k].channel.port1 : links[k].channel.port2,
      };
    },
    transferList: (i) => [i < pairs ? links[i % pairs].channel.port1 : links[i % pairs].channel.port2],
  });
  const ops = settings.ops[transport];
  try {
    await team.batch([Math.ceil(ops / 4)]);
    const rates = [];
    let badStamps = 0;
    for (let r = 0; r < settings.reps; r++) {
      progress(`xmalloc: ${transport}, ${pairs} pair(s), batch ${r + 1} of ${settings.reps}`);
      const results = await team.batch([ops]);
      const wallMs = Math.max(...results.map((x) => x.end)) - Math.min(...results.map((x) => x.start));
      rates.push(((pairs * ops) / wallMs) * 1e3);
      badStamps = Math.max(badStamps, ...results.slice(pairs).map((x) => x.extra[0]));
    }
    await team.close();
    const stats = pool.stats();
    return {
      transport,
      pairs,
      workers: count,
      opsPerProducer: ops,
      handoffsPerSecond: Math.round(median(rates)),
      nsPerHandoff: round(1e9 / median(rates)),
      perRep: rates.map(Math.round),
      badStamps,
      leasedAfter: transport === 'port-transfer' ? 0 : stats.classes.reduce((n, c) => n + c.leased, 0),
      auditProblems: pool.audit().length,
      steals: stats.steals,
      lockWaits: stats.lockWaits,
    };
  } catch (error) {
    await team.close().catch(() => {});
    throw error;
  }
}

header(
  'Part 3a: xmalloc-test (producers acquire, consumers release)',
  options,
  `slabs of 64 B to 16 KiB (log-uniform); ${cores} CPU cores: runs with more workers than cores share them`,
);
const runs = [];
for (const pairs of settings.pairs) for (const transport of TRANSPORTS) runs.push(await measure(transport, pairs));
progressDone();

for (const pairs of settings.pairs) {
  const mine = runs.filter((r) => r.pairs === pairs);
  const base = mine.find((r) => r.transport === 'port-transfer');
  console.log(
    `\n${pairs} producer(s) + ${pairs} consumer(s) = ${2 * pairs} workers${2 * pairs > cores ? ` (more than the ${cores} cores)` : ''}; median of ${settings.reps} batch(es)`,
  );
  console.log(
    table([
      ['transport', 'hand-offs', 'per hand-off', 'vs fresh ArrayBuffer transfer', 'bad stamps'],
      ...mine.map((r) => [
        r.transport,
        fmtRate(r.handoffsPerSecond),
        fmtNs(r.nsPerHandoff),
        r === base ? 'baseline' : `${fmtRatio(r.handoffsPerSecond / base.handoffsPerSecond)} faster`,
        String(r.badStamps),
      ]),
    ]),
  );
  console.log(
    bars(
      mine.map((r) => [r.transport, r.handoffsPerSecond]),
      { format: fmtRate },
    ),
  );
}
const leaks = runs.filter((r) => r.leasedAfter !== 0 || r.auditProblems !== 0 || r.badStamps !== 0);
console.log(
  leaks.length === 0
    ? 'after every run: no slab leased, audit() clean, every stamp intact'
    : `WARNING: ${leaks.length} run(s) ended with leased slabs, audit problems or bad stamps`,
);

writeFigures(options, {
  part: 'xmalloc',
  title: 'xmalloc-test: producers acquire, consumers release',
  method:
    'hand-offs per second = pairs x ops / (last worker end - first worker start); median of batches after a discarded warm-up batch',
  reps: settings.reps,
  runs,
});
