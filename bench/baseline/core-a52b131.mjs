// @zeropool/core at commit a52b131, built by bench/baseline/build.mjs. Do not edit.

// src/config.ts
import { availableParallelism } from "node:os";

// src/errors.ts
var PoolExhaustedError = class extends Error {
  /**
   * Creates the error and its message, which names the class, how full the arena is and what would
   * help. The pool creates it; each argument becomes the field of the same name.
   */
  constructor(requestedSize, slabSize, usedBytes, arenaBytes) {
    let percent = (usedBytes / arenaBytes * 100).toFixed(1);
    super(
      `pool exhausted: no free slab of class ${slabSize} bytes for a request of ${requestedSize} bytes, and no room to carve another page (${usedBytes} of ${arenaBytes} arena bytes in use, ${percent}%): release slabs no longer needed, call flush() in threads gone idle (their caches keep the slabs they released), wait with acquireAsync(), or create the pool with a larger arenaBytes (a page once carved stays with its size class)`
    );
    /** Always `'ERR_POOL_EXHAUSTED'`; test it (or `instanceof`) rather than the message. */
    this.code = "ERR_POOL_EXHAUSTED";
    this.name = "PoolExhaustedError", this.requestedSize = requestedSize, this.slabSize = slabSize, this.usedBytes = usedBytes, this.arenaBytes = arenaBytes;
  }
}, SlabStateError = class extends Error {
  /**
   * Creates the error. The pool creates it; the message names the id and `reason`.
   * @param id the value that was passed as an id.
   * @param reason why it is not an acquired slab: released, stale, never handed out, closed pool.
   */
  constructor(id, reason) {
    super(`id ${describe(id)} is not an acquired slab of this pool: ${reason}`);
    /** Always `'ERR_SLAB_STATE'`; test it (or `instanceof`) rather than the message. */
    this.code = "ERR_SLAB_STATE";
    this.name = "SlabStateError", this.id = id;
  }
};
function describe(value) {
  if (typeof value == "string") return JSON.stringify(value);
  if (typeof value == "bigint") return `${value}n`;
  if (typeof value == "symbol") return value.toString();
  if (typeof value == "function") return "a function";
  if (value === null) return "null";
  if (typeof value == "object")
    try {
      return describeObject(value);
    } catch {
      return "an object";
    }
  return String(value);
}
function describeObject(value) {
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer)
    return `${article(kindOf(value))} of ${value.byteLength} bytes`;
  let kind = kindOf(value);
  if (kind !== "Object") return `${article(kind)} object`;
  let keys = Object.keys(value);
  return keys.length === 0 ? "an empty object" : `an object { ${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", ..." : ""} }`;
}
function kindOf(value) {
  let tag = Object.prototype.toString.call(value).slice(8, -1), prototype = Object.getPrototypeOf(value), maker = prototype === null ? void 0 : Object.getOwnPropertyDescriptor(prototype, "constructor")?.value, name = typeof maker == "function" ? Object.getOwnPropertyDescriptor(maker, "name")?.value : void 0;
  return typeof name == "string" && name !== "" ? name.replace(/^_(?=.)/, "") : tag;
}
var article = (noun) => `${/^[AEIOaeio]/.test(noun) ? "an" : "a"} ${noun}`, withFix = (message, fix) => fix === void 0 ? message : `${message}: ${fix}`;
function invalidType(argument, value, expected, fix) {
  let error = new TypeError(withFix(`${argument} must be ${expected}; received ${describe(value)} (${typeof value})`, fix));
  return error.code = "ERR_INVALID_ARG_TYPE", error;
}
function outOfRange(argument, value, allowed, fix) {
  let error = new RangeError(withFix(`${argument} must be ${allowed}; received ${describe(value)}`, fix));
  return error.code = "ERR_OUT_OF_RANGE", error;
}
function unknownOption(argument, key, known, note) {
  let list = known.length === 1 ? known[0] : `${known.slice(0, -1).join(", ")} and ${known.at(-1)}`, closest = closestName(key, known), fix = closest === void 0 ? "remove it, or spell one of those" : `did you mean ${closest}?`, error = new TypeError(
    `${argument} must hold only ${list}${note === void 0 ? "" : ` (${note})`}; received an option ${describe(key)}: ${fix}`
  );
  return error.code = "ERR_UNKNOWN_OPTION", error;
}
function closestName(name, names) {
  let lower = name.toLowerCase(), best, bestDistance = Math.ceil(name.length / 2) + 1;
  for (let candidate of names) {
    let other = candidate.toLowerCase(), distance = Math.min(lower.length, other.length) >= 5 && (other.includes(lower) || lower.includes(other)) ? 0 : editDistance(lower, other);
    distance < bestDistance && (best = candidate, bestDistance = distance);
  }
  return best;
}
function editDistance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
var SlabCorruptionError = class extends Error {
  /**
   * Creates the error. The pool creates it; the message names the released id, the offset and
   * the slab's capacity in bytes.
   */
  constructor(releasedId, offset, capacity) {
    super(
      `slab of released id ${releasedId} was written after its release: byte ${offset} of ${capacity} no longer holds the poison pattern (debug mode); look for a holder that kept using the id or its view`
    );
    /** Always `'ERR_SLAB_WRITTEN_AFTER_RELEASE'`; test it (or `instanceof`) rather than the message. */
    this.code = "ERR_SLAB_WRITTEN_AFTER_RELEASE";
    this.name = "SlabCorruptionError", this.releasedId = releasedId, this.offset = offset;
  }
}, AcquireTimeoutError = class extends Error {
  /**
   * Creates the error. The pool creates it; the message names the timeout, the class and the size
   * asked for.
   */
  constructor(requestedSize, slabSize, timeoutMs) {
    super(
      `acquireAsync timed out after ${timeoutMs} ms waiting for a slab of class ${slabSize} bytes (request of ${requestedSize} bytes)`
    );
    /** Always `'ERR_ACQUIRE_TIMEOUT'`; test it (or `instanceof`) rather than the message. */
    this.code = "ERR_ACQUIRE_TIMEOUT";
    this.name = "AcquireTimeoutError", this.requestedSize = requestedSize, this.timeoutMs = timeoutMs;
  }
}, ReclaimLiveThreadError = class extends Error {
  /**
   * Creates the error. The pool creates it; the message names the thread and `reason`.
   * @param threadId the thread that was not reclaimed.
   * @param reason why the thread counts as running.
   */
  constructor(threadId2, reason) {
    super(`refusing to reclaim thread ${threadId2}: ${reason}; reclaim only threads that have exited`);
    /** Always `'ERR_RECLAIM_LIVE_THREAD'`; test it (or `instanceof`) rather than the message. */
    this.code = "ERR_RECLAIM_LIVE_THREAD";
    this.name = "ReclaimLiveThreadError", this.threadId = threadId2;
  }
}, LockTimeoutError = class extends Error {
  /**
   * Describes a lock wait that gave up.
   * @param holderSlot the thread slot holding the lock.
   * @param timeoutMs how long the caller waited.
   * @param holderThreadId the threadId that claimed the slot, or -1 if unknown.
   */
  constructor(holderSlot, timeoutMs, holderThreadId = -1) {
    let who = holderThreadId >= 0 ? `thread ${holderThreadId} (slot ${holderSlot})` : `thread slot ${holderSlot}`, call = holderThreadId >= 0 ? `reclaim(${holderThreadId})` : "reclaim(threadId)";
    super(
      `a pool lock has been held by ${who} for ${timeoutMs} ms; that thread most likely died inside a critical section and was not reclaimed: ${call} it (or watch the worker), then retry. No slab was lost (LockTimeoutError in the API reference says what the call that threw had done).`
    );
    /** Always `'ERR_LOCK_TIMEOUT'`. */
    this.code = "ERR_LOCK_TIMEOUT";
    this.name = "LockTimeoutError", this.holderSlot = holderSlot, this.holderThreadId = holderThreadId;
  }
};

// src/layout.ts
var MAX_ID = Number.MAX_SAFE_INTEGER, TAG_MASK = 2097151, LOCK_WAITERS = 1;
var LOCK_OWNER_SHIFT = 2, alignUp = (value, to) => Math.ceil(value / to) * to, log2 = (powerOfTwo) => 31 - Math.clz32(powerOfTwo);
function computeLayout(input) {
  let minShift = log2(input.minSlabSize), maxShift = log2(input.maxSlabSize), classCount = maxShift - minShift + 1, pageBytes = input.maxSlabSize, shardBase = 256, pageTableEntries = Math.floor(input.arenaBytes / pageBytes), pageTableBase = shardBase + classCount * (input.shards + 1) * 128, threadBase = alignUp(pageTableBase + pageTableEntries * 4, 128), dataStart = alignUp(threadBase + input.maxThreads * 128, 4096), pageCount = Math.max(
    0,
    Math.min(pageTableEntries, Math.floor((input.arenaBytes - dataStart) / (pageBytes + 12)))
  );
  return {
    generationBits: 21,
    maxSlabs: Math.max(1, Math.floor((input.arenaBytes - dataStart) / (input.minSlabSize + 12))),
    arenaBytes: input.arenaBytes,
    minShift,
    maxShift,
    classCount,
    shards: input.shards,
    maxThreads: input.maxThreads,
    pageBytes,
    pageCount,
    shardBase,
    pageTableBase,
    threadBase,
    dataStart,
    metaTop: input.arenaBytes / 4
  };
}
var shardWord = (layout, classIndex, shard) => layout.shardBase + (classIndex * (layout.shards + 1) + shard) * 128 >> 2, reservedWord = (layout, classIndex) => shardWord(layout, classIndex, layout.shards), threadWord = (layout, slot) => layout.threadBase + slot * 128 >> 2, claimIndex = (layout, slot) => layout.threadBase + slot * 128 >> 3, claimValue = (threadId2, phase) => BigInt(threadId2 + 1) | BigInt(phase) << 32n, reclaimPhase = (reclaimerThreadId, confirmed) => (reclaimerThreadId + 1) * 4 + (confirmed ? 3 : 2), claimThread = (claim) => Number(claim & 0xffffffffn) - 1, claimPhase = (claim) => Number(claim >> 32n), phaseReclaimer = (phase) => phase < 4 ? -1 : (phase >>> 2) - 1, threadCounterF64 = (layout, slot) => layout.threadBase + slot * 128 + 64 >> 3, pageClassWord = (layout, page) => (layout.pageTableBase >> 2) + page, metaWord = (metaTop, slabIndex) => metaTop - 3 * (slabIndex + 1), slabOffset = (offsetClass) => (offsetClass & -32) >>> 0, pageOfSlab = (words, layout, slabIndex) => Math.floor((slabOffset(words[metaWord(layout.metaTop, slabIndex) + 2]) - layout.dataStart) / layout.pageBytes);
var packState = (state, owner, generation) => generation << 11 | owner << 2 | state;
var ownerOf = (word) => word >>> 2 & 511, generationOf = (word) => word >>> 11, slabId = (slab, generation) => generation * 4294967296 + slab, slabOfId = (id) => id >>> 0, generationOfId = (id) => id / 4294967296 & 2097151, isIdShaped = (id) => typeof id == "number" && slabId(slabOfId(id), generationOfId(id)) === id, lockOwnerValue = (slot) => slot + 1 << LOCK_OWNER_SHIFT, lockOwnerSlot = (word) => (word >>> LOCK_OWNER_SHIFT) - 1;

// src/config.ts
var PARALLELISM_ENV = "ZEROPOOL_PARALLELISM", DEBUG_ENV = "ZEROPOOL_DEBUG", LEAK_DETECTION_ENV = "ZEROPOOL_LEAK_DETECTION", MAX_PARALLELISM = 4096, LEAK_LEVELS = ["off", "sampled", "full"], MiB = 1024 * 1024, isPowerOfTwo = (value) => value > 0 && (value & value - 1) === 0, nextPowerOfTwo = (value) => value <= 1 ? 1 : 2 ** Math.ceil(Math.log2(value)), previousPowerOfTwo = (value) => value < 2 ? 1 : 2 ** Math.floor(Math.log2(value)), clamp = (value, low, high) => Math.min(high, Math.max(low, value));
function defaultsFor(parallelism) {
  return checkInteger("parallelism", parallelism, 1, MAX_PARALLELISM), {
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
    maxThreads: clamp(8 * parallelism, 256, 511)
  };
}
function detectParallelism(env = process.env) {
  let raw = env[PARALLELISM_ENV];
  if (raw === void 0 || raw === "") return availableParallelism();
  let value = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PARALLELISM))
    throw outOfRange(`environment variable ${PARALLELISM_ENV}`, raw, `an integer from 1 to ${MAX_PARALLELISM} in decimal digits`);
  return value;
}
function checkInteger(name, value, low, high, extra = "") {
  if (typeof value != "number") throw invalidType(name, value, "a number");
  if (!Number.isInteger(value) || value < low || value > high)
    throw outOfRange(name, value, `an integer from ${low} to ${high}${extra}`);
  return value;
}
function checkPowerOfTwo(name, value, low, high) {
  if (checkInteger(name, value, low, high, ", a power of two"), !isPowerOfTwo(value)) throw outOfRange(name, value, `a power of two from ${low} to ${high}`);
  return value;
}
function checkBoolean(name, value) {
  if (typeof value != "boolean") throw invalidType(name, value, "a boolean");
  return value;
}
function envFlag(env, name) {
  let raw = env[name];
  if (raw === void 0 || raw === "" || raw === "0" || raw === "false") return !1;
  if (raw === "1" || raw === "true") return !0;
  throw outOfRange(`environment variable ${name}`, raw, "1, true, 0, false or empty");
}
function checkLeakLevel(name, value) {
  if (!LEAK_LEVELS.includes(value))
    throw outOfRange(name, value, `one of ${LEAK_LEVELS.map((l) => `'${l}'`).join(", ")}`);
  return value;
}
var POOL_OPTIONS = {
  arenaBytes: !0,
  minSlabSize: !0,
  maxSlabSize: !0,
  shards: !0,
  cacheSize: !0,
  cacheBytes: !0,
  maxThreads: !0,
  prefault: !0,
  zeroOnRelease: !0,
  zeroOnAcquire: !0,
  debug: !0,
  leakDetection: !0,
  lockTimeoutMs: !0,
  parallelism: !0
}, ATTACH_OPTIONS = { leakDetection: !0, lockTimeoutMs: !0 };
function checkOptionNames(options, known, note) {
  for (let key of Object.keys(options))
    if (!Object.hasOwn(known, key)) throw unknownOption("options", key, Object.keys(known), note);
}
function checkAttachOptions(options) {
  if (options !== void 0) {
    if (options === null || typeof options != "object") throw invalidType("options", options, "an object or undefined");
    checkOptionNames(options, ATTACH_OPTIONS, "the arena's other settings are fixed when the pool is created");
  }
}
var DEFAULT_LOCK_TIMEOUT_MS = 5e3;
function resolveLockTimeout(option) {
  return option === void 0 ? DEFAULT_LOCK_TIMEOUT_MS : checkInteger("options.lockTimeoutMs", option, 1, 2 ** 31 - 1);
}
function resolvePrefault(option) {
  return option === void 0 ? !1 : checkBoolean("options.prefault", option);
}
function resolveLeakDetection(option, env = process.env) {
  return option !== void 0 ? checkLeakLevel("options.leakDetection", option) : checkLeakLevel(`environment variable ${LEAK_DETECTION_ENV}`, env[LEAK_DETECTION_ENV] || "off");
}
function resolveConfig(options = {}, env = process.env) {
  if (options === null || typeof options != "object") throw invalidType("options", options, "an object or undefined");
  checkOptionNames(options, POOL_OPTIONS);
  let parallelism = options.parallelism === void 0 ? detectParallelism(env) : checkInteger("options.parallelism", options.parallelism, 1, MAX_PARALLELISM), defaults = defaultsFor(parallelism), minSlabSize = checkPowerOfTwo(
    "options.minSlabSize",
    options.minSlabSize ?? defaults.minSlabSize,
    64,
    1073741824
  ), maxSlabSize = checkPowerOfTwo(
    "options.maxSlabSize",
    options.maxSlabSize ?? Math.max(defaults.maxSlabSize, minSlabSize),
    minSlabSize,
    1073741824
  ), shards = checkPowerOfTwo("options.shards", options.shards ?? defaults.shards, 1, 256), cacheSize = checkInteger("options.cacheSize", options.cacheSize ?? defaults.cacheSize, 1, 65536), cacheBytes = checkInteger("options.cacheBytes", options.cacheBytes ?? defaults.cacheBytes, 1, 2 ** 31 - 1), maxThreads = checkInteger("options.maxThreads", options.maxThreads ?? defaults.maxThreads, 1, 511), requested = checkInteger("options.arenaBytes", options.arenaBytes ?? defaults.arenaBytes, 1, 4294963200), arenaBytes = requested - requested % 4096, shape = { arenaBytes, minSlabSize, maxSlabSize, shards, maxThreads };
  computeLayout(shape).pageCount < 1 && (shape = fitSmallArena(shape, options, requested));
  let zeroOnRelease = checkBoolean("options.zeroOnRelease", options.zeroOnRelease ?? !1), zeroOnAcquire = checkBoolean("options.zeroOnAcquire", options.zeroOnAcquire ?? !1), debug = checkBoolean("options.debug", options.debug ?? envFlag(env, DEBUG_ENV)), leakDetection = resolveLeakDetection(options.leakDetection, env), lockTimeoutMs = resolveLockTimeout(options.lockTimeoutMs);
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
    lockTimeoutMs
  };
}
var SMALL_ARENA_BYTES_PER_SHARD = 16 * 1024, SMALL_ARENA_THREAD_SHARE = 4;
function fitSmallArena(shape, options, requested) {
  let { arenaBytes, minSlabSize } = shape, maxThreads = options.maxThreads ?? clamp(Math.floor(arenaBytes / (SMALL_ARENA_THREAD_SHARE * 128)), 1, shape.maxThreads), shards = options.shards ?? clamp(previousPowerOfTwo(arenaBytes / SMALL_ARENA_BYTES_PER_SHARD), 1, shape.shards), withPage = (maxSlabSize) => ({ arenaBytes, minSlabSize, maxSlabSize, shards, maxThreads });
  if (options.maxSlabSize === void 0) {
    for (let page = shape.maxSlabSize; page >= minSlabSize; page /= 2) {
      let layout = computeLayout(withPage(page));
      if (layout.pageCount >= layout.classCount) return withPage(page);
    }
    throw arenaTooSmall(withPage(minSlabSize), options, requested);
  }
  if (computeLayout(withPage(options.maxSlabSize)).pageCount >= 1) return withPage(options.maxSlabSize);
  let largest = options.maxSlabSize / 2;
  for (; largest >= minSlabSize && computeLayout(withPage(largest)).pageCount < 1; ) largest /= 2;
  if (largest < minSlabSize) throw arenaTooSmall(withPage(minSlabSize), options, requested);
  let arena = options.arenaBytes === void 0 ? `the default arenaBytes, ${arenaBytes}` : `arenaBytes ${arenaBytes}`;
  throw outOfRange(
    "options.maxSlabSize",
    options.maxSlabSize,
    `at most ${largest} with ${arena} (the arena must hold the pool's tables, ${computeLayout(withPage(options.maxSlabSize)).dataStart} bytes, and one page of maxSlabSize bytes)`,
    `lower maxSlabSize to ${largest}, leave it out to let the pool choose, or raise arenaBytes to at least ${smallestArena(withPage(options.maxSlabSize))}`
  );
}
function arenaTooSmall(shape, options, requested) {
  let layout = computeLayout(shape), also = [
    options.maxThreads !== void 0 ? `fewer maxThreads (${128} bytes each)` : "",
    options.shards !== void 0 ? "fewer shards" : "",
    options.minSlabSize !== void 0 ? "a smaller minSlabSize" : ""
  ].filter((fix) => fix !== "");
  return outOfRange(
    "options.arenaBytes",
    requested,
    `at least ${smallestArena(shape)} bytes to hold the pool's header, lock lines, page table and ${shape.maxThreads} thread slots (${layout.dataStart} bytes) and one ${shape.maxSlabSize}-byte page`,
    `raise arenaBytes${also.length > 0 ? `, or ask for ${also.join(" or ")}` : ""}`
  );
}
function smallestArena(shape) {
  let first = computeLayout(shape), bytes = Math.ceil((first.dataStart + shape.maxSlabSize + 12) / 4096) * 4096;
  for (; bytes < 4294963200 && computeLayout({ ...shape, arenaBytes: bytes }).pageCount < 1; ) bytes += 4096;
  return bytes;
}
function cacheCapacityFor(config, slabSize) {
  return clamp(Math.floor(config.cacheBytes / slabSize), 1, config.cacheSize);
}

