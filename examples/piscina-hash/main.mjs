// Hashes a real file in chunks on piscina workers three ways — structured-clone copies,
// Piscina.move of fresh buffers, and slab ids over a shared pool — checks every digest against a
// single-thread run, and prints chunk size, MB/s, tasks/s, speed-up over copying and peak RSS.
// Each (mode, chunk size) runs three times, each in a fresh child process (so its peak RSS is its
// own), and the median run is reported.
//
//   node examples/piscina-hash/main.mjs [file]        (default: the node binary itself)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SlabPiscina } from '@zeropool/piscina';
import { Piscina } from 'piscina';

const CHUNKS = [64 * 1024, 1024 * 1024, 4 * 1024 * 1024];
const MODES = ['clone', 'move', 'slab'];
const taskFile = new URL('./task.mjs', import.meta.url).href;
const threads = Math.max(2, availableParallelism());
const inFlight = threads * 2;
const REPEATS = 3;

if (process.argv[2] === '--child') {
  const [, , , mode, chunkArg, file] = process.argv;
  const result = await runMode(mode, Number(chunkArg), file);
  // No process.exit(): the child ends on its own once piscina's threads are gone.
  console.log(JSON.stringify(result));
} else {
  await compareModes();
}

async function compareModes() {
  const file = process.argv[2] ?? process.execPath;
  const fileBytes = fstatSync(openSync(file, 'r')).size;
  console.log(
    `hashing ${file} (${(fileBytes / 2 ** 20).toFixed(1)} MiB) with ${threads} piscina workers, ${inFlight} tasks in flight`,
  );
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} CPUs; node ${process.version}`);
  const rows = [];
  for (const chunk of CHUNKS) {
    const expected = singleThreadDigest(file, chunk);
    let copySeconds;
    for (const mode of MODES) {
      process.stdout.write(`  ${mode.padEnd(5)} ${formatSize(chunk).padStart(7)} chunks ... `);
      // Three runs, each in a fresh process; the median run is reported.
      const runs = [];
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, String(chunk), file], {
          encoding: 'utf8',
        });
        const run = JSON.parse(out.trim().split('\n').pop());
        if (run.digest !== expected)
          throw new Error(`${mode} at ${chunk}-byte chunks: digests differ from the single-thread run`);
        runs.push(run);
      }
      const result = runs.sort((a, b) => a.seconds - b.seconds)[REPEATS >> 1];
      copySeconds ??= result.seconds;
      rows.push({ chunk, mode, ...result, speedup: copySeconds / result.seconds });
      console.log(`median ${result.seconds.toFixed(3)} s of ${REPEATS} runs, digests match`);
    }
  }
  console.log('');
  console.log('| chunk | mode | MB/s | tasks/s | speed-up over copy | peak RSS |');
  console.log('|---:|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${formatSize(r.chunk)} | ${r.mode} | ${(fileBytes / 1e6 / r.seconds).toFixed(0)} | ${(r.tasks / r.seconds).toFixed(0)} | ${r.speedup.toFixed(2)}x | ${(r.maxRssKiB / 1024).toFixed(0)} MiB |`,
    );
  }
  // The story in a few lines: what was compared, how much faster slab ids were, the memory saved.
  const name = { clone: 'copies', move: 'Piscina.move' };
  console.log('');
  console.log(`compared: sha256 of every chunk by copies (structured clone), Piscina.move and slab ids`);
  for (const chunk of CHUNKS) {
    const of = (mode) => rows.find((r) => r.chunk === chunk && r.mode === mode);
    const slab = of('slab');
    const against = ['clone', 'move'].map((mode) => `${(of(mode).seconds / slab.seconds).toFixed(2)}x as fast as ${name[mode]}`);
    const saved = (of('clone').maxRssKiB - slab.maxRssKiB) / 1024;
    console.log(
      `  ${formatSize(chunk).padStart(7)} chunks: slab ids ${against.join(', ')}; peak RSS ${(slab.maxRssKiB / 1024).toFixed(0)} MiB, ${saved >= 0 ? `${saved.toFixed(0)} MiB less` : `${(-saved).toFixed(0)} MiB more`} than copies`,
    );
  }
  console.log(`digests: all ${rows.length * REPEATS} runs matched the single-thread digest`);
}

/** The digest of the per-chunk digests, computed on one thread: what every mode must reproduce. */
function singleThreadDigest(path, chunk) {
  const fd = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(chunk);
  const all = createHash('sha256');
  for (let position = 0; ; position += chunk) {
    const n = readSync(fd, buffer, 0, chunk, position);
    if (n === 0) break;
    all.update(createHash('sha256').update(buffer.subarray(0, n)).digest('hex'));
  }
  closeSync(fd);
  return all.digest('hex');
}

async function runMode(mode, chunk, path) {
  const options = { filename: taskFile, minThreads: threads, maxThreads: threads };
  const piscina =
    mode === 'slab'
      ? new SlabPiscina({
          ...options,
          pool: { arenaBytes: Math.max(64 * 2 ** 20, (inFlight + 4) * chunk * 2), maxSlabSize: Math.max(chunk, 2 ** 20) },
        })
      : new Piscina(options);
  // Start-up stays outside the timed region: every thread loads the task (and attaches the pool).
  await Promise.all(Array.from({ length: threads * 2 }, () => piscina.run({ mode: 'warm', attach: mode === 'slab' })));
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const digests = [];
  const running = new Set();
  let tasks = 0;
  const started = performance.now();
  for (let position = 0, index = 0; position < size; position += chunk, index++) {
    const length = Math.min(chunk, size - position);
    let task;
    if (mode === 'slab') {
      // Waits (without polling) when every slab is in flight: bounded memory.
      const id = await piscina.pool.acquireAsync(length);
      readSync(fd, piscina.pool.bytes(id), 0, length, position);
      // Lent for the task: the worker only reads it, and this thread takes it back when the task
      // settles, so the next acquire here reuses it from this thread's cache.
      task = piscina.runWithLoans({ mode, id, length }, [id]);
    } else if (mode === 'move') {
      const bytes = new Uint8Array(length);
      readSync(fd, bytes, 0, length, position);
      // Piscina.move unwraps only at the top level: the task is the moved bytes themselves.
      task = piscina.run(Piscina.move(bytes));
    } else {
      const bytes = Buffer.allocUnsafe(length);
      readSync(fd, bytes, 0, length, position);
      task = piscina.run({ mode, data: bytes });
    }
    const slot = index;
    const tracked = task.then((digest) => {
      digests[slot] = digest;
      running.delete(tracked);
    });
    running.add(tracked);
    tasks++;
    if (running.size >= inFlight) await Promise.race(running);
  }
  await Promise.all(running);
  const seconds = (performance.now() - started) / 1000;
  closeSync(fd);
  await piscina.destroy();
  const all = createHash('sha256');
  for (const d of digests) all.update(d);
  return { seconds, tasks, maxRssKiB: process.resourceUsage().maxRSS, digest: all.digest('hex') };
}

function formatSize(bytes) {
  return bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`;
}
