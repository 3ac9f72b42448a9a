// Checks the TSDoc of the public API of every workspace package (packages/*): every name exported
// from an entry point in its package.json `exports` (for @zeropool/piscina, src/index.ts and
// src/worker.ts) and every public member of those exports. The API reference (`pnpm run docs`,
// TypeDoc) is generated from these comments, so a gap here is a gap there.
//
// Rules, one line of output per piece missing:
//   doc       every public symbol and member has a doc comment with a summary;
//   @default  every member of an options interface (a name ending in `Options`) says its default;
//   @throws   every public function, constructor and method that can throw says what it throws.
//             "Can throw": its body, or the body of any function of the workspace it calls
//             (transitively), has a `throw` statement outside a try block that catches. An
//             interface method has no body: it can throw if its own comment says so;
//   @example  every exported class and function and every public method has an example;
//   compiles  every ```ts / ```js block of an @example compiles against the sources. An example is
//             a module of its own: names it does not import come from the entry point that
//             exports the symbol (`@zeropool/core`; `@zeropool/piscina/worker` for getPool), and
//             it may use, undeclared, what a reader of that package would assume (`context`
//             below: `pool` a SlabPool, `piscina` a SlabPiscina, `payload` a Uint8Array...).
//
// Then the reference itself:
//   entries   typedoc.json lists exactly the entry points of the packages;
//   docs/api  the committed reference is what `pnpm run docs` generates now: the check generates
//             it into a temporary directory and compares, and asks git that docs/api has no
//             changes or new files it does not know of (CI runs `pnpm run docs` first, so a stale
//             reference shows up there as a change).
//
// Members tagged @internal, private and protected members are not public and are not checked.
//   node scripts/check-docs.mjs        (exit code 1 when anything is missing)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { root, workspacePackages } from './package-entries.mjs';

const packages = workspacePackages();

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

// The compiler options of the sources (target, lib, strictness; tsconfig.docs.json, which TypeDoc
// reads too), so examples compile as the sources do; every entry point resolves to its source.
const tsconfig = join(root, 'tsconfig.docs.json');
const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail });
if (!parsed) throw new Error(`cannot read ${tsconfig}`);
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

const program = ts.createProgram(
  entries.map((e) => e.source),
  options,
);
const checker = program.getTypeChecker();
const sourceDirs = packages.map((pkg) => join(root, pkg.dir, 'src') + sep);
const inSources = (node) => {
  const file = resolve(node.getSourceFile().fileName);
  return sourceDirs.some((dir) => file.startsWith(dir));
};

/**
 * The package and entry point being walked. `missing`: the pieces missing per public name, in
 * declaration order; a name from an entry point other than the package's main one is labelled
 * with it (`getPool (@zeropool/piscina/worker)`).
 * @type {{ pkg: { name: string, missing: Map<string, string[]>, examples: Array<{ label: string, entry: object, code: string }> }, entry: { specifier: string, source: string } }}
 */
let current;
const labelOf = (name) => (current.entry.specifier === current.pkg.name ? name : `${name} (${current.entry.specifier})`);
const report = (name, piece) => addMissing(current.pkg, labelOf(name), piece);
const addMissing = (pkg, label, piece) => {
  if (!pkg.missing.has(label)) pkg.missing.set(label, []);
  pkg.missing.get(label).push(piece);
};

const tagsOf = (node) => ts.getJSDocTags(node);
const docsOf = (node) => ts.getJSDocCommentsAndTags(node).filter((doc) => doc.kind === ts.SyntaxKind.JSDoc);
const commentText = (comment) => (typeof comment === 'string' ? comment : (comment ?? []).map((part) => part.text).join(''));
const isInternal = (node) => tagsOf(node).some((tag) => tag.tagName.text === 'internal');
const hasTag = (node, name) => tagsOf(node).some((tag) => tag.tagName.text === name);
const summaryOf = (node) =>
  docsOf(node)
    .map((doc) => commentText(doc.comment))
    .join('')
    .trim();
