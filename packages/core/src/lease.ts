/**
 * The lease returned by `pool.get(size)`: an id plus a view of exactly the requested size, usable
 * with `using` so the slab goes back at the end of a scope.
 */
import type { LeakTracker } from './leaks.js';
import type { Lease } from './types.js';

interface LeaseOwner {
  release(id: number): void;
}

export class SlabLease implements Lease {
  readonly id: number;
  readonly bytes: Uint8Array;
  private readonly pool: LeaseOwner;
  private readonly tracker: LeakTracker;
  private released = false;

  constructor(pool: LeaseOwner, id: number, bytes: Uint8Array, tracker: LeakTracker) {
    this.pool = pool;
    this.id = id;
    this.bytes = bytes;
    this.tracker = tracker;
  }

  /** Returns the slab. A second call throws the pool's `SlabStateError`. */
  release(): void {
    // The pool decides: a second release reaches it with a stale id and is refused there.
    this.pool.release(this.id);
    this.released = true;
    this.tracker.untrack(this, this.id);
  }

  /** Returns the slab unless `release()` already did. */
  [Symbol.dispose](): void {
    if (this.released) return;
    this.release();
  }
}
