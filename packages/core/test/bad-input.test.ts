import { describe, expect, it } from 'vitest';
import { PoolExhaustedError, SlabPool, SlabStateError, defaultsFor, detectParallelism } from '../src/index.js';
import { H_MAX_SHIFT, H_MIN_SHIFT, LAYOUT_VERSION, SIGNALS_BYTES } from '../src/layout.js';

// Every public function, fed what it must refuse: each gets a specific error, and stats() shows the
// pool unchanged afterwards.
const pool = new SlabPool({ arenaBytes: 8 << 20, parallelism: 2 });
const other = new SlabPool({ arenaBytes: 8 << 20, parallelism: 2 });
const held = pool.acquire(100);
const released = pool.acquire(100);
pool.release(released);
const foreign = other.acquire(100);
// The held slab at a generation 2^20 away (computed without leaving the safe integers, where a
// sum would round).
const forged = held >= 2 ** 52 ? held - 2 ** 52 : held + 2 ** 52;

const notNumbers: Array<[string, unknown]> = [
  ['a numeric string', '64'],
  ['null', null],
  ['undefined', undefined],
  ['an object', { size: 64 }],
  ['an array', [64]],
  ['a bigint', 64n],
  ['a boolean', true],
  ['a symbol', Symbol('size')],
];
const badNumbers: Array<[string, number]> = [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['a negative', -1],
  ['a fraction', 1.5],
  ['over maxSlabSize', (1 << 20) + 1],
  ['2^32', 2 ** 32],
];

/** Runs `action`, which must throw an error with a code; returns it. */
function thrown(action: () => unknown): Error & { code?: unknown } {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: unknown }).code, String(error)).toMatch(/^ERR_[A-Z_]+$/);
    return error as Error & { code?: unknown };
  }
  throw new Error('expected the call to throw');
}

/** The call throws an error with a code, and leaves the pool as it was. */
function unchanged(action: () => unknown): void {
  const before = pool.stats();
  thrown(action);
  expectUnchanged(before);
}

/** stats() as it was before, and audit() finds nothing wrong. */
function expectUnchanged(before: ReturnType<SlabPool['stats']>): void {
  expect(pool.stats()).toEqual(before);
  expect(pool.audit()).toEqual([]);
}

describe.each([
  ['acquire', (v: unknown) => pool.acquire(v as number)],
  ['tryAcquire', (v: unknown) => pool.tryAcquire(v as number)],
  ['get', (v: unknown) => pool.get(v as number)],
])('%s(size)', (_, call) => {
  it.each(notNumbers)('refuses %s with a TypeError naming size', (_, value) => {
    expect(() => call(value)).toThrow(TypeError);
    expect(() => call(value)).toThrow(/^size must be a number; received .+ \(\w+\)$/);
    unchanged(() => call(value));
  });
  it.each(badNumbers)('refuses %s with a RangeError naming size, the value and the range', (_, value) => {
    expect(() => call(value)).toThrow(RangeError);
    expect(() => call(value)).toThrow(`size must be an integer from 0 to 1048576 (maxSlabSize); received ${value}`);
    unchanged(() => call(value));
  });
});

