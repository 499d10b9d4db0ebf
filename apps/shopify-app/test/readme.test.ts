// The README's variables, key command and routes are the app's: a renamed variable or route fails
// here, not on a merchant's first try. Its deployment lines are run as written by deploy.test.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeyRing, PURPOSE_STORED_API_KEY, parseEncryptionKeys } from '../src/keys.js';
import { type StartedApp, startApp } from './helpers.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const main = readFileSync(join(root, 'src/main.ts'), 'utf8');
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
