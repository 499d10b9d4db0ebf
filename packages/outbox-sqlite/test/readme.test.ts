// Runs the README's Usage example against the sandbox, then checks the file is empty.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import Database from 'libsql';
import { expect, it, vi } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('the README example delivers through the file', async () => {
  const sandbox = await startSandbox({ port: 0 });
  const file = join(mkdtempSync(join(tmpdir(), 'outbox-readme-')), 'conversions.db');
  vi.stubEnv('CHATGPT_ADS_OUTBOX', file);
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_readme');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', sandbox.endpoint);
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Usage')))?.[1];
  mkdirSync(join(packageDir, 'test-output'), { recursive: true });
  const script = join(packageDir, 'test-output', 'readme-usage.ts');
  writeFileSync(
    script,
    `${code!.replaceAll("'@chatgpt-ads/outbox-sqlite'", "'../src/index.js'")}\nexport {};\n`,
  );
  await import(/* @vite-ignore */ script);
  expect(sandbox.events().map((e) => e.event.id)).toEqual(['lead_42']);
  expect(new Database(file).prepare('SELECT COUNT(*) AS n FROM outbox').get()).toMatchObject({ n: 0 });
  vi.unstubAllEnvs();
  await sandbox.close();
});
