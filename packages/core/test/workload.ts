// The mix of sizes of each phase of the shifting-sizes workload (test and bench alike): one to
// three sizes from 64 B to 1 MiB, some exact powers of two and some in between.
import { prng } from './prng.js';

export function phaseMix(seed: number, phase: number): number[] {
  const random = prng((seed + phase * 0x27d4eb2d) >>> 0);
  const kinds = 1 + Math.floor(random() * 3);
  return Array.from({ length: kinds }, () => {
    const shift = 6 + Math.floor(random() * 15); // 64 B to 1 MiB
    const size = 2 ** shift;
    return random() < 0.5 ? size : Math.max(1, Math.floor(size * (0.5 + random() / 2)));
  });
}
