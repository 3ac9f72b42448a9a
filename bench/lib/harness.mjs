// Shared plumbing for the benchmark programs: command-line options, machine description, medians,
// plain-text tables, a progress line, the JSON a program hands to the suite runner, and the bridge
// to mitata (single-thread cases) with a quick mode that skips mitata's start-up calibration.
//
// Every program in bench/ takes the same flags:
//   --quick         small and fast: checks that it runs, figures are rough
//   --json <path>   also write the figures to <path> (the suite runner merges them)
//   --round <k>     internal: run one round in this process and write its figures to --json
//   --quiet         internal: print nothing but the result (used for rounds after the first)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { barplot, bench, flags, measure, run, summary } from 'mitata';
import { fmtHeap, fmtNs, fmtRatio } from './format.mjs';

/** Parses the flags every program shares. */
export function parseOptions(argv = process.argv.slice(2)) {
  const value = (name) => {
    const at = argv.indexOf(name);
    return at === -1 ? undefined : argv[at + 1];
  };
  const round = value('--round');
  return {
    quick: argv.includes('--quick'),
    quiet: argv.includes('--quiet'),
    json: value('--json'),
    round: round === undefined ? undefined : Number(round),
  };
}

/** What the figures were measured on. */
export function machineInfo() {
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
    host: hostname(),
  };
}

