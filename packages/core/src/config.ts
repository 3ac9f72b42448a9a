/**
 * Options and their CPU-aware defaults: checking every option, and resolving what a pool uses.
 * One function turns the machine's parallelism into shard count, cache size and arena size;
 * explicit options win over the defaults, and the `ZEROPOOL_PARALLELISM` environment variable
 * overrides the detected parallelism (Node 20's `os.availableParallelism()` ignores container CPU
 * quotas, so a container may need to say how many CPUs it really has).
 */
import { availableParallelism } from 'node:os';
import { invalidType, outOfRange, unknownOption } from './errors.js';
import {
  LINE_BYTES,
  MAX_ARENA_BYTES,
  MAX_BUFFER_BYTES,
  MAX_SHARDS,
  MAX_SLAB_SIZE_LIMIT,
  MAX_THREADS,
  META_BYTES,
  MIN_SLAB_SIZE_LIMIT,
  PAGE_ALIGN_BYTES,
  computeLayout,
} from './layout.js';
import type { LeakDetection, ResolvedConfig, SlabPoolOptions } from './types.js';

/**
 * Name of the environment variable that overrides the detected parallelism, `ZEROPOOL_PARALLELISM`:
 * when set and not empty, it must be an integer from 1 to 4096, and it replaces
 * `os.availableParallelism()` wherever the `parallelism` option is not given.
 */
export const PARALLELISM_ENV = 'ZEROPOOL_PARALLELISM';
/**
 * Name of the environment variable that turns debug mode on, `ZEROPOOL_DEBUG`: `1` or `true` means
 * on; `0`, `false`, empty or unset mean off. It is read when a pool is created without a `debug`
 * option; debug mode belongs to the arena, so attached threads share the creator's choice.
 */
export const DEBUG_ENV = 'ZEROPOOL_DEBUG';
/**
 * Name of the environment variable that sets the leak detection level, `ZEROPOOL_LEAK_DETECTION`:
 * `off`, `sampled` or `full` (empty or unset mean `off`). It is read by every pool object created
 * or attached without a `leakDetection` option, since leak detection belongs to each pool object.
 */
export const LEAK_DETECTION_ENV = 'ZEROPOOL_LEAK_DETECTION';
/** The largest parallelism the defaults are sized for (option, environment variable, `defaultsFor`). */
const MAX_PARALLELISM = 4096;
const LEAK_LEVELS: readonly LeakDetection[] = ['off', 'sampled', 'full'];
const MiB = 1024 * 1024;

const isPowerOfTwo = (value: number): boolean => value > 0 && (value & (value - 1)) === 0;
const nextPowerOfTwo = (value: number): number => (value <= 1 ? 1 : 2 ** Math.ceil(Math.log2(value)));
const previousPowerOfTwo = (value: number): number => (value < 2 ? 1 : 2 ** Math.floor(Math.log2(value)));
const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, value));

/**
 * The defaults for a machine with `parallelism` CPUs. This is the table the README prints.
 * Explicit options win over these values.
 * @param parallelism the number of CPUs to size for: an integer from 1 to 4096.
 * @throws {TypeError} `parallelism` is not a number.
 * @throws {RangeError} `parallelism` is not an integer from 1 to 4096.
 * @example
 * ```ts
 * const defaults = defaultsFor(8);
 * defaults.shards; // 16
 * defaults.arenaBytes; // 268435456 (256 MiB)
 * ```
 */
export function defaultsFor(
  parallelism: number,
): Omit<ResolvedConfig, 'parallelism' | 'zeroOnRelease' | 'zeroOnAcquire' | 'debug' | 'leakDetection' | 'lockTimeoutMs'> {
  checkInteger('parallelism', parallelism, 1, MAX_PARALLELISM);
  return {
    // Enough room for every class to carve a few pages with the default 1 MiB page, growing with
    // the number of threads that will fill caches at once.
    arenaBytes: clamp(32 * MiB * parallelism, 64 * MiB, 1024 * MiB),
    minSlabSize: 64,
    maxSlabSize: MiB,
    // Twice as many shards as CPUs keeps two running threads off one lock most of the time;
    // past 128 the steal scan of an empty class costs more than contention saves.
    shards: clamp(nextPowerOfTwo(2 * parallelism), 4, 128),
    // A refill or spill moves half a cache under one lock, so larger caches amortize the lock
    // better; with many threads, more memory would sit idle in caches, so they shrink.
    cacheSize: parallelism <= 8 ? 32 : parallelism <= 32 ? 16 : 8,
    cacheBytes: MiB,
    maxThreads: clamp(8 * parallelism, 256, MAX_THREADS),
  };
}

