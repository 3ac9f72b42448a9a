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
    find: '    if ((Atomics.load(words, ctx.waitingWord) & (1 << c)) === 0) {',
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
    name: 'carve counts the page before its slabs exist',
    file: 'core.ts',
    find: "      Atomics.store(words, H_SLAB_COUNT, first + count);\n      if (STEPS) step('carve.5');\n      // Step 6: counted only after its slabs exist, so no stop leaves a counted page without slabs\n      // (lost until the pool is discarded).\n      Atomics.store(words, H_PAGES_CARVED, pages + 1);",
    replace:
      "      Atomics.store(words, H_PAGES_CARVED, pages + 1);\n      if (STEPS) step('carve.5');\n      Atomics.store(words, H_SLAB_COUNT, first + count);",
    tests: ['packages/core/test/killpoints.test.ts', '-t', 'acquire'],
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
