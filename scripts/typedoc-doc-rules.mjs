// A TypeDoc plugin (typedoc.json lists it): the rules of this project's TSDoc that TypeDoc's own
// validation lacks, run in the same step (`pnpm run docs`, `pnpm docs:check`) over what the
// reference documents of the packages in `packagesRequiringDocumentation`, and reported as
// validation warnings, which typedoc.json makes errors:
//   summary   a doc comment has a summary (TypeDoc's notDocumented takes block tags alone as one);
//   @default  every member of an options interface (a name ending in `Options`) says its default;
//   @throws   every function, constructor, method and accessor that can throw says what it throws.
//             "Can throw": its body, or the body of any function of the workspace it calls
//             (transitively), has a `throw` statement outside a try block that catches. Without a
//             body (an interface method) it can throw if its own comment says so;
//   @example  every class, every function and every method of a class has an example.
import { join, resolve, sep } from 'node:path';
import { Application, Comment, Converter, ReflectionKind } from 'typedoc';
import ts from 'typescript';
import { root, workspacePackages } from './package-entries.mjs';

const packages = workspacePackages();
const sourceDirs = packages.map((pkg) => join(root, pkg.dir, 'src') + sep);
const inSources = (node) => sourceDirs.some((dir) => resolve(node.getSourceFile().fileName).startsWith(dir));
const text = (parts) => Comment.combineDisplayParts(parts).trim();

/** @param {import('typedoc').Application} app */
export function load(app) {
  /** The declaration each signature was converted from, and the checker of its program. */
  const origins = new Map();
  app.converter.on(Converter.EVENT_CREATE_SIGNATURE, (context, signature, declaration) => {
    if (declaration) origins.set(signature, { declaration, checker: context.checker });
  });

  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const required = app.options.getValue('packagesRequiringDocumentation');
    const unchecked = packages.filter((pkg) => !required.includes(pkg.name)).map((pkg) => pkg.name);
    if (unchecked.length > 0) {
      app.logger.validationWarning(`typedoc.json: packagesRequiringDocumentation lacks ${unchecked.join(', ')}`);
    }
    const ours = (reflection) => {
      const owner = reflection.kindOf(ReflectionKind.SomeSignature) ? reflection.parent : reflection;
      return required.includes(project.getSymbolIdFromReflection(owner)?.packageName);
    };
    const warn = (reflection, missing) => app.logger.validationWarning(`${reflection.getFriendlyFullName()}: ${missing}`);

    for (const reflection of Object.values(project.reflections)) {
      if (!ours(reflection)) continue;
      // Parameters and type parameters have @param and @typeParam, which may say nothing more.
      if (reflection.comment && !reflection.kindOf(ReflectionKind.Parameter | ReflectionKind.TypeParameter)) {
        if (text(reflection.comment.summary) === '') warn(reflection, 'a doc comment without a summary');
      }
      const signatures = [...(reflection.signatures ?? []), reflection.getSignature, reflection.setSignature].filter(Boolean);
      const comments = [reflection, ...signatures].map((r) => r.comment).filter(Boolean);
      const tagged = (...tags) => comments.some((comment) => tags.some((tag) => comment.getTag(tag)));

      if (reflection.kindOf(ReflectionKind.Interface) && /Options$/.test(reflection.name)) {
        for (const member of reflection.children ?? []) {
          const memberComments = [member, ...(member.signatures ?? [])].map((r) => r.comment).filter(Boolean);
          if (ours(member) && !memberComments.some((c) => c.getTag('@default') || c.getTag('@defaultValue'))) {
            warn(member, 'no @default');
          }
        }
      }
      const isClassMethod = reflection.kindOf(ReflectionKind.Method) && reflection.parent?.kindOf(ReflectionKind.Class);
      if (reflection.kindOf(ReflectionKind.Class | ReflectionKind.Function) || isClassMethod) {
        if (!tagged('@example')) warn(reflection, 'no @example');
      }
      if (reflection.kindOf(ReflectionKind.FunctionOrMethod | ReflectionKind.Constructor | ReflectionKind.Accessor)) {
        if (!tagged('@throws') && canThrow(signatures)) warn(reflection, 'no @throws, and it can throw');
      }
    }
  });

  /** With a body, the bodies decide (of every overload); an interface method has only its comment to go by. */
  function canThrow(signatures) {
    const bodies = new Map();
    for (const signature of signatures) {
      const origin = origins.get(signature);
      if (!origin) continue;
      const { declaration, checker } = origin;
      // An overload signature has no body: the implementation is the declaration that has one.
      const implementations = (declaration.symbol?.declarations ?? [declaration]).filter((d) => ts.isFunctionLike(d) && d.body);
      for (const implementation of implementations) bodies.set(implementation, checker);
    }
    if (bodies.size > 0) return [...bodies].some(([declaration, checker]) => bodyThrows(declaration, checker));
    return signatures.some((s) => s.comment && /\bthrows?\b/i.test(commentText(s)));
  }
}

/** A signature's comment but its @throws and @example, with its parameters' (TypeDoc moves @param there). */
function commentText(signature) {
  const tags = signature.comment.blockTags.filter((tag) => tag.tag !== '@throws' && tag.tag !== '@example');
  const parameters = (signature.parameters ?? []).map((p) => p.comment).filter(Boolean);
  return [
    text(signature.comment.summary),
    ...tags.map((tag) => text(tag.content)),
    ...parameters.map((c) => text(c.summary)),
  ].join(' ');
}

// ---- Can a function throw? A throw statement in its body, or in the body of a function of the
// workspace it calls or constructs (its own package's, or a workspace package it imports: giveSlab
// throws what SlabPool.acquire throws), found by following calls through the type checker.
/** @type {Map<ts.Node, boolean>} */
const throwsMemo = new Map();
function bodyThrows(declaration, checker) {
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
      if (calleesOf(node, checker).some((callee) => bodyThrows(callee, checker))) {
        result = true;
        return;
      }
    }
    ts.forEachChild(node, visit);
  };
  if (declaration.body) visit(declaration.body);
  throwsMemo.set(declaration, result);
  return result;
}

/** The declarations with bodies, inside the workspace's sources, that a call or `new` may run. */
function calleesOf(call, checker) {
  const declaration = checker.getResolvedSignature(call)?.getDeclaration();
  const found = [];
  if (declaration && inSources(declaration)) {
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
