import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { anyInPublicTypes } from './any-in-types.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

describe('published type declarations', () => {
  it('are built (run `pnpm build` first: `pnpm test` does)', () => {
    expect(existsSync(join(dist, 'index.d.ts')), `${dist}index.d.ts`).toBe(true);
  });

  it('have no `any` in any public signature, nor in any type those signatures refer to', () => {
    const files = readdirSync(dist).filter((name) => name.endsWith('.d.ts'));
    expect(files.length).toBeGreaterThan(1);
    expect(anyInPublicTypes([join(dist, 'index.d.ts')])).toEqual([]);
  });

  it('would catch an `any` nested in a referenced type (the check itself can fail)', () => {
    const files = new Map([
      ['/virtual/index.d.ts', "export { make } from './make.js';\n"],
      [
        '/virtual/make.d.ts',
        "import type { Shape } from './shape.js';\n/** any thread may call it */\nexport declare function make(): Shape;\n",
      ],
      ['/virtual/shape.d.ts', 'export interface Shape {\n  items: Promise<any[]>;\n}\n'],
    ]);
    const host = ts.createCompilerHost({});
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
    host.readFile = (file) => files.get(file) ?? readFile.call(host, file);
    host.directoryExists = (directory) => directory === '/virtual' || existsSync(directory);
    host.getSourceFile = (file, language, ...rest) => {
      const text = files.get(file);
      return text === undefined
        ? getSourceFile.call(host, file, language, ...rest)
        : ts.createSourceFile(file, text, language, true);
    };
    expect(anyInPublicTypes(['/virtual/index.d.ts'], host)).toEqual(['shape.d.ts:2: items: Promise<any[]>;']);
  });
});
