// The README's fan-out example runs as a user would run it, from files inside this package (so
// '@zeropool/piscina' resolves to it by name), and prints the three digests of its buffer.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** The README's code block holding `// <name>` lines, split into its files. */
function exampleFiles(marker: string): Record<string, string> {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes(marker));
  if (block === undefined) throw new Error(`README.md has no js block with ${marker}`);
  const files: Record<string, string> = {};
  for (const part of block.split(/^(?=\/\/ \w+\.mjs$)/m)) {
    const [first, ...rest] = part.split('\n');
    files[first.slice(3)] = rest.join('\n');
  }
  return files;
}

describe('README', () => {
  it('fan-out example: one slab lent to three tasks at once gives the three digests', () => {
    const dir = mkdtempSync(join(packageDir, '.readme-example-'));
    try {
      for (const [name, code] of Object.entries(exampleFiles('// digest.mjs'))) writeFileSync(join(dir, name), code);
      const output = execFileSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', timeout: 30_000 });
      const data = new TextEncoder().encode('one buffer, three digests');
      const expected = ['sha256', 'sha512', 'md5'].map((algorithm) => createHash(algorithm).update(data).digest('hex'));
      expect(output.trim().split('\n')).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
