// The one view tests and fixtures take of a pool object's internals (fields TypeScript keeps private).

import type { ReclaimReport, SlabPool } from '../src/index.js';
import type { ArenaLayout } from '../src/layout.js';

export interface PoolInternals {
  words: Int32Array;
  claims: BigInt64Array;
  signals: Int32Array;
  layout: ArenaLayout;
  slot: number;
  /** The thread's home shard; tests pin it to make an operation's path deterministic. */
  home: number;
  /** The value this object writes into a lock word it takes (see lock.ts). */
  lockOwner: number;
  /** Where the slab metadata begins, in words (see layout.ts metaWord). */
  metaTop: number;
  /** log2 of the smallest slab size: a class index is log2(size) - minShift. */
  minShift: number;
  /** Per class, how many slabs this thread's cache stack holds. */
  cacheLength: Int32Array;
  /** Per class, cached slabs no shard would take (every shard lock held by a dead thread). */
  stranded: (number[] | undefined)[];
  /** Takes a lock word, waiting up to lockTimeoutMs; fixtures wrap it to stop inside a lock. */
  lockWord(index: number): void;
  /** Carves a new page for class `c`; a test wraps it to act between the refill and the carve. */
  carve(c: number): boolean;
  /** What watch does once it has seen the thread exit: reclaim without a liveness check. */
  lifecycle: { reclaimThread(threadId: number, proof: 'checked' | 'exited' | 'exit-event'): ReclaimReport };
}

export const internalsOf = (pool: SlabPool): PoolInternals => pool as unknown as PoolInternals;
