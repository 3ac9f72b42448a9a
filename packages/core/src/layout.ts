/**
 * The memory map of a pool. Every offset into the arena is computed here and nowhere else.
 *
 * This file imports nothing, and must not: esbuild inlines the constants of a file only when it
 * has no imports, and the hot methods depend on those literals to stay within V8's inlining
 * budget (see scripts/build-package.mjs). A constant the hot path or a fill loop reads belongs
 * here for that reason too.
 *
 * One `SharedArrayBuffer` holds all state, so a thread that receives the buffer can attach with no
 * other message:
 *
 * ```text
 *  byte 0                                                arenaBytes       buffer end
 *  ┌────────┬─────────┬──────────┬─────────┬────────────┬──────────┬─────────────┬──────────────┐
 *  │ header │ (spare) │  shard   │ channel │ page class │  thread  │ pages       │  slab meta   │
 *  │ 128 B  │  128 B  │  lines   │  table  │   table    │  table   │ (slab bytes)│ 12 B a slot  │
 *  │        │         │ 128 B ea │  2 KiB  │  4 B/page  │ 128 B ea │             │ ◄── grows    │
 *  └────────┴─────────┴──────────┴─────────┴────────────┴──────────┴─────────────┴──────────────┘
 *                                                                  ▲ dataStart (4096-aligned)
 * ```
 *
 * - **Header**: magic, layout version and the configuration the pool was created with, then the
 *   arena lock word and the carving cursor.
 * - **Spare line**: unused (it held retired counters before slots kept their counters for good).
 * - **Shard lines**: one 128-byte line per (size class, shard): the lock word, the head of the
 *   shard's free list and its length; plus one more per class, the reserved list, which only
 *   `acquireAsync` waiters take from, with their count and a wake-up sequence word. Contended lock
 *   words that share a line slow each other down (bench/cache-scratch.bench.mjs), so each gets
 *   its own line.
 * - **Channel table**: one int32 per channel number (1 to `MAX_CHANNELS`; 0 is never used): 0 while
 *   the number is free, else the key of the channel that took it (a random positive int32, also in
 *   the channel's own buffer; see channel-layout.ts). A slab queued in a channel names its number,
 *   so `audit` can tell a queued slab from a lost one and `destroy` finds every slab it must free.
 * - **Page class table**: what each page is: `PAGE_UNTOUCHED` (never carved), `PAGE_FREE` (carved
 *   once, every slab of it given back, so any class may carve it again) or the size class it is
 *   carved into. Written only under the arena lock, and a page leaves a class only with every shard
 *   lock of that class held as well (see tiers.ts `returnFreePages`).
 * - **Thread table**: one 128-byte line per thread slot: the 64-bit claim word (below), the
 *   slot's waiting bits (a bit per class with `acquireAsync` calls pending in that thread), then
 *   the slot's statistics counters as float64s. Counters are never reset: a slot's next thread
 *   adds to them, so totals are sums over all slots and no step folds one count into another.
 * - **Pages**: `pageCount` pages of `pageBytes` (the largest slab size) from `dataStart`, each
 *   carved into one size class on demand (memcached's slab pages) and given back, once all its
 *   slabs are free, when another class needs room or on `trim()`.
 * - **Slab metadata**: past `arenaBytes`, 12 bytes for every slab slot the pages could hold in the
 *   smallest class (`slabsPerPage` slots a page). Page `p` owns slab indexes
 *   `p * slabsPerPage` up, so a page carved again into another class reuses its own slots and no
 *   slab index ever moves to another page. The metadata is reserved whole but written only as
 *   pages are carved, so memory the system commits follows the slabs that exist.
 *
 * The claim word of a thread slot, one BigInt64 changed only by compare-exchange: the low 32 bits
 * hold the threadId + 1 of the thread the slot belongs to (0: free), the high 32 bits its phase:
 * `PHASE_OPEN`; `PHASE_CLOSING` (its `close()` has handed everything back and is giving the slot
 * up); or a reclaim in progress, `(reclaimer threadId + 1) * 4 + PHASE_CHECKING` while the
 * reclaimer checks that the thread has exited, `+ PHASE_CONFIRMED` once it knows. Both identities
 * sit in one word, so a reclaim stopped part-way is found and finished by the reclaim of its
 * reclaimer, and a closing slot whose thread stopped is reclaimed without a liveness check.
 *
 * Slab metadata, three int32 words for slab `i`, at int32 index `metaTop - 3 * (i + 1)`:
 * - `META_STATE`: the slab state word (below).
 * - `META_LINK`: while the slab is free, the next slab in its shard's free list (or -1); otherwise
 *   unused (a stale value nobody reads).
 * - `META_OFFSET_CLASS`: the slab's byte offset with its size class in the low 5 bits (offsets are
 *   multiples of the minimum slab size, at least 64, so those bits are otherwise zero). Offsets
 *   reach 2^32 - 4096, so the word is negative from 2 GiB up: read the offset with `>>> 0`
 *   (`slabOffset`).
 *
 * The slab state word: `generation << 11 | owner << 2 | state`.
 * - `state`: `SLAB_QUEUED` (owner = the number of the channel it waits in; never 0, so a word of
 *   0 still means no state), `SLAB_FREE` (owner = shard), `SLAB_CACHED` (owner = thread slot), `SLAB_LEASED`
 *   (owner = the holder's thread slot, set by `acquire` and moved by `adopt`, so crash recovery
 *   knows whose it is; `OWNER_NONE` once the holder's pool object closed). Holder and generation
 *   share one word, so every change of hands (release, adopt, take-back, reclaim) is a single
 *   compare-exchange that also checks the generation. The holder's own release knows the whole
 *   expected value from the id and its slot: one compare-exchange with no load before it.
 * - `owner`: 9 bits, so thread slots stop at 510 (511 is `OWNER_NONE`) and shards at 256 (a free
 *   slab's owner is its shard, and index `shards` is the class's reserved list).
 * - `generation`: the top 21 bits, advanced on every release modulo 2^21, so an id kept after its
 *   release no longer matches the slab for the next 2^21 - 1 reuses of it.
 *
 * A slab id is `generation * 2^32 + slabIndex`: a safe integer below 2^53, the same format for
 * every arena size (slab indexes stay below `MAX_SLABS`, far below 2^32). Decoding uses only
 * truncating operators, which V8 compiles to a few instructions: `id >>> 0` is the slab index and
 * `(id / 2^32) & GEN_MASK` the generation (`%` on a double is a library call, not an instruction).
 * Ids of generation 0 are below 2^32; most ids are above 2^31, so V8 stores one as a heap number
 * (16 bytes) wherever it leaves optimized code as a value (see bench/id-format.bench.mjs). The
 * 31-bit ids this replaced left the generation `31 - indexBits` bits, as few as 5 for the largest
 * arena of 64-byte slabs, so a slab's LIFO reuse made a stale id live again within microseconds.
 * Thread caches hold slab indexes, not ids: `acquire` reads the generation from the state word it
 * rewrites anyway. Slabs of a page carved for the first time start at a generation derived from a
 * per-pool tag, so an id from another pool rarely matches. A page carved again keeps each slot's
 * generation: a free slab's generation is the next one its slot hands out, never one an id carries,
 * so ids of the page's earlier slabs stay refused. Slots a carving does not use keep the free state
 * word their last slab left, which no id matches.
 */

