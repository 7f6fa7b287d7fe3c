// Every name exported from lib/index.ts carries a doc comment with an @example (the README
// and editor tooltips are built from them): a new export without one fails here.
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const INDEX = path.resolve(__dirname, '../lib/index.ts');

function undocumentedExports(): string[] {
  const program = ts.createProgram([INDEX], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2022, types: ['node'] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(INDEX)!;
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const tags = (symbol.declarations ?? []).flatMap((d) => ts.getJSDocTags(d));
    if (!tags.some((t) => t.tagName.text === 'example')) missing.push(exported.name);
  }
  return missing;
}

describe('public surface', () => {
  it('gives every export of index.ts a doc comment with an @example', () => {
    expect(undocumentedExports()).toEqual([]);
  });
});
