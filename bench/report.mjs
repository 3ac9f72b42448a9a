// Renders one results file of the suite (bench/run.mjs) as SVG charts and as the tables between the
// bench-tables markers of bench/RESULTS.md; every figure comes from that file, and the text around
// the markers is left as it is.
//
//   node bench/report.mjs                      newest bench/results/<date>-<machine>.json
//   node bench/report.mjs --results <file>     a given results file
//   --out-dir <dir>   write the charts and a copy of RESULTS.md there instead (charts otherwise go
//                     next to the results file)
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtBytes, fmtNs, fmtRate, fmtRatio } from './lib/format.mjs';
import { mustReach } from './lib/must-reach.mjs';

const argv = process.argv.slice(2);
const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const root = fileURLToPath(new URL('../', import.meta.url));
const RESULTS_MD = join(root, 'bench', 'RESULTS.md');
const START = '<!-- bench-tables:start -->';
const END = '<!-- bench-tables:end -->';

/** The suite results file in `dir` with the latest date (program records such as *-core.json are not suite files). */
function newestResults(dir) {
  const suites = [];
  for (const name of readdirSync(dir).filter((f) => /^\d{4}-\d{2}-\d{2}-.+\.json$/.test(f))) {
    const results = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    if (results.suite === 'zeropool-bench') suites.push({ file: join(dir, name), date: results.date });
  }
  return suites.sort((a, b) => (a.date < b.date ? 1 : -1))[0]?.file;
}

// ---------------------------------------------------------------------------------------------
// SVG charts: a line chart (scaling) and grouped bars on a log scale, in one frame.

/** What the single-thread part times beside the pool's cache hit, by their key in its figures. */
const ALTERNATIVES = [
  ['allocUnsafe', 'Buffer.allocUnsafe'],
  ['uint8array', 'new Uint8Array'],
  ['sab', 'new SharedArrayBuffer'],
  ['malloc', '@thi.ng/malloc'],
  ['lockedMalloc', '@thi.ng/malloc, locked'],
];
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const [W, H, L, T, B] = [760, 440, 80, 64, 56];
const escapeXml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x, y, attributes, content) => `<text x="${x}" y="${y}" ${attributes}>${content}</text>`;

/**
 * A chart: title, y grid (`ticks`: `[value, label]`, placed by `y`), then `under`, the axes, the
 * axis labels, `over` and a legend right of the plot, which ends `right` pixels from the edge.
 */