const modifiers = (node) => (ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : []);
const isPublicMember = (member) =>
  !modifiers(member).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword) &&
  !(member.name && ts.isPrivateIdentifier(member.name)) &&
  !isInternal(member);
const memberName = (owner, member) => {
  if (ts.isConstructorDeclaration(member)) return `${owner}.constructor`;
  const name = member.name;
  if (ts.isComputedPropertyName(name)) return `${owner}[${name.expression.getText()}]`;
  return `${owner}.${name.getText()}`;
};

// ---- Can a function throw? A throw statement in its body, or in the body of a function of the
// workspace it calls or constructs (its own package's, or a workspace package it imports: lendSlab
// throws what SlabPool.acquire throws), found by following calls through the type checker.
/** @type {Map<ts.Node, boolean>} */
const throwsMemo = new Map();
function bodyThrows(declaration) {
  if (throwsMemo.has(declaration)) return throwsMemo.get(declaration);
  throwsMemo.set(declaration, false); // a cycle adds nothing new
  let result = false;
  const visit = (node) => {
    if (result) return;
    if (node !== declaration && ts.isFunctionLike(node) && !ts.isCallExpression(node.parent)) {
      // A nested function declared here runs only if called; calls to it are followed below.
      if (!ts.isArrowFunction(node) && !ts.isFunctionExpression(node)) return;
    }
    if (ts.isThrowStatement(node)) {
      result = true;
      return;
    }
    if (ts.isTryStatement(node) && node.catchClause) {
      visit(node.catchClause);
      if (node.finallyBlock) visit(node.finallyBlock);
      return;
    }
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      for (const callee of calleesOf(node)) {
        if (bodyThrows(callee)) {
          result = true;
          return;
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  if (declaration.body) visit(declaration.body);
  throwsMemo.set(declaration, result);
  return result;
}

/** The declarations with bodies, inside the workspace's sources, that a call or `new` may run. */
function calleesOf(call) {
  const signature = checker.getResolvedSignature(call);
  const declaration = signature?.getDeclaration();
  const found = [];
  if (declaration && inSources(declaration)) {
    // An overload signature has no body: the implementation is the declaration that has one.
    const symbol = declaration.symbol ?? checker.getSymbolAtLocation(declaration.name ?? declaration);
    for (const d of symbol?.declarations ?? [declaration]) if (ts.isFunctionLike(d) && d.body && inSources(d)) found.push(d);
  }
  if (ts.isNewExpression(call) && found.length === 0) {
    // `new X()` of a class without its own constructor runs field initializers only.
    const symbol = checker.getSymbolAtLocation(call.expression);
    const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    for (const d of target?.declarations ?? []) {
      if (!ts.isClassDeclaration(d) || !inSources(d)) continue;
      for (const m of d.members) if (ts.isConstructorDeclaration(m) && m.body) found.push(m);
    }
  }
  return found;
}

const saysItThrows = (node) => /\bthrows?\b/i.test(summaryOf(node)) || /\bthrows?\b/i.test(tagsText(node));
const tagsText = (node) =>
  tagsOf(node)
    .filter((tag) => !['throws', 'example'].includes(tag.tagName.text))
    .map((tag) => commentText(tag.comment))
    .join(' ');

function collectExamples(name, node) {
  for (const tag of tagsOf(node)) {
    if (tag.tagName.text !== 'example') continue;
    const text = commentText(tag.comment);
    const blocks = [...text.matchAll(/```(?:ts|typescript|js|javascript)?\n([\s\S]*?)```/g)].map((m) => m[1]);
    if (blocks.length === 0) report(name, '@example without a ```ts code block');
    for (const code of blocks) current.pkg.examples.push({ label: labelOf(name), entry: current.entry, code });
  }
}

/**
 * Checks one documented declaration. `signatures` are the declarations whose comments count (the
 * public overloads of a constructor or method, or the declaration itself); `body` decides @throws.
 */
function check(name, signatures, { needsDefault = false, needsExample = false, callable = false, bodies = [] } = {}) {
  const documented = signatures.filter((s) => summaryOf(s) !== '');
  if (documented.length === 0) {
    report(name, 'doc comment');
  }
  const any = (predicate) => signatures.some(predicate);
  if (needsDefault && !any((s) => hasTag(s, 'default') || hasTag(s, 'defaultValue'))) report(name, '@default');
  if (callable) {
    // With a body, the body decides; an interface method has only its comment to go by.
    const throws = bodies.length > 0 ? bodies.some(bodyThrows) : any(saysItThrows);
    if (throws && !any((s) => hasTag(s, 'throws'))) {
      report(name, `@throws (${bodies.length > 0 ? 'the implementation throws' : 'the comment says it throws'})`);
    }
  }
  if (needsExample && !any((s) => hasTag(s, 'example'))) report(name, '@example');
  for (const s of signatures) collectExamples(name, s);
}

function checkClass(name, declaration) {
  check(name, [declaration], { needsExample: true });
  const constructors = declaration.members.filter(ts.isConstructorDeclaration);
  const publicConstructors = constructors.filter((c) => isPublicMember(c) && !(c.body && constructors.length > 1));
  if (publicConstructors.length > 0) {
    check(`${name}.constructor`, publicConstructors, {
      callable: true,
      bodies: constructors.filter((c) => c.body),
    });
  }
  // Own members first, then public members inherited from base classes of the package (a base
  // class need not be exported for its public members to be part of this class's API).
  const seen = new Set();
  for (let owner = declaration; owner; owner = baseClassOf(owner)) checkMembers(name, owner, seen);
}

function checkMembers(name, owner, seen) {
  for (const member of owner.members) {
    if (!member.name || ts.isConstructorDeclaration(member) || !isPublicMember(member)) continue;
    const memberKey = memberName(name, member);
    if (seen.has(memberKey)) continue;
    seen.add(memberKey);
    const overloads = owner.members.filter((m) => m.name && memberName(name, m) === memberKey && isPublicMember(m));
    const isMethod = ts.isMethodDeclaration(member);
    const withComments = overloads.length > 1 ? overloads.filter((m) => !m.body) : overloads;
    check(memberKey, withComments, {
      callable: isMethod || ts.isAccessor(member),
      needsExample: isMethod,
      bodies: overloads.filter((m) => m.body),
    });
  }
}

/** The declaration of the class `declaration` extends, if it is one of the workspace's sources. */
function baseClassOf(declaration) {
  const clause = declaration.heritageClauses?.find((c) => c.token === ts.SyntaxKind.ExtendsKeyword);
  const expression = clause?.types[0]?.expression;
  if (!expression) return undefined;
  const symbol = checker.getSymbolAtLocation(expression);
  const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return target?.declarations?.find((d) => ts.isClassDeclaration(d) && inSources(d));
}

function checkInterface(name, declaration) {
  check(name, [declaration]);
  const isOptions = /Options$/.test(name);
  for (const member of declaration.members) {
    if (!isPublicMember(member)) continue;
    check(memberName(name, member), [member], {
      needsDefault: isOptions,
      callable: ts.isMethodSignature(member),
    });
  }
}

// ---- Walk the exports of each entry point. A symbol two entry points export (HANDLE_KEY) is
// checked once, under the first.
const aliased = (symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
const results = packages.map((pkg) => ({ ...pkg, missing: new Map(), examples: [] }));
for (const pkg of results) {
  const seen = new Set();
  for (const entry of pkg.entries) {
    current = { pkg, entry };
    for (const exported of exportsOf(entry)) {
      const symbol = aliased(exported);
      if (seen.has(symbol)) continue;
      seen.add(symbol);
      checkExport(exported.name, symbol);
    }
  }
}

function exportsOf(entry) {
  return checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry.source)));
}

function checkExport(name, symbol) {
  for (const declaration of symbol.declarations ?? []) {
    if (ts.isClassDeclaration(declaration)) checkClass(name, declaration);
    else if (ts.isInterfaceDeclaration(declaration)) checkInterface(name, declaration);
    else if (ts.isFunctionDeclaration(declaration)) {
      const overloads = symbol.declarations.filter(ts.isFunctionDeclaration);
      if (declaration !== overloads[0]) continue;
      const withComments = overloads.length > 1 ? overloads.filter((d) => !d.body) : overloads;
      check(name, withComments, { callable: true, needsExample: true, bodies: overloads.filter((d) => d.body) });
    } else if (ts.isVariableDeclaration(declaration)) {
      // The comment sits on the variable statement; TypeScript attaches it to the declaration.
      check(name, [declaration]);
    } else if (ts.isTypeAliasDeclaration(declaration) || ts.isEnumDeclaration(declaration)) {
      check(name, [declaration]);
      if (ts.isEnumDeclaration(declaration)) for (const m of declaration.members) check(`${name}.${m.name.getText()}`, [m]);
    } else {
      report(name, `a declaration of kind ${ts.SyntaxKind[declaration.kind]} this script does not know how to check`);
    }
  }
}

// ---- Compile every example as a module of its own, against the sources: one program per
// package, whose context file declares what that package's readers assume.
// Types are imported with `type` (the sources compile with verbatimModuleSyntax).
const isValue = (symbol) => (aliased(symbol).flags & ts.SymbolFlags.Value) !== 0;
for (const pkg of results) {
  if (pkg.examples.length === 0) continue;
  const exampleDir = join(root, pkg.dir, '.doc-examples');
  const assumed = context[pkg.name] ?? { imports: [], globals: [] };
  const contextFile = join(exampleDir, 'context.d.ts');
  const contextSource = [...assumed.imports, 'declare global {', ...assumed.globals.map((g) => `  var ${g};`), '}', ''].join(
    '\n',
  );
  const virtualFiles = new Map([[contextFile, contextSource]]);
  const exampleFiles = pkg.examples.map(({ label, entry, code }, index) => {
    const file = join(exampleDir, `example-${index}.mts`);
    const importsEntry = new RegExp(`from ['"]${entry.specifier}['"]`).test(code);
    const importLists = [...code.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}/g)].map((m) => m[1]);
    const imported = new Set(importLists.flatMap((list) => list.split(',').map((s) => s.trim().replace(/^type\s+/, ''))));
    const names = exportsOf(entry)
      .filter((s) => !imported.has(s.name))
      .map((s) => (isValue(s) ? s.name : `type ${s.name}`));
    const prelude = importsEntry || names.length === 0 ? '' : `import { ${names.join(', ')} } from '${entry.specifier}';\n`;
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
  const exampleProgram = ts.createProgram([contextFile, ...exampleFiles.map((e) => e.file)], options, host);
  const contextDiagnostics = ts.getPreEmitDiagnostics(exampleProgram, exampleProgram.getSourceFile(contextFile));
  for (const d of contextDiagnostics) {
    addMissing(pkg, "(the examples' context in scripts/check-docs.mjs)", ts.flattenDiagnosticMessageText(d.messageText, ' '));
  }
  for (const { file, label, lineOffset } of exampleFiles) {
    const source = exampleProgram.getSourceFile(file);
    const diagnostics = [...exampleProgram.getSyntacticDiagnostics(source), ...exampleProgram.getSemanticDiagnostics(source)];
    for (const d of diagnostics) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1 - lineOffset;
      addMissing(pkg, label, `an @example that compiles (line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')})`);
    }
  }
}

