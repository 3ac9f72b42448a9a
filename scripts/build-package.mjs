// Builds the package in the current directory: esbuild bundles each entry point to ESM in dist/,
// then tsc emits the .d.ts files next to them. Entry points are src/index.ts plus any worker
// entry files listed in package.json "zeropool.entryPoints" (esbuild does not follow
// `new URL('./w.js', import.meta.url)`, so worker files must be entries of their own).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const cwd = process.cwd();
const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
const entryPoints = ['src/index.ts', ...(pkg.zeropool?.entryPoints ?? [])];
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];

rmSync(join(cwd, 'dist'), { recursive: true, force: true });
await build({
  entryPoints,
  outdir: 'dist',
  outbase: 'src',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...external, 'node:*'],
  sourcemap: false,
  // Syntax minification inlines the modules' numeric constants (layout offsets, counter indexes,
  // state bits) as literals. The smaller bytecode lets V8 inline the pool's hot methods, which
  // bench/core.bench.mjs's cache-hit acquire + bytes + release shows. Names and whitespace are kept.
  minifySyntax: true,
  // Classes keep their names (esbuild renames a class that refers to itself, so SlabPool.name read
  // "_SlabPool" in stack traces and console output).
  keepNames: true,
  // Kill points (src/steps.ts) exist only in the tests' builds: here every `if (STEPS)` folds away.
  define: { 'globalThis.__ZEROPOOL_STEPS__': 'false' },
  logLevel: 'warning',
});
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd });
console.log(`built ${pkg.name}: ${entryPoints.join(', ')}`);
