/** mulberry32: a seeded PRNG returning floats in [0, 1); the same seed gives the same sequence everywhere. */
export function mulberry32(seed: number): () => number;
