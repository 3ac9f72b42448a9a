import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { anyInPublicTypes } from '../../core/test/any-in-types.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
/** The declarations behind the package's exports: `@zeropool/piscina` and `@zeropool/piscina/worker`. */
const entries = ['index.d.ts', 'worker.d.ts'].map((name) => join(dist, name));

/**
 * The members typed `any` of the parameters of SlabPiscina's own constructor and methods, as
 * `method(parameter).member` (or `method(parameter)` for a parameter that is `any` itself), with
 * the types resolved, so members inherited from piscina's types count.
 */
function anyInSlabPiscinaParameters(): string[] {
  const index = entries[0];
  // With Node's types: piscina's refer to node:worker_threads, and a type that does not resolve is `any`.
  const options = { noEmit: true, skipLibCheck: true, types: ['node'], module: ts.ModuleKind.NodeNext };
  const program = ts.createProgram([index], options);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(index);
  const declaration = file?.statements.find(
    (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'SlabPiscina',
  );
  if (!declaration) throw new Error(`no SlabPiscina in ${index}`);
  const isAny = (type: ts.Type) => (type.flags & ts.TypeFlags.Any) !== 0;
  const found: string[] = [];
  for (const member of declaration.members) {
    if (!ts.isConstructorDeclaration(member) && !ts.isMethodDeclaration(member)) continue;
    if (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private) continue;
    const method = ts.isConstructorDeclaration(member) ? 'constructor' : member.name.getText();
    for (const parameter of member.parameters) {
      const where = `${method}(${parameter.name.getText()})`;
      const type = checker.getNonNullableType(checker.getTypeAtLocation(parameter));
      if (isAny(type)) found.push(where);
      else
        for (const property of type.getProperties())
          if (isAny(checker.getTypeOfSymbol(property))) found.push(`${where}.${property.name}`);
    }
  }
  return found;
}

describe('published type declarations', () => {
  it('are built (run `pnpm build` first: `pnpm test` does)', () => {
    for (const entry of entries) expect(existsSync(entry), entry).toBe(true);
  });

  it('have no `any` in the package’s own declarations: public signatures and every type they refer to', () => {
    const files = readdirSync(dist).filter((name) => name.endsWith('.d.ts'));
    expect(files).toEqual(expect.arrayContaining(['index.d.ts', 'worker.d.ts', 'common.d.ts']));
    expect(anyInPublicTypes(entries)).toEqual([]);
  });

  it('take no `any` from piscina’s own types', () => {
    // SlabPiscinaOptions extends piscina's options, and SlabPiscina's methods take piscina's run
    // and close options. Those types are piscina's (a peer dependency), so the walk above does not
    // enter them; this resolves them. Piscina declares `workerData?: any`; SlabPiscinaOptions
    // narrows it to `object` (the constructor accepts only a plain object at run time). A piscina
    // upgrade that brings another `any` (in an option, in the run or close options) fails here.
    // SlabPiscina also sets its own task and result types to `unknown` where piscina defaults to
    // `any` (test/types/misuse.ts checks that).
    expect(anyInSlabPiscinaParameters()).toEqual([]);
  });
});
