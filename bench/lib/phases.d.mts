/** The sizes of phase `phase` of the shifting-sizes workload seeded with `seed`: one to three, from 64 B to 1 MiB. */
export function phaseMix(seed: number, phase: number): number[];
