/** The sizes of each phase of the shifting-sizes workload: the benchmark's own function (bench/pages.bench.mjs runs the same phases). */
export { phaseMix } from '../../../bench/lib/phases.mjs';