/** "ZPL1" in ASCII, little-endian. */
export const MAGIC = 0x314c505a;
/** Bumped whenever anything in this file changes meaning; `attach` refuses other versions. */
export const LAYOUT_VERSION = 8;

export const LINE_BYTES = 128;
/** The memory page size the map aligns to (no system's is smaller): slab data starts on such a boundary. */
export const PAGE_ALIGN_BYTES = 4096;
/** The largest buffer (arena plus slab metadata): offsets and int32 indexes then stay in range. */
export const MAX_BUFFER_BYTES = 2 ** 32 - PAGE_ALIGN_BYTES;
/** The largest `arenaBytes` asked for; the slab metadata past it must fit `MAX_BUFFER_BYTES` too. */
export const MAX_ARENA_BYTES = MAX_BUFFER_BYTES;
export const MIN_SLAB_SIZE_LIMIT = 64;
export const MAX_SLAB_SIZE_LIMIT = 2 ** 30;
/** The owner field of a free slab names its shard; index `shards` is the class's reserved list. */
export const MAX_SHARDS = 256;
/** Thread slots 0 to 510: the state word's 9-bit owner field, with 511 meaning none (`OWNER_NONE`). */
export const MAX_THREADS = 511;
export const MAX_SLABS = 2 ** 26;
/** What a take from a reserved list returns when the list's lock was not free in time (-1: empty). */
export const RESERVED_BUSY = -2;

