import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildSync } from 'esbuild';
import { onTestFailed } from 'vitest';
import { prng } from './prng.js';

/** The seed for this run: ZEROPOOL_SEED if set, else a fresh one. */
function testSeed(): number {
  const fromEnv = process.env.ZEROPOOL_SEED;
  return fromEnv ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/** What a seeded test body gets: the seed (to hand to workers and to print) and a PRNG seeded with it. */
export interface Seeded {
  seed: number;
  random: () => number;
}

/**
 * A test function that runs `body` with this run's seed and a PRNG seeded with it; every failure of
 * the test, a timeout included, then starts its message with the seed and how to replay it.
 * @example it('races', withSeed(async ({ seed, random }) => { ... }))
 */
export function withSeed<Args extends unknown[], T>(body: (seeded: Seeded, ...args: Args) => T): (...args: Args) => T {
  return (...args) => {
    const seed = testSeed();
    onTestFailed(({ task }) => {
      for (const error of task.result?.errors ?? []) {
        error.message = `seed ${seed} (rerun: ZEROPOOL_SEED=${seed} pnpm test): ${error.message}`;
      }
    });
    return body({ seed, random: prng(seed) }, ...args);
  };
}

const bundled = new Map<string, string>();
let outDir: string | undefined;

/**
 * Node 20 cannot start a Worker on a .ts file, so each TypeScript fixture is bundled with esbuild
 * (once per test file) into a temporary .mjs that imports the library's sources, not dist/.
 */
export function fixture(name: string): string {
  const cached = bundled.get(name);
  if (cached) return cached;
  outDir ??= mkdtempSync(join(tmpdir(), 'zeropool-fixtures-'));
  const outfile = join(outDir, name.replace(/\.ts$/, '.mjs'));
  buildSync({
    entryPoints: [fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Turns the library's kill points on (src/steps.ts): a fixture can stop itself at any of them.
    define: { 'globalThis.__ZEROPOOL_STEPS__': 'true' },
    logLevel: 'error',
  });
  bundled.set(name, outfile);
  return outfile;
}

/** Starts a worker on a fixture and resolves with its first message of type 'done' (rejects on error or early exit). */
export function runWorker<T>(
  name: string,
  workerData: unknown,
  timeoutMs = 60_000,
  transferList: readonly unknown[] = [],
): { worker: Worker; done: Promise<T> } {
  const worker = new Worker(fixture(name), { workerData, transferList: transferList as never });
  const done = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker ${name} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', (message: { type?: string; result?: T; error?: string }) => {
      if (message?.type === 'done') {
        clearTimeout(timer);
        resolve(message.result as T);
      } else if (message?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(message.error));
      }
    });
    worker.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${name} exited with code ${code} before finishing`));
    });
  });
  return { worker, done };
}

/** A warning the code under test emitted, as `captureWarnings` recorded it. */
export interface CapturedWarning {
  name: string;
  message: string;
}

/**
 * Records the process's warnings instead of printing them, until `stop()`: a test that expects a
 * warning asserts on it, and a passing run prints none.
 */
export function captureWarnings(): { warnings: CapturedWarning[]; stop: () => void } {
  const warnings: CapturedWarning[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error, type?: string | { type?: string }) => {
    if (typeof warning === 'string') {
      warnings.push({ name: typeof type === 'string' ? type : (type?.type ?? 'Warning'), message: warning });
    } else warnings.push({ name: warning.name, message: warning.message });
  }) as typeof process.emitWarning;
  const stop = (): void => {
    process.emitWarning = original;
  };
  return { warnings, stop };
}

/** Acquires slabs of `size` bytes with tryAcquire until the pool has none left; their ids. */
export function acquireAll(pool: { tryAcquire(size: number): number }, size: number): number[] {
  const ids: number[] = [];
  for (let id = pool.tryAcquire(size); id !== -1; id = pool.tryAcquire(size)) ids.push(id);
  return ids;
}