// src/pool.ts
import { threadId as currentThreadId2 } from "node:worker_threads";

// src/arena.ts
var TAG_STRIDE = 1296111, nextTag = Math.floor(Math.random() * (TAG_MASK + 1));
function writeHeader(buffer, config) {
  let layout = computeLayout(config), words = new Int32Array(buffer, 0, layout.dataStart >> 2);
  words[1] = 6, words[2] = layout.arenaBytes | 0, words[3] = layout.minShift, words[4] = layout.maxShift, words[5] = layout.classCount, words[6] = layout.shards, words[7] = config.cacheSize, words[8] = config.cacheBytes, words[9] = layout.maxThreads, words[10] = layout.pageCount, words[11] = layout.dataStart, words[12] = nextTag, nextTag = nextTag + TAG_STRIDE & TAG_MASK, words[19] = layout.generationBits, words[20] = config.parallelism, words[21] = (config.zeroOnRelease ? 1 : 0) | (config.zeroOnAcquire ? 2 : 0) | (config.debug ? 4 : 0), words[13] = layout.shardBase, words[14] = layout.pageTableBase, words[15] = layout.threadBase;
  for (let c = 0; c < layout.classCount; c++)
    for (let s = 0; s <= layout.shards; s++) words[shardWord(layout, c, s) + 1] = -1;
  let pageEntries = layout.threadBase - layout.pageTableBase >> 2;
  words.fill(-1, pageClassWord(layout, 0), pageClassWord(layout, 0) + pageEntries), Atomics.store(words, 0, 827084890);
}
function checkHandle(handle) {
  if (handle === null || typeof handle != "object")
    throw invalidType(
      "handle",
      handle,
      "a pool handle (pool.handle from the thread that created the pool)",
      "pass pool.handle (in a worker, where the creating thread put it, e.g. workerData)"
    );
  let { kind, layoutVersion, buffer, signals } = handle;
  if (kind !== "zeropool" || !(buffer instanceof SharedArrayBuffer))
    throw invalidType(
      "handle",
      handle,
      'a pool handle ({ kind: "zeropool", layoutVersion, buffer, signals }, from pool.handle)',
      handleFix(handle)
    );
  if (layoutVersion !== 6)
    throw invalidType("handle.layoutVersion", layoutVersion, `layout version ${6}, the version this library reads`);
  if (!(signals instanceof SharedArrayBuffer) || signals.byteLength !== 6144)
    throw invalidType("handle.signals", signals, `a SharedArrayBuffer of ${6144} bytes (from pool.handle)`);
  return { buffer, signals };
}
function handleFix(value) {
  if (value instanceof SharedArrayBuffer)
    return "pass pool.handle, not its buffer alone (the handle also carries the signals buffer and the layout version)";
  let inner = ownOrInherited(value, "handle");
  return inner !== null && typeof inner == "object" && ownOrInherited(inner, "kind") === "zeropool" ? "pass pool.handle, not the pool object (in another thread, send pool.handle and attach it there)" : "pass pool.handle as it was sent (a structured clone of it works; a copy of some of its fields does not)";
}
function ownOrInherited(object, key) {
  try {
    return object[key];
  } catch {
    return;
  }
}
function attachLayout(buffer) {
  if (buffer.byteLength < 128)
    throw invalidType(
      "handle.buffer",
      `a SharedArrayBuffer of ${buffer.byteLength} bytes`,
      "a pool arena (too small to hold a header)"
    );
  let words = new Int32Array(buffer, 0, 32);
  if (Atomics.load(words, 0) !== 827084890)
    throw invalidType("handle.buffer", "a SharedArrayBuffer without the pool magic number", "a pool arena created by SlabPool");
  let version = words[1];
  if (version !== 6)
    throw invalidType(
      "handle.buffer",
      `an arena of layout version ${version}`,
      `layout version ${6}, the version this library reads`
    );
  let arenaBytes = words[2] >>> 0;
  if (arenaBytes !== buffer.byteLength)
    throw invalidType(
      "handle.buffer",
      `a SharedArrayBuffer of ${buffer.byteLength} bytes`,
      `the ${arenaBytes}-byte arena its header describes (truncated or altered)`
    );
  let minShift = words[3], maxShift = words[4];
  if (!(2 ** minShift >= 64 && minShift <= maxShift && 2 ** maxShift <= 1073741824))
    throw invalidType("handle.buffer", "an arena whose header does not match its own layout", "an intact pool arena");
  let config = {
    parallelism: words[20],
    arenaBytes,
    minSlabSize: 1 << minShift,
    maxSlabSize: 1 << maxShift,
    shards: words[6],
    cacheSize: words[7],
    cacheBytes: words[8],
    maxThreads: words[9],
    zeroOnRelease: (words[21] & 1) !== 0,
    zeroOnAcquire: (words[21] & 2) !== 0,
    debug: (words[21] & 4) !== 0,
    // Leak detection belongs to each pool object, not to the arena.
    leakDetection: "off",
    lockTimeoutMs: 5e3
  }, layout = computeLayout(config);
  if (layout.dataStart !== words[11] || layout.threadBase !== words[15] || layout.classCount !== words[5] || layout.generationBits !== words[19])
    throw invalidType("handle.buffer", "an arena whose header does not match its own layout", "an intact pool arena");
  return { layout, config, tag: words[12] & TAG_MASK };
}

// src/core.ts
import { threadId } from "node:worker_threads";

// src/cache.ts
var ThreadCache = class {
  constructor(config, classCount) {
    this.capacity = new Int32Array(classCount);
    let stride = 1;
    for (let c = 0; c < classCount; c++)
      this.capacity[c] = cacheCapacityFor(config, config.minSlabSize * 2 ** c), stride = Math.max(stride, this.capacity[c]);
    this.stride = stride, this.slabs = new Int32Array(stride * classCount), this.length = new Int32Array(classCount);
  }
  /** How many slabs a refill asks for: half a cache, so the next few releases do not spill at once. */
  refillCount(classIndex) {
    return Math.max(1, this.capacity[classIndex] >> 1);
  }
  /**
   * Removes the `count` oldest entries (the bottom of the stack, the coldest slabs) by shifting the
   * rest down; the caller has already handed them to a shard.
   */
  dropBottom(classIndex, count) {
    let base = classIndex * this.stride, remaining = this.length[classIndex] - count;
    this.slabs.copyWithin(base, base + count, base + count + remaining), this.length[classIndex] = remaining;
  }
  /** Stops all caching: every release then takes the slow path, which refuses a closed pool. */
  disable() {
    this.capacity.fill(0);
  }
};

// src/debug.ts
function fillSlab(buffer, offset, bytes, poison) {
  new Int32Array(buffer, offset, bytes >> 2).fill(poison ? -606348325 : 0);
}
function findUnpoisoned(buffer, offset, bytes) {
  let words = new Int32Array(buffer, offset, bytes >> 2);
  for (let i = 0; i < words.length; i++)
    if (words[i] !== -606348325) {
      let view = new Uint8Array(buffer, offset + i * 4, 4);
      return i * 4 + view.findIndex((b) => b !== 219);
    }
  return -1;
}

// src/lock.ts
var SPIN_ATTEMPTS = 64, WAIT_TIMEOUT_MS = 50;
function lock(words, index, owner, timeoutMs = Number.POSITIVE_INFINITY, threadOfSlot2) {
  return Atomics.compareExchange(words, index, 0, owner) === 0 ? !1 : (lockContended(words, index, owner, timeoutMs, threadOfSlot2), !0);
}
function lockContended(words, index, owner, timeoutMs, threadOfSlot2) {
  let deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < SPIN_ATTEMPTS; attempt++)
    if (Atomics.load(words, index) === 0 && Atomics.compareExchange(words, index, 0, owner) === 0) return;
  for (; ; ) {
    let seen = Atomics.load(words, index);
    if (seen === 0) {
      if (Atomics.compareExchange(words, index, 0, owner | LOCK_WAITERS) === 0) return;
      continue;
    }
    if ((seen & LOCK_WAITERS) === 0) {
      let marked = seen | LOCK_WAITERS;
      if (Atomics.compareExchange(words, index, seen, marked) !== seen) continue;
      seen = marked;
    }
    if (Date.now() >= deadline) {
      let slot = lockOwnerSlot(seen);
      throw new LockTimeoutError(slot, timeoutMs, threadOfSlot2?.(slot) ?? -1);
    }
    Atomics.wait(words, index, seen, WAIT_TIMEOUT_MS);
  }
}
function unlock(words, index) {
  (Atomics.exchange(words, index, 0) & LOCK_WAITERS) !== 0 && Atomics.notify(words, index, 1);
}
function lockWithin(words, index, owner, timeoutMs) {
  let deadline = Date.now() + timeoutMs;
  for (; ; ) {
    let seen = Atomics.load(words, index);
    if (seen === 0) {
      if (Atomics.compareExchange(words, index, 0, owner | LOCK_WAITERS) === 0) return !0;
      continue;
    }
    let remaining = deadline - Date.now();
    if (remaining <= 0) return !1;
    Atomics.wait(words, index, seen, Math.min(remaining, 5));
  }
}

// src/steps.ts
var STEPS = globalThis.__ZEROPOOL_STEPS__ === !0, hook;
function step(name) {
  hook !== void 0 && hook(name);
}