// Header, int32 indexes. The first line is written once at creation and only read after.
export const H_MAGIC = 0;
export const H_VERSION = 1;
/** The arena size, up to 2^32 - 4096: stored with `| 0` and read back with `>>> 0`. */
export const H_ARENA_BYTES = 2;
export const H_MIN_SHIFT = 3;
export const H_MAX_SHIFT = 4;
export const H_CLASS_COUNT = 5;
export const H_SHARDS = 6;
export const H_CACHE_SIZE = 7;
export const H_CACHE_BYTES = 8;
export const H_MAX_THREADS = 9;
export const H_PAGE_COUNT = 10;
export const H_DATA_START = 11;
export const H_POOL_TAG = 12;
export const H_SHARD_BASE = 13;
export const H_PAGE_TABLE_BASE = 14;
export const H_THREAD_BASE = 15;
// Second half of the header line: mutable, guarded by the arena lock.
export const H_ARENA_LOCK = 16;
/**
 * Pages ever carved: pages from here on are untouched. Written under the arena lock after the
 * page's class (so a carver that died in between left it one short, and reclaim recounts it from
 * the page table), read with Atomics.load.
 */
export const H_PAGES_CARVED = 17;
/** `GEN_BITS`, so an arena of another id format is refused on attach. */
export const H_GENERATION_BITS = 19;
export const H_PARALLELISM = 20;
/** Option bits (`FLAG_*`), written once at creation. */
export const H_FLAGS = 21;
/**
 * A bit per class whose reserved line counts waiting threads (`S_WAITERS` > 0); release checks the
 * word to feed the reserved lists. Bit c changes only under class c's reserved lock, right after
 * `S_WAITERS` does, and recovery recomputes both from the slots' waiting bits.
 */
export const H_WAITING_CLASSES = 22;
export const FLAG_ZERO_ON_RELEASE = 1;
export const FLAG_ZERO_ON_ACQUIRE = 2;
export const FLAG_DEBUG = 4;
export const HEADER_BYTES = LINE_BYTES;

// Statistics counters, float64 slots within a thread line's counter half (and the retired line).
/** Acquires that missed the cache; total acquires are this plus cache hits. */
export const C_SLOW_ACQUIRES = 0;
export const C_RELEASES = 1;
/** Leased slabs that crash recovery took back from a dead thread. */
export const C_RECLAIMED = 2;
export const C_REFILLS = 3;
export const C_SPILLS = 4;
export const C_STEALS = 5;
export const C_LOCK_WAITS = 6;
export const C_EXHAUSTED = 7;
/** Pages given back to the arena because every slab of them was free. */
export const C_PAGES_RETURNED = 8;
/** Carvings of a page given back before (into any class). */
export const C_PAGES_RECARVED = 9;
/** Idle classes a thread's own slow path handed back from its cache (see tiers.ts `sweepIdle`). */
export const C_TRIMS = 10;
export const COUNTER_COUNT = 11;

// Shard line, int32 offsets from the line's start.
export const S_LOCK = 0;
export const S_HEAD = 1;
export const S_COUNT = 2;
// Only on a class's reserved line (shard index `shards`): how many thread slots have acquireAsync
// calls pending on the class (slots whose waiting bit for it is set), and a sequence number bumped
// whenever a slab of the class is made available to them.
export const S_WAITERS = 3;
export const S_SEQUENCE = 4;

// Thread line: the 64-bit claim word at byte 0; at int32 offset T_WAITING a bit per class on which
// this slot's thread has acquireAsync calls pending (so recovery can retract a dead thread's
// waits); counters as float64s from byte 16 (COUNTER_COUNT of them fit the line).
export const T_WAITING = 2;
export const PHASE_OPEN = 0;
export const PHASE_CLOSING = 1;
export const PHASE_CHECKING = 2;
export const PHASE_CONFIRMED = 3;
/** The most classes there can be (64 B to 1 GiB): each has a bit in `T_WAITING` and `H_WAITING_CLASSES`. */
export const MAX_CLASSES = 25;

