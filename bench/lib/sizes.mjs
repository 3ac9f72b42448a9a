// Request-size distributions shared by the main thread and workers (same seed, same sizes).
import { mulberry32 } from './prng.mjs';

/** `count` sizes, log-uniform from `min` to `max` bytes (xmalloc-test's and larson's small objects). */
export function logUniformSizes(seed, count, min, max) {
  const random = mulberry32(seed);
  const low = Math.log2(min);
  const span = Math.log2(max) - low;
  return Int32Array.from({ length: count }, () => Math.min(max, Math.max(min, Math.round(2 ** (low + random() * span)))));
}

/**
 * mimalloc-bench's alloc-test skews towards small blocks with a long tail. Here: 60% from 8 to
 * 128 B, 25% to 2 KiB, 12% to 32 KiB, 3% to 1 MiB; uniform within each band.
 */
export const SKEWED_BANDS = [
  { share: 0.6, min: 8, max: 128 },
  { share: 0.25, min: 129, max: 2048 },
  { share: 0.12, min: 2049, max: 32 * 1024 },
  { share: 0.03, min: 32 * 1024 + 1, max: 1024 * 1024 },
];

export function skewedSizes(seed, count) {
  const random = mulberry32(seed);
  return Int32Array.from({ length: count }, () => {
    let pick = random();
    for (const band of SKEWED_BANDS) {
      if (pick < band.share) return band.min + Math.floor(random() * (band.max - band.min + 1));
      pick -= band.share;
    }
    const band = SKEWED_BANDS[SKEWED_BANDS.length - 1];
    return band.min + Math.floor(random() * (band.max - band.min + 1));
  });
}

/** The slab a pool hands out for `size`: a power of two, at least `minSlabSize`. */
export const slabSizeFor = (size, minSlabSize = 64) => Math.max(minSlabSize, 2 ** Math.ceil(Math.log2(Math.max(1, size))));
