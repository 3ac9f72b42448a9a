// Prints the table of CPU-aware defaults, generated from the config module itself, and with
// --write replaces the table between the markers in README.md. A test checks the README's copy.
//   node scripts/config-table.mjs [--write]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultsFor } from '@zeropool/core';

const MiB = 2 ** 20;
const fmt = (bytes) => (bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / MiB} MiB`);

export function configTable() {
  const rows = ['| CPUs | shards | cacheSize (ids per class) | arenaBytes | maxThreads |', '|---:|---:|---:|---:|---:|'];
  for (const cpus of [2, 4, 8, 16, 32, 64, 128]) {
    const d = defaultsFor(cpus);
    rows.push(`| ${cpus} | ${d.shards} | ${d.cacheSize} | ${fmt(d.arenaBytes)} | ${d.maxThreads} |`);
  }
  return rows.join('\n');
}

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

export function replaceTable(readme, table) {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a === -1 || b === -1) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${table}\n${readme.slice(b)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = configTable();
  if (process.argv.includes('--write')) {
    const path = fileURLToPath(new URL('../README.md', import.meta.url));
    writeFileSync(path, replaceTable(readFileSync(path, 'utf8'), table));
    console.log('README.md config table updated');
  } else {
    console.log(table);
  }
}
