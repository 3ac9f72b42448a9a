import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { PARALLELISM_ENV, defaultsFor, detectParallelism, resolveConfig } from '../src/config.js';
import { computeLayout } from '../src/layout.js';

describe('defaultsFor', () => {
  it('derives shards, cache size, arena size and thread slots from the parallelism', () => {
    expect(defaultsFor(2)).toEqual({
      arenaBytes: 64 * 2 ** 20,
      minSlabSize: 64,
      maxSlabSize: 2 ** 20,
      shards: 4,
      cacheSize: 32,
      cacheBytes: 2 ** 20,
      maxThreads: 256,
    });
    expect(defaultsFor(8).shards).toBe(16);
    expect(defaultsFor(8).arenaBytes).toBe(256 * 2 ** 20);
    expect(defaultsFor(16).cacheSize).toBe(16);
    expect(defaultsFor(64).cacheSize).toBe(8);
    expect(defaultsFor(128).shards).toBe(128);
    expect(defaultsFor(128).arenaBytes).toBe(2 ** 30);
    expect(defaultsFor(64).maxThreads).toBe(511);
    expect(defaultsFor(128).maxThreads).toBe(511);
  });

  it('gives a power-of-two shard count for every parallelism from 1 to 256', () => {
    for (let p = 1; p <= 256; p++) {
      const { shards } = defaultsFor(p);
      expect(shards & (shards - 1), `parallelism ${p}`).toBe(0);
      expect(shards).toBeGreaterThanOrEqual(Math.min(128, 2 * p));
    }
  });
});

describe('detectParallelism', () => {
  it('uses os.availableParallelism() when the environment variable is unset or empty', () => {
    expect(detectParallelism({})).toBe(availableParallelism());
    expect(detectParallelism({ [PARALLELISM_ENV]: '' })).toBe(availableParallelism());
  });

  it('takes ZEROPOOL_PARALLELISM over the OS figure', () => {
    expect(detectParallelism({ [PARALLELISM_ENV]: '48' })).toBe(48);
  });

  // Values it refuses: the bad-input table (bad-input.test.ts).
});

