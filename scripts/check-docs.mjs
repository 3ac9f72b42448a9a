// Checks the TSDoc of the public API of @zeropool/core: every name exported from
// packages/core/src/index.ts and every public member of those exports. The API reference
// (`pnpm run docs`, TypeDoc) is generated from these comments, so a gap here is a gap there.
//
// Rules, one line of output per piece missing:
//   doc       every public symbol and member has a doc comment with a summary;
//   @default  every member of an options interface (a name ending in `Options`) says its default;
//   @throws   every public function, constructor and method that can throw says what it throws.
//             "Can throw": its body, or the body of any function of the package it calls
//             (transitively), has a `throw` statement outside a try block that catches. An
//             interface method has no body: it can throw if its own comment says so;
//   @example  every exported class and function and every public method has an example;
//   compiles  every ```ts / ```js block of an @example compiles against the sources. An example is
//             a module of its own: names it does not import come from `@zeropool/core`, and it may
//             use, undeclared, `pool` (a SlabPool), `worker` (a Worker), `workerData`
//             (`{ pool: PoolHandle }`) and `payload` (a Uint8Array), as a reader would assume.
//
// Members tagged @internal, private and protected members are not public and are not checked.
//   node scripts/check-docs.mjs        (exit code 1 when anything is missing)
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'packages/core/src/index.ts');
const packageName = '@zeropool/core';

// The package's own compiler options (target, lib, strictness), so examples compile as the
// sources do; `@zeropool/core` resolves to the sources.
const tsconfig = join(root, 'packages/core/tsconfig.build.json');
const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail });
if (!parsed) throw new Error(`cannot read ${tsconfig}`);
const options = {
  ...parsed.options,
  noEmit: true,
  declaration: false,
  baseUrl: root,
  paths: { [packageName]: [relative(root, entry)] },
};
function fail(diagnostic) {
  throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

const program = ts.createProgram([entry], options);
const checker = program.getTypeChecker();
const srcDir = join(root, 'packages/core/src');
const inSources = (node) => resolve(node.getSourceFile().fileName).startsWith(srcDir);

/** @type {Map<string, string[]>} missing pieces per public name, in declaration order */
const missing = new Map();
/** @type {Array<{ name: string, code: string }>} */
const examples = [];
const report = (name, piece) => {
  if (!missing.has(name)) missing.set(name, []);
  missing.get(name).push(piece);
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
// package it calls or constructs, found by following calls through the type checker.
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

/** The declarations with bodies, inside the package's sources, that a call or `new` may run. */
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
    for (const code of blocks) examples.push({ name, code });
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

/** The declaration of the class `declaration` extends, if it is one of the package's sources. */
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

// ---- Walk the exports of the entry point.
const entryFile = program.getSourceFile(entry);
const moduleSymbol = checker.getSymbolAtLocation(entryFile);
for (const exported of checker.getExportsOfModule(moduleSymbol)) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const name = exported.name;
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

// ---- Compile every example as a module of its own, against the sources.
// Types are imported with `type` (the sources compile with verbatimModuleSyntax).
const isValue = (symbol) =>
  ((symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol).flags & ts.SymbolFlags.Value) !== 0;
const exportNames = checker.getExportsOfModule(moduleSymbol).map((s) => (isValue(s) ? s.name : `type ${s.name}`));
const contextFile = join(root, 'packages/core/.doc-examples/context.d.ts');
const contextSource = [
  `import type { PoolHandle, SlabPool } from '${packageName}';`,
  `import type { Worker } from 'node:worker_threads';`,
  'declare global {',
  '  var pool: SlabPool;',
  '  var worker: Worker;',
  '  var workerData: { pool: PoolHandle };',
  '  var payload: Uint8Array;',
  '}',
  '',
].join('\n');
const virtualFiles = new Map([[contextFile, contextSource]]);
const exampleFiles = examples.map(({ name, code }, index) => {
  const file = join(root, `packages/core/.doc-examples/example-${index}.mts`);
  const importsPackage = new RegExp(`from ['"]${packageName}['"]`).test(code);
  const importLists = [...code.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}/g)].map((m) => m[1]);
  const imported = new Set(importLists.flatMap((list) => list.split(',').map((s) => s.trim().replace(/^type\s+/, ''))));
  const prelude = importsPackage
    ? ''
    : `import { ${exportNames.filter((n) => !imported.has(n.replace(/^type /, ''))).join(', ')} } from '${packageName}';\n`;
  virtualFiles.set(file, `${prelude}${code}\nexport {};\n`);
  return { file, name, lineOffset: prelude ? 1 : 0 };
});
if (exampleFiles.length > 0) {
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
  for (const { file, name, lineOffset } of exampleFiles) {
    const source = exampleProgram.getSourceFile(file);
    const diagnostics = [...exampleProgram.getSyntacticDiagnostics(source), ...exampleProgram.getSemanticDiagnostics(source)];
    for (const d of diagnostics) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1 - lineOffset;
      report(name, `an @example that compiles (line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')})`);
    }
  }
}

const count = [...missing.values()].reduce((n, pieces) => n + pieces.length, 0);
if (count === 0) {
  console.log(`docs: every public symbol of ${packageName} has its doc comment, @default, @throws and @example`);
} else {
  console.error(`docs: ${count} missing in the TSDoc of ${packageName} (${relative(root, entry)}):`);
  for (const [name, pieces] of missing) console.error(`  ${name}: ${pieces.join('; ')}`);
  process.exitCode = 1;
}
