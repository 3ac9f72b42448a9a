/**
 * Leak detection for `get()` leases, after Netty's levels: off, sampled (one lease in 64), full.
 * A recorded lease keeps the stack where it was taken; if the lease object is garbage-collected
 * while its slab is still leased, a `FinalizationRegistry` callback reports it with that stack.
 * The slab is not released automatically: its id may still be in use elsewhere. A lease whose id
 * was released some other way (`pool.release(lease.id)`, or by the thread it was handed to) is no
 * leak: it is neither reported nor listed as outstanding.
 */
import type { LeakDetection, LeaseRecord } from './types.js';

const SAMPLE_MASK = 63;

export class LeakTracker {
  private readonly level: LeakDetection;
  private readonly records = new Map<number, LeaseRecord>();
  private readonly registry: FinalizationRegistry<LeaseRecord> | undefined;
  private leases = 0;

  /** Whether `id` still names a leased slab (asked only off the hot path: listing, collection). */
  private readonly isLeased: (id: number) => boolean;

  constructor(level: LeakDetection, isLeased: (id: number) => boolean) {
    this.level = level;
    this.isLeased = isLeased;
    this.registry = level === 'off' ? undefined : new FinalizationRegistry((record: LeaseRecord) => this.collected(record));
  }

  /** Records `lease` if the level says so. */
  track(lease: object, id: number, size: number): void {
    if (this.registry === undefined) return;
    if (this.level === 'sampled' && (++this.leases & SAMPLE_MASK) !== 1) return;
    const stack = (new Error('lease taken here').stack ?? '').split('\n').slice(2).join('\n');
    const record = { id, size, stack };
    this.records.set(id, record);
    // The lease itself is the unregister token: held weakly, so it does not keep the lease alive.
    // The record is what the callback gets: a later lease of the same id (after the generation
    // wrapped) has a record of its own, which the collection of this one must not touch.
    this.registry.register(lease, record, lease);
  }

  /** Forgets a lease that was released. */
  untrack(lease: object, id: number): void {
    if (this.registry === undefined || !this.records.delete(id)) return;
    this.registry.unregister(lease);
  }

  outstanding(): LeaseRecord[] {
    for (const id of this.records.keys()) if (!this.isLeased(id)) this.records.delete(id);
    return [...this.records.values()];
  }

  private collected(record: LeaseRecord): void {
    const { id } = record;
    if (this.records.get(id) !== record) return;
    this.records.delete(id);
    if (!this.isLeased(id)) return;
    process.emitWarning(
      `a lease of slab id ${id} (${record.size} bytes) was garbage-collected without release(); its slab stays leased. Taken at:\n${record.stack}`,
      'ZeropoolLeakWarning',
    );
  }
}
