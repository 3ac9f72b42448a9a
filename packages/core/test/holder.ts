// Starts holder-worker.ts, the worker the recovery tests kill: it takes slabs of SIZE bytes and then
// dies in the way the test chose.

import { Worker } from 'node:worker_threads';
import type { SlabPool } from '../src/index.js';
import { fixture } from './helpers.js';

/** The slab size a holder worker leases and caches. */
export const SIZE = 4096;

export interface Started {
  worker: Worker;
  /** Captured at start: a Worker's threadId reads -1 once it has exited. */
  tid: number;
  sent: number[];
  kept: number[];
  exited: Promise<number>;
  /** The worker's flag words (index 0: in position; the rest: see the fixture). */
  flag: Int32Array;
}

/** Starts a holder worker and resolves once it is in position (its flag is set). */
export async function startHolder(
  pool: SlabPool,
  mode: string,
  opts: { leased?: number; cached?: number; send?: number; resourceLimits?: object; onCreate?: (worker: Worker) => void } = {},
): Promise<Started> {
  const flag = new SharedArrayBuffer(16);
  const worker = new Worker(fixture('holder-worker.ts'), {
    workerData: {
      handle: pool.handle,
      leased: opts.leased ?? 5,
      cached: opts.cached ?? 3,
      size: SIZE,
      send: opts.send ?? 0,
      mode,
      flag,
    },
    resourceLimits: opts.resourceLimits as never,
    stderr: true,
  });
  const tid = worker.threadId;
  opts.onCreate?.(worker);
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  worker.on('error', () => {}); // 'throw' and 'oom' modes end in an error event; the exit is what we test
  const ids = await new Promise<{ sent: number[]; kept: number[] }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
  const view = new Int32Array(flag);
  const deadline = Date.now() + 20_000;
  while (Atomics.load(view, 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  return { worker, tid, sent: ids.sent, kept: ids.kept, exited, flag: view };
}