/** `<cores>cpu-<host>`, the machine part of a results file name (as bench/core.bench.mjs names it). */
export function machineTag() {
  return `${availableParallelism()}cpu-${
    hostname()
      .replace(/[^a-z0-9-]/gi, '')
      .slice(0, 24) || 'host'
  }`;
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A plain-text table: rows of cells, first row the header; numbers right-aligned. */
export function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const right = rows[0].map((_, c) => rows.slice(1).every((r) => /^[-+\d.,x%µnmsMkKB/ ()]+$/.test(String(r[c]))));
  const line = (r) =>
    r.map((cell, c) => (right[c] ? String(cell).padStart(widths[c]) : String(cell).padEnd(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Horizontal bars for a terminal, largest value full width. */
export function bars(entries, { width = 40, format = (v) => String(v) } = {}) {
  const max = Math.max(...entries.map(([, v]) => (Number.isFinite(v) ? v : 0)), Number.MIN_VALUE);
  const label = Math.max(...entries.map(([k]) => k.length));
  return entries
    .map(
      ([k, v]) =>
        `${k.padEnd(label)} ┤${'■'.repeat(Math.max(Number.isFinite(v) && v > 0 ? 1 : 0, Math.round((v / max) * width)))} ${format(v)}`,
    )
    .join('\n');
}

const tty = process.stderr.isTTY;
let progressShown = false;
/** A progress line on stderr: rewritten in place on a terminal, one line per call elsewhere only if `always`. */
export function progress(text, { always = false } = {}) {
  if (tty) {
    process.stderr.write(`\r\x1b[K${text}`);
    progressShown = true;
  } else if (always) {
    process.stderr.write(`${text}\n`);
  }
}
export function progressDone() {
  if (tty && progressShown) process.stderr.write('\r\x1b[K');
  progressShown = false;
}

/** The heading each program prints first. */
export function header(title, options, what) {
  const m = machineInfo();
  console.log(`\n=== ${title} ===`);
  if (what) console.log(what);
  console.log(
    `machine: ${m.cpu}, ${m.cores} CPUs, ${m.memoryGiB} GiB; node ${m.node}; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )}${options.quick ? '\nQUICK RUN: small batches, figures are rough (this mode checks that the program runs)' : ''}`,
  );
}

/** Writes the program's figures where the suite runner asked for them. */
export function writeFigures(options, part) {
  if (!options.json) return;
  writeFileSync(options.json, `${JSON.stringify({ ...part, quick: options.quick, machine: machineInfo() }, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// mitata
//
// mitata 1.0.34's run() ignores measurement options (only `measure` takes them), and begins by
// calibrating four empty functions for about 4 s. Full runs go through run() for mitata's own
// summaries and bar plots; quick runs call `measure` directly with a small time budget and print
// a compact table, so `pnpm bench:quick` stays within its minute.

const heapUsed = () => {
  const m = getHeapStatistics();
  return m.used_heap_size + m.malloced_memory;
};

/**
 * Calls `fn` for about `ms` milliseconds before it is measured. mitata warms up with two calls,
 * and on a busy 2-core machine V8's optimizing compiler (a background thread) had often not
 * finished by then: the first case measured 10-20x slower than the same case measured again.
 */
export async function warmUp(fn, ms) {
  const until = performance.now() + ms;
  let calls = 0;
  while (performance.now() < until) {
    const r = fn();
    if (r instanceof Promise) await r;
    calls++;
  }
  return calls;
}

/**
 * Makes a mitata benchmark measure with `tune` (mitata's `measure` options). Replaces the trial's
 * `run` with the same logic as mitata's static case, plus the options; depends on mitata 1.0's
 * trial shape, which the lockfile pins.
 */
function tuned(b, tune, warm) {
  b.run = async function runTuned(shouldThrow = false) {
    let stats;
    let error;
    try {
      await warmUp(this.f, warm);
      stats = await measure(this.f, {
        heap: heapUsed,
        inner_gc: this._gc === 'inner',
        gc: this._gc ? undefined : false,
        ...tune,
      });
    } catch (err) {
      error = err;
      if (shouldThrow) throw err;
    }
    return {
      kind: 'static',
      args: this._args,
      alias: this._name,
      group: this._group,
      baseline: !!(this.flags & flags.baseline),
      runs: [{ stats, error, args: {}, name: this._name }],
      style: { highlight: this._highlight, compact: !!(this.flags & flags.compact) },
    };
  };
  return b;
}

/** mitata `measure` options for full and quick runs. */
export function tuneFor(options, extra = {}) {
  // Batching (many calls per sample) only for calls under 5 µs: mitata decides from one warm-up
  // call, and a large allocation that happened to be fast once was otherwise timed 4096 at a time.
  return options.quick
    ? { min_cpu_time: 20e6, min_samples: 8, max_samples: 2000, batch_threshold: 5e3, batch_samples: 256, ...extra.quick }
    : { min_cpu_time: 300e6, batch_threshold: 5e3, batch_samples: 2048, ...extra.full };
}

/**
 * Measures groups of single-thread cases. `groups`: `[{ title, cases: [{ name, fn, baseline? }] }]`,
 * names unique across groups. Full runs print mitata's summary and bar plot per group; quick runs
 * print one compact table. Returns `{ [name]: { p50, avg, p75, p99, heap } }` in ns (heap: bytes per
 * iteration, when mitata could measure it).
 */
export async function measureCases(groups, { options, print = true, tune = {} }) {
  const figures = {};
  const keep = (name, stats) => {
    figures[name] = {
      p50: stats.p50,
      avg: stats.avg,
      p75: stats.p75,
      p99: stats.p99,
      heap: stats.heap?.avg ?? null,
      samples: stats.samples?.length ?? null,
    };
  };
  const t = tuneFor(options, tune);
  const warm = options.quick ? 30 : 200;
  if (!options.quick) {
    for (const group of groups) {
      summary(() =>
        barplot(() => {
          for (const c of group.cases) tuned(bench(c.name, c.fn), { ...t, ...c.tune }, warm).baseline(!!c.baseline);
        }),
      );
    }
    const result = await run({
      print: print ? undefined : () => {},
      throw: true,
      colors: !!process.stdout.isTTY && !process.env.NO_COLOR,
    });
    for (const trial of result.benchmarks) keep(trial.alias, trial.runs[0].stats);
    return figures;
  }
  for (const group of groups) {
    const rows = [['case', 'median', 'p75', 'heap/iter', 'vs baseline']];
    const baseline = group.cases.find((c) => c.baseline)?.name;
    for (const c of group.cases) {
      if (print) progress(`measuring ${c.name}`);
      await warmUp(c.fn, warm);
      keep(c.name, await measure(c.fn, { heap: heapUsed, ...t, ...c.tune }));
    }
    progressDone();
    for (const c of group.cases) {
      const f = figures[c.name];
      const vs =
        baseline && c.name !== baseline ? `${fmtRatio(f.p50 / figures[baseline].p50)} slower` : c.baseline ? 'baseline' : '';
      rows.push([c.name, fmtNs(f.p50), fmtNs(f.p75), fmtHeap(f.heap), vs]);
    }
    if (print) console.log(`\n${group.title}\n${table(rows)}`);
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Rounds in fresh processes
//
// On this shared machine a second round measured in the same process ran slower (the first
// round's garbage and JIT state leak into it), so full runs repeat a program's measurements in
// fresh processes and quote medians across rounds. The first round prints mitata's output; later
// rounds run quietly behind a progress line.

/**
 * Runs `work({ print })` once per round and returns the rounds' results. Called in a program's
 * top level: in a child started for a round it runs one round, writes it to --json and exits.
 */
export async function inRounds({ url, options, rounds, work }) {
  if (options.round !== undefined) {
    const cpuAtStart = currentCpu();
    const result = await work({ print: !options.quiet });
    writeFileSync(options.json, JSON.stringify({ ...result, cpuAtStart, cpu: currentCpu() }));
    process.exit(0);
  }
  if (options.quick || rounds === 1) return [await work({ print: true })];
  const dir = mkdtempSync(join(tmpdir(), 'zeropool-round-'));
  const results = [];
  try {
    for (let k = 1; k <= rounds; k++) {
      const started = Date.now();
      if (k > 1) progress(`round ${k} of ${rounds} (a fresh process each; round 1 printed above) ...`, { always: true });
      const out = join(dir, `round-${k}.json`);
      const args = ['--expose-gc', fileURLToPath(url), '--round', String(k), '--json', out, ...(k > 1 ? ['--quiet'] : [])];
      execFileSync(process.execPath, args, { stdio: k === 1 ? 'inherit' : ['ignore', 'ignore', 'inherit'] });
      const result = JSON.parse(readFileSync(out, 'utf8'));
      results.push(result);
      const where = cpuNote(result.cpuAtStart, result.cpu);
      progress(`round ${k} of ${rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s${where}`, { always: true });
    }
    progressDone();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * The CPU this process last ran on (Linux: field 39 of /proc/self/stat), or null elsewhere. Rounds
 * record it at their start and end, as context: on the 2-vCPU development VM of 2026-12-02 the same
 * single-thread loop ran at two speeds, and pinned with taskset one vCPU was the slow one (64 KiB
 * acquire + bytes + release 17.6-19.1 vs 27.5-29.7 ns; typed-array loads and stores 1.17 vs
 * 1.6-1.7 ns; a compare-exchange 11.5 vs 14.2 ns), but which one changed during the day, and one
 * vCPU gave both speeds within one run: the number does not explain a round's speed by itself.
 */
export function currentCpu() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3.
    const cpu = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[39 - 3]);
    return Number.isInteger(cpu) ? cpu : null;
  } catch {
    return null;
  }
}

/**
 * Which commit of the core the figures belong to, and whether packages/core had uncommitted
 * changes; null outside a git checkout. Read-only.
 */
export function coreRevision() {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'packages/core'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return { commit, uncommittedCoreChanges: dirty };
  } catch {
    return null;
  }
}

/** ' on CPU n' (or ' on CPU n, then m' if the process moved), '' where the CPU is unknown. */
export function cpuNote(atStart, atEnd) {
  if (atStart === null || atStart === undefined || atEnd === null || atEnd === undefined) return '';
  return atStart === atEnd ? ` on CPU ${atEnd}` : ` on CPU ${atStart}, then ${atEnd}`;
}

/** Median over rounds of `pick(round)`. */
export const medianOver = (rounds, pick) => median(rounds.map(pick).filter(Number.isFinite));
