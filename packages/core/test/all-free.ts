// The end state most tests check, shared with the piscina package's tests.

import { expect } from 'vitest';
import { type SlabPool, SlabStateError } from '../src/index.js';

/** Flushes this thread's cache, then expects a consistent pool in which every slab of every class is free. */
export function expectAllFree(pool: SlabPool): void {
  pool.flush();
  expect(pool.audit()).toEqual([]);
  for (const c of pool.stats().classes) expect({ size: c.slabSize, free: c.free }).toEqual({ size: c.slabSize, free: c.slabs });
}

/** Whether `id` is still leased (by anyone): what a test releases after a stopped thread's reclaim. */
export function isLeased(pool: SlabPool, id: number): boolean {
  try {
    pool.holderOf(id);
    return true;
  } catch (error) {
    if (error instanceof SlabStateError) return false;
    throw error;
  }
}
