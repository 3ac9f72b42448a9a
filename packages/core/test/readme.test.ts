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

  it('quotes channel figures that match the committed channel record it cites', () => {
    const performance = readme.slice(readme.indexOf('## Performance'));
    const cited = /bench\/results\/(\d{4}-\d{2}-\d{2}-[\w-]+-channel(?:-\d+)?\.json)/.exec(performance);
    expect(cited).not.toBeNull();
    const record = JSON.parse(readFileSync(root(`bench/results/${cited![1]}`), 'utf8'));
    const perSecond = record.stream.find((s: { size: number }) => s.size === 4096).itemsPerSecond;
    expect(performance).toContain(`| ${(perSecond.channel / 1e6).toFixed(2)} M | — |`);
    for (const way of ['port-ids', 'port-copy', 'port-transfer']) {
      const ratio = perSecond.channel / perSecond[way];
      expect(performance).toContain(
        `| ${(perSecond[way] / 1e6).toFixed(2)} M | ${ratio < 10 ? ratio.toFixed(1) : Math.round(ratio)}x slower |`,
      );
    }
    const trip = record.roundTrip;
    expect(performance).toContain(
      `${trip['channel-spinning'].p50Us.toFixed(2)} µs through channels whose receivers poll, ${Math.round(trip['channel-sleeping'].p50Us)} µs once they\nsleep, ${Math.round(trip.port.p50Us)} µs by \`MessagePort\``,
    );
  });
});
