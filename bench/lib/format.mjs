// How bench/ writes numbers, in the programs' output, in results files, in RESULTS.md and in the
// goals table alike: one rule a unit, so a figure reads the same wherever it is quoted.

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** `x` rounded to `digits` decimals as a number (null if not finite), for results files and goals. */
export const round = (x, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** Three significant digits or so: `8.25 ns`, `24.8 ns`, `1.12 µs`, `22.8 µs`, `3.40 ms`, `1.20 s`. */
export function fmtNs(ns) {
  if (!Number.isFinite(ns)) return 'n/a';
  if (ns < 0) return `-${fmtNs(-ns)}`;
  if (ns < 1e3) return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** `12.34 M/s`, `436 k/s`, `12 /s`. */
export function fmtRate(perSecond) {
  if (!Number.isFinite(perSecond)) return 'n/a';
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(0)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}

/** `64 B`, `4 KiB`, `1 MiB`; sizes that are not whole KiB or MiB in bytes. */
export function fmtBytes(bytes) {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** Garbage per iteration as mitata measures it (a mean, so fractional): `0.0 B`, `16.4 B`, `n/a`. */
export const fmtHeap = (bytes) => (Number.isFinite(bytes) ? `${bytes.toFixed(1)} B` : 'n/a');

/** `0.60x`, `28.8x`, `284x`; with `digits`, always that many decimals (`24.96x`). */
export function fmtRatio(x, digits) {
  if (!Number.isFinite(x)) return 'n/a';
  if (digits !== undefined) return `${x.toFixed(digits)}x`;
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}