let failed = false;
for (const pkg of results) {
  const count = [...pkg.missing.values()].reduce((n, pieces) => n + pieces.length, 0);
  if (count === 0) {
    console.log(`docs: every public symbol of ${pkg.name} has its doc comment, @default, @throws and @example`);
    continue;
  }
  failed = true;
  const files = pkg.entries.map((e) => relative(root, e.source)).join(', ');
  console.error(`docs: ${count} missing in the TSDoc of ${pkg.name} (${files}):`);
  for (const [label, pieces] of pkg.missing) console.error(`  ${label}: ${pieces.join('; ')}`);
}

// ---- The reference: typedoc.json covers every entry point, and docs/api is current and committed.
const typedocConfig = ts.readConfigFile(join(root, 'typedoc.json'), ts.sys.readFile).config; // JSON with comments
const outDir = typedocConfig.out;
const listed = new Set(typedocConfig.entryPoints.map((p) => resolve(root, p)));
const expected = new Set(entries.map((e) => e.source));
const unlisted = [...expected].filter((p) => !listed.has(p)).map((p) => relative(root, p));
const extra = [...listed].filter((p) => !expected.has(p)).map((p) => relative(root, p));
if (unlisted.length > 0 || extra.length > 0) {
  failed = true;
  if (unlisted.length > 0) console.error(`docs: typedoc.json entryPoints lack ${unlisted.join(', ')} (package.json "exports")`);
  if (extra.length > 0) console.error(`docs: typedoc.json entryPoints list ${extra.join(', ')}, which no package exports`);
}