describe('resolveConfig', () => {
  it('applies the environment override to the defaults', () => {
    const config = resolveConfig({}, { [PARALLELISM_ENV]: '32' });
    expect(config.parallelism).toBe(32);
    expect(config.shards).toBe(64);
    expect(config.arenaBytes).toBe(1024 * 2 ** 20);
  });

  it('lets explicit options win over the defaults and the environment', () => {
    const config = resolveConfig({ shards: 2, cacheSize: 4, arenaBytes: 8 << 20, parallelism: 3 }, { [PARALLELISM_ENV]: '32' });
    expect(config).toMatchObject({ shards: 2, cacheSize: 4, arenaBytes: 8 << 20, parallelism: 3 });
  });

  it('rounds arenaBytes down to a multiple of 4096', () => {
    expect(resolveConfig({ arenaBytes: 10_000_000 }).arenaBytes).toBe(10_000_000 - (10_000_000 % 4096));
  });

  it('raises maxSlabSize to minSlabSize when only minSlabSize is given above the default maximum', () => {
    expect(resolveConfig({ minSlabSize: 4 << 20, arenaBytes: 64 << 20 }).maxSlabSize).toBe(4 << 20);
  });

  it.each([
    // arenaBytes, the default maxSlabSize it gets, with parallelism 2 and 4096.
    [64 * 1024, 4096],
    [256 * 1024, 16384],
    [1 << 20, 65536],
  ])(
    'gives an arena of %i bytes, too small for a 1 MiB page, pages of %i bytes with room for every class',
    (arenaBytes, page) => {
      for (const parallelism of [2, 4096]) {
        const config = resolveConfig({ arenaBytes, parallelism }, {});
        expect(config).toMatchObject({ arenaBytes, maxSlabSize: page });
        const layout = computeLayout(config);
        expect(layout.pageCount).toBeGreaterThanOrEqual(layout.classCount);
        // The tables (thread slots at most a quarter, shards) leave at least half for the slabs.
        expect(layout.dataStart).toBeLessThanOrEqual(arenaBytes / 2);
      }
    },
  );

  it('keeps the defaults, 1 MiB pages included, for every arena that holds one', () => {
    for (const arenaBytes of [1100 * 1024, 2 << 20, 4 << 20, 8 << 20]) {
      const config = resolveConfig({ arenaBytes, parallelism: 2 }, {});
      expect(config).toMatchObject({ ...defaultsFor(2), arenaBytes });
    }
  });

  it('never changes an option that was given, and refuses it when it does not fit', () => {
    expect(resolveConfig({ arenaBytes: 1 << 20, maxSlabSize: 256 * 1024, shards: 2, maxThreads: 4 }, {})).toMatchObject({
      maxSlabSize: 256 * 1024,
      shards: 2,
      maxThreads: 4,
    });
    expect(resolveConfig({ arenaBytes: 256 * 1024, maxThreads: 300 }, {}).maxThreads).toBe(300);
    expect(() => resolveConfig({ arenaBytes: 64 * 1024, maxSlabSize: 64 * 1024 }, {})).toThrow(/lower maxSlabSize to 32768/);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp, typeof TypeError | typeof RangeError]> = [
    ['options not an object', { options: 5 }, /options must be an object or undefined; received 5/, TypeError],
    ['arenaBytes a string', { arenaBytes: '1mb' }, /options\.arenaBytes must be a number; received "1mb"/, TypeError],
    [
      'arenaBytes negative',
      { arenaBytes: -1 },
      /options\.arenaBytes must be an integer from 1 to 4294963200; received -1/,
      RangeError,
    ],
    ['arenaBytes NaN', { arenaBytes: NaN }, /options\.arenaBytes must be an integer .*received NaN/, RangeError],
    [
      'arenaBytes too small for the tables and one page of the smallest class',
      { arenaBytes: 4096 },
      /^options\.arenaBytes must be at least 8192 bytes to hold .*\(4096 bytes\) and one 64-byte page; received 4096: raise arenaBytes$/,
      RangeError,
    ],
    [
      'arenaBytes too small for the thread slots asked for',
      { arenaBytes: 65536, maxThreads: 511 },
      /^options\.arenaBytes must be at least \d+ bytes .* 511 thread slots .*; received 65536: raise arenaBytes, or ask for fewer maxThreads \(128 bytes each\)$/,
      RangeError,
    ],
    [
      'maxSlabSize larger than a page the arena holds',
      { arenaBytes: 1 << 20, maxSlabSize: 1 << 20, parallelism: 2 },
      /^options\.maxSlabSize must be at most 524288 with arenaBytes 1048576 .*; received 1048576: lower maxSlabSize to 524288, leave it out to let the pool choose, or raise arenaBytes to at least \d+$/,
      RangeError,
    ],
    [
      'an unknown option',
      { arenaSize: 1 << 20 },
      /^options must hold only arenaBytes, .*; received an option "arenaSize": did you mean arenaBytes\?$/,
      TypeError,
    ],
    [
      'arenaBytes over 4 GiB',
      { arenaBytes: 2 ** 33 },
      /options\.arenaBytes must be an integer from 1 to 4294963200; received 8589934592/,
      RangeError,
    ],
    [
      'minSlabSize not a power of two',
      { minSlabSize: 100 },
      /options\.minSlabSize must be a power of two from 64 to 1073741824; received 100/,
      RangeError,
    ],
    [
      'minSlabSize below 64',
      { minSlabSize: 32 },
      /options\.minSlabSize must be an integer from 64 to 1073741824, a power of two; received 32/,
      RangeError,
    ],
    [
      'maxSlabSize below minSlabSize',
      { minSlabSize: 4096, maxSlabSize: 1024 },
      /options\.maxSlabSize must be an integer from 4096 to 1073741824, a power of two; received 1024/,
      RangeError,
    ],
    ['shards not a power of two', { shards: 3 }, /options\.shards must be a power of two from 1 to 256; received 3/, RangeError],
    ['shards zero', { shards: 0 }, /options\.shards must be an integer from 1 to 256, a power of two; received 0/, RangeError],
    [
      'cacheSize fractional',
      { cacheSize: 2.5 },
      /options\.cacheSize must be an integer from 1 to 65536; received 2\.5/,
      RangeError,
    ],
    ['cacheBytes zero', { cacheBytes: 0 }, /options\.cacheBytes must be an integer from 1 to 2147483647; received 0/, RangeError],
    [
      'maxThreads over 511',
      { maxThreads: 5000 },
      /options\.maxThreads must be an integer from 1 to 511; received 5000/,
      RangeError,
    ],
    [
      'parallelism Infinity',
      { parallelism: Infinity },
      /options\.parallelism must be an integer from 1 to 4096; received Infinity/,
      RangeError,
    ],
  ];
  it.each(bad)('rejects %s with a message naming the option, the value and the range', (_, options, message, type) => {
    const input = 'options' in options ? (options.options as never) : (options as never);
    expect(() => resolveConfig(input, {})).toThrow(type);
    expect(() => resolveConfig(input, {})).toThrow(message);
  });
});