// src/recovery.ts
function takeOverLocks(ctx, deadSlot) {
  let { words, layout } = ctx, taken = 0;
  for (let c = 0; c < layout.classCount; c++)
    for (let shard = 0; shard <= layout.shards; shard++) {
      let line = shardWord(layout, c, shard);
      takeOver(ctx, line, deadSlot) && (STEPS && step("recover.lock-taken"), rebuildShard(words, layout, line, c, shard), shard === layout.shards && recountWaiters(words, layout, c), unlock(words, line), taken++, wakeClass(words, layout, c));
    }
  return takeOver(ctx, 16, deadSlot) && (recountPages(words, layout), unlock(words, 16), taken++), taken;
}
function recountPages(words, layout) {
  let slabs = Atomics.load(words, 18);
  if (slabs === 0) return;
  let pages = pageOfSlab(words, layout, slabs - 1) + 1;
  pages > words[17] && Atomics.store(words, 17, pages);
}
function takeOver(ctx, index, deadSlot) {
  for (; ; ) {
    let word = Atomics.load(ctx.words, index);
    if (word === 0 || lockOwnerSlot(word) !== deadSlot) return !1;
    if (Atomics.compareExchange(ctx.words, index, word, ctx.lockOwner | word & LOCK_WAITERS) === word) return !0;
  }
}
function rebuildShard(words, layout, line, c, shard) {
  let metaTop = layout.metaTop, slabCount = Atomics.load(words, 18), head = -1, count = 0;
  for (let slab = slabCount - 1; slab >= 0; slab--) {
    let meta = metaWord(metaTop, slab);
    if ((words[meta + 2] & 31) !== c) continue;
    let state = Atomics.load(words, meta + 0);
    (state & 3) !== 1 || (state >>> 2 & 511) !== shard || (words[meta + 1] = head, head = slab, count++);
  }
  words[line + 1] = head, words[line + 2] = count;
}
function collectSlabs(ctx, deadSlot, onSlab) {
  let { words, layout } = ctx, metaTop = layout.metaTop, slabCount = Atomics.load(words, 18), cached = 0, leased = 0;
  for (let slab = 0; slab < slabCount; slab++) {
    let meta = metaWord(metaTop, slab), state = Atomics.load(words, meta + 0), kind = state & 3, generation = state >>> 11, c = words[meta + 2] & 31;
    if (kind === 2 && (state >>> 2 & 511) === deadSlot) {
      if (Atomics.compareExchange(words, meta + 0, state, ctx.cachedBits | generation << 11) !== state)
        continue;
      onSlab(c, slab, !1), cached++, STEPS && step("reclaim.collected-one");
    } else if (kind === 3 && (state >>> 2 & 511) === deadSlot) {
      let next = generation + 1 & 2097151;
      if (Atomics.compareExchange(words, meta + 0, state, ctx.cachedBits | next << 11) !== state) continue;
      onSlab(c, slab, !0), leased++, STEPS && step("reclaim.collected-one");
    }
  }
  return { cached, leased };
}
function recountWaiters(words, layout, c) {
  let waiting = 0;
  for (let slot = 0; slot < layout.maxThreads; slot++)
    (Atomics.load(words, threadWord(layout, slot) + 2) & 1 << c) !== 0 && waiting++;
  return words[reservedWord(layout, c) + 3] = waiting, waiting > 0 ? Atomics.or(words, 22, 1 << c) : Atomics.and(words, 22, ~(1 << c)), waiting;
}
function wakeWaiters(words, layout, c) {
  let sequence = reservedWord(layout, c) + 4;
  Atomics.add(words, sequence, 1), STEPS && step("wake.bumped"), Atomics.notify(words, sequence);
}
function wakeClass(words, layout, c) {
  Atomics.load(words, 22) !== 0 && wakeWaiters(words, layout, c);
}
function retractWaits(ctx, slot, lockLine, drain) {
  let { words, layout } = ctx, waiting = threadWord(layout, slot) + 2;
  for (let c = 0; c < layout.classCount; c++) {
    if ((Atomics.load(words, waiting) & 1 << c) === 0) continue;
    let line = reservedWord(layout, c);
    lockLine(line);
    try {
      Atomics.and(words, waiting, ~(1 << c)), STEPS && step("recover.wait-bit-cleared"), recountWaiters(words, layout, c) === 0 && drain(c);
    } finally {
      unlock(words, line);
    }
  }
  for (let c = 0; c < layout.classCount; c++) wakeClass(words, layout, c);
}
function disownLeases(words, layout, slot) {
  let metaTop = layout.metaTop, slabCount = Atomics.load(words, 18);
  for (let slab = 0; slab < slabCount; slab++) {
    let meta = metaWord(metaTop, slab) + 0, state = Atomics.load(words, meta);
    (state & 3) !== 3 || (state >>> 2 & 511) !== slot || (Atomics.compareExchange(words, meta, state, state & -2045 | 2044), STEPS && step("close.disowned-one"));
  }
}

// src/shard.ts
function popToCache(words, metaTop, line, want, ownerSlot, slabs, at) {
  let head = words[line + 1], moved = 0;
  for (; moved < want && head !== -1; ) {
    let meta = metaWord(metaTop, head), generation = generationOf(words[meta + 0]);
    words[meta + 0] = packState(2, ownerSlot, generation), slabs[at + moved] = head, moved++, head = words[meta + 1], STEPS && step("shard.pop-one");
  }
  return words[line + 1] = head, STEPS && step("shard.popped-head"), words[line + 2] -= moved, moved;
}
function pushFromCache(words, metaTop, line, shard, slabs, from, count) {
  let head = words[line + 1];
  for (let i = from; i < from + count; i++) {
    let slab = slabs[i], meta = metaWord(metaTop, slab);
    words[meta + 1] = head, STEPS && step("shard.link-one"), words[meta + 0] = packState(1, shard, generationOf(words[meta + 0])), head = slab, STEPS && step("shard.push-one");
  }
  words[line + 1] = head, STEPS && step("shard.pushed-head"), words[line + 2] += count;
}
function spliceCarved(words, metaTop, line, first, count) {
  let last = metaWord(metaTop, first + count - 1);
  words[last + 1] = words[line + 1], words[line + 1] = first, words[line + 2] += count;
}

// src/slots.ts
function claimFreeSlot(claims, layout, threadId2) {
  let mine = claimValue(threadId2, 0);
  for (let slot = 0; slot < layout.maxThreads; slot++)
    if (Atomics.compareExchange(claims, claimIndex(layout, slot), 0n, mine) === 0n) return slot;
  let error = new RangeError(
    `cannot attach: all ${layout.maxThreads} thread slots of this pool are taken (options.maxThreads); close() the pool objects of threads that are done with it, or create the pool with a larger maxThreads`
  );
  throw error.code = "ERR_POOL_THREADS", error;
}
var readClaim = (claims, layout, slot) => Atomics.load(claims, claimIndex(layout, slot)), swapClaim = (claims, layout, slot, expected, next) => Atomics.compareExchange(claims, claimIndex(layout, slot), expected, next) === expected, threadOfSlot = (claims, layout, slot) => claimThread(readClaim(claims, layout, slot)), slotOpen = (claims, layout, slot) => {
  let claim = readClaim(claims, layout, slot);
  return claim !== 0n && claimPhase(claim) === 0;
};
function slotsOf(claims, layout, threadId2, asReclaimer = !1) {
  let found = [];
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    let claim = readClaim(claims, layout, slot);
    if (claim === 0n) continue;
    let phase = claimPhase(claim), owner = claimThread(claim), reclaimer = phaseReclaimer(phase);
    (asReclaimer ? reclaimer : owner) === threadId2 && found.push({ slot, claim, threadId: owner, phase, reclaimer });
  }
  return found;
}
function livenessRefusal(signals, slots) {
  for (let slot of slots) {
    let probes = 1024 + slot, count;
    for (; count = Atomics.load(signals, probes), !(count >= 4 || Atomics.compareExchange(signals, probes, count, count + 1) === count); )
      ;
    if (count >= 4)
      return { reason: `it answered ${4} liveness checks and has not run its event loop since (or is attaching a pool), so it may be busy or may have exited: reclaim it from its 'exit' event (watch does), or once its event loop ran`, answered: !1 };
    if (Atomics.notify(signals, 512 + slot, 1) > 0)
      return { reason: "a pool object attached in that thread answered a liveness check", answered: !0 };
    for (; ; ) {
      let now = Atomics.load(signals, probes);
      if (now <= 0 || now > 4 || Atomics.compareExchange(signals, probes, now, now - 1) === now) break;
    }
  }
}

// src/core.ts
var STRANDED_RETRY_MS = 50, STRANDED_RETRY_MAX_MS = 2e3, PoolCore = class {
  constructor(buffer) {
    this.closed = !1;
    /** How long lockWord waits before it throws LockTimeoutError (set by SlabPool per object). */
    this.lockTimeoutMs = 5e3;
    /** Slabs known to exist; 0 once closed, so every id takes the slow check, which refuses it. */
    this.knownSlabs = 0;
    /**
     * Per class, cached slabs a spill could not hand to any shard (every shard's lock held by a dead
     * thread): still this thread's, outside the cache stack until a refill takes them or `flush`
     * files them.
     */
    this.stranded = [];
    this.warnedStranded = !1;
    /** One-slab scratch stack for moving single slabs with the batch functions. */
    this.scratch = new Int32Array(1);
    /** The threadId that claimed thread slot `slot`, or -1 if it is free (for error messages). */
    this.threadOfSlot = (slot) => threadOfSlot(this.claims, this.layout, slot);
    let { layout, config, tag } = attachLayout(buffer);
    this.buffer = buffer, this.config = config, this.layout = layout, this.words = new Int32Array(buffer, 0, layout.metaTop), this.floats = new Float64Array(buffer, 0, layout.dataStart >> 3), this.claims = new BigInt64Array(buffer, 0, layout.dataStart >> 3), this.metaTop = layout.metaTop, this.minShift = layout.minShift, this.maxSlabSize = config.maxSlabSize, this.firstGeneration = tag & 2097151, this.flags = this.words[21], this.slot = claimFreeSlot(this.claims, layout, threadId), this.counters = new Float64Array(buffer, threadCounterF64(layout, this.slot) * 8, 8), this.home = threadId & layout.shards - 1, this.lockOwner = lockOwnerValue(this.slot), this.cachedBits = packState(2, this.slot, 0), this.leasedBits = packState(3, this.slot, 0), this.cache = new ThreadCache(config, layout.classCount), this.cacheSlabs = this.cache.slabs, this.cacheLength = this.cache.length, this.cacheCapacity = this.cache.capacity, this.cacheStride = this.cache.stride;
  }
  /** The size class of a validated size. */
  classOf(size) {
    return size <= 1 << this.minShift ? 0 : 32 - Math.clz32(size - 1) - this.minShift;
  }
  /** Takes a lock word, counting a wait when it was contended. */
  lockWord(index) {
    lock(this.words, index, this.lockOwner, this.lockTimeoutMs, this.threadOfSlot) && this.counters[6]++;
  }
  /** Fills an empty cache stack for class `c`: stranded slabs, home shard, the others, a new page. */
  refill(c) {
    if (this.closed) throw closedError();
    let want = this.cache.refillCount(c), stranded = this.stranded[c];
    if (stranded !== void 0 && stranded.length > 0) {
      let got2 = Math.min(want, stranded.length);
      for (let i = 0; i < got2; i++) this.cacheSlabs[c * this.cacheStride + i] = stranded.pop();
      return this.cacheLength[c] = got2, got2;
    }
    let got = this.popFrom(c, this.home, want);
    if (got > 0 || (got = this.steal(c, want, !0), got > 0)) return got;
    for (; this.carve(c); )
      if (got = this.popFrom(c, this.home, want), got > 0) return got;
    return this.steal(c, want, !1);
  }
  steal(c, want, useHint) {
    let shards = this.layout.shards;
    for (let k = 1; k < shards; k++) {
      let shard = this.home + k & shards - 1;
      if (useHint && this.words[shardWord(this.layout, c, shard) + 2] === 0) continue;
      let got = this.popFrom(c, shard, want);
      if (got > 0)
        return STEPS && step("steal.moved"), this.counters[5]++, got;
    }
    return 0;
  }
  popFrom(c, shard, want) {
    let line = shardWord(this.layout, c, shard);
    this.lockWord(line), STEPS && step("refill.locked");
    let base = c * this.cacheStride, got = popToCache(this.words, this.metaTop, line, want, this.slot, this.cacheSlabs, base);
    return STEPS && step("refill.moved"), unlock(this.words, line), got > 0 && (this.cacheLength[c] = got, this.counters[3]++), got;
  }
  /**
   * Moves the coldest half of a full cache stack to the home shard (see pushToHome). If no shard's
   * lock can be taken (dead threads hold them all and were not reclaimed), keeps that half in this
   * object's stranded list instead, still marked cached by this thread (stats, audit and reclaim
   * count them), warns once, and returns: the release that spilled goes through and loses nothing.
   * Refills use stranded slabs first; `flush` and `close` file them once a lock can be taken.
   */
  spill(c) {
    if (this.closed) throw closedError();
    let count = Math.max(1, this.cacheCapacity[c] >> 1);
    this.pushOrStrand(c, count), this.cache.dropBottom(c, count);
  }
  /** spill's push of the bottom `count` slabs of class `c`'s cache stack, or their stranding. */
  pushOrStrand(c, count) {
    let base = c * this.cacheStride, stranded = this.stranded[c];
    if (stranded !== void 0 && stranded.length > 0) {
      for (let i = 0; i < count; i++) stranded.push(this.cacheSlabs[base + i]);
      this.fileStrandedQuickly(c) ? this.counters[4]++ : this.retryStranded();
      return;
    }
    try {
      this.pushToHome(c, base, count, this.cacheSlabs), this.counters[4]++;
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      this.strand(c, Array.from(this.cacheSlabs.subarray(base, base + count))), this.warnedStranded || (this.warnedStranded = !0, process.emitWarning(
        `zeropool: a release could not hand slabs back to any shard, so this thread keeps them (still counted as cached by it) and files them once a shard lock is free (it tries from its event loop, every 50 ms to 2 s); ${error.message}`,
        "ZeropoolWarning"
      ));
    }
  }
  /** Adds cached-by-this-thread slabs of class `c` to its stranded list (see spill). */
  strand(c, slabs) {
    let stranded = this.stranded[c];
    stranded === void 0 && (stranded = [], this.stranded[c] = stranded);
    for (let slab of slabs) stranded.push(slab);
    this.retryStranded();
  }
  /**
   * While slabs are stranded, tries every `STRANDED_RETRY_MS` (from the event loop, on an unref'd
   * timer) to file them, so a thread that goes idle does not keep them from other threads once
   * the dead thread's locks are taken over.
   */
  retryStranded(delay = STRANDED_RETRY_MS) {
    this.strandedRetry === void 0 && (this.strandedRetry = setTimeout(() => {
      if (this.strandedRetry = void 0, this.closed) return;
      let left = !1;
      for (let c = 0; c < this.stranded.length; c++)
        this.fileStrandedQuickly(c), (this.stranded[c]?.length ?? 0) > 0 && (left = !0);
      left && this.retryStranded(Math.min(delay * 2, STRANDED_RETRY_MAX_MS));
    }, delay), this.strandedRetry.unref());
  }
  /** Locks a shard of class `c` whose lock is free right now, home first (no waiting); its index, or -1. */
  lockAnyShardNow(c) {
    let shards = this.layout.shards;
    for (let k = 0; k < shards; k++) {
      let shard = this.home + k & shards - 1;
      if (Atomics.compareExchange(this.words, shardWord(this.layout, c, shard), 0, this.lockOwner) === 0) return shard;
    }
    return -1;
  }
  /** Files class `c`'s stranded slabs if a shard's lock is free right now; whether it did. Never throws. */
  fileStrandedQuickly(c) {
    let stranded = this.stranded[c];
    if (stranded === void 0 || stranded.length === 0) return !1;
    let shard = this.lockAnyShardNow(c);
    if (shard === -1) return !1;
    let line = shardWord(this.layout, c, shard);
    return pushFromCache(this.words, this.metaTop, line, shard, Int32Array.from(stranded), 0, stranded.length), stranded.length = 0, unlock(this.words, line), this.words[22] !== 0 && this.wakeWaiters(c), !0;
  }
  /**
   * Hands this object's stranded slabs of class `c` (see spill) to a shard; throws
   * LockTimeoutError, keeping them, if no shard's lock can be taken.
   */
  fileStranded(c) {
    let stranded = this.stranded[c];
    stranded === void 0 || stranded.length === 0 || (this.pushToHome(c, 0, stranded.length, Int32Array.from(stranded)), stranded.length = 0);
  }
  /**
   * Pushes `count` cached slabs from `slabs[from]` onward onto this thread's home shard of class `c`,
   * or, if a dead thread holds that lock (LockTimeoutError after lockTimeoutMs), onto another
   * shard whose lock it can take within a few milliseconds. Callers such as a release that spills
   * have already made the slabs this thread's: failing here would leave them in no list until this
   * thread is reclaimed. Throws only when no shard could be locked; then nothing was pushed.
   */
  pushToHome(c, from, count, slabs) {
    let shard = this.home, line = shardWord(this.layout, c, shard);
    try {
      this.lockWord(line);
    } catch (error) {
      if (!(error instanceof LockTimeoutError) || (shard = this.lockOtherShard(c), shard === -1)) throw error;
      line = shardWord(this.layout, c, shard);
    }
    STEPS && step("spill.locked"), pushFromCache(this.words, this.metaTop, line, shard, slabs, from, count), STEPS && step("spill.moved"), unlock(this.words, line), STEPS && step("spill.unlocked"), this.words[22] !== 0 && this.wakeWaiters(c);
  }
  /** Locks a shard of class `c` other than home: three passes, a few milliseconds each; -1 if none. */
  lockOtherShard(c) {
    let shards = this.layout.shards;
    for (let pass = 0; pass < 3; pass++)
      for (let k = 1; k < shards; k++) {
        let shard = this.home + k & shards - 1;
        if (lockWithin(this.words, shardWord(this.layout, c, shard), this.lockOwner, 5)) return shard;
      }
    return -1;
  }
  /**
   * If some thread waits in `acquireAsync` for class `c`, puts the slab (cached by this thread)
   * in the class's reserved list, which only waiters take from, and wakes them. Returns false,
   * leaving the slab alone, when nobody waits.
   */
  offerToWaiters(c, slab) {
    let line = reservedWord(this.layout, c);
    try {
      this.lockWord(line);
    } catch (error) {
      if (error instanceof LockTimeoutError) return !1;
      throw error;
    }
    STEPS && step("offer.locked"), this.scratch[0] = slab;
    let reserved = this.reserveIfWaited(line, this.scratch, 0, 1);
    return unlock(this.words, line), STEPS && step("offer.unlocked"), reserved && this.wakeWaiters(c), reserved;
  }
  /**
   * With a class's reserved lock held (`line`): if anyone waits on the class, moves `count` cached
   * slabs from `slabs[from]` onward into its reserved list and returns true; otherwise leaves them.
   * Checked under the lock: the last waiter to leave drains the list under the same lock, so a slab
   * can never be left behind in a reserved list nobody waits on.
   */
  reserveIfWaited(line, slabs, from, count) {
    return this.words[line + 3] === 0 ? !1 : (this.pushToReserved(line, slabs, from, count), !0);
  }
  /** Pushes `count` cached slabs from `slabs[from]` onward onto the reserved list `line` (lock held). */
  pushToReserved(line, slabs, from, count) {
    pushFromCache(this.words, this.metaTop, line, this.layout.shards, slabs, from, count);
  }
  /** Bumps class `c`'s wake-up sequence and wakes every `acquireAsync` waiting on it. */
  wakeWaiters(c) {
    wakeWaiters(this.words, this.layout, c);
  }
  /**
   * Takes one slab from class `c`'s reserved list, cached by this thread, and returns its index; -1 if empty,
   * RESERVED_BUSY if the list's lock is not free within 2 ms (a waiter must not block its event
   * loop for lockTimeoutMs on a lock a dead thread holds; it looks again shortly).
   */
  takeReserved(c) {
    let line = reservedWord(this.layout, c);
    if (!lockWithin(this.words, line, this.lockOwner, 2)) return -2;
    STEPS && step("reserved.locked");
    let got = popToCache(this.words, this.metaTop, line, 1, this.slot, this.scratch, 0);
    return unlock(this.words, line), got === 0 ? -1 : this.scratch[0];
  }
  /**
   * Cuts the next free page into slabs of class `c` and puts them in the home shard. A
   * LockTimeoutError from either lock leaves the arena as it was. A thread stopped between any two
   * steps (`worker.terminate()` lands at calls and loop back-edges) holds the arena lock, so
   * nobody carves until `reclaim` takes it over; each step says what that reclaim finds.
   */
  carve(c) {
    let words = this.words, layout = this.layout;
    this.lockWord(16);
    try {
      let pages = words[17], first = words[18], slabSize = 1 << this.minShift + c, count = layout.pageBytes / slabSize, pageStart = layout.dataStart + pages * layout.pageBytes, metaLow = layout.arenaBytes - first * 12;
      if (pageStart + layout.pageBytes > metaLow - count * 12 || first + count > 67108864) return !1;
      let free = packState(1, this.home, this.firstGeneration);
      for (let i = 0; i < count; i++) {
        let meta = metaWord(this.metaTop, first + i);
        words[meta + 2] = pageStart + i * slabSize | c, words[meta + 1] = i + 1 < count ? first + i + 1 : -1, words[meta + 0] = free;
      }
      this.flags & 4 && fillSlab(this.buffer, pageStart, layout.pageBytes, !0), STEPS && step("carve.1");
      let line = shardWord(layout, c, this.home);
      return this.lockWord(line), STEPS && step("carve.2"), words[pageClassWord(layout, pages)] = c, STEPS && step("carve.3"), spliceCarved(words, this.metaTop, line, first, count), STEPS && step("carve.4"), Atomics.store(words, 18, first + count), STEPS && step("carve.5"), Atomics.store(words, 17, pages + 1), STEPS && step("carve.6"), unlock(words, line), !0;
    } finally {
      unlock(words, 16);
    }
  }
};
function closedError() {
  let error = new Error("this SlabPool object was closed; attach again to use the pool from this thread");
  return error.code = "ERR_POOL_CLOSED", error;
}

