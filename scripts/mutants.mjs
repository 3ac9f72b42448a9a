// A small mutation run: each mutant is a one-place change to the core that a plausible bug would
// make. The script applies one at a time, runs the tests that should catch it, and reports whether
// they failed (caught) or passed (survived); the sources are restored after each, whatever happens.
// Run by hand (it takes a few minutes and rewrites files under packages/core/src while it runs):
//
//   node scripts/mutants.mjs            every mutant
//   node scripts/mutants.mjs <name>     the mutants whose name contains <name>
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const src = (file) => `${root}packages/core/src/${file}`;

const MUTANTS = [
  {
    name: 'a reclaim that leaves slabs queued in a channel that no longer exists',
    file: 'recovery.ts',
    find: '      kind === SLAB_QUEUED &&\n',
    replace: '      kind === -1 &&\n',
    tests: ['packages/core/test/channel-kills.test.ts', '-t', 'no longer exists'],
  },
  {
    name: 'a busy receiver that never looks for lanes whose sender stopped',
    file: 'channel.ts',
    find: '        if (lanes > 1 && ++this.sinceRecovery >= RECOVER_EVERY) this.recoverNow();',
    replace: '',
    tests: ['packages/core/test/channel-kills.test.ts', '-t', 'keeps the receiver busy'],
  },
  {
    name: 'a stream that ends without publishing what a stopped sender left',
    file: 'channel.ts',
    find: '    memory.recoverAbandoned(this.host, this.me);\n    // Every sender end publishes',
    replace: '    // Every sender end publishes',
    tests: ['packages/core/test/channel-kills.test.ts', '-t', 'ends the stream only after'],
  },
  {
    name: "a stopped sender's queued, unpublished slab never published by lane recovery",
    file: 'channel.ts',
    find: '    if (last === tail) return;',
    replace: '    return;',
    tests: ['packages/core/test/channel-kills.test.ts'],
  },
  {
    name: 'a receiver that raises its sleeping flag after its last look',
    file: 'channel.ts',
    find: '    const seen = Atomics.load(this.words, CH_SEQUENCE);\n    Atomics.store(this.words, CH_RECEIVER_SLEEPING, 1);',
    replace: '    const seen = Atomics.load(this.words, CH_SEQUENCE);\n    Atomics.store(this.words, CH_RECEIVER_SLEEPING, 0);',
    tests: ['packages/core/test/channel-wakeups.test.ts'],
  },
  {
    name: 'a receive that takes the slab without checking it is still queued there',
    file: 'channel.ts',
    find: '      const won = Atomics.compareExchange(this.pool, meta, queued, this.leasedBits | (generation << GEN_SHIFT)) === queued;',
    replace: '      const won = ((this.pool[meta] = this.leasedBits | (generation << GEN_SHIFT)), true);',
    tests: ['packages/core/test/channel-kills.test.ts'],
  },
  {
    name: 'waiter counts not recounted when a reserved lock is taken over',
    file: 'recovery.ts',
    find: '        if (shard === layout.shards) recountWaiters(words, layout, c);',
    replace: '',
    tests: ['packages/core/test/killpoints.test.ts', '-t', 'async|close'],
  },
  {
    name: "a dead reclaimer's reclaims never finished",
    file: 'lifecycle.ts',
    find: '      if (proven) this.finishReclaimsBy(threadId, report);',
    replace: '',
    tests: ['packages/core/test/killpoints.test.ts', '-t', 'reclaim|watch|part-way'],
  },
  {
    name: "the holder's release as a plain load and store",
    file: 'pool.ts',
    find: '        Atomics.compareExchange(this.words, meta, leased, (leased + RELEASE_STEP) | 0) === leased\n',
    replace: '        this.words[meta] === leased &&\n        ((this.words[meta] = (leased + RELEASE_STEP) | 0), true)\n',
    tests: ['packages/core/test/concurrency.test.ts', '-t', 'exactly one release succeed'],
  },
  {
    name: 'a waiter withdraws a class that close() already withdrew',
    file: 'waiters.ts',
    find: '      if ((Atomics.load(words, this.waitingWord) & (1 << c)) === 0) {',
    replace: '    if (false) {',
    tests: ['packages/core/test/recovery-watch.test.ts', '-t', 'close\\(\\) that threw part-way'],
  },
  {
    name: "watch trusts 'exit' alone",
    file: 'lifecycle.ts',
    find: "    if (refusal !== undefined && proof === 'exit-event' && !refusal.answered) refusal = undefined;",
    replace: "    if (proof === 'exit-event') refusal = undefined;",
    tests: ['packages/core/test/recovery-watch.test.ts', '-t', "exit' that comes while it still runs"],
  },
  {
    name: 'recovery lists only the pages below the carving cursor',
    file: 'layout.ts',
    find: '  const pages = layout.pageCount;\n  for (let k = 0; k < pages; k++) {',
    replace:
      '  const pages = Math.min(Atomics.load(words, H_PAGES_CARVED), layout.pageCount);\n  for (let k = 0; k < pages; k++) {',
    tests: ['packages/core/test/killpoints.test.ts', '-t', 'acquire'],
  },
  {
    name: 'a page goes back while a slab of it is cached',
    file: 'tiers.ts',
    find: '    if ((state & STATE_MASK) !== SLAB_FREE || ownerOf(state) >= layout.shards) return false;',
    replace: '    if ((state & STATE_MASK) === SLAB_LEASED) return false;',
    tests: ['packages/core/test/memory.test.ts', '-t', 'another thread caches slabs of'],
  },
  {
    name: 'a page goes back with its slabs still listed',
    file: 'tiers.ts',
    find: '      rebuildShards(words, layout, c, -1);\n',
    replace: '',
    tests: ['packages/core/test/memory.test.ts'],
  },
  {
    name: 'a page carved again starts its slots at the first generation',
    file: 'tiers.ts',
    find: 'before === 0 ? this.firstGeneration : generationOf(before)',
    replace: 'this.firstGeneration',
    tests: ['packages/core/test/memory.test.ts', '-t', 'stale'],
  },
  {
    name: "a release that does not advance the slab's generation",
    file: 'pool.ts',
    find: '        Atomics.compareExchange(this.words, meta, leased, (leased + RELEASE_STEP) | 0) === leased\n',
    replace: '        Atomics.compareExchange(this.words, meta, leased, (leased - 1) | 0) === leased\n',
    tests: ['packages/core/test/pool.test.ts', 'packages/core/test/memory.test.ts', '-t', 'stale|twice|release'],
  },
  {
    name: 'bytes() without its state check',
    file: 'pool.ts',
    find: '        (this.words[meta] & NOT_OWNER) === (SLAB_LEASED | (generation << GEN_SHIFT)) &&\n        this.viewKeys',
    replace: '        this.viewKeys',
    tests: ['packages/core/test/memory.test.ts', 'packages/core/test/bad-input.test.ts'],
  },
  {
    name: 'audit() finds nothing',
    file: 'inspect.ts',
    find: '  auditSlots(words, layout, problems);\n  return problems;',
    replace: '  auditSlots(words, layout, problems);\n  return [];',
    tests: ['packages/core/test/audit.test.ts'],
  },
  {
    name: 'a stale check is never taken over',
    file: 'lifecycle.ts',
    find: 'Date.now() - (firstSeen.get(held.claim) ?? Date.now()) >= STALE_CHECK_MS',
    replace: 'false',
    tests: ['packages/core/test/recovery-watch.test.ts', '-t', 'never finished, after 100 ms'],
  },
];

const only = process.argv[2];
let caught = 0;
let survived = 0;
for (const mutant of MUTANTS) {
  if (only !== undefined && !mutant.name.includes(only)) continue;
  const path = src(mutant.file);
  const original = readFileSync(path, 'utf8');
  if (!original.includes(mutant.find)) {
    console.log(`STALE    ${mutant.name}: its text is no longer in ${mutant.file}; update the mutant`);
    survived++;
    continue;
  }
  try {
    writeFileSync(path, original.replace(mutant.find, mutant.replace));
    const run = spawnSync(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.workspace.ts', ...mutant.tests],
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    if (run.status === 0) {
      survived++;
      console.log(`SURVIVED ${mutant.name} (${mutant.tests.join(' ')})`);
    } else {
      caught++;
      console.log(`caught   ${mutant.name}`);
    }
  } finally {
    writeFileSync(path, original);
  }
}
console.log(`${caught} caught, ${survived} survived`);
process.exit(survived === 0 ? 0 : 1);