const badIds: Array<[string, unknown, RegExp]> = [
  ['a numeric string', String(held), /an id is a number, not a string: pass the number itself/],
  ['null', null, /an id is a number, not null/],
  ['undefined', undefined, /an id is a number, not undefined/],
  ['an object', { id: held }, new RegExp(`an id is a number, not an object: pass its id property \\(${held}\\)`)],
  ['a bigint', 5n, /^id 5n is not .*: an id is a number, not a bigint/],
  ['a symbol', Symbol('id'), /^id Symbol\(id\) is not .*: an id is a number, not a symbol/],
  ['NaN', NaN, /an integer from 0 to 2\^53 - 1/],
  ['Infinity', Infinity, /an integer from 0 to 2\^53 - 1/],
  ['-Infinity', -Infinity, /an integer from 0 to 2\^53 - 1/],
  ['a negative', -1, /an integer from 0 to 2\^53 - 1/],
  ['a negative multiple of 2^32', -(2 ** 32), /an integer from 0 to 2\^53 - 1/],
  ['a fraction', (held % 2 ** 32) + 0.5, /an integer from 0 to 2\^53 - 1/],
  ['a fraction above 2^32', 2 ** 40 + 0.5, /an integer from 0 to 2\^53 - 1/],
  // Decoded with truncating operators, these name the held slab (and the first its generation).
  ['the held id plus a half', (held < 2 ** 52 ? held : held - 2 ** 52) + 0.5, /an integer from 0 to 2\^53 - 1/],
  ['a negative whose low 32 bits name the held slab', (held % 2 ** 32) - 2 ** 32, /an integer from 0 to 2\^53 - 1/],
  ['2^53', 2 ** 53, /an integer from 0 to 2\^53 - 1/],
  ['2^53 + 2 (its low 32 bits name slab 2)', 2 ** 53 + 2, /an integer from 0 to 2\^53 - 1/],
  ['2^64', 2 ** 64, /an integer from 0 to 2\^53 - 1/],
  ['a slab that does not exist', 2 ** 20 - 1, /does not exist/],
  ['slab 2^31, which does not exist', 2 ** 31, /does not exist/],
  ['a released id', released, /it was released/],
  ['an id from another pool', foreign, /not acquired|stale|another pool/],
  ['a forged id (right slab, wrong generation)', forged, /stale|another pool/],
];