const generated = mkdtempSync(join(tmpdir(), 'zeropool-docs-'));
try {
  const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
  execFileSync(process.execPath, [typedoc, '--out', generated, '--logLevel', 'Error'], { cwd: root, stdio: 'inherit' });
  const differences = compareTrees(generated, join(root, outDir));
  if (differences.length > 0) {
    failed = true;
    console.error(`docs: ${outDir} is not what \`pnpm run docs\` generates now (run it and commit ${outDir}):`);
    for (const line of differences.slice(0, 20)) console.error(`  ${line}`);
    if (differences.length > 20) console.error(`  ... and ${differences.length - 20} more`);
  }
} catch (error) {
  failed = true;
  console.error(`docs: typedoc failed to generate the reference (${error.message.split('\n')[0]})`);
} finally {
  rmSync(generated, { recursive: true, force: true });
}
const uncommitted = gitChanges(outDir);
if (uncommitted === undefined) {
  console.log(`docs: not a git work tree; ${outDir} compared with a fresh generation only`);
} else if (uncommitted.length > 0) {
  failed = true;
  console.error(`docs: ${outDir} differs from what git has (git add ${outDir}; in CI: the committed reference is stale):`);
  for (const line of uncommitted.slice(0, 20)) console.error(`  ${line}`);
  if (uncommitted.length > 20) console.error(`  ... and ${uncommitted.length - 20} more`);
}
if (!failed) console.log(`docs: ${outDir} is what \`pnpm run docs\` generates, and git has it`);
if (failed) process.exitCode = 1;

