// Model-based property test: random sequences of acquire, get, release, double release, stale
// release, garbage release and flush, run against the pool and against a simple model (a map of
// the ids currently leased). After every step the pool's state, stats() and audit() must agree
// with the model. fast-check prints the seed and the shrunk failing sequence if one fails.

import { threadId } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Lease, SlabPool, SlabStateError } from '../src/index.js';
import { withSeed } from './helpers.js';

const MAX = 64 * 1024;
const MIN = 1024;

interface Model {
  leased: Map<number, { size: number; token: number; lease?: Lease }>;
  dead: number[];
  releases: number;
  tokens: number;
}
interface Real {
  pool: SlabPool;
}

let executed = 0;
const NUM_RUNS = 150;
const capacityOf = (size: number) => Math.max(MIN, 2 ** Math.ceil(Math.log2(Math.max(size, 1))));

function stamp(real: Real, id: number, token: number): void {
  const view = real.pool.bytes(id);
  view[0] = token & 0xff;
  view[view.length - 1] = (token >> 8) & 0xff;
}

function checkToken(real: Real, id: number, token: number): void {
  const view = real.pool.bytes(id);
  expect([view[0], view[view.length - 1]]).toEqual([token & 0xff, (token >> 8) & 0xff]);
}

function agree(model: Model, real: Real): void {
  executed++;
  const stats = real.pool.stats();
  const leasedByClass = new Map<number, number>();
  for (const { size } of model.leased.values())
    leasedByClass.set(capacityOf(size), (leasedByClass.get(capacityOf(size)) ?? 0) + 1);
  for (const c of stats.classes) expect(c.leased).toBe(leasedByClass.get(c.slabSize) ?? 0);
  expect(stats.releases).toBe(model.releases);
  expect(stats.acquires).toBe(model.releases + model.leased.size);
  // Every lease the model holds is leased to this thread in the pool, with its size and its token
  // intact; every released id the model knows is refused.
  for (const [id, { size, token }] of model.leased) {
    expect(real.pool.holderOf(id)).toBe(threadId);
    expect(real.pool.capacity(id)).toBe(capacityOf(size));
    checkToken(real, id, token);
  }
  for (const id of model.dead) if (!model.leased.has(id)) expect(() => real.pool.holderOf(id)).toThrow(SlabStateError);
  // audit() walks every free list and checks it against the slabs' state words (free, cached and
  // leased counts are derived from those words, so they always add up; the lists might not).
  expect(real.pool.audit()).toEqual([]);
}

class Acquire implements fc.Command<Model, Real> {
  constructor(
    readonly size: number,
    readonly viaGet: boolean,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    const id = this.viaGet
      ? (() => {
          try {
            return real.pool.get(this.size);
          } catch {
            return undefined;
          }
        })()
      : real.pool.tryAcquire(this.size);
    const lease = typeof id === 'object' ? id : undefined;
    const value = lease ? lease.id : ((id as number | undefined) ?? -1);
    if (value === -1) {
      // Exhaustion is allowed only if the class has nothing free or cached and no page fits.
      const stats = real.pool.stats();
      const cls = stats.classes.find((c) => c.slabSize === capacityOf(this.size));
      expect(cls?.free ?? 0).toBe(0);
      expect(cls?.cached ?? 0).toBe(0);
      expect(stats.arenaBytes - stats.usedBytes).toBeLessThan(stats.pageBytes + 12 * (stats.pageBytes / capacityOf(this.size)));
    } else {
      expect(model.leased.has(value)).toBe(false);
      expect(real.pool.capacity(value)).toBe(capacityOf(this.size));
      if (lease) expect(lease.bytes.length).toBe(this.size);
      const token = ++model.tokens;
      stamp(real, value, token);
      model.leased.set(value, { size: this.size, token, lease });
    }
    agree(model, real);
  }
  toString = () => `${this.viaGet ? 'get' : 'acquire'}(${this.size})`;
}

class Release implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.leased.size > 0;
  run(model: Model, real: Real): void {
    const ids = [...model.leased.keys()];
    const id = ids[this.pick % ids.length];
    const entry = model.leased.get(id)!;
    checkToken(real, id, entry.token);
    if (entry.lease) entry.lease.release();
    else real.pool.release(id);
    model.leased.delete(id);
    model.dead.push(id);
    model.releases++;
    agree(model, real);
  }
  toString = () => `release(#${this.pick})`;
}

class ReleaseDead implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.dead.length > 0;
  run(model: Model, real: Real): void {
    // A second release, or a stale one after the slab was handed out again under a new id.
    const id = model.dead[this.pick % model.dead.length];
    if (model.leased.has(id)) return; // ids are unique per lease; a wrapped generation could reissue it
    const before = real.pool.stats();
    expect(() => real.pool.release(id)).toThrow(SlabStateError);
    expect(real.pool.stats()).toEqual(before);
    agree(model, real);
  }
  toString = () => `releaseDead(#${this.pick})`;
}

class ReleaseGarbage implements fc.Command<Model, Real> {
  constructor(readonly value: number) {}
  check = () => true;
  run(model: Model, real: Real): void {
    if (model.leased.has(this.value)) return;
    const before = real.pool.stats();
    expect(() => real.pool.release(this.value)).toThrow(SlabStateError);
    expect(real.pool.stats()).toEqual(before);
    agree(model, real);
  }
  toString = () => `releaseGarbage(${this.value})`;
}

class Flush implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    real.pool.flush();
    for (const c of real.pool.stats().classes) expect(c.cached).toBe(0);
    agree(model, real);
  }
  toString = () => 'flush()';
}

describe('the pool against a model', () => {
  it(
    'agrees with the model after every step of random operation sequences',
    withSeed(({ seed }) => {
      const commands = [
        fc.tuple(fc.integer({ min: 0, max: MAX }), fc.boolean()).map(([size, viaGet]) => new Acquire(size, viaGet)),
        fc.integer({ min: 0, max: 1000 }).map((pick) => new Release(pick)),
        fc.integer({ min: 0, max: 1000 }).map((pick) => new Release(pick)),
        fc.integer({ min: 0, max: 1000 }).map((pick) => new ReleaseDead(pick)),
        fc.oneof(fc.integer({ min: -5, max: 2 ** 31 + 5 }), fc.double()).map((value) => new ReleaseGarbage(value)),
        fc.constant(new Flush()),
      ];
      fc.assert(
        fc.property(fc.commands(commands, { maxCommands: 120, size: 'max' }), (cmds) => {
          const setup = () => ({
            model: { leased: new Map(), dead: [], releases: 0, tokens: 0 } as Model,
            real: {
              pool: new SlabPool({ arenaBytes: 1 << 20, minSlabSize: MIN, maxSlabSize: MAX, parallelism: 2, cacheSize: 4 }),
            },
          });
          fc.modelRun(setup, cmds);
        }),
        { numRuns: NUM_RUNS, seed },
      );
      // The sequences really ran: thousands of checked steps, not a vacuous pass. How many depends on
      // the seed (sequence lengths and how many commands their preconditions skip vary): 40 seeds gave
      // 5,075 to 6,167 (median 5,581) and one CI run 4,891, so the floor is 10 per sequence, not a count.
      console.log(
        `model (seed ${seed}, rerun: ZEROPOOL_SEED=${seed} pnpm test): ${NUM_RUNS} sequences, ${executed} checked steps`,
      );
      expect(executed).toBeGreaterThan(NUM_RUNS * 10);
    }),
  );
});
