/**
 * Both packages as a user gets them: `pnpm pack` turns each into a tarball (the workspace
 * dependency becomes a version), `npm install` puts them and piscina from the registry into a
 * fresh project outside the workspace, and the piscina-hash example runs there against
 * node_modules, not against the sources. Needs built dist/ folders (`pnpm test` builds first).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const run = (command: string, args: string[], cwd: string, timeout = 120_000) =>
  execFileSync(command, args, { cwd, env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });

let work = '';
let project = '';

beforeAll(() => {
  work = mkdtempSync(join(realpathSync(tmpdir()), 'zeropool-pack-piscina-'));
  for (const name of ['core', 'piscina']) run('pnpm', ['pack', '--pack-destination', work], join(repoRoot, 'packages', name));
  const tarballs = readdirSync(work).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 2) throw new Error(`expected two tarballs, got ${tarballs.join(', ')}`);
  project = join(work, 'project');
  mkdirSync(join(project, 'piscina-hash'), { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'zeropool-pack-piscina', private: true, type: 'module' })}\n`,
  );
  const version = JSON.parse(readFileSync(join(repoRoot, 'node_modules/piscina/package.json'), 'utf8')).version;
  run(
    'npm',
    [
      'install',
      ...tarballs.map((t) => join(work, t)),
      `piscina@${version}`,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--no-package-lock',
    ],
    project,
  );
  for (const file of ['main.mjs', 'task.mjs'])
    copyFileSync(join(repoRoot, 'examples/piscina-hash', file), join(project, 'piscina-hash', file));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed @zeropool/piscina with @zeropool/core', () => {
  it('declares its workspace dependency as a version and piscina as a peer', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/@zeropool/piscina/package.json'), 'utf8'));
    expect(manifest.dependencies['@zeropool/core']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.peerDependencies.piscina).toBe('^5.0.0');
    expect(Object.keys(manifest.exports)).toEqual(['.', './worker', './package.json']);
    expect(manifest.exports['./worker']).toEqual({ types: './dist/worker.d.ts', default: './dist/worker.js' });
    expect(manifest.engines).toEqual({ node: '^20.19.0 || >=22.12.0' });
    expect(manifest.repository.directory).toBe('packages/piscina');
    expect(manifest.keywords).toContain('piscina');
  });

  it('runs the piscina-hash example against the installed packages, every digest matching', () => {
    const input = join(work, 'input.bin');
    const bytes = new Uint8Array(3 * 1024 * 1024 + 777);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 40503) >>> 8;
    writeFileSync(input, bytes);
    const output = run(process.execPath, [join(project, 'piscina-hash/main.mjs'), input], project, 150_000);
    expect(output.match(/digests match/g)).toHaveLength(9);
    // The example resolved the installed packages, not the workspace.
    const resolved = run(
      process.execPath,
      ['--input-type=module', '-e', "console.log(import.meta.resolve('@zeropool/piscina/worker'))"],
      project,
    );
    expect(resolved).toContain(`${project}/node_modules/@zeropool/piscina/dist/worker.js`);
  }, 180_000);
});
