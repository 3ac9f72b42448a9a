// The one view tests take of a pool object's internals (fields TypeScript keeps private).

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
  lockWord(index: number): void;
  /** What watch does once it has seen the thread exit: reclaim without a liveness check. */
  lifecycle: { reclaimThread(threadId: number, proof: 'checked' | 'exited' | 'exit-event'): ReclaimReport };
}

export const internalsOf = (pool: SlabPool): PoolInternals => pool as unknown as PoolInternals;