// src/inspect.ts
var NAP = new Int32Array(new SharedArrayBuffer(4)), AUDIT_LOCK_TIMEOUT_MS = 1e3;
function usedBytesOf(words, layout) {
  let pages = Atomics.load(words, 17), slabs = Atomics.load(words, 18);
  return layout.dataStart + pages * layout.pageBytes + slabs * 12;
}
function collectStats(words, floats, layout, config) {
  let metaTop = layout.metaTop, slabCount = Atomics.load(words, 18), perClass = Array.from({ length: layout.classCount }, () => ({ slabs: 0, free: 0, cached: 0, leased: 0 }));
  for (let slab = 0; slab < slabCount; slab++) {
    let meta = metaWord(metaTop, slab), counts = perClass[words[meta + 2] & 31];
    counts.slabs++;
    let state = Atomics.load(words, meta + 0) & 3;
    state === 1 ? counts.free++ : state === 2 ? counts.cached++ : state === 3 && counts.leased++;
  }
  let totals = new Float64Array(8), claims = new BigInt64Array(words.buffer, 0, layout.dataStart >> 3), threads = 0;
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    Atomics.load(claims, claimIndex(layout, slot)) !== 0n && threads++;
    let base = threadCounterF64(layout, slot);
    for (let i = 0; i < 8; i++) totals[i] += floats[base + i];
  }
  let leased = 0;
  for (let counts of perClass) leased += counts.leased;
  let acquires = totals[1] + totals[2] + leased, classes = perClass.map((counts, c) => ({ slabSize: config.minSlabSize * 2 ** c, ...counts }));
  return {
    arenaBytes: layout.arenaBytes,
    usedBytes: usedBytesOf(words, layout),
    metadataBytes: slabCount * 12,
    overheadBytes: layout.dataStart,
    pageBytes: layout.pageBytes,
    pagesCarved: Atomics.load(words, 17),
    threads,
    classes,
    acquires,
    releases: totals[1],
    reclaimed: totals[2],
    cacheHits: Math.max(0, acquires - totals[0]),
    refills: totals[3],
    spills: totals[4],
    steals: totals[5],
    lockWaits: totals[6],
    exhausted: totals[7]
  };
}
function auditArena(words, layout, lockOwner) {
  let problems = [], metaTop = layout.metaTop, slabCount = Atomics.load(words, 18), listed = new Uint8Array(slabCount), unreadable = /* @__PURE__ */ new Set();
  for (let c = 0; c < layout.classCount; c++)
    for (let shard = 0; shard <= layout.shards; shard++) {
      let line = shardWord(layout, c, shard);
      if (!lockWithin(words, line, lockOwner, AUDIT_LOCK_TIMEOUT_MS)) {
        let holder = lockOwnerSlot(Atomics.load(words, line));
        problems.push(
          `class ${c} shard ${shard}: lock still held after ${AUDIT_LOCK_TIMEOUT_MS} ms by thread slot ${holder} (a dead thread not yet reclaimed?)`
        ), unreadable.add(c * (layout.shards + 1) + shard);
        continue;
      }
      try {
        let length = 0;
        for (let slab = words[line + 1]; slab !== -1; slab = words[metaWord(metaTop, slab) + 1]) {
          if (slab < 0 || slab >= slabCount) {
            problems.push(`class ${c} shard ${shard}: link to slab ${slab}, which does not exist`);
            break;
          }
          if (listed[slab]++) {
            problems.push(`class ${c} shard ${shard}: slab ${slab} listed twice`);
            break;
          }
          let meta = metaWord(metaTop, slab), state = Atomics.load(words, meta + 0);
          ((state & 3) !== 1 || ownerOf(state) !== shard) && problems.push(
            `class ${c} shard ${shard}: slab ${slab} is listed but its state word says ${state & 3}/${ownerOf(state)}`
          ), (words[meta + 2] & 31) !== c && problems.push(`class ${c} shard ${shard}: slab ${slab} is of another class`), length++;
        }
        length !== words[line + 2] && problems.push(`class ${c} shard ${shard}: count says ${words[line + 2]}, list holds ${length}`), shard === layout.shards && auditWaiters(words, layout, c, problems);
      } finally {
        unlock(words, line);
      }
    }
  if (lockWithin(words, 16, lockOwner, AUDIT_LOCK_TIMEOUT_MS))
    try {
      let pages = Atomics.load(words, 17), slabs = Atomics.load(words, 18), reached = slabs === 0 ? 0 : pageOfSlab(words, layout, slabs - 1) + 1;
      pages !== reached && problems.push(`pages carved says ${pages}, the slabs carved fill ${reached}`);
    } finally {
      unlock(words, 16);
    }
  else {
    let holder = lockOwnerSlot(Atomics.load(words, 16));
    problems.push(
      `arena lock: still held after ${AUDIT_LOCK_TIMEOUT_MS} ms by thread slot ${holder} (a dead thread not yet reclaimed?)`
    );
  }
  for (let slab = 0; slab < slabCount; slab++) {
    let state = Atomics.load(words, metaWord(metaTop, slab) + 0), kind = state & 3, c = words[metaWord(metaTop, slab) + 2] & 31;
    kind === 1 && !listed[slab] && !unreadable.has(c * (layout.shards + 1) + ownerOf(state)) && problems.push(`slab ${slab} is free but in no shard list`);
    let holder = ownerOf(state);
    (kind === 2 || kind === 3 && holder !== 511) && holder >= layout.maxThreads ? problems.push(`slab ${slab} names thread slot ${holder}, beyond maxThreads`) : (kind === 2 || kind === 3 && holder !== 511) && claimOf(words, layout, holder) === 0n && problems.push(
      `slab ${slab} is ${kind === 2 ? "cached" : "leased"} by thread slot ${holder}, which no thread has claimed`
    );
  }
  return auditSlots(words, layout, problems), problems;
}
var claimViews = /* @__PURE__ */ new WeakMap(), claimOf = (words, layout, slot) => {
  let claims = claimViews.get(words.buffer);
  return claims === void 0 && (claims = new BigInt64Array(words.buffer, 0, layout.dataStart >> 3), claimViews.set(words.buffer, claims)), Atomics.load(claims, claimIndex(layout, slot));
};
function auditWaiters(words, layout, c, problems) {
  let waiting = 0;
  for (let slot = 0; slot < layout.maxThreads; slot++)
    (Atomics.load(words, threadWord(layout, slot) + 2) & 1 << c) !== 0 && waiting++;
  let counted = words[reservedWord(layout, c) + 3];
  counted !== waiting && problems.push(`class ${c}: ${counted} waiting threads counted, ${waiting} thread slots say they wait`);
  let flagged = (Atomics.load(words, 22) & 1 << c) !== 0;
  flagged !== counted > 0 && problems.push(
    `class ${c}: the waiting-classes word says ${flagged ? "someone waits" : "nobody waits"}, the count says ${counted}`
  );
}
function auditSlots(words, layout, problems) {
  let reclaiming = /* @__PURE__ */ new Map();
  for (let slot = 0; slot < layout.maxThreads; slot++) {
    let claim = claimOf(words, layout, slot), waiting = Atomics.load(words, threadWord(layout, slot) + 2);
    claim === 0n ? waiting !== 0 && problems.push(`thread slot ${slot} is free but says it waits on classes ${waiting.toString(2)} (bits)`) : phaseReclaimer(claimPhase(claim)) !== -1 && reclaiming.set(slot, claim);
  }
  let deadline = Date.now() + AUDIT_LOCK_TIMEOUT_MS;
  for (; reclaiming.size > 0 && Date.now() < deadline; ) {
    for (let [slot, claim] of reclaiming) claimOf(words, layout, slot) !== claim && reclaiming.delete(slot);
    reclaiming.size > 0 && Atomics.wait(NAP, 0, 0, 5);
  }
  for (let [slot, claim] of reclaiming) {
    let reclaimer = phaseReclaimer(claimPhase(claim));
    problems.push(
      `thread slot ${slot} (thread ${claimThread(claim)}) has been in a reclaim by thread ${reclaimer} for ${AUDIT_LOCK_TIMEOUT_MS} ms: a reclaim stopped part-way? reclaim thread ${reclaimer} to finish it`
    );
  }
}

// src/leaks.ts
var LeakTracker = class {
  constructor(level, isLeased) {
    this.records = /* @__PURE__ */ new Map();
    this.leases = 0;
    this.level = level, this.isLeased = isLeased, this.registry = level === "off" ? void 0 : new FinalizationRegistry((record) => this.collected(record));
  }
  /** Records `lease` if the level says so. */
  track(lease, id, size) {
    if (this.registry === void 0 || this.level === "sampled" && (++this.leases & 63) !== 1) return;
    let stack = (new Error("lease taken here").stack ?? "").split(`
`).slice(2).join(`
`), record = { id, size, stack };
    this.records.set(id, record), this.registry.register(lease, record, lease);
  }
  /** Forgets a lease that was released. */
  untrack(lease, id) {
    this.registry === void 0 || !this.records.delete(id) || this.registry.unregister(lease);
  }
  outstanding() {
    for (let id of this.records.keys()) this.isLeased(id) || this.records.delete(id);
    return [...this.records.values()];
  }
  collected(record) {
    let { id } = record;
    this.records.get(id) === record && (this.records.delete(id), this.isLeased(id) && process.emitWarning(
      `a lease of slab id ${id} (${record.size} bytes) was garbage-collected without release(); its slab stays leased. Taken at:
${record.stack}`,
      "ZeropoolLeakWarning"
    ));
  }
};

// src/lease.ts
var SlabLease = class {
  constructor(pool, id, bytes, tracker) {
    this.released = !1;
    this.pool = pool, this.id = id, this.bytes = bytes, this.tracker = tracker;
  }
  /** Returns the slab. A second call throws the pool's `SlabStateError`. */
  release() {
    this.pool.release(this.id), this.released = !0, this.tracker.untrack(this, this.id);
  }
  /** Returns the slab unless `release()` already did. */
  [Symbol.dispose]() {
    this.released || this.release();
  }
};