function chart({ title, subtitle, right, ticks, y, under, xLabel, yLabel, over = [], legend }) {
  const parts = ticks.flatMap(([v, label]) => [
    `<line x1="${L}" y1="${y(v)}" x2="${W - right}" y2="${y(v)}" stroke="#e5e5e5"/>`,
    text(L - 8, y(v) + 4, `text-anchor="end" ${FONT} font-size="11"`, label),
  ]);
  parts.push(...under);
  parts.push(
    `<line x1="${L}" y1="${H - B}" x2="${W - right}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
  );
  if (xLabel) parts.push(text((L + W - right) / 2, H - 14, `text-anchor="middle" ${FONT} font-size="12"`, xLabel));
  const middle = (T + H - B) / 2;
  parts.push(
    text(20, middle, `text-anchor="middle" ${FONT} font-size="12" transform="rotate(-90 20 ${middle})"`, escapeXml(yLabel)),
  );
  parts.push(...over);
  const [x0, y0] = [W - right + 16, T + 10];
  parts.push(
    legend
      .map(
        (e, i) =>
          `<line x1="${x0}" y1="${y0 + i * 18}" x2="${x0 + 24}" y2="${y0 + i * 18}" stroke="${e.color}" stroke-width="3"${e.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
          text(x0 + 30, y0 + i * 18 + 4, `${FONT} font-size="12"`, escapeXml(e.name)),
      )
      .join('\n'),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="100%" height="100%" fill="#ffffff"/>
${text(W / 2, 24, `text-anchor="middle" ${FONT} font-size="16" font-weight="bold"`, escapeXml(title))}
${text(W / 2, 44, `text-anchor="middle" ${FONT} font-size="12" fill="#555"`, escapeXml(subtitle))}
${parts.join('\n')}
</svg>
`;
}

/** Aggregate throughput against worker count (log2 x axis), one line per series. */
function scalingSvg({ title, subtitle, xs, series, cores }) {
  const right = 200;
  const top = Math.max(...series.flatMap((s) => s.points.map(([, v]) => v))) * 1.05;
  // A round step (1, 2 or 5 times a power of ten) giving about five ticks.
  const power = 10 ** Math.floor(Math.log10(top / 5));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= top / 5);
  const maxY = step * Math.ceil(top / step);
  const x = (v) => L + (Math.log2(v) / Math.log2(xs[xs.length - 1])) * (W - L - right);
  const y = (v) => H - B - (v / maxY) * (H - T - B);
  const ticks = [];
  for (let v = 0; v <= maxY + step / 2; v += step) ticks.push([v, Number((v / 1e6).toPrecision(3))]);
  const under = xs.flatMap((v) => [
    `<line x1="${x(v)}" y1="${H - B}" x2="${x(v)}" y2="${H - B + 5}" stroke="#333"/>`,
    text(x(v), H - B + 18, `text-anchor="middle" ${FONT} font-size="11"`, v),
  ]);
  if (cores >= xs[0] && cores <= xs[xs.length - 1]) {
    under.push(`<line x1="${x(cores)}" y1="${T}" x2="${x(cores)}" y2="${H - B}" stroke="#888" stroke-dasharray="3 3"/>`);
    under.push(text(x(cores) + 4, T + 12, `${FONT} font-size="11" fill="#555"`, `${cores} cores: oversubscribed to the right`));
  }
  const over = series.flatMap((s) => [
    `<path d="${s.points.map(([px, py], i) => `${i ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    ...(s.dashed
      ? []
      : s.points.map(([px, py]) => `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3.5" fill="${s.color}"/>`)),
  ]);
  const yLabel = 'million slab lifecycles per second (all workers)';
  return chart({ title, subtitle, right, ticks, y, under, xLabel: 'workers', yLabel, over, legend: series });
}

/**
 * Grouped bars on a log10 scale, with an optional dashed reference line (`{ value, label }`; for
 * speed-ups, 1: as fast as the pool), named in the legend.
 */
