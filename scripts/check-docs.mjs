// The checks of the API reference that TypeDoc cannot make. It first generates the reference as
// `pnpm run docs` does, so TypeDoc's validation (typedoc.json: a doc comment on every public symbol
// and member, no broken {@link}) and scripts/typedoc-doc-rules.mjs (a summary, @default, @throws,
// @example) fail it too; then:
//   compiles  every ```ts / ```js block of an @example compiles against the sources. An example is
//             a module of its own: names it does not import come from the entry point that
//             documents the symbol (`@zeropool/core`; `@zeropool/piscina/worker` for getPool), and
//             it may use, undeclared, what a reader of that package would assume (`context`
//             below: `pool` a SlabPool, `piscina` a SlabPiscina, `payload` a Uint8Array...);
//   docs/api  the reference just generated into docs/api is what git has: no changes, no new files
//             (a stale committed reference shows up as a change).
//   node scripts/check-docs.mjs        (exit code 1 when anything is missing)
import { execFileSync } from 'node:child_process';
import { join, relative, resolve } from 'node:path';
import { Application, Comment, ReflectionKind } from 'typedoc';
import ts from 'typescript';
import { root, workspacePackages } from './package-entries.mjs';

// What a reader assumes in the examples of each package, declared for them (a package not listed
// gets nothing). Examples declare anything else themselves.
const context = {
  '@zeropool/core': {
    imports: [
      "import type { PoolHandle, SlabPool } from '@zeropool/core';",
      "import type { Worker } from 'node:worker_threads';",
    ],
    globals: ['pool: SlabPool', 'worker: Worker', 'workerData: { pool: PoolHandle }', 'payload: Uint8Array'],
  },
  '@zeropool/piscina': {
    imports: ["import type { SlabPiscina } from '@zeropool/piscina';"],
    globals: ['piscina: SlabPiscina', 'payload: Uint8Array'],
  },
};

const problems = [];
const report = (label, problem) => problems.push(`${label}: ${problem}`);

// ---- The reference, generated with typedoc.json as `pnpm run docs` does; any warning fails.
const app = await Application.bootstrapWithPlugins({ logLevel: 'Warn' });
const project = await app.convert();
if (project) app.validate(project);
if (!project || app.logger.hasErrors() || app.logger.hasWarnings()) {
  console.error('docs: TypeDoc reported the problems above; nothing was generated');
  process.exit(1);
}
await app.generateOutputs(project);
if (app.logger.hasErrors()) process.exit(1);

// ---- Every example, labelled with its symbol, from the entry point (module) that documents it.
const packages = workspacePackages();
const packageOf = new Map(packages.flatMap((pkg) => pkg.entries.map((entry) => [entry.specifier, pkg])));
const examples = [];
for (const reflection of Object.values(project.reflections)) {
  for (const tag of reflection.comment?.getTags('@example') ?? []) {
    const label = reflection.getFriendlyFullName();
    let module = reflection;
    while (!module.kindOf(ReflectionKind.Module)) module = module.parent;
    const text = Comment.combineDisplayParts(tag.content);
    const blocks = [...text.matchAll(/```(?:ts|typescript|js|javascript)?\n([\s\S]*?)```/g)].map((m) => m[1]);
    if (blocks.length === 0) report(label, '@example without a ```ts code block');
    for (const code of blocks) examples.push({ label, module, code });
  }
}

// ---- Compile every example as a module of its own, against the sources: one program per
// package, whose context file declares what that package's readers assume. The compiler options
// are the sources' (tsconfig.docs.json, which TypeDoc reads too); every entry point resolves to
// its source. Types are imported with `type` (the sources compile with verbatimModuleSyntax).
const parsed = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.docs.json'),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail },
);
const entries = packages.flatMap((pkg) => pkg.entries);
const options = {
  ...parsed.options,
  noEmit: true,
  declaration: false,
  baseUrl: root,
  paths: Object.fromEntries(entries.map((e) => [e.specifier, [relative(root, e.source)]])),
};
function fail(diagnostic) {
  throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}