// src/lifecycle.ts
import { threadId as currentThreadId } from "node:worker_threads";
var NAP2 = new Int32Array(new SharedArrayBuffer(4)), RunsAfterExit = class extends Error {
}, HELD_ELSEWHERE_MS = 200, STALE_CHECK_MS = 100, AFTER_EXIT_GIVE_UP_MS = 3e4, AFTER_EXIT_RETRY_MS = 5, AFTER_EXIT_RETRY_MAX_MS = 1e3, Lifecycle = class _Lifecycle {
  constructor(host) {
    this.host = host;
    /** Workers this object watches: reclaim refuses them while they run. */
    this.watched = /* @__PURE__ */ new Map();
    /** Threads whose reclaim runs in this call stack (a reclaim may reclaim a dead reclaimer first). */
    this.reclaiming = /* @__PURE__ */ new Set();
    /** Set once the slot's liveness waits are ended (close): they are not re-armed after. */
    this.livenessEnded = !1;
  }
  /** Arms the slot's liveness waits: from now on a check that wakes none of them means this thread has exited. */
  armLiveness() {
    let ref = new WeakRef(this);
    for (let i = 0; i < 4; i++) _Lifecycle.awaitLivenessProbe(ref, this.host.signals, this.host.slot);
    Atomics.store(this.host.signals, 1024 + this.host.slot, 0);
  }
  /**
   * Keeps one wait pending on this slot's liveness word (see `LIVENESS_BASE`): `reclaim` in any
   * thread wakes one to learn that this thread still runs. Re-armed here, then counted out of the
   * slot's unanswered checks, while this object is open and its slot is still this thread's.
   */
  static awaitLivenessProbe(ref, signals, slot) {
    let waited = Atomics.waitAsync(signals, 512 + slot, 0);
    waited.async && waited.value.then(() => {
      let lifecycle = ref.deref();
      if (lifecycle === void 0 || lifecycle.livenessEnded || !lifecycle.holdsSlot()) return;
      _Lifecycle.awaitLivenessProbe(ref, signals, slot);
      let probes = 1024 + slot;
      for (; ; ) {
        let count = Atomics.load(signals, probes);
        if (count <= 0 || Atomics.compareExchange(signals, probes, count, count - 1) === count) break;
      }
    });
  }
  /** Whether this object's thread slot still names this thread (whatever its phase). */
  holdsSlot() {
    return claimThread(readClaim(this.host.claims, this.host.layout, this.host.slot)) === currentThreadId;
  }
  /** Whether `threadId` is a worker this object watches that has not exited. */
  watchesRunning(threadId2) {
    return this.watched.get(threadId2)?.alive === !0;
  }
  /** SlabPool.watch: reclaims `worker` on its 'exit'; returns the function that stops watching. */
  watch(worker, onReclaim) {
    if (worker === null || typeof worker != "object" || typeof worker.once != "function" || typeof worker.threadId != "number")
      throw invalidType("worker", worker, "a Worker from node:worker_threads");
    if (onReclaim !== void 0 && typeof onReclaim != "function")
      throw invalidType("onReclaim", onReclaim, "a function or undefined");
    let threadId2 = worker.threadId;
    if (threadId2 < 0) throw invalidType("worker", "a Worker that has already exited", "a running Worker");
    let entry = this.watched.get(threadId2);
    entry === void 0 && (entry = { alive: !0, watchers: 0 }, this.watched.set(threadId2, entry));
    let shared = entry;
    shared.watchers++;
    let active = !0, onExit = () => {
      if (active = !1, shared.alive = !1, this.watched.get(threadId2) === shared && this.watched.delete(threadId2), this.host.isClosed()) return;
      let report;
      try {
        report = this.reclaimThread(threadId2, "exit-event");
      } catch (error) {
        if (error instanceof RunsAfterExit || error instanceof LockTimeoutError) {
          this.reclaimWhenStopped(threadId2, onReclaim, Date.now(), AFTER_EXIT_RETRY_MS);
          return;
        }
        process.emitWarning(`zeropool: reclaiming thread ${threadId2} failed: ${error.message}`, "ZeropoolWarning");
        return;
      }
      this.deliver(report, onReclaim);
    };
    return worker.once("exit", onExit), () => {
      active && (active = !1, worker.off?.("exit", onExit), shared.watchers--, shared.watchers === 0 && this.watched.get(threadId2) === shared && this.watched.delete(threadId2));
    };
  }
  /**
   * watch's reclaim of a worker whose 'exit' came while one of its pool objects still answered
   * liveness checks, while another reclaim held one of its slots, or while a lock a dead thread
   * holds stopped it: looks again from the event loop after 5, 10, 20 ... ms (up to a second
   * apart), and gives up with a warning after `AFTER_EXIT_GIVE_UP_MS` (reclaim it then by hand).
   */
  reclaimWhenStopped(threadId2, onReclaim, since, delayMs) {
    setTimeout(() => {
      if (this.host.isClosed()) return;
      let report;
      try {
        report = this.reclaimThread(threadId2, "exit-event");
      } catch (error) {
        !(error instanceof RunsAfterExit) && !(error instanceof LockTimeoutError) ? process.emitWarning(`zeropool: reclaiming thread ${threadId2} failed: ${error.message}`, "ZeropoolWarning") : Date.now() - since < AFTER_EXIT_GIVE_UP_MS ? this.reclaimWhenStopped(threadId2, onReclaim, since, Math.min(delayMs * 2, AFTER_EXIT_RETRY_MAX_MS)) : process.emitWarning(
          `zeropool: worker thread ${threadId2} emitted 'exit' but still answers liveness checks after ${AFTER_EXIT_GIVE_UP_MS} ms; not reclaimed: reclaim(${threadId2}) it once it has stopped`,
          "ZeropoolWarning"
        );
        return;
      }
      this.deliver(report, onReclaim);
    }, delayMs).unref();
  }
  /** Hands a watch's report to its callback; an error there is reported as the callback's. */
  deliver(report, onReclaim) {
    if (onReclaim !== void 0)
      try {
        onReclaim(report);
      } catch (error) {
        process.emitWarning(
          `zeropool: thread ${report.threadId} was reclaimed, but its onReclaim callback threw: ${error instanceof Error ? error.message : String(error)}`,
          "ZeropoolWarning"
        );
      }
  }
  /**
   * reclaim's work: takes the thread's slots once `proof` shows it has exited (see ExitProof),
   * empties and frees each, and finishes or gives back the reclaims the thread was running itself
   * when it stopped.
   */
  reclaimThread(threadId2, proof) {
    let report = { threadId: threadId2, slots: 0, locks: 0, cached: 0, leased: 0 };
    if (this.reclaiming.has(threadId2)) return report;
    this.reclaiming.add(threadId2);
    try {
      let { slots, proven } = this.claimSlotsOf(threadId2, proof);
      for (let slot of slots) this.emptySlot(slot, threadId2, report);
      proven && this.finishReclaimsBy(threadId2, report);
    } finally {
      this.reclaiming.delete(threadId2);
    }
    for (let c = 0; c < this.host.layout.classCount; c++) this.host.fileStrandedQuickly(c);
    return report;
  }
  /**
   * Moves every slot of `threadId` to "reclaimed by this thread, confirmed" and returns them, with
   * whether the thread's exit is proven (by `proof`, or by a check of at least one slot). Claim
   * first, then check: a slot the thread claims after this (attaching again) is not taken, and
   * while the check runs nobody else closes, frees or reclaims the slots. A closing slot has ended
   * its liveness waits, so only a known exit takes it. A slot another reclaim checks is left to it
   * for up to 100 ms (a check takes microseconds), then taken over: that checker stopped or
   * stalled, and its confirming exchange will fail. A slot another reclaim has confirmed is left
   * to it while it runs; one whose reclaimer has exited is finished by reclaiming the reclaimer.
   * @throws {ReclaimLiveThreadError} the check showed the thread running, a slot stayed closing
   *   (checked reclaims), or another reclaim still held a slot after 200 ms; slots this call
   *   was checking are given back.
   * @throws {RunsAfterExit} (`exit-event`) a pool object of the thread still answers, or another
   *   reclaim holds one of its slots: watch looks again later.
   */
  claimSlotsOf(threadId2, proof) {
    let confirmedPhase = reclaimPhase(currentThreadId, !0), checkingClaim = claimValue(threadId2, reclaimPhase(currentThreadId, !1)), confirmed = [], checking = [], firstSeen = /* @__PURE__ */ new Map(), started = Date.now();
    try {
      for (; ; ) {
        let heldElsewhere = !1, confirmedElsewhere = !1, closing = !1;
        for (let held of slotsOf(this.host.claims, this.host.layout, threadId2)) {
          if (held.phase === confirmedPhase) {
            confirmed.includes(held.slot) || confirmed.push(held.slot);
            continue;
          }
          if (held.claim === checkingClaim) continue;
          let checkedElsewhere = held.reclaimer !== -1 && (held.phase & 3) === 2, stale = checkedElsewhere && Date.now() - (firstSeen.get(held.claim) ?? Date.now()) >= STALE_CHECK_MS;
          if (checkedElsewhere && !firstSeen.has(held.claim) && firstSeen.set(held.claim, Date.now()), held.phase === 1 && proof === "checked")
            closing = !0;
          else if (held.phase === 0 || held.phase === 1 || held.reclaimer === currentThreadId || stale) {
            let now = proof === "exited" || proof === "exit-event" && held.phase === 1, next = now ? claimValue(threadId2, confirmedPhase) : checkingClaim;
            if (!swapClaim(this.host.claims, this.host.layout, held.slot, held.claim, next)) {
              heldElsewhere = !0;
              continue;
            }
            STEPS && step("reclaim.claimed"), (now ? confirmed : checking).push(held.slot);
          } else held.reclaimer !== -1 && (heldElsewhere = !0, checkedElsewhere || (confirmedElsewhere = !0), !checkedElsewhere && !this.watched.get(held.reclaimer)?.alive && this.reclaimIfExited(held.reclaimer));
        }
        if (!heldElsewhere && !closing) break;
        if (proof === "exit-event" && confirmedElsewhere) throw new RunsAfterExit();
        if (Date.now() - started >= HELD_ELSEWHERE_MS)
          throw new ReclaimLiveThreadError(
            threadId2,
            closing ? "it has been closing a pool object for 200 ms, or stopped while closing one: reclaim it from its 'exit' event (watch does)" : "another reclaim has held one of its thread slots for 200 ms; try again once that reclaim has finished"
          );
        Atomics.wait(NAP2, 0, 0, 1);
      }
      let proven = proof !== "checked" || checking.length > 0 || confirmed.length > 0;
      if (checking.length === 0) return { slots: confirmed, proven };
      let refusal = livenessRefusal(this.host.signals, checking);
      if (refusal !== void 0 && proof === "exit-event" && !refusal.answered && (refusal = void 0), refusal !== void 0)
        throw proof === "exit-event" ? new RunsAfterExit() : new ReclaimLiveThreadError(threadId2, refusal.reason);
      for (let slot of checking.splice(0))
        swapClaim(this.host.claims, this.host.layout, slot, checkingClaim, claimValue(threadId2, confirmedPhase)) && confirmed.push(slot);
      return STEPS && step("reclaim.confirmed"), { slots: confirmed, proven };
    } finally {
      for (let slot of checking)
        swapClaim(this.host.claims, this.host.layout, slot, checkingClaim, claimValue(threadId2, 0));
    }
  }
  /** Reclaims `threadId` if a liveness check shows it has exited; does nothing if it runs. */
  reclaimIfExited(threadId2) {
    if (threadId2 !== currentThreadId)
      try {
        this.reclaimThread(threadId2, "checked");
      } catch (error) {
        if (!(error instanceof ReclaimLiveThreadError) && !(error instanceof LockTimeoutError)) throw error;
      }
  }
  /**
   * Empties slot `slot` of the exited thread `threadId`, which this thread holds confirmed: takes
   * over its locks (rebuilding what they guard), withdraws its waits, returns the slabs it cached
   * or leased, and frees the slot. Each step can be repeated, so a reclaim stopped anywhere in here
   * is finished by the reclaim of this thread; what this thread collected meanwhile is its own
   * cached slabs, which that reclaim returns too.
   */
  emptySlot(slot, threadId2, report) {
    let ctx = this.host.recoveryContext();
    report.slots++, report.locks += takeOverLocks(ctx, slot), STEPS && step("reclaim.locks"), retractWaits(
      ctx,
      slot,
      (line) => this.host.lockWord(line),
      (c) => this.host.drainReserved(c)
    ), STEPS && step("reclaim.waits");
    let byClass = /* @__PURE__ */ new Map(), returned = collectSlabs(ctx, slot, (c, slab) => {
      this.host.flags !== 0 && this.host.afterRelease(slab, c);
      let slabs = byClass.get(c);
      slabs === void 0 ? byClass.set(c, [slab]) : slabs.push(slab);
    });
    STEPS && step("reclaim.collected");
    for (let [c, slabs] of byClass)
      try {
        this.host.pushToHome(c, 0, slabs.length, Int32Array.from(slabs));
      } catch (error) {
        if (!(error instanceof LockTimeoutError)) throw error;
        this.host.strand(c, slabs);
      }
    for (let c = 0; c < this.host.layout.classCount; c++) this.host.drainIfUnwaited(c);
    report.cached += returned.cached, report.leased += returned.leased, this.host.counters[2] += returned.leased, Atomics.store(this.host.signals, 1024 + slot, 5), STEPS && step("reclaim.emptied"), swapClaim(this.host.claims, this.host.layout, slot, claimValue(threadId2, reclaimPhase(currentThreadId, !0)), 0n);
  }
  /**
   * Finishes the reclaims the exited thread `reclaimer` was running when it stopped: a slot it had
   * confirmed is emptied here, one it was still checking goes back to its thread.
   */
  finishReclaimsBy(reclaimer, report) {
    for (let held of slotsOf(this.host.claims, this.host.layout, reclaimer, !0))
      (held.phase & 3) === 2 ? swapClaim(this.host.claims, this.host.layout, held.slot, held.claim, claimValue(held.threadId, 0)) : swapClaim(
        this.host.claims,
        this.host.layout,
        held.slot,
        held.claim,
        claimValue(held.threadId, reclaimPhase(currentThreadId, !0))
      ) && this.emptySlot(held.slot, held.threadId, report);
  }
  /**
   * close()'s last step, once the slot holds nothing. Gives up the slot in three steps: open ->
   * closing (no check can start on it after this, so ending the waits cannot make a check think
   * this running thread exited), liveness waits ended, then free. A thread stopped while closing
   * is reclaimed by watch (its 'exit' proves it). A reclaim checking this thread holds the slot
   * for microseconds; one stopped inside its check holds it until its own thread is reclaimed, so
   * after 100 ms it is taken back from it.
   */
  giveUpSlot() {
    let open = claimValue(currentThreadId, 0), closing = claimValue(currentThreadId, 1), deadline = Date.now() + 100;
    for (; ; ) {
      let seen = Atomics.compareExchange(this.host.claims, claimIndex(this.host.layout, this.host.slot), open, closing);
      if (seen === open) break;
      if (claimThread(seen) !== currentThreadId || (claimPhase(seen) & 3) !== 2) return;
      if (Date.now() >= deadline) {
        if (swapClaim(this.host.claims, this.host.layout, this.host.slot, seen, closing)) break;
        continue;
      }
      Atomics.wait(NAP2, 0, 0, 1);
    }
    STEPS && step("close.closing"), this.livenessEnded = !0, Atomics.store(this.host.signals, 1024 + this.host.slot, 5), Atomics.notify(this.host.signals, 512 + this.host.slot), STEPS && step("close.liveness-ended"), swapClaim(this.host.claims, this.host.layout, this.host.slot, closing, 0n);
  }
};

// src/validate.ts
function describeBadId(id, words, layout) {
  if (typeof id != "number") {
    let fix = "pass the number acquire returned";
    try {
      fix = fixForNonNumber(id);
    } catch {
    }
    return `an id is a number, not ${kindOf2(id)}: ${fix}`;
  }
  if (!isIdShaped(id))
    return `an id is an integer from 0 to 2^53 - 1: ${fixForMisshapen(id)}`;
  let slab = slabOfId(id), generation = generationOfId(id), slabCount = Atomics.load(words, 18);
  if (slab >= slabCount)
    return `slab ${slab} does not exist (the pool has ${slabCount} slabs so far): the id is from another pool, or was changed on its way`;
  let state = Atomics.load(words, metaWord(layout.metaTop, slab) + 0), current = state >>> 11, kind = state & 3, cut = generation === 0 && current !== 0 ? `; ${CUT_TO_32_BITS}` : "";
  return kind === 3 && current !== generation ? `slab ${slab} is leased at generation ${current}, the id carries generation ${generation}: the id is stale (it was released, and its slab handed out again) or from another pool; ${AFTER_RELEASE}${cut}` : kind === 1 || kind === 2 ? current === generation ? `slab ${slab} is not acquired (never handed out with this id, or from another pool)` : `slab ${slab} is not acquired: it was released, so the id is stale (the slab is at generation ${current} now, the id carries ${generation}); ${AFTER_RELEASE}${cut}` : `slab ${slab} changed state while being released (another thread released it first)`;
}
var CUT_TO_32_BITS = "ids above 2^31 do not survive an Int32Array or `| 0`: keep them in a Float64Array or a plain array", AFTER_RELEASE = "an id is valid from acquire until its one release: look for a second release or a use after release";
function kindOf2(value) {
  if (value == null) return String(value);
  let type = typeof value;
  return type === "object" ? "an object" : `a ${type}`;
}
function fixForNonNumber(value) {
  if (ArrayBuffer.isView(value)) return "pass the id acquire returned, not its bytes (pool.bytes(id) is a view of the slab)";
  if (typeof value == "string" && isIdShaped(Number(value)) && value.trim() !== "")
    return "pass the number itself (Number(id) if it arrived as a string)";
  if (typeof value == "bigint") return "pass the number acquire returned (Number(id) of a bigint)";
  if (value instanceof SlabLease) return `pass lease.id (${value.id}), or call lease.release() to return the lease`;
  if (typeof value == "object" && value !== null) {
    let own = ownValue(value, "id");
    if (typeof own == "number") return `pass its id property (${own}) if it holds the slab's id`;
  }
  return "pass the number acquire returned";
}
function fixForMisshapen(id) {
  return id === -1 ? "tryAcquire returns -1 when the pool is exhausted: check for it before using the id" : Number.isInteger(id) && id < 0 && id >= -(2 ** 31) ? CUT_TO_32_BITS : "pass the number acquire returned, unchanged";
}
function ownValue(object, key) {
  return Object.getOwnPropertyDescriptor(object, key)?.value;
}

