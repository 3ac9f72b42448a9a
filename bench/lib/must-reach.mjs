// The goals the suite was built to check, against one results file. Each entry says the goal,
// the figure measured, where it comes from and whether it was met; nothing is rounded in the
// pool's favour.

import { fmtBytes, round } from './format.mjs';

export function mustReach(results) {
  const parts = results.parts ?? {};
  const out = [];
  const single = parts['single-thread'];
  const at = (size) => single?.sizes?.find((s) => s.size === size);
  const s64k = at(64 * 1024);
  if (s64k) {
    out.push({
      goal: 'cache-hit acquire+release >= 50x faster than Buffer.allocUnsafe at 64 KiB',
      measured: round(s64k.poolIsFaster.allocUnsafe, 1),
      unit: 'x',
      met: s64k.poolIsFaster.allocUnsafe >= 50,
      where: `single-thread part, median of ${single.rounds} round(s)`,
    });
    out.push({
      goal: 'cache-hit acquire+release >= 1000x faster than new SharedArrayBuffer at 64 KiB',
      measured: round(s64k.poolIsFaster.sab, 0),
      unit: 'x',
      met: s64k.poolIsFaster.sab >= 1000,
      where: `single-thread part, median of ${single.rounds} round(s)`,
    });
  }
  const core = parts.core;
  if (core?.speedup) {
    out.push({
      goal: 'the same two ratios in bench/core.bench.mjs (fresh-process rounds)',
      measured: `${round(core.speedup.overAllocUnsafe, 1)}x allocUnsafe, ${round(core.speedup.overSharedArrayBuffer, 0)}x SharedArrayBuffer`,
      unit: '',
      met: core.speedup.overAllocUnsafe >= 50 && core.speedup.overSharedArrayBuffer >= 1000,
      where: `core part, median of ${core.rounds} round(s)`,
    });
  }
  if (single?.sizes?.length) {
    const worst = single.sizes.reduce((w, s) => (s.poolIsFaster.malloc < w.poolIsFaster.malloc ? s : w));
    if (single.sizes.every((s) => s.poolIsFaster.lockedMalloc !== undefined)) {
      out.push({
        goal: 'faster than @thi.ng/malloc made thread-safe (an Atomics lock around malloc and free) at every size',
        measured: single.sizes.map((s) => `${fmtBytes(s.size)}: ${round(s.poolIsFaster.lockedMalloc)}x`).join(', '),
        unit: '',
        met: single.sizes.every((s) => s.poolIsFaster.lockedMalloc > 1),
        where: `single-thread part, median of ${single.rounds} round(s)`,
      });
    }
    out.push({
      goal: 'within 1.5x of bare @thi.ng/malloc malloc/free at every size (an aim: one atomic read-modify-write per release costs more than its whole cycle)',
      measured: single.sizes.map((s) => `${fmtBytes(s.size)}: ${round(s.poolIsFaster.malloc)}x`).join(', '),
      unit: '',
      met: single.sizes.every((s) => s.poolIsFaster.malloc >= 1 / 1.5),
      where: `single-thread part (malloc/free of one block at a time); worst ${round(worst.poolIsFaster.malloc)}x${
        core?.anatomyNs
          ? `; in the core part the pool's cycle written out inline ran ${round(core.anatomyNs.inlineWithCompareExchange)} ns with the release's compare-exchange and ${round(core.anatomyNs.inlineWithPlainStore)} ns with a plain load and store instead: the one read-modify-write that makes a racing double release fail costs ${round(core.anatomyNs.inlineWithCompareExchange - core.anatomyNs.inlineWithPlainStore)} ns here`
          : ''
      }`,
    });
  }
  const scaling = parts.scaling;
  const two = (mode) => scaling?.[mode]?.find((r) => r.workers === 2);
  if (two('local')) {
    out.push({
      goal: `scaling efficiency >= 0.85 at 2 workers (thread-local loops; machine has ${scaling.cores} cores)`,
      measured: round(two('local').efficiency),
      unit: '',
      met: two('local').efficiency >= 0.85,
      where: `scaling part, median of ${scaling.reps} batches`,
    });
  }
  const channel = parts.channel;
  const at4k = channel?.stream?.find((s) => s.size === 4096);
  if (at4k) {
    const where = `channel part, two workers, median of ${channel.reps} run(s)`;
    const best = Math.max(at4k.itemsPerSecond.channel, at4k.itemsPerSecond['channel-batch']);
    out.push({
      goal: 'channel hand-off >= 5 M slabs/s at 4 KiB between two workers (acquire, write, send; receive, read, release)',
      measured: `${round(at4k.itemsPerSecond.channel / 1e6)} M/s one at a time, ${round(at4k.itemsPerSecond['channel-batch'] / 1e6)} M/s in batches of 32`,
      unit: '',
      met: best >= 5e6,
      where,
    });
    out.push({
      goal: 'channel hand-off >= 5x MessagePort ids at 4 KiB (same run)',
      measured: round(at4k.channelOverPortIds, 1),
      unit: 'x',
      met: at4k.channelOverPortIds >= 5,
      where: `${where}; in batches of 32 against arrays of 32 ids a message: ${round(at4k.batchOverPortIdsBatch, 1)}x`,
    });
  }
  if (channel?.raw) {
    const per = channel.raw.batches.map((b) => ({
      batch: b.batch,
      ratio: b.itemsPerSecond.channel / b.itemsPerSecond['ringbuf.js'],
    }));
    out.push({
      goal: 'raw ids through the channel at least as fast as ringbuf.js, one producer and one consumer',
      measured: per.map((p) => `${p.batch === 1 ? 'one at a time' : `batches of ${p.batch}`}: ${round(p.ratio)}x`).join(', '),
      unit: '',
      met: per.every((p) => p.ratio >= 1),
      where: `channel part, a loop of two queues with ${channel.raw.inFlight} in flight; a channel moves each slab's ownership (one compare-exchange on each side), ringbuf.js copies int32s`,
    });
  }
  if (channel?.roundTrip) {
    const rt = channel.roundTrip;
    out.push({
      goal: 'one in flight: round trip <= 1/5 of MessagePort while the receiver spins, and no slower once it sleeps',
      measured: `p50 ${round(rt['channel-spinning'].p50Us)} µs spinning, ${round(rt['channel-sleeping'].p50Us)} µs sleeping, ${round(rt.port.p50Us)} µs MessagePort`,
      unit: '',
      met: rt['channel-spinning'].p50Us * 5 <= rt.port.p50Us && rt['channel-sleeping'].p50Us <= rt.port.p50Us,
      where: `channel part, median of ${channel.reps} run(s) of the p50`,
    });
  }
  if (two('local') && two('cross') && !channel) {
    const ratio = two('local').opsPerSecond / two('cross').opsPerSecond;
    out.push({
      goal: 'cross-worker release throughput within 3x of thread-local (2 workers)',
      measured: round(ratio, 1),
      unit: 'x slower',
      met: ratio <= 3,
      where: `scaling part, 2 workers${two('handoff') ? `; the same hand-offs without a pool ran ${round(two('handoff').opsPerSecond / two('cross').opsPerSecond, 1)}x faster than with it` : ''}${two('claim') ? `, and with a state word per buffer (plain store to take, compare-exchange to give back) ${round(two('local').opsPerSecond / two('claim').opsPerSecond, 2)}x slower than thread-local` : ''}${scaling.coreToCore ? `; one core-to-core hand-off of a cache line took ${round(scaling.coreToCore.oneWayNs, 0)} ns, ${round(scaling.coreToCore.oneWayInLocalLifecycles, 1)} thread-local lifecycles` : ''}`,
    });
  }
  const piscina = parts.piscina;
  if (piscina?.oneInFlight?.sizes?.[0]?.idOverFloor !== undefined) {
    const modes = [
      ['one in flight', piscina.oneInFlight],
      [`${piscina.manyInFlight.inFlight} in flight`, piscina.manyInFlight],
    ];
    const all = modes.flatMap(([name, mode]) => mode.sizes.map((s) => ({ name, ...s })));
    const label = (s) => `${fmtBytes(s.size)} ${s.name}`;
    // Two ways carry slab ids (results files before runWithLoans have only the first): taken by
    // the worker (runWithSlabs + takeSlab) and lent for the task (runWithLoans + viewSlab). Each
    // is judged on its own, every size and mode; the goal is met if one way meets it throughout.
    const ways = [
      ['taken', (s) => s.idOverFloor, (s) => s.idIsFaster],
      ['lent', (s) => s.loanOverFloor, (s) => s.loanIsFaster],
    ].filter(([, over]) => all.every((s) => over(s) !== undefined));
    const judge = (goal, entries, figure, ok, where) => {
      const per = ways.map(([way, over, faster]) => ({
        way,
        text: entries.map((s) => `${label(s)}: ${round(figure(over, faster, s))}x`).join(', '),
        met: entries.length > 0 && entries.every((s) => ok(figure(over, faster, s))),
      }));
      const metBy = per.filter((p) => p.met).map((p) => p.way);
      out.push({
        goal,
        measured: per.map((p) => (ways.length > 1 ? `${p.way}: ${p.text}` : p.text)).join('; '),
        unit: '',
        met: metBy.length > 0,
        where: ways.length > 1 ? `${where}; met by: ${metBy.join(', ') || 'neither way'}` : where,
      });
    };
    // The goal is judged on the floor rounds (the empty task and the slab ids only) where a results
    // file has them; older files have only the rounds of all five ways.
    const floorRounds = all.every((s) => s.floor !== undefined);
    judge(
      'slab-id task within 1.15x of the empty piscina task, 4 KiB to 4 MiB, one and many in flight',
      all,
      (over, _, s) => over(floorRounds ? s.floor : s),
      (x) => x <= 1.15,
      floorRounds
        ? `piscina part, floor rounds (empty task and slab ids only, interleaved; median of per-round ratios); in the rounds of all five ways, ${ways
            .map(([way, over]) => `${way} ${round(Math.min(...all.map(over)))}-${round(Math.max(...all.map(over)))}x`)
            .join(', ')}`
        : 'piscina part (interleaved rounds; median of per-round ratios)',
    );
    // No way can beat the empty task: its time over the copy's is the most any way could reach.
    const mib = all.filter((s) => s.size === 1048576);
    const ceiling = mib.every((s) => s.nsPerTask.copy && s.nsPerTask.empty)
      ? `; the empty task itself was ${mib.map((s) => `${round(s.nsPerTask.copy / s.nsPerTask.empty)}x`).join(' and ')} faster than the copy (medians), the most any way could reach`
      : '';
    judge(
      'slab ids >= 4x faster than structured-clone copies at 1 MiB',
      mib,
      (_, faster, s) => faster(s).copy,
      (x) => x >= 4,
      `piscina part${ceiling}`,
    );
    judge(
      'slab ids faster than Piscina.move at every size from 64 KiB up',
      all.filter((s) => s.size >= 65536),
      (_, faster, s) => faster(s).move,
      (x) => x > 1,
      'piscina part',
    );
  }
  if (piscina?.crash) {
    out.push({
      goal: 'after workers are killed mid-task, stats() shows every slab back in the pool',
      measured: `${piscina.crash.workersReclaimed} workers killed, ${piscina.crash.leased} slabs leased after`,
      unit: '',
      met: piscina.crash.workersReclaimed > 0 && piscina.crash.leased === 0,
      where: 'piscina part, crash phase',
    });
  }
  return out;
}