/**
 * The signals buffer, a small SharedArrayBuffer beside the arena (in the handle), three int32
 * words per thread slot:
 * - word `slot`: a bit per class that an acquireAsync waiter asks that thread to hand back from its
 *   cache, and `TRIM_REQUEST`, set by a thread that found the arena full or called `trim()`, asking
 *   it to hand back its whole cache to the shards;
 * - word `LIVENESS_BASE + slot`: never written. The slot's pool object keeps `LIVENESS_WAITERS`
 *   Atomics.waitAsync calls pending on it. V8 drops a thread's pending waits when the thread ends,
 *   so `Atomics.notify(word, 1)` wakes one while the thread runs and none once it has exited: that
 *   is how `reclaim` refuses a running thread. A woken wait is re-armed only when that thread's
 *   event loop next runs, so a busy thread has fewer waits left after each check;
 * - word `PROBES_BASE + slot`: how many of those waits checks have woken and the thread has not
 *   re-armed yet. A checker counts itself in before it notifies (only below `LIVENESS_WAITERS`, by
 *   compare-exchange) and the thread counts one out after re-arming, so a check that wakes nobody
 *   while the count was below `LIVENESS_WAITERS` proves the thread has exited; at
 *   `LIVENESS_WAITERS` (a thread busy since that many checks) nothing can be told, and `reclaim`
 *   refuses. A slot whose waits are not armed reads `LIVENESS_WAITERS`: the buffer starts so, a
 *   pool object stores 0 only once its waits are armed, and `close` and `reclaim` store `LIVENESS_UNARMED` back
 *   before they free the slot.
 * Separate from the arena because a pending wait keeps its buffer's memory alive until the waiting
 * thread's event loop runs the resolution: on the arena, closed pools' arenas stayed allocated.
 */
export const LIVENESS_BASE = MAX_THREADS + 1;
/** The flush-request bit asking a thread to hand back every cached slab (class bits stop at 24). */
export const TRIM_REQUEST = 1 << 30;
export const PROBES_BASE = 2 * (MAX_THREADS + 1);
export const LIVENESS_WAITERS = 4;
/**
 * The unanswered-check count of a slot whose liveness waits are not armed (free, attaching, or
 * given up by close or reclaim): above `LIVENESS_WAITERS`, so checks cannot tell, and distinct
 * from any count a check makes, so a check that finishes late leaves it alone.
 */
export const LIVENESS_UNARMED = LIVENESS_WAITERS + 1;
export const SIGNALS_BYTES = 3 * (MAX_THREADS + 1) * 4;
export const T_COUNTERS_BYTE = 16;

// Slab metadata.
export const META_WORDS = 3;
export const META_BYTES = META_WORDS * 4;
export const META_STATE = 0;
export const META_LINK = 1;
export const META_OFFSET_CLASS = 2;
export const CLASS_MASK = 31;
export const NO_SLAB = -1;

// Slab bytes in debug mode (see hygiene.ts).
/** The byte released slabs are filled with, checked when the slab is taken again. */
export const POISON_BYTE = 0xdb;
/** Four poison bytes as one int32: slabs are filled and scanned a word at a time. */
export const POISON_WORD = 0xdbdbdbdb | 0;

// Page class table entries other than a class index.
/** A page never carved: it and every page after it up to `pageCount`, past `H_PAGES_CARVED`. */
export const PAGE_UNTOUCHED = -1;
/** A page given back (every slab of it was free): carved again before any untouched page. */
export const PAGE_FREE = -2;