/** Files only in one tree, or whose contents differ, as `path: why` lines (paths relative to `actual`). */
function compareTrees(expectedDir, actualDir) {
  const list = (dir) => {
    try {
      return readdirSync(dir, { recursive: true })
        .filter((file) => statSync(join(dir, file)).isFile())
        .sort();
    } catch {
      return []; // no such directory: every file is missing
    }
  };
  const want = list(expectedDir);
  const have = new Set(list(actualDir));
  const lines = [];
  for (const file of want) {
    if (!have.has(file)) lines.push(`${file}: missing`);
    else if (!readFileSync(join(expectedDir, file)).equals(readFileSync(join(actualDir, file)))) lines.push(`${file}: differs`);
    have.delete(file);
  }
  for (const file of have) lines.push(`${file}: not generated any more`);
  return lines;
}

/**
 * Changes git sees in `dir` against its index (the last commit, on a fresh clone): modified or
 * deleted tracked files and untracked files, as `git status --porcelain` lines; undefined outside
 * a git work tree.
 */
function gitChanges(dir) {
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    git('rev-parse', '--is-inside-work-tree');
  } catch {
    return undefined;
  }
  const changed = git('diff', '--name-status', '--', dir).split('\n').filter(Boolean);
  const untracked = git('ls-files', '--others', '--exclude-standard', '--', dir)
    .split('\n')
    .filter(Boolean)
    .map((file) => `?\t${file}`);
  return [...changed, ...untracked];
}
