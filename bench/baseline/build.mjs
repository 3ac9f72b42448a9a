// Bundles packages/core as it was at a git commit into one ESM file beside this script, with the
// options of scripts/build-package.mjs (syntax minification inlines the layout constants, which
// decides what V8 inlines on the hot path), so a benchmark can measure that design side by side
// with the working tree's in one run (bench/id-format.bench.mjs).
//
//   node bench/baseline/build.mjs [commit]   default b33a735, the last design with 31-bit ids
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const commit = process.argv[2] ?? 'b33a735';
const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'zeropool-baseline-'));
try {
  // The sources as committed, not as they are in the work tree, with the tsconfig files esbuild
  // reads (they decide how class fields are emitted).
  const paths = ['packages/core/src', 'tsconfig.json', 'tsconfig.base.json'];
  const archive = execFileSync('git', ['archive', '--format=tar', commit, ...paths], { cwd: root });
  execFileSync('tar', ['-x', '-C', work], { input: archive });
  const outfile = fileURLToPath(new URL(`./core-${commit}.mjs`, import.meta.url));
  await build({
    absWorkingDir: join(work, 'packages/core'),
    entryPoints: ['src/index.ts'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['node:*'],
    sourcemap: false,
    minifySyntax: true,
    logLevel: 'warning',
    banner: { js: `// @zeropool/core at commit ${commit}, built by bench/baseline/build.mjs. Do not edit.` },
  });
  console.log(`built ${outfile}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
