/**
 * Both packages installed from their tarballs the way users install them: into fresh projects of
 * each module system (an ES module project and the CommonJS one `npm init -y` writes), written in
 * JavaScript and in TypeScript, each TypeScript project with one of the versions users have
 * (5.9, and 7.0, which `npm i typescript` installs now) and the tsconfig.json that `tsc --init`
 * of that version writes. The TypeScript programs type-check with `skipLibCheck` off, so an error
 * in our declarations shows, under three settings: `--init`'s own (`types: []`: no @types/node),
 * `lib: ["es2022"]` (no Disposable, no AbortSignal, no DOM), and what `--init`'s comment says a
 * Node project adds (`lib: ["esnext"]`, `types: ["node"]`). Then they run: a pool, a worker that
 * attaches it, slabs handed both ways by id; CommonJS programs load the packages with `require`.
 *
 * This file is in the piscina package because it installs both tarballs. TypeScript, @types/node
 * and piscina come from the registry: one `npm install` per TypeScript version.
 * Needs built dist/ folders (`pnpm test` builds first).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const run = (command: string, args: string[], cwd: string, timeout = 60_000) =>
  execFileSync(command, args, { cwd, env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
/** Runs a program with the Node that runs the tests (so the Node 24 CI run covers it too). */
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd, 60_000);
/** tsc's output (its diagnostics), whether or not it exits with an error. */
const tsc = (project: string, args: string[]) => {
  try {
    return node([join(project, '..', 'node_modules/typescript/bin/tsc'), ...args], project);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
};

const TYPESCRIPT_VERSIONS = ['5.9', '7.0'];
const piscinaVersion = JSON.parse(readFileSync(join(repoRoot, 'node_modules/piscina/package.json'), 'utf8')).version;
const nodeMajor = process.versions.node.split('.')[0];

let work = '';
let tarballs: string[] = [];

beforeAll(() => {
  work = mkdtempSync(join(realpathSync(tmpdir()), 'zeropool-install-'));
  for (const name of ['core', 'piscina']) run('pnpm', ['pack', '--pack-destination', work], join(repoRoot, 'packages', name));
  tarballs = readdirSync(work)
    .filter((name) => name.endsWith('.tgz'))
    .map((name) => join(work, name));
  if (tarballs.length !== 2) throw new Error(`expected two tarballs, got ${tarballs.join(', ')}`);
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * A folder with the packages installed and two projects below it that share its node_modules:
 * `esm/` (`"type": "module"`) and `cjs/` (`"type": "commonjs"`, as `npm init -y` writes it).
 */
function install(name: string, extra: string[]): { esm: string; cjs: string } {
  const root = join(work, name);
  mkdirSync(root);
  writeFileSync(join(root, 'package.json'), `${JSON.stringify({ name: `zeropool-${name}`, private: true })}\n`);
  run(
    'npm',
    [
      'install',
      ...tarballs,
      `piscina@${piscinaVersion}`,
      ...extra,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--no-package-lock',
    ],
    root,
    240_000,
  );
  const projects = { esm: join(root, 'esm'), cjs: join(root, 'cjs') };
  for (const [kind, dir] of Object.entries(projects)) {
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'package.json'),
      `${JSON.stringify({ name: `zeropool-${name}-${kind}`, private: true, type: kind === 'esm' ? 'module' : 'commonjs' })}\n`,
    );
  }
  return projects;
}

// The pool program, written for each module system and language. The main thread creates a pool
// and a worker that attaches it; the worker acquires a slab, writes it and sends its id; the main
// thread checks the bytes, releases the slab and reports what it saw as one line of JSON.
const check = `
  const matches = (bytes, length) => bytes.length >= length && bytes.subarray(0, length).every((b, i) => b === ((i * 31 + 7) & 0xff));
`;
const workerSide = (attach: string) => `
  const pool = ${attach};
  const id = pool.acquire(3000);
  const bytes = pool.bytes(id);
  for (let i = 0; i < 3000; i++) bytes[i] = (i * 31 + 7) & 0xff;
  pool.flush();
  parentPort.postMessage(id);
`;
const mainSide = (resolved: string) => `
  const pool = new SlabPool({ arenaBytes: 8 * 1024 * 1024 });
  const worker = new Worker(WORKER_FILE, { workerData: pool.handle });
  const [id] = await once(worker, 'message');
  const saw = matches(pool.bytes(id), 3000);
  pool.release(id);
  let second = 'accepted';
  try { pool.release(id); } catch (error) { second = error instanceof SlabStateError ? error.code : String(error); }
  await worker.terminate();
  const leased = pool.stats().classes.reduce((n, c) => n + c.leased, 0);
  console.log(JSON.stringify({ resolved: ${resolved}, saw, second, leased, audit: pool.audit() }));
`;

const programs = {
  'main.mjs': `
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { SlabPool, SlabStateError } from '@zeropool/core';
const WORKER_FILE = new URL(import.meta.url);
${check}
if (isMainThread) {${mainSide("import.meta.resolve('@zeropool/core')")}} else {${workerSide('SlabPool.attach(workerData)')}}
`,
  'main.cjs': `
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { once } = require('node:events');
const { SlabPool, SlabStateError } = require('@zeropool/core');
const WORKER_FILE = __filename;
${check}
async function main() {${mainSide("require.resolve('@zeropool/core')")}}
if (isMainThread) main(); else {${workerSide('SlabPool.attach(workerData)')}}
`,
  'esm/main.ts': `
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { type PoolHandle, SlabPool, SlabStateError } from '@zeropool/core';
const WORKER_FILE = new URL(import.meta.url);
${check.replace('(bytes, length)', '(bytes: Uint8Array, length: number)')}
if (isMainThread) {${mainSide("import.meta.resolve('@zeropool/core')")}} else {${workerSide('SlabPool.attach(workerData as PoolHandle)').replace('parentPort.', 'parentPort!.')}}
`,
  // verbatimModuleSyntax (on in --init's tsconfig) has CommonJS files import with `import = require`.
  'cjs/main.ts': `
import worker_threads = require('node:worker_threads');
import events = require('node:events');
import zeropool = require('@zeropool/core');
const { Worker, isMainThread, parentPort, workerData } = worker_threads;
const { once } = events;
const { SlabPool, SlabStateError } = zeropool;
const WORKER_FILE = __filename;
${check.replace('(bytes, length)', '(bytes: Uint8Array, length: number)')}
async function main() {${mainSide("require.resolve('@zeropool/core')")}}
if (isMainThread) void main(); else {${workerSide('SlabPool.attach(workerData as zeropool.PoolHandle)').replace('parentPort.', 'parentPort!.')}}
`,
};

// Uses the public API of @zeropool/core without anything from Node's types: it must type-check
// with no @types/node and any lib. (Type-checked only.)
const coreUse = `
const pool = new SlabPool({ arenaBytes: 1 << 24 });
const config: ResolvedConfig = resolveConfig({ parallelism: 2 }, { ZEROPOOL_DEBUG: '0' });
const lease: Lease = pool.get(100);
lease.bytes[0] = 1;
lease[Symbol.dispose]();
const waiting: Promise<number> = pool.acquireAsync(64, { timeoutMs: 10 });
const stats: PoolStats = pool.stats();
// @ts-expect-error a size is a number
pool.acquire('100');
void [config, waiting, stats];
`;
// The public API of @zeropool/piscina. Its declarations extend piscina's, which need @types/node
// and have errors of their own under --init's exactOptionalPropertyTypes; only ours must be clean.
const piscinaUse = `
const start = (options: SlabPiscinaOptions) => new SlabPiscina(options);
const inTask = (id: number): Uint8Array => viewSlab(id, 10);
const pool: SlabPool = getPool();
void [start, inTask, pool];
`;
const typeOnly = {
  'esm/library.ts': `import { type Lease, type PoolStats, type ResolvedConfig, SlabPool, resolveConfig } from '@zeropool/core';
${coreUse}`,
  'cjs/library.ts': `import zeropool = require('@zeropool/core');
type Lease = zeropool.Lease;
type PoolStats = zeropool.PoolStats;
type ResolvedConfig = zeropool.ResolvedConfig;
const { SlabPool, resolveConfig } = zeropool;
${coreUse}`,
  'esm/piscina.ts': `import type { SlabPool } from '@zeropool/core';
import { SlabPiscina, type SlabPiscinaOptions } from '@zeropool/piscina';
import { getPool, viewSlab } from '@zeropool/piscina/worker';
${piscinaUse}`,
  'cjs/piscina.ts': `import zeropool = require('@zeropool/core');
import piscina = require('@zeropool/piscina');
import piscinaWorker = require('@zeropool/piscina/worker');
type SlabPool = zeropool.SlabPool;
type SlabPiscinaOptions = piscina.SlabPiscinaOptions;
const { SlabPiscina } = piscina;
const { getPool, viewSlab } = piscinaWorker;
${piscinaUse}`,
};
// `using`, where the lib declares Disposable (the default lib of --init's target does).
const usingLease = `
{
  using lease = new SlabPool({ arenaBytes: 1 << 24 }).get(10);
  lease.bytes[0] = 1;
}
`;
const usingFiles = {
  'esm/using.ts': `import { SlabPool } from '@zeropool/core';\n${usingLease}`,
  'cjs/using.ts': `import zeropool = require('@zeropool/core');\nconst { SlabPool } = zeropool;\n${usingLease}`,
};

function expectHandoff(output: string, project: string) {
  const result = JSON.parse(output.trim());
  const resolved = result.resolved.replace(/^file:\/\//, '');
  expect(resolved).toBe(join(project, '..', 'node_modules/@zeropool/core/dist/index.js'));
  expect(result).toMatchObject({ saw: true, second: 'ERR_SLAB_STATE', leased: 0, audit: [] });
}

describe('the packed packages in a JavaScript project', () => {
  let projects = { esm: '', cjs: '' };
  beforeAll(() => {
    projects = install('js', []);
  }, 300_000);

  it('run an ES module program that imports @zeropool/core', () => {
    writeFileSync(join(projects.esm, 'main.mjs'), programs['main.mjs']);
    expectHandoff(node(['main.mjs'], projects.esm), projects.esm);
  });

  it('run a CommonJS program that requires @zeropool/core, with no warning', () => {
    writeFileSync(join(projects.cjs, 'main.js'), programs['main.cjs']);
    const output = execFileSync(process.execPath, ['main.js'], { cwd: projects.cjs, env, encoding: 'utf8', stdio: 'pipe' });
    expectHandoff(output, projects.cjs);
    // Node 20.19+ and 22.12+ load ES modules with require(): no second build needed, and one
    // module instance whichever way a program loads the package. Nothing on stderr either.
    const stderr = run(process.execPath, ['-e', "require('@zeropool/core'); console.error('done')"], projects.cjs);
    expect(stderr).toBe('');
  });

  it('run a CommonJS piscina pool that requires @zeropool/piscina and a task that requires its worker side', async () => {
    writeFileSync(
      join(projects.cjs, 'task.js'),
      `const { viewSlab } = require('@zeropool/piscina/worker');
module.exports = ({ id, length }) => viewSlab(id, length).reduce((sum, b) => sum + b, 0);
`,
    );
    writeFileSync(
      join(projects.cjs, 'piscina.js'),
      `const { join } = require('node:path');
const { SlabPiscina } = require('@zeropool/piscina');
async function main() {
  const piscina = new SlabPiscina({ filename: join(__dirname, 'task.js'), maxThreads: 1, pool: { arenaBytes: 1 << 24 } });
  const id = piscina.pool.acquire(100);
  piscina.pool.bytes(id).fill(3, 0, 100);
  const sum = await piscina.runWithLoans({ id, length: 100 }, [id]);
  await piscina.destroy();
  console.log(JSON.stringify({ sum, resolved: require.resolve('@zeropool/piscina/worker') }));
}
main();
`,
    );
    const result = JSON.parse(node(['piscina.js'], projects.cjs).trim());
    expect(result).toEqual({ sum: 300, resolved: join(projects.cjs, '..', 'node_modules/@zeropool/piscina/dist/worker.js') });
  });
});

describe.each(TYPESCRIPT_VERSIONS)('the packed packages in a TypeScript %s project', (version) => {
  let projects = { esm: '', cjs: '' };
  beforeAll(() => {
    projects = install(`ts-${version}`, [`typescript@${version}`, `@types/node@${nodeMajor}`]);
    for (const [kind, dir] of Object.entries(projects)) {
      expect(tsc(dir, ['--version'])).toContain(`Version ${version}.`);
      tsc(dir, ['--init']);
      for (const [file, text] of Object.entries({ ...programs, ...typeOnly, ...usingFiles }))
        if (file.startsWith(`${kind}/`)) writeFileSync(join(dir, file.slice(kind.length + 1)), text);
      // Each check extends the tsconfig.json that --init wrote and names its files.
      const configs = {
        'tsconfig.default.json': [{ skipLibCheck: false, noEmit: true }, ['library.ts', 'using.ts']],
        'tsconfig.es2022.json': [{ skipLibCheck: false, noEmit: true, lib: ['es2022'] }, ['library.ts']],
        'tsconfig.node.json': [{ skipLibCheck: false, lib: ['esnext'], types: ['node'] }, ['main.ts']],
        'tsconfig.piscina.json': [{ skipLibCheck: false, noEmit: true }, ['piscina.ts']],
        'tsconfig.piscina-node.json': [{ skipLibCheck: false, noEmit: true, lib: ['esnext'], types: ['node'] }, ['piscina.ts']],
      };
      for (const [name, [compilerOptions, files]] of Object.entries(configs))
        writeFileSync(join(dir, name), JSON.stringify({ extends: './tsconfig.json', compilerOptions, files }, null, 2));
    }
  }, 300_000);

  for (const kind of ['esm', 'cjs'] as const) {
    const where = kind === 'esm' ? 'an ES module' : 'a CommonJS';
    it(`type-checks the API of @zeropool/core in ${where} project with --init's tsconfig (no @types/node), and with lib es2022`, () => {
      expect(tsc(projects[kind], ['-p', 'tsconfig.default.json'])).toBe('');
      expect(tsc(projects[kind], ['-p', 'tsconfig.es2022.json'])).toBe('');
    });

    it(`type-checks the API of @zeropool/piscina in ${where} project, with and without types: ["node"], finding no error in its declarations`, () => {
      for (const config of ['tsconfig.piscina.json', 'tsconfig.piscina-node.json']) {
        // A diagnostic starts a line with its file; piscina's own declarations are not ours to fix.
        const ours = tsc(projects[kind], ['-p', config])
          .split('\n')
          .filter((line) => /^\S.*error TS/.test(line) && !line.startsWith('../node_modules/piscina/'));
        expect(ours, config).toEqual([]);
      }
    });

    it(`type-checks, compiles and runs the pool program in ${where} project with types: ["node"]`, () => {
      expect(tsc(projects[kind], ['-p', 'tsconfig.node.json'])).toBe('');
      expectHandoff(node(['main.js'], projects[kind]), projects[kind]);
    });
  }
});