// src/waiters.ts
async function waitForSlab(ctx, size, c, options) {
  if (options === null || typeof options != "object") throw invalidType("options", options, "an object or undefined");
  let { signal, timeoutMs } = options;
  if (signal !== void 0 && !(signal instanceof AbortSignal)) throw invalidType("options.signal", signal, "an AbortSignal");
  if (timeoutMs !== void 0) {
    if (typeof timeoutMs != "number") throw invalidType("options.timeoutMs", timeoutMs, "a number");
    if (!(timeoutMs >= 0)) throw outOfRange("options.timeoutMs", timeoutMs, "a number of milliseconds from 0 to Infinity");
  }
  if (signal?.throwIfAborted(), ctx.isClosed()) throw closedError();
  let id = ctx.take(c);
  if (id !== -1) return id;
  if (ctx.countExhausted(), !ctx.classHasSlabs(c)) throw ctx.exhaustedError(size);
  let { words, layout } = ctx, line = reservedWord(layout, c), sequence = line + 4;
  if (ctx.pending[c] >= MAX_PENDING_PER_CLASS) {
    let error = outOfRange(
      "pending acquireAsync calls for one size class in one thread",
      ctx.pending[c] + 1,
      `at most ${MAX_PENDING_PER_CLASS}; wait for some to settle, or give them a timeoutMs or a signal`
    );
    throw error.code = "ERR_TOO_MANY_WAITERS", error;
  }
  register(ctx, line, c), ctx.requestFlushes(c);
  let requested = performance.now(), owed = !1, busyRetries = 0, deadline = timeoutMs === void 0 ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs, keepAlive = setInterval(() => {
  }, MAX_TIMER_MS);
  try {
    for (; ; ) {
      let seen = Atomics.load(words, sequence);
      if (ctx.isClosed()) throw closedError();
      if (id = ctx.takeReserved(c), id >= 0) return id;
      let busy = id === -2;
      if (id = ctx.take(c), id !== -1) return id;
      let now = performance.now();
      owed && now - requested >= REQUEST_INTERVAL_MS && (ctx.requestFlushes(c), requested = now, owed = !1);
      let remaining = deadline - now;
      if (remaining <= 0) throw new AcquireTimeoutError(size, ctx.slabSize(c), timeoutMs ?? 0);
      let sleep = owed ? Math.min(remaining, REQUEST_INTERVAL_MS - (now - requested)) : remaining;
      busyRetries = busy ? busyRetries + 1 : 0, busy && (sleep = Math.min(sleep, BUSY_RETRY_MS << Math.min(busyRetries - 1, 3)));
      let waited = Atomics.waitAsync(words, sequence, seen, sleep === Number.POSITIVE_INFINITY ? void 0 : sleep);
      waited.async && await (signal === void 0 ? waited.value : untilAbort(waited.value, signal)), signal?.throwIfAborted(), busy || (owed = !0);
    }
  } finally {
    clearInterval(keepAlive), retract(ctx, line, c);
  }
}
var MAX_TIMER_MS = 2 ** 31 - 2, REQUEST_INTERVAL_MS = 50, BUSY_RETRY_MS = 5, MAX_PENDING_PER_CLASS = 65536;
function register(ctx, line, c) {
  if (ctx.pending[c] > 0) {
    ctx.pending[c]++;
    return;
  }
  let { words } = ctx;
  ctx.lockLine(line), STEPS && step("wait.register.locked"), Atomics.or(words, ctx.waitingWord, 1 << c), STEPS && step("wait.register.slot-bit"), words[line + 3]++, STEPS && step("wait.register.counted"), Atomics.or(words, 22, 1 << c), STEPS && step("wait.register.class-bit"), ctx.pending[c] = 1, unlock(words, line);
}
function retract(ctx, line, c) {
  if (ctx.waitsRetracted() || ctx.pending[c] === 0) return;
  if (ctx.pending[c] > 1) {
    ctx.pending[c]--;
    return;
  }
  if (!ctx.tryLockLine(line, RETRACT_LOCK_MS)) {
    setTimeout(() => retract(ctx, line, c), RETRACT_RETRY_MS).unref();
    return;
  }
  let { words } = ctx;
  try {
    if (STEPS && step("wait.retract.locked"), (Atomics.load(words, ctx.waitingWord) & 1 << c) === 0) {
      ctx.pending[c] = 0;
      return;
    }
    Atomics.and(words, ctx.waitingWord, ~(1 << c)), STEPS && step("wait.retract.slot-bit"), ctx.pending[c] = 0, --words[line + 3] === 0 && (STEPS && step("wait.retract.counted"), Atomics.and(words, 22, ~(1 << c)), STEPS && step("wait.retract.class-bit"), ctx.drain(c));
  } finally {
    unlock(words, line);
  }
}
var RETRACT_LOCK_MS = 20, RETRACT_RETRY_MS = 50;
function untilAbort(promise, signal) {
  return new Promise((resolve, reject) => {
    let onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: !0 }), promise.then((value) => {
      signal.removeEventListener("abort", onAbort), resolve(value);
    }, reject);
  });
}