/**
 * Reads the parallelism the defaults derive from when no `parallelism` option is given:
 * `ZEROPOOL_PARALLELISM` in `env` when it is set and not empty, else `os.availableParallelism()`
 * (which, on Node 20, ignores container CPU quotas).
 * @param env the environment to read; `process.env` unless given.
 * @throws {RangeError} `ZEROPOOL_PARALLELISM` is set to anything but an integer from 1 to 4096
 *   (`code: 'ERR_OUT_OF_RANGE'`).
 * @example
 * ```ts
 * detectParallelism({ ZEROPOOL_PARALLELISM: '4' }); // 4
 * detectParallelism({}); // os.availableParallelism()
 * ```
 */
export function detectParallelism(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env[PARALLELISM_ENV];
  if (raw === undefined || raw === '') return availableParallelism();
  // Decimal digits only: Number() would also take '0x10', '1e2' and ' 8 '.
  const value = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PARALLELISM)) {
    throw outOfRange(`environment variable ${PARALLELISM_ENV}`, raw, `an integer from 1 to ${MAX_PARALLELISM} in decimal digits`);
  }
  return value;
}

function checkInteger(name: string, value: unknown, low: number, high: number, extra = ''): number {
  if (typeof value !== 'number') throw invalidType(name, value, 'a number');
  if (!Number.isInteger(value) || value < low || value > high) {
    throw outOfRange(name, value, `an integer from ${low} to ${high}${extra}`);
  }
  return value;
}

function checkPowerOfTwo(name: string, value: unknown, low: number, high: number): number {
  checkInteger(name, value, low, high, ', a power of two');
  if (!isPowerOfTwo(value as number)) throw outOfRange(name, value, `a power of two from ${low} to ${high}`);
  return value as number;
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(name, value, 'a boolean');
  return value;
}

function envFlag(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw outOfRange(`environment variable ${name}`, raw, '1, true, 0, false or empty');
}

function checkLeakLevel(name: string, value: unknown): LeakDetection {
  if (!LEAK_LEVELS.includes(value as LeakDetection))
    throw outOfRange(name, value, `one of ${LEAK_LEVELS.map((l) => `'${l}'`).join(', ')}`);
  return value as LeakDetection;
}

/**
 * Every option of `new SlabPool`, so that one nobody reads (a typo, an option of another library)
 * is refused rather than ignored. A record, not a list, so that the compiler checks it against
 * {@link SlabPoolOptions} both ways.
 */
const POOL_OPTIONS: Record<keyof SlabPoolOptions, true> = {
  arenaBytes: true,
  minSlabSize: true,
  maxSlabSize: true,
  shards: true,
  cacheSize: true,
  cacheBytes: true,
  maxThreads: true,
  prefault: true,
  zeroOnRelease: true,
  zeroOnAcquire: true,
  debug: true,
  leakDetection: true,
  lockTimeoutMs: true,
  parallelism: true,
};

/** The options of `SlabPool.attach`: the arena fixes the others when it is created. */
const ATTACH_OPTIONS: Record<'leakDetection' | 'lockTimeoutMs', true> = { leakDetection: true, lockTimeoutMs: true };

/**
 * Throws `ERR_UNKNOWN_OPTION` for the first own enumerable property of `options` that is not in
 * `known`, suggesting the closest known name.
 */
function checkOptionNames(options: object, known: Record<string, true>, note?: string): void {
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(known, key)) throw unknownOption('options', key, Object.keys(known), note);
  }
}

/**
 * Checks the options of `SlabPool.attach` before anything is claimed: an object or undefined,
 * holding only `leakDetection` and `lockTimeoutMs`.
 * @throws {TypeError} `options` is neither an object nor undefined (`code: 'ERR_INVALID_ARG_TYPE'`),
 *   or holds another option (`code: 'ERR_UNKNOWN_OPTION'`).
 */
export function checkAttachOptions(options: unknown): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') throw invalidType('options', options, 'an object or undefined');
  checkOptionNames(options, ATTACH_OPTIONS, "the arena's other settings are fixed when the pool is created");
}

