// Runs the Usage example of README.md as written.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('the README usage example runs and its assertions hold', async () => {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Usage')))?.[1];
  expect(code).toContain('startSandbox');
  expect(code).toContain('assert.equal');
  const dir = join(packageDir, 'test-output');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'readme-usage.ts');
  writeFileSync(file, `${code!.replaceAll("'@chatgpt-ads/sandbox'", "'../src/index.js'")}\nexport {};\n`);
  await import(/* @vite-ignore */ file);
});