describe.each([
  ['release', (v: unknown) => pool.release(v as number)],
  ['bytes', (v: unknown) => pool.bytes(v as number)],
  ['capacity', (v: unknown) => pool.capacity(v as number)],
  ['adopt', (v: unknown) => pool.adopt(v as number)],
  ['holderOf', (v: unknown) => pool.holderOf(v as number)],
])('%s(id)', (_, call) => {
  it.each(badIds)('refuses %s with SlabStateError saying why', (_, value, reason) => {
    let error: unknown;
    try {
      call(value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SlabStateError);
    expect((error as SlabStateError).code).toBe('ERR_SLAB_STATE');
    expect((error as SlabStateError).message).toMatch(reason);
    unchanged(() => call(value));
  });
});

describe('releaseIfHeld(id)', () => {
  // What is not an id of the pool at all throws like release; an id that is simply not held
  // (released, stale, another pool's) returns false. Either way nothing changes.
  const notHeld: Array<[string, number]> = [
    ['a released id', released],
    ['an id from another pool', foreign],
    ['a forged id (right slab, wrong generation)', forged],
  ];
  const notIds = badIds.filter(([name]) => !notHeld.some(([other]) => other === name));
  it.each(notIds)('refuses %s with SlabStateError saying why', (_, value, reason) => {
    expect(() => pool.releaseIfHeld(value as number)).toThrow(SlabStateError);
    expect(() => pool.releaseIfHeld(value as number)).toThrow(reason);
    unchanged(() => pool.releaseIfHeld(value as number));
  });
  it.each(notHeld)('returns false for %s and changes nothing', (_, value) => {
    const before = pool.stats();
    expect(pool.releaseIfHeld(value)).toBe(false);
    expect(pool.stats()).toEqual(before);
    expect(pool.audit()).toEqual([]);
  });
});

describe('acquireAsync(size, options)', () => {
  it.each(notNumbers)('rejects %s as size with a TypeError naming size', async (_, value) => {
    const before = pool.stats();
    await expect(pool.acquireAsync(value as number)).rejects.toThrow(TypeError);
    await expect(pool.acquireAsync(value as number)).rejects.toThrow(/^size must be a number/);
    expectUnchanged(before);
  });
  it.each(badNumbers)('rejects %s as size with a RangeError naming size, the value and the range', async (_, value) => {
    const before = pool.stats();
    await expect(pool.acquireAsync(value)).rejects.toThrow(RangeError);
    await expect(pool.acquireAsync(value)).rejects.toThrow(
      `size must be an integer from 0 to 1048576 (maxSlabSize); received ${value}`,
    );
    expectUnchanged(before);
  });
  const badOptions: Array<[string, unknown, RegExp]> = [
    ['options null', null, /options must be an object or undefined; received null/],
    [
      'a negative timeoutMs',
      { timeoutMs: -1 },
      /options\.timeoutMs must be a number of milliseconds from 0 to Infinity; received -1/,
    ],
    ['a NaN timeoutMs', { timeoutMs: NaN }, /options\.timeoutMs must be .*received NaN/],
    ['a string timeoutMs', { timeoutMs: '10' }, /options\.timeoutMs must be a number; received "10"/],
    ['a signal that is not an AbortSignal', { signal: { aborted: false } }, /options\.signal must be an AbortSignal/],
  ];
  it.each(badOptions)('rejects %s naming the option', async (_, options, message) => {
    const before = pool.stats();
    await expect(pool.acquireAsync(64, options as never)).rejects.toThrow(message);
    expectUnchanged(before);
  });
});

describe('reclaim(threadId) and watch(worker)', () => {
  const badThreadIds: Array<[string, unknown, RegExp]> = [
    ['a string', '3', /threadId must be a number; received "3"/],
    ['a negative', -1, /threadId must be a non-negative integer; received -1/],
    ['a fraction', 1.5, /threadId must be a non-negative integer; received 1\.5/],
    ['NaN', NaN, /threadId must be a non-negative integer; received NaN/],
    ['Infinity', Infinity, /threadId must be a non-negative integer; received Infinity/],
    ['-Infinity', -Infinity, /threadId must be a non-negative integer; received -Infinity/],
    ['over 2^53 - 1', 2 ** 53, /threadId must be a non-negative integer; received 9007199254740992/],
    ['null', null, /threadId must be a number; received null/],
    ['undefined', undefined, /threadId must be a number; received undefined/],
    ['a bigint', 3n, /threadId must be a number; received 3n? \(bigint\)/],
  ];
  it.each(badThreadIds)('reclaim refuses %s', (_, value, message) => {
    const before = pool.stats();
    expect(() => pool.reclaim(value as number)).toThrow(message);
    expectUnchanged(before);
  });
  it('reclaim of a thread that never attached returns an empty report', () => {
    expect(pool.reclaim(99_999)).toEqual({ threadId: 99_999, slots: 0, locks: 0, cached: 0, leased: 0 });
  });
  it.each([
    ['undefined', undefined],
    ['a number', 3],
    ['an object without threadId', { once() {} }],
  ])('watch refuses %s', (_, value) => {
    const before = pool.stats();
    expect(() => pool.watch(value as never)).toThrow(TypeError);
    expect(() => pool.watch(value as never)).toThrow(/worker must be a Worker from node:worker_threads/);
    expectUnchanged(before);
  });
  it.each([
    ['a number', 5],
    ['a string', 'log'],
    ['null', null],
  ])('watch refuses %s as onReclaim, and watches nothing', (_, value) => {
    const before = pool.stats();
    const worker = { threadId: 77_777, once() {}, off() {} };
    expect(() => pool.watch(worker as never, value as never)).toThrow(TypeError);
    expect(() => pool.watch(worker as never, value as never)).toThrow(/onReclaim must be a function or undefined; received/);
    // Not watched: reclaim does not refuse it as a running watched worker.
    expect(pool.reclaim(77_777)).toEqual({ threadId: 77_777, slots: 0, locks: 0, cached: 0, leased: 0 });
    expectUnchanged(before);
  });
});

describe('SlabPool.attach(handle)', () => {
  const arena = pool.handle.buffer;
  const copyOf = (bytes: number) => {
    const copy = new SharedArrayBuffer(bytes);
    new Uint8Array(copy).set(new Uint8Array(arena, 0, Math.min(bytes, arena.byteLength)));
    return copy;
  };
  const otherVersion = copyOf(arena.byteLength);
  new Int32Array(otherVersion)[1] = 99;
  /** A copy of the arena whose header word `word` says `value` instead. */
  const alteredAt = (word: number, value: number) => {
    const copy = copyOf(arena.byteLength);
    new Int32Array(copy)[word] = value;
    return copy;
  };

  const cases: Array<[string, unknown, RegExp]> = [
    ['undefined', undefined, /handle must be a pool handle/],
    ['a number', 7, /handle must be a pool handle/],
    ['a plain SharedArrayBuffer', arena, /handle must be a pool handle/],
    [
      'a handle over an ArrayBuffer',
      { kind: 'zeropool', layoutVersion: LAYOUT_VERSION, buffer: new ArrayBuffer(4096) },
      /handle must be a pool handle/,
    ],
    [
      'a handle of another layout version',
      { ...pool.handle, layoutVersion: 99 },
      new RegExp(`handle\\.layoutVersion must be layout version ${LAYOUT_VERSION}.*received 99`),
    ],
    [
      'a buffer without the magic number',
      { ...pool.handle, buffer: new SharedArrayBuffer(1 << 20) },
      /without the pool magic number/,
    ],
    ['a buffer too small for a header', { ...pool.handle, buffer: new SharedArrayBuffer(16) }, /too small to hold a header/],
    ['a truncated arena', { ...pool.handle, buffer: copyOf(1 << 20) }, /truncated or altered/],
    [
      'a handle without its signals buffer',
      { ...pool.handle, signals: undefined },
      new RegExp(`handle\\.signals must be a SharedArrayBuffer of ${SIGNALS_BYTES} bytes`),
    ],
    [
      'a handle whose signals buffer is too small',
      { ...pool.handle, signals: new SharedArrayBuffer(64) },
      /handle\.signals must be/,
    ],
    ['an arena written by another layout version', { ...pool.handle, buffer: otherVersion }, /an arena of layout version 99/],
    // Slab sizes are 1 << shift: a shift out of range must not wrap to a small or negative size.
    // 52 and -12 wrap to 2^20, the real largest size: only the range check refuses those.
    ...[31, 32, 40, 52, -1, -12].map((shift): [string, unknown, RegExp] => [
      `an arena whose header says the largest slab is 2^${shift} bytes`,
      { ...pool.handle, buffer: alteredAt(H_MAX_SHIFT, shift) },
      /an arena whose header does not match its own layout/,
    ]),
    [
      'an arena whose header says the smallest slab is larger than the largest',
      { ...pool.handle, buffer: alteredAt(H_MIN_SHIFT, 25) },
      /an arena whose header does not match its own layout/,
    ],
  ];
  it('refuses a bad lockTimeoutMs option before taking a thread slot', () => {
    const before = pool.stats();
    expect(() => SlabPool.attach(pool.handle, { lockTimeoutMs: 0 })).toThrow(
      /options\.lockTimeoutMs must be an integer from 1 to 2147483647; received 0/,
    );
    expect(() => new SlabPool({ lockTimeoutMs: 'soon' as never })).toThrow(/options\.lockTimeoutMs must be a number/);
    expect(pool.stats()).toEqual(before);
  });

  it('refuses options that are not an object, before taking a thread slot', () => {
    const before = pool.stats();
    expect(() => SlabPool.attach(pool.handle, 5 as never)).toThrow(TypeError);
    expect(() => SlabPool.attach(pool.handle, 5 as never)).toThrow(
      /^options must be an object or undefined; received 5 \(number\)$/,
    );
    expect(() => SlabPool.attach(pool.handle, null as never)).toThrow(/^options must be an object or undefined; received null/);
    expect(pool.stats()).toEqual(before);
  });

  it('refuses a bad leakDetection option', () => {
    const before = pool.stats();
    expect(() => SlabPool.attach(pool.handle, { leakDetection: 'loud' as never })).toThrow(
      /options\.leakDetection must be one of/,
    );
    expect(pool.stats()).toEqual(before); // no thread slot taken
  });

  it.each(cases)('refuses %s with a TypeError saying which', (_, handle, message) => {
    const before = pool.stats();
    expect(() => SlabPool.attach(handle as never)).toThrow(TypeError);
    expect(() => SlabPool.attach(handle as never)).toThrow(message);
    expectUnchanged(before);
  });
});

describe('defaultsFor(parallelism) and detectParallelism(env)', () => {
  it.each(notNumbers)('defaultsFor refuses %s with a TypeError naming parallelism', (_, value) => {
    expect(() => defaultsFor(value as number)).toThrow(TypeError);
    expect(() => defaultsFor(value as number)).toThrow(/^parallelism must be a number; received/);
    expect(thrown(() => defaultsFor(value as number)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['0', 0],
    ['a negative', -1],
    ['a fraction', 1.5],
    ['over 4096', 4097],
  ])('defaultsFor refuses %s with a RangeError naming parallelism, the value and the range', (_, value) => {
    expect(() => defaultsFor(value)).toThrow(RangeError);
    expect(() => defaultsFor(value)).toThrow(`parallelism must be an integer from 1 to 4096; received ${value}`);
    expect(thrown(() => defaultsFor(value)).code).toBe('ERR_OUT_OF_RANGE');
  });
  it.each(['0', '-2', '1.5', 'four', '4097', '0x10', '1e2', ' 8', '8 ', '+8', 'Infinity'])(
    'detectParallelism refuses ZEROPOOL_PARALLELISM=%j naming the variable and what it allows',
    (raw) => {
      expect(() => detectParallelism({ ZEROPOOL_PARALLELISM: raw })).toThrow(RangeError);
      expect(() => detectParallelism({ ZEROPOOL_PARALLELISM: raw })).toThrow(
        `environment variable ZEROPOOL_PARALLELISM must be an integer from 1 to 4096 in decimal digits; received ${JSON.stringify(raw)}`,
      );
    },
  );
  it('detectParallelism takes decimal digits', () => {
    expect(detectParallelism({ ZEROPOOL_PARALLELISM: '12' })).toBe(12);
    expect(detectParallelism({ ZEROPOOL_PARALLELISM: '4096' })).toBe(4096);
  });
});

describe('new SlabPool(options)', () => {
  it('refuses bad options before allocating anything', () => {
    expect(() => new SlabPool({ shards: 3 })).toThrow(/options\.shards must be a power of two from 1 to 256; received 3/);
    expect(() => new SlabPool({ arenaBytes: '64mb' as never })).toThrow(TypeError);
    expect(() => new SlabPool(null as never)).toThrow(/options must be an object or undefined; received null/);
    expect(() => new SlabPool({ prefault: 'yes' as never })).toThrow(TypeError);
    expect(() => new SlabPool({ prefault: 1 as never })).toThrow(/^options\.prefault must be a boolean; received 1/);
  });
  it.each([
    ['a wrong type', { arenaBytes: '64mb' }, 'ERR_INVALID_ARG_TYPE'],
    ['a value out of range', { shards: 3 }, 'ERR_OUT_OF_RANGE'],
    ['an unknown option', { arenaSize: 1 << 20 }, 'ERR_UNKNOWN_OPTION'],
  ])('refuses %s with a code', (_, options, code) => {
    expect(thrown(() => new SlabPool(options as never)).code).toBe(code);
  });
});

describe('common mistakes', () => {
  // Each names the argument, shows the value received and says how to fix the call, in the house
  // form "<argument> must be <allowed>; received <value>: <fix>" (SlabStateError: "id <value> is
  // not an acquired slab of this pool: <why>: <fix>"), with a code; the pool is left as it was.
  const MiB = 1 << 20;
  // Another size class than the ids above, so that their slabs stay as the tables above expect.
  const lease = pool.get(1000);
  const view = pool.bytes(held);
  const released2 = pool.acquire(1000);
  pool.release(released2);
  interface Expected {
    type: new (...args: never[]) => Error;
    code: string;
    argument: string;
    value: string;
    fix: RegExp;
  }
  const id = (value: string, fix: RegExp): Expected => ({
    type: SlabStateError,
    code: 'ERR_SLAB_STATE',
    argument: 'id',
    value,
    fix,
  });
  const mistakes: Array<[string, () => unknown, Expected]> = [
    [
      'release(bytes): the view instead of the id',
      () => pool.release(view as never),
      id('a Uint8Array of 128 bytes', /an id is a number, not an object: pass the id acquire returned, not its bytes/),
    ],
    [
      'release(Buffer): a Buffer over the slab instead of the id',
      () => pool.release(Buffer.from(view.buffer, view.byteOffset, view.length) as never),
      id('a Buffer of 128 bytes', /pass the id acquire returned, not its bytes/),
    ],
    [
      'release(lease): the lease instead of its id',
      () => pool.release(lease as never),
      id('a SlabLease object', /pass lease\.id \(\d+\), or call lease\.release\(\)/),
    ],
    [
      'release(id) after its release',
      () => pool.release(released2),
      id(
        String(released2),
        /it was released, so the id is stale \(the slab is at generation \d+ now, the id carries \d+\); .*a second release or a use after release/,
      ),
    ],
    [
      'bytes(id) after its release',
      () => pool.bytes(released2),
      id(String(released2), /it was released, so the id is stale .*a use after release/),
    ],
    [
      'release(-1): the result of a tryAcquire that failed',
      () => pool.release(-1),
      id('-1', /tryAcquire returns -1 when the pool is exhausted/),
    ],
    [
      'release(id | 0): an id cut to 32 bits',
      () => pool.release(held | 0),
      id(String(held | 0), /do not survive an Int32Array or `\| 0`: keep them in a Float64Array/),
    ],
    [
      'acquire(size) above maxSlabSize',
      () => pool.acquire(2 * MiB),
      {
        type: RangeError,
        code: 'ERR_OUT_OF_RANGE',
        argument: 'size',
        value: String(2 * MiB),
        fix: /create the pool with a larger maxSlabSize \(new SlabPool\(\{ maxSlabSize: 2097152 \}\) or more, up to 1073741824\)/,
      },
    ],
    [
      'acquire(size) above the largest maxSlabSize there is',
      () => pool.acquire(2 ** 31),
      {
        type: RangeError,
        code: 'ERR_OUT_OF_RANGE',
        argument: 'size',
        value: String(2 ** 31),
        fix: /no pool has slabs over 1073741824 bytes/,
      },
    ],
    [
      'acquire(bytes): a buffer instead of its length',
      () => pool.acquire(view as never),
      {
        type: TypeError,
        code: 'ERR_INVALID_ARG_TYPE',
        argument: 'size',
        value: 'a Uint8Array of 128 bytes',
        fix: /its byteLength \(128\)/,
      },
    ],
    [
      'new SlabPool({ arenaSize }): a misspelt option',
      () => new SlabPool({ arenaSize: MiB } as never),
      {
        type: TypeError,
        code: 'ERR_UNKNOWN_OPTION',
        argument: 'options',
        value: 'an option "arenaSize"',
        fix: /did you mean arenaBytes\?$/,
      },
    ],
    [
      'new SlabPool({ maxSlabsize }): an option in the wrong case',
      () => new SlabPool({ maxSlabsize: MiB } as never),
      {
        type: TypeError,
        code: 'ERR_UNKNOWN_OPTION',
        argument: 'options',
        value: 'an option "maxSlabsize"',
        fix: /did you mean maxSlabSize\?$/,
      },
    ],
    [
      "new SlabPool({ concurrency }): another library's option",
      () => new SlabPool({ concurrency: 4 } as never),
      { type: TypeError, code: 'ERR_UNKNOWN_OPTION', argument: 'options', value: 'an option "concurrency"', fix: /remove it/ },
    ],
    [
      'new SlabPool({ maxSlabSize }) larger than the arena holds',
      () => new SlabPool({ arenaBytes: MiB, maxSlabSize: MiB, parallelism: 2 }),
      {
        type: RangeError,
        code: 'ERR_OUT_OF_RANGE',
        argument: 'options.maxSlabSize',
        value: String(MiB),
        fix: /lower maxSlabSize to 524288, leave it out to let the pool choose, or raise arenaBytes to at least \d+$/,
      },
    ],
    [
      'new SlabPool({ maxSlabSize }) larger than the default arena holds',
      () => new SlabPool({ maxSlabSize: 2 ** 30, parallelism: 2 }),
      {
        type: RangeError,
        code: 'ERR_OUT_OF_RANGE',
        argument: 'options.maxSlabSize',
        value: String(2 ** 30),
        fix: /with the default arenaBytes.*lower maxSlabSize to 33554432/,
      },
    ],
    [
      'SlabPool.attach(handle, { arenaBytes }): a creation option',
      () => SlabPool.attach(pool.handle, { arenaBytes: MiB } as never),
      { type: TypeError, code: 'ERR_UNKNOWN_OPTION', argument: 'options', value: 'an option "arenaBytes"', fix: /remove it/ },
    ],
    [
      'SlabPool.attach(handle, { leakDetect })',
      () => SlabPool.attach(pool.handle, { leakDetect: 'full' } as never),
      {
        type: TypeError,
        code: 'ERR_UNKNOWN_OPTION',
        argument: 'options',
        value: 'an option "leakDetect"',
        fix: /did you mean leakDetection\?$/,
      },
    ],
    [
      'SlabPool.attach(handle, { timeoutMs })',
      () => SlabPool.attach(pool.handle, { timeoutMs: 100 } as never),
      {
        type: TypeError,
        code: 'ERR_UNKNOWN_OPTION',
        argument: 'options',
        value: 'an option "timeoutMs"',
        fix: /did you mean lockTimeoutMs\?$/,
      },
    ],
    [
      'SlabPool.attach(pool): the pool instead of its handle',
      () => SlabPool.attach(pool as never),
      {
        type: TypeError,
        code: 'ERR_INVALID_ARG_TYPE',
        argument: 'handle',
        value: 'a SlabPool object',
        fix: /pass pool\.handle, not the pool object/,
      },
    ],
    [
      'SlabPool.attach(pool.handle.buffer): the arena instead of the handle',
      () => SlabPool.attach(pool.handle.buffer as never),
      {
        type: TypeError,
        code: 'ERR_INVALID_ARG_TYPE',
        argument: 'handle',
        value: `a SharedArrayBuffer of ${pool.handle.buffer.byteLength} bytes`,
        fix: /pass pool\.handle, not its buffer alone/,
      },
    ],
    [
      'SlabPool.attach(undefined): workerData read under another name',
      () => SlabPool.attach(undefined as never),
      { type: TypeError, code: 'ERR_INVALID_ARG_TYPE', argument: 'handle', value: 'undefined', fix: /pass pool\.handle/ },
    ],
  ];

  it.each(mistakes)('%s: names the argument, the value and the fix, and changes nothing', (_, call, expected) => {
    const before = pool.stats();
    const error = thrown(call);
    expect(error).toBeInstanceOf(expected.type);
    expect(error.code).toBe(expected.code);
    // The argument opens the message, the value follows "received" (or "id"), the fix ends it.
    expect(error.message.startsWith(`${expected.argument} `)).toBe(true);
    expect(error.message).toContain(expected.type === SlabStateError ? `id ${expected.value} ` : `received ${expected.value}`);
    expect(error.message).toMatch(expected.fix);
    expectUnchanged(before);
  });

  it('lists the options an unknown one could have been', () => {
    expect(thrown(() => new SlabPool({ arenaSize: MiB } as never)).message).toMatch(
      /^options must hold only arenaBytes, minSlabSize, maxSlabSize, .* and parallelism; received an option "arenaSize"/,
    );
    expect(thrown(() => SlabPool.attach(pool.handle, { shards: 4 } as never)).message).toMatch(
      /^options must hold only leakDetection and lockTimeoutMs \(the arena's other settings are fixed when the pool is created\)/,
    );
  });

  it('the maxSlabSize and arenaBytes an error suggests are accepted', () => {
    const message = thrown(() => new SlabPool({ arenaBytes: MiB, maxSlabSize: MiB, parallelism: 2 })).message;
    const arenaBytes = Number(/raise arenaBytes to at least (\d+)/.exec(message)?.[1]);
    const bigger = new SlabPool({ arenaBytes, maxSlabSize: MiB, parallelism: 2 });
    bigger.release(bigger.acquire(MiB));
    bigger.close();
    const smaller = new SlabPool({ arenaBytes: MiB, maxSlabSize: 524288, parallelism: 2 });
    smaller.release(smaller.acquire(524288));
    smaller.close();
  });

  it('exhaustion says what would help, and counts the attempt but changes nothing else', () => {
    const small = new SlabPool({ arenaBytes: 4 * MiB, parallelism: 2, maxThreads: 8, shards: 1 });
    // A leased 64-byte slab keeps its page (the rest of it free); another pool object caches 128-byte slabs.
    const pin = small.acquire(64);
    const other = SlabPool.attach(small.handle);
    other.release(other.acquire(128));
    const ids: number[] = [];
    for (let next = small.tryAcquire(MiB); next !== -1; next = small.tryAcquire(MiB)) ids.push(next);
    const before = small.stats();
    const error = thrown(() => small.acquire(MiB)) as PoolExhaustedError;
    expect(error).toBeInstanceOf(PoolExhaustedError);
    expect(error.code).toBe('ERR_POOL_EXHAUSTED');
    expect(error.message).toMatch(/^pool exhausted: no free slab of class 1048576 bytes for a request of 1048576 bytes/);
    const cached = before.classes.reduce((n, c) => n + c.cached * c.slabSize, 0);
    const freeElsewhere = before.classes.reduce((n, c) => n + (c.slabSize === MiB ? 0 : c.free * c.slabSize), 0);
    expect(cached).toBeGreaterThan(0);
    expect(freeElsewhere).toBeGreaterThan(MiB / 2);
    expect({ cached: error.cachedBytes, freeElsewhere: error.freeElsewhereBytes }).toEqual({ cached, freeElsewhere });
    expect(error.message).toContain(`${cached} bytes sit in thread caches: call flush() or trim() in threads gone idle`);
    expect(error.message).toContain(`${freeElsewhere} bytes are free in pages of other classes that still hold slabs in use`);
    expect(error.message).toMatch(
      /release slabs no longer needed, wait with acquireAsync\(\), or create the pool with a larger arenaBytes$/,
    );
    expect(small.stats()).toEqual({ ...before, exhausted: before.exhausted + 1 });
    expect(small.audit()).toEqual([]);
    for (const held of ids) small.release(held);
    small.release(pin);
    other.close();
    small.close();
  });

  it('a closed pool object and a full thread table refuse with a code', () => {
    const single = new SlabPool({ arenaBytes: 4 * MiB, parallelism: 2, maxThreads: 1, shards: 1 });
    const full = thrown(() => SlabPool.attach(single.handle));
    expect(full).toBeInstanceOf(RangeError);
    expect(full.code).toBe('ERR_POOL_THREADS');
    single.close();
    const closed = thrown(() => single.acquire(64));
    expect(closed.code).toBe('ERR_POOL_CLOSED');
    expect(closed.message).toMatch(/attach again/);
  });

  it('gives the lease back', () => {
    lease.release();
  });
});

it('still serves the slab held throughout', () => {
  expect(pool.capacity(held)).toBe(128);
  pool.release(held);
  other.release(foreign);
});
