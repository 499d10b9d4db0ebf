import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const srcDir = join(import.meta.dirname, '..', 'src');
const sources = readdirSync(srcDir)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => ({ file, text: readFileSync(join(srcDir, file), 'utf8') }));

describe('core stays runtime-neutral', () => {
  it('has sources to check', () => {
    expect(sources.length).toBeGreaterThan(5);
  });

  for (const { file, text } of sources) {
    it(`${file} uses Web standards only`, () => {
      const code = text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(code).not.toMatch(/from\s+['"]node:/);
      expect(code).not.toMatch(/require\(\s*['"]node:/);
      expect(code).not.toMatch(/import\(\s*['"]node:/);
      expect(code).not.toMatch(
        /from\s+['"](fs|path|crypto|http|https|net|os|buffer|stream|util|events|child_process)['"]/,
      );
      expect(code).not.toMatch(/\bBuffer\b/);
      // One reach into the runtime, on purpose: hash.ts asks the global object for node:crypto's
      // synchronous digest through getBuiltinModule when the runtime offers it (no import, no bundler shim).
      const runtimeProbe =
        file === 'hash.ts'
          ? code
              .replace("global.process?.getBuiltinModule?.('node:crypto')", '')
              .replace('process?: { getBuiltinModule?:', '')
          : code;
      expect(runtimeProbe).not.toMatch(/\bprocess\b/);
      expect(code).not.toMatch(/\b__dirname\b/);
    });
  }

  it('imports no package but libphonenumber-js (and the optional TCF decoder in its own entry point)', () => {
    const imported = new Set<string>();
    for (const { file, text } of sources) {
      const code = text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      if (file === 'tcf.ts') {
        expect([...code.matchAll(/from\s+['"]([^'".][^'"]*)['"]/g)].map((m) => m[1])).toEqual([
          '@iabtechlabtcf/core',
        ]);
        continue;
      }
      for (const match of code.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        if (!match[1]!.startsWith('.')) imported.add(match[1]!);
      }
    }
    expect([...imported]).toEqual(['libphonenumber-js']);
  });

  it('declares libphonenumber-js as its only runtime dependency', () => {
    const manifest = JSON.parse(readFileSync(join(srcDir, '..', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['libphonenumber-js']);
    expect(Object.keys(manifest.peerDependencies ?? {})).toEqual(['@iabtechlabtcf/core']);
    expect(manifest.peerDependenciesMeta['@iabtechlabtcf/core'].optional).toBe(true);
  });
});