const valueKinds =
  ReflectionKind.Class | ReflectionKind.Function | ReflectionKind.Variable | ReflectionKind.Enum | ReflectionKind.Namespace;
const isValue = (exported) => (exported.tryGetTargetReflectionDeep?.() ?? exported).kindOf(valueKinds);

for (const pkg of packages) {
  const ofPackage = examples.filter((example) => packageOf.get(example.module.name) === pkg);
  if (ofPackage.length === 0) continue;
  const exampleDir = join(root, pkg.dir, '.doc-examples');
  const assumed = context[pkg.name] ?? { imports: [], globals: [] };
  // A module, not a .d.ts, which skipLibCheck would leave unchecked.
  const contextFile = join(exampleDir, 'context.mts');
  const globals = ['declare global {', ...assumed.globals.map((g) => `  var ${g};`), '}', 'export {};', ''];
  const contextSource = [...assumed.imports, ...globals].join('\n');
  const virtualFiles = new Map([[contextFile, contextSource]]);
  const exampleFiles = ofPackage.map(({ label, module, code }, index) => {
    const file = join(exampleDir, `example-${index}.mts`);
    const importsEntry = new RegExp(`from ['"]${module.name}['"]`).test(code);
    const importLists = [...code.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}/g)].map((m) => m[1]);
    const imported = new Set(importLists.flatMap((list) => list.split(',').map((s) => s.trim().replace(/^type\s+/, ''))));
    const names = (module.children ?? [])
      .filter((exported) => !imported.has(exported.name))
      .map((exported) => (isValue(exported) ? exported.name : `type ${exported.name}`));
    const prelude = importsEntry || names.length === 0 ? '' : `import { ${names.join(', ')} } from '${module.name}';\n`;
    virtualFiles.set(file, `${prelude}${code}\nexport {};\n`);
    return { file, label, lineOffset: prelude ? 1 : 0 };
  });
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => virtualFiles.has(resolve(file)) || fileExists.call(host, file);
  host.readFile = (file) => virtualFiles.get(resolve(file)) ?? readFile.call(host, file);
  host.getSourceFile = (file, languageVersion, ...rest) => {
    const text = virtualFiles.get(resolve(file));
    return text === undefined
      ? getSourceFile.call(host, file, languageVersion, ...rest)
      : ts.createSourceFile(file, text, languageVersion, true);
  };
  const program = ts.createProgram([contextFile, ...exampleFiles.map((e) => e.file)], options, host);
  for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(contextFile))) {
    report("the examples' context in scripts/check-docs.mjs", ts.flattenDiagnosticMessageText(d.messageText, ' '));
  }
  for (const { file, label, lineOffset } of exampleFiles) {
    const source = program.getSourceFile(file);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1 - lineOffset;
      report(label, `an @example that does not compile (line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')})`);
    }
  }
}

// ---- docs/api is what git has: `git status` lines with a change against the index (the last
// commit, on a fresh clone) or a file git does not track; a change already staged is git's.
const outDir = relative(root, app.options.getValue('out'));
let uncommitted;
try {
  const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', outDir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  uncommitted = status.split('\n').filter((line) => line !== '' && line[1] !== ' ');
} catch {
  console.log(`docs: not a git work tree; ${outDir} not compared with what git has`);
}

for (const problem of problems) console.error(`docs: ${problem}`);
if (uncommitted?.length > 0) {
  console.error(`docs: ${outDir} is not what git has (commit it; in CI: the committed reference is stale):`);
  for (const line of uncommitted.slice(0, 20)) console.error(`  ${line}`);
  if (uncommitted.length > 20) console.error(`  ... and ${uncommitted.length - 20} more`);
}
if (problems.length > 0 || uncommitted?.length > 0) process.exit(1);
console.log(`docs: TypeDoc's validation passes, ${examples.length} examples compile, and git has ${outDir} as generated`);
