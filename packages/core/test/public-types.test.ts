import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * Every `any` in the declarations a user of the package can reach: the exports of `index.d.ts` and,
 * transitively, every declaration in dist/ their types refer to. Comments do not count (they say
 * "any thread"), only type positions. Returns `file:line: text of that line` strings.
 */
function anyInPublicTypes(entry: string, host?: ts.CompilerHost): string[] {
  const options: ts.CompilerOptions = { noEmit: true, skipLibCheck: true, types: [], module: ts.ModuleKind.NodeNext };
  const program = ts.createProgram([entry], options, host);
  const checker = program.getTypeChecker();
  const root = program.getSourceFile(entry);
  if (!root) throw new Error(`cannot read ${entry}`);
  const ownFile = (node: ts.Node) => node.getSourceFile().fileName.startsWith(entry.slice(0, entry.lastIndexOf('/')));
  const found: string[] = [];
  const visited = new Set<ts.Node>();
  const visitDeclaration = (declaration: ts.Node) => {
    if (visited.has(declaration) || !ownFile(declaration)) return;
    visited.add(declaration);
    const walk = (node: ts.Node) => {
      if (node.kind === ts.SyntaxKind.AnyKeyword) {
        const file = node.getSourceFile();
        const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        const text = file.text.split('\n')[line - 1].trim();
        found.push(`${file.fileName.slice(file.fileName.lastIndexOf('/') + 1)}:${line}: ${text}`);
      }
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
        const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isTypeQueryNode(node) ? node.exprName : node.expression;
        let symbol = checker.getSymbolAtLocation(name);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        for (const d of symbol?.declarations ?? []) visitDeclaration(d);
      }
      ts.forEachChild(node, walk);
    };
    walk(declaration);
  };
  const moduleSymbol = checker.getSymbolAtLocation(root);
  if (!moduleSymbol) throw new Error(`${entry} has no exports`);
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    for (const declaration of symbol.declarations ?? []) visitDeclaration(declaration);
  }
  return found;
}

describe('published type declarations', () => {
  it('are built (run `pnpm build` first: `pnpm test` does)', () => {
    expect(existsSync(join(dist, 'index.d.ts')), `${dist}index.d.ts`).toBe(true);
  });

  it('have no `any` in any public signature, nor in any type those signatures refer to', () => {
    const files = readdirSync(dist).filter((name) => name.endsWith('.d.ts'));
    expect(files.length).toBeGreaterThan(1);
    expect(anyInPublicTypes(join(dist, 'index.d.ts'))).toEqual([]);
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
    expect(anyInPublicTypes('/virtual/index.d.ts', host)).toEqual(['shape.d.ts:2: items: Promise<any[]>;']);
  });
});
