// The mix of sizes of each phase of the shifting-sizes workload: one to three sizes from 64 B to
// 1 MiB, some exact powers of two and some in between. The tests use the same function.
import { mulberry32 } from './prng.mjs';

export function phaseMix(seed, phase) {
  const random = mulberry32((seed + Math.imul(phase, 0x27d4eb2d)) >>> 0);
  const kinds = 1 + Math.floor(random() * 3);
  return Array.from({ length: kinds }, () => {
    const size = 2 ** (6 + Math.floor(random() * 15)); // 64 B to 1 MiB
    return random() < 0.5 ? size : Math.max(1, Math.floor(size * (0.5 + random() / 2)));
  });
}
