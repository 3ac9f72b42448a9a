// Probe (not part of `pnpm bench`): what one Atomics operation costs from JavaScript, beside a
// plain typed-array store and load on the same words. Each loop touches 64 words, 64 bytes apart
// (all in L1), so the figures are the operations' own cost, not cache misses. Run it under each
// Node version of interest; compare with cas-floor.c, the same loops in C.
//
//   node bench/probes/atomics-cost.mjs
const words = new Int32Array(new SharedArrayBuffer(4096));
const N = 20_000_000;

const loops = {
  'plain store + load': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const k = (i & 63) << 4;
      words[k] = i;
      s += words[k];
    }
    return s;
  },
  'Atomics.compareExchange': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const k = (i & 63) << 4;
      s += Atomics.compareExchange(words, k, words[k], i);
    }
    return s;
  },
  'Atomics.exchange': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Atomics.exchange(words, (i & 63) << 4, i);
    return s;
  },
  'Atomics.add': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Atomics.add(words, (i & 63) << 4, 1);
    return s;
  },
  'Atomics.or': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Atomics.or(words, (i & 63) << 4, 1);
    return s;
  },
  'Atomics.store + plain load': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const k = (i & 63) << 4;
      Atomics.store(words, k, i);
      s += words[k];
    }
    return s;
  },
  'plain store + Atomics.load': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const k = (i & 63) << 4;
      words[k] = i;
      s += Atomics.load(words, k);
    }
    return s;
  },
};

let sink = 0;
console.log(`node ${process.version}; ns per iteration, median of 5 runs of ${N}`);
for (const [name, loop] of Object.entries(loops)) {
  sink += loop(1e6) + loop(1e6); // optimize first
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    sink += loop(N);
    runs.push(Number(process.hrtime.bigint() - start) / N);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} ${runs[2].toFixed(2)} ns`);
}
if (sink === 0.5) console.log(sink);
