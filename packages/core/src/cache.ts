/**
 * The per-thread cache: for each size class, a private LIFO stack of slab indexes. It lives in
 * ordinary (unshared) memory, so a hit touches no shared lock; the slab state word records that
 * the slab is cached by this thread, which is what lets the rest of the process account for it,
 * and holds its generation, which `acquire` reads to build the id (ids do not fit an int32).
 */
import { cacheCapacityFor } from './config.js';
import { type ArenaLayout, slabSizeOf } from './layout.js';
import type { ResolvedConfig } from './types.js';

export class ThreadCache {
  /** Distance between two classes' stacks in `slabs`. */
  readonly stride: number;
  /** Slab indexes, `stride` entries per class; entries below `length[c]` are live. */
  readonly slabs: Int32Array;
  /** How many slabs each class's stack holds. */
  readonly length: Int32Array;
  /** How many slabs each class's stack may hold: `cacheSize`, fewer for large slabs. */
  readonly capacity: Int32Array;

  constructor(config: Pick<ResolvedConfig, 'cacheSize' | 'cacheBytes'>, layout: ArenaLayout) {
    const classCount = layout.classCount;
    this.capacity = new Int32Array(classCount);
    let stride = 1;
    for (let c = 0; c < classCount; c++) {
      this.capacity[c] = cacheCapacityFor(config, slabSizeOf(layout, c));
      stride = Math.max(stride, this.capacity[c]);
    }
    this.stride = stride;
    this.slabs = new Int32Array(stride * classCount);
    this.length = new Int32Array(classCount);
  }

  /** How many slabs a refill asks for: half a cache, so the next few releases do not spill at once. */
  refillCount(classIndex: number): number {
    return Math.max(1, this.capacity[classIndex] >> 1);
  }

  /**
   * Removes the `count` oldest entries (the bottom of the stack, the coldest slabs) by shifting the
   * rest down; the caller has already handed them to a shard.
   */
  dropBottom(classIndex: number, count: number): void {
    const base = classIndex * this.stride;
    const remaining = this.length[classIndex] - count;
    this.slabs.copyWithin(base, base + count, base + count + remaining);
    this.length[classIndex] = remaining;
  }

  /** Stops all caching: every release then takes the slow path, which refuses a closed pool. */
  disable(): void {
    this.capacity.fill(0);
  }
}