// Slab state word.
export const STATE_MASK = 3;
/** Sent into a channel and not yet received: the owner field is the channel's number. */
export const SLAB_QUEUED = 0;
export const SLAB_FREE = 1;
export const SLAB_CACHED = 2;
export const SLAB_LEASED = 3;
export const OWNER_SHIFT = 2;
export const OWNER_MASK = 511;
/** Owner field of a leased slab whose holder's pool object closed (slots stop at MAX_THREADS - 1). */
export const OWNER_NONE = 511;
/** Clears the owner field: `~(OWNER_MASK << OWNER_SHIFT)`, as a literal the build can inline. */
export const NOT_OWNER = -2045;
export const GEN_SHIFT = 11;
export const GEN_BITS = 21;
export const GEN_MASK = 0x1fffff;
/** The generation field of a state word in place: `GEN_MASK << GEN_SHIFT`, as a literal. */
export const GEN_FIELD = -2048;
/**
 * Added to a state word (then `| 0`), turns "leased by owner o at generation g" into "cached by o
 * at g + 1", wrapping to generation 0 past `GEN_MASK`: `SLAB_CACHED - SLAB_LEASED + (1 << GEN_SHIFT)`,
 * as a literal.
 */
export const RELEASE_STEP = 2047;

// Slab ids: `generation * ID_GENERATION_UNIT + slabIndex`.
/** 2^32: an id's slab index is its low 32 bits (`id >>> 0`), the generation the bits above. */
export const ID_GENERATION_UNIT = 4294967296;
/** 2^21: a state word's generation field in place, `(word & GEN_FIELD) >>> 0`, times this is `generation * 2^32`. */
export const ID_FROM_GEN_FIELD = 2097152;
/** The largest value of the id format (generation `GEN_MASK`, slab index 2^32 - 1): 2^53 - 1. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** Pool tags are first generations. */
export const TAG_MASK = GEN_MASK;

// Lock words: 0 when free, else (thread slot + 1) << 2 with a waiters bit.
export const LOCK_WAITERS = 1;
export const LOCK_OWNER_MASK = ~3;
export const LOCK_OWNER_SHIFT = 2;

// Channel table.
/** Channel numbers run from 1 to this: a queued slab's 9-bit owner field holds one. */
export const MAX_CHANNELS = 511;
export const CHANNEL_TABLE_BYTES = (MAX_CHANNELS + 1) * 4;

/** The shape of an arena, derived from its configuration. All offsets in bytes. */
export interface ArenaLayout {
  readonly arenaBytes: number;
  readonly minShift: number;
  readonly maxShift: number;
  readonly classCount: number;
  readonly shards: number;
  readonly maxThreads: number;
  readonly pageBytes: number;
  /** Pages the arena holds: `arenaBytes - dataStart` over `pageBytes`. */
  readonly pageCount: number;
  /** Slab slots of a page: its slab count in the smallest class (`pageBytes / minSlabSize`). */
  readonly slabsPerPage: number;
  readonly shardBase: number;
  readonly channelTableBase: number;
  readonly pageTableBase: number;
  readonly threadBase: number;
  readonly dataStart: number;
  /** The whole buffer: `arenaBytes` and the slab metadata past it. */
  readonly bufferBytes: number;
  /**
   * Int32 index one past the buffer's last word, where slab metadata starts growing down: the
   * buffer size over 4, computed once here because `bytes >> 2` is negative from 2 GiB up.
   */
  readonly metaTop: number;
  /** Bits of generation an id and a state word carry (`GEN_BITS`), whatever the arena's size. */
  readonly generationBits: number;
  /** Slab slots: every page carved into the smallest class (`pageCount * slabsPerPage`). */
  readonly maxSlabs: number;
}

export interface LayoutInput {
  readonly arenaBytes: number;
  readonly minSlabSize: number;
  readonly maxSlabSize: number;
  readonly shards: number;
  readonly maxThreads: number;
}

const alignUp = (value: number, to: number): number => Math.ceil(value / to) * to;

/** log2 of a power of two. */
export const log2 = (powerOfTwo: number): number => 31 - Math.clz32(powerOfTwo);

/**
 * Computes where everything goes: the tables, then as many whole pages as fit below `arenaBytes`,
 * then the metadata of every slab slot those pages have.
 */
