// The README's commands, variables and routes are the app's: a renamed variable, script or route
// fails here, not on a merchant's first try.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeyRing, PURPOSE_STORED_API_KEY, parseEncryptionKeys } from '../src/keys.js';
import { type StartedApp, startApp } from './helpers.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const main = readFileSync(join(root, 'src/main.ts'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
const shellBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\n {3}/g, '\n'));
const shellLines = shellBlocks
  .flatMap((block) => block.replace(/\\\n/g, ' ').split('\n'))
  .map((l) => l.trim());

let app: StartedApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app?.close());

it('names every variable main.ts reads, and main.ts reads every variable the README sets', () => {
  const read = new Set([...main.matchAll(/env\.([A-Z_]+)/g)].map((m) => m[1]!));
  const table = new Set(
    [...readme.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)? \|/gm)].flatMap(
      (m) => [m[1]!, m[2]].filter(Boolean) as string[],
    ),
  );
  expect([...read].filter((name) => !table.has(name))).toEqual([]);
  const set = new Set(
    shellLines.flatMap((line) => [...line.matchAll(/(?:^|\s)(?:export )?([A-Z_]+)=/g)].map((m) => m[1]!)),
  );
  expect(set.size).toBeGreaterThan(4);
  expect([...set].filter((name) => !read.has(name))).toEqual([]);
});

it('its key command makes a key the app accepts', () => {
  const line = shellLines.find((l) => l.startsWith('node -e '));
  const code = /^node -e "(.*)"$/.exec(line ?? '')?.[1];
  expect(code).toBeDefined();
  const made = execFileSync(process.execPath, ['-e', code!], { encoding: 'utf8' }).trim();
  const ring = new KeyRing(parseEncryptionKeys(made), { purpose: PURPOSE_STORED_API_KEY });
  expect(ring.open(ring.seal('sk_live_x', 's.myshopify.com'), 's.myshopify.com')).toBe('sk_live_x');
});

it('its build and deploy commands are the ones the scripts and the deploy test run', () => {
  const build = shellLines.filter((l) => l.startsWith('pnpm turbo run build'));
  expect(build.length).toBeGreaterThan(0);
  // The same build the deploy test asks for when dist/ is missing; `pnpm run dev` builds the dependencies the same way.
  const deployTest = readFileSync(join(root, 'test/deploy.test.ts'), 'utf8');
  for (const line of build) expect(deployTest).toContain(line);
  expect(pkg.scripts.dev).toContain('pnpm turbo run build --filter=@apps/shopify-app^...');
  expect(shellLines).toContain('pnpm --filter @apps/shopify-app deploy --prod /tmp/chatgpt-ads-app');
  expect(deployTest).toContain("['--filter', '@apps/shopify-app', 'deploy', '--prod',");
  expect(shellLines).toContain('cd /tmp/chatgpt-ads-app');
  expect(
    shellLines.some((l) => l.endsWith('node dist/main.js') && l.includes('CHATGPT_ADS_ENCRYPTION_KEYS=')),
  ).toBe(true);
});

it('every route in its table is one the app answers', async () => {
  const routes = [...readme.matchAll(/^\| `(\/[^`]*)`(?:,? `(\/[^`]*)`)*(?: \(|`? \|)/gm)].flatMap((m) =>
    [...m[0].matchAll(/`(\/[^`]*)`/g)].map((r) => r[1]!),
  );
  expect(routes).toEqual(
    expect.arrayContaining([
      '/',
      '/api/settings',
      '/api/status',
      '/webhooks/orders/create',
      '/webhooks/compliance',
    ]),
  );
  for (const route of routes) {
    const post = route.startsWith('/webhooks/') || route === '/api/settings' || route === '/api/test-event';
    const response = await fetch(`${app.base}${route}`, { method: post ? 'POST' : 'GET' });
    expect({ route, found: response.status !== 404 }).toEqual({ route, found: true });
  }
});