// src/pool.ts
var VIEW_CACHE_SIZE = 4096, VIEW_CACHE_MASK = VIEW_CACHE_SIZE - 1, EMPTY_VIEW = new Uint8Array(0), flushListeners = new FinalizationRegistry(({ signals, slot }) => {
  Atomics.notify(signals, slot), Atomics.notify(signals, 512 + slot);
}), ANSWER_LOCK_MS = 2, ANSWER_RETRY_MS = 50, SlabPool = class _SlabPool extends PoolCore {
  constructor(options, existing) {
    let config = existing === void 0 ? resolveConfig(options) : void 0, leakDetection = config?.leakDetection ?? resolveLeakDetection(options?.leakDetection), lockTimeoutMs = config?.lockTimeoutMs ?? resolveLockTimeout(options?.lockTimeoutMs), prefault = existing === void 0 && resolvePrefault(options?.prefault), buffer = existing?.buffer;
    if (buffer === void 0 && config !== void 0) {
      if (buffer = new SharedArrayBuffer(config.arenaBytes), prefault) {
        let bytes = new Uint8Array(buffer);
        for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 0;
      }
      writeHeader(buffer, config);
    }
    super(buffer);
    /**
     * A direct-mapped cache of views: entry `slab & VIEW_CACHE_MASK` holds the view of the slab whose
     * index is in `viewSlabs` at the same position. Bounded memory, and a lookup is two array reads.
     * (A plain array indexed by slab went into V8's dictionary mode for large indexes: 41 ns instead
     * of 25 ns per acquire + bytes + release, measured with 40 000 slabs carved.)
     */
    this.views = new Array(VIEW_CACHE_SIZE).fill(EMPTY_VIEW);
    this.viewSlabs = new Int32Array(VIEW_CACHE_SIZE).fill(-1);
    /** Set by close() once it withdrew this object's acquireAsync waits (see waiters.ts retract). */
    this.waitsRetracted = !1;
    /** Set when close() has finished; until then another call resumes it (see close). */
    this.closeFinished = !1;
    let signals = existing?.signals;
    if (signals === void 0 && (signals = new SharedArrayBuffer(6144), new Int32Array(signals).fill(5, 1024)), this.signals = new Int32Array(signals), Atomics.store(this.signals, this.slot, 0), this.handle = Object.freeze({ kind: "zeropool", layoutVersion: 6, buffer: this.buffer, signals }), this.flags !== 0) {
      let self = this, plainTake = _SlabPool.prototype.take;
      self.take = (c) => {
        let id = plainTake.call(this, c);
        return id === -1 ? -1 : this.afterAcquire(id, c, this.cacheLength[c]);
      }, self.acquire = (size) => this.acquireSlow(size, !0), self.tryAcquire = (size) => this.acquireSlow(size, !1), self.release = (id) => this.releaseHooked(id);
    }
    this.leaks = new LeakTracker(
      leakDetection,
      (id) => slabOfId(id) < Atomics.load(this.words, 18) && (Atomics.load(this.words, metaWord(this.metaTop, slabOfId(id))) & -2045) === (3 | generationOfId(id) << 11)
    ), this.config = Object.freeze({ ...this.config, leakDetection, lockTimeoutMs }), this.lockTimeoutMs = lockTimeoutMs, this.lifecycle = new Lifecycle({
      words: this.words,
      claims: this.claims,
      signals: this.signals,
      layout: this.layout,
      slot: this.slot,
      counters: this.counters,
      flags: this.flags,
      isClosed: () => this.closed,
      recoveryContext: () => this.recoveryContext(),
      lockWord: (index) => this.lockWord(index),
      drainReserved: (c) => this.drainReserved(c),
      drainIfUnwaited: (c) => this.drainIfUnwaited(c),
      pushToHome: (c, from, count, slabs) => this.pushToHome(c, from, count, slabs),
      strand: (c, slabs) => this.strand(c, slabs),
      afterRelease: (slab, c) => this.afterRelease(slab, c),
      fileStrandedQuickly: (c) => this.fileStrandedQuickly(c)
    }), this.listenForFlushRequests(), this.lifecycle.armLiveness();
  }
  /**
   * Slabs released into a thread's cache stay there until that thread acquires, spills or flushes,
   * so a thread that has gone idle could hold the very slabs an `acquireAsync` elsewhere waits for.
   * A waiter therefore sets its class's bit in every other attached thread's word of the signals
   * buffer and notifies it; each pool object waits on its own word with `Atomics.waitAsync` (which
   * does not keep the event loop alive) and, when woken, puts those classes' cached slabs in the
   * classes' reserved lists, which only waiters take from. A thread whose event loop is blocked
   * (piscina freezes its workers between tasks) cannot answer; `@zeropool/piscina`'s worker
   * helpers flush the worker's cache whenever they release or lend out a slab instead.
   */
  listenForFlushRequests() {
    flushListeners.register(this, { signals: this.signals, slot: this.slot }, this);
    let ref = new WeakRef(this);
    _SlabPool.awaitFlushRequest(ref, this.signals, this.slot);
  }
  static awaitFlushRequest(ref, signals, slot) {
    let answer = () => {
      let pool = ref.deref();
      pool === void 0 || pool.closed || (pool.answerFlushRequests(), _SlabPool.awaitFlushRequest(ref, signals, slot));
    }, waited = Atomics.waitAsync(signals, slot, 0);
    waited.async ? waited.value.then(answer) : queueMicrotask(answer);
  }
  /**
   * Hands this thread's cached slabs of each requested class to the class's waiters. Runs from the
   * event loop, between tasks, so the cache is never half-updated. Lock waits are kept short (a
   * dead thread's lock must not stall this thread's event loop for `lockTimeoutMs`); a class whose
   * reserved lock could not be taken is asked again a little later.
   */
  answerFlushRequests() {
    let classes = Atomics.exchange(this.signals, this.slot, 0), again = 0;
    for (let c = 0; c < this.layout.classCount; c++) {
      if ((classes & 1 << c) === 0) continue;
      let length = this.cacheLength[c], stranded = this.stranded[c];
      if (length === 0 && (stranded === void 0 || stranded.length === 0)) continue;
      let line = reservedWord(this.layout, c);
      if (this.words[line + 3] === 0) continue;
      if (!lockWithin(this.words, line, this.lockOwner, ANSWER_LOCK_MS)) {
        again |= 1 << c;
        continue;
      }
      let gave = !1;
      stranded !== void 0 && stranded.length > 0 && this.reserveIfWaited(line, Int32Array.from(stranded), 0, stranded.length) && (stranded.length = 0, gave = !0), length > 0 && this.reserveIfWaited(line, this.cacheSlabs, c * this.cacheStride, length) && (this.cacheLength[c] = 0, gave = !0), unlock(this.words, line), gave && this.wakeWaiters(c);
    }
    again !== 0 && setTimeout(() => {
      this.closed || (Atomics.or(this.signals, this.slot, again), Atomics.notify(this.signals, this.slot));
    }, ANSWER_RETRY_MS).unref();
  }
  /**
   * Attaches the calling thread to the pool behind `handle`: the same slabs and the same shards,
   * with a cache of its own. Call it once per thread; `close()` when the thread is done.
   * @param handle `pool.handle` of the pool, received from the thread that created it (not the
   *   `SlabPool` object, nor `pool.handle.buffer` alone).
   * @param options only `leakDetection` and `lockTimeoutMs` apply: the arena's other settings are
   *   fixed at creation.
   * @throws {TypeError} `handle` is not a pool handle (the message says to pass `pool.handle` when
   *   it is a `SlabPool` or its arena buffer), or its arena has another layout version, or its
   *   buffer is truncated or not a pool arena; or `options` is neither an object nor undefined
   *   (all `code: 'ERR_INVALID_ARG_TYPE'`); or `options` holds another option than those two
   *   (`code: 'ERR_UNKNOWN_OPTION'`).
   * @throws {RangeError} all `maxThreads` thread slots are taken (`code: 'ERR_POOL_THREADS'`), or
   *   `options.leakDetection` (else `ZEROPOOL_LEAK_DETECTION`) is not a leak detection level, or
   *   `options.lockTimeoutMs` is out of range (`code: 'ERR_OUT_OF_RANGE'`).
   * @example
   * ```ts
   * const pool = SlabPool.attach(workerData.pool);
   * ```
   */
  static attach(handle, options) {
    return checkAttachOptions(options), new _SlabPool(options, checkHandle(handle));
  }
  /**
   * Takes a slab with a capacity of at least `size` bytes and returns its id.
   * @param size bytes needed: an integer from 0 to `maxSlabSize`.
   * @returns the slab's id, `generation * 2^32 + slab index`: a non-negative safe integer, usually
   *   above 2^31 (keep ids in a `Float64Array` or a plain array, never an `Int32Array`; in V8 an id
   *   above 2^31 that leaves optimized code is a heap number). The generation has 21 bits, so once
   *   released, this id is refused for at least the next 2^21 - 1 reuses of its slab.
   * @throws {TypeError} `size` is not a number.
   * @throws {RangeError} `size` is not an integer from 0 to `maxSlabSize`.
   * @throws {PoolExhaustedError} no slab of that class is free and the arena has no room left.
   * @throws {SlabCorruptionError} in debug mode, the slab about to be returned was written after its
   *   release; the slab stays in the pool.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const id = pool.acquire(payload.length); // capacity: payload.length rounded up to a power of two
   * pool.bytes(id).set(payload);
   * worker.postMessage({ id, length: payload.length }); // the worker releases it
   * ```
   */
  acquire(size) {
    let id = this.takeCached(size);
    return id !== -1 ? id : this.acquireSlow(size, !0);
  }
  /**
   * Like {@link SlabPool.acquire}, but returns -1 instead of throwing when the pool is exhausted.
   * An exhausted attempt still counts in `stats().exhausted`.
   * @throws {TypeError} `size` is not a number.
   * @throws {RangeError} `size` is not an integer from 0 to `maxSlabSize`.
   * @throws {SlabCorruptionError} in debug mode, as {@link SlabPool.acquire} does.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const id = pool.tryAcquire(payload.length);
   * if (id === -1) {
   *   worker.postMessage(payload); // the pool is full: send a copy instead
   * } else {
   *   pool.bytes(id).set(payload);
   *   worker.postMessage({ id, length: payload.length });
   * }
   * ```
   */
  tryAcquire(size) {
    let id = this.takeCached(size);
    return id !== -1 ? id : this.acquireSlow(size, !1);
  }
  /**
   * The fast path of `acquire` and `tryAcquire`: for a valid size whose class's cache stack is not
   * empty, pops a slab, leases it and returns its id; -1 for anything else, which the caller's
   * slow path handles. Pools with zeroing or debug on never reach it (their constructor shadows
   * `acquire` and `tryAcquire`). Its bytecode counts against V8's inlining budget of every loop
   * that calls `acquire`, so it holds nothing that a cache hit does not need.
   */
  takeCached(size) {
    if (typeof size != "number" || size >>> 0 !== size || size > this.maxSlabSize) return -1;
    let c = size <= 1 << this.minShift ? 0 : 32 - Math.clz32(size - 1) - this.minShift, length = this.cacheLength[c] - 1;
    if (length < 0) return -1;
    this.cacheLength[c] = length, STEPS && step("take.popped");
    let slab = this.cacheSlabs[c * this.cacheStride + length], meta = this.metaTop - 3 * (slab + 1), cached = this.words[meta];
    return this.words[meta] = this.leasedBits | cached & -2048, ((cached & -2048) >>> 0) * 2097152 + slab;
  }
  /**
   * Everything of `acquire` (`throwing`) and `tryAcquire` but the cache hit: checks the size,
   * refills the cache, counts and reports exhaustion.
   */
  acquireSlow(size, throwing) {
    if (typeof size != "number" || size >>> 0 !== size || size > this.maxSlabSize) throw this.sizeError(size);
    let id = this.take(this.classOf(size));
    if (id !== -1) return id;
    if (this.counters[7]++, throwing) throw this.exhaustedError(size);
    return -1;
  }
  /**
   * Pops a slab of class `c` from the cache (refilling it if empty), leases it and returns its id;
   * -1 if none.
   * Pools with zeroing or debug on get `take`, `acquire`, `tryAcquire` and `release` shadowed by
   * hooked versions in the constructor, so the plain path tests no flag: a flag test here and in `release` measured 5 ns
   * of 30, and splitting the bodies into shared helpers blew V8's inlining budget (also ~5 ns).
   */
  take(c) {
    let length = this.cacheLength[c];
    if (length === 0) {
      if (length = this.refill(c), length === 0) return -1;
      this.counters[0]++;
    }
    length--, this.cacheLength[c] = length, STEPS && step("take.popped");
    let slab = this.cacheSlabs[c * this.cacheStride + length], meta = this.metaTop - 3 * (slab + 1), cached = this.words[meta];
    return this.words[meta] = this.leasedBits | cached & -2048, (cached >>> 11) * 4294967296 + slab;
  }
  /**
   * Returns a slab to the pool. Any thread may release any slab.
   * @param id an id from `acquire`, `tryAcquire`, `acquireAsync` or `get`: a safe integer (up to
   *   2^53 - 1; most ids are above 2^31, so store them in a `Float64Array` or a plain array, not
   *   an `Int32Array`). Once released, the id stays refused for at least the next 2^21 - 1 reuses
   *   of its slab.
   * @throws {SlabStateError} `id` is not currently acquired from this pool (a second or stale
   *   release, an id never handed out, from another pool, or not an id); the pool is unchanged.
   * @example
   * ```ts
   * const id = pool.acquire(256);
   * pool.bytes(id).fill(1);
   * pool.release(id); // from here on `id` is stale: using or releasing it again throws SlabStateError
   * ```
   */
  release(id) {
    if (typeof id == "number") {
      let slab = id >>> 0, generation = id / 4294967296 & 2097151, meta = this.metaTop - 3 * (slab + 1), leased = this.leasedBits | generation << 11;
      if ((id - slab) / 4294967296 === generation && slab < this.knownSlabs && Atomics.compareExchange(this.words, meta, leased, leased + 2047 | 0) === leased) {
        STEPS && step("release.exchanged");
        let c = this.words[meta + 2] & 31, length = this.cacheLength[c];
        this.counters[1]++, length < this.cacheCapacity[c] && this.words[22] === 0 ? (STEPS && step("release.room"), this.cacheSlabs[c * this.cacheStride + length] = slab, this.cacheLength[c] = length + 1) : this.releaseShared(slab, c);
        return;
      }
    }
    this.releaseSlow(id);
  }
  /**
   * Every release the fast path in `release` did not finish, from the start: checks the id, and
   * releases a slab whichever thread holds it.
   */
  releaseSlow(id) {
    typeof id != "number" && this.checkIdSlow(id);
    let slab = id >>> 0, generation = id / 4294967296 & 2097151;
    (generation * 4294967296 + slab !== id || slab >= this.knownSlabs) && this.checkIdSlow(id);
    let meta = this.metaTop - 3 * (slab + 1), leased = this.leasedBits | generation << 11, next = generation + 1 & 2097151, seen = Atomics.compareExchange(this.words, meta, leased, this.cachedBits | next << 11);
    if (seen !== leased && !this.releaseForHolder(meta, seen, generation, next)) throw this.badIdError(id);
    STEPS && step("release.exchanged");
    let c = this.words[meta + 2] & 31;
    this.counters[1]++, this.releaseShared(slab, c);
  }
  /**
   * The end of a release whose exchange made `slab` cached by this thread, when waiters may exist
   * or the cache stack may be full.
   */
  releaseShared(slab, c) {
    if (this.words[22] !== 0 && this.offerToWaiters(c, slab)) return;
    this.cacheLength[c] >= this.cacheCapacity[c] && this.spill(c), STEPS && step("release.room");
    let length = this.cacheLength[c];
    this.cacheSlabs[c * this.cacheStride + length] = slab, this.cacheLength[c] = length + 1;
  }
  /**
   * `release` for pools with zeroing or debug on: the same exchange, then `finishRelease`, which
   * zeroes or poisons the slab after the exchange makes it ours and before anyone else can take it.
   */
  releaseHooked(id) {
    typeof id != "number" && this.checkIdSlow(id);
    let slab = id >>> 0, generation = id / 4294967296 & 2097151;
    (generation * 4294967296 + slab !== id || slab >= this.knownSlabs) && this.checkIdSlow(id);
    let meta = this.metaTop - 3 * (slab + 1), leased = this.leasedBits | generation << 11, next = generation + 1 & 2097151, seen = Atomics.compareExchange(this.words, meta, leased, this.cachedBits | next << 11);
    if (seen !== leased && !this.releaseForHolder(meta, seen, generation, next)) throw this.badIdError(id);
    STEPS && step("release.exchanged"), this.finishRelease(slab, meta);
  }
  /**
   * The second exchange of a release of a slab that another thread holds (it adopted it, or its
   * pool object closed): while the word says leased at this generation, whoever the holder, move
   * it to cached by this thread at the next. False if it says anything else (a stale or repeated id).
   */
  releaseForHolder(meta, seen, generation, next) {
    let leasedAt = 3 | generation << 11;
    for (; (seen & -2045) === leasedAt; ) {
      let now = Atomics.compareExchange(this.words, meta, seen, this.cachedBits | next << 11);
      if (now === seen) return !0;
      seen = now;
    }
    return !1;
  }
  /** What a release does once its exchange made the slab this thread's (all but the hottest path). */
  finishRelease(slab, meta) {
    let c = this.words[meta + 2] & 31;
    if (this.counters[1]++, this.afterRelease(slab, c), STEPS && step("release.cleaned"), this.words[22] !== 0 && this.offerToWaiters(c, slab)) return;
    this.cacheLength[c] >= this.cacheCapacity[c] && this.spill(c), STEPS && step("release.room");
    let length = this.cacheLength[c];
    this.cacheSlabs[c * this.cacheStride + length] = slab, this.cacheLength[c] = length + 1;
  }
  /**
   * A `Uint8Array` over the whole slab (its capacity, which may exceed the size asked for). Views
   * are cached per thread, so repeated calls usually return the same object. The view stays usable
   * after a release (it cannot be revoked), so do not keep it past the release.
   * @throws {SlabStateError} `id` is not currently acquired from this pool.
   * @example
   * ```ts
   * declare const message: { id: number; length: number }; // received from another thread
   * const view = pool.bytes(message.id).subarray(0, message.length); // the bytes the sender wrote
   * ```
   */
  bytes(id) {
    if (typeof id == "number") {
      let slab = id >>> 0, generation = id / 4294967296 & 2097151, entry = slab & VIEW_CACHE_MASK;
      if ((id - slab) / 4294967296 === generation && slab < this.knownSlabs && (this.words[this.metaTop - 3 * (slab + 1)] & -2045) === (3 | generation << 11) && this.viewSlabs[entry] === slab)
        return this.views[entry];
    }
    return this.bytesSlow(id);
  }
  /** `bytes` for an id its fast path did not take: checks it (throwing SlabStateError) and makes the view if needed. */
  bytesSlow(id) {
    let slab = this.checkLeased(id), entry = slab & VIEW_CACHE_MASK;
    return this.viewSlabs[entry] === slab ? this.views[entry] : this.makeView(slab);
  }
  /**
   * The capacity of the slab `id` in bytes: its size class, a power of two at least the size asked for.
   * @throws {SlabStateError} `id` is not currently acquired from this pool.
   * @example
   * ```ts
   * const id = pool.acquire(1000);
   * pool.capacity(id); // 1024, and pool.bytes(id).length is the same
   * ```
   */
  capacity(id) {
    let slab = this.checkLeased(id);
    return 1 << this.minShift + (this.words[metaWord(this.metaTop, slab) + 2] & 31);
  }
  /**
   * Acquires a slab as a lease whose `bytes` are exactly `size` long. Release it with
   * `lease.release()`, or declare it with `using` to release it at the end of the scope. When
   * `size` is the slab's capacity (a power of two from `minSlabSize` up), `lease.bytes` is the
   * very view `pool.bytes(lease.id)` returns; otherwise it is a new view of the first `size` bytes.
   * @throws like {@link SlabPool.acquire}.
   * @example
   * ```ts
   * using lease = pool.get(1024);
   * lease.bytes.set(payload);
   * ```
   */
  get(size) {
    let id = this.acquire(size), slab = slabOfId(id), entry = slab & VIEW_CACHE_MASK, view = this.viewSlabs[entry] === slab ? this.views[entry] : this.makeView(slab), lease = new SlabLease(this, id, size === view.length ? view : view.subarray(0, size), this.leaks);
    return this.leaks.track(lease, id, size), lease;
  }
  /**
   * Like {@link SlabPool.acquire}, but when the class is exhausted, waits until a slab of the
   * class is released anywhere in the process (woken by `Atomics.waitAsync`, no polling). Released
   * slabs go to waiters before anyone else, so a waiter does not starve while others keep taking.
   * @throws {TypeError | RangeError} (as a rejection) `size` or an option is invalid.
   * @throws {AcquireTimeoutError} (as a rejection) `timeoutMs` passed first.
   * @throws {PoolExhaustedError} (as a rejection) no slab of the class exists and the arena has no
   *   room to carve one, so none could ever be released.
   * @throws the signal's `reason` (as a rejection) when `signal` aborts first.
   * @throws {SlabCorruptionError} (as a rejection) in debug mode, as {@link SlabPool.acquire} does,
   *   when the slab comes from the cache or the shards (at once, or after a wake-up). A slab that
   *   reaches the waiter through the class's reserved list (released while it waits) is already
   *   the waiter's when it is checked: a broken poison pattern is reported as a `ZeropoolWarning`
   *   instead, and the promise resolves.
   * @throws {LockTimeoutError} (as a rejection) the class's reserved lock is held by a thread that
   *   died (not reclaimed yet) when the call starts, so it cannot register, after `lockTimeoutMs`.
   * @throws {RangeError} (as a rejection) this pool object already has 65,536 calls pending on the
   *   size class (`code: 'ERR_TOO_MANY_WAITERS'`); let some settle, or give them a `timeoutMs`.
   * @throws {Error} (as a rejection) this pool object is or gets closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const id = await pool.acquireAsync(65536, { timeoutMs: 1000 });
   * ```
   */
  async acquireAsync(size, options = {}) {
    if (typeof size != "number" || size >>> 0 !== size || size > this.maxSlabSize) throw this.sizeError(size);
    return waitForSlab(this.waitContext(), size, this.classOf(size), options);
  }
  /**
   * Records the calling thread as the holder of `id`, for crash recovery: call it in a thread that
   * receives an id from a thread that may die, so `reclaim` of the sender leaves the slab alone.
   * @throws {SlabStateError} `id` is not currently acquired (for example, its sender died and the
   *   slab was reclaimed before this call).
   * @example
   * ```ts
   * import { parentPort } from 'node:worker_threads';
   * const pool = SlabPool.attach(workerData.pool);
   * parentPort?.on('message', ({ id, length }: { id: number; length: number }) => {
   *   pool.adopt(id); // from now on, the slab is this thread's if the sender dies
   *   const sum = pool.bytes(id).subarray(0, length).reduce((a, b) => a + b, 0);
   *   pool.release(id);
   *   parentPort?.postMessage(sum);
   * });
   * ```
   */
  adopt(id) {
    let seen = this.leasedWord(id), meta = metaWord(this.metaTop, slabOfId(id)), generation = generationOfId(id), mine = this.leasedBits | generation << 11;
    for (; (seen & -2045) === (3 | generation << 11); ) {
      if (seen === mine) return;
      STEPS && step("adopt.read");
      let now = Atomics.compareExchange(this.words, meta, seen, mine);
      if (now === seen) return;
      seen = now;
    }
    throw this.badIdError(id);
  }
  /**
   * Releases `id` only if this thread (this pool object) is still its recorded holder, and says
   * whether it did. Unlike `holderOf(id) === threadId` followed by `release(id)`, it cannot race
   * with an `adopt` in another thread: holder and generation share one word, and the release is a
   * compare-exchange that expects this thread as holder, so either the adopt wins (the slab is the
   * adopter's; this returns false) or the adopt finds the slab released and throws
   * `SlabStateError`. For a sender taking back an id it handed to a
   * thread that may or may not have adopted it, such as a task that failed or was aborted.
   * @returns true if this call released the slab; false if another thread holds it (it adopted
   *   the id), its holder's pool object closed (the lease then names nobody; `release` still
   *   works), or the id is no longer acquired (released, reclaimed, or stale).
   * @throws {SlabStateError} `id` is not an id of this pool at all (not an integer from 0 to
   *   2^53 - 1, or past the slabs carved), or this pool object was closed; nothing changes.
   * @example
   * ```ts
   * const id = pool.acquire(4096);
   * worker.postMessage({ id }); // the worker adopts it, or may die first
   * worker.once('error', () => pool.releaseIfHeld(id)); // ours again only if the worker never adopted it
   * ```
   */
  releaseIfHeld(id) {
    typeof id != "number" && this.checkIdSlow(id);
    let slab = id >>> 0, generation = id / 4294967296 & 2097151;
    (generation * 4294967296 + slab !== id || slab >= this.knownSlabs) && this.checkIdSlow(id);
    let meta = metaWord(this.metaTop, slab), next = generation + 1 & 2097151, leased = this.leasedBits | generation << 11;
    return Atomics.compareExchange(this.words, meta, leased, this.cachedBits | next << 11) !== leased ? !1 : (this.finishRelease(slab, meta), !0);
  }
  /**
   * The `threadId` of the thread recorded as holding `id`: the one that acquired it, or the last to
   * `adopt` it; -1 if none is recorded (its thread closed its pool object). A sender can use it to
   * tell whether a receiver that died had adopted an id it sent.
   * @throws {SlabStateError} `id` is not currently acquired.
   * @example
   * ```ts
   * import { threadId } from 'node:worker_threads';
   * declare const id: number; // sent to a worker whose task then failed
   * // Who has it now? (To take it back only if the worker never adopted it: releaseIfHeld.)
   * console.log(pool.holderOf(id) === threadId ? 'still ours' : 'the worker adopted it');
   * ```
   */
  holderOf(id) {
    let holder = ownerOf(this.leasedWord(id));
    return holder === 511 ? -1 : this.threadOfSlot(holder);
  }
  /**
   * Hands every slab in this thread's cache back to the shards, so other threads can take them.
   * Leased slabs are not affected. Call it in a thread about to go idle.
   * @throws {LockTimeoutError} a shard lock stayed held for `lockTimeoutMs` (its holder died and was
   *   not reclaimed); the slabs not yet handed back stay in this thread's cache.
   * @example
   * ```ts
   * declare const ids: number[]; // a batch this thread is done with
   * for (const id of ids) pool.release(id);
   * pool.flush(); // the released slabs leave this thread's cache for the shared shards
   * ```
   */
  flush() {
    for (let c = 0; c < this.layout.classCount; c++) {
      this.fileStranded(c);
      let length = this.cacheLength[c];
      length !== 0 && (this.pushToHome(c, c * this.cacheStride, length, this.cacheSlabs), this.cacheLength[c] = 0);
    }
  }
  /**
   * Returns every slab that the exited thread `threadId` held (in its cache or leased, unless
   * another thread adopted it), takes over the locks it held and rebuilds the shards they guarded,
   * and frees its thread slots. Call it from the thread that sees the worker's `'exit'` event, or
   * let {@link SlabPool.watch} do so. Calling it again for the same thread does nothing.
   * @throws {ReclaimLiveThreadError} `threadId` is the calling thread, a worker this pool object
   *   watches that has not exited, or a thread whose attached pool object answers a liveness check
   *   (each pool object keeps waits pending that only a running thread can have), or one checked
   *   so often while busy that it cannot be told from an exited one, or one that has been closing
   *   a pool object for 200 ms (a thread stopped inside `close()` has ended its liveness waits:
   *   reclaim it from its `'exit'` event with `watch`, which needs no check). Nothing changes.
   *   A reclaim that thread was running when it stopped is finished by this one.
   * @throws {TypeError} `threadId` is not a number.
   * @throws {RangeError} `threadId` is not a non-negative safe integer.
   * @throws {Error} this pool object was closed (`code: 'ERR_POOL_CLOSED'`).
   * @example
   * ```ts
   * const { threadId } = worker; // read it now: a Worker reports -1 once it has exited
   * worker.on('exit', () => {
   *   const report = pool.reclaim(threadId);
   *   console.log(`thread ${threadId} left ${report.leased} leased and ${report.cached} cached slabs`);
   * });
   * ```
   */
  reclaim(threadId2) {
    if (typeof threadId2 != "number") throw invalidType("threadId", threadId2, "a number");
    if (!Number.isSafeInteger(threadId2) || threadId2 < 0) throw outOfRange("threadId", threadId2, "a non-negative integer");
    if (threadId2 === currentThreadId2) throw new ReclaimLiveThreadError(threadId2, "it is the calling thread");
    if (this.lifecycle.watchesRunning(threadId2))
      throw new ReclaimLiveThreadError(threadId2, "it is a watched worker that has not exited");
    if (this.closed) throw closedError();
    return this.lifecycle.reclaimThread(threadId2, "checked");
  }
  /**
   * Calls {@link SlabPool.reclaim} for `worker` when it exits, however it exits. For plain
   * `worker_threads` users; `@zeropool/piscina` does the same for piscina's workers. The `'exit'`
   * event alone is not trusted: if a pool object of that thread still answers a liveness check
   * (some runtimes emit `'exit'` before the thread has stopped), the reclaim waits, looking again
   * every few milliseconds, until it has stopped; a check that cannot tell defers to the event.
   * @param onReclaim receives what was returned; an error from reclaiming, or thrown by this
   *   callback, is emitted as a `ZeropoolWarning` saying which.
   * @returns a function that stops this watch (the worker stays protected from `reclaim` while
   *   another watch of it remains; every watch gets a report on exit, the first one the slabs).
   * @throws {TypeError} `worker` is not a running `Worker`, or `onReclaim` is neither a function
   *   nor undefined.
   * @example
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { pool: pool.handle } });
   * pool.watch(worker, (report) => console.log(`worker ${report.threadId} died holding ${report.leased} slabs`));
   * ```
   */
  watch(worker, onReclaim) {
    return this.lifecycle.watch(worker, onReclaim);
  }
  /**
   * Leases taken with `get()` on this pool object that leak detection recorded and that are not
   * released yet, with the stacks where they were taken. Empty when `leakDetection` is `'off'`.
   * @example
   * ```ts
   * const pool = new SlabPool({ leakDetection: 'full' });
   * const lease = pool.get(512);
   * for (const { id, size, stack } of pool.outstandingLeases()) {
   *   console.log(`slab ${id} (${size} bytes) taken at\n${stack}`);
   * }
   * lease.release();
   * ```
   */
  outstandingLeases() {
    return this.leaks.outstanding();
  }
  /**
   * A snapshot of the pool across all threads. It walks every slab's state word, so it costs time
   * proportional to the number of slabs; while other threads work, the counts are a moment's view.
   * @example
   * ```ts
   * const { usedBytes, arenaBytes, classes } = pool.stats();
   * const leased = classes.reduce((n, c) => n + c.leased, 0);
   * console.log(`${usedBytes} of ${arenaBytes} arena bytes in use; ${leased} slabs leased`);
   * ```
   */
  stats() {
    return collectStats(this.words, this.floats, this.layout, this.config);
  }
  /**
   * Checks the shared free lists against the slab state words (each listed slab free and listed
   * once, every free slab listed, counts right) and the page count against the slabs carved, and
   * returns the problems found; an empty array means consistent. Meant for tests and debugging: it
   * takes every shard lock and the arena lock in turn, and reports a lock it cannot take within a
   * second (usually one a dead thread left held, not yet reclaimed) instead of waiting for it.
   * @example
   * ```ts
   * const problems = pool.audit();
   * if (problems.length > 0) throw new Error(`pool inconsistent:\n${problems.join('\n')}`);
   * ```
   */
  audit() {
    return auditArena(this.words, this.layout, this.lockOwner);
  }
  /**
   * Flushes this thread's cache and gives up its thread slot. Slabs this thread still leases stay
   * leased and may be released by any thread, but no longer name this thread, so `reclaim` leaves
   * them alone. Later calls on this object that acquire, release, adopt, look up an id or reclaim
   * throw, and its pending `acquireAsync` calls reject; `stats`, `audit`, `flush` and `close` still
   * work.
   * @throws {LockTimeoutError} a lock stayed held for `lockTimeoutMs` by a thread that died and was
   *   not reclaimed. If it was a shard lock the flush needed, the object stays open with the slabs
   *   it could not hand back; if it was a later one, the object is closed (its pending
   *   `acquireAsync` calls reject) but keeps its slot. Either way, call `close()` again once the
   *   dead thread is reclaimed: it finishes what is left.
   * @example
   * ```ts
   * const pool = SlabPool.attach(workerData.pool);
   * // ... the worker's work ...
   * pool.close(); // cached slabs go back to the shards; the thread slot is free for another thread
   * ```
   */
  close() {
    this.closeFinished || (this.closed || (this.flush(), this.cache.disable(), this.closed = !0, this.knownSlabs = 0, disownLeases(this.words, this.layout, this.slot)), this.finishClose());
  }
  /** close() once this object is closed: withdraw waits, fold counters, give up the slot. */
  finishClose() {
    if (!this.waitsRetracted) {
      let waiting = Atomics.load(this.words, threadWord(this.layout, this.slot) + 2);
      try {
        retractWaits(
          this.recoveryContext(),
          this.slot,
          (line) => this.lockWord(line),
          (c) => this.drainReserved(c)
        ), this.waitsRetracted = !0, STEPS && step("close.waits");
      } finally {
        for (let c = 0; c < this.layout.classCount; c++) (waiting & 1 << c) !== 0 && this.wakeWaiters(c);
      }
    }
    this.closeFinished = !0, flushListeners.unregister(this), Atomics.notify(this.signals, this.slot), this.lifecycle.giveUpSlot();
  }
  /**
   * The slow half of the id checks: `knownSlabs` is this thread's last look at the shared slab
   * count (it only grows), so an index past it may be a slab carved since. Re-reads the count, and
   * throws unless the id is a well-formed index below it on an open pool object.
   */
  checkIdSlow(id) {
    if (this.closed || (this.knownSlabs = Atomics.load(this.words, 18)), this.closed || !isIdShaped(id) || slabOfId(id) >= this.knownSlabs)
      throw this.badIdError(id);
  }
  /**
   * The state word of the slab `id` names, read once with `Atomics.load`, after checking that it
   * says leased at the id's generation (whoever the holder); throws SlabStateError otherwise.
   */
  leasedWord(id) {
    typeof id != "number" && this.checkIdSlow(id);
    let slab = id >>> 0, generation = id / 4294967296 & 2097151;
    (generation * 4294967296 + slab !== id || slab >= this.knownSlabs) && this.checkIdSlow(id);
    let state = Atomics.load(this.words, metaWord(this.metaTop, slab));
    if ((state & -2045) !== (3 | generation << 11)) throw this.badIdError(id);
    return state;
  }
  checkLeased(id) {
    typeof id != "number" && this.checkIdSlow(id);
    let slab = id >>> 0, generation = id / 4294967296 & 2097151;
    if ((generation * 4294967296 + slab !== id || slab >= this.knownSlabs) && this.checkIdSlow(id), (this.words[this.metaTop - 3 * (slab + 1)] & -2045) !== (3 | generation << 11))
      throw this.badIdError(id);
    return slab;
  }
  makeView(slab) {
    let word = this.words[metaWord(this.metaTop, slab) + 2], offset = slabOffset(word), view = new Uint8Array(this.buffer, offset, 1 << this.minShift + (word & 31));
    return this.views[slab & VIEW_CACHE_MASK] = view, this.viewSlabs[slab & VIEW_CACHE_MASK] = slab, view;
  }
  /** Debug check and zeroing for a slab just leased from the cache (only when a flag is set). */
  afterAcquire(id, c, position) {
    let slab = slabOfId(id), word = this.words[metaWord(this.metaTop, slab) + 2], offset = slabOffset(word), capacity = 1 << this.minShift + c;
    if (this.flags & 4) {
      let bad = findUnpoisoned(this.buffer, offset, capacity);
      if (bad !== -1)
        throw fillSlab(this.buffer, offset, capacity, !0), this.words[metaWord(this.metaTop, slab)] = this.cachedBits | generationOfId(id) << 11, this.cacheSlabs[c * this.cacheStride + position] = slab, this.cacheLength[c] = position + 1, new SlabCorruptionError(slabId(slab, generationOfId(id) - 1 & 2097151), bad, capacity);
    }
    return this.flags & 2 && fillSlab(this.buffer, offset, capacity, !1), id;
  }
  /** Poisons (debug) or zeroes (`zeroOnRelease`) a slab just released. */
  afterRelease(slab, c) {
    if ((this.flags & 5) === 0) return;
    let word = this.words[metaWord(this.metaTop, slab) + 2];
    fillSlab(this.buffer, slabOffset(word), 1 << this.minShift + c, (this.flags & 4) !== 0);
  }
  /** Moves every slab of class `c`'s reserved list to the home shard. The caller holds its lock. */
  drainReserved(c) {
    let line = reservedWord(this.layout, c), count = this.words[line + 2];
    if (count === 0) return;
    let slabs = new Int32Array(count), got = popToCache(this.words, this.metaTop, line, count, this.slot, slabs, 0);
    try {
      this.pushToHome(c, 0, got, slabs);
    } catch (error) {
      this.pushToReserved(line, slabs, 0, got), process.emitWarning(
        `zeropool: returning reserved slabs to the shards failed: ${error.message}`,
        "ZeropoolWarning"
      ), setTimeout(() => this.drainIfUnwaited(c), ANSWER_RETRY_MS).unref();
    }
  }
  /** Drains class `c`'s reserved list if no thread waits on the class (under its lock). */
  drainIfUnwaited(c) {
    if (this.closed) return;
    let line = reservedWord(this.layout, c);
    if (!(this.words[line + 2] === 0 || this.words[line + 3] !== 0)) {
      if (!lockWithin(this.words, line, this.lockOwner, 20)) {
        setTimeout(() => this.drainIfUnwaited(c), ANSWER_RETRY_MS).unref();
        return;
      }
      try {
        this.words[line + 3] === 0 && this.drainReserved(c);
      } finally {
        unlock(this.words, line);
      }
    }
  }
  recoveryContext() {
    return {
      words: this.words,
      layout: this.layout,
      lockOwner: this.lockOwner,
      cachedBits: this.cachedBits
    };
  }
  waitContext() {
    return this.waits !== void 0 ? this.waits : (this.waits = {
      words: this.words,
      layout: this.layout,
      pending: new Array(this.layout.classCount).fill(0),
      waitingWord: threadWord(this.layout, this.slot) + 2,
      isClosed: () => this.closed,
      waitsRetracted: () => this.waitsRetracted,
      take: (c) => this.take(c),
      takeReserved: (c) => {
        let slab = this.takeReserved(c);
        if (slab < 0) return slab;
        let meta = metaWord(this.metaTop, slab), cached = this.words[meta];
        this.words[meta] = this.leasedBits | cached & -2048, this.counters[0]++;
        let id = slabId(slab, cached >>> 11);
        return this.flags !== 0 ? this.afterReserved(id) : id;
      },
      lockLine: (line) => this.lockWord(line),
      tryLockLine: (line, ms) => lockWithin(this.words, line, this.lockOwner, ms),
      drain: (c) => this.drainReserved(c),
      countExhausted: () => this.counters[7]++,
      classHasSlabs: (c) => {
        let pages = Atomics.load(this.words, 17);
        for (let page = 0; page < pages; page++) if (this.words[pageClassWord(this.layout, page)] === c) return !0;
        return !1;
      },
      exhaustedError: (size) => this.exhaustedError(size),
      slabSize: (c) => 1 << this.minShift + c,
      requestFlushes: (c) => {
        for (let slot = 0; slot < this.layout.maxThreads; slot++)
          slot === this.slot || !slotOpen(this.claims, this.layout, slot) || (Atomics.or(this.signals, slot, 1 << c), Atomics.notify(this.signals, slot));
      }
    }, this.waits);
  }
  /**
   * Debug check and zeroing for a slab taken from a reserved list. The waiter already owns it, so
   * a broken poison pattern is reported as a warning rather than thrown.
   */
  afterReserved(id) {
    let slab = slabOfId(id), word = this.words[metaWord(this.metaTop, slab) + 2], offset = slabOffset(word), capacity = 1 << this.minShift + (word & 31);
    if (this.flags & 4) {
      let bad = findUnpoisoned(this.buffer, offset, capacity), releasedId = slabId(slab, generationOfId(id) - 1 & 2097151);
      bad !== -1 && process.emitWarning(new SlabCorruptionError(releasedId, bad, capacity).message, "ZeropoolWarning");
    }
    return this.flags & 2 && fillSlab(this.buffer, offset, capacity, !1), id;
  }
  sizeError(size) {
    if (typeof size != "number") {
      let fix = ArrayBuffer.isView(size) ? `pass the number of bytes needed, such as its byteLength (${size.byteLength})` : void 0;
      return invalidType("size", size, "a number", fix);
    }
    return outOfRange("size", size, `an integer from 0 to ${this.maxSlabSize} (maxSlabSize)`, this.sizeFix(size));
  }
  /** How to get a slab of `size` bytes when the pool's largest class is smaller; nothing for other sizes. */
  sizeFix(size) {
    return !Number.isInteger(size) || size <= this.maxSlabSize ? void 0 : size > 1073741824 ? `no pool has slabs over ${1073741824} bytes (1 GiB); split the data into slabs of at most ${this.maxSlabSize} bytes` : `create the pool with a larger maxSlabSize (new SlabPool({ maxSlabSize: ${2 ** Math.ceil(Math.log2(size))} }) or more, up to ${1073741824}), or split the data into slabs of at most ${this.maxSlabSize} bytes`;
  }
  exhaustedError(size) {
    return new PoolExhaustedError(
      size,
      1 << this.minShift + this.classOf(size),
      usedBytesOf(this.words, this.layout),
      this.layout.arenaBytes
    );
  }
  badIdError(id) {
    return new SlabStateError(id, this.closed ? "this SlabPool object was closed" : describeBadId(id, this.words, this.layout));
  }
};
export {
  AcquireTimeoutError,
  DEBUG_ENV,
  LEAK_DETECTION_ENV,
  LockTimeoutError,
  PARALLELISM_ENV,
  PoolExhaustedError,
  ReclaimLiveThreadError,
  SlabCorruptionError,
  SlabPool,
  SlabStateError,
  defaultsFor,
  detectParallelism,
  resolveConfig
};