export function computeLayout(input: LayoutInput): ArenaLayout {
  const minShift = log2(input.minSlabSize);
  const maxShift = log2(input.maxSlabSize);
  const classCount = maxShift - minShift + 1;
  const pageBytes = input.maxSlabSize;
  const shardBase = HEADER_BYTES + LINE_BYTES;
  // Upper bound on the page count, used to size the page class table.
  const pageTableEntries = Math.floor(input.arenaBytes / pageBytes);
  // Each class has `shards` shard lines plus one for its reserved list (see acquireAsync).
  const channelTableBase = shardBase + classCount * (input.shards + 1) * LINE_BYTES;
  const pageTableBase = channelTableBase + CHANNEL_TABLE_BYTES;
  const threadBase = alignUp(pageTableBase + pageTableEntries * 4, LINE_BYTES);
  const dataStart = alignUp(threadBase + input.maxThreads * LINE_BYTES, PAGE_ALIGN_BYTES);
  const pageCount = Math.max(0, Math.min(pageTableEntries, Math.floor((input.arenaBytes - dataStart) / pageBytes)));
  const slabsPerPage = pageBytes / input.minSlabSize;
  const maxSlabs = pageCount * slabsPerPage;
  const bufferBytes = input.arenaBytes + maxSlabs * META_BYTES;
  return {
    generationBits: GEN_BITS,
    maxSlabs,
    arenaBytes: input.arenaBytes,
    minShift,
    maxShift,
    classCount,
    shards: input.shards,
    maxThreads: input.maxThreads,
    pageBytes,
    pageCount,
    slabsPerPage,
    shardBase,
    channelTableBase,
    pageTableBase,
    threadBase,
    dataStart,
    bufferBytes,
    metaTop: bufferBytes / 4,
  };
}

/** Int32 index of a shard line's first word. */
export const shardWord = (layout: ArenaLayout, classIndex: number, shard: number): number =>
  (layout.shardBase + (classIndex * (layout.shards + 1) + shard) * LINE_BYTES) >> 2;

/** Int32 index of class `classIndex`'s reserved line: slabs set aside for async waiters. */
export const reservedWord = (layout: ArenaLayout, classIndex: number): number => shardWord(layout, classIndex, layout.shards);

/** Int32 index of a thread slot's line (its claim word's low half). */
export const threadWord = (layout: ArenaLayout, slot: number): number => (layout.threadBase + slot * LINE_BYTES) >> 2;

/** BigInt64 index of a thread slot's claim word. */
export const claimIndex = (layout: ArenaLayout, slot: number): number => (layout.threadBase + slot * LINE_BYTES) >> 3;

/** A claim word: `threadId` + 1 in the low half, `phase` in the high half. */
export const claimValue = (threadId: number, phase: number): bigint => BigInt(threadId + 1) | (BigInt(phase) << 32n);
/** The phase of a reclaim by thread `reclaimerThreadId`, checking or confirmed. */
export const reclaimPhase = (reclaimerThreadId: number, confirmed: boolean): number =>
  (reclaimerThreadId + 1) * 4 + (confirmed ? PHASE_CONFIRMED : PHASE_CHECKING);
/** The threadId a claim word names (-1: free). */
export const claimThread = (claim: bigint): number => Number(claim & 0xffffffffn) - 1;
/** The phase half of a claim word. */
export const claimPhase = (claim: bigint): number => Number(claim >> 32n);
/** The reclaimer a reclaim phase names (-1 for `PHASE_OPEN` and `PHASE_CLOSING`). */
export const phaseReclaimer = (phase: number): number => (phase < 4 ? -1 : (phase >>> 2) - 1);

/** Float64 index of a thread slot's first counter. */
export const threadCounterF64 = (layout: ArenaLayout, slot: number): number =>
  (layout.threadBase + slot * LINE_BYTES + T_COUNTERS_BYTE) >> 3;

/** Int32 index of the channel table entry for channel number `channel`. */
export const channelWord = (layout: ArenaLayout, channel: number): number => (layout.channelTableBase >> 2) + channel;

/** Int32 index of the page class table entry for `page`. */
export const pageClassWord = (layout: ArenaLayout, page: number): number => (layout.pageTableBase >> 2) + page;

/** Int32 index of the first metadata word of slab `slabIndex` (metadata grows down from the end). */
export const metaWord = (metaTop: number, slabIndex: number): number => metaTop - META_WORDS * (slabIndex + 1);

/** Byte offset of a slab from its `META_OFFSET_CLASS` word (unsigned: offsets reach 2^32 - 4096). */
export const slabOffset = (offsetClass: number): number => (offsetClass & ~CLASS_MASK) >>> 0;

