/**
 * The package as a user gets it: `pnpm pack` builds the tarball from dist/, `npm install` puts it
 * into a fresh project in the OS temp directory (outside the workspace, so nothing resolves to the
 * sources or to a workspace link), and programs run there against node_modules/@zeropool/core.
 * Needs a built dist/ (`pnpm test` builds first).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

// Child processes get the environment without the npm_* variables a package manager sets for the
// test run, so npm inside the temporary project reads only its own configuration.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const run = (command: string, args: string[], cwd: string, timeout = 60_000) =>
  execFileSync(command, args, { cwd, env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
/** Runs a program with the Node that runs the tests (so the Node 24 CI run covers it too). */
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd, 30_000);

let work = '';
let project = '';
let installed = '';

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist/index.js'))) throw new Error(`${packageDir}dist is not built: run \`pnpm build\``);
  work = mkdtempSync(join(realpathSync(tmpdir()), 'zeropool-pack-'));
  run('pnpm', ['pack', '--pack-destination', work], packageDir);
  const tarballs = readdirSync(work).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`pnpm pack wrote ${tarballs.length} tarballs: ${tarballs.join(', ')}`);
  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'zeropool-pack-test', private: true, type: 'module' }, null, 2)}\n`,
  );
  // --offline: the package has no dependencies, so the install must not need the registry.
  run('npm', ['install', join(work, tarballs[0]), '--no-audit', '--no-fund', '--offline', '--no-package-lock'], project);
  installed = join(project, 'node_modules/@zeropool/core');
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed @zeropool/core', () => {
  it('holds the built files and the package.json fields a user relies on, and nothing else', () => {
    const files = (dir: string, prefix = ''): string[] =>
      readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(dir, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
      );
    const contents = files(installed);
    expect(contents).toContain('package.json');
    expect(contents).toContain('dist/index.js');
    expect(contents).toContain('dist/index.d.ts');
    expect(contents.filter((file) => !file.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/.test(file))).toEqual(
      [],
    );
    expect(contents.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);

    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('@zeropool/core');
    expect(manifest.type).toBe('module');
    expect(manifest.sideEffects).toBe(false);
    // Node versions that load an ES module with require(), so CommonJS programs can use the package.
    expect(manifest.engines).toEqual({ node: '^20.19.0 || >=22.12.0' });
    expect(manifest.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/zeropool/zeropool-node.git',
      directory: 'packages/core',
    });
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.bugs.url).toMatch(/^https:\/\//);
    expect(manifest.keywords.length).toBeGreaterThan(0);
    expect(manifest.description.length).toBeGreaterThan(0);
    expect(manifest.files).toContain('dist');
    expect(manifest.types).toBe('./dist/index.d.ts');
    // `types` first: TypeScript takes the first condition that matches.
    expect(Object.keys(manifest.exports['.'])[0]).toBe('types');
    expect(manifest.exports['.'].types).toBe('./dist/index.d.ts');
    // One build for import and require alike (no `import` condition that would leave require out).
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    // Nothing a user would receive points back into the workspace.
    expect(JSON.stringify(manifest)).not.toMatch(/workspace:/);
    for (const target of [manifest.types, manifest.exports['.'].types, manifest.exports['.'].default]) {
      expect(existsSync(join(installed, target)), target).toBe(true);
    }
  });

  it('runs a program that hands slabs between two threads by id, imported from node_modules', () => {
    const program = `
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { SlabPool, SlabStateError } from '@zeropool/core';

const fill = (bytes, length, seed) => { for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff; };
const matches = (bytes, length, seed) => { for (let i = 0; i < length; i++) if (bytes[i] !== ((i * 31 + seed) & 0xff)) return false; return true; };

if (isMainThread) {
  const pool = new SlabPool({ arenaBytes: 8 * 1024 * 1024 });
  const worker = new Worker(new URL(import.meta.url), { workerData: { handle: pool.handle } });
  const id = pool.acquire(5000);
  fill(pool.bytes(id), 5000, 7);
  worker.postMessage({ id, length: 5000 });
  const [reply] = await once(worker, 'message');
  // The worker released our slab and sent one of its own back.
  const back = matches(pool.bytes(reply.id), 3000, 11);
  pool.release(reply.id);
  let secondRelease = 'accepted';
  try { pool.release(id); } catch (error) { secondRelease = error instanceof SlabStateError ? error.code : String(error); }
  pool.flush();
  const leased = pool.stats().classes.reduce((n, c) => n + c.leased, 0);
  await worker.terminate();
  console.log(JSON.stringify({ resolved: import.meta.resolve('@zeropool/core'), workerSaw: reply.saw, back, secondRelease, leased, audit: pool.audit() }));
} else {
  const pool = SlabPool.attach(workerData.handle);
  parentPort.on('message', ({ id, length }) => {
    const saw = matches(pool.bytes(id), length, 7);
    pool.release(id);
    const mine = pool.acquire(3000);
    fill(pool.bytes(mine), 3000, 11);
    pool.flush();
    parentPort.postMessage({ saw, id: mine });
  });
}
`;
    writeFileSync(join(project, 'handoff.mjs'), program);
    const result = JSON.parse(node(['handoff.mjs'], project).trim());
    expect(fileURLToPath(result.resolved)).toBe(join(installed, 'dist/index.js'));
    expect(result).toMatchObject({ workerSaw: true, back: true, secondRelease: 'ERR_SLAB_STATE', leased: 0, audit: [] });
  });

  it('runs examples/quick-start.mjs as written', () => {
    copyFileSync(join(repoRoot, 'examples/quick-start.mjs'), join(project, 'quick-start.mjs'));
    expect(node(['quick-start.mjs'], project).trim()).toBe('worker summed 3000; slabs leased now: 0');
  });

  it('type-checks a TypeScript consumer against the published declarations (skipLibCheck off)', () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      [
        "import { SlabPool, SlabStateError, type PoolStats, type SlabPoolOptions } from '@zeropool/core';",
        'const options: SlabPoolOptions = { arenaBytes: 1 << 24 };',
        'const pool = new SlabPool(options);',
        'const id: number = pool.acquire(100);',
        'const stats: PoolStats = pool.stats();',
        'const error = new SlabStateError(id, "example");',
        "const code: 'ERR_SLAB_STATE' = error.code;",
        '// @ts-expect-error a size is a number',
        "pool.acquire('100');",
        'export { stats, code };',
        '',
      ].join('\n'),
    );
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        // @tsconfig/node20's settings: a user on Node 20 should need nothing more.
        lib: ['ES2023'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        // A Node project has @types/node; this one borrows the workspace's copy.
        typeRoots: [join(repoRoot, 'node_modules/@types')],
        types: ['node'],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = createRequire(join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');
    let output = '';
    try {
      output = node([tsc, '-p', 'tsconfig.json'], project);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  });
});
