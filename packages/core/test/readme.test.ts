import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configTable, replaceTable } from '../../../scripts/config-table.mjs';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const readme = readFileSync(root('README.md'), 'utf8');

describe('README', () => {
  it('shows the config table generated from defaultsFor (run `pnpm config-table` after changing defaults)', () => {
    expect(replaceTable(readme, configTable())).toBe(readme);
  });

  it('quotes examples/quick-start.mjs verbatim as its quick start', () => {
    const example = readFileSync(root('examples/quick-start.mjs'), 'utf8').trim();
    const quickStart = readme.split('## Quick start')[1].split('```js\n')[1].split('```')[0].trim();
    expect(quickStart).toBe(example);
  });

  it('has a quick start that runs as written against the built package', () => {
    const output = execFileSync(process.execPath, [root('examples/quick-start.mjs')], { encoding: 'utf8', timeout: 30_000 });
    expect(output.trim()).toBe('worker summed 3000; slabs leased now: 0');
  });

  it('quotes figures that match the committed benchmark record it cites', () => {
    // The Performance section's table comes from the first core record the section names.
    const performance = readme.slice(readme.indexOf('## Performance'));
    const cited = /bench\/results\/(\d{4}-\d{2}-\d{2}-[\w-]+-core(?:-\d+)?\.json)/.exec(performance);
    expect(cited).not.toBeNull();
    const record = JSON.parse(readFileSync(root(`bench/results/${cited![1]}`), 'utf8'));
    expect(readme).toContain(`| ${record.medianNs.poolAcquireBytesRelease64KiB.toFixed(1)} ns |`);
    expect(readme).toContain(`${Math.round(record.speedup.overAllocUnsafe)}x slower`);
    expect(readme).toContain(`${Math.round(record.speedup.overSharedArrayBuffer)}x slower`);
  });
});