/** The page whose slots include slab index `slabIndex`. */
export const pageOfSlab = (layout: ArenaLayout, slabIndex: number): number => Math.floor(slabIndex / layout.slabsPerPage);

/** The first slab index of page `page`. */
export const firstSlabOf = (layout: ArenaLayout, page: number): number => page * layout.slabsPerPage;

/** How many slabs a page carved into class `classIndex` has. */
export const slabsPerPageOf = (layout: ArenaLayout, classIndex: number): number => layout.slabsPerPage >> classIndex;

/**
 * The size class of `size` bytes, an integer from 0 to the largest slab size: the smallest class
 * whose slabs hold it.
 */
export const classOfSize = (layout: ArenaLayout, size: number): number =>
  size <= 1 << layout.minShift ? 0 : 32 - Math.clz32(size - 1) - layout.minShift;

/** The slab size of class `classIndex`, in bytes. */
export const slabSizeOf = (layout: ArenaLayout, classIndex: number): number => 1 << (layout.minShift + classIndex);

/** Byte offset of page `page`. */
export const pageStartOf = (layout: ArenaLayout, page: number): number => layout.dataStart + page * layout.pageBytes;

/**
 * Calls `visit(slab, classIndex)` for every slab of every page carved into a class, pages in
 * order (or in reverse with `backwards`). The page table is read as it stands: exact under the
 * arena lock, a moment's view otherwise. It reads every page's entry, not only those below the
 * carving cursor: a carver stopped after writing a page's class and before moving the cursor left
 * a page that recovery must list.
 */
export function forEachSlab(
  words: Int32Array,
  layout: ArenaLayout,
  visit: (slab: number, classIndex: number) => void,
  backwards = false,
): void {
  const pages = layout.pageCount;
  for (let k = 0; k < pages; k++) {
    const page = backwards ? pages - 1 - k : k;
    const c = words[pageClassWord(layout, page)];
    if (c < 0) continue;
    const first = firstSlabOf(layout, page);
    const count = slabsPerPageOf(layout, c);
    if (backwards) for (let slab = first + count - 1; slab >= first; slab--) visit(slab, c);
    else for (let slab = first; slab < first + count; slab++) visit(slab, c);
  }
}

/**
 * The class slab index `slabIndex` belongs to now, or -1 if no slab of a carved page has it (its
 * page is untouched or free, or its carving uses fewer slots). Read under the arena lock, or as a
 * moment's view.
 */
export function classOfSlot(words: Int32Array, layout: ArenaLayout, slabIndex: number): number {
  const page = pageOfSlab(layout, slabIndex);
  if (page >= layout.pageCount) return -1;
  const c = words[pageClassWord(layout, page)];
  return c >= 0 && slabIndex - firstSlabOf(layout, page) < slabsPerPageOf(layout, c) ? c : -1;
}

export const packState = (state: number, owner: number, generation: number): number =>
  (generation << GEN_SHIFT) | (owner << OWNER_SHIFT) | state;
export const stateOf = (word: number): number => word & STATE_MASK;
export const ownerOf = (word: number): number => (word >>> OWNER_SHIFT) & OWNER_MASK;
export const generationOf = (word: number): number => word >>> GEN_SHIFT;

/** The id of slab `slab` at generation `generation` (both in range). */
export const slabId = (slab: number, generation: number): number => generation * ID_GENERATION_UNIT + slab;
/** The slab index of a well-formed id. */
export const slabOfId = (id: number): number => id >>> 0;
/** The generation of a well-formed id. */
export const generationOfId = (id: number): number => (id / ID_GENERATION_UNIT) & GEN_MASK;
/**
 * Whether `id` has the id format: an integer from 0 to `MAX_ID`. Rejects fractions, negatives,
 * NaN, infinities and numbers past 2^53 - 1 (whose decoded parts rebuild another number).
 */
export const isIdShaped = (id: unknown): id is number =>
  typeof id === 'number' && slabId(slabOfId(id), generationOfId(id)) === id;

/** Lock word value meaning "held by thread slot `slot`". */
export const lockOwnerValue = (slot: number): number => (slot + 1) << LOCK_OWNER_SHIFT;
/** The thread slot holding a lock word, or -1 when the word is free. */
export const lockOwnerSlot = (word: number): number => (word >>> LOCK_OWNER_SHIFT) - 1;
