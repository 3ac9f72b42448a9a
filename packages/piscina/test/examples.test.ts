// The examples run as a user would run them, on a small generated file so the suite stays quick.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const example = (path: string) => fileURLToPath(new URL(`../../../examples/${path}`, import.meta.url));
const input = join(mkdtempSync(join(tmpdir(), 'zeropool-examples-')), 'input.bin');
const bytes = new Uint8Array(6 * 1024 * 1024 + 12345);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
writeFileSync(input, bytes);

describe('examples', () => {
  it('piscina-hash: every mode reproduces the single-thread digests and the table is printed', () => {
    const output = execFileSync(process.execPath, [example('piscina-hash/main.mjs'), input], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(output.match(/digests match/g)).toHaveLength(9);
    expect(output).toContain('| chunk | mode | MB/s | tasks/s | speed-up over copy | peak RSS |');
    for (const mode of ['clone', 'move', 'slab'])
      expect(output).toMatch(new RegExp(`\\| 1 MiB \\| ${mode} \\| \\d+ \\| \\d+ \\| [\\d.]+x \\| \\d+ MiB \\|`));
    // The summary says what was compared, the speed-ups, the memory and the digests.
    expect(output).toMatch(
      / 1 MiB chunks: slab ids [\d.]+x as fast as copies, [\d.]+x as fast as Piscina\.move; peak RSS \d+ MiB, \d+ MiB (less|more) than copies/,
    );
    expect(output).toContain('digests: all 27 runs matched the single-thread digest');
  }, 150_000);

  it('worker-pipeline: bounded by the pool, digest matches, every slab back', () => {
    const output = execFileSync(process.execPath, [example('worker-pipeline/main.mjs'), input], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(output).toContain('digest matches the single-thread run');
    expect(output).toMatch(/after the run: (\d+) of \1 slabs free, 0 leased, 0 cached, 0 left in channels/);
    expect(output).toMatch(/reader waited for a free slab [1-9]\d* times/);
  }, 90_000);

  it('file-stream: read, two transformers and a hasher connected by channels reproduce the digest', () => {
    const output = execFileSync(process.execPath, [example('file-stream/main.mjs'), input], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(output).toMatch(/: 25 chunks of up to 256 KiB, read -> 2 x transform -> hash/);
    expect(output).toContain("digest matches this thread's; 0 slabs in use and 0 left in channels after the run");
  }, 90_000);
});
