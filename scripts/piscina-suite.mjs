// Runs piscina's own test suite twice: once against piscina's own class (the control run), once with
// the suite's `Piscina` replaced by `SlabPiscina`. Fails when a test that passes in the control run
// fails (or is missing) with SlabPiscina, so only real differences fail, not harness artefacts.
//
//   node scripts/piscina-suite.mjs [--keep] [--only <file substring>]
//
// The suite comes from the npm tarball of the piscina version pnpm-lock.yaml pins (`npm pack`), and
// runs with piscina's own flags (`node --enable-source-maps --import=tsx --test
// --test-concurrency=1`, its scripts/run-tests.js). It sits in a temporary directory as a package
// named `piscina` whose entry is a one-line shim; its `dist` links to the installed piscina, so the
// suite's imports of '../dist/…' and @zeropool/piscina's import of 'piscina' load one copy of it.
// Build the packages first (pnpm build); tsx and concat-stream are devDependencies of
// @zeropool/scripts.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

// ---- The piscina version the lockfile pins, and the installed copy @zeropool/piscina resolves.
const lock = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
const pinned = lock.match(/^ {6}piscina:\n {8}specifier: [^\n]+\n {8}version: (\d+\.\d+\.\d+)/m)?.[1];
if (!pinned) throw new Error('piscina-suite: no piscina version found in pnpm-lock.yaml');
const requireFromPackage = createRequire(join(root, 'packages/piscina/package.json'));
const installed = packageDir(requireFromPackage, 'piscina');
const installedVersion = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version;
if (installedVersion !== pinned) {
  throw new Error(`piscina-suite: the lockfile pins piscina ${pinned}, node_modules holds ${installedVersion}; run pnpm install`);
}
const slabEntry = join(root, 'packages/piscina/dist/index.js');
const requireFromScripts = createRequire(join(root, 'scripts/package.json'));
const devPackage = (name) => packageDir(requireFromScripts, name);

