import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Every part of the client is small enough to read in one sitting: a function that grows past this
// is a part that wants its own name.
const MAX_FUNCTION_LINES = 120;

const srcDir = join(import.meta.dirname, '..', 'src');
const sources = readdirSync(srcDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));

function longFunctions(file: string): string[] {
  const text = readFileSync(join(srcDir, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (end - start + 1 > MAX_FUNCTION_LINES) {
        const name =
          (node as ts.FunctionDeclaration).name?.getText(source) ?? `(anonymous at line ${start + 1})`;
        found.push(`${file}: ${name} is ${end - start + 1} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('core stays readable', () => {
  it(`has no function over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(sources.length).toBeGreaterThan(10);
    expect(sources.flatMap(longFunctions)).toEqual([]);
  });

  it('finds a long function when there is one (the check itself works)', () => {
    const body = Array.from({ length: MAX_FUNCTION_LINES }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const source = ts.createSourceFile('x.ts', `function long() {\n${body}\n}`, ts.ScriptTarget.Latest, true);
    let lines = 0;
    ts.forEachChild(source, (node) => {
      if (ts.isFunctionDeclaration(node))
        lines = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
    });
    expect(lines).toBeGreaterThan(MAX_FUNCTION_LINES);
  });
});
