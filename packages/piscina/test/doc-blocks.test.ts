// Every JavaScript and TypeScript block in the READMEs and docs type-checks against the packages'
// published types. A block may be preceded by `<!-- doc-check: <declarations> -->`, which declares
// what it takes from the text around it (a `piscina` made earlier, say). A line `// name.mjs`
// inside a block starts another file, as the snippets show a main file and a task file together.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const work = fileURLToPath(new URL('../.doc-blocks/', import.meta.url));
const DOCS = ['README.md', 'packages/core/README.md', 'packages/piscina/README.md', 'docs/design.md', 'docs/reliability.md'];

interface Block {
  doc: string;
  line: number;
  prelude: string;
  code: string;
}

function blocks(doc: string): Block[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(js|ts|mjs)\s*$/.test(lines[i])) continue;
    const prelude = /^<!-- doc-check: (.*) -->$/.exec(lines[i - 1] ?? '')?.[1] ?? '';
    const end = lines.indexOf('```', i + 1);
    found.push({ doc, line: i + 1, prelude, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return found;
}

/** The files of a block: split at `// name.mjs` lines; the part before the first is the main file. */
function files(block: Block, dir: string): string[] {
  const parts: Array<{ name: string; lines: string[] }> = [{ name: 'main', lines: [] }];
  for (const line of block.code.split('\n')) {
    const marker = /^\/\/ ([\w-]+)\.mjs$/.exec(line.trim());
    if (marker) parts.push({ name: marker[1], lines: [] });
    else parts[parts.length - 1].lines.push(line);
  }
  mkdirSync(dir, { recursive: true });
  return parts
    .filter((part) => part.lines.some((line) => line.trim() !== ''))
    .map((part) => {
      const file = join(dir, `${part.name}.mts`);
      // Each file is a module of its own; the prelude's declarations are visible in every part.
      writeFileSync(file, `${block.prelude}\n${part.lines.join('\n')}\nexport {};\n`);
      return file;
    });
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('code blocks in the documentation', () => {
  const all = DOCS.flatMap(blocks);

  it('are found (the check itself looks at something)', () => {
    expect(all.length).toBeGreaterThan(5);
  });

  it.each(all.map((block) => [`${block.doc}:${block.line}`, block] as const))('%s type-checks', (_, block) => {
    const dir = join(work, `${block.doc.replace(/[/.]/g, '_')}_${block.line}`);
    const program = ts.createProgram(files(block, dir), {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
      types: ['node'],
      // The blocks are JavaScript a user would paste: names and calls are checked, not null checks.
      strict: false,
      noEmit: true,
      skipLibCheck: true,
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName.slice(dir.length + 1) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems, `${block.doc}:${block.line}\n${block.code}`).toEqual([]);
  });
});
