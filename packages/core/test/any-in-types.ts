// Shared by the public-types tests of both packages (packages/*/test/public-types.test.ts).
import ts from 'typescript';

/**
 * Every `any` in a package's own declarations that a user can reach: the exports of the entry
 * points and, transitively, every declaration in the entry points' folder (dist/) their types
 * refer to. Declarations of other packages are not walked. Comments do not count (they say "any
 * thread"), only type positions. Returns `file:line: text of that line` strings.
 */
export function anyInPublicTypes(entryFiles: string[], host?: ts.CompilerHost): string[] {
  const options: ts.CompilerOptions = { noEmit: true, skipLibCheck: true, types: [], module: ts.ModuleKind.NodeNext };
  const program = ts.createProgram(entryFiles, options, host);
  const checker = program.getTypeChecker();
  const ownDir = entryFiles[0].slice(0, entryFiles[0].lastIndexOf('/') + 1);
  const ownFile = (node: ts.Node) => node.getSourceFile().fileName.startsWith(ownDir);
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
  for (const entry of entryFiles) {
    const root = program.getSourceFile(entry);
    if (!root) throw new Error(`cannot read ${entry}`);
    const moduleSymbol = checker.getSymbolAtLocation(root);
    if (!moduleSymbol) throw new Error(`${entry} has no exports`);
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const declaration of symbol.declarations ?? []) visitDeclaration(declaration);
    }
  }
  return found;
}
