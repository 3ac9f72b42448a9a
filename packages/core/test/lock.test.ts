import { describe, expect, it } from 'vitest';
import { LOCK_WAITERS } from '../src/layout.js';
import { lock, unlock } from '../src/lock.js';
import { openGateWhenReady } from './gate.js';
import { runWorker } from './helpers.js';

describe('lock', () => {
  it('takes a free word at once and records the owner', () => {
    const words = new Int32Array(new SharedArrayBuffer(64));
    expect(lock(words, 0, 8)).toBe(false);
    expect(words[0]).toBe(8);
    unlock(words, 0);
    expect(words[0]).toBe(0);
  });

  it('keeps four real workers mutually exclusive: no increment of a plain counter is lost', async () => {
    const buffer = new SharedArrayBuffer(4096);
    const words = new Int32Array(buffer);
    const rounds = 20_000;
    const workers = Array.from({ length: 4 }, (_, slot) =>
      runWorker<{ contended: number }>('lock-worker.ts', { buffer, slot, rounds, start: 0 }),
    );
    await openGateWhenReady(words.subarray(64, 66), 4);
    const results = await Promise.all(workers.map((w) => w.done));
    expect(words[32]).toBe(4 * rounds);
    expect(words[0]).toBe(0);
    // With four threads on this machine's cores, some acquisitions must have found the lock taken.
    expect(results.reduce((n, r) => n + r.contended, 0)).toBeGreaterThan(0);
  });

  it('wakes a sleeping waiter when the holder unlocks', async () => {
    const buffer = new SharedArrayBuffer(4096);
    const words = new Int32Array(buffer);
    lock(words, 0, 4 << 2);
    const worker = runWorker<{ contended: number }>('lock-worker.ts', { buffer, slot: 0, rounds: 1, start: 1 });
    await openGateWhenReady(words.subarray(64, 66), 1);
    // Wait until the worker has announced itself as a sleeper (the waiters bit), then release.
    const deadline = Date.now() + 10_000;
    while ((Atomics.load(words, 0) & LOCK_WAITERS) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(words[0] & LOCK_WAITERS).toBe(LOCK_WAITERS);
    unlock(words, 0);
    const result = await worker.done;
    expect(result.contended).toBe(1);
    expect(words[32]).toBe(1);
    expect(words[0]).toBe(0);
  });
});