function groupedLogBarsSvg({ title, subtitle, groups, series, yLabel, reference, format = fmtRatio }) {
  const right = 210;
  const values = groups.flatMap((g) => g.values.filter((v) => Number.isFinite(v) && v > 0));
  const lo = Math.floor(Math.log10(Math.min(...values, reference?.value ?? Number.POSITIVE_INFINITY)));
  const hi = Math.ceil(Math.log10(Math.max(...values, reference?.value ?? 0)));
  const y = (v) => H - B - ((Math.log10(v) - lo) / (hi - lo || 1)) * (H - T - B);
  const groupWidth = (W - L - right) / groups.length;
  const barWidth = Math.min(28, (groupWidth - 16) / series.length);
  const ticks = [];
  for (let e = lo; e <= hi; e++) ticks.push([10 ** e, format(10 ** e)]);
  const under = groups.flatMap((g, gi) => {
    const x0 = L + gi * groupWidth + (groupWidth - barWidth * series.length) / 2;
    const bars = g.values.flatMap((v, si) => {
      if (!Number.isFinite(v) || v <= 0) return [];
      const [base, top] = [y(10 ** lo), y(v)];
      return `<rect x="${(x0 + si * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(base - top).toFixed(1)}" fill="${series[si].color}"><title>${escapeXml(`${g.label}, ${series[si].name}: ${format(v)}`)}</title></rect>`;
    });
    return [
      ...bars,
      text(L + gi * groupWidth + groupWidth / 2, H - B + 18, `text-anchor="middle" ${FONT} font-size="12"`, escapeXml(g.label)),
    ];
  });
  if (reference) {
    const at = y(reference.value);
    under.push(
      `<line x1="${L}" y1="${at}" x2="${W - right}" y2="${at}" stroke="#000" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
  }
  const legend = [...series, ...(reference ? [{ name: reference.label, color: '#000', dashed: true }] : [])];
  return chart({ title, subtitle, right, ticks, y, under, yLabel, legend });
}

/** Writes the charts of `results` to `outDir` as `<stem>-<chart>.svg`; returns their paths. */
function charts(results, outDir, stem) {
  const written = [];
  const write = (suffix, svg) => {
    const file = join(outDir, `${stem}-${suffix}.svg`);
    writeFileSync(file, svg);
    written.push(file);
  };
  const { machine, parts } = results;
  const subtitle = `${machine.cpu}, ${machine.cores} CPUs, Node ${machine.node}, ${results.date.slice(0, 10)}${results.quick ? ' (QUICK run)' : ''}`;
  const scaling = parts.scaling;
  if (scaling?.local) {
    const points = (mode) => scaling[mode].map((r) => [r.workers, r.opsPerSecond]);
    const one = scaling.local[0].opsPerSecond;
    const ideal = scaling.local.filter((r) => r.workers <= scaling.cores).map((r) => [r.workers, r.workers * one]);
    const series = [
      { name: 'thread-local release', color: COLORS[0], points: points('local') },
      { name: 'cross-worker release', color: COLORS[1], points: points('cross') },
      ...(scaling.handoff ? [{ name: 'hand-offs without a pool', color: COLORS[2], points: points('handoff') }] : []),
      ...(ideal.length > 1 ? [{ name: 'linear from 1 worker', color: '#999', points: ideal, dashed: true }] : []),
    ];
    const title = `Scaling: ${fmtBytes(scaling.slabBytes)} slabs, acquire/write/read/release`;
    write('scaling', scalingSvg({ title, subtitle, xs: scaling.local.map((r) => r.workers), series, cores: scaling.cores }));
  }
  const single = parts['single-thread'];
  if (single?.sizes) {
    const svg = groupedLogBarsSvg({
      title: 'Pool cache hit vs the alternative, one thread (higher = pool faster)',
      subtitle,
      groups: single.sizes.map((s) => ({ label: fmtBytes(s.size), values: ALTERNATIVES.map(([k]) => s.poolIsFaster[k]) })),
      series: ALTERNATIVES.map(([, name], i) => ({ name, color: COLORS[i] })),
      yLabel: "alternative's time / pool's time (log scale)",
      reference: { value: 1, label: '1x: as fast as the pool' },
    });
    write('speedups', svg);
  }
  const piscina = parts.piscina;
  if (piscina?.oneInFlight) {
    const ways = [
      ['empty', 'empty task'],
      ['copy', 'structured-clone copy'],
      ['move', 'Piscina.move'],
      ['id', 'slab id, taken'],
      ['loan', 'slab id, lent'],
    ].filter(([k]) => k !== 'loan' || piscina.oneInFlight.sizes.every((s) => s.nsPerTask.loan !== undefined));
    for (const [key, suffix, what] of [
      ['oneInFlight', 'piscina', 'one task in flight'],
      ['manyInFlight', 'piscina-many', `${piscina.manyInFlight.inFlight} tasks in flight`],
    ]) {
      const svg = groupedLogBarsSvg({
        title: `piscina: time per task, ${what} (lower is better)`,
        subtitle,
        groups: piscina[key].sizes.map((s) => ({
          label: fmtBytes(s.size),
          values: ways.map(([k]) => s.nsPerTask[k] ?? piscina[key].emptyTaskNs),
        })),
        series: ways.map(([, name], i) => ({ name, color: COLORS[i] })),
        yLabel: 'time per task (log scale)',
        format: fmtNs,
      });
      write(suffix, svg);
    }
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// Tables

/** A Markdown table; the first `left` columns are left-aligned, the others right-aligned. */
const mdTable = (rows, left = 1) =>
  [
    `| ${rows[0].join(' | ')} |`,
    `|${rows[0].map((_, i) => (i < left ? '---' : '---:')).join('|')}|`,
    ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** A Markdown table of `items` from `columns`, `[heading, cell(item)]` each (falsy ones left out). */
const columnTable = (columns, items, left = 1) => {
  const kept = columns.filter(Boolean);
  return mdTable([kept.map(([heading]) => heading), ...items.map((item) => kept.map(([, cell]) => cell(item)))], left);
};

/** `1.23 µs (4.56x)`: a time and the pool's speed-up over it. */
const timeAndRatio = (ns, faster) => `${fmtNs(ns)} (${fmtRatio(faster)})`;
const x2 = (v) => fmtRatio(v, 2);

function tables(results, file, image) {
  const { machine: m, parts: p } = results;
  const day = results.date.slice(0, 10);
  const load =
    results.otherProcessesCores === null || results.otherProcessesCores === undefined
      ? ''
      : `; other processes used ${results.otherProcessesCores} of ${m.cores} cores on average meanwhile`;
  const core = results.core
    ? `; core at commit ${results.core.commit}${results.core.uncommittedCoreChanges ? ' with uncommitted changes' : ''}`
    : '';
  const out = [
    `Measured by \`${results.quick ? 'pnpm bench:quick' : 'pnpm bench'}\` on ${day} on ${m.cpu} (${m.cores} CPUs, ${m.memoryGiB} GiB), Node ${m.node}${load}${core}; recorded in \`${file}\`${results.quick ? ' — a QUICK run: rough figures, not for quoting' : ''}.`,
    '',
  ];
  // Each table also says when and where, so a table copied elsewhere keeps its provenance.
  const at = `${day}, ${m.cores}-CPU ${m.cpu}, Node ${m.node}${results.quick ? ', QUICK run' : ''}`;
  const other = (part) =>
    p[part]?.otherProcessesCores > 0.2 ? `; other processes used ${p[part].otherProcessesCores} cores meanwhile` : '';
  const section = (caption, ...blocks) => out.push(caption, '', ...blocks.filter(Boolean).flatMap((b) => [b, '']));

  const single = p['single-thread'];
  if (single?.sizes) {
    const alternatives = [['lease', '`get()` lease + dispose'], ...ALTERNATIVES.map(([k, name]) => [k, `\`${name}\``])];
    section(
      `**One thread, per size** (${at}${other('single-thread')}; \`bench/single-thread.bench.mjs\`; medians of ${single.rounds} round${single.rounds === 1 ? '' : 's'}, each in a fresh process; "x" = the alternative's time over the pool's, same round):`,
      columnTable(
        [
          ['size', (z) => fmtBytes(z.size)],
          ['pool acquire + bytes + release', (z) => fmtNs(z.medianNs.pool)],
          ...alternatives.map(([k, heading]) => [heading, (z) => timeAndRatio(z.medianNs[k], z.poolIsFaster[k])]),
        ],
        single.sizes,
      ),
      image('speedups', 'speed-ups per size'),
    );
  }

  const c = p['cache-patterns']?.patterns;
  if (c) {
    const vs = (pattern, k) => timeAndRatio(pattern.perIterationNs[k], pattern.poolIsFaster[k]);
    section(
      `**The Rust crate's cache patterns** (${at}${other('cache-patterns')}; \`bench/cache-patterns.bench.mjs\`, one thread, per iteration):`,
      mdTable([
        ['pattern', 'pool', '`Buffer.allocUnsafe`', '`@thi.ng/malloc`'],
        ['ping-pong: two 64 KiB buffers in flight', fmtNs(c.pingPong.perIterationNs.pool), vs(c.pingPong, 'allocUnsafe'), '—'],
        ['hot/cold: 4 KiB every time, 1 MiB every 16th', fmtNs(c.hotCold.perIterationNs.pool), vs(c.hotCold, 'allocUnsafe'), '—'],
        [
          'multi-size: 64 B to 1 MiB, random order',
          fmtNs(c.multiSize.perIterationNs.pool),
          vs(c.multiSize, 'allocUnsafe'),
          vs(c.multiSize, 'malloc'),
        ],
        ...c.cacheSizes.map((k) => [
          `burst of 8 × 4 KiB, \`cacheSize\` ${k.cacheSize}`,
          `${fmtNs(k.perAcquireReleaseNs)} per acquire + release`,
          '—',
          '—',
        ]),
        [
          `exhaustion: take the last ${c.exhaustion.free} of ${c.exhaustion.held + c.exhaustion.free}, fail one \`tryAcquire\`, release`,
          fmtNs(c.exhaustion.cycleNs),
          '—',
          '—',
        ],
        ['`tryAcquire` on a full class', fmtNs(c.exhaustion.failingTryAcquireNs), '—', '—'],
      ]),
    );
  }

  const s = p.scaling;
  if (s?.local) {
    const c2c = s.coreToCore;
    section(
      `**Scaling** (${at}${other('scaling')}; \`bench/scaling.bench.mjs\`; ${fmtBytes(s.slabBytes)} slabs; median of ${s.reps} batches; efficiency = throughput(N) / (N × throughput(1)); this machine has ${s.cores} cores, so rows beyond ${s.cores} workers show oversubscription, not scaling):`,
      columnTable(
        [
          ['workers', (i) => `${s.local[i].workers}${s.local[i].workers > s.cores ? ' (over)' : ''}`],
          ['thread-local, all workers', (i) => fmtRate(s.local[i].opsPerSecond)],
          ['per worker', (i) => fmtRate(s.local[i].perWorkerOpsPerSecond)],
          ['efficiency', (i) => s.local[i].efficiency.toFixed(2)],
          ['cross-worker release', (i) => fmtRate(s.cross[i].opsPerSecond)],
          ['efficiency', (i) => s.cross[i].efficiency.toFixed(2)],
          ['thread-local / cross', (i) => fmtRatio(s.crossVsLocal[i].localOverCross)],
          ['same hand-offs, no pool', (i) => (s.handoff ? fmtRate(s.handoff[i].opsPerSecond) : '—')],
          s.claim && ['the same, plus a state word per buffer', (i) => fmtRate(s.claim[i].opsPerSecond)],
        ],
        s.local.map((_, i) => i),
        0,
      ),
      c2c &&
        `Core-to-core latency in the same run: two workers passing one shared word back and forth took ${c2c.roundTripNs} ns per round trip (median of ${s.reps} batches of ${c2c.roundTrips}), so ${c2c.oneWayNs} ns one way, as long as ${c2c.oneWayInLocalLifecycles} thread-local lifecycles of one worker.`,
      image('scaling', 'scaling curve'),
    );
  }

  const workloads = [
    ...(p.xmalloc?.runs ?? []).map((r) => [
      `xmalloc-test, ${r.pairs} producer + ${r.pairs} consumer, ${r.transport}`,
      `${fmtRate(r.handoffsPerSecond)} hand-offs (${fmtNs(r.nsPerHandoff)} each)`,
    ]),
    ...(p.larson?.runs ?? []).map((r) => [
      `larson, ${r.workers} workers replaced each round (${r.rounds} rounds)`,
      `${fmtRate(r.stepsPerSecond)} steps (${fmtNs(r.nsPerStep)} each); a round with start-up and exit ${r.roundMs.toFixed(0)} ms; leased after: ${r.leasedAfter}, threads attached after: ${r.threadsAttachedAfter}`,
    ]),
    ...Object.values(p['cache-scratch']?.results ?? {}).map((r) => [
      `cache-scratch: ${r.label}`,
      `${fmtNs(r.nsPerOpOneWorker)} → ${fmtNs(r.nsPerOpTwoWorkers)} per ${r.unit} with 2 workers (${fmtRatio(r.slowdown)})`,
    ]),
  ];
  const a = p['alloc-test'];
  if (a) {
    const one = a.oneThread;
    workloads.push(
      [
        'alloc-test, one thread, per step',
        `pool ${fmtNs(one.nsPerStep.pool)}, \`@thi.ng/malloc\` ${timeAndRatio(one.nsPerStep.malloc, one.poolIsFaster.malloc)}, \`Buffer.allocUnsafe\` ${timeAndRatio(one.nsPerStep.allocUnsafe, one.poolIsFaster.allocUnsafe)}`,
      ],
      ...a.workers.map((w) => [`alloc-test, ${w.workers} worker(s)`, `${fmtRate(w.stepsPerSecond)} steps`]),
      [
        'alloc-test, bytes handed out but not asked for',
        `${a.overallWastePercent}% overall; by class: ${a.waste.map((w) => `${fmtBytes(w.slabSize)} ${w.wastedPercent}%`).join(', ')}`,
      ],
    );
  }
  if (workloads.length) {
    section(
      `**Allocator workloads from mimalloc-bench** (${at}; \`bench/xmalloc.bench.mjs\`, \`larson.bench.mjs\`, \`cache-scratch.bench.mjs\`, \`alloc-test.bench.mjs\`; real worker threads):`,
      mdTable([['workload', 'result'], ...workloads], 2),
    );
  }

  const q = p.piscina;
  if (q?.oneInFlight) {
    const modes = ['oneInFlight', 'manyInFlight'].map((key) => q[key]);
    const floor = modes.every((mode) => mode.sizes.every((z) => z.floor !== undefined));
    const floorRows = modes.flatMap((mode) => mode.sizes.map((z) => ({ ...z.floor, size: z.size, inFlight: mode.inFlight })));
    const modeTable = (mode, heading) => {
      const lent = mode.sizes.every((z) => z.loanOverFloor !== undefined);
      return columnTable(
        [
          [heading, (z) => fmtBytes(z.size)],
          ['empty task', (z) => fmtNs(z.nsPerTask.empty ?? mode.emptyTaskNs)],
          ['copy (structured clone)', (z) => fmtNs(z.nsPerTask.copy)],
          ['`Piscina.move` of a fresh buffer', (z) => fmtNs(z.nsPerTask.move)],
          ['slab id, taken (`runWithSlabs`)', (z) => fmtNs(z.nsPerTask.id)],
          lent && ['slab id, lent (`runWithLoans`)', (z) => fmtNs(z.nsPerTask.loan)],
          ['taken / empty task', (z) => (z.idOverFloor === undefined ? '' : x2(z.idOverFloor))],
          lent && ['lent / empty task', (z) => x2(z.loanOverFloor)],
          ['taken vs copy, vs move', (z) => `${x2(z.idIsFaster.copy)}, ${x2(z.idIsFaster.move)} faster`],
          lent && ['lent vs copy, vs move', (z) => `${x2(z.loanIsFaster.copy)}, ${x2(z.loanIsFaster.move)} faster`],
        ],
        mode.sizes,
      );
    };
    const crash = q.crash;
    const charts = [image('piscina', 'piscina, one task in flight'), image('piscina-many', 'piscina, many tasks in flight')];
    section(
      `**piscina end to end** (${at}${other('piscina')}; \`bench/piscina.bench.mjs\`; ${q.threads} piscina threads; median time per task; ${q.method ?? ''}):`,
      floor &&
        'Floor rounds: the empty task and the two slab-id ways only, interleaved (the goal "within 1.15x of the empty task" is judged here):',
      floor &&
        columnTable(
          [
            ['payload', (z) => fmtBytes(z.size)],
            ['in flight', (z) => String(z.inFlight)],
            ['empty task', (z) => fmtNs(z.nsPerTask.empty)],
            ['slab id, taken', (z) => fmtNs(z.nsPerTask.id)],
            ['slab id, lent', (z) => fmtNs(z.nsPerTask.loan)],
            ['taken / empty task', (z) => x2(z.idOverFloor)],
            ['lent / empty task', (z) => x2(z.loanOverFloor)],
          ],
          floorRows,
        ),
      floor && 'Rounds of all five ways (the speed-ups over copies and moves; the ratios are medians of per-round ratios):',
      modeTable(q.oneInFlight, 'one task in flight'),
      modeTable(q.manyInFlight, `${q.manyInFlight.inFlight} tasks in flight`),
      crash &&
        `Crash phase of the same run: ${crash.rounds} rounds, ${crash.workersReclaimed} piscina workers died mid-task holding slabs, ${crash.slabsReclaimed} slabs reclaimed from them; afterwards ${crash.leased} slabs leased (${crash.slabs} carved: ${crash.free} free, ${crash.cached} cached).`,
      charts.some(Boolean) && charts.filter(Boolean).join(' '),
    );
  }

  // Judged again from the file's figures, so the table follows the current rules (the file keeps
  // the verdicts of the run that wrote it).
  const ch = p.channel;
  if (ch?.stream) {
    const M = (x) => `${(x / 1e6).toFixed(2)} M/s`;
    const names = [
      ['channel', 'channel'],
      ['port-ids', '`MessagePort` ids'],
      ['channel-batch', 'channel, batches of 32'],
      ['port-ids-batch', '`MessagePort`, arrays of 32 ids'],
      ['port-copy', '`MessagePort` copy'],
      ['port-transfer', '`ArrayBuffer` transfer'],
    ];
    section(
      `**Channels between two workers** (${at}${other('channel')}; \`bench/channel.bench.mjs\`; medians of ${ch.reps} runs, the methods alternating; slabs acquired, first and last byte written, handed over, read and released; copies and transfers allocate instead; "x" = the channel over the other, one at a time or batch against batch):`,
      mdTable([
        ['size', ...names.map(([, name]) => name)],
        ...ch.stream.map((z) => [
          fmtBytes(z.size),
          ...names.map(([k]) => {
            const base = k.endsWith('batch') ? z.itemsPerSecond['channel-batch'] : z.itemsPerSecond.channel;
            return k.startsWith('channel')
              ? M(z.itemsPerSecond[k])
              : `${M(z.itemsPerSecond[k])} (${fmtRatio(base / z.itemsPerSecond[k])})`;
          }),
        ]),
      ]),
      mdTable([
        [
          'raw items round a loop of two queues',
          ...ch.raw.batches.map((b) => (b.batch === 1 ? 'one at a time' : `batches of ${b.batch}`)),
        ],
        ['channel (slab ids, ownership moved)', ...ch.raw.batches.map((b) => M(b.itemsPerSecond.channel))],
        ['ringbuf.js (int32s)', ...ch.raw.batches.map((b) => M(b.itemsPerSecond['ringbuf.js']))],
      ]),
      mdTable([
        ['one id in flight, round trip', 'p50', 'p99'],
        ...[
          ['channel-spinning', 'channels, receivers polling'],
          ['channel-sleeping', 'channels, receivers sleeping'],
          ['port', '`MessagePort`'],
        ].map(([k, name]) => [name, `${ch.roundTrip[k].p50Us.toFixed(2)} µs`, `${ch.roundTrip[k].p99Us.toFixed(2)} µs`]),
      ]),
    );
  }

  const goals = results.parts ? mustReach(results) : (results.mustReach ?? []);
  if (goals.length) {
    section(
      `**The goals this suite was built to check** (${at}), from the same file:`,
      mdTable(
        [
          ['goal', 'measured', 'met?', 'from'],
          ...goals.map((g) => [g.goal, `${g.measured}${g.unit ? ` ${g.unit}` : ''}`, g.met ? 'yes' : '**no**', g.where]),
        ],
        4,
      ),
    );
  }
  return out.join('\n').trimEnd();
}

// ---------------------------------------------------------------------------------------------

const file = value('--results') ?? newestResults(join(root, 'bench', 'results'));
if (!file) {
  console.error('no results file: run `pnpm bench` first, or pass --results <file>');
  process.exit(1);
}
const results = JSON.parse(readFileSync(file, 'utf8'));
if (results.suite !== 'zeropool-bench') throw new Error(`${file} is not a results file of bench/run.mjs`);
const outDir = value('--out-dir');
const svgDir = outDir ?? dirname(file);
const mdPath = outDir ? join(outDir, 'RESULTS.md') : RESULTS_MD;
mkdirSync(svgDir, { recursive: true });
const svgs = charts(results, svgDir, basename(file, '.json'));
for (const svg of svgs) console.log(`chart: ${svg}`);
const image = (suffix, alt) => {
  const svg = svgs.find((f) => f.endsWith(`-${suffix}.svg`));
  return svg ? `![${alt}](${relative(dirname(mdPath), svg).split('\\').join('/')})` : null;
};
const shownFile = relative(root, file).startsWith('..') ? basename(file) : relative(root, file).split('\\').join('/');
const md = readFileSync(RESULTS_MD, 'utf8');
const [start, end] = [md.indexOf(START), md.indexOf(END)];
if (start === -1 || end < start) throw new Error(`${RESULTS_MD} has no ${START} ... ${END} section`);
writeFileSync(mdPath, `${md.slice(0, start + START.length)}\n${tables(results, shownFile, image)}\n${md.slice(end)}`);
console.log(`tables: ${mdPath}`);
