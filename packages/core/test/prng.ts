/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed (bench/ and the conformance program use the same one). */
export { mulberry32 as prng } from '../../../bench/lib/prng.mjs';