/** Default for `lockTimeoutMs`: the one place the 5000 ms of its documentation is written in code. */
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

/**
 * The lock timeout: the option, else `DEFAULT_LOCK_TIMEOUT_MS`.
 * @throws {TypeError} the option is not a number.
 * @throws {RangeError} the option is not an integer from 1 to 2^31 - 1.
 * @example
 * ```ts
 * resolveLockTimeout(undefined); // DEFAULT_LOCK_TIMEOUT_MS
 * ```
 */
export function resolveLockTimeout(option: unknown): number {
  return option === undefined ? DEFAULT_LOCK_TIMEOUT_MS : checkInteger('options.lockTimeoutMs', option, 1, 2 ** 31 - 1);
}

/** Whether a new pool touches every page of its arena at creation (`options.prefault`). */
export function resolvePrefault(option: unknown): boolean {
  return option === undefined ? false : checkBoolean('options.prefault', option);
}

/** The leak detection level: the option, else `ZEROPOOL_LEAK_DETECTION`, else `'off'`. */
export function resolveLeakDetection(
  option: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LeakDetection {
  if (option !== undefined) return checkLeakLevel('options.leakDetection', option);
  return checkLeakLevel(`environment variable ${LEAK_DETECTION_ENV}`, env[LEAK_DETECTION_ENV] || 'off');
}

/**
 * Merges options over the defaults and validates the result. Throws `TypeError` or `RangeError`
 * naming the option, the value and what is allowed. This is what `new SlabPool(options)` runs
 * before it allocates anything, so it shows the configuration a pool would get.
 *
 * `arenaBytes` holds the pool's tables (header, lock lines, page table, thread table) and its
 * pages, and `stats().arenaBytes` is the same number. The `SharedArrayBuffer` is larger by the
 * slab metadata, 12 bytes per `minSlabSize` bytes of pages (`stats().bufferBytes`), reserved whole
 * and written only as pages are carved.
 * An arena too small to hold one page of the default `maxSlabSize` (1 MiB) next to those tables,
 * below about 1.1 MiB with the defaults of up to 32 CPUs, gets smaller defaults for what was not given: the
 * largest `maxSlabSize` (the page size) at which every size class can have a page of its own,
 * thread slots whose table takes at most a quarter of the arena, and a shard per 16 KiB of
 * arena. So any `arenaBytes` from 64 KiB up works without other options (a 1 MiB arena gets
 * 64 KiB pages, 256 KiB gets 16 KiB, 64 KiB gets 4 KiB). Larger arenas keep the defaults of
 * {@link defaultsFor}; an explicit option is never changed.
 * @param options the options of {@link SlabPool}; every member is optional.
 * @param env the environment that `ZEROPOOL_PARALLELISM`, `ZEROPOOL_DEBUG` and
 *   `ZEROPOOL_LEAK_DETECTION` are read from for the options not given; `process.env` unless given.
 * @throws {TypeError} `options` is not an object, or an option has the wrong type
 *   (`code: 'ERR_INVALID_ARG_TYPE'`), or `options` holds an option `SlabPool` does not have
 *   (`code: 'ERR_UNKNOWN_OPTION'`; the message suggests the closest one).
 * @throws {RangeError} an option is out of range, not a power of two where one is needed, or not
 *   one of the allowed values (`leakDetection`); or an explicit `maxSlabSize` is larger than a page
 *   the arena can hold (the message names the largest that fits and the arena that would hold
 *   it); or `arenaBytes` is too small for the pool's tables and one page of `minSlabSize`, or so
 *   large that the buffer with its slab metadata would reach 4 GiB; or one
 *   of the environment variables holds a value it does not allow (`code: 'ERR_OUT_OF_RANGE'`).
 * @example
 * ```ts
 * const config = resolveConfig({ parallelism: 4, arenaBytes: 10_000_000 });
 * config.arenaBytes; // 9998336: rounded down to a multiple of 4096
 * config.shards; // 8
 * resolveConfig({ arenaBytes: 1024 * 1024 }).maxSlabSize; // 65536: a small arena gets smaller pages
 * ```
 */
export function resolveConfig(
  options: SlabPoolOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedConfig {
  if (options === null || typeof options !== 'object') throw invalidType('options', options, 'an object or undefined');
  checkOptionNames(options, POOL_OPTIONS);
  const parallelism =
    options.parallelism === undefined
      ? detectParallelism(env)
      : checkInteger('options.parallelism', options.parallelism, 1, MAX_PARALLELISM);
  const defaults = defaultsFor(parallelism);
  const minSlabSize = checkPowerOfTwo(
    'options.minSlabSize',
    options.minSlabSize ?? defaults.minSlabSize,
    MIN_SLAB_SIZE_LIMIT,
    MAX_SLAB_SIZE_LIMIT,
  );
  const maxSlabSize = checkPowerOfTwo(
    'options.maxSlabSize',
    options.maxSlabSize ?? Math.max(defaults.maxSlabSize, minSlabSize),
    minSlabSize,
    MAX_SLAB_SIZE_LIMIT,
  );
  const shards = checkPowerOfTwo('options.shards', options.shards ?? defaults.shards, 1, MAX_SHARDS);
  const cacheSize = checkInteger('options.cacheSize', options.cacheSize ?? defaults.cacheSize, 1, 65536);
  const cacheBytes = checkInteger('options.cacheBytes', options.cacheBytes ?? defaults.cacheBytes, 1, 2 ** 31 - 1);
  const maxThreads = checkInteger('options.maxThreads', options.maxThreads ?? defaults.maxThreads, 1, MAX_THREADS);
  const requested = checkInteger('options.arenaBytes', options.arenaBytes ?? defaults.arenaBytes, 1, MAX_ARENA_BYTES);
  const arenaBytes = requested - (requested % PAGE_ALIGN_BYTES);
  let shape: ArenaShape = { arenaBytes, minSlabSize, maxSlabSize, shards, maxThreads };
  // No slab count check is needed: buffers under 4 GiB with slabs of at least 64 bytes hold fewer
  // than MAX_SLABS (2^26) slabs.
  if (computeLayout(shape).pageCount < 1) shape = fitSmallArena(shape, options, requested);
  if (computeLayout(shape).bufferBytes > MAX_BUFFER_BYTES) throw bufferTooLarge(shape, requested);
  const zeroOnRelease = checkBoolean('options.zeroOnRelease', options.zeroOnRelease ?? false);
  const zeroOnAcquire = checkBoolean('options.zeroOnAcquire', options.zeroOnAcquire ?? false);
  const debug = checkBoolean('options.debug', options.debug ?? envFlag(env, DEBUG_ENV));
  const leakDetection = resolveLeakDetection(options.leakDetection, env);
  const lockTimeoutMs = resolveLockTimeout(options.lockTimeoutMs);
  return {
    parallelism,
    arenaBytes,
    minSlabSize,
    maxSlabSize: shape.maxSlabSize,
    shards: shape.shards,
    cacheSize,
    cacheBytes,
    maxThreads: shape.maxThreads,
    zeroOnRelease,
    zeroOnAcquire,
    debug,
    leakDetection,
    lockTimeoutMs,
  };
}

/** What decides where an arena's pages start and how many fit. */
type ArenaShape = Parameters<typeof computeLayout>[0];

/** Arena bytes per default shard in a small arena: a small arena has few slabs to spread. */
const SMALL_ARENA_BYTES_PER_SHARD = 16 * 1024;
/** A small arena's default thread table takes at most this share of it. */
const SMALL_ARENA_THREAD_SHARE = 4;

/**
 * Sizes the options not given for an arena that cannot hold one page of the default size next to
 * its tables (see {@link resolveConfig}), or explains which option to change.
 */
function fitSmallArena(shape: ArenaShape, options: SlabPoolOptions, requested: number): ArenaShape {
  const { arenaBytes, minSlabSize } = shape;
  const maxThreads =
    options.maxThreads ?? clamp(Math.floor(arenaBytes / (SMALL_ARENA_THREAD_SHARE * LINE_BYTES)), 1, shape.maxThreads);
  const shards = options.shards ?? clamp(previousPowerOfTwo(arenaBytes / SMALL_ARENA_BYTES_PER_SHARD), 1, shape.shards);
  const withPage = (maxSlabSize: number): ArenaShape => ({ arenaBytes, minSlabSize, maxSlabSize, shards, maxThreads });
  if (options.maxSlabSize === undefined) {
    // The largest page at which every class can have a page of its own, so no class is starved
    // by the pages the others were carved from.
    for (let page = shape.maxSlabSize; page >= minSlabSize; page /= 2) {
      const layout = computeLayout(withPage(page));
      if (layout.pageCount >= layout.classCount) return withPage(page);
    }
    throw arenaTooSmall(withPage(minSlabSize), options, requested);
  }
  if (computeLayout(withPage(options.maxSlabSize)).pageCount >= 1) return withPage(options.maxSlabSize);
  let largest = options.maxSlabSize / 2;
  while (largest >= minSlabSize && computeLayout(withPage(largest)).pageCount < 1) largest /= 2;
  if (largest < minSlabSize) throw arenaTooSmall(withPage(minSlabSize), options, requested);
  const arena = options.arenaBytes === undefined ? `the default arenaBytes, ${arenaBytes}` : `arenaBytes ${arenaBytes}`;
  throw outOfRange(
    'options.maxSlabSize',
    options.maxSlabSize,
    `at most ${largest} with ${arena} (the arena must hold the pool's tables, ` +
      `${computeLayout(withPage(options.maxSlabSize)).dataStart} bytes, and one page of maxSlabSize bytes)`,
    `lower maxSlabSize to ${largest}, leave it out to let the pool choose, or raise arenaBytes to at least ` +
      `${smallestArena(withPage(options.maxSlabSize))}`,
  );
}

/** The error for an arena that cannot hold its tables and one page of `shape.maxSlabSize` bytes. */
function arenaTooSmall(shape: ArenaShape, options: SlabPoolOptions, requested: number): RangeError {
  const layout = computeLayout(shape);
  const also = [
    options.maxThreads !== undefined ? `fewer maxThreads (${LINE_BYTES} bytes each)` : '',
    options.shards !== undefined ? 'fewer shards' : '',
    options.minSlabSize !== undefined ? 'a smaller minSlabSize' : '',
  ].filter((fix) => fix !== '');
  return outOfRange(
    'options.arenaBytes',
    requested,
    `at least ${smallestArena(shape)} bytes to hold the pool's header, lock lines, page table and ` +
      `${shape.maxThreads} thread slots (${layout.dataStart} bytes) and one ${shape.maxSlabSize}-byte page`,
    `raise arenaBytes${also.length > 0 ? `, or ask for ${also.join(' or ')}` : ''}`,
  );
}

/**
 * The error for an arena whose slab metadata would take the buffer past `MAX_BUFFER_BYTES`: the
 * metadata of every slab slot sits past the arena, 12 bytes per `minSlabSize` bytes of pages.
 */
function bufferTooLarge(shape: ArenaShape, requested: number): RangeError {
  let largest = Math.floor(MAX_BUFFER_BYTES / (1 + META_BYTES / shape.minSlabSize) / PAGE_ALIGN_BYTES) * PAGE_ALIGN_BYTES;
  while (computeLayout({ ...shape, arenaBytes: largest }).bufferBytes > MAX_BUFFER_BYTES) largest -= PAGE_ALIGN_BYTES;
  return outOfRange(
    'options.arenaBytes',
    requested,
    `at most ${largest} with minSlabSize ${shape.minSlabSize} (the buffer also holds ${META_BYTES} bytes of slab ` +
      `metadata per ${shape.minSlabSize} bytes of pages, and must stay under 4 GiB)`,
    `lower arenaBytes to ${largest}, or raise minSlabSize`,
  );
}

/** The smallest arena (a multiple of 4096) that holds the tables of `shape` and one page. */
function smallestArena(shape: ArenaShape): number {
  const first = computeLayout(shape);
  // The page table grows with the arena, so the estimate may fall a line short: step up to it.
  let bytes = Math.ceil((first.dataStart + shape.maxSlabSize) / PAGE_ALIGN_BYTES) * PAGE_ALIGN_BYTES;
  while (bytes < MAX_ARENA_BYTES && computeLayout({ ...shape, arenaBytes: bytes }).pageCount < 1) bytes += PAGE_ALIGN_BYTES;
  return bytes;
}

/** The number of ids a thread caches for a class of `slabSize` bytes. */
export function cacheCapacityFor(config: Pick<ResolvedConfig, 'cacheSize' | 'cacheBytes'>, slabSize: number): number {
  return clamp(Math.floor(config.cacheBytes / slabSize), 1, config.cacheSize);
}
