// The Next package's README shows code from this app; this test fails when they drift apart, and the
// other tests of this folder build and run that code for real.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, '..', '..', 'packages', 'next', 'README.md'), 'utf8');
const usage = readme.slice(readme.indexOf('## Usage'), readme.indexOf('## API and options'));
const blocks = [...usage.matchAll(/```tsx?\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
const sources = [
  'next.config.mjs',
  'lib/chatgpt-ads.ts',
  'proxy.ts',
  'app/actions.ts',
  'app/api/orders/route.ts',
  'app/thanks/page.tsx',
].map((file) => squash(readFileSync(join(root, file), 'utf8')));

it('every Usage block of the README is code of the example app', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(5);
  for (const block of blocks) {
    const code = squash(block.replace(/^\/\/ [\w/.-]+\.(?:tsx?|mjs)\n/, ''));
    expect(
      sources.some((source) => source.includes(code)),
      block,
    ).toBe(true);
  }
});
