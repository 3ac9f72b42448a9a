// A TypeDoc plugin for the API reference (typedoc.json lists it), with two fixes the Markdown output
// needs:
// - Module names. TypeDoc names a module after its entry file's path (`core/src`,
//   `piscina/src/worker`); a reader imports it by its package export (`@zeropool/core`,
//   `@zeropool/piscina/worker`), looked up in package.json `exports` (scripts/package-entries.mjs).
//   An entry point that no package exports, or an export that typedoc.json does not list, is an
//   error: the reference covers exactly what users can import.
// - Error classes of @throws. `@throws {SlabStateError} ...` keeps its type only when the tag is in
//   `preservedTypeAnnotationTags`, and typedoc-plugin-markdown does not print that type: it is
//   moved into the text, as code, so each "Throws" says which error.
import { relative, resolve } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';
import { root, specifierOf, workspacePackages } from './package-entries.mjs';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
      // The symbol id's file name is relative to the `basePath` option (the root when unset).
      const fileName = project.getSymbolIdFromReflection(module)?.fileName;
      const specifier = fileName === undefined ? undefined : specifierOf(resolve(root, fileName));
      if (specifier === undefined) {
        throw new Error(`typedoc-plugin: module ${module.name} is no entry point in a package.json "exports"`);
      }
      module.name = specifier;
    }
    const listed = new Set(project.getReflectionsByKind(ReflectionKind.Module).map((module) => module.name));
    const unlisted = workspacePackages().flatMap((pkg) => pkg.entries.filter((entry) => !listed.has(entry.specifier)));
    if (unlisted.length > 0) {
      const sources = unlisted.map((entry) => relative(root, entry.source)).join(', ');
      app.logger.error(`typedoc-plugin: typedoc.json entryPoints lack ${sources} (package.json "exports")`);
    }
    for (const reflection of Object.values(project.reflections)) {
      for (const tag of reflection.comment?.blockTags ?? []) {
        if (tag.tag !== '@throws' || tag.typeAnnotation === undefined) continue;
        const type = tag.typeAnnotation.replace(/^\{\s*|\s*\}$/g, '');
        tag.content = [{ kind: 'code', text: `\`${type}\`` }, { kind: 'text', text: ': ' }, ...tag.content];
        tag.typeAnnotation = undefined;
      }
    }
  });
}
