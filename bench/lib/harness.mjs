// Shared plumbing for the benchmark programs: command-line options, machine description, medians,
// plain-text tables, a progress line, the JSON a program hands to the suite runner, single-thread
// cases measured with mitata, and rounds in fresh processes.
//
// Every program in bench/ takes the same flags:
//   --quick         small and fast: checks that it runs, figures are rough
//   --json <path>   also write the figures to <path> (the suite runner merges them)
//   --round <k>     internal: run one round in this process and write its figures to --json
//   --quiet         internal: print nothing but the result (used for rounds after the first)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { measure } from 'mitata';
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
// Single-thread cases, through mitata's `measure`: it takes the measurement options, which `run()`
// does not, and the harness prints the figures as its own table.

const heapUsed = () => {
  const m = getHeapStatistics();
  return m.used_heap_size + m.malloced_memory;
};

/**
 * Calls `fn` for about `ms` milliseconds before it is measured: mitata warms up with two calls,
 * too few on a busy 2-core machine for V8's optimizing compiler (a background thread) to finish.
 */
async function warmUp(fn, ms) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
}

// mitata `measure` options. Batching (many calls per sample) only for calls under 5 µs: mitata
// decides from one warm-up call, so a large allocation that happened to be fast once was batched.
const QUICK = { min_cpu_time: 20e6, min_samples: 8, max_samples: 2000, batch_threshold: 5e3, batch_samples: 256 };
const FULL = { min_cpu_time: 300e6, batch_threshold: 5e3, batch_samples: 2048 };

/**
 * Measures groups of single-thread cases. `groups`: `[{ title, cases: [{ name, fn, baseline? }] }]`,
 * names unique across groups; prints a table a group. Returns `{ [name]: { p50, avg, p75, p99,
 * heap, samples } }` in ns (heap: bytes per iteration, null where mitata could not measure it).
 */
export async function measureCases(groups, { options, print = true }) {
  const figures = {};
  for (const group of groups) {
    for (const c of group.cases) {
      if (print) progress(`measuring ${c.name}`);
      await warmUp(c.fn, options.quick ? 30 : 200);
      const stats = await measure(c.fn, { heap: heapUsed, ...(options.quick ? QUICK : FULL) });
      const { p50, avg, p75, p99 } = stats;
      figures[c.name] = { p50, avg, p75, p99, heap: stats.heap?.avg ?? null, samples: stats.samples?.length ?? null };
    }
    progressDone();
    if (!print) continue;
    const baseline = figures[group.cases.find((c) => c.baseline)?.name];
    const rows = group.cases.map((c) => {
      const f = figures[c.name];
      const vs = c.baseline ? 'baseline' : baseline ? fmtRatio(f.p50 / baseline.p50) : '';
      return [c.name, fmtNs(f.p50), fmtNs(f.p75), fmtNs(f.p99), fmtHeap(f.heap), vs];
    });
    console.log(`\n${group.title}\n${table([['case', 'median', 'p75', 'p99', 'heap/iter', 'time / baseline'], ...rows])}`);
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
 * record it at their start and end as context: on a VM one virtual CPU can run the same loop
 * slower than another for a while, though the number alone does not explain a round's speed.
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

/**
 * Records a standalone benchmark's figures in bench/results/<date>-<machine>-<kind>.json (or
 * -2, -3 ... when that exists): which program, when, on what, at which core commit, then `fields`.
 */
export function recordResults(kind, fields) {
  const results = new URL('../results/', import.meta.url);
  const stem = `${new Date().toISOString().slice(0, 10)}-${machineTag()}-${kind}`;
  let name = `${stem}.json`;
  for (let n = 2; existsSync(new URL(name, results)); n++) name = `${stem}-${n}.json`;
  const record = {
    benchmark: `bench/${kind}.bench.mjs`,
    date: new Date().toISOString(),
    machine: machineInfo(),
    core: coreRevision(),
    ...fields,
  };
  mkdirSync(results, { recursive: true });
  writeFileSync(new URL(name, results), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`recorded in bench/results/${name}`);
}
