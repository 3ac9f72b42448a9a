// The public entry points of the workspace packages, read from each package.json `exports`:
// `"./worker": { "default": "./dist/worker.js" }` is `@zeropool/piscina/worker`, built from
// src/worker.ts (scripts/build-package.mjs maps src/<name>.ts to dist/<name>.js). The API reference
// (scripts/typedoc-plugin.mjs) and its checks (scripts/typedoc-doc-rules.mjs, scripts/check-docs.mjs)
// all ask here.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Every entry point of the package in `packageDir`, main first: `specifier` is what a user imports,
 * `source` the absolute path of the source file it is built from.
 * @returns {{ name: string, entries: Array<{ specifier: string, source: string }> }}
 */
export function packageEntries(packageDir) {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const entries = [];
  for (const [subpath, target] of Object.entries(pkg.exports ?? { '.': pkg.main })) {
    const built = typeof target === 'string' ? target : (target?.default ?? target?.import);
    const match = typeof built === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(built) : null;
    if (!match) continue; // ./package.json, or anything not built from src/
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`;
    entries.push({ specifier, source: join(packageDir, 'src', `${match[1]}.ts`) });
  }
  entries.sort((a, b) => (a.specifier === pkg.name ? -1 : b.specifier === pkg.name ? 1 : 0));
  return { name: pkg.name, entries };
}

/** The packages under packages/, in directory order, each with its entry points. */
export function workspacePackages() {
  const packagesDir = join(root, 'packages');
  return readdirSync(packagesDir)
    .sort()
    .map((name) => join(packagesDir, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir: relative(root, dir), ...packageEntries(dir) }));
}

/** The specifier a user imports `sourceFile` by, or undefined if it is no entry point. */
export function specifierOf(sourceFile) {
  for (const { entries } of workspacePackages()) {
    for (const entry of entries) if (entry.source === resolve(sourceFile)) return entry.specifier;
  }
  return undefined;
}
