/**
 * Creating, checking and attaching to an arena: the buffer is made and its header written once by
 * the creating thread, and the header is read and checked by every thread that attaches.
 */
import { DEFAULT_LOCK_TIMEOUT_MS } from './config.js';
import { invalidType } from './errors.js';
import {
  type ArenaLayout,
  FLAG_DEBUG,
  FLAG_ZERO_ON_ACQUIRE,
  FLAG_ZERO_ON_RELEASE,
  HEADER_BYTES,
  H_ARENA_BYTES,
  H_CACHE_BYTES,
  H_CACHE_SIZE,
  H_CLASS_COUNT,
  H_DATA_START,
  H_FLAGS,
  H_GENERATION_BITS,
  H_MAGIC,
  H_MAX_SHIFT,
  H_MAX_THREADS,
  H_MIN_SHIFT,
  H_PAGE_COUNT,
  H_PAGE_TABLE_BASE,
  H_PARALLELISM,
  H_POOL_TAG,
  H_SHARDS,
  H_SHARD_BASE,
  H_THREAD_BASE,
  H_VERSION,
  LAYOUT_VERSION,
  MAGIC,
  MAX_SLAB_SIZE_LIMIT,
  MIN_SLAB_SIZE_LIMIT,
  NO_SLAB,
  PAGE_ALIGN_BYTES,
  PAGE_UNTOUCHED,
  SIGNALS_BYTES,
  S_HEAD,
  TAG_MASK,
  computeLayout,
  pageClassWord,
  shardWord,
} from './layout.js';
import type { PoolHandle, ResolvedConfig } from './types.js';

/**
 * The tag is the generation freshly carved slabs start at, so an id from one pool is refused by
 * another unless their generations happen to meet. Pools created in one process get tags from a
 * random start, `TAG_STRIDE` apart: with consecutive tags, slab k of the second pool started at the
 * generation slab k of the first reaches after one release, so the second pool's ids were the
 * first's live ids after a single reuse. The stride (2^21 divided by the golden ratio) keeps tags
 * of pools created one after another far apart in the low bits too, where the generation lives.
 */
const TAG_STRIDE = 0x13c6ef;
let nextTag = Math.floor(Math.random() * (TAG_MASK + 1));

/** A new arena for `config`: the buffer, its pages written once first if `prefault`, and its header. */
export function createArena(config: ResolvedConfig, prefault: boolean): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(computeLayout(config).bufferBytes);
  // A write, not a read: reading a fresh page maps the shared zero page and faults again on the
  // first write. Nobody else can see the buffer yet.
  if (prefault) {
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < bytes.length; i += PAGE_ALIGN_BYTES) bytes[i] = 0;
  }
  writeHeader(buffer, config);
  return buffer;
}

/** Writes the header and empty shard lists into a fresh (zeroed) arena. */
export function writeHeader(buffer: SharedArrayBuffer, config: ResolvedConfig): void {
  const layout = computeLayout(config);
  const words = new Int32Array(buffer, 0, layout.dataStart >> 2);
  words[H_VERSION] = LAYOUT_VERSION;
  words[H_ARENA_BYTES] = layout.arenaBytes | 0;
  words[H_MIN_SHIFT] = layout.minShift;
  words[H_MAX_SHIFT] = layout.maxShift;
  words[H_CLASS_COUNT] = layout.classCount;
  words[H_SHARDS] = layout.shards;
  words[H_CACHE_SIZE] = config.cacheSize;
  words[H_CACHE_BYTES] = config.cacheBytes;
  words[H_MAX_THREADS] = layout.maxThreads;
  words[H_PAGE_COUNT] = layout.pageCount;
  words[H_DATA_START] = layout.dataStart;
  words[H_POOL_TAG] = nextTag;
  nextTag = (nextTag + TAG_STRIDE) & TAG_MASK;
  words[H_GENERATION_BITS] = layout.generationBits;
  words[H_PARALLELISM] = config.parallelism;
  words[H_FLAGS] =
    (config.zeroOnRelease ? FLAG_ZERO_ON_RELEASE : 0) |
    (config.zeroOnAcquire ? FLAG_ZERO_ON_ACQUIRE : 0) |
    (config.debug ? FLAG_DEBUG : 0);
  words[H_SHARD_BASE] = layout.shardBase;
  words[H_PAGE_TABLE_BASE] = layout.pageTableBase;
  words[H_THREAD_BASE] = layout.threadBase;
  for (let c = 0; c < layout.classCount; c++) {
    for (let s = 0; s <= layout.shards; s++) words[shardWord(layout, c, s) + S_HEAD] = NO_SLAB; // shards and the reserved list
  }
  const pageEntries = (layout.threadBase - layout.pageTableBase) >> 2;
  words.fill(PAGE_UNTOUCHED, pageClassWord(layout, 0), pageClassWord(layout, 0) + pageEntries);
  // The magic goes last: a reader that sees it sees a complete header.
  Atomics.store(words, H_MAGIC, MAGIC);
}