// ---- Fetch the suite from the registry tarball.
const work = mkdtempSync(join(tmpdir(), 'zeropool-piscina-suite-'));
const started = Date.now();
try {
  execFileSync('npm', ['pack', `piscina@${pinned}`, '--pack-destination', work, '--silent'], {
    cwd: work,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync('tar', ['xzf', `piscina-${pinned}.tgz`], { cwd: work });
  const tarball = join(work, 'package');

  const runs = {};
  for (const mode of ['control', 'slab']) {
    const dir = join(work, mode, 'node_modules', 'piscina');
    mkdirSync(dir, { recursive: true });
    cpSync(join(tarball, 'test'), join(dir, 'test'), { recursive: true });
    symlinkSync(join(installed, 'dist'), join(dir, 'dist'));
    const pkg = JSON.parse(readFileSync(join(tarball, 'package.json'), 'utf8'));
    pkg.main = './shim.js';
    pkg.exports = { types: './dist/index.d.ts', import: './shim.mjs', require: './shim.js' };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    // The control shim is piscina itself; the other is what a user swapping classes gets. The ES
    // module entry is piscina's own wrapper (dist/esm-wrapper.mjs) over the shim.
    const shim =
      mode === 'control'
        ? `module.exports = require(${JSON.stringify(installed)});\n`
        : `module.exports = require(${JSON.stringify(slabEntry)}).SlabPiscina;\n`;
    writeFileSync(join(dir, 'shim.js'), shim);
    const wrapper = readFileSync(join(installed, 'dist/esm-wrapper.mjs'), 'utf8');
    writeFileSync(join(dir, 'shim.mjs'), wrapper.replace(/from "\.\/main\.js"/, 'from "./shim.js"'));
    // The suite's own dependencies, where its files and piscina's worker look for them.
    const modules = join(work, mode, 'node_modules');
    symlinkSync(devPackage('tsx'), join(modules, 'tsx'));
    symlinkSync(devPackage('concat-stream'), join(modules, 'concat-stream'));
    mkdirSync(join(modules, '@napi-rs'));
    symlinkSync(join(installed, '..', '@napi-rs', 'nice'), join(modules, '@napi-rs', 'nice'));

    const files = listTests(join(dir, 'test')).filter((file) => only === undefined || file.includes(only));
    const t0 = Date.now();
    const output = await runSuite(dir, files);
    runs[mode] = { ...parseTap(output, dir), seconds: (Date.now() - t0) / 1000 };
    const r = runs[mode];
    console.log(
      `${mode}: ${r.passed.size} passed, ${r.failed.size} failed, ${r.skipped} skipped (${r.seconds.toFixed(1)} s; node's own summary: ${r.summary})`,
    );
  }

  // ---- Compare test by test.
  const { control, slab } = runs;
  const regressions = [...control.passed].filter((name) => !slab.passed.has(name));
  const controlFailures = [...control.failed];
  if (controlFailures.length > 0) {
    console.log(`failing in the control run too (harness or machine, not SlabPiscina): ${controlFailures.length}`);
    for (const name of controlFailures) console.log(`  - ${name}`);
  }
  const extra = [...slab.passed].filter((name) => !control.passed.has(name));
  if (extra.length > 0) console.log(`passing only with SlabPiscina: ${extra.join('; ')}`);
  for (const name of regressions) {
    console.log(`REGRESSION: passes on piscina, not with SlabPiscina: ${name}`);
    const detail = slab.details.get(name);
    if (detail) console.log(detail.replace(/^/gm, '    '));
  }
  console.log(
    `piscina ${pinned} suite, node ${process.version}: control ${control.passed.size} passed; SlabPiscina ${slab.passed.size} passed, ` +
      `${regressions.length} of the control's passing tests not passing; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  if (control.passed.size === 0) {
    console.error('piscina-suite: no test passed in the control run');
    process.exitCode = 1;
  }
  if (regressions.length > 0) process.exitCode = 1;
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

/** The real directory of package `name` as `require` resolves it (its exports may hide package.json). */
function packageDir(require, name) {
  let dir = dirname(realpathSync(require.resolve(name)));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    if (dirname(dir) === dir) throw new Error(`piscina-suite: no package directory found for ${name}`);
    dir = dirname(dir);
  }
  return dir;
}

/** The files run-tests.js runs (`test/**\/*test.ts`), sorted. */
function listTests(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((file) => file.endsWith('test.ts'))
    .map((file) => join(dir, file))
    .sort();
}

/** Runs the files with piscina's flags from the package directory; resolves with the TAP output. */
function runSuite(cwd, files) {
  const flags = ['--enable-source-maps', '--import=tsx', '--test', '--test-concurrency=1', '--test-reporter=tap'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, ...files.map((f) => relative(cwd, f))], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', () => resolve(output));
  });
}

/**
 * Leaf tests by their full name (file > suite > test), each passed or failed, from node's TAP
 * output; skipped and todo tests are counted, not compared.
 */
function parseTap(output, dir) {
  const passed = new Set();
  const failed = new Set();
  const details = new Map();
  let skipped = 0;
  const stack = [];
  const hasChildren = [];
  const lines = output.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const subtest = line.match(/^( *)# Subtest: (.*)$/);
    if (subtest) {
      const depth = subtest[1].length / 4;
      stack.length = depth;
      stack[depth] = subtest[2].startsWith(dir) ? relative(dir, subtest[2]) : subtest[2];
      hasChildren[depth] = false;
      if (depth > 0) hasChildren[depth - 1] = true;
      continue;
    }
    const result = line.match(/^( *)(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/);
    if (!result) continue;
    const depth = result[1].length / 4;
    // Node prints a parent's result after its children's: only leaves are compared.
    const name = [...stack.slice(0, depth), result[3]].join(' > ');
    stack.length = depth;
    if (hasChildren[depth]) continue;
    if (result[4]) {
      skipped++;
      continue;
    }
    if (result[2]) {
      failed.add(name);
      const yaml = [];
      for (let j = i + 1; j < lines.length && !/^ *(not )?ok \d+ /.test(lines[j]) && yaml.length < 25; j++) yaml.push(lines[j]);
      details.set(name, yaml.join('\n'));
    } else passed.add(name);
  }
  const summary = ['tests', 'suites', 'pass', 'fail', 'skipped']
    .map((key) => `${key} ${output.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? '?'}`)
    .join(', ');
  return { passed, failed, details, skipped, summary };
}