/** Checks that `handle` is a pool handle and returns its arena and signals buffers. */
export function checkHandle(handle: unknown): { buffer: SharedArrayBuffer; signals: SharedArrayBuffer } {
  if (handle === null || typeof handle !== 'object') {
    throw invalidType(
      'handle',
      handle,
      'a pool handle (pool.handle from the thread that created the pool)',
      'pass pool.handle (in a worker, where the creating thread put it, e.g. workerData)',
    );
  }
  const { kind, layoutVersion, buffer, signals } = handle as Partial<PoolHandle>;
  if (kind !== 'zeropool' || !(buffer instanceof SharedArrayBuffer)) {
    throw invalidType(
      'handle',
      handle,
      'a pool handle ({ kind: "zeropool", layoutVersion, buffer, signals }, from pool.handle)',
      handleFix(handle),
    );
  }
  if (layoutVersion !== LAYOUT_VERSION) {
    throw invalidType('handle.layoutVersion', layoutVersion, `layout version ${LAYOUT_VERSION}, the version this library reads`);
  }
  if (!(signals instanceof SharedArrayBuffer) || signals.byteLength !== SIGNALS_BYTES) {
    throw invalidType('handle.signals', signals, `a SharedArrayBuffer of ${SIGNALS_BYTES} bytes (from pool.handle)`);
  }
  return { buffer, signals };
}

/** What to pass instead of an object that is not a handle, for the mistakes that are common. */
function handleFix(value: object): string {
  if (value instanceof SharedArrayBuffer) {
    return 'pass pool.handle, not its buffer alone (the handle also carries the signals buffer and the layout version)';
  }
  // A SlabPool (checked by shape: this module cannot import the class) or anything holding a handle.
  const inner = ownOrInherited(value, 'handle');
  if (inner !== null && typeof inner === 'object' && ownOrInherited(inner, 'kind') === 'zeropool') {
    return 'pass pool.handle, not the pool object (in another thread, send pool.handle and attach it there)';
  }
  return 'pass pool.handle as it was sent (a structured clone of it works; a copy of some of its fields does not)';
}

/** `object[key]` unless reading it would throw (a proxy, a getter that throws). */
function ownOrInherited(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** Reads and checks an arena's header; returns its layout and configuration. */
export function attachLayout(buffer: SharedArrayBuffer): { layout: ArenaLayout; config: ResolvedConfig; tag: number } {
  if (buffer.byteLength < HEADER_BYTES) {
    throw invalidType(
      'handle.buffer',
      `a SharedArrayBuffer of ${buffer.byteLength} bytes`,
      'a pool arena (too small to hold a header)',
    );
  }
  const words = new Int32Array(buffer, 0, HEADER_BYTES >> 2);
  if (Atomics.load(words, H_MAGIC) !== MAGIC) {
    throw invalidType('handle.buffer', 'a SharedArrayBuffer without the pool magic number', 'a pool arena created by SlabPool');
  }
  const version = words[H_VERSION];
  if (version !== LAYOUT_VERSION) {
    throw invalidType(
      'handle.buffer',
      `an arena of layout version ${version}`,
      `layout version ${LAYOUT_VERSION}, the version this library reads`,
    );
  }
  const arenaBytes = words[H_ARENA_BYTES] >>> 0;
  // Slab sizes are computed with `1 <<` so they stay small integers (a `2 **` double made every
  // field derived from them a boxed number on the hot path); the shifts must be in range for that.
  const minShift = words[H_MIN_SHIFT];
  const maxShift = words[H_MAX_SHIFT];
  if (!(2 ** minShift >= MIN_SLAB_SIZE_LIMIT && minShift <= maxShift && 2 ** maxShift <= MAX_SLAB_SIZE_LIMIT)) {
    throw invalidType('handle.buffer', 'an arena whose header does not match its own layout', 'an intact pool arena');
  }
  const config: ResolvedConfig = {
    parallelism: words[H_PARALLELISM],
    arenaBytes,
    minSlabSize: 1 << minShift,
    maxSlabSize: 1 << maxShift,
    shards: words[H_SHARDS],
    cacheSize: words[H_CACHE_SIZE],
    cacheBytes: words[H_CACHE_BYTES],
    maxThreads: words[H_MAX_THREADS],
    zeroOnRelease: (words[H_FLAGS] & FLAG_ZERO_ON_RELEASE) !== 0,
    zeroOnAcquire: (words[H_FLAGS] & FLAG_ZERO_ON_ACQUIRE) !== 0,
    debug: (words[H_FLAGS] & FLAG_DEBUG) !== 0,
    // Leak detection belongs to each pool object, not to the arena.
    leakDetection: 'off',
    lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
  };
  const layout = computeLayout(config);
  if (
    layout.dataStart !== words[H_DATA_START] ||
    layout.threadBase !== words[H_THREAD_BASE] ||
    layout.classCount !== words[H_CLASS_COUNT] ||
    layout.generationBits !== words[H_GENERATION_BITS]
  ) {
    throw invalidType('handle.buffer', 'an arena whose header does not match its own layout', 'an intact pool arena');
  }
  if (layout.bufferBytes !== buffer.byteLength) {
    throw invalidType(
      'handle.buffer',
      `a SharedArrayBuffer of ${buffer.byteLength} bytes`,
      `the ${layout.bufferBytes}-byte buffer its header describes (truncated or altered)`,
    );
  }
  return { layout, config, tag: words[H_POOL_TAG] & TAG_MASK };
}
